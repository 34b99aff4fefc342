"""Ingest: input files → the event store, incrementally, idempotently, atomically per file.

For each file: its sha256 and format are looked up in the ledger (a file already ingested adds
nothing, whatever its name); otherwise its adapter stages events batch by batch into ``.staging/``
split by month, events already in the store (by content, :mod:`lab.usage.dedup`) are dropped, the
counting rules (:mod:`lab.usage.rules`) run month by month (memory stays bounded by one month of one
file), each month becomes one Parquet part, and the parts plus the ledger entry are committed
(:meth:`lab.usage.store.EventStore.commit`).

Bad lines are counted with their reason and never stop the ingest; events dated outside the plausible
window (the portal's launch, :data:`PORTAL_LAUNCH`, to tomorrow) are bad lines too. But nothing is
silently empty: a file of which nothing could be kept raises :class:`NothingKeptError` (one line:
the file, the count, the first reason) and leaves the store as it was; a file is recorded in the
ledger only when something of it was kept. When more than :data:`WARN_REJECTED` of a file's lines are
rejected, a warning names the top reasons.
"""

from __future__ import annotations

import logging
import os
import shutil
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from tqdm.auto import tqdm

from lab.cache import file_sha256
from lab.errors import LabError, ReadError
from lab.unpack import IncompleteError, TooLargeError, Unpacker, is_gzip
from lab.usage.adapters import ADAPTERS, FORMATS, Context, Reject
from lab.usage.dedup import drop_known
from lab.usage.privacy import fingerprint, load_secret
from lab.usage.routes import PORTAL_RULES, UrlRules
from lab.usage.rules import CountingRules, apply_rules
from lab.usage.schema import conform_events, conform_facts
from lab.usage.store import EventStore, StoreError, month_label
from lab.usage.summary import summarise, summary_name

GZIP_STEP = 64 * 1024
"""Compressed bytes decompressed at a time: at most ~66 MB out per step, whatever the ratio."""

log = logging.getLogger(__name__)

PORTAL_LAUNCH = date(2017, 1, 1)
"""The earliest plausible event (the Đà Nẵng open data portal's launch); ``earliest`` overrides it."""
WARN_REJECTED = 0.05
"""Above this share of rejected lines, an ingest warns with the top reasons."""


class NothingKeptError(LabError):
    """An input file of which nothing could be kept (every line rejected, or no event in it)."""


def plausible_window(
    earliest: date | datetime | str | None = None, latest: date | datetime | str | None = None
) -> tuple[datetime, datetime]:
    """The time range (UTC, inclusive) in which an event is plausible.

    Parameters
    ----------
    earliest
        First plausible day (default :data:`PORTAL_LAUNCH`), ``YYYY-MM-DD`` or a date.
    latest
        Last plausible moment (default: now + 1 day: a log is never from the future).

    Examples
    --------
    >>> plausible_window("2020-01-01", "2020-12-31")[0].isoformat()
    '2020-01-01T00:00:00+00:00'
    """

    def as_dt(value: date | datetime | str, what: str, end: bool) -> datetime:
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise LabError(f"{what} {value!r} is not a date YYYY-MM-DD") from None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        start = datetime(value.year, value.month, value.day, tzinfo=UTC)
        return start + timedelta(days=1) - timedelta(microseconds=1) if end else start

    lo = as_dt(earliest if earliest is not None else PORTAL_LAUNCH, "--earliest", end=False)
    hi = (
        as_dt(latest, "--latest", end=True)
        if latest is not None
        else datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    )
    if lo > hi:
        raise LabError(f"the plausible window is empty: {lo:%Y-%m-%d} is after {hi:%Y-%m-%d}")
    return lo, hi


@dataclass
class IngestResult:
    """What ingesting one file did (what ``lab usage ingest`` prints)."""

    file: str
    format: str
    sha256: str
    status: str  # "ingested", "already ingested" or "already in the store" (every event a duplicate)
    kind: str = "events"
    lines_read: int = 0
    lines_rejected: int = 0
    duplicates: int = 0
    events_kept: int = 0
    events_counted: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    first_month: str | None = None
    last_month: str | None = None

    @property
    def lines_parsed(self) -> int:
        """Lines read minus lines rejected."""
        return self.lines_read - self.lines_rejected

    def as_dict(self, with_text: bool = False) -> dict[str, Any]:
        """JSON-ready; the rejected lines' text only when asked (it may hold IP addresses)."""
        return {
            "file": self.file,
            "format": self.format,
            "sha256": self.sha256,
            "status": self.status,
            "kind": self.kind,
            "lines_read": self.lines_read,
            "lines_parsed": self.lines_parsed,
            "lines_rejected": self.lines_rejected,
            "duplicates": self.duplicates,
            "events_kept": self.events_kept,
            "events_counted": self.events_counted,
            "reasons": dict(self.reasons),
            "rejects": [r.as_dict(with_text) for r in self.rejects],
            "first_month": self.first_month,
            "last_month": self.last_month,
        }

    def summary(self) -> str:
        """One line for people."""
        what = "facts" if self.kind == "facts" else "events"
        state = "" if self.status == "ingested" else f" ({self.status}: nothing added)"
        dupes = f", {self.duplicates:,} already in the store" if self.duplicates else ""
        return (
            f"{self.file}: {self.lines_read:,} lines read, {self.lines_parsed:,} parsed, "
            f"{self.lines_rejected:,} rejected{dupes}, {self.events_kept:,} {what} kept{state}"
        )

    def rejected_share(self) -> float:
        """The share of lines rejected (0 for an empty file)."""
        return self.lines_rejected / self.lines_read if self.lines_read else 0.0

    def top_reasons(self, n: int = 3) -> str:
        """The ``n`` most frequent reject reasons with their counts, for one line."""
        top = sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return ", ".join(f"{reason} ({count:,})" for reason, count in top)


def _from_entry(path: Path, entry: dict[str, Any]) -> IngestResult:
    return IngestResult(
        file=str(path),
        format=entry.get("format", "?"),
        sha256=entry["sha256"],
        status="already ingested",
        kind=entry.get("kind", "events"),
        lines_read=entry.get("lines_read", 0),
        lines_rejected=entry.get("lines_rejected", 0),
        duplicates=entry.get("duplicates", 0),
        events_kept=entry.get("events_kept", 0),
        events_counted=entry.get("events_counted", 0),
        reasons=entry.get("reasons", {}),
        rejects=[Reject(r["line"], r["reason"]) for r in entry.get("rejects", [])],
        first_month=entry.get("first_month"),
        last_month=entry.get("last_month"),
    )


def ingest(
    paths: str | Path | Iterable[str | Path],
    fmt: str,
    *,
    store: EventStore | str | Path | None = None,
    rules: UrlRules | None = None,
    counting: CountingRules | None = None,
    timezone: str | None = None,
    options: Mapping[str, Any] | None = None,
    synthetic: bool = False,
    progress: bool | None = None,
    earliest: date | datetime | str | None = None,
    latest: date | datetime | str | None = None,
    demo: Mapping[str, Any] | None = None,
    client: Any = None,
) -> list[IngestResult]:
    """Ingest input files of one format into the store.

    Parameters
    ----------
    paths
        One file or several.
    fmt
        One of :data:`lab.usage.adapters.FORMATS` (``combined``, ``haproxy``, ``gateway-csv``, ...).
    store
        The store or its folder; default ``$LAB_USAGE_STORE`` or ``data/store``.
    rules
        URL routes (default: the Đà Nẵng portal's, :data:`lab.usage.routes.PORTAL_RULES`).
    counting
        Counting rules (default :class:`~lab.usage.rules.CountingRules`).
    timezone
        Time zone of input timestamps written without an offset (default: the store's).
    options
        Adapter options (HAProxy: ``frontends``, ``ua_header``).
    synthetic
        The files are synthetic (the demo portal's): recorded in the ledger; a store never mixes
        synthetic and real inputs.
    progress
        Show a progress bar (default: only on a terminal).
    earliest, latest
        The plausible window of event times (:func:`plausible_window`: default the portal's launch,
        2017-01-01, to now + 1 day); events outside are rejected with their reason. Monthly facts of
        other platforms are not checked (they may predate the portal).
    demo
        The identity of the demo portal the files come from (``generator``, ``seed``, ``scale``):
        recorded in the store, which refuses files of another demo.
    client
        A Dask client (:func:`lab.usage.cluster.connect`): the files are read in parallel on its
        workers, then counted and committed here one at a time, in order (the same store as without).

    Returns
    -------
    list of IngestResult
        One per file, in order; files already in the store say so and add nothing, and so do files
        whose every event is already there (by content: :mod:`lab.usage.dedup`).

    Raises
    ------
    NothingKeptError
        A file of which nothing could be kept (every line rejected: the count and the first reason;
        an empty file; no event in it). Files before it are in the store; it and those after are not.
    lab.errors.LabError
        An unknown format, a missing file, a file that is not of the format at all, a bad time zone,
        a store problem.
    """
    if fmt not in ADAPTERS:
        raise LabError(f"unknown usage format {fmt!r}: one of {', '.join(FORMATS)}")
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise ReadError("no such file", file=path)
    store = store if isinstance(store, EventStore) else EventStore(store)
    for tz in (timezone, store._timezone):
        if tz is not None:
            check_timezone(tz)
    window = plausible_window(earliest, latest)
    demo_id = dict(demo) if demo is not None else None
    secret = load_secret()
    print_ = fingerprint(secret)
    results = []
    with store.writing(print_, demo_id):
        if any(bool(e.get("synthetic")) != synthetic for e in store.entries()):
            kind = "synthetic (demo)" if not synthetic else "real"
            raise StoreError(f"holds {kind} usage data: use another store for these files", file=store.path)
        pending: dict[Path, Any] = {}
        if client is not None:
            shared = Context(
                secret=secret,
                source_file="",
                rules=rules or PORTAL_RULES,
                counting=counting or CountingRules(),
                timezone=timezone or store.timezone,
                options=dict(options or {}),
                window=window,
            )
            pending = read_ahead(client, files, fmt, store, shared, store.timezone)
        try:
            for path in files:
                results.append(
                    _ingest_one(
                        path,
                        fmt,
                        store,
                        secret,
                        print_,
                        rules=rules or PORTAL_RULES,
                        counting=counting or CountingRules(),
                        timezone=timezone or store.timezone,
                        options=dict(options or {}),
                        synthetic=synthetic,
                        progress=progress,
                        window=window,
                        demo=demo_id,
                        pending=pending.get(path),
                    )
                )
        finally:
            for future in pending.values():
                future.cancel()
            for folder in (store.path / ".staging").glob(f"{os.getpid()}-read-*"):
                shutil.rmtree(folder, ignore_errors=True)
    return results


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone polars knows (``Asia/Ho_Chi_Minh``, ``UTC``), else a
    one-line :class:`~lab.errors.LabError`."""
    try:
        pl.select(pl.lit(datetime(2020, 1, 1)).dt.replace_time_zone(name))
    except (pl.exceptions.PolarsError, ValueError, OSError):
        raise LabError(
            f"unknown time zone {name!r}: give an IANA name such as Asia/Ho_Chi_Minh or UTC"
        ) from None
    return name


# long: one file's life in the store: read, dedup, stage, commit, as one transaction
def _ingest_one(
    path: Path,
    fmt: str,
    store: EventStore,
    secret: bytes,
    secret_print: str,
    *,
    rules: UrlRules,
    counting: CountingRules,
    timezone: str,
    options: dict[str, Any],
    synthetic: bool,
    progress: bool | None,
    window: tuple[datetime, datetime] | None = None,
    demo: dict[str, Any] | None = None,
    pending: Any = None,
) -> IngestResult:
    remote = pending.result() if pending is not None else None  # a worker read the file (cluster.py)
    sha = remote.sha256 if remote is not None else file_sha256(path)
    known = store.entry(sha, fmt)
    if known is not None:
        log.info("%s: already ingested as %s (sha256 %s)", path, fmt, sha[:12])
        return _from_entry(path, known)
    info = ADAPTERS[fmt]
    ctx = Context(
        secret=secret,
        source_file=f"{path.name}@{sha[:12]}",
        rules=rules,
        counting=counting,
        timezone=timezone,
        options=options,
        window=window if info.kind == "events" else None,
    )
    if remote is not None:
        ctx = remote.ctx
    staging = store.staging_dir(sha)
    if remote is not None and (remote.folder / "raw").is_dir():
        (remote.folder / "raw").rename(staging / "raw")  # the worker's batches, on the same filesystem
    part_id = f"{sha[:16]}-{fmt}"
    duplicates = 0
    try:
        source = _plain_input(path, staging / "input") if remote is None else path
        try:
            if remote is not None:
                parts, kept, counted, channels, duplicates = count_months(
                    {}, staging, part_id, ctx, store, progress
                )
            elif info.kind == "facts":
                parts, kept, counted, channels = _stage_facts(source, info.read, ctx, staging, part_id)
            else:
                parts, kept, counted, channels, duplicates = _stage_events(
                    source, info.read, ctx, staging, part_id, store, progress
                )
        except LabError as err:
            if source != path and err.file == str(source):  # name the user's file, not its unpacked copy
                err.file = str(path)
            raise
        first = month_label(ctx.ts_min, store.timezone) if ctx.ts_min is not None else None
        last = month_label(ctx.ts_max, store.timezone) if ctx.ts_max is not None else None
        result = IngestResult(
            file=str(path),
            format=fmt,
            sha256=sha,
            status="ingested",
            kind=info.kind,
            lines_read=ctx.lines_read,
            lines_rejected=ctx.lines_rejected,
            duplicates=duplicates,
            events_kept=kept,
            events_counted=counted,
            reasons=dict(ctx.reasons),
            rejects=list(ctx.rejects),
            first_month=first,
            last_month=last,
        )
        if kept == 0:
            if duplicates:
                result.status = "already in the store"
                log.info("%s", result.summary())
                return result
            raise NothingKeptError(_nothing_kept(result), file=path)
        if result.rejected_share() > WARN_REJECTED:
            log.warning(
                "%s: %s of %s lines rejected (%.1f %%): %s",
                path,
                f"{result.lines_rejected:,}",
                f"{result.lines_read:,}",
                100 * result.rejected_share(),
                result.top_reasons(),
            )
        entry = {
            "sha256": sha,
            "name": path.name,
            "format": fmt,
            "kind": info.kind,
            "synthetic": synthetic,
            "ingested_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "lines_read": ctx.lines_read,
            "lines_rejected": ctx.lines_rejected,
            "duplicates": duplicates,
            "events_kept": kept,
            "events_counted": counted,
            "reasons": dict(ctx.reasons),
            "rejects": [r.as_dict() for r in ctx.rejects],
            "first_month": first,
            "last_month": last,
            "covers": sorted(set(info.covers) | channels) if info.kind == "events" else [],
            "rules": {
                "counting": counting.as_dict(),
                "timezone": timezone,
                "options": _jsonable(options),
                **(
                    {"window": [f"{window[0]:%Y-%m-%d}", f"{window[1]:%Y-%m-%d}"]}
                    if window and info.kind == "events"
                    else {}
                ),
            },
            "parts": parts,
            **({"summaries": [summary_name(p) for p in parts]} if info.kind == "events" else {}),
        }
        store.commit(entry, staging, secret_print, demo=demo)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("%s", result.summary())
    return result


def _plain_input(path: Path, folder: Path) -> Path:
    """The file to parse: ``path`` itself, or its decompressed copy when it is gzip (a rotated log).

    Rotated web logs are kept as ``access.log.2.gz``; every format may come compressed. The copy is
    decompressed in steps within ``$LAB_MAX_UNPACKED_MB`` (a decompression bomb is refused) into
    ``folder`` (the file's staging folder, removed after the ingest).

    Raises
    ------
    lab.errors.ReadError
        Not a valid gzip stream, cut off, or decompressing past the limit; the message names ``path``.
    """
    with open(path, "rb") as fh:
        if not is_gzip(fh.read(2)):
            return path
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / (path.name.removesuffix(".gz") or "input")
    unpacker = Unpacker("gzip")
    try:
        with open(path, "rb") as src, open(plain, "wb") as dst:
            while block := src.read(GZIP_STEP):
                dst.write(unpacker.feed(block))
            dst.write(unpacker.finish())
    except zlib.error as err:
        raise ReadError(f"not a valid gzip stream ({err}): a damaged .gz file", file=path) from None
    except (IncompleteError, TooLargeError) as err:
        raise ReadError(str(err), file=path) from None
    return plain


def _nothing_kept(result: IngestResult) -> str:
    """The one-line cause of an ingest that kept nothing."""
    what = "facts" if result.kind == "facts" else "events"
    if result.lines_read == 0:
        return f"nothing kept: no {'rows' if result.kind == 'facts' else 'lines'} in the file"
    if result.lines_rejected == result.lines_read:
        first = result.rejects[0] if result.rejects else None
        cause = f" (first: line {first.line}: {first.reason})" if first else ""
        return (
            f"nothing kept: all {result.lines_read:,} lines rejected as --format {result.format}{cause}; "
            "the store is unchanged"
        )
    return (
        f"nothing kept: {result.lines_parsed:,} of {result.lines_read:,} lines read but no {what} in them "
        f"(--format {result.format}); the store is unchanged"
    )


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple | set) else v for k, v in options.items()}


SPILL_ROWS = 4_000_000
"""Staged events kept in memory before they are spilled to ``.staging/`` (about 400 MB)."""


def _stage_events(
    path: Path,
    read: Any,
    ctx: Context,
    staging: Path,
    part_id: str,
    store: EventStore,
    progress: bool | None,
) -> tuple[list[str], int, int, set[str], int]:
    """Stage the adapter's batches by month, apply the counting rules per month, write the parts."""
    held = read_to_raw(path, read, ctx, staging / "raw", store.timezone, progress)
    return count_months(held, staging, part_id, ctx, store, progress)


def read_to_raw(
    path: Path,
    read: Any,
    ctx: Context,
    raw: Path,
    timezone: str,
    progress: bool | None,
    spill_rows: int | None = None,
) -> dict[int, list[pl.DataFrame]]:
    """The reading half of an ingest: the adapter's staged batches, by month (``YYYYMM``).

    Batches stay in memory up to ``spill_rows`` events (default :data:`SPILL_ROWS`), then every month's
    batches are spilled to Parquet in ``raw/<YYYYMM>/batch-<n>.parquet``: memory is bounded by that.
    A cluster worker spills everything (``spill_rows=0``) and returns nothing held, so that the
    client's :func:`count_months` reads the same batches in the same order as one process would.

    Returns
    -------
    dict
        The batches still held in memory, per month, in file order (after the spilled ones).
    """
    limit = SPILL_ROWS if spill_rows is None else spill_rows
    held: dict[int, list[pl.DataFrame]] = {}
    held_rows = 0
    n_batch = 0

    def spill() -> None:
        nonlocal held_rows, n_batch
        for ym, frames in held.items():
            folder = raw / f"{ym}"
            folder.mkdir(parents=True, exist_ok=True)
            pl.concat(frames).write_parquet(folder / f"batch-{n_batch:05d}.parquet")
        n_batch += 1
        held.clear()
        held_rows = 0

    bar = tqdm(desc=f"reading {path.name}", unit=" lines", disable=None if progress is None else not progress)
    try:
        for frame in read(path, ctx):
            bar.update(ctx.lines_read - bar.n)
            if frame.is_empty():
                continue
            local = pl.col("ts").dt.convert_time_zone(timezone)
            keyed = frame.with_columns(_ym=local.dt.year() * 100 + local.dt.month())
            for (ym,), part in keyed.partition_by("_ym", as_dict=True, include_key=False).items():
                held.setdefault(int(ym), []).append(part)
            held_rows += frame.height
            if held_rows > limit:
                spill()
        if limit == 0 and held:
            spill()
    finally:
        bar.close()
    return held


def count_months(
    held: dict[int, list[pl.DataFrame]],
    staging: Path,
    part_id: str,
    ctx: Context,
    store: EventStore,
    progress: bool | None,
) -> tuple[list[str], int, int, set[str], int]:
    """The counting half of an ingest: per month, the file's batches (spilled ones first, in file
    order), less the events the store already holds, through the counting rules, written as a part and
    its summary in ``staging``. Single-writer: it reads the store, so files are counted one at a time.

    Returns
    -------
    tuple
        Part paths (relative), events kept, events counted, channels seen, duplicates dropped.
    """
    raw = staging / "raw"
    spilled = {int(p.name) for p in raw.iterdir()} if raw.is_dir() else set()
    months = sorted(spilled | set(held))
    parts: list[str] = []
    kept = counted = duplicates = 0
    channels: set[str] = set()
    for ym in tqdm(
        months, desc="counting rules", unit=" month", disable=None if progress is None else not progress
    ):
        frames = [pl.read_parquet(raw / f"{ym}" / "*.parquet")] if (raw / f"{ym}").is_dir() else []
        frames.extend(held.pop(ym, []))
        staged = pl.concat(frames)
        staged, dropped = drop_known(staged, store.month_parts(ym // 100, ym % 100))
        duplicates += dropped
        shutil.rmtree(raw / f"{ym}", ignore_errors=True)
        if staged.is_empty():
            continue
        events = conform_events(apply_rules(staged, ctx.counting)).collect()
        rel = f"year={ym // 100:04d}/month={ym % 100:02d}/part-{part_id}.parquet"
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        events.write_parquet(target, statistics=True)
        summarise(events).write_parquet(staging / summary_name(rel))
        parts.append(rel)
        kept += events.height
        counted += int(events.get_column("counted").sum())
        channels |= set(events.get_column("channel").unique().cast(pl.String).to_list())
    return parts, kept, counted, channels, duplicates


def _stage_facts(
    path: Path, read: Any, ctx: Context, staging: Path, part_id: str
) -> tuple[list[str], int, int, set[str]]:
    """Collect the adapter's monthly facts into one part."""
    frames = [f for f in read(path, ctx) if not f.is_empty()]
    if not frames:
        return [], 0, 0, set()
    facts = conform_facts(pl.concat(frames, how="vertical_relaxed")).collect()
    rel = f"facts/part-{part_id}.parquet"
    (staging / "facts").mkdir(parents=True, exist_ok=True)
    facts.write_parquet(staging / rel)
    return [rel], facts.height, facts.height, set()


# ------------------------------------------------------------------------- reading on cluster workers
# The tasks a Dask client runs at ingest (lab.usage.cluster starts the client): plain functions, so that
# this module imports nothing of Dask, and lab.usage.cluster nothing of this module.
@dataclass
class RemoteRead:
    """What a worker read of one file: its sha256, the filled adapter context, the staging folder."""

    sha256: str
    ctx: Context
    folder: Path


def read_on_worker(path: str, fmt: str, ctx: Context, folder: str, timezone: str) -> RemoteRead:
    """A task: read one input file into ``folder/raw/<YYYYMM>/batch-*.parquet`` (everything spilled).

    ``folder`` is emptied first, so a task run again after a killed worker starts afresh.
    """
    src, out = Path(path), Path(folder)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    sha = file_sha256(src)
    ctx.source_file = f"{src.name}@{sha[:12]}"
    plain = _plain_input(src, out / "input")
    try:
        read_to_raw(plain, ADAPTERS[fmt].read, ctx, out / "raw", timezone, progress=False, spill_rows=0)
    finally:
        shutil.rmtree(out / "input", ignore_errors=True)
    return RemoteRead(sha, ctx, out)


def read_ahead(
    client: Any, files: Sequence[Path], fmt: str, store: EventStore, ctx: Context, timezone: str
) -> dict[Path, Any]:
    """Submit one reading task per events file; the futures, by path (facts files are read locally)."""
    if ADAPTERS[fmt].kind != "events":
        return {}
    root = store.path / ".staging"
    futures = {}
    for i, path in enumerate(files):
        folder = root / f"{os.getpid()}-read-{i:05d}"
        futures[path] = client.submit(
            read_on_worker, str(path.resolve()), fmt, ctx, str(folder), timezone, pure=False, retries=2
        )
    return futures
