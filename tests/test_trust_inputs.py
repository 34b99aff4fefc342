"""Wrong data must not load with exit 0 (issue 19, defects 7 and 10): mixed encodings, merged Excel numbers,
points outside a dataset's declared extent, catalog paths leaving their folder.

The files are synthetic, written here by deterministic code.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

import lab
from lab import readers
from lab.catalog import Dataset, Distribution, Spatial
from lab.errors import CoordinateError, EncodingError, FetchError, ReadError
from lab.fetch import fetch
from lab.text import encode_windows_1258


def _dataset(dist: Distribution, **extra: object) -> Dataset:
    return Dataset(
        id="trust-test",
        title={"vi": "Thử", "en": "Test"},
        publisher="lab tests",
        theme=("regions",),
        license="MIT",
        frequency="never",
        access_rights="public",
        distributions=(dist,),
        **extra,  # type: ignore[arg-type]
    )


def test_a_file_mixing_utf8_and_windows_1258_lines_is_refused(tmp_path: Path) -> None:
    # 78 UTF-8 lines and one Windows-1258 line: every byte is defined in Windows-1258, so the whole file used
    # to decode as Windows-1258 without an error, turning 78 rows into mojibake
    utf8 = "ma_xa,ten\n" + "".join(f"{20194 + i},Hòa Khánh Hải Châu\n" for i in range(78))
    path = tmp_path / "mixed.csv"
    path.write_bytes(utf8.encode() + encode_windows_1258("20999,Hòa Khánh\n"))
    dist = Distribution(format="CSV", path=str(path))
    with pytest.raises(EncodingError) as info:
        readers.read(path, dist, _dataset(dist))
    text = str(info.value)
    assert text.startswith("trust-test: mixed.csv: mixes encodings: line 80 is not UTF-8"), text
    assert "line 2 is UTF-8" in text

    # a file entirely in Windows-1258 still loads, correctly decoded
    path.write_bytes(encode_windows_1258(utf8))
    df = readers.read(path, dist, _dataset(dist))
    assert df.height == 78 and df["ten"][0] == "Hòa Khánh Hải Châu"


def _workbook(merge: str, values: list[list[object]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for row in values:
        wb.active.append(row)
    wb.active.merge_cells(merge)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_merged_excel_cells_carry_labels_and_refuse_numbers(tmp_path: Path) -> None:
    path = tmp_path / "cube.xlsx"
    dist = Distribution(format="XLSX", path=str(path), options={"empty_is_zero": ["nong_thon"]})
    # 9,430 urban residents merged over the rural cell: it used to read as urban 9430 and rural 0
    path.write_bytes(_workbook("B2:C2", [["ma_xa", "thanh_thi", "nong_thon"], ["20194", 9430, None]]))
    with pytest.raises(ReadError, match=r"cells B2:C2 are merged over the number 9430"):
        readers.read(path, dist, _dataset(dist))
    # a district label merged down over its wards is carried into each row
    path.write_bytes(
        _workbook("A2:A3", [["huyen", "xa", "dan_so"], ["Hòa Vang", "Hòa Bắc", 1], [None, "Hòa Ninh", 2]])
    )
    df = readers.read(path, Distribution(format="XLSX", path=str(path)), _dataset(dist))
    assert df["huyen"].to_list() == ["Hòa Vang", "Hòa Vang"]


def test_points_outside_the_declared_extent_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "sensors.csv"
    path.write_text(
        "id,lon,lat\n1,108.2208,16.0678\n2,105.8342,21.0278\n", encoding="utf-8"
    )  # Đà Nẵng, Hà Nội
    dist = Distribution(format="CSV", path=str(path))
    box = (107.18, 14.93, 108.76, 16.25)
    spatial = Spatial(kind="points", lon="lon", lat="lat", coverage="Thành phố Đà Nẵng (48)", bbox=box)
    with pytest.raises(CoordinateError) as info:
        readers.read(path, dist, _dataset(dist, spatial=spatial, crs="EPSG:4326"))
    assert "1 of 2 points lie outside Thành phố Đà Nẵng (48)" in str(info.value)
    assert "row 2 at lon 105.8342, lat 21.0278" in str(info.value)
    # without a declared extent, Hà Nội is in Vietnam and loads (the old behaviour, kept for national data)
    loose = Spatial(kind="points", lon="lon", lat="lat")
    assert len(readers.read(path, dist, _dataset(dist, spatial=loose, crs="EPSG:4326"))) == 2


def test_the_danang_point_datasets_declare_their_extent() -> None:
    cat = lab.load_catalog()
    danang_points = [d for d in cat if d.spatial.kind == "points" and "Đà Nẵng" in (d.spatial.coverage or "")]
    assert danang_points and all(d.spatial.bbox for d in danang_points)


def _catalog_with(tmp_path: Path, dist: dict[str, object], spatial: dict[str, object] | None = None) -> Path:
    entry = {
        "id": "trust-test",
        "title": {"vi": "Thử", "en": "Test"},
        "publisher": "lab tests",
        "theme": ["regions"],
        "license": "MIT",
        "frequency": "never",
        "access_rights": "public",
        "distributions": [dist],
    }
    if spatial:
        entry.update(spatial=spatial, crs="EPSG:4326")
    path = tmp_path / "catalog.yaml"
    doc = {"catalog": {"title": {"vi": "Thử", "en": "Test"}}, "datasets": [entry]}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("rel", ["../../etc/passwd", "/etc/passwd", "a/../../b.csv"])
def test_a_mirror_path_leaving_the_mirror_is_refused_by_validate_and_fetch(tmp_path: Path, rel: str) -> None:
    problems = lab.validate(_catalog_with(tmp_path, {"mirror": rel, "format": "CSV"}))
    assert [p.field for p in problems] == ["distributions[0].mirror"], problems
    assert "leaves the mirror folder" in problems[0].message
    # a catalog object built without validation is refused at fetch time, before any file is opened
    mirror = tmp_path / "mirror" / "inner"
    mirror.mkdir(parents=True)
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    dist = Distribution(format="CSV", mirror="../../secret.csv")
    with pytest.raises(FetchError, match="leaves the mirror folder"):
        fetch(_dataset(dist), dist, catalog_root=tmp_path, mirror=mirror)


def test_a_bbox_that_is_not_lon_lat_degrees_is_a_catalog_problem(tmp_path: Path) -> None:
    spatial = {"kind": "points", "lon": "lon", "lat": "lat", "bbox": [108.8, 16.3, 107.1, 14.9]}
    problems = lab.validate(_catalog_with(tmp_path, {"path": "x.csv", "format": "CSV"}, spatial))
    assert [p.field for p in problems] == ["spatial.bbox"], problems
