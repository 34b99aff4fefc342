"""The demo portal at the real portal's size: ``lab demo --scale 1`` against its goals, in the same run.

Generates the demo at the default scale (0.01) and at scale 1 (4.68 million visits, 1.2 million API
calls: ~17 million log lines, ~4 GB), each in a child process whose wall time and peak memory
(``ru_maxrss`` of that child alone, from ``os.wait4``) are measured, and copies the scale-1 files once
(the I/O floor: the least any generator writing those bytes could take here). Prints the times, the peak
memory, the ratios (scale 1 / scale 0.01, against the 100× volume; generation / copy) and whether the
goals hold: ≤ 60 s and ≤ 2 GiB at scale 1 (the log is streamed month by month, never held whole).

Run: ``.venv/bin/python bench/demo.py [--scale S]`` (or ``make bench``); needs ~10 GB free in $TMPDIR.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 60.0
GOAL_MIB = 2048.0


def run(out: Path, scale: float) -> tuple[float, float]:
    """Generate the demo at ``scale`` in a child process: (wall seconds, peak resident MiB)."""
    cmd = [sys.executable, "-m", "lab", "demo", "--out", str(out), "--scale", str(scale), "--seed", "2017"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"lab demo --scale {scale} failed")
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def copy_seconds(folder: Path, target: Path) -> float:
    """Time to copy every file of ``folder`` (the bytes a generator must write)."""
    started = time.perf_counter()
    shutil.copytree(folder, target)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="the large scale (default 1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lab-bench-demo-") as tmp:
        root = Path(tmp)
        small_s, small_mib = run(root / "small", 0.01)
        big_s, big_mib = run(root / "big", args.scale)
        size = sum(f.stat().st_size for f in (root / "big").rglob("*") if f.is_file())
        floor = copy_seconds(root / "big", root / "copy")
    volume = args.scale / 0.01
    print(f"scale 0.01: {small_s:6.1f} s  peak {small_mib:7.0f} MiB")
    print(
        f"scale {args.scale:g}:    {big_s:6.1f} s  peak {big_mib:7.0f} MiB  ({size / 2**30:.2f} GiB written)"
    )
    print(f"ratio time scale {args.scale:g} / scale 0.01: {big_s / small_s:5.1f} (volume ×{volume:g})")
    print(f"ratio generation / copying the same bytes: {big_s / floor:5.1f} (copy {floor:.1f} s)")
    ok_time, ok_mem = big_s <= GOAL_SECONDS, big_mib <= GOAL_MIB
    print(
        f"goal ≤ {GOAL_SECONDS:g} s: {'met' if ok_time else 'NOT met'}; goal ≤ {GOAL_MIB:g} MiB: "
        f"{'met' if ok_mem else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
