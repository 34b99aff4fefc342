"""Indicators per unit: counts, density per km², per 10,000 residents, distances and coverage.

Areas, distances and buffers are computed in EPSG:5899 (metres, the pinned VN-2000 shift,
:mod:`lab.crs`); joins run in the polygons' CRS (:mod:`lab.geo.assign`).

- :func:`indicators`: one row per unit and layer: ``count``, ``per_km2``, ``per_100km2`` (the density
  the report and the city map show), ``per_10k`` (with a population
  table, e.g. :func:`lab.geo.crosswalk.population_2025`: the 2019 census moved to the 2025 units).
- :func:`nearest_distance`: from each point (or unit) to the nearest facility.
- :func:`coverage`: the share of each unit's area (and, assuming people are spread evenly inside a unit,
  of its population) within ``radius_m`` of a point of a layer; :func:`uncovered` lists the units with
  none.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from lab.crs import WGS84, areas_km2, to_local, transformer
from lab.geo.assign import Assignment, assign
from lab.geo.units import unit_columns

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

__all__ = [
    "coverage",
    "coverage_area",
    "indicators",
    "nearest_distance",
    "uncovered",
    "unit_table",
    "wide",
]


def unit_table(units: gpd.GeoDataFrame, *, code: str | None = None, name: str | None = None) -> pl.DataFrame:
    """The units as a table: ``unit_code``, ``unit_name``, ``unit_type`` and ``area_km2`` (EPSG:5899)."""
    code_col, name_col, type_col = unit_columns(units, code, name)
    return pl.DataFrame(
        {
            "unit_code": units[code_col].astype(str).tolist(),
            "unit_name": units[name_col].astype(str).tolist(),
            "unit_type": units[type_col].astype(str).tolist() if type_col else [None] * len(units),
            "area_km2": areas_km2(units),
        },
        schema={
            "unit_code": pl.String,
            "unit_name": pl.String,
            "unit_type": pl.String,
            "area_km2": pl.Float64,
        },
    )


def _population(population: pl.DataFrame | None, code: str, column: str) -> pl.DataFrame | None:
    if population is None:
        return None
    return population.select(
        unit_code=pl.col(code).cast(pl.String), population=pl.col(column).cast(pl.Float64)
    )


def indicators(
    units: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | Assignment],
    *,
    population: pl.DataFrame | None = None,
    population_code: str = "ma_xa",
    population_column: str = "total",
    code: str | None = None,
    name: str | None = None,
) -> pl.DataFrame:
    """Counts, density and rate per 10,000 residents of each point layer in each unit.

    Parameters
    ----------
    units
        The unit polygons.
    layers
        ``{layer name: points}`` (or an :class:`~lab.geo.assign.Assignment` already made).
    population
        Residents per unit (default: none; ``per_10k`` is then null), keyed on ``population_code`` with the
        count in ``population_column``.
    code, name
        The units' code and name columns when they are not the usual ones.

    Returns
    -------
    polars.DataFrame
        One row per unit and layer (zeros included): ``unit_code``, ``unit_name``, ``unit_type``,
        ``area_km2``, ``population``, ``layer``, ``count``, ``per_km2``, ``per_100km2``, ``per_10k``.
    """
    base = unit_table(units, code=code, name=name)
    pop = _population(population, population_code, population_column)
    base = (
        base.join(pop, on="unit_code", how="left")
        if pop is not None
        else base.with_columns(population=pl.lit(None, pl.Float64))
    )
    frames = []
    for layer, points in layers.items():
        result = points if isinstance(points, Assignment) else assign(points, units, code=code, name=name)
        counts = result.by_unit.select("unit_code", count="points")
        frames.append(base.join(counts, on="unit_code", how="left").with_columns(layer=pl.lit(layer)))
    out = (
        pl.concat(frames)
        if frames
        else base.with_columns(layer=pl.lit(None, pl.String), count=pl.lit(0, pl.Int64))
    )
    return out.with_columns(
        count=pl.col("count").fill_null(0),
        per_km2=pl.col("count") / pl.col("area_km2"),
        per_100km2=pl.col("count") / pl.col("area_km2") * 100,  # the density every surface shows
        per_10k=pl.when(pl.col("population") > 0)
        .then(pl.col("count") / pl.col("population") * 10_000)
        .otherwise(None),
    ).select(
        "unit_code",
        "unit_name",
        "unit_type",
        "area_km2",
        "population",
        "layer",
        "count",
        "per_km2",
        "per_100km2",
        "per_10k",
    )


def wide(long: pl.DataFrame, value: str = "count") -> pl.DataFrame:
    """One row per unit, one column per layer, from :func:`indicators` (count, per_km2 or per_10k)."""
    keys = ["unit_code", "unit_name"]
    return long.pivot(on="layer", index=keys, values=value, maintain_order=True)


def _local_points(points: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    import shapely

    series = points.geometry if hasattr(points, "geometry") else points
    present = series[series.notna() & ~series.is_empty]
    if present.crs is None:
        from lab.errors import CRSError

        raise CRSError("the points have no CRS")
    geoms = to_local(present)
    return geoms[~shapely.is_empty(geoms)]


def nearest_distance(
    origins: gpd.GeoDataFrame | gpd.GeoSeries, facilities: gpd.GeoDataFrame | gpd.GeoSeries
) -> np.ndarray:
    """Metres from each origin (points or polygons; 0 inside a polygon) to the nearest facility.

    Null origins get NaN; with no facility at all every distance is inf.
    """
    import shapely

    series = origins.geometry if hasattr(origins, "geometry") else origins
    targets = _local_points(facilities)
    out = np.full(len(series), np.nan)
    ok = (series.notna() & ~series.is_empty).to_numpy()
    if not ok.any():
        return out
    if not len(targets):
        out[ok] = np.inf
        return out
    tree = shapely.STRtree(targets)
    geoms = to_local(series[ok])
    _, dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    out[ok] = dist
    return out


def coverage_area(points: gpd.GeoDataFrame | gpd.GeoSeries, radius_m: float, *, crs: Any = WGS84) -> Any:
    """The area within ``radius_m`` of any point (one shapely geometry, in ``crs``; buffered in EPSG:5899)."""
    import shapely

    from lab.crs import LOCAL_CRS

    local = _local_points(points)
    if not len(local):
        return shapely.Polygon()
    union = shapely.union_all(shapely.buffer(local, radius_m, quad_segs=16))
    tr = transformer(LOCAL_CRS, crs)

    def back(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(union, back)


def coverage(
    units: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    radius_m: float,
    *,
    population: pl.DataFrame | None = None,
    population_code: str = "ma_xa",
    population_column: str = "total",
    code: str | None = None,
    name: str | None = None,
) -> pl.DataFrame:
    """How much of each unit lies within ``radius_m`` of a point (e.g. 2,000 m of a sensor).

    Returns
    -------
    polars.DataFrame
        One row per unit: ``unit_code``, ``unit_name``, ``area_km2``, ``covered_km2``, ``covered_share``
        (0–1), ``distance_m`` (from the unit's polygon to the nearest point; 0 when one is inside),
        ``population`` and ``population_covered`` (population × covered share: people are assumed to be
        spread evenly inside a unit; null without a population table).
    """
    import shapely

    base = unit_table(units, code=code, name=name)
    local_units = to_local(units.geometry)
    pts = _local_points(points)
    if len(pts):
        union = shapely.union_all(shapely.buffer(pts, radius_m, quad_segs=16))
        shapely.prepare(union)
        covered = shapely.area(shapely.intersection(local_units, union)) / 1e6
        tree = shapely.STRtree(pts)
        _, dist = tree.query_nearest(local_units, return_distance=True, all_matches=False)
    else:
        covered = np.zeros(len(units))
        dist = np.full(len(units), np.inf)
    out = base.with_columns(
        covered_km2=pl.Series(covered, dtype=pl.Float64),
        distance_m=pl.Series(dist, dtype=pl.Float64),
    ).with_columns(covered_share=(pl.col("covered_km2") / pl.col("area_km2")).clip(0.0, 1.0))
    pop = _population(population, population_code, population_column)
    out = (
        out.join(pop, on="unit_code", how="left")
        if pop is not None
        else out.with_columns(population=pl.lit(None, pl.Float64))
    )
    out = out.with_columns(population_covered=pl.col("population") * pl.col("covered_share"))
    return out.select(
        "unit_code",
        "unit_name",
        "area_km2",
        "covered_km2",
        "covered_share",
        "distance_m",
        "population",
        "population_covered",
    )


def uncovered(cov: pl.DataFrame) -> pl.DataFrame:
    """The units of a :func:`coverage` table with no area within the radius, farthest first."""
    return cov.filter(pl.col("covered_share") <= 0).sort("distance_m", descending=True)
