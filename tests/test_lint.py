"""The code stays ruff clean and type-checked (in the suite, so CI enforces it, not only `make lint`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_ruff_check_and_format(root: Path) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    for args in (["check", "lab", "tests", "bench"], ["format", "--check", "lab", "tests", "bench"]):
        out = subprocess.run([str(ruff), *args], cwd=root, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]


def test_mypy_over_the_library(root: Path) -> None:
    """mypy over lab/ as pyproject.toml configures it (modules on its ratchet list excepted, for now)."""
    import tomllib

    mypy = Path(sys.executable).with_name("mypy")
    out = subprocess.run([str(mypy)], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]
    assert "Success: no issues found" in out.stdout
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    ratchet = {m for o in config["overrides"] if o.get("ignore_errors") for m in o["module"]}
    # the ground floor and this round's new modules are checked, never on the list
    for module in ("lab.settings", "lab.periods", "lab.errors", "lab.atomic", "lab.outputs", "lab.published"):
        assert module not in ratchet, module
