"""One normalised metadata shape for the two inputs the scores run on.

* the lab's own catalog (``datasets.yaml``, a :class:`~lab.catalog.Catalog`): :func:`from_catalog`;
* the portal's dataset listing (a polars frame shaped like the demo's ``catalog/portal_datasets.csv``:
  ``portal_id``, ``title_vi``, ``publisher``, ``theme``, ``keywords``, ``license``, ``formats``,
  ``download_url``, ``contact_*``, ``temporal_start``/``end``, ``spatial_coverage``, ``byte_size`` …):
  :func:`from_listing`.

Both give a :class:`Metadata`: a ``datasets`` frame (one row per dataset, :data:`DATASET_SCHEMA`) and a
``distributions`` frame (one row per distribution, :data:`DISTRIBUTION_SCHEMA`). Every score
(:mod:`lab.quality.mqa`, :mod:`~lab.quality.udata`, :mod:`~lab.quality.stars`,
:mod:`~lab.quality.freshness`) is a set of polars expressions over these two frames.

How the listing maps (it shows one row per dataset, formats ``;``-separated):

* a distribution per format; its access URL is the dataset page (``landing_page``); its download URL is
  ``download_url`` with the ``format=`` query set to that format (the portal serves every format from the
  same endpoint), or only the first format's when the URL has no ``format=``;
* the licence shown on the page is each distribution's licence and rights statement; ``byte_size``
  applies to every distribution; the listing has no media types and no column documentation.

How the catalog maps: a distribution's access URL is its ``access_url``, else its ``download_url``, else
the local file it names (``path`` or ``demo``, as a ``file://`` URL: the bytes are there), else the
dataset's ``landing_page`` (a ``ckan`` or ``portal`` API source has no public file URL); its download URL
is ``download_url`` or that local file; its licence is its own or the dataset's; its rights statement is its
own licence; "documented" means the dataset declares its columns (``schema``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from lab.catalog import Catalog, Dataset, Distribution

log = logging.getLogger(__name__)

__all__ = ["DATASET_SCHEMA", "DISTRIBUTION_SCHEMA", "Metadata", "from_catalog", "from_listing"]

DATASET_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "title": pl.String(),
    "title_en": pl.String(),
    "publisher": pl.String(),
    "themes": pl.List(pl.String()),
    "keywords": pl.List(pl.String()),
    "description": pl.String(),
    "frequency": pl.String(),
    "license": pl.String(),
    "access_rights": pl.String(),
    "issued": pl.Date(),
    "modified": pl.Date(),
    "contact": pl.String(),
    "spatial": pl.String(),
    "temporal_start": pl.Date(),
    "temporal_end": pl.Date(),
    "landing_page": pl.String(),
    "portal_id": pl.String(),
    "documented": pl.Boolean(),
    "synthetic": pl.Boolean(),
}
"""Columns of :attr:`Metadata.datasets` (null = not given)."""

DISTRIBUTION_SCHEMA: dict[str, pl.DataType] = {
    "dataset_id": pl.String(),
    "position": pl.Int32(),
    "format": pl.String(),
    "media_type": pl.String(),
    "access_url": pl.String(),
    "download_url": pl.String(),
    "license": pl.String(),
    "rights": pl.String(),
    "byte_size": pl.Int64(),
}
"""Columns of :attr:`Metadata.distributions` (``license``: the one that applies, own or the dataset's)."""


@dataclass(frozen=True)
class Metadata:
    """Datasets and their distributions in the normalised shape, and where they came from."""

    datasets: pl.DataFrame
    distributions: pl.DataFrame
    source: str  # "catalog" or "listing"

    def urls(self) -> list[str]:
        """Every distinct access and download URL (what the link checker checks), in order."""
        urls = pl.concat([self.distributions["access_url"], self.distributions["download_url"]])
        return urls.drop_nulls().unique(maintain_order=True).to_list()

    def select(self, ids: list[str]) -> Metadata:
        """Only the datasets ``ids`` (and their distributions)."""
        return Metadata(
            self.datasets.filter(pl.col("id").is_in(ids)),
            self.distributions.filter(pl.col("dataset_id").is_in(ids)),
            self.source,
        )


# ---------------------------------------------------------------------------------------------- catalog
def _local_url(dist: Distribution, root: Path) -> str | None:
    """The ``file://`` URL of the local file a distribution names (``path`` or ``demo``), if any."""
    from lab.settings import demo_dir

    if dist.path:
        path = Path(dist.path).expanduser()
        return (path if path.is_absolute() else root / path).resolve().as_uri()
    if dist.demo:
        return (demo_dir() / dist.demo).resolve().as_uri()
    return None


def _contact(point: dict[str, str] | None) -> str | None:
    if not point:
        return None
    parts = [str(v).strip() for k, v in point.items() if k in ("name", "email", "phone", "url") and v]
    return " · ".join(p for p in parts if p) or None


def _dataset_row(ds: Dataset) -> dict[str, Any]:
    description = (ds.description or {}).get("vi") or (ds.description or {}).get("en")
    temporal = ds.temporal or {}
    return {
        "id": ds.id,
        "title": ds.title_in("vi"),
        "title_en": ds.title.get("en") or None,
        "publisher": ds.publisher or None,
        "themes": list(ds.theme),
        "keywords": list(ds.keywords),
        "description": description,
        "frequency": ds.frequency or None,
        "license": ds.license or None,
        "access_rights": ds.access_rights or None,
        "issued": ds.issued,
        "modified": ds.modified,
        "contact": _contact(ds.contact_point),
        "spatial": ds.spatial.coverage or None,
        "temporal_start": temporal.get("start"),
        "temporal_end": temporal.get("end"),
        "landing_page": ds.landing_page,
        "portal_id": None if ds.portal_id is None else str(ds.portal_id),
        "documented": bool(ds.schema and ds.schema.columns),
        "synthetic": ds.synthetic,
    }


def _distribution_rows(ds: Dataset, root: Path) -> list[dict[str, Any]]:
    rows = []
    for i, dist in enumerate(ds.distributions):
        local = _local_url(dist, root)
        download = dist.download_url or local
        rows.append(
            {
                "dataset_id": ds.id,
                "position": i,
                "format": dist.format or None,
                "media_type": dist.media_type or None,
                "access_url": dist.access_url or download or ds.landing_page,
                "download_url": download,
                "license": dist.license or ds.license or None,
                "rights": dist.license or (dist.options or {}).get("rights"),
                "byte_size": dist.byte_size,
            }
        )
    return rows


def from_catalog(catalog: Catalog, ids: list[str] | None = None) -> Metadata:
    """The lab's catalog (or the entries ``ids`` of it) in the normalised shape.

    Parameters
    ----------
    catalog
        A loaded catalog.
    ids
        Only these entries (unknown ids raise :class:`~lab.errors.UnknownDatasetError`); default all.
    """
    entries = [catalog.get(i) for i in ids] if ids else list(catalog)
    datasets = pl.DataFrame([_dataset_row(d) for d in entries], schema=DATASET_SCHEMA, orient="row")
    dists = [row for d in entries for row in _distribution_rows(d, catalog.root)]
    distributions = pl.DataFrame(dists, schema=DISTRIBUTION_SCHEMA, orient="row")
    return Metadata(datasets, distributions, "catalog")


# ---------------------------------------------------------------------------------------------- listing
_STRING = pl.String()


def _col(frame: pl.DataFrame, name: str, dtype: pl.DataType = _STRING) -> pl.Expr:
    """Column ``name`` as ``dtype`` (blank text as null), or nulls when the listing lacks it."""
    if name not in frame.columns:
        return pl.lit(None, dtype=dtype)
    col = pl.col(name)
    if frame.schema[name] == pl.String:
        col = pl.when(col.str.strip_chars() != "").then(col.str.strip_chars())
        if dtype == pl.Date():
            return col.str.to_date("%Y-%m-%d", strict=False)
    return col.cast(dtype, strict=False)


def _split(col: pl.Expr) -> pl.Expr:
    """A ``;``-separated cell as a list of its non-blank items (empty list for null)."""
    items = (
        col.str.split(";")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    return pl.when(col.is_null()).then(pl.lit([], dtype=pl.List(pl.String()))).otherwise(items)


_FORMAT_PARAM = r"[?&]format="


def from_listing(listing: pl.DataFrame, *, synthetic: bool = False) -> Metadata:
    """The portal's dataset listing (one row per dataset, as ``portal_datasets.csv``) in the normalised shape.

    Parameters
    ----------
    listing
        A polars frame with at least ``portal_id`` and ``title_vi`` (or ``title``); the other columns of
        the demo's listing are used when present (missing ones count as not given).
    synthetic
        Mark every dataset as synthetic (the demo portal's listing).
    """
    title = "title_vi" if "title_vi" in listing.columns else "title"
    contact = pl.concat_str(
        [_col(listing, c) for c in ("contact_name", "contact_email", "contact_phone")],
        separator=" · ",
        ignore_nulls=True,
    )
    datasets = listing.select(
        id=pl.col("portal_id").cast(pl.String),
        title=_col(listing, title),
        title_en=_col(listing, "title_en"),
        publisher=_col(listing, "publisher"),
        themes=_split(_col(listing, "theme")),
        keywords=_split(_col(listing, "keywords")),
        description=_col(listing, "description"),
        frequency=_col(listing, "frequency"),
        license=_col(listing, "license"),
        access_rights=_col(listing, "access_rights"),
        issued=_col(listing, "issued", pl.Date()),
        modified=_col(listing, "modified", pl.Date()),
        contact=pl.when(contact != "").then(contact),
        spatial=_col(listing, "spatial_coverage"),
        temporal_start=_col(listing, "temporal_start", pl.Date()),
        temporal_end=_col(listing, "temporal_end", pl.Date()),
        landing_page=_col(listing, "landing_page"),
        portal_id=pl.col("portal_id").cast(pl.String),
        documented=pl.lit(False),
        synthetic=pl.lit(synthetic),
    ).cast(DATASET_SCHEMA)  # type: ignore[arg-type]
    formats = listing.select(
        dataset_id=pl.col("portal_id").cast(pl.String),
        format=_split(_col(listing, "formats")),
        download=_col(listing, "download_url"),
        landing=_col(listing, "landing_page"),
        license=_col(listing, "license"),
        byte_size=_col(listing, "byte_size", pl.Int64()),
    )
    long = formats.with_columns(position=pl.int_ranges(pl.col("format").list.len(), dtype=pl.Int32)).explode(
        "format", "position"
    )
    long = long.filter(pl.col("format").is_not_null())
    url = pl.col("download")
    download = (
        pl.when(url.str.contains(_FORMAT_PARAM))
        .then(
            url.str.extract(r"^(.*?[?&]format=)", 1)
            + pl.col("format").str.to_lowercase()
            + url.str.extract(_FORMAT_PARAM + r"[^&#]*(.*)$", 1)
        )
        .when(pl.col("position") == 0)
        .then(url)
    )
    distributions = long.select(
        "dataset_id",
        "position",
        pl.col("format").str.to_uppercase(),
        media_type=pl.lit(None, pl.String),
        access_url=pl.col("landing"),
        download_url=download,
        license="license",
        rights="license",
        byte_size="byte_size",
    ).cast(DISTRIBUTION_SCHEMA)  # type: ignore[arg-type]
    return Metadata(datasets, distributions, "listing")
