"""An Open Data Maturity–style impact summary: evidence of governmental, social, environmental and economic
impact per year, counted from the registry's records and the outcomes table.

data.europa.eu's Open Data Maturity assessment scores a country's *impact* dimension on evidence of created
impact in four domains (``docs/concepts/sources.md``, "Open Data Maturity (EU) impact dimension"). The
lab does not score: it counts the evidence the registry holds, per year and domain, so the city can answer
that part of the questionnaire with figures.

A reuse gives evidence in the domain of its udata topic (``lab/vocab/udata_reuse.yaml``: health → social,
environment and energy → environmental, law and justice → governmental, economy and business → economic...),
in the *economic* domain too when it is a paid service or built by a company or start-up, and in the
*governmental* domain too when an agency built it. It counts in a year when it was live at some point of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from lab.reuse import vocab
from lab.reuse.indicators import with_dates
from lab.reuse.outcomes import normalise_outcomes
from lab.reuse.registry import owner_key

DOMAINS: tuple[str, ...] = ("governmental", "social", "environmental", "economic")


def reuse_domains(valid: pl.DataFrame) -> pl.DataFrame:
    """The impact domains each reuse gives evidence in: ``reuse_id``, ``domain`` (one row per pair)."""
    topic = pl.col("topic").replace_strict(vocab.topic_impact(), default=None, return_dtype=pl.String)
    economic = pl.col("paid_service").is_not_null() | pl.col("owner_kind").is_in(["company", "startup"])
    governmental = pl.col("owner_kind") == "agency"
    return (
        valid.select(
            "reuse_id",
            pl.concat_list(
                topic,
                pl.when(economic).then(pl.lit("economic")),
                pl.when(governmental).then(pl.lit("governmental")),
            )
            .list.drop_nulls()
            .list.unique(maintain_order=True)
            .alias("domain"),
        )
        .explode("domain")
        .drop_nulls("domain")
    )


def impact_summary(valid: pl.DataFrame, outcomes: pl.DataFrame | None, years: Sequence[int]) -> pl.DataFrame:
    """Evidence of impact per year and domain.

    Returns
    -------
    polars.DataFrame
        ``year``, ``domain``, ``products`` (reuses live during the year giving evidence in the domain),
        ``reusers`` (their distinct owners), ``datasets`` (distinct datasets they use), ``evidence_links``
        (distinct evidence urls they reported that year), ``active_users`` (sum of their mean monthly users),
        ``transactions`` and ``revenue_vnd`` (reported that year). Every year × domain is present (zeros).
    """
    spans = with_dates(valid).join(reuse_domains(valid), on="reuse_id", how="inner")
    grid = pl.DataFrame({"year": list(years)}, schema={"year": pl.Int32}).join(
        pl.DataFrame({"domain": list(DOMAINS)}), how="cross"
    )
    live = (
        grid.join(spans, on="domain", how="inner")
        .filter(
            pl.col("_from").is_not_null()
            & (pl.col("_from") <= pl.date(pl.col("year"), 12, 31))
            & (pl.col("_to").is_null() | (pl.col("_to") >= pl.date(pl.col("year"), 1, 1)))
        )
        .with_columns(owner_key(pl.col("owner")).alias("_owner"))
    )
    counted = live.group_by("year", "domain").agg(
        pl.col("reuse_id").n_unique().alias("products"),
        pl.col("_owner").drop_nulls().n_unique().alias("reusers"),
        pl.col("datasets").explode().drop_nulls().n_unique().alias("datasets"),
    )
    result = grid.join(counted, on=["year", "domain"], how="left")
    if outcomes is not None:
        yearly = (
            normalise_outcomes(outcomes)
            .with_columns(pl.col("month").dt.year().cast(pl.Int32).alias("year"))
            .group_by("reuse_id", "year")
            .agg(
                pl.col("evidence_url").drop_nulls().alias("_urls"),
                pl.col("active_users").mean().alias("_users"),
                pl.col("transactions").sum(),
                pl.col("revenue_vnd").sum(),
            )
        )
        per_domain = (
            live.select("year", "domain", "reuse_id")
            .join(yearly, on=["reuse_id", "year"], how="inner")
            .group_by("year", "domain")
            .agg(
                pl.col("_urls").explode().drop_nulls().n_unique().alias("evidence_links"),
                pl.col("_users").sum().round(0).cast(pl.Int64).alias("active_users"),
                pl.col("transactions").sum(),
                pl.col("revenue_vnd").sum(),
            )
        )
        result = result.join(per_domain, on=["year", "domain"], how="left")
    else:
        result = result.with_columns(
            pl.lit(None, dtype=pl.Int64).alias(c)
            for c in ("evidence_links", "active_users", "transactions", "revenue_vnd")
        )
    counts = [
        "products",
        "reusers",
        "datasets",
        "evidence_links",
        "active_users",
        "transactions",
        "revenue_vnd",
    ]
    order = {d: i for i, d in enumerate(DOMAINS)}
    return (
        result.with_columns(pl.col(counts).cast(pl.Int64).fill_null(0))
        .with_columns(pl.col("domain").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
        .sort("year", "_o")
        .drop("_o")
    )


def impact_table(summary: pl.DataFrame, *, value: str = "products", lang: str = "vi") -> pl.DataFrame:
    """The summary as a year × domain table of one figure (``products`` by default), domains labelled."""
    labels = vocab.labels("impact_domains", lang)
    wide = summary.pivot(on="domain", index="year", values=value).sort("year")
    present = [d for d in DOMAINS if d in wide.columns]
    return wide.select("year", *present).rename({d: labels[d] for d in present})


def years_between(start: date, end: date) -> list[int]:
    """The calendar years from ``start`` to ``end``, both included."""
    return list(range(start.year, end.year + 1))
