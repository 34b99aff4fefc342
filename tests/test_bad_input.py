"""The bad-input corpus (tests/data/bad): every broken file fails with one exact, one-line LabError.

Each case names a dataset of ``tests/data/bad/catalog.yaml``, the exact error class, and words the
message must contain (the cause). The message must be one line that starts with the dataset id and
the file name. Binary files (``generated/…`` in the catalog) are written to a temporary folder here.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

import lab
from lab import readers
from lab.catalog import Catalog
from lab.errors import (
    CoordinateError,
    CRSError,
    EmptyFileError,
    EncodingError,
    GeometryError,
    HtmlInsteadOfDataError,
    LabError,
    MissingColumnError,
    ReadError,
    SchemaError,
    TruncatedFileError,
)
from lab.text import encode_windows_1258

BAD = Path(__file__).resolve().parent / "data" / "bad"


def _wrong_encoding() -> bytes:
    return encode_windows_1258("ma_xa,ten_xa\n20194,Phường Hải Vân\n20200,Phường Hòa Khánh\n")


def _undecodable() -> bytes:
    # 0x81 and 0x8d are invalid in UTF-8 and undefined in Windows-1258
    return b"ma_xa,ten_xa\n20194,Ph\x81\x8dng H\xe1i V\x81n\n"


def _not_a_shapefile() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("wards.csv", "ma_xa,ten_xa\n20194,Phường Hải Vân\n")
        zf.writestr("README.txt", "ranh giới phường")
    return buf.getvalue()


def _xlsx() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    for row in [("ma_xa", "dan_so"), *[(str(20194 + i), 1000 + i) for i in range(200)]]:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cut_xlsx() -> bytes:
    data = _xlsx()
    return data[: len(data) // 2]


GENERATED: dict[str, Callable[[], bytes]] = {
    "generated/wrong_encoding.csv": _wrong_encoding,
    "generated/undecodable.csv": _undecodable,
    "generated/not_a_shapefile.zip": _not_a_shapefile,
    "generated/cut.xlsx": _cut_xlsx,
    "generated/one_sheet.xlsx": _xlsx,
}

# (dataset id, exact error class, words the message must contain)
CASES: list[tuple[str, type[LabError], tuple[str, ...]]] = [
    (
        "bad-html-page",
        HtmlInsteadOfDataError,
        ("HTML page", "Đăng nhập - Cổng dữ liệu mở Đà Nẵng", "not CSV"),
    ),
    ("bad-empty-file", EmptyFileError, ("empty", "0 bytes")),
    ("bad-header-only", EmptyFileError, ("has a header", "no rows")),
    ("bad-truncated-quote", TruncatedFileError, ("unterminated quote", "line 3", "cut off")),
    ("bad-truncated-row", TruncatedFileError, ("2 of 3 fields", "no final newline")),
    ("bad-wrong-encoding", EncodingError, ("not valid utf-8 at byte", "looks like Windows-1258")),
    ("bad-undecodable", EncodingError, ("not UTF-8", "byte 0x81", "Windows-1258")),
    ("bad-invalid-json", ReadError, ("not valid JSON", "line 3")),
    ("bad-jsonl-line", ReadError, ("not valid JSON", "line 2")),
    ("bad-unparseable-geometry", GeometryError, ("1 of 2 features", "no readable geometry", "row 2")),
    ("bad-degenerate-geometry", GeometryError, ("beyond repair", "row 2")),
    ("bad-projected-as-4326", CRSError, ("look projected", "EPSG:4326", "declare")),
    ("bad-crs-mismatch", CRSError, ("EPSG:5899", "catalog declares EPSG:4326")),
    ("bad-swapped-points", CoordinateError, ("swapped", "swap `lon` and `lat`")),
    ("bad-outside-vietnam", CoordinateError, ("1 of 3 points", "outside Vietnam", "row 2", "lon 100.5018")),
    ("bad-missing-column", MissingColumnError, ("'dan_so'", "missing", "did you mean 'danso'")),
    ("bad-value-type", SchemaError, ("'dan_so'", "'khoảng 80 nghìn'", "row 3", "integer")),
    ("bad-duplicate-code", SchemaError, ("'ma_xa'", "unique", "'20242'", "row 1")),
    ("bad-enum-value", SchemaError, ("'loai'", "one of", "'Quận'", "row 3")),
    ("bad-zip-not-shapefile", ReadError, ("no shapefile", "wards.csv")),
    ("bad-xlsx-is-html", HtmlInsteadOfDataError, ("HTML page", "Báo cáo dân số theo phường", "not XLSX")),
    ("bad-xlsx-cut", ReadError, ("not a valid .xlsx",)),
    ("bad-missing-sheet", ReadError, ("no sheet 'Dân số'", "Sheet1")),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return lab.load_catalog(BAD / "catalog.yaml")


def _materialise(rel: str, tmp_path: Path) -> Path:
    if rel in GENERATED:
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(GENERATED[rel]())
        return target
    return BAD / rel


def test_the_corpus_catalog_is_valid_and_fully_covered(catalog: Catalog) -> None:
    assert lab.validate(BAD / "catalog.yaml") == []
    assert {ds.id for ds in catalog} == {case[0] for case in CASES}
    kinds = {cls for _, cls, _ in CASES}
    assert len(CASES) >= 12 and len(kinds) >= 10
    committed = {d.path for ds in catalog for d in ds.distributions} - set(GENERATED)
    assert all((BAD / p).is_file() for p in committed)


@pytest.mark.parametrize(("dataset_id", "error", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_with_one_clear_line(
    catalog: Catalog, tmp_path: Path, dataset_id: str, error: type[LabError], words: tuple[str, ...]
) -> None:
    ds = catalog.get(dataset_id)
    dist = ds.distributions[0]
    path = _materialise(dist.path or "", tmp_path)
    with pytest.raises(LabError) as info:
        readers.read(path, dist, ds, label=dist.label)
    exc = info.value
    assert type(exc) is error, f"{type(exc).__name__}: {exc}"
    text = str(exc)
    assert "\n" not in text
    assert text.startswith(f"{dataset_id}: {dist.label}: "), text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"


def test_label_defaults_to_the_file_name(catalog: Catalog) -> None:
    ds = catalog.get("bad-header-only")
    with pytest.raises(EmptyFileError, match=r"^bad-header-only: header_only\.csv: "):
        readers.read(BAD / "header_only.csv", ds.distributions[0], ds)


LOAD_CASES = {
    "bad-header-only",
    "bad-truncated-row",
    "bad-invalid-json",
    "bad-projected-as-4326",
    "bad-swapped-points",
    "bad-missing-column",
    "bad-duplicate-code",
    "bad-xlsx-is-html",
}


@pytest.mark.skipif(not hasattr(lab.fetch, "fetch"), reason="lab.fetch is not implemented yet")
@pytest.mark.parametrize(("dataset_id", "error"), [(i, e) for i, e, _ in CASES if i in LOAD_CASES])
def test_lab_load_raises_the_same(dataset_id: str, error: type[LabError]) -> None:
    """Through lab.load (fetch reads ``path`` distributions in place): the same exact error class."""
    with pytest.raises(LabError) as info:
        lab.load(dataset_id, catalog=BAD / "catalog.yaml")
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    assert "\n" not in str(info.value)


def test_utf16_declared_as_utf8_says_so(tmp_path: Path, catalog: Catalog) -> None:
    ds = catalog.get("bad-wrong-encoding")
    f = tmp_path / "u16.csv"
    f.write_bytes(codecs.BOM_UTF16_LE + "ma_xa\n20194\n".encode("utf-16-le"))
    with pytest.raises(EncodingError, match="looks like UTF-16 with BOM"):
        readers.read(f, ds.distributions[0], ds)
