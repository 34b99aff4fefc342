"""What every adapter shares: the ingest context, reject bookkeeping, line and CSV readers.

An adapter turns one input file into *staged* events (or monthly facts), batch by batch, so a file of
tens of millions of lines never has to fit in memory. Staged events carry the canonical columns plus
``ok`` (the request was answered: status in the accepted range, not a HEAD, not an HTML page where the
API should answer JSON); :mod:`lab.usage.rules` then decides sessions, robots by behaviour,
double-clicks and ``counted``.

Bad lines never stop an ingest: each is counted with its reason, and the first few are kept (with
their text, for the person running the ingest; the store keeps only line numbers and reasons).
"""

from __future__ import annotations

import io
import mmap
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import polars as pl

from lab.usage.dates import parse_timestamps
from lab.usage.routes import PORTAL_RULES, UrlRules
from lab.usage.rules import CountingRules

T = TypeVar("T")
R = TypeVar("R")

MAX_REJECTS_SHOWN = 5
BATCH_LINES = 1_000_000
"""Lines parsed at a time: bounds memory whatever the size of the file."""
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


STAGED_SCHEMA = pl.Schema(
    {
        "ts": pl.Datetime("us", "UTC"),
        "channel": pl.String,
        "event": pl.String,
        "visitor_key": pl.UInt64,
        "account_key": pl.UInt64,
        "dataset_id": pl.String,
        "app_id": pl.String,
        "status": pl.Int16,
        "bytes": pl.Int64,
        "agent_class": pl.String,
        "source_file": pl.String,
        "ok": pl.Boolean,
    }
)
"""Staged events: the canonical columns without ``session_id`` and ``counted``, plus ``ok``."""


def staged_empty() -> pl.DataFrame:
    """No staged events (the schema of :data:`STAGED_SCHEMA`)."""
    return pl.DataFrame(schema=STAGED_SCHEMA)


def as_staged(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame``'s staged columns, in order, cast to :data:`STAGED_SCHEMA` (missing ones null)."""
    return frame.select(
        [
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t, strict=False).alias(c)
            for c, t in STAGED_SCHEMA.items()
        ]
    )


@dataclass(frozen=True)
class Reject:
    """One line that could not be read: its number (1-based), why, and (in memory only) its text."""

    line: int
    reason: str
    text: str = ""

    def as_dict(self, with_text: bool = False) -> dict[str, Any]:
        """A JSON-ready dict; the text (which may hold an IP address) only when asked."""
        out: dict[str, Any] = {"line": self.line, "reason": self.reason}
        if with_text:
            out["text"] = self.text
        return out


@dataclass
class Context:
    """Everything an adapter needs besides the file.

    Parameters
    ----------
    secret
        The keyed-hash secret (:func:`lab.usage.privacy.load_secret`).
    source_file
        The label written into ``source_file`` (file name @ short hash).
    rules
        URL routes of web logs (and of API paths in gateway logs).
    counting
        The counting rules (sessions, double-clicks, robots by rate).
    timezone
        Time zone of timestamps written without an offset.
    options
        Adapter options (e.g. ``frontends`` for HAProxy).
    window
        The plausible time range of events (UTC, inclusive): a row whose ``ts`` falls outside is
        rejected by :meth:`reject` with its reason (None: no check, as for monthly facts).

    The adapter fills ``lines_read``, ``lines_rejected`` (with ``rejects``, the first few, and
    ``reasons``, the count per reason) and ``ts_min``/``ts_max``, the time range of the readable lines
    (which months the file covers, whether or not they hold events).
    """

    secret: bytes
    source_file: str
    rules: UrlRules = PORTAL_RULES
    counting: CountingRules = field(default_factory=CountingRules)
    timezone: str = DEFAULT_TIMEZONE
    options: dict[str, Any] = field(default_factory=dict)
    window: tuple[datetime, datetime] | None = None
    lines_read: int = 0
    lines_rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    ts_min: datetime | None = None
    ts_max: datetime | None = None
    memo: dict[str, Any] = field(default_factory=dict)

    def note_times(self, frame: pl.DataFrame, column: str = "ts") -> None:
        """Widen the covered time range to the non-null times of ``frame[column]``."""
        lo, hi = frame.select(pl.col(column).min().alias("lo"), pl.col(column).max().alias("hi")).row(0)
        if lo is None:
            return
        self.ts_min = lo if self.ts_min is None else min(self.ts_min, lo)
        self.ts_max = hi if self.ts_max is None else max(self.ts_max, hi)

    def window_reason(self) -> str:
        """The reject reason of an event outside :attr:`window`."""
        assert self.window is not None
        lo, hi = self.window
        return f"time outside the plausible window {lo:%Y-%m-%d} … {hi:%Y-%m-%d}"

    def reject(self, frame: pl.DataFrame, reason_col: str = "reject", text_col: str = "line") -> pl.DataFrame:
        """Count the rows of ``frame`` whose ``reason_col`` is set; keep the first few.

        With a :attr:`window`, a row of ``frame`` whose ``ts`` falls outside it is rejected too (its
        reason set first). Returns ``frame`` with ``reason_col`` so updated: callers keep the rows
        whose reason is null.
        """
        if self.window is not None and "ts" in frame.columns:
            lo, hi = self.window
            ts = pl.col("ts")
            frame = frame.with_columns(
                pl.when(pl.col(reason_col).is_null() & ts.is_not_null() & ((ts < lo) | (ts > hi)))
                .then(pl.lit(self.window_reason()))
                .otherwise(pl.col(reason_col))
                .alias(reason_col)
            )
        bad = frame.filter(pl.col(reason_col).is_not_null())
        if bad.is_empty():
            return frame
        self.lines_rejected += bad.height
        for reason, n in bad.group_by(reason_col).len().iter_rows():
            self.reasons[reason] = self.reasons.get(reason, 0) + n
        room = MAX_REJECTS_SHOWN - len(self.rejects)
        if room > 0:
            cols = ["line_no", reason_col, *([text_col] if text_col in bad.columns else [])]
            for row in bad.select(cols).head(room).iter_rows():
                text = str(row[2])[:300] if len(row) > 2 and row[2] is not None else ""
                self.rejects.append(Reject(int(row[0]), str(row[1]), text))
        return frame


Adapter = Callable[[Path, Context], Iterator[pl.DataFrame]]
"""An adapter: ``adapter(path, ctx)`` yields staged event (or fact) frames and fills ``ctx``'s counts."""


_AS_LINES: dict[str, Any] = {
    "has_header": False,
    "separator": "\x00",  # a byte no text line holds: each line is one field
    "quote_char": None,
    "new_columns": ["line"],
    "encoding": "utf8-lossy",
    "truncate_ragged_lines": True,
    "infer_schema": False,
    "raise_if_empty": False,
}
"""polars CSV reader options that read a text file as one ``line`` column, a row per line."""


def read_lines(path: Path, batch_lines: int = BATCH_LINES) -> Iterator[pl.DataFrame]:
    """The lines of a text file, in batches: ``line_no`` (1-based) and ``line`` (null for a blank line).

    Invalid UTF-8 is replaced (lossy) rather than failing the file; line ends (LF or CRLF) are removed.
    """
    lf = pl.scan_csv(path, **_AS_LINES, row_index_name="line_no", row_index_offset=1)
    for batch in lf.collect_batches(chunk_size=batch_lines):
        if batch.width == 2:
            yield batch.with_columns(pl.col("line_no").cast(pl.Int64))


CHUNK_BYTES = 48 * 1024 * 1024
"""Bytes of a log read at a time (whole lines): about 200,000 web-log lines."""


class Chunk(NamedTuple):
    """Whole lines of a text file: the number of the first line, the bytes, and how many lines."""

    first_line: int
    data: bytes
    n_lines: int


def read_chunks(path: Path, chunk_bytes: int | None = None) -> Iterator[Chunk]:
    """A text file in chunks of whole lines (the last chunk may lack its final line end).

    The file is memory-mapped and cut at the last line end before each ``chunk_bytes`` boundary, so
    each byte is copied once; each chunk's lines are counted once (the adapters use the count to
    check that a fast whole-chunk parse gave one row per line). NUL bytes become U+FFFD (the
    replacement character), as invalid UTF-8 does: such a line is read as text, and rejected if it is
    not a log line.
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    line_no = 1
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            start = 0
            while start < size:
                end = min(start + chunk_bytes, size)
                if end < size:
                    cut = mm.rfind(b"\n", start, end) + 1
                    end = cut if cut > start else _next_line_end(mm, end, size)
                data = mm[start:end]
                if b"\x00" in data:  # NUL bytes (a binary or damaged log) split lines into fields
                    data = data.replace(b"\x00", "\ufffd".encode())
                n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
                yield Chunk(line_no, data, n_lines)
                line_no += n_lines
                start = end


def ahead(items: Iterable[T], work: Callable[[T], R]) -> Iterator[R]:
    """``work(item)`` for each item, in order, computed one step ahead in a thread.

    The thread takes the next item (reading a chunk of a file, say) and does its work while the caller
    uses the previous result; polars releases the GIL while it parses, so on two cores parsing chunk
    *n + 1* overlaps with what the caller does with chunk *n* (routes, counting rules, writing): a fifth
    more lines per second. At most two results are held at a time; an error in the work or in taking
    the next item is raised where its result would have been.
    """
    source = iter(items)
    done = object()

    def step() -> Any:
        for item in source:
            return work(item)
        return done

    with ThreadPoolExecutor(1, thread_name_prefix="lab-parse") as pool:
        pending: Future[Any] = pool.submit(step)
        while (result := pending.result()) is not done:
            pending = pool.submit(step)
            yield result


def _next_line_end(mm: mmap.mmap, start: int, size: int) -> int:
    """The end of the line running over ``start`` (a line longer than a chunk)."""
    cut = mm.find(b"\n", start)
    return size if cut < 0 else cut + 1


def lines_of(chunk: bytes, first_line: int) -> pl.DataFrame:
    """The lines of a chunk: ``line_no`` and ``line`` (as :func:`read_lines`)."""
    if not chunk:
        return pl.DataFrame(schema={"line_no": pl.Int64, "line": pl.String})
    frame = pl.read_csv(io.BytesIO(chunk), **_AS_LINES)
    return frame.select(
        pl.int_range(first_line, first_line + frame.height, dtype=pl.Int64).alias("line_no"), "line"
    )


def read_csv_text(path: Path, separator: str = ",", skip_comments: bool = False) -> pl.DataFrame:
    """A CSV file as text columns (header names stripped), ``line_no`` = the row's line in the file.

    Rows with too few fields get nulls (the adapters reject them by their missing fields); a CSV
    cell with an embedded line break makes later line numbers approximate.
    """
    frame = pl.read_csv(
        path,
        separator=separator,
        infer_schema=False,
        truncate_ragged_lines=True,
        encoding="utf8-lossy",
        raise_if_empty=False,
        comment_prefix="#" if skip_comments else None,
        row_index_name="line_no",
        row_index_offset=2,
    )
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns if c != "line_no"})
    return frame.with_columns(pl.col("line_no").cast(pl.Int64))


def pick_column(columns: list[str], *candidates: str) -> str | None:
    """The first of ``candidates`` present in ``columns`` (compared case-insensitively)."""
    lower = {c.lower(): c for c in columns}
    for cand in candidates:
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None


def parse_timestamp(text: pl.Expr, timezone: str) -> pl.Expr:
    """Timestamps in any form platforms write (:func:`lab.usage.dates.parse_datetime`: ISO 8601 with or
    without an offset, epoch seconds or milliseconds, Java ``Date.toString()``, RFC 2822, Vietnamese
    ``dd/mm/yyyy [HH:MM]``) → UTC; naive ones in ``timezone``; null if bad.

    Examples
    --------
    >>> pl.select(parse_timestamp(pl.lit("2024-05-01T10:00:00+07:00"), "UTC")).item()
    datetime.datetime(2024, 5, 1, 3, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
    """
    return parse_timestamps(text, timezone)
