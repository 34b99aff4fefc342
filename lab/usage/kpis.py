"""The KPIs: portal totals, the monthly fact table, channel mix, top datasets, API calls per app,
accounts per quarter, growth. Lazy polars queries over the store, each collected once, at the edge.

Every KPI counts only ``counted`` events (see :mod:`lab.usage.rules`), takes ``min_count`` (default
5) and suppresses smaller cells (null + a ``<column>_suppressed`` flag, never 0). A metric whose
inputs do not cover a month (no web log for that month, no API gateway export, …) is null: the
inputs cannot tell. Where the events cannot tell but imported monthly facts can, the facts fill the
cell: a site-wide fact (Socrata site metrics, data.gouv.fr global stats, a site-level GA4 export), else
the sum of the imported per-dataset facts (data.gouv.fr per-dataset files, GA4 pages) for dataset views
and downloads. Every row says where its figures come from (``source``: ``events``, the import format,
or both joined by ``+``), and ``source=`` keeps one source only. :func:`top_datasets` ranks datasets
the same way: events where they cover the month, imported per-dataset facts for the other months
(data.gouv.fr "visits" are dataset page views: ``dataset_views``).

Periods are calendar months (or days) in the store's time zone, written ``YYYY-MM`` (``YYYY-MM-DD``).

What each total counts (web = the portal's website):

==================  ==========================================================================
visits              distinct sessions of web events (30 minutes of inactivity ends one)
unique_visitors     distinct web visitors (IP + User-Agent keys) in the period
page_views          web page_view + search + dataset_view events
dataset_views       web dataset_view events
downloads           web download events
api_calls           api_call events (answered: not the HTML page of an expired account)
signups             signup events
active_accounts     distinct accounts with an API call or a login in the period
==================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from lab.errors import LabError
from lab.usage.disclosure import distinct_count, protect, publish_days, residual_rule, window_sums
from lab.usage.privacy import DEFAULT_MIN_COUNT, suppress
from lab.usage.rollup import Rollups, rollup
from lab.usage.schema import PAGE_EVENTS
from lab.usage.store import EventStore, months_between

TOTALS = (
    "visits",
    "unique_visitors",
    "page_views",
    "dataset_views",
    "downloads",
    "api_calls",
    "signups",
    "active_accounts",
)
"""The portal totals, in the order ``lab usage kpis`` prints them."""

NEEDS: dict[str, tuple[str, ...]] = {
    "visits": ("web",),
    "unique_visitors": ("web",),
    "page_views": ("web",),
    "dataset_views": ("web",),
    "downloads": ("web",),
    "api_calls": ("api",),
    "signups": ("accounts",),
    "active_accounts": ("api", "accounts"),
}
"""Which input families can tell each total (any one of them)."""

SITE_FACTS: dict[str, tuple[str, ...]] = {
    "visits": ("visits",),
    "page_views": ("page_views",),
    "downloads": ("downloads",),
    "signups": ("signups", "users_created"),
}
"""Imported site-wide monthly facts that can stand in for a total the events cannot tell."""

DATASET_METRICS = ("dataset_views", "downloads", "api_calls", "channel_requests")
"""Per-dataset metrics of the monthly fact table."""
METRIC_FAMILIES: dict[str, tuple[str, ...]] = {
    "dataset_views": ("web",),
    "downloads": ("web",),
    "api_calls": ("api",),
    "channel_requests": ("zalo", "sms", "app"),
}
TOP_METRICS = ("dataset_views", "downloads", "api_calls")
DATASET_FACTS: dict[str, tuple[str, ...]] = {
    "dataset_views": ("dataset_views", "page_views"),
    "downloads": ("downloads",),
}
"""Imported per-dataset metrics that tell a dataset's views (data.gouv.fr visits of the dataset page, GA4
page views of its pages) or downloads."""
SOURCE_PRIORITY = ("datagouv-metrics", "socrata-site-metrics", "ga4")
"""When several imports tell the same month, the first of these is taken (never their sum)."""
EVENTS = "events"
ENGINE = "streaming"
"""polars engine of every collect: streams the month partitions, memory does not grow with months."""


class KpiError(LabError):
    """A KPI was asked with a bad period or metric."""


def as_store(store: EventStore | str | Path | None) -> EventStore:
    """An :class:`~lab.usage.store.EventStore` from a store, a folder or None (the default store)."""
    return store if isinstance(store, EventStore) else EventStore(store)


def _ym(text: str | None, what: str) -> int | None:
    """``YYYY-MM`` → ``YYYYMM`` (None stays None)."""
    if text is None:
        return None
    text = str(text).strip()
    if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
        raise KpiError(f"{what} {text!r} is not YYYY-MM")
    if not 1 <= int(text[5:]) <= 12:
        raise KpiError(f"{what} {text!r} is not YYYY-MM")
    return int(text[:4]) * 100 + int(text[5:])


def _window(lf: pl.LazyFrame, start: str | None, end: str | None) -> pl.LazyFrame:
    """Keep the partitions from month ``start`` to month ``end`` (inclusive; None = open)."""
    lo, hi = _ym(start, "--from"), _ym(end, "--to")
    if lo is not None and hi is not None and lo > hi:
        raise KpiError(f"--from {start} is after --to {end}")
    ym = pl.col("year") * 100 + pl.col("month")
    if lo is not None:
        lf = lf.filter(ym >= lo)
    if hi is not None:
        lf = lf.filter(ym <= hi)
    return lf


def _period_months(store: EventStore, start: str | None, end: str | None) -> list[str]:
    """The months a KPI reports: the asked window, or the months the inputs cover."""
    if start is not None and end is not None:
        return months_between(start, end)
    covered = store.coverage()
    facts = store.scan_facts().select("month").unique().collect()
    known = sorted(
        {d.strftime("%Y-%m") for d in covered.get_column("month").to_list()}
        | {d.strftime("%Y-%m") for d in facts.get_column("month").to_list()}
    )
    if not known:
        return []
    return months_between(start or known[0], end or known[-1])


def _covered(store: EventStore, families: Sequence[str]) -> pl.Expr:
    """Expression over a ``month`` (date) column: true where any of ``families`` covers the month."""
    cov = store.coverage().filter(pl.col("family").is_in(list(families)))
    return pl.col("month").is_in(cov.get_column("month").unique().implode())


def _collect(lf: pl.LazyFrame) -> pl.DataFrame:
    return lf.collect(engine=ENGINE)


def _has_summaries(store: EventStore, use: bool | None) -> bool:
    """Whether the KPIs read the per-part summaries (:mod:`lab.usage.summary`) rather than the events.

    ``use`` None: the summaries when every part has one; False: always the events (both give the same
    numbers; the tests check it); True: the summaries, an error without them."""
    if use is False:
        return False
    if store.summary_files() is None:
        if use:
            raise KpiError("this store has no per-part summaries: re-ingest its files, or read the events")
        return False
    return True


def _rollups(store: EventStore, start: str | None, end: str | None, use: bool | None) -> Rollups:
    """The month rollups (:mod:`lab.usage.rollup`) of the months ``start`` to ``end``: from the
    per-part summaries (once per store and window; on a cluster, by its tasks), or from the events."""
    lo, hi = _ym(start, "--from"), _ym(end, "--to")
    if lo is not None and hi is not None and lo > hi:
        raise KpiError(f"--from {start} is after --to {end}")
    if _has_summaries(store, use):
        got = store.rollups(lo, hi)
        assert got is not None
        return got
    cols = ["year", "month", "channel", "event", "dataset_id", "app_id"]
    return rollup(_window(store.scan(), start, end).filter("counted").select(*cols, n=pl.lit(1, pl.Int64)))


def _totals_from_events(lf: pl.LazyFrame, by: str, tz: str) -> pl.DataFrame:
    """The totals per (year, month[, day]) from counted events."""
    web = pl.col("channel") == "web"
    keys = ["year", "month"]
    if by == "day":
        lf = lf.with_columns(day=pl.col("ts").dt.convert_time_zone(tz).dt.date())
        keys = ["year", "month", "day"]
    return _collect(
        lf.group_by(keys).agg(
            visits=pl.col("session_id").filter(web).drop_nulls().n_unique(),
            unique_visitors=pl.col("visitor_key").filter(web).drop_nulls().n_unique(),
            page_views=(web & pl.col("event").is_in(list(PAGE_EVENTS))).sum(),
            dataset_views=(web & (pl.col("event") == "dataset_view")).sum(),
            downloads=(web & (pl.col("event") == "download")).sum(),
            api_calls=(pl.col("event") == "api_call").sum(),
            signups=(pl.col("event") == "signup").sum(),
            active_accounts=pl.col("account_key")
            .filter(pl.col("event").is_in(["api_call", "login"]))
            .drop_nulls()
            .n_unique(),
        )
    ).with_columns(pl.col(c).cast(pl.Int64) for c in TOTALS)


def _distinct_per_month(store: EventStore, parts: pl.DataFrame, kind: str, name: str) -> pl.DataFrame:
    """Distinct visitors (``kind`` visitor) or accounts (account) per month of the rollup's ``parts``:
    the part's own count for a month ingested from one file, the union of the parts' keys for a month
    of several files."""
    keys = ["year", "month"]
    per_month = store.parts_per_month()
    single = per_month.filter(pl.col("parts") == 1).select(keys)
    one_part = parts.join(single, on=keys, how="semi").select(*keys, pl.col(f"{kind}s").alias(name))
    multi = per_month.filter(pl.col("parts") > 1).select(keys)
    if multi.is_empty():
        return one_part
    several = _collect(
        store.scan_summary_keys(kind)
        .join(multi.lazy(), on=keys, how="semi")
        .join(parts.lazy().select(keys), on=keys, how="semi")
        .group_by(keys)
        .agg(pl.col("key").n_unique().cast(pl.Int64).alias(name))
    )
    return pl.concat([one_part, several])


def _totals_from_rollup(store: EventStore, r: Rollups) -> pl.DataFrame:
    """The totals per (year, month) from the month rollups of the per-part summaries."""
    keys = ["year", "month"]
    out = r["counts"].join(r["parts"].select(*keys, "visits"), on=keys, how="full", coalesce=True)
    for kind, name in (("visitor", "unique_visitors"), ("account", "active_accounts")):
        out = out.join(_distinct_per_month(store, r["parts"], kind, name), on=keys, how="full", coalesce=True)
    return out.with_columns(pl.col(c).cast(pl.Int64).fill_null(0) for c in TOTALS).select(*keys, *TOTALS)


# ----------------------------------------------------------------------------------------- totals
def portal_totals(
    store: EventStore | str | Path | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    by: str = "month",
    min_count: int = DEFAULT_MIN_COUNT,
    use_facts: bool = True,
    use_summaries: bool | None = None,
    source: str | None = None,
) -> pl.DataFrame:
    """Portal totals per month (or day): visits, unique visitors, page views, dataset views,
    downloads, API calls, sign-ups, active accounts.

    Parameters
    ----------
    store
        The store (default ``data/store``).
    start, end
        First and last month, ``YYYY-MM`` (default: the months the inputs cover).
    by
        ``month`` or ``day``.
    min_count
        Cells below it are suppressed (``0`` shows everything).
    use_facts
        Fill totals the events cannot tell from imported site-wide monthly facts (months only).
    use_summaries
        Read the per-part summaries made at ingest (default: when the store has them; months only)
        rather than the events; the numbers are the same.
    source
        Only this source: ``events``, or an import format (``datagouv-metrics``,
        ``socrata-site-metrics``, ``ga4``). Default: events, and imported facts where the events
        cannot tell.

    Returns
    -------
    polars.DataFrame
        ``period`` and the :data:`TOTALS` columns (Int64; null where the inputs cannot tell or the
        cell is suppressed), ``source`` (where the row's figures come from), one
        ``<total>_suppressed`` flag per total; one row per period of the window, in order.
    """
    if by not in ("month", "day"):
        raise KpiError(f"--by must be month or day, not {by!r}")
    st = as_store(store)
    _check_source(st, source)
    if source not in (None, EVENTS):
        use_facts = True
    months = _period_months(st, start, end)
    if min_count <= 1 or not months:
        raw = _raw_totals(st, months, by, use_facts, use_summaries, start, end, source)
        return suppress(raw, TOTALS, min_count)
    # the safe-period rule (lab.usage.disclosure): periods are formed over the whole series, from the
    # first month of data, so a window's figures are the same whatever window is asked
    history = _period_months(st, None, months[-1])
    if not history or months[0] < history[0]:  # the window starts before the data: its months stay
        history = months_between(months[0], months[-1])
    monthly = _raw_totals(st, history, "month", use_facts, use_summaries, source=source)
    if by == "month":
        published = publish_totals(st, monthly, min_count, use_summaries)
    else:
        daily = _raw_totals(st, history, "day", use_facts, use_summaries, source=source)
        published = publish_days(daily.drop("source"), monthly.drop("source"), min_count, DISTINCT)
        published = published.join(daily.select("period", "source"), on="period", how="left")
    asked = pl.col("period").str.slice(0, 7).is_in(pl.Series(months, dtype=pl.String).implode())
    columns = ["period", *TOTALS, "source", *(f"{c}_suppressed" for c in TOTALS)]
    return published.filter(asked).select(columns)


DISTINCT = ("unique_visitors", "active_accounts")
"""Totals that are distinct counts, not sums over months (see :mod:`lab.usage.disclosure`)."""


def _raw_totals(
    st: EventStore,
    months: list[str],
    by: str,
    use_facts: bool,
    use_summaries: bool | None,
    start: str | None = None,
    end: str | None = None,
    source: str | None = None,
) -> pl.DataFrame:
    """The unprotected totals of ``months`` per month or day, with their ``source`` (see
    :func:`portal_totals`)."""
    tz = st.timezone
    first, last = (months[0], months[-1]) if months else (start, end)
    if by == "month" and _has_summaries(st, use_summaries):
        agg = _totals_from_rollup(st, _rollups(st, first, last, use_summaries))
    else:
        agg = _totals_from_events(_window(st.scan(), first, last).filter("counted"), by, tz)
    calendar = pl.DataFrame(
        {"month": [date(int(m[:4]), int(m[5:]), 1) for m in months]}, schema={"month": pl.Date}
    )
    if by == "day":
        calendar = (
            calendar.select(pl.date_ranges(pl.col("month"), pl.col("month").dt.month_end()).alias("day"))
            .explode("day")
            .with_columns(month=pl.col("day").dt.truncate("1mo"))
        )
        agg = agg.drop("year", "month").with_columns(month=pl.col("day").dt.truncate("1mo"))
        table = calendar.join(agg.drop("month"), on="day", how="left")
    else:
        agg = agg.with_columns(month=pl.date(pl.col("year"), pl.col("month"), 1)).drop("year")
        table = calendar.join(agg, on="month", how="left")
    events_only = source in (None, EVENTS)
    table = table.with_columns(
        pl.when(_covered(st, NEEDS[c]) & pl.lit(events_only))
        .then(pl.col(c).fill_null(0))
        .otherwise(None)
        .alias(c)
        for c in TOTALS
    ).with_columns(pl.when(pl.col(c).is_not_null()).then(pl.lit(EVENTS)).alias(f"_src_{c}") for c in TOTALS)
    if use_facts and by == "month" and source != EVENTS:
        table = _fill_from_facts(st, table, source)
    period = pl.col("day").dt.strftime("%Y-%m-%d") if by == "day" else pl.col("month").dt.strftime("%Y-%m")
    origin = pl.concat_list([f"_src_{c}" for c in TOTALS]).list.drop_nulls().list.unique().list.sort()
    return table.select(
        period.alias("period"),
        *TOTALS,
        source=pl.when(origin.list.len() > 0).then(origin.list.join("+")).otherwise(pl.lit(source or EVENTS)),
    ).sort("period")


def _distinct_keys(store: EventStore, kind: str, use: bool | None) -> pl.DataFrame:
    """``period`` (``YYYY-MM``), ``key``: the visitors (``kind`` visitor) or accounts counted each month."""
    if kind == "account":
        lf = _account_keys(store, None, None, use)
    elif _has_summaries(store, use):
        lf = store.scan_summary_keys("visitor")
    else:
        lf = (
            store.scan()
            .filter(pl.col("counted") & (pl.col("channel") == "web") & pl.col("visitor_key").is_not_null())
            .select("year", "month", key=pl.col("visitor_key"))
        )
    period = pl.format("{}-{}", pl.col("year"), pl.col("month").cast(pl.String).str.zfill(2))
    return _collect(lf.select(period.alias("period"), "key"))


def publish_totals(
    store: EventStore | str | Path | None,
    totals: pl.DataFrame,
    min_count: int,
    use_summaries: bool | None = None,
) -> pl.DataFrame:
    """Monthly totals (every month from the first, unprotected) published by the safe-period rule of
    :mod:`lab.usage.disclosure`: a month is shown when it is a safe period by itself; distinct counts
    form their periods on the distinct visitors or accounts of the merged months."""
    st = as_store(store)
    counts = {}
    for column, kind in (("unique_visitors", "visitor"), ("active_accounts", "account")):
        small = totals.filter((pl.col(column) > 0) & (pl.col(column) < min_count))
        if small.height:  # keys are read only when some month is small
            counts[column] = distinct_count(_distinct_keys(st, kind, use_summaries), "period", column)
    return protect(totals, TOTALS, min_count, counts=counts)


def _check_source(store: EventStore, source: str | None) -> None:
    """A ``source`` is ``events`` or an import format."""
    if source is None or source == EVENTS:
        return
    from lab.usage.adapters import ADAPTERS

    imports = [f for f, info in ADAPTERS.items() if info.kind == "facts"]
    if source not in imports:
        raise KpiError(f"--source must be {EVENTS} or one of {', '.join(imports)}, not {source!r}")


def _pick_source(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """One row per ``keys``: the source first in :data:`SOURCE_PRIORITY` (then by name)."""
    rank = pl.col("source").replace_strict(
        {s: i for i, s in enumerate(SOURCE_PRIORITY)}, default=len(SOURCE_PRIORITY), return_dtype=pl.Int64
    )
    return frame.sort(rank, "source").unique(keys, keep="first", maintain_order=True)


def _fill_from_facts(store: EventStore, table: pl.DataFrame, source: str | None = None) -> pl.DataFrame:
    """Fill null totals from imported facts of the same month: a site-wide fact, else (dataset views
    and downloads) the sum of the per-dataset facts of one import; ``_src_<total>`` says which."""
    names = {alias: total for total, aliases in SITE_FACTS.items() for alias in aliases}
    per_dataset = {alias: total for total, aliases in DATASET_FACTS.items() for alias in aliases}
    facts = store.scan_facts()
    if source is not None:
        facts = facts.filter(pl.col("source") == source)
    site, datasets = pl.collect_all(
        [
            facts.filter(pl.col("dataset_id").is_null() & pl.col("metric").is_in(list(names)))
            .with_columns(total=pl.col("metric").replace_strict(names, return_dtype=pl.String))
            .group_by("month", "total", "source")
            .agg(pl.col("value").max()),
            facts.filter(pl.col("dataset_id").is_not_null() & pl.col("metric").is_in(list(per_dataset)))
            .with_columns(total=pl.col("metric").replace_strict(per_dataset, return_dtype=pl.String))
            .group_by("month", "total", "source")
            .agg(pl.col("value").sum()),
        ],
        engine=ENGINE,
    )
    both = pl.concat(
        [site.with_columns(_level=pl.lit(0)), datasets.with_columns(_level=pl.lit(1))], how="vertical_relaxed"
    )
    if both.is_empty():
        return table
    best = _pick_source(both.sort("_level"), ["month", "total"])
    fill = sorted(set(best.get_column("total").to_list()) & set(TOTALS))
    for c in fill:
        one = best.filter(pl.col("total") == c).select(
            "month", pl.col("value").cast(pl.Int64).alias(f"_fact_{c}"), pl.col("source").alias(f"_fsrc_{c}")
        )
        table = table.join(one, on="month", how="left", maintain_order="left").with_columns(
            pl.when(pl.col(c).is_null())
            .then(pl.col(f"_fsrc_{c}"))
            .otherwise(pl.col(f"_src_{c}"))
            .alias(f"_src_{c}"),
            pl.coalesce(c, f"_fact_{c}").alias(c),
        )
        table = table.drop(f"_fact_{c}", f"_fsrc_{c}")
    return table


# ---------------------------------------------------------------------------- counted rows
def _counted_rows(store: EventStore, start: str | None, end: str | None, use: bool | None) -> pl.LazyFrame:
    """Counted events as ``year, month, channel, event, dataset_id, app_id, n``: one row per
    (part, channel, event, dataset, app) with its count from the summaries, or one row per event
    (``n`` = 1) from the events. Only for distinct datasets per application over a whole window (no
    month rollup tells them); every other KPI reads the rollups (:func:`_rollups`)."""
    cols = ["year", "month", "channel", "event", "dataset_id", "app_id"]
    if _has_summaries(store, use):
        sums = store.scan_summaries()
        assert sums is not None
        return _window(sums, start, end).filter(pl.col("kind") == "count").select(*cols, "n")
    return _window(store.scan(), start, end).filter("counted").select(*cols, n=pl.lit(1, dtype=pl.Int64))


def _account_keys(store: EventStore, start: str | None, end: str | None, use: bool | None) -> pl.LazyFrame:
    """``year, month, key``: the accounts active (a counted API call or login) in each part."""
    if _has_summaries(store, use):
        return _window(store.scan_summary_keys("account"), start, end)
    return (
        _window(store.scan(), start, end)
        .filter(
            pl.col("counted")
            & pl.col("event").is_in(["api_call", "login"])
            & pl.col("account_key").is_not_null()
        )
        .select("year", "month", key=pl.col("account_key"))
    )


# ------------------------------------------------------------------------------------ fact table
def monthly_facts(
    store: EventStore | str | Path | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    imported: bool = True,
    use_summaries: bool | None = None,
) -> pl.DataFrame:
    """The monthly fact table: dataset × month × metric, missing months filled with 0.

    Parameters
    ----------
    store, start, end, min_count, use_summaries
        As for :func:`portal_totals`.
    imported
        Also include imported platform facts (data.gouv.fr, Socrata, GA4), with their ``source``.

    Returns
    -------
    polars.DataFrame
        ``month`` (date), ``dataset_id``, ``metric`` (:data:`DATASET_METRICS` for events), ``value``
        (0 for a covered month without events; null where no input covers the month, or suppressed),
        ``value_suppressed``, ``source`` (``events`` or the import format), ``partial``; in the order
        source, metric, dataset, month. Every dataset seen in the window gets every month of the window.
    """
    st = as_store(store)
    protecting = min_count > 1  # the safe-period rule over each series' whole history, then the window
    months = _period_months(st, None if protecting else start, end)
    first, last = (months[0], months[-1]) if months else (None if protecting else start, end)
    counts = (
        _rollups(st, first, last, use_summaries)["datasets"]
        .with_columns(month=pl.date(pl.col("year"), pl.col("month"), 1))
        .drop("year")
    )
    coverage = st.coverage()
    covered = {
        m: coverage.filter(pl.col("family").is_in(list(fams))).get_column("month").unique().to_list()
        for m, fams in METRIC_FAMILIES.items()
    }
    dates = [date(int(m[:4]), int(m[5:]), 1) for m in months]
    # each dataset's series apart: one call in one process, a task per range of datasets on a cluster;
    # the pieces' rows are put back in (metric, dataset, month) order
    pieces = st.map_series(event_facts, counts, "dataset_id", dates, covered, min_count)
    table = pl.concat([p.filter(pl.col("metric") == m) for m in DATASET_METRICS for p in pieces])
    if imported:
        extra = _imported_filled(st, None if protecting else start, end).sort(
            "source", "metric", "dataset_id", "month", nulls_last=True
        )
        table = pl.concat([table, _publish_facts(extra, min_count)], how="vertical_relaxed")
    lo = _ym(start, "--from")
    if not protecting or lo is None:
        return table
    return table.filter(pl.col("month") >= date(lo // 100, lo % 100, 1))


def event_facts(
    counts: pl.DataFrame, months: list[date], covered: dict[str, list[date]], min_count: int
) -> pl.DataFrame:
    """The events' rows of the fact table (:func:`monthly_facts`) for the datasets of ``counts``.

    Parameters
    ----------
    counts
        The month rollup's ``datasets`` frame (``month`` as a date) of some datasets.
    months
        Every month of the table, in order.
    covered
        Per metric of :data:`DATASET_METRICS`, the months an input covers (others are null).
    min_count
        As for :func:`monthly_facts`.

    Returns
    -------
    polars.DataFrame
        Every dataset × month × metric, in (metric, dataset, month) order, published. Each series
        (dataset and metric) is published on its own, so any cut of the datasets gives the same rows.
    """
    # datasets (sorted) × months (in order), then the counts: rows come out in (dataset, month) order,
    # and the unpivot in (metric, dataset, month) order, with no sort of the large table
    wide = (
        counts.select(pl.col("dataset_id").unique().sort())
        .join(pl.DataFrame({"month": months}, schema={"month": pl.Date}), how="cross")
        .join(counts, on=["month", "dataset_id"], how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("month").is_in(pl.Series(covered[m], dtype=pl.Date).implode()))
            .then(pl.col(m).cast(pl.Int64).fill_null(0))
            .alias(m)
            for m in DATASET_METRICS
        )
    )
    table = wide.unpivot(
        index=["month", "dataset_id"], on=list(DATASET_METRICS), variable_name="metric", value_name="value"
    ).with_columns(source=pl.lit("events"), partial=pl.lit(False))
    return _publish_facts(table, min_count)


def _publish_facts(table: pl.DataFrame, min_count: int) -> pl.DataFrame:
    """Fact rows published: by the safe-period rule over each series (source, metric, dataset) when
    ``min_count`` is above 1, else every cell as it is (with its ``value_suppressed`` flag)."""
    if min_count <= 1:
        return suppress(table, ["value"], min_count)
    return protect(
        suppress(table, ["value"], 0),
        ["value"],
        min_count,
        order="month",
        by=["source", "metric", "dataset_id"],
    )


def _imported_filled(store: EventStore, start: str | None, end: str | None) -> pl.DataFrame:
    """Imported facts, each series (source, dataset, metric) filled with 0 over its own months."""
    facts = store.scan_facts()
    lo, hi = _ym(start, "--from"), _ym(end, "--to")
    ym = pl.col("month").dt.year() * 100 + pl.col("month").dt.month()
    if lo is not None:
        facts = facts.filter(ym >= lo)
    if hi is not None:
        facts = facts.filter(ym <= hi)
    facts = _collect(
        facts.group_by("month", "source", "dataset_id", "metric").agg(
            pl.col("value").sum(), pl.col("partial").any()
        )
    )
    if facts.is_empty():
        return pl.DataFrame(
            schema={
                "month": pl.Date,
                "dataset_id": pl.String,
                "metric": pl.String,
                "value": pl.Int64,
                "source": pl.String,
                "partial": pl.Boolean,
            }
        )
    span = facts.group_by("source").agg(lo=pl.col("month").min(), hi=pl.col("month").max())
    series = facts.select("source", "dataset_id", "metric").unique()
    grid = (
        span.select("source", month=pl.date_ranges("lo", "hi", interval="1mo"))
        .explode("month")
        .join(series, on="source", how="inner", nulls_equal=True)
    )
    return grid.join(
        facts, on=["month", "source", "dataset_id", "metric"], how="left", nulls_equal=True
    ).select(
        "month",
        "dataset_id",
        "metric",
        value=pl.col("value").fill_null(0),
        source="source",
        partial=pl.col("partial").fill_null(False),
    )


# ---------------------------------------------------------------------------------- other KPIs
def channel_mix(
    store: EventStore | str | Path | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    by: str = "year",
    min_count: int = DEFAULT_MIN_COUNT,
    use_summaries: bool | None = None,
) -> pl.DataFrame:
    """Requests per channel per year (or month), and each channel's share of the period.

    Requests are counted events other than sign-ups and logins: web page views and downloads, API
    calls, Zalo/SMS/app requests.

    Returns
    -------
    polars.DataFrame
        ``period``, ``channel``, ``requests``, ``share`` (percent of the period's requests; null
        where ``requests`` is suppressed), ``requests_suppressed``.
    """
    if by not in ("year", "month"):
        raise KpiError(f"by must be year or month, not {by!r}")
    st = as_store(store)
    if min_count > 1:
        return _published_mix(st, start, end, by, min_count, use_summaries)
    keys = ["year"] if by == "year" else ["year", "month"]
    counts = (
        _rollups(st, start, end, use_summaries)["channels"]
        .group_by(*keys, "channel")
        .agg(pl.col("requests").sum().cast(pl.Int64))
    )
    period = (
        pl.col("year").cast(pl.String)
        if by == "year"
        else pl.format("{}-{}", pl.col("year"), pl.col("month").cast(pl.String).str.zfill(2))
    )
    table = counts.select(
        period.alias("period"),
        pl.col("channel").cast(pl.String),
        "requests",
        share=(100 * pl.col("requests") / pl.col("requests").sum().over(keys)).round(2),
    ).sort("period", "channel")
    table = suppress(table, ["requests"], min_count)
    return table.with_columns(
        share=pl.when(pl.col("requests_suppressed")).then(None).otherwise(pl.col("share"))
    )


def _ym_text() -> pl.Expr:
    return pl.format("{}-{}", pl.col("year"), pl.col("month").cast(pl.String).str.zfill(2))


def monthly_series(
    store: EventStore | str | Path | None,
    by: str,
    *,
    end: str | None = None,
    event: str | None = None,
    channel: str | None = None,
    use_summaries: bool | None = None,
) -> pl.DataFrame:
    """Counted requests per month and ``by`` from the first month of the data to ``end``, unprotected:
    ``period`` (``YYYY-MM``), ``by``, ``requests``. The input of :mod:`lab.usage.disclosure`, whose
    periods are formed over the whole series. The series the KPIs publish (read from the month rollups):

    * ``by="channel"``: every request (no sign-up or login) per channel;
    * ``by="app_id", event="api_call"``: API calls per application;
    * ``by="dataset_id"`` with ``event="dataset_view", channel="web"``, ``event="download",
      channel="web"`` or ``event="api_call"``: a dataset's views, downloads or API calls (events that
      name no dataset are left out).
    """
    st = as_store(store)
    r = _rollups(st, None, end, use_summaries)
    per_dataset = {("dataset_view", "web"): "dataset_views", ("download", "web"): "downloads"}
    per_dataset[("api_call", None)] = "api_calls"
    if by == "channel" and event is None and channel is None:
        frame = r["channels"]
    elif by == "app_id" and event == "api_call" and channel is None:
        frame = r["apps"].rename({"api_calls": "requests"})
    elif by == "dataset_id" and (event, channel) in per_dataset:
        return _dataset_series(r["datasets"], per_dataset[(event, channel)])
    else:
        raise KpiError(f"no monthly series of {by} for event {event} and channel {channel}")
    return frame.select(_ym_text().alias("period"), pl.col(by).cast(pl.String), "requests").sort(by, "period")


def _dataset_series(datasets: pl.DataFrame, metric: str) -> pl.DataFrame:
    """The monthly series of one metric per dataset from the rollup's ``datasets`` frame (months with
    none left out): ``period``, ``dataset_id``, ``requests``."""
    return (
        datasets.filter(pl.col(metric) > 0)
        .select(
            _ym_text().alias("period"), pl.col("dataset_id").cast(pl.String), pl.col(metric).alias("requests")
        )
        .sort("dataset_id", "period")
    )


def dataset_sums(
    datasets: pl.DataFrame, metric: str, start: str | None, end: str | None, min_count: int
) -> pl.DataFrame:
    """Each dataset's published ``metric`` over the window by the safe-period rule (the sum of its safe
    periods wholly inside; a dataset whose sum is 0 or hidden is left out): ``dataset_id, <metric>,
    source``. ``datasets`` is the month rollup's frame from the first month of the data, any set of
    datasets (each dataset's series stands alone)."""
    sums = window_sums(
        _dataset_series(datasets, metric), "requests", start, end, min_count, by=["dataset_id"]
    )
    return sums.filter(pl.col("requests") > 0).select(
        "dataset_id", pl.col("requests").cast(pl.Int64).alias(metric), source=pl.lit(EVENTS)
    )


def quarter_of_month(month: pl.Expr) -> pl.Expr:
    """``YYYY-Qn`` of a ``YYYY-MM`` text column."""
    q = (month.str.slice(5, 2).cast(pl.Int64) - 1) // 3 + 1
    return month.str.slice(0, 4) + "-Q" + q.cast(pl.String)


def _buckets(by: str | None) -> Any:
    return {"year": lambda e: e.str.slice(0, 4), "month": lambda e: e, None: None}[by]


def _published_mix(
    st: EventStore, start: str | None, end: str | None, by: str, min_count: int, use: bool | None
) -> pl.DataFrame:
    """:func:`channel_mix` by the safe-period rule: each channel's requests over the year (or month)
    are the sum of its safe periods wholly inside it, the shares ratios of those published sums."""
    _window(pl.LazyFrame({"year": [0], "month": [0]}), start, end)  # checks the months
    series = monthly_series(st, "channel", end=end, use_summaries=use)
    sums = window_sums(series, "requests", start, end, min_count, by=["channel"], bucket=_buckets(by))
    hidden = pl.col("requests_suppressed") & (pl.col("requests").fill_null(0) == 0)
    table = sums.select(
        pl.col("bucket").alias("period"),
        "channel",
        pl.when(hidden).then(None).otherwise(pl.col("requests")).alias("requests"),
        "requests_suppressed",
        "months_left_out",
    )
    share = (100 * pl.col("requests") / pl.col("requests").sum().over("period")).round(2)
    return table.select(
        "period", "channel", "requests", share.alias("share"), "requests_suppressed", "months_left_out"
    ).sort("period", "channel")


def top_datasets(
    store: EventStore | str | Path | None = None,
    *,
    metric: str = "dataset_views",
    n: int = 10,
    start: str | None = None,
    end: str | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    use_summaries: bool | None = None,
    source: str | None = None,
) -> pl.DataFrame:
    """The ``n`` datasets with the most ``metric`` (dataset_views, downloads or api_calls) in the window.

    Parameters
    ----------
    store, start, end, min_count, use_summaries
        As for :func:`portal_totals` (no window: all time).
    metric
        ``dataset_views``, ``downloads`` or ``api_calls``.
    n
        How many datasets.
    source
        Only this source (``events`` or an import format); default: the events for the months they
        cover, imported per-dataset facts (:data:`DATASET_FACTS`) for the other months.

    Returns
    -------
    polars.DataFrame
        ``rank``, ``dataset_id``, ``<metric>``, ``<metric>_suppressed``, ``source`` (``events``, the
        import format, or both joined by ``+``); ties ordered by dataset id.
    """
    if metric not in TOP_METRICS:
        raise KpiError(f"--metric must be one of {', '.join(TOP_METRICS)}, not {metric!r}")
    if n < 1:
        raise KpiError("--n must be at least 1")
    st = as_store(store)
    _check_source(st, source)
    parts = []
    if source in (None, EVENTS) and min_count > 1:
        # the safe-period rule: each dataset's sum of whole periods inside the window; a dataset whose
        # sum is suppressed is left out (never added to imported figures, which would reveal it)
        _window(pl.LazyFrame({"year": [0], "month": [0]}), start, end)
        datasets = _rollups(st, None, end, use_summaries)["datasets"]
        # each dataset's series apart: one call in one process, a task per range of datasets on a cluster
        parts.append(
            pl.concat(st.map_series(dataset_sums, datasets, "dataset_id", metric, start, end, min_count))
        )
    elif source in (None, EVENTS):
        parts.append(
            _rollups(st, start, end, use_summaries)["datasets"]
            .filter(pl.col(metric) > 0)
            .group_by("dataset_id")
            .agg(pl.col(metric).sum().cast(pl.Int64))
            .with_columns(source=pl.lit(EVENTS))
        )
    if source != EVENTS and metric in DATASET_FACTS:
        parts.append(_dataset_facts(st, metric, start, end, source))
    if not parts:  # an import that tells no API calls
        parts.append(pl.DataFrame(schema={"dataset_id": pl.String, metric: pl.Int64, "source": pl.String}))
    counts = (
        pl.concat(parts, how="vertical_relaxed")
        .group_by("dataset_id")
        .agg(pl.col(metric).sum().cast(pl.Int64), source=pl.col("source").unique().sort().str.join("+"))
    )
    top = counts.sort([metric, "dataset_id"], descending=[True, False]).head(n)
    top = top.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))
    return suppress(top.select("rank", "dataset_id", metric, "source"), [metric], min_count).select(
        "rank", "dataset_id", metric, f"{metric}_suppressed", "source"
    )


def _dataset_facts(
    store: EventStore, metric: str, start: str | None, end: str | None, source: str | None
) -> pl.DataFrame:
    """Imported per-dataset ``metric`` summed over the window: ``dataset_id, <metric>, source``; with
    ``source`` None, only the months the events cannot tell (no web input covers them), one import per
    dataset-month."""
    facts = store.scan_facts().filter(
        pl.col("dataset_id").is_not_null() & pl.col("metric").is_in(list(DATASET_FACTS[metric]))
    )
    lo, hi = _ym(start, "--from"), _ym(end, "--to")
    ym = pl.col("month").dt.year() * 100 + pl.col("month").dt.month()
    if lo is not None:
        facts = facts.filter(ym >= lo)
    if hi is not None:
        facts = facts.filter(ym <= hi)
    if source is not None:
        facts = facts.filter(pl.col("source") == source)
    else:
        facts = facts.filter(~_covered(store, METRIC_FAMILIES[metric]))
    per_month = _collect(facts.group_by("dataset_id", "month", "source").agg(pl.col("value").sum()))
    chosen = _pick_source(per_month, ["dataset_id", "month"])
    return chosen.group_by("dataset_id").agg(
        pl.col("value").sum().cast(pl.Int64).alias(metric),
        source=pl.col("source").unique().sort().str.join("+"),
    )


def api_calls_per_app(
    store: EventStore | str | Path | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    by: str | None = "year",
    min_count: int = DEFAULT_MIN_COUNT,
    use_summaries: bool | None = None,
) -> pl.DataFrame:
    """Answered API calls per application (consumer key) per year, month, or over the whole window.

    Returns
    -------
    polars.DataFrame
        ``period`` (``all`` when ``by`` is None), ``app_id``, ``api_calls``, ``datasets`` (distinct
        datasets called), with suppression flags; most calls first within a period.
    """
    if by not in ("year", "month", None):
        raise KpiError(f"by must be year, month or None, not {by!r}")
    st = as_store(store)
    if min_count > 1:
        return _published_apps(st, start, end, by, min_count, use_summaries)
    counts = _app_counts(st, start, end, by, use_summaries)
    period = {
        "year": pl.col("year").cast(pl.String),
        "month": pl.format("{}-{}", pl.col("year"), pl.col("month").cast(pl.String).str.zfill(2)),
        None: pl.lit("all"),
    }[by]
    table = counts.select(period.alias("period"), "app_id", "api_calls", "datasets").sort(
        ["period", "api_calls", "app_id"], descending=[False, True, False], nulls_last=True
    )
    return suppress(table, ["api_calls", "datasets"], min_count)


def _app_counts(
    st: EventStore, start: str | None, end: str | None, by: str | None, use: bool | None
) -> pl.DataFrame:
    """API calls and distinct datasets called per application and year (``year, app_id, api_calls,
    datasets``), month (``year, month, …``) or over the whole window (``app_id, …``)."""
    if by is None:  # distinct over the whole window: no month rollup tells it
        rows = _counted_rows(st, start, end, use).filter(pl.col("event") == "api_call")
        return _collect(
            rows.group_by("app_id").agg(
                api_calls=pl.col("n").sum().cast(pl.Int64),
                datasets=pl.col("dataset_id").drop_nulls().n_unique().cast(pl.Int64),
            )
        )
    r = _rollups(st, start, end, use)
    if by == "month":
        return r["apps"]
    calls = r["apps"].group_by("year", "app_id").agg(pl.col("api_calls").sum())
    return calls.join(r["app_years"], on=["year", "app_id"], how="left", nulls_equal=True)


def _published_apps(
    st: EventStore, start: str | None, end: str | None, by: str | None, min_count: int, use: bool | None
) -> pl.DataFrame:
    """:func:`api_calls_per_app` by the safe-period rule, and the residual rule against the published
    API calls of the period (what the applications shown leave of it is 0 or at least ``min_count``)."""
    _window(pl.LazyFrame({"year": [0], "month": [0]}), start, end)
    series = monthly_series(st, "app_id", end=end, event="api_call", use_summaries=use)
    bucket = _buckets(by) or (lambda e: pl.lit("all"))
    sums = window_sums(
        series.with_columns(pl.col("app_id").fill_null("")),
        "requests",
        start,
        end,
        min_count,
        by=["app_id"],
        bucket=bucket,
    )
    total = window_sums(
        series.group_by("period").agg(pl.col("requests").sum()),
        "requests",
        start,
        end,
        min_count,
        bucket=bucket,
    )
    wholes = dict(total.select("bucket", "requests").iter_rows())
    period = {"year": pl.col("year").cast(pl.String), "month": _ym_text(), None: pl.lit("all")}[by]
    datasets = _app_counts(st, start, end, by, use).select(
        period.alias("bucket"), pl.col("app_id").fill_null(""), "datasets"
    )
    parts = []
    for (name,), frame in sums.with_columns(
        pl.when(pl.col("requests") == 0).then(None).otherwise(pl.col("requests")).alias("requests")
    ).group_by("bucket", maintain_order=True):  # one table per year (or month)
        parts.append(residual_rule(frame, "requests", wholes.get(name), min_count, key="app_id"))
    if not parts:
        return suppress(
            pl.DataFrame(
                schema={"period": pl.String, "app_id": pl.String, "api_calls": pl.Int64, "datasets": pl.Int64}
            ),
            ["api_calls", "datasets"],
            min_count,
        )
    table = (
        pl.concat(parts)
        .join(datasets, on=["bucket", "app_id"], how="left")
        .filter(pl.col("requests").is_not_null() | pl.col("requests_suppressed"))
        .select(
            pl.col("bucket").alias("period"),
            pl.when(pl.col("app_id") == "").then(None).otherwise(pl.col("app_id")).alias("app_id"),
            pl.col("requests").alias("api_calls"),
            pl.when(pl.col("requests").is_null()).then(None).otherwise(pl.col("datasets")).alias("datasets"),
            pl.col("requests_suppressed").alias("api_calls_suppressed"),
            pl.col("requests").is_null().alias("datasets_suppressed"),
        )
    )
    return table.sort(["period", "api_calls", "app_id"], descending=[False, True, False], nulls_last=True)


def accounts_per_quarter(
    store: EventStore | str | Path | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    use_summaries: bool | None = None,
) -> pl.DataFrame:
    """Accounts signed up and accounts active (an API call or a login) per quarter.

    Returns
    -------
    polars.DataFrame
        ``quarter`` (``YYYY-Qn``), ``signups``, ``active_accounts``, suppression flags.
    """
    st = as_store(store)
    if min_count > 1:
        return _published_accounts(st, start, end, min_count, use_summaries)
    quarter = pl.format("{}-Q{}", pl.col("year"), (pl.col("month") - 1) // 3 + 1).alias("quarter")
    signups = (
        _rollups(st, start, end, use_summaries)["counts"]
        .filter(pl.col("signups") > 0)
        .group_by(quarter)
        .agg(pl.col("signups").sum().cast(pl.Int64))
    )
    active = _collect(
        _account_keys(st, start, end, use_summaries)
        .group_by(quarter)
        .agg(active_accounts=pl.col("key").n_unique().cast(pl.Int64))
    )
    counts = (
        signups.join(active, on="quarter", how="full", coalesce=True)
        .with_columns(pl.col("signups", "active_accounts").fill_null(0))
        .sort("quarter")
    )
    return suppress(counts, ["signups", "active_accounts"], min_count)


def _published_accounts(
    st: EventStore, start: str | None, end: str | None, min_count: int, use: bool | None
) -> pl.DataFrame:
    """:func:`accounts_per_quarter` by the safe-period rule: sign-ups per quarter are the sum of their
    safe periods wholly inside it; active accounts, a distinct count, are published per month only
    (:mod:`lab.usage.disclosure`), so the quarter's is null, flagged."""
    _window(pl.LazyFrame({"year": [0], "month": [0]}), start, end)
    signups = (
        _rollups(st, None, end, use)["counts"]
        .filter(pl.col("signups") > 0)
        .select(_ym_text().alias("period"), pl.col("signups").cast(pl.Int64))
    )
    every = pl.DataFrame({"period": _period_months(st, None, end)}, schema={"period": pl.String})
    signups = every.join(signups, on="period", how="full", coalesce=True).with_columns(
        pl.col("signups").fill_null(0)
    )
    sums = window_sums(signups, "signups", start, end, min_count, bucket=quarter_of_month)
    hidden = pl.col("signups_suppressed") & (pl.col("signups").fill_null(0) == 0)
    return sums.select(
        pl.col("bucket").alias("quarter"),
        pl.when(hidden).then(None).otherwise(pl.col("signups").fill_null(0)).alias("signups"),
        active_accounts=pl.lit(None, pl.Int64),
        signups_suppressed="signups_suppressed",
        active_accounts_suppressed=pl.lit(True),
    ).sort("quarter")


def growth(
    frame: pl.DataFrame, columns: Sequence[str] | None = None, *, period: str = "period"
) -> pl.DataFrame:
    """Month-over-month and year-over-year growth of monthly totals (in percent).

    Parameters
    ----------
    frame
        One row per consecutive month (as :func:`portal_totals` returns).
    columns
        The totals to compute growth for (default all of :data:`TOTALS` present).

    Returns
    -------
    polars.DataFrame
        ``frame`` with ``<column>_mom`` and ``<column>_yoy`` (Float64, percent, one decimal; null
        where the earlier value is missing, suppressed or zero).

    Examples
    --------
    >>> f = pl.DataFrame({"period": ["2024-01", "2024-02"], "visits": [100, 150]})
    >>> growth(f, ["visits"])["visits_mom"].to_list()
    [None, 50.0]
    """
    columns = [c for c in (columns or TOTALS) if c in frame.columns]
    ordered = frame.sort(period)

    def pct(col: str, lag: int) -> pl.Expr:
        before = pl.col(col).shift(lag)
        return (
            pl.when(before.is_not_null() & (before != 0))
            .then((100 * (pl.col(col) / before - 1)).round(1))
            .otherwise(None)
            .cast(pl.Float64)
        )

    return ordered.with_columns(
        *[pct(c, 1).alias(f"{c}_mom") for c in columns], *[pct(c, 12).alias(f"{c}_yoy") for c in columns]
    )


def kpi_suite(
    store: EventStore | str | Path | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    n: int = 10,
    use_summaries: bool | None = None,
) -> dict[str, pl.DataFrame]:
    """Every KPI of the store at once (what a monthly report shows).

    Returns
    -------
    dict
        ``totals`` (with growth), ``facts``, ``channel_mix``, ``top_dataset_views``, ``top_downloads``,
        ``top_api_calls``, ``api_per_app``, ``accounts``.
    """
    st = as_store(store)
    kw = {"start": start, "end": end, "min_count": min_count, "use_summaries": use_summaries}
    return {
        "totals": growth(portal_totals(st, **kw)),
        "facts": monthly_facts(st, **kw),
        "channel_mix": channel_mix(st, **kw),
        **{f"top_{m}": top_datasets(st, metric=m, n=n, **kw) for m in TOP_METRICS},
        "api_per_app": api_calls_per_app(st, **kw),
        "accounts": accounts_per_quarter(st, **kw),
    }
