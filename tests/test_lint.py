"""The code stays ruff clean (checked in the suite so CI enforces it, not only `make lint`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_ruff_check_and_format(root: Path) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    for args in (["check", "lab", "tests", "bench"], ["format", "--check", "lab", "tests", "bench"]):
        out = subprocess.run([str(ruff), *args], cwd=root, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]
