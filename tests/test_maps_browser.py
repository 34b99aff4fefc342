"""Maps drawn by a real headless Chromium with the internet cut off: an HTML file, a report, a Voilà app.

Every request that does not go to 127.0.0.1 (or stay in the page: file, data, blob, about) is refused and
counted; the count must be 0 and Leaflet must have drawn the polygons.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _drawn(target: Page | Frame) -> dict[str, int]:
    return target.evaluate(
        """() => ({
            leaflet: typeof L === "object" ? 1 : 0,
            paths: document.querySelectorAll("path.leaflet-interactive").length,
            clusters: document.querySelectorAll(".marker-cluster").length,
        })"""
    )


def _map_frame(page: Page) -> Frame:
    page.wait_for_selector("iframe.lab-map", timeout=120_000)
    frame = page.frame_locator("iframe.lab-map").first
    expect(frame.locator("path.leaflet-interactive").first).to_be_attached(timeout=60_000)
    handle = page.query_selector("iframe.lab-map")
    assert handle is not None
    content = handle.content_frame()
    assert content is not None
    return content


def test_map_file_renders_offline_and_switches_language(
    offline_page: tuple[Page, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_portal: Path
) -> None:
    import lab
    from lab import geo
    from lab.maps import Map, both

    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    units = geo.units_2025(approximate=True)
    sensors, cameras = lab.load("env-sensors"), lab.load("traffic-cameras")
    density = geo.indicators(units, {"sensors": sensors})
    m = Map(units, lang="vi").choropleth(density, "per_km2", title=both("geo_per_km2"))
    m.coverage(geo.coverage_area(sensors, 2_000), name=both("geo_coverage_layer", radius="2 km"))
    m.points(cameras, name=both("geo_cameras"), label="camera_id")
    target = tmp_path / "map.html"
    m.save(target)
    page, outside = offline_page
    page.goto(target.as_uri())
    expect(page.locator("path.leaflet-interactive").first).to_be_attached(timeout=30_000)
    drawn = _drawn(page)
    assert drawn["leaflet"] == 1 and drawn["paths"] >= len(units) and drawn["clusters"] > 0
    legend_vi = page.locator(".leaflet-control-layers .lab-vi", has_text="Camera")
    expect(legend_vi).to_be_visible()
    expect(page.get_by_text("Ranh giới gần đúng", exact=False)).to_be_visible()
    page.locator("[data-lab-switch=en]").click()
    expect(page.locator(".leaflet-control-layers .lab-en", has_text="Cameras")).to_be_visible()
    expect(legend_vi).to_be_hidden()
    expect(page.get_by_text("Approximate boundaries", exact=False)).to_be_visible()
    assert outside == [], f"the map asked the internet for {outside}"


def test_report_export_renders_the_map_offline(
    offline_page: tuple[Page, list[str]], kernel_env: None, tmp_path: Path
) -> None:
    from lab.periods import Period
    from lab.reports import load_schedule, run_report

    report = next(r for r in load_schedule() if r.name == "spatial-coverage")
    result = run_report(report, Period.parse("2026-Q3"), "en", tmp_path / "reports")
    assert result.ok, result.error
    page, outside = offline_page
    page.goto(Path(result.html).as_uri())  # type: ignore[arg-type]
    frame = _map_frame(page)
    drawn = _drawn(frame)
    assert drawn["leaflet"] == 1 and drawn["paths"] >= 94
    expect(page.get_by_text("Approximate boundaries", exact=False).first).to_be_visible()
    assert outside == [], f"the report asked the internet for {outside}"


@pytest.fixture
def voila_map(jupyter_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    from lab.serve import voila_server

    apps = tmp_path / "apps"
    apps.mkdir()
    source = (
        "import geopandas as gpd, shapely\n"
        "from lab.maps import Map\n"
        "names = {'ma_xa': ['1', '2', '3'], 'ten_xa': ['Phường Một', 'Phường Hai', 'Xã Ba']}\n"
        "boxes = [shapely.box(108.1 + i / 10, 16.0, 108.2 + i / 10, 16.1) for i in range(3)]\n"
        "units = gpd.GeoDataFrame(names, geometry=boxes, crs='EPSG:4326')\n"
        "units.attrs.update(approximate=True, synthetic=True, publisher='test')\n"
        "Map(units, lang='vi').outline()"
    )
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (apps / "map.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    with voila_server(jupyter_env, tmp_path / "voila.log", apps_dir=apps) as (url, _):
        yield f"{url}/voila/render/map.ipynb"


def test_the_same_map_renders_offline_in_voila(offline_page: tuple[Page, list[str]], voila_map: str) -> None:
    page, outside = offline_page
    page.goto(voila_map, timeout=120_000)
    frame = _map_frame(page)
    drawn = _drawn(frame)
    assert drawn["leaflet"] == 1 and drawn["paths"] == 3
    assert outside == [], f"the Voilà page asked the internet for {outside}"
