"""The portal-usage report runs for real (papermill, a real kernel) on the demo portal alone: it fills
its store from the demo's logs through the catalog, says the figures are synthetic, and renders
inline SVG charts in Vietnamese and English."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from lab import reports
from lab.periods import Period

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lab import demo as demo_portal

    out = tmp_path_factory.mktemp("demo") / "portal"
    demo_portal.generate(out, scale=0.002, seed=5)
    return out


def test_portal_usage_report_in_both_languages(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jupyter_env: dict[str, str]
) -> None:
    for key in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTER_PLATFORM_DIRS"):
        monkeypatch.setenv(key, jupyter_env[key])
    monkeypatch.setenv("LAB_DEMO", str(demo))
    monkeypatch.delenv("LAB_USAGE_SECRET", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # the secret file is made here
    store = tmp_path / "store"
    schedule = {r.name: r for r in reports.load_schedule()}
    report = schedule["portal-usage"]
    assert (report.cadence, report.due_day) == ("monthly", 1)
    out = tmp_path / "reports"
    period = Period.parse("2026-10")
    results = [
        reports.run_report(report, period, lang, out, extra={"store": str(store)}) for lang in ("vi", "en")
    ]
    assert [r.ok for r in results] == [True, True], [(r.error, r.failed_cell) for r in results]
    vi = (out / "2026-10" / "portal-usage.vi.html").read_text(encoding="utf-8")
    en = (out / "2026-10" / "portal-usage.en.html").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", vi)
    assert "Lượt truy cập và sử dụng cổng dữ liệu mở · 2026-10" in vi and "Lượt gọi API" in vi
    assert "Open data portal visits and usage · 2026-10" in en and "Most viewed datasets of the month" in en
    # the demo's usage is synthetic: said once, in the page header, with the demo's scale
    assert vi.count("Dữ liệu mẫu (tổng hợp)") == 1 and en.count("Demo data (synthetic)") == 1
    assert "lượt gọi API từ 2017-06 đến 2026-10" in vi and "API calls from 2017-06 to 2026-10" in en
    assert vi.count("<svg") >= 4 and "UsagePage.open(" not in vi  # charts inline, code hidden
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"https?://", vi)
    assert (
        tmp_path / "config" / "lab" / "usage-secret"
    ).is_file()  # secret made on first use, outside the store
    assert not list(store.rglob("*secret*"))
    import json

    record = json.loads((out / "2026-10" / "portal-usage.vi.json").read_text(encoding="utf-8"))
    assert {i["dataset"] for i in record["inputs"]} >= {
        "portal-web-logs",
        "portal-api-gateway",
        "portal-signups",
    }
