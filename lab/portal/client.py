"""Polite HTTP to the portal: one session, a pause between requests, retries with back-off.

The retry policy is the lab's (:mod:`lab.http`: :data:`~lab.http.TRIES` tries, exponential back-off
from :data:`~lab.http.BACKOFF`, ``Retry-After`` honoured, connect/read timeouts); on top of it the
client waits at least :data:`MIN_INTERVAL` seconds between two requests to the portal, retries
included, so a harvest of a thousand pages does not hammer a city's server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from lab import http as lab_http
from lab.portal.account import Account

log = logging.getLogger(__name__)

#: The portal's public address (dataset pages, listing pages and the data API).
DEFAULT_BASE_URL = "https://congdulieu.vn"
#: The least seconds between two requests to the portal (module constant: tests set 0).
MIN_INTERVAL: float = 0.5

_sleep: Callable[[float], None] = time.sleep  # tests replace it to record the pauses without waiting
_clock: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class Answer:
    """What the portal answered: status, reason, content type and the whole body."""

    status: int
    reason: str
    content_type: str
    body: bytes
    url: str


class PortalClient:
    """GET pages and API calls from one portal, politely.

    Parameters
    ----------
    base_url
        The portal's address, e.g. ``https://congdulieu.vn`` (no trailing slash needed).
    session
        A :class:`requests.Session` to reuse (e.g. the one of :func:`lab.fetch.fetch`); default a new
        one with the lab's User-Agent, closed by :meth:`close`.
    account
        Basic authentication for the data API; None for public pages.
    """

    def __init__(
        self, base_url: str, *, session: requests.Session | None = None, account: Account | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._own = session is None
        self.session = session if session is not None else lab_http.new_session()
        self.account = account
        self._last: float | None = None

    def __repr__(self) -> str:
        return f"PortalClient({self.base_url!r}, account={self.account!r})"

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        """The absolute URL of ``path`` (with its query) on the portal."""
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url}/{path.lstrip('/')}{query}"

    def _pause(self) -> None:
        """Wait until :data:`MIN_INTERVAL` seconds have passed since the previous request."""
        if self._last is not None and MIN_INTERVAL > 0:
            wait = MIN_INTERVAL - (_clock() - self._last)
            if wait > 0:
                _sleep(wait)
        self._last = _clock()

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        dataset: str | None = None,
        file: str | None = None,
    ) -> Answer:
        """GET ``path``: retried on timeouts, dropped connections, 429 and 5xx; any other status returned.

        Parameters
        ----------
        path
            The path on the portal, e.g. ``/api/dataset/MTAyNTI4``.
        params
            The query (``limit``, ``offset``, ``p``).
        dataset, file
            Named by the error if every try fails.

        Returns
        -------
        Answer
            The status and the whole body (the caller decides what a 4xx or an HTML page means).

        Raises
        ------
        lab.errors.FetchError
            Every try failed (the last cause and the URL, never the account).
        """
        url = self.url(path, params)
        shown = lab_http.redact_url(url)
        auth = self.account.auth if self.account is not None else None

        def attempt() -> Answer:
            self._pause()
            with self.session.get(
                url,
                auth=auth,
                timeout=(lab_http.CONNECT_TIMEOUT, lab_http.READ_TIMEOUT),
                allow_redirects=True,
            ) as resp:
                lab_http.check_status(resp, shown)
                body = resp.content  # a dropped body raises here and is retried
                return Answer(
                    resp.status_code, resp.reason or "", resp.headers.get("Content-Type", ""), body, resp.url
                )

        answer = lab_http.retrying(attempt, shown, dataset=dataset, file=file)
        log.debug("GET %s: HTTP %d, %d bytes", shown, answer.status, len(answer.body))
        return answer

    def close(self) -> None:
        """Close the session if this client opened it."""
        if self._own:
            self.session.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
