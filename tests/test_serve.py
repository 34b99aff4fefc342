"""lab.serve's helpers for running servers: a free port, a server process run until a block ends (started,
waited for, stopped), and the ipykernel children of a server. The Voilà and JupyterLab servers built on them
are exercised in test_apps_voila.py, test_apps_browser.py, test_maps_browser.py and test_workbench.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from support.waiting import wait_for

from lab.errors import LabError
from lab.serve import ServerError, free_port, kernel_pids, running


def _listens(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _http_server(port: int, folder: Path) -> list[str]:
    """A tiny static file server over ``folder`` on 127.0.0.1:``port``."""
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)]


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


def test_free_port_can_be_bound() -> None:
    port = free_port()
    assert 0 < port < 65536
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # nothing holds it


def test_running_yields_once_listening_and_stops_the_server(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello", encoding="utf-8")
    port = free_port()
    log = tmp_path / "server.log"
    with running(_http_server(port, tmp_path), port, env=None, log=log, timeout=30) as proc:
        assert proc.poll() is None
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello.txt", timeout=10) as answer:
            assert answer.read() == b"hello"
    assert proc.returncode is not None
    assert _gone(proc.pid)
    assert not _listens(port)
    assert "GET /hello.txt" in log.read_text()  # the server's output went to the log


def test_a_server_that_exits_at_once_raises_with_the_tail_of_its_log(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import sys; print('first line'); print('no such thing: boom'); sys.exit(3)"]
    server = running(cmd, free_port(), env=None, log=tmp_path / "server.log", timeout=30)
    with pytest.raises(ServerError) as failed, server:
        pytest.fail("entered the block of a server that never listened")
    message = str(failed.value)
    assert isinstance(failed.value, LabError)
    assert "\n" not in message
    assert "exited with 3" in message and "no such thing: boom" in message
    assert str(tmp_path / "server.log") in message


def test_a_server_that_never_listens_times_out_and_is_stopped(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    cmd = [sys.executable, "-c", "import os, time; print(os.getpid(), flush=True); time.sleep(60)"]
    server = running(cmd, free_port(), env=None, log=log, timeout=1)
    with pytest.raises(ServerError, match=r"did not listen on port \d+ within 1 s"), server:
        pytest.fail("entered the block of a server that never listened")
    pid = int(log.read_text().split()[0])
    assert _gone(pid)


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    port = free_port()
    script = (
        "import signal, socket, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "s = socket.socket()\n"
        f"s.bind(('127.0.0.1', {port}))\n"
        "s.listen()\n"
        "time.sleep(60)\n"
    )
    with running(
        [sys.executable, "-c", script], port, env=None, log=tmp_path / "server.log", grace=1
    ) as proc:
        pass
    assert proc.returncode == -9  # SIGKILL: it ignored SIGTERM
    assert _gone(proc.pid)


def test_kernel_pids(tmp_path: Path) -> None:
    port = free_port()
    with running(_http_server(port, tmp_path), port, env=None, log=tmp_path / "server.log") as proc:
        assert kernel_pids(proc) == []  # a server without kernels

    # a stand-in server whose child looks like a kernel (ipykernel in its command line) and one that does not
    script = (
        "import subprocess, sys\n"
        "sleep = [sys.executable, '-c', 'import time; time.sleep(60)']\n"
        "kernel = subprocess.Popen([*sleep, 'ipykernel_launcher', '-f', 'kernel.json'])\n"
        "other = subprocess.Popen(sleep)\n"
        "print(kernel.pid, other.pid, flush=True)\n"
        "kernel.wait()\n"
    )
    log = tmp_path / "parent.log"
    with open(log, "wb") as out:
        parent = subprocess.Popen([sys.executable, "-c", script], stdout=out)
    children: list[int] = []
    try:
        assert wait_for(lambda: len(log.read_text().split()) == 2, 30), "the children did not start"
        children = [int(pid) for pid in log.read_text().split()]
        assert kernel_pids(parent) == [children[0]]
    finally:
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        if not children:
            parent.kill()
        parent.wait(timeout=30)


def test_apps_serve_options_reach_the_voila_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """``lab apps serve`` passes its options to the Voilà command line (the server itself is exercised by
    tests/test_apps_voila.py); a bad value is refused in one line before anything starts."""
    from lab import serve
    from lab.cli import main

    started: list[list[str]] = []
    monkeypatch.setattr(serve, "_exec", lambda cmd, env: started.append(cmd) or 0)
    monkeypatch.setattr(serve, "prepare_snapshots", lambda env: None)  # tests/test_apps_snapshot.py
    assert main(["apps", "serve", "--port", "9001", "--pool-size", "3", "--max-kernels", "20"]) == 0
    (cmd,) = started
    assert {
        "--port=9001",
        "--pool_size=3",
        "--preheat_kernel=True",
        "--CappedKernelManager.max_kernels=20",
    } <= set(cmd)
    assert main(["apps", "serve", "--pool-size", "0"]) == 0
    assert "--preheat_kernel=False" in started[-1]
    assert main(["apps", "serve", "--max-kernels", "0"]) == 2


def test_visitors_kernels_listen_on_unix_sockets() -> None:
    from lab.serve import CappedKernelManager, IPCServerKernelManager

    assert CappedKernelManager().kernel_manager_class == "lab.serve.IPCServerKernelManager"
    km = IPCServerKernelManager()
    assert km.transport == "ipc" and len(km.ip) < 80 and km.ip != IPCServerKernelManager().ip
