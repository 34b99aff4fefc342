"""Point-in-polygon assignment of points to units, fast and identical to ``geopandas.sjoin``.

The join runs in the CRS the polygons were digitised in (lon/lat for the boundary files): projecting
first would move points near the edges. Points in another CRS are transformed to the polygons' CRS
(VN-2000 with the pinned shift, :mod:`lab.crs`).

:func:`locate` loops over the *units* (94), never over points: the points are sorted by x once, each
unit takes the points inside its bounding box (a binary search on x, a mask on y) and tests only those
with the vectorised ``shapely.intersects_xy`` (or ``contains_xy``) on the prepared polygon. A point
on the border of two units goes to the first unit in the units' order, as a de-duplicated
``sjoin(predicate="intersects")`` does; ``bench/spatial.py`` checks the assignments are identical.

Unassigned points get a reason: the point's own problem (``no_coordinates``,
``unparseable_coordinates``, ``looks_swapped``, ``outside_vietnam``), ``in_sea_or_gap`` (within
``near_m`` of a unit: offshore, on the coast or in a gap between polygons) or ``outside_units``
(farther: outside the city, or far offshore).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from lab.errors import CRSError, GeometryError

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

__all__ = ["NEAR_M", "Assignment", "assign", "check_own_unit", "locate"]

NEAR_M = 5_000.0
"""Unassigned points closer than this (metres) to a unit are ``in_sea_or_gap``, farther ``outside_units``."""


def locate(x: np.ndarray, y: np.ndarray, geoms: Any, *, predicate: str = "intersects") -> np.ndarray:
    """Index of the first polygon holding each point, -1 for none (NaN coordinates give -1).

    Parameters
    ----------
    x, y
        Point coordinates, in the polygons' CRS.
    geoms
        Polygons (array-like of shapely geometries), in priority order.
    predicate
        ``"intersects"`` (on the border counts, like sjoin's default) or ``"contains"`` (strictly inside).

    Examples
    --------
    >>> import shapely
    >>> squares = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]
    >>> locate(np.array([0.5, 1.0, 1.5, 3.0]), np.array([0.5, 0.5, 0.5, 0.5]), squares).tolist()
    [0, 0, 1, -1]
    """
    import shapely

    test = {"intersects": shapely.intersects_xy, "contains": shapely.contains_xy}.get(predicate)
    if test is None:
        raise ValueError(f"predicate {predicate!r} is not 'intersects' or 'contains'")
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    polys = np.asarray(geoms, dtype=object)
    out = np.full(len(x), -1, dtype=np.int64)
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    order = finite[np.argsort(x[finite], kind="stable")]
    xs = x[order]
    bounds = shapely.bounds(polys)
    shapely.prepare(polys)
    for i, poly in enumerate(polys):  # one pass per unit (94), vectorised over its candidate points
        if poly is None or shapely.is_empty(poly):
            continue
        minx, miny, maxx, maxy = bounds[i]
        lo, hi = np.searchsorted(xs, minx, "left"), np.searchsorted(xs, maxx, "right")
        cand = order[lo:hi]
        cy = y[cand]
        cand = cand[(cy >= miny) & (cy <= maxy)]
        cand = cand[out[cand] < 0]  # the first unit wins a border point
        if cand.size:
            out[cand[test(poly, x[cand], y[cand])]] = i
    return out


@dataclass
class Assignment:
    """Where each point fell.

    Attributes
    ----------
    table
        One row per point, in the input order: ``unit_code``, ``unit_name`` (null when unassigned),
        ``reason`` (null when assigned) and ``distance_m`` (with ``distances=True``: metres from an
        ``in_sea_or_gap`` point to the nearest unit).
    by_unit
        One row per unit (zeros included), in the units' order: ``unit_code``, ``unit_name``, ``points``.
    units_crs
        The CRS the join ran in.
    """

    table: pl.DataFrame
    by_unit: pl.DataFrame
    units_crs: str

    @property
    def points(self) -> int:
        return self.table.height

    @property
    def assigned(self) -> int:
        return int(self.table["unit_code"].is_not_null().sum())

    @property
    def unassigned(self) -> int:
        return self.points - self.assigned

    def reasons(self) -> dict[str, int]:
        """Unassigned points per reason."""
        counts = self.table.filter(pl.col("reason").is_not_null())["reason"].value_counts(sort=True)
        return dict(counts.rows())

    def summary(self) -> dict[str, Any]:
        """``points``, ``assigned``, ``unassigned``, ``by_unit`` (code → count, every unit), ``reasons``."""
        return {
            "points": self.points,
            "assigned": self.assigned,
            "unassigned": self.unassigned,
            "by_unit": dict(self.by_unit.select("unit_code", "points").rows()),
            "reasons": self.reasons(),
            "crs": self.units_crs,
        }


def _crs_string(crs: Any) -> str:
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    auth = c.to_authority(min_confidence=70)
    return ":".join(auth) if auth else c.name


def _xy(points: gpd.GeoDataFrame | gpd.GeoSeries, target_crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Point coordinates in ``target_crs`` (NaN for null/empty geometries)."""
    import shapely

    from lab.crs import transformer

    series = points.geometry if hasattr(points, "geometry") else points
    geoms = np.asarray(series.values, dtype=object)
    n = len(geoms)
    ok = ~shapely.is_missing(geoms) if n else np.zeros(0, bool)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if ok.any():
        present = geoms[ok]
        empty = shapely.is_empty(present)
        kinds = shapely.get_type_id(present[~empty])
        if (kinds != 0).any():
            raise GeometryError("assign needs points: some geometries are lines or polygons")
        xs, ys = shapely.get_x(present), shapely.get_y(present)
        x[ok], y[ok] = xs, ys
    if series.crs is None:
        raise CRSError("the points have no CRS: set one (EPSG:4326 for lon/lat)")
    from pyproj import CRS

    if not CRS.from_user_input(series.crs).equals(CRS.from_user_input(target_crs), ignore_axis_order=True):
        good = np.isfinite(x) & np.isfinite(y)
        tx, ty = transformer(series.crs, target_crs).transform(x[good], y[good])
        x[good], y[good] = tx, ty
    return x, y


def assign(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    units: gpd.GeoDataFrame,
    *,
    code: str | None = None,
    name: str | None = None,
    predicate: str = "intersects",
    near_m: float = NEAR_M,
    distances: bool = False,
) -> Assignment:
    """Assign points to the units whose polygon holds them (in the polygons' own CRS).

    Parameters
    ----------
    points
        Points (any CRS; null geometries allowed). A ``point_problem`` column (from
        :func:`lab.geo.points.points_from_table`) gives the reason for rows without a point.
    units
        Polygons with a code and a name column (``ma_xa``/``ten_xa`` by default).
    code, name
        The units' code and name columns when they are not the usual ones.
    predicate
        ``"intersects"`` (default, like ``sjoin``) or ``"contains"``.
    near_m
        Distance that separates ``in_sea_or_gap`` from ``outside_units`` for unassigned points.
    distances
        Also measure how far each ``in_sea_or_gap`` point is from the nearest unit (``distance_m``,
        ±20 m; the others stay null).

    Returns
    -------
    Assignment
        Per point and per unit.
    """

    from lab.geo.units import unit_columns

    code_col, name_col, _ = unit_columns(units, code, name)
    if units.crs is None:
        raise CRSError("the units have no CRS")
    x, y = _xy(points, units.crs)
    idx = locate(x, y, units.geometry.values, predicate=predicate)
    codes = units[code_col].astype(str).to_numpy()
    names = units[name_col].astype(str).to_numpy()
    hit = idx >= 0
    unit_code = np.where(hit, codes[np.clip(idx, 0, None)], None)
    unit_name = np.where(hit, names[np.clip(idx, 0, None)], None)
    reason = np.full(len(x), None, dtype=object)
    problem_col = None
    if "point_problem" in getattr(points, "columns", []):
        raw = points["point_problem"]
        problem_col = raw.astype(object).where(raw.notna(), None).to_numpy(dtype=object)
    finite = np.isfinite(x) & np.isfinite(y)
    reason[~finite] = "no_coordinates"
    if problem_col is not None:
        has = np.not_equal(problem_col, None) & ~hit
        reason[has] = problem_col[has]
    distance = np.full(len(x), np.nan)
    lost = np.flatnonzero(finite & ~hit & np.equal(reason, None))
    if lost.size:
        reason[lost], distance[lost] = _why_not(units, x[lost], y[lost], near_m, distances)
    table = pl.DataFrame(
        {
            "unit_code": pl.Series(unit_code.tolist(), dtype=pl.String),
            "unit_name": pl.Series(unit_name.tolist(), dtype=pl.String),
            "reason": pl.Series(reason.tolist(), dtype=pl.String),
            "distance_m": pl.Series(distance, dtype=pl.Float64).fill_nan(None),
        }
    )
    counts = np.bincount(idx[hit], minlength=len(units))
    by_unit = pl.DataFrame(
        {"unit_code": codes.tolist(), "unit_name": names.tolist(), "points": counts.astype(np.int64)},
        schema={"unit_code": pl.String, "unit_name": pl.String, "points": pl.Int64},
    )
    result = Assignment(table=table, by_unit=by_unit, units_crs=_crs_string(units.crs))
    if result.unassigned:
        log.info("assign: %d of %d points in no unit: %s", result.unassigned, result.points, result.reasons())
    return result


_NEAR_CACHE: dict[tuple[Any, ...], tuple[Any, Any]] = {}
SIMPLIFY_M = 20.0
"""Tolerance of the simplified outlines used to tell ``in_sea_or_gap`` from ``outside_units``."""


def _near_zone(units: gpd.GeoDataFrame, near_m: float) -> tuple[Any, Any]:
    """The zone within ``near_m`` of any unit (prepared, EPSG:5899) and a tree of the simplified units.

    Built once per set of units (cached by their geometry bytes): the real polygons have 170,000
    vertices, a distance query against them per point would be far slower than the join itself.
    """
    import hashlib

    import shapely

    from lab.crs import to_local

    digest = hashlib.sha1(b"".join(shapely.to_wkb(units.geometry.values)), usedforsecurity=False).hexdigest()
    key = (digest, str(units.crs), float(near_m))
    if key not in _NEAR_CACHE:
        simple = shapely.simplify(to_local(units.geometry), SIMPLIFY_M, preserve_topology=True)
        simple = simple[~shapely.is_empty(simple)]
        zone = shapely.buffer(shapely.union_all(simple), near_m, quad_segs=4)
        shapely.prepare(zone)
        if len(_NEAR_CACHE) >= 4:
            _NEAR_CACHE.pop(next(iter(_NEAR_CACHE)))
        _NEAR_CACHE[key] = (zone, shapely.STRtree(simple))
    return _NEAR_CACHE[key]


def _why_not(
    units: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray, near_m: float, distances: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Reasons (``in_sea_or_gap`` / ``outside_units``) and, with ``distances``, metres (±20 m) from
    each ``in_sea_or_gap`` point to the nearest unit (NaN otherwise), for points in no unit."""
    import shapely

    from lab.crs import local_transformer

    zone, tree = _near_zone(units, near_m)
    lx, ly = local_transformer(units.crs).transform(x, y)
    lx, ly = np.asarray(lx, dtype="float64"), np.asarray(ly, dtype="float64")
    near = shapely.contains_xy(zone, lx, ly)
    distance = np.full(len(x), np.nan)
    if distances and near.any():
        pts = shapely.points(np.column_stack([lx[near], ly[near]]))
        _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
        distance[near] = dist
    reason = np.where(near, "in_sea_or_gap", "outside_units").astype(object)
    return reason, distance


def check_own_unit(
    points: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    point_code: str,
    code: str | None = None,
    name: str | None = None,
) -> pl.DataFrame:
    """Points that do not fall in the unit they name (e.g. centre points vs their own polygon).

    Parameters
    ----------
    points
        Points with a unit code column ``point_code``.
    units
        The polygons.
    point_code, code, name
        The points' code column and the units' code and name columns.

    Returns
    -------
    polars.DataFrame
        One row per point outside its own unit: ``code``, ``name``, ``assigned_code`` (null: in none),
        ``reason`` and ``distance_m`` (to its own polygon, in EPSG:5899).
    """
    import shapely

    from lab.crs import to_local
    from lab.geo.units import unit_columns

    code_col, name_col, _ = unit_columns(units, code, name)
    result = assign(points, units, code=code_col, name=name_col)
    own = points[point_code].astype(str).to_numpy()
    table = result.table.with_columns(code=pl.Series(own, dtype=pl.String), _row=pl.int_range(pl.len()))
    wrong = table.filter(pl.col("unit_code").is_null() | (pl.col("unit_code") != pl.col("code")))
    if not wrong.height:
        return pl.DataFrame(
            schema={
                "code": pl.String,
                "name": pl.String,
                "assigned_code": pl.String,
                "reason": pl.String,
                "distance_m": pl.Float64,
            }
        )
    unit_geoms = dict(zip(units[code_col].astype(str), to_local(units.geometry), strict=True))
    unit_names = dict(zip(units[code_col].astype(str), units[name_col].astype(str), strict=True))
    rows = wrong["_row"].to_numpy()
    pts = to_local(points.geometry.iloc[rows])
    polys = np.array([unit_geoms.get(c) for c in wrong["code"]], dtype=object)
    dist = shapely.distance(pts, polys)
    return wrong.select(
        "code",
        name=pl.col("code").replace_strict(unit_names, default=None),
        assigned_code="unit_code",
        reason=pl.when(pl.col("unit_code").is_null())
        .then(pl.col("reason"))
        .otherwise(pl.lit("in_another_unit")),
        distance_m=pl.Series(dist, dtype=pl.Float64),
    )
