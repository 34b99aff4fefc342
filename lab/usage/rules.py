"""The counting rules: what counts as a visit, a view, a download, an API call, and what does not.

They are applied once, at ingest, and their verdict stored in the ``counted`` column; a KPI is then
a filter and a count. Each rule is tested on its own (``tests/test_usage_rules.py``).

1. **Robots and monitors are excluded** (``agent_class`` bot / monitor), by the published
   COUNTER-Robots User-Agent list plus a list of uptime monitors (:mod:`lab.usage.agents`), and by
   behaviour: a web visitor (IP + User-Agent) making more than ``max_per_minute`` requests in one
   minute, or more than ``max_per_day`` in one day, is a robot for that whole day.
2. **Static assets and non-pages are not events**: stylesheets, scripts, images, fonts, robots.txt,
   sitemaps, the ZK framework's AJAX posts (``/zkau``), form submissions (POST); see
   :mod:`lab.usage.routes`.
3. **Only answered requests count**: status 200–399 (304 = page served from the browser cache,
   302 = redirect to the file), never a HEAD, never the HTML page the data API answers (with status
   200) to an expired or wrong account.
4. **A visit** is a visitor's run of requests with at most ``session_gap_s`` (30 minutes) between
   two of them. Sessions are cut at the end of an input file (log rotation) and at month ends.
5. **A double-click counts once**: the same visitor, the same dataset, the same event (view or
   download) within ``double_click_s`` (30 s) of the previous counted one is not counted again
   (COUNTER Code of Practice). It applies to web events that name a dataset; API calls are paged
   (``offset=0, 100, 200…``), so quick repeats there are real calls.
6. **Views and downloads are counted separately, web and API separately**: ``dataset_view`` and
   ``download`` are distinct events; ``channel`` keeps the web, the API and the Zalo/SMS/app
   channels apart.
7. **Unique visitors** are distinct ``visitor_key`` values among counted web events, per day or per
   month (a month's unique visitors are not the sum of its days').

``UDATA_COUNTING`` switches rules 1 (rate part) and 5 off, to reproduce data.gouv.fr's own counts,
which count every matching hit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

SESSION_SEED = 0x1AB5E55
"""Seed of the session id hash (fixed: the same input gives the same session ids)."""


@dataclass(frozen=True)
class CountingRules:
    """Parameters of the counting rules (see the module docstring).

    Parameters
    ----------
    session_gap_s
        Inactivity that ends a visit, in seconds (30 minutes).
    double_click_s
        Repeats within this many seconds count once (0 switches the rule off).
    double_click_channels
        Channels the double-click rule applies to.
    max_per_minute, max_per_day
        Above this many requests by one visitor in a minute / a day, the visitor is a robot for the
        day (None switches the limit off).
    rate_channels
        Channels the rate rule applies to.
    """

    session_gap_s: int = 1800
    double_click_s: int = 30
    double_click_channels: tuple[str, ...] = ("web",)
    max_per_minute: int | None = 60
    max_per_day: int | None = 2000
    rate_channels: tuple[str, ...] = ("web",)

    def as_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready dict (recorded in the store's ledger)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


UDATA_COUNTING = CountingRules(double_click_s=0, max_per_minute=None, max_per_day=None)
"""data.gouv.fr's metrics count every matching hit: no double-click rule, no rate rule."""


def robots_by_rate(frame: pl.DataFrame, rules: CountingRules) -> pl.Series:
    """True for the rows of a visitor-day that exceeds the request-rate limits (rate channels only).

    Counted with two group-bys (requests per visitor-minute and per visitor-day); the rows are marked
    only when some visitor-day is over a limit, which on people's traffic is rare.
    """
    none = pl.Series("robot", [False] * frame.height, dtype=pl.Boolean)
    if rules.max_per_minute is None and rules.max_per_day is None:
        return none
    scope = frame.select(
        pl.col("visitor_key"),
        pl.col("ts").dt.truncate("1m").alias("_minute"),
        pl.col("ts").dt.truncate("1d").alias("_day"),
        (
            pl.col("channel").cast(pl.String).is_in(list(rules.rate_channels))
            & pl.col("visitor_key").is_not_null()
        ).alias("_in"),
    )
    inside = scope.filter("_in")
    flagged = []
    if rules.max_per_minute is not None:
        per_minute = inside.group_by("visitor_key", "_minute").agg(pl.len(), pl.first("_day"))
        flagged.append(per_minute.filter(pl.col("len") > rules.max_per_minute).select("visitor_key", "_day"))
    if rules.max_per_day is not None:
        per_day = inside.group_by("visitor_key", "_day").len()
        flagged.append(per_day.filter(pl.col("len") > rules.max_per_day).select("visitor_key", "_day"))
    bad = pl.concat(flagged).unique()
    if bad.is_empty():
        return none
    marked = scope.join(
        bad.with_columns(_bad=pl.lit(True)), on=["visitor_key", "_day"], how="left", maintain_order="left"
    )
    return (marked.get_column("_bad").fill_null(False) & marked.get_column("_in")).alias("robot")


def double_clicks(frame: pl.DataFrame, rules: CountingRules, candidate: pl.Series) -> pl.Series:
    """True for the repeats of a double-click: the same visitor, dataset and event within
    ``double_click_s`` of the previous candidate (countable) one, on the double-click channels.

    The candidates are sorted by a 64-bit key of (visitor, event, dataset) and time, so each is
    compared with the previous one of its key without a window over millions of groups.
    """
    none = pl.Series("repeat", [False] * frame.height, dtype=pl.Boolean)
    if rules.double_click_s <= 0:
        return none
    rows = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
        "ts",
        pl.struct("visitor_key", "event", "dataset_id").hash(SESSION_SEED + 1).alias("_k"),
        (
            pl.col("channel").cast(pl.String).is_in(list(rules.double_click_channels))
            & pl.col("visitor_key").is_not_null()
            & pl.col("dataset_id").is_not_null()
            & pl.lit(candidate)
        ).alias("_in"),
    ).filter("_in")
    if rows.is_empty():
        return none
    rows = rows.sort("_k", "ts", "_row")
    k, ts = pl.col("_k"), pl.col("ts")
    repeat = rows.select(
        "_row",
        _rep=(
            (k == k.shift(1)) & ((ts - ts.shift(1)) <= pl.duration(seconds=rules.double_click_s))
        ).fill_null(False),
    ).filter("_rep")
    if repeat.is_empty():
        return none
    return none.scatter(repeat.get_column("_row"), True)


def apply_rules(staged: pl.DataFrame, rules: CountingRules) -> pl.DataFrame:
    """Sessions, robots by rate, double-clicks and the ``counted`` verdict of staged events.

    Parameters
    ----------
    staged
        Events of one input file and one month (any order), with the canonical columns except
        ``session_id`` and ``counted``, plus ``ok`` (answered request).
    rules
        The counting rules.

    Returns
    -------
    polars.DataFrame
        The events sorted by visitor and time (ties in input order), with ``agent_class`` updated
        (robots by rate), ``session_id`` and ``counted``; ``ok`` dropped.
    """
    if staged.get_column("ts").is_sorted():  # a log in time order: a stable sort by visitor suffices
        df = staged.sort("visitor_key", maintain_order=True, nulls_last=True)
    else:
        df = staged.sort("visitor_key", "ts", maintain_order=True, nulls_last=True)
    robot = robots_by_rate(df, rules)
    df = df.with_columns(
        agent_class=pl.when(pl.lit(robot) & (pl.col("agent_class") == "human"))
        .then(pl.lit("bot"))
        .otherwise(pl.col("agent_class"))
        .cast(df.schema["agent_class"])
    )
    v = pl.col("visitor_key")
    ts = pl.col("ts")
    gap = pl.duration(seconds=rules.session_gap_s)
    new_session = v.is_not_null() & (
        v.shift(1).is_null() | (v != v.shift(1)) | ((ts - ts.shift(1)) > gap)
    ).fill_null(True)
    df = df.with_columns(
        session_id=pl.when(v.is_not_null()).then(
            pl.struct(v, pl.when(new_session).then(ts).forward_fill().alias("start")).hash(SESSION_SEED)
        )
    )
    candidate = df.select(pl.col("ok") & (pl.col("agent_class") == "human")).to_series()
    repeat = double_clicks(df, rules, candidate)
    return df.with_columns(counted=candidate & ~repeat).drop("ok")
