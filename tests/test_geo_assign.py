"""Point in polygon: identical to geopandas.sjoin, the real centre points, reasons, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
import shapely

import lab
from lab.cli import main
from lab.geo import assign, check_own_unit, locate, units_2025


@pytest.fixture(scope="module")
def cat() -> lab.Catalog:
    return lab.load_catalog()


@pytest.fixture(scope="module")
def real_units(shared_data: Path, cat: lab.Catalog) -> gpd.GeoDataFrame:
    return units_2025(catalog=cat, mirror=shared_data)


def _sjoin_first(points: gpd.GeoDataFrame, units: gpd.GeoDataFrame, predicate: str) -> np.ndarray:
    joined = gpd.sjoin(points, units[["geometry"]], how="left", predicate=predicate)
    first = joined.reset_index().groupby("index")["index_right"].min()  # a border point: the first unit
    return first.reindex(range(len(points))).fillna(-1).astype(int).to_numpy()


def test_locate_is_identical_to_sjoin_on_the_real_units(real_units: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(2025)
    x0, y0, x1, y1 = 107.2, 15.0, 108.8, 16.3
    x, y = rng.uniform(x0, x1, 20_000), rng.uniform(y0, y1, 20_000)
    # points exactly on polygon vertices (on borders between units) and a few without coordinates
    verts = shapely.get_coordinates(real_units.geometry.values)[::997]
    x, y = np.concatenate([x, verts[:, 0], [np.nan]]), np.concatenate([y, verts[:, 1], [16.0]])
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=real_units.crs)
    for predicate in ("intersects", "contains"):
        ours = locate(x, y, real_units.geometry.values, predicate=predicate)
        sj_predicate = "intersects" if predicate == "intersects" else "within"
        assert np.array_equal(ours, _sjoin_first(points, real_units, sj_predicate)), predicate
    assert (locate(x, y, real_units.geometry.values) >= 0).sum() > 5_000


def test_centre_points_fall_in_their_own_unit_except_the_islands(
    real_units: gpd.GeoDataFrame, shared_data: Path, cat: lab.Catalog
) -> None:
    centres = lab.load("danang-ward-points-2025", catalog=cat, mirror=shared_data)
    assert len(centres) == 94
    misses = check_own_unit(centres, real_units, point_code="wardCode")
    assert dict(misses.select("code", "name").rows()) == {"20333": "Đặc khu Hoàng Sa", "20434": "Xã Tân Hiệp"}
    assert misses["assigned_code"].null_count() == 2  # in the sea, not in another unit
    assert (misses["distance_m"] > 0).all()
    reasons = dict(misses.select("code", "reason").rows())
    assert reasons["20434"] == "in_sea_or_gap"  # Cù Lao Chàm: the point is ~500 m off the island


def test_demo_points_lie_in_the_unit_they_name(monkeypatch: pytest.MonkeyPatch, demo_portal: Path) -> None:
    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    cat = lab.load_catalog()
    approx = units_2025(approximate=True, catalog=cat)
    for dataset in ("env-sensors", "traffic-cameras", "facilities-hospitals"):
        points = lab.load(dataset, catalog=cat)
        result = assign(points, approx)
        assert result.unassigned == 0, dataset
        assert result.table["unit_code"].to_list() == points["ma_xa"].tolist(), dataset
        assert result.by_unit["points"].sum() == len(points)


def test_unassigned_points_say_why(real_units: gpd.GeoDataFrame) -> None:
    table = pl.DataFrame(
        {
            "name": ["centre", "sea off Sơn Trà", "Huế", "Paris", "nothing", "swapped"],
            "lon": ["108.2208", "108.36", "107.59", "2.35", None, "16.07"],
            "lat": ["16.0678", "16.10", "16.46", "48.85", None, "108.22"],
        }
    )
    from lab.geo import points_from_table

    result = assign(points_from_table(table, "lon", "lat"), real_units)
    assert result.table["unit_code"][0] == "20242"
    assert result.table["reason"].to_list() == [
        None,
        "in_sea_or_gap",
        "outside_units",
        "outside_vietnam",
        "no_coordinates",
        "looks_swapped",
    ]
    summary = result.summary()
    assert (summary["points"], summary["assigned"], summary["unassigned"]) == (6, 1, 5)
    assert summary["by_unit"]["20242"] == 1 and len(summary["by_unit"]) == 94


def test_every_reason_has_a_label_in_both_languages() -> None:
    from lab.geo.points import POINT_PROBLEMS
    from lab.i18n import t

    for reason in (*POINT_PROBLEMS, "in_sea_or_gap", "outside_units"):
        assert t(f"geo_reason_{reason}", "vi") and t(f"geo_reason_{reason}", "en")


def test_points_in_another_crs_are_joined_in_the_polygons_crs(real_units: gpd.GeoDataFrame) -> None:
    lonlat = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([108.2208, 108.05], [16.0678, 15.88]), crs="EPSG:4326"
    )
    local = lonlat.to_crs("EPSG:5899")
    a, b = assign(lonlat, real_units), assign(local, real_units)
    assert a.table["unit_code"].to_list() == b.table["unit_code"].to_list()
    assert a.units_crs == "EPSG:4326"


def test_cli_assign_writes_the_rows_unchanged_plus_three_columns(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "points.csv"
    src.write_text(
        "id;Kinh độ;Vĩ độ;note\n"
        "1;108,2208;16,0678;  trung tâm \n"
        "2;108.36;16.10;biển\n"
        "3;;;\n"
        "4;108°13'15\"E;16°04'04\"N;dms\n",
        encoding="utf-8",
    )
    out = tmp_path / "assigned.csv"
    args = ["geo", "assign", "--points", str(src), "--lon", "Kinh độ", "--lat", "Vĩ độ"]
    code = main(
        [*args, "--units", "danang-wards-2025", "--to", str(out), "--json", "--mirror", str(shared_data)]
    )
    assert code == 0
    facts = json.loads(capsys.readouterr().out)
    assert {"points", "assigned", "unassigned", "by_unit"} <= set(facts)
    assert (facts["points"], facts["assigned"], facts["unassigned"]) == (4, 2, 2)
    assert facts["by_unit"]["20242"] == 2 and facts["reasons"] == {"in_sea_or_gap": 1, "no_coordinates": 1}
    written = pl.read_csv(out, separator=",", infer_schema=False)
    assert written.columns == ["id", "Kinh độ", "Vĩ độ", "note", "unit_code", "unit_name", "reason"]
    assert written["Kinh độ"].to_list() == ["108,2208", "108.36", None, "108°13'15\"E"]  # unchanged
    assert written["note"][0] == "  trung tâm "
    assert written["unit_name"].to_list() == ["Phường Hải Châu", None, None, "Phường Hải Châu"]
    assert written["reason"].to_list() == [None, "in_sea_or_gap", "no_coordinates", None]
    assert (
        main(
            [
                "geo",
                "assign",
                "--points",
                str(tmp_path / "nope.csv"),
                "--lon",
                "a",
                "--lat",
                "b",
                "--units",
                "x",
            ]
        )
        == 2
    )
