"""Places: approximate ward polygons and the points placed in them (sensors, cameras, facilities).

The 94 commune-level units of Đà Nẵng since 1 July 2025 and their centre points come from the
``vietnamadminunits`` package (table ``admin_units``, province 48). Their *approximate* polygons are
Voronoi cells around the centre points, clipped to a simplified land outline of the city
(:mod:`lab.demo.outline`, ~500 m accuracy) so that the coast and the borders look right. The two island
units are treated apart: Xã Tân Hiệp (Cù Lao Chàm) is the island's outline joined to its centre point
(which lies in the sea), Đặc khu Hoàng Sa (the Paracel Islands, 400 km offshore) a disc of its official
area around its centre point. They are labelled approximate everywhere: use the real boundaries
(``danang-wards-2025``) for anything but the demo.

Points are drawn around their ward's centre (denser in the urban core: old Đà Nẵng and the other
phường) and kept only when they fall on land (inside the outline shrunk by ~400 m) and inside the
ward's cell shrunk by about 2 m after rounding to six decimals: every point lies inside the polygon of
the ward it names. Nothing is placed in Hoàng Sa.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from importlib import resources
from typing import Any

import numpy as np
import polars as pl
import pyproj
import shapely

from lab.demo import timeline
from lab.demo.context import Context
from lab.demo.outline import CU_LAO_CHAM, MAINLAND
from lab.demo.vocab import HAMLETS, PLACEHOLDER_NAMES, STREETS, SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_VI

log = logging.getLogger(__name__)

PROVINCE_CODE = "48"
ISLANDS = ("20333", "20434")
"""Đặc khu Hoàng Sa and Xã Tân Hiệp (Cù Lao Chàm): discs, not Voronoi cells."""
NO_POINTS = ("20333",)
"""Units where no facility, sensor or camera is placed (Hoàng Sa)."""
TAN_HIEP = "20434"
SHRINK_DEG = 2e-5
"""Points stay this far (about 2 m) inside their cell, so rounding never pushes one out."""
LAND_MARGIN_DEG = 0.004
"""Points stay this far (about 400 m) inside the simplified coast, whose error is up to ~500 m."""
APPROX_NOTE = "Ranh giới gần đúng (Voronoi) — approximate boundaries"
CITY = "Thành phố Đà Nẵng"

N_SENSORS = {"rain": 50, "water_level": 40, "air_quality": 30}
"""About 120 environmental sensors, as the city reports."""
N_CAMERAS = 2_000
"""A fixed 5 % sample of the city's ~40,000 cameras (independent of the scale)."""
N_SCHOOLS = 520
N_CLINICS = 40
N_HOSPITALS = 28
N_HEALTH_CENTRES = 12
N_FOOD = 1_500

OLD_DANANG_LAST_CODE = 20332
"""Units with codes up to this one were in Đà Nẵng before July 2025; the others (Hoàng Sa apart) in
Quảng Nam."""
CENSUS_2019: dict[tuple[str, str], int] = {
    ("Đà Nẵng", "urban"): 988_561,
    ("Đà Nẵng", "rural"): 145_749,
    ("Quảng Nam", "urban"): 379_638,
    ("Quảng Nam", "rural"): 1_116_174,
}
"""Published 2019 census counts (GSO, 1 April 2019): Đà Nẵng 1,134,310 and Quảng Nam 1,495,812 people,
urban and rural (the ward-level census sums to these: ``docs/concepts/sources.md``, "The 2019 census")."""
POPULATION_NOTE = {
    "vi": "Dân số suy ra, không phải số liệu điều tra của đơn vị: tổng điều tra 2019 của Đà Nẵng và Quảng "
    "Nam (thành thị, nông thôn) chia đều cho các phường (thành thị) và xã (nông thôn) 2025 của mỗi tỉnh cũ",
    "en": "Derived population, not a census count of the unit: the 2019 census totals of Đà Nẵng and Quảng "
    "Nam (urban, rural) shared equally among each former province's 2025 phường (urban) and xã (rural)",
}


def load_wards() -> pl.DataFrame:
    """The 94 units of province 48 from the ``vietnamadminunits`` database, ordered by code.

    Returns
    -------
    polars.DataFrame
        ``ma_xa`` (5-digit code), ``ten_xa`` (full name), ``ten_ngan`` (short name), ``loai``
        (Phường, Xã, Đặc khu), ``lon``, ``lat`` (centre point) and ``area_km2`` (official area).
    """
    db = resources.files("vietnamadminunits").joinpath("data/dataset.db")
    with (
        resources.as_file(db) as path,
        contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con,
    ):
        rows = con.execute(
            "SELECT wardCode, ward, wardShort, wardType, wardLon, wardLat, wardAreaKm2 FROM admin_units "
            "WHERE provinceCode = ? ORDER BY wardCode",
            (PROVINCE_CODE,),
        ).fetchall()
    return pl.DataFrame(
        rows,
        schema=[
            ("ma_xa", pl.String),
            ("ten_xa", pl.String),
            ("ten_ngan", pl.String),
            ("loai", pl.String),
            ("lon", pl.Float64),
            ("lat", pl.Float64),
            ("area_km2", pl.Float64),
        ],
        orient="row",
    )


def _disc(lon: float, lat: float, area_km2: float) -> shapely.Geometry:
    """A disc of ``area_km2`` around (lon, lat), in degrees (longitude corrected by cos(lat))."""
    r_km = float(np.sqrt(area_km2 / np.pi))
    circle = shapely.buffer(shapely.points(0.0, 0.0), r_km / 111.32, quad_segs=16)
    return shapely.transform(circle, lambda c: c * [1 / np.cos(np.radians(lat)), 1.0] + [lon, lat])


def ward_cells(wards: pl.DataFrame) -> np.ndarray:
    """Approximate polygons of ``wards`` (same order), on a six-decimal grid.

    Mainland units get their Voronoi cell clipped to the simplified land outline (the part that
    holds the centre point); Xã Tân Hiệp gets the Cù Lao Chàm island joined to its centre point;
    Đặc khu Hoàng Sa a disc of its official area around its centre point.

    Returns
    -------
    numpy.ndarray
        One valid shapely Polygon per ward, each containing its ward's centre point.
    """
    codes = wards["ma_xa"].to_numpy()
    xy = wards.select("lon", "lat").to_numpy()
    island = np.isin(codes, ISLANDS)
    mainland = shapely.multipoints(xy[~island])
    land = shapely.Polygon(MAINLAND)
    voronoi = shapely.voronoi_polygons(mainland, extend_to=shapely.buffer(land, 0.5), ordered=True)
    cells = np.empty(len(codes), dtype=object)
    cells[~island] = shapely.intersection(np.asarray(voronoi.geoms, dtype=object), land)
    for i in np.flatnonzero(island):
        centre = shapely.points(*xy[i])
        if codes[i] == TAN_HIEP:
            cells[i] = shapely.convex_hull(
                shapely.union(shapely.Polygon(CU_LAO_CHAM), shapely.buffer(centre, 0.004))
            )
        else:
            cells[i] = _disc(*xy[i], wards["area_km2"][int(i)])
    cells = shapely.set_precision(cells, 1e-6)
    cells = np.array([_part_with(g, xy[i]) for i, g in enumerate(cells)], dtype=object)
    return np.array([shapely.transform(g, lambda c: np.round(c, 6)) for g in cells], dtype=object)


def _part_with(geom: shapely.Geometry, point: np.ndarray) -> shapely.Geometry:
    """The polygon of ``geom`` that holds ``point`` (a Voronoi cell cut by a bay can fall apart)."""
    if geom.geom_type == "Polygon":
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
    holding = [g for g in parts if shapely.contains_xy(g, *point)]
    return holding[0] if holding else max(parts, key=lambda g: g.area)


def land_mask() -> shapely.Geometry:
    """Where points may go: the simplified land outline and the island, shrunk to stay off the coast."""
    return shapely.union(
        shapely.buffer(shapely.Polygon(MAINLAND), -LAND_MARGIN_DEG),
        shapely.buffer(shapely.Polygon(CU_LAO_CHAM), -LAND_MARGIN_DEG / 4),
    )


def areas_km2(cells: np.ndarray) -> np.ndarray:
    """Areas of lon/lat polygons in km², computed in an equal-area projection (EPSG:6933)."""
    tr = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
    projected = shapely.transform(cells, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    return shapely.area(projected) / 1e6


def derived_population(wards: pl.DataFrame) -> np.ndarray:
    """Residents per unit derived from published totals (:data:`CENSUS_2019`): each former province's
    urban count shared equally among its 2025 phường, its rural count among its xã; Hoàng Sa has none.

    Equal shares, not areas: the 2025 mergers set units of comparable population. Integer shares by the
    largest remainder, so the units sum exactly to 2,630,122. A derived figure (:data:`POPULATION_NOTE`),
    labelled as such wherever it is shown; the real per-unit figures come from the census moved to the
    2025 units (:func:`lab.geo.population_2025`, with the offline mirror).
    """
    codes = wards["ma_xa"].cast(pl.Int64).to_numpy()
    loai = wards["loai"].to_numpy()
    province = np.where(codes <= OLD_DANANG_LAST_CODE, "Đà Nẵng", "Quảng Nam")
    kind = np.where(loai == "Phường", "urban", "rural")
    out = np.zeros(len(codes), dtype=np.int64)
    for (prov, k), total in CENSUS_2019.items():
        idx = np.flatnonzero(
            (province == prov) & (kind == k) & ~np.isin(wards["ma_xa"].to_numpy(), NO_POINTS)
        )
        if not len(idx):
            continue
        share = np.full(len(idx), total // len(idx), dtype=np.int64)
        share[: total - int(share.sum())] += 1  # the remainder, one each to the first units by code
        out[idx] = share
    return out


def wards_geojson(wards: pl.DataFrame, cells: np.ndarray) -> str:
    """The approximate ward polygons as a GeoJSON FeatureCollection (EPSG:4326, lon/lat order)."""
    approx = np.round(areas_km2(cells), 2)
    population = derived_population(wards)
    features = []
    for i, row in enumerate(wards.iter_rows(named=True)):  # 94 wards
        props = {
            "ma_xa": row["ma_xa"],
            "ten_xa": row["ten_xa"],
            "loai": row["loai"],
            "area_km2": row["area_km2"],
            "approx_area_km2": float(approx[i]),
            "population": int(population[i]),
            "population_derived": True,
            "center_lon": row["lon"],
            "center_lat": row["lat"],
            "approximate": True,
            "note": APPROX_NOTE,
            "synthetic": True,
        }
        features.append(
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(cells[i])}
        )
    doc: dict[str, Any] = {
        "type": "FeatureCollection",
        "name": "wards_approx",
        "synthetic": True,
        "approximate": True,
        "note": {"vi": f"{APPROX_NOTE}. {SYNTHETIC_NOTE_VI}", "en": f"{APPROX_NOTE}. {SYNTHETIC_NOTE_EN}"},
        "source": "Voronoi cells around the centre points of vietnamadminunits 1.0.4 (admin_units, "
        "province 48), clipped to a simplified city outline",
        "population_note": POPULATION_NOTE,
        "features": features,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


# ---------------------------------------------------------------------------------------------- points
def ward_weights(wards: pl.DataFrame, *, urban: float) -> np.ndarray:
    """How many points a ward attracts: ``urban`` times more per km^0.5 in a phường, twice in old Đà Nẵng."""
    loai = wards["loai"].to_numpy()
    codes = wards["ma_xa"].to_numpy()
    old_city = codes.astype(int) <= 20332
    w = (
        np.sqrt(wards["area_km2"].to_numpy())
        * np.where(loai == "Phường", urban, 1.0)
        * np.where(old_city, 2.0, 1.0)
    )
    return np.where(np.isin(codes, NO_POINTS), 0.0, w)


def sample_points(
    rng: np.random.Generator,
    wards: pl.DataFrame,
    cells: np.ndarray,
    counts: np.ndarray,
    *,
    spread: float = 0.45,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``counts[i]`` points in ward ``i``: around its centre, inside its cell, rounded to 1e-6°.

    Parameters
    ----------
    rng
        The random generator.
    wards, cells
        The wards and their approximate polygons (same order).
    counts
        Points per ward.
    spread
        Standard deviation of the distance to the centre, as a fraction of √area.

    Returns
    -------
    tuple of numpy.ndarray
        ``lon``, ``lat`` and the ward index of every point, in random order.
    """
    lon0, lat0 = wards["lon"].to_numpy(), wards["lat"].to_numpy()
    area = wards["area_km2"].to_numpy()
    out_lon, out_lat, out_idx = [], [], []
    land = land_mask()
    for i in np.flatnonzero(counts):  # at most 94 wards
        k = int(counts[i])
        inner = shapely.intersection(shapely.buffer(cells[i], -SHRINK_DEG), land)
        shapely.prepare(inner)
        sigma = spread * np.sqrt(area[i]) / 111.32
        got_x: list[np.ndarray] = []
        got_y: list[np.ndarray] = []
        n_got, tries = 0, 0
        while n_got < k:
            m = max(64, 3 * (k - n_got))
            if tries < 8:
                x = lon0[i] + rng.normal(0, sigma / np.cos(np.radians(lat0[i])), m)
                y = lat0[i] + rng.normal(0, sigma, m)
            else:  # far-off centre (odd cell shape): uniform inside the cell
                x0, y0, x1, y1 = shapely.bounds(inner)
                x, y = rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)
            x, y = np.round(x, 6), np.round(y, 6)
            ok = shapely.contains_xy(inner, x, y)
            got_x.append(x[ok])
            got_y.append(y[ok])
            n_got += int(ok.sum())
            tries += 1
        out_lon.append(np.concatenate(got_x)[:k])
        out_lat.append(np.concatenate(got_y)[:k])
        out_idx.append(np.full(k, i))
    order = rng.permutation(int(counts.sum()))
    return np.concatenate(out_lon)[order], np.concatenate(out_lat)[order], np.concatenate(out_idx)[order]


def allocate(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    """Split ``n`` points over wards in proportion to ``weights`` (one multinomial draw)."""
    return rng.multinomial(n, weights / weights.sum())


def addresses(rng: np.random.Generator, wards: pl.DataFrame, idx: np.ndarray) -> pl.Series:
    """Made-up Vietnamese addresses in ward ``idx``: ``12 Trần Phú, Phường Hải Châu, Thành phố Đà Nẵng``.

    A phường gets a house number and a street, a xã a hamlet (thôn).
    """
    n = len(idx)
    ten = wards["ten_xa"].to_numpy()[idx]
    loai = wards["loai"].to_numpy()[idx]
    number = rng.integers(1, 400, n).astype(str)
    street = np.asarray(STREETS)[rng.integers(0, len(STREETS), n)]
    hamlet = np.asarray(HAMLETS)[rng.integers(0, len(HAMLETS), n)]
    df = pl.DataFrame({"n": number, "s": street, "h": hamlet, "w": ten, "urban": loai == "Phường"})
    return df.select(
        pl.when(pl.col("urban"))
        .then(pl.concat_str("n", pl.lit(" "), "s"))
        .otherwise(pl.col("h"))
        .add(pl.lit(", "))
        .add(pl.col("w"))
        .add(pl.lit(f", {CITY}"))
        .alias("address")
    ).to_series()


def _located(wards: pl.DataFrame, lon: np.ndarray, lat: np.ndarray, idx: np.ndarray) -> pl.DataFrame:
    """The location columns of points: ward code and name, lon, lat."""
    return pl.DataFrame(
        {
            "ma_xa": wards["ma_xa"].to_numpy()[idx],
            "ten_xa": wards["ten_xa"].to_numpy()[idx],
            "lon": lon,
            "lat": lat,
        }
    )


def _numbered(prefix: str, n: int, width: int) -> pl.Series:
    """``prefix`` + 1..n zero-padded to ``width``: ``CAM-00001``."""
    return pl.select(pl.lit(prefix) + pl.int_range(1, n + 1).cast(pl.String).str.zfill(width)).to_series()


def _unique_names(names: pl.Series) -> pl.Series:
    """Append " 2", " 3", ... to repeated names (as schools named after their ward are numbered)."""
    df = pl.DataFrame({"name": names})
    k = pl.int_range(pl.len()).over("name") + 1
    return df.select(
        pl.when(k > 1).then(pl.col("name") + " " + k.cast(pl.String)).otherwise("name")
    ).to_series()


def sensors(rng: np.random.Generator, wards: pl.DataFrame, cells: np.ndarray) -> pl.DataFrame:
    """About 120 environmental sensors: rain gauges, water-level gauges and air-quality stations."""
    frames = []
    labels = {
        "rain": ("RAIN", "Trạm đo mưa", 10),
        "water_level": ("WL", "Trạm đo mực nước", 10),
        "air_quality": ("AQ", "Trạm quan trắc không khí", 5),
    }
    for kind, n in N_SENSORS.items():
        prefix, label, interval = labels[kind]
        w = ward_weights(wards, urban=2.0 if kind == "air_quality" else 0.7)
        lon, lat, idx = sample_points(rng, wards, cells, allocate(rng, n, w), spread=0.3)
        df = _located(wards, lon, lat, idx).with_columns(
            sensor_id=_numbered(f"{prefix}-", n, 3),
            kind=pl.lit(kind),
            installed=timeline.to_dates(
                np.sort(
                    timeline.curve_dates(
                        rng.random(n),
                        [("2017-09-01", 0), ("2019-12-31", 0.35), ("2022-12-31", 0.7), ("2026-06-30", 1)],
                    )
                )
            ),
            interval_min=pl.lit(interval),
            status=pl.Series(np.where(rng.random(n) < 0.08, "maintenance", "active")),
        )
        short = pl.Series(wards["ten_ngan"].to_numpy()[idx])
        df = df.with_columns(name=_unique_names(f"{label} " + short))
        frames.append(df)
    return pl.concat(frames).select(
        "sensor_id", "kind", "name", "ma_xa", "ten_xa", "lon", "lat", "installed", "interval_min", "status"
    )


def cameras(rng: np.random.Generator, wards: pl.DataFrame, cells: np.ndarray) -> pl.DataFrame:
    """A fixed sample of traffic and security cameras, concentrated in the urban core."""
    lon, lat, idx = sample_points(
        rng, wards, cells, allocate(rng, N_CAMERAS, ward_weights(wards, urban=12.0))
    )
    n = len(lon)
    installed = timeline.curve_dates(
        rng.random(n), [("2017-06-01", 0), ("2019-12-31", 0.25), ("2022-12-31", 0.65), ("2026-10-31", 1)]
    )
    return (
        _located(wards, lon, lat, idx)
        .with_columns(
            camera_id=_numbered("CAM-", n, 5),
            kind=pl.Series(np.where(rng.random(n) < 0.6, "traffic", "security")),
            installed=timeline.to_dates(installed),
        )
        .select("camera_id", "kind", "ma_xa", "ten_xa", "lon", "lat", "installed")
    )


def schools(rng: np.random.Generator, wards: pl.DataFrame, cells: np.ndarray) -> pl.DataFrame:
    """Schools from kindergartens to high schools, named after their ward (and numbered)."""
    lon, lat, idx = sample_points(rng, wards, cells, allocate(rng, N_SCHOOLS, ward_weights(wards, urban=3.0)))
    n = len(lon)
    levels = np.array(["Mầm non", "Tiểu học", "THCS", "THPT", "Liên cấp"])
    level = levels[rng.choice(5, n, p=[0.35, 0.30, 0.22, 0.10, 0.03])]
    size = {"Mầm non": 250, "Tiểu học": 800, "THCS": 900, "THPT": 1200, "Liên cấp": 1100}
    students = np.round(np.vectorize(size.get)(level) * rng.lognormal(0, 0.35, n)).astype(np.int64)
    df = _located(wards, lon, lat, idx).with_columns(
        facility_id=_numbered("SCH-", n, 4),
        level=pl.Series(level),
        ownership=pl.Series(np.where(rng.random(n) < 0.8, "công lập", "tư thục")),
        students=pl.Series(students),
        address=addresses(rng, wards, idx),
    )
    short = wards["ten_ngan"].to_numpy()[idx]
    df = df.with_columns(name=_unique_names("Trường " + df["level"] + " " + pl.Series(short)))
    return df.select(
        "facility_id", "name", "level", "ownership", "students", "address", "ma_xa", "ten_xa", "lon", "lat"
    )


def hospitals(rng: np.random.Generator, wards: pl.DataFrame, cells: np.ndarray) -> pl.DataFrame:
    """Health facilities: a station in every ward, hospitals, district health centres and clinics."""
    has_station = ~np.isin(wards["ma_xa"].to_numpy(), NO_POINTS)
    parts = []
    specs = np.array(["Đa khoa khu vực", "Nhi", "Mắt", "Phụ sản", "Y học cổ truyền", "Phục hồi chức năng"])
    for kind, counts in (
        ("tram_y_te", has_station.astype(np.int64)),
        ("benh_vien", allocate(rng, N_HOSPITALS, ward_weights(wards, urban=6.0))),
        ("trung_tam_y_te", allocate(rng, N_HEALTH_CENTRES, ward_weights(wards, urban=1.0))),
        ("phong_kham", allocate(rng, N_CLINICS, ward_weights(wards, urban=10.0))),
    ):
        lon, lat, idx = sample_points(rng, wards, cells, counts, spread=0.25)
        n = len(lon)
        short = pl.Series(wards["ten_ngan"].to_numpy()[idx])
        if kind == "tram_y_te":
            name = "Trạm Y tế " + pl.Series(wards["ten_xa"].to_numpy()[idx])
            beds = np.full(n, 5)
        elif kind == "benh_vien":
            spec = pl.Series(specs[rng.choice(len(specs), n, p=[0.5, 0.1, 0.1, 0.1, 0.1, 0.1])])
            name = "Bệnh viện " + spec + " " + short
            beds = rng.integers(80, 900, n)
        elif kind == "trung_tam_y_te":
            name = "Trung tâm Y tế khu vực " + short
            beds = rng.integers(30, 200, n)
        else:
            name = _numbered("Phòng khám Đa khoa Mẫu ", n, 2)
            beds = rng.integers(0, 20, n)
        parts.append(
            _located(wards, lon, lat, idx).with_columns(
                kind=pl.lit(kind),
                beds=pl.Series(beds.astype(np.int64)),
                name=name,
                ownership=pl.lit("tư nhân" if kind == "phong_kham" else "công lập"),
                emergency=pl.Series((kind in ("benh_vien", "trung_tam_y_te")) & (rng.random(n) < 0.85)),
                address=addresses(rng, wards, idx),
            )
        )
    df = pl.concat(parts)
    n = df.height
    phone = "0900 000 " + pl.Series(rng.integers(0, 1000, n)).cast(pl.String).str.zfill(3)
    return df.with_columns(
        name=_unique_names(df["name"]), facility_id=_numbered("HF-", n, 4), phone=phone
    ).select(
        "facility_id",
        "name",
        "kind",
        "ownership",
        "beds",
        "emergency",
        "phone",
        "address",
        "ma_xa",
        "ten_xa",
        "lon",
        "lat",
    )


def food_safety(rng: np.random.Generator, wards: pl.DataFrame, cells: np.ndarray) -> pl.DataFrame:
    """Food businesses holding a food-safety certificate (valid three years)."""
    lon, lat, idx = sample_points(rng, wards, cells, allocate(rng, N_FOOD, ward_weights(wards, urban=8.0)))
    n = len(lon)
    kinds = np.array(["nha_hang", "bep_an_tap_the", "san_xuat", "kinh_doanh", "thuc_an_duong_pho"])
    label = {
        "nha_hang": "Nhà hàng",
        "bep_an_tap_the": "Bếp ăn tập thể",
        "san_xuat": "Cơ sở sản xuất",
        "kinh_doanh": "Cửa hàng thực phẩm",
        "thuc_an_duong_pho": "Quán ăn",
    }
    kind = kinds[rng.choice(5, n, p=[0.35, 0.12, 0.13, 0.25, 0.15])]
    issued = timeline.uniform_dates(rng, n, "2017-06-01", "2026-10-31")
    expires = issued.astype("datetime64[D]") + np.timedelta64(3 * 365, "D")
    df = _located(wards, lon, lat, idx).with_columns(
        facility_id=_numbered("ATTP-", n, 5),
        business_type=pl.Series(kind),
        name=pl.Series(np.vectorize(label.get)(kind)) + _numbered(" Mẫu ", n, 4),
        certificate_no=_numbered("", n, 4)
        + "/"
        + pl.Series(issued.astype("datetime64[Y]").astype(int) + 1970).cast(pl.String)
        + "/ATTP-CNĐK",
        certificate_issued=timeline.to_dates(issued),
        certificate_expires=timeline.to_dates(expires),
        owner=pl.Series(np.asarray(PLACEHOLDER_NAMES)[rng.integers(0, len(PLACEHOLDER_NAMES), n)]),
        address=addresses(rng, wards, idx),
    )
    return df.select(
        "facility_id",
        "name",
        "business_type",
        "owner",
        "certificate_no",
        "certificate_issued",
        "certificate_expires",
        "address",
        "ma_xa",
        "ten_xa",
        "lon",
        "lat",
    )


# ----------------------------------------------------------------------------------------------- step
def write_places(ctx: Context) -> None:
    """Step: the approximate wards and every point file (``geo/``)."""
    wards = load_wards()
    cells = ward_cells(wards)
    ctx.shared["wards"], ctx.shared["cells"] = wards, cells
    ctx.write_text(
        "geo/wards_approx.geojson",
        wards_geojson(wards, cells),
        rows=wards.height,
        title="Approximate ward polygons (Voronoi)",
    )
    rng = ctx.rng("places")
    point_sets = (
        ("geo/sensors.csv", sensors, "Environmental sensors", "Rain, water-level and air-quality sensors."),
        (
            "geo/cameras.csv",
            cameras,
            "Cameras (sample)",
            f"A fixed sample of {N_CAMERAS:,} of the city's ~40,000 traffic and security cameras.",
        ),
        ("geo/facilities_schools.csv", schools, "Schools", "Schools with level, ownership and pupils."),
        (
            "geo/facilities_hospitals.csv",
            hospitals,
            "Health facilities",
            "Hospitals, health centres, ward health stations and clinics.",
        ),
        (
            "geo/facilities_food_safety.csv",
            food_safety,
            "Food-safety certified establishments",
            "Food businesses with a food-safety certificate (number, issue and expiry dates).",
        ),
    )
    for rel, make, title, description in point_sets:
        df = make(rng, wards, cells)
        ctx.write_csv(
            rel,
            df,
            title=title,
            description=description + " Points: EPSG:4326 decimal degrees.",
            units={"lon": "degree", "lat": "degree"},
        )
    ctx.truth["ward_codes"] = wards["ma_xa"].to_list()
