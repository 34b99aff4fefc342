"""The event store: Parquet partitioned by month, a ledger of ingested files, atomic per file.

Layout (default ``data/store``, git-ignored; ``$LAB_USAGE_STORE`` or ``--store`` for another)::

    _ledger.json                                    every ingested file: sha256, format, counts, parts
    year=2024/month=05/part-<sha16>-<fmt>.parquet   the events of one input file in one month
    facts/part-<sha16>-<fmt>.parquet                the monthly facts of one aggregated export
    .lock, .staging/                                an ingest in progress

A file is known by its sha256 *and* its format (the same bytes read as another format are another
input). The ledger also records the fingerprint of the usage secret the keys were made with and, for
a store of the demo portal, which demo (generator, seed, scale): a store is never fed with keys of
another secret or the logs of another demo.

The ledger is the truth: a part file is part of the store only if the ledger lists it, and a file is
added to the ledger only after all its parts are in place (each part moved atomically). An ingest
killed half-way therefore leaves the store as it was before that file: readers never see the
unlisted parts, and the next ingest removes them. Months are calendar months in the store's time
zone (fixed when the store is created; default Asia/Ho_Chi_Minh), while ``ts`` is UTC.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from lab.atomic import atomic_write_text, process_exists
from lab.errors import LabError
from lab.usage.adapters.base import DEFAULT_TIMEZONE
from lab.usage.schema import FACT_SCHEMA, empty_events, empty_facts

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
STORE_ENV = "LAB_USAGE_STORE"
LEDGER = "_ledger.json"
STORE_FORMAT = "lab.usage event store"
STORE_VERSION = 1
FAMILIES = ("web", "api", "zalo", "sms", "app", "accounts")


ROLLUP_WINDOWS = 4
"""Month rollups an :class:`EventStore` keeps (one per window of months asked; a suite asks one or two)."""


class StoreError(LabError):
    """The store folder is not a usage store, or was written with another secret, time zone or kind of
    data (synthetic or real)."""


def default_store_path() -> Path:
    """``$LAB_USAGE_STORE``, default ``<project>/data/store``."""
    from lab.settings import path

    return path(STORE_ENV) or PROJECT_ROOT / "data" / "store"


def month_label(when: date | datetime, timezone: str) -> str:
    """``YYYY-MM`` of ``when`` in ``timezone`` (a date is taken as it is)."""
    if isinstance(when, datetime):
        from zoneinfo import ZoneInfo

        when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(ZoneInfo(timezone))
    return f"{when.year:04d}-{when.month:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last`` inclusive.

    Examples
    --------
    >>> months_between("2024-11", "2025-02")
    ['2024-11', '2024-12', '2025-01', '2025-02']
    """
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


class EventStore:
    """A usage event store folder (see the module docstring).

    Parameters
    ----------
    path
        The folder; default :func:`default_store_path`. It is created by the first ingest.
    timezone
        The time zone of months for a new store (an existing store keeps its own).
    """

    def __init__(self, path: str | Path | None = None, *, timezone: str | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_store_path()
        self._timezone = timezone
        self._summary_cache: tuple[tuple[int, ...] | None, pl.DataFrame] | None = None
        self._rollup_cache: dict[tuple[Any, ...], dict[str, pl.DataFrame]] = {}
        self._memo: dict[str, tuple[tuple[int, ...] | None, Any]] = {}

    def __repr__(self) -> str:
        return f"EventStore({str(self.path)!r})"

    # ----------------------------------------------------------------------------------- the ledger
    def exists(self) -> bool:
        """Whether the folder holds a store (a ledger)."""
        return (self.path / LEDGER).is_file()

    def ledger(self) -> dict[str, Any]:
        """The ledger (an empty one for a store not created yet)."""
        path = self.path / LEDGER
        if not path.is_file():
            if self.path.is_dir() and any(self.path.glob("year=*")):
                raise StoreError(
                    "has Parquet files but no _ledger.json: not a lab usage store", file=self.path
                )
            return {
                "format": STORE_FORMAT,
                "version": STORE_VERSION,
                "timezone": self._timezone or DEFAULT_TIMEZONE,
                "secret_fingerprint": None,
                "files": [],
            }
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"unreadable ledger: {exc}", file=path) from None
        if not isinstance(doc, dict) or doc.get("format") != STORE_FORMAT:
            raise StoreError("is not a lab usage store ledger", file=path)
        return doc

    @property
    def timezone(self) -> str:
        """The time zone of the store's months."""
        return str(self.ledger().get("timezone") or DEFAULT_TIMEZONE)

    def entries(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The ledger's file entries (``kind``: ``events`` or ``facts`` only)."""
        files = self.ledger().get("files", [])
        return [e for e in files if kind is None or e.get("kind") == kind]

    def entry(self, sha256: str, fmt: str | None = None) -> dict[str, Any] | None:
        """The ledger entry of the input file with this sha256 (read as ``fmt``, if given), if any."""
        return next(
            (
                e
                for e in self.entries()
                if e.get("sha256") == sha256 and (fmt is None or e.get("format") == fmt)
            ),
            None,
        )

    def month_parts(self, year: int, month: int) -> list[Path]:
        """The event parts of one month (every input file that has events in it)."""
        prefix = f"year={year:04d}/month={month:02d}/"
        return [
            self.path / p for e in self.entries("events") for p in e.get("parts", []) if p.startswith(prefix)
        ]

    def part_files(self, kind: str = "events") -> list[Path]:
        """The Parquet files of the store (only those the ledger lists), in ledger order."""
        return [self.path / p for e in self.entries(kind) for p in e.get("parts", [])]

    def _memoised(self, name: str, make: Callable[[], Any]) -> Any:
        """``make()``, kept until the ledger changes (what the KPIs ask many times of one store)."""
        stamp = self._ledger_stamp()
        hit = self._memo.get(name)
        if hit is None or hit[0] != stamp:
            hit = self._memo[name] = (stamp, make())
        return hit[1]

    def summary_files(self) -> list[Path] | None:
        """The per-part summaries (:mod:`lab.usage.summary`), or None if some event part has none."""

        def make() -> tuple[Path, ...] | None:
            entries = self.entries("events")
            if any(len(e.get("summaries", [])) != len(e.get("parts", [])) for e in entries):
                return None
            return tuple(self.path / p for e in entries for p in e.get("summaries", []))

        files = self._memoised("summary_files", make)
        return None if files is None else list(files)

    def scan_summaries(self) -> pl.LazyFrame | None:
        """The per-part summary counts (every kind but the key lists) with ``year`` and ``month``;
        None if some part has no summary.

        They are read once per :class:`EventStore` object and kept (a few thousand rows per month),
        until the ledger changes: a report asking ten KPIs of one store reads them once.
        """
        from lab.usage.summary import KEY_KINDS, SUMMARY_SCHEMA

        files = self.summary_files()
        if files is None:
            return None
        stamp = self._ledger_stamp()
        if self._summary_cache is not None and self._summary_cache[0] == stamp:
            return self._summary_cache[1].lazy()
        if files:
            frame = (
                pl.scan_parquet(files, hive_partitioning=True)
                .filter(~pl.col("kind").is_in(list(KEY_KINDS)))
                .collect()
            )
        else:
            frame = pl.DataFrame(schema=SUMMARY_SCHEMA).with_columns(
                year=pl.lit(None, dtype=pl.Int64), month=pl.lit(None, dtype=pl.Int64)
            )
        self._summary_cache = (stamp, frame)
        return frame.lazy()

    def rollups(self, lo: int | None = None, hi: int | None = None) -> dict[str, pl.DataFrame] | None:
        """The month rollups (:mod:`lab.usage.rollup`) of the summaries of months ``lo`` to ``hi``
        (``YYYYMM``, inclusive; None = open); None if some part has no summary.

        Kept per window until the ledger changes: the KPI suite computes them once.
        """
        files = self.summary_files()
        if files is None:
            return None
        by_month: dict[tuple[int, int], list[str]] = {}
        for f in files:
            y, m = (int(p.split("=")[1]) for p in (f.parent.parent.name, f.parent.name))
            if (lo is None or y * 100 + m >= lo) and (hi is None or y * 100 + m <= hi):
                by_month.setdefault((y, m), []).append(str(f))
        months = sorted(by_month)
        key = (self._ledger_stamp(), months[0] if months else None, months[-1] if months else None)
        if key not in self._rollup_cache:  # the last windows of the ledger's last state only
            kept = [(k, v) for k, v in self._rollup_cache.items() if k[0] == key[0]][-(ROLLUP_WINDOWS - 1) :]
            self._rollup_cache = {**dict(kept), key: self.compute_rollups({m: by_month[m] for m in months})}
        return self._rollup_cache[key]

    def compute_rollups(self, by_month: dict[tuple[int, int], list[str]]) -> dict[str, pl.DataFrame]:
        """The rollup of the summary files of some months, ``{(year, month): [file, …]}``, in months
        order (one process; :class:`lab.usage.cluster.ClusterStore` spreads it over a cluster)."""
        from lab.usage.rollup import rollup_files

        return rollup_files([f for files in by_month.values() for f in files])

    def map_series(
        self, fn: Callable[..., pl.DataFrame], frame: pl.DataFrame, key: str, *args: Any
    ) -> list[pl.DataFrame]:
        """``fn(frame, *args)`` where each series (one value of ``key``) is computed on its own: in one
        process one call over the whole frame; :class:`lab.usage.cluster.ClusterStore` makes a task of
        each range of keys. The caller puts the pieces' rows back in order.

        Returns
        -------
        list
            The pieces, in the order of their keys.
        """
        return [fn(frame, *args)]

    def scan_summary_keys(self, kind: str) -> pl.LazyFrame:
        """The ``visitor`` or ``account`` keys of every part's summary: ``year, month, key`` (lazy)."""
        files = self.summary_files() or []
        if not files:
            return pl.DataFrame(schema={"year": pl.Int64, "month": pl.Int64, "key": pl.UInt64}).lazy()
        return (
            pl.scan_parquet(files, hive_partitioning=True)
            .filter(pl.col("kind") == kind)
            .select("year", "month", "key")
        )

    def parts_per_month(self) -> pl.DataFrame:
        """How many event parts (input files) each month has: ``year, month, parts``."""
        rows = [
            (int(y.split("=")[1]), int(m.split("=")[1]))
            for e in self.entries("events")
            for y, m, _ in (p.split("/", 2) for p in e.get("parts", []))
        ]
        frame = pl.DataFrame(rows, schema={"year": pl.Int64, "month": pl.Int64}, orient="row")
        return frame.group_by("year", "month").agg(parts=pl.len())

    def _ledger_stamp(self) -> tuple[int, ...] | None:
        """What changes whenever the ledger is written (each commit renames a new file into place)."""
        try:
            st = (self.path / LEDGER).stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    # ----------------------------------------------------------------------------------- reading
    def scan(self) -> pl.LazyFrame:
        """All events, lazily: the canonical columns plus ``year`` and ``month`` (from the partitions).

        Returns
        -------
        polars.LazyFrame
            Nothing is read until collected; filters on ``year``/``month`` skip whole files.
        """
        files = self.part_files("events")
        if not files:
            return (
                empty_events()
                .lazy()
                .with_columns(year=pl.lit(None, dtype=pl.Int64), month=pl.lit(None, dtype=pl.Int64))
            )
        return pl.scan_parquet(files, hive_partitioning=True)

    def scan_facts(self, latest_only: bool = True) -> pl.LazyFrame:
        """All imported monthly facts, lazily (:data:`~lab.usage.schema.FACT_SCHEMA`).

        Parameters
        ----------
        latest_only
            A fact (month, source, dataset, metric) imported from several files counts once: the value
            of the file ingested last (a later export of a platform replaces an earlier one, whose last
            month may have been partial; two exports of one GA4 property give its site-wide page views
            twice). False: every file's facts.
        """
        files = self.part_files("facts")
        if not files:
            return empty_facts().lazy()
        lf = pl.scan_parquet(files, schema=FACT_SCHEMA)
        if not latest_only:
            return lf
        return lf.unique(["month", "source", "dataset_id", "metric"], keep="last", maintain_order=True)

    def coverage(self) -> pl.DataFrame:
        """Which families of inputs (web, api, zalo, sms, app, accounts) cover which months.

        Returns
        -------
        polars.DataFrame
            ``family`` and ``month`` (date, first day), one row per covered pair.
        """

        def make() -> pl.DataFrame:
            rows = [
                (family, month)
                for e in self.entries("events")
                if e.get("first_month") and e.get("last_month")
                for family in e.get("covers", [])
                for month in months_between(e["first_month"], e["last_month"])
            ]
            frame = pl.DataFrame(rows, schema={"family": pl.String, "month": pl.String}, orient="row")
            return (
                frame.unique()
                .select("family", month=(pl.col("month") + "-01").str.to_date())
                .sort("family", "month")
            )

        return self._memoised("coverage", make)

    # ----------------------------------------------------------------------------------- writing
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock (waiting for another writer to finish)."""
        self.path.mkdir(parents=True, exist_ok=True)
        lock_path = self.path / ".lock"
        with open(lock_path, "a+") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another ingest (the other language of a report...): wait for it
                log.warning("another ingest is writing %s: waiting for it", self.path)
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    @contextlib.contextmanager
    def writing(self, secret_fingerprint: str, demo: dict[str, Any] | None = None) -> Iterator[None]:
        """Hold the store's lock (waiting for another ingest to finish), check the secret, the time
        zone and the demo the store was built from, and clean up what a killed ingest left.

        Parameters
        ----------
        secret_fingerprint
            Fingerprint of the usage secret of this ingest.
        demo
            The identity of the demo portal whose files are ingested (generator, seed, scale), if any:
            a store built from another demo refuses them.
        """
        with self.locked():
            ledger = self.ledger()
            known = ledger.get("secret_fingerprint")
            if known and known != secret_fingerprint:
                raise StoreError(
                    "was written with another usage secret: its visitor keys would not match; "
                    "use the store's secret ($LAB_USAGE_SECRET or its file) or a new store",
                    file=self.path,
                )
            if self._timezone and self.exists() and self._timezone != ledger.get("timezone"):
                raise StoreError(
                    f"its months are in {ledger.get('timezone')}, not {self._timezone}: use a new store",
                    file=self.path,
                )
            known_demo = ledger.get("demo")
            if demo is not None and known_demo is not None and known_demo != demo:
                raise StoreError(
                    f"was built from another demo portal ({_demo_label(known_demo)}), not this one "
                    f"({_demo_label(demo)}): mixing them would count both; use another store "
                    "(--store DIR or $LAB_USAGE_STORE) or delete this one",
                    file=self.path,
                )
            self.recover()
            yield

    def recover(self) -> list[Path]:
        """Remove part files the ledger does not list and staging folders of finished processes.

        Returns
        -------
        list of pathlib.Path
            What was removed.
        """
        listed = {
            self.path / p for e in self.entries() for p in [*e.get("parts", []), *e.get("summaries", [])]
        }
        removed = []
        for part in [
            *self.path.glob("year=*/month=*/part-*.parquet"),
            *self.path.glob("year=*/month=*/sum-*.parquet"),
        ]:
            if part not in listed:
                part.unlink(missing_ok=True)
                removed.append(part)
        for part in self.path.glob("facts/part-*.parquet"):
            if part not in listed:
                part.unlink(missing_ok=True)
                removed.append(part)
        staging = self.path / ".staging"
        if staging.is_dir():
            for leftover in staging.iterdir():
                pid = leftover.name.split("-", 1)[0]
                if not (pid.isdigit() and _alive(int(pid))):
                    shutil.rmtree(leftover, ignore_errors=True)
                    removed.append(leftover)
        for path in removed:
            log.info("removed %s, left by an interrupted ingest", path)
        return removed

    def staging_dir(self, sha256: str) -> Path:
        """A fresh staging folder for one input file."""
        folder = self.path / ".staging" / f"{os.getpid()}-{sha256[:12]}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def forget(self, ref: str | Path, fmt: str | None = None) -> list[dict[str, Any]]:
        """Remove an ingested file from the store: its ledger entries and their parts, atomically.

        Parameters
        ----------
        ref
            The input file (its sha256 is computed) or its sha256 (8 hex digits or more, as the ledger
            and ``source_file`` show it).
        fmt
            Only the entry read as this format (default: every format the file was ingested as).

        Returns
        -------
        list of dict
            The ledger entries removed.

        Raises
        ------
        StoreError
            No such store, or no ingested file matches ``ref``.

        The ledger without the entries is written first (atomically): from then on readers do not see
        the parts, which are then deleted (a kill in between leaves files the next ingest removes).
        """
        from lab.cache import file_sha256

        if not self.exists():
            raise StoreError("no usage store here", file=self.path)
        text = str(ref).strip()
        path = Path(text).expanduser()
        if path.is_file():
            sha = file_sha256(path)
            match = [sha]
        elif len(text) >= 8 and all(c in "0123456789abcdef" for c in text.lower()):
            match = [text.lower()]
        else:
            raise StoreError(
                f"{text!r} is neither a file nor a sha256 (8 hex digits or more)", file=self.path
            )
        with self.locked():
            ledger = self.ledger()
            files = ledger.get("files", [])
            gone = [
                e
                for e in files
                if any(str(e.get("sha256", "")).startswith(m) for m in match)
                and (fmt is None or e.get("format") == fmt)
            ]
            if not gone:
                raise StoreError(f"no ingested file matches {text}", file=self.path)
            shas = {e.get("sha256") for e in gone}
            if len(shas) > 1:
                raise StoreError(f"{text} matches {len(shas)} files: give more of the sha256", file=self.path)
            ledger["files"] = [e for e in files if not any(e is g for g in gone)]
            atomic_write_text(self.path / LEDGER, json.dumps(ledger, ensure_ascii=False, indent=1) + "\n")
            for e in gone:
                for rel in [*e.get("parts", []), *e.get("summaries", [])]:
                    (self.path / rel).unlink(missing_ok=True)
        self._summary_cache = None
        return gone

    def commit(
        self,
        entry: dict[str, Any],
        staged: Path,
        secret_fingerprint: str,
        demo: dict[str, Any] | None = None,
    ) -> None:
        """Move the staged parts of one input file into place, then add its ledger entry.

        Parameters
        ----------
        entry
            The ledger entry; ``parts`` are paths relative to the store (and to ``staged``).
        staged
            Where the parts were written.
        secret_fingerprint
            Recorded in the ledger on the first commit.
        """
        ledger = self.ledger()
        for rel in [*entry.get("summaries", []), *entry["parts"]]:
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged / rel, target)
        ledger["secret_fingerprint"] = ledger.get("secret_fingerprint") or secret_fingerprint
        if demo is not None:
            ledger["demo"] = ledger.get("demo") or demo
        ledger["files"] = [*ledger.get("files", []), entry]
        atomic_write_text(self.path / LEDGER, json.dumps(ledger, ensure_ascii=False, indent=1) + "\n")


def _demo_label(demo: dict[str, Any]) -> str:
    return ", ".join(f"{k} {demo[k]}" for k in ("generator", "seed", "scale") if k in demo)


def _alive(pid: int) -> bool:
    """Whether a process exists (a staging folder of a live ingest is left alone)."""
    return pid == os.getpid() or process_exists(pid)
