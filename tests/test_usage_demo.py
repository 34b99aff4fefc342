"""The demo portal's logs, ingested through the catalog, against the generator's ground truth
(manifest ``truth``), and the ``lab usage`` commands run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from lab import usage

SECRET = "demo-test-secret-0123456789"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from lab import demo as demo_portal

    out = tmp_path_factory.mktemp("demo") / "portal"
    manifest = demo_portal.generate(out, scale=0.003, seed=11)
    return {"path": out, "manifest": manifest}


@pytest.fixture(scope="module")
def ingested(demo: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    mp = pytest.MonkeyPatch()
    mp.setenv("LAB_DEMO", str(demo["path"]))
    mp.setenv("LAB_USAGE_SECRET", SECRET)
    mp.setenv("LAB_CACHE", str(tmp_path_factory.mktemp("cache")))
    store = tmp_path_factory.mktemp("usage") / "store"
    results = usage.ingest_demo(store)
    started = time.perf_counter()
    again = usage.ingest_demo(store)
    seconds_again = time.perf_counter() - started
    mp.undo()
    return {"store": store, "results": results, "again": again, "seconds_again": seconds_again}


def test_demo_ingest_is_idempotent_and_through_the_catalog(ingested: dict, demo: dict) -> None:
    files = [Path(r.file) for r in ingested["results"]]
    assert [f.name for f in files] == ["access.log", "gateway.csv", "channels.csv", "signups.csv"]
    assert all(f.is_relative_to(demo["path"]) for f in files)  # read from $LAB_DEMO via the catalog
    assert all(r.lines_rejected == 0 for r in ingested["results"])
    assert [r.status for r in ingested["again"]] == ["already ingested"] * 4
    assert ingested["seconds_again"] < 10
    assert usage.is_synthetic(ingested["store"])


def test_web_log_matches_the_generators_truth(ingested: dict, demo: dict) -> None:
    truth = demo["manifest"]["truth"]["web"]
    ev = usage.EventStore(ingested["store"]).scan().filter(pl.col("channel") == "web").collect()
    web_log = next(r for r in ingested["results"] if r.format == "combined")
    assert web_log.lines_read == truth["log_lines"]
    human = ev.filter((pl.col("agent_class") == "human") & (pl.col("event") != "signup"))
    # every page request and download of people, whatever its answer, and nothing else (no AJAX, no posts)
    assert (
        human.filter(pl.col("event").is_in(["page_view", "search", "dataset_view"])).height
        == truth["page_views"]
    )
    assert human.filter(pl.col("event") == "download").height == truth["downloads"]
    assert (
        ev.filter(pl.col("agent_class") == "monitor").height == truth["monitor_lines"]
    )  # the UptimeRobot HEADs
    bots = ev.filter(pl.col("agent_class") == "bot")
    assert 0 < bots.height <= truth["bot_lines"] and not bots.get_column("counted").any()
    # visits: 30-minute sessions of people's requests by IP + User-Agent (two visits by the same IP and
    # browser less than 30 minutes apart are one visit: the count may only be a hair lower)
    sessions = human.get_column("session_id").n_unique()
    assert truth["visits"] * 0.995 <= sessions <= truth["visits"]


def test_api_gateway_matches_the_generators_truth(ingested: dict, demo: dict) -> None:
    truth = demo["manifest"]["truth"]["api"]
    api = usage.EventStore(ingested["store"]).scan().filter(pl.col("channel") == "api").collect()
    by_status = {str(k): v for k, v in api.group_by("status").len().sort("status").iter_rows()}
    assert by_status == truth["by_status"]
    # a 200 with an HTML page is the API refusing an expired account: never counted
    assert api.filter((pl.col("status") == 200) & ~pl.col("counted")).height == truth["html_200"]
    totals = usage.portal_totals(ingested["store"], min_count=0)
    assert totals.get_column("api_calls").sum() == truth["by_status"]["200"] - truth["html_200"]
    assert totals.get_column("signups").sum() == demo["manifest"]["totals"]["accounts"]


def _lab(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lab", "usage", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from lab.cli import main

    code = main(["usage", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_kpis_as_a_user_runs_it(ingested: dict) -> None:
    env = {**os.environ, "LAB_USAGE_SECRET": SECRET}
    store = str(ingested["store"])
    out = _lab(
        "kpis",
        "--store",
        store,
        "--from",
        "2026-08",
        "--to",
        "2026-10",
        "--min-count",
        "0",
        "--json",
        env=env,
    )
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    keys = [
        "period",
        "visits",
        "unique_visitors",
        "page_views",
        "dataset_views",
        "downloads",
        "api_calls",
        "signups",
        "active_accounts",
    ]
    assert [r["period"] for r in records] == ["2026-08", "2026-09", "2026-10"]
    assert all(list(r)[: len(keys)] == keys for r in records)
    expected = usage.portal_totals(store, start="2026-08", end="2026-10", min_count=0)
    assert [r["page_views"] for r in records] == expected.get_column("page_views").to_list()


def test_cli_by_day_top_ingest_and_errors(
    ingested: dict,
    demo: dict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAB_USAGE_SECRET", SECRET)
    store = str(ingested["store"])
    code, out, _ = _main(
        capsys, "kpis", "--store", store, "--from", "2026-10", "--to", "2026-10", "--by", "day", "--json"
    )
    by_day = json.loads(out)
    assert code == 0 and len(by_day) == 31 and by_day[0]["period"] == "2026-10-01"
    suppressed = [r for r in by_day if r["suppressed"]]
    assert suppressed and all(r[c] is None for r in suppressed for c in r["suppressed"])
    code, out, _ = _main(capsys, "top", "--store", store, "--metric", "downloads", "--n", "3", "--json")
    ranked = json.loads(out)
    assert code == 0 and [r["rank"] for r in ranked] == [1, 2, 3]
    assert ranked[0]["downloads"] >= ranked[1]["downloads"] >= ranked[2]["downloads"]
    log = demo["path"] / "logs" / "web" / "access.log"
    bad = tmp_path / "bad.log"
    head = log.read_text(encoding="utf-8")[:5000].rsplit("\n", 1)[0]
    bad.write_text(head + "\nnot a log line\n", encoding="utf-8")
    code, out, _ = _main(capsys, "ingest", "--format", "combined", str(bad), "--store", str(tmp_path / "s"))
    assert (
        code == 0 and "lines read" in out and "1 rejected" in out and "not in the combined log format" in out
    )
    code, _, err = _main(capsys, "kpis", "--store", store, "--from", "2026-10", "--to", "2026-01")
    assert code == 2 and err.count("\n") == 1 and "after" in err
    code, _, err = _main(capsys, "top", "--store", str(tmp_path / "nowhere"), "--json")
    assert code == 2 and "no usage store here" in err and err.count("\n") == 1


def test_a_demo_store_made_with_another_secret_is_rebuilt(
    ingested: dict, demo: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(ingested["store"], store)
    monkeypatch.setenv("LAB_DEMO", str(demo["path"]))
    monkeypatch.setenv("LAB_USAGE_SECRET", "a-new-secret-on-another-machine")
    results = usage.ingest_demo(store)
    assert [r.status for r in results] == ["ingested"] * 4
    before = usage.EventStore(ingested["store"]).scan().select(pl.len()).collect().item()
    assert usage.EventStore(store).scan().select(pl.len()).collect().item() == before


def test_kernels_finding_a_store_of_another_secret_at_once_rebuild_it_once(
    ingested: dict, demo: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Preheated kernels start together and each finds the old store (bench/apps.py once saw two of them
    remove it under each other: 'Directory not empty', then 'parts but no _ledger.json'). The store is
    emptied under its lock, once, and every kernel ends with the same whole store."""
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    store = tmp_path / "store"
    shutil.copytree(ingested["store"], store)
    monkeypatch.setenv("LAB_DEMO", str(demo["path"]))
    monkeypatch.setenv("LAB_USAGE_SECRET", "a-new-secret-on-another-machine")
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda _: usage.ingest_demo(store), range(3)))
    statuses = [r.status for results in runs for r in results]
    assert statuses.count("ingested") == 4, statuses  # each demo file counted once, whoever did it
    before = usage.EventStore(ingested["store"]).scan().select(pl.len()).collect().item()
    assert usage.EventStore(store).scan().select(pl.len()).collect().item() == before
