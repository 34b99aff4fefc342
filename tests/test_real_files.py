"""The real public files of ../shared/data, read in place through the catalog's own entries.

The figures asserted here come from each folder's PROVENANCE.md (e.g. Đà Nẵng's 56 wards sum to the
GSO city total 1,134,310; 5 of the 94 ward polygons of 2025 are invalid in the source).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import polars as pl
import pytest

import lab
from lab import readers
from lab.catalog import Catalog
from lab.text import match_places

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared test data not found at {SHARED}")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return lab.load_catalog(ROOT / "datasets.yaml")


def load(catalog: Catalog, dataset_id: str) -> pl.DataFrame | gpd.GeoDataFrame:
    """Read every distribution of a dataset from its mirror path and concatenate (as lab.load does)."""
    ds = catalog.get(dataset_id)
    frames = [readers.read(SHARED / d.mirror, d, ds, label=d.label) for d in ds.distributions if d.mirror]
    if len(frames) == 1:
        return frames[0]
    return pl.concat(frames, how="vertical")


@pytest.fixture(scope="module")
def wards(catalog: Catalog) -> gpd.GeoDataFrame:
    return load(catalog, "danang-wards-2025")


def test_wards_2025(wards: gpd.GeoDataFrame) -> None:
    assert isinstance(wards, gpd.GeoDataFrame)
    assert len(wards) == 94
    assert wards.crs == "EPSG:4326"
    assert wards.is_valid.all()
    assert wards.attrs["repaired_geometries"] == 5
    assert set(wards.geom_type) == {"MultiPolygon"}
    assert wards["ma_xa"].map(type).eq(str).all()
    assert "20242" in set(wards["ma_xa"])
    assert wards["ma_xa"].is_unique
    assert wards["loai"].value_counts().to_dict() == {"Xã": 70, "Phường": 23, "Đặc khu": 1}
    hai_chau = wards.loc[wards["ma_xa"] == "20242", "ten_xa"].item()
    assert hai_chau == "Phường Hải Châu"


def test_districts_2024(catalog: Catalog) -> None:
    gdf = load(catalog, "danang-districts-2024")
    assert len(gdf) == 8
    assert gdf.attrs["repaired_geometries"] == 0
    assert sorted(gdf["level2_id"]) == ["490", "491", "492", "493", "494", "495", "497", "498"]
    assert str(gdf["n_wards_2025_03"].dtype) == "int64"


def test_census_2019_wards(catalog: Catalog) -> None:
    df = load(catalog, "census-2019-wards")
    assert df.height == 300
    assert df.schema["total"] == pl.Int64
    assert df.schema["urban"] == pl.Int64  # "11160.0" in the file
    sums = dict(df.group_by("city").agg(pl.len(), pl.col("total").sum()).select("city", "total").rows())
    counts = dict(df.group_by("city").len().rows())
    assert counts == {"ĐàNẵng": 56, "QuảngNam": 244}
    assert sums == {"ĐàNẵng": 1_134_310, "QuảngNam": 1_495_812}
    hai_chau = df.filter(pl.col("ward") == "HảiChâuI").row(0, named=True)
    assert (hai_chau["urban"], hai_chau["rural"]) == (11160, None)


def test_census_names_match_across_tone_styles(catalog: Catalog) -> None:
    """The census's "HoàQuý" (old tones, no spaces) finds "Phường Hòa Quý" style names."""
    df = load(catalog, "census-2019-wards").filter(pl.col("city") == "ĐàNẵng")
    wanted = ["Phường Hòa Quý", "Phường Hòa Hải", "Phường Hải Châu I", "Phường Hòa Khánh Bắc"]
    m = match_places(wanted, df["ward"])
    assert m["candidate"].null_count() == 0
    assert m["candidate"].to_list()[:2] == ["HoàQuý", "HoàHải"]


def test_gso_cube(catalog: Catalog) -> None:
    df = load(catalog, "census-2019-gso-cube-quangnam")
    assert df.height == 244
    assert df.columns == ["province", "district", "commune", "total", "urban", "rural"]
    assert df.filter(pl.col("urban") + pl.col("rural") != pl.col("total")).is_empty()
    assert df["total"].sum() == 1_495_812
    assert df["province"].unique().to_list() == ["Tỉnh Quảng Nam"]
    assert df["district"].n_unique() == 18
    assert not df["commune"].str.contains("Tổng số").any()
    assert not df["commune"].str.starts_with(" ").any()


def test_air_quality_iqair(catalog: Catalog) -> None:
    df = load(catalog, "air-quality-iqair")
    assert df.height == 514 + 703 + 676 + 706
    assert df.schema["timestamp"] == pl.Datetime("us", "Asia/Ho_Chi_Minh")
    for name in ("wind_speed", "humidity", "temperature", "pm25"):
        assert df.schema[name] == pl.Float64
    assert df.schema["aqi"] == pl.Int64
    first = df.row(0, named=True)
    assert (first["wind_speed"], first["humidity"], first["temperature"]) == (3.7, 83.0, 21.0)
    assert first["timestamp"].isoformat() == "2025-02-05T22:01:17.266247+07:00"
    feb = df.filter(pl.col("timestamp").dt.month() == 2)
    assert feb.height == 514
    assert feb["pm10"].null_count() == feb.height
    assert df["o3"].null_count() == df.height  # N/A in every row
    assert df["timestamp"].is_sorted()
    assert (df["city"] == "Đà Nẵng").all()


def test_ward_points_2025(catalog: Catalog, wards: gpd.GeoDataFrame) -> None:
    pts = load(catalog, "danang-ward-points-2025")
    assert isinstance(pts, gpd.GeoDataFrame)
    assert len(pts) == 94
    assert set(pts.geom_type) == {"Point"}
    assert pts.crs == "EPSG:4326"
    assert pts.attrs["missing_coordinates"] == 0
    joined = gpd.sjoin(pts, wards[["ma_xa", "geometry"]], predicate="within")
    assert (joined["wardCode"] == joined["ma_xa"]).sum() == 92  # PROVENANCE: 2 island points lie in the sea


def test_other_real_tables(catalog: Catalog) -> None:
    assert load(catalog, "admin-crosswalk-2025").height == 283
    units = load(catalog, "danang-units-2025-01")
    assert units.height == 48
    assert load(catalog, "danang-province-2025").shape[0] == 1


@pytest.mark.skipif(not hasattr(lab.fetch, "fetch"), reason="lab.fetch is not implemented yet")
def test_lab_load_through_the_mirror() -> None:
    """End to end: catalog → fetch (mirror, sha256 checked) → readers, as a notebook would call it."""
    kw = {"catalog": ROOT / "datasets.yaml", "mirror": SHARED}
    assert lab.load("census-2019-wards", **kw).height == 300
    air = lab.load("air-quality-iqair", **kw)
    assert air.height == 2599
    assert air.schema["timestamp"] == pl.Datetime("us", "Asia/Ho_Chi_Minh")
    wards = lab.load("danang-wards-2025", **kw)
    assert len(wards) == 94 and wards.attrs["repaired_geometries"] == 5
    points = lab.load("danang-ward-points-2025", **kw)
    assert len(points) == 94 and isinstance(points, gpd.GeoDataFrame)
    assert len(lab.load("danang-districts-2024", **kw)) == 8
