"""Path settings are resolved once, against the caller's directory (lab/settings.py)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab import settings
from lab.settings import cache_dir, demo_dir, mirror_dir


def test_relative_settings_become_absolute_against_the_callers_directory(tmp_path: Path) -> None:
    env = {"LAB_DEMO": "data/demo", "LAB_MIRROR": "../shared/data", "LAB_CACHE": "/abs/cache", "OTHER": "x"}
    changed = settings.resolve_environment(env, cwd=tmp_path / "work")
    assert env["LAB_DEMO"] == str(tmp_path / "work" / "data" / "demo")
    assert env["LAB_MIRROR"] == str(tmp_path / "shared" / "data")  # normalised, no ".."
    assert env["LAB_CACHE"] == "/abs/cache" and env["OTHER"] == "x"  # absolute and other values untouched
    assert set(changed) == {"LAB_DEMO", "LAB_MIRROR"}


def test_the_library_reads_paths_through_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAB_DEMO", "portal")
    monkeypatch.setenv("LAB_MIRROR", "mirror")
    monkeypatch.setenv("LAB_CACHE", "cache")
    monkeypatch.setenv("LAB_USAGE_STORE", "store")
    monkeypatch.setenv("LAB_CATALOG", "cat.yaml")
    from lab.catalog import default_catalog_path
    from lab.usage.store import default_store_path

    assert demo_dir() == tmp_path / "portal" and mirror_dir() == tmp_path / "mirror"
    assert cache_dir() == tmp_path / "cache"
    assert default_store_path() == tmp_path / "store"
    assert default_catalog_path() == tmp_path / "cat.yaml"


def test_cli_path_options_are_made_absolute(tmp_path: Path) -> None:
    args = argparse.Namespace(catalog="cats/c.yaml", store="s", mirror=None, registry="/abs/r.csv", other="o")
    settings.resolve_args(args, cwd=tmp_path)
    assert args.catalog == str(tmp_path / "cats" / "c.yaml") and args.store == str(tmp_path / "s")
    assert args.mirror is None and args.registry == "/abs/r.csv" and args.other == "o"


def test_a_subprocess_of_the_cli_inherits_absolute_settings(tmp_path: Path, root: Path) -> None:
    """What `lab` exports to kernels and workers: a child started in another folder sees absolute paths."""
    code = (
        "import os, sys; from lab import settings; settings.resolve_environment(); "
        "import subprocess; print(subprocess.run([sys.executable, '-c', "
        "'import os; print(os.environ[\"LAB_DEMO\"])'], cwd='/', capture_output=True, text=True).stdout)"
    )
    env = {**os.environ, "LAB_DEMO": "data/demo", "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.stdout.strip() == str(tmp_path / "data" / "demo"), out.stderr


def test_a_kernel_reads_relative_settings_against_its_servers_directory(tmp_path: Path, root: Path) -> None:
    """A kernel started by a Jupyter server (or papermill) runs in the notebook's folder; a relative setting
    the user gave means the folder the server was started in ($JPY_PARENT_PID's working directory)."""
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], cwd=tmp_path)
    try:
        code = (
            "import sys; sys.modules.setdefault('ipykernel', sys); "
            "from lab import settings; print(settings.demo_dir())"
        )
        env = {
            **{k: v for k, v in os.environ.items() if k != "PWD"},  # no shell said where it started
            "LAB_DEMO": "data/demo",
            "JPY_PARENT_PID": str(server.pid),
            "PYTHONPATH": str(root),
        }
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=root / "notebooks", env=env, capture_output=True, text=True
        )
    finally:
        server.kill()
        server.wait()
    assert out.stdout.strip() == str(tmp_path / "data" / "demo"), out.stderr


@pytest.mark.slow
def test_a_relative_mirror_works_in_a_guided_notebook(
    root: Path, shared_data: Path, kernel_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``LAB_MIRROR=../shared/data`` (as the README says, from the repository root): the kernel runs in
    notebooks/explore, yet cell 3 reads the mirror the user meant (it failed there before)."""
    import json

    import papermill as pm

    monkeypatch.chdir(root)
    monkeypatch.setenv("PWD", str(root))  # as a shell started in the repository root sets it
    monkeypatch.setenv("LAB_MIRROR", os.path.relpath(shared_data, root))  # ../shared/data
    notebook = root / "notebooks" / "explore" / "01-getting-started.ipynb"
    out = tmp_path / notebook.name
    pm.execute_notebook(
        str(notebook), str(out), kernel_name="python3", cwd=str(notebook.parent), progress_bar=False
    )
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    assert "94 EPSG:4326 repaired: 5" in text
