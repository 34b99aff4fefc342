"""The data.europa.eu Metadata Quality Assessment (MQA): 23 indicators, 405 points, four bands.

Points = weight × share passing (:func:`points`): for a dataset-level indicator the share of datasets,
for a distribution-level one the share of all distributions, and for the interoperability indicators the
share of datasets whose *best* distribution passes (the distribution with the most interoperability
points, as the methodology says: "identical content with several distributions"). A single dataset
scores the same way over its own distributions. Bands: excellent ≥ 351, good ≥ 221, sufficient ≥ 121,
else bad (:func:`band`). The indicators and weights are data: ``lab/vocab/quality/mqa.yaml``.

How each indicator reads the normalised metadata (:mod:`lab.quality.metadata`):

* keywords, themes: at least one; spatial: a spatial coverage; temporal: a start or an end;
* access URL / download URL answer: the link check status of the URL is ``ok`` or ``unchanged``; a
  missing URL fails (as MQA scores any missing property); a URL present but not checked, or that could
  not be checked (``unsure``: offline, DNS failing, server busy), is **unknown**: left out of the
  indicator's population. When none of a dataset's (or the catalogue's) URLs is known, the indicator is
  unknown (null) and its weight leaves the maximum: the score is then "points of ``max_points``", the
  band judged on the share (points / max × 405). One rule for every score: the udata criterion and the
  stars do the same (:mod:`lab.quality.udata`, :mod:`lab.quality.stars`); download URL: present;
* format: present; media type: present; from vocabulary: the format is in the EU File type table or the
  media type is a known one (:func:`lab.quality.vocab.format_table`); non-proprietary and machine-readable:
  the European Data Portal's lists;
* DCAT-AP compliance: no SHACL run here; the mandatory properties of DCAT-AP 2.1 are checked: a title, a
  description, at least one distribution, and an access URL on every distribution;
* licence: present (not ``unknown``); from vocabulary: it has an SPDX id (``licences.yaml``);
* access rights: present; from vocabulary: one of the EU Access right table's (the catalog vocabulary);
* contact point, publisher, rights, byte size, date issued, date modified: present.

Examples
--------
>>> points(42, 46, 20)  # the ckan-mqa worked example: dct:spatial on 42 of 46 datasets
18.26
>>> band(280.31)
'good'
"""

from __future__ import annotations

import polars as pl

from lab.catalog import vocabularies
from lab.quality.links import status_table
from lab.quality.metadata import Metadata
from lab.quality.vocab import Indicator, format_table, indicators, licence_table, mqa_bands, mqa_max_points

__all__ = [
    "INTEROPERABILITY",
    "LINK_INDICATORS",
    "band",
    "band_expr",
    "catalogue_indicators",
    "catalogue_score",
    "dataset_indicators",
    "distribution_checks",
    "points",
    "scaled",
    "totals",
]

INTEROPERABILITY = (
    "format_present",
    "media_type_present",
    "format_vocabulary",
    "non_proprietary",
    "machine_readable",
)

#: The indicators a link check decides: unknown (null) when no URL of theirs was checked.
LINK_INDICATORS = ("access_url_ok", "download_url_ok")
#: Link statuses that are known answers (``unsure`` and never checked are unknown).
KNOWN_STATUSES = ("ok", "unchanged", "broken")


def _link_ok(url: str, status: str) -> pl.Expr:
    """True (answers), False (missing URL or broken) or null (present but unknown)."""
    return (
        pl.when(~_present(pl.col(url)))
        .then(False)
        .when(pl.col(status).is_in(["ok", "unchanged"]).fill_null(False))
        .then(True)
        .when((pl.col(status) == "broken").fill_null(False))
        .then(False)
        .otherwise(None)
    )


def points(count: int, population: int, weight: float) -> float:
    """``weight × count / population``, rounded to 2 decimals (0 for an empty population)."""
    return round(weight * count / population, 2) if population else 0.0


def band(points_: float) -> str:
    """The MQA band of a score: ``excellent``, ``good``, ``sufficient`` or ``bad``."""
    for name, low in mqa_bands().items():
        if points_ >= low:
            return name
    return "bad"


def band_expr(col: pl.Expr) -> pl.Expr:
    """:func:`band` as a polars expression."""
    bands = list(mqa_bands().items())
    expr = pl.when(col >= bands[0][1]).then(pl.lit(bands[0][0]))
    for name, low in bands[1:]:
        expr = expr.when(col >= low).then(pl.lit(name))
    return expr.otherwise(pl.lit("bad"))


def _present(col: pl.Expr) -> pl.Expr:
    return col.is_not_null() & (col.cast(pl.String).str.strip_chars() != "")


def distribution_checks(meta: Metadata, links: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per distribution: the distribution-level and interoperability indicators as booleans.

    Also ``access_status``/``download_status`` (the link statuses, null when not checked) and
    ``interop_points`` (the points the interoperability indicators give it). ``access_url_ok`` and
    ``download_url_ok`` are null when the URL is there but its link is unknown (not checked, ``unsure``).
    """
    formats = format_table().select(
        pl.col("format").alias("_fmt"),
        pl.col("media_type").alias("_vocab_media"),
        (pl.col("eu_code").is_not_null()).alias("_eu"),
        "machine_readable",
        "non_proprietary",
    )
    media_types = format_table()["media_type"].drop_nulls().unique().to_list()
    licences = licence_table().select(
        pl.col("license").alias("_lic"), pl.col("in_vocabulary").alias("_lic_vocab")
    )
    status = status_table(links).select("url", "status")
    d = (
        meta.distributions.with_columns(pl.col("format").str.to_uppercase().alias("_fmt"))
        .join(formats, on="_fmt", how="left")
        .join(licences, left_on="license", right_on="_lic", how="left")
        .join(status.rename({"status": "access_status"}), left_on="access_url", right_on="url", how="left")
        .join(
            status.rename({"status": "download_status"}), left_on="download_url", right_on="url", how="left"
        )
    )
    weights = {i.id: i.weight for i in indicators()}
    d = d.with_columns(
        access_url_ok=_link_ok("access_url", "access_status"),
        download_url_present=_present(pl.col("download_url")),
        download_url_ok=_link_ok("download_url", "download_status"),
        format_present=_present(pl.col("format")),
        media_type_present=_present(pl.col("media_type")),
        format_vocabulary=(
            pl.col("_eu").fill_null(False) | pl.col("media_type").is_in(media_types).fill_null(False)
        ),
        non_proprietary=pl.col("non_proprietary").fill_null(False),
        machine_readable=pl.col("machine_readable").fill_null(False),
        license_present=_present(pl.col("license")) & (pl.col("license") != "unknown").fill_null(False),
        license_vocabulary=pl.col("_lic_vocab").fill_null(False),
        rights=_present(pl.col("rights")),
        byte_size=pl.col("byte_size").is_not_null() & (pl.col("byte_size") > 0).fill_null(False),
    )
    d = d.with_columns(
        interop_points=pl.sum_horizontal(pl.col(i).cast(pl.Float64) * weights[i] for i in INTEROPERABILITY)
    )
    return d.drop("_fmt", "_vocab_media", "_eu", "_lic_vocab")


def _dataset_level(meta: Metadata, dists: pl.DataFrame) -> pl.DataFrame:
    """The dataset-level indicators (booleans) and the DCAT-AP gaps of each dataset."""
    access_rights = list(vocabularies()["access_rights"])
    per = dists.group_by("dataset_id").agg(
        n_dist=pl.len(),
        all_access=pl.col("access_url").is_not_null().all(),
    )
    ds = meta.datasets.join(per, left_on="id", right_on="dataset_id", how="left").with_columns(
        pl.col("n_dist").fill_null(0), pl.col("all_access").fill_null(False)
    )
    gaps = pl.concat_list(
        pl.when(~_present(pl.col("title"))).then(pl.lit("title")),
        pl.when(~_present(pl.col("description"))).then(pl.lit("description")),
        pl.when(pl.col("n_dist") == 0).then(pl.lit("distribution")),
        pl.when((pl.col("n_dist") > 0) & ~pl.col("all_access")).then(pl.lit("access_url")),
    ).list.drop_nulls()
    return ds.select(
        "id",
        keywords=pl.col("keywords").list.len().fill_null(0) > 0,
        themes=pl.col("themes").list.len().fill_null(0) > 0,
        spatial=_present(pl.col("spatial")),
        temporal=pl.col("temporal_start").is_not_null() | pl.col("temporal_end").is_not_null(),
        dcat_ap=gaps.list.len() == 0,
        access_rights_present=_present(pl.col("access_rights")),
        access_rights_vocabulary=pl.col("access_rights").is_in(access_rights).fill_null(False),
        contact_point=_present(pl.col("contact")),
        publisher=_present(pl.col("publisher")),
        issued=pl.col("issued").is_not_null(),
        modified=pl.col("modified").is_not_null(),
        dcat_ap_gaps=gaps,
    )


def dataset_indicators(meta: Metadata, links: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per dataset: each indicator's share passing (0–1) and the dataset's MQA points and band.

    Columns: ``id``, one Float64 column per indicator id (the dataset's share; null when unknown: the
    link indicators of a dataset none of whose URLs was checked), ``n_distributions``, ``dcat_ap_gaps``
    (what DCAT-AP misses), ``mqa_points`` (of the known indicators), ``mqa_max_points`` (405 less the
    weights of the unknown ones) and ``mqa_band`` (of the share, points / max × 405).
    """
    dists = distribution_checks(meta, links)
    inds = indicators()
    dist_level = [i.id for i in inds if i.level == "distribution"]
    shares = dists.group_by("dataset_id").agg(
        pl.len().alias("n_distributions"), *[pl.col(c).cast(pl.Float64).mean() for c in dist_level]
    )
    best = (
        dists.sort(["dataset_id", "interop_points", "position"], descending=[False, True, False])
        .group_by("dataset_id", maintain_order=True)
        .first()
        .select("dataset_id", *[pl.col(c).cast(pl.Float64) for c in INTEROPERABILITY])
    )
    ds_level = _dataset_level(meta, dists)
    out = (
        ds_level.join(shares, left_on="id", right_on="dataset_id", how="left")
        .join(best, left_on="id", right_on="dataset_id", how="left")
        .with_columns(
            *[
                pl.when(pl.col("n_distributions").is_null() | pl.lit(i.id not in LINK_INDICATORS))
                .then(pl.col(i.id).cast(pl.Float64).fill_null(0.0))
                .otherwise(pl.col(i.id).cast(pl.Float64))
                .alias(i.id)
                for i in inds
            ],
            pl.col("n_distributions").fill_null(0).cast(pl.Int32),
        )
    )
    total = pl.sum_horizontal(pl.col(i.id) * i.weight for i in inds).round(2)
    unknown = pl.sum_horizontal(pl.when(pl.col(i.id).is_null()).then(i.weight).otherwise(0.0) for i in inds)
    return out.select(
        "id",
        *[i.id for i in inds],
        "n_distributions",
        "dcat_ap_gaps",
        mqa_points=total,
        mqa_max_points=(mqa_max_points() - unknown).cast(pl.Float64),
    ).with_columns(mqa_band=band_expr(scaled(pl.col("mqa_points"), pl.col("mqa_max_points"))))


def scaled(points_: pl.Expr, max_points: pl.Expr) -> pl.Expr:
    """Points of a maximum brought to the 405 scale (the bands' scale): ``points / max × 405``."""
    return pl.when(max_points > 0).then(points_ / max_points * mqa_max_points()).otherwise(0.0)


def catalogue_indicators(meta: Metadata, links: pl.DataFrame | None = None) -> pl.DataFrame:
    """The catalogue's MQA table, one row per indicator (as the ckan-mqa summary shows it).

    Columns: ``dimension``, ``indicator``, ``property``, ``level``, ``count`` (passing), ``population``
    (datasets, or distributions for distribution-level indicators; for the link indicators the
    distributions whose link is known), ``unknown`` (distributions whose link is unknown), ``share``,
    ``points`` (rounded to 2 decimals), ``weight`` and ``exact`` (the points unrounded, which the
    catalogue total sums). An indicator with no known link has null share, points and exact.
    """
    dists = distribution_checks(meta, links)
    per_dataset = dataset_indicators(meta, links)
    rows = []
    for ind in indicators():
        unknown = 0
        if ind.level == "distribution":
            col = dists[ind.id]
            count, population, unknown = int(col.sum()), col.len() - col.null_count(), col.null_count()
        else:  # dataset and best-distribution indicators: one 0/1 per dataset
            count, population = int(per_dataset[ind.id].sum()), per_dataset.height
        known = not (unknown and not population)
        rows.append(
            {
                "dimension": ind.dimension,
                "indicator": ind.id,
                "property": ind.property,
                "level": ind.level,
                "count": count,
                "population": population,
                "unknown": unknown,
                "share": (round(count / population, 4) if population else 0.0) if known else None,
                "points": points(count, population, ind.weight) if known else None,
                "weight": ind.weight,
                "exact": (ind.weight * count / population if population else 0.0) if known else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema_overrides={"share": pl.Float64, "points": pl.Float64, "exact": pl.Float64},
    )


def catalogue_score(meta: Metadata, links: pl.DataFrame | None = None) -> dict[str, object]:
    """The catalogue's MQA points (sum of the known indicators' points), ``max_points`` (405 less the
    weights of the unknown indicators) and band (of the share, on the 405 scale)."""
    return totals(catalogue_indicators(meta, links))


def totals(table: pl.DataFrame) -> dict[str, object]:
    """``mqa_points``, ``mqa_band`` and ``max_points`` of a :func:`catalogue_indicators` table."""
    known = table.filter(pl.col("exact").is_not_null())
    total = round(float(known["exact"].sum()), 2)
    max_points = float(known["weight"].sum())
    share = total / max_points * mqa_max_points() if max_points else 0.0
    return {"mqa_points": total, "mqa_band": band(share), "max_points": max_points}


def indicator(name: str) -> Indicator:
    """The indicator ``name`` (KeyError if unknown)."""
    return {i.id: i for i in indicators()}[name]
