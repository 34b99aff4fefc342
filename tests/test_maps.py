"""Offline maps: no CDN, inlined Leaflet, both languages, attribution, approximate geometry labelled."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import folium
import geopandas as gpd
import polars as pl
import pytest
import shapely
from folium.plugins import MarkerCluster

from lab import maps
from lab.maps import Map, both, leaflet_assets

EXTERNAL = re.compile(r"<(?:script|link|img|iframe)[^>]+(?:src|href)=[\"']?(?:https?:)?//", re.IGNORECASE)


@pytest.fixture
def units() -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {
            "ma_xa": ["20242", "20257"],
            "ten_xa": ["Phường Hải Châu", "Phường Hòa Cường"],
            "loai": ["Phường"] * 2,
        },
        geometry=[shapely.box(108.20, 16.04, 108.23, 16.08), shapely.box(108.20, 16.00, 108.23, 16.04)],
        crs="EPSG:4326",
    )
    gdf.attrs.update(approximate=True, synthetic=True, publisher="lab.demo (Voronoi)")
    return gdf


@pytest.fixture
def points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Trạm <A>", "Trạm B"]},
        geometry=[shapely.Point(108.21, 16.05), shapely.Point(108.22, 16.01)],
        crs="EPSG:4326",
    )


def test_the_vendored_leaflet_is_the_version_folium_pins() -> None:
    pinned = dict(folium.Map.default_js)["leaflet"]
    version = re.search(r"leaflet@([\d.]+)", pinned).group(1)  # type: ignore[union-attr]
    assert f"Leaflet {version}," in (maps.ASSETS / "leaflet.js").read_text(encoding="utf-8")
    cluster = dict(MarkerCluster.default_js)["markerclusterjs"]
    assert "/1.1.0/" in cluster and "1.1.0" in (maps.ASSETS / "README.md").read_text(encoding="utf-8")
    for licence in ("LICENSE", "markercluster/MIT-LICENCE.txt"):
        assert (maps.ASSETS / licence).is_file()
    assets = leaflet_assets()
    assert "data:image/png;base64," in assets["leaflet_css"] and "url(images/" not in assets["leaflet_css"]
    assert "sourceMappingURL" not in assets["leaflet_js"] and "</script" not in assets["leaflet_js"]


def test_a_map_page_loads_nothing_from_outside(units: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> None:
    values = pl.DataFrame({"unit_code": ["20242", "20257"], "v": [3.5, None]})
    m = Map(units, lang="vi").choropleth(values, "v", title=both("geo_sensors_per_km2"))
    m.points(points, name=both("geo_sensors"), label="name").coverage(
        shapely.box(108.2, 16.0, 108.21, 16.01), name="c"
    )
    page = m.to_html()
    assert m.default_js == [] and m.default_css == []
    assert not EXTERNAL.search(page), EXTERNAL.search(page)
    for host in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com", "bootstrapcdn.com"):
        assert host not in page
    assert "L.tileLayer(" not in page
    assert "Leaflet 1.9.3," in page and "markerClusterGroup" in page and "MarkerCluster" in page
    assert "Trạm &lt;A&gt;" in page and "Trạm <A>" not in page  # labels are escaped
    assert "lab-lang-" in page and "Tiếng Việt" in page and "English" in page
    # approximate geometry and demo data are said on the map, in both languages
    assert "Ranh giới gần đúng" in page and "Approximate boundaries" in page
    assert "Dữ liệu mẫu" in page and "lab.demo (Voronoi)" in page
    assert "Không có số liệu" in page  # the unit without a value is "no data" in the legend


def test_the_same_object_displays_as_an_iframe(units: gpd.GeoDataFrame) -> None:
    m = Map(units, lang="en", height=400).outline()
    shown = m._repr_html_()
    assert shown.startswith('<iframe class="lab-map"') and "height:400px" in shown
    assert not EXTERNAL.search(shown)
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', shown).group(1))  # type: ignore[union-attr]
    assert inner.startswith("<!DOCTYPE html>") and "Phường Hải Châu" in inner


def test_cdn_links_added_by_plugins_are_dropped(
    units: gpd.GeoDataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    m = Map(units).outline()
    MarkerCluster().add_to(m)  # folium's own plugin carries CDN links
    with caplog.at_level(logging.WARNING, logger="lab.maps"):
        page = m.to_html()
    assert not EXTERNAL.search(page)
    assert "dropping" in caplog.text


def test_tiles_only_when_configured(
    units: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert "L.tileLayer(" not in Map(units).to_html()
    monkeypatch.setenv("LAB_TILES", "http://127.0.0.1:8080/{z}/{x}/{y}.png")
    with pytest.raises(ValueError, match="attribution"):
        Map(units)
    monkeypatch.setenv("LAB_TILES_ATTRIBUTION", "© local tiles")
    m = Map(units)
    page = m.to_html()
    assert "L.tileLayer(" in page and "\\u00a9 local tiles" in page
    m.save(tmp_path / "map.html")
    assert (tmp_path / "map.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_real_units_without_flags_are_not_called_approximate(units: gpd.GeoDataFrame) -> None:
    units.attrs.update(approximate=False, synthetic=False, publisher="sapnhap.bando.com.vn")
    page = Map(units).outline().to_html()
    assert "Ranh giới gần đúng" not in page and "Dữ liệu mẫu" not in page
    assert "sapnhap.bando.com.vn" in page
    with pytest.raises(ValueError, match="language"):
        Map(units, lang="fr")


def test_units_with_zero_are_a_legend_class_of_their_own(units: gpd.GeoDataFrame) -> None:
    """Issue 20: the legend put wards with zero sensors in the "1–2" class; zero is its own class."""
    import re

    codes = units["ma_xa"].astype(str).tolist()[:2]
    values = pl.DataFrame({"unit_code": codes, "v": [0.0, 2.0]})
    page = Map(units, lang="vi").choropleth(values, "v", title="sensors", decimals=0).to_html()
    legend = page[page.index("<div class='lab-legend'>") :].replace("\\", "")
    swatches = re.findall(r"background:(#[0-9a-f]{6})'><\/i><span class=\"lab-vi\">([^<]*)", legend)
    labels = [label for _, label in swatches]
    assert labels == ["0", "2"], labels
    assert swatches[0][0] != swatches[1][0]  # zero and the others are told apart by colour
