"""Issue 18 part 5: the report sections for freshness with history, quality over time and observed versus
declared reuse, bilingual, on the demo portal (synthetic), and the two report notebooks that show them run
for real through papermill."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from lab import reports
from lab.catalog import load_catalog
from lab.quality import history as qh
from lab.quality import over_time
from lab.reuse.observed_report import observed_html

SECRET = "insights-report-secret-0123456789"


@pytest.fixture
def demo_env(demo_portal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    monkeypatch.setenv("LAB_USAGE_SECRET", SECRET)
    monkeypatch.setenv("LAB_USAGE_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("LAB_QUALITY_HISTORY", str(tmp_path / "quality.parquet"))
    monkeypatch.setenv("LAB_FRESHNESS_HISTORY", str(tmp_path / "freshness.parquet"))
    return demo_portal


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("vi", ["Mới", "Đến hạn", "Quá hạn", "Bỏ bê", "Toàn cổng"]),
        ("en", ["Fresh", "Due", "Delinquent", "Whole portal"]),
    ],
)
def test_freshness_and_quality_sections(demo_env: Path, lang: str, words: list[str]) -> None:
    from lab.loader import load
    from lab.quality.metadata import from_listing

    meta = from_listing(load("portal-datasets", catalog=load_catalog())).datasets
    page = str(over_time.freshness_html(meta, date(2026, 10, 31), lang))
    assert all(w in page for w in words)
    # no snapshot yet: one line says how to get one
    assert "lab quality score" in str(over_time.trend_html(lang))
    frame = pl.DataFrame(
        {"id": ["a", "b"], "title": ["A", "B"], "publisher": ["P", "P"], "mqa_points": [100.0, 200.0]}
    )
    qh.append_snapshot(frame, date(2026, 9, 30), None)
    qh.append_snapshot(frame.with_columns(pl.Series("mqa_points", [100.0, 230.0])), date(2026, 10, 31), None)
    trend = str(over_time.trend_html(lang))
    assert "2026-09-30" in trend and "2026-10-31" in trend
    movers = str(over_time.movers_html(lang))
    assert "<td>b</td>" in movers and "<td>a</td>" not in movers and "30.0" in movers.replace(",", ".")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_observed_reuse_section_shows_no_consumer_key(demo_env: Path, lang: str) -> None:
    page = str(observed_html("datasets.yaml", date(2026, 9, 30), lang, min_count=10))
    labels = {
        "vi": [
            "Chỉ quan sát được (cần liên hệ)",
            "Đã khai báo nhưng chưa quan sát được",
            "Ứng dụng chưa đăng ký",
        ],
        "en": ["Observed only (to follow up)", "Declared but never observed", "Unregistered application"],
    }[lang]
    assert all(w in page for w in labels)
    assert not re.search(r"app_[0-9a-f]{12}", page)  # applications by product title or pseudonym only


def test_report_notebooks_show_the_sections(
    demo_env: Path, jupyter_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTER_PLATFORM_DIRS"):
        monkeypatch.setenv(key, jupyter_env[key])
    snapshot = pl.DataFrame({"id": ["a"], "title": ["A"], "publisher": ["P"], "mqa_points": [100.0]})
    results = reports.run(
        ["dataset-quality", "reuse-outcomes"], period="2026-Q3", languages=["en"], out=tmp_path / "r"
    )
    results += reports.run(["portal-usage"], period="2026-09", languages=["en"], out=tmp_path / "r")
    assert [r.status for r in results] == ["ok", "ok", "ok"], [r.summary() for r in results]
    pages = {r.report: r.html.read_text(encoding="utf-8") for r in results}
    assert "Freshness by HDX" in pages["dataset-quality"] and "Quality over time" in pages["dataset-quality"]
    assert "Observed versus declared reuse" in pages["reuse-outcomes"]
    assert "The 50-reused target, counted both ways" in pages["reuse-outcomes"]
    assert (
        "Usage as open data" in pages["portal-usage"]
        and "lab usage publish --period 2026-09" in pages["portal-usage"]
    )
    # the histories and the store are inputs of the reports: a new snapshot makes the quality report run again
    import json

    made = json.loads(results[0].html.with_suffix(".json").read_text(encoding="utf-8"))["inputs"]
    assert "quality-history" in {i["dataset"] for i in made}
    again = reports.run(["dataset-quality"], period="2026-Q3", languages=["en"], out=tmp_path / "r")
    assert [r.status for r in again] == ["skipped"]
    qh.append_snapshot(snapshot, date(2026, 9, 30), qh.listing_path())  # the report shows the listing's
    rerun = reports.run(["dataset-quality"], period="2026-Q3", languages=["en"], out=tmp_path / "r")
    assert [r.status for r in rerun] == ["ok"]


@pytest.mark.parametrize(("lang", "word"), [("vi", "Lượt gọi API"), ("en", "API calls")])
def test_usage_as_open_data_section(demo_env: Path, lang: str, word: str) -> None:
    from lab.charts import format_number
    from lab.usage.publish import dataset_usage
    from lab.usage.publish_report import published_html
    from lab.usage.report import prepare_store

    st = prepare_store(None, "datasets.yaml")
    page = str(published_html(st, "2026-09", lang, 5))
    assert word in page and "lab usage publish --period 2026-09" in page
    rows = dataset_usage(st, "2026-09", 5).height
    assert rows > 0 and f" {format_number(rows, lang)} " in page
