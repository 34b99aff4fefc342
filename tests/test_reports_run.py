"""Reports run for real: papermill on a real kernel over the generated demo portal, HTML without code,
offline-safe, and a failing run never replaces the last good report."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from lab import reports
from lab.errors import ReportError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lab import demo as demo_portal

    out = tmp_path_factory.mktemp("demo") / "portal"
    demo_portal.generate(out, scale=0.002, seed=7)
    return out


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, demo: Path, jupyter_env: dict[str, str]) -> None:
    for key in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTER_PLATFORM_DIRS"):
        monkeypatch.setenv(key, jupyter_env[key])
    monkeypatch.setenv("LAB_DEMO", str(demo))


def test_catalog_overview_renders_in_both_languages(env: None, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    results = reports.run(names=["catalog-overview"], period="2026-10", out=out)
    assert [(r.language, r.ok) for r in results] == [("vi", True), ("en", True)], [
        r.summary() for r in results
    ]
    vi = (out / "2026-10" / "catalog-overview.vi.html").read_text(encoding="utf-8")
    en = (out / "2026-10" / "catalog-overview.en.html").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", vi)
    assert "Tổng quan danh mục dữ liệu · 2026-10" in vi and "Số tập dữ liệu theo cơ quan" in vi
    assert "Catalog overview · 2026-10" in en and "Datasets by agency" in en
    assert "Dữ liệu mẫu (tổng hợp)" in vi and "Demo data (synthetic)" in en
    assert "<svg" in vi and "lab.load(" not in vi  # charts inline, code hidden
    # offline: no script, stylesheet or image is loaded from anywhere
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"https?://", vi)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "2026-10/catalog-overview.vi.html" in index and "2026-10/catalog-overview.en.html" in index
    log = [json.loads(line) for line in (out / "runs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [entry["ok"] for entry in log] == [True, True]


def _failing_schedule(tmp_path: Path, root: Path) -> Path:
    nb = json.loads((root / "notebooks/reports/catalog-overview.ipynb").read_text(encoding="utf-8"))
    nb["cells"].insert(
        3,
        {
            "cell_type": "code",
            "id": "boom",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "raise RuntimeError('the portal export is missing')",
        },
    )
    nb_path = tmp_path / "broken.ipynb"
    nb_path.write_text(json.dumps(nb), encoding="utf-8")
    schedule = tmp_path / "reports.yaml"
    schedule.write_text(
        yaml.safe_dump(
            {
                "reports": [
                    {
                        "name": "catalog-overview",
                        "notebook": str(nb_path),
                        "cadence": "monthly",
                        "languages": ["vi"],
                        "parameters": {"catalog": str(root / "datasets.yaml")},
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    return schedule


def test_a_failed_run_keeps_the_last_good_report(env: None, tmp_path: Path, root: Path) -> None:
    out = tmp_path / "reports"
    good = out / "2026-10" / "catalog-overview.vi.html"
    good.parent.mkdir(parents=True)
    good.write_text("<html>last good report</html>", encoding="utf-8")
    (result,) = reports.run(period="2026-10", out=out, schedule_path=_failing_schedule(tmp_path, root))
    assert not result.ok
    assert result.failed_cell == 3 and "RuntimeError: the portal export is missing" in result.error
    assert good.read_text(encoding="utf-8") == "<html>last good report</html>"
    assert not list(out.rglob("*.part"))
    entry = json.loads((out / "runs.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert entry["ok"] is False and entry["failed_cell"] == 3


def test_bad_parameters_fail_before_any_kernel(tmp_path: Path, root: Path) -> None:
    schedule = tmp_path / "reports.yaml"
    schedule.write_text(
        yaml.safe_dump(
            {
                "reports": [
                    {
                        "name": "catalog-overview",
                        "notebook": str(root / "notebooks/reports/catalog-overview.ipynb"),
                        "cadence": "monthly",
                        "parameters": {"top": "twelve", "colour": "red"},
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ReportError, match=r"unknown parameter 'colour'.*'top' must be int"):
        reports.run(out=tmp_path / "r", schedule_path=schedule)


@pytest.mark.browser
def test_rendered_report_shows_in_chromium_offline(env: None, tmp_path: Path, page) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "reports"
    (result,) = reports.run(names=["catalog-overview"], period="2026-10", languages=["vi"], out=out)
    assert result.ok, result.summary()
    outside: list[str] = []
    page.route("http*://**", lambda route: (outside.append(route.request.url), route.abort()))
    page.goto(result.html.as_uri())
    heading = page.locator("h1").first
    assert heading.inner_text().startswith("Tổng quan danh mục dữ liệu")
    assert page.locator("svg").count() >= 3
    box = page.locator("svg").first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 50
    assert outside == []
