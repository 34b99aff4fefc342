"""The portal's dataset listing and the lab's catalog as tables: counts, growth, completeness.

These are the small summaries the catalog overview report shows; the quality issue scores the
metadata properly (MQA, udata), the reuse issue projects growth against the 1,000-dataset target.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl

from lab.catalog import Catalog, as_catalog

log = logging.getLogger(__name__)


def catalog_table(catalog: Catalog, lang: str = "vi") -> pl.DataFrame:
    """One row per catalog entry: id, title (in ``lang``), publisher, licence, spatial kind, synthetic."""
    return pl.DataFrame(
        {
            "id": [d.id for d in catalog],
            "title": [d.title_in(lang) for d in catalog],
            "publisher": [d.publisher for d in catalog],
            "license": [d.license for d in catalog],
            "spatial": [d.spatial.kind for d in catalog],
            "synthetic": [d.synthetic for d in catalog],
        },
        schema={
            "id": pl.String,
            "title": pl.String,
            "publisher": pl.String,
            "license": pl.String,
            "spatial": pl.String,
            "synthetic": pl.Boolean,
        },
    )


def published_by(listing: pl.DataFrame, as_of: date, *, issued: str = "issued") -> pl.DataFrame:
    """The datasets already published on ``as_of`` (``issued`` on or before it)."""
    return listing.filter(pl.col(issued) <= as_of)


def open_only(listing: pl.DataFrame) -> pl.DataFrame:
    """The open datasets of a listing: public access (every dataset when the listing has no
    ``access_rights``). The one definition of "open dataset" (the 1,000-dataset target counts these)."""
    if "access_rights" not in listing.columns:
        return listing
    return listing.filter(pl.col("access_rights") == "public")


def dataset_counts(listing: pl.DataFrame, as_of: date, *, issued: str = "issued") -> dict[str, int]:
    """Datasets of the portal's listing published on ``as_of``: ``published`` (every access level) and
    ``open`` (public, :func:`open_only`): two facts, shown with their own labels."""
    published = published_by(listing, as_of, issued=issued)
    return {"published": published.height, "open": open_only(published).height}


def dataset_counts_text(listing: pl.DataFrame, as_of: date, lang: str = "vi") -> str:
    """The catalog overview's headline (Markdown): datasets published and, among them, open ones, as of a
    date, each labelled (they are two facts, not two versions of one)."""
    from lab.charts import format_number
    from lab.i18n import t

    counts = dataset_counts(listing, as_of)
    return t("datasets_published_open", lang).format(
        date=as_of.isoformat(),
        published=format_number(counts["published"], lang),
        open=format_number(counts["open"], lang),
    )


def count_by(
    listing: pl.DataFrame,
    column: str,
    *,
    top: int | None = None,
    other: str | None = None,
    lang: str | None = None,
) -> pl.DataFrame:
    """Datasets per value of ``column``, most first; beyond ``top`` values, the rest summed as ``other``.

    List columns (e.g. several themes per dataset) count a dataset once per value. With ``lang``, the
    bars say what they are: no value is "(not given)" and the rest "Others (N)" in that language (else
    "—" and ``other``, default "…").
    """
    from lab.i18n import t

    frame = listing.select(column)
    if isinstance(frame.schema[column], pl.List):
        frame = frame.explode(column)
    counts = (
        frame.group_by(column)
        .len(name="datasets")
        .with_columns(pl.col(column).fill_null(t("not_given", lang) if lang else "—"))
        .sort(["datasets", column], descending=[True, False])
    )
    if top is None or counts.height <= top:
        return counts
    if other is None:
        other = t("others_n", lang).format(n=counts.height - top) if lang else "…"
    rest = counts.slice(top).select(pl.lit(other).alias(column), pl.col("datasets").sum())
    return pl.concat([counts.head(top), rest.cast(counts.schema)])


def per_year(listing: pl.DataFrame, *, issued: str = "issued") -> pl.DataFrame:
    """Datasets published per calendar year and the running total."""
    return (
        listing.group_by(pl.col(issued).dt.year().alias("year"))
        .len(name="published")
        .sort("year")
        .with_columns(pl.col("published").cum_sum().alias("total"))
    )


def completeness(listing: pl.DataFrame, fields: Sequence[str]) -> pl.DataFrame:
    """Share (%) of datasets with a non-empty value in each of ``fields``, least complete first."""
    exprs = []
    for name in fields:
        col = pl.col(name)
        dtype = listing.schema[name]
        filled = col.is_not_null()
        if dtype == pl.String:
            filled = filled & (col.str.strip_chars() != "")
        elif isinstance(dtype, pl.List):
            filled = filled & (col.list.len() > 0)
        exprs.append((filled.mean() * 100).round(1).alias(name))
    wide = listing.select(exprs)
    return wide.unpivot(variable_name="field", value_name="share_filled").sort("share_filled")


def real_sources(catalog: Catalog, lang: str = "vi") -> pl.DataFrame:
    """The catalog's real (not synthetic) entries, as :func:`catalog_table` shows them."""
    return catalog_table(catalog, lang).filter(~pl.col("synthetic")).drop("synthetic")


def dataset_titles(
    catalog: Any = None, lang: str = "vi", *, listing: str = "portal-datasets"
) -> dict[str, str]:
    """Dataset titles by id, for lists that would otherwise show bare ids (``lab usage top``,
    ``lab reuse summary``): the portal listing's ``portal_id`` → title (English where the portal has one,
    in English), then the catalog's own ids and portal ids → their titles.

    Parameters
    ----------
    catalog
        A :class:`~lab.catalog.Catalog`, a catalog file, or None for the default catalog.
    lang
        ``vi`` or ``en``.
    listing
        The catalog id of the portal's dataset listing. When it cannot be loaded (no demo portal,
        offline), only the catalog's titles are given (logged at INFO).
    """
    from lab.errors import LabError
    from lab.loader import load

    cat = as_catalog(catalog)
    titles: dict[str, str] = {}
    for d in cat:
        titles[d.id] = d.title_in(lang)
        if d.portal_id is not None:
            titles[str(d.portal_id)] = d.title_in(lang)
    if listing in cat:
        try:
            frame = load(listing, catalog=cat)
        except LabError as exc:
            log.info("dataset titles from the catalog only: %s", exc)
        else:
            cols = [c for c in (f"title_{lang}", "title_vi") if c in frame.columns]
            if "portal_id" in frame.columns and cols:
                pairs = frame.select(
                    pl.col("portal_id").cast(pl.String), title=pl.coalesce(cols)
                ).drop_nulls()
                titles |= dict(pairs.iter_rows())
    return titles
