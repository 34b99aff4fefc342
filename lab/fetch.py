"""Fetching: from a catalog distribution to a local file the readers can open.

Each distribution resolves to one local :class:`~pathlib.Path`. The first source that applies wins:

1. ``path``: a local file (relative to the catalog folder, or absolute), read in place;
2. ``demo``: a file of the generated demo portal (``$LAB_DEMO``, default ``data/demo``);
3. the **cache** (``$LAB_CACHE``, default ``data/cache``), unless ``refresh``;
4. ``mirror``: ``<mirror folder>/<dist.mirror>`` (``--mirror DIR`` or ``$LAB_MIRROR``), read in place;
5. ``download_url`` (``https``/``http`` into the cache, ``file`` read in place);
6. ``ckan``: the CKAN Action API's ``package_show`` gives the resource URL, downloaded into the cache.

``$LAB_OFFLINE=1`` forbids the network (steps 5 and 6 over http). When nothing answers, an
:class:`~lab.errors.OfflineError` names the dataset, the file and what to do.

Where the catalog declares ``sha256`` or ``byte_size``, every source is checked (local files,
mirror, cache and downloads); a mismatch raises :class:`~lab.errors.ChecksumError`. Hashing a large
local file happens once: the result is remembered by (path, size, mtime_ns) in a small JSON sidecar
of the cache folder (``verified.json``).

Cache layout: ``<cache>/<sha256(url)[:16]>/<filename>`` beside ``<filename>.meta.json`` (url, etag,
last_modified, sha256, byte_size, fetched_at). Downloads go to a temporary file in the same folder
(:mod:`lab.atomic`) which is renamed only when complete, checked (no HTML page where data was
expected, declared sha256 and size) and flushed to disk; the meta file is written after the data. An
entry whose bytes do not match its meta is never trusted, so an interrupted download, a crash or a
corrupted file cannot be read by a later load.

HTTP: one :class:`requests.Session` with a User-Agent naming the lab, connect/read timeouts
(:data:`CONNECT_TIMEOUT`, :data:`READ_TIMEOUT`), :data:`TRIES` tries with exponential back-off on
connection errors, timeouts, dropped bodies, 429 and 5xx (``Retry-After`` honoured up to
:data:`RETRY_AFTER_CAP`), at most :data:`MAX_REDIRECTS` redirects, conditional GET (``If-None-Match``
/ ``If-Modified-Since``) when refreshing a cached copy, and a tqdm progress bar on a terminal.
URLs in messages and logs never carry credentials (:func:`redact_url`).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import re
import sys
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit
from urllib.request import url2pathname

import requests
import urllib3
from tqdm import tqdm

from lab.atomic import atomic_path, atomic_write_text
from lab.catalog import Dataset, Distribution, stays_inside
from lab.errors import ChecksumError, FetchError, HtmlInsteadOfDataError, OfflineError
from lab.sniff import HEAD_BYTES, html_title, looks_like_html
from lab.unpack import (
    IncompleteError,
    TooLargeError,
    Unpacker,
    gunzip_file,
    is_gzip,
    limit_message,
    max_unpacked_bytes,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# ------------------------------------------------------------------------------------------ settings
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
#: Bytes read and written at a time while downloading and hashing.
CHUNK_SIZE: int = 1 << 20
#: Downloads smaller than this get no progress bar.
PROGRESS_MIN_BYTES: int = 2 << 20
#: Temporary download files older than this (left by a killed process) are removed.
STALE_PART_SECONDS: float = 24 * 3600
#: The verification memo keeps at most this many files (the least recently checked are dropped).
MEMO_MAX_ENTRIES: int = 4096

#: The sidecar (in the cache folder) remembering the sha256 of local files by (path, size, mtime_ns).
MEMO_NAME = "verified.json"
META_SUFFIX = ".meta.json"
SOURCES = ("path", "demo", "cache", "mirror", "download", "ckan")

_PROJECT_ROOT = Path(__file__).resolve().parent.parent
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


# --------------------------------------------------------------------------------------- environment
# read through lab.settings: a relative value is taken against the caller's directory, not a kernel's
from lab.settings import cache_dir, demo_dir, mirror_dir, offline  # noqa: E402


# -------------------------------------------------------------------------------------------- helpers
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


def _short(digest: str) -> str:
    return digest[:12]


def utc_timestamp() -> str:
    """The current UTC time as cache metas record it (``fetched_at``, ``checked_at``).

    Returns
    -------
    str
        ``YYYY-MM-DDTHH:MM:SSZ``.
    """
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_source(dataset: Dataset, dist: Distribution, source: str, where: str | Path) -> None:
    """Log (INFO) where a distribution's file came from.

    The record carries ``lab_source``, ``lab_dataset`` and ``lab_file`` extras.

    Parameters
    ----------
    dataset
        The catalog dataset.
    dist
        Its distribution.
    source
        One of :data:`SOURCES`.
    where
        The local path, or the URL (logged redacted, see :func:`redact_url`).
    """
    shown = redact_url(where) if isinstance(where, str) else str(where)
    log.info(
        "%s: %s from %s: %s",
        dataset.id,
        dist.label,
        source,
        shown,
        extra={"lab_source": source, "lab_dataset": dataset.id, "lab_file": dist.label},
    )


def _filename(url: str) -> str:
    """A safe cache file name from the last segment of ``url``'s path (``download`` if none)."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    name = unicodedata.normalize("NFC", name)
    name = re.sub(r"[^\w.\-]+", "_", name).strip("._") or "download"
    if name.endswith(META_SUFFIX):
        name += ".data"
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[:100]}.{ext[:16]}" if dot and stem else name[:120]
    return name


# ------------------------------------------------------------------------------- hashing and its memo
def hash_file(path: Path) -> str:
    """The sha256 of a file, read in chunks, always hashed (no memo: see :func:`file_sha256`).

    Parameters
    ----------
    path
        The file to hash.

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _memo_path() -> Path:
    return cache_dir() / MEMO_NAME


def _load_memo() -> dict[str, Any]:
    path = _memo_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # unreadable or not JSON: it is only a memo, start afresh
        log.debug("ignoring the verification memo %s: %s", path, exc)
        return {}
    entries = data.get("entries") if isinstance(data, dict) else None
    return entries if isinstance(entries, dict) else {}


def remember_sha256(path: Path, digest: str, stat: os.stat_result | None = None) -> None:
    """Record ``digest`` for ``path`` at its current (size, mtime_ns) in the memo sidecar (:data:`MEMO_NAME`).

    :func:`file_sha256` then answers from the memo until the file's size or modification time changes. A
    cache folder that cannot be written only makes later checks slower (logged at DEBUG).

    Parameters
    ----------
    path
        The file (resolved before it is recorded).
    digest
        Its sha256, hex.
    stat
        Its :func:`os.stat` result if the caller has it; default read now.
    """
    path = path.resolve()
    stat = stat or path.stat()
    entries = _load_memo()
    entries.pop(str(path), None)  # re-insert at the end: the dict keeps the most recent last
    entries[str(path)] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
    while len(entries) > MEMO_MAX_ENTRIES:
        entries.pop(next(iter(entries)))
    try:
        atomic_write_text(_memo_path(), json.dumps({"version": 1, "entries": entries}, indent=1))
    except OSError as exc:  # a read-only cache folder: verification still works, only slower
        log.debug("could not write the verification memo %s: %s", _memo_path(), exc)


def file_sha256(path: str | Path) -> str:
    """The sha256 (hex) of a local file, memoised by (path, size, mtime_ns) in the cache folder.

    Parameters
    ----------
    path
        The file to hash.

    Returns
    -------
    str
        64 lowercase hex digits. A file whose size or modification time changed is hashed again.
    """
    path = Path(path).resolve()
    stat = path.stat()
    hit = _load_memo().get(str(path))
    if (
        isinstance(hit, dict)
        and hit.get("size") == stat.st_size
        and hit.get("mtime_ns") == stat.st_mtime_ns
        and isinstance(hit.get("sha256"), str)
    ):
        return hit["sha256"]
    digest = hash_file(path)
    remember_sha256(path, digest, stat)
    return digest


def _verify(path: Path, dataset: Dataset, dist: Distribution, source: str) -> None:
    """Check a local file against the declared ``byte_size`` and ``sha256`` (if any)."""
    if dist.byte_size is None and not dist.sha256:
        return
    size = path.stat().st_size
    if dist.byte_size is not None and size != dist.byte_size:
        raise ChecksumError(
            f"the {source} copy {path} has {size:,} bytes where the catalog declares {dist.byte_size:,}: "
            "it is truncated or another version; replace it or fix byte_size in the catalog",
            dataset=dataset.id,
            file=dist.label,
        )
    if dist.sha256:
        got = file_sha256(path)
        if got != dist.sha256.lower():
            raise ChecksumError(
                f"sha256 mismatch for the {source} copy {path}: expected {_short(dist.sha256)}, "
                f"got {_short(got)}; the file is corrupt or another version: replace it or fix sha256 "
                "in the catalog",
                dataset=dataset.id,
                file=dist.label,
            )


# ------------------------------------------------------------------------------------------- the cache
@dataclass(frozen=True)
class CacheEntry:
    """A trusted cache entry: the data file and its meta (the parsed ``<file>.meta.json``)."""

    path: Path
    meta: dict[str, Any]


def entry_dir(key: str) -> Path:
    """The cache folder of a key (a download URL, or what :func:`_cache_key` makes of a CKAN resource).

    Parameters
    ----------
    key
        The cache key.

    Returns
    -------
    pathlib.Path
        ``<cache>/<sha256(key)[:16]>`` (not created here).
    """
    return cache_dir() / hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _read_meta(meta_path: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.debug("unreadable cache meta %s: %s", meta_path, exc)
        return None
    return meta if isinstance(meta, dict) else None


def _entry_problem(path: Path, meta: dict[str, Any], dist: Distribution) -> str | None:
    """Why a cache entry cannot be trusted, or None if it can."""
    recorded = meta.get("sha256")
    if not isinstance(recorded, str):
        return "its meta records no sha256"
    size = path.stat().st_size
    if meta.get("byte_size") != size:
        return f"it has {size:,} bytes, its meta records {meta.get('byte_size')}"
    if dist.byte_size is not None and size != dist.byte_size:
        return f"it has {size:,} bytes, the catalog declares {dist.byte_size:,}"
    if dist.sha256 and recorded != dist.sha256.lower():
        return f"it is sha256 {_short(recorded)}, the catalog declares {_short(dist.sha256)}"
    got = file_sha256(path)
    if got != recorded:
        return f"its bytes (sha256 {_short(got)}) do not match its meta ({_short(recorded)})"
    return None


def cached_entry(key: str, dist: Distribution) -> tuple[CacheEntry | None, str | None]:
    """The trusted cache entry for ``key`` and, when there is an untrusted one, why it is not trusted.

    An entry is trusted when its meta names ``key`` (redacted), its data file exists, and its size and sha256
    match its meta and what ``dist`` declares; an untrusted one is logged (WARNING) and skipped.

    Parameters
    ----------
    key
        The cache key (see :func:`entry_dir`).
    dist
        The distribution whose declared ``byte_size`` and ``sha256`` the entry must match.

    Returns
    -------
    tuple of (CacheEntry or None, str or None)
        The trusted entry (or None), and the reason the last untrusted entry was refused (None if there
        was none, or a trusted one was found).
    """
    folder = entry_dir(key)
    if not folder.is_dir():
        return None, None
    problem = None
    for meta_path in sorted(folder.glob(f"*{META_SUFFIX}")):
        meta = _read_meta(meta_path)
        if meta is None or meta.get("url") != redact_url(key):
            continue
        data = meta_path.with_name(meta_path.name[: -len(META_SUFFIX)])
        if not data.is_file():
            problem = "its data file is missing"
            continue
        problem = _entry_problem(data, meta, dist)
        if problem is None:
            return CacheEntry(data, meta), None
        log.warning("cached copy %s is not trusted: %s", data, problem)
    return None, problem


def _cache_key(dist: Distribution) -> str | None:
    """What the cache is keyed by: the http(s) download URL, or the CKAN package and resource."""
    if dist.download_url and dist.download_url.startswith(("http://", "https://")):
        return dist.download_url
    if dist.ckan:
        api = str(dist.ckan.get("api", "")).rstrip("/")
        resource = dist.ckan.get("resource")
        return f"{api}/package_show?id={quote(str(dist.ckan.get('package')))}#resource={resource}"
    return None


def drop_other_entries(folder: Path, keep: Path) -> None:
    """Remove the other entries of a cache folder and stale temporary files.

    Other entries are an older file name for the same key (data and meta); temporary files are those a
    killed download left, older than :data:`STALE_PART_SECONDS` (never trusted, only space).

    Parameters
    ----------
    folder
        The cache folder (see :func:`entry_dir`).
    keep
        The data file to keep (its meta is kept too).
    """
    for meta_path in folder.glob(f"*{META_SUFFIX}"):
        data = meta_path.with_name(meta_path.name[: -len(META_SUFFIX)])
        if data != keep:
            meta_path.unlink(missing_ok=True)
            data.unlink(missing_ok=True)
    for part in folder.glob(".*.part"):
        try:
            if time.time() - part.stat().st_mtime > STALE_PART_SECONDS:
                part.unlink()
        except OSError as exc:  # another process just renamed or removed it
            log.debug("could not remove %s: %s", part, exc)


# ------------------------------------------------------------------------------------------------ HTTP
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


class _Retryable(Exception):  # noqa: N818 - check_status -> retrying control flow, caught there
    """One try failed in a way another try may fix."""

    def __init__(self, problem: str, delay: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.delay = delay


def _retry_after(resp: requests.Response) -> float | None:
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


def _reason(exc: BaseException) -> str:
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
    _Retryable
        On 429 and 5xx, with the server's ``Retry-After`` as the delay; :func:`retrying` catches it, so it
        must only be raised inside an attempt.
    """
    if resp.status_code in _RETRY_STATUSES or resp.status_code >= 500:
        raise _Retryable(f"HTTP {resp.status_code} {resp.reason} from {shown}", _retry_after(resp))


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
        except _Retryable as exc:
            problem = exc.problem
            delay = exc.delay if exc.delay is not None else delay
        except requests.exceptions.TooManyRedirects:
            raise FetchError(
                f"redirect loop: more than {MAX_REDIRECTS} redirects from {shown}", dataset=dataset, file=file
            ) from None
        except requests.exceptions.SSLError as exc:
            raise FetchError(
                f"TLS error talking to {shown} ({_reason(exc)})", dataset=dataset, file=file
            ) from None
        except requests.exceptions.ConnectTimeout:
            problem = f"connecting to {shown} timed out after {CONNECT_TIMEOUT:g} s"
        except requests.exceptions.ReadTimeout:
            problem = f"no answer from {shown} within {READ_TIMEOUT:g} s"
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            problem = f"the connection dropped in the middle of the answer from {shown}"
        except requests.exceptions.ConnectionError as exc:
            problem = f"could not connect to {shown} ({_reason(exc)})"
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ):
            raise FetchError(f"not a valid http(s) URL: {shown}", dataset=dataset, file=file) from None
        except requests.exceptions.RequestException as exc:
            raise FetchError(
                f"request to {shown} failed ({type(exc).__name__}: {_reason(exc)})",
                dataset=dataset,
                file=file,
            ) from None
        if n < TRIES:
            log.info("%s; trying again in %.1f s (try %d of %d)", problem, delay, n + 1, TRIES)
            _sleep(delay)
    raise FetchError(f"{problem}; gave up after {TRIES} tries", dataset=dataset, file=file)


def _progress_bar(total: int | None, desc: str) -> tqdm:
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


def _content_length(resp: requests.Response) -> int | None:
    """The body size announced by the server (the bytes on the wire, before any decompression)."""
    value = resp.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() else None


#: JSON answers up to this size are parsed in full after download to prove they are complete.
JSON_CHECK_MAX_BYTES: int = 32 << 20
_TAIL_BYTES = 64 << 10
_TEXT_FORMATS = frozenset({"CSV", "TSV", "JSON", "JSONL", "GEOJSON"})


class _Body:
    """What a download keeps of its (decoded) body to judge completeness: the head, the tail, the size.

    A ``.gz`` payload (gzip magic in the first bytes) is decompressed on the fly, within the limit of
    :mod:`lab.unpack`, so the head and tail are those of the text it holds and a cut stream is seen.
    """

    def __init__(self) -> None:
        self.head = b""
        self.tail = b""
        self.inner: Unpacker | None = None
        self._started = False

    def _keep(self, data: bytes) -> None:
        if len(self.head) < _TAIL_BYTES:
            self.head += data[: _TAIL_BYTES - len(self.head)]
        self.tail = (self.tail + data)[-_TAIL_BYTES:]

    def add(self, chunk: bytes) -> None:
        if not self._started and chunk:
            self._started = True
            if is_gzip(chunk):
                self.inner = Unpacker("gzip")
        self._keep(self.inner.feed(chunk) if self.inner is not None else chunk)

    def finish(self) -> None:
        if self.inner is not None:
            self._keep(self.inner.finish())


def _csv_cut(head: bytes, tail: bytes, delimiter: str | None) -> str | None:
    """Why a CSV whose first and last bytes are these looks cut off, or None."""
    if not tail or tail.endswith((b"\n", b"\r")) or b"\x00" in head[:4096]:
        return None  # a final newline (or UTF-16, not checked here)
    from lab.readers.csv import count_fields, sniff_delimiter

    text_head = head.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf")
    lines = [ln for ln in text_head.splitlines() if ln.strip()][:30]
    if len(lines) < 2:
        return None
    delim = delimiter or sniff_delimiter(lines[:-1] if len(text_head) >= _TAIL_BYTES else lines)
    last = tail.decode("latin-1").rsplit("\n", 1)[-1]
    have, want = count_fields(last, delim), count_fields(lines[0], delim)
    if have < want:
        return f"its last line has {have} of {want} fields and no final newline"
    return None


def _incomplete(body: _Body, fmt: str, tmp: Path, dist: Distribution) -> str | None:
    """Why a downloaded text body looks cut off (CSV last line, JSON that does not parse), or None."""
    if fmt in ("CSV", "TSV"):
        delimiter = (dist.options or {}).get("delimiter") or ("\t" if fmt == "TSV" else None)
        return _csv_cut(body.head, body.tail, delimiter)
    if fmt == "JSONL":
        last = body.tail.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
        if body.tail.endswith(b"\n") or not last.strip():
            return None
        try:
            json.loads(last)
        except ValueError:
            return "its last line is not complete JSON"
        return None
    end = body.tail.rstrip()[-1:]
    if end not in (b"}", b"]"):
        return "the JSON ends in the middle of a value"
    size = tmp.stat().st_size if body.inner is None else body.inner.produced
    if size > JSON_CHECK_MAX_BYTES:
        return None
    try:
        json.loads(gunzip_file(tmp) if body.inner is not None else tmp.read_bytes())
    except ValueError as exc:
        return f"the JSON does not parse ({str(exc).split(':')[0]})"
    return None


def _raw_chunks(resp: requests.Response) -> Iterator[bytes]:
    """The body as sent (no decoding), with urllib3's errors turned into requests' (retried) ones."""
    try:
        yield from resp.raw.stream(CHUNK_SIZE, decode_content=False)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(str(exc)) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
    except urllib3.exceptions.HTTPError as exc:
        raise requests.exceptions.ConnectionError(str(exc)) from None


def _save(
    resp: requests.Response,
    target: Path,
    *,
    url: str,
    key: str,
    source: str,
    dataset: Dataset,
    dist: Distribution,
) -> Path:
    """Stream ``resp`` into the cache at ``target``: checked, atomic, meta written after the data.

    The body is read as sent: a ``Content-Encoding`` of gzip or deflate is decompressed here within
    :func:`lab.unpack.max_unpacked_bytes`. It is complete only if it has the declared ``Content-Length``,
    a chunked answer ended with its last chunk, a compressed stream reached its end, and a text format
    looks whole (CSV last line, JSON that parses); otherwise the try failed (retried, never cached).
    """
    shown = redact_url(url)
    total = _content_length(resp)
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        decoder = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        decoder = Unpacker(encoding)
    else:
        raise FetchError(
            f"{shown} answered with Content-Encoding {encoding!r}, which the lab does not decode",
            dataset=dataset.id,
            file=dist.label,
        )
    digest = hashlib.sha256()
    wire = 0
    size = 0
    body = _Body()
    fmt = dist.format.upper()

    def write(fh: Any, data: bytes) -> None:
        nonlocal size
        if data:
            fh.write(data)
            digest.update(data)
            size += len(data)
            body.add(data)

    def too_large() -> FetchError:
        return FetchError(
            f"{shown}: {limit_message(max_unpacked_bytes())}; nothing was cached",
            dataset=dataset.id,
            file=dist.label,
        )

    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh, _progress_bar(total, target.name) as bar:
            try:
                for chunk in _raw_chunks(resp):
                    wire += len(chunk)
                    bar.update(len(chunk))
                    write(fh, decoder.feed(chunk) if decoder is not None else chunk)
                if total is not None and wire < total:
                    raise _Retryable(f"the connection dropped after {wire:,} of {total:,} bytes from {shown}")
                if decoder is not None:
                    write(fh, decoder.finish())
                body.finish()
            except (
                requests.exceptions.ChunkedEncodingError
            ):  # a cut chunked body or fewer bytes than announced
                got = f"{wire:,} of {total:,}" if total is not None else f"{wire:,}"
                raise _Retryable(f"the connection dropped after {got} bytes from {shown}") from None
            except TooLargeError:
                raise too_large() from None
            except IncompleteError:
                raise _Retryable(
                    f"the connection dropped after {wire:,} bytes from {shown} "
                    "(the compressed stream is cut off)"
                ) from None
            except zlib.error:
                raise FetchError(
                    f"{shown} sent a broken compressed stream ({encoding or 'gzip'}); nothing was cached",
                    dataset=dataset.id,
                    file=dist.label,
                ) from None
        head = body.head
        if fmt != "HTML" and looks_like_html(head):
            title = html_title(head)
            raise HtmlInsteadOfDataError(
                f"{shown} answered an HTML page{f' ({title!r})' if title else ''} instead of {dist.format} "
                "data: a login or error page; check the URL or your access, nothing was cached",
                dataset=dataset.id,
                file=dist.label,
            )
        if fmt in _TEXT_FORMATS and total is None:  # nothing announced the size: judge the text itself
            why = _incomplete(body, fmt, tmp, dist)
            if why:
                raise _Retryable(f"the answer from {shown} is incomplete: {why}")
        got = digest.hexdigest()
        if dist.byte_size is not None and size != dist.byte_size:
            raise ChecksumError(
                f"{shown} sent {size:,} bytes where the catalog declares {dist.byte_size:,}: the source "
                "changed; nothing was cached (check it and fix byte_size/sha256 in the catalog)",
                dataset=dataset.id,
                file=dist.label,
            )
        if dist.sha256 and got != dist.sha256.lower():
            raise ChecksumError(
                f"sha256 mismatch for {shown}: expected {_short(dist.sha256)}, got {_short(got)}; the source "
                "changed or the download is corrupt; nothing was cached (fix sha256 in the catalog if the "
                "new version is right)",
                dataset=dataset.id,
                file=dist.label,
            )
    meta = {
        "url": redact_url(key),
        "download_url": shown,
        "final_url": redact_url(resp.url),
        "etag": resp.headers.get("ETag"),
        "last_modified": resp.headers.get("Last-Modified"),
        "content_type": resp.headers.get("Content-Type"),
        "sha256": got,
        "byte_size": size,
        "fetched_at": utc_timestamp(),
        "source": source,
    }
    atomic_write_text(
        target.with_name(target.name + META_SUFFIX), json.dumps(meta, indent=2, ensure_ascii=False)
    )
    remember_sha256(target, got)
    drop_other_entries(target.parent, keep=target)
    return target


def _download(
    url: str,
    *,
    key: str,
    source: str,
    cached: CacheEntry | None,
    dataset: Dataset,
    dist: Distribution,
    session: requests.Session,
) -> Path:
    """GET ``url`` into the cache entry of ``key`` (conditional when ``cached`` came from the same URL)."""
    shown = redact_url(url)
    headers: dict[str, str] = {}
    if cached is not None and cached.meta.get("download_url") == shown:
        if cached.meta.get("etag"):
            headers["If-None-Match"] = cached.meta["etag"]
        if cached.meta.get("last_modified"):
            headers["If-Modified-Since"] = cached.meta["last_modified"]
    target = cached.path if cached is not None else entry_dir(key) / _filename(url)

    def attempt() -> tuple[Path, str]:
        with session.get(url, headers=headers, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)) as resp:
            if resp.status_code == 304 and cached is not None and headers:
                meta = {**cached.meta, "checked_at": utc_timestamp()}
                try:
                    atomic_write_text(
                        cached.path.with_name(cached.path.name + META_SUFFIX),
                        json.dumps(meta, indent=2, ensure_ascii=False),
                    )
                except OSError as exc:  # a read-only cache: the copy is still good
                    log.debug("could not update %s: %s", cached.path, exc)
                log.info("%s: %s not modified at %s: keeping the cached copy", dataset.id, dist.label, shown)
                return cached.path, "cache"
            check_status(resp, shown)
            if not 200 <= resp.status_code < 300:
                raise FetchError(
                    f"HTTP {resp.status_code} {resp.reason} from {shown}", dataset=dataset.id, file=dist.label
                )
            try:
                return _save(
                    resp, target, url=url, key=key, source=source, dataset=dataset, dist=dist
                ), source
            except requests.exceptions.RequestException:
                raise  # (an OSError too) the network failed: retrying decides
            except OSError as exc:
                raise FetchError(
                    f"could not write {target} ({exc.strerror or type(exc).__name__}): free some "
                    "space or set LAB_CACHE=DIR",
                    dataset=dataset.id,
                    file=dist.label,
                ) from None

    path, came_from = retrying(attempt, shown, dataset=dataset.id, file=dist.label)
    log_source(dataset, dist, came_from, path if came_from == "cache" else url)
    return path


# ------------------------------------------------------------------------------------------------ CKAN
#: The largest CKAN API answer (decoded) the lab reads: metadata, not data.
CKAN_MAX_BYTES: int = 64 << 20


def _bounded_body(resp: requests.Response, limit: int, what: str) -> bytes:
    """The whole (decoded) body of a small answer, refused past ``limit`` bytes (a bomb or a wrong URL)."""
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    decoder = Unpacker(encoding, limit=limit) if encoding in ("gzip", "x-gzip", "deflate") else None
    out = bytearray()
    try:
        for chunk in _raw_chunks(resp):
            out += decoder.feed(chunk) if decoder is not None else chunk
            if len(out) > limit:
                raise TooLargeError(limit_message(limit))
        if decoder is not None:
            out += decoder.finish()
    except TooLargeError:
        raise FetchError(f"{what}: the answer is larger than {limit:,} bytes: not an API answer") from None
    except (IncompleteError, zlib.error):
        raise _Retryable(f"{what}: the compressed answer is cut off or broken") from None
    return bytes(out)


def ckan_resource_url(
    api: str, package: str, resource: str | int | None = None, *, session: requests.Session | None = None
) -> str:
    """The URL of a resource of a CKAN package, from the Action API's ``package_show``.

    Parameters
    ----------
    api
        The Action API base, e.g. ``https://demo.ckan.org/api/3/action``.
    package
        The package id or name.
    resource
        The resource id (or name), or its index in the package's ``resources``; default the first.
    session
        A :class:`requests.Session` to use; default a new one (with the lab's User-Agent).

    Returns
    -------
    str
        The resource's ``url`` (made absolute against ``api`` if the portal gives a relative one).

    Raises
    ------
    lab.errors.FetchError
        The API cannot be reached, answers an error, ``success: false``, HTML instead of JSON, or the
        package has no such resource. The message names the package.
    """
    endpoint = f"{api.rstrip('/')}/package_show"
    shown = redact_url(f"{endpoint}?id={quote(package)}")
    what = f"CKAN package_show for package {package!r}"
    own = session is None
    sess = session if session is not None else new_session()

    def attempt() -> tuple[int, str, bytes]:
        with sess.get(
            endpoint, params={"id": package}, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
        ) as resp:
            check_status(resp, shown)
            return resp.status_code, resp.reason, _bounded_body(resp, CKAN_MAX_BYTES, f"{what} ({shown})")

    try:
        status, reason, body = retrying(attempt, shown, dataset=None, file=None)
    finally:
        if own:
            sess.close()
    if looks_like_html(body[:HEAD_BYTES]):
        title = html_title(body[:HEAD_BYTES])
        raise FetchError(
            f"{what} answered an HTML page{f' ({title!r})' if title else ''}, not JSON, from "
            f"{shown}: check the API base (.../api/3/action) and your access"
        )
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FetchError(f"{what}: HTTP {status} {reason}, not JSON, from {shown}") from None
    except RecursionError:
        raise FetchError(f"{what}: the JSON is nested too deeply to be a CKAN answer, from {shown}") from None
    error = doc.get("error") if isinstance(doc, dict) else None
    detail = _ckan_error(error) if isinstance(error, dict) else ""
    if not 200 <= status < 300:
        raise FetchError(
            f"{what} failed: HTTP {status} {reason}{f' ({detail})' if detail else ''} from {shown}"
        )
    if not isinstance(doc, dict) or doc.get("success") is not True:
        raise FetchError(f"{what} answered success: false{f' ({detail})' if detail else ''} from {shown}")
    result = doc.get("result")
    resources = result.get("resources") if isinstance(result, dict) else None
    if not isinstance(resources, list) or not resources:
        raise FetchError(f"{what}: the package has no resources ({shown})")
    chosen = _pick_resource(resources, resource)
    if chosen is None:
        names = ", ".join(str(r.get("id")) for r in resources if isinstance(r, dict))
        raise FetchError(f"{what}: no resource {resource!r} among its {len(resources)} ({names})")
    url = chosen.get("url")
    if not isinstance(url, str) or not url.strip():
        raise FetchError(f"{what}: resource {chosen.get('id')!r} has no url")
    return urljoin(f"{api.rstrip('/')}/", url.strip())


def _ckan_error(error: dict[str, Any]) -> str:
    """A CKAN ``error`` object in one line: ``Not Found Error: Not found``, ``id: Missing value``."""
    head = ": ".join(str(error[k]) for k in ("__type", "message") if error.get(k))
    fields = [
        f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in error.items()
        if k not in ("__type", "message")
    ]
    return ", ".join([p for p in (head, *fields) if p])


def _pick_resource(resources: list[Any], resource: str | int | None) -> dict[str, Any] | None:
    """The resource by index (default 0), by id, or by name."""
    index: int | None = 0 if resource is None else resource if isinstance(resource, int) else None
    if index is None and isinstance(resource, str):
        for field in ("id", "name"):
            for item in resources:
                if isinstance(item, dict) and item.get(field) == resource:
                    return item
        if resource.isdigit():
            index = int(resource)
    if index is not None and 0 <= index < len(resources) and isinstance(resources[index], dict):
        return resources[index]
    return None


# --------------------------------------------------------------------------------------------- fetching
def _local(path: Path, dataset: Dataset, dist: Distribution, source: str) -> Path:
    _verify(path, dataset, dist, source)
    log_source(dataset, dist, source, path)
    return path


def _file_url_path(url: str, dataset: Dataset, dist: Distribution) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise FetchError(
            f"file URL on another host is not supported: {redact_url(url)}",
            dataset=dataset.id,
            file=dist.label,
        )
    return Path(url2pathname(parts.path))


def _unavailable(
    dataset: Dataset, dist: Distribution, mirror_root: Path | None, untrusted: str | None
) -> str:
    """The message of the OfflineError raised when no source can supply the file."""
    networked = bool(dist.ckan) or bool(dist.download_url and dist.download_url.startswith("http"))
    cause = f"the cached copy is not trusted ({untrusted})" if untrusted else "not cached"
    if dist.mirror and mirror_root is not None:
        cause += f" and not in the mirror {mirror_root} (no {dist.mirror})"
    else:
        cause += " and no mirror"
    if offline() and networked:
        cause += " (LAB_OFFLINE=1 forbids the network)"
    fixes = []
    if dist.mirror:
        fixes.append(f"set LAB_MIRROR=DIR (a folder holding {dist.mirror})")
    if networked:
        fixes.append(
            f"run `lab fetch {dataset.id}` with network" + (" (unset LAB_OFFLINE)" if offline() else "")
        )
    elif dist.access_url:
        fixes.append(f"it has no download URL: it is derived from {redact_url(dist.access_url)}")
    return f"{cause}: {' or '.join(fixes) if fixes else 'the catalog gives no way to fetch it'}"


def _fetch_one(
    dataset: Dataset,
    dist: Distribution,
    *,
    catalog_root: Path,
    mirror: Path | None,
    refresh: bool,
    session: requests.Session,
) -> Path:
    if dist.path:
        path = Path(dist.path).expanduser()
        path = path if path.is_absolute() else Path(catalog_root) / path
        if not path.is_file():
            raise FetchError(
                f"local file not found: {path} (path is relative to the catalog folder {catalog_root})",
                dataset=dataset.id,
                file=dist.label,
            )
        return _local(path, dataset, dist, "path")

    for key, rel in (("demo", dist.demo), ("mirror", dist.mirror)):
        if rel and not stays_inside(rel):
            raise FetchError(
                f"the catalog's {key} path {rel!r} leaves the {key} folder: refused (give a relative path "
                "without '..'; `lab catalog validate` shows it)",
                dataset=dataset.id,
                file=dist.label,
            )

    if dist.demo:
        path = demo_dir() / dist.demo
        if not path.is_file():
            raise OfflineError(
                f"demo portal file not found: {path}; run `lab demo` (or `make demo`) to generate "
                "the demo portal, or set LAB_DEMO=DIR to where it is",
                dataset=dataset.id,
                file=dist.label,
            )
        return _local(path, dataset, dist, "demo")

    if dist.portal and not dist.download_url:  # the portal's data API, paged, cached as Parquet (lab.portal)
        return source_handler("portal")(dataset, dist, refresh=refresh, session=session)

    key = _cache_key(dist)
    cached, untrusted = cached_entry(key, dist) if key else (None, None)
    if cached is not None and (not refresh or offline()):
        if refresh:
            log.warning(
                "%s: %s: LAB_OFFLINE=1: cannot refresh, using the cached copy", dataset.id, dist.label
            )
        log_source(dataset, dist, "cache", cached.path)
        return cached.path

    mirror_root = Path(mirror) if mirror else mirror_dir()
    if dist.mirror and mirror_root is not None:
        path = mirror_root / dist.mirror
        if path.is_file():
            return _local(path, dataset, dist, "mirror")
        log.info("%s: %s: the mirror %s has no %s", dataset.id, dist.label, mirror_root, dist.mirror)

    if dist.download_url and dist.download_url.startswith("file:"):
        path = _file_url_path(dist.download_url, dataset, dist)
        if not path.is_file():
            raise FetchError(
                f"file not found: {path} (from download_url)", dataset=dataset.id, file=dist.label
            )
        return _local(path, dataset, dist, "download")

    if key is not None and not offline():
        if dist.download_url:
            return _download(
                dist.download_url,
                key=key,
                source="download",
                cached=cached,
                dataset=dataset,
                dist=dist,
                session=session,
            )
        assert dist.ckan is not None  # the key came from it
        try:
            url = ckan_resource_url(
                str(dist.ckan["api"]), str(dist.ckan["package"]), dist.ckan.get("resource"), session=session
            )
        except FetchError as exc:
            raise FetchError(exc.message, dataset=dataset.id, file=dist.label) from None
        return _download(
            url, key=key, source="ckan", cached=cached, dataset=dataset, dist=dist, session=session
        )

    raise OfflineError(
        _unavailable(dataset, dist, mirror_root, untrusted), dataset=dataset.id, file=dist.label
    )


# ------------------------------------------------------------------------------------ source registry
SOURCE_PLUGINS: tuple[str, ...] = ("lab.portal.api",)
"""Modules that register a kind of source with :func:`register_source` (imported on first need, by
name, as the CLI's command modules: a source package depends on this module, never the reverse)."""

_SOURCES: dict[str, Callable[..., Path]] = {}


def register_source(kind: str, handler: Callable[..., Path]) -> None:
    """Make ``handler(dataset, dist, *, refresh, session) -> Path`` fetch the distributions of ``kind``
    (``portal``: the portal's paged data API, :func:`lab.portal.api.fetch_portal`)."""
    _SOURCES[kind] = handler


def source_handler(kind: str) -> Callable[..., Path]:
    """The registered handler of ``kind``, its plugin module imported first if need be."""
    if kind not in _SOURCES:
        for module in SOURCE_PLUGINS:
            importlib.import_module(module)
    try:
        return _SOURCES[kind]
    except KeyError:
        raise FetchError(f"no source of kind {kind!r} is registered") from None


def fetch(
    dataset: Dataset,
    dist: Distribution,
    *,
    catalog_root: Path,
    mirror: Path | None = None,
    refresh: bool = False,
) -> Path:
    """A local file holding the bytes of one distribution, fetched if need be.

    Parameters
    ----------
    dataset
        The catalog dataset (for messages and logs).
    dist
        One of its distributions.
    catalog_root
        The folder relative ``path`` distributions start from (``Catalog.root``).
    mirror
        An offline mirror folder; default ``$LAB_MIRROR``. It wins over ``$LAB_MIRROR``.
    refresh
        Ask the server again even when the cache holds the file (a conditional GET: an unchanged
        file is not downloaded again). Ignored for local, demo and mirror files.

    Returns
    -------
    pathlib.Path
        The file to read: in place for ``path``, ``demo``, ``mirror`` and ``file://`` sources, in
        the cache otherwise. Never a partial or unverified download.

    Raises
    ------
    lab.errors.FetchError
        A local file is missing, an HTTP error, a timeout or connection failure after the retries,
        a redirect loop, a CKAN error.
    lab.errors.OfflineError
        Nothing cached and no way to get the file (offline, no mirror); the message says what to do.
    lab.errors.ChecksumError
        The bytes do not match the declared ``sha256`` or ``byte_size``.
    lab.errors.HtmlInsteadOfDataError
        The server answered an HTML page (a login or error page) where data was expected.
    """
    with new_session() as session:
        return _fetch_one(
            dataset,
            dist,
            catalog_root=Path(catalog_root),
            mirror=Path(mirror) if mirror else None,
            refresh=refresh,
            session=session,
        )


def fetch_dataset(
    dataset: Dataset, *, catalog_root: Path, mirror: Path | None = None, refresh: bool = False
) -> list[Path]:
    """Fetch every distribution of ``dataset`` (what ``lab fetch <id>`` does).

    Parameters
    ----------
    dataset
        The catalog dataset.
    catalog_root, mirror, refresh
        As for :func:`fetch`.

    Returns
    -------
    list of pathlib.Path
        One local file per distribution, in catalog order.

    Raises
    ------
    lab.errors.FetchError
        The first distribution that cannot be fetched (see :func:`fetch`).
    """
    root = Path(catalog_root)
    mirror_path = Path(mirror) if mirror else None
    with new_session() as session:
        return [
            _fetch_one(dataset, dist, catalog_root=root, mirror=mirror_path, refresh=refresh, session=session)
            for dist in dataset.distributions
        ]
