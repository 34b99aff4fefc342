"""The city's published figures beside the lab's counts (issue 20 part 2): lab.published and the
portal-usage report's "since launch" section, on the session's demo portal (synthetic)."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from lab import published
from lab.usage.kpis import portal_totals
from lab.usage.report import prepare_store, since_launch
from lab.usage.store import EventStore


@pytest.fixture
def store(demo_portal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EventStore:
    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    monkeypatch.setenv("LAB_USAGE_SECRET", "published-test-secret-0123456789")
    return prepare_store(tmp_path / "store")


def test_the_published_figures_are_the_citys() -> None:
    facts = published.published_facts()
    values = {k: f.value for k, f in facts.items()}
    assert values == {
        "visits": 4_680_000,
        "api_calls": 1_200_000,
        "accounts": 1_100,
        "datasets": 860,
        "channel_datasets": 55,
        "cameras": 40_000,
        "env_sensors": 120,
    }
    for f in facts.values():
        for lang in ("vi", "en"):
            assert f.label_in(lang) and unicodedata.is_normalized("NFC", f.label_in(lang))
    assert "4,68 triệu" in published.published_source("vi") and "4.68 million" in published.published_source(
        "en"
    )


def test_since_launch_counts_from_the_first_month(store: EventStore) -> None:
    counted = dict(published.since_launch(store, "2026-10", 0).iter_rows())
    totals = portal_totals(store, end="2026-10", min_count=0)
    assert counted["visits"] == totals["visits"].sum() > 0
    assert counted["api_calls"] == totals["api_calls"].sum() > 0
    assert counted["accounts"] == totals["signups"].sum() == 1_100  # the demo's sign-ups, all of them
    channel = (
        store.scan()
        .filter(pl.col("counted") & pl.col("channel").is_in(["zalo", "sms", "app"]))
        .select(pl.col("dataset_id").drop_nulls().n_unique())
        .collect()
        .item()
    )
    assert counted["channel_datasets"] == channel and 0 < channel <= 55
    # a window ending earlier counts less; with the safe-period rule the total is a sum of whole periods
    earlier = dict(published.since_launch(store, "2020-12", 5).iter_rows())
    assert 0 < earlier["visits"] < counted["visits"]


def test_datasets_sensors_and_cameras_in_the_data(demo_portal: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    got = dict(published.in_the_data(None, date(2026, 10, 31)).iter_rows())
    geo = demo_portal / "geo"
    cameras = pl.read_csv(geo / "cameras.csv", try_parse_dates=True)
    assert got["cameras"] == cameras.filter(pl.col("installed") <= date(2026, 10, 31)).height > 0
    assert got["env_sensors"] == pl.read_csv(geo / "sensors.csv").height
    listing = pl.read_csv(demo_portal / "catalog" / "portal_datasets.csv", try_parse_dates=True)
    assert got["datasets"] == listing.filter(pl.col("issued") <= date(2026, 10, 31)).height
    table = published.beside_published(pl.DataFrame({"fact": ["cameras"], "measured": [2000]}))
    assert table.row(0, named=True)["share"] == 5.0


def test_the_report_section_in_both_languages(store: EventStore) -> None:
    vi = str(since_launch(store, "2026-10", "vi"))
    en = str(since_launch(store, "2026-10", "en"))
    assert "Lượt truy cập từ khi ra mắt (2017)" in vi and "4.680.000" in vi and "40.000" in vi
    assert "Visits since launch (2017)" in en and "4,680,000" in en and "40,000" in en
    assert "cổng mô phỏng" in vi.lower() and "simulated portal" in en  # the demo says why shares are small
    assert "Nguồn số công bố" in vi and "Source of the published figures" in en


def test_the_reports_front_page_shows_the_published_figures(tmp_path: Path) -> None:
    from lab.reports import load_schedule, write_index

    page = write_index(tmp_path, load_schedule()).read_text(encoding="utf-8")
    assert "Số liệu cổng dữ liệu thành phố đã công bố" in page and "4.680.000" in page and "40.000" in page
    assert "portal-usage" not in page  # no report yet: nothing to compare with, no dead link
    linked = published.front_page_html(
        {"vi": "2026-10/portal-usage.vi.html", "en": "2026-10/portal-usage.en.html"}
    )
    assert linked.index('href="2026-10/portal-usage.vi.html"') < linked.index(
        'href="2026-10/portal-usage.en.html"'
    )
