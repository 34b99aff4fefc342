"""`make app` exactly as the README says, and an app served with relative settings (issue 15 part 1).

`make app` passes ``LAB_DEMO=data/demo``, a path relative to the repository root, while each app's kernel
runs in notebooks/apps: every app showed "There was an error when executing cell [2]". The lab now makes
every path setting absolute once, at the start, against the caller's directory (lab/settings.py).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lab.serve import free_port, running, voila_env

pytestmark = pytest.mark.slow

#: app → the element its last part draws (as in bench/apps.py)
APPS = {
    "catalog": ".lab-table",
    "portal-tracker": ".lab-portal-tracker .lab-gauge",
    "reuse-explorer": ".lab-reuse-explorer .lab-count",
    "city-map": ".lab-city-map [data-key='total']",
    "insights": ".lab-insights .lab-insights-observed table",
}
ERROR_CELL = "There was an error when executing cell"


@pytest.mark.browser
def test_make_app_as_the_readme_says_serves_every_app_without_an_error_cell(
    root: Path,
    jupyter_env: dict[str, str],
    offline_page,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    port = free_port()
    env = {k: v for k, v in jupyter_env.items() if k not in ("LAB_DEMO", "LAB_USAGE_STORE", "LAB_CATALOG")}
    env["PORT"] = str(port)
    page, outside = offline_page
    with running(
        ["make", "app"], port, env=env, log=tmp_path / "make-app.log", timeout=300, new_session=True
    ):
        for app, ready in APPS.items():
            page.goto(f"http://127.0.0.1:{port}/voila/render/{app}.ipynb", timeout=240_000)
            expect(page.locator(ready).first).to_be_visible(timeout=240_000)
            text = page.locator("body").inner_text()
            assert ERROR_CELL not in text, f"{app}: {text[:500]}"
            assert "Traceback" not in text
    assert outside == []


def test_an_app_served_with_relative_settings_reads_them_from_the_callers_folder(
    root: Path, jupyter_env: dict[str, str], demo_portal: Path, tmp_path: Path
) -> None:
    """``LAB_DEMO=portal LAB_USAGE_STORE=store lab apps serve`` in a folder: the tracker's kernel (running in
    notebooks/apps) reads the demo portal and writes the store in that folder, not beside the notebook."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "portal").symlink_to(demo_portal, target_is_directory=True)
    port = free_port()
    env = {**jupyter_env, "LAB_DEMO": "portal", "LAB_USAGE_STORE": "store", "PYTHONPATH": str(root)}
    env.pop("LAB_CATALOG", None)
    cmd = [sys.executable, "-m", "lab", "apps", "serve", "--port", str(port), "--pool-size", "0"]
    with running(
        cmd, port, env=voila_env(env), log=tmp_path / "serve.log", timeout=120, grace=30, cwd=work
    ) as proc:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/voila/render/portal-tracker.ipynb", timeout=300
        ) as r:
            html = r.read().decode("utf-8")
        assert ERROR_CELL not in html
        assert re.search(r'"model_id":\s*"[0-9a-f]{32}"', html), "the tracker shows no widget"
        assert (work / "store").is_dir(), "the store was not written in the caller's folder"
        assert not (root / "notebooks" / "apps" / "store").exists()
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        assert f"LAB_DEMO={work / 'portal'}".encode() in environ  # exported absolute to Voilà's kernels
    assert os.listdir(work)
