"""Coordinate reference systems for Đà Nẵng: the local metric CRS and a pinned VN-2000 ↔ WGS 84 shift.

Areas, distances and buffers are computed in **EPSG:5899** (VN-2000 / TM-3 107-45, the official local
grid of Đà Nẵng and Quảng Nam). EPSG:3405 (UTM 48N) is the wrong zone for 108.2°E.

PROJ knows two VN-2000 → WGS 84 shifts, EPSG:5194 ("VN-2000 to WGS 84 (1)") and EPSG:6960 ("VN-2000 to
WGS 84 (2)"), 7-parameter Helmert shifts that differ by about 0.7 m at Đà Nẵng; left alone PROJ picks one
silently (today EPSG:6960, tomorrow perhaps another when its database changes). The lab **pins
EPSG:6960** (:data:`PINNED_OPERATION`) for every transformation between VN-2000 and WGS 84 and records
which one it used
(:func:`transformation_record`), so a result can always say how its coordinates were made.

This is the one CRS policy of the lab, on its ground floor: the readers (the bounding-box checks of
:mod:`lab.readers.spatial`), the spatial analyses (:mod:`lab.geo`), the maps (:mod:`lab.maps`, polygons
and points alike, :func:`to_wgs84`) and the writers (:mod:`lab.outputs`) all transform through it.

Examples
--------
>>> record = transformation_record()
>>> record["operation"], record["source_crs"], record["target_crs"]
('EPSG:6960', 'EPSG:5899', 'EPSG:4326')
>>> x, y = to_local_xy([108.2208], [16.0678])  # Đà Nẵng city centre
>>> bool(540_000 < x[0] < 560_000 and 1_770_000 < y[0] < 1_790_000)
True
"""

from __future__ import annotations

import functools
import json
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from lab.errors import CRSError

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS, Transformer

log = logging.getLogger(__name__)

__all__ = [
    "LOCAL_CRS",
    "PINNED_OPERATION",
    "WGS84",
    "areas_km2",
    "local_transformer",
    "to_local",
    "to_local_xy",
    "to_wgs84",
    "transformation_record",
    "transformer",
]

LOCAL_CRS = "EPSG:5899"
"""VN-2000 / TM-3 107-45: the metric CRS areas, distances and buffers are computed in."""
WGS84 = "EPSG:4326"
PINNED_OPERATION = "EPSG:6960"
"""VN-2000 to WGS 84 (2): the datum shift used for every VN-2000 ↔ WGS 84 transformation."""
_VN2000_DATUM = "Vietnam 2000"


def _crs(value: Any) -> CRS:
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError

    try:
        return CRS.from_user_input(value)
    except ProjCRSError:
        raise CRSError(f"{value!r} is not a known CRS") from None


def _name(crs: CRS) -> str:
    auth = crs.to_authority(min_confidence=70)
    return ":".join(auth) if auth else crs.name


def _is_vn2000(crs: CRS) -> bool:
    datum = crs.datum
    return bool(datum is not None and _VN2000_DATUM in datum.name)


def _uses(operation: Transformer, code: str) -> bool:
    """True when the (possibly concatenated) operation has the step ``code`` (``EPSG:6960``)."""
    auth, number = code.split(":")
    doc = json.loads(operation.to_json())
    steps = doc.get("steps") or [doc]
    for step in steps:
        ident = step.get("id") or {}
        if str(ident.get("code")) == number and auth in ident.get("authority", ""):  # "INVERSE(EPSG)" too
            return True
    return False


@functools.lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    from pyproj import Transformer
    from pyproj.transformer import TransformerGroup

    s, d = _crs(src), _crs(dst)
    if _is_vn2000(s) != _is_vn2000(d):  # a datum shift is involved: pin it
        group = TransformerGroup(s, d, always_xy=True)
        pinned = [t for t in group.transformers if _uses(t, PINNED_OPERATION)]
        if not pinned:
            raise CRSError(
                f"PROJ offers no transformation through {PINNED_OPERATION} (the pinned VN-2000 ↔ WGS 84 "
                f"shift) from {_name(s)} to {_name(d)}"
            )
        return Transformer.from_pipeline(pinned[0].definition)
    return Transformer.from_crs(s, d, always_xy=True)


def transformer(src: Any, dst: Any) -> Transformer:
    """An always-xy transformer from ``src`` to ``dst``; VN-2000 ↔ WGS 84 goes through EPSG:6960.

    Parameters
    ----------
    src, dst
        Anything pyproj accepts (``"EPSG:5899"``, a ``CRS``).
    """
    return _transformer(_crs(src).to_wkt(), _crs(dst).to_wkt())


def local_transformer(src: Any = WGS84) -> Transformer:
    """The transformer from ``src`` (default WGS 84 lon/lat) to :data:`LOCAL_CRS`."""
    return transformer(src, LOCAL_CRS)


def transformation_record(src: Any = LOCAL_CRS, dst: Any = WGS84) -> dict[str, Any]:
    """What a transformation from ``src`` to ``dst`` does, for provenance (``attrs``, JSON output).

    Returns
    -------
    dict
        ``source_crs``, ``target_crs``, ``operation`` (the pinned datum shift, or null when none is
        involved), ``description`` and ``pipeline`` (the PROJ string actually used).
    """
    s, d = _crs(src), _crs(dst)
    tr = transformer(s, d)
    shift = _is_vn2000(s) != _is_vn2000(d)

    return {
        "source_crs": _name(s),
        "target_crs": _name(d),
        "operation": PINNED_OPERATION if shift else None,
        "description": "VN-2000 to WGS 84 (2), 7-parameter Helmert (pinned)" if shift else tr.description,
        "pipeline": tr.definition,
    }


def to_local_xy(lon: Any, lat: Any, src: Any = WGS84) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays from ``src`` to EPSG:5899 metres (pinned shift)."""
    x, y = local_transformer(src).transform(
        np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    )
    return np.asarray(x), np.asarray(y)


def to_local(geoms: Any, src: Any = WGS84) -> np.ndarray:
    """Shapely geometries (array-like) from ``src`` to EPSG:5899, with the pinned shift.

    Parameters
    ----------
    geoms
        A GeoSeries or an array of shapely geometries.
    src
        Their CRS (ignored for a GeoSeries, whose own CRS is used).
    """
    import shapely

    crs = getattr(geoms, "crs", None) or src
    values = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    tr = local_transformer(crs)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(values, move)


def to_wgs84(frame: Any) -> Any:
    """A GeoDataFrame or GeoSeries in WGS 84 lon/lat (EPSG:4326), through the pinned shift when it is
    in VN-2000; returned as it is when it has no CRS or is already in EPSG:4326.

    Parameters
    ----------
    frame
        A :class:`geopandas.GeoDataFrame` or :class:`geopandas.GeoSeries`.
    """
    import shapely

    series = frame.geometry if hasattr(frame, "geometry") else frame
    if series.crs is None or series.crs.equals(WGS84):
        return frame
    tr = transformer(series.crs, WGS84)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    moved = shapely.transform(np.asarray(series.values, dtype=object), move)
    if hasattr(frame, "geometry") and frame is not series:
        out = frame.copy()
        return out.set_geometry(type(series)(moved, index=series.index, crs=WGS84, name=series.name))
    return type(series)(moved, index=series.index, crs=WGS84, name=series.name)


def areas_km2(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """Areas in km², computed in EPSG:5899 (the pinned transformation), one per row."""
    import shapely

    series = gdf.geometry if hasattr(gdf, "geometry") else gdf
    if series.crs is None:
        raise CRSError("geometries without a CRS: set one before computing areas")
    return shapely.area(to_local(series)) / 1e6
