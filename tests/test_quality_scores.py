"""Metadata scores: MQA (worked example, a hand-computed catalogue, bands), udata, 5-star, freshness."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from lab.catalog import load_catalog
from lab.quality import metadata, mqa, stars, udata
from lab.quality.freshness import freshness
from lab.quality.scorecard import score
from lab.quality.vocab import format_table, indicators, licence_table, mqa_max_points


def test_indicator_weights_add_up_to_405_in_five_dimensions() -> None:
    inds = indicators()
    assert len(inds) == 23
    assert sum(i.weight for i in inds) == mqa_max_points() == 405
    per_dim: dict[str, float] = {}
    for i in inds:
        per_dim[i.dimension] = per_dim.get(i.dimension, 0) + i.weight
    assert per_dim == {
        "findability": 100,
        "accessibility": 100,
        "interoperability": 110,
        "reusability": 75,
        "contextuality": 20,
    }


@pytest.mark.parametrize(
    ("points", "band"),
    [
        (405, "excellent"),
        (351, "excellent"),
        (350.99, "good"),
        (221, "good"),
        (220.5, "sufficient"),
        (121, "sufficient"),
        (120.99, "bad"),
        (0, "bad"),
    ],
)
def test_bands(points: float, band: str) -> None:
    assert mqa.band(points) == band
    assert pl.select(mqa.band_expr(pl.lit(points))).item() == band


def test_worked_example_42_of_46_datasets_with_spatial_gives_18_26_points() -> None:
    # ckan-mqa README: dct:spatial on 42 of 46 datasets → 0.913 × 20 = 18.26 points
    listing = pl.DataFrame(
        {
            "portal_id": list(range(1, 47)),
            "title_vi": [f"Tập {i}" for i in range(1, 47)],
            "spatial_coverage": ["Thành phố Đà Nẵng"] * 42 + [None] * 4,
            "formats": ["CSV"] * 46,
        }
    )
    table = mqa.catalogue_indicators(metadata.from_listing(listing))
    row = table.filter(pl.col("indicator") == "spatial").row(0, named=True)
    assert (row["count"], row["population"], row["weight"]) == (42, 46, 20)
    assert row["points"] == 18.26
    assert mqa.points(42, 46, 20) == 18.26


HAND_CATALOG = """
catalog:
  title: {vi: "Danh mục thử", en: "Test catalogue"}
datasets:
  - id: alpha
    title: {vi: "Alpha", en: "Alpha"}
    description:
      vi: "Một mô tả đủ dài để vượt qua ngưỡng một trăm ký tự của udata: tập dữ liệu thử nghiệm alpha,
        có một cột số nguyên."
      en: "Long enough."
    publisher: "P1"
    theme: [economy]
    keywords: [k]
    license: CC-BY-4.0
    frequency: monthly
    access_rights: public
    issued: 2024-01-01
    modified: 2025-05-01
    contact_point: {email: "a@example.org"}
    spatial: {kind: none, coverage: "Thành phố Đà Nẵng"}
    temporal: {start: 2024-01-01}
    distributions:
      - format: CSV
        media_type: text/csv
        download_url: "http://h.example/a.csv"
        byte_size: 100
        license: CC-BY-4.0
      - {format: PDF, media_type: application/pdf, download_url: "http://h.example/a.pdf"}
    schema:
      columns:
        - {name: x, type: integer}
  - id: beta
    title: {vi: "Beta", en: "Beta"}
    description: {vi: "Ngắn.", en: "Short."}
    publisher: "P2"
    theme: [health]
    license: danang-open-data
    frequency: irregular
    access_rights: public
    issued: 2024-01-01
    distributions:
      - format: XLSX
        media_type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
        download_url: "http://h.example/b.xlsx"
        byte_size: 50
  - id: gamma
    title: {vi: "Gamma", en: "Gamma"}
    publisher: "P2"
    theme: [transport]
    keywords: [x]
    license: unknown
    frequency: unknown
    access_rights: restricted
    modified: 2025-01-01
    contact_point: {name: "Nguyễn Văn A"}
    spatial: {kind: none, coverage: "Phường Hải Châu"}
    distributions:
      - {format: JSON, access_url: "http://h.example/c", download_url: "http://h.example/c.json",
         byte_size: 9}
  - id: delta
    title: {vi: "Delta", en: "Delta"}
    description: {vi: "Mô tả.", en: "A description."}
    publisher: "P3"
    theme: [environment]
    keywords: [y]
    license: CC0-1.0
    frequency: weekly
    access_rights: public
    issued: 2024-01-01
    modified: 2025-05-20
    contact_point: {phone: "0900 000 001"}
    spatial: {kind: none, coverage: "Xã Hòa Vang"}
    temporal: {end: 2025-01-01}
    distributions:
      - format: GEOJSON
        media_type: application/geo+json
        download_url: "http://h.example/d.geojson"
        byte_size: 1
        license: CC0-1.0
      - {format: CSV, media_type: text/csv, download_url: "http://h.example/d.csv", byte_size: 2,
         license: CC0-1.0}
  - id: epsilon
    title: {vi: "Epsilon", en: "Epsilon"}
    description: {vi: "Mô tả.", en: "A description."}
    publisher: "P4"
    theme: [society]
    keywords: [z]
    license: ODbL-1.0
    frequency: annual
    access_rights: non-public
    issued: 2024-01-01
    temporal: {start: 2024-01-01}
    distributions:
      - {format: HTML, media_type: text/html, download_url: "http://h.example/e.html"}
"""

# The link checks of the hand-made catalogue: d.geojson was never checked.
HAND_LINKS = pl.DataFrame(
    {
        "url": [
            f"http://h.example/{n}" for n in ("a.csv", "a.pdf", "b.xlsx", "c", "c.json", "d.csv", "e.html")
        ],
        "status": ["ok", "broken", "unchanged", "ok", "broken", "ok", "ok"],
    }
)


@pytest.fixture
def hand(tmp_path: Path) -> metadata.Metadata:
    path = tmp_path / "datasets.yaml"
    path.write_text(HAND_CATALOG, encoding="utf-8")
    return metadata.from_catalog(load_catalog(path))


def test_hand_made_catalogue_total_computed_by_hand(hand: metadata.Metadata) -> None:
    # 5 datasets (A alpha … E epsilon), 7 distributions (A1 A2 B1 C1 D1 D2 E1).
    # Findability (datasets):   keywords A C D E 4/5×30 = 24; themes 5/5×30 = 30; spatial A C D 3/5×20 = 12;
    #                           temporal A D E 3/5×20 = 12                                      → 78
    # Accessibility (distrib.): D1's link was never checked: unknown, left out of both link populations.
    #   access URL answers A1 B1 C1(landing page) D2 E1 of the 6 known 5/6×50 = 41.666667;
    #   download URL present 7/7×20 = 20; answers A1 B1 D2 E1 of 6 known 4/6×30 = 20          → 81.666667
    # Interoperability (best distribution per dataset): A1 CSV (all five), B1 XLSX (proprietary),
    #   C1 JSON (no media type), D1 GeoJSON (all five; D2 ties, the first wins),
    #   E1 HTML (not machine-readable):
    #   format 5/5×20 = 20; media type A B D E 4/5×10 = 8; vocabulary 5/5×10 = 10;
    #   non-proprietary A C D E 4/5×20 = 16; machine-readable A B C D 4/5×20 = 16;
    #   DCAT-AP (title, description, access URLs) all but C 4/5×30 = 24                              →  94
    # Reusability: licence present (own or the dataset's) all but C1 ("unknown") 6/7×20 = 17.142857;
    #   from vocabulary (SPDX) A1 A2 D1 D2 E1 5/7×10 = 7.142857; access rights 5/5×10 = 10;
    #   from vocabulary 5/5×5 = 5; contact A C D 3/5×20 = 12; publisher 5/5×10 = 10         → 61.285714
    # Contextuality: rights (own licence) A1 D1 D2 3/7×5 = 2.142857;
    #   byte size A1 B1 C1 D1 D2 5/7×5 = 3.571429; issued A B D E 4/5×5 = 4; modified A C D 3/5×5 = 3
    #                                                                                        → 12.714286
    # Total 78 + 81.666667 + 94 + 61.285714 + 12.714286 = 327.666667 → 327.67, band good.
    # (Before "unknown is not zero", D1 counted as failing both: 318.86.)
    table = mqa.catalogue_indicators(hand, HAND_LINKS)
    total = table["exact"].sum()
    assert total == pytest.approx(327.67, abs=0.01)
    links_rows = table.filter(pl.col("indicator").is_in(["access_url_ok", "download_url_ok"]))
    assert links_rows.select("count", "population", "unknown").rows() == [(5, 6, 1), (4, 6, 1)]
    assert mqa.catalogue_score(hand, HAND_LINKS) == {
        "mqa_points": 327.67,
        "mqa_band": "good",
        "max_points": 405.0,
    }
    dims = table.group_by("dimension").agg(pl.col("exact").sum()).rows_by_key("dimension", unique=True)
    assert dims["findability"][0] == pytest.approx(78)
    assert dims["accessibility"][0] == pytest.approx(81.666667, abs=1e-5)
    assert dims["interoperability"][0] == pytest.approx(94)
    assert dims["reusability"][0] == pytest.approx(61.285714, abs=1e-5)
    assert dims["contextuality"][0] == pytest.approx(12.714286, abs=1e-5)
    # one dataset alone: alpha = 100 + (25 + 20 + 15) + 110 + 75 + (2.5 + 2.5 + 5 + 5) = 360 → excellent
    per = mqa.dataset_indicators(hand, HAND_LINKS).rows_by_key("id", named=True, unique=True)
    assert (per["alpha"]["mqa_points"], per["alpha"]["mqa_band"]) == (360.0, "excellent")
    assert per["gamma"]["dcat_ap_gaps"] == ["description"]


def test_udata_criteria_and_the_update_on_time_rule(hand: metadata.Metadata) -> None:
    # as of 2025-06-02: alpha (monthly, modified 2025-05-01) was due 2025-06-01: one day late is on time;
    # delta (weekly, 2025-05-20) was due 2025-05-27: late; beta is irregular: on time;
    # gamma's frequency is unknown: neither declared nor on time; epsilon (annual, issued 2024-01-01): late.
    u = udata.udata_criteria(hand, HAND_LINKS, as_of=date(2025, 6, 2)).rows_by_key(
        "id", named=True, unique=True
    )
    assert [u[i]["update_on_time"] for i in ("alpha", "beta", "gamma", "delta", "epsilon")] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert not u["gamma"]["update_frequency"] and u["beta"]["update_frequency"]
    # alpha fails only "all resources available" (a.pdf is broken): 8/9
    failed = [c for c in udata.CRITERIA if not u["alpha"][c]]
    assert failed == ["resources_available"] and u["alpha"]["udata_score"] == round(8 / 9, 4)
    # beta: short description, XLSX only (closed), not documented, no temporal or spatial coverage
    assert not u["beta"]["description"] and not u["beta"]["open_format"] and not u["beta"]["documentation"]
    assert u["beta"]["udata_score"] == round(4 / 9, 4)  # licence, frequency, on time, available
    # delta: d.geojson not checked, d.csv answers: judged on the known link, available
    assert u["delta"]["resources_available"]


def test_five_stars_with_the_licence_gate_and_broken_links(hand: metadata.Metadata) -> None:
    per = stars.distribution_stars(hand, HAND_LINKS)
    got = {
        (r["dataset_id"], r["position"]): (r["stars"], r["stars_reason"]) for r in per.iter_rows(named=True)
    }
    assert got[("alpha", 0)] == (3, "format")  # CSV, open licence
    assert got[("alpha", 1)] == (0, "broken")  # broken link
    assert got[("beta", 0)] == (2, "format")  # XLSX; the city's licence is open
    assert got[("gamma", 0)] == (0, "licence")  # "unknown" is not an open licence
    assert got[("delta", 0)] == (3, "format")  # GeoJSON
    assert got[("epsilon", 0)] == (0, "format")  # HTML
    best = stars.dataset_stars(hand, HAND_LINKS).rows_by_key("id", unique=True)
    assert best["alpha"][0] == 3 and best["gamma"][0] == 0


def test_vocabularies_extend_the_catalog_ones() -> None:
    formats = format_table().rows_by_key("format", named=True, unique=True)
    assert formats["CSV"]["media_type"] == "text/csv"  # from lab/vocab/vocabularies.yaml
    assert formats["RDF"]["stars"] == 5 and formats["XLSX"]["closed"]
    assert formats["XLSX"]["machine_readable"] and not formats["XLSX"]["non_proprietary"]
    assert not formats["PDF"]["machine_readable"]
    lic = licence_table().rows_by_key("license", named=True, unique=True)
    assert lic["danang-open-data"]["open"] and not lic["danang-open-data"]["in_vocabulary"]
    assert lic["CC-BY-4.0"]["in_vocabulary"] and not lic["GADM"]["open"]


def test_freshness_statuses() -> None:
    frame = pl.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "frequency": ["daily", "monthly", "continuous", None, "annual"],
            "modified": [date(2025, 6, 1), date(2025, 1, 1), None, date(2025, 1, 1), None],
            "issued": [None, None, None, None, None],
        },
        schema_overrides={"issued": pl.Date},
    )
    out = freshness(frame, as_of=date(2025, 6, 3)).rows_by_key("id", named=True, unique=True)
    assert out["a"]["status"] == "on_time"  # due 2025-06-02, one day ago
    assert (out["b"]["status"], out["b"]["days_late"]) == (
        "late",
        122,
    )  # due 2025-02-01: 28 + 31 + 30 + 31 + 2 days
    assert out["c"]["status"] == "not_scheduled"
    assert out["d"]["status"] == out["e"]["status"] == "unknown"


def test_scorecard_reasons_say_not_checked_and_name_each_lost_indicator(hand: metadata.Metadata) -> None:
    scores = score(hand, links=HAND_LINKS, as_of=date(2025, 6, 2), lang="en")
    delta = scores.dataset("delta")
    # one link unknown, the other answers: judged on the known one, nothing lost
    assert not {r["indicator"] for r in delta["reasons"]} & {"access_url_ok", "download_url_ok"}
    assert (delta["mqa_max_points"], delta["links_unknown"]) == (405.0, 1)
    gamma = {r["indicator"]: r["reason"] for r in scores.dataset("gamma")["reasons"]}
    assert gamma["dcat_ap"] == "not DCAT-AP compliant: no description"
    assert gamma["license_present"] == "no licence" and gamma["issued"] == "no date issued"
    lost = [r["points_lost"] for r in scores.dataset("gamma")["reasons"] if r["points_lost"] is not None]
    assert lost == sorted(lost, reverse=True)
    assert scores.catalogue["mqa_points"] == 327.67
    vi = score(hand, links=HAND_LINKS, as_of=date(2025, 6, 2), lang="vi").dataset("gamma")["reasons"]
    assert "thiếu giấy phép" in [r["reason"] for r in vi]


def test_quality_usage_joins_by_portal_id() -> None:
    from lab.quality.scorecard import quality_usage

    web = pl.DataFrame({"dataset_id": ["101"], "views": [1], "downloads": [1]})
    card = pl.DataFrame(
        {
            "id": ["alpha", "beta", "gamma"],
            "title": ["A", "B", "C"],
            "publisher": ["P", "P", "Q"],
            "quality": [0.9, 0.2, 0.5],
            "portal_id": ["101", None, None],
        }
    )
    joined = quality_usage(
        card, web.with_columns(api_calls=pl.lit(3)), pl.DataFrame({"dataset_id": ["beta"], "reuses": [2]})
    )
    got = {r["id"]: (r["usage"], r["reuses"]) for r in joined.iter_rows(named=True)}
    assert got == {"alpha": (5, 0), "beta": (0, 2), "gamma": (0, 0)}  # alpha is portal dataset 101


def test_unknown_is_not_zero_links_not_checked_lose_no_points_and_no_star(hand: metadata.Metadata) -> None:
    """Issue 20 part 4: a link not checked (or that could not be checked: ``unsure``) is unknown, never a
    failure: the MQA link indicators leave the denominator, the udata criterion leaves it, the stars stay,
    and the quality index is that of the same dataset with every link answering."""
    urls = [
        f"http://h.example/{n}" for n in ("a.csv", "a.pdf", "b.xlsx", "c", "c.json", "d.geojson", "d.csv")
    ]
    urls.append("http://h.example/e.html")
    answering = pl.DataFrame({"url": urls, "status": ["ok"] * len(urls)})
    offline = pl.DataFrame({"url": urls, "status": ["unsure"] * len(urls)})  # offline: DNS failed
    as_of = date(2025, 6, 2)
    known = score(hand, links=answering, as_of=as_of, lang="en")
    for links in (None, offline):  # never checked, and could not check
        unknown = score(hand, links=links if links is not None else answering.clear(), as_of=as_of, lang="en")
        for ds in ("alpha", "delta", "epsilon"):
            k, u = known.dataset(ds), unknown.dataset(ds)
            # 80 points (access 50 + download 30) leave the maximum, none are lost
            assert k["mqa_max_points"] == 405 and u["mqa_max_points"] == 325
            assert u["mqa_points"] == pytest.approx(k["mqa_points"] - 80)
            assert u["mqa_band"] == mqa.band(u["mqa_points"] / 325 * 405)
            assert u["stars"] == k["stars"]
            assert u["udata_resources_available"] is None and k["udata_resources_available"]
            assert u["udata_score"] == pytest.approx(round((k["udata_score"] * 9 - 1) / 8, 4), abs=1e-4)
            assert u["links_unknown"] > 0 and u["links_broken"] == 0
            lost = {
                r["indicator"]: r
                for r in u["reasons"]
                if r["indicator"] in ("access_url_ok", "download_url_ok")
            }
            assert {r["points_lost"] for r in lost.values()} == {None}
            assert lost["access_url_ok"]["reason"] == "access URL not checked: unknown, left out of the score"
        # alpha is excellent either way (360/405 known; 280/325 unknown): not "bad" for not being checked
        assert unknown.dataset("alpha")["mqa_band"] == known.dataset("alpha")["mqa_band"] == "excellent"
        cat = unknown.catalogue
        assert cat["max_points"] == 325 and cat["links_unknown"] == 8
        assert cat["mqa_points"] == pytest.approx(known.catalogue["mqa_points"] - 80, abs=0.02)
        table = unknown.indicators.filter(pl.col("indicator") == "access_url_ok").row(0, named=True)
        assert (table["points"], table["population"], table["unknown"]) == (None, 0, 7)
    # a broken link is known: it still costs its points and the stars
    broken = score(hand, links=answering.with_columns(status=pl.lit("broken")), as_of=as_of, lang="en")
    assert broken.dataset("alpha")["mqa_max_points"] == 405 and broken.dataset("alpha")["stars"] == 0
    assert broken.dataset("alpha")["mqa_points"] == pytest.approx(known.dataset("alpha")["mqa_points"] - 80)
