"""Vietnamese text normalisation: NFC, tone placement, accents, place keys, matching."""

from __future__ import annotations

import unicodedata

import polars as pl
import pytest

from lab.text import (
    fold_tones,
    fold_tones_expr,
    match_places,
    nfc,
    nfc_expr,
    place_key,
    place_key_expr,
    strip_accents,
    strip_accents_expr,
)


def test_nfc_composes_decomposed_text() -> None:
    decomposed = unicodedata.normalize("NFD", "Phường Hòa Khánh Bắc")
    assert decomposed != "Phường Hòa Khánh Bắc"
    assert nfc(decomposed) == "Phường Hòa Khánh Bắc"
    out = pl.DataFrame({"s": [decomposed, None]}).select(nfc_expr(pl.col("s"))).to_series().to_list()
    assert out == ["Phường Hòa Khánh Bắc", None]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Hoà", "Hòa"),
        ("hoá", "hóa"),
        ("khoẻ", "khỏe"),
        ("Thuỷ", "Thủy"),
        ("Uỷ ban", "Ủy ban"),
        ("luỹ", "lũy"),
        ("Hoạ", "Họa"),
        ("HOÀ", "HÒA"),
        ("Phường Hoà Thuận", "Phường Hòa Thuận"),
        ("HoàQuý", "HòaQuý"),  # census names have no spaces
        ("xoè", "xòe"),
    ],
)
def test_fold_tones_moves_old_style_marks(old: str, new: str) -> None:
    assert fold_tones(old) == new


@pytest.mark.parametrize("word", ["hoàn", "Quý", "quỳnh", "Huỳnh", "thuyền", "HOÀN", "Hòa"])
def test_fold_tones_leaves_closed_syllables_and_qu_alone(word: str) -> None:
    assert fold_tones(word) == nfc(word)


def test_fold_tones_equalises_hoa() -> None:
    assert fold_tones("Hoà Quý") == fold_tones("Hòa Quý")
    assert fold_tones(unicodedata.normalize("NFD", "Hoà")) == "Hòa"
    col = pl.DataFrame({"s": ["HoàHải", "HòaKhánhBắc"]}).select(fold_tones_expr(pl.col("s"))).to_series()
    assert col.to_list() == ["HòaHải", "HòaKhánhBắc"]


def test_strip_accents() -> None:
    assert strip_accents("Đà Nẵng") == "Da Nang"
    assert strip_accents("Đặc khu Hoàng Sa") == "Dac khu Hoang Sa"
    assert strip_accents(unicodedata.normalize("NFD", "Ngũ Hành Sơn")) == "Ngu Hanh Son"
    out = pl.select(strip_accents_expr(pl.lit("Quảng Nam"))).item()
    assert out == "Quang Nam"


@pytest.mark.parametrize(
    "variant",
    [
        "HảiChâuI",
        "Phường Hải Châu I",
        "P. Hải Châu I",
        "P.Hải Châu I",
        "P Hải Châu I",
        "phuong hai chau i",
        "  PHƯỜNG   HẢI CHÂU I ",
        unicodedata.normalize("NFD", "Phường Hải Châu I"),
    ],
)
def test_place_key_variants_agree(variant: str) -> None:
    assert place_key(variant) == "haichaui"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Xã Hòa Vang", "hoavang"),
        ("X. Hòa Vang", "hoavang"),
        ("Thị trấn Nam Phước", "namphuoc"),
        ("TT. Nam Phước", "namphuoc"),
        ("Thị xã Điện Bàn", "dienban"),
        ("Quận Hải Châu", "haichau"),
        ("Q. Hải Châu", "haichau"),
        ("Huyện Hòa Vang", "hoavang"),
        ("H. Hòa Vang", "hoavang"),
        ("Thành phố Đà Nẵng", "danang"),
        ("TP. Đà Nẵng", "danang"),
        ("T.P. Đà Nẵng", "danang"),
        ("Tỉnh Quảng Nam", "quangnam"),
        ("Đặc khu Hoàng Sa", "hoangsa"),
        ("ĐàNẵng", "danang"),
        ("Quảng Nam", "quangnam"),  # "Quảng" is not the prefix "Quận"
        ("Phương Đông", "phuongdong"),  # "Phương" is not "Phường"
    ],
)
def test_place_key_removes_prefixes(name: str, key: str) -> None:
    assert place_key(name) == key


def test_place_key_tones_and_apostrophes() -> None:
    assert place_key("Hoà Quý") == place_key("Hòa Quý") == "hoaquy"
    assert place_key("Xã Ea H'leo") == place_key("Xã Ea H\u2019leo") == "eahleo"
    assert place_key("Phường 1") != place_key("Phường 11")


def test_place_key_expr_matches_scalar_and_keeps_nulls() -> None:
    names = ["Phường Hải Châu I", "HoàQuý", None]
    out = pl.DataFrame({"n": names}).select(place_key_expr(pl.col("n"))).to_series().to_list()
    assert out == [place_key("Phường Hải Châu I"), place_key("HoàQuý"), None]


def test_match_places_finds_unique_candidates_in_order() -> None:
    census = ["HảiChâuI", "HoàQuý", "NamDương", "Atlantis", None]
    official = ["Phường Hải Châu I", "Phường Hải Châu II", "Phường Hòa Quý", "Phường Nam Dương"]
    m = match_places(pl.Series(census), official)
    assert m.columns == ["name", "candidate", "key", "ambiguous"]
    assert m["candidate"].to_list() == ["Phường Hải Châu I", "Phường Hòa Quý", "Phường Nam Dương", None, None]
    assert m["ambiguous"].to_list() == [False] * 5
    assert m["key"][0] == "haichaui"


def test_match_places_flags_ambiguous_keys() -> None:
    m = match_places(["Hòa Khánh", "Hòa Vang"], ["Phường Hòa Khánh", "Xã Hòa Khánh", "Huyện Hòa Vang"])
    assert m["ambiguous"].to_list() == [True, False]
    assert m["candidate"].to_list() == [None, "Huyện Hòa Vang"]


def test_match_places_same_candidate_twice_is_not_ambiguous() -> None:
    m = match_places(["Hòa Quý"], ["Phường Hòa Quý", "Phường Hòa Quý"])
    assert m["candidate"].to_list() == ["Phường Hòa Quý"]
    assert not m["ambiguous"][0]


def test_match_places_on_real_style_names() -> None:
    """The census (no spaces, old tones) against the GSO style (prefix, NFD input)."""
    gso = [unicodedata.normalize("NFD", n) for n in ["Phường Hoà Hải", "Phường Hòa Khánh Bắc", "Xã Hòa Bắc"]]
    m = match_places(["HoàHải", "HòaKhánhBắc", "HòaBắc"], gso)
    assert m["candidate"].null_count() == 0
