"""lab.readers: each format on small files written at test time (encodings, delimiters, options, GIS)."""

from __future__ import annotations

import codecs
import json
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import polars as pl
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon

from lab import readers
from lab.catalog import Column, Dataset, Distribution, Spatial, TableSchema, vocabularies
from lab.errors import CoordinateError, CRSError, EncodingError, ReadError, TruncatedFileError
from lab.readers.encoding import detect
from lab.text import encode_windows_1258


def make(
    fmt: str = "CSV",
    *,
    columns: tuple[Column, ...] | None = None,
    strict: bool = False,
    spatial: Spatial | None = None,
    crs: str | None = None,
    **dist: Any,
) -> tuple[Distribution, Dataset]:
    distribution = Distribution(format=fmt, path="x", **dist)
    dataset = Dataset(
        id="test-ds",
        title={"vi": "Thử"},
        publisher="lab",
        theme=("regions",),
        license="MIT",
        frequency="never",
        access_rights="public",
        distributions=(distribution,),
        schema=TableSchema(columns, strict=strict) if columns else None,
        spatial=spatial or Spatial(),
        crs=crs,
    )
    return distribution, dataset


def read(path: Path, fmt: str = "CSV", **kw: Any) -> Any:
    dist, ds = make(fmt, **kw)
    return readers.read(path, dist, ds)


CSV_TEXT = "ma,ten,dan_so\n20194,Phường Hòa Hiệp Bắc,1.134\n20195,Phường Hoà Quý,2.500\n"


# ----------------------------------------------------------------------------------------- registry
def test_every_vocabulary_reader_is_registered() -> None:
    names = {v["reader"] for v in vocabularies()["formats"].values() if v.get("reader")}
    assert names <= set(readers.REGISTRY)
    assert {"csv", "excel", "json", "jsonl", "geojson", "shapefile", "gpkg", "parquet", "raw"} <= set(
        readers.REGISTRY
    )


def test_register_refuses_a_second_reader_for_a_name() -> None:
    with pytest.raises(ValueError, match="twice"):
        readers.register("csv")(lambda src: pl.DataFrame())


def test_unknown_or_unsupported_format(tmp_path: Path) -> None:
    f = tmp_path / "a.pdf"
    f.write_bytes(b"%PDF-1.4")
    with pytest.raises(ReadError, match="no reader"):
        read(f, "PDF")
    with pytest.raises(ReadError, match="not in the formats vocabulary"):
        read(f, "DOCX")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="not found"):
        read(tmp_path / "nope.csv")


# ---------------------------------------------------------------------------------------- encodings
@pytest.mark.parametrize(
    ("encoder", "codec"),
    [
        (lambda t: t.encode("utf-8"), "utf-8"),
        (lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), "utf-8-sig"),
        (lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), "utf-16"),
        (lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), "utf-16"),
        (lambda t: t.encode("utf-16-le"), "utf-16-le"),
        (lambda t: t.encode("utf-16-be"), "utf-16-be"),
        (encode_windows_1258, "cp1258"),
        (lambda t: unicodedata.normalize("NFD", t).encode("utf-8"), "utf-8"),
    ],
)
def test_csv_encodings_are_detected(tmp_path: Path, encoder: Any, codec: str) -> None:
    data = encoder(CSV_TEXT)
    assert detect(data) == codec
    f = tmp_path / "enc.csv"
    f.write_bytes(data)
    df = read(f, columns=(Column("ma", "code"), Column("ten", "string")))
    assert df.columns == ["ma", "ten", "dan_so"]
    assert df["ten"].to_list() == ["Phường Hòa Hiệp Bắc", "Phường Hoà Quý"]  # NFC, tone placement kept


def test_declared_encoding_is_honoured(tmp_path: Path) -> None:
    f = tmp_path / "cp.csv"
    f.write_bytes(encode_windows_1258(CSV_TEXT))
    df = read(f, encoding="windows-1258")
    assert df["ten"][0] == "Phường Hòa Hiệp Bắc"
    with pytest.raises(EncodingError, match="looks like Windows-1258"):
        read(f, encoding="utf-8")


def test_declared_utf8_accepts_a_bom(tmp_path: Path) -> None:
    f = tmp_path / "bom.csv"
    f.write_bytes(codecs.BOM_UTF8 + CSV_TEXT.encode())
    assert read(f, encoding="utf-8").columns[0] == "ma"


def test_unknown_declared_encoding(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text(CSV_TEXT)
    with pytest.raises(EncodingError, match="unknown encoding"):
        read(f, encoding="klingon-8")


# --------------------------------------------------------------------------------------- delimiters
@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delim: str) -> None:
    f = tmp_path / "d.csv"
    f.write_text(CSV_TEXT.replace(",", delim), encoding="utf-8")
    df = read(f, columns=(Column("dan_so", "number"),))
    assert df.columns == ["dan_so", "ma", "ten"]
    assert df.height == 2


def test_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    f = tmp_path / "vn.csv"
    f.write_text("ma;ten;dien_tich\n1;A;12,5\n2;B;1.234,75\n", encoding="utf-8")
    df = read(f, columns=(Column("dien_tich", "number"),))
    assert df["dien_tich"].to_list() == [12.5, 1234.75]


def test_options_delimiter_skip_rows_comment_and_tsv(tmp_path: Path) -> None:
    f = tmp_path / "o.csv"
    f.write_text("Báo cáo dân số\n(nguồn: GSO)\nma|ten\n# ghi chú\n1|A\n2|B\n", encoding="utf-8")
    df = read(f, options={"delimiter": "|", "skip_rows": 2, "comment": "#"})
    assert df.rows() == [("1", "A"), ("2", "B")]
    t = tmp_path / "t.tsv"
    t.write_text("a\tb\n1,5\t2\n", encoding="utf-8")
    assert read(t, "TSV").rows() == [("1,5", "2")]


def test_quoted_fields_and_every_column_is_text(tmp_path: Path) -> None:
    f = tmp_path / "q.csv"
    f.write_text('ma,ten,ghi_chu\n00123,"Hải Châu, Đà Nẵng","dòng 1\ndòng 2 ""x"""\n', encoding="utf-8")
    df = read(f)
    assert df.dtypes == [pl.String] * 3
    assert df.row(0) == ("00123", "Hải Châu, Đà Nẵng", 'dòng 1\ndòng 2 "x"')


def test_truncated_last_line(tmp_path: Path) -> None:
    f = tmp_path / "cut.csv"
    f.write_text("a,b,c\n1,2,3\n4,5", encoding="utf-8")
    with pytest.raises(TruncatedFileError, match="2 of 3 fields"):
        read(f)
    f.write_text("a,b,c\n1,2,3\n4,5,6", encoding="utf-8")  # complete last line without newline is fine
    assert read(f).height == 2


def test_crlf_and_blank_lines(tmp_path: Path) -> None:
    f = tmp_path / "crlf.csv"
    f.write_bytes("ma,ten\r\n1,Hòa\r\n\r\n2,Xã\r\n\r\n".encode())
    assert read(f).rows() == [("1", "Hòa"), ("2", "Xã")]


def test_ragged_csv_is_a_read_error(tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("a,b\n1,2\n3,4,5,6\n", encoding="utf-8")
    with pytest.raises(ReadError) as info:
        read(f)
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------------------------- JSON
def test_json_list_records_path_and_guess(tmp_path: Path) -> None:
    records = [{"ma": "020", "so": "1.234"}, {"ma": "031", "so": "5"}]
    cols = (Column("ma", "code"), Column("so", "integer"))
    f = tmp_path / "a.json"
    f.write_text(json.dumps(records), encoding="utf-8")
    assert read(f, "JSON", columns=cols).rows() == [("020", 1234), ("031", 5)]
    f.write_text(json.dumps({"success": True, "result": {"records": records, "total": 2}}), encoding="utf-8")
    assert read(f, "JSON", columns=cols).height == 2
    f.write_text(json.dumps({"meta": {}, "payload": {"rows": records}}), encoding="utf-8")
    assert read(f, "JSON", columns=cols, options={"records_path": "payload.rows"}).height == 2
    with pytest.raises(ReadError, match="records_path"):
        read(f, "JSON", columns=cols)


def test_json_mixed_types_fall_back_to_text(tmp_path: Path) -> None:
    f = tmp_path / "m.json"
    f.write_text(json.dumps([{"ma": 20242, "x": {"a": 1}}, {"ma": "020243", "x": "s"}]), encoding="utf-8")
    df = read(f, "JSON", columns=(Column("ma", "code"),))
    assert df["ma"].to_list() == ["20242", "020243"]


def test_json_truncated(tmp_path: Path) -> None:
    f = tmp_path / "t.json"
    f.write_text('[{"a": 1}, {"a": ', encoding="utf-8")
    with pytest.raises(TruncatedFileError):
        read(f, "JSON")


def test_jsonl(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    f.write_text('{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n', encoding="utf-8")
    assert read(f, "JSONL", columns=(Column("a", "integer"),)).rows() == [(1, "x"), (2, "y")]
    f.write_text('{"a": 1}\n{"a": oops}\n{"a": 3}\n', encoding="utf-8")
    with pytest.raises(ReadError, match="line 2"):
        read(f, "JSONL")


# -------------------------------------------------------------------------------------- parquet, raw
def test_parquet_roundtrip(tmp_path: Path) -> None:
    f = tmp_path / "a.parquet"
    pl.DataFrame({"ma": [20242, 20243], "v": ["1,5", "2"]}).write_parquet(f)
    df = read(f, "PARQUET", columns=(Column("ma", "code"), Column("v", "number")))
    assert df.rows() == [("20242", 1.5), ("20243", 2.0)]
    bad = tmp_path / "b.parquet"
    bad.write_text("not parquet", encoding="utf-8")
    with pytest.raises(ReadError, match="not a Parquet file"):
        read(bad, "PARQUET")


def test_raw_lines(tmp_path: Path) -> None:
    f = tmp_path / "a.log"
    f.write_bytes(encode_windows_1258("GET /dữ-liệu 200\r\nGET /x 404\r\n"))
    df = read(f, "LOG")
    assert df.columns == ["line"]
    assert df["line"].to_list() == ["GET /dữ-liệu 200", "GET /x 404"]


# -------------------------------------------------------------------------------------------- Excel
def write_cube(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    ws = wb.create_sheet("Cube")
    ws.append(["Dân số (ĐVT: Người)"])
    ws.append([])
    ws.append([None, None, None, "Tổng số", "1. Thành thị", "2. Nông thôn"])
    ws.append([" Tỉnh A (Tổng số)", None, None, "60", "15", "45"])
    ws.append([" Tỉnh A", "Huyện X (Tổng số)", None, "30", "10", "20"])
    ws.append([None, "Huyện X", " Xã M", "10", "10", None])
    ws.append([None, None, " Xã N", 20, None, 20])
    ws.append([None, "Huyện Y (Tổng số)", None, "30", "5", "25"])
    ws.append([None, None, " Xã P", "30", "5", "25"])  # label only on the subtotal row
    wb.save(path)


CUBE_COLUMNS = (
    Column("province", "string", required=True),
    Column("district", "string", required=True),
    Column("commune", "string", required=True),
    Column("total", "integer"),
    Column("urban", "integer"),
    Column("rural", "integer"),
)
CUBE_OPTIONS = {
    "label_columns": ["province", "district", "commune"],
    "rename": {"Tổng số": "total", "1. Thành thị": "urban", "2. Nông thôn": "rural"},
    "forward_fill": ["province", "district"],
    "drop_subtotals": "(Tổng số)",
    "empty_is_zero": ["total", "urban", "rural"],
}


def test_excel_cube(tmp_path: Path) -> None:
    f = tmp_path / "cube.xlsx"
    write_cube(f)
    df = read(f, "XLSX", columns=CUBE_COLUMNS, sheet="Cube", header_rows=3, options=CUBE_OPTIONS)
    assert df.rows() == [
        ("Tỉnh A", "Huyện X", "Xã M", 10, 10, 0),
        ("Tỉnh A", "Huyện X", "Xã N", 20, 0, 20),
        ("Tỉnh A", "Huyện Y", "Xã P", 30, 5, 25),
    ]
    by_index = read(f, "XLSX", columns=CUBE_COLUMNS, sheet=1, header_rows=3, options=CUBE_OPTIONS)
    assert by_index.equals(df)


def test_excel_plain_sheet_and_missing_sheet(tmp_path: Path) -> None:
    import openpyxl

    f = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["ma", "ten", "so"])
    wb.active.append(["020", " Hòa Vang ", 1.5])
    wb.active.append([31, "Hải Châu", 2])
    wb.save(f)
    df = read(f, "XLSX", columns=(Column("ma", "code"), Column("so", "number")))
    assert df.rows() == [("020", 1.5, "Hòa Vang"), ("31", 2.0, "Hải Châu")]
    with pytest.raises(ReadError, match="sheets are: Sheet"):
        read(f, "XLSX", sheet="Dân số")


def test_not_an_xlsx(tmp_path: Path) -> None:
    f = tmp_path / "x.xlsx"
    f.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    with pytest.raises(ReadError, match=r"\.xls"):
        read(f, "XLSX")
    f.write_bytes(b"id,name\n1,a\n")
    with pytest.raises(ReadError, match=r"not a valid \.xlsx"):
        read(f, "XLSX")


# ---------------------------------------------------------------------------------------------- GIS
def square(x: float, y: float, d: float = 0.01) -> Polygon:
    return Polygon([(x, y), (x + d, y), (x + d, y + d), (x, y + d)])


BOWTIE = Polygon([(108.20, 16.00), (108.21, 16.01), (108.21, 16.00), (108.20, 16.01)])
POLY_COLUMNS = (
    Column("ma", "code", required=True, unique=True),
    Column("geometry", "geometry", required=True),
)


def polygons_frame(crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    geoms = [MultiPolygon([square(108.2, 16.0)]), MultiPolygon([BOWTIE]), MultiPolygon([square(111.5, 16.5)])]
    return gpd.GeoDataFrame({"ma": ["020194", "20195", "20333"], "n": [1, 2, 3]}, geometry=geoms, crs=crs)


def test_geojson_repairs_and_keeps_codes(tmp_path: Path) -> None:
    f = tmp_path / "w.geojson"
    f.write_text(polygons_frame().to_json(drop_id=True), encoding="utf-8")
    gdf = read(f, "GEOJSON", columns=POLY_COLUMNS, spatial=Spatial(kind="polygons"), crs="EPSG:4326")
    assert gdf.crs == "EPSG:4326"
    assert gdf.attrs["repaired_geometries"] == 1
    assert gdf.is_valid.all()
    assert set(gdf.geom_type) == {"MultiPolygon"}
    assert gdf["ma"].tolist() == ["020194", "20195", "20333"]
    assert list(gdf.columns) == ["ma", "n", "geometry"]


def test_geojson_crs_member_must_match_the_declared_one(tmp_path: Path) -> None:
    f = tmp_path / "p.geojson"
    projected = polygons_frame().to_crs("EPSG:5899")
    doc = json.loads(projected.to_json())
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5899"}}
    f.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CRSError, match="EPSG:5899 but the catalog declares EPSG:4326"):
        read(f, "GEOJSON", spatial=Spatial(kind="polygons"), crs="EPSG:4326")
    gdf = read(f, "GEOJSON", spatial=Spatial(kind="polygons"), crs="EPSG:5899")
    assert gdf.crs.to_epsg() == 5899


def test_projected_geojson_without_crs_member_takes_the_declared_crs(tmp_path: Path) -> None:
    f = tmp_path / "p.geojson"
    doc = json.loads(polygons_frame().to_crs("EPSG:5899").to_json(drop_id=True))
    doc.pop("crs", None)
    f.write_text(json.dumps(doc), encoding="utf-8")
    gdf = read(f, "GEOJSON", spatial=Spatial(kind="polygons"), crs="EPSG:5899")
    assert gdf.crs.to_epsg() == 5899


def test_zipped_shapefile_and_missing_prj(tmp_path: Path) -> None:
    folder = tmp_path / "shp"
    folder.mkdir()
    polygons_frame().to_file(folder / "wards.shp", engine="pyogrio")
    z = tmp_path / "wards.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in folder.iterdir():
            zf.write(p, f"data/{p.name}")
    gdf = read(z, "SHP", columns=POLY_COLUMNS, spatial=Spatial(kind="polygons"), crs="EPSG:4326")
    assert len(gdf) == 3 and gdf.attrs["repaired_geometries"] == 1
    assert gdf["ma"].tolist()[0] == "020194"
    noprj = tmp_path / "noprj.zip"
    with zipfile.ZipFile(noprj, "w") as zf:
        for p in folder.iterdir():
            if p.suffix != ".prj":
                zf.write(p, p.name)
    assert read(noprj, "SHP", spatial=Spatial(kind="polygons"), crs="EPSG:4326").crs == "EPSG:4326"


def test_geopackage_layer(tmp_path: Path) -> None:
    f = tmp_path / "a.gpkg"
    polygons_frame().to_file(f, layer="wards", engine="pyogrio")
    gdf = read(f, "GPKG", columns=POLY_COLUMNS, crs="EPSG:4326", options={"layer": "wards"})
    assert len(gdf) == 3
    with pytest.raises(ReadError):
        read(f, "GPKG", crs="EPSG:4326", options={"layer": "nope"})


# ------------------------------------------------------------------------------------------- points
POINTS = Spatial(kind="points", lon="lon", lat="lat")


def test_points_with_comma_decimals_and_missing_coordinates(tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text('ma;lat;lon\n1;16,0544;108,2022\n2;;\n3;"15,88";"108,33"\n', encoding="utf-8")
    gdf = read(f, columns=(Column("ma", "code"),), spatial=POINTS, crs="EPSG:4326")
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert gdf.attrs["missing_coordinates"] == 1
    assert gdf.geometry[0].equals(Point(108.2022, 16.0544))
    assert gdf.geometry[1] is None
    assert len(gdf) == 3


def test_points_in_a_projected_crs(tmp_path: Path) -> None:
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:5899", always_xy=True).transform(108.2022, 16.0544)
    f = tmp_path / "xy.csv"
    f.write_text(f"ma,x,y\n1,{x:.2f},{y:.2f}\n", encoding="utf-8")
    gdf = read(f, spatial=Spatial(kind="points", x="x", y="y"), crs="EPSG:5899")
    assert gdf.crs.to_epsg() == 5899


def test_points_swapped_and_outside(tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    f.write_text("ma,lat,lon\n1,108.2,16.05\n2,108.1,16.1\n", encoding="utf-8")
    with pytest.raises(CoordinateError, match="swap `lon` and `lat`"):
        read(f, spatial=POINTS, crs="EPSG:4326")
    f.write_text("ma,lat,lon\n1,16.05,108.2\n2,48.85,2.35\n", encoding="utf-8")
    with pytest.raises(CoordinateError, match=r"1 of 2 points lie outside Vietnam.*row 2"):
        read(f, spatial=POINTS, crs="EPSG:4326")
