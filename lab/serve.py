"""Serving the public Voilà apps (``lab apps serve``, ``make app``).

Voilà runs in directory mode over ``notebooks/apps`` on 127.0.0.1 with sources stripped, tracebacks
hidden, a file allowlist limited to static assets, preheated kernels, a cap on live kernels (each page
view is a kernel of ~200 MB) and idle kernels culled (kernels of closed tabs are not shut down
otherwise, voila issue 1458). Visitors cannot run code: Voilà drops ``execute_request`` messages from
the browser (tests/test_apps_voila.py proves it).

The tests and ``bench/apps.py`` start servers with :func:`voila_server` (any server process with
:func:`running`, on a :func:`free_port`) and count a server's kernels with :func:`kernel_pids`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

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


MAX_KERNELS = 12  # visitors' kernels at most (preheated ones waiting in the pools aside): ~200 MB each
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

    max_kernels = Int(
        MAX_KERNELS,
        config=True,
        help="Visitors' kernels at most (kernels waiting in the preheated pools do not count); "
        "more visitors get a 503.",
    )

    async def start_kernel(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Start a kernel unless the cap is reached."""
        visitors = len(self.list_kernel_ids()) - len(self.pooled_kernel_ids())
        if kwargs.get("kernel_id") is None and visitors >= self.max_kernels:
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
    pool_size: int = 1,
    max_kernels: int = MAX_KERNELS,
    cull_interval: int = CULL_INTERVAL,
    cull_idle_timeout: int = CULL_IDLE_TIMEOUT,
    base_url: str = "/",
) -> list[str]:
    """The Voilà command line the lab serves its apps with (``base_url`` for a reverse proxy prefix;
    ``pool_size`` preheated kernels waiting per app, ~200 MB each)."""
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
        f"--pool_size={pool_size}",
        "--VoilaConfiguration.multi_kernel_manager_class=lab.serve.CappedKernelManager",
        f"--CappedKernelManager.max_kernels={max_kernels}",
        f"--MappingKernelManager.cull_interval={cull_interval}",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_timeout}",
        "--MappingKernelManager.cull_connected=True",
    ]


def serve_apps(
    port: int = 8866,
    host: str = "127.0.0.1",
    base_url: str = "/",
    pool_size: int = 1,
    max_kernels: int = MAX_KERNELS,
) -> int:
    """Run Voilà over the apps folder until interrupted; return its exit code.

    Parameters
    ----------
    port, host
        Where to listen (127.0.0.1 by default: put a reverse proxy in front to publish the apps).
    base_url
        The path prefix the apps are served under, as the reverse proxy forwards it (``/apps/``).
    pool_size
        Preheated kernels waiting per app: that many visitors arriving together get the app at once.
    max_kernels
        Visitors' kernels at most (beyond it a visitor gets a 503 "try again in a minute").
    """
    if pool_size < 0 or max_kernels < 1:
        raise LabError(f"pool size must be ≥ 0 and the kernel cap ≥ 1 (got {pool_size}, {max_kernels})")
    if not any(APPS_DIR.glob("*.ipynb")):
        raise LabError("no apps yet: notebooks/apps holds no notebook", file=APPS_DIR)
    base_url = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    cmd = voila_command(
        port, host, base_url=base_url, preheat=pool_size > 0, pool_size=pool_size, max_kernels=max_kernels
    )
    log.info("serving the apps at http://%s:%d%s (Ctrl-C stops)", host, port, base_url)
    return subprocess.call(cmd, env=voila_env())


class ServerError(LabError):
    """A server process exited before it listened, or did not listen in time."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now.

    Parameters
    ----------
    host
        The address the server will bind.

    Returns
    -------
    int
        A port the operating system picked as free (another process could still take it before the
        server binds it, which is unlikely on a test machine).
    """
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _tail(log_file: Path, chars: int = 2000) -> str:
    """The last ``chars`` characters of a log file ('' if there is none)."""
    try:
        return log_file.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _listens(host: str, port: int) -> bool:
    """Whether a TCP connection to ``host:port`` is accepted."""
    with socket.socket() as s:
        return s.connect_ex((host, port)) == 0


@contextlib.contextmanager
def running(
    cmd: list[str],
    port: int,
    *,
    env: Mapping[str, str] | None,
    log: Path,
    timeout: float = 90,
    host: str = "127.0.0.1",
    grace: float = 20,
) -> Iterator[subprocess.Popen]:
    """Run a server process until the block ends; enter the block once its port accepts connections.

    Parameters
    ----------
    cmd
        The command line of the server, which must listen on ``host:port``.
    port
        The port the server listens on (see :func:`free_port`).
    env
        The server's environment (``None``: this process's).
    log
        The file the server's stdout and stderr go to (overwritten).
    timeout
        Seconds the server has to start listening.
    host
        The address the server listens on.
    grace
        Seconds the server has to exit after SIGTERM at the end, before it is killed.

    Yields
    ------
    subprocess.Popen
        The running server process.

    Raises
    ------
    ServerError
        The process exited before it listened, or did not listen within ``timeout`` seconds (the message
        ends with the tail of its log). The process is stopped in either case.
    """
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, env=None if env is None else dict(env), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:  # checked first: the port may be another process's
                    name = " ".join([Path(cmd[0]).name, *cmd[1:3]])
                    raise ServerError(f"{name} exited with {proc.returncode}: {_tail(log)}", file=log)
                if _listens(host, port):
                    break
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"did not listen on port {port} within {timeout:g} s: {_tail(log)}", file=log
                    )
                time.sleep(0.3)
            logging.getLogger(__name__).debug("pid %d listens on %s:%d (log: %s)", proc.pid, host, port, log)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def voila_server(
    env: Mapping[str, str] | None,
    log: Path,
    *,
    host: str = "127.0.0.1",
    timeout: float = 90,
    grace: float = 20,
    **options: Any,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Serve the apps with Voilà (:func:`voila_command`, :func:`voila_env`) on a free port until the block
    ends.

    Parameters
    ----------
    env
        The environment to build Voilà's on (``None``: this process's).
    log
        The file Voilà's output goes to.
    host
        The address Voilà listens on.
    timeout
        Seconds Voilà has to start listening.
    grace
        Seconds Voilà has to exit at the end before it is killed.
    **options
        Keyword arguments of :func:`voila_command` (``apps_dir``, ``preheat``, ``max_kernels``,
        ``cull_interval``, ``cull_idle_timeout``, ``base_url``).

    Yields
    ------
    tuple[str, subprocess.Popen]
        The server's URL (``http://host:port`` followed by ``base_url`` without its last slash) and its
        process.

    Raises
    ------
    ServerError
        Voilà exited before it listened or did not listen in time (see :func:`running`).
    """
    port = free_port(host)
    cmd = voila_command(port, host, **options)
    with running(cmd, port, env=voila_env(env), log=log, timeout=timeout, host=host, grace=grace) as proc:
        yield f"http://{host}:{port}{str(options.get('base_url', '/')).rstrip('/')}", proc


def kernel_pids(proc: subprocess.Popen) -> list[int]:
    """The ipykernel processes a server process started (its children, read from ``/proc``).

    Parameters
    ----------
    proc
        The server process (Voilà, JupyterLab).

    Returns
    -------
    list[int]
        The process ids of its live ipykernel children, ascending ([] where there is no ``/proc``).
    """
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])  # the name in () may hold spaces
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            continue
        if ppid == proc.pid and b"ipykernel" in cmdline:
            found.append(int(stat.parent.name))
    return sorted(found)
