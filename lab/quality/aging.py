"""Freshness in HDX's vocabulary, with a history of observed changes.

**Status.** Each dataset's age (days from its last update to the day asked) is read against HDX's aging
table for its declared frequency (``lab/vocab/quality/freshness.yaml``,
:func:`lab.quality.vocab.aging_table`):
``fresh`` below *due* days, ``due``, ``overdue``, ``delinquent`` from the table's thresholds (monthly:
30 / 44 / 60; yearly: 365 / 425 / 455). Continuous, irregular and one-off ("never") datasets are always
``fresh`` (HDX: Live, As needed, Never); no frequency, frequency ``unknown`` or no date at all is
``unknown``, never fresh. This complements udata's on-time criterion (:mod:`lab.quality.freshness`).

**Change detection.** Each observation of a dataset records three signals, and a change is recognised
by the first that moved since the dataset's last recorded state, in this order:

1. ``catalog_date``: the catalog's ``modified`` date changed (the change is dated by it);
2. ``last_modified``: the HTTP ``Last-Modified`` the cache recorded for a distribution changed (dated by
   the header's day);
3. ``content_hash``: the bytes' sha256 the cache recorded changed while neither date did (dated by the
   observation: the change happened since the previous one).

The first observation of a dataset is recorded as ``first_seen``, dated by its catalog date (else its
Last-Modified day, else its issue date).

**History.** The changes are appended to a Parquet file (:data:`HISTORY_SCHEMA`), rewritten atomically
(:mod:`lab.atomic`) with the old rows unchanged: a re-run that observes nothing new adds nothing, an
observation older than the last one recorded for a dataset is refused. Each dataset's last update at
any day is the latest change dated on or before it, so the portal-wide share of fresh datasets can be
computed for every past month, per agency (:func:`fresh_share`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import polars as pl

from lab.atomic import atomic_path, check_target
from lab.errors import LabError
from lab.quality.vocab import aging_table

log = logging.getLogger(__name__)

__all__ = [
    "HISTORY_SCHEMA",
    "METHODS",
    "STATUSES",
    "catalog_observations",
    "detect_changes",
    "fresh_share",
    "hdx_status",
    "history_path",
    "read_history",
    "record",
    "status_as_of",
]

STATUSES = ("fresh", "due", "overdue", "delinquent", "unknown")
"""HDX's four statuses, and ``unknown`` (no frequency or no date)."""
METHODS = ("first_seen", "catalog_date", "last_modified", "content_hash")
"""How a change was recognised, in the order the signals are tried."""

OBSERVATION_SCHEMA: dict[str, pl.DataType] = {
    "dataset_id": pl.String(),
    "catalog_modified": pl.Date(),
    "last_modified": pl.Date(),
    "sha256": pl.String(),
    "issued": pl.Date(),
}
"""What one observation knows of each dataset (``last_modified``: the day of the HTTP header)."""

HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "dataset_id": pl.String(),
    "observed": pl.Date(),
    "changed": pl.Date(),
    "method": pl.String(),
    "catalog_modified": pl.Date(),
    "last_modified": pl.Date(),
    "sha256": pl.String(),
}
"""One row per observed change of a dataset: when it was observed, the day it is dated, how it was
recognised (:data:`METHODS`) and the signals' values after it."""


class FreshnessHistoryError(LabError):
    """The freshness history file is unreadable, not a history, or an observation is out of order."""


def hdx_status(
    frame: pl.DataFrame, *, as_of: date | pl.Expr, last_update: str = "last_update"
) -> pl.DataFrame:
    """HDX freshness status of each row of ``frame``.

    Parameters
    ----------
    frame
        ``frequency`` (the catalog's vocabulary) and a date column ``last_update``.
    as_of
        The day asked (a date, or an expression over ``frame``, e.g. a month's last day).
    last_update
        The column holding each dataset's last update.

    Returns
    -------
    polars.DataFrame
        ``frame`` with ``age_days`` (null when unknown) and ``status`` (:data:`STATUSES`).

    Examples
    --------
    >>> f = pl.DataFrame({"frequency": ["monthly"] * 4 + ["annual", "irregular", "unknown"],
    ...                   "last_update": [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 20),
    ...                                   date(2026, 2, 10), None, None, None]})
    >>> f = f.with_columns(pl.col("last_update").fill_null(date(2025, 1, 1)))
    >>> hdx_status(f, as_of=date(2026, 3, 2))["status"].to_list()
    ['delinquent', 'overdue', 'due', 'fresh', 'overdue', 'fresh', 'unknown']
    """
    table = aging_table()
    day = as_of if isinstance(as_of, pl.Expr) else pl.lit(as_of, pl.Date)
    age = (day - pl.col(last_update)).dt.total_days()
    joined = frame.join(
        table.select("frequency", "due", "overdue", "delinquent", "always_fresh").rename(
            {"due": "_due", "overdue": "_overdue", "delinquent": "_delinquent", "always_fresh": "_always"}
        ),
        on="frequency",
        how="left",
        maintain_order="left",
    )
    status = (
        pl.when(pl.col("_always").fill_null(False))
        .then(pl.lit("fresh"))
        .when(pl.col("_due").is_null() | pl.col(last_update).is_null())
        .then(pl.lit("unknown"))
        .when(age >= pl.col("_delinquent"))
        .then(pl.lit("delinquent"))
        .when(age >= pl.col("_overdue"))
        .then(pl.lit("overdue"))
        .when(age >= pl.col("_due"))
        .then(pl.lit("due"))
        .otherwise(pl.lit("fresh"))
    )
    return joined.with_columns(age_days=age, status=status).drop("_due", "_overdue", "_delinquent", "_always")


def _http_day(value: Any) -> date | None:
    """The day of an HTTP date (``Last-Modified``), None when absent or unreadable."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value)).date()
    except (TypeError, ValueError):
        try:
            return datetime.fromisoformat(str(value)).date()
        except ValueError:
            return None


def catalog_observations(catalog: Any, ids: Sequence[str] | None = None) -> pl.DataFrame:
    """What the catalog and the cache know now of each dataset (:data:`OBSERVATION_SCHEMA`).

    ``catalog_modified`` is the catalog's ``modified``; ``last_modified`` the latest HTTP
    ``Last-Modified`` day the cache recorded for the dataset's distributions; ``sha256`` the cache's
    content hash (of the one distribution cached, or of the cached distributions' hashes joined in
    catalog order); null where nothing is cached.

    Parameters
    ----------
    catalog
        A :class:`lab.catalog.Catalog`.
    ids
        Dataset ids (default: all).
    """
    import hashlib

    from lab.cache import cache_key, cached_entry

    rows = []
    for ds in catalog:
        if ids is not None and ds.id not in ids:
            continue
        days, hashes = [], []
        for dist in ds.distributions:
            key = cache_key(dist)
            entry = cached_entry(key, dist)[0] if key else None
            if entry is None:
                continue
            days.append(_http_day(entry.meta.get("last_modified")))
            if entry.meta.get("sha256"):
                hashes.append(str(entry.meta["sha256"]))
        known = [d for d in days if d is not None]
        digest = (
            hashes[0]
            if len(hashes) == 1
            else hashlib.sha256("\n".join(hashes).encode()).hexdigest()
            if hashes
            else None
        )
        rows.append(
            {
                "dataset_id": ds.id,
                "catalog_modified": ds.modified,
                "last_modified": max(known) if known else None,
                "sha256": digest,
                "issued": ds.issued,
            }
        )
    return pl.DataFrame(rows, schema=OBSERVATION_SCHEMA)


def history_path() -> Path:
    """The default history file: ``$LAB_FRESHNESS_HISTORY`` if set, else
    ``<cache>/quality/freshness-history.parquet`` (beside the link-check history)."""
    import os

    from lab.settings import cache_dir

    named = os.environ.get("LAB_FRESHNESS_HISTORY", "").strip()
    return Path(named) if named else cache_dir() / "quality" / "freshness-history.parquet"


def read_history(path: str | Path) -> pl.DataFrame:
    """The history at ``path`` (:data:`HISTORY_SCHEMA`; empty when the file does not exist yet)."""
    path = Path(path)
    if not path.exists():
        return pl.DataFrame(schema=HISTORY_SCHEMA)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several kinds for a damaged file
        raise FreshnessHistoryError(
            f"not a readable Parquet file ({type(exc).__name__})", file=path
        ) from None
    if dict(frame.schema) != HISTORY_SCHEMA:
        raise FreshnessHistoryError("not a freshness history (its columns differ)", file=path)
    return frame


def _last_state(history: pl.DataFrame) -> pl.DataFrame:
    """Each dataset's signals after its last recorded change."""
    return (
        history.sort("dataset_id", "observed", maintain_order=True)
        .group_by("dataset_id", maintain_order=True)
        .last()
        .select(
            "dataset_id",
            pl.col("observed").alias("_observed"),
            pl.col("catalog_modified").alias("_catalog_modified"),
            pl.col("last_modified").alias("_last_modified"),
            pl.col("sha256").alias("_sha256"),
        )
    )


def detect_changes(history: pl.DataFrame, observations: pl.DataFrame, observed: date) -> pl.DataFrame:
    """The changes ``observations`` (made on ``observed``) show against each dataset's last recorded state.

    Parameters
    ----------
    history
        The history so far (:func:`read_history`).
    observations
        :data:`OBSERVATION_SCHEMA` rows (:func:`catalog_observations`).
    observed
        The day of the observation.

    Returns
    -------
    polars.DataFrame
        New :data:`HISTORY_SCHEMA` rows: one per dataset first seen or changed, none for the others.

    Raises
    ------
    FreshnessHistoryError
        ``observed`` is before a dataset's last recorded observation.
    """
    state = _last_state(history)
    joined = observations.join(state, on="dataset_id", how="left")
    late = joined.filter(pl.col("_observed") > observed)
    if late.height:
        raise FreshnessHistoryError(
            f"observation of {observed} is older than the last one recorded for "
            f"{late['dataset_id'][0]} ({late['_observed'][0]}): the history is append-only, in order"
        )

    def moved(col: str) -> pl.Expr:
        return pl.col(col).is_not_null() & pl.col(col).ne_missing(pl.col(f"_{col}"))

    first = pl.col("_observed").is_null()
    method = (
        pl.when(first)
        .then(pl.lit("first_seen"))
        .when(moved("catalog_modified"))
        .then(pl.lit("catalog_date"))
        .when(moved("last_modified"))
        .then(pl.lit("last_modified"))
        .when(moved("sha256"))
        .then(pl.lit("content_hash"))
    )
    changed = (
        pl.when(first)
        .then(pl.coalesce("catalog_modified", "last_modified", "issued"))
        .when(pl.col("method") == "catalog_date")
        .then(pl.col("catalog_modified"))
        .when(pl.col("method") == "last_modified")
        .then(pl.col("last_modified"))
        .otherwise(pl.lit(observed, pl.Date))
    )
    return (
        joined.with_columns(method=method)
        .filter(pl.col("method").is_not_null())
        .with_columns(observed=pl.lit(observed, pl.Date), changed=changed)
        .select(list(HISTORY_SCHEMA))
        .cast(HISTORY_SCHEMA)  # type: ignore[arg-type]
        .sort("dataset_id")
    )


def record(path: str | Path, observations: pl.DataFrame, observed: date) -> pl.DataFrame:
    """Detect the changes of ``observations`` and append them to the history at ``path``.

    The file is rewritten atomically with every earlier row unchanged (append-only); nothing is written
    when nothing changed.

    Returns
    -------
    polars.DataFrame
        The rows appended (possibly none).
    """
    path = check_target(path)
    history = read_history(path)
    changes = detect_changes(history, observations, observed)
    if changes.height:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            pl.concat([history, changes]).write_parquet(tmp)
        log.info("freshness history %s: %d change(s) recorded on %s", path, changes.height, observed)
    return changes


def status_as_of(datasets: pl.DataFrame, history: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Each dataset's HDX status on ``as_of``: its last update is the latest change of the history
    dated on or before ``as_of``, else its catalog ``modified`` (else ``issued``) when not after it.

    Parameters
    ----------
    datasets
        ``id``, ``frequency`` and optionally ``publisher``, ``modified``, ``issued``.
    history
        :func:`read_history`.

    Returns
    -------
    polars.DataFrame
        ``datasets`` with ``last_update``, ``last_method`` (how the last update was recognised, null from
        the catalog alone), ``age_days`` and ``status``.
    """
    day = pl.lit(as_of, pl.Date)
    last = (
        history.filter(pl.col("changed") <= as_of)
        .sort("changed", "observed")
        .group_by("dataset_id")
        .agg(pl.col("changed").last().alias("_changed"), pl.col("method").last().alias("last_method"))
    )
    have = datasets.columns
    fallback = pl.coalesce(
        *(pl.when(pl.col(c) <= day).then(pl.col(c)) for c in ("modified", "issued") if c in have),
        pl.lit(None, pl.Date),
    )
    frame = datasets.join(last, left_on="id", right_on="dataset_id", how="left", maintain_order="left")
    frame = frame.with_columns(last_update=pl.max_horizontal(pl.col("_changed"), fallback)).drop("_changed")
    return hdx_status(frame, as_of=as_of)


def _month_ends(months: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame({"month": list(months)}).with_columns(
        month_end=(pl.col("month") + "-01").str.to_date().dt.month_end()
    )


def fresh_share(datasets: pl.DataFrame, history: pl.DataFrame, months: Sequence[str]) -> pl.DataFrame:
    """The share of fresh datasets at the end of each month, portal-wide and per agency.

    A dataset counts in a month from its issue date (or its first recorded change); its status at the
    month's last day follows the history (:func:`status_as_of`), without the catalog's current
    ``modified`` date (which says nothing of earlier months).

    Parameters
    ----------
    datasets
        ``id``, ``frequency``, ``publisher`` and optionally ``issued``.
    history
        :func:`read_history`.
    months
        ``YYYY-MM`` months.

    Returns
    -------
    polars.DataFrame
        ``month``, ``agency`` (null: the whole portal), ``datasets`` (counted that month), one count
        per status of :data:`STATUSES`, and ``fresh_share`` (fresh / datasets with a known status;
        null when none); portal rows first, then agencies by name, month by month.
    """
    ends = _month_ends(months)
    grid = datasets.select(
        "id", "frequency", "publisher", *(["issued"] if "issued" in datasets.columns else [])
    ).join(ends, how="cross")
    hist = history.select("dataset_id", "changed")
    last = (
        grid.select("id", "month_end")
        .join(hist, left_on="id", right_on="dataset_id", how="inner")
        .filter(pl.col("changed") <= pl.col("month_end"))
        .group_by("id", "month_end")
        .agg(last_update=pl.col("changed").max())
    )
    grid = grid.join(last, on=["id", "month_end"], how="left")
    exists = pl.col("last_update").is_not_null()
    if "issued" in grid.columns:
        exists = exists | (pl.col("issued") <= pl.col("month_end"))
    grid = grid.filter(exists)
    statuses = hdx_status(grid, as_of=pl.col("month_end"))

    def summary(by: list[str]) -> pl.DataFrame:
        counts = [(pl.col("status") == s).sum().cast(pl.Int64).alias(s) for s in STATUSES]
        return statuses.group_by(["month", *by]).agg(pl.len().cast(pl.Int64).alias("datasets"), *counts)

    portal = summary([]).with_columns(agency=pl.lit(None, pl.String))
    agencies = summary(["publisher"]).rename({"publisher": "agency"})
    cols = ["month", "agency", "datasets", *STATUSES]
    out = pl.concat([portal.select(cols), agencies.select(cols)])
    known = pl.col("datasets") - pl.col("unknown")
    return out.with_columns(fresh_share=pl.when(known > 0).then(pl.col("fresh") / known)).sort(
        "month", pl.col("agency").is_not_null(), "agency"
    )
