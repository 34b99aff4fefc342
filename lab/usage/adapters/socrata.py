"""Socrata "site metrics" monthly CSV → monthly facts of the whole site, not events.

The export of a Socrata portal's site analytics has one row per month: ``"Start","End"`` in Java's
``Date.toString()`` form (``"Tue Nov 01 00:00:00 UTC 2011"``, ``"Wed Nov 30 23:59:59 UTC 2011"``), then
a few hundred metric columns, every cell quoted, most of them empty (Socrata added metrics over the
years: ``page-views``, ``users-created``, ``rows-accessed-api``, ``browser-chrome-17``,
``view-loaded``, ``ga:sessions``…). Older and hand-made shapes name the month ``date``, ``month``,
``period`` or ``__start__`` (``YYYY-MM``, ``YYYY-MM-DD``, ISO 8601 or epoch milliseconds as the
site-metrics API gives them). Every date form of :mod:`lab.usage.dates` is read; the month is the one
the ``Start`` cell writes. ``End`` (and ``__end__``) is not a metric.

Metric names are kept, lower-cased with ``-`` and spaces as ``_`` (``page-views`` → ``page_views``,
``users-created`` → ``users_created``). An empty cell is *no fact* (not zero); whole numbers arrive
exactly (negative ones too: Socrata writes ``rows-created`` of ``-1525775`` when rows were removed);
a cell that is not a number rejects its row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from lab.errors import ReadError
from lab.usage.adapters.base import Context, pick_column, read_csv_text
from lab.usage.adapters.channels import row_text
from lab.usage.dates import parse_month
from lab.usage.schema import conform_facts

DATE_COLUMNS = ("start", "__start__", "date", "month", "period")
"""Columns that give the month, in order of preference."""
END_COLUMNS = ("end", "__end__")
"""The end of the period (not a metric)."""


def metric_name(column: str) -> str:
    """A metric name from a column header.

    Examples
    --------
    >>> metric_name("Rows-Accessed-API")
    'rows_accessed_api'
    """
    return "_".join(column.strip().lower().replace("-", " ").split())


def month_expr(text: pl.Expr, timezone: str = "UTC") -> pl.Expr:
    """First day of the month of a ``Start`` cell, in any form :func:`lab.usage.dates.parse_month` reads."""
    return parse_month(text, timezone).alias("_month")


def read_socrata_site_metrics(path: Path, ctx: Context) -> Iterator[pl.DataFrame]:
    """Adapter: a Socrata site-metrics monthly CSV → site-wide monthly facts."""
    rows = read_csv_text(path)
    columns = [c for c in rows.columns if c != "line_no"]
    c_date = pick_column(columns, *DATE_COLUMNS)
    if c_date is None:
        raise ReadError("no Start/date/month column: not a Socrata site-metrics export", file=path.name)
    metrics = [c for c in columns if c != c_date and c.lower() not in END_COLUMNS]
    ctx.lines_read += rows.height
    frame = rows.with_columns(row_text(columns), month_expr(pl.col(c_date), ctx.timezone))
    values = [
        pl.col(c).str.strip_chars().str.replace_all(",", "", literal=True).replace("", None).alias(c)
        for c in metrics
    ]
    frame = frame.with_columns(values)
    not_number = pl.any_horizontal(
        [pl.col(c).is_not_null() & pl.col(c).cast(pl.Float64, strict=False).is_null() for c in metrics]
    )
    frame = frame.with_columns(
        reject=pl.when(pl.col("_month").is_null())
        .then(pl.lit("no valid month"))
        .when(not_number)
        .then(pl.lit("a metric is not a number"))
    )
    ctx.reject(frame, text_col="_text")
    good = frame.filter(pl.col("reject").is_null())
    ctx.note_times(good.with_columns(ts=pl.col("_month")))
    long = good.unpivot(index=["_month"], on=metrics, variable_name="_column", value_name="_value").filter(
        pl.col("_value").is_not_null()
    )
    yield conform_facts(
        long.select(
            month="_month",
            source=pl.lit("socrata-site-metrics"),
            dataset_id=pl.lit(None, dtype=pl.String),
            metric=pl.col("_column").replace_strict(
                {c: metric_name(c) for c in metrics}, return_dtype=pl.String
            ),
            value=pl.coalesce(
                pl.col("_value").cast(pl.Int64, strict=False),
                pl.col("_value").cast(pl.Float64).round(0).cast(pl.Int64),
            ),
            partial=pl.lit(False),
            source_file=pl.lit(ctx.source_file),
        )
    ).collect()
