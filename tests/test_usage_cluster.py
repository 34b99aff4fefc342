"""The usage store on a Dask cluster (issue 16): a real ``LocalCluster`` of worker processes on this
machine, the demo portal's logs split into several files, and every figure compared with one process.

What is proven here: the single-process path imports nothing of Dask; an ingest on 3 workers builds the
same store, event for event; every KPI of the suite is the same frame; ``lab usage kpis --workers 3
--json`` prints the same bytes as ``lab usage kpis --json``; a worker killed while it reads a file, or the
client killed in the middle of an ingest, leaves a store that a repeated run makes identical again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dask.distributed", reason="the cluster extra (lab[cluster]) is not installed")

from lab import usage
from lab.usage import cluster
from lab.usage.kpis import kpi_suite
from lab.usage.store import EventStore

SECRET = "cluster-test-secret-0123456789"
LAB = str(Path(sys.executable).with_name("lab"))


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return {**os.environ, "LAB_USAGE_SECRET": SECRET, "LAB_LOG_LEVEL": "WARNING"}


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_USAGE_SECRET", SECRET)


@pytest.fixture(scope="module")
def parts(demo_portal: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The demo's web log (synthetic) cut into 3 files of consecutive lines, as a rotated log is."""
    lines = (demo_portal / "logs" / "web" / "access.log").read_bytes().splitlines(keepends=True)
    out = tmp_path_factory.mktemp("rotated")
    third = len(lines) // 3 + 1
    files = []
    for i in range(3):
        f = out / f"access.log.{i}"
        f.write_bytes(b"".join(lines[i * third : (i + 1) * third]))
        files.append(f)
    return files


@pytest.fixture(scope="module")
def single(parts: list[Path], demo_portal: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store one process makes of the 3 files and the demo's API gateway export."""
    store = tmp_path_factory.mktemp("single") / "store"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_USAGE_SECRET", SECRET)
        usage.ingest(parts, "combined", store=store, progress=False)
        usage.ingest(demo_portal / "logs" / "api" / "gateway.csv", "gateway-csv", store=store, progress=False)
    return store


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with cluster.connect(workers=3) as c:
        yield c


def events(store: Path) -> Any:
    frame = EventStore(store).scan().collect()
    return frame.sort(frame.columns, nulls_last=True)


def assert_same_kpis(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].equals(b[name]), name
    assert a["totals"].height > 0 and a["top_dataset_views"].height > 0  # a real comparison, not of empties


def test_the_single_process_path_imports_nothing_of_dask(
    parts: list[Path], tmp_path: Path, env: dict
) -> None:
    code = (
        "import sys\n"
        "from lab.cli import main\n"
        "assert main(['usage', 'ingest', '--format', 'combined', '--store', sys.argv[2], sys.argv[1]]) == 0\n"
        "assert main(['usage', 'kpis', '--json', '--store', sys.argv[2]]) == 0\n"
        "assert main(['usage', 'top', '--json', '--store', sys.argv[2]]) == 0\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print('DASK', loaded, file=sys.stderr)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(parts[0]), str(tmp_path / "s")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "DASK []" in proc.stderr


def test_an_ingest_on_three_workers_builds_the_same_store(
    parts: list[Path], demo_portal: Path, single: Path, client: Any, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    results = usage.ingest(parts, "combined", store=store, progress=False, client=client)
    assert [r.status for r in results] == ["ingested"] * 3
    usage.ingest(demo_portal / "logs" / "api" / "gateway.csv", "gateway-csv", store=store, client=client)
    assert events(store).equals(events(single))
    assert [e["sha256"] for e in EventStore(store).entries()] == [
        e["sha256"] for e in EventStore(single).entries()
    ]
    # nothing of the workers' reading is left behind
    assert not list((store / ".staging").glob("*-read-*"))
    # every KPI of the suite, single process vs month rollups computed on the workers
    one = kpi_suite(single)
    assert_same_kpis(one, kpi_suite(cluster.ClusterStore(single, client)))
    assert_same_kpis(one, kpi_suite(cluster.ClusterStore(store, client)))
    window = {"start": "2025-01", "end": "2026-06", "n": 3}
    assert_same_kpis(kpi_suite(single, **window), kpi_suite(cluster.ClusterStore(store, client), **window))


def test_month_rollups_on_the_cluster_are_exact(single: Path, client: Any) -> None:
    """The rollups the tasks compute and the client merges are the single process's, frame by frame;
    the KPIs computed per range of datasets on the workers are the single process's."""
    plain = EventStore(single).rollups()
    on = cluster.ClusterStore(single, client)
    merged = on.rollups()
    assert plain is not None and merged is not None
    assert on.rollup_tasks > 1  # a real split of the months between tasks
    assert plain.keys() == merged.keys()
    for name, frame in plain.items():
        cols = frame.columns
        assert frame.sort(cols, nulls_last=True).equals(merged[name].sort(cols, nulls_last=True)), name
    assert plain["datasets"].height > 100 and plain["app_years"].height > 0
    # the datasets' series (fact table, top lists) cut into ranges of datasets, a task each
    frames = kpi_suite(on)
    assert on.series_tasks >= 4 * 2
    assert_same_kpis(kpi_suite(single), frames)


def run_lab(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LAB, *args], env=env, capture_output=True, text=True, timeout=600)


def test_kpis_on_three_workers_print_the_same_bytes(single: Path, env: dict[str, str]) -> None:
    one = run_lab("usage", "kpis", "--json", "--store", str(single), env=env)
    three = run_lab("usage", "kpis", "--workers", "3", "--json", "--store", str(single), env=env)
    assert one.returncode == 0 and three.returncode == 0, three.stderr[-2000:]
    assert one.stdout.count('"period"') > 12
    assert three.stdout == one.stdout
    top1 = run_lab("usage", "top", "--json", "--store", str(single), env=env)
    top2 = run_lab("usage", "top", "--workers", "2", "--json", "--store", str(single), env=env)
    assert top1.returncode == 0 and top2.stdout == top1.stdout and '"dataset_id"' in top1.stdout


def test_a_worker_killed_while_reading_changes_nothing(
    parts: list[Path], single: Path, client: Any, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    pids: dict[str, int] = client.run(os.getpid)
    killed: list[tuple[str, list[str]]] = []
    done = threading.Event()

    def killer() -> None:
        while not done.is_set():
            for worker, keys in client.processing().items():
                reading = [k for k in keys if "read_on_worker" in str(k)]
                if reading and worker in pids:
                    os.kill(pids[worker], signal.SIGKILL)
                    killed.append((worker, reading))
                    return
            time.sleep(0.005)

    t = threading.Thread(target=killer)
    t.start()
    try:
        results = usage.ingest(parts, "combined", store=store, progress=False, client=client)
    finally:
        done.set()
        t.join()
    assert killed, "no worker was caught reading: the test proved nothing"
    assert [r.status for r in results] == ["ingested"] * 3
    # the same figures as one process over the same files
    ref = tmp_path / "ref"
    usage.ingest(parts, "combined", store=ref, progress=False)
    assert events(store).equals(events(ref))
    assert_same_kpis(kpi_suite(ref), kpi_suite(cluster.ClusterStore(store, client)))
    # and again: nothing is added twice
    again = usage.ingest(parts, "combined", store=store, progress=False, client=client)
    assert {r.status for r in again} == {"already ingested"}
    assert events(store).equals(events(ref))


def test_a_killed_client_leaves_the_store_as_it_was(
    parts: list[Path], tmp_path: Path, env: dict[str, str]
) -> None:
    store = tmp_path / "store"
    proc = subprocess.Popen(
        [
            LAB,
            "usage",
            "ingest",
            "--workers",
            "2",
            "--format",
            "combined",
            "--store",
            str(store),
            *map(str, parts),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if list((store / ".staging").glob("*-read-*/raw")):  # the workers are reading
                break
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the ingest ended before it could be killed"
    # whatever was committed is whole; a repeated run (one process) completes it to the same store
    committed = EventStore(store).entries() if (store / "_ledger.json").exists() else []
    assert len(committed) < 3
    usage.ingest(parts, "combined", store=store, progress=False)
    ref = tmp_path / "ref"
    usage.ingest(parts, "combined", store=ref, progress=False)
    assert events(store).equals(events(ref))
    assert not [p for p in (store / ".staging").glob("*") if p.name != ".lock"]


@pytest.mark.parametrize("value", ["0", "-2"])
def test_workers_below_one_is_a_clear_error(single: Path, env: dict[str, str], value: str) -> None:
    proc = run_lab("usage", "kpis", "--workers", value, "--store", str(single), env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--workers must be 1 or more" in proc.stderr
    assert "Traceback" not in proc.stderr
