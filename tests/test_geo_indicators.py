"""Indicators on a grid whose answers are known: counts, per km², per 10,000, distance, coverage."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
import shapely

from lab.crs import to_local_xy
from lab.geo import coverage, coverage_area, indicators, nearest_distance, uncovered, wide

KM = 1_000.0


@pytest.fixture(scope="module")
def grid() -> gpd.GeoDataFrame:
    """Three 10 km × 10 km units side by side in VN-2000 metres, given to the functions in lon/lat."""
    x0, y0 = (v[0] for v in to_local_xy([108.0], [15.8]))
    boxes = [shapely.box(x0 + i * 10 * KM, y0, x0 + (i + 1) * 10 * KM, y0 + 10 * KM) for i in range(3)]
    local = gpd.GeoDataFrame(
        {"ma_xa": ["A", "B", "C"], "ten_xa": ["Xã A", "Xã B", "Xã C"], "loai": ["Xã"] * 3},
        geometry=boxes,
        crs="EPSG:5899",
    )
    return local.to_crs("EPSG:4326")


def _points(grid: gpd.GeoDataFrame, offsets: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    local = grid.to_crs("EPSG:5899")
    x0, y0 = local.total_bounds[:2]
    pts = [shapely.Point(x0 + dx, y0 + dy) for dx, dy in offsets]
    return gpd.GeoDataFrame({"id": range(len(pts))}, geometry=pts, crs="EPSG:5899").to_crs("EPSG:4326")


def test_counts_density_and_rate_per_10k(grid: gpd.GeoDataFrame) -> None:
    schools = _points(grid, [(1 * KM, 1 * KM), (2 * KM, 5 * KM), (15 * KM, 5 * KM)])
    clinics = _points(grid, [(25 * KM, 5 * KM)])
    population = pl.DataFrame({"ma_xa": ["A", "B"], "total": [20_000, 0]})
    long = indicators(grid, {"schools": schools, "clinics": clinics}, population=population)
    assert long.height == 6
    area = long.filter(pl.col("layer") == "schools")["area_km2"].to_numpy()
    assert np.allclose(area, 100.0, rtol=1e-6)  # areas computed in EPSG:5899
    counts = wide(long, "count")
    assert counts.rows() == [("A", "Xã A", 2, 0), ("B", "Xã B", 1, 0), ("C", "Xã C", 0, 1)]
    a = long.filter((pl.col("unit_code") == "A") & (pl.col("layer") == "schools")).row(0, named=True)
    assert a["per_km2"] == pytest.approx(0.02, rel=1e-6)
    assert a["per_100km2"] == pytest.approx(2.0, rel=1e-6)  # the density the report and the city map show
    assert a["per_10k"] == pytest.approx(1.0)
    no_people = long.filter(pl.col("unit_code").is_in(["B", "C"]))["per_10k"]
    assert no_people.null_count() == 4  # zero or unknown population: no rate


def test_distance_to_the_nearest_facility(grid: gpd.GeoDataFrame) -> None:
    hospitals = _points(grid, [(5 * KM, 5 * KM)])
    homes = _points(grid, [(5 * KM, 8 * KM), (9 * KM, 2 * KM)])
    assert nearest_distance(homes, hospitals) == pytest.approx([3 * KM, 5 * KM], abs=0.01)
    to_units = nearest_distance(grid, hospitals)  # 0 inside, else to the polygon's edge
    assert to_units == pytest.approx([0.0, 5 * KM, 15 * KM], abs=0.01)
    assert np.isinf(nearest_distance(homes, hospitals.iloc[:0])).all()


def test_coverage_share_of_area_and_population(grid: gpd.GeoDataFrame) -> None:
    sensors = _points(grid, [(5 * KM, 5 * KM), (10 * KM, 5 * KM)])  # one in A's middle, one on the A|B border
    population = pl.DataFrame({"ma_xa": ["A", "B", "C"], "total": [10_000, 5_000, 1_000]})
    cov = coverage(grid, sensors, 2 * KM, population=population)
    circle = np.pi * 4.0  # km²
    share = dict(cov.select("unit_code", "covered_share").rows())
    assert share["A"] == pytest.approx(1.5 * circle / 100, rel=0.01)  # one disc and a half disc
    assert share["B"] == pytest.approx(0.5 * circle / 100, rel=0.01)
    assert share["C"] == 0.0
    c = cov.filter(pl.col("unit_code") == "C").row(0, named=True)
    assert c["distance_m"] == pytest.approx(10 * KM, abs=0.01) and c["population_covered"] == 0.0
    a = cov.filter(pl.col("unit_code") == "A").row(0, named=True)
    assert a["population_covered"] == pytest.approx(10_000 * share["A"])
    assert uncovered(cov)["unit_code"].to_list() == ["C"]
    area = coverage_area(sensors, 2 * KM)
    assert area.geom_type == "MultiPolygon" and len(area.geoms) == 2  # 5 km apart: two separate discs
    local = gpd.GeoSeries([area], crs="EPSG:4326").to_crs("EPSG:5899")
    assert local.area.iloc[0] / 1e6 == pytest.approx(2 * circle, rel=0.01)
