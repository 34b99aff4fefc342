"""data.gouv.fr Metric API exports (JSON) → monthly facts, not events.

Three shapes are read:

* a per-dataset file ``{id, slug, …, lastUpdate?, monthlyStats: [{month, visits, downloads}]}``
  (as the files of ``docs/concepts/sources.md``, "data.gouv.fr metrics"): facts ``dataset_views`` and
  ``downloads`` of that dataset;
* a site-wide file ``{totalVisits, …, lastUpdate, monthlyStats: [...]}`` without an ``id`` (as
  ``global-stats.json``): facts ``visits`` and ``downloads`` of the whole site;
* a page of the Metric API itself, ``{"data": [{"metric_month", "dataset_id", "monthly_visit",
  "monthly_download_resource", …}], "links": …, "meta": …}``: ``monthly_visit`` → ``dataset_views``,
  ``monthly_download_resource`` → ``downloads``, any other ``monthly_<x>`` → ``<x>``.

Quirks handled: the id ``\\N`` (PostgreSQL's NULL marker leaked from a dump) is not a dataset: its
counts become site-wide ``<metric>_unattributed`` facts (downloads that could not be attached to a
dataset). A month that the export's ``lastUpdate`` falls in is flagged ``partial`` (data.gouv.fr's
2025-12 holds four days). Zero is kept as zero: it is not "missing".
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from lab.errors import ReadError
from lab.usage.adapters.base import Context
from lab.usage.dates import parse_month
from lab.usage.schema import conform_facts

NULL_ID = "\\N"
API_METRICS = {"monthly_visit": "dataset_views", "monthly_download_resource": "downloads"}


def _partial_month(last_update: Any) -> str | None:
    """``YYYY-MM`` of the export's last update if it falls before that month's last day."""
    if not isinstance(last_update, str):
        return None
    try:
        when = datetime.fromisoformat(last_update.replace("Z", "+00:00")).date()
    except ValueError:
        return None
    last_day = calendar.monthrange(when.year, when.month)[1]
    return f"{when.year:04d}-{when.month:02d}" if when < date(when.year, when.month, last_day) else None


def _records(doc: Any) -> list[dict[str, Any]]:
    """Flatten the supported shapes into ``{month, dataset_id, metric, value, partial_month}`` records."""
    docs = doc if isinstance(doc, list) else [doc]
    out: list[dict[str, Any]] = []
    for d in docs:  # one per export document (a handful), never per data row
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        if isinstance(d.get("monthlyStats"), list):
            dataset = d.get("id")
            partial = _partial_month(d.get("lastUpdate"))
            stats = pl.DataFrame(d["monthlyStats"], infer_schema_length=None)
            mapping = (
                {"visits": "dataset_views", "downloads": "downloads"}
                if dataset is not None
                else {"visits": "visits", "downloads": "downloads"}
            )
            out.append({"stats": stats, "dataset": dataset, "partial": partial, "mapping": mapping})
        elif isinstance(d.get("data"), list):
            stats = pl.DataFrame(d["data"], infer_schema_length=None)
            if "metric_month" not in stats.columns:
                raise ValueError("Metric API records have no metric_month")
            mapping = {
                c: API_METRICS.get(c, c.removeprefix("monthly_"))
                for c in stats.columns
                if c.startswith("monthly_")
            }
            stats = stats.rename({"metric_month": "month"})
            out.append({"stats": stats, "dataset": None, "partial": None, "mapping": mapping})
        else:
            raise ValueError("neither monthlyStats nor Metric API data")
    return out


def read_datagouv_metrics(path: Path, ctx: Context) -> Iterator[pl.DataFrame]:
    """Adapter: a data.gouv.fr metrics JSON file → monthly facts."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        parts = _records(doc)
    except (ValueError, pl.exceptions.PolarsError) as exc:
        raise ReadError(
            f"not data.gouv.fr metrics JSON: {str(exc).splitlines()[0]}", file=path.name
        ) from None
    except RecursionError:
        raise ReadError("not data.gouv.fr metrics JSON: nested too deeply", file=path.name) from None
    for part in parts:
        stats: pl.DataFrame = part["stats"]
        ctx.lines_read += stats.height
        dataset = part["dataset"]
        unattributed = dataset == NULL_ID
        id_expr = (
            pl.col("dataset_id").cast(pl.String)
            if "dataset_id" in stats.columns and dataset is None
            else pl.lit(None if unattributed else dataset, dtype=pl.String)
        )
        id_expr = pl.when(id_expr == NULL_ID).then(None).otherwise(id_expr)
        suffix = (
            pl.when(pl.lit(unattributed) | (pl.col("dataset_id") == NULL_ID).fill_null(False))
            .then(pl.lit("_unattributed"))
            .otherwise(pl.lit(""))
            if "dataset_id" in stats.columns
            else pl.lit("_unattributed" if unattributed else "")
        )
        month = pl.col("month").cast(pl.String).str.strip_chars()
        rows = stats.with_row_index("line_no", offset=1).with_columns(
            _month=parse_month(month, ctx.timezone),
            _id=id_expr,
            _suffix=suffix,
            _text=month,
        )
        long = rows.unpivot(
            index=["line_no", "_month", "_id", "_suffix", "_text"],
            on=list(part["mapping"]),
            variable_name="_field",
            value_name="_value",
        ).with_columns(
            value=pl.col("_value").cast(pl.Int64, strict=False),
            reject=pl.when(pl.col("_month").is_null())
            .then(pl.lit("month is not YYYY-MM"))
            .when(pl.col("_value").is_not_null() & pl.col("_value").cast(pl.Int64, strict=False).is_null())
            .then(pl.lit("a count is not a whole number")),
        )
        bad_lines = (
            long.filter(pl.col("reject").is_not_null()).unique("line_no", keep="first").sort("line_no")
        )
        ctx.reject(bad_lines, text_col="_text")
        good = long.filter(
            pl.col("reject").is_null()
            & pl.col("value").is_not_null()
            & ~pl.col("line_no").is_in(bad_lines["line_no"])
        )
        ctx.note_times(good.with_columns(ts=pl.col("_month")))
        yield conform_facts(
            good.select(
                month="_month",
                source=pl.lit("datagouv-metrics"),
                dataset_id="_id",
                metric=pl.col("_field").replace_strict(part["mapping"], return_dtype=pl.String)
                + pl.col("_suffix"),
                value="value",
                partial=(
                    pl.col("_month").dt.strftime("%Y-%m") == pl.lit(part["partial"], dtype=pl.String)
                ).fill_null(False),
                source_file=pl.lit(ctx.source_file),
            )
        ).collect()
