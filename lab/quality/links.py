"""Link checks: does every distribution URL answer, since when is it broken?

Each URL gets an archiver-style status (the statuses of ckanext-archiver, the CKAN link checker):

========== ============================================================================================
status     meaning
========== ============================================================================================
ok         it answered 2xx (after at most :data:`MAX_REDIRECTS` redirects) with the expected content
unchanged  as ``ok``, with the fingerprint (ETag, Last-Modified, size, first bytes) of the last success
broken     ``reason`` says why: ``invalid URL`` (not an http(s)/file URL, no host), ``request failed``
           (no connection, timeout, redirect loop, HTTP 4xx/5xx) or ``download error`` (an HTML page
           where data was expected, an empty or cut answer, a missing local file)
unsure     could not check: the server asked to come back later (429, 503), the host name did not
           resolve while no other host answered either (offline, or DNS failing), or the check itself
           failed. The scores treat it as unknown, never as broken (:mod:`lab.quality.mqa`)
========== ============================================================================================

A host name that does not resolve is ``broken`` ("the host name does not exist") only when another host
answered in the same run, which proves the network and DNS work; otherwise it is ``unsure``: an offline
machine cannot tell a dead domain from its own missing network.

How a URL is checked: ``HEAD`` first (cheap; redirects followed), then a ranged ``GET`` of the first
:data:`SNIFF_BYTES` bytes (many servers refuse ``HEAD``; and the first bytes tell an HTML login or error
page from the CSV the catalog promised). A connection failure or a timeout on ``HEAD`` is final (no
second wait). ``file://`` URLs (the catalog's local and demo files) are checked on disk.

The checker is polite: at most :data:`PER_HOST` requests at a time to one host and :data:`HOST_DELAY`
seconds between two requests to it, a User-Agent naming the lab; concurrent across hosts
(:data:`WORKERS` threads); and cached: a URL checked less than ``max_age`` ago is not asked again.

Every result is kept in a small history file (:func:`history_path`, JSON, written atomically under a file
lock): per URL the last status, the first failure of the current run of failures ("broken since"), the
last success and the failure count (reset by a success), and the last :data:`HISTORY_KEEP` outcomes.
:func:`last_results` reads it without any network: what ``--offline`` and the reports use.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import polars as pl
import requests
from tqdm import tqdm

from lab.atomic import atomic_write_text
from lab.cache import utc_timestamp
from lab.http import LINK_CONNECT_TIMEOUT, LINK_READ_TIMEOUT, MAX_REDIRECTS, new_session, redact_url
from lab.settings import cache_dir, offline
from lab.sniff import html_title, looks_like_html

log = logging.getLogger(__name__)

__all__ = [
    "BROKEN_REASONS",
    "LINK_SCHEMA",
    "STATUSES",
    "LinkResult",
    "check_links",
    "check_url",
    "history_path",
    "last_results",
    "read_history",
    "record_results",
    "results_frame",
    "status_table",
]

STATUSES = ("ok", "unchanged", "broken", "unsure")
BROKEN_REASONS = ("invalid URL", "request failed", "download error")
#: Bytes of the answer read to tell data from an HTML page.
SNIFF_BYTES: int = 2048
#: Threads checking URLs; requests at a time to one host; seconds between two requests to one host.
WORKERS: int = 8
PER_HOST: int = 2
HOST_DELAY: float = 0.5
#: Outcomes kept per URL in the history file.
HISTORY_KEEP: int = 20
HISTORY_NAME = "link-checks.json"
_BUSY = frozenset({429, 503})
#: The message of a host name that did not resolve (unsure until another host answers in the same run).
NO_DNS = "could not check: the host name did not resolve (offline, or DNS failing)"
NO_SUCH_HOST = "the host name does not exist (other hosts answered in the same run)"

LINK_SCHEMA: dict[str, pl.DataType] = {
    "url": pl.String(),
    "status": pl.String(),
    "reason": pl.String(),
    "http_status": pl.Int32(),
    "message": pl.String(),
    "content_type": pl.String(),
    "checked_at": pl.Datetime("us", "UTC"),
    "first_failure": pl.Datetime("us", "UTC"),
    "last_success": pl.Datetime("us", "UTC"),
    "failure_count": pl.Int32(),
    "cached": pl.Boolean(),
}
"""Columns of :func:`results_frame` and :func:`last_results`."""


@dataclass(frozen=True)
class LinkResult:
    """The outcome of checking one URL, with its history."""

    url: str
    status: str  # one of STATUSES
    reason: str | None = None  # for broken: one of BROKEN_REASONS
    http_status: int | None = None
    message: str | None = None
    content_type: str | None = None
    checked_at: str | None = None  # ISO 8601 UTC
    first_failure: str | None = None
    last_success: str | None = None
    failure_count: int = 0
    fingerprint: str | None = None
    cached: bool = False
    history: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (checked_at, status)

    @property
    def broken(self) -> bool:
        """True for a broken link."""
        return self.status == "broken"

    @property
    def answers(self) -> bool:
        """True when the URL answered as it should (ok or unchanged)."""
        return self.status in ("ok", "unchanged")


# ------------------------------------------------------------------------------------------- one URL
@dataclass(frozen=True)
class _Outcome:
    """What one check found, before the history is merged in."""

    status: str
    reason: str | None = None
    http_status: int | None = None
    message: str | None = None
    content_type: str | None = None
    fingerprint: str | None = None


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _expects_data(expect: str | None) -> bool:
    return bool(expect) and str(expect).upper() != "HTML"


def _check_file(url: str, expect: str | None) -> _Outcome:
    parts = urlsplit(url)
    path = Path(url2pathname(unquote(parts.path)))
    if not path.is_file():
        return _Outcome("broken", "download error", message=f"no such local file: {path}")
    stat = path.stat()
    if stat.st_size == 0:
        return _Outcome("broken", "download error", message="the file is empty")
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if _expects_data(expect) and looks_like_html(head):
        return _Outcome("broken", "download error", message=f"an HTML page, not {expect}")
    return _Outcome("ok", fingerprint=_fingerprint(stat.st_size, stat.st_mtime_ns))


def _html_message(head: bytes, expect: str | None) -> str:
    title = html_title(head)
    page = f"an HTML page titled {title!r}" if title else "an HTML page"
    return f"the server answered {page}, not {expect}"


def _from_response(resp: requests.Response, head: bytes, expect: str | None) -> _Outcome:
    status = resp.status_code
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip() or None
    if status in _BUSY:
        return _Outcome("unsure", None, status, f"HTTP {status} {resp.reason}: the server is busy", ctype)
    if status >= 400:
        return _Outcome("broken", "request failed", status, f"HTTP {status} {resp.reason}", ctype)
    if status >= 300:
        return _Outcome("unsure", None, status, f"HTTP {status} without a usable Location", ctype)
    if _expects_data(expect) and (looks_like_html(head) or (ctype == "text/html" and not head.strip())):
        return _Outcome("broken", "download error", status, _html_message(head, expect), ctype)
    length = resp.headers.get("Content-Range", "").rsplit("/", 1)[-1] or resp.headers.get("Content-Length")
    if not head and status != 204 and length in ("0", None):
        return _Outcome("broken", "download error", status, "the answer is empty", ctype)
    mark = resp.headers.get("ETag") or resp.headers.get("Last-Modified") or ""
    return _Outcome(
        "ok", None, status, None, ctype, _fingerprint(mark, length, hashlib.sha256(head).hexdigest())
    )


def _offline_cause(exc: BaseException) -> str | None:
    """:data:`NO_DNS` for a host name that did not resolve, a message for an unreachable network, else
    None (walks the exception's causes: requests wraps urllib3's, which wraps the socket's)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, socket.gaierror) or type(seen).__name__ == "NameResolutionError":
            return NO_DNS
        if isinstance(seen, OSError) and seen.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "could not check: the network is unreachable (offline)"
        nxt = seen.__cause__ or seen.__context__
        if nxt is None and seen.args and isinstance(seen.args[0], BaseException):
            nxt = seen.args[0]
        nxt = nxt or getattr(seen, "reason", None)
        seen = nxt if isinstance(nxt, BaseException) else None
    return None


def _request_error(exc: requests.RequestException, timeout: tuple[float, float]) -> _Outcome:
    cause = _offline_cause(exc) if isinstance(exc, requests.exceptions.ConnectionError) else None
    if cause is not None:  # offline or DNS down: unknown, not "does not answer"
        return _Outcome("unsure", message=cause)
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return _Outcome(
            "broken", "request failed", message=f"redirect loop (more than {MAX_REDIRECTS} redirects)"
        )
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return _Outcome("broken", "invalid URL", message="not a valid URL")
    if isinstance(exc, requests.exceptions.InvalidSchema):
        return _Outcome("broken", "invalid URL", message="not an http(s) URL")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return _Outcome("broken", "request failed", message=f"connecting timed out after {timeout[0]:g} s")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return _Outcome("broken", "request failed", message=f"no answer within {timeout[1]:g} s")
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return _Outcome(
            "broken", "download error", message="the connection dropped in the middle of the answer"
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return _Outcome("broken", "request failed", message="TLS error")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return _Outcome("broken", "request failed", message="could not connect")
    return _Outcome("unsure", message=f"{type(exc).__name__} while checking")


def _read_head(resp: requests.Response) -> bytes:
    head = b""
    for chunk in resp.iter_content(chunk_size=SNIFF_BYTES):
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    return head[:SNIFF_BYTES]


def _check_http(
    url: str, expect: str | None, session: requests.Session, timeout: tuple[float, float]
) -> _Outcome:
    try:
        with session.head(url, allow_redirects=True, timeout=timeout) as head_resp:
            head_status = head_resp.status_code
    except (
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        requests.exceptions.TooManyRedirects,
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
    ) as exc:
        return _request_error(exc, timeout)
    except requests.RequestException:
        head_status = None  # HEAD misbehaves: the ranged GET decides
    log.debug("HEAD %s → %s", redact_url(url), head_status)
    try:
        headers = {"Range": f"bytes=0-{SNIFF_BYTES - 1}"}
        with session.get(url, headers=headers, stream=True, allow_redirects=True, timeout=timeout) as resp:
            head = _read_head(resp) if resp.status_code < 300 else b""
            return _from_response(resp, head, expect)
    except requests.RequestException as exc:
        return _request_error(exc, timeout)


def _validate(url: str) -> _Outcome | None:
    """An ``invalid URL`` outcome, or None when the URL can be checked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _Outcome("broken", "invalid URL", message="not a valid URL")
    if parts.scheme == "file":
        return None if parts.path else _Outcome("broken", "invalid URL", message="a file URL without a path")
    if parts.scheme not in ("http", "https"):
        return _Outcome(
            "broken", "invalid URL", message=f"scheme {parts.scheme or '(none)'!r} is not http(s)"
        )
    if not parts.hostname or any(c.isspace() for c in url):
        return _Outcome("broken", "invalid URL", message="no host name, or spaces in the URL")
    return None


def _merge(url: str, outcome: _Outcome, previous: LinkResult | None, at: str) -> LinkResult:
    """The new result: the outcome plus first failure, last success, failure count and the recent runs."""
    prev = previous or LinkResult(url, "unsure")
    status = outcome.status
    if status == "ok" and outcome.fingerprint and outcome.fingerprint == prev.fingerprint:
        status = "unchanged"  # the same content as at the last success
    first_failure, last_success, failures = prev.first_failure, prev.last_success, prev.failure_count
    if status in ("ok", "unchanged"):
        first_failure, last_success, failures = None, at, 0
    elif status == "broken":
        first_failure, failures = first_failure or at, failures + 1
    history = ((at, status), *prev.history)[:HISTORY_KEEP]
    return LinkResult(
        url=url,
        status=status,
        reason=outcome.reason if status == "broken" else None,
        http_status=outcome.http_status,
        message=outcome.message,
        content_type=outcome.content_type,
        checked_at=at,
        first_failure=first_failure,
        last_success=last_success,
        failure_count=failures,
        fingerprint=outcome.fingerprint if status in ("ok", "unchanged") else prev.fingerprint,
        history=history,
    )


def check_url(
    url: str,
    *,
    expect: str | None = None,
    previous: LinkResult | None = None,
    session: requests.Session | None = None,
    timeout: tuple[float, float] | None = None,
) -> LinkResult:
    """Check one URL now (network for http(s), the disk for ``file://``) and merge it with its history.

    Parameters
    ----------
    url
        The URL.
    expect
        The format the catalog promises there (e.g. ``"CSV"``): an HTML page is then a download error.
        None (a landing page) accepts anything.
    previous
        The URL's last result (for "unchanged", first failure, last success and the failure count).
    session
        A requests session to reuse; default a new one.
    timeout
        (connect, read) seconds; default the link checker's (:data:`lab.http.LINK_CONNECT_TIMEOUT`,
        :data:`lab.http.LINK_READ_TIMEOUT`).
    """
    timeout = timeout or (LINK_CONNECT_TIMEOUT, LINK_READ_TIMEOUT)
    started = utc_timestamp()
    outcome = _validate(url)
    if outcome is None:
        try:
            if urlsplit(url).scheme == "file":
                outcome = _check_file(url, expect)
            else:
                with contextlib.ExitStack() as stack:
                    own = session or stack.enter_context(new_session())
                    outcome = _check_http(url, expect, own, timeout)
        except Exception as exc:  # a bug or an odd server must not stop a whole run: unsure, logged
            log.warning("checking %s failed: %s: %s", redact_url(url), type(exc).__name__, exc)
            outcome = _Outcome("unsure", message=f"{type(exc).__name__} while checking")
    return _merge(url, outcome, previous, started)


# ------------------------------------------------------------------------------------------- history
def history_path() -> Path:
    """The history file: ``$LAB_LINK_HISTORY`` if set, else ``<cache>/quality/link-checks.json``."""
    from lab.settings import path

    return path("LAB_LINK_HISTORY") or cache_dir() / "quality" / HISTORY_NAME


def _from_json(url: str, item: dict[str, Any]) -> LinkResult:
    known = {
        k: v for k, v in item.items() if k in LinkResult.__dataclass_fields__ and k not in ("url", "cached")
    }
    known["history"] = tuple(tuple(h) for h in known.get("history", ()))
    return LinkResult(url=url, **known)


def read_history(path: Path | None = None) -> dict[str, LinkResult]:
    """Every URL's last result from the history file (empty when there is none or it is unreadable)."""
    path = path or history_path()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("link history %s is unreadable (%s): starting afresh", path, exc)
        return {}
    return {url: _from_json(url, item) for url, item in (doc.get("links") or {}).items()}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock beside ``path`` (another process updating the history waits)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        try:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: atomic writes still keep the file whole
            pass
        yield


def record_results(results: Iterable[LinkResult], path: Path | None = None) -> None:
    """Merge ``results`` into the history file (read, update, write atomically, under the lock).

    :func:`check_links` records what it checks; a check run elsewhere (where the portal can be reached)
    can be recorded the same way.
    """
    path = path or history_path()
    with _locked(path):
        current = read_history(path)
        current.update({r.url: r for r in results})
        links = {}
        for url, r in sorted(current.items()):
            item = asdict(r)
            item.pop("url")
            item.pop("cached")
            item["history"] = [list(h) for h in r.history]
            links[url] = item
        doc = {"format_version": 1, "updated_at": utc_timestamp(), "links": links}
        atomic_write_text(path, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")


# ------------------------------------------------------------------------------------------- many URLs
class _Hosts:
    """Per-host politeness: at most ``per_host`` requests at a time and ``delay`` seconds between two."""

    def __init__(self, per_host: int, delay: float) -> None:
        self.per_host, self.delay = per_host, delay
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}
        self._next: dict[str, float] = {}

    @contextlib.contextmanager
    def slot(self, url: str) -> Iterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            sem = self._slots.setdefault(host, threading.Semaphore(self.per_host))
        with sem:
            with self._lock:
                start = max(time.monotonic(), self._next.get(host, 0.0))
                self._next[host] = start + self.delay
            time.sleep(max(0.0, start - time.monotonic()))
            yield


def _parse_time(text: str | None) -> datetime | None:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if text else None


def check_links(
    urls: Iterable[str] | dict[str, str | None],
    *,
    offline_only: bool | None = None,
    max_age: timedelta | None = timedelta(hours=24),
    workers: int | None = None,
    per_host: int | None = None,
    delay: float | None = None,
    timeout: tuple[float, float] | None = None,
    history: Path | None = None,
    progress: bool | None = None,
) -> list[LinkResult]:
    """Check many URLs, concurrently and politely, and record the results in the history file.

    Parameters
    ----------
    urls
        The URLs, or ``{url: expected format}`` (see :func:`check_url`'s ``expect``).
    offline_only
        Do not touch the network: http(s) URLs get their last result from the history (``unsure`` with
        the message "not checked yet" when there is none); ``file://`` URLs are still checked on disk.
        Default: ``$LAB_OFFLINE``.
    max_age
        Results younger than this are reused without asking the server again (None: always ask).
    workers, per_host, delay, timeout
        Threads, requests at a time per host, seconds between two requests to a host, (connect, read)
        timeouts; defaults :data:`WORKERS`, :data:`PER_HOST`, :data:`HOST_DELAY`, the module timeouts.
    history
        The history file; default :func:`history_path`.
    progress
        Show a progress bar (default: when stderr is a terminal).

    Returns
    -------
    list of LinkResult
        One per distinct URL, in the order given.
    """
    expect = dict(urls) if isinstance(urls, dict) else dict.fromkeys(urls)
    path = history or history_path()
    offline_only = offline() if offline_only is None else offline_only
    previous = read_history(path)
    now = datetime.now(UTC)
    results: dict[str, LinkResult] = {}
    todo: list[str] = []
    for url in expect:
        prev = previous.get(url)
        is_file = url.startswith("file:")
        if not is_file and offline_only:
            results[url] = (
                replace(prev, cached=True) if prev else LinkResult(url, "unsure", message="not checked yet")
            )
            continue
        checked = _parse_time(prev.checked_at) if prev else None
        if not is_file and prev and max_age is not None and checked and now - checked < max_age:
            results[url] = replace(prev, cached=True)
            continue
        todo.append(url)
    hosts = _Hosts(PER_HOST if per_host is None else per_host, HOST_DELAY if delay is None else delay)
    session = new_session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(WORKERS, workers or 0))
    session.mount("http://", adapter)
    session.mount("https://", adapter)

    def one(url: str) -> LinkResult:
        if url.startswith("file:"):  # the disk: no host to be polite to
            return check_url(url, expect=expect[url], previous=previous.get(url))
        with hosts.slot(url):
            return check_url(
                url, expect=expect[url], previous=previous.get(url), session=session, timeout=timeout
            )

    show = progress if progress is not None else os.isatty(2)
    with session, ThreadPoolExecutor(max_workers=max(1, workers or WORKERS)) as pool:
        bar = tqdm(total=len(todo), desc="link checks", unit="url", disable=not show or not todo, leave=False)
        for result in pool.map(one, todo):
            results[result.url] = result
            bar.update()
        bar.close()
    if any(r.http_status is not None for u in todo if (r := results[u])):  # the network works here
        for url in todo:
            if results[url].status == "unsure" and results[url].message == NO_DNS:
                outcome = _Outcome("broken", "request failed", message=NO_SUCH_HOST)
                results[url] = _merge(url, outcome, previous.get(url), results[url].checked_at or "")
    fresh = [results[u] for u in todo]
    if fresh:
        record_results(fresh, path)
    counts = {s: sum(r.status == s for r in results.values()) for s in STATUSES}
    log.info("link checks: %d URLs (%d asked now): %s", len(results), len(todo), counts)
    return [results[u] for u in expect]


def results_frame(results: Iterable[LinkResult]) -> pl.DataFrame:
    """Link results as a polars frame (:data:`LINK_SCHEMA`)."""
    rows = [
        {
            "url": r.url,
            "status": r.status,
            "reason": r.reason,
            "http_status": r.http_status,
            "message": r.message,
            "content_type": r.content_type,
            "checked_at": _parse_time(r.checked_at),
            "first_failure": _parse_time(r.first_failure),
            "last_success": _parse_time(r.last_success),
            "failure_count": r.failure_count,
            "cached": r.cached,
        }
        for r in results
    ]
    return pl.DataFrame(rows, schema=LINK_SCHEMA, orient="row")


def status_table(links: pl.DataFrame | None) -> pl.DataFrame:
    """``url, status, first_failure`` of the URLs actually checked (a result never checked is left out,
    so the scores say "not checked" rather than "does not answer")."""
    if links is None:
        return pl.DataFrame(
            schema={"url": pl.String, "status": pl.String, "first_failure": LINK_SCHEMA["first_failure"]}
        )
    if "checked_at" in links.columns:
        links = links.filter(pl.col("checked_at").is_not_null())
    first = (
        pl.col("first_failure")
        if "first_failure" in links.columns
        else pl.lit(None, LINK_SCHEMA["first_failure"])
    )
    return links.select("url", "status", first.alias("first_failure")).unique("url", keep="last")


def last_results(path: Path | None = None) -> pl.DataFrame:
    """Every URL's last recorded result, from the history file only (never the network)."""
    return results_frame(replace(r, cached=True) for r in read_history(path).values())
