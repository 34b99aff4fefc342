"""The portal's dataset listing: 860 datasets shaped like the real portal's metadata, gaps included.

The count is fixed (the portal's published figure, independent of the scale). Datasets are published
over the window along a curve that reaches ~510 at the end of 2021 and ~800 at the end of 2023, then
flattens: projected against the target of ≥1,000 open datasets by 2025, the portal falls short.
Real metadata is uneven, and so is this: a fraction of datasets lacks a licence, a description
(or has one shorter than 100 characters), a contact, keywords, a theme, temporal or spatial coverage,
a download link or a modified date, so the quality scores have something to find.

A few "anchor" datasets have fixed subjects: the ones the demo's known reuses, places and paid service
are built on (temporary waste points, food-safety certificates, hospitals, schools, sensors, cameras,
the notary database). Their portal ids are in ``manifest.json`` under ``truth.anchors``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from lab.demo import timeline
from lab.demo.context import Context
from lab.demo.vocab import (
    AGENCIES,
    API_HOST,
    DISTRICT_AGENCIES,
    FORMAT_WEIGHTS,
    FREQUENCY_VI,
    FREQUENCY_WEIGHTS,
    LICENSE_WEIGHTS,
    LOCAL_SUBJECTS,
    MERGER_DATE,
    PLACEHOLDER_NAMES,
    PORTAL_HOST,
    THEME_KEYWORDS,
)

log = logging.getLogger(__name__)

N_DATASETS = 860
"""Datasets on the portal (2023–24 figure; fixed, not scaled)."""
N_CHANNEL_DATASETS = 55
"""Datasets also served over Zalo, SMS or the Danang Smart City app."""
PUBLICATION_CURVE: list[tuple[str, float]] = [
    ("2017-06-01", 0),
    ("2017-12-31", 150),
    ("2019-12-31", 330),
    ("2021-12-31", 510),
    ("2023-12-31", 800),
    ("2025-06-30", 845),
    ("2026-10-31", 860),
]
"""Cumulative datasets published by date (the shape of the press figures: ~510 in 2021, 860 in 2023-24)."""
LOCAL_SHARE = 0.08
"""Share of datasets published by local government (a district before July 2025, a ward after)."""
CHANNEL_THEMES = ("transport", "environment", "health", "justice", "government", "education")
TABULAR = ("CSV", "JSON", "XLSX", "XLS", "GEOJSON", "XML")


@dataclass(frozen=True)
class Anchor:
    """A dataset with a fixed subject that other files refer to."""

    role: str
    agency: str
    subject: tuple[str, str]
    issued: str
    license: str = "danang-open-data"
    access_rights: str = "public"
    formats: str = "CSV;XLSX;JSON"
    theme: str | None = None


ANCHORS: tuple[Anchor, ...] = (
    Anchor(
        "hospitals",
        "SYT",
        ("Danh sách bệnh viện và cơ sở khám chữa bệnh", "Hospitals and health care facilities"),
        "2017-07-20",
    ),
    Anchor("schools", "SGDDT", ("Danh sách trường học", "Schools"), "2017-08-01"),
    Anchor(
        "waste_points",
        "STNMT",
        ("Điểm tập kết rác thải tạm thời", "Temporary waste collection points"),
        "2018-03-15",
    ),
    Anchor(
        "food_safety",
        "BQLATTP",
        (
            "Danh sách cơ sở được cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm",
            "Establishments certified for food safety",
        ),
        "2018-05-10",
        theme="health",
    ),
    Anchor(
        "rain",
        "STNMT",
        ("Lượng mưa tại các trạm đo mưa tự động", "Rainfall at automatic rain gauges"),
        "2018-09-01",
    ),
    Anchor(
        "water_level",
        "STNMT",
        ("Mực nước tại các trạm đo mực nước", "Water levels at gauging stations"),
        "2018-09-01",
    ),
    Anchor(
        "air_quality",
        "STNMT",
        ("Kết quả quan trắc chất lượng không khí", "Air quality monitoring results"),
        "2019-01-15",
    ),
    Anchor(
        "cameras",
        "STTTT",
        ("Danh sách camera giám sát giao thông", "Traffic monitoring cameras"),
        "2019-04-01",
        theme="transport",
    ),
    Anchor("bus_routes", "SGTVT", ("Lộ trình các tuyến xe buýt", "Bus routes"), "2017-10-10"),
    Anchor(
        "notary",
        "STP",
        ("Cơ sở dữ liệu công chứng (tra cứu có thu phí)", "Notary database (paid look-up service)"),
        "2022-12-15",
        license="proprietary",
        access_rights="restricted",
        formats="JSON",
    ),
)


def masked(values: np.ndarray | pl.Series, keep: np.ndarray) -> pl.Series:
    """``values`` where ``keep``, null elsewhere: ``where(keep, values, None)`` without object arrays."""
    return pl.select(pl.when(pl.Series(keep)).then(pl.Series(values))).to_series()


def weighted_choice(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    """``n`` keys of ``weights`` drawn with probability proportional to their weight."""
    keys = np.array(list(weights))
    p = np.array(list(weights.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def _subject_table() -> pl.DataFrame:
    """Every (agency, subject) pair with its theme(s) and a weight that spreads the agency's weight."""
    rows = [
        (a.code, a.vi, a.themes[0], a.themes[-1], vi, en, a.weight / len(a.subjects))
        for a in AGENCIES
        for vi, en in a.subjects
    ]
    return pl.DataFrame(
        rows,
        schema=["publisher_code", "publisher", "theme", "theme2", "subject_vi", "subject_en", "w"],
        orient="row",
    )


def _lower_first(col: pl.Expr) -> pl.Expr:
    """``Phường Hải Châu`` → ``phường Hải Châu`` (only the first letter)."""
    return col.str.slice(0, 1).str.to_lowercase() + col.str.slice(1)


def _local_rows(rng: np.random.Generator, issued: np.ndarray, wards: pl.DataFrame) -> pl.DataFrame:
    """Publisher, subject and place of local-government datasets (district before the merger, ward after)."""
    n = len(issued)
    urban = wards.filter(pl.col("loai") == "Phường")
    d = rng.integers(0, len(DISTRICT_AGENCIES), n)
    w = rng.integers(0, urban.height, n)
    s = rng.integers(0, len(LOCAL_SUBJECTS), n)
    raw = pl.DataFrame(
        {
            "after": issued >= np.datetime64(MERGER_DATE),
            "d_code": np.array([c for c, _, _ in DISTRICT_AGENCIES])[d],
            "d_agency": np.array([a for _, a, _ in DISTRICT_AGENCIES])[d],
            "d_name": np.array([x for _, _, x in DISTRICT_AGENCIES])[d],
            "w_name": urban["ten_xa"].to_numpy()[w],
            "w_code": urban["ma_xa"].to_numpy()[w],
            "s_vi": np.array([v for v, _ in LOCAL_SUBJECTS])[s],
            "s_en": np.array([e for _, e in LOCAL_SUBJECTS])[s],
            "theme": np.where(rng.random(n) < 0.5, "government", "regions"),
        }
    )
    after = pl.col("after")
    d_place = pl.when(pl.col("d_code") == "UBND-HV").then(pl.lit("Huyện ")).otherwise(
        pl.lit("Quận ")
    ) + pl.col("d_name")
    place = pl.when(after).then("w_name").otherwise(d_place)
    return raw.select(
        publisher_code=pl.when(after).then("UBND-" + pl.col("w_code")).otherwise("d_code"),
        publisher=pl.when(after).then("UBND " + _lower_first(pl.col("w_name"))).otherwise("d_agency"),
        theme="theme",
        subject_vi=pl.col("s_vi") + " " + _lower_first(place),
        subject_en=pl.col("s_en")
        + ", "
        + pl.when(after).then("w_name").otherwise(pl.col("d_name") + " district"),
        coverage=place + ", Thành phố Đà Nẵng",
        resolution=pl.when(after).then(pl.lit("ward")).otherwise(pl.lit("district")),
    )


def build_catalog(rng: np.random.Generator, wards: pl.DataFrame) -> pl.DataFrame:
    """The 860 portal datasets, with internal columns (prefixed ``_``) the usage steps rely on.

    Parameters
    ----------
    rng
        The random stream of the catalog step.
    wards
        The 94 units (for the publishers and coverage of local datasets after the merger).

    Returns
    -------
    polars.DataFrame
        One row per dataset, sorted by ``portal_id`` (which grows with ``issued``).
    """
    n_random = N_DATASETS - len(ANCHORS)
    issued = np.sort(timeline.curve_dates(rng.random(n_random), PUBLICATION_CURVE))
    local = rng.random(n_random) < LOCAL_SHARE
    subjects = _subject_table()
    pick = rng.choice(subjects.height, size=n_random, p=(subjects["w"] / subjects["w"].sum()).to_numpy())
    main = (
        subjects[pick]
        .with_columns(
            theme=pl.when(pl.Series(rng.random(n_random) < 0.25)).then("theme2").otherwise("theme"),
            coverage=pl.lit(None, pl.String),
            resolution=pl.lit(None, pl.String),
        )
        .drop("theme2", "w")
    )
    loc = _local_rows(rng, issued, wards)
    df = pl.concat(
        [
            main.with_row_index("_i").filter(pl.Series(~local)),
            loc.with_row_index("_i").filter(pl.Series(local)),
        ],
        how="diagonal",
    ).sort("_i")
    df = df.with_columns(
        issued=timeline.to_dates(issued),
        anchor=pl.lit(None, pl.String),
        license=pl.lit(None, pl.String),
        access_rights=pl.lit("public"),
        formats=pl.lit(None, pl.String),
    ).drop("_i")
    agencies = {a.code: a for a in AGENCIES}
    anchors = pl.DataFrame(
        {
            "publisher_code": [a.agency for a in ANCHORS],
            "publisher": [agencies[a.agency].vi for a in ANCHORS],
            "theme": [a.theme or agencies[a.agency].themes[0] for a in ANCHORS],
            "subject_vi": [a.subject[0] for a in ANCHORS],
            "subject_en": [a.subject[1] for a in ANCHORS],
            "coverage": ["Thành phố Đà Nẵng"] * len(ANCHORS),
            "resolution": ["point"] * len(ANCHORS),
            "issued": pl.Series([a.issued for a in ANCHORS]).str.to_date(),
            "anchor": [a.role for a in ANCHORS],
            "license": [a.license for a in ANCHORS],
            "access_rights": [a.access_rights for a in ANCHORS],
            "formats": [a.formats for a in ANCHORS],
        }
    )
    df = pl.concat([df, anchors], how="diagonal").sort(
        "issued", "anchor", nulls_last=True, maintain_order=True
    )
    return _fill(rng, df)


def _fill(rng: np.random.Generator, df: pl.DataFrame) -> pl.DataFrame:
    """Ids, titles, dates, formats, links, contacts and the deliberate metadata gaps.

    Each part draws from ``rng`` in turn (titles, dates, formats, contacts, keywords, descriptions,
    coverage, then the listing's last columns): the order of the draws is the order of the calls, so the
    listing is the same for a seed whatever the helpers do inside.
    """
    n = df.height
    is_anchor = df["anchor"].is_not_null().to_numpy()
    portal_id = 101_000 + np.cumsum(rng.integers(1, 7, n))
    issued = df["issued"].to_numpy().astype("datetime64[D]")
    year = issued.astype("datetime64[Y]").astype(int) + 1970
    listing = df["subject_vi"].str.starts_with("Danh").to_numpy()
    local = df["publisher_code"].str.starts_with("UBND").to_numpy()
    df, variant, data_year, quarter = _titles(rng, df, is_anchor, issued, year, listing, local)
    dates = _dates(rng, n, issued, variant, data_year, quarter)
    df, first_fmt, has_api, has_download = _formats_and_rights(rng, df)
    contacts = _contacts(rng, df)
    kw = _keywords(rng, df)
    description = _descriptions(rng, df, dates["freq"])
    coverage, resolution, records = _coverage(rng, df, listing)
    channels_extra = _channel_assignment(rng, df, has_api, issued)
    return _listing_frame(
        rng,
        df,
        portal_id=portal_id,
        is_anchor=is_anchor,
        dates=dates,
        first_fmt=first_fmt,
        has_api=has_api,
        has_download=has_download,
        contacts=contacts,
        kw=kw,
        description=description,
        coverage=coverage,
        resolution=resolution,
        records=records,
        channels_extra=channels_extra,
    )


def _titles(
    rng: np.random.Generator,
    df: pl.DataFrame,
    is_anchor: np.ndarray,
    issued: np.ndarray,
    year: np.ndarray,
    listing: np.ndarray,
    local: np.ndarray,
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Titles (a year, a quarter or a district after the subject; republished lists told apart), with
    the variant, the data's year and quarter the dates follow."""
    n = df.height
    # title variant: 0 plain, 1 "năm YYYY", 2 "quý Q/YYYY", 3 a district (lists, before the merger)
    u = rng.random(n)
    variant = np.where(
        listing,
        np.where(u < 0.35, 0, np.where(u < 0.6, 1, 3)),
        np.where(u < 0.25, 0, np.where(u < 0.85, 1, 2)),
    )
    variant = np.where(is_anchor | local | (year <= 2017) & (variant != 3), 0, variant)
    variant = np.where((variant == 3) & (issued >= np.datetime64(MERGER_DATE)), 0, variant)
    district = rng.integers(0, len(DISTRICT_AGENCIES), n)
    d_name = pl.Series(np.array([x for _, _, x in DISTRICT_AGENCIES])[district])
    d_vi = pl.select(
        pl.when(pl.Series(district) == len(DISTRICT_AGENCIES) - 1)
        .then(pl.lit("huyện "))
        .otherwise(pl.lit("quận "))
        + d_name
    ).to_series()
    data_year = np.where(rng.random(n) < 0.6, year - 1, year)
    data_year = np.maximum(data_year, 2018)
    data_year = np.where(data_year > year, year, data_year)
    variant = np.where(
        (variant > 0)
        & (data_year == year)
        & (issued < (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 90),
        0,
        variant,
    )
    quarter = rng.integers(1, 5, n)
    ts = pl.DataFrame({"v": variant, "y": data_year, "q": quarter, "d_vi": d_vi, "d_en": d_name})
    suffix_vi = ts.select(
        pl.when(pl.col("v") == 1)
        .then(" năm " + pl.col("y").cast(pl.String))
        .when(pl.col("v") == 2)
        .then(" quý " + pl.col("q").cast(pl.String) + "/" + pl.col("y").cast(pl.String))
        .when(pl.col("v") == 3)
        .then(" " + pl.col("d_vi"))
        .otherwise(pl.lit(""))
    ).to_series()
    suffix_en = ts.select(
        pl.when(pl.col("v") == 1)
        .then(", " + pl.col("y").cast(pl.String))
        .when(pl.col("v") == 2)
        .then(", Q" + pl.col("q").cast(pl.String) + " " + pl.col("y").cast(pl.String))
        .when(pl.col("v") == 3)
        .then(", " + pl.col("d_en") + " district")
        .otherwise(pl.lit(""))
    ).to_series()
    in_district = pl.Series(variant == 3)
    df = df.with_columns(
        title_vi=df["subject_vi"] + suffix_vi,
        title_en=df["subject_en"] + suffix_en,
        _y=pl.Series(year).cast(pl.String),
        coverage=pl.when(in_district)
        .then(d_vi.str.slice(0, 1).str.to_uppercase() + d_vi.str.slice(1) + ", Thành phố Đà Nẵng")
        .otherwise("coverage"),
        resolution=pl.when(in_district).then(pl.lit("district")).otherwise("resolution"),
    )
    # a republished list: "(cập nhật 2023)"; what still repeats: "– bản 2"
    k = pl.int_range(pl.len()).over("title_vi") + 1
    df = df.with_columns(
        title_vi=pl.when(k > 1)
        .then(pl.col("title_vi") + " (cập nhật " + pl.col("_y") + ")")
        .otherwise("title_vi"),
        title_en=pl.when(k > 1)
        .then(pl.col("title_en") + " (" + pl.col("_y") + " update)")
        .otherwise("title_en"),
    )
    k = pl.int_range(pl.len()).over("title_vi") + 1
    df = df.with_columns(
        title_vi=pl.when(k > 1)
        .then(pl.col("title_vi") + " – bản " + k.cast(pl.String))
        .otherwise("title_vi"),
        title_en=pl.when(k > 1)
        .then(pl.col("title_en") + " – version " + k.cast(pl.String))
        .otherwise("title_en"),
    ).drop("_y")
    return df, variant, data_year, quarter


def _dates(
    rng: np.random.Generator,
    n: int,
    issued: np.ndarray,
    variant: np.ndarray,
    data_year: np.ndarray,
    quarter: np.ndarray,
) -> dict[str, np.ndarray]:
    """Temporal coverage, update frequency and last modification (some missing on purpose)."""
    # temporal coverage from the variant; else a start before the issue date, sometimes missing
    y_start = (data_year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    q_start = (np.datetime64("1970-01", "M") + ((data_year - 1970) * 12 + (quarter - 1) * 3)).astype(
        "datetime64[D]"
    )
    q_end = (np.datetime64("1970-01", "M") + ((data_year - 1970) * 12 + quarter * 3)).astype(
        "datetime64[D]"
    ) - 1
    lo = np.datetime64(timeline.WINDOW_START.isoformat(), "D")
    free_start = np.maximum(issued - rng.integers(0, 3 * 365, n), lo)
    t_start = np.where(variant == 1, y_start, np.where(variant == 2, q_start, free_start))
    variant = np.where(variant == 3, 0, variant)  # a district list is a plain list from here on
    t_end = np.where(variant == 1, y_start + 364, np.where(variant == 2, q_end, issued))
    t_start, t_end = np.maximum(t_start, lo), np.minimum(t_end, issued)
    t_start = np.minimum(t_start, t_end)
    no_temporal = (variant == 0) & (rng.random(n) < 0.35)

    # frequency, modified
    freq = weighted_choice(rng, FREQUENCY_WEIGHTS, n)
    freq = np.where(variant == 1, np.where(rng.random(n) < 0.8, "annual", freq), freq)
    freq = np.where(variant == 2, "quarterly", freq)
    end = np.datetime64(timeline.WINDOW_END.isoformat(), "D")
    span = (end - issued).astype(np.int64)
    active = rng.random(n) < np.where(np.isin(freq, ["daily", "continuous", "weekly", "monthly"]), 0.75, 0.45)
    frac = np.where(active, rng.uniform(0.75, 1.0, n), rng.uniform(0.0, 0.3, n))
    frac = np.where(np.isin(freq, ["never"]) | (variant > 0) & (rng.random(n) < 0.7), 0.0, frac)
    modified = issued + np.floor(frac * span).astype(np.int64)
    no_modified = rng.random(n) < 0.05
    return {
        "t_start": t_start,
        "t_end": t_end,
        "no_temporal": no_temporal,
        "freq": freq,
        "modified": modified,
        "no_modified": no_modified,
    }


def _formats_and_rights(
    rng: np.random.Generator, df: pl.DataFrame
) -> tuple[pl.DataFrame, pl.Series, np.ndarray, np.ndarray]:
    """Formats, licence and access rights; which datasets have an API and a download link."""
    n = df.height
    # formats, licence, access
    fmts = np.array(list(FORMAT_WEIGHTS))
    w = np.log(np.array(list(FORMAT_WEIGHTS.values()), dtype=float))
    order = np.argsort(-(w + rng.gumbel(size=(n, len(fmts)))), axis=1)
    n_fmt = rng.choice([1, 2, 3], size=n, p=[0.45, 0.38, 0.17])
    cols = {f"f{j}": masked(fmts[order[:, j]], n_fmt > j) for j in range(3)}
    formats = (
        pl.DataFrame(cols)
        .select(pl.concat_str("f0", "f1", "f2", separator=";", ignore_nulls=True))
        .to_series()
    )
    df = df.with_columns(formats=pl.coalesce("formats", formats))
    first_fmt = df["formats"].str.split(";").list.first()
    has_api = df["formats"].str.contains("|".join(TABULAR)).to_numpy() & (rng.random(n) < 0.85)
    license_ = pl.Series(weighted_choice(rng, LICENSE_WEIGHTS, n))
    df = df.with_columns(license=pl.coalesce("license", pl.when(license_ != "").then(license_)))
    df = df.with_columns(
        access_rights=pl.when(pl.col("license") == "proprietary")
        .then(pl.lit("restricted"))
        .otherwise("access_rights")
    )
    has_download = (rng.random(n) > 0.06) & (df["access_rights"] == "public").to_numpy()
    return df, first_fmt, has_api, has_download


def _contacts(rng: np.random.Generator, df: pl.DataFrame) -> dict[str, Any]:
    """Contact names, emails and phones (some missing on purpose)."""
    n = df.height
    # contacts
    who = np.asarray(PLACEHOLDER_NAMES)[rng.integers(0, len(PLACEHOLDER_NAMES), n)]
    no_contact = rng.random(n) < 0.18
    miss = rng.random(n)
    email = df["publisher_code"].str.to_lowercase().str.replace_all(r"[^a-z0-9]+", ".") + ".demo@example.org"
    phone = "0900 000 " + pl.Series(rng.integers(0, 1000, n)).cast(pl.String).str.zfill(3)
    return {"who": who, "no_contact": no_contact, "miss": miss, "email": email, "phone": phone}


def _keywords(rng: np.random.Generator, df: pl.DataFrame) -> pl.Series:
    """Keywords: 0–4 from the theme's list, missing on ~18 %."""
    n = df.height
    n_kw = np.where(rng.random(n) < 0.18, 0, rng.integers(1, 5, n))
    kw = pl.Series([None] * n, dtype=pl.String)
    for theme, words in THEME_KEYWORDS.items():  # 13 themes
        pool = np.asarray(words)
        rows = np.flatnonzero((df["theme"] == theme).to_numpy())
        if not len(rows):
            continue
        order_kw = np.argsort(rng.random((len(rows), len(pool))), axis=1)
        parts = {f"k{j}": masked(pool[order_kw[:, j % len(pool)]], n_kw[rows] > j) for j in range(4)}
        joined = (
            pl.DataFrame(parts).select(pl.concat_str(*parts, separator=";", ignore_nulls=True)).to_series()
        )
        kw = kw.scatter(rows, joined)
    kw = pl.select(pl.when(kw != "").then(kw)).to_series()
    return kw


def _descriptions(rng: np.random.Generator, df: pl.DataFrame, freq: np.ndarray) -> pl.Series:
    """Descriptions: long (>100 characters), short or empty."""
    n = df.height
    d = rng.random(n)
    fq = pl.Series(np.vectorize(FREQUENCY_VI.get)(freq))
    subj_lower = df["subject_vi"].str.slice(0, 1).str.to_lowercase() + df["subject_vi"].str.slice(1)
    long_ = (
        "Dữ liệu "
        + subj_lower
        + " do "
        + df["publisher"]
        + " cung cấp, cập nhật "
        + fq
        + ". Bộ dữ liệu gồm các trường thông tin chính như tên, địa chỉ, đơn vị hành chính, thời điểm "
        "cập nhật; phục vụ tra cứu, thống kê và phát triển ứng dụng."
    )
    short = df["subject_vi"] + " (" + df["publisher"] + ")."
    description = pl.select(
        pl.when(pl.Series(d < 0.5))
        .then(long_)
        .when(pl.Series(d < 0.83))
        .then(short)
        .otherwise(pl.lit(None, pl.String))
    ).to_series()
    return description


def _coverage(
    rng: np.random.Generator, df: pl.DataFrame, listing: np.ndarray
) -> tuple[pl.Series, pl.Series, np.ndarray]:
    """Spatial coverage and resolution (some missing), and the record counts of tabular datasets."""
    n = df.height
    coverage = pl.select(
        pl.coalesce(df["coverage"], pl.when(pl.Series(rng.random(n) < 0.7)).then(pl.lit("Thành phố Đà Nẵng")))
    ).to_series()
    resolution = pl.select(
        pl.coalesce(
            df["resolution"],
            pl.when(coverage.is_null())
            .then(pl.lit(None, pl.String))
            .when(pl.Series(listing & (rng.random(n) < 0.6)))
            .then(pl.lit("point"))
            .when(pl.Series(rng.random(n) < 0.5))
            .then(pl.lit("ward"))
            .otherwise(pl.lit("city")),
        )
    ).to_series()
    records = np.where(
        df["formats"].str.contains("|".join(TABULAR)).to_numpy(),
        np.round(rng.lognormal(5.5, 1.6, n)).astype(np.int64) + 1,
        -1,
    )
    return coverage, resolution, records


# long: the listing's columns in the portal's order, one expression each
def _listing_frame(
    rng: np.random.Generator,
    df: pl.DataFrame,
    *,
    portal_id: np.ndarray,
    is_anchor: np.ndarray,
    dates: dict[str, np.ndarray],
    first_fmt: pl.Series,
    has_api: np.ndarray,
    has_download: np.ndarray,
    contacts: dict[str, Any],
    kw: pl.Series,
    description: pl.Series,
    coverage: pl.Series,
    resolution: pl.Series,
    records: np.ndarray,
    channels_extra: pl.Expr | pl.Series,
) -> pl.DataFrame:
    """The listing's columns, in the portal's order, with the internal ones the usage steps need."""
    n = df.height
    t_start, t_end, no_temporal = dates["t_start"], dates["t_end"], dates["no_temporal"]
    freq, modified, no_modified = dates["freq"], dates["modified"], dates["no_modified"]
    who, no_contact, miss = contacts["who"], contacts["no_contact"], contacts["miss"]
    email, phone = contacts["email"], contacts["phone"]
    b64 = pl.Series(portal_id.astype(str)).str.encode("base64")
    theme = pl.select(
        pl.when(pl.Series(~is_anchor & (rng.random(n) < 0.03)))
        .then(pl.lit(None, pl.String))
        .otherwise(df["theme"])
    ).to_series()
    out = pl.DataFrame(
        {
            "portal_id": portal_id,
            "identifier": df["publisher_code"] + "." + pl.Series(portal_id).cast(pl.String),
            "title_vi": df["title_vi"],
            "title_en": df["title_en"],
            "publisher": df["publisher"],
            "publisher_code": df["publisher_code"],
            "managing_agency": pl.select(
                pl.when(df["publisher_code"] == "CTK")
                .then(pl.lit("Tổng cục Thống kê"))
                .when(df["publisher_code"].str.starts_with("UBND"))
                .then(df["publisher"])
                .otherwise(pl.lit("UBND thành phố Đà Nẵng"))
            ).to_series(),
            "theme": theme,
            "keywords": kw,
            "description": description,
            "frequency": pl.select(pl.when(pl.Series(freq) != "").then(pl.Series(freq))).to_series(),
            "license": df["license"],
            "access_rights": df["access_rights"],
            "issued": df["issued"],
            "modified": pl.select(
                pl.when(pl.Series(~no_modified)).then(timeline.to_dates(modified))
            ).to_series(),
            "formats": df["formats"],
            "landing_page": PORTAL_HOST + "/dulieuchitiet/" + pl.Series(portal_id).cast(pl.String),
            "download_url": pl.select(
                pl.when(pl.Series(has_download)).then(
                    PORTAL_HOST
                    + "/dulieuchitiet/"
                    + pl.Series(portal_id).cast(pl.String)
                    + "/download?format="
                    + first_fmt.str.to_lowercase()
                )
            ).to_series(),
            "api_url": pl.select(
                pl.when(pl.Series(has_api)).then(API_HOST + "/api/dataset/" + b64)
            ).to_series(),
            "channels": pl.select(
                pl.concat_str(
                    pl.lit("web"),
                    pl.when(pl.Series(has_api)).then(pl.lit("api")),
                    channels_extra,
                    separator=";",
                    ignore_nulls=True,
                )
            ).to_series(),
            "contact_name": pl.select(pl.when(pl.Series(~no_contact)).then(pl.Series(who))).to_series(),
            "contact_email": pl.select(
                pl.when(pl.Series(~no_contact & (miss > 0.10))).then(email)
            ).to_series(),
            "contact_phone": pl.select(
                pl.when(pl.Series(~no_contact & ((miss < 0.10) | (miss > 0.20)))).then(phone)
            ).to_series(),
            "temporal_start": pl.select(
                pl.when(pl.Series(~no_temporal)).then(timeline.to_dates(t_start))
            ).to_series(),
            "temporal_end": pl.select(
                pl.when(pl.Series(~no_temporal & (rng.random(n) < 0.8))).then(timeline.to_dates(t_end))
            ).to_series(),
            "spatial_coverage": coverage,
            "spatial_resolution": resolution,
            "records": pl.select(pl.when(pl.Series(records >= 0)).then(pl.Series(records))).to_series(),
            "byte_size": np.round(np.clip(records, 20, None) * rng.uniform(80, 400, n)).astype(np.int64)
            + 600,
            # internal, dropped before writing
            "_anchor": df["anchor"],
            "_popularity": rng.lognormal(0.0, 1.3, n) * np.where(is_anchor, 8.0, 1.0),
            "_has_api": has_api,
            "_has_download": has_download,
            "_b64": b64,
            "_format": first_fmt.str.to_lowercase(),
        }
    )
    return out


def _channel_assignment(
    rng: np.random.Generator, df: pl.DataFrame, has_api: np.ndarray, issued: np.ndarray
) -> pl.Series:
    """Exactly 55 datasets also served over Zalo, SMS or the app: ``zalo;sms;app`` subsets, else null."""
    n = df.height
    anchor = df["anchor"].to_numpy()
    forced = np.isin(
        anchor, ["waste_points", "food_safety", "hospitals", "bus_routes", "rain", "air_quality"]
    )
    eligible = has_api & (issued < np.datetime64("2024-06-01")) & df["theme"].is_in(CHANNEL_THEMES).to_numpy()
    score = np.where(forced, 10.0, 0.0) + np.where(eligible, rng.random(n), -1.0)
    chosen = np.zeros(n, dtype=bool)
    chosen[np.argsort(-score, kind="stable")[:N_CHANNEL_DATASETS]] = True
    z = chosen & (rng.random(n) < 0.8)
    s = chosen & (rng.random(n) < 0.4)
    a = chosen & ((rng.random(n) < 0.6) | (~z & ~s))
    parts = pl.DataFrame(
        {
            "z": masked(np.full(n, "zalo"), z),
            "s": masked(np.full(n, "sms"), s),
            "a": masked(np.full(n, "app"), a),
        }
    )
    joined = parts.select(pl.concat_str("z", "s", "a", separator=";", ignore_nulls=True)).to_series()
    return pl.select(pl.when(joined != "").then(joined)).to_series()


PUBLIC_COLUMNS = (
    "portal_id",
    "identifier",
    "title_vi",
    "title_en",
    "publisher",
    "publisher_code",
    "managing_agency",
    "theme",
    "keywords",
    "description",
    "frequency",
    "license",
    "access_rights",
    "issued",
    "modified",
    "formats",
    "landing_page",
    "download_url",
    "api_url",
    "channels",
    "contact_name",
    "contact_email",
    "contact_phone",
    "temporal_start",
    "temporal_end",
    "spatial_coverage",
    "spatial_resolution",
    "records",
    "byte_size",
)


def write_catalog(ctx: Context) -> None:
    """Step: ``catalog/portal_datasets.csv``."""
    cat = build_catalog(ctx.rng("catalog"), ctx.shared["wards"])
    ctx.shared["catalog"] = cat
    ctx.write_csv(
        "catalog/portal_datasets.csv",
        cat.select(PUBLIC_COLUMNS),
        title="Portal dataset listing",
        description="The portal's datasets with their metadata as the dataset pages show it "
        "(Cơ quan cung cấp, Lĩnh vực, Tần suất, Giấy phép, ...); gaps are deliberate.",
    )
    anchors = cat.filter(pl.col("_anchor").is_not_null())
    ctx.truth["anchors"] = dict(
        zip(anchors["_anchor"].to_list(), anchors["portal_id"].to_list(), strict=True)
    )
    ctx.totals["datasets"] = cat.height
    ctx.totals["channel_datasets"] = int(cat["channels"].str.contains("zalo|sms|app").sum())
