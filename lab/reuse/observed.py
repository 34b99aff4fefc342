"""Observed versus declared reuse: what the usage store shows being reused, joined with the registry.

Portals count a reuse only when someone declares it. The usage store sees two kinds of programmatic use
that no one had to declare:

* **applications**: API calls carry the application's consumer key (``app_id``). Every counted API call
  (:mod:`lab.usage.rules`: answered with data, not the HTML page of an expired account) is use of its
  dataset by that application. A key is an application, not a person.
* **scheduled downloads**: a non-browser agent (``agent_class`` ``bot``: scripts such as
  ``python-requests``, ``curl``, ``Wget`` are on the COUNTER robots list, so are crawlers) downloading a
  dataset on at least ``min_download_days`` distinct days of a month is a *sustained programmatic
  download* of that dataset that month. Only counts per dataset and month are kept: the agents' keyed
  hashes never leave this module (agents are classes, not addresses).

Each (application, dataset) pair is ``declared`` when a registered reuse names that key
(``api_consumer``) and that dataset, else ``observed only``. Each dataset is then one of:

==============================  ================================================================
status                          meaning
==============================  ================================================================
``declared``                    declared by a reuse, and observed (API calls or scheduled downloads)
``observed only``               observed, declared by no reuse: a candidate reuse to follow up
``declared but never observed`` declared, but no application calls it and no agent downloads it on
                                a schedule (a web-only product, a retired one, or a stale record)
``neither``                     neither declared nor observed
==============================  ================================================================

The city's target "≥ 50 datasets reused in products" is counted both ways (:func:`target_both_ways`):
datasets with a declared reuse, and datasets declared *or* observed, month by month, with a linear
projection of the month each line reaches the target (:func:`lab.reuse.targets.fit_trend`).
:func:`follow_up` is the officer's list: every observed-only pair (which application, which dataset,
since when, how much) and every dataset downloaded on a schedule without a declared reuse; no personal
data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from lab.errors import LabError

log = logging.getLogger(__name__)

__all__ = [
    "DATASET_STATUSES",
    "ObservedReuse",
    "ObservedRules",
    "api_use",
    "follow_up",
    "observed_reuse",
    "scheduled_downloads",
    "target_both_ways",
]

DATASET_STATUSES = ("declared", "observed only", "declared but never observed", "neither")
"""Each dataset's status, in this order."""


class ObservedReuseError(LabError):
    """The usage store or the registry cannot be joined (no store, nothing in the window)."""


@dataclass(frozen=True)
class ObservedRules:
    """When use counts as observed.

    Attributes
    ----------
    min_api_calls
        Counted API calls of an application on a dataset in a month for that month to count (default 1:
        every answered call is use).
    min_months
        Months an (application, dataset) pair must count to be observed (default 1).
    min_download_days
        Distinct days of a month on which one non-browser agent downloads a dataset for a scheduled
        download (default 4: about weekly).
    """

    min_api_calls: int = 1
    min_months: int = 1
    min_download_days: int = 4


def _month(expr: pl.Expr) -> pl.Expr:
    return pl.format("{}-{}", expr.dt.year(), expr.dt.month().cast(pl.String).str.zfill(2))


def _store(store: Any) -> Any:
    from lab.usage.kpis import as_store

    st = as_store(store)
    if not st.exists():
        raise ObservedReuseError(
            "no usage store here: ingest the logs first (lab usage ingest)", file=st.path
        )
    return st


def _local_ts(store: Any) -> pl.Expr:
    return pl.col("ts").dt.convert_time_zone(store.timezone)


def api_use(store: Any, *, start: str | None = None, end: str | None = None) -> pl.DataFrame:
    """Counted API calls per application, dataset and month.

    Returns
    -------
    polars.DataFrame
        ``app_id``, ``dataset_id``, ``month`` (``YYYY-MM``, the store's time zone), ``api_calls``.
    """
    from lab.usage.kpis import _window

    st = _store(store)
    lf = _window(st.scan(), start, end).filter(
        pl.col("counted")
        & (pl.col("event") == "api_call")
        & pl.col("app_id").is_not_null()
        & pl.col("dataset_id").is_not_null()
    )
    return (
        lf.group_by("app_id", "dataset_id", month=_month(_local_ts(st)))
        .agg(api_calls=pl.len().cast(pl.Int64))
        .sort("app_id", "dataset_id", "month")
        .collect()
    )


def scheduled_downloads(
    store: Any, rules: ObservedRules = ObservedRules(), *, start: str | None = None, end: str | None = None
) -> pl.DataFrame:
    """Sustained programmatic downloads per dataset and month (no agent key is returned).

    Returns
    -------
    polars.DataFrame
        ``dataset_id``, ``month``, ``agents`` (non-browser agents that downloaded the dataset on at least
        ``rules.min_download_days`` days of the month), ``downloads`` (their answered downloads that month).
    """
    from lab.usage.kpis import _window

    st = _store(store)
    ts = _local_ts(st)
    per_agent = (
        _window(st.scan(), start, end)
        .filter(
            (pl.col("channel") == "web")
            & (pl.col("event") == "download")
            & (pl.col("agent_class") == "bot")
            & pl.col("status").is_between(200, 399)
            & pl.col("visitor_key").is_not_null()
            & pl.col("dataset_id").is_not_null()
        )
        .group_by("visitor_key", "dataset_id", month=_month(ts))
        .agg(days=ts.dt.date().n_unique(), downloads=pl.len().cast(pl.Int64))
        .filter(pl.col("days") >= rules.min_download_days)
    )
    return (
        per_agent.group_by("dataset_id", "month")
        .agg(agents=pl.len().cast(pl.Int64), downloads=pl.col("downloads").sum())
        .sort("dataset_id", "month")
        .collect()
    )


@dataclass(frozen=True)
class ObservedReuse:
    """The join of observed and declared reuse.

    Attributes
    ----------
    pairs
        One row per observed (application, dataset): ``app_id``, ``dataset_id``, ``reuse_ids`` (the
        registered reuses with this key; empty: an undeclared application), ``status`` (``declared`` or
        ``observed only``), ``first_month``, ``last_month``, ``months``, ``api_calls``.
    downloads
        :func:`scheduled_downloads`.
    datasets
        One row per dataset: ``dataset_id``, ``status`` (:data:`DATASET_STATUSES`), ``declared_reuses``,
        ``observed_apps``, ``undeclared_apps``, ``api_calls``, ``scheduled_download_months``,
        ``first_observed``, ``last_observed``.
    reuses
        One row per registered reuse with a consumer key: ``reuse_id``, ``api_consumer``, ``observed``
        (its key made counted calls), ``api_calls``, ``datasets_called``, ``first_month``,
        ``last_month``.
    """

    pairs: pl.DataFrame
    downloads: pl.DataFrame
    datasets: pl.DataFrame
    reuses: pl.DataFrame


def _registry_frame(registry: Any) -> pl.DataFrame:
    from lab.reuse.registry import Registry
    from lab.reuse.validation import valid_rows

    frame = registry.frame if isinstance(registry, Registry) else registry
    return valid_rows(frame).select("reuse_id", "datasets", "api_consumer", "launched")


# long: one lazy plan: applications, scheduled downloads and the registry joined per dataset and month
def observed_reuse(
    store: Any,
    registry: Any,
    *,
    datasets: Sequence[str] | None = None,
    rules: ObservedRules = ObservedRules(),
    start: str | None = None,
    end: str | None = None,
) -> ObservedReuse:
    """Observed use from ``store`` joined with the declared reuses of ``registry``.

    Parameters
    ----------
    store
        The usage store (an :class:`~lab.usage.store.EventStore` or its folder).
    registry
        A :class:`~lab.reuse.registry.Registry` (or its frame). Dataset ids are matched as the store
        writes them (the portal's ids).
    datasets
        Every dataset id of the portal, so that ``neither`` can be counted (default: those the store
        or the registry name).
    rules
        :class:`ObservedRules`.
    start, end
        ``YYYY-MM`` window of the usage read (default: all).
    """
    reg = _registry_frame(registry)
    links = reg.select("reuse_id", "api_consumer", dataset_id=pl.col("datasets")).explode("dataset_id")
    links = links.drop_nulls("dataset_id")
    calls = api_use(store, start=start, end=end).filter(pl.col("api_calls") >= rules.min_api_calls)
    pairs = (
        calls.group_by("app_id", "dataset_id")
        .agg(
            first_month=pl.col("month").min(),
            last_month=pl.col("month").max(),
            months=pl.len().cast(pl.Int64),
            api_calls=pl.col("api_calls").sum(),
        )
        .filter(pl.col("months") >= rules.min_months)
    )
    keyed = reg.filter(pl.col("api_consumer").is_not_null())
    by_key = keyed.group_by("api_consumer").agg(reuse_ids=pl.col("reuse_id").sort())
    declared_pairs = (
        links.filter(pl.col("api_consumer").is_not_null())
        .select("api_consumer", "dataset_id")
        .unique()
        .with_columns(_declared=pl.lit(True))
    )
    pairs = (
        pairs.join(by_key, left_on="app_id", right_on="api_consumer", how="left")
        .join(
            declared_pairs,
            left_on=["app_id", "dataset_id"],
            right_on=["api_consumer", "dataset_id"],
            how="left",
        )
        .with_columns(
            pl.col("reuse_ids").fill_null(pl.lit([], pl.List(pl.String))),
            status=pl.when(pl.col("_declared").fill_null(False))
            .then(pl.lit("declared"))
            .otherwise(pl.lit("observed only")),
        )
        .select(
            "app_id", "dataset_id", "reuse_ids", "status", "first_month", "last_month", "months", "api_calls"
        )
        .sort("app_id", "dataset_id")
    )
    downloads = scheduled_downloads(store, rules, start=start, end=end)

    declared = links.group_by("dataset_id").agg(declared_reuses=pl.col("reuse_id").n_unique().cast(pl.Int64))
    apps = pairs.group_by("dataset_id").agg(
        observed_apps=pl.len().cast(pl.Int64),
        undeclared_apps=(pl.col("reuse_ids").list.len() == 0).sum().cast(pl.Int64),
        api_calls=pl.col("api_calls").sum(),
        _first_api=pl.col("first_month").min(),
        _last_api=pl.col("last_month").max(),
    )
    sched = downloads.group_by("dataset_id").agg(
        scheduled_download_months=pl.len().cast(pl.Int64),
        _first_dl=pl.col("month").min(),
        _last_dl=pl.col("month").max(),
    )
    ids = pl.concat(
        [
            declared.select("dataset_id"),
            apps.select("dataset_id"),
            sched.select("dataset_id"),
            pl.DataFrame({"dataset_id": list(datasets or [])}, schema={"dataset_id": pl.String}),
        ]
    ).unique()
    table = (
        ids.join(declared, on="dataset_id", how="left")
        .join(apps, on="dataset_id", how="left")
        .join(sched, on="dataset_id", how="left")
        .with_columns(
            pl.col(
                "declared_reuses",
                "observed_apps",
                "undeclared_apps",
                "api_calls",
                "scheduled_download_months",
            )
            .fill_null(0)
            .cast(pl.Int64)
        )
    )
    is_declared = pl.col("declared_reuses") > 0
    is_observed = (pl.col("observed_apps") > 0) | (pl.col("scheduled_download_months") > 0)
    table = table.with_columns(
        status=pl.when(is_declared & is_observed)
        .then(pl.lit(DATASET_STATUSES[0]))
        .when(is_observed)
        .then(pl.lit(DATASET_STATUSES[1]))
        .when(is_declared)
        .then(pl.lit(DATASET_STATUSES[2]))
        .otherwise(pl.lit(DATASET_STATUSES[3])),
        first_observed=pl.min_horizontal("_first_api", "_first_dl"),
        last_observed=pl.max_horizontal("_last_api", "_last_dl"),
    ).select(
        "dataset_id",
        "status",
        "declared_reuses",
        "observed_apps",
        "undeclared_apps",
        "api_calls",
        "scheduled_download_months",
        "first_observed",
        "last_observed",
    )
    order = pl.col("status").replace_strict(list(DATASET_STATUSES), list(range(4)), return_dtype=pl.Int8)
    table = table.sort(order, "dataset_id")

    reuses = (
        keyed.select("reuse_id", "api_consumer")
        .join(
            pairs.group_by("app_id").agg(
                api_calls=pl.col("api_calls").sum(),
                datasets_called=pl.len().cast(pl.Int64),
                first_month=pl.col("first_month").min(),
                last_month=pl.col("last_month").max(),
            ),
            left_on="api_consumer",
            right_on="app_id",
            how="left",
        )
        .with_columns(
            observed=pl.col("api_calls").is_not_null(),
            api_calls=pl.col("api_calls").fill_null(0),
            datasets_called=pl.col("datasets_called").fill_null(0),
        )
        .select(
            "reuse_id",
            "api_consumer",
            "observed",
            "api_calls",
            "datasets_called",
            "first_month",
            "last_month",
        )
        .sort("reuse_id")
    )
    log.info(
        "observed reuse: %d application-dataset pairs (%d observed only), "
        "%d datasets downloaded on a schedule",
        pairs.height,
        pairs.filter(pl.col("status") == "observed only").height,
        downloads.get_column("dataset_id").n_unique(),
    )
    return ObservedReuse(pairs=pairs, downloads=downloads, datasets=table, reuses=reuses)


def follow_up(result: ObservedReuse) -> pl.DataFrame:
    """The officer's follow-up list: candidate reuses nobody declared. No personal data.

    Returns
    -------
    polars.DataFrame
        ``kind`` (``application`` or ``scheduled download``), ``app_id`` (the consumer key; null for
        downloads: agents are classes), ``app_declared`` (the key belongs to a registered reuse, which does
        not name this dataset), ``dataset_id``, ``first_month``, ``last_month``, ``months``, ``volume``
        (API calls, or downloads), ``agents`` (non-browser agents, for downloads); the largest volume
        first.
    """
    apps = result.pairs.filter(pl.col("status") == "observed only").select(
        kind=pl.lit("application"),
        app_id="app_id",
        app_declared=pl.col("reuse_ids").list.len() > 0,
        dataset_id="dataset_id",
        first_month="first_month",
        last_month="last_month",
        months="months",
        volume="api_calls",
        agents=pl.lit(None, pl.Int64),
    )
    declared = result.datasets.filter(pl.col("declared_reuses") > 0).get_column("dataset_id").implode()
    dls = (
        result.downloads.filter(~pl.col("dataset_id").is_in(declared))
        .group_by("dataset_id")
        .agg(
            first_month=pl.col("month").min(),
            last_month=pl.col("month").max(),
            months=pl.len().cast(pl.Int64),
            volume=pl.col("downloads").sum(),
            agents=pl.col("agents").max(),
        )
        .select(
            kind=pl.lit("scheduled download"),
            app_id=pl.lit(None, pl.String),
            app_declared=pl.lit(None, pl.Boolean),
            dataset_id="dataset_id",
            first_month="first_month",
            last_month="last_month",
            months="months",
            volume="volume",
            agents="agents",
        )
    )
    return pl.concat([apps, dls]).sort(
        ["volume", "kind", "app_id", "dataset_id"], descending=[True, False, False, False], nulls_last=True
    )


def target_both_ways(
    result: ObservedReuse, registry: Any, *, target: int = 50, as_of: date | None = None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The reused-datasets target counted both ways, month by month, with projections.

    ``declared``: distinct datasets named by a reuse launched by the month's end (a reuse without a launch
    date, e.g. a planned one, is not a product yet). ``declared_or_observed``: those, and every dataset
    observed (an application's calls or scheduled downloads) by the month's end.

    Returns
    -------
    tuple
        The monthly frame (``month``, ``declared``, ``declared_or_observed``) and, per line, the last
        value, ``reached_on`` (the first month at or above the target, or None) and ``projected`` (when
        not reached: the day a linear trend over the last 12 months reaches it, or None).
    """
    from lab.reuse.targets import fit_trend
    from lab.usage.store import months_between

    reg = _registry_frame(registry)
    first_obs = pl.concat(
        [
            result.pairs.select("dataset_id", month="first_month"),
            result.downloads.select("dataset_id", "month"),
        ]
    )
    observed_months = first_obs.get_column("month").drop_nulls()
    if observed_months.is_empty():
        raise ObservedReuseError("no observed use in the usage store: nothing to count")
    launches = reg.get_column("launched").cast(pl.Date, strict=False).drop_nulls()
    first = min([observed_months.min(), *([f"{launches.min():%Y-%m}"] if launches.len() else [])])
    last = observed_months.max() if as_of is None else f"{as_of:%Y-%m}"
    grid = pl.DataFrame({"month": months_between(first, last)}).with_columns(
        end=(pl.col("month") + "-01").str.to_date().dt.month_end()
    )
    launched = reg.select(
        dataset_id=pl.col("datasets"), launched=pl.col("launched").cast(pl.Date, strict=False)
    ).explode("dataset_id")
    launched = launched.drop_nulls(["dataset_id", "launched"])  # a planned product is not a product yet
    dec = grid.join(launched, how="cross").filter(pl.col("launched") <= pl.col("end"))
    obs = grid.join(
        first_obs.with_columns(end_obs=(pl.col("month") + "-01").str.to_date()).drop("month"), how="cross"
    ).filter(pl.col("end_obs") <= pl.col("end"))
    both = pl.concat([dec.select("month", "dataset_id"), obs.select("month", "dataset_id")])
    series = (
        grid.select("month")
        .join(dec.group_by("month").agg(declared=pl.col("dataset_id").n_unique()), on="month", how="left")
        .join(
            both.group_by("month").agg(declared_or_observed=pl.col("dataset_id").n_unique()),
            on="month",
            how="left",
        )
        .with_columns(pl.col("declared", "declared_or_observed").fill_null(0).cast(pl.Int64))
        .sort("month")
    )
    last_day = grid.get_column("end").max()
    summary: dict[str, Any] = {"target": target}
    for line in ("declared", "declared_or_observed"):
        values = series.select(date=(pl.col("month") + "-01").str.to_date().dt.month_end(), value=line).tail(
            12
        )
        now = int(series.get_column(line)[-1])
        fit = None if now >= target else fit_trend(values, target, as_of=as_of or last_day)
        reached = series.filter(pl.col(line) >= target).get_column("month")
        summary[line] = {
            "value": now,
            "reached_on": reached[0] if reached.len() else None,
            "projected": fit.projected.isoformat() if fit is not None and fit.projected else None,
        }
    return series, summary


def write_follow_up(result: ObservedReuse, path: str | Path) -> Path:
    """Write :func:`follow_up` as CSV (UTF-8, atomic) at ``path``."""
    from lab.atomic import atomic_write_bytes, check_target

    target = check_target(path)
    table = follow_up(result)
    atomic_write_bytes(target, table.write_csv(null_value="", line_terminator="\n").encode("utf-8"))
    return target
