"""Outcomes: what each reuse yields per month (active users, sessions, API calls, transactions, revenue in
VND, evidence links), joinable to the usage KPIs through app ids (the registry's ``api_consumer``) and dataset
ids.

A product's API calls need not be typed in: :func:`with_gateway_calls` reads them from the API calls per app
and month that the usage package computes from the gateway log (a polars frame ``month``, ``app_id``,
``api_calls``), joined to the registry by ``api_consumer``.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import polars as pl

from lab.reuse.months import month_start

log = logging.getLogger(__name__)

OUTCOME_COLUMNS: tuple[str, ...] = (
    "reuse_id",
    "month",
    "active_users",
    "sessions",
    "api_calls",
    "transactions",
    "revenue_vnd",
    "evidence_url",
)
"""The outcomes table: one row per reuse and month (``month`` is the month's first day)."""
COUNT_COLUMNS: tuple[str, ...] = ("active_users", "sessions", "api_calls", "transactions", "revenue_vnd")
USAGE_COLUMNS: tuple[str, ...] = ("month", "app_id", "api_calls")
"""What the usage package gives per app and month."""


def load_outcomes(catalog: Any = None, dataset_id: str = "reuse-outcomes") -> pl.DataFrame:
    """The outcomes table the catalog declares, typed (:func:`lab.load`), months as their first day."""
    from lab.loader import load

    frame = load(dataset_id, catalog=catalog)
    return normalise_outcomes(frame)


def normalise_outcomes(frame: pl.DataFrame) -> pl.DataFrame:
    """Any outcomes table with the :data:`OUTCOME_COLUMNS` it has (others null), months as first days."""
    cols = [
        (month_start(pl.col(c)) if c == "month" else pl.col(c)).alias(c)
        if c in frame.columns
        else pl.lit(None, dtype=pl.String if c in ("reuse_id", "evidence_url") else pl.Int64).alias(c)
        for c in OUTCOME_COLUMNS
    ]
    return frame.select(cols).with_columns(pl.col(COUNT_COLUMNS).cast(pl.Int64))


def normalise_usage(usage: pl.DataFrame) -> pl.DataFrame:
    """API calls per app and month (``month``, ``app_id``, ``api_calls``), summed per app and month.

    ``month`` may be a date, a datetime or ``YYYY-MM`` text; it becomes the month's first day.

    Raises
    ------
    lab.errors.SchemaError
        A column of :data:`USAGE_COLUMNS` is missing.
    """
    from lab.errors import MissingColumnError

    missing = [c for c in USAGE_COLUMNS if c not in usage.columns]
    if missing:
        raise MissingColumnError(
            f"API usage per app needs columns {', '.join(USAGE_COLUMNS)}: no {', '.join(missing)}"
        )
    return (
        usage.select(
            month_start(pl.col("month")).alias("month"), pl.col("app_id").cast(pl.String), "api_calls"
        )
        .group_by("month", "app_id")
        .agg(pl.col("api_calls").cast(pl.Int64).sum())
        .sort("month", "app_id")
    )


def usage_by_reuse(usage: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """API calls per reuse and month: the usage frame joined to the registry by ``api_consumer``.

    Parameters
    ----------
    usage
        ``month``, ``app_id``, ``api_calls`` (the usage package's API calls per app per month).
    registry
        A registry frame (``reuse_id``, ``api_consumer``...).

    Returns
    -------
    polars.DataFrame
        ``reuse_id``, ``month``, ``app_id``, ``api_calls``; apps no reuse declares are left out (see
        :func:`undeclared_apps`).
    """
    keys = registry.select("reuse_id", pl.col("api_consumer").alias("app_id")).drop_nulls("app_id")
    return (
        normalise_usage(usage)
        .join(keys, on="app_id", how="inner")
        .select("reuse_id", "month", "app_id", "api_calls")
        .sort("reuse_id", "month")
    )


def undeclared_apps(usage: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Apps that call the API but that no reuse of the registry declares: ``app_id``, ``api_calls``,
    ``months``.

    These are reuses the portal team does not know of yet (or scrapers): the registry's blind spot.
    """
    keys = registry.select(pl.col("api_consumer").alias("app_id")).drop_nulls()
    return (
        normalise_usage(usage)
        .join(keys, on="app_id", how="anti")
        .group_by("app_id")
        .agg(pl.col("api_calls").sum(), pl.col("month").n_unique().alias("months"))
        .sort("api_calls", "app_id", descending=[True, False])
    )


def with_gateway_calls(outcomes: pl.DataFrame, usage: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """The outcomes table with API calls read from the gateway where the product declared its app id.

    Adds ``api_calls_reported`` (what the product typed in), ``api_calls_gateway`` (from ``usage``) and sets
    ``api_calls`` to the gateway's figure when there is one, else the reported one; ``api_calls_source`` says
    which (``gateway``, ``reported`` or null). Months the gateway saw but the product did not report are
    added (other outcome columns null).
    """
    out = normalise_outcomes(outcomes)
    gateway = (
        usage_by_reuse(usage, registry)
        .group_by("reuse_id", "month")
        .agg(pl.col("api_calls").sum().alias("api_calls_gateway"))
    )
    joined = out.rename({"api_calls": "api_calls_reported"}).join(
        gateway, on=["reuse_id", "month"], how="full", coalesce=True
    )
    return joined.with_columns(
        pl.coalesce("api_calls_gateway", "api_calls_reported").alias("api_calls"),
        pl.when(pl.col("api_calls_gateway").is_not_null())
        .then(pl.lit("gateway"))
        .when(pl.col("api_calls_reported").is_not_null())
        .then(pl.lit("reported"))
        .alias("api_calls_source"),
    ).sort("reuse_id", "month")


def in_period(outcomes: pl.DataFrame, start: date | None = None, end: date | None = None) -> pl.DataFrame:
    """The outcome rows whose month lies in ``[start, end]`` (either bound may be None)."""
    cond = pl.lit(True)
    if start is not None:
        cond &= pl.col("month") >= start.replace(day=1)
    if end is not None:
        cond &= pl.col("month") <= end
    return outcomes.filter(cond)


def totals_by_reuse(
    outcomes: pl.DataFrame, start: date | None = None, end: date | None = None
) -> pl.DataFrame:
    """Per reuse over a period: months reported, mean monthly active users, summed sessions, API calls,
    transactions and revenue (VND), and the number of evidence links. Sorted by revenue, then users."""
    return (
        in_period(normalise_outcomes(outcomes), start, end)
        .group_by("reuse_id")
        .agg(
            pl.len().alias("months_reported"),
            pl.col("active_users").mean().round(0).cast(pl.Int64).alias("active_users_monthly"),
            pl.col("sessions").sum(),
            pl.col("api_calls").sum(),
            pl.col("transactions").sum(),
            pl.col("revenue_vnd").sum(),
            pl.col("evidence_url").drop_nulls().n_unique().alias("evidence_links"),
        )
        .sort(
            ["revenue_vnd", "active_users_monthly", "reuse_id"],
            descending=[True, True, False],
            nulls_last=True,
        )
    )


def monthly_totals(outcomes: pl.DataFrame, reuse_ids: list[str] | None = None) -> pl.DataFrame:
    """All reuses together per month: active users, sessions, API calls, transactions, revenue, reporters."""
    frame = normalise_outcomes(outcomes)
    if reuse_ids is not None:
        frame = frame.filter(pl.col("reuse_id").is_in(reuse_ids))
    return (
        frame.group_by("month")
        .agg(pl.col(COUNT_COLUMNS).sum(), pl.col("reuse_id").n_unique().alias("reporting_reuses"))
        .sort("month")
    )


def outcomes_by_dataset(outcomes: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Outcomes of the products built on each dataset, per dataset and month (join through dataset ids).

    A product built on three datasets counts in each of the three: these totals are *not* additive across
    datasets (revenue per dataset is apportioned in :func:`lab.reuse.revenue.revenue_by_dataset`).
    """
    from lab.reuse.registry import links

    return (
        normalise_outcomes(outcomes)
        .join(links(registry), on="reuse_id", how="inner")
        .group_by("dataset_id", "month")
        .agg(pl.col(COUNT_COLUMNS).sum(), pl.col("reuse_id").n_unique().alias("products"))
        .sort("dataset_id", "month")
    )
