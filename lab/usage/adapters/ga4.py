"""Google Analytics 4 CSV exports → monthly facts, not events.

Two layouts are read:

* the **GA4 Data API** names (a BigQuery or API extract): ``date`` (``YYYYMMDD``), optionally
  ``pagePath``, and metrics ``sessions``, ``totalUsers``, ``screenPageViews``;
* the **GA4 interface's download** (Reports → Pages and screens → Share → Download CSV): a ``#``
  header block that names the report, account, property, segment and ``# Start date: YYYYMMDD`` /
  ``# End date: YYYYMMDD``, then the table's display titles: ``Page path and screen class``, ``Views``,
  ``Active users``, ``Views per active user``, ``Average engagement time per active user``,
  ``Event count``, ``Key events``, ``Total revenue`` (and ``Date`` when that dimension was added).
  Titles map to the API names (``Views`` → ``screenPageViews``, ``Sessions`` → ``sessions``,
  ``Total users`` → ``totalUsers``); ``Active users`` and the ratios are not additive and are ignored.
  Without a ``Date`` column the whole file is the header block's period, which must lie within one
  month (export one month at a time, or add the Date dimension).

Other columns are ignored; ``#`` lines and blank lines are skipped.

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

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl

from lab.errors import ReadError
from lab.usage.adapters.base import Context, pick_column, read_csv_text
from lab.usage.adapters.channels import row_text
from lab.usage.dates import parse_date
from lab.usage.routes import normalise_target
from lab.usage.schema import conform_facts

METRICS = {"screenPageViews": "page_views", "sessions": "sessions", "totalUsers": "user_days"}

UI_TITLES = {
    "date": "date",
    "page path and screen class": "pagePath",
    "page path": "pagePath",
    "views": "screenPageViews",
    "sessions": "sessions",
    "total users": "totalUsers",
}
"""The GA4 interface's column titles (lower case) → the Data API names."""

_PERIOD = re.compile(rb"^#\s*(Start|End) date:\s*(\d{8})\s*$", re.MULTILINE)


def export_period(path: Path) -> tuple[date, date] | None:
    """The ``# Start date`` / ``# End date`` of a GA4 interface download's header block, if both."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    found = {m.group(1).decode(): m.group(2).decode() for m in _PERIOD.finditer(head.replace(b"\r", b""))}
    try:
        return date.fromisoformat(found["Start"]), date.fromisoformat(found["End"])
    except (KeyError, ValueError):
        return None


def _with_period(rows: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, tuple[date, date] | None]:
    """Rows of an export without a date column, dated by the header block's period (one month)."""
    period = export_period(path)
    if period is None:
        raise ReadError(
            "no date column and no '# Start date' / '# End date' lines: not a GA4 export", file=path.name
        )
    start, end = period
    if (start.year, start.month) != (end.year, end.month) or end < start:
        raise ReadError(
            f"covers {start} … {end}, more than one month: download one month at a time from GA4, "
            "or add the Date dimension",
            file=path.name,
        )
    return rows.with_columns(date=pl.lit(start.strftime("%Y%m%d"))), period


# long: the two GA4 layouts and their refusals, in the order a row meets them
def read_ga4_csv(path: Path, ctx: Context) -> Iterator[pl.DataFrame]:
    """Adapter: a GA4 CSV export (date, pagePath, sessions, totalUsers, screenPageViews) → monthly facts."""
    rows = read_csv_text(path, skip_comments=True)
    rows = rows.rename({c: UI_TITLES[c.lower()] for c in rows.columns if c.lower() in UI_TITLES})
    period = None
    if "date" not in rows.columns and any(c in rows.columns for c in METRICS):
        rows, period = _with_period(rows, path)
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
    if period is None:
        days = good.group_by("_month").agg(first=pl.col("_day").min(), last=pl.col("_day").max())
    else:  # the header block's period, not the one day every row was dated with
        days = pl.DataFrame({"first": [period[0]], "last": [period[1]]}).with_columns(
            _month=pl.col("first").dt.truncate("1mo")
        )
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
