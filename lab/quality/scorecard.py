"""The scorecard: every score per dataset with the reasons for lost points, per agency, and joined with
usage and reuse.

:func:`score` runs every score over normalised metadata (:mod:`lab.quality.metadata`) and gives a
:class:`Scores`: one row per dataset (``datasets``: MQA points and band, udata score, stars, freshness,
link health, content score, a quality index and the ``reasons``), the catalogue's MQA table and total.
:func:`score_catalog` and :func:`score_listing` are the two doors: the lab's catalog, the portal's listing.

Reasons are a list per dataset, most points lost first, each ``{scheme, indicator, points_lost, reason}``
(``scheme``: mqa, udata, stars, freshness, links, content); ``reason`` is in the language asked for
(labels ``quality_*`` of ``lab/vocab/labels/quality.yaml``).

The quality index (0–1) is the mean of the normalised scores a dataset has: MQA points / the dataset's
MQA maximum, the udata score, stars / 5 and, when the data could be checked, the content score.

Unknown is not zero: a link not checked, or that could not be checked (``unsure``: offline, DNS failing),
loses no points anywhere: the MQA link indicators leave the denominator (``mqa_max_points`` is 405 less
their weights), the udata criterion leaves it (passed / 8), the stars' broken-link gate stays open; the
reasons say "not checked: unknown, left out of the score" and ``links_unknown`` counts them.

Quality × usage × reuse (:func:`quality_usage`, :func:`rank_correlations`): usage and reuse come as plain
frames (``dataset_id, views, downloads, api_calls``; ``dataset_id, reuses``) from whatever counts them
(the usage and reuse packages, or :mod:`lab.quality.inputs` on the demo portal).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from lab.catalog import Catalog
from lab.i18n import t
from lab.quality import links as linkcheck
from lab.quality.content import ContentReport, check_catalog
from lab.quality.freshness import freshness
from lab.quality.metadata import Metadata, from_catalog, from_listing
from lab.quality.mqa import (
    KNOWN_STATUSES,
    LINK_INDICATORS,
    band_expr,
    catalogue_indicators,
    dataset_indicators,
    distribution_checks,
    scaled,
    totals,
)
from lab.quality.stars import dataset_stars
from lab.quality.udata import CRITERIA, udata_criteria
from lab.quality.vocab import indicators

log = logging.getLogger(__name__)

__all__ = [
    "REASON_TYPE",
    "Scores",
    "agency_table",
    "quality_usage",
    "rank_correlations",
    "reasons_text",
    "score",
    "score_catalog",
    "score_listing",
]

REASON_TYPE = pl.Struct(
    {"scheme": pl.String, "indicator": pl.String, "points_lost": pl.Float64, "reason": pl.String}
)
"""The type of one reason."""


def _as_of(as_of: date | None) -> date:
    if as_of is not None:
        return as_of
    from lab.periods import as_of_date

    return as_of_date()


@dataclass(frozen=True)
class Scores:
    """Every score of a set of datasets."""

    meta: Metadata
    datasets: pl.DataFrame
    indicators: pl.DataFrame
    catalogue: dict[str, Any]
    content: dict[str, ContentReport] = field(default_factory=dict)
    as_of: date = field(default_factory=date.today)

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        """One dataset's row as a dict (KeyError when unknown)."""
        rows = self.datasets.filter(pl.col("id") == dataset_id)
        if rows.height == 0:
            raise KeyError(dataset_id)
        return rows.row(0, named=True)

    def to_json(self) -> dict[str, Any]:
        """``{"datasets": [...], "catalogue": {...}}`` as ``lab quality score --json`` prints it."""
        out = []
        for row in self.datasets.iter_rows(named=True):
            report = self.content.get(row["id"])
            out.append(
                {
                    "id": row["id"],
                    "title": row["title"],
                    "publisher": row["publisher"],
                    "mqa_points": row["mqa_points"],
                    "mqa_max_points": row["mqa_max_points"],
                    "mqa_band": row["mqa_band"],
                    "udata_score": row["udata_score"],
                    "stars": row["stars"],
                    "freshness": {
                        "status": row["freshness"],
                        "frequency": row["frequency"],
                        "last_modified": _iso(row["last_modified"]),
                        "next_expected": _iso(row["next_expected"]),
                        "days_late": row["days_late"],
                        "links_answering": row["links_answering"],
                    },
                    "content": report.to_dict() if report is not None else None,
                    "links": {
                        "checked": row["links_checked"],
                        "broken": row["links_broken"],
                        "unknown": row["links_unknown"],
                        "broken_since": _iso(row["broken_since"]),
                    },
                    "quality": row["quality"],
                    "reasons": row["reasons"],
                }
            )
        return {"datasets": out, "catalogue": {**self.catalogue, "as_of": self.as_of.isoformat()}}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# --------------------------------------------------------------------------------------------- reasons
def _reason(scheme: str, indicator: str, lost: pl.Expr | float | None, text: pl.Expr | str) -> pl.Expr:
    return pl.struct(
        scheme=pl.lit(scheme),
        indicator=pl.lit(indicator),
        points_lost=(lost if isinstance(lost, pl.Expr) else pl.lit(lost, pl.Float64)).cast(pl.Float64),
        reason=text if isinstance(text, pl.Expr) else pl.lit(text),
    )


def _reasons(lang: str) -> pl.Expr:
    """The list of reasons of each row of the joined scorecard frame, most points lost first."""
    parts: list[pl.Expr] = []
    for ind in indicators():
        share = pl.col(f"mqa_{ind.id}")
        lost = (ind.weight * (1 - share)).round(2)
        text: pl.Expr | str = t(f"quality_mqa_{ind.id}", lang)
        if ind.id in LINK_INDICATORS:
            kind = ind.id.removesuffix("_url_ok")
            text = (
                pl.when(pl.col(f"{kind}_urls") == 0)
                .then(pl.lit(t(f"quality_mqa_{kind}_url_none", lang)))
                .otherwise(pl.lit(text))
            )
            unknown = _reason("mqa", ind.id, None, t(f"quality_mqa_{ind.id}_unchecked", lang))
            parts.append(pl.when(share.is_null()).then(unknown))
        if ind.id == "dcat_ap":
            gaps = pl.col("dcat_ap_gaps").list.eval(
                pl.element().replace_strict(
                    {
                        g: t(f"quality_dcat_gap_{g}", lang)
                        for g in ("title", "description", "distribution", "access_url")
                    }
                )
            )
            text = pl.lit(f"{text}: ") + gaps.list.join(", ")
        parts.append(pl.when(share < 1).then(_reason("mqa", ind.id, lost, text)))
    for crit in CRITERIA:
        text = t(f"quality_udata_{crit}", lang)
        if crit == "description":
            missing = pl.col("description_length") == 0
            text = (
                pl.when(missing)
                .then(pl.lit(t("quality_udata_description_missing", lang)))
                .otherwise(pl.lit(text))
            )
        parts.append(pl.when(~pl.col(f"udata_{crit}")).then(_reason("udata", crit, None, text)))
        if crit == "resources_available":
            unknown = _reason("udata", crit, None, t("quality_udata_resources_available_unknown", lang))
            parts.append(pl.when(pl.col(f"udata_{crit}").is_null()).then(unknown))
    stars_text = pl.lit(t("quality_stars", lang) + " ") + pl.col("stars").cast(pl.String) + pl.lit("★: ")
    why = pl.col("stars_reason").replace_strict(
        {
            k: t(f"quality_stars_{k.replace(' ', '_')}", lang)
            for k in ("licence", "broken", "format", "no distribution")
        },
        default=pl.col("stars_reason"),
    )
    parts.append(pl.when(pl.col("stars") < 3).then(_reason("stars", "stars", None, stars_text + why)))
    late = (
        pl.lit(t("quality_fresh_late", lang) + ": ")
        + pl.col("days_late").cast(pl.String)
        + pl.lit(" " + t("quality_days", lang))
    )
    parts.append(pl.when(pl.col("freshness") == "late").then(_reason("freshness", "late", None, late)))
    parts.append(
        pl.when(pl.col("freshness") == "unknown").then(
            _reason("freshness", "unknown", None, t("quality_fresh_unknown", lang))
        )
    )
    broken = pl.lit(t("quality_links_broken", lang) + ": ") + pl.col("links_broken").cast(pl.String)
    parts.append(pl.when(pl.col("links_broken") > 0).then(_reason("links", "broken", None, broken)))
    listed = pl.concat_list(
        [*[pl.concat_list(p) for p in parts], pl.col("content_reasons")]
    ).list.drop_nulls()
    return listed.list.eval(
        pl.element().sort_by(
            pl.element().struct.field("points_lost"), descending=True, nulls_last=True, maintain_order=True
        )
    )


def _content_frame(content: dict[str, ContentReport], lang: str) -> pl.DataFrame:
    rows = []
    for dataset_id, report in content.items():
        reasons = [
            {
                "scheme": "content",
                "indicator": c.name,
                "points_lost": None,
                "reason": f"{t(f'quality_content_{c.name}', lang)}: {c.failing}/{c.checked} ({c.rate:.1%})",
            }
            for c in report.checks
            if c.failing
        ]
        if report.error:
            reasons.append(
                {"scheme": "content", "indicator": "unreadable", "points_lost": None, "reason": report.error}
            )
        rows.append({"id": dataset_id, "content_score": report.score, "content_reasons": reasons})
    return pl.DataFrame(
        rows,
        schema={"id": pl.String, "content_score": pl.Float64, "content_reasons": pl.List(REASON_TYPE)},
        orient="row",
    )


def _link_summary(meta: Metadata, links: pl.DataFrame | None) -> pl.DataFrame:
    checks = distribution_checks(meta, links)
    first = linkcheck.status_table(links).select("url", "first_failure")
    per_kind = checks.group_by("dataset_id").agg(
        access_urls=pl.col("access_url").is_not_null().sum().cast(pl.Int32),
        download_urls=pl.col("download_url").is_not_null().sum().cast(pl.Int32),
    )
    urls = (
        pl.concat(
            [
                checks.select("dataset_id", url="access_url", status="access_status"),
                checks.select("dataset_id", url="download_url", status="download_status"),
            ]
        )
        .filter(pl.col("url").is_not_null())
        .unique(["dataset_id", "url"])
        .join(first, on="url", how="left")
    )
    checked = pl.col("status").is_not_null()
    answering = pl.col("status").is_in(["ok", "unchanged"]).sum() / checked.sum()
    summary = urls.group_by("dataset_id").agg(
        links_checked=checked.sum().cast(pl.Int32),
        links_unknown=(~pl.col("status").is_in(KNOWN_STATUSES).fill_null(False)).sum().cast(pl.Int32),
        links_broken=(pl.col("status") == "broken").sum().cast(pl.Int32),
        links_answering=pl.when(checked.any()).then(answering.round(4)),
        broken_since=pl.col("first_failure").filter(pl.col("status") == "broken").min(),
    )
    return per_kind.join(summary, on="dataset_id", how="left")


# ------------------------------------------------------------------------------------------------ score
def score(
    meta: Metadata,
    *,
    links: pl.DataFrame | None = None,
    content: dict[str, ContentReport] | None = None,
    as_of: date | None = None,
    lang: str = "en",
) -> Scores:
    """Every score of the datasets of ``meta``.

    Parameters
    ----------
    meta
        Normalised metadata (:func:`~lab.quality.metadata.from_catalog` or
        :func:`~lab.quality.metadata.from_listing`).
    links
        Link check results (``url``, ``status``, ``first_failure``); default the last recorded ones
        (:func:`lab.quality.links.last_results`, never the network).
    content
        Content reports by dataset id (:func:`lab.quality.content.check_catalog`); None: not checked.
    as_of
        The day freshness is judged on; default ``$LAB_AS_OF`` or today.
    lang
        Language of the reasons (``vi`` or ``en``).
    """
    as_of = _as_of(as_of)
    links = linkcheck.last_results() if links is None else links
    content = content or {}
    mqa = dataset_indicators(meta, links)
    mqa = mqa.rename({i.id: f"mqa_{i.id}" for i in indicators()})
    ud = udata_criteria(meta, links, as_of=as_of).rename({c: f"udata_{c}" for c in CRITERIA})
    st = dataset_stars(meta, links)
    fr = freshness(meta.datasets.select("id", "frequency", "modified", "issued"), as_of=as_of).select(
        "id", "frequency", "last_modified", "next_expected", "days_late", freshness="status"
    )
    ln = _link_summary(meta, links)
    cf = _content_frame(content, lang)
    joined = (
        meta.datasets.select("id", "title", "title_en", "publisher", "portal_id", "synthetic")
        .join(mqa, on="id", how="left")
        .join(ud, on="id", how="left")
        .join(st, on="id", how="left")
        .join(fr, on="id", how="left")
        .join(ln, left_on="id", right_on="dataset_id", how="left")
        .join(cf, on="id", how="left")
        .with_columns(
            pl.col(
                "links_checked",
                "links_broken",
                "links_unknown",
                "access_urls",
                "download_urls",
            ).fill_null(0),
            pl.col("content_reasons").fill_null(pl.lit([], dtype=pl.List(REASON_TYPE))),
        )
    )
    normalised = [
        pl.col("mqa_points") / pl.col("mqa_max_points"),
        pl.col("udata_score"),
        pl.col("stars").cast(pl.Float64) / 5,
        pl.col("content_score"),
    ]
    quality = (pl.sum_horizontal(normalised) / pl.sum_horizontal(n.is_not_null() for n in normalised)).round(
        4
    )
    datasets = joined.with_columns(quality=quality, reasons=_reasons(lang)).select(
        "id",
        "title",
        "title_en",
        "publisher",
        "mqa_points",
        "mqa_max_points",
        "mqa_band",
        "udata_score",
        "stars",
        "freshness",
        "frequency",
        "last_modified",
        "next_expected",
        "days_late",
        "links_checked",
        "links_broken",
        "links_unknown",
        "links_answering",
        "broken_since",
        "content_score",
        "quality",
        "reasons",
        "portal_id",
        "synthetic",
        *[f"mqa_{i.id}" for i in indicators()],
        *[f"udata_{c}" for c in CRITERIA],
    )
    table = catalogue_indicators(meta, links)
    catalogue = {
        **totals(table),
        "links_unknown": int(datasets["links_unknown"].sum()),
        "datasets": meta.datasets.height,
        "distributions": meta.distributions.height,
        "udata_score": _mean(datasets["udata_score"]),
        "stars": _mean(datasets["stars"].cast(pl.Float64)),
        "quality": _mean(datasets["quality"]),
        "indicators": table.drop("exact").to_dicts(),
    }
    return Scores(meta, datasets, table, catalogue, content, as_of)


def _mean(series: pl.Series) -> float | None:
    value = series.mean()
    return round(float(value), 4) if value is not None else None  # type: ignore[arg-type]


def score_catalog(
    catalog: Catalog,
    ids: Sequence[str] | None = None,
    *,
    links: pl.DataFrame | None = None,
    content: bool = True,
    offline: bool = True,
    as_of: date | None = None,
    lang: str = "en",
) -> Scores:
    """Score the lab's catalog (or the entries ``ids``): metadata, links, freshness and content.

    Parameters
    ----------
    catalog
        A loaded catalog.
    ids
        Only these datasets; default all.
    links
        Link results; default the last recorded ones (run :func:`lab.quality.links.check_links` first for
        fresh ones).
    content
        Run the content checks (they read the data).
    offline
        The content checks read only what is already here (never the network).
    as_of, lang
        As for :func:`score`.
    """
    meta = from_catalog(catalog, list(ids) if ids else None)
    reports = check_catalog(catalog, ids, offline=offline) if content else {}
    return score(meta, links=links, content=reports, as_of=as_of, lang=lang)


def score_listing(
    listing: pl.DataFrame,
    *,
    links: pl.DataFrame | None = None,
    as_of: date | None = None,
    lang: str = "en",
    synthetic: bool = False,
) -> Scores:
    """Score the portal's dataset listing (metadata, links, freshness; its data are not here to check).

    ``as_of`` also limits the listing to the datasets issued by then.
    """
    as_of = _as_of(as_of)
    if "issued" in listing.columns and listing.schema["issued"] == pl.Date:
        listing = listing.filter(pl.col("issued").is_null() | (pl.col("issued") <= as_of))
    meta = from_listing(listing, synthetic=synthetic)
    return score(meta, links=links, as_of=as_of, lang=lang)


def reasons_text(reasons: pl.Expr, *, limit: int | None = None, lang: str = "en") -> pl.Expr:
    """A list of reasons as one line: ``"reason (−20), reason, …"`` (the ``limit`` first), the points
    written as readers of ``lang`` write numbers (:func:`lab.charts.number_expr`: ``−2,5`` in Vietnamese)."""
    from lab.charts import number_expr

    items = reasons.list.head(limit) if limit else reasons
    lost = pl.element().struct.field("points_lost").round(1)
    shown = (
        pl.when(lost == lost.round(0)).then(number_expr(lost, lang, 0)).otherwise(number_expr(lost, lang, 1))
    )
    return items.list.eval(
        pl.element().struct.field("reason")
        + pl.when(lost > 0).then(pl.lit(" (−") + shown + pl.lit(")")).otherwise(pl.lit(""))
    ).list.join("; ")


# ----------------------------------------------------------------------------------------- aggregates
def agency_table(scorecard: pl.DataFrame, *, min_count: int = 1, by: str = "publisher") -> pl.DataFrame:
    """The agency league table: per publisher, datasets and mean scores, ranked by mean quality.

    Columns: ``rank``, ``publisher``, ``datasets``, ``mqa_points`` and ``mqa_max_points`` (means),
    ``mqa_band`` (of the mean share),
    ``udata_score``, ``stars``, ``on_time`` (share of scheduled datasets updated on time), ``quality``.
    Agencies with fewer than ``min_count`` datasets are left out.
    """
    scheduled = pl.col("freshness").is_in(["on_time", "late"])
    table = (
        scorecard.group_by(pl.col(by).fill_null("—"))
        .agg(
            datasets=pl.len(),
            mqa_points=pl.col("mqa_points").mean().round(2),
            mqa_max_points=pl.col("mqa_max_points").mean().round(2),
            udata_score=pl.col("udata_score").mean().round(4),
            stars=pl.col("stars").cast(pl.Float64).mean().round(2),
            on_time=((pl.col("freshness") == "on_time").sum() / scheduled.sum()).round(4),
            quality=pl.col("quality").mean().round(4),
        )
        .filter(pl.col("datasets") >= min_count)
    )
    return (
        table.with_columns(
            mqa_band=band_expr(scaled(pl.col("mqa_points"), pl.col("mqa_max_points"))),
            rank=pl.col("quality").rank("min", descending=True).cast(pl.Int32),
        )
        .sort(["rank", by])
        .select(
            "rank",
            by,
            "datasets",
            "mqa_points",
            "mqa_max_points",
            "mqa_band",
            "udata_score",
            "stars",
            "on_time",
            "quality",
        )
    )


def _usage_columns(
    usage: pl.DataFrame | None, reuse: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    counts = ("views", "downloads", "api_calls")
    u = usage if usage is not None else pl.DataFrame(schema={"dataset_id": pl.String})
    u = u.select(
        pl.col("dataset_id").cast(pl.String),
        *[(pl.col(c) if c in u.columns else pl.lit(0)).cast(pl.Int64).fill_null(0).alias(c) for c in counts],
    )
    u = u.group_by("dataset_id").agg(pl.col(counts).sum())
    r = reuse if reuse is not None else pl.DataFrame(schema={"dataset_id": pl.String, "reuses": pl.Int64})
    r = r.select(pl.col("dataset_id").cast(pl.String), pl.col("reuses").cast(pl.Int64).fill_null(0))
    return u, r.group_by("dataset_id").agg(pl.col("reuses").sum())


def quality_usage(
    scorecard: pl.DataFrame, usage: pl.DataFrame | None = None, reuse: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Quality joined with usage and reuse, and who falls where.

    Parameters
    ----------
    scorecard
        :attr:`Scores.datasets` (``id``, ``title``, ``publisher``, ``quality``).
    usage
        ``dataset_id, views, downloads, api_calls`` (missing datasets count 0). ``dataset_id`` is matched
        with the dataset's portal id when it has one (catalog entries with ``portal_id``), else its id.
    reuse
        ``dataset_id, reuses`` (missing datasets count 0).

    Returns
    -------
    polars.DataFrame
        ``id, title, publisher, quality, views, downloads, api_calls, usage (their sum), reuses,
        segment``: ``hidden_gem`` (quality in the top quartile, usage in the bottom one),
        ``popular_but_poor`` (usage in the top quartile, quality in the bottom one), else null.
    """
    u, r = _usage_columns(usage, reuse)
    key = pl.coalesce("portal_id", "id") if "portal_id" in scorecard.columns else pl.col("id")
    frame = (
        scorecard.select(
            "id",
            "title",
            *(["title_en"] if "title_en" in scorecard.columns else []),
            "publisher",
            "quality",
            _key=key,
        )
        .join(u, left_on="_key", right_on="dataset_id", how="left")
        .join(r, left_on="_key", right_on="dataset_id", how="left")
        .drop("_key")
        .with_columns(pl.col("views", "downloads", "api_calls", "reuses").fill_null(0))
        .with_columns(usage=pl.col("views") + pl.col("downloads") + pl.col("api_calls"))
    )
    q, use = pl.col("quality"), pl.col("usage")
    segment = (
        pl.when((q >= q.quantile(0.75)) & (use <= use.quantile(0.25)))
        .then(pl.lit("hidden_gem"))
        .when((use >= use.quantile(0.75)) & (q <= q.quantile(0.25)))
        .then(pl.lit("popular_but_poor"))
    )
    return frame.with_columns(segment=segment).sort(
        ["segment", "quality"], descending=[False, True], nulls_last=True
    )


def rank_correlations(joined: pl.DataFrame) -> pl.DataFrame:
    """Spearman rank correlations between quality, usage and reuses (of :func:`quality_usage`).

    Returns ``a, b, spearman, n`` (null when a column is constant or fewer than 3 datasets).
    """
    pairs = [("quality", "usage"), ("quality", "reuses"), ("usage", "reuses")]
    rows = []
    for a, b in pairs:
        sub = joined.select(pl.col(a).cast(pl.Float64), pl.col(b).cast(pl.Float64)).drop_nulls()
        value = None
        if sub.height >= 3 and sub[a].n_unique() > 1 and sub[b].n_unique() > 1:
            value = sub.select(pl.corr(a, b, method="spearman")).item()
        rows.append({"a": a, "b": b, "spearman": None if value is None else round(value, 4), "n": sub.height})
    return pl.DataFrame(rows, schema={"a": pl.String, "b": pl.String, "spearman": pl.Float64, "n": pl.Int64})
