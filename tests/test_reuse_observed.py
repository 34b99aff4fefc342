"""Observed versus declared reuse (issue 18 part 1). On the demo portal (synthetic) every planted undeclared
reuser (an API consumer key no registered reuse declares) is found as ``observed only``, and no declared
reuse whose application calls the API is reported as unobserved. On a small store built from log lines,
scheduled downloads by a non-browser agent are found per dataset and month, a browser's are not, and the
follow-up list holds no key or address."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from lab import usage
from lab.reuse import observed as ob
from lab.reuse.registry import REGISTRY_COLUMNS, read_registry

SECRET = "observed-test-secret-0123456789"


@pytest.fixture(scope="module")
def demo_store(demo_portal: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("LAB_DEMO", str(demo_portal))
    mp.setenv("LAB_USAGE_SECRET", SECRET)
    mp.setenv("LAB_CACHE", str(tmp_path_factory.mktemp("cache")))
    store = tmp_path_factory.mktemp("usage") / "store"
    usage.ingest_demo(store)
    mp.undo()
    return store


def test_every_planted_undeclared_reuser_is_observed_only(demo_portal: Path, demo_store: Path) -> None:
    truth = json.loads((demo_portal / "manifest.json").read_text(encoding="utf-8"))["truth"]["api"]
    planted = set(truth["undeclared_keys"])
    assert len(planted) >= 5
    registry = read_registry(demo_portal / "reuse" / "registry.csv")
    declared_keys = set(registry.frame["api_consumer"].drop_nulls())
    assert not planted & declared_keys

    result = ob.observed_reuse(demo_store, registry)
    pairs = result.pairs
    undeclared = pairs.filter(pl.col("reuse_ids").list.len() == 0)
    assert set(undeclared["app_id"]) == planted
    assert (undeclared["status"] == "observed only").all()
    follow = ob.follow_up(result)
    assert planted <= set(follow.filter(pl.col("kind") == "application")["app_id"])

    # every declared reuse whose application calls the API (answered with data) is observed
    gateway = pl.read_csv(demo_portal / "logs" / "api" / "gateway.csv", infer_schema=False)
    calling = set(
        gateway.filter((pl.col("status") == "200") & (pl.col("content_type") == "application/json"))[
            "consumer_key"
        ]
    )
    reuses = result.reuses.filter(pl.col("api_consumer").is_in(list(calling)))
    assert reuses.height > 0 and reuses["observed"].all()
    unobserved = result.reuses.filter(~pl.col("observed"))
    assert not set(unobserved["api_consumer"]) & calling
    # a (key, dataset) pair the registry declares is never 'observed only'; its dataset is 'declared'
    links = registry.frame.select("api_consumer", dataset_id="datasets").explode("dataset_id").drop_nulls()
    declared_pairs = pairs.join(
        links, left_on=["app_id", "dataset_id"], right_on=["api_consumer", "dataset_id"]
    )
    assert declared_pairs.height > 0 and (declared_pairs["status"] == "declared").all()
    statuses = result.datasets.filter(pl.col("dataset_id").is_in(declared_pairs["dataset_id"].implode()))
    assert (statuses["status"] == "declared").all()
    assert set(result.datasets["status"]) <= set(ob.DATASET_STATUSES)

    series, target = ob.target_both_ways(result, registry)
    assert (series["declared_or_observed"] >= series["declared"]).all()
    assert series["declared"].is_sorted() and series["declared_or_observed"].is_sorted()
    assert target["declared_or_observed"]["value"] >= target["declared"]["value"]


UA_SCRIPT = "python-requests/2.32.3"
UA_BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def download(ip: str, day: int, dataset: int, ua: str, month: str = "Jan") -> str:
    when = f"{day:02d}/{month}/2025:0{day % 10}:15:00 +0700"
    return f'{ip} - - [{when}] "GET /dulieuchitiet/{dataset}/download?format=csv HTTP/1.1" 200 900 "-" "{ua}"'


def registry_file(folder: Path) -> Path:
    row = {c: "" for c in REGISTRY_COLUMNS}
    row |= {
        "reuse_id": "R1",
        "title": "Bản đồ thử",
        "type": "application",
        "url": "https://example.org/app",
        "datasets": "103",
        "launched": "2024-06-01",
        "status": "live",
    }
    path = folder / "registry.csv"
    pl.DataFrame([row]).write_csv(path)
    return path


def test_scheduled_downloads_by_a_script_not_a_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_USAGE_SECRET", SECRET)
    lines = (
        [download("192.0.2.7", d, 101, UA_SCRIPT) for d in (3, 10, 17, 24, 31)]  # weekly: scheduled
        + [download("192.0.2.7", d, 101, UA_SCRIPT, "Feb") for d in (7, 14, 21, 28)]
        + [download("192.0.2.8", d, 102, UA_SCRIPT) for d in (5, 6)]  # two days: not scheduled
        + [download("192.0.2.9", d, 103, UA_BROWSER) for d in (2, 9, 16, 23, 30)]  # a person, weekly
    )
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = tmp_path / "store"
    usage.ingest(log, "combined", store=store)
    registry = read_registry(registry_file(tmp_path))

    result = ob.observed_reuse(store, registry, datasets=["101", "102", "103", "104"])
    assert result.downloads.rows() == [("101", "2025-01", 1, 5), ("101", "2025-02", 1, 4)]
    status = dict(result.datasets.select("dataset_id", "status").iter_rows())
    assert status == {
        "101": "observed only",
        "102": "neither",
        "103": "declared but never observed",
        "104": "neither",
    }
    follow = ob.follow_up(result)
    assert follow.select(
        "kind", "app_id", "dataset_id", "first_month", "last_month", "months", "volume", "agents"
    ).rows() == [("scheduled download", None, "101", "2025-01", "2025-02", 2, 9, 1)]
    out = ob.write_follow_up(result, tmp_path / "follow-up.csv")
    text = out.read_text(encoding="utf-8")
    assert "192.0.2" not in text and "python" not in text and "visitor" not in text
    # fewer days a month asked: 102 counts too
    looser = ob.observed_reuse(store, registry, rules=ob.ObservedRules(min_download_days=2))
    assert set(looser.downloads["dataset_id"]) == {"101", "102"}


def test_cli_observed(demo_portal: Path, demo_store: Path, tmp_path: Path) -> None:
    env = {**os.environ, "LAB_DEMO": str(demo_portal), "LAB_USAGE_SECRET": SECRET}
    cmd = [
        sys.executable,
        "-m",
        "lab",
        "reuse",
        "observed",
        "--registry",
        str(demo_portal / "reuse" / "registry.csv"),
    ]
    run = subprocess.run(
        [*cmd, "--store", str(demo_store), "--out", str(tmp_path / "f.csv"), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(out["datasets"]) == set(ob.DATASET_STATUSES) and out["datasets"]["neither"] > 0
    assert out["reuses_observed"] <= out["reuses_with_key"]
    assert {"declared", "declared_or_observed"} <= out["target"].keys()
    header = (tmp_path / "f.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "kind,app_id,app_declared,dataset_id,first_month,last_month,months,volume,agents"
    missing = subprocess.run(
        [*cmd, "--store", str(tmp_path / "none")], capture_output=True, text=True, env=env
    )
    assert (
        missing.returncode == 2 and "no usage store" in missing.stderr and "Traceback" not in missing.stderr
    )
