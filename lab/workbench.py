"""The researcher's workbench: the project's Jupyter kernel and a JupyterLab bound to 127.0.0.1 with a token.

``make lab`` registers the kernel (named for the lab) inside the virtual environment and starts
JupyterLab on ``notebooks/``; it works as root too (CI machines), where Jupyter refuses to start unless
told ``--allow-root``.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KERNEL_NAME = "danang-lab"
KERNEL_DISPLAY = "Python (Đà Nẵng lab)"


def register_kernel(prefix: str | None = None) -> Path:
    """Install the project kernel spec into ``prefix`` (default: this environment's ``sys.prefix``)."""
    from ipykernel.kernelspec import install

    where = install(kernel_name=KERNEL_NAME, display_name=KERNEL_DISPLAY, prefix=prefix or sys.prefix)
    log.info("kernel %s registered in %s", KERNEL_NAME, where)
    return Path(where)


def jupyterlab_command(port: int = 8888, token: str | None = None, root: Path | None = None) -> list[str]:
    """The JupyterLab command line: 127.0.0.1 only, token authentication, notebooks/ as the root."""
    token = token or os.environ.get("LAB_TOKEN") or secrets.token_hex(16)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root or PROJECT_ROOT / 'notebooks'}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        # no calls home for news or updates: the machines are offline
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def main() -> int:
    """Register the kernel and run JupyterLab until interrupted (``make lab``)."""
    from lab.settings import resolve_environment

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    resolve_environment()  # a relative LAB_MIRROR means the caller's folder, not the notebook's
    register_kernel()
    token = os.environ.get("LAB_TOKEN") or secrets.token_hex(16)
    port = int(os.environ.get("PORT", "8888"))
    print(f"JupyterLab: http://127.0.0.1:{port}/lab?token={token}", flush=True)
    return subprocess.call(jupyterlab_command(port, token))


if __name__ == "__main__":
    raise SystemExit(main())
