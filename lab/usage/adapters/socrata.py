"""Socrata "site metrics" monthly CSV → monthly facts of the whole site, not events.

One row per month; a date column (``date``, ``month``, ``period``, ``__start__``, ``start``: ``YYYY-MM``,
``YYYY-MM-DD``, ISO 8601 or epoch milliseconds as the site-metrics API gives them) and one column per
metric, most of them empty most months (Socrata adds metrics over the years). Metric names are kept,
lower-cased with ``-`` and spaces as ``_`` (``page-views`` → ``page_views``, ``users-created`` →
``users_created``, ``rows-accessed-api`` → ``rows_accessed_api``). An empty cell is *no fact* (not
zero); a cell that is not a number rejects its row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from lab.errors import ReadError
from lab.usage.adapters.base import Context, pick_column, read_csv_text
from lab.usage.adapters.channels import row_text
from lab.usage.schema import conform_facts


def metric_name(column: str) -> str:
    """A metric name from a column header.

    Examples
    --------
    >>> metric_name("Rows-Accessed-API")
    'rows_accessed_api'
    """
    return "_".join(column.strip().lower().replace("-", " ").split())


def month_expr(text: pl.Expr) -> pl.Expr:
    """First day of the month of ``YYYY-MM``, ``YYYY-MM-DD…`` or epoch-millisecond values."""
    t = text.str.strip_chars()
    from_text = (t.str.slice(0, 7) + "-01").str.to_date("%Y-%m-%d", strict=False)
    from_epoch = pl.from_epoch(t.cast(pl.Int64, strict=False), time_unit="ms").dt.date()
    return pl.coalesce(
        pl.when(t.str.contains(r"^\d{4}-\d{2}")).then(from_text), from_epoch.dt.truncate("1mo")
    ).alias("_month")


def read_socrata_site_metrics(path: Path, ctx: Context) -> Iterator[pl.DataFrame]:
    """Adapter: a Socrata site-metrics monthly CSV → site-wide monthly facts."""
    rows = read_csv_text(path)
    columns = [c for c in rows.columns if c != "line_no"]
    c_date = pick_column(columns, "date", "month", "period", "__start__", "start")
    if c_date is None:
        raise ReadError("no date/month column: not a Socrata site-metrics export", file=path.name)
    metrics = [c for c in columns if c != c_date]
    ctx.lines_read += rows.height
    frame = rows.with_columns(row_text(columns), month_expr(pl.col(c_date)))
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
            value=pl.col("_value").cast(pl.Float64).round(0).cast(pl.Int64),
            partial=pl.lit(False),
            source_file=pl.lit(ctx.source_file),
        )
    ).collect()
