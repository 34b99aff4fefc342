"""The usage KPIs on a Dask cluster against one process, and a scaling simulation from measured costs.

Run by hand or by ``make bench`` (never by the tests; needs the extra ``lab[cluster]``)::

    .venv/bin/python bench/cluster.py                # scales 1 and 10 (≈5.9M and ≈59M events)
    .venv/bin/python bench/cluster.py --scales 1     # ≈5.9M events only
    .venv/bin/python bench/cluster.py --quick        # scale 0.1, a smoke run

For each scale a seeded synthetic event store is written (:func:`lab.usage.synthetic.generate_store`,
synthetic, one part per month). The KPI suite (:func:`lab.usage.kpis.kpi_suite`) is then computed

* ``single``: in one process, as a notebook does by default (nothing of Dask imported);
* ``cluster-1``, ``cluster-2``: on a ``LocalCluster`` of 1 and 2 worker processes (this machine has 2
  cores), the month partitions reduced on the workers (:mod:`lab.usage.cluster`),

each in a fresh process: wall time of the whole process, cluster start-up, the suite's time, the part
of it that stays on the client (the merge and the KPI functions over the merged partials: timed by a
second run of the suite on the cached partials), the time the month tasks took on the workers (task
stream), peak memory of the client and of each worker. Every frame of the three runs must be equal,
and ``lab usage kpis --json`` must print the same bytes with and without ``--workers 3`` (issue 16's
acceptance).

**Simulation.** From the measured cost of a month partition's reduction inside a task (the task phase
on 1 worker; the spread between months from timing each alone; the mean fitted linearly in events),
the per-task scheduler and transfer overhead (the task phase on 1 worker minus the tasks' own time,
per task) and the client's serial part (fitted linearly in events over the measured scales), the KPI
suite's wall time is simulated for 4–64 workers, the months dealt into tasks as
:class:`lab.usage.cluster.ClusterStore` deals them and the tasks placed longest first, at 590M events
(10× the city: 113 month partitions) and for 34 portals × 10 years (4,080 city-sized month
partitions). Efficiency is ``T(1) / (W × T(W))``. The targets of issue 16 are printed beside the
numbers; measured, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKERS = (1, 2)
SIM_WORKERS = (1, 4, 8, 16, 32, 64)
TARGETS = (
    "local cluster on 2 cores ≤ 1.25 × single-process wall at 59M events, peak memory per worker ≤ 1 GB; "
    "simulated efficiency ≥ 0.8 at 16 workers at 590M events"
)


# ------------------------------------------------------------------------------------ child process
def child(mode: str, store: str, out: str) -> None:
    """A fresh process: the KPI suite alone or on a local cluster of ``mode`` workers; facts to ``out``."""
    t0 = time.perf_counter()
    from lab.usage.kpis import kpi_suite

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    facts: dict = {}
    if mode == "single":
        t = time.perf_counter()
        frames = kpi_suite(store, min_count=0)
        facts["suite_s"] = time.perf_counter() - t
        facts["client_s"] = facts["suite_s"]
        # each month partition's reduction, as a task runs it: the costs the simulation deals out
        from lab.usage.cluster import month_partial
        from lab.usage.store import EventStore

        facts["month_s"] = []
        for f in EventStore(store).summary_files() or []:
            t = time.perf_counter()
            month_partial([str(f)])
            facts["month_s"].append(time.perf_counter() - t)
    else:
        from distributed import get_task_stream

        from lab.usage import cluster

        t = time.perf_counter()
        with cluster.connect(workers=int(mode)) as client:
            facts["startup_s"] = time.perf_counter() - t
            t = time.perf_counter()
            client.run(_warm)  # a cluster in service has imported polars and the lab long ago
            facts["warm_s"] = time.perf_counter() - t
            on = cluster.ClusterStore(store, client)
            with get_task_stream(client) as ts:
                t = time.perf_counter()
                frames = kpi_suite(on, min_count=0)
                facts["suite_s"] = time.perf_counter() - t
            t = time.perf_counter()
            kpi_suite(on, min_count=0)  # the partials are cached: what is left is the client's part
            facts["client_s"] = time.perf_counter() - t
            tasks = [
                sum(s["stop"] - s["start"] for s in rec["startstops"] if s["action"] == "compute")
                for rec in ts.data
            ]
            facts["task_s"] = tasks
            assert on._partials is not None
            facts["result_mb"] = on._partials[1].estimated_size() / 1e6
            facts["worker_peak_mb"] = sorted(
                v / 1e3
                for v in client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss).values()
            )
    for key, frame in frames.items():
        frame.write_parquet(folder / f"{key}.parquet")
    facts["client_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    facts["process_s"] = time.perf_counter() - t0
    (folder / "facts.json").write_text(json.dumps(facts), encoding="utf-8")


def _warm() -> None:
    """On each worker: import what a task needs (timed apart from the tasks)."""
    import lab.usage.cluster  # noqa: F401


LAUNCHER = """
import json, subprocess, sys, time
t = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
print(json.dumps({"code": code, "wall_s": time.perf_counter() - t}))
"""


def measure(mode: str, store: Path, out: Path) -> dict:
    """Run one mode in a fresh process (under a launcher: the wall time includes the interpreter)."""
    cmd = [sys.executable, "-c", LAUNCHER, sys.executable, __file__, "--child", mode, str(store), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    facts = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {"code": -1}
    if facts["code"] != 0:
        raise RuntimeError(f"{mode} failed: {proc.stderr[-2000:]}")
    return {**facts, **json.loads((out / "facts.json").read_text(encoding="utf-8"))}


def same_frames(a: Path, b: Path) -> list[str]:
    """The KPI frames that differ between two runs (empty: identical)."""
    import polars as pl

    names = sorted(p.name for p in a.glob("*.parquet"))
    assert names == sorted(p.name for p in b.glob("*.parquet")) and names
    return [n for n in names if not pl.read_parquet(a / n).equals(pl.read_parquet(b / n))]


def cli_bytes(store: Path) -> tuple[bool, float, float]:
    """``lab usage kpis --json`` with and without ``--workers 3``: same bytes? and each wall time."""
    lab = str(Path(sys.executable).with_name("lab"))
    outs, walls = [], []
    for extra in ([], ["--workers", "3"]):
        t = time.perf_counter()
        proc = subprocess.run(
            [lab, "usage", "kpis", "--json", "--store", str(store), *extra], capture_output=True, check=False
        )
        walls.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise RuntimeError(f"lab usage kpis {' '.join(extra)} failed: {proc.stderr.decode()[-1000:]}")
        outs.append(proc.stdout)
    return outs[0] == outs[1] and len(outs[0]) > 1000, walls[0], walls[1]


# ------------------------------------------------------------------------------------ simulation
def makespan(tasks: list[float], workers: int) -> float:
    """Longest-task-first list scheduling of ``tasks`` (seconds) on ``workers``: the last finish."""
    import heapq

    loads = [0.0] * workers
    for t in sorted(tasks, reverse=True):
        heapq.heapreplace(loads, loads[0] + t)
    return max(loads)


def simulate(months: list[float], overhead: float, serial: float, workers: int) -> float:
    """Wall time of the suite as :class:`lab.usage.cluster.ClusterStore` runs it: the month partitions
    dealt round-robin into ``TASKS_PER_WORKER × workers`` tasks, each costing its months plus the
    scheduler's overhead, spread over the workers; then the client's serial merge and KPIs."""
    from lab.usage.cluster import TASKS_PER_WORKER

    k = min(len(months), TASKS_PER_WORKER * workers)
    tasks = [sum(months[j::k]) + overhead for j in range(k)]
    return makespan(tasks, workers) + serial


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares line ``y = a + b·x`` (a line through the origin from a single point)."""
    if len(xs) == 1:
        return 0.0, ys[0] / xs[0]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return max(0.0, my - b * mx), b


def simulation(measured: list[dict]) -> None:
    """Print simulated wall times and efficiency for 4–64 workers at 590M events and 34 portals × 10 years."""
    events = [m["events"] for m in measured]
    serial_a, serial_b = fit(events, [m["runs"]["cluster-1"]["client_s"] for m in measured])
    ref = measured[-1]  # the largest measured scale: the spread of its per-month costs
    months = ref["runs"]["single"]["month_s"]
    n = len(months)
    # a month's cost inside a task (a task scans its months at once: cheaper than one by one), its mean
    # fitted linearly in the month's events over the measured scales; the spread from the one-by-one timings
    per_month = [sum(m["runs"]["cluster-1"]["task_s"]) / n for m in measured]
    task_a, task_b = fit([m["events"] / n for m in measured], per_month)
    spread = [t / (sum(months) / n) for t in months]
    one = ref["runs"]["cluster-1"]
    overhead = max(0.0, (one["suite_s"] - one["client_s"] - sum(one["task_s"])) / len(one["task_s"]))
    scales = ", ".join(f"{m['scale']:g}" for m in measured)
    print(
        f"\n== simulation, from scales {scales}: at scale {ref['scale']:g}, {n} month partitions of "
        f"{min(months) * 1e3:.1f}–{max(months) * 1e3:.1f} ms one by one; in a task, a month "
        f"{task_a * 1e3:.1f} ms + {task_b * 1e9:.1f} s per billion events of the month; scheduler and "
        f"transfer overhead {overhead * 1e3:.0f} ms a task; the client's serial part {serial_a:.2f} s + "
        f"{serial_b * 1e9:.1f} s per billion events"
    )
    city = ref["events"] / ref["scale"]  # the city's volume (scale 1)
    cases = {  # name: (events of a month partition, how many partitions)
        "590M events (10× the city at 59M, 113 months)": (100 * city / n, n),
        "34 portals × 10 years (each city-sized: 4,080 months)": (city / n, 34 * 120),
    }
    for name, (month_events, partitions) in cases.items():
        mean = task_a + task_b * month_events
        work = [mean * spread[i % n] for i in range(partitions)]
        total_events = month_events * partitions
        serial = serial_a + serial_b * total_events
        base = simulate(work, overhead, serial, 1)
        print(f"   {name}: {total_events / 1e9:.2f} billion events, serial part {serial:.1f} s")
        print(f"   {'workers':>8} {'wall (s)':>10} {'speed-up':>9} {'efficiency':>11}")
        for w in SIM_WORKERS:
            t = simulate(work, overhead, serial, w)
            print(f"   {w:>8} {t:>10.1f} {base / t:>9.2f} {base / (w * t):>11.2f}")
        share = serial / base
        print(
            f"   the client's serial part is {share:.0%} of one worker's wall: "
            f"speed-up bounded by {1 / share:.1f} (Amdahl)"
        )


# ---------------------------------------------------------------------------------------- the run
def bench_scale(scale: float, work: Path) -> dict:
    from lab.usage.synthetic import generate_store

    store = work / f"store-{scale:g}"
    t = time.perf_counter()
    ledger = generate_store(store, scale=scale, progress=False)
    events = ledger["files"][0]["events_kept"]
    months = len(ledger["files"][0]["parts"])
    print(
        f"\n== scale {scale:g}: {events:,} events in {months} month parts, "
        f"written in {time.perf_counter() - t:.1f} s"
    )
    runs, outs = {}, {}
    for mode in ("single", *(str(w) for w in WORKERS)):
        name = "single" if mode == "single" else f"cluster-{mode}"
        outs[name] = work / f"out-{scale:g}-{name}"
        runs[name] = measure(mode, store, outs[name])
    print(
        f"   {'run':<10} {'wall (s)':>9} {'start-up':>9} {'suite (s)':>10} {'client (s)':>11} "
        f"{'tasks (s)':>10} {'client MB':>10} {'worker MB':>14}"
    )
    for name, r in runs.items():
        workers = ", ".join(f"{m:.0f}" for m in r.get("worker_peak_mb", [])) or "—"
        start = r.get("startup_s", 0) + r.get("warm_s", 0)  # the cluster's start and its workers' imports
        print(
            f"   {name:<10} {r['wall_s']:>9.2f} {start:>9.2f} {r['suite_s']:>10.2f} "
            f"{r['client_s']:>11.2f} {sum(r.get('task_s', [])):>10.2f} {r['client_peak_mb']:>10.0f} "
            f"{workers:>14}"
        )
    differ = [
        f"{name}: {d}" for name in runs if name != "single" for d in same_frames(outs["single"], outs[name])
    ]
    print("   every KPI frame equal to the single process: " + ("yes" if not differ else f"NO {differ}"))
    same, w1, w2 = cli_bytes(store)
    print(
        f"   lab usage kpis --json vs --workers 3 --json: {'same bytes' if same else 'DIFFERENT BYTES'} "
        f"({w1:.2f} s vs {w2:.2f} s wall)"
    )
    single = runs["single"]
    for name in runs:
        if name != "single":
            r = runs[name]
            print(
                f"   {name}: wall {r['wall_s'] / single['wall_s']:.2f} × single; without the cluster's "
                f"start-up {(r['wall_s'] - r['startup_s'] - r['warm_s']) / single['wall_s']:.2f} ×; "
                f"suite {r['suite_s'] / single['suite_s']:.2f} ×; "
                f"peak per worker {max(r['worker_peak_mb']):.0f} MB"
            )
    shutil.rmtree(store, ignore_errors=True)
    return {"scale": scale, "events": events, "runs": runs, "agree": not differ and same}


def ingest_compare(work: Path, lines: int, files: int = 4) -> bool:
    """``lab usage ingest`` of a generated web log cut into ``files`` files: one process vs
    ``--workers 2`` (wall time, peak memory of the largest process); the two stores' ``kpis --json``
    must be the same bytes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_usage", ROOT / "bench" / "usage.py")
    assert spec is not None and spec.loader is not None
    bench_usage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_usage)
    os.environ.setdefault("LAB_USAGE_SECRET", "bench-secret-0123456789abcdef")
    log = bench_usage.make_log_inputs(work, lines)["combined"]
    rows = log.read_bytes().splitlines(keepends=True)
    size = len(rows) // files + 1
    inputs = []
    for i in range(files):
        f = work / f"access-{i}.log"
        f.write_bytes(b"".join(rows[i * size : (i + 1) * size]))
        inputs.append(str(f))
    lab = str(Path(sys.executable).with_name("lab"))
    print(f"\n== ingest: {len(rows):,} generated log lines (synthetic) in {files} files, combined format")
    walls, outs = {}, {}
    for name, extra in (("single", []), ("cluster-2", ["--workers", "2"])):
        store = work / f"ingest-{name}"
        cmd = [sys.executable, "-c", LAUNCHER_RSS, lab, "usage", "ingest", "--format", "combined"]
        cmd += ["--store", str(store), *extra, *inputs]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        facts = json.loads(proc.stdout.strip().splitlines()[-1])
        if facts["code"] != 0:
            raise RuntimeError(f"ingest {name} failed: {proc.stderr[-1000:]}")
        walls[name] = facts["wall_s"]
        kpis = subprocess.run([lab, "usage", "kpis", "--json", "--store", str(store)], capture_output=True)
        outs[name] = kpis.stdout
        print(
            f"   {name:<10} wall {facts['wall_s']:6.2f} s, {len(rows) / facts['wall_s']:>10,.0f} lines/s, "
            f"peak memory of the largest process {facts['maxrss_kb'] / 1e3:,.0f} MB"
        )
    same = outs["single"] == outs["cluster-2"] and b'"period"' in outs["single"]
    print(
        f"   cluster-2: {walls['cluster-2'] / walls['single']:.2f} × the single-process wall; "
        f"kpis --json of the two stores: {'same bytes' if same else 'DIFFERENT BYTES'}"
    )
    return same


LAUNCHER_RSS = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(json.dumps({"code": code, "wall_s": time.perf_counter() - t,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("MODE", "STORE", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--scales", default="1,10", help="comma-separated scales (default 1,10: 5.9M, 59M events)"
    )
    parser.add_argument("--quick", action="store_true", help="scale 0.1 and 200,000 log lines: a smoke run")
    parser.add_argument(
        "--ingest-lines", type=int, default=4_000_000, help="log lines of the ingest comparison"
    )
    parser.add_argument("--work", help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    scales = [0.1] if args.quick else [float(s) for s in args.scales.split(",")]
    work = Path(args.work or tempfile.mkdtemp(prefix="lab-bench-cluster-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench/cluster.py: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, scratch {work}")
    print(f"targets: {TARGETS}")
    try:
        measured = [bench_scale(s, work) for s in scales]
        simulation(measured)
        ingest_ok = ingest_compare(work, 200_000 if args.quick else args.ingest_lines)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if all(m["agree"] for m in measured) and ingest_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
