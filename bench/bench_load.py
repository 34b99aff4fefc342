"""How much does ``lab.load`` cost over a bare parse of the same file? Prints ratios (same run).

Run: ``.venv/bin/python bench/bench_load.py`` (or ``make bench``). Uses ``$LAB_MIRROR`` or ../shared/data.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(fn: Callable[[], object], repeat: int = 7) -> float:
    """Median wall time of ``repeat`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    mirror = Path(os.environ.get("LAB_MIRROR", ROOT.parent / "shared" / "data"))
    if not mirror.is_dir():
        print(f"bench_load: no mirror at {mirror}; set LAB_MIRROR", file=sys.stderr)
        return 1
    os.environ["LAB_CACHE"] = tempfile.mkdtemp(prefix="lab-bench-cache-")
    os.environ["LAB_OFFLINE"] = "1"
    import polars as pl
    import pyogrio

    import lab

    cat = lab.load_catalog(ROOT / "datasets.yaml")
    wards_file = mirror / "sapnhap_2025" / "danang_wards_2025.geojson"
    iqair_files = [mirror / d.mirror for d in cat.get("air-quality-iqair").distributions]
    cases = [
        (
            "danang-wards-2025",
            lambda: pyogrio.read_dataframe(wards_file),
            lambda: lab.load("danang-wards-2025", catalog=cat, mirror=mirror),
        ),
        (
            "air-quality-iqair",
            lambda: [pl.read_csv(f, infer_schema=False) for f in iqair_files],
            lambda: lab.load("air-quality-iqair", catalog=cat, mirror=mirror),
        ),
    ]
    print(f"{'dataset':<22} {'baseline s':>10} {'lab.load s':>10} {'ratio':>7}")
    for name, baseline, ours in cases:
        base = median_seconds(baseline)
        lab_s = median_seconds(ours)
        print(f"{name:<22} {base:>10.4f} {lab_s:>10.4f} {lab_s / base:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
