"""The lineage graph dataset → product → outcome: a table, and an offline SVG picture (no JavaScript, no CDN).

Which agencies' data feed which products, and what those products yield over a period (active users,
transactions, API calls, revenue). The picture draws the datasets on the left, the products in the middle and
the outcome measures on the right; a product → outcome line is as thick as the product's share of that
outcome.
"""

from __future__ import annotations

import html
from datetime import date

import polars as pl

from lab.charts import PALETTE, Svg, format_number
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


def _short(text: str | None, n: int) -> str:
    text = text or "—"
    return text if len(text) <= n else text[: n - 1] + "…"


def _ys(n: int, top: float, height: float) -> list[float]:
    """``n`` centres spread evenly over ``[top, top + height]``."""
    step = height / max(n, 1)
    return [top + step * (i + 0.5) for i in range(n)]


def _curve(x1: float, y1: float, x2: float, y2: float, width: float, colour: str, opacity: float) -> str:
    mid = (x1 + x2) / 2
    return (
        f'<path d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" fill="none" '
        f'stroke="{colour}" stroke-width="{width:.1f}" stroke-opacity="{opacity}"/>'
    )


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
    n_rows = max(datasets.height, products.height, len(OUTCOME_MEASURES))
    top, row_h = 40, 20
    body = n_rows * row_h
    height = top + body + 36
    x_ds, x_p1, x_p2, x_o = 300, 420, 650, 780
    ds_y = dict(zip(datasets["dataset_id"].to_list(), _ys(datasets.height, top, body), strict=True))
    pr_y = dict(zip(products["reuse_id"].to_list(), _ys(products.height, top, body), strict=True))
    out_y = _ys(len(OUTCOME_MEASURES), top, body)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, Arial, sans-serif" font-size="11">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="0" y="18" font-size="15" font-weight="600">{html.escape(title)}</text>',
    ]
    for r in kept.select("dataset_id", "reuse_id").iter_rows():  # links drawn: a few dozen
        parts.append(_curve(x_ds, ds_y[r[0]], x_p1, pr_y[r[1]], 1.2, PALETTE[0], 0.45))
    for p in products.iter_rows(named=True):  # at most max_products
        for (col, _), y in zip(OUTCOME_MEASURES, out_y, strict=True):
            share = float(p[col] or 0) / totals[col] if totals[col] else 0.0
            if share > 0:
                parts.append(_curve(x_p2, pr_y[p["reuse_id"]], x_o, y, 1 + 14 * share, PALETTE[1], 0.5))
    for d in datasets.iter_rows(named=True):
        y = ds_y[d["dataset_id"]]
        label = html.escape(_short(d["dataset_title"] or d["dataset_id"], 46))
        parts.append(
            f'<circle cx="{x_ds}" cy="{y:.1f}" r="3.5" fill="{PALETTE[0]}"/>'
            f'<text x="{x_ds - 7}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    for p in products.iter_rows(named=True):
        y = pr_y[p["reuse_id"]]
        colour = STATUS_COLOURS.get(p["status"], PALETTE[4])
        parts.append(
            f'<rect x="{x_p1}" y="{y - 8:.1f}" width="{x_p2 - x_p1}" height="16" rx="3" fill="{colour}" '
            f'fill-opacity="0.18" stroke="{colour}"/>'
            f'<text x="{x_p1 + 5}" y="{y + 4:.1f}">{html.escape(_short(p["product"], 38))}</text>'
        )
    for (col, key), y in zip(OUTCOME_MEASURES, out_y, strict=True):
        value = format_number(round(totals[col]), lang)
        parts.append(
            f'<rect x="{x_o}" y="{y - 14:.1f}" width="{width - x_o - 2}" height="28" rx="3" '
            f'fill="{PALETTE[1]}" fill-opacity="0.15" stroke="{PALETTE[1]}"/>'
            f'<text x="{x_o + 6}" y="{y - 2:.1f}" font-weight="600">{html.escape(t(key, lang))}</text>'
            f'<text x="{x_o + 6}" y="{y + 10:.1f}">{value}</text>'
        )
    parts.append(f'<text x="0" y="{height - 10}" font-size="11" fill="#555">{html.escape(note)}</text>')
    parts.append("</svg>")
    return Svg("".join(parts))
