"""``lab.load``: from a catalog id to a clean polars DataFrame or a GeoDataFrame.

The flow is catalog → fetch (cache, mirror, demo, https, CKAN) → reader (parse, schema, geometry)
→ one frame. A dataset with several distributions of the same kind (e.g. one CSV per month) loads
as their concatenation, in catalog order.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from lab import fetch, readers
from lab.catalog import Catalog, Dataset, Distribution, as_catalog
from lab.errors import SchemaError

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)


def _source_distribution(dist: Distribution, source: str | Path) -> Distribution:
    """The distribution ``dist`` re-pointed at another file or URL, read the same way.

    Its checksum, size and declared encoding belonged to the catalog's file, so they are dropped: the
    other file's encoding is detected.
    """
    text = str(source)
    remote = text.startswith(("http://", "https://", "file://"))
    return replace(
        dist,
        download_url=text if remote else None,
        path=None if remote else str(Path(text).absolute()),  # a symlink keeps its own name
        demo=None,
        mirror=None,
        ckan=None,
        portal=None,
        sha256=None,
        byte_size=None,
        encoding=None,
    )


def _concat(
    frames: list[pl.DataFrame | gpd.GeoDataFrame], dataset: Dataset
) -> pl.DataFrame | gpd.GeoDataFrame:
    if len(frames) == 1:
        return frames[0]
    if all(isinstance(f, pl.DataFrame) for f in frames):
        try:
            return pl.concat(frames, how="diagonal_relaxed")
        except pl.exceptions.PolarsError as exc:
            raise SchemaError(
                f"its files do not share one schema: {exc}".splitlines()[0], dataset=dataset.id
            ) from None
    import geopandas as gpd
    import pandas as pd

    repaired = sum(int(f.attrs.get("repaired_geometries", 0)) for f in frames)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    out.attrs.update(frames[0].attrs, repaired_geometries=repaired)
    return out


def load(
    dataset_id: str,
    *,
    source: str | Path | None = None,
    catalog: Catalog | str | Path | None = None,
    mirror: str | Path | None = None,
    refresh: bool = False,
) -> pl.DataFrame | gpd.GeoDataFrame:
    """Load a catalog dataset as a typed, clean table.

    Parameters
    ----------
    dataset_id
        The dataset's id in the catalog, e.g. ``"danang-wards-2025"``.
    source
        Read this file or URL instead, the way the dataset's first distribution is read (e.g. next
        month's export of the same table).
    catalog
        A :class:`~lab.catalog.Catalog` or a catalog file; default ``$LAB_CATALOG`` or the project's.
    mirror
        An offline mirror folder; default ``$LAB_MIRROR``.
    refresh
        Fetch again even when the cache holds the file.

    Returns
    -------
    polars.DataFrame or geopandas.GeoDataFrame
        A polars frame for tables; a GeoDataFrame (CRS set and checked, invalid geometries
        repaired, their count in ``.attrs["repaired_geometries"]``) for spatial data.

    Raises
    ------
    lab.errors.LabError
        A one-line error naming the dataset, the file and the cause.
    """
    cat = as_catalog(catalog)
    dataset = cat.get(dataset_id)
    dists = (
        [_source_distribution(dataset.distributions[0], source)] if source else list(dataset.distributions)
    )
    mirror_path = Path(mirror) if mirror else None
    frames = []
    for dist in dists:
        path = fetch.fetch(dataset, dist, catalog_root=cat.root, mirror=mirror_path, refresh=refresh)
        record_provenance(dataset.id, path)
        log.info("reading %s from %s", dataset.id, path)
        frames.append(readers.read(path, dist, dataset, label=dist.label))
    return _concat(frames, dataset)


PROVENANCE_ENV = "LAB_PROVENANCE_FILE"


def record_provenance(dataset_id: str, path: Path) -> None:
    """Note which file a dataset was read from, and its sha256, when ``$LAB_PROVENANCE_FILE`` is set.

    The report runner sets it for each run, so every report can say which inputs (with their content
    hashes) it was made from, and a run with unchanged inputs can be skipped.
    """
    target = os.environ.get(PROVENANCE_ENV)
    if not target:
        return
    record = {"dataset": dataset_id, "file": str(Path(path).resolve()), "sha256": fetch.file_sha256(path)}
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
