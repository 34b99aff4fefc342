"""GIS files (GeoJSON, zipped shapefile, GeoPackage) via geopandas + pyogrio, checked and repaired.

:func:`finish` runs on every GeoDataFrame a reader returns:

1. CRS: a file without one gets the dataset's declared ``crs``; a file with another CRS than the
   declared one is a :class:`~lab.errors.CRSError`. (A GeoJSON without a ``crs`` member counts as
   "without one": GDAL reports EPSG:4326 for it whatever its coordinates.)
2. Null, empty or unreadable geometries → :class:`~lab.errors.GeometryError` when geometries are
   required (a required ``geometry`` column, or a polygons/points dataset).
3. Invalid geometries are repaired with ``shapely.make_valid`` (polygon layers keep their polygonal
   part and stay multi-polygons when they were); the count is logged and kept in
   ``gdf.attrs["repaired_geometries"]``.
4. Coordinates: degrees that are not degrees (CRSError), swapped axes or data outside Vietnam
   (CoordinateError).
5. The attribute columns go through :func:`lab.schema.apply_schema` (codes such as "20242" stay text).

Options: ``layer`` (GeoPackage layer or shapefile name inside the zip).
"""

from __future__ import annotations

import logging
import re
import warnings
import zipfile
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from lab.errors import CRSError, EmptyFileError, GeometryError, ReadError
from lab.readers.base import Source, check_archive, register
from lab.readers.spatial import check_lonlat, crs_name, resolve_crs, same_crs
from lab.schema import apply_schema

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

__all__ = ["finish", "read_geojson", "read_gpkg", "read_shapefile"]

_CRS_MEMBER = re.compile(rb'"crs"\s*:\s*\{')
_POLYGONAL = ("Polygon", "MultiPolygon")


def _read_ogr(src: Source, target: str, **kwargs: Any) -> gpd.GeoDataFrame:
    """``gpd.read_file`` with GDAL's errors as ReadError and its warnings logged, not raised."""
    import geopandas as gpd
    import pyogrio.errors

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gdf = gpd.read_file(target, engine="pyogrio", on_invalid="ignore", **kwargs)
        except (
            pyogrio.errors.DataSourceError,
            pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError,
            pyogrio.errors.GeometryError,
            pyogrio.errors.CRSError,
            ValueError,
            IndexError,  # GDAL opened it but found no layer
        ) as exc:
            cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            cause = "no layer in it" if isinstance(exc, IndexError) else cause
            raise src.error(ReadError, f"not readable as {src.dist.format}: {cause}") from None
    for w in caught:
        log.warning("%s: %s: GDAL: %s", src.dataset.id, src.label, w.message)
    if not isinstance(gdf, gpd.GeoDataFrame):  # GDAL read a plain table (a CSV, a text file)
        raise src.error(ReadError, f"has no geometries: not a {src.dist.format} file")
    return gdf


def _declares_crs(path: Any) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(65536)
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    return bool(_CRS_MEMBER.search(head) or _CRS_MEMBER.search(tail))


@register("geojson")
def read_geojson(src: Source) -> gpd.GeoDataFrame:
    """Read a GeoJSON file (a ``crs`` member is honoured; without one the declared crs applies)."""
    gdf = _read_ogr(src, str(src.path))
    if not _declares_crs(src.path):
        gdf = gdf.set_crs(None, allow_override=True)
    return gdf


@register("shapefile")
def read_shapefile(src: Source) -> gpd.GeoDataFrame:
    """Read a zipped shapefile (``options.layer`` picks one when the zip holds several)."""
    if not zipfile.is_zipfile(src.path):
        raise src.error(
            ReadError, "not a zip archive: a shapefile is expected as a .zip of .shp/.shx/.dbf/.prj"
        )
    check_archive(src)
    with zipfile.ZipFile(src.path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
    shps = [n for n in names if n.lower().endswith(".shp")]
    if not shps:
        listed = ", ".join(names[:8]) + (", …" if len(names) > 8 else "") if names else "nothing"
        raise src.error(ReadError, f"the zip holds no shapefile (.shp), only: {listed}")
    layer = src.options.get("layer")
    if layer:
        chosen = [n for n in shps if n.rsplit("/", 1)[-1][:-4] == layer]
        if not chosen:
            raise src.error(ReadError, f"no shapefile {layer!r} in the zip (it has: {', '.join(shps)})")
        shp = chosen[0]
    else:
        shp = shps[0]
        if len(shps) > 1:
            log.warning(
                "%s: %s: %d shapefiles in the zip, reading %s (set options.layer)",
                src.dataset.id,
                src.label,
                len(shps),
                shp,
            )
    stem = shp[:-4]
    if not any(n.lower() == f"{stem}.dbf".lower() for n in names) or not any(
        n.lower() == f"{stem}.shx".lower() for n in names
    ):
        raise src.error(ReadError, f"shapefile {shp} is incomplete: the .shx and .dbf must be in the zip too")
    return _read_ogr(src, f"/vsizip/{src.path.resolve()}/{shp}")


@register("gpkg")
def read_gpkg(src: Source) -> gpd.GeoDataFrame:
    """Read a GeoPackage layer (``options.layer``, default the first)."""
    layer = src.options.get("layer")
    return _read_ogr(src, str(src.path), **({"layer": layer} if layer else {}))


# ------------------------------------------------------------------------------------------ finish
def _geometry_required(src: Source) -> bool:
    schema = src.dataset.schema
    declared = [c for c in schema.columns if c.type == "geometry"] if schema else []
    if declared:
        return any(c.required for c in declared)
    return src.dataset.spatial.kind in ("polygons", "points")


def _repair(src: Source, gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    import shapely

    series = gdf.geometry
    present = ~(series.isna().to_numpy() | series.is_empty.to_numpy())
    invalid = present & ~series.is_valid.to_numpy()
    n = int(invalid.sum())
    if not n:
        return gdf, 0
    types = set(series[present].geom_type)
    broken = np.asarray(series.values, dtype=object)[invalid]
    if types <= set(_POLYGONAL):
        fixed = shapely.make_valid(broken, method="structure", keep_collapsed=False)
    else:
        fixed = shapely.make_valid(broken)
    bad = shapely.is_empty(fixed) | ~shapely.is_valid(fixed)
    if bad.any():
        row = int(np.flatnonzero(invalid)[bad][0]) + 1
        raise src.error(
            GeometryError,
            f"{int(bad.sum())} {'geometry is' if bad.sum() == 1 else 'geometries are'} broken beyond "
            f"repair (make_valid leaves nothing), e.g. row {row}",
        )
    if types == {"MultiPolygon"}:  # keep the layer homogeneous
        parts, index = shapely.get_parts(fixed, return_index=True)
        fixed = shapely.multipolygons(parts, indices=index)
    geoms = np.asarray(series.values, dtype=object)
    geoms[invalid] = fixed
    return gdf.set_geometry(type(series)(geoms, crs=gdf.crs, index=gdf.index, name=series.name)), n


def _check_present(src: Source, gdf: gpd.GeoDataFrame) -> None:
    missing = (gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    if missing.any() and _geometry_required(src):
        row = int(np.flatnonzero(missing)[0]) + 1
        raise src.error(
            GeometryError,
            f"{int(missing.sum())} of {len(gdf)} features {'has' if missing.sum() == 1 else 'have'} no "
            f"readable geometry (null, empty or unparseable), e.g. row {row}",
        )
    if missing.any():
        log.warning("%s: %s: %d features without geometry", src.dataset.id, src.label, int(missing.sum()))


def _attributes(src: Source, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The attribute table through the schema (via polars), the geometry column last."""
    import geopandas as gpd

    table = gdf.drop(columns=gdf.geometry.name).reset_index(drop=True)
    geometry = gdf.geometry.reset_index(drop=True).rename("geometry")
    schema, ds = src.dataset.schema, src.dataset.id
    if table.shape[1] == 0:
        apply_schema(pl.DataFrame(), schema, dataset=ds, file=src.label)  # required columns are missing
        out = gpd.GeoDataFrame(geometry=geometry, crs=gdf.crs)
    else:
        typed = apply_schema(pl.from_pandas(table), schema, dataset=ds, file=src.label)
        out = gpd.GeoDataFrame(typed.to_pandas(), geometry=geometry, crs=gdf.crs)
    out.attrs.update(gdf.attrs)
    return out


def finish(gdf: gpd.GeoDataFrame, src: Source) -> gpd.GeoDataFrame:
    """Check and repair a GeoDataFrame read from ``src`` (see the module docstring)."""
    from pyproj import CRS

    if gdf.empty:
        raise src.error(EmptyFileError, "has no features")
    declared = resolve_crs(src)
    if gdf.crs is None:
        log.info(
            "%s: %s: no CRS in the file, using the declared %s", src.dataset.id, src.label, crs_name(declared)
        )
        gdf = gdf.set_crs(declared)
    elif not same_crs(CRS.from_user_input(gdf.crs), declared):
        raise src.error(
            CRSError,
            f"the file's CRS is {crs_name(CRS.from_user_input(gdf.crs))} but the catalog declares "
            f"{crs_name(declared)}: fix `crs` in the catalog or reproject the file",
        )
    _check_present(src, gdf)
    gdf, repaired = _repair(src, gdf)
    if repaired:
        log.info(
            "%s: %s: repaired %d invalid geometries with make_valid", src.dataset.id, src.label, repaired
        )
    check_lonlat(src, gdf.geometry.bounds.to_numpy(dtype="float64"), declared)
    gdf.attrs["repaired_geometries"] = repaired
    return _attributes(src, gdf)
