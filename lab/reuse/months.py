"""Calendar helpers of the reuse indicators: months as their first day, month-end grids, periods."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl


def month_start(expr: pl.Expr) -> pl.Expr:
    """A month column as the ``Date`` of its first day, from a date, a datetime or ``YYYY-MM[-DD]`` text."""
    return (
        pl.when(expr.is_not_null())
        .then(expr.cast(pl.String).str.slice(0, 7).str.to_date("%Y-%m", strict=False))
        .otherwise(None)
        .cast(pl.Date)
    )


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def month_ends(start: date, end: date) -> pl.Series:
    """Every month end from ``start``'s month to ``end``'s month, as a ``Date`` series named ``date``."""
    firsts = pl.date_range(start.replace(day=1), end.replace(day=1), "1mo", eager=True)
    return firsts.dt.month_end().alias("date")


def year_end(year: int) -> date:
    """31 December of ``year``."""
    return date(year, 12, 31)
