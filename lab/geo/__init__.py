"""Spatial analyses: administrative units old and new, crosswalks, points, joins, indicators.

>>> from lab import geo
>>> units = geo.units_2025(approximate=True)  # demo: the 94 units as Voronoi cells  # doctest: +SKIP
>>> sensors = lab.load("env-sensors")  # doctest: +SKIP
>>> geo.assign(sensors, units).summary()["assigned"]  # doctest: +SKIP
>>> geo.population_2025(mirror="/srv/mirror").table  # 2019 census, 2025 units  # doctest: +SKIP

Modules: :mod:`~lab.geo.units` (units and lookup), :mod:`~lab.geo.crosswalk` (old → new),
:mod:`~lab.geo.points` (coordinates, VN-2000, addresses), :mod:`~lab.geo.assign` (point in polygon),
:mod:`~lab.geo.indicators` (counts, density, per 10,000, distance, coverage); the CRS policy is
:mod:`lab.crs`, on the ground floor.
"""

from __future__ import annotations

from lab.crs import LOCAL_CRS, PINNED_OPERATION, areas_km2, transformation_record
from lab.geo.assign import Assignment, assign, check_own_unit, locate
from lab.geo.crosswalk import Moved, crosswalk_2025, disagreements, hop_2019, population_2025, to_2025
from lab.geo.indicators import (
    coverage,
    coverage_area,
    indicators,
    nearest_distance,
    uncovered,
    unit_table,
    wide,
)
from lab.geo.points import coordinate_expr, points_from_table, units_from_addresses
from lab.geo.units import (
    Unit,
    UnitIndex,
    districts_2024,
    load_units,
    lookup,
    repair_report,
    units_2025,
    units_2025_01,
)

__all__ = [
    "LOCAL_CRS",
    "PINNED_OPERATION",
    "Assignment",
    "Moved",
    "Unit",
    "UnitIndex",
    "areas_km2",
    "assign",
    "check_own_unit",
    "coordinate_expr",
    "coverage",
    "coverage_area",
    "crosswalk_2025",
    "disagreements",
    "districts_2024",
    "hop_2019",
    "indicators",
    "load_units",
    "locate",
    "lookup",
    "nearest_distance",
    "points_from_table",
    "population_2025",
    "repair_report",
    "to_2025",
    "transformation_record",
    "uncovered",
    "unit_table",
    "units_2025",
    "units_2025_01",
    "units_from_addresses",
    "wide",
]
