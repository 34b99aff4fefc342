"""Polling: wait until a condition holds, within a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], object], seconds: float, interval: float = 0.5) -> bool:
    """Whether ``predicate()`` turns true within ``seconds`` (polled every ``interval``); import it with
    ``from support.waiting import wait_for``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
