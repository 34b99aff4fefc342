"""The portal tracker, reuse explorer, city map and insights in a real Voilà on 127.0.0.1, driven in
headless Chromium: each loads, shows the library's figures, answers its filters and the language switch,
the map draws its layers, and no request leaves 127.0.0.1. Screenshots go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import Page, expect

from lab.charts import format_number
from lab.serve import voila_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LOAD = 240_000  # ms: a kernel start plus the app's first build, on a loaded 2-core machine
STEP = 60_000  # ms: a filter change


@pytest.fixture(scope="module")
def usage_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The usage store the tracker's kernels build (and the tests read to compute what they expect)."""
    return tmp_path_factory.mktemp("apps-usage") / "store"


@pytest.fixture(scope="module")
def apps_url(
    jupyter_env: dict[str, str],
    demo_portal: Path,
    usage_store: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """One Voilà server for this module, over the session's demo portal."""
    env = {**jupyter_env, "LAB_DEMO": str(demo_portal), "LAB_USAGE_STORE": str(usage_store)}
    log = tmp_path_factory.mktemp("voila-apps") / "voila.log"
    with voila_server(env, log, timeout=120, grace=30) as (url, _):
        yield url


@pytest.fixture
def artifacts(root: Path) -> Path:
    """Where screenshots go (git-ignored)."""
    folder = root / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def _card(page: Page, app: str, key: str):  # type: ignore[no-untyped-def]
    return page.locator(f".{app} [data-key='{key}'] .lab-card-value").first


def test_portal_tracker(apps_url: str, offline_page, kernel_env, usage_store: Path, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    from lab.catalog import load_catalog
    from lab.reuse.indicators import portal_listing
    from lab.usage.disclosure import window_sums
    from lab.usage.kpis import channel_mix, portal_totals

    page, outside = offline_page
    page.goto(f"{apps_url}/voila/render/portal-tracker.ipynb", timeout=LOAD)
    visits = _card(page, "lab-portal-tracker", "visits")
    expect(visits).to_be_visible(timeout=LOAD)
    totals = portal_totals(usage_store, min_count=0)
    months = totals["period"].to_list()
    start, end = months[-12], months[-1]
    # the window's totals as published: each total's safe periods inside the window (lab.usage.disclosure)
    window = {
        c: window_sums(totals.select("period", c), c, start, end, 5)[c].item()
        for c in ("visits", "api_calls")
    }
    assert window["visits"] > 0 and window["api_calls"] > 0  # the web log and the gateway are in
    expect(visits).to_have_text(format_number(window["visits"], "vi"))
    expect(_card(page, "lab-portal-tracker", "api_calls")).to_have_text(
        format_number(window["api_calls"], "vi")
    )
    expect(page.locator(".lab-portal-tracker .lab-gauge")).to_have_count(2)
    page.screenshot(path=artifacts / "portal-tracker.png", full_page=True)

    listing = portal_listing(load_catalog())
    agency = (
        listing.group_by("publisher")
        .len()
        .sort(["len", "publisher"], descending=[True, False])["publisher"][0]
    )
    n = listing.filter(pl.col("publisher") == agency).height
    page.locator(".lab-filter-agency select").select_option(label=agency)
    expect(page.locator(".lab-portal-tracker .lab-scope")).to_contain_text(
        f"{format_number(n, 'vi')} tập dữ liệu", timeout=STEP
    )

    mix = channel_mix(usage_store, by="month", min_count=0).filter(pl.col("channel") == "zalo")
    zalo = window_sums(mix.select("period", "requests"), "requests", start, end, 5)["requests"].item() or 0
    page.locator(".lab-filter-channel select").select_option(value=None, index=3)  # all, web, api, zalo
    card = _card(page, "lab-portal-tracker", "channel_requests_window")
    expect(card).to_have_text(format_number(zalo, "vi") if zalo else re.compile("ẩn"), timeout=STEP)

    page.get_by_text("English", exact=True).first.click()
    expect(page.locator(".lab-portal-tracker [data-key='visits']")).to_contain_text("Visits", timeout=STEP)
    expect(visits).to_have_text(format_number(window["visits"], "en"))
    assert outside == [], f"the app asked the internet for {outside}"


def test_reuse_explorer(apps_url: str, offline_page, kernel_env, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    from lab.apps.tracker_figures import quarter_of
    from lab.reuse.indicators import reuses_and_reusers
    from lab.reuse.report import ReuseReport
    from lab.reuse.targets import default_as_of
    from lab.reuse.vocab import label

    page, outside = offline_page
    page.goto(f"{apps_url}/voila/render/reuse-explorer.ipynb", timeout=LOAD)
    reuses = _card(page, "lab-reuse-explorer", "reuses")
    expect(reuses).to_be_visible(timeout=LOAD)
    report = ReuseReport.build(quarter_of(default_as_of()))
    row = reuses_and_reusers(report.valid, [report.end]).row(0, named=True)
    expect(reuses).to_have_text(str(row["reuses"]))
    expect(_card(page, "lab-reuse-explorer", "unique_reusers")).to_have_text(str(row["unique_reusers"]))
    expect(page.locator(".lab-reuse-explorer svg").first).to_be_visible()
    page.screenshot(path=artifacts / "reuse-explorer.png", full_page=True)

    kind = report.valid["type"].value_counts().sort(["count", "type"], descending=[True, False])["type"][0]
    typed = reuses_and_reusers(report.valid.filter(pl.col("type") == kind), [report.end]).row(0, named=True)
    page.locator(".lab-filter-type select").select_option(label=label("types", kind, "vi"))
    expect(reuses).to_have_text(str(typed["reuses"]), timeout=STEP)

    count = page.locator(".lab-reuse-explorer .lab-count")
    search = page.locator(".lab-filter-search input")
    search.fill("zzzz-không-có")
    search.press("Enter")
    expect(count).to_contain_text("0 sản phẩm", timeout=STEP)
    search.fill("")
    search.press("Enter")
    expect(count).to_contain_text(f"{typed['reuses']} sản phẩm", timeout=STEP)

    page.get_by_text("English", exact=True).first.click()
    expect(page.locator(".lab-reuse-explorer")).to_contain_text(
        "Products and the datasets they use", timeout=STEP
    )
    assert outside == [], f"the app asked the internet for {outside}"


def test_city_map(apps_url: str, offline_page, kernel_env, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    from lab.apps.tracker_figures import quarter_of
    from lab.geo.report import spatial_coverage
    from lab.reuse.targets import default_as_of

    page, outside = offline_page
    page.goto(f"{apps_url}/voila/render/city-map.ipynb", timeout=LOAD)
    total = _card(page, "lab-city-map", "total")
    expect(total).to_be_visible(timeout=LOAD)
    report = spatial_coverage(quarter_of(default_as_of()))
    counts = report.indicators.group_by("layer").agg(pl.col("count").sum())
    n = dict(counts.iter_rows())
    expect(total).to_have_text(format_number(n["sensors"], "vi"))
    leaflet = page.frame_locator("iframe.lab-map")
    shapes = leaflet.locator("path.leaflet-interactive")
    expect(shapes.first).to_be_attached(timeout=STEP)
    units = len(report.units)
    assert shapes.count() >= units + n["sensors"] - 5  # every unit's polygon and the (unclustered) sensors
    page.screenshot(path=artifacts / "city-map.png", full_page=True)

    page.locator(".lab-filter-layer select").select_option(value=None, index=2)  # sensors, cameras, schools
    expect(total).to_have_text(format_number(n["schools"], "vi"), timeout=STEP)
    expect(
        page.frame_locator("iframe.lab-map").locator(".marker-cluster, path.leaflet-interactive").first
    ).to_be_attached(timeout=STEP)
    page.locator(".lab-filter-measure select").select_option(index=3)  # coverage
    expect(page.frame_locator("iframe.lab-map").locator(".lab-legend")).to_contain_text("2 km", timeout=STEP)

    page.get_by_text("English", exact=True).first.click()
    expect(page.locator(".lab-city-map")).to_contain_text("Points in the layer", timeout=STEP)
    page.screenshot(path=artifacts / "city-map-en.png", full_page=True)
    assert outside == [], f"the app asked the internet for {outside}"


def test_insights(apps_url: str, offline_page, kernel_env, usage_store: Path, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    import re as _re

    from lab.apps.insights import Insights
    from lab.i18n import t

    expected = Insights(store=usage_store)  # the same views, computed in this process
    month = expected.months[-1]
    page, outside = offline_page
    page.goto(f"{apps_url}/voila/render/insights.ipynb", timeout=LOAD)
    observed = page.locator(".lab-insights .lab-insights-observed")
    expect(observed.locator("table").first).to_be_visible(timeout=LOAD)
    label = t("observed_status_observed_only", "vi")
    found = _re.search(rf"<td>{_re.escape(label)}</td><td>([^<]+)</td>", expected.body.value)
    assert found, expected.body.value[:500]
    expect(observed.locator("tr", has_text=label).first).to_contain_text(found.group(1))
    page.screenshot(path=artifacts / "insights.png", full_page=True)

    page.get_by_text(t("usage_open_title", "vi"), exact=True).first.click()
    published = page.locator(".lab-insights .lab-insights-published")
    expect(published).to_contain_text(f"--period {month}", timeout=STEP)
    expected.view.value = "published"
    visits = _re.search(r"<td>Lượt truy cập</td><td>([^<]+)</td>", expected.body.value)
    assert visits, expected.body.value[:500]
    expect(published.locator("tr", has_text="Lượt truy cập").first).to_contain_text(visits.group(1))

    page.locator(".lab-filter-month select").select_option(expected.months[-2])
    expect(published).to_contain_text(f"--period {expected.months[-2]}", timeout=STEP)
    page.get_by_text("English", exact=True).first.click()
    expect(page.locator(".lab-insights")).to_contain_text("Open data insights", timeout=STEP)
    expect(page.locator(".lab-insights .lab-insights-published")).to_contain_text("Visits", timeout=STEP)
    page.get_by_text("Freshness by HDX's aging table", exact=True).first.click()
    expect(page.locator(".lab-insights .lab-insights-freshness")).to_contain_text("Delinquent", timeout=STEP)
    page.screenshot(path=artifacts / "insights-en.png", full_page=True)
    assert outside == [], f"the app asked the internet for {outside}"
