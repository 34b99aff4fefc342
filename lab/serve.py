"""Serving the public Voilà apps (``lab apps serve``, ``make app``).

Voilà runs in directory mode over ``notebooks/apps`` on 127.0.0.1 with sources stripped, tracebacks
hidden, a file allowlist limited to static assets, preheated kernels, a cap on live kernels (each page
view is a kernel of ~200 MB) and idle kernels culled (kernels of closed tabs are not shut down
otherwise, voila issue 1458). Visitors cannot run code: Voilà drops ``execute_request`` messages from
the browser (tests/test_apps_voila.py proves it).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Int

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


MAX_KERNELS = 12  # live kernels at most: ~200 MB each, 2 cores here
CULL_INTERVAL = 60  # seconds between checks for idle kernels
CULL_IDLE_TIMEOUT = 300  # seconds a kernel may stay idle (e.g. a closed tab) before it is shut down


class CappedKernelManager(AsyncMappingKernelManager):
    """A kernel manager that refuses new kernels beyond ``max_kernels`` (503: try again shortly), and
    keeps the idle clock of preheated kernels at zero while they wait in Voilà's pool.

    Voilà never culls a kernel waiting in its pool, but the kernel's idle clock kept running there: a
    kernel pooled for longer than ``cull_idle_timeout`` could be culled between being handed to a visitor
    and the visitor's browser connecting to it. Each culling pass now first restarts the clocks of the
    pooled kernels, so a kernel handed out has at least ``cull_idle_timeout - cull_interval`` seconds.
    """

    max_kernels = Int(MAX_KERNELS, config=True, help="Live kernels at most; more visitors get a 503.")

    async def start_kernel(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Start a kernel unless the cap is reached."""
        if kwargs.get("kernel_id") is None and len(self.list_kernel_ids()) >= self.max_kernels:
            self.log.warning("kernel cap %d reached: refusing a new kernel", self.max_kernels)
            raise web.HTTPError(503, "Too many visitors right now, please try again in a minute.")
        return await super().start_kernel(*args, **kwargs)

    def pooled_kernel_ids(self) -> list[str]:
        """Ids of the preheated kernels waiting in Voilà's pools (none without preheating)."""
        ids = []
        for pool in getattr(self, "_pools", {}).values():
            for future in pool:
                if future.done() and not future.cancelled() and future.exception() is None:
                    ids.append(future.result().get("kernel_id"))
        return [i for i in ids if i in self._kernels]

    async def cull_kernels(self) -> None:
        """Restart the idle clocks of pooled kernels, then cull idle kernels as usual."""
        now = utcnow()
        for kernel_id in self.pooled_kernel_ids():
            self._kernels[kernel_id].last_activity = now
        await super().cull_kernels()


def voila_command(
    port: int,
    host: str = "127.0.0.1",
    apps_dir: Path = APPS_DIR,
    *,
    preheat: bool = True,
    max_kernels: int = MAX_KERNELS,
    cull_interval: int = CULL_INTERVAL,
    cull_idle_timeout: int = CULL_IDLE_TIMEOUT,
    base_url: str = "/",
) -> list[str]:
    """The Voilà command line the lab serves its apps with (``base_url`` for a reverse proxy prefix)."""
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
        f"--Voila.base_url={base_url}",
        f"--preheat_kernel={preheat}",
        "--pool_size=1",
        "--VoilaConfiguration.multi_kernel_manager_class=lab.serve.CappedKernelManager",
        f"--CappedKernelManager.max_kernels={max_kernels}",
        f"--MappingKernelManager.cull_interval={cull_interval}",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_timeout}",
        "--MappingKernelManager.cull_connected=True",
    ]


def serve_apps(port: int = 8866, host: str = "127.0.0.1") -> int:
    """Run Voilà over the apps folder until interrupted; return its exit code."""
    if not any(APPS_DIR.glob("*.ipynb")):
        raise LabError("no apps yet: notebooks/apps holds no notebook", file=APPS_DIR)
    cmd = voila_command(port, host)
    log.info("serving the apps at http://%s:%d/ (Ctrl-C stops)", host, port)
    return subprocess.call(cmd, env=voila_env())
