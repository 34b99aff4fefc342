"""Points from tables: coordinate forms, swapped columns, VN-2000 with a pinned shift, addresses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from pyproj import Transformer
from pyproj.transformer import TransformerGroup

import lab
from lab.crs import PINNED_OPERATION, areas_km2, to_local_xy, transformer
from lab.geo import coordinate_expr, points_from_table, transformation_record, units_from_addresses


def _parse(values: list[str | None]) -> list[float | None]:
    out = (
        pl.DataFrame({"v": values}, schema={"v": pl.String}).select(coordinate_expr(pl.col("v"))).to_series()
    )
    return [None if v is None else round(v, 6) for v in out.to_list()]


def test_every_common_coordinate_form_parses() -> None:
    values = [
        "108.2208",
        "108,2208",
        " 16,0678 ",
        "16°04'04.1\"N",
        "16° 4' 4,1\" N",
        "N 16°04'04.1\"",
        "108 13 15 E",
        "108d13m15s",
        "16°4.0683'",
        "16:04:04.1",
        "-33.5",
        "33°30'S",
    ]
    dms = 16 + 4 / 60 + 4.1 / 3600
    expected = [
        108.2208,
        108.2208,
        16.0678,
        dms,
        dms,
        dms,
        108.220833,
        108.220833,
        16.067805,
        dms,
        -33.5,
        -33.5,
    ]
    assert _parse(values) == [round(v, 6) for v in expected]


def test_garbage_is_null_not_a_guess() -> None:
    assert _parse(["abc", "", None, "16°75'", "108 12 61", "1.2.3"]) == [None] * 6


def test_rows_keep_their_problem_instead_of_being_dropped() -> None:
    table = pl.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "lon": ["108,2208", "x", None, "16.07", "150"],
            "lat": ["16,0678", "16.1", None, "108.22", "16"],
        }
    )
    gdf = points_from_table(table, "lon", "lat")
    assert len(gdf) == 5 and gdf["id"].tolist() == ["a", "b", "c", "d", "e"]
    problems = [p if isinstance(p, str) else None for p in gdf["point_problem"]]
    assert problems == [None, "unparseable_coordinates", "no_coordinates", "looks_swapped", "outside_vietnam"]
    assert gdf.geometry.iloc[0].x == pytest.approx(108.2208) and gdf.geometry.iloc[1:].isna().all()
    assert gdf.attrs["problems"]["looks_swapped"] == 1 and not gdf.attrs["swapped"]


def test_swapped_columns_are_detected_and_recorded() -> None:
    table = pl.DataFrame({"lon": [16.05, 16.1, 15.9], "lat": [108.2, 108.1, 108.3]})
    gdf = points_from_table(table, "lon", "lat")
    assert gdf.attrs["swapped"] is True
    assert gdf.geometry.x.round(2).tolist() == [108.2, 108.1, 108.3]
    kept = points_from_table(table, "lon", "lat", detect_swap=False)
    assert kept["point_problem"].tolist() == ["looks_swapped"] * 3


def test_vn2000_uses_the_pinned_shift_and_records_it() -> None:
    lon, lat = np.array([108.2208, 107.9, 108.5]), np.array([16.0678, 15.6, 15.9])
    x, y = to_local_xy(lon, lat)
    table = pl.DataFrame({"x": [f"{v:.3f}".replace(".", ",") for v in x], "y": [f"{v:.3f}" for v in y]})
    gdf = points_from_table(table, "x", "y")  # recognised as VN-2000 metres by their size
    assert gdf.attrs["crs_in"] == "EPSG:5899"
    assert gdf.attrs["transformation"]["operation"] == PINNED_OPERATION == "EPSG:6960"
    assert np.allclose(gdf.geometry.x, lon, atol=1e-7) and np.allclose(gdf.geometry.y, lat, atol=1e-7)
    # the pin matters: the other published shift (EPSG:5194) puts the same grid point ~0.7 m away
    group = TransformerGroup("EPSG:5899", "EPSG:4326", always_xy=True).transformers
    other = next(t for t in group if "(1)" in t.description)
    ox, oy = other.transform(x, y)
    back = Transformer.from_crs("EPSG:4326", "EPSG:5899", always_xy=True)
    bx, by = back.transform(ox, oy)
    shift = np.hypot(np.asarray(bx) - x, np.asarray(by) - y)
    assert (shift > 0.3).all() and (shift < 2.0).all()
    assert transformer("EPSG:5899", "EPSG:4326").definition == transformation_record()["pipeline"]
    swapped = points_from_table(table.select(x="y", y="x"), "x", "y")
    assert swapped.attrs["swapped"] and np.allclose(swapped.geometry.x, lon, atol=1e-7)


def test_areas_are_computed_in_the_local_grid() -> None:
    import geopandas as gpd
    import shapely

    x0, y0 = to_local_xy([108.2], [16.05])
    square = shapely.box(x0[0], y0[0], x0[0] + 1000, y0[0] + 1000)  # 1 km² in VN-2000
    local = gpd.GeoSeries([square], crs="EPSG:5899")
    assert areas_km2(local)[0] == pytest.approx(1.0, rel=1e-9)
    lonlat = local.to_crs("EPSG:4326")
    assert areas_km2(lonlat)[0] == pytest.approx(1.0, rel=1e-6)


def test_addresses_find_their_unit(monkeypatch: pytest.MonkeyPatch, demo_portal: Path) -> None:
    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    shops = lab.load("facilities-food-safety")
    found = units_from_addresses(pl.Series(shops["address"].tolist()))
    assert found["reason"].null_count() == len(shops)
    assert found["unit_code"].to_list() == shops["ma_xa"].tolist()


def test_addresses_that_are_not_in_the_city_are_reported() -> None:
    found = units_from_addresses(
        [
            "Xã Tân Hiệp, Hội An",  # the first full unit name wins, not the later "Hội An"
            "5 Hùng Vương, P. Hoà Cường",
            "1 Lê Lợi, Phường Bến Nghé, TP Hồ Chí Minh",
            "Thôn 1, Xã Tam Hải, Quảng Nam",
            None,
            "zzz",
        ]
    )
    assert found["unit_code"].to_list() == ["20434", "20257", None, "20992", None, None]
    assert found["reason"].to_list() == [None, None, "other_province", None, "no_address", "no_unit_found"]
