"""Spatial checks shared by the GIS readers and point tables: CRS, "is it in Vietnam?", point building.

Vietnam, with the Hoàng Sa and Trường Sa archipelagos, lies within lon 102–118, lat 7–24
(:data:`VIETNAM_BBOX`). Data outside it is either in another CRS than declared, has its axes swapped,
or is simply wrong; each gets its own one-line error.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from lab.crs import WGS84, transformer
from lab.errors import CoordinateError, CRSError, MissingColumnError
from lab.readers.base import Source

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS

log = logging.getLogger(__name__)

__all__ = ["VIETNAM_BBOX", "check_lonlat", "resolve_crs", "same_crs", "to_points"]

#: (min lon, min lat, max lon, max lat) of Vietnam including its offshore islands.
VIETNAM_BBOX: tuple[float, float, float, float] = (102.0, 7.0, 118.0, 24.0)
DEFAULT_CRS = "EPSG:4326"


def resolve_crs(src: Source) -> CRS:
    """The dataset's declared CRS (default EPSG:4326) as a pyproj CRS."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError

    declared = src.dataset.crs or DEFAULT_CRS
    try:
        return CRS.from_user_input(declared)
    except ProjCRSError:
        raise src.error(CRSError, f"the catalog's crs {declared!r} is not a known CRS") from None


def same_crs(a: CRS, b: CRS) -> bool:
    """True when two CRSs are the same (axis order ignored: OGC:CRS84 == EPSG:4326)."""
    return bool(a.equals(b, ignore_axis_order=True))


def crs_name(crs: CRS) -> str:
    """A short name for messages, e.g. 'EPSG:5899'."""
    auth = crs.to_authority(min_confidence=70)
    return ":".join(auth) if auth else crs.name


def _inside(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    lon0, lat0, lon1, lat1 = VIETNAM_BBOX
    with np.errstate(invalid="ignore"):
        return (x0 >= lon0) & (x1 <= lon1) & (y0 >= lat0) & (y1 <= lat1)


def check_lonlat(
    src: Source,
    bounds: np.ndarray,
    crs: CRS,
    *,
    what: str = "features",
    swap_hint: str = "fix the axis order of the file",
) -> None:
    """Check per-feature bounds (n x 4: minx, miny, maxx, maxy; NaN = no geometry) against Vietnam.

    Raises
    ------
    CoordinateError
        Axes swapped (the data fit Vietnam only as lat, lon), or features outside Vietnam (count and an
        example row).
    CRSError
        Values impossible for a geographic CRS (|lon| > 180 or |lat| > 90): projected data declared as
        degrees.
    """
    ok = ~np.isnan(bounds).any(axis=1)
    n = int(ok.sum())
    if n == 0:
        return
    b = bounds[ok]
    rows = np.flatnonzero(ok) + 1
    if crs.is_geographic:
        fits = _inside(b[:, 0], b[:, 1], b[:, 2], b[:, 3])
        swapped = _inside(b[:, 1], b[:, 0], b[:, 3], b[:, 2])
        if swapped.sum() > fits.sum() and swapped.sum() * 2 >= n:
            raise src.error(
                CoordinateError,
                f"coordinates look swapped: {int(swapped.sum())} of {n} {what} fit Vietnam only "
                f"as (lat, lon); {swap_hint}",
            )
        if np.abs(b[:, [0, 2]]).max() > 180 or np.abs(b[:, [1, 3]]).max() > 90:
            big = float(np.abs(b).max())
            raise src.error(
                CRSError,
                f"coordinates look projected (values up to {big:,.0f}) but {crs_name(crs)} is in degrees: "
                "declare the file's real crs in the catalog (e.g. EPSG:5899 for VN-2000 Đà Nẵng)",
            )
        lonlat = b
    else:
        tr = transformer(crs, WGS84)  # the lab's CRS policy (the pinned VN-2000 shift)
        x0, y0 = tr.transform(b[:, 0], b[:, 1])
        x1, y1 = tr.transform(b[:, 2], b[:, 3])
        lonlat = np.column_stack(
            [np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1)]
        )
        fits = _inside(*lonlat.T)
    if not fits.all():
        i = int(np.flatnonzero(~fits)[0])
        x, y = (lonlat[i, 0] + lonlat[i, 2]) / 2, (lonlat[i, 1] + lonlat[i, 3]) / 2
        raise src.error(
            CoordinateError,
            f"{int((~fits).sum())} of {n} {what} lie outside Vietnam (lon 102–118, lat 7–24), e.g. row "
            f"{int(rows[i])} at lon {x:.4f}, lat {y:.4f}",
        )
    _check_extent(src, lonlat, rows, n, what)


def _check_extent(src: Source, lonlat: np.ndarray, rows: np.ndarray, n: int, what: str) -> None:
    """Features outside the dataset's declared ``spatial.bbox`` (e.g. Hà Nội points in a Đà Nẵng dataset)."""
    box = src.dataset.spatial.bbox
    if not box:
        return
    lon0, lat0, lon1, lat1 = box
    with np.errstate(invalid="ignore"):
        inside = (
            (lonlat[:, 0] >= lon0) & (lonlat[:, 2] <= lon1) & (lonlat[:, 1] >= lat0) & (lonlat[:, 3] <= lat1)
        )
    if inside.all():
        return
    i = int(np.flatnonzero(~inside)[0])
    x, y = (lonlat[i, 0] + lonlat[i, 2]) / 2, (lonlat[i, 1] + lonlat[i, 3]) / 2
    place = src.dataset.spatial.coverage or "the declared extent"
    raise src.error(
        CoordinateError,
        f"{int((~inside).sum())} of {n} {what} lie outside {place} (spatial.bbox lon {lon0:g}–{lon1:g}, "
        f"lat {lat0:g}–{lat1:g}), e.g. row {int(rows[i])} at lon {x:.4f}, lat {y:.4f}",
    )


def _coordinate(src: Source, df: pl.DataFrame, name: str) -> pl.Series:
    values = df[name]
    if values.dtype.is_numeric():
        return values.cast(pl.Float64)
    text = values.cast(pl.String).str.strip_chars().str.replace(",", ".", literal=True)
    out = text.cast(pl.Float64, strict=False)
    bad = out.is_null() & text.is_not_null() & (text != "")
    if bad.any():
        i = int(bad.arg_true()[0])
        raise src.error(CoordinateError, f"column '{name}': {values[i]!r} at row {i + 1} is not a coordinate")
    return out


def to_points(df: pl.DataFrame, src: Source) -> gpd.GeoDataFrame:
    """Build a point GeoDataFrame from a table with lon/lat (or x/y) columns named in ``spatial``.

    Rows with a null coordinate are kept with a null geometry; their count is in
    ``attrs["missing_coordinates"]``.
    """
    import geopandas as gpd
    import shapely

    sp = src.dataset.spatial
    xname, yname = (sp.lon, sp.lat) if sp.lon and sp.lat else (sp.x, sp.y)
    if not xname or not yname:
        raise src.error(
            MissingColumnError, "spatial kind 'points' needs lon and lat (or x and y) column names"
        )
    for name in (xname, yname):
        if name not in df.columns:
            raise src.error(
                MissingColumnError, f"coordinate column '{name}' (from spatial) is not in the file"
            )
    crs = resolve_crs(src)
    xs, ys = _coordinate(src, df, xname).to_numpy(), _coordinate(src, df, yname).to_numpy()
    xs, ys = np.asarray(xs, dtype="float64"), np.asarray(ys, dtype="float64")
    missing = np.isnan(xs) | np.isnan(ys)
    hint = f"swap `lon` and `lat` in the catalog's spatial block (lon: {yname}, lat: {xname})"
    check_lonlat(src, np.column_stack([xs, ys, xs, ys]), crs, what="points", swap_hint=hint)
    points = shapely.points(np.column_stack([xs, ys]))
    points[missing] = None
    gdf = gpd.GeoDataFrame(df.to_pandas(), geometry=gpd.GeoSeries(points, crs=crs), crs=crs)
    gdf.attrs["missing_coordinates"] = int(missing.sum())
    gdf.attrs["repaired_geometries"] = 0
    if missing.any():
        log.warning(
            "%s: %s: %d rows without coordinates (kept, null geometry)",
            src.dataset.id,
            src.label,
            int(missing.sum()),
        )
    return gdf
