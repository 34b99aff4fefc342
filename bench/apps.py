"""What does a visitor of the public apps cost the server, and how fast do the apps answer?

Server side (no browser: browsers on the same 2 cores would measure themselves), against a real Voilà on
127.0.0.1 served as ``lab apps serve`` serves it:

- one visitor's kernel: CPU seconds and resident memory of a portal-tracker kernel once its page is
  rendered and the page's websocket has asked for the widgets' state, beyond a bare kernel's start
  (measured in the same run; targets ≤ 0.3 CPU-s and ≤ 120 MB);
- bursts of 1, 10, 20 and 50 plain HTTP visits of the portal tracker started within one second: refused
  (waiting page) and failed visits, p50/p95 seconds until the page is complete (a visitor given the
  waiting page retries as the page does), the server tree's peak memory and the load average (targets for
  20: none refused, p95 ≤ 4 × one visitor alone and ≤ 5 s, tree ≤ 2.5 GB; for 50: no error page).

Browser side (headless Chromium, one visitor at a time): first full render with a pooled kernel and a
filter change, per app (targets ≤ 2 s and ≤ 150 ms), against the catalog browser measured in the same run.

Run: ``.venv/bin/python bench/apps.py [--loads N] [--bursts 1,10,20,50] [--no-browser]`` (or
``make bench``). Uses ``$LAB_DEMO`` when it holds a demo portal, else generates a small one in a temporary
folder (synthetic data).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
# no host but the loopback resolves: the page cannot reach outside, with no request intercepted (routing
# every request through Playwright's driver would add its round trip to each of the page's ~70 scripts)
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    OFFLINE,
]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")
TARGET_RENDER_S = 2.0
TARGET_FILTER_S = 0.15
TARGET_KERNEL_CPU_S = 0.3
TARGET_KERNEL_MB = 120
TARGET_BURST_P95_S = 5.0
TARGET_BURST_RATIO = 4.0
TARGET_TREE_GB = 2.5
TRACKER = "portal-tracker.ipynb"
SERVER = {"timeout": 120, "grace": 30}  # seconds Voilà has to listen, and to exit at the end

#: app → (notebook, selector of its first full render, filter select, option index, element that changes)
APPS = {
    "catalog": ("catalog.ipynb", ".lab-table", ".lab-catalog-browser select", 2, ".lab-catalog-browser"),
    "portal-tracker": (
        "portal-tracker.ipynb",
        ".lab-portal-tracker .lab-gauge",
        ".lab-filter-agency select",
        1,
        ".lab-portal-tracker .lab-scope",
    ),
    "reuse-explorer": (
        "reuse-explorer.ipynb",
        ".lab-reuse-explorer .lab-count",
        ".lab-filter-type select",
        1,
        ".lab-reuse-explorer [data-key='reuses']",
    ),
    "city-map": (
        "city-map.ipynb",
        ".lab-city-map [data-key='total']",
        ".lab-filter-layer select",
        2,
        ".lab-city-map [data-key='total']",
    ),
    "insights": (
        "insights.ipynb",
        ".lab-insights .lab-insights-observed table",
        ".lab-filter-month select",
        10,
        ".lab-insights section",
    ),
}


async def _guarded_page(browser, outside: list[str]):  # type: ignore[no-untyped-def]
    """A fresh context (no cache, as a first visit) whose requests beyond 127.0.0.1 are recorded in
    ``outside`` (they fail: :data:`OFFLINE`); requests are watched, not intercepted."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
    return context, await context.new_page()


async def first_render(browser, url: str, app: str, outside: list[str]) -> float:  # type: ignore[no-untyped-def]
    """Seconds from navigation to the app's last part drawn."""
    notebook, ready, *_ = APPS[app]
    context, page = await _guarded_page(browser, outside)
    t0 = time.perf_counter()
    await page.goto(f"{url}/voila/render/{notebook}", timeout=300_000)
    await page.locator(ready).first.wait_for(timeout=300_000)
    elapsed = time.perf_counter() - t0
    await context.close()
    return elapsed


async def filter_round_trips(browser, url: str, app: str, n: int, outside: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from choosing a filter option to the changed part shown (alternating two options)."""
    notebook, ready, select, index, changed = APPS[app]
    context, page = await _guarded_page(browser, outside)
    await page.goto(f"{url}/voila/render/{notebook}", timeout=300_000)
    await page.locator(ready).first.wait_for(timeout=300_000)
    times = []
    for i in range(n):
        before = await page.locator(changed).first.inner_text()
        t0 = time.perf_counter()
        await page.locator(select).first.select_option(index=index if i % 2 == 0 else 0)
        await page.wait_for_function(
            "([sel, old]) => { const e = document.querySelector(sel); return e && e.innerText !== old; }",
            arg=[changed, before],
            timeout=60_000,
            polling="raf",
        )
        times.append(time.perf_counter() - t0)
    await context.close()
    return times


# ------------------------------------------------------------------------------------- server side
def _get(url: str, timeout: float = 300) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode("utf-8", errors="replace")


def visit(url: str) -> dict[str, object]:
    """One visitor opening the tracker over plain HTTP: seconds until the page is complete, whether it was
    given the waiting page first (it then retries every second, as the page does by itself), or failed."""
    t0 = time.perf_counter()
    waited = False
    while True:
        try:
            status, body = _get(f"{url}/voila/render/{TRACKER}")
        except Exception as exc:  # a visitor who got nothing is a failure, whatever the cause
            return {
                "ok": False,
                "waited": waited,
                "seconds": time.perf_counter() - t0,
                "error": str(exc)[:80],
            }
        if status == 503 and "lab-waiting-page" in body:
            waited = True
            time.sleep(1)
            continue
        ok = status == 200 and "There was an error" not in body and "widget-view+json" in body
        return {
            "ok": ok,
            "waited": waited,
            "seconds": time.perf_counter() - t0,
            "error": "" if ok else str(status),
        }


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def _pooled(status_port: int) -> int:
    """Preheated kernels started and waiting, as the status endpoint says."""
    import json

    try:
        return int(
            json.loads(_get(f"http://127.0.0.1:{status_port}/status", timeout=10)[1])["kernels"]["pooled"]
        )
    except (OSError, ValueError, KeyError):
        return -1


def _wait_idle(proc, deadline: float) -> None:  # type: ignore[no-untyped-def]
    """Until the server tree uses less than 0.1 CPU-s a second (the pools' kernels have run their apps)."""
    from lab.serve import cpu_seconds, process_tree

    def used() -> float:
        return sum(cpu_seconds(pid) for pid in process_tree(proc.pid))

    before = used()
    while time.monotonic() < deadline:
        time.sleep(2)
        now = used()
        if now - before < 0.2:
            return
        before = now


def burst(url: str, proc, n: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """``n`` visits started within one second; the server tree's memory sampled meanwhile."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from lab.serve import process_tree, pss_bytes, rss_bytes

    peak = [0, 0]  # proportional (shared library pages counted once), resident (counted in each process)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            tree = process_tree(proc.pid)
            peak[0] = max(peak[0], pss_bytes(tree))
            peak[1] = max(peak[1], rss_bytes(tree))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample)
    sampler.start()
    with ThreadPoolExecutor(n) as pool:
        futures = []
        for _ in range(n):
            futures.append(pool.submit(visit, url))
            time.sleep(1.0 / max(n, 1) * 0.9 if n > 1 else 0)  # all started within one second
        results = [f.result() for f in futures]
    stop.set()
    sampler.join()
    times = [float(r["seconds"]) for r in results if r["ok"]]
    return {
        "n": n,
        "failed": sum(not r["ok"] for r in results),
        "waited": sum(bool(r["waited"]) for r in results),
        "p50": _pct(times, 0.5),
        "p95": _pct(times, 0.95),
        "max": max(times) if times else float("nan"),
        "tree_gb": peak[0] / 1e9,
        "tree_rss_gb": peak[1] / 1e9,
        "load": os.getloadavg()[0],
        "errors": sorted({str(r["error"]) for r in results if not r["ok"]}),
    }


def bare_kernel_cost(env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds and resident MB of a bare ipykernel once it answers (the pooled kernel's start)."""
    from jupyter_client.manager import KernelManager

    from lab.serve import cpu_seconds, rss_bytes

    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env)
    try:
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=120)
        client.stop_channels()
        pid = km.provisioner.process.pid  # type: ignore[union-attr]
        time.sleep(0.5)
        return cpu_seconds(pid), rss_bytes([pid]) / 2**20
    finally:
        km.shutdown_kernel(now=True)


async def _ask_widget_state(ws_url: str) -> None:
    """What a page does once loaded: open the widgets' control channel and ask for every widget's state."""
    import json
    import uuid

    from tornado.websocket import websocket_connect

    ws = await websocket_connect(ws_url)
    comm = uuid.uuid4().hex
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": "comm_open",
        "username": "bench",
        "session": comm,
        "date": "2026-01-01T00:00:00Z",
        "version": "5.3",
    }
    opened = {
        "header": header,
        "parent_header": {},
        "metadata": {"version": "1.0.0"},
        "channel": "shell",
        "buffers": [],
        "content": {"comm_id": comm, "target_name": "jupyter.widget.control", "data": {}},
    }
    await ws.write_message(json.dumps(opened))
    ask = {
        **opened,
        "header": {**header, "msg_id": uuid.uuid4().hex, "msg_type": "comm_msg"},
        "content": {"comm_id": comm, "data": {"method": "request_states"}},
    }
    await ws.write_message(json.dumps(ask))
    while True:
        message = await asyncio.wait_for(ws.read_message(), timeout=120)
        if message is None or (isinstance(message, str) and '"update_states"' in message):
            break
    ws.close()


def visitor_kernel_cost(env: dict[str, str], tmp: Path) -> tuple[float, float]:
    """CPU seconds and resident MB of one visitor's tracker kernel, from its start to its page rendered and
    the widgets' state handed to the page (no pool: the kernel is the visitor's own from the start)."""
    import re

    from lab.serve import cpu_seconds, kernel_pids, rss_bytes, voila_server

    with voila_server(env, tmp / "voila-one.log", preheat=False, **SERVER) as (url, proc):
        _get(f"{url}/voila/render/{TRACKER}")  # warms the file caches; its kernel is reclaimed
        before = set(kernel_pids(proc))
        _, body = _get(f"{url}/voila/render/{TRACKER}")
        kernel_id = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', body).group(1)  # type: ignore[union-attr]
        asyncio.run(_ask_widget_state(f"{url.replace('http', 'ws')}/api/kernels/{kernel_id}/channels"))
        (pid,) = set(kernel_pids(proc)) - before
        time.sleep(0.5)
        return cpu_seconds(pid), rss_bytes([pid]) / 2**20


def server_side(env: dict[str, str], tmp: Path, bursts: list[int], pool: int, cap: int) -> int:
    from lab.serve import free_port, voila_server

    failures = 0
    bare_cpu, bare_mb = bare_kernel_cost(env)
    cpu, mb = visitor_kernel_cost(env, tmp)
    ok = cpu - bare_cpu <= TARGET_KERNEL_CPU_S and mb - bare_mb <= TARGET_KERNEL_MB
    failures += not ok
    print("one visitor's tracker kernel (start → page rendered → widget state sent):")
    print(
        f"  {cpu:.2f} CPU-s, {mb:.0f} MB resident; "
        f"a bare kernel's start: {bare_cpu:.2f} CPU-s, {bare_mb:.0f} MB"
    )
    print(
        f"  beyond the bare kernel: {cpu - bare_cpu:.2f} CPU-s, {mb - bare_mb:.0f} MB "
        f"(targets ≤ {TARGET_KERNEL_CPU_S} CPU-s, ≤ {TARGET_KERNEL_MB} MB)   {'met' if ok else 'MISSED'}"
    )
    options = {
        "max_kernels": cap,
        "pools": {"portal-tracker": pool},
        "max_total_kernels": cap,  # the memory budget: the pools refill while visitors leave room
        "connect_timeout": 5,
        "status_port": free_port(),
    }
    with voila_server(env, tmp / "voila-bursts.log", **SERVER, **options) as (url, proc):
        n_pooled = pool + 3
        print(
            f"bursts of plain HTTP visits of the tracker (pool {pool} tracker kernels + 1 per other app, "
            f"cap {cap} visitors' kernels, {cap} kernels in all):"
        )
        print(
            f"  {'visitors':>8} {'failed':>6} {'waited':>6} {'p50':>7} {'p95':>7} {'max':>7} "
            f"{'tree PSS':>9} {'(RSS)':>8} {'load':>5}"
        )
        alone = None
        for n in bursts:
            deadline = time.monotonic() + 300  # the pools full again, the last burst's kernels reclaimed
            while _pooled(options["status_port"]) != n_pooled and time.monotonic() < deadline:
                time.sleep(1)  # every pool entry's kernel started (none waiting for the budget)
            _wait_idle(proc, deadline)  # and every pooled kernel has run its app
            r = burst(url, proc, n)
            alone = alone or float(r["p95"])
            verdict = ""
            if n == 20:
                met = (
                    r["failed"] == 0
                    and r["waited"] == 0
                    and float(r["p95"]) <= min(TARGET_BURST_P95_S, TARGET_BURST_RATIO * alone)
                    and float(r["tree_gb"]) <= TARGET_TREE_GB
                )
                verdict = "met" if met else "MISSED"
                failures += not met
            if n == 50:
                verdict = "met (no error page)" if r["failed"] == 0 else "MISSED"
                failures += r["failed"] > 0
            print(
                f"  {n:>8} {r['failed']:>6} {r['waited']:>6} "
                f"{float(r['p50']):>6.2f}s {float(r['p95']):>6.2f}s "
                f"{float(r['max']):>6.2f}s {float(r['tree_gb']):>7.2f}GB {float(r['tree_rss_gb']):>6.2f}GB "
                f"{float(r['load']):>5.1f}  {verdict}" + (f"  errors: {r['errors']}" if r["errors"] else "")
            )
        print(
            f"  targets (20 at once): none refused, p95 ≤ {TARGET_BURST_RATIO:.0f} × one visitor alone "
            f"({TARGET_BURST_RATIO * (alone or 0):.2f} s) and ≤ {TARGET_BURST_P95_S:.0f} s, "
            f"tree ≤ {TARGET_TREE_GB} GB;"
            " 50 at once: no error page"
        )
    lines = [
        line
        for line in (tmp / "voila-bursts.log").read_text(errors="replace").splitlines()
        if " visit " in line
    ]
    with_ip = sum("127.0.0.1" in line for line in lines)
    print(
        f"  server log: {len(lines)} visit lines (one per visit), {with_ip} with an IP address; "
        f"e.g. {lines[-1:]}"
    )
    return failures


# ------------------------------------------------------------------------------------ browser side
async def browser_side(env: dict[str, str], loads: int, settle: float, tmp: Path) -> int:
    from playwright.async_api import async_playwright

    from lab.serve import voila_server

    outside: list[str] = []
    failures = 0
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        medians: dict[str, dict[str, float]] = {}
        timing = {"max_kernels": 64, "cull_idle_timeout": 3600, "status_port": 0}
        with voila_server(env, tmp / "voila-browser.log", **SERVER, **timing) as (url, _):
            await first_render(browser, url, "catalog", outside)  # the browser's own caches warm
            for app in APPS:
                times = []
                for _ in range(loads):  # Voilà says a pool is filled when its kernel starts, not when the
                    await asyncio.sleep(settle)  # notebook has run: give the refill kernel time to run it
                    times.append(await first_render(browser, url, app, outside))
                trips = await filter_round_trips(browser, url, app, 2 * loads, outside)
                medians[app] = {"preheated": statistics.median(times), "filter": statistics.median(trips)}
        await browser.close()
    base = medians["catalog"]
    print(
        f"Chromium, one visitor at a time: first full render with a pooled kernel (median of {loads}), "
        f"filter change (median of {2 * loads}):"
    )
    print(f"  {'app':16} {'render':>10} {'filter':>10}   vs catalog (render, filter)")
    for app, m in medians.items():
        ok = m["preheated"] <= TARGET_RENDER_S and m["filter"] <= TARGET_FILTER_S
        failures += app != "catalog" and not ok
        print(
            f"  {app:16} {_fmt(m['preheated'])} {_fmt(m['filter'])}   "
            f"x{m['preheated'] / base['preheated']:.2f}, x{m['filter'] / base['filter']:.2f}"
            f"   {'met' if ok else 'MISSED'}"
        )
    print(f"  targets: first render ≤ {TARGET_RENDER_S:.0f} s with a pooled kernel, filter change ≤ 150 ms")
    print(f"requests that left 127.0.0.1: {len(outside)}")
    return failures + bool(outside)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=3, help="browser loads per app (median)")
    parser.add_argument("--bursts", default="1,10,20,50", help="visitors per burst, comma-separated")
    parser.add_argument("--pool", type=int, default=20, help="preheated tracker kernels")
    parser.add_argument("--cap", type=int, default=24, help="visitors' kernels at most")
    parser.add_argument("--no-browser", action="store_true", help="server side only")
    parser.add_argument("--no-server", action="store_true", help="browser side only")
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds before each pooled load (the pool refills)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lab-bench-apps-"))
    env = dict(os.environ)
    demo = Path(env.get("LAB_DEMO", ROOT / "data" / "demo")).absolute()
    if not (demo / "manifest.json").is_file():
        from lab import demo as demo_portal

        demo = tmp / "demo"
        demo_portal.generate(demo, scale=0.01, seed=7)
    home = tmp / "home"
    env.update(
        LAB_DEMO=str(demo),
        LAB_USAGE_STORE=str(tmp / "usage-store"),
        LAB_CACHE=str(tmp / "cache"),
        LAB_OFFLINE="1",
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / ".ipython"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    from lab.serve import prepare_snapshots, voila_env

    env = voila_env(env)
    prepare_snapshots(env)  # as lab apps serve does before Voilà starts
    print(f"bench apps: demo portal {demo} (synthetic), logs in {tmp}; load average {os.getloadavg()[0]:.1f}")
    failures = 0
    if not args.no_server:
        failures += server_side(env, tmp, [int(n) for n in args.bursts.split(",")], args.pool, args.cap)
    if not args.no_browser:
        failures += asyncio.run(browser_side(env, args.loads, args.settle, tmp))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
