"""Usage and reuse counts in the plain shape the quality × usage join takes.

:func:`lab.quality.scorecard.quality_usage` takes two plain frames, whoever counts them:
``dataset_id, views, downloads, api_calls`` and ``dataset_id, reuses``.

* usage: from the usage store, by :mod:`lab.usage`'s counting rules (robots filtered, double clicks
  merged, API calls answered with data): the same dataset views, downloads and API calls as the usage
  report, the tracker and ``lab usage top`` (one definition of each count, :func:`store_usage`);
* reuses: reuse registry entries that were launched (live or retired), counted once per dataset listed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from lab.catalog import Catalog

__all__ = ["demo_reuse", "store_usage"]

USAGE_METRICS = {"dataset_views": "views", "downloads": "downloads", "api_calls": "api_calls"}
"""The usage store's per-dataset metrics (:data:`lab.usage.kpis.DATASET_METRICS`) → the join's columns."""


def store_usage(store: Any, *, until: date | None = None) -> pl.DataFrame:
    """``dataset_id, views, downloads, api_calls`` per dataset from the usage store, from its first
    month to ``until``'s month: sums of :func:`lab.usage.kpis.monthly_facts` (unprotected: the join ranks
    datasets, it publishes no count of them).

    Parameters
    ----------
    store
        An :class:`~lab.usage.store.EventStore` or its folder.
    until
        The last day counted (its whole month is: the store counts by month).
    """
    from lab.usage.kpis import monthly_facts

    end = until.strftime("%Y-%m") if until is not None else None
    facts = monthly_facts(store, end=end, min_count=0).filter(pl.col("metric").is_in(list(USAGE_METRICS)))
    sums = facts.group_by("dataset_id", "metric").agg(pl.col("value").fill_null(0).sum().cast(pl.Int64))
    wide = sums.pivot(on="metric", index="dataset_id", values="value")
    for metric in USAGE_METRICS:
        if metric not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.Int64).alias(metric))
    return (
        wide.select("dataset_id", *[pl.col(m).fill_null(0).alias(c) for m, c in USAGE_METRICS.items()])
        .filter(pl.col("dataset_id").is_not_null())
        .sort("dataset_id")
    )


def demo_reuse(catalog: Catalog, *, until: date | None = None) -> pl.DataFrame:
    """``dataset_id, reuses`` per portal id, from the demo's reuse registry (launched reuses only)."""
    from lab.loader import load

    registry = load("reuse-registry", catalog=catalog).filter(
        pl.col("status").is_in(["live", "retired"]) & pl.col("launched").is_not_null()
    )
    if until is not None:
        registry = registry.filter(pl.col("launched") <= until)
    return (
        registry.select("reuse_id", dataset_id=pl.col("datasets").str.split(";"))
        .explode("dataset_id")
        .with_columns(pl.col("dataset_id").str.strip_chars())
        .filter(pl.col("dataset_id").is_not_null() & (pl.col("dataset_id") != ""))
        .unique(["reuse_id", "dataset_id"])
        .group_by("dataset_id")
        .agg(reuses=pl.len().cast(pl.Int64))
        .sort("dataset_id")
    )
