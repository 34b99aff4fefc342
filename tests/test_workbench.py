"""`make lab`: JupyterLab on 127.0.0.1 with a token and the project kernel; `import lab` from a browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lab.serve import free_port, running
from lab.workbench import KERNEL_DISPLAY, jupyterlab_command, register_kernel

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TOKEN = "lab-test-token-0123456789"


@pytest.fixture(scope="module")
def jupyterlab(jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prefix = tmp_path_factory.mktemp("kernels")
    register_kernel(prefix=str(prefix))
    root = tmp_path_factory.mktemp("notebooks")
    env = {**jupyter_env, "JUPYTER_PATH": str(prefix / "share" / "jupyter")}
    port = free_port()
    cmd = jupyterlab_command(port, TOKEN, root)
    with running(cmd, port, env=env, log=root.parent / "jupyterlab.log"):
        yield f"http://127.0.0.1:{port}"


def test_binds_loopback_only_and_wants_the_token(jupyterlab: str) -> None:
    import urllib.error
    import urllib.request

    port = int(jupyterlab.rsplit(":", 1)[1])
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(f"{jupyterlab}/api/contents", timeout=10)
    assert denied.value.code == 403
    denied.value.close()
    with urllib.request.urlopen(f"{jupyterlab}/api/contents?token={TOKEN}", timeout=10) as ok:
        assert ok.status == 200
    cmd = " ".join(jupyterlab_command(port, TOKEN))
    assert "--ServerApp.ip=127.0.0.1" in cmd
    if os.geteuid() == 0:
        assert "--allow-root" in cmd


def test_project_kernel_runs_import_lab_in_a_notebook(jupyterlab: str, offline_page, root: Path) -> None:  # type: ignore[no-untyped-def]
    page, outside = offline_page
    page.goto(f"{jupyterlab}/lab?token={TOKEN}", timeout=120_000)
    card = page.locator(f'.jp-LauncherCard[title="{KERNEL_DISPLAY}"]').first
    expect(card).to_be_visible(timeout=120_000)
    card.click()
    editor = page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first
    expect(editor).to_be_visible(timeout=60_000)
    code = "import lab; print('lab', lab.__version__, len(lab.load_catalog()))"
    for _ in range(3):  # keys typed while the new notebook still takes focus can be lost: type again
        editor.click()
        editor.fill(code)
        try:
            expect(editor).to_have_text(code, timeout=10_000)
            break
        except AssertionError:
            continue
    expect(editor).to_have_text(code)
    # run only once the kernel is connected: a cell run before that is skipped, not queued
    expect(page.locator(".jp-StatusBar-Widget", has_text=f"{KERNEL_DISPLAY} | Idle")).to_be_visible(
        timeout=120_000
    )
    editor.press("Shift+Enter")
    output = page.locator(".jp-NotebookPanel .jp-OutputArea-output").first
    expect(output).to_contain_text("lab 0.1.0", timeout=120_000)
    assert outside == [], outside
