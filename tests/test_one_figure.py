"""One number per fact (issue 20, part 1): each headline figure computed through every surface — the
report notebook's output (papermill), the public app's class, the CLI's ``--json`` — is the same, at one
evaluation date (the end of the data, or a stated one); a met target says the day it was met.

Before: the 1,000-dataset target had three projected dates (the report at its quarter's end, ``lab
targets`` at the data's end, the tracker app at the end of the current quarter, past the data, whose
empty months read as no growth); the met 50-dataset target read "dự kiến đạt / Đúng tiến độ"; the app's
new accounts summed months after hiding the small ones (1,066 against 1,100).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.slow  # builds the tracker app and runs a report notebook over the demo portal

END = date(2026, 10, 31)  # the demo portal's window end: the end of the data


@pytest.fixture(scope="module")
def demo_env(demo_portal: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    saved = {k: os.environ.get(k) for k in ("LAB_DEMO", "LAB_USAGE_STORE", "LAB_AS_OF")}
    store = tmp_path_factory.mktemp("one-figure") / "store"
    os.environ["LAB_DEMO"] = str(demo_portal)
    os.environ["LAB_USAGE_STORE"] = str(store)
    os.environ["LAB_AS_OF"] = "2027-02-20"  # "today", months past the end of the data
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


def _cli_targets(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict]:
    from lab.cli import main

    assert main(["targets", "--json", *args]) == 0
    return {r["id"]: r for r in json.loads(capsys.readouterr().out)}


def _gauge(html: str, metric: str) -> str:
    found = re.search(rf"data-metric='{metric}'.*?class='lab-gauge-value'>([^<]*)<", html)
    assert found, f"no gauge for {metric}"
    return found.group(1)


def test_targets_agree_between_the_app_and_the_cli_at_the_end_of_the_data(
    tracker, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    cli = _cli_targets(capsys)
    for r in cli.values():
        assert r["as_of"] == END.isoformat()  # not "today": never past the end of the data
    app = {r["id"]: r for r in tracker.reuse.targets}
    for key in ("value", "projected_date", "interval", "status", "reached_on", "as_of"):
        assert {i: r[key] for i, r in app.items()} == {i: r[key] for i, r in cli.items()}, key
    datasets, reused = cli["open-datasets-1000"], cli["datasets-reused-50"]
    shown = tracker.gauges.value
    assert datasets["projected_date"] in _gauge(shown, "open_datasets")
    if reused["status"] == "reached":  # met: the day it was met, never "dự kiến đạt" / "Đúng tiến độ"
        text = _gauge(shown, "datasets_reused")
        assert f"đã đạt ngày {reused['reached_on']}" in text and "dự kiến" not in text
        assert "Đúng tiến độ" not in shown.split("data-metric='datasets_reused'")[1].split("</div></div>")[0]


def test_the_quarterly_report_states_its_date_and_agrees_with_the_cli_on_it(
    demo_env: Path,
    tmp_path: Path,
    jupyter_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lab import reports

    for key in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTER_PLATFORM_DIRS"):
        monkeypatch.setenv(key, jupyter_env[key])
    out = tmp_path / "reports"
    [result] = reports.run(names=["reuse-outcomes"], period="2026-Q3", languages=["vi"], out=out)
    assert result.ok, result.summary()
    cells = json.loads((out / "2026-Q3" / "reuse-outcomes.vi.ipynb").read_text(encoding="utf-8"))["cells"]
    shown = "".join(
        "".join(o.get("data", {}).get("text/html", "")) for c in cells for o in c.get("outputs", [])
    )
    assert "Số liệu tính đến ngày 2026-09-30" in shown
    cli = _cli_targets(capsys, "--as-of", "2026-09-30")
    datasets, reused = cli["open-datasets-1000"], cli["datasets-reused-50"]
    assert datasets["projected_date"] and datasets["projected_date"] in shown
    assert f">{datasets['value']}<" in shown.replace(".", "")
    if reused["status"] == "reached":
        assert f"đã đạt ngày {reused['reached_on']}" in shown


def test_headline_usage_figures_are_one_definition(tracker, demo_env: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from lab.charts import format_number
    from lab.cli import main
    from lab.usage.disclosure import window_sums

    months = tracker.months
    tracker.period.value = (months[0], months[-1])
    assert main(["usage", "kpis", "--store", str(demo_env), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    raw = pl.DataFrame(records).select("period", "visits", "api_calls", "signups")
    manifest = json.loads((Path(os.environ["LAB_DEMO"]) / "manifest.json").read_text(encoding="utf-8"))
    for key in ("visits", "api_calls", "signups"):
        card = re.search(rf"data-key='{key}'.*?class='lab-card-value'[^>]*>([^<]*)<", tracker.cards.value)
        assert card
        # the app's window total is the library's: every safe period of the series inside the window
        expected = window_sums(tracker.totals.select("period", key), key, months[0], months[-1], 5)[
            key
        ].item()
        assert card.group(1) == format_number(expected, "vi")
        # the months the CLI publishes are whole periods of the same series: never more than the total
        assert raw[key].drop_nulls().sum() <= expected
        if not any(key in r["suppressed"] for r in records):  # nothing hidden: the very same number
            assert raw[key].sum() == expected
    # over the whole window, new accounts are every account the demo created (not the months left shown)
    signups = tracker.totals["signups"].sum()
    assert signups == manifest["totals"]["accounts"]
    last_run_pending = window_sums(
        tracker.totals.select("period", "signups"), "signups", months[0], months[-1], 5
    )
    assert last_run_pending["signups"].item() + 4 * last_run_pending["months_left_out"].item() >= signups
