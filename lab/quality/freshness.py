"""Sống (live): is a dataset updated as often as its declared frequency promises?

The next update is expected at the last modification (else the issue date) plus the frequency's days
(``lab/vocab/vocabularies.yaml`` frequencies: daily 1, weekly 7, monthly 31, quarterly 92, annual 366).
Status:

* ``on_time``: the expected update is not more than one day past (udata's grace);
* ``late``: it is; ``days_late`` says by how much;
* ``not_scheduled``: continuous, irregular or one-off ("never"): no date to miss;
* ``unknown``: no frequency (or ``unknown``), or no date at all.

Examples
--------
>>> from datetime import date
>>> frame = pl.DataFrame({"frequency": ["monthly", "irregular"], "modified": [date(2025, 1, 1), None],
...                       "issued": [date(2024, 1, 1), date(2024, 1, 1)]})
>>> freshness(frame, as_of=date(2025, 3, 1))["status"].to_list()
['late', 'not_scheduled']
"""

from __future__ import annotations

from datetime import date

import polars as pl

from lab.quality.vocab import frequency_days, udata_rules

__all__ = ["FRESHNESS_STATUSES", "freshness", "next_update_expr"]

FRESHNESS_STATUSES = ("on_time", "late", "not_scheduled", "unknown")


def _days_expr() -> pl.Expr:
    days = {k: v for k, v in frequency_days().items() if v is not None}
    return pl.col("frequency").replace_strict(days, default=None, return_dtype=pl.Float64)


def next_update_expr() -> pl.Expr:
    """The date the next update is expected (null when the frequency has no period or no date is known)."""
    last = pl.coalesce(pl.col("modified"), pl.col("issued"))
    millis = (_days_expr() * 86_400_000).round(0).cast(pl.Int64)
    return (last.cast(pl.Datetime("ms")) + pl.duration(milliseconds=millis)).dt.date()


def freshness(frame: pl.DataFrame, *, as_of: date) -> pl.DataFrame:
    """Freshness of each dataset of ``frame`` (columns ``frequency``, ``modified``, ``issued``).

    Returns
    -------
    polars.DataFrame
        ``frame``'s other columns (e.g. ``id``) with ``last_modified``, ``next_expected``, ``days_late``
        (≥ 1 when late, else 0; null when unknown) and ``status`` (:data:`FRESHNESS_STATUSES`).
    """
    grace = udata_rules()["grace_days"]
    exempt = udata_rules()["exempt_frequencies"]
    next_update = next_update_expr()
    overdue = (pl.lit(as_of) - next_update).dt.total_days()
    status = (
        pl.when(pl.col("frequency").is_in(exempt))
        .then(pl.lit("not_scheduled"))
        .when(next_update.is_null())
        .then(pl.lit("unknown"))
        .when(overdue > grace)
        .then(pl.lit("late"))
        .otherwise(pl.lit("on_time"))
    )
    return frame.with_columns(
        last_modified=pl.coalesce(pl.col("modified"), pl.col("issued")),
        next_expected=next_update,
        days_late=pl.when(next_update.is_not_null()).then(overdue.clip(lower_bound=0)),
        status=status,
    )
