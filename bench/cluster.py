"""The usage KPIs on a Dask cluster against one process, and a scaling simulation from measured costs.

Run by hand or by ``make bench`` (never by the tests; needs the extra ``lab[cluster]``)::

    .venv/bin/python bench/cluster.py                # scales 1 and 10 (≈5.9M and ≈59M events)
    .venv/bin/python bench/cluster.py --scales 1     # ≈5.9M events only
    .venv/bin/python bench/cluster.py --quick        # scale 0.1, a smoke run
    .venv/bin/python bench/cluster.py --scales 1,10,100 --stores /tmp/stores   # ≈590M too, stores kept

For each scale a seeded synthetic event store is written (:func:`lab.usage.synthetic.generate_store`,
synthetic, one part per month; ``--stores`` keeps and reuses them: scale 100 takes about half an hour
and 14 GB). The KPI suite (:func:`lab.usage.kpis.kpi_suite`, ``--min-count``, default 5 as ``lab usage
kpis`` publishes) is then computed

* ``single``: in one process, as a notebook does by default (nothing of Dask imported);
* ``cluster-1``, ``cluster-2``: on a ``LocalCluster`` of 1 and 2 worker processes (this machine has 2
  cores): the month rollups computed by tasks over runs of months, the datasets' series (the fact
  table, the top lists) by tasks over ranges of datasets (:mod:`lab.usage.cluster`),

each in a fresh process: wall time of the process as a user runs it (start, the suite once, stop; the
measurements made for the simulation afterwards are left out), cluster start-up, the suite's time, the
part that stays on the client (a second run of the suite with the rollups kept), the time the rollup
and series tasks took on the workers (task stream), peak memory of the client and of each worker.
Every frame of the three runs must be equal, and ``lab usage kpis --json`` must print the same bytes
with and without ``--workers 3`` (issue 16's acceptance).

**Simulation** (:func:`simulate`). Measured in the single process: each month partition's rollup
alone (the task's function on one file), the client's serial part (the suite with the rollups kept,
less its calls over the datasets' series) and each of those calls, whole and cut into 8 ranges (the
fixed cost of a piece). Measured on 1 worker: a task's cost against the sum of its months' (a task
reads its months at once), the scheduling and transfer overhead of a rollup task and of a series task.
The suite's wall time is then simulated for 1–64 workers, the months cut and the tasks placed as
:class:`lab.usage.cluster.ClusterStore` does: at 590M events (scale 100, measured with ``--scales
…,100``; otherwise extrapolated from the largest scale and marked so) and for 34 portals × 10 years
(120 month partitions of 34 city-sized parts; the client's part and the series grown with the output,
34 × the datasets over 120 months). Efficiency is ``T(1) / (W × T(W))``. The targets of issue 16 are
printed beside the numbers; measured, not asserted.
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
def child(mode: str, store: str, out: str, min_count: int) -> None:
    """A fresh process: the KPI suite alone or on a local cluster of ``mode`` workers; facts to ``out``."""
    t0 = time.perf_counter()
    from lab.usage.kpis import kpi_suite

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    facts: dict = {}
    if mode == "single":
        from lab.usage.store import EventStore

        st = EventStore(store)
        t = time.perf_counter()
        st.rollups()  # the month rollups of the whole store, kept: the suite's first step
        facts["rollup_s"] = time.perf_counter() - t
        t = time.perf_counter()
        frames = kpi_suite(st, min_count=min_count)
        facts["suite_s"] = time.perf_counter() - t
        extra = time.perf_counter()  # measurements for the simulation, left out of the process's wall
        # again, the rollups kept: what is left is the client's part; of it, the datasets' series
        # (map_series) timed whole and cut into 8 ranges, as a cluster of 4 workers cuts them
        from lab.usage.cluster import cut_series

        whole, cut, calls = [], [], [0]
        plain = st.map_series

        def timed(fn, frame, key, *args):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            out = plain(fn, frame, key, *args)
            whole.append(time.perf_counter() - t)
            pieces = cut_series(frame, key, 8)
            t = time.perf_counter()
            for piece in pieces:
                fn(piece, *args)
            cut.append(time.perf_counter() - t)
            calls[0] += len(pieces)
            return out

        st.map_series = timed  # type: ignore[method-assign]
        # the calls of kpi_suite one by one: the client's serial part of each KPI (its time less its
        # calls over the series)
        from lab.usage import kpis

        calls_of = {
            "totals": lambda: kpis.growth(kpis.portal_totals(st, min_count=min_count)),
            "facts": lambda: kpis.monthly_facts(st, min_count=min_count),
            "channel_mix": lambda: kpis.channel_mix(st, min_count=min_count),
            "top": lambda: [kpis.top_datasets(st, metric=m, min_count=min_count) for m in kpis.TOP_METRICS],
            "api_per_app": lambda: kpis.api_calls_per_app(st, min_count=min_count),
            "accounts": lambda: kpis.accounts_per_quarter(st, min_count=min_count),
        }
        facts["serial_by_kpi"] = {}
        for name, call in calls_of.items():
            n0 = len(whole)
            t = time.perf_counter()
            call()
            spent = time.perf_counter() - t - sum(cut[n0:])
            facts["serial_by_kpi"][name] = spent - sum(whole[n0:])
        facts["client_s"] = sum(facts["serial_by_kpi"].values()) + sum(whole)
        facts["series_s"], facts["series_cut_s"], facts["series_pieces"] = whole, cut, calls[0]
        # each month partition's rollup, as a task computes it: the costs the simulation deals out
        from lab.usage.rollup import rollup_files

        facts["month_s"], facts["month_bytes"] = [], []
        for f in st.summary_files() or []:
            t = time.perf_counter()
            rollup_files([str(f)])
            facts["month_s"].append(time.perf_counter() - t)
            facts["month_bytes"].append(f.stat().st_size)
        facts["extra_s"] = time.perf_counter() - extra
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
                on.rollups()  # the month rollups of the whole store on the workers, kept
                facts["rollup_s"] = time.perf_counter() - t
                t = time.perf_counter()
                frames = kpi_suite(on, min_count=min_count)
                facts["suite_s"] = time.perf_counter() - t
            extra = time.perf_counter()  # measurements for the simulation, left out of the process's wall
            # again, the rollups kept, each call over the datasets' series cut into 4 tasks a worker:
            # their scatter, scheduling and transfer, measured
            on.series_per_worker, before = 4, on.series_tasks
            with get_task_stream(client) as again:
                t = time.perf_counter()
                kpi_suite(on, min_count=min_count)
                facts["client_s"] = time.perf_counter() - t
            facts["again_series_tasks"] = on.series_tasks - before
            facts["again_series_task_s"] = [
                sum(s["stop"] - s["start"] for s in rec["startstops"] if s["action"] == "compute")
                for rec in again.data
            ]
            facts["task_s"] = [
                sum(s["stop"] - s["start"] for s in rec["startstops"] if s["action"] == "compute")
                for rec in ts.data
                if "rollup_files" in str(rec["key"])
            ]
            facts["series_task_s"] = [
                sum(s["stop"] - s["start"] for s in rec["startstops"] if s["action"] == "compute")
                for rec in ts.data
                if "rollup_files" not in str(rec["key"])
            ]
            facts["tasks"], facts["series_tasks"] = on.rollup_tasks, on.series_tasks
            facts["result_mb"] = (
                sum(f.estimated_size() for r in on._rollup_cache.values() for f in r.values()) / 1e6
            )
            facts["worker_peak_mb"] = sorted(
                v / 1e3
                for v in client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss).values()
            )
            facts["extra_s"] = time.perf_counter() - extra
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


def measure(mode: str, store: Path, out: Path, min_count: int) -> dict:
    """Run one mode in a fresh process (under a launcher: the wall time includes the interpreter)."""
    cmd = [sys.executable, "-c", LAUNCHER, sys.executable, __file__, "--child", mode, str(store), str(out)]
    cmd += ["--min-count", str(min_count)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    facts = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {"code": -1}
    if facts["code"] != 0:
        raise RuntimeError(f"{mode} failed: {proc.stderr[-2000:]}")
    facts.update(json.loads((out / "facts.json").read_text(encoding="utf-8")))
    facts["wall_s"] -= facts["extra_s"]  # the process as a user runs it: the suite once
    return facts


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


def simulate(case: dict, model: dict, workers: int) -> float:
    """Wall time of the suite as :class:`lab.usage.cluster.ClusterStore` runs it on ``workers``:

    1. the month rollups: the months cut into contiguous runs of about equal cost
       (:func:`lab.usage.cluster.deal`, ``TASKS_PER_WORKER × workers`` runs), each task costing its
       months (× the case's ``batch``: a task reads its months at once) plus the scheduling and transfer
       ``overhead``, placed longest first;
    2. the client's serial part (the KPI functions but the datasets' series);
    3. each call over the datasets' series (the fact table, the three top lists), one after another: cut
       into ``SERIES_TASKS_PER_WORKER × workers`` ranges, each task costing its share of the call, the
       fixed cost of a piece and the series tasks' own overhead (scatter, scheduling, transfer).
    """
    from lab.usage.cluster import SERIES_TASKS_PER_WORKER, TASKS_PER_WORKER, deal

    months = case["months"]
    runs = deal(months, TASKS_PER_WORKER * workers)
    tasks = [case["batch"] * sum(months[i] for i in run) + model["overhead"] for run in runs]
    wall = makespan(tasks, workers) + case["serial"]
    k = SERIES_TASKS_PER_WORKER * workers
    for call in case["series"]:
        wall += makespan([call / k + model["piece"] + model["series_overhead"]] * k, workers)
    return wall


def simulation(measured: list[dict]) -> None:
    """Print simulated wall times and efficiency for 1–64 workers at 590M events and 34 portals × 10 years."""
    print("\n== simulation (see the module docstring)")
    print(
        f"   {'scale':>6} {'events':>13} {'months Σ (s)':>13} {'task/Σ':>7} {'overhead/task':>14} "
        f"{'serial (s)':>11} {'series (s)':>11} {'piece (ms)':>11} {'series overhead/task':>21}"
    )
    batches, overheads, pieces, series_overheads = [], [], [], []
    for m in measured:
        single, one = m["runs"]["single"], m["runs"]["cluster-1"]
        months = sum(single["month_s"])
        batches.append(sum(one["task_s"]) / months)
        m["batch"] = batches[-1]
        overheads.append(max(0.0, one["rollup_s"] - sum(one["task_s"])) / one["tasks"])
        extra = sum(single["series_cut_s"]) - sum(single["series_s"])
        pieces.append(max(0.0, extra / (single["series_pieces"] - len(single["series_s"]))))
        # the suite's first run once the rollups are made, less its calls over the datasets' series
        m["serial"] = single["suite_s"] - sum(single["series_s"])
        # the second run on 1 worker, its series cut into 4 tasks a call: what the tasks add
        warm_serial = single["client_s"] - sum(single["series_s"])
        added = one["client_s"] - warm_serial - sum(one["again_series_task_s"])
        series_overheads.append(max(0.0, added / one["again_series_tasks"]))
        print(
            f"   {m['scale']:>6g} {m['events']:>13,} {months:>13.2f} {batches[-1]:>7.2f} "
            f"{overheads[-1] * 1e3:>11.0f} ms {m['serial']:>11.2f} {sum(single['series_s']):>11.2f} "
            f"{pieces[-1] * 1e3:>11.1f} {series_overheads[-1] * 1e3:>18.0f} ms"
        )
    model = {
        "overhead": sorted(overheads)[len(overheads) // 2],
        "piece": sorted(pieces)[len(pieces) // 2],
        "series_overhead": sorted(series_overheads)[len(series_overheads) // 2],
    }
    by_scale = {m["scale"]: m for m in measured}
    cases = {}
    if 100 in by_scale:
        big = by_scale[100]
        cases["590M events (scale 100 measured: 113 months, the city's 860 datasets)"] = {
            "months": big["runs"]["single"]["month_s"],
            "batch": big["batch"],
            "serial": big["serial"],
            "series": big["runs"]["single"]["series_s"],
        }
    else:  # extrapolated: month costs linear in events from the largest scale, the rest as measured there
        top = measured[-1]
        factor = 100 / top["scale"]
        cases[f"590M events (EXTRAPOLATED ×{factor:g} from scale {top['scale']:g}: run --scales 100)"] = {
            "months": [t * factor for t in top["runs"]["single"]["month_s"]],
            "batch": top["batch"],
            "serial": top["serial"],
            "series": top["runs"]["single"]["series_s"],
        }
    if 1 in by_scale:
        city = by_scale[1]
        months = city["runs"]["single"]["month_s"]
        grow = 34 * 120 / len(months)  # the output (datasets × months) against the city's
        # 34 city-sized portals pooled over 10 years: 120 month partitions of 34 parts each. The series
        # and the serial part of the KPIs whose output grows with datasets or applications (the fact
        # table's assembly, the top lists, the applications) grow with the output; the rest (totals,
        # channels, accounts: one row per month or quarter) with the months
        by_kpi = city["runs"]["single"]["serial_by_kpi"]
        output = sum(by_kpi[k] for k in ("facts", "top", "api_per_app"))
        fixed = city["serial"] - output  # the first run's extra (cold) work counted as fixed
        cases["34 portals × 10 years (120 month partitions of 34 city-sized parts)"] = {
            "months": [34 * months[i % len(months)] for i in range(120)],
            "batch": city["batch"],
            "serial": fixed * 120 / len(months) + output * grow,
            "series": [t * grow for t in city["runs"]["single"]["series_s"]],
        }
    print(
        f"   model: a task costs its scale's task/Σ × the sum of its months' one-by-one rollups; "
        f"{model['overhead'] * 1e3:.0f} ms of scheduling and transfer a task; a piece of the series "
        f"{model['piece'] * 1e3:.1f} ms more, and {model['series_overhead'] * 1e3:.0f} ms of scatter, "
        f"scheduling and transfer a series task (medians over the scales)"
    )
    for name, case in cases.items():
        base = simulate(case, model, 1)
        print(
            f"   {name}: months {sum(case['months']):.2f} s one by one, the client's serial part "
            f"{case['serial']:.2f} s, the series {sum(case['series']):.2f} s"
        )
        print(f"   {'workers':>8} {'wall (s)':>10} {'speed-up':>9} {'efficiency':>11}")
        for w in SIM_WORKERS:
            t = simulate(case, model, w)
            print(f"   {w:>8} {t:>10.2f} {base / t:>9.2f} {base / (w * t):>11.2f}")
        share = case["serial"] / base
        print(
            f"   the client's serial part is {share:.1%} of one worker's wall: speed-up bounded by "
            f"{1 / share:.1f} (Amdahl); efficiency 0.8 at 16 workers needs it below 1.7%"
        )


# ---------------------------------------------------------------------------------------- the run
def bench_scale(scale: float, work: Path, stores: Path | None, min_count: int) -> dict:
    from lab.usage.store import EventStore
    from lab.usage.synthetic import generate_store

    store = (stores or work) / f"store-{scale:g}"
    t = time.perf_counter()
    if stores is not None and (store / "_ledger.json").exists():  # kept from an earlier run
        ledger, made = EventStore(store).ledger(), "kept from an earlier run"
    else:
        ledger = generate_store(store, scale=scale, progress=False)
        made = f"written in {time.perf_counter() - t:.1f} s"
    events = ledger["files"][0]["events_kept"]
    months = len(ledger["files"][0]["parts"])
    print(f"\n== scale {scale:g}: {events:,} events in {months} month parts, {made}")
    runs, outs = {}, {}
    for mode in ("single", *(str(w) for w in WORKERS)):
        name = "single" if mode == "single" else f"cluster-{mode}"
        outs[name] = work / f"out-{scale:g}-{name}"
        runs[name] = measure(mode, store, outs[name], min_count)
    print(
        f"   {'run':<10} {'wall (s)':>9} {'start-up':>9} {'rollups (s)':>12} {'then KPIs (s)':>14} "
        f"{'again (s)':>10} {'tasks (s)':>10} {'client MB':>10} {'worker MB':>14}"
    )
    for name, r in runs.items():
        workers = ", ".join(f"{m:.0f}" for m in r.get("worker_peak_mb", [])) or "—"
        start = r.get("startup_s", 0) + r.get("warm_s", 0)  # the cluster's start and its workers' imports
        print(
            f"   {name:<10} {r['wall_s']:>9.2f} {start:>9.2f} {r['rollup_s']:>12.2f} {r['suite_s']:>14.2f} "
            f"{r['client_s']:>10.2f} {sum(r.get('task_s', [])) + sum(r.get('series_task_s', [])):>10.2f} "
            f"{r['client_peak_mb']:>10.0f} {workers:>14}"
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
            work = (r["rollup_s"] + r["suite_s"]) / (single["rollup_s"] + single["suite_s"])
            print(
                f"   {name}: wall {r['wall_s'] / single['wall_s']:.2f} × single; without the cluster's "
                f"start-up {(r['wall_s'] - r['startup_s'] - r['warm_s']) / single['wall_s']:.2f} ×; "
                f"rollups and KPIs {work:.2f} ×; "
                f"peak per worker {max(r['worker_peak_mb']):.0f} MB"
            )
    if stores is None:
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
        "--min-count",
        type=int,
        default=5,
        help="the suite's min_count (default 5: what lab usage kpis publishes)",
    )
    parser.add_argument(
        "--stores", help="keep the synthetic stores in this folder and reuse them (scale 100 takes ~30 min)"
    )
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
        child(*args.child, args.min_count)
        return 0
    scales = [0.1] if args.quick else [float(s) for s in args.scales.split(",")]
    work = Path(args.work or tempfile.mkdtemp(prefix="lab-bench-cluster-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench/cluster.py: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, scratch {work}")
    print(f"targets: {TARGETS}")
    print(f"the KPI suite with min_count={args.min_count}")
    stores = Path(args.stores) if args.stores else None
    try:
        measured = [bench_scale(s, work, stores, args.min_count) for s in scales]
        simulation(measured)
        lines = 200_000 if args.quick else args.ingest_lines
        ingest_ok = ingest_compare(work, lines) if lines else True
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if all(m["agree"] for m in measured) and ingest_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
