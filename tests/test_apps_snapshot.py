"""The portal tracker's app snapshot (lab/apps/snapshot.py): computed once, read by every kernel, rebuilt
when the store changes, and a visitor never sees figures older than the store they came from."""

from __future__ import annotations

import os
import re
from pathlib import Path

import polars as pl
import pytest

from lab.apps import snapshot
from lab.usage.privacy import DEFAULT_MIN_COUNT as MC

pytestmark = pytest.mark.slow  # ingests the demo portal's logs (a few seconds)


def _more_visits(demo_portal: Path, tmp_path: Path) -> Path:
    """More web traffic in the demo's own log layout: the demo's last 400 lines (synthetic), from other
    client addresses (TEST-NET-3), so they are new visits whatever the deduplication."""
    lines = (demo_portal / "logs" / "web" / "access.log").read_text(encoding="utf-8").splitlines()[-400:]
    more = [re.sub(r"^\S+", lambda m: "203.0.113." + m.group(0).rsplit(".", 1)[-1], line) for line in lines]
    path = tmp_path / "more-access.log"
    path.write_text("\n".join(more) + "\n", encoding="utf-8")
    return path


def _ingest_more(demo_portal: Path, store: Path, tmp_path: Path) -> None:
    from lab.usage import ingest

    (result,) = ingest(_more_visits(demo_portal, tmp_path), "combined", store=store, synthetic=True)
    assert result.events_kept > 0


def test_a_snapshot_is_built_once_and_read_by_the_next_kernel(app_store: Path) -> None:
    first = snapshot.current()
    assert first.folder.parent == snapshot.snapshots_dir() and (first.folder / "meta.json").is_file()
    assert first.totals.height > 0 and first.facts.height > 0 and set(first.gauges) == {"vi", "en"}
    assert first.inputs, "the files read through the catalog are recorded with their sha256"
    assert not [p for p in first.folder.parent.iterdir() if p.name.startswith(".")]  # no half-written one
    mtime = (first.folder / "totals.parquet").stat().st_mtime_ns
    again = snapshot.current()
    assert again.folder == first.folder and (again.folder / "totals.parquet").stat().st_mtime_ns == mtime
    from lab.usage.kpis import portal_totals

    assert again.totals.equals(portal_totals(app_store, min_count=0))  # the app publishes safe periods of it


def test_the_snapshot_is_rebuilt_when_the_store_changes(
    app_store: Path, demo_portal: Path, tmp_path: Path
) -> None:
    from lab.usage.kpis import portal_totals

    before = snapshot.current()
    assert snapshot.is_current(before, MC)
    _ingest_more(demo_portal, app_store, tmp_path)
    assert not snapshot.is_current(before, MC)
    after = snapshot.current()
    assert after.key != before.key and after.folder != before.folder
    fresh = portal_totals(app_store, min_count=0)
    assert after.totals.equals(fresh)
    assert after.totals["visits"].sum() > before.totals["visits"].sum()


def test_a_snapshot_whose_listing_or_registry_changed_is_not_used(app_store: Path) -> None:
    import json

    snap = snapshot.current()
    meta_file = snap.folder / "meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    file = next(iter(meta["inputs"]))
    meta["inputs"][file] = "0" * 64  # as if that file (listing, registry, outcomes) had changed since
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    rebuilt = snapshot.current()
    assert rebuilt.inputs[file] != "0" * 64 and rebuilt.inputs == snapshot.read(rebuilt.folder).inputs


def test_a_visitor_never_sees_figures_older_than_the_store(
    app_store: Path, demo_portal: Path, tmp_path: Path
) -> None:
    """A kernel built before the store changed (a preheated one waiting in the pool): its next redraw
    (a filter change, or the page connecting) shows the new store's figures."""
    from lab.apps.portal_tracker import PortalTracker
    from lab.charts import format_number
    from lab.usage.kpis import portal_totals

    def shown_visits(app: PortalTracker) -> str:
        found = re.search(r"data-key='visits'.*?class='lab-card-value'[^>]*>([^<]*)<", app.cards.value)
        assert found
        return found.group(1)

    app = PortalTracker()
    months = app.months
    app.period.value = (months[0], months[-1])
    old = portal_totals(app_store, min_count=MC)["visits"].sum()
    assert shown_visits(app) == format_number(old, "vi")
    _ingest_more(demo_portal, app_store, tmp_path)
    new = portal_totals(app_store, min_count=MC)
    assert new["visits"].sum() != old
    app.channel.value = "web"  # any filter change redraws from a snapshot that matches the store
    window = new.filter(
        pl.col("period").is_between(pl.lit(app.filters()["start"]), pl.lit(app.filters()["end"]))
    )
    assert shown_visits(app) == format_number(window["visits"].sum(), "vi")
    assert app.snapshot.key == snapshot.input_key(app_store, app.snapshot.catalog, MC)
    assert os.environ["LAB_USAGE_STORE"] == str(app_store)


def test_the_compact_facts_give_every_figure_the_full_facts_give(app_store: Path) -> None:
    """The snapshot drops the zero months that are safe periods by themselves (issue 15: light kernels);
    every dataset figure and top list of the tracker is the same with or without them."""
    from lab.apps.tracker_figures import dataset_figures, top_viewed
    from lab.catalog import load_catalog
    from lab.reuse.indicators import portal_listing

    snap = snapshot.current()
    full = snapshot.dataset_facts(snap.store, MC)
    assert snap.facts.height < full.height / 2 and snap.facts.height > 0
    listing = portal_listing(load_catalog())
    agency = listing.group_by("publisher").len().sort("len", descending=True)["publisher"][0]
    selections = [None, listing.filter(pl.col("publisher") == agency)["dataset_id"].cast(pl.String).to_list()]
    months = snap.totals["period"].to_list()
    windows = [
        (months[-12], months[-1]),
        (months[0], months[-1]),
        (months[-3], months[-3]),
        (months[5], months[40]),
    ]
    for ids in selections:
        for start, end in windows:
            assert dataset_figures(snap.facts, ids, start, end, MC).equals(
                dataset_figures(full, ids, start, end, MC)
            ), (start, end)
            assert top_viewed(snap.facts, ids, start, end, MC).equals(top_viewed(full, ids, start, end, MC))


def test_the_first_paint_is_the_snapshots_default_view_drawn_without_polars(app_store: Path) -> None:
    """Issue 15 (light kernels): the snapshot keeps the default view in both languages, drawn by the very
    function that draws any other choice of filters; a visitor's kernel shows it without importing polars,
    and draws from the frames once a filter changes."""
    import json
    import subprocess
    import sys

    from lab.apps.portal_tracker import ALL, PortalTracker
    from lab.apps.tracker_view import PARTS, default_filters, tracker_view

    snap = snapshot.current()
    default = default_filters(snap.totals["period"].to_list())
    assert snap.front["default"] == default and default["start"] < default["end"]
    fresh = snapshot.read(snap.folder)  # drawn again from the frames, not from front.json
    for lang in ("vi", "en"):
        assert snap.front["views"][lang] == tracker_view(fresh, default, lang, MC)
        assert set(snap.front["views"][lang]) == set(PARTS) and all(snap.front["views"][lang].values())
    assert "Lượt truy cập" in snap.front["views"]["vi"]["cards"]

    code = (
        "import json, sys\n"
        "from lab.apps.portal_tracker import PortalTracker\n"
        "app = PortalTracker()\n"
        "print(json.dumps({'polars': 'polars' in sys.modules, 'cards': app.cards.value,"
        " 'datasets': app.datasets.value, 'themes': [o[0] for o in app.theme.options]}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["polars"] is False, "the first paint imported polars"
    assert seen["cards"] == snap.front["views"]["vi"]["cards"]
    assert seen["datasets"] == snap.front["views"]["vi"]["datasets"]
    assert (
        len(seen["themes"]) == len(snap.front["themes"]) + 1 and seen["themes"][1] != snap.front["themes"][0]
    )

    app = PortalTracker()
    agency = app.agencies[0]
    app.agency.value = agency
    chosen = {**default, "agency": agency}
    assert app.datasets.value == tracker_view(fresh, chosen, "vi", MC)["datasets"]
    assert app.datasets.value != snap.front["views"]["vi"]["datasets"]
    app.agency.value = ALL
    assert app.datasets.value == snap.front["views"]["vi"]["datasets"]
