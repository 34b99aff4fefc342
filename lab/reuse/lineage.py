"""The lineage graph dataset → product → outcome: a table, and its picture (:func:`lab.charts.flow_chart`).

Which agencies' data feed which products, and what those products yield over a period (active users,
transactions, API calls, revenue). The picture draws the datasets on the left, the products in the middle and
the outcome measures on the right; a product → outcome line is as thick as the product's share of that
outcome.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from lab.charts import PALETTE, FlowNode, Svg, flow_chart, format_number
from lab.i18n import t
from lab.periods import as_of_date
from lab.reuse.indicators import status_on, with_dates
from lab.reuse.outcomes import totals_by_reuse
from lab.reuse.registry import links

OUTCOME_MEASURES: tuple[tuple[str, str], ...] = (
    ("active_users_monthly", "reuse_active_users"),
    ("transactions", "reuse_transactions"),
    ("api_calls", "reuse_api_calls"),
    ("revenue_vnd", "reuse_revenue_vnd"),
)
"""Outcome columns drawn on the right of the picture, with their label keys."""
STATUS_COLOURS = {"live": PALETTE[2], "retired": "#999999", "planned": PALETTE[1]}


def lineage_table(
    valid: pl.DataFrame,
    outcomes: pl.DataFrame | None = None,
    listing: pl.DataFrame | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
) -> pl.DataFrame:
    """One row per dataset → product link, with the dataset's agency and the product's outcomes over a period.

    Columns: ``dataset_id``, ``dataset_title``, ``publisher`` (null without a listing), ``reuse_id``,
    ``product``, ``type``, ``owner``, ``status`` (on ``end``, from the dates), and the outcome totals of
    :func:`lab.reuse.outcomes.totals_by_reuse` (``active_users_monthly``, ``transactions``, ``api_calls``,
    ``revenue_vnd``, ``evidence_links``; null when the product reported nothing).
    """
    end = end or as_of_date()
    products = with_dates(valid).select(
        "reuse_id",
        pl.col("title").alias("product"),
        "type",
        "owner",
        status_on(end).alias("status"),
    )
    table = links(valid).join(products, on="reuse_id", how="left")
    if listing is not None:
        cols = [pl.col("dataset_id"), pl.col("title_vi").alias("dataset_title"), pl.col("publisher")]
        table = table.join(listing.select(cols), on="dataset_id", how="left")
    else:
        table = table.with_columns(
            pl.lit(None, dtype=pl.String).alias("dataset_title"),
            pl.lit(None, dtype=pl.String).alias("publisher"),
        )
    if outcomes is not None:
        totals = totals_by_reuse(outcomes, start, end).drop("months_reported", "sessions")
        table = table.join(totals, on="reuse_id", how="left")
    else:
        table = table.with_columns(
            pl.lit(None, dtype=pl.Int64).alias(c)
            for c in ("active_users_monthly", "transactions", "api_calls", "revenue_vnd", "evidence_links")
        )
    first = ["dataset_id", "dataset_title", "publisher", "reuse_id", "product", "type", "owner", "status"]
    return table.select(*first, pl.exclude(first)).sort("reuse_id", "dataset_id")


def lineage_svg(
    table: pl.DataFrame,
    *,
    lang: str = "vi",
    max_products: int = 12,
    title: str | None = None,
    note: str | None = None,
    width: int = 980,
) -> Svg:
    """Draw :func:`lineage_table` as dataset → product → outcome (inline SVG, offline).

    Parameters
    ----------
    table
        The lineage table.
    lang
        Language of the labels and numbers.
    max_products
        The products drawn: those with the most revenue, then users, then transactions (and their datasets).
    title, note
        Above and under the picture (default: the lineage label and the line-width note).
    """
    title = title or t("reuse_lineage", lang)
    note = note or t("reuse_lineage_note", lang)
    measure_cols = [c for c, _ in OUTCOME_MEASURES]
    products = (
        table.group_by("reuse_id")
        .agg(pl.col("product").first(), pl.col("status").first(), *[pl.col(c).first() for c in measure_cols])
        .sort(
            ["revenue_vnd", "active_users_monthly", "transactions", "reuse_id"],
            descending=[True, True, True, False],
            nulls_last=True,
        )
        .head(max_products)
    )
    kept = table.filter(pl.col("reuse_id").is_in(products["reuse_id"].implode()))
    datasets = (
        kept.group_by("dataset_id")
        .agg(pl.col("dataset_title").first(), pl.len().alias("_n"))
        .sort(["_n", "dataset_id"], descending=[True, False])
    )
    totals = {c: float(products[c].fill_null(0).sum()) for c in measure_cols}
    return flow_chart(
        [
            FlowNode(d["dataset_id"], d["dataset_title"] or d["dataset_id"])
            for d in datasets.iter_rows(named=True)
        ],
        [
            FlowNode(p["reuse_id"], p["product"] or "—", STATUS_COLOURS.get(p["status"], PALETTE[4]))
            for p in products.iter_rows(named=True)
        ],
        [
            FlowNode(col, t(key, lang), value=format_number(round(totals[col]), lang))
            for col, key in OUTCOME_MEASURES
        ],
        left_links=kept.select("dataset_id", "reuse_id").iter_rows(),
        right_links=(
            (p["reuse_id"], col, float(p[col] or 0) / totals[col] if totals[col] else 0.0)
            for p in products.iter_rows(named=True)
            for col, _ in OUTCOME_MEASURES
        ),
        title=title,
        note=note,
        width=width,
    )
