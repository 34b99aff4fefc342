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
mirror, cache and downloads); a mismatch raises :class:`~lab.errors.ChecksumError` (hashes memoised by
:func:`lab.cache.file_sha256`).

Downloads follow the lab's HTTP policy (:mod:`lab.http`: session, timeouts, retries, redaction,
progress) and go into the content cache (:mod:`lab.cache`): to a temporary file in the entry's folder
(:mod:`lab.atomic`), renamed only when complete, checked (no HTML page where data was expected, declared
sha256 and size) and flushed to disk; the meta file is written after the data. Refreshing a cached copy
is a conditional GET (``If-None-Match`` / ``If-Modified-Since``).

The chain is a registry, :data:`SOURCE_CHAIN`: one step per source, tried in the order above, each
returning the file, or None to pass, or raising when the distribution names it but it cannot supply the
file. Kinds of source outside this module register their handler (:func:`register_source`;
:mod:`lab.portal.api` registers ``portal``, tried after the demo), as readers register in
:mod:`lab.readers`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import re
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urljoin, urlsplit
from urllib.request import url2pathname

import requests

from lab import http as lab_http
from lab.atomic import atomic_path, atomic_write_text
from lab.cache import (
    META_SUFFIX,
    CacheEntry,
    cache_key,
    cached_entry,
    drop_other_entries,
    entry_dir,
    file_sha256,
    remember_sha256,
    short_digest,
    utc_timestamp,
)
from lab.catalog import Dataset, Distribution, stays_inside
from lab.errors import ChecksumError, FetchError, HtmlInsteadOfDataError, OfflineError
from lab.http import (
    Retryable,
    bounded_body,
    check_status,
    content_length,
    new_session,
    progress_bar,
    raw_chunks,
    redact_url,
    retrying,
)
from lab.settings import demo_dir, mirror_dir, offline  # relative values resolved once
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

SOURCES = ("path", "demo", "cache", "mirror", "download", "ckan")


# -------------------------------------------------------------------------------------------- helpers


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
                f"sha256 mismatch for the {source} copy {path}: expected {short_digest(dist.sha256)}, "
                f"got {short_digest(got)}; the file is corrupt or another version: replace it or fix sha256 "
                "in the catalog",
                dataset=dataset.id,
                file=dist.label,
            )


# ------------------------------------------------------------------------------------------- the cache


# ------------------------------------------------------------------------------------------------ HTTP


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


# long: one streamed download: bytes are counted, decoded, sniffed and hashed as they arrive
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
    total = content_length(resp)
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
        with open(tmp, "wb") as fh, progress_bar(total, target.name) as bar:
            try:
                for chunk in raw_chunks(resp):
                    wire += len(chunk)
                    bar.update(len(chunk))
                    write(fh, decoder.feed(chunk) if decoder is not None else chunk)
                if total is not None and wire < total:
                    raise Retryable(f"the connection dropped after {wire:,} of {total:,} bytes from {shown}")
                if decoder is not None:
                    write(fh, decoder.finish())
                body.finish()
            except (
                requests.exceptions.ChunkedEncodingError
            ):  # a cut chunked body or fewer bytes than announced
                got = f"{wire:,} of {total:,}" if total is not None else f"{wire:,}"
                raise Retryable(f"the connection dropped after {got} bytes from {shown}") from None
            except TooLargeError:
                raise too_large() from None
            except IncompleteError:
                raise Retryable(
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
                raise Retryable(f"the answer from {shown} is incomplete: {why}")
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
                f"sha256 mismatch for {shown}: expected {short_digest(dist.sha256)}, "
                f"got {short_digest(got)}; the source changed or the download is corrupt; nothing was "
                "cached (fix sha256 in the catalog if the new version is right)",
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
        with session.get(
            url, headers=headers, stream=True, timeout=(lab_http.CONNECT_TIMEOUT, lab_http.READ_TIMEOUT)
        ) as resp:
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
            endpoint,
            params={"id": package},
            stream=True,
            timeout=(lab_http.CONNECT_TIMEOUT, lab_http.READ_TIMEOUT),
        ) as resp:
            check_status(resp, shown)
            return resp.status_code, resp.reason, bounded_body(resp, CKAN_MAX_BYTES, f"{what} ({shown})")

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


@dataclass
class FetchRequest:
    """One distribution on its way through the source chain, with what the steps share."""

    dataset: Dataset
    dist: Distribution
    catalog_root: Path
    mirror_root: Path | None
    refresh: bool
    session: requests.Session
    key: str | None = None  # the cache key (a download URL or a CKAN resource), None for local files
    cached: CacheEntry | None = None  # the trusted cache entry, if any
    untrusted: str | None = None  # why an untrusted cache entry was refused

    def fail(self, error: type[FetchError], message: str) -> FetchError:
        """``error`` naming this dataset and file."""
        return error(message, dataset=self.dataset.id, file=self.dist.label)


def _from_path(req: FetchRequest) -> Path | None:
    """``path``: a local file, relative to the catalog folder (or absolute), read in place."""
    if not req.dist.path:
        return None
    path = Path(req.dist.path).expanduser()
    path = path if path.is_absolute() else Path(req.catalog_root) / path
    if not path.is_file():
        raise req.fail(
            FetchError,
            f"local file not found: {path} (path is relative to the catalog folder {req.catalog_root})",
        )
    return _local(path, req.dataset, req.dist, "path")


def _inside_folders(req: FetchRequest) -> Path | None:
    """Refuse ``demo`` and ``mirror`` paths that leave their folder (never supplies a file)."""
    for key, rel in (("demo", req.dist.demo), ("mirror", req.dist.mirror)):
        if rel and not stays_inside(rel):
            raise req.fail(
                FetchError,
                f"the catalog's {key} path {rel!r} leaves the {key} folder: refused (give a relative path "
                "without '..'; `lab catalog validate` shows it)",
            )
    return None


def _from_demo(req: FetchRequest) -> Path | None:
    """``demo``: a file of the generated demo portal (``$LAB_DEMO``)."""
    if not req.dist.demo:
        return None
    path = demo_dir() / req.dist.demo
    if not path.is_file():
        raise req.fail(
            OfflineError,
            f"demo portal file not found: {path}; run `lab demo` (or `make demo`) to generate "
            "the demo portal, or set LAB_DEMO=DIR to where it is",
        )
    return _local(path, req.dataset, req.dist, "demo")


def _from_plugin(req: FetchRequest) -> Path | None:
    """A registered kind of source (:func:`register_source`): ``portal``, the portal's paged data API,
    cached as Parquet (:mod:`lab.portal.api`)."""
    if not (req.dist.portal and not req.dist.download_url):
        return None
    return source_handler("portal")(req.dataset, req.dist, refresh=req.refresh, session=req.session)


def _from_cache(req: FetchRequest) -> Path | None:
    """The cache: a trusted entry, unless ``refresh`` (and online)."""
    req.key = cache_key(req.dist)
    req.cached, req.untrusted = cached_entry(req.key, req.dist) if req.key else (None, None)
    if req.cached is None or (req.refresh and not offline()):
        return None
    if req.refresh:
        log.warning(
            "%s: %s: LAB_OFFLINE=1: cannot refresh, using the cached copy", req.dataset.id, req.dist.label
        )
    log_source(req.dataset, req.dist, "cache", req.cached.path)
    return req.cached.path


def _from_mirror(req: FetchRequest) -> Path | None:
    """``mirror``: ``<mirror folder>/<dist.mirror>``, read in place."""
    if not (req.dist.mirror and req.mirror_root is not None):
        return None
    path = req.mirror_root / req.dist.mirror
    if path.is_file():
        return _local(path, req.dataset, req.dist, "mirror")
    log.info(
        "%s: %s: the mirror %s has no %s", req.dataset.id, req.dist.label, req.mirror_root, req.dist.mirror
    )
    return None


def _from_file_url(req: FetchRequest) -> Path | None:
    """A ``file:`` download URL, read in place."""
    url = req.dist.download_url
    if not (url and url.startswith("file:")):
        return None
    path = _file_url_path(url, req.dataset, req.dist)
    if not path.is_file():
        raise req.fail(FetchError, f"file not found: {path} (from download_url)")
    return _local(path, req.dataset, req.dist, "download")


def _from_download(req: FetchRequest) -> Path | None:
    """``download_url`` over http(s), into the cache (online only)."""
    if req.key is None or offline() or not req.dist.download_url:
        return None
    return _download(
        req.dist.download_url,
        key=req.key,
        source="download",
        cached=req.cached,
        dataset=req.dataset,
        dist=req.dist,
        session=req.session,
    )


def _from_ckan(req: FetchRequest) -> Path | None:
    """``ckan``: the Action API's ``package_show`` gives the resource URL, downloaded into the cache."""
    ckan = req.dist.ckan
    if req.key is None or offline() or not ckan:
        return None
    try:
        url = ckan_resource_url(
            str(ckan["api"]), str(ckan["package"]), ckan.get("resource"), session=req.session
        )
    except FetchError as exc:
        raise req.fail(FetchError, exc.message) from None
    return _download(
        url,
        key=req.key,
        source="ckan",
        cached=req.cached,
        dataset=req.dataset,
        dist=req.dist,
        session=req.session,
    )


SOURCE_CHAIN: tuple[tuple[str, Callable[[FetchRequest], Path | None]], ...] = (
    ("path", _from_path),
    ("checks", _inside_folders),
    ("demo", _from_demo),
    ("plugin", _from_plugin),
    ("cache", _from_cache),
    ("mirror", _from_mirror),
    ("file", _from_file_url),
    ("download", _from_download),
    ("ckan", _from_ckan),
)
"""The sources in the order they are tried (the module docstring's): each step returns the file, or None
to pass to the next, or raises when the distribution names it but it cannot supply the file."""


def _fetch_one(
    dataset: Dataset,
    dist: Distribution,
    *,
    catalog_root: Path,
    mirror: Path | None,
    refresh: bool,
    session: requests.Session,
) -> Path:
    req = FetchRequest(
        dataset, dist, catalog_root, Path(mirror) if mirror else mirror_dir(), refresh, session
    )
    for _name, step in SOURCE_CHAIN:
        path = step(req)
        if path is not None:
            return path
    raise req.fail(OfflineError, _unavailable(dataset, dist, req.mirror_root, req.untrusted))


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
