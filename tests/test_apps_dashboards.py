"""The three public apps in process (no browser): their figures are the library's, filters narrow them,
forged widget values are ignored, the language switch translates."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.slow  # builds the apps over the demo portal (a few seconds each)


@pytest.fixture(scope="module")
def demo_env(demo_portal: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """LAB_DEMO on the session's demo portal and a usage store of this module, for every test here."""
    saved = {k: os.environ.get(k) for k in ("LAB_DEMO", "LAB_USAGE_STORE")}
    store = tmp_path_factory.mktemp("apps-store") / "store"
    os.environ["LAB_DEMO"] = str(demo_portal)
    os.environ["LAB_USAGE_STORE"] = str(store)
    yield store
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def tracker(demo_env: Path):  # type: ignore[no-untyped-def]
    from lab.apps.portal_tracker import PortalTracker

    return PortalTracker()


@pytest.fixture(scope="module")
def explorer(demo_env: Path):  # type: ignore[no-untyped-def]
    from lab.apps.reuse_explorer import ReuseExplorer

    return ReuseExplorer()


@pytest.fixture(scope="module")
def city(demo_env: Path):  # type: ignore[no-untyped-def]
    from lab.apps.city_map import CityMap

    return CityMap()


def _card(html: str, key: str) -> str:
    import re

    found = re.search(rf"data-key='{key}'.*?class='lab-card-value'[^>]*>([^<]*)<", html)
    assert found, f"no card {key}"
    return found.group(1)


def test_tracker_headline_is_the_library_sum_for_the_period(tracker, demo_env: Path) -> None:  # type: ignore[no-untyped-def]
    from lab.charts import format_number
    from lab.usage.kpis import portal_totals

    assert tracker.message.value == ""
    months = tracker.months
    tracker.period.value = (months[-6], months[-1])
    expected = portal_totals(demo_env, start=months[-6], end=months[-1])
    for key in ("visits", "api_calls"):
        total = expected[key].sum()
        assert total > 0
        assert _card(tracker.cards.value, key) == format_number(total, "vi")
    before = _card(tracker.cards.value, "visits")
    tracker.period.value = (months[-3], months[-1])
    assert _card(tracker.cards.value, "visits") != before


def test_tracker_agency_theme_and_channel_filters(tracker, demo_env: Path) -> None:  # type: ignore[no-untyped-def]
    from lab.charts import format_number
    from lab.usage.disclosure import window_sums
    from lab.usage.kpis import channel_mix, monthly_facts

    months = tracker.months
    start, end = months[0], months[-1]
    tracker.period.value = (start, end)
    listing = tracker.listing
    agency = listing.group_by("publisher").len().sort("len", descending=True)["publisher"][0]
    ids = listing.filter(pl.col("publisher") == agency)["dataset_id"].to_list()
    facts = monthly_facts(demo_env, min_count=0, imported=False).select(
        pl.col("month").dt.strftime("%Y-%m").alias("period"), "dataset_id", "metric", "value"
    )
    # published: each dataset's safe periods wholly inside the window (lab.usage.disclosure), summed
    per_dataset = window_sums(
        facts.filter(pl.col("metric") == "dataset_views"), "value", start, end, 5, by=["dataset_id"]
    )
    views = per_dataset.filter(pl.col("dataset_id").is_in(ids))["value"].sum()
    all_views = per_dataset["value"].sum()
    assert 0 < all_views <= facts.filter(pl.col("metric") == "dataset_views")["value"].sum()
    assert _card(tracker.datasets.value, "dataset_views") == format_number(all_views, "vi")
    tracker.agency.value = agency
    assert f">{format_number(len(ids), 'vi')} tập dữ liệu" in tracker.datasets.value.replace("'>", ">")
    assert _card(tracker.datasets.value, "dataset_views") == format_number(views, "vi")
    theme = listing.filter(pl.col("publisher") == agency)["theme"].drop_nulls()[0]
    tracker.theme.value = theme
    narrower = listing.filter((pl.col("publisher") == agency) & (pl.col("theme") == theme)).height
    assert f"{format_number(narrower, 'vi')} tập dữ liệu" in tracker.datasets.value
    tracker.agency.value = tracker.theme.value = "__all__"
    mix = channel_mix(demo_env, by="month", min_count=0).filter(pl.col("channel") == "zalo")
    zalo = window_sums(mix.select("period", "requests"), "requests", start, end, 5)["requests"].item()
    tracker.channel.value = "zalo"
    assert _card(tracker.channels.value, "channel_requests_window") == format_number(zalo, "vi")
    tracker.channel.value = "__all__"
    assert "channel_requests_window" not in tracker.channels.value


def test_tracker_targets_language_and_forged_values(tracker) -> None:  # type: ignore[no-untyped-def]
    from lab.reuse.targets import evaluate_targets

    results = {r["metric"]: r for r in evaluate_targets(catalog=tracker.catalog, as_of=tracker.reuse.end)}
    assert {"open_datasets", "datasets_reused"} <= set(results)
    assert f"/ {results['open_datasets']['target']:,}".replace(",", ".") in tracker.gauges.value
    tracker.language.value = "en"
    assert "Visits" in tracker.cards.value and "The city&#x27;s targets" in tracker.gauges.value
    tracker.agency.set_state({"index": None})  # a visitor may send anything over the widget channel
    assert tracker.filters()["agency"] is None
    assert tracker.message.value == ""
    tracker.language.value = "vi"


def test_explorer_figures_match_the_reuse_indicators(explorer) -> None:  # type: ignore[no-untyped-def]
    from lab.reuse.indicators import reuses_and_reusers
    from lab.reuse.report import ReuseReport

    assert explorer.message.value == ""
    quarter = explorer.quarters[-1]
    report = ReuseReport.build(quarter)
    row = reuses_and_reusers(report.valid, [report.end]).row(0, named=True)
    assert _card(explorer.cards.value, "reuses") == str(row["reuses"])
    assert _card(explorer.cards.value, "unique_reusers") == str(row["unique_reusers"])
    kind = report.valid["type"].value_counts().sort("count", descending=True)["type"][0]
    explorer.kind.value = kind
    typed = reuses_and_reusers(report.valid.filter(pl.col("type") == kind), [report.end]).row(0, named=True)
    assert _card(explorer.cards.value, "reuses") == str(typed["reuses"])
    explorer.kind.value = "__all__"


def test_explorer_search_quarter_and_privacy(explorer) -> None:  # type: ignore[no-untyped-def]
    from lab.reuse.lineage import lineage_table
    from lab.text import strip_accents, strip_accents_expr

    report = explorer.report
    valid = report.valid
    launched = valid.filter(pl.col("launched") <= report.end)
    word = launched["title"][0].split()[-1]
    explorer.query.value = word
    html = explorer.products.value
    links = lineage_table(launched, report.outcomes, report.listing, start=report.start, end=report.end)
    hay = strip_accents_expr(
        pl.concat_str(
            [pl.col("product"), pl.col("dataset_id"), pl.col("dataset_title").fill_null("")], separator=" "
        )
    ).str.to_lowercase()
    n = links.filter(hay.str.contains(strip_accents(word).lower(), literal=True))["reuse_id"].n_unique()
    assert n >= 1 and f"<b>{n} sản phẩm</b>" in html
    explorer.query.value = ""
    individuals = valid.filter(pl.col("owner_kind") == "individual")["owner"].drop_nulls().to_list()
    assert individuals and not any(name in explorer.products.value for name in individuals)
    before = explorer.cards.value
    explorer.quarter.value = explorer.quarters[0]
    assert explorer.cards.value != before and explorer.message.value == ""
    explorer.quarter.value = explorer.quarters[-1]
    explorer.language.value = "en"
    assert "Products and the datasets they use" in explorer.products.value
    explorer.language.value = "vi"


def test_city_map_layers_and_measures(city) -> None:  # type: ignore[no-untyped-def]
    from lab.charts import format_number

    assert city.message.value == ""
    ind = city.report.indicators
    for layer in ("sensors", "schools"):
        city.layer.value = layer
        assert _card(city.cards.value, "total") == format_number(
            ind.filter(pl.col("layer") == layer)["count"].sum(), "vi"
        )
    html = city.map.value
    assert html.startswith("<iframe") and "http://" not in html.replace("http://www.w3.org", "")
    first = city.map.value
    for measure in ("per_100km2", "coverage", "per_10k"):
        city.measure.value = measure
        assert city.message.value == "" and city.map.value != first
    city.measure.set_state({"index": None})
    assert city.filters()["measure"] == "count"
    city.language.value = "en"
    assert "Points in the layer" in city.cards.value
    city.language.value = "vi"


def test_city_map_keeps_the_maps_it_drew(city) -> None:  # type: ignore[no-untyped-def]
    """Issue 15 (a filter change ≤ 150 ms): going back to a layer shows the map drawn for it, the same
    bytes, without drawing again; a kernel keeps at most KEPT_MAPS of them, dropping the oldest."""
    from lab.apps.city_map import KEPT_MAPS

    city.measure.value = "count"
    city.layer.value = "schools"
    city._maps.clear()
    city.layer.value = "sensors"
    sensors = city.map.value
    city.layer.value = "schools"
    assert city.map.value != sensors
    kept = dict(city._maps)
    city.layer.value = "sensors"
    assert city.map.value == sensors and city._maps == kept  # read back, not drawn again
    keys = [
        (la, m, lang)
        for la in ("schools", "cameras")
        for m in ("per_100km2", "count")
        for lang in ("en", "vi")
    ]
    for layer, measure, lang in [*keys, ("hospitals", "count", "vi")]:
        city.map_html(layer, measure, lang, city.values(layer, measure))
    assert len(city._maps) == KEPT_MAPS and ("sensors", "count", "vi") not in city._maps
    assert ("hospitals", "count", "vi") in city._maps
