"""The content cache: downloaded files kept by key, trusted only when their bytes match their meta.

Layout: ``<cache>/<sha256(key)[:16]>/<filename>`` beside ``<filename>.meta.json`` (url, etag,
last_modified, sha256, byte_size, fetched_at), where the key is a download URL or a CKAN resource
(:func:`cache_key`). An entry whose bytes do not match its meta, or what the catalog declares, is never
trusted (:func:`cached_entry`), so an interrupted download, a crash or a corrupted file cannot be read by
a later load. Writers (:mod:`lab.fetch`, :mod:`lab.portal.api`) write the data whole (:mod:`lab.atomic`),
then the meta.

Hashing a large local file happens once: its sha256 is remembered by (path, size, mtime_ns) in a small
JSON sidecar of the cache folder (:data:`MEMO_NAME`, :func:`file_sha256`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lab.atomic import atomic_write_text
from lab.catalog import Distribution
from lab.http import CHUNK_SIZE, redact_url
from lab.settings import cache_dir

log = logging.getLogger(__name__)

#: Temporary download files older than this (left by a killed process) are removed.
STALE_PART_SECONDS: float = 24 * 3600


#: The verification memo keeps at most this many files (the least recently checked are dropped).
MEMO_MAX_ENTRIES: int = 4096


#: The sidecar (in the cache folder) remembering the sha256 of local files by (path, size, mtime_ns).
MEMO_NAME = "verified.json"


META_SUFFIX = ".meta.json"


def short_digest(digest: str) -> str:
    return digest[:12]


def utc_timestamp() -> str:
    """The current UTC time as cache metas record it (``fetched_at``, ``checked_at``).

    Returns
    -------
    str
        ``YYYY-MM-DDTHH:MM:SSZ``.
    """
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


@dataclass(frozen=True)
class CacheEntry:
    """A trusted cache entry: the data file and its meta (the parsed ``<file>.meta.json``)."""

    path: Path
    meta: dict[str, Any]


def entry_dir(key: str) -> Path:
    """The cache folder of a key (a download URL, or what :func:`cache_key` makes of a CKAN resource).

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


def read_meta(meta_path: Path) -> dict[str, Any] | None:
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
        return f"it is sha256 {short_digest(recorded)}, the catalog declares {short_digest(dist.sha256)}"
    got = file_sha256(path)
    if got != recorded:
        return f"its bytes (sha256 {short_digest(got)}) do not match its meta ({short_digest(recorded)})"
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
        meta = read_meta(meta_path)
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


def cache_key(dist: Distribution) -> str | None:
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
