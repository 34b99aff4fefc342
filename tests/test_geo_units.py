"""Administrative units: the real 2025 file, the January-2025 list, name keys and the lookup."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import lab
from lab.errors import SchemaError
from lab.geo import UnitIndex, districts_2024, lookup, repair_report, units_2025, units_2025_01
from lab.geo.names import accent_key_expr, type_key_expr
from lab.geo.units import UnitNotFoundError, load_units, read_vnau, unit_columns


@pytest.fixture(scope="module")
def cat() -> lab.Catalog:
    return lab.load_catalog()


@pytest.fixture(scope="module")
def real_units(shared_data: Path, cat: lab.Catalog):  # type: ignore[no-untyped-def]
    return units_2025(catalog=cat, mirror=shared_data)


def test_real_2025_file_has_94_units_with_5_repaired(real_units) -> None:  # type: ignore[no-untyped-def]
    report = repair_report(real_units)
    assert report["units"] == 94
    assert report["repaired"] == 5
    assert report["invalid"] == 0 and report["empty"] == 0
    kinds = real_units["loai"].value_counts().to_dict()
    assert kinds == {"Xã": 70, "Phường": 23, "Đặc khu": 1}
    assert real_units["ma_xa"].is_unique
    assert real_units.attrs["dataset"] == "danang-wards-2025" and not real_units.attrs["approximate"]
    assert "bando" in real_units.attrs["publisher"]


def test_lookup_by_code_or_name_in_any_spelling(real_units) -> None:  # type: ignore[no-untyped-def]
    idx = UnitIndex(real_units)
    for query in (
        "20242",
        20242,
        "Phường Hải Châu",
        "P. Hải Châu",
        "phuong hai chau",
        "HảiChâu",
        " hai  chau ",
    ):
        assert idx.get(query).code == "20242", query
    assert idx.get("Hoà Cường").name == "Phường Hòa Cường"  # old tone placement
    assert idx.get("Đặc khu Hoàng Sa").type == "Đặc khu"
    assert idx.find("Phường Thạch Thang") is None  # a January-2025 name, not a 2025 unit
    with pytest.raises(UnitNotFoundError, match="Thạch Thang"):
        idx.get("Thạch Thang")
    assert lookup("Xã Tân Hiệp", real_units).code == "20434"


def test_vectorised_lookup_matches_the_scalar_one(real_units) -> None:  # type: ignore[no-untyped-def]
    idx = UnitIndex(real_units)
    queries = ["20257", "x. hoa vang", "Nowhere", None, "Phường Sơn Trà"]
    out = idx.resolve(queries)
    assert out["query"].to_list() == queries
    assert out["code"].to_list() == ["20257", "20320", None, None, "20263"]
    assert out["matched_by"].to_list() == ["code", "name_without_accents", None, None, "name"]
    for q, code in zip(queries, out["code"], strict=True):
        unit = idx.find(q)
        assert (unit.code if unit else None) == code


def test_prefix_picks_between_units_of_different_types() -> None:
    units = pl.DataFrame(
        {"ma": ["1", "2"], "ten": ["Phường Hòa Khánh", "Xã Hòa Khánh"], "loai": ["Phường", "Xã"]}
    )
    idx = UnitIndex(units, code="ma", name="ten")
    assert idx.get("P. Hòa Khánh").code == "1"
    assert idx.get("xa hoa khanh").code == "2"
    assert idx.find("Hòa Khánh") is None  # ambiguous without its prefix
    with pytest.raises(UnitNotFoundError, match="several units"):
        idx.get("Hòa Khánh")


def test_accent_key_keeps_apart_what_the_plain_key_merges() -> None:
    df = pl.DataFrame({"n": ["Xã Trà Dơn", "Xã Trà Don", "Xã Tam Đàn", "Xã Tam Dân", "TT. Ái Nghĩa"]})
    keys = df.select(accent_key_expr(pl.col("n"))).to_series().to_list()
    assert len(set(keys[:2])) == 2 and len(set(keys[2:4])) == 2
    assert df.select(type_key_expr(pl.col("n"))).to_series().to_list() == ["xa", "xa", "xa", "xa", "thitran"]
    both = UnitIndex(pl.DataFrame({"code": ["20938", "20956"], "name": ["Xã Trà Dơn", "Xã Trà Don"]}))
    assert both.get("TràDơn").code == "20938" and both.get("Trà Don").code == "20956"


def test_january_2025_structure_has_47_danang_units() -> None:
    jan = units_2025_01()
    counts = jan.group_by("province_code").len().sort("province_code").rows()
    assert counts == [("48", 47), ("49", 233)]
    assert jan["code"].is_unique().all()
    # former names the package knows, e.g. Hòa Khê merged into Thanh Khê Đông on 1 January 2025
    tkd = jan.filter(pl.col("code") == "20207").row(0, named=True)
    assert tkd["name"] == "Phường Thanh Khê Đông" and "hoakhe" in tkd["aliases"]


def test_districts_before_july_2025(shared_data: Path, cat: lab.Catalog) -> None:
    districts = districts_2024(catalog=cat, mirror=shared_data)
    assert sorted(districts["level2_id"]) == ["490", "491", "492", "493", "494", "495", "497", "498"]
    assert repair_report(districts)["invalid"] == 0
    assert UnitIndex(districts).get("Q. Hải Châu").code == "492"


def test_unit_columns_and_non_polygon_datasets_are_checked(shared_data: Path, cat: lab.Catalog) -> None:
    assert unit_columns(pl.DataFrame({"ma_xa": [], "ten_xa": [], "loai": []})) == ("ma_xa", "ten_xa", "loai")
    with pytest.raises(SchemaError, match="code and a name"):
        unit_columns(pl.DataFrame({"x": []}))
    with pytest.raises(SchemaError, match="not a polygon dataset"):
        load_units("danang-ward-points-2025", catalog=cat, mirror=shared_data)


def test_demo_units_are_marked_approximate(monkeypatch: pytest.MonkeyPatch, demo_portal: Path) -> None:
    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    approx = units_2025(approximate=True)
    assert len(approx) == 94 and approx.attrs["approximate"] and approx.attrs["synthetic"]
    codes = read_vnau("SELECT wardCode FROM admin_units WHERE provinceCode = '48'")["wardCode"]
    assert set(approx["ma_xa"]) == set(codes)
    assert lookup("Hải Châu", approx).code == "20242"
