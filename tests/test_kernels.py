"""The kernel manager of report runs: a real kernel on Unix domain sockets, cleaned up after."""

from __future__ import annotations

import asyncio
import glob
import os
import tempfile

import pytest

pytestmark = pytest.mark.slow


def test_report_kernels_run_on_local_sockets_and_leave_nothing_behind(kernel_env: None) -> None:
    from lab.kernels import IPCKernelManager

    async def run() -> tuple[str, str, list[str], str]:
        km = IPCKernelManager(kernel_name="python3")
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            reply = await kc.execute_interactive("print(6 * 7)", timeout=60, output_hook=outputs.append)
            sockets = [s for s in glob.glob(f"{km.ip}-*") if os.stat(s).st_mode & 0o170000 == 0o140000]
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return km.transport, reply["content"]["status"], sockets, km.ip

    from concurrent.futures import ThreadPoolExecutor

    outputs: list[dict] = []
    with ThreadPoolExecutor(1) as pool:  # a browser test's Playwright may own this thread's event loop
        transport, status, sockets, ip = pool.submit(asyncio.run, run()).result()
    assert transport == "ipc" and status == "ok"
    assert any(m["content"].get("text") == "42\n" for m in outputs if m["msg_type"] == "stream")
    assert len(sockets) == 5  # shell, iopub, stdin, control, heartbeat: Unix domain sockets
    assert ip.startswith(tempfile.gettempdir()) and len(ip) + 7 < 107  # fits a Unix socket path
    assert glob.glob(f"{ip}-*") == []  # removed at shutdown
