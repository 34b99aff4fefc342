"""The network of a test: loopback only, no proxy, tiny timeouts, back-off recorded instead of slept."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from lab import http as lab_http

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def loopback_network(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Online, no proxy, 127.0.0.1 only (a request elsewhere fails the test), the lab's HTTP policy with
    tiny timeouts; returns the list the back-off delays are recorded in (none is slept)."""
    monkeypatch.delenv("LAB_OFFLINE", raising=False)
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(lab_http, "CONNECT_TIMEOUT", 2.0)
    monkeypatch.setattr(lab_http, "READ_TIMEOUT", 2.0)
    monkeypatch.setattr(lab_http, "BACKOFF", 0.01)
    monkeypatch.setattr(lab_http, "RETRY_AFTER_CAP", 0.05)
    sleeps: list[float] = []
    monkeypatch.setattr(lab_http, "_sleep", sleeps.append)
    real_send = requests.adapters.HTTPAdapter.send

    def loopback_only(
        self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kw: Any
    ) -> Any:
        host = urlsplit(request.url).hostname
        assert host in ("127.0.0.1", "localhost"), f"a test tried to reach {host}"
        return real_send(self, request, **kw)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", loopback_only)
    return sleeps
