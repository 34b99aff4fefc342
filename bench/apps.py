"""How fast do the public apps answer in a real browser? Time to first full render (preheated kernels and
not), the round-trip of a filter change, and 10 concurrent visitors, measured in headless Chromium against a
real Voilà on 127.0.0.1. Prints numbers against the targets (≤ 3 s first render preheated, ≤ 300 ms filter
change) and ratios against the catalog browser (the simplest app) measured in the same run.

Run: ``.venv/bin/python bench/apps.py [--loads N] [--visitors N]`` (or ``make bench``). Uses ``$LAB_DEMO``
when it holds a demo portal, else generates a small one in a temporary folder (synthetic data).
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
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TARGET_RENDER_S = 3.0
TARGET_FILTER_S = 0.3
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
}


async def _guarded_page(browser, outside: list[str]):  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1280, "height": 900})

    async def guard(route):  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")):
            await route.continue_()
        else:
            outside.append(url)
            await route.abort()

    await context.route("**/*", guard)
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


async def visitors(browser, url: str, n: int, outside: list[str]) -> tuple[int, list[float]]:  # type: ignore[no-untyped-def]
    """``n`` visitors opening the portal tracker at once: (errors, seconds each rendered visitor waited)."""

    async def one() -> float | None:
        try:
            return await first_render(browser, url, "portal-tracker", outside)
        except Exception as exc:  # a visitor who got nothing is an error, whatever the cause
            print(f"   visitor failed: {str(exc).splitlines()[0]}", file=sys.stderr)
            return None

    results = await asyncio.gather(*(one() for _ in range(n)))
    return sum(r is None for r in results), sorted(r for r in results if r is not None)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


async def run(
    env: dict[str, str], loads: int, n_visitors: int, settle: float, tmp: Path, timing_runs: bool = True
) -> int:
    from playwright.async_api import async_playwright

    from lab.serve import kernel_pids, voila_server

    outside: list[str] = []
    failures = 0
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        if timing_runs:
            medians: dict[str, dict[str, float]] = {}
            # no culling while timing: an idle preheated kernel waiting in the pool would be culled too
            timing = {"max_kernels": 64, "cull_idle_timeout": 3600}
            with voila_server(env, tmp / "voila-preheat.log", **SERVER, **timing) as (url, _):
                await first_render(browser, url, "portal-tracker", outside)  # builds the usage store once
                for app in APPS:
                    times = []
                    for _ in range(loads):  # Voilà says a pool is filled when its kernel starts, not when the
                        await asyncio.sleep(settle)  # notebook has run: give the refill kernel time to run it
                        times.append(await first_render(browser, url, app, outside))
                    trips = await filter_round_trips(browser, url, app, 2 * loads, outside)
                    medians[app] = {"preheated": statistics.median(times), "filter": statistics.median(trips)}
            with voila_server(env, tmp / "voila-cold.log", preheat=False, **SERVER, **timing) as (url, _):
                for app in APPS:
                    times = [await first_render(browser, url, app, outside) for _ in range(loads)]
                    medians[app]["cold"] = statistics.median(times)
            base = medians["catalog"]
            print(f"first render (median of {loads} loads), filter round-trip (median of {2 * loads}):")
            print(
                f"  {'app':16} {'preheated':>10} {'cold':>10} {'filter':>10}   vs catalog (preheated, filter)"
            )
            for app, m in medians.items():
                ok = m["preheated"] <= TARGET_RENDER_S and m["filter"] <= TARGET_FILTER_S
                failures += app != "catalog" and not ok
                print(
                    f"  {app:16} {_fmt(m['preheated'])} {_fmt(m['cold'])} {_fmt(m['filter'])}   "
                    f"x{m['preheated'] / base['preheated']:.2f}, x{m['filter'] / base['filter']:.2f}"
                    f"   {'ok' if ok else 'MISSES TARGET'}"
                )
            print(f"  targets: first render ≤ {TARGET_RENDER_S:.0f} s preheated, filter change ≤ 300 ms")
        # culling as served (a kernel idle for a minute is reclaimed), checked every 5 s
        options = {"cull_interval": 5, "cull_idle_timeout": 60}
        with voila_server(env, tmp / "voila-visitors.log", **SERVER, **options) as (url, proc):
            await first_render(browser, url, "portal-tracker", outside)
            errors, waits = await visitors(browser, url, n_visitors, outside)
            peak = len(kernel_pids(proc))
            t_left = time.monotonic()
            deadline = t_left + 240
            while len(kernel_pids(proc)) > len(APPS) and time.monotonic() < deadline:  # preheated pools stay
                await asyncio.sleep(1)
            left, reclaimed_s = len(kernel_pids(proc)), time.monotonic() - t_left
        spread = (
            f"rendered in {statistics.median(waits):.1f} s median, {waits[-1]:.1f} s slowest" if waits else ""
        )
        print(
            f"{n_visitors} concurrent visitors (portal tracker): {errors} errors, {spread}; "
            f"kernels {peak} after, {left} left {reclaimed_s:.0f} s after they left "
            f"(preheated pools: {len(APPS)}; idle timeout 60 s)"
        )
        failures += errors > 0
        await browser.close()
    print(f"requests that left 127.0.0.1: {len(outside)}")
    return 1 if failures or outside else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=3, help="loads per app and setting (median)")
    parser.add_argument("--visitors", type=int, default=10, help="concurrent visitors")
    parser.add_argument("--visitors-only", action="store_true", help="only the concurrent visitors")
    parser.add_argument(
        "--settle", type=float, default=30.0, help="seconds before each preheated load (the pool refills)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lab-bench-apps-"))
    env = dict(os.environ)
    demo = Path(env.get("LAB_DEMO", ROOT / "data" / "demo"))
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
    print(f"bench apps: demo portal {demo} (synthetic), logs in {tmp}")
    return asyncio.run(run(env, args.loads, args.visitors, args.settle, tmp, not args.visitors_only))


if __name__ == "__main__":
    sys.exit(main())
