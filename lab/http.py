"""The lab's one HTTP policy: every request the lab makes to the outside goes through it.

- one :class:`requests.Session` per job (:func:`new_session`) with a User-Agent naming the lab
  (:data:`USER_AGENT`), ``gzip``/``deflate`` accepted (decoded by :mod:`lab.unpack`, within its limit),
  at most :data:`MAX_REDIRECTS` redirects;
- connect/read timeouts (:data:`CONNECT_TIMEOUT`, :data:`READ_TIMEOUT`; the link checker's shorter ones,
  :data:`LINK_CONNECT_TIMEOUT`, :data:`LINK_READ_TIMEOUT`, are named here too);
- :data:`TRIES` tries with exponential back-off (:data:`BACKOFF`) on connection errors, timeouts, dropped
  bodies, 429 and 5xx, ``Retry-After`` honoured up to :data:`RETRY_AFTER_CAP` (:func:`retrying`,
  :func:`check_status`); known failures become one-line :class:`~lab.errors.FetchError`;
- URLs in messages and logs never carry credentials (:func:`redact_url`);
- a byte progress bar on a terminal (:func:`progress_bar`), small answers read whole within a limit
  (:func:`bounded_body`).

The tunables are module constants: tests set small values on this module (``lab.http.TRIES``).
Users: :mod:`lab.fetch` (downloads, CKAN), :mod:`lab.portal.client` (the portal's API) and
:mod:`lab.quality.links` (the link checker).
"""

from __future__ import annotations

import logging
import re
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3
from tqdm import tqdm

from lab.errors import FetchError
from lab.unpack import IncompleteError, TooLargeError, Unpacker, limit_message

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds the link checker waits for a TCP connection (it checks many links: shorter than a download's).
LINK_CONNECT_TIMEOUT: float = 5.0
#: Seconds the link checker waits between two bytes of an answer.
LINK_READ_TIMEOUT: float = 15.0

#: Bytes read and written at a time while downloading and hashing.
CHUNK_SIZE: int = 1 << 20


#: Seconds to wait for a TCP connection (module constant: tests set small values).
CONNECT_TIMEOUT: float = 10.0


#: Seconds to wait between two bytes of an answer.
READ_TIMEOUT: float = 60.0


#: Tries per request (the first one included) on connection errors, timeouts, 429 and 5xx.
TRIES: int = 3


#: Back-off before try n+1 is ``BACKOFF * 2**(n-1)`` seconds (0.5, 1, 2, ...).
BACKOFF: float = 0.5


#: The most seconds a server's ``Retry-After`` makes us wait.
RETRY_AFTER_CAP: float = 30.0


#: More redirects than this is a redirect loop.
MAX_REDIRECTS: int = 10


#: Downloads smaller than this get no progress bar.
PROGRESS_MIN_BYTES: int = 2 << 20


_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


_SECRET_PARAMS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "password", "passwd", "secret", "signature", "sig"}
)


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\"()\]]+)")


def _version() -> str:
    try:
        return metadata.version("lab")
    except metadata.PackageNotFoundError:
        return "0"


USER_AGENT = (
    f"lab/{_version()} (Da Nang open data lab; +https://opendata.danang.gov.vn) "
    f"python-requests/{requests.__version__}"
)


_sleep: Callable[[float], None] = time.sleep  # tests replace it to record back-off without waiting


def redact_url(url: str) -> str:
    """``url`` without credentials: no ``user:password@`` and secret query values replaced by ``***``.

    Examples
    --------
    >>> redact_url("https://bob:s3cret@example.org/a.csv?token=abc&x=1")
    'https://example.org/a.csv?token=%2A%2A%2A&x=1'
    """
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
            query = urlencode([(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def new_session() -> requests.Session:
    """A new HTTP session with the lab's :data:`USER_AGENT` and at most :data:`MAX_REDIRECTS` redirects.

    Returns
    -------
    requests.Session
        The caller closes it.
    """
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept-Encoding"] = "gzip, deflate"  # what lab.unpack decodes, within its limit
    session.max_redirects = MAX_REDIRECTS
    return session


class Retryable(Exception):  # noqa: N818 - check_status -> retrying control flow, caught there
    """One try failed in a way another try may fix."""

    def __init__(self, problem: str, delay: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.delay = delay


def retry_after(resp: requests.Response) -> float | None:
    """The server's ``Retry-After`` in seconds (capped at :data:`RETRY_AFTER_CAP`), or None."""
    value = resp.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, min(seconds, RETRY_AFTER_CAP))


def reason(exc: BaseException) -> str:
    """A short cause of a requests exception (its errno text, else its class name)."""
    m = _ERRNO.search(str(exc))
    return m.group(1).strip() if m else type(exc).__name__


def check_status(resp: requests.Response, shown: str) -> None:
    """Inside an attempt run by :func:`retrying`: make a 429 or 5xx answer a retried failure.

    Any other status passes (the caller decides what a 4xx means).

    Parameters
    ----------
    resp
        The answer.
    shown
        The URL as messages may show it (redacted).

    Raises
    ------
    Retryable
        On 429 and 5xx, with the server's ``Retry-After`` as the delay; :func:`retrying` catches it, so it
        must only be raised inside an attempt.
    """
    if resp.status_code in _RETRY_STATUSES or resp.status_code >= 500:
        raise Retryable(f"HTTP {resp.status_code} {resp.reason} from {shown}", retry_after(resp))


def retrying(attempt: Callable[[], T], shown: str, *, dataset: str | None, file: str | None) -> T:
    """Run ``attempt`` up to :data:`TRIES` times with back-off; known failures become FetchError.

    Retried: connection errors, timeouts, dropped bodies and :func:`check_status` failures (waiting
    ``BACKOFF * 2**(n-1)`` seconds, or the server's ``Retry-After``). Not retried: redirect loops, TLS
    errors, invalid URLs and other request errors.

    Parameters
    ----------
    attempt
        One try: performs the request and returns its result.
    shown
        The URL as messages may show it (redacted).
    dataset, file
        Named by the error.

    Returns
    -------
    T
        What the first successful try returned.

    Raises
    ------
    lab.errors.FetchError
        A failure that is not retried, or every try failed (with the last cause).
    """
    problem = ""
    for n in range(1, TRIES + 1):
        delay = BACKOFF * 2 ** (n - 1)
        try:
            return attempt()
        except Retryable as exc:
            problem = exc.problem
            delay = exc.delay if exc.delay is not None else delay
        except requests.exceptions.TooManyRedirects:
            raise FetchError(
                f"redirect loop: more than {MAX_REDIRECTS} redirects from {shown}", dataset=dataset, file=file
            ) from None
        except requests.exceptions.SSLError as exc:
            raise FetchError(
                f"TLS error talking to {shown} ({reason(exc)})", dataset=dataset, file=file
            ) from None
        except requests.exceptions.ConnectTimeout:
            problem = f"connecting to {shown} timed out after {CONNECT_TIMEOUT:g} s"
        except requests.exceptions.ReadTimeout:
            problem = f"no answer from {shown} within {READ_TIMEOUT:g} s"
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            problem = f"the connection dropped in the middle of the answer from {shown}"
        except requests.exceptions.ConnectionError as exc:
            problem = f"could not connect to {shown} ({reason(exc)})"
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ):
            raise FetchError(f"not a valid http(s) URL: {shown}", dataset=dataset, file=file) from None
        except requests.exceptions.RequestException as exc:
            raise FetchError(
                f"request to {shown} failed ({type(exc).__name__}: {reason(exc)})",
                dataset=dataset,
                file=file,
            ) from None
        if n < TRIES:
            log.info("%s; trying again in %.1f s (try %d of %d)", problem, delay, n + 1, TRIES)
            _sleep(delay)
    raise FetchError(f"{problem}; gave up after {TRIES} tries", dataset=dataset, file=file)


def progress_bar(total: int | None, desc: str) -> tqdm:
    """A byte progress bar on stderr, disabled when stderr is not a terminal or the file is small."""
    small = total is not None and total < PROGRESS_MIN_BYTES
    return tqdm(
        total=total,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        leave=False,
        disable=small or not sys.stderr.isatty(),
    )


def content_length(resp: requests.Response) -> int | None:
    """The body size announced by the server (the bytes on the wire, before any decompression)."""
    value = resp.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() else None


def raw_chunks(resp: requests.Response) -> Iterator[bytes]:
    """The body as sent (no decoding), with urllib3's errors turned into requests' (retried) ones."""
    try:
        yield from resp.raw.stream(CHUNK_SIZE, decode_content=False)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(str(exc)) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
    except urllib3.exceptions.HTTPError as exc:
        raise requests.exceptions.ConnectionError(str(exc)) from None


def bounded_body(resp: requests.Response, limit: int, what: str) -> bytes:
    """The whole (decoded) body of a small answer, refused past ``limit`` bytes (a bomb or a wrong URL)."""
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    decoder = Unpacker(encoding, limit=limit) if encoding in ("gzip", "x-gzip", "deflate") else None
    out = bytearray()
    try:
        for chunk in raw_chunks(resp):
            out += decoder.feed(chunk) if decoder is not None else chunk
            if len(out) > limit:
                raise TooLargeError(limit_message(limit))
        if decoder is not None:
            out += decoder.finish()
    except TooLargeError:
        raise FetchError(f"{what}: the answer is larger than {limit:,} bytes: not an API answer") from None
    except (IncompleteError, zlib.error):
        raise Retryable(f"{what}: the compressed answer is cut off or broken") from None
    return bytes(out)
