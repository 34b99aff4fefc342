"""The insights app (lab/apps/insights.py, issue 18 part 5): one view for each of observed reuse, freshness,
quality over time and usage as open data, the same HTML as the reports' sections, kept per input key and
recomputed when the store or a history changes (a visitor never sees a view older than its inputs)."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from lab.apps import insights
from lab.usage.privacy import DEFAULT_MIN_COUNT as MC

pytestmark = pytest.mark.slow  # ingests the demo portal's logs (a few seconds)


@pytest.fixture
def app(app_store: Path) -> insights.Insights:
    return insights.Insights()


def _cell(body: str, label: str) -> str:
    """The number in the table cell after the one holding ``label``."""
    found = re.search(rf"<td>{re.escape(label)}</td><td>([^<]*)</td>", body)
    assert found, f"{label!r} not in {body[:400]}"
    return found.group(1)


def test_months_end_with_the_default_period_inside_the_demo_window(app_store: Path) -> None:
    from lab.periods import default_period

    months = insights.months_offered()
    assert len(months) == insights.MONTHS and months == sorted(months)
    assert months[-1] == default_period("monthly").label


def test_each_view_is_the_reports_section_for_the_month(app: insights.Insights) -> None:
    from lab.reuse.observed_report import observed_html
    from lab.usage.publish_report import published_html

    month = app.months[-1]
    from lab.periods import Period

    last = Period.parse(month).end
    assert app.body.value.count("<table") >= 3  # statuses, the target both ways, the follow-up list
    assert str(observed_html(app.catalog, last, "vi", min_count=MC, store=app.store.path)) in app.body.value
    app.view.value = "published"
    assert str(published_html(app.store, month, "vi", MC)) in app.body.value
    app.language.value = "en"
    assert str(published_html(app.store, month, "en", MC)) in app.body.value
    assert "Usage as open data" in app.body.value and "Open data insights" in app.heading.value
    app.view.value = "freshness"
    for status in ("Fresh", "Due", "Overdue", "Delinquent"):
        assert f"<th>{status}</th>" in app.body.value
    app.view.value = "quality"
    assert "Quality over time" in app.body.value
    app.view.value = "observed"
    assert app.message.value == ""


def test_a_view_is_computed_once_then_read(app: insights.Insights, monkeypatch: pytest.MonkeyPatch) -> None:
    key = insights.insights_key(Path(app.store.path), app.catalog_file, MC)
    folder = insights.fragments_dir() / key
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"observed-{app.months[-1]}-vi.html"]
    calls: list[str] = []
    real = insights.compute
    monkeypatch.setattr(insights, "compute", lambda view, *a, **k: calls.append(view) or real(view, *a, **k))
    app.month.value = app.months[-2]
    app.month.value = app.months[-1]  # read from the folder
    app.month.value = app.months[-2]
    assert calls == ["observed"]
    assert not [p for p in folder.parent.rglob(".*")], "no half-written fragment is left behind"


def test_a_visitor_never_sees_a_view_older_than_the_store(
    app: insights.Insights, demo_portal: Path, tmp_path: Path
) -> None:
    from lab.usage import ingest

    app.view.value = "published"
    month = app.months[-1]
    before = _cell(app.body.value, "Lượt truy cập")
    key = insights.insights_key(Path(app.store.path), app.catalog_file, MC)
    # more visits in the month shown, in the demo's own layout (synthetic), from other addresses
    lines = (demo_portal / "logs" / "web" / "access.log").read_text(encoding="utf-8").splitlines()
    stamp = pl.Series([month]).str.strptime(pl.Date, "%Y-%m").dt.strftime("%b/%Y").item()
    in_month = [line for line in lines if f"/{stamp}:" in line][:300]
    assert in_month, f"the demo's log has no line in {month}"
    more = [re.sub(r"^\S+", lambda m: "198.51.100." + m.group(0).rsplit(".", 1)[-1], x) for x in in_month]
    extra = tmp_path / "more-access.log"
    extra.write_text("\n".join(more) + "\n", encoding="utf-8")
    (result,) = ingest(extra, "combined", store=app.store.path, synthetic=True)
    assert result.events_kept > 0
    assert insights.insights_key(Path(app.store.path), app.catalog_file, MC) != key
    app.language.value = "en"
    app.language.value = "vi"  # any redraw checks the key
    after = _cell(app.body.value, "Lượt truy cập")
    assert int(after.replace(".", "")) > int(before.replace(".", ""))


def test_the_quality_view_shows_the_demos_planted_changes_and_follows_the_history(
    app: insights.Insights, demo_portal: Path
) -> None:
    import json

    from lab.quality import history as qh

    truth = json.loads((demo_portal / "manifest.json").read_text(encoding="utf-8"))["truth"]
    app.view.value = "quality"
    month = app.months[-1]
    days = sorted(d for d in qh.read(qh.listing_path())["as_of"].unique().to_list() if f"{d:%Y-%m}" <= month)
    planted = truth["quality_changes"][f"{days[-2]}..{days[-1]}"]
    for dataset in planted["improved"] + planted["worsened"]:
        assert f"<td>{dataset}</td>" in app.body.value, dataset  # among the datasets that moved most
    before = app.body.value
    key = insights.insights_key(Path(app.store.path), app.catalog_file, MC)
    frame = qh.read(qh.listing_path()).filter(pl.col("as_of") == days[-1]).drop("as_of")
    qh.append_snapshot(frame.with_columns(mqa_points=pl.col("mqa_points") + 1), days[-1], qh.listing_path())
    assert insights.insights_key(Path(app.store.path), app.catalog_file, MC) != key
    app.language.value = "en"
    app.language.value = "vi"
    assert app.body.value != before


def test_forged_values_are_ignored(app: insights.Insights) -> None:
    first = app.body.value
    app.view.set_state({"index": None})  # a visitor may send anything over the widget channel
    app.month.set_state({"index": None})
    app.render()
    assert app.message.value == "" and app.body.value == first


def test_prepare_computes_the_default_month_in_both_languages(app_store: Path) -> None:
    assert insights.prepare() == len(insights.VIEWS) * 2
    (folder,) = [p for p in insights.fragments_dir().iterdir() if p.is_dir()]
    month = insights.months_offered()[-1]
    names = {p.name for p in folder.iterdir()}
    assert {f"published-{month}-vi.html", f"observed-{month}-en.html", f"quality-{month}-vi.html"} <= names
