"""Google Analytics 4 CSV exports → monthly facts, not events.

Columns use the GA4 Data API names: ``date`` (``YYYYMMDD``), optionally ``pagePath``, and metrics
``sessions``, ``totalUsers``, ``screenPageViews`` (others are ignored). Lines starting with ``#`` (the
header block of an export from the GA4 interface) and blank lines are skipped.

Facts per month:

* per dataset (``pagePath`` mapped by the URL routes): ``page_views`` and ``sessions`` (sessions
  that saw the dataset's pages);
* site-wide: ``page_views`` (additive over pages and days). When the export has no ``pagePath``
  (one row per day for the whole site), also ``visits`` (= sessions, additive over days).
* ``user_days`` (site-wide exports only): the sum of daily ``totalUsers``. GA4 users are not additive
  over days or pages: this is *not* a count of unique users, and the lab never presents it as one.

A month whose first or last day is missing from the export is flagged ``partial``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from lab.errors import ReadError
from lab.usage.adapters.base import Context, pick_column, read_csv_text
from lab.usage.adapters.channels import row_text
from lab.usage.dates import parse_date
from lab.usage.routes import normalise_target
from lab.usage.schema import conform_facts

METRICS = {"screenPageViews": "page_views", "sessions": "sessions", "totalUsers": "user_days"}


def read_ga4_csv(path: Path, ctx: Context) -> Iterator[pl.DataFrame]:
    """Adapter: a GA4 CSV export (date, pagePath, sessions, totalUsers, screenPageViews) → monthly facts."""
    rows = read_csv_text(path, skip_comments=True)
    columns = [c for c in rows.columns if c != "line_no"]
    c_date = pick_column(columns, "date")
    c_path = pick_column(columns, "pagePath", "page_path", "page path")
    present = {m: pick_column(columns, m) for m in METRICS}
    if c_date is None or not any(present.values()):
        raise ReadError(
            "needs a date column and sessions/totalUsers/screenPageViews: not a GA4 export", file=path.name
        )
    used = {m: c for m, c in present.items() if c}
    ctx.lines_read += rows.height
    numbers = [
        pl.col(c).str.strip_chars().cast(pl.Float64, strict=False).alias(f"_v_{m}") for m, c in used.items()
    ]
    frame = rows.with_columns(
        row_text(columns),
        *numbers,
        parse_date(pl.col(c_date), ctx.timezone).alias("_day"),
    )
    bad_number = pl.any_horizontal(
        [
            pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != "") & pl.col(f"_v_{m}").is_null()
            for m, c in used.items()
        ]
    )
    frame = frame.with_columns(
        reject=pl.when(pl.col("_day").is_null())
        .then(pl.lit("date is not YYYYMMDD"))
        .when(bad_number)
        .then(pl.lit("a metric is not a number"))
    )
    ctx.reject(frame, text_col="_text")
    good = (
        frame.filter(pl.col("reject").is_null())
        .drop(list(used))
        .rename({f"_v_{m}": m for m in used})
        .with_columns(_month=pl.col("_day").dt.truncate("1mo"))
    )
    ctx.note_times(good.with_columns(ts=pl.col("_day")))
    if good.is_empty():
        return
    days = good.group_by("_month").agg(first=pl.col("_day").min(), last=pl.col("_day").max())
    partial = days.select(
        "_month",
        partial=(pl.col("first") > pl.col("_month")) | (pl.col("last") < pl.col("_month").dt.month_end()),
    )
    long_parts = []
    if c_path is not None:
        paths = good.select(normalise_target(pl.col(c_path)).alias("path")).get_column("path").unique()
        classes = ctx.rules.classify(paths)
        per_page = good.with_columns(path=normalise_target(pl.col(c_path))).join(
            classes.select("path", "dataset_id"), on="path", how="left"
        )
        by_dataset = (
            per_page.filter(pl.col("dataset_id").is_not_null())
            .group_by("_month", "dataset_id")
            .agg([pl.col(m).sum() for m in used if m != "totalUsers"])
        )
        long_parts.append(
            by_dataset.unpivot(index=["_month", "dataset_id"], variable_name="_m", value_name="_v")
        )
        if "screenPageViews" in used:
            site = good.group_by("_month").agg(pl.col("screenPageViews").sum())
            long_parts.append(
                site.with_columns(dataset_id=pl.lit(None, dtype=pl.String)).unpivot(
                    index=["_month", "dataset_id"], variable_name="_m", value_name="_v"
                )
            )
    else:
        site = good.group_by("_month").agg([pl.col(m).sum() for m in used])
        long_parts.append(
            site.with_columns(dataset_id=pl.lit(None, dtype=pl.String)).unpivot(
                index=["_month", "dataset_id"], variable_name="_m", value_name="_v"
            )
        )
    names = {**METRICS, **({} if c_path else {"sessions": "visits"})}
    long = pl.concat(long_parts, how="vertical_relaxed").join(partial, on="_month", how="left")
    yield conform_facts(
        long.select(
            month="_month",
            source=pl.lit("ga4"),
            dataset_id="dataset_id",
            metric=pl.col("_m").replace_strict(names, return_dtype=pl.String),
            value=pl.col("_v").round(0).cast(pl.Int64),
            partial="partial",
            source_file=pl.lit(ctx.source_file),
        )
    ).collect()
