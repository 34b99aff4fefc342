"""The 5-star openness rating, per distribution and per dataset (ckanext-qa's rules).

A distribution scores 0 when its licence is not open (the Open Definition, ``open`` in the catalog's
licence vocabulary) or its link is broken; otherwise its format decides (``lab/vocab/quality/formats.yaml``
``stars``): RDF/TTL 5; CSV, JSON, GeoJSON, KML, XML, WMS, WFS 3; XLS, XLSX, SHP 2; PDF, DOC, ZIP, TXT 1;
HTML or an unknown format 0. A dataset has the stars of its best distribution.

Only a link known to be broken closes the gate: a link not checked, or that could not be checked
(``unsure``: offline, DNS failing, server busy), is unknown and leaves the stars to the licence and the
format (the one rule of :mod:`lab.quality.mqa`: unknown is not zero).
"""

from __future__ import annotations

import polars as pl

from lab.quality.links import status_table
from lab.quality.metadata import Metadata
from lab.quality.vocab import format_table, licence_table

__all__ = ["dataset_stars", "distribution_stars"]


def distribution_stars(meta: Metadata, links: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per distribution: ``dataset_id``, ``position``, ``format``, ``stars`` and ``stars_reason``
    (``licence`` when the licence gate closed it, ``broken`` for a broken link, ``format`` otherwise)."""
    fmt = format_table().select(pl.col("format").alias("_f"), pl.col("stars").alias("_s"))
    lic = licence_table().select(pl.col("license").alias("_l"), pl.col("open").alias("_open"))
    status = status_table(links).select("url", "status")
    d = (
        meta.distributions.with_columns(_f=pl.col("format").str.to_uppercase())
        .join(fmt, on="_f", how="left")
        .join(lic, left_on="license", right_on="_l", how="left")
        .join(status.rename({"status": "_a"}), left_on="access_url", right_on="url", how="left")
        .join(status.rename({"status": "_d"}), left_on="download_url", right_on="url", how="left")
    )
    closed = ~pl.col("_open").fill_null(False)
    broken = (pl.col("_a") == "broken").fill_null(False) | (pl.col("_d") == "broken").fill_null(False)
    return d.select(
        "dataset_id",
        "position",
        "format",
        stars=pl.when(closed | broken).then(0).otherwise(pl.col("_s").fill_null(0)).cast(pl.Int8),
        stars_reason=pl.when(closed)
        .then(pl.lit("licence"))
        .when(broken)
        .then(pl.lit("broken"))
        .otherwise(pl.lit("format")),
    )


def dataset_stars(meta: Metadata, links: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per dataset: ``id``, ``stars`` (its best distribution's, 0 without distributions) and
    ``stars_reason`` (that distribution's)."""
    best = (
        distribution_stars(meta, links)
        .sort(["dataset_id", "stars", "position"], descending=[False, True, False])
        .group_by("dataset_id", maintain_order=True)
        .first()
    )
    return (
        meta.datasets.select("id")
        .join(
            best.select("dataset_id", "stars", "stars_reason"),
            left_on="id",
            right_on="dataset_id",
            how="left",
        )
        .with_columns(
            pl.col("stars").fill_null(0).cast(pl.Int8), pl.col("stars_reason").fill_null("no distribution")
        )
    )
