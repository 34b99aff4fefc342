"""Ingest: input files → the event store, incrementally, idempotently, atomically per file.

For each file: its sha256 is looked up in the ledger (a file already ingested adds nothing, whatever
its name); otherwise its adapter stages events batch by batch into ``.staging/`` split by month, the
counting rules (:mod:`lab.usage.rules`) run month by month (memory stays bounded by one month of one
file), each month becomes one Parquet part, and the parts plus the ledger entry are committed
(:meth:`lab.usage.store.EventStore.commit`). Bad lines are counted with their reason and never stop
the ingest.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from tqdm.auto import tqdm

from lab.errors import LabError, ReadError
from lab.fetch import file_sha256
from lab.usage.adapters import ADAPTERS, FORMATS, Context, Reject
from lab.usage.privacy import fingerprint, load_secret
from lab.usage.routes import PORTAL_RULES, UrlRules
from lab.usage.rules import CountingRules, apply_rules
from lab.usage.schema import conform_events, conform_facts
from lab.usage.store import EventStore, StoreError, month_label
from lab.usage.summary import summarise, summary_name

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """What ingesting one file did (what ``lab usage ingest`` prints)."""

    file: str
    format: str
    sha256: str
    status: str  # "ingested" or "already ingested"
    kind: str = "events"
    lines_read: int = 0
    lines_rejected: int = 0
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
        return (
            f"{self.file}: {self.lines_read:,} lines read, {self.lines_parsed:,} parsed, "
            f"{self.lines_rejected:,} rejected, {self.events_kept:,} {what} kept{state}"
        )


def _from_entry(path: Path, entry: dict[str, Any]) -> IngestResult:
    return IngestResult(
        file=str(path),
        format=entry.get("format", "?"),
        sha256=entry["sha256"],
        status="already ingested",
        kind=entry.get("kind", "events"),
        lines_read=entry.get("lines_read", 0),
        lines_rejected=entry.get("lines_rejected", 0),
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

    Returns
    -------
    list of IngestResult
        One per file, in order; files already in the store say so and add nothing.

    Raises
    ------
    lab.errors.LabError
        An unknown format, a missing file, a file that is not of the format at all (no line of it
        readable is *not* an error: it is ingested with every line rejected), a store problem.
    """
    if fmt not in ADAPTERS:
        raise LabError(f"unknown usage format {fmt!r}: one of {', '.join(FORMATS)}")
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise ReadError("no such file", file=path)
    store = store if isinstance(store, EventStore) else EventStore(store)
    secret = load_secret()
    print_ = fingerprint(secret)
    results = []
    with store.writing(print_):
        if any(bool(e.get("synthetic")) != synthetic for e in store.entries()):
            kind = "synthetic (demo)" if not synthetic else "real"
            raise StoreError(f"holds {kind} usage data: use another store for these files", file=store.path)
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
                )
            )
    return results


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
) -> IngestResult:
    sha = file_sha256(path)
    known = store.entry(sha)
    if known is not None:
        log.info("%s: already ingested (sha256 %s)", path, sha[:12])
        return _from_entry(path, known)
    info = ADAPTERS[fmt]
    ctx = Context(
        secret=secret,
        source_file=f"{path.name}@{sha[:12]}",
        rules=rules,
        counting=counting,
        timezone=timezone,
        options=options,
    )
    staging = store.staging_dir(sha)
    try:
        if info.kind == "facts":
            parts, kept, counted, channels = _stage_facts(path, info.read, ctx, staging, sha)
        else:
            parts, kept, counted, channels = _stage_events(
                path, info.read, ctx, staging, sha, store, progress
            )
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
            events_kept=kept,
            events_counted=counted,
            reasons=dict(ctx.reasons),
            rejects=list(ctx.rejects),
            first_month=first,
            last_month=last,
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
            "events_kept": kept,
            "events_counted": counted,
            "reasons": dict(ctx.reasons),
            "rejects": [r.as_dict() for r in ctx.rejects],
            "first_month": first,
            "last_month": last,
            "covers": sorted(set(info.covers) | channels) if info.kind == "events" else [],
            "rules": {"counting": counting.as_dict(), "timezone": timezone, "options": _jsonable(options)},
            "parts": parts,
            **({"summaries": [summary_name(p) for p in parts]} if info.kind == "events" else {}),
        }
        store.commit(entry, staging, secret_print)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("%s", result.summary())
    return result


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple | set) else v for k, v in options.items()}


SPILL_ROWS = 4_000_000
"""Staged events kept in memory before they are spilled to ``.staging/`` (about 400 MB)."""


def _stage_events(
    path: Path,
    read: Any,
    ctx: Context,
    staging: Path,
    sha: str,
    store: EventStore,
    progress: bool | None,
) -> tuple[list[str], int, int, set[str]]:
    """Stage the adapter's batches by month, apply the counting rules per month, write the parts.

    Batches stay in memory up to :data:`SPILL_ROWS` events, then every month's batches are spilled to
    Parquet in ``.staging/raw/<YYYYMM>/``: memory is bounded by that and by one month of one file.
    """
    raw = staging / "raw"
    tz = store.timezone
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
            local = pl.col("ts").dt.convert_time_zone(tz)
            keyed = frame.with_columns(_ym=local.dt.year() * 100 + local.dt.month())
            for (ym,), part in keyed.partition_by("_ym", as_dict=True, include_key=False).items():
                held.setdefault(int(ym), []).append(part)
            held_rows += frame.height
            if held_rows > SPILL_ROWS:
                spill()
    finally:
        bar.close()
    spilled = {int(p.name) for p in raw.iterdir()} if raw.is_dir() else set()
    months = sorted(spilled | set(held))
    parts: list[str] = []
    kept = counted = 0
    channels: set[str] = set()
    for ym in tqdm(
        months, desc="counting rules", unit=" month", disable=None if progress is None else not progress
    ):
        frames = list(held.pop(ym, []))
        if (raw / f"{ym}").is_dir():
            frames.append(pl.read_parquet(raw / f"{ym}" / "*.parquet"))
        staged = pl.concat(frames)
        events = conform_events(apply_rules(staged, ctx.counting)).collect()
        rel = f"year={ym // 100:04d}/month={ym % 100:02d}/part-{sha[:16]}.parquet"
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        events.write_parquet(target, statistics=True)
        summarise(events).write_parquet(staging / summary_name(rel))
        parts.append(rel)
        kept += events.height
        counted += int(events.get_column("counted").sum())
        channels |= set(events.get_column("channel").unique().cast(pl.String).to_list())
        shutil.rmtree(raw / f"{ym}", ignore_errors=True)
    return parts, kept, counted, channels


def _stage_facts(
    path: Path, read: Any, ctx: Context, staging: Path, sha: str
) -> tuple[list[str], int, int, set[str]]:
    """Collect the adapter's monthly facts into one part."""
    frames = [f for f in read(path, ctx) if not f.is_empty()]
    if not frames:
        return [], 0, 0, set()
    facts = conform_facts(pl.concat(frames, how="vertical_relaxed")).collect()
    rel = f"facts/part-{sha[:16]}.parquet"
    (staging / "facts").mkdir(parents=True, exist_ok=True)
    facts.write_parquet(staging / rel)
    return [rel], facts.height, facts.height, set()
