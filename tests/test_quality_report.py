"""The dataset-quality report runs for real (papermill, a kernel) over the demo portal, offline: link checks
come from the recorded history, which the report reads and never changes."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from lab import reports
from lab.quality import links

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lab import demo as demo_portal

    out = tmp_path_factory.mktemp("quality-report-demo") / "portal"
    demo_portal.generate(out, scale=0.002, seed=11)
    return out


def test_dataset_quality_report_in_both_languages_offline(
    demo: Path, jupyter_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTER_PLATFORM_DIRS"):
        monkeypatch.setenv(key, jupyter_env[key])
    monkeypatch.setenv("LAB_DEMO", str(demo))
    monkeypatch.setenv("LAB_OFFLINE", "1")
    history = tmp_path / "links.json"
    monkeypatch.setenv("LAB_LINK_HISTORY", str(history))
    # a recorded check of one of the portal's download links (as a run where the portal is reachable leaves)
    first = (demo / "catalog" / "portal_datasets.csv").read_text(encoding="utf-8").splitlines()[1]
    url = next(f for f in first.split(",") if "/download?format=" in f)
    at = "2026-10-02T03:00:00Z"
    broken = links.LinkResult(
        url,
        "broken",
        "request failed",
        404,
        "HTTP 404 Not Found",
        checked_at=at,
        first_failure=at,
        failure_count=1,
    )
    links.record_results([broken], history)
    before = history.read_bytes()

    out = tmp_path / "reports"
    results = reports.run(names=["dataset-quality"], period="2026-10", out=out)
    assert [(r.language, r.ok) for r in results] == [("vi", True), ("en", True)], [
        r.summary() for r in results
    ]
    vi = (out / "2026-10" / "dataset-quality.vi.html").read_text(encoding="utf-8")
    en = (out / "2026-10" / "dataset-quality.en.html").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", vi)
    assert "Chất lượng dữ liệu: đúng – đủ – sạch – sống · 2026-10" in vi
    assert "Bảng xếp hạng các cơ quan" in vi and "Chất lượng cao nhưng ít được dùng" in vi
    assert "thiếu giấy phép" in vi and "Dữ liệu mẫu (tổng hợp)" in vi
    assert "Agency league table" in en and "Much used, poor quality" in en and "Rank correlations" in en
    assert "no licence" in en and "Demo data (synthetic)" in en
    assert "<svg" in en and "QualityPage.open(" not in en  # charts inline, code hidden
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"https?://", en)
    # the recorded link check is shown (broken since 2026-10-02) and the history is left as it was
    assert url in en and "2026-10-02" in en and "request failed" in en
    assert history.read_bytes() == before
    log = [json.loads(line) for line in (out / "runs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [entry["ok"] for entry in log] == [True, True]
