"""The kernel manager the lab starts its own kernels with (report runs): local IPC sockets, not TCP.

A kernel started over TCP listens on 127.0.0.1 ports in plain text, and ipykernel says so on every
start ("Kernel is running over TCP without encryption"). Report kernels talk only to the process that
started them, so Unix domain sockets do: only this user can open them, and nothing is printed.
The sockets live in the temporary folder under a short name (a socket path has at most 107 bytes) and
are removed when the kernel is shut down.
"""

from __future__ import annotations

import os
import tempfile
import uuid

from jupyter_client.manager import AsyncKernelManager
from traitlets import default


class IPCKernelManager(AsyncKernelManager):
    """An asynchronous kernel manager whose kernel listens on Unix domain sockets."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        return os.path.join(tempfile.gettempdir(), f"lab-kernel-{uuid.uuid4().hex[:12]}")
