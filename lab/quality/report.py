"""What the dataset-quality report shows, as ready-to-display pieces (the notebook only calls these).

:func:`build` scores the portal's listing as of the end of the period (the demo portal's when the data
are the demo's), joins usage and reuse counted from the portal's logs and registry, and reads the last
link-check results: **never the network**. The other functions turn a :class:`QualityReport` into
inline SVG charts and plain HTML tables in the reader's language (labels ``quality_*``).
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from lab.catalog import Catalog, as_catalog
from lab.charts import Html, Svg, bar_chart, format_number, number_expr, table
from lab.errors import LabError
from lab.i18n import t
from lab.quality import inputs
from lab.quality import links as linkcheck
from lab.quality.content import ContentReport, check_catalog
from lab.quality.scorecard import (
    Scores,
    agency_table,
    quality_usage,
    rank_correlations,
    reasons_text,
    score_listing,
)

log = logging.getLogger(__name__)

__all__ = [
    "QualityReport",
    "agency_html",
    "band_chart",
    "build",
    "content_html",
    "freshness_chart",
    "headline",
    "indicator_chart",
    "links_html",
    "scorecard_html",
    "usage_html",
]


@dataclass(frozen=True)
class QualityReport:
    """Everything the report shows for one period."""

    as_of: date
    lang: str
    scores: Scores
    usage: pl.DataFrame  # quality_usage()
    correlations: pl.DataFrame
    links: pl.DataFrame  # last recorded link checks
    content: dict[str, ContentReport]
    synthetic: bool


def build(
    as_of: date,
    lang: str,
    catalog: Catalog | str,
    *,
    listing_id: str = "portal-datasets",
    store: str | Path | None = None,
) -> QualityReport:
    """Score the portal's listing as of ``as_of`` and join usage and reuse up to that day (no network).

    Parameters
    ----------
    as_of
        The last day of the period.
    lang
        ``vi`` or ``en``.
    catalog
        The catalog (or its file) holding the listing (``listing_id``), the logs and the reuse registry.
    listing_id
        The catalog entry of the portal's dataset listing.
    store
        The usage store the datasets' views, downloads and API calls come from (default
        ``$LAB_USAGE_STORE`` or ``data/store``; on the demo portal it is filled from the demo's logs
        first, as for the usage report).
    """
    from lab.loader import load

    cat = as_catalog(catalog)
    listing = load(listing_id, catalog=cat)
    synthetic = cat.get(listing_id).synthetic
    last = linkcheck.last_results()
    scores = score_listing(listing, links=last, as_of=as_of, lang=lang, synthetic=synthetic)
    usage: pl.DataFrame | None
    reuse: pl.DataFrame | None
    try:
        from lab.usage.report import prepare_store

        usage = inputs.store_usage(prepare_store(store, cat), until=as_of)
        reuse = inputs.demo_reuse(cat, until=as_of)
    except LabError as exc:  # no logs or registry here: quality alone, usage and reuse counted as 0
        log.warning("usage and reuse not available for the quality report: %s", exc)
        usage = reuse = None
    joined = quality_usage(scores.datasets, usage, reuse)
    content = {k: v for k, v in check_catalog(cat, offline=True).items() if v.error is None}
    urls = scores.meta.urls()
    return QualityReport(
        as_of=as_of,
        lang=lang,
        scores=scores,
        usage=joined,
        correlations=rank_correlations(joined),
        links=last.filter(pl.col("url").is_in(urls)),
        content=content,
        synthetic=synthetic,
    )


def _title(lang: str) -> pl.Expr:
    """The dataset's title in ``lang``: the English one in English reports where the catalog has it."""
    return pl.coalesce("title_en", "title").alias("title") if lang == "en" else pl.col("title")


def _note(r: QualityReport) -> str | None:
    """No line under the charts: the demo label is said once, in the page header (lab.reports)."""
    return None


def headline(r: QualityReport) -> Html:
    """The catalogue's MQA points and band, mean udata score and stars, as of the report's day."""
    cat, lang = r.scores.catalogue, r.lang
    band = t(f"quality_band_{cat['mqa_band']}", lang)
    score = f"{format_number(cat['mqa_points'], lang)} / {format_number(cat['max_points'], lang)} · {band}"
    rows = [
        (t("quality_catalogue_score", lang), score),
        (t("quality_col_udata", lang), format_number(round(cat["udata_score"] * 100, 1), lang) + " %"),
        (t("quality_col_stars", lang), format_number(round(cat["stars"], 1), lang) + " ★"),
        (t("datasets", lang), format_number(cat["datasets"], lang)),
        (t("quality_links_unknown", lang), format_number(cat["links_unknown"], lang)),
        (t("quality_as_of", lang), r.as_of.isoformat()),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    note = ""
    unknown = f"<p>{html.escape(t('quality_unknown_note', lang))}</p>" if cat["links_unknown"] else ""
    return Html(f"{note}<table class='lab-table'>{body}</table>{unknown}")


def indicator_chart(r: QualityReport) -> Svg:
    """Points of each MQA indicator (the catalogue's), against its weight in the labels; the indicators
    that are unknown (no link checked) are named under the chart, not drawn as zero."""
    known = r.scores.indicators.filter(pl.col("points").is_not_null())
    unknown = r.scores.indicators.filter(pl.col("points").is_null())
    labels = [f"{row['property']} (/{row['weight']:g})" for row in known.iter_rows(named=True)]
    note = None
    if unknown.height:
        names = ", ".join(f"{p} (/{w:g})" for p, w in unknown.select("property", "weight").iter_rows())
        note = f"{t('quality_unknown_indicators', r.lang)}: {names}"
    return bar_chart(
        labels,
        known["points"].to_list(),
        title=t("quality_indicator_points", r.lang),
        note=note,
        lang=r.lang,
    )


def band_chart(r: QualityReport) -> Svg:
    """Datasets per MQA band."""
    counts = r.scores.datasets.group_by("mqa_band").len()
    order = ["excellent", "good", "sufficient", "bad"]
    got = dict(counts.iter_rows())
    return bar_chart(
        [t(f"quality_band_{b}", r.lang) for b in order],
        [got.get(b, 0) for b in order],
        title=t("quality_band_counts", r.lang),
        note=_note(r),
        lang=r.lang,
    )


def freshness_chart(r: QualityReport) -> Svg:
    """Datasets per freshness status (sống)."""
    got = dict(r.scores.datasets.group_by("freshness").len().iter_rows())
    order = ["on_time", "late", "not_scheduled", "unknown"]
    return bar_chart(
        [t(f"quality_fresh_{s}", r.lang) for s in order],
        [got.get(s, 0) for s in order],
        title=t("quality_freshness_title", r.lang),
        note=_note(r),
        lang=r.lang,
    )


def scorecard_html(r: QualityReport, *, top: int = 25) -> Html:
    """The ``top`` lowest-scoring datasets with their scores and the first reasons for lost points."""
    lang = r.lang
    rows = (
        r.scores.datasets.sort(["quality", "id"])
        .head(top)
        .select(
            "id",
            _title(lang),
            "publisher",
            pl.concat_str(
                number_expr(pl.col("mqa_points"), lang, 1),
                number_expr(pl.col("mqa_max_points"), lang, 0),
                separator=" / ",
            ),
            pl.col("mqa_band").replace_strict(
                {b: t(f"quality_band_{b}", lang) for b in ("excellent", "good", "sufficient", "bad")}
            ),
            (pl.col("udata_score") * 100).round(0).cast(pl.Int32),
            "stars",
            pl.col("freshness").replace_strict(
                {s: t(f"quality_fresh_{s}", lang) for s in ("on_time", "late", "not_scheduled", "unknown")}
            ),
            reasons=reasons_text(pl.col("reasons"), limit=4, lang=lang),
        )
    )
    keys = ["id", "title", "publisher", "mqa", "band", "udata", "stars", "freshness", "reasons"]
    return table(rows, [t(f"quality_col_{k}", lang) for k in keys], lang=lang)


def agency_html(r: QualityReport, *, min_count: int = 1) -> Html:
    """The agency league table (agencies with at least ``min_count`` datasets)."""
    lang = r.lang
    league = (
        agency_table(r.scores.datasets, min_count=min_count)
        .drop("mqa_max_points")
        .with_columns(
            pl.col("mqa_band").replace_strict(
                {b: t(f"quality_band_{b}", lang) for b in ("excellent", "good", "sufficient", "bad")}
            ),
            (pl.col("udata_score") * 100).round(1),
            (pl.col("on_time") * 100).round(1),
            (pl.col("quality") * 100).round(1),
        )
    )
    keys = ["rank", "publisher", "datasets", "mqa", "band", "udata", "stars", "on_time", "quality"]
    words = f"{t('quality_min_count_note', lang)} {min_count} {t('datasets', lang).lower()}."
    note = f"<p>{html.escape(words)}</p>"
    return Html(note + table(league, [t(f"quality_col_{k}", lang) for k in keys], lang=lang).markup)


def usage_html(r: QualityReport, *, top: int = 10) -> Html:
    """High quality little used, much used poor quality, and the rank correlations."""
    lang = r.lang
    keys = ["id", "title", "publisher", "quality", "usage", "reuses"]
    headers = [t(f"quality_col_{k}", lang) for k in keys]
    parts = []
    for segment, label, order in (
        ("hidden_gem", "quality_hidden_gems", [("quality", True), ("usage", False)]),
        ("popular_but_poor", "quality_popular_poor", [("usage", True), ("quality", False)]),
    ):
        rows = (
            r.usage.filter(pl.col("segment") == segment)
            .sort([c for c, _ in order], descending=[d for _, d in order])
            .head(top)
            .select("id", _title(lang), "publisher", (pl.col("quality") * 100).round(1), "usage", "reuses")
        )
        count = r.usage.filter(pl.col("segment") == segment).height
        parts.append(f"<h3>{html.escape(t(label, lang))} ({format_number(count, lang)})</h3>")
        parts.append(table(rows, headers, lang=lang).markup)
    corr = r.correlations.select(
        pair=pl.col("a").replace_strict(_names(lang))
        + pl.lit(" × ")
        + pl.col("b").replace_strict(_names(lang)),
        spearman=pl.col("spearman").round(3),
    )
    parts.append(f"<h3>{html.escape(t('quality_correlations', lang))}</h3>")
    parts.append(
        table(corr, [t("quality_col_pair", lang), t("quality_col_spearman", lang)], lang=lang).markup
    )
    parts.append(f"<p>{html.escape(t('quality_usage_note', lang))}</p>")
    return Html("".join(parts))


def _names(lang: str) -> dict[str, str]:
    return {
        "quality": t("quality_col_quality", lang),
        "usage": t("quality_col_usage", lang),
        "reuses": t("quality_col_reuses", lang),
    }


def links_html(r: QualityReport, *, top: int = 20) -> Html:
    """The last recorded link checks of the listing's URLs (broken first); never the network."""
    lang = r.lang
    if r.links.height == 0:
        return Html(f"<p>{html.escape(t('quality_links_none', lang))}</p>")
    rows = (
        r.links.sort(["status", "url"])
        .head(top)
        .select(
            "url",
            pl.concat_str([pl.col("status"), pl.col("reason")], separator=": ", ignore_nulls=True),
            pl.col("first_failure").dt.date().cast(pl.String),
            "failure_count",
        )
    )
    keys = ["url", "status", "broken_since", "failures"]
    return table(rows, [t(f"quality_col_{k}", lang) for k in keys], lang=lang)


def content_html(r: QualityReport) -> Html:
    """Content checks of the lab catalog's datasets that could be read here: score per dimension."""
    lang = r.lang
    rows = [
        {
            "id": k,
            **{d: v.dimension_scores()[d] for d in ("correct", "complete", "clean")},
            "score": v.score,
            "problems": "; ".join(
                f"{t(f'quality_content_{c.name}', lang)} {c.failing}/{c.checked}"
                for c in v.checks
                if c.failing
            ),
        }
        for k, v in r.content.items()
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "id": pl.String,
            "correct": pl.Float64,
            "complete": pl.Float64,
            "clean": pl.Float64,
            "score": pl.Float64,
            "problems": pl.String,
        },
        orient="row",
    ).with_columns(pl.col("correct", "complete", "clean", "score").round(3))
    headers = [
        t("quality_col_id", lang),
        t("quality_dim_correct", lang),
        t("quality_dim_complete", lang),
        t("quality_dim_clean", lang),
        t("quality_col_content", lang),
        t("quality_col_reasons", lang),
    ]
    return table(frame, headers, lang=lang)
