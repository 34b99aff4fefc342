"""Serving the public Voilà apps (``lab apps serve``, ``make app``).

Voilà runs in directory mode over ``notebooks/apps`` on 127.0.0.1 with sources stripped, tracebacks
hidden and idle kernels culled (kernels of closed tabs are not shut down otherwise, voila issue 1458).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from lab.errors import LabError

log = logging.getLogger(__name__)

APPS_DIR = Path(__file__).resolve().parent.parent / "notebooks" / "apps"
JUPYTER_DATA = Path(__file__).resolve().parent / "share" / "jupyter"  # the lab's Voilà template "lab-offline"
TEMPLATE = "lab-offline"


def voila_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Voilà runs in: the lab's template folder first on ``JUPYTER_PATH``."""
    env = dict(os.environ if base is None else base)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(JUPYTER_DATA), env.get("JUPYTER_PATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def voila_command(port: int, host: str = "127.0.0.1", apps_dir: Path = APPS_DIR) -> list[str]:
    """The Voilà command line the lab serves its apps with."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(apps_dir),
        "--no-browser",
        f"--template={TEMPLATE}",
        f"--port={port}",
        f"--Voila.ip={host}",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--VoilaConfiguration.file_allowlist=['.*\\.(css|js|png|svg|woff2?)']",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_idle_timeout=300",
        "--MappingKernelManager.cull_connected=True",
    ]


def serve_apps(port: int = 8866, host: str = "127.0.0.1") -> int:
    """Run Voilà over the apps folder until interrupted; return its exit code."""
    if not any(APPS_DIR.glob("*.ipynb")):
        raise LabError("no apps yet: notebooks/apps holds no notebook", file=APPS_DIR)
    cmd = voila_command(port, host)
    log.info("serving the apps at http://%s:%d/ (Ctrl-C stops)", host, port)
    return subprocess.call(cmd, env=voila_env())
