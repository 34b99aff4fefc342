"""A report is published as one unit (HTML, notebook, record), and a broken run log never stops later runs.

Issue 19, defect 10: a killed ``lab reports run`` could leave a new HTML beside an old .json/.ipynb, and
one partial line in ``reports/runs.jsonl`` made every later run fail. No kernel here: the publishing and
log functions are exercised directly, the kill is a fault injected at each rename.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date
from pathlib import Path

import pytest

from lab import reports

PERIOD = "2026-10"


def _schedule() -> list[reports.Report]:
    return [r for r in reports.load_schedule() if r.name == "catalog-overview"]


def _publish(out: Path, text: str, lang: str = "vi", tmp: Path | None = None) -> Path:
    executed = (tmp or out) / f"executed-{text}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    executed.write_text(json.dumps({"cells": [], "marker": text}), encoding="utf-8")
    target = out / PERIOD / f"catalog-overview.{lang}.html"
    reports.publish_unit(target, f"<html>{text}</html>", executed, {"report": "catalog-overview"})
    return target


def test_a_partial_line_in_the_run_log_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "reports"
    ok = reports.RunResult("catalog-overview", PERIOD, "vi", "ok")
    reports._append_log(out, ok)
    with open(out / "runs.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"at": "2026-11-01T00:00:00+00:00", "report": "catalog-ov')  # killed mid-write
    reports._append_log(out, reports.RunResult("catalog-overview", PERIOD, "en", "failed"))
    with caplog.at_level(logging.WARNING, logger="lab.reports"):
        entries = reports.read_log(out)
        reports.write_index(out, _schedule())  # what every `lab reports run` ends with
    assert [(e["language"], e["status"]) for e in entries] == [("vi", "ok"), ("en", "failed")]
    assert any("line 2" in r.getMessage() and "runs.jsonl" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("killed_at", [1, 2, 3])
def test_a_run_killed_while_publishing_leaves_no_mixed_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed_at: int
) -> None:
    out = tmp_path / "reports"
    target = _publish(out, "old", tmp=tmp_path)
    assert reports.unit_complete(out, PERIOD, "catalog-overview", "vi")
    real_replace = os.replace
    calls = []

    def dying_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(dst)
        if len(calls) == killed_at:
            raise KeyboardInterrupt  # the process is killed before this rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        _publish(out, "new", tmp=tmp_path)
    monkeypatch.setattr(os, "replace", real_replace)

    html = target.read_text(encoding="utf-8")
    complete = reports.unit_complete(out, PERIOD, "catalog-overview", "vi")
    assert not complete  # the old record was withdrawn before the first rename
    index = reports.write_index(out, _schedule()).read_text(encoding="utf-8")
    assert f'href="{PERIOD}/catalog-overview.vi.html"' not in index and "incomplete" in index, html
    due = reports.due_reports(_schedule(), out, as_of=date(2026, 11, 27))
    assert [r.name for r, _ in due] == ["catalog-overview"]  # --due runs it again
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]


def test_a_new_html_beside_an_old_record_is_not_trusted(tmp_path: Path) -> None:
    """The state an older runner left when killed between its three writes."""
    out = tmp_path / "reports"
    target = _publish(out, "old", tmp=tmp_path)
    target.write_text("<html>new</html>", encoding="utf-8")
    assert not reports.unit_complete(out, PERIOD, "catalog-overview", "vi")
    _publish(out, "new", tmp=tmp_path)
    assert reports.unit_complete(out, PERIOD, "catalog-overview", "vi")
    index = reports.write_index(out, _schedule()).read_text(encoding="utf-8")
    assert f'href="{PERIOD}/catalog-overview.vi.html"' in index
