"""udata's (data.gouv.fr) dataset quality: 9 yes/no criteria, score = passed / 9.

The criteria (``lab/vocab/quality/udata.yaml``), as udata's ``Dataset.quality`` computes them:

1. ``license``: a licence is set (``unknown`` is not one);
2. ``temporal_coverage``: a temporal coverage (start or end) is set;
3. ``spatial``: a spatial coverage is set;
4. ``update_frequency``: an update frequency is declared (``unknown`` is not one);
5. ``update_on_time``: the next expected update (last modification, else the issue date, plus the
   frequency's days) is not more than ``grace_days`` (1) past; continuous, irregular and one-off
   ("never", udata's "punctual") frequencies always count as on time; no frequency never does;
6. ``description``: the description is longer than 100 characters;
7. ``open_format``: at least one resource has a format that is not closed (pdf, doc, docx, xls, xlsx);
8. ``resources_available``: no resource's link is broken and at least one answered; when none of the
   links is known (never checked, or ``unsure``: offline, DNS failing) the criterion is unknown (null)
   and left out: the score is then passed / 8 (the one rule of :mod:`lab.quality.mqa`);
9. ``documentation``: the resources are documented (the catalog declares the table's columns).

Criteria 7–9 need resources: a dataset without distributions fails them.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from lab.quality.freshness import next_update_expr
from lab.quality.links import status_table
from lab.quality.metadata import Metadata
from lab.quality.vocab import format_table, udata_rules

__all__ = ["CRITERIA", "udata_criteria"]

CRITERIA: tuple[str, ...] = tuple(udata_rules()["criteria"])


def udata_criteria(meta: Metadata, links: pl.DataFrame | None = None, *, as_of: date) -> pl.DataFrame:
    """One row per dataset: the 9 criteria (booleans; ``resources_available`` null when unknown),
    ``udata_score`` (passed / known criteria) and
    ``description_length`` (to tell a missing description from a short one).

    Parameters
    ----------
    meta
        The normalised metadata.
    links
        Link results (``url``, ``status``); None: no link known to be broken.
    as_of
        The day "on time" is judged on.
    """
    rules = udata_rules()
    closed = format_table().filter(pl.col("closed"))["format"].to_list()
    status = status_table(links).select("url", "status")
    known = ["ok", "unchanged"]
    dists = (
        meta.distributions.join(
            status.rename({"status": "a"}), left_on="access_url", right_on="url", how="left"
        )
        .join(status.rename({"status": "d"}), left_on="download_url", right_on="url", how="left")
        .group_by("dataset_id")
        .agg(
            n=pl.len(),
            open_format=(
                pl.col("format").is_not_null() & ~pl.col("format").str.to_uppercase().is_in(closed)
            ).any(),
            broken=((pl.col("a") == "broken") | (pl.col("d") == "broken")).fill_null(False).any(),
            answered=(pl.col("a").is_in(known) | pl.col("d").is_in(known)).fill_null(False).any(),
        )
    )
    freq = pl.col("frequency")
    exempt = freq.is_in(rules["exempt_frequencies"]).fill_null(False)
    next_update = next_update_expr()
    late = (pl.lit(as_of) - next_update).dt.total_days() > rules["grace_days"]
    length = pl.col("description").str.strip_chars().str.len_chars().fill_null(0)
    has_dists = pl.col("n").fill_null(0) > 0
    out = meta.datasets.join(dists, left_on="id", right_on="dataset_id", how="left").select(
        "id",
        license=(pl.col("license").is_not_null() & (pl.col("license") != "unknown")).fill_null(False),
        temporal_coverage=pl.col("temporal_start").is_not_null() | pl.col("temporal_end").is_not_null(),
        spatial=pl.col("spatial").is_not_null() & (pl.col("spatial").str.strip_chars() != ""),
        update_frequency=(freq.is_not_null() & (freq != "unknown")).fill_null(False),
        update_on_time=exempt | (next_update.is_not_null() & ~late).fill_null(False),
        description=length > rules["description_min_chars"],
        open_format=has_dists & pl.col("open_format").fill_null(False),
        resources_available=pl.when(~has_dists | pl.col("broken").fill_null(False))
        .then(False)
        .when(pl.col("answered").fill_null(False))
        .then(True),
        documentation=has_dists & pl.col("documented").fill_null(False),
        description_length=length,
    )
    passed = pl.sum_horizontal(pl.col(c).cast(pl.Int32) for c in CRITERIA)
    score = passed / pl.sum_horizontal(pl.col(c).is_not_null().cast(pl.Int32) for c in CRITERIA)
    return out.with_columns(udata_score=score.round(4))
