"""Events are counted once whatever files they arrive in: a content key per event.

Files are known by their sha256, but the same events reach a store in other bytes: a log saved again
with one more line end, a rotated log's halves and then the whole log, a gateway export that overlaps
last month's. Each event therefore gets a key made of what it *is*, not where it was read:

* the hash of its content, :data:`KEY_COLUMNS` (time to the second or better, channel, event, visitor
  and account keys, dataset, application, status, bytes): the same request logged twice has the same
  content hash in every file;
* its occurrence among the events of the same file with that content hash (0, 1, 2…): two identical
  requests in one second of one log are two events, and stay two.

Keys are computed with polars' vectorised hashing, for the new events and for the events already
stored in the months a file touches (from their stored columns, so a store never depends on the
hash of another polars version); new events whose key is already there are dropped before the
counting rules run. Limit: identical requests (same second, visitor, page, status and size) split
by a log rotation between two files both count as the first occurrence, and one of them is dropped.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

KEY_COLUMNS = (
    "ts",
    "channel",
    "event",
    "visitor_key",
    "account_key",
    "dataset_id",
    "app_id",
    "status",
    "bytes",
)
"""What an event is, for deduplication (not ``agent_class`` nor ``counted``: the rules decide them)."""
KEY_SEED = 0x5EED_C0DE


def _content_hash() -> pl.Expr:
    return pl.struct(
        [pl.col(c).cast(pl.String) if c in ("channel", "event") else pl.col(c) for c in KEY_COLUMNS]
    ).hash(KEY_SEED)


def with_event_keys(frame: pl.DataFrame | pl.LazyFrame, by: str | None = None) -> pl.LazyFrame:
    """``frame`` with ``_key`` (UInt64): content hash and occurrence within the file.

    Parameters
    ----------
    frame
        Events with :data:`KEY_COLUMNS` (one file's, or several files' with ``by`` naming the column
        that tells them apart, ``source_file``).
    by
        Column of the input file, when ``frame`` holds events of several files.
    """
    groups = ["_h", *([by] if by else [])]
    return (
        frame.lazy()
        .with_columns(_h=_content_hash())
        .with_columns(
            _key=pl.struct("_h", pl.int_range(pl.len(), dtype=pl.UInt32).over(groups)).hash(KEY_SEED + 1)
        )
        .drop("_h")
    )


def stored_keys(parts: list[Path]) -> pl.DataFrame:
    """The keys of the events already stored in ``parts`` (one column ``_key``)."""
    if not parts:
        return pl.DataFrame(schema={"_key": pl.UInt64})
    events = pl.scan_parquet(parts).select(*KEY_COLUMNS, "source_file")
    return with_event_keys(events, by="source_file").select("_key").collect()


def drop_known(staged: pl.DataFrame, parts: list[Path]) -> tuple[pl.DataFrame, int]:
    """The events of ``staged`` (one file, one month) not already in ``parts``, and how many were.

    Returns
    -------
    tuple
        The new events (``staged``'s columns) and the number of duplicates dropped.
    """
    if not parts:
        return staged, 0
    known = stored_keys(parts)
    if known.is_empty():
        return staged, 0
    keyed = with_event_keys(staged).collect()
    fresh = keyed.join(known, on="_key", how="anti", maintain_order="left").drop("_key")
    return fresh, staged.height - fresh.height
