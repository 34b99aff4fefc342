"""The bad-input corpus (tests/data/bad): the cases (dataset, exact error, words of the message) and the
binary files generated for it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

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

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"


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
