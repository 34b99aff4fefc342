"""Per-part summaries, computed once at ingest: what the monthly KPIs need, without the events.

Every event part (one input file × one month) gets a small companion ``sum-<id>.parquet`` beside it,
made by :func:`summarise` from the part's counted events:

======================  ========================================================================
``kind``                rows
======================  ========================================================================
``count``               one per (channel, event, dataset, app): ``n`` counted events
``sessions``            one per channel: ``n`` distinct sessions (a session never spans two parts:
                        the counting rules cut sessions at the end of a file and of a month)
``visitors``            one row: ``n`` distinct web visitor keys of the part
``accounts``            one row: ``n`` distinct accounts with an API call or a login in the part
``visitor``             one per distinct web visitor key (``key``): unique visitors of a period are
                        the distinct keys of all its parts, so they are never summed
``account``             one per distinct account key with an API call or a login (``key``)
======================  ========================================================================

Counts add up over parts and months; distinct visitors and accounts are unions of key sets, read only
for a period made of several parts (a month of daily log files, a quarter): a month ingested from one
file takes its distinct counts from ``visitors`` / ``accounts``. A monthly report therefore reads a
few megabytes whatever the size of the logs, and its memory does not grow with the number of events.
KPIs by day, and stores written before summaries existed, read the events.
"""

from __future__ import annotations

import polars as pl

from lab.usage.schema import Channel, Event

SUMMARY_SCHEMA = pl.Schema(
    {
        "kind": pl.String,
        "channel": Channel,
        "event": Event,
        "dataset_id": pl.String,
        "app_id": pl.String,
        "n": pl.Int64,
        "key": pl.UInt64,
    }
)


KEY_KINDS = ("visitor", "account")
"""Summary kinds holding keys (many rows); the other kinds hold a few counts per part."""


def summary_name(part: str) -> str:
    """The summary file of an event part (``…/part-<id>.parquet`` → ``…/sum-<id>.parquet``)."""
    head, _, name = part.rpartition("/")
    return f"{head}/{name.replace('part-', 'sum-', 1)}" if head else name.replace("part-", "sum-", 1)


def summarise(events: pl.DataFrame) -> pl.DataFrame:
    """The summary of one part's events (see the module docstring).

    Parameters
    ----------
    events
        The canonical events of one part (any order).

    Returns
    -------
    polars.DataFrame
        :data:`SUMMARY_SCHEMA` rows.
    """
    counted = events.lazy().filter("counted")
    counts = counted.group_by("channel", "event", "dataset_id", "app_id").agg(n=pl.len().cast(pl.Int64))
    sessions = (
        counted.filter(pl.col("session_id").is_not_null())
        .group_by("channel")
        .agg(n=pl.col("session_id").n_unique().cast(pl.Int64))
    )
    visitors = (
        counted.filter((pl.col("channel") == "web") & pl.col("visitor_key").is_not_null())
        .select(key=pl.col("visitor_key"))
        .unique()
    )
    accounts = (
        counted.filter(pl.col("event").is_in(["api_call", "login"]) & pl.col("account_key").is_not_null())
        .select(key=pl.col("account_key"))
        .unique()
    )
    parts = [
        counts.with_columns(kind=pl.lit("count")),
        sessions.with_columns(kind=pl.lit("sessions")),
        visitors.select(n=pl.len().cast(pl.Int64), kind=pl.lit("visitors")),
        accounts.select(n=pl.len().cast(pl.Int64), kind=pl.lit("accounts")),
        visitors.with_columns(kind=pl.lit("visitor")),
        accounts.with_columns(kind=pl.lit("account")),
    ]
    frames = pl.collect_all(parts)
    return pl.concat(
        [
            f.select(
                [
                    (pl.col(c) if c in f.columns else pl.lit(None)).cast(t).alias(c)
                    for c, t in SUMMARY_SCHEMA.items()
                ]
            )
            for f in frames
        ]
    ).sort("kind", "key", nulls_last=True)
