"""Set-up: one source of dependencies, the lock file, the console script, the Makefile targets."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml


def _pyproject(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


def test_environment_yml_installs_what_pyproject_declares(root: Path) -> None:
    project = _pyproject(root)["project"]
    env = yaml.safe_load((root / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    extras = project["optional-dependencies"]
    declared = set(project["dependencies"]) | set(extras["dev"]) | set(extras["cluster"])
    assert set(p for p in pip if not p.startswith("-")) == declared
    assert "--editable ." in pip
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace("python", "") == project["requires-python"]


def test_required_stack_is_declared(root: Path) -> None:
    names = {re.split(r"[<>=\[ ]", d)[0].lower() for d in _pyproject(root)["project"]["dependencies"]}
    assert {"jupyterlab", "polars", "geopandas", "folium", "papermill", "voila", "ipywidgets"} <= names


def test_lock_file_pins_every_dependency(root: Path) -> None:
    lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    locked = {p["name"].lower() for p in lock["package"]}
    project = _pyproject(root)["project"]
    extras = project["optional-dependencies"]
    for dep in [*project["dependencies"], *extras["dev"], *extras["cluster"]]:
        name = re.split(r"[<>=\[ ]", dep)[0].lower().replace("_", "-")
        assert name in locked, f"{name} is not in uv.lock: run `make lock`"


def test_console_script_and_module_agree() -> None:
    via_module = subprocess.run(
        [sys.executable, "-m", "lab", "--help"], capture_output=True, text=True, check=True
    )
    script = Path(sys.executable).with_name("lab")
    via_script = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert "catalog" in via_module.stdout
    assert via_module.stdout.replace("__main__.py", "lab") == via_script.stdout.replace("__main__.py", "lab")


def test_makefile_targets_and_ci(root: Path) -> None:
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    for target in ("reports", "test", "app", "lint", "bench", "help"):
        assert re.search(rf"^{target}:.*## ", makefile, flags=re.MULTILINE), target
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "make reports" in readme and "make test" in readme


def test_required_top_level_layout(root: Path) -> None:
    for name in (
        "notebooks",
        "lab",
        "reports",
        "datasets.yaml",
        "environment.yml",
        "Makefile",
        "tests",
        "bench",
    ):
        assert (root / name).exists(), name


def test_notebooks_are_stored_without_outputs(root: Path) -> None:
    import json

    for nb in root.glob("notebooks/**/*.ipynb"):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), nb
        assert not any(c.get("execution_count") for c in cells if c["cell_type"] == "code"), nb
