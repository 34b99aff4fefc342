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

import asyncio
import collections
import contextlib
import functools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager, ServerKernelManager
from tornado import web
from traitlets import Int, default

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
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # kernels reuse the lab's compiled modules: faster starts
    return env


MAX_KERNELS = 12  # visitors' kernels at most (preheated ones waiting in the pools aside)
CULL_INTERVAL = 60  # seconds between checks for idle kernels
CULL_IDLE_TIMEOUT = 300  # seconds a kernel may stay idle (e.g. a closed tab) before it is shut down
CONNECT_TIMEOUT = 20  # seconds a visitor's page has to connect to its kernel once rendered
DISCONNECT_GRACE = 60  # seconds a visitor's kernel may stay without any page connected (a closed tab)
QUEUE_WAIT = 10  # seconds a visitor beyond the cap waits for a kernel before the waiting page
FILL_DELAY = 2  # seconds before a pool refills after handing a kernel out (visitors being served first)
KERNEL_MB = 150  # resident MB of a preheated kernel (bench/apps.py measures it), to size the pools
RENDERS_KEPT = 1000  # render times kept for the status endpoint's percentiles


class IPCServerKernelManager(ServerKernelManager):
    """A visitor's kernel on Unix domain sockets, not TCP ports.

    Over TCP, each kernel's five ports are picked free, then bound by the kernel: twenty kernels starting
    at once can pick the same port, and one dies ("Address already in use"; a visitor then got a broken
    page, bench/apps.py). Sockets named after the kernel cannot collide, only this user can open them,
    and ipykernel no longer warns about plain-text TCP. Short paths in the temporary folder (a socket
    path has at most 107 bytes), removed when the kernel shuts down.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        import tempfile
        import uuid

        return os.path.join(tempfile.gettempdir(), f"lab-app-kernel-{uuid.uuid4().hex[:12]}")


class CappedKernelManager(AsyncMappingKernelManager):
    """The kernel manager of ``lab apps serve``: an exact cap on visitors' kernels, kernels of pages that
    never connected (plain GETs, bots) reclaimed within seconds, pools that always refill, the idle clock
    of preheated kernels kept at zero while they wait, a status endpoint and one log line per visit.

    - **Exact cap**: a visitor takes a slot (synchronously, before any ``await``) before a kernel is
      started for them or taken from a pool; preheated kernels waiting in the pools have their own budget
      (the pool sizes) and never count. So at most ``max_kernels`` visitors' kernels plus the pools live,
      however many requests arrive together. A visitor beyond the cap waits up to ``queue_wait`` seconds
      for a slot, then gets the bilingual waiting page (503), which retries by itself.
    - **Reclaimed**: a visitor's kernel whose page has not connected ``connect_timeout`` seconds after it
      was handed out (and after its last activity), or with no page connected for ``disconnect_grace``
      seconds, is shut down (checked every 2 s).
    - **Pools refill**: a pool entry whose start failed is dropped and the pool refilled; with
      ``max_total_kernels`` (a memory budget) a pool refills only while all kernels stay below it.
    - **Pooled kernels are never culled**: each culling pass first restarts their idle clocks (a kernel
      handed out has at least ``cull_idle_timeout - cull_interval`` seconds before it could be culled).
    - **Operator view**: ``status_port`` (127.0.0.1 only) answers ``GET /status`` with JSON
      (:meth:`status`); each visit (``/voila/render/…``) is logged on one line, without the IP.
    """

    @default("kernel_manager_class")
    def _default_kernel_manager_class(self) -> str:
        return "lab.serve.IPCServerKernelManager"

    max_kernels = Int(
        MAX_KERNELS,
        config=True,
        help="Visitors' kernels at most (kernels waiting in the preheated pools do not count); "
        "more visitors get the waiting page.",
    )
    connect_timeout = Int(CONNECT_TIMEOUT, config=True, help="Seconds a rendered page has to connect.")
    disconnect_grace = Int(DISCONNECT_GRACE, config=True, help="Seconds a kernel may have no page.")
    queue_wait = Int(QUEUE_WAIT, config=True, help="Seconds a visitor beyond the cap waits for a slot.")
    status_port = Int(0, config=True, help="Port of the JSON status endpoint on 127.0.0.1 (0: none).")
    max_total_kernels = Int(
        0,
        config=True,
        help="Kernels at most, visitors' and pooled (a memory budget): a pool refills only below it; "
        "0: no budget beyond the cap and the pool sizes.",
    )

    def __init__(self, **kwargs: Any) -> None:
        self._visitors: dict[str, float] = {}  # visitor's kernel id -> monotonic time it was handed out
        self._connected: set[str] = set()  # visitors' kernels a page has connected to
        self._alone_since: dict[str, float] = {}  # kernel id -> since when no page is connected
        self._reserved = 0  # slots taken by visitors whose kernel is being started or taken from a pool
        self._pool_starting = 0  # preheated kernels being started
        self._renders: collections.deque[float] = collections.deque(maxlen=RENDERS_KEPT)
        self._waiting_pages = 0
        self._visits = 0
        self._started_at = time.monotonic()
        self._ticker: Any = None
        super().__init__(**kwargs)
        original = getattr(self, "get_rendered_notebook", None)
        if original is not None:  # Voilà's preheating subclass: cap the pool path too
            self.get_rendered_notebook = functools.partial(self._capped_rendered_notebook, original)

    # ------------------------------------------------------------------------------------ the cap
    async def _take_slot(self) -> None:
        """Take a visitor's slot, waiting up to ``queue_wait`` seconds; 503 (the waiting page) if none."""
        self._operator_view()  # before the first answer: every visit is counted, a first burst's included
        deadline = time.monotonic() + self.queue_wait
        while len(self._visitors) + self._reserved >= self.max_kernels:
            if time.monotonic() >= deadline:
                self._waiting_pages += 1
                self.log.warning("kernel cap %d reached: the visitor gets the waiting page", self.max_kernels)
                raise web.HTTPError(503, "Too many visitors right now, the page retries by itself.")
            await asyncio.sleep(0.2)
        self._reserved += 1  # no await between the check and here: exact under concurrency

    def _handed_out(self, kernel_id: str) -> None:
        self._visitors[kernel_id] = time.monotonic()
        self._ensure_ticker()

    async def start_kernel(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Start a kernel: a pool's (no cap) or a visitor's (takes a slot first)."""
        env = kwargs.get("env") or {}
        if kwargs.get("kernel_id") is not None or env.get("VOILA_PREHEAT") == "True":
            self._ensure_ticker()
            while (
                self.max_total_kernels and len(self._kernels) + self._pool_starting >= self.max_total_kernels
            ):
                await asyncio.sleep(0.5)  # a pool refills once visitors' kernels leave room in the budget
            self._pool_starting += 1
            try:
                return await super().start_kernel(*args, **kwargs)
            finally:
                self._pool_starting -= 1
        await self._take_slot()
        try:
            kernel_id = await super().start_kernel(*args, **kwargs)
            self._handed_out(kernel_id)
            return kernel_id
        finally:
            self._reserved -= 1

    async def _capped_rendered_notebook(self, original, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Voilà's hand-out of a preheated kernel, behind a visitor's slot."""
        await self._take_slot()
        try:
            render_task, rendered, kernel_id = await original(*args, **kwargs)
            self._handed_out(kernel_id)
            return render_task, rendered, kernel_id
        finally:
            self._reserved -= 1

    def pooled_kernel_ids(self) -> list[str]:
        """Ids of the preheated kernels waiting in Voilà's pools (none without preheating)."""
        ids = []
        for pool in getattr(self, "_pools", {}).values():
            for future in pool:
                if future.done() and not future.cancelled() and future.exception() is None:
                    ids.append(future.result().get("kernel_id"))
        return [i for i in ids if i in self._kernels]

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Shut a kernel down and give its visitor's slot back."""
        self._visitors.pop(kernel_id, None)
        self._connected.discard(kernel_id)
        self._alone_since.pop(kernel_id, None)
        return await super().shutdown_kernel(kernel_id, *args, **kwargs)

    def notify_connect(self, kernel_id: str) -> None:
        """A page connected to its kernel."""
        super().notify_connect(kernel_id)
        self._connected.add(kernel_id)
        self._alone_since.pop(kernel_id, None)

    def notify_disconnect(self, kernel_id: str) -> None:
        """A page's connection closed."""
        super().notify_disconnect(kernel_id)
        if not self._kernel_connections.get(kernel_id, 0):
            self._alone_since[kernel_id] = time.monotonic()

    # ------------------------------------------------------------------------------------ upkeep
    def _ensure_ticker(self) -> None:
        if self._ticker is None:
            from tornado.ioloop import PeriodicCallback

            self._ticker = PeriodicCallback(self._tick, 2000)
            self._ticker.start()

    async def _tick(self) -> None:
        """Every 2 s: reclaim kernels no page uses, refill the pools, and set up the operator view once."""
        try:
            self._operator_view()
            await self._reclaim()
            self._refill()
        except Exception:  # the upkeep must go on whatever one pass met
            self.log.exception("kernel upkeep failed")

    async def _reclaim(self) -> None:
        now, clock = utcnow(), time.monotonic()
        for kernel_id, handed in list(self._visitors.items()):
            kernel = self._kernels.get(kernel_id)
            if kernel is None:
                self._visitors.pop(kernel_id, None)
                continue
            if self._kernel_connections.get(kernel_id, 0):
                continue
            if kernel_id not in self._connected:
                active = getattr(kernel, "last_activity", now)
                quiet = min(clock - handed, (now - active).total_seconds())
                if quiet > self.connect_timeout:
                    self.log.info("reclaiming kernel %s: its page never connected", kernel_id)
                    await self.shutdown_kernel(kernel_id)
            elif clock - self._alone_since.get(kernel_id, clock) > self.disconnect_grace:
                self.log.info("reclaiming kernel %s: no page connected for a while", kernel_id)
                await self.shutdown_kernel(kernel_id)

    def _refill(self) -> None:
        for name, pool in list(getattr(self, "_pools", {}).items()):
            failed = [f for f in pool if f.done() and (f.cancelled() or f.exception() is not None)]
            for future in failed:
                pool.remove(future)
                self.log.warning("a preheated kernel for %s failed to start: refilling", name)
            if failed:
                self.fill_if_needed(delay=0, notebook_name=name)  # type: ignore[attr-defined]

    async def cull_kernels(self) -> None:
        """Restart the idle clocks of pooled kernels, then cull idle kernels as usual."""
        now = utcnow()
        for kernel_id in self.pooled_kernel_ids():
            self._kernels[kernel_id].last_activity = now
        await super().cull_kernels()

    # ------------------------------------------------------------------------------- operator view
    def _operator_view(self) -> None:
        app = getattr(getattr(self, "parent", None), "app", None)
        if app is None or app.settings.get("log_function") == self._log_request:
            return
        app.settings["log_function"] = self._log_request
        if self.status_port:
            from tornado.httpserver import HTTPServer

            status = web.Application([(r"/status", _StatusHandler, {"manager": self})])
            HTTPServer(status).listen(self.status_port, "127.0.0.1")
            self.log.info("status of the apps at http://127.0.0.1:%d/status", self.status_port)

    def _log_request(self, handler: web.RequestHandler) -> None:
        """One line per visit (the app, the answer, the seconds), never the visitor's address."""
        request, status = handler.request, handler.get_status()
        seconds = request.request_time()
        if "/voila/render/" in request.path:
            self._visits += 1
            if status == 200:
                self._renders.append(seconds)
            self.log.info("visit %s %d %.2f s", request.path.rsplit("/", 1)[-1], status, seconds)
        elif status >= 400:
            self.log.info("%d %s %s %.0f ms", status, request.method, request.path, 1000 * seconds)

    def status(self) -> dict[str, Any]:
        """What the operator sees: visitors, kernels, memory of the server tree and render times."""
        renders = sorted(self._renders)

        def pct(p: float) -> float | None:
            return round(renders[min(len(renders) - 1, int(p * len(renders)))], 3) if renders else None

        pids = process_tree(os.getpid())
        return {
            "visitors_live": sum(1 for k in self._visitors if self._kernel_connections.get(k, 0)),
            "kernels": {
                "visitors": len(self._visitors),
                "starting": self._reserved,
                "pooled": len(self.pooled_kernel_ids()),
                "total": len(self.list_kernel_ids()),
                "cap": self.max_kernels,
            },
            "memory_bytes": pss_bytes(pids),
            "resident_bytes": rss_bytes(pids),
            "processes": len(pids),
            "visits": self._visits,
            "waiting_pages": self._waiting_pages,
            "render_seconds": {"count": len(renders), "p50": pct(0.5), "p95": pct(0.95), "max": pct(1.0)},
            "uptime_seconds": round(time.monotonic() - self._started_at, 1),
        }


class _StatusHandler(web.RequestHandler):
    """``GET /status``: :meth:`CappedKernelManager.status` as JSON."""

    def initialize(self, manager: CappedKernelManager) -> None:
        self.manager = manager

    def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(self.manager.status()))


class VisitorWebsocketConnection(ZMQChannelsWebsocketConnection):
    """The kernel websocket of a visitor's page, minus what a visitor must never see: error messages,
    stderr output and anything carrying a Python traceback (they go to the server log instead).

    The apps' kernels already keep comm errors away from the page (:func:`lab.apps.base.guard_kernel`);
    this filter holds whatever a kernel sends.
    """

    def handle_outgoing_message(self, stream: str, outgoing_msg: list[Any]) -> None:
        """Forward a kernel message to the page unless it is an error, stderr or a traceback."""
        try:
            _, fed = self.session.feed_identities(outgoing_msg)
            parts = fed[1:]  # header, parent header, metadata, content, buffers…
            header = self.session.unpack(parts[0])
            msg_type = header.get("msg_type", "")
            content = bytes(parts[3]) if len(parts) > 3 else b""
        except Exception:  # a message we cannot read is not forwarded
            self.log.warning("dropped an unreadable kernel message")
            return
        stderr = msg_type == "stream" and b'"stderr"' in content
        if msg_type == "error" or stderr or b"Traceback (most recent call last)" in content:
            self.log.info("kept a %s message from kernel %s off the visitor's page", msg_type, self.kernel_id)
            return
        super().handle_outgoing_message(stream, outgoing_msg)


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process descending from it (read from ``/proc``; ``[pid]`` where there is none)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children[ppid].append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, ()))
    return sorted(tree)


def rss_bytes(pids: list[int]) -> int:
    """The summed resident memory of processes (0 for those that ended)."""
    page, total = os.sysconf("SC_PAGE_SIZE"), 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def pss_bytes(pids: list[int]) -> int:
    """The summed proportional resident memory of processes: each page shared by k processes (the
    libraries every kernel maps) counted 1/k in each, so the sum is what the tree really holds (0 for
    processes that ended; RSS where ``smaps_rollup`` is missing)."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            total += int(text.split("\nPss:", 1)[1].split()[0]) * 1024
        except (OSError, IndexError, ValueError):
            total += rss_bytes([pid])
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0.0 if it ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pool_size_for_memory(apps: int, budget_mb: int | None = None, kernel_mb: int = KERNEL_MB) -> int:
    """Preheated kernels per app that fit in a quarter of the available memory (``budget_mb``: that
    quarter, default read from ``/proc/meminfo``), at least 1 and at most 8."""
    if budget_mb is None:
        try:
            info = Path("/proc/meminfo").read_text()
            available = int(info.split("MemAvailable:")[1].split()[0]) // 1024
        except (OSError, IndexError, ValueError):
            return 1
        budget_mb = available // 4
    return max(1, min(8, budget_mb // max(1, kernel_mb * max(1, apps))))


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
    connect_timeout: int = CONNECT_TIMEOUT,
    queue_wait: int = QUEUE_WAIT,
    fill_delay: float = FILL_DELAY,
    status_port: int = 0,
    base_url: str = "/",
    pools: Mapping[str, int] | None = None,
    max_total_kernels: int = 0,
) -> list[str]:
    """The Voilà command line the lab serves its apps with (``base_url`` for a reverse proxy prefix;
    ``pool_size`` preheated kernels waiting per app, ``pools`` another size for some apps by name, e.g.
    ``{"portal-tracker": 20}``; ``status_port`` the JSON status endpoint on 127.0.0.1, 0 for none)."""
    sizes = {"default": {"pool_size": pool_size}}
    for name, n in (pools or {}).items():
        sizes[f"{name.removesuffix('.ipynb')}.ipynb"] = {"pool_size": int(n)}
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
        f"--VoilaKernelManager.fill_delay={fill_delay}",
        f"--VoilaKernelManager.kernel_pools_config={json.dumps(sizes)}",
        "--VoilaConfiguration.multi_kernel_manager_class=lab.serve.CappedKernelManager",
        "--Voila.kernel_websocket_connection_class=lab.serve.VisitorWebsocketConnection",
        f"--CappedKernelManager.max_kernels={max_kernels}",
        f"--CappedKernelManager.connect_timeout={connect_timeout}",
        f"--CappedKernelManager.queue_wait={queue_wait}",
        f"--CappedKernelManager.status_port={status_port}",
        f"--CappedKernelManager.max_total_kernels={max_total_kernels}",
        f"--MappingKernelManager.cull_interval={cull_interval}",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_timeout}",
        "--MappingKernelManager.cull_connected=True",
    ]


def prepare_snapshots(env: Mapping[str, str]) -> None:
    """Compute the apps' snapshots (:mod:`lab.apps.snapshot`, :func:`lab.apps.insights.prepare`) before
    any kernel starts, with the settings the kernels will have: the preheated kernels then only read them.
    A failure is logged, not fatal (each kernel tries again, and shows a plain message if it cannot)."""
    from lab.apps import insights, snapshot

    saved = dict(os.environ)
    try:
        # the whole environment of the kernels, not only the lab's settings: the usage secret lives under
        # $HOME (or $XDG_CONFIG_HOME), and a store made with another secret would be rebuilt by the kernels
        os.environ.clear()
        os.environ.update(env)
        started = time.monotonic()
        snap = snapshot.current()
        log.info("app snapshot %s ready in %.1f s", snap.folder.name, time.monotonic() - started)
        started = time.monotonic()
        n = insights.prepare()
        log.info("insights: %d views ready in %.1f s", n, time.monotonic() - started)
    except Exception as exc:  # the apps still start; their kernels report what is wrong
        log.warning("could not prepare the apps' snapshot: %s: %s", type(exc).__name__, exc)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _exec(cmd: list[str], env: dict[str, str]) -> int:
    """Replace this process by ``cmd``: a SIGTERM to ``lab apps serve`` then reaches Voilà itself, which
    shuts every kernel down before it exits."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(cmd[0], cmd, env)
    return 1  # not reached


def serve_apps(
    port: int = 8866,
    host: str = "127.0.0.1",
    base_url: str = "/",
    pool_size: int | None = 1,
    max_kernels: int = MAX_KERNELS,
    *,
    status_port: int | None = None,
    catalog: str | Path | None = None,
    store: str | Path | None = None,
    pools: Mapping[str, int] | None = None,
    max_total_kernels: int = 0,
) -> int:
    """Run Voilà over the apps folder (this process becomes Voilà) until stopped.

    Parameters
    ----------
    port, host
        Where to listen (127.0.0.1 by default: put a reverse proxy in front to publish the apps).
    base_url
        The path prefix the apps are served under, as the reverse proxy forwards it (``/apps/``).
    pool_size
        Preheated kernels waiting per app (None: sized from the available memory,
        :func:`pool_size_for_memory`).
    max_kernels
        Visitors' kernels at most (beyond it a visitor waits, then gets the waiting page).
    status_port
        The JSON status endpoint's port on 127.0.0.1 (None: ``port + 1``; 0: none).
    catalog, store
        The catalog file and usage store the apps read (default ``$LAB_CATALOG``, ``$LAB_USAGE_STORE``).
    pools
        Another pool size for some apps, by name (``{"portal-tracker": 20}`` for a link shared widely).
    max_total_kernels
        Kernels at most, visitors' and pooled: the pools refill only below it (0: no such budget).
    """
    from lab import settings

    apps = sorted(APPS_DIR.glob("*.ipynb"))
    if pool_size is None:
        pool_size = pool_size_for_memory(len(apps))
    if pool_size < 0 or max_kernels < 1:
        raise LabError(f"pool size must be ≥ 0 and the kernel cap ≥ 1 (got {pool_size}, {max_kernels})")
    if not apps:
        raise LabError("no apps yet: notebooks/apps holds no notebook", file=APPS_DIR)
    base_url = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    status_port = port + 1 if status_port is None else status_port
    env = voila_env(settings.child_env(LAB_CATALOG=catalog, LAB_USAGE_STORE=store))
    prepare_snapshots(env)
    cmd = voila_command(
        port,
        host,
        base_url=base_url,
        preheat=pool_size > 0,
        pool_size=pool_size,
        max_kernels=max_kernels,
        status_port=status_port,
        pools=pools,
        max_total_kernels=max_total_kernels,
    )
    log.info("serving the apps at http://%s:%d%s (Ctrl-C stops)", host, port, base_url)
    return _exec(cmd, env)


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
    new_session: bool = False,
    cwd: Path | None = None,
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
    new_session
        Start the process in a session of its own and signal its whole process group at the end (for a
        command that starts the server as a child, such as ``make app``).
    cwd
        The directory the server starts in (default this process's).

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
            cmd,
            env=None if env is None else dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
            cwd=cwd,
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
            _signal(proc, signal.SIGTERM, new_session)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal(proc, signal.SIGKILL, new_session)
                proc.wait()


def _signal(proc: subprocess.Popen, sig: int, group: bool) -> None:
    """Send ``sig`` to a process, or to its process group (``group``); nothing if it is gone."""
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)


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
