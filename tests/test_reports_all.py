"""Every scheduled report runs through papermill on the demo portal; its HTML has no code and asks no host."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab import reports

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, demo_portal: Path, jupyter_env: dict[str, str]):  # type: ignore[no-untyped-def]
    mp = pytest.MonkeyPatch()
    for key in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTER_PLATFORM_DIRS"):
        mp.setenv(key, jupyter_env[key])
    mp.setenv("LAB_DEMO", str(demo_portal))
    mp.setenv("LAB_USAGE_STORE", str(tmp_path_factory.mktemp("store")))
    out = tmp_path_factory.mktemp("reports")
    first = reports.run(out=out)
    second = reports.run(out=out)
    yield out, first, second
    mp.undo()


def test_every_report_runs_in_both_languages(published) -> None:  # type: ignore[no-untyped-def]
    _, first, _ = published
    schedule = reports.load_schedule()
    assert {r.report for r in first} == {r.name for r in schedule}
    failed = [r.summary() for r in first if r.status != "ok"]
    assert not failed, failed
    assert len(first) == sum(len(r.languages) for r in schedule)


def test_a_second_run_with_nothing_changed_is_skipped(published) -> None:  # type: ignore[no-untyped-def]
    _, first, second = published
    assert [r.status for r in second] == ["skipped"] * len(first)


def test_html_has_no_code_and_no_external_resource(published) -> None:  # type: ignore[no-untyped-def]
    _, first, _ = published
    for result in first:
        page = result.html.read_text(encoding="utf-8")
        assert "jp-InputArea" not in page and 'class="input_area"' not in page, result.html
        assert "import lab" not in page and "lab.load(" not in page, result.html
        assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"https?://", page), result.html


def test_reports_render_offline_in_chromium(published, offline_page) -> None:  # type: ignore[no-untyped-def]
    _, first, _ = published
    page, outside = offline_page
    for result in first:
        page.goto(result.html.as_uri(), wait_until="load")
        assert page.locator("h1").count() >= 1, result.html
    assert outside == [], outside
