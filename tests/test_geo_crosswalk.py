"""Old → new units: the January 2025 hop, the July 2025 crosswalk, disagreements, exact totals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import lab
from lab.cli import main
from lab.geo import crosswalk_2025, disagreements, hop_2019, population_2025, to_2025
from lab.geo.crosswalk import CrosswalkError, normalise_structure
from lab.geo.units import units_2025

# The 1 January 2025 mergers of Đà Nẵng's wards as the resolution lists them (2019 name → January-2025 unit).
JANUARY_2025 = {
    "HảiChâuI": "Phường Hải Châu",
    "HảiChâuII": "Phường Hải Châu",
    "NamDương": "Phường Phước Ninh",
    "BìnhHiên": "Phường Phước Ninh",
    "HòaThuậnĐông": "Phường Bình Thuận",
    "HòaKhê": "Phường Thanh Khê Đông",
    "TamThuận": "Phường Xuân Hà",
    "VĩnhTrung": "Phường Thạc Gián",
    "TânChính": "Phường Chính Gián",
    "AnHảiTây": "Phường An Hải Nam",
    "AnHảiĐông": "Phường An Hải Nam",
}


@pytest.fixture(scope="module")
def cat() -> lab.Catalog:
    return lab.load_catalog()


@pytest.fixture(scope="module")
def units(shared_data: Path, cat: lab.Catalog):  # type: ignore[no-untyped-def]
    return units_2025(catalog=cat, mirror=shared_data)


@pytest.fixture(scope="module")
def census(shared_data: Path, cat: lab.Catalog) -> pl.DataFrame:
    df = lab.load("census-2019-wards", catalog=cat, mirror=shared_data)
    assert isinstance(df, pl.DataFrame)
    return df


@pytest.fixture(scope="module")
def cw(shared_data: Path, cat: lab.Catalog, units) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    return crosswalk_2025(units=units, catalog=cat, mirror=shared_data)


def test_the_january_2025_hop_maps_the_eleven_vanished_names(census: pl.DataFrame) -> None:
    danang = census.filter(pl.col("city") == "ĐàNẵng")
    assert danang.height == 56
    edges, unmatched = hop_2019(danang, ward="ward", district="district", province="city")
    assert unmatched.height == 0
    named = danang.with_row_index("_row").select("_row", "ward").join(edges, on="_row")
    got = dict(named.filter(pl.col("ward").is_in(list(JANUARY_2025))).select("ward", "name").rows())
    assert got == JANUARY_2025
    assert named["code"].n_unique() == 47  # 56 wards of 2019 → the 47 units of January 2025
    # wards that kept their name stay themselves
    assert dict(named.filter(pl.col("ward") == "ThạchThang").select("ward", "name").rows()) == {
        "ThạchThang": "Phường Thạch Thang"
    }


def test_the_hop_covers_quang_nam_too(census: pl.DataFrame) -> None:
    quang_nam = census.filter(pl.col("city") == "QuảngNam")
    edges, unmatched = hop_2019(quang_nam, ward="ward", district="district", province="city")
    assert unmatched.height == 0 and edges["_row"].n_unique() == 244
    # Trà Dơn and Trà Don are two communes: the accent-blind key alone would merge them
    pair = (
        quang_nam.with_row_index("_row")
        .filter(pl.col("ward").is_in(["TràDơn", "TràDon"]))
        .join(edges, on="_row")
    )
    assert pair["code"].n_unique() == 2


def test_census_2019_to_2025_keeps_the_city_totals_exactly(
    shared_data: Path, cat: lab.Catalog, cw: pl.DataFrame, units
) -> None:  # type: ignore[no-untyped-def]
    old_city = population_2025(provinces=["Đà Nẵng"], crosswalk=cw, catalog=cat, mirror=shared_data)
    assert old_city.totals["total"] == {"in": 1_134_310, "matched": 1_134_310, "out": 1_134_310}
    assert old_city.table["total"].sum() == 1_134_310
    both = population_2025(crosswalk=cw, catalog=cat, mirror=shared_data)
    assert both.table["total"].sum() == 2_630_122 and both.unmatched.height == 0
    assert both.table["total"].dtype == pl.Int64  # people stay whole people
    assert set(both.split["name"]) == {"HòaLiên", "HòaMinh"}  # the split units are listed
    # Hòa Liên: the 1,342 people the 2025 resolution moved to Hải Vân (via Hòa Bắc)
    hoa_lien = both.edges.filter(pl.col("name") == "HòaLiên")
    to_hai_van = hoa_lien.filter(pl.col("ma_xa") == "20194")["share"].item()
    census_hoa_lien = 15_680
    assert round(census_hoa_lien * to_hai_van) == 1_342
    # every row's integers are re-allocated exactly
    assert (both.table["urban"] + both.table["rural"]).sum() == 2_630_122
    assert both.table.height == 93  # Hoàng Sa has nobody
    assert set(both.table["ma_xa"]) <= set(units["ma_xa"])


def test_area_share_moves_other_amounts_than_population_share(census: pl.DataFrame, cw: pl.DataFrame) -> None:
    by_area = to_2025(census, "total", source="2024", split="area", crosswalk=cw)
    by_people = to_2025(census, "total", source="2024", split="population", crosswalk=cw)
    assert by_area.table["total"].sum() == by_people.table["total"].sum() == 2_630_122
    hv = {m.method: m.table.filter(pl.col("ma_xa") == "20194")["total"].item() for m in (by_area, by_people)}
    assert hv["area"] > hv["population"]  # 8.4 of 40 km² but only 1,342 of 15,680 people went to Hải Vân


def test_disagreements_between_the_crosswalk_and_the_boundary_file(
    shared_data: Path, cat: lab.Catalog, units
) -> None:  # type: ignore[no-untyped-def]
    raw = lab.load("admin-crosswalk-2025", catalog=cat, mirror=shared_data)
    assert isinstance(raw, pl.DataFrame)
    report = disagreements(raw, units)
    kinds = {(r["new_code"], r["kind"]) for r in report.iter_rows(named=True)}
    assert ("20242", "partial_disputed") in kinds  # Xã Phước Ninh (Quảng Nam) → Phường Hải Châu
    assert ("20333", "only_bando") in kinds  # Huyện Hoàng Sa had no communes
    spelled = (
        report.filter(pl.col("kind") == "spelling").select("old_name_crosswalk", "old_name_bando").rows()
    )
    assert ("Xã Bha Lê", "Xã Bhalêê") in spelled and ("Xã Zuôich", "Xã Zuôih") in spelled
    assert (
        report.filter(pl.col("kind") == "partial")["old_name_crosswalk"].to_list().count("Xã Hòa Liên") == 2
    )


def test_the_corrected_crosswalk_drops_the_disputed_edge(
    cw: pl.DataFrame, units, cat: lab.Catalog, shared_data: Path
) -> None:  # type: ignore[no-untyped-def]
    phuoc_ninh = cw.filter(pl.col("old_code") == "20669")
    assert phuoc_ninh["new_code"].to_list() == ["20669"] and not phuoc_ninh["split"].item()
    raw = crosswalk_2025(correct=False, units=units, catalog=cat, mirror=shared_data)
    kept = dict(raw.filter(pl.col("old_code") == "20669").select("new_code", "share_area").rows())
    assert set(kept) == {"20242", "20669"} and sum(kept.values()) == pytest.approx(1.0)
    assert kept["20669"] > kept["20242"]  # no size known: shared by the new units' areas
    assert cw.filter(pl.col("old_code") == "498")["new_code"].item() == "20333"
    shares = cw.group_by("old_code").agg(pl.col("share_area").sum(), pl.col("share_population").sum())
    assert np.allclose(shares["share_area"], 1.0) and np.allclose(shares["share_population"], 1.0)


def test_codes_are_read_in_their_own_structure(cw: pl.DataFrame) -> None:
    # January-2025 code 20242 is Phường Phước Ninh (→ Hải Châu); in 2025, 20242 is Hải Châu itself
    table = pl.DataFrame(
        {"code": ["20242", "20669"], "ward": ["Phường Phước Ninh", "Xã Phước Ninh"], "n": [10, 7]}
    )
    moved = to_2025(table, "n", source="2025-01", code="code", ward="ward", crosswalk=cw)
    assert dict(moved.table.select("ma_xa", "n").rows()) == {"20242": 10, "20669": 7}
    wrong = pl.DataFrame(
        {"code": ["20242"], "ward": ["Phường Hải Châu"], "n": [1]}
    )  # a 2025 name on an old code
    assert to_2025(wrong, "n", source="2025-01", code="code", ward="ward", crosswalk=cw).unmatched.height == 1


def test_integer_shares_add_up_per_row_and_means_are_weighted(cw: pl.DataFrame) -> None:
    rng = np.random.default_rng(5)
    names = ["Xã Hòa Liên", "Phường Hòa Minh", "Phường Hải Châu", "Xã Hòa Bắc"]
    table = pl.DataFrame({"ward": names, "n": rng.integers(0, 10_000, 4), "rate": [1.0, 2.0, 3.0, 4.0]})
    moved = to_2025(table, "n", source="2025-01", crosswalk=cw, split="area")
    per_row = moved.edges.join(table.with_row_index("_row"), on="_row")
    assert moved.table["n"].sum() == table["n"].sum()
    assert moved.split["name"].to_list() == ["Xã Hòa Liên"]
    assert per_row.filter(pl.col("split"))["name"].unique().to_list() == ["Xã Hòa Liên"]
    weighted = to_2025(table, "rate", source="2025-01", crosswalk=cw, weight="n")
    hai_van = weighted.table.filter(pl.col("ma_xa") == "20194").row(0, named=True)
    lien, bac = table.row(0, named=True), table.row(3, named=True)
    share = moved.edges.filter((pl.col("name") == "Xã Hòa Liên") & (pl.col("ma_xa") == "20194"))[
        "share"
    ].item()
    expected = (lien["rate"] * lien["n"] * share + bac["rate"] * bac["n"]) / (lien["n"] * share + bac["n"])
    assert hai_van["rate"] == pytest.approx(expected)


def test_unknown_structures_and_columns_are_one_line_errors(cw: pl.DataFrame) -> None:
    assert normalise_structure("2021") == "2019" and normalise_structure("2025-07") == "2025"
    with pytest.raises(CrosswalkError, match="2018"):
        normalise_structure("2018")
    with pytest.raises(CrosswalkError, match="split"):
        to_2025(
            pl.DataFrame({"ward": ["Xã Hòa Bắc"], "n": [1]}), "n", source="2025-01", crosswalk=cw, split="x"
        )
    with pytest.raises(lab.LabError, match="'m'"):
        to_2025(pl.DataFrame({"ward": ["Xã Hòa Bắc"], "n": [1]}), "m", source="2025-01", crosswalk=cw)


def test_cli_crosswalk_takes_to_twice(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = shared_data / "census2019" / "VN_Population_ward_danang_quangnam.csv"
    out = tmp_path / "census_2025.csv"
    args = [
        "geo",
        "crosswalk",
        str(src),
        "--from",
        "2024",
        "--to",
        "2025",
        "--value",
        "total",
        "--to",
        str(out),
    ]
    assert main([*args, "--mirror", str(shared_data), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["totals"]["total"]["out"] == 2_630_122 and facts["units"] == 93
    assert set(facts["split_rows"]) == {"HòaLiên", "HòaMinh"}
    written = pl.read_csv(out, schema_overrides={"ma_xa": pl.String})
    assert written["total"].sum() == 2_630_122 and written["ma_xa"].str.len_chars().eq(5).all()
    other = tmp_path / "density.parquet"
    args = ["geo", "crosswalk", str(src), "--from", "2019", "--to", "2025", "--value", "pop_density"]
    assert main([*args, "--weight", "total", "--out", str(other), "--mirror", str(shared_data)]) == 0
    assert pl.read_parquet(other)["total"].sum() == 2_630_122
    assert main(["geo", "crosswalk", str(src), "--from", "2024", "--to", "2025-01", "--value", "total"]) == 2
