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


@pytest.fixture
def env(kernel_env: None) -> None:
    """Kernels run over the session's tiny demo portal (see conftest)."""


@pytest.fixture
def demo(demo_portal: Path) -> Path:
    return demo_portal


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
    # issue 20: the demo label once per page, in the page header, with the demo's scale stated plainly
    for page, words in (
        (vi, ("Dữ liệu mẫu", "tỉ lệ 0,2 %")),
        (en, ("Demo data", "at 0.2 % of the published")),
    ):
        assert page.count(words[0]) == 1 and words[1] in page, words
        assert page.index("lab-demo-banner") < page.index("<h1")
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


def test_provenance_footer_and_skipping_an_unchanged_run(env: None, tmp_path: Path, demo: Path) -> None:
    out = tmp_path / "reports"
    (first,) = reports.run(names=["catalog-overview"], period="2026-10", languages=["vi"], out=out)
    assert first.status == "ok"
    page = first.html.read_text(encoding="utf-8")
    record = json.loads((out / "2026-10" / "catalog-overview.vi.json").read_text(encoding="utf-8"))
    (used,) = [i for i in record["inputs"] if i["dataset"] == "portal-datasets"]
    assert used["sha256"][:12] in page and "portal-datasets" in page
    assert "top=12" in page and "lab 0.1.0" in page
    before = first.html.read_bytes()
    (second,) = reports.run(names=["catalog-overview"], period="2026-10", languages=["vi"], out=out)
    assert second.status == "skipped" and second.seconds < 5
    assert first.html.read_bytes() == before
    # an input that changes makes the report run again
    listing = demo / "catalog" / "portal_datasets.csv"
    original = listing.read_bytes()
    try:
        listing.write_bytes(original.replace(b"\n", b"\r\n", 1))
        (third,) = reports.run(names=["catalog-overview"], period="2026-10", languages=["vi"], out=out)
        assert third.status == "ok"
    finally:
        listing.write_bytes(original)
    (forced,) = reports.run(
        names=["catalog-overview"], period="2026-10", languages=["vi"], out=out, force=True
    )
    assert forced.status == "ok"


def test_failed_run_keeps_its_notebook_and_the_cli_exits_non_zero(
    env: None, tmp_path: Path, root: Path, jupyter_env: dict[str, str]
) -> None:
    import subprocess
    import sys

    out = tmp_path / "reports"
    schedule = _failing_schedule(tmp_path, root)
    (result,) = reports.run(period="2026-10", out=out, schedule_path=schedule)
    assert result.status == "failed" and result.html is None
    assert (out / "2026-10" / "failed" / "catalog-overview.vi.ipynb").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "failed" in index and "the portal export is missing" in index
    log = subprocess.run(
        [sys.executable, "-m", "lab", "reports", "log", "--failed", "--out", str(out)],
        capture_output=True,
        text=True,
        env=jupyter_env,
    )
    assert log.returncode == 0 and "cell 3: RuntimeError: the portal export is missing" in log.stdout


def test_due_reports_catch_up_once_per_period(env: None, tmp_path: Path) -> None:
    from datetime import date

    schedule = reports.load_schedule()
    out = tmp_path / "reports"
    due = reports.due_reports(schedule, out, as_of=date(2026, 11, 27))
    assert ("catalog-overview", "2026-10") in {(r.name, p.label) for r, p in due}
    executed = tmp_path / "executed.ipynb"
    executed.write_text('{"cells": []}', encoding="utf-8")
    for lang in ("vi", "en"):
        reports.publish_unit(out / "2026-10" / f"catalog-overview.{lang}.html", "<html></html>", executed, {})
    due = reports.due_reports(schedule, out, as_of=date(2026, 11, 27))
    assert "catalog-overview" not in {r.name for r, _ in due}


def test_killing_the_runner_leaves_the_old_report(
    env: None, tmp_path: Path, jupyter_env: dict[str, str]
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "reports"
    good = out / "2026-10" / "catalog-overview.vi.html"
    good.parent.mkdir(parents=True)
    good.write_text("<html>last good report</html>", encoding="utf-8")
    cmd = [sys.executable, "-m", "lab", "reports", "run", "catalog-overview", "--period", "2026-10"]
    cmd += ["--lang", "vi", "--out", str(out), "--force"]
    with subprocess.Popen(cmd, env={**os.environ}, start_new_session=True) as proc:
        time.sleep(4)  # the kernel is running the notebook now
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    text = good.read_text(encoding="utf-8")
    assert text == "<html>last good report</html>" or "Tổng quan danh mục dữ liệu" in text
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
