"""`make lab`: JupyterLab on 127.0.0.1 with a token and the project kernel; `import lab` from a browser."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lab.workbench import KERNEL_DISPLAY, jupyterlab_command, register_kernel

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TOKEN = "lab-test-token-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prefix = tmp_path_factory.mktemp("kernels")
    register_kernel(prefix=str(prefix))
    root = tmp_path_factory.mktemp("notebooks")
    env = {**jupyter_env, "JUPYTER_PATH": str(prefix / "share" / "jupyter")}
    port = _free_port()
    log = root.parent / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            jupyterlab_command(port, TOKEN, root), env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    pytest.fail(f"jupyterlab exited: {log.read_text(errors='replace')[-2000:]}")
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.3)
            else:
                pytest.fail("jupyterlab did not listen within 90 s")
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


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


def test_project_kernel_runs_import_lab_in_a_notebook(jupyterlab: str, page: Page, root: Path) -> None:
    outside: list[str] = []

    def guard(route):  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    page.goto(f"{jupyterlab}/lab?token={TOKEN}", timeout=120_000)
    card = page.locator(f'.jp-LauncherCard[title="{KERNEL_DISPLAY}"]').first
    expect(card).to_be_visible(timeout=120_000)
    card.click()
    editor = page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first
    expect(editor).to_be_visible(timeout=60_000)
    editor.click()
    page.keyboard.type("import lab; print('lab', lab.__version__, len(lab.load_catalog()))")
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-NotebookPanel .jp-OutputArea-output").first
    expect(output).to_contain_text("lab 0.1.0", timeout=120_000)
    assert outside == [], outside
