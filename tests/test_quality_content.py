"""Content checks (đúng, đủ, sạch): each check's rate and example rows, on hand-made tables and real data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from lab.catalog import Column, TableSchema, load_catalog
from lab.quality.admin import AdminReference, applies_to
from lab.quality.content import check_dataset, check_frame, mojibake_expr

UNITS = AdminReference(
    pl.DataFrame(
        {
            "code": ["20242", "20257", "20194"],
            "name": ["Phường Hải Châu", "Phường Hòa Cường", "Phường Hải Vân"],
        }
    ),
    "hand-made",
)
DAMAGED = "Đà Nẵng".encode().decode("cp1252", errors="replace")  # "Ä\x90Ã\xa0 Náºµng"-like mojibake


def test_mojibake_is_found_and_vietnamese_is_not() -> None:
    samples = [
        "Ä\x90Ã\xa0 Náºµng",
        "Phưá»\x9dng",
        "Thành phố Ðà Nẵng",
        "ẤP ÔNG GIÀ, Ủy ban",
        "bad \ufffd byte",
        DAMAGED,
    ]
    got = pl.DataFrame({"s": samples}).select(mojibake_expr(pl.col("s")))["s"].to_list()
    assert got == [True, True, False, False, True, True]


def test_every_check_has_a_rate_and_example_rows() -> None:
    schema = TableSchema(
        (
            Column("id", "code", required=True, unique=True),
            Column("beds", "integer", min=0, max=2000),
            Column("kind", "string", enum=("benh_vien", "tram_y_te")),
            Column("opened", "date"),
            Column("ma_xa", "code", required=True),
            Column("ten_xa", "string", required=True),
            Column("lon", "number", required=True),
            Column("lat", "number", required=True),
            Column("phone", "string", required=True),  # absent from the file
        ),
        primary_key=("id",),
    )
    raw = pl.DataFrame(
        {
            "id": ["H1", "H2", "H2", "H4", "H5", "H6"],
            "beds": ["120", "1.200", "abc", "-5", "N/A", "80 giường"],
            "kind": ["benh_vien", "tram_y_te", "phong_kham", None, "benh_vien", "benh_vien"],
            "opened": ["2020-01-01", "31/12/2019", "2020-13-01", None, "2021-05-05", "x"],
            "ma_xa": ["20242", "20257", "99999", "20194", None, "20242"],
            "ten_xa": [
                "Phường Hải Châu",
                "P. Hòa Cường",
                "Phường Hải Châu",
                "Phường Hải Châu",
                "Xã Mới",
                DAMAGED,
            ],
            "lon": ["108.22", "108.21", "106.70", "108.2", "108.1", None],
            "lat": ["16.06", "16.05", "10.78", "16.0", "16.1", "16.0"],
        }
    )
    report = check_frame(raw, schema, dataset="hand", admin=UNITS, points=("lon", "lat"), examples=2)
    got = {c.name: c for c in report.checks}
    # đúng: "abc", "2020-13-01" and "x" do not cast (present typed cells: beds 5, opened 5, lon 5, lat 6)
    assert (got["schema_conformance"].failing, got["schema_conformance"].checked) == (3, 21)
    assert got["schema_conformance"].examples[0] == {"row": 3, "column": "beds", "value": "abc"}
    # -5 below min; "phong_kham" not in enum (beds 4 typed values + kind 5)
    assert (got["out_of_range"].failing, got["out_of_range"].checked) == (2, 9)
    assert {e["row"] for e in got["out_of_range"].examples} == {3, 4}
    # đủ: phone is missing; one empty ma_xa and one empty lon (5 required columns present × 6 rows)
    assert (got["missing_columns"].failing, got["missing_columns"].checked) == (1, 6)
    assert (got["required_nulls"].failing, got["required_nulls"].checked) == (2, 30)
    # sạch: H2 twice
    assert (got["duplicate_keys"].failing, got["duplicate_keys"].examples) == (
        1,
        ({"row": 3, "value": "H2"},),
    )
    assert (got["invalid_admin_codes"].failing, got["invalid_admin_codes"].checked) == (1, 5)
    assert got["invalid_admin_codes"].examples[0] == {"row": 3, "column": "ma_xa", "value": "99999"}
    # "Phường Hải Châu" under code 20194 (Hải Vân) and "Xã Mới" and the damaged name are invalid
    assert got["invalid_admin_names"].failing == 3
    assert (
        got["inconsistent_names"].failing == 1
        and got["inconsistent_names"].examples[0]["value"] == "P. Hòa Cường"
    )
    assert (got["invalid_geometry"].failing, got["invalid_geometry"].checked) == (1, 5)  # Hồ Chí Minh City
    assert got["invalid_geometry"].examples[0] == {"row": 3, "value": "106.7, 10.78"}
    assert (got["encoding_damage"].failing, got["encoding_damage"].examples[0]["row"]) == (1, 6)
    assert got["encoding_damage"].rate == pytest.approx(1 / 6)
    dims = report.dimension_scores()
    assert set(dims) == {"correct", "complete", "clean"} and all(0 < v < 1 for v in dims.values())
    assert report.score == pytest.approx(sum(dims.values()) / 3, abs=1e-4)
    assert report.to_dict()["checks"][0]["rate"] == round(3 / 21, 4)


def test_geometries_and_temporal_gaps() -> None:
    import geopandas as gpd
    from shapely.geometry import Point, Polygon

    bowtie = Polygon([(108.1, 16.0), (108.2, 16.1), (108.2, 16.0), (108.1, 16.1)])
    square = Polygon([(108.1, 16.0), (108.2, 16.0), (108.2, 16.1), (108.1, 16.1)])
    geoms = gpd.GeoSeries([square, bowtie, Point(105.8, 21.0).buffer(0.01), None], crs="EPSG:4326")
    raw = pl.DataFrame({"ma_xa": ["20242", "20257", "20194", "20242"]})
    report = check_frame(raw, None, geometry=geoms)
    geo = report.check("invalid_geometry")
    assert (geo.failing, geo.checked) == (3, 4)
    assert [e["row"] for e in geo.examples] == [2, 3, 4]
    assert geo.examples[1]["value"] == "outside the city" and "Self-intersection" in geo.examples[0]["value"]
    assert report.check("duplicate_keys").failing == 1  # whole rows, no schema

    schema = TableSchema((Column("day", "date", required=True), Column("v", "number")))
    days = pl.DataFrame({"day": ["2024-01-05", "2024-03-01", "2024-03-09"], "v": ["1", "2", "3"]})
    gaps = check_frame(days, schema, temporal={"start": date(2024, 1, 1), "end": date(2024, 4, 30)})
    assert (gaps.check("temporal_gaps").failing, gaps.check("temporal_gaps").checked) == (2, 4)
    assert [e["value"] for e in gaps.check("temporal_gaps").examples] == ["2024-02", "2024-04"]


def test_only_tables_of_the_new_units_are_checked_against_2025_codes(root: Path) -> None:
    catalog = load_catalog(root / "datasets.yaml")
    assert applies_to(catalog.get("danang-wards-2025")) and applies_to(catalog.get("facilities-schools"))
    assert not applies_to(catalog.get("census-2019-wards"))  # 2019 units: codes were reused
    assert not applies_to(catalog.get("danang-units-2025-01"))  # issued before the merger


def test_real_2025_codes_from_the_ward_points(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch, root: Path
) -> None:
    monkeypatch.setenv("LAB_MIRROR", str(shared_data))
    catalog = load_catalog(root / "datasets.yaml")
    report = check_dataset(catalog.get("admin-crosswalk-2025"), catalog)
    assert report.error is None
    codes = report.check("invalid_admin_codes")
    assert codes.note == "2025 units from danang-ward-points-2025"
    assert codes.failing == 0 and codes.checked == report.rows  # every new code is a real 2025 code
    # the real boundaries: the loader repairs 5 self-intersecting polygons; the check reports them
    wards = check_dataset(catalog.get("danang-wards-2025"), catalog)
    assert wards.check("invalid_geometry").failing == 5
    assert wards.check("unit_coverage").failing == 0 and wards.check("invalid_admin_names").failing == 0
