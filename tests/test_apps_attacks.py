"""The public apps under attack, without a browser (a real Voilà on 127.0.0.1, plain HTTP and a websocket
client): forged widget messages never bring a traceback or a server path to the visitor (issue 19 defect
9); the visitors' kernel cap is exact under concurrency, pages that never connect give their kernel back
within seconds, the pools refill, and SIGTERM to ``lab apps serve`` stops Voilà and every kernel (defect 8).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.waiting import wait_for

from lab.serve import free_port, kernel_pids, process_tree, running, voila_env, voila_server

pytestmark = pytest.mark.slow

RENDER = "/voila/render/{}.ipynb"
LEAKS = ("Traceback", "site-packages", '.py"', ".py:", "/work/", "/usr/lib/python", 'File \\"')


@pytest.fixture(scope="module")
def env(
    jupyter_env: dict[str, str], demo_portal: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    store = tmp_path_factory.mktemp("attack-usage") / "store"
    return {**jupyter_env, "LAB_DEMO": str(demo_portal), "LAB_USAGE_STORE": str(store)}


def _get(url: str, timeout: float = 240) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode("utf-8", errors="replace")


def _message(msg_type: str, content: dict, channel: str = "shell") -> str:
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "username": "visitor",
        "session": uuid.uuid4().hex,
        "date": "2026-01-01T00:00:00Z",
        "version": "5.3",
    }
    return json.dumps(
        {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "channel": channel,
            "buffers": [],
            "content": content,
        }
    )


JUNK_STATES = [
    {"value": {"x": 1}},
    {"value": 10**30},
    {"value": "\x00" * 50},
    {"value": ["a", "b", "c"]},
    {"value": None},
    {"index": [9999, -5]},
    {"index": "x"},
    {"options": "not a list"},
    {"children": ["IPY_MODEL_doesnotexist"]},
    {"layout": "IPY_MODEL_nope"},
    {"_model_name": "Evil"},
    {"description": {"nested": [1, 2, {"deep": True}]}},
]


def forged_messages(model_ids: list[str]) -> list[str]:
    """Widget-channel messages a visitor's browser would never send: junk states, unknown methods, bad
    buffer paths, comms that do not exist, opened with odd targets or closed by the visitor."""
    out = []
    for model in model_ids:
        for state in JUNK_STATES:
            out.append(
                _message(
                    "comm_msg",
                    {"comm_id": model, "data": {"method": "update", "state": state, "buffer_paths": []}},
                )
            )
        out.append(
            _message(
                "comm_msg",
                {
                    "comm_id": model,
                    "data": {"method": "update", "state": {"value": 1}, "buffer_paths": [["a", 7]]},
                },
            )
        )
        for data in ({"method": "custom", "content": {"event": "click"}}, {"method": "bogus"}, None, [], "x"):
            out.append(_message("comm_msg", {"comm_id": model, "data": data}))
        out.append(_message("comm_msg", {"comm_id": model}))
    for target in ("jupyter.widget", "jupyter.widget.control", "no.such.target", ""):
        comm = uuid.uuid4().hex
        out.append(
            _message(
                "comm_open", {"comm_id": comm, "target_name": target, "data": {"state": {"_model_name": "X"}}}
            )
        )
        out.append(_message("comm_msg", {"comm_id": comm, "data": {"method": "request_states"}}))
    out.append(_message("comm_msg", {"comm_id": "no-such-comm", "data": {}}))
    out.append(_message("comm_close", {"comm_id": "no-such-comm", "data": {}}))
    out.append(_message("comm_info_request", {"target_name": "jupyter.widget"}))
    out.append(_message("comm_msg", {"comm_id": None, "data": {}}))
    if model_ids:
        out.append(_message("comm_close", {"comm_id": model_ids[-1], "data": {}}))
    return out


async def _send_and_listen(ws_url: str, messages: list[str], quiet_s: float = 8) -> list[str | bytes]:
    from tornado.websocket import websocket_connect

    ws = await websocket_connect(ws_url)
    for message in messages:
        await ws.write_message(message)
    received: list[str | bytes] = []
    with contextlib.suppress(asyncio.TimeoutError):
        while True:
            message = await asyncio.wait_for(ws.read_message(), timeout=quiet_s)
            if message is None:
                break
            received.append(message)
    ws.close()
    return received


def _in_thread(coro):  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(1) as pool:  # another test's Playwright may own this thread's event loop
        return pool.submit(asyncio.run, coro).result()


@pytest.mark.parametrize("app", ["portal-tracker", "catalog"])
def test_forged_widget_messages_never_bring_a_traceback_or_path_to_the_visitor(
    app: str, env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "voila.log"
    with voila_server(env, log, preheat=False, timeout=120) as (url, _):
        status, html = _get(f"{url}{RENDER.format(app)}")
        assert status == 200
        kernel_id = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', html).group(1)
        models = sorted(set(re.findall(r'"model_id":\s*"([0-9a-f]{32})"', html)))
        assert models, "the page names no widget model"
        messages = forged_messages(models)
        assert len(messages) >= 20
        ws_url = f"{url.replace('http', 'ws')}/api/kernels/{kernel_id}/channels"
        received = _in_thread(_send_and_listen(ws_url, messages))
        assert received, "the kernel answered nothing (was the websocket open?)"
        texts = [m.decode("utf-8", "replace") if isinstance(m, bytes) else m for m in received]
        leaks = [t[:300] for t in texts if any(leak in t for leak in LEAKS)]
        assert leaks == [], f"{len(leaks)} messages carried a traceback or a path: {leaks[:3]}"
        types = {json.loads(t)["msg_type"] for t in texts if t.startswith("{")}
        assert "error" not in types
        # the kernel is alive and the app still answers a genuine request
        status, _ = _get(f"{url}/api/kernels/{kernel_id}")
        assert status == 200
    server_log = log.read_text(errors="replace")
    assert "Traceback" in server_log  # the operator keeps what the visitor is spared


# ------------------------------------------------------------------------------------- kernel cap
def _visitor_pids(proc, pooled: int) -> int:  # type: ignore[no-untyped-def]
    return len(kernel_pids(proc)) - pooled


def test_the_cap_is_exact_under_concurrency_and_pages_that_never_connect_give_kernels_back(
    env: dict[str, str], tmp_path: Path, root: Path
) -> None:
    """--max-kernels 3, pools of 1 for each app: 8 plain GETs at once get 3 pages and 5 waiting pages,
    never more than 3 + the pools' kernels; nobody connects, so the 3 kernels are back within seconds,
    the pools are full again and later visitors are served (6 GETs once locked everyone out for 300 s)."""
    n_apps = len(list((root / "notebooks" / "apps").glob("*.ipynb")))
    status_port = free_port()
    options = {"max_kernels": 3, "pool_size": 1, "connect_timeout": 5, "queue_wait": 1, "fill_delay": 0}
    options["status_port"] = status_port
    with voila_server(env, tmp_path / "voila.log", timeout=120, **options) as (url, proc):
        assert wait_for(lambda: len(kernel_pids(proc)) >= n_apps, 180), "the pools were not filled"
        peak = [0]
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], len(kernel_pids(proc)))
                time.sleep(0.2)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda _: _get(f"{url}{RENDER.format('catalog')}"), range(8)))
        finally:
            stop.set()
            watcher.join()
        codes = sorted(code for code, _ in answers)
        assert codes == [200] * 3 + [503] * 5, codes
        waiting = next(body for code, body in answers if code == 503)
        assert "Vui lòng chờ" in waiting and "Please wait" in waiting
        assert 'http-equiv="refresh"' in waiting  # it retries by itself
        assert peak[0] <= 3 + n_apps, f"{peak[0]} kernels at the peak"
        # nobody connected: the visitors' kernels are reclaimed within seconds, the pools stay full
        assert wait_for(lambda: len(kernel_pids(proc)) == n_apps, 40), "kernels of unconnected pages lived on"
        time.sleep(3)
        assert len(kernel_pids(proc)) == n_apps  # the pools refilled (and hold no extra kernel)
        codes = [_get(f"{url}{RENDER.format('catalog')}")[0] for _ in range(3)]
        assert codes == [200, 200, 200]  # nobody is locked out
        # the operator's view: JSON on 127.0.0.1, one log line per visit without the visitor's address
        status = json.loads(_get(f"http://127.0.0.1:{status_port}/status")[1])
        assert status["kernels"]["cap"] == 3 and status["kernels"]["visitors"] == 3
        assert status["kernels"]["pooled"] == n_apps and status["waiting_pages"] == 5
        assert status["visits"] == 11 and status["render_seconds"]["count"] == 6
        assert status["render_seconds"]["p95"] > 0 and status["memory_bytes"] > 100e6
    server_log = (tmp_path / "voila.log").read_text()
    visits = [line for line in server_log.splitlines() if " visit " in line]
    assert len(visits) == 11 and not any("127.0.0.1" in line for line in visits)
    # kernels on Unix sockets: no TCP port to collide when a pool fills (a kernel died of it, bench/apps.py)
    assert "running over TCP" not in server_log and "Address already in use" not in server_log
    assert sum(" visit catalog.ipynb 503 " in line for line in visits) == 5


def test_sigterm_to_lab_apps_serve_stops_voila_and_every_kernel(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "lab", "apps", "serve", "--port", str(port), "--status-port", "0"]
    with running(cmd, port, env=voila_env(env), log=tmp_path / "serve.log", timeout=120) as proc:
        url = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: len(kernel_pids(proc)) >= 4, 180), "the pools were not filled"
        for app in ("catalog", "catalog", "city-map"):
            assert _get(f"{url}{RENDER.format(app)}")[0] == 200
        assert wait_for(lambda: len(kernel_pids(proc)) >= 4 + 3, 120), "the pools did not refill"
        tree = process_tree(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        stat = Path(f"/proc/{pid}/stat")
        return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"

    assert wait_for(lambda: not any(alive(pid) for pid in tree), 30), "kernels outlived lab apps serve"
