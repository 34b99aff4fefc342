"""The portal's data API: every row of a dataset, page by page, into the cache as Parquet.

``GET <base>/api/dataset/<base64 of the numeric id>?limit=<n>&offset=<k>`` with HTTP Basic
authentication (see ``docs/concepts/sources.md``, "The Đà Nẵng portal"). A catalog distribution points
at it with::

    distributions:
      - format: PARQUET
        portal: {name: congdulieu, id: 102528}          # optional: base_url, page_size

and :func:`lab.fetch.fetch` hands such a distribution to :func:`fetch_portal`, which returns the
cached Parquet file the readers open like any other.

Rows are read from whichever shape the portal answers (:func:`rows_from_answer`): ``result.records``
(the CKAN DataStore shape, ``result.total`` giving the row count), ``data``, ``records`` or a bare
list. Paging stops at the announced total or at an empty page; an empty page before the end, a page
repeating the previous one, or columns that change between pages raise one clear error naming the
dataset and the page, and nothing is cached: the Parquet file is written once, atomically, after the
last page, with the fetch time in its metadata and in its ``.meta.json`` sidecar.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import requests
from tqdm import tqdm

from lab import cache as lab_cache
from lab import fetch as lab_fetch
from lab.atomic import atomic_path, atomic_write_text
from lab.catalog import Dataset, Distribution
from lab.errors import FetchError, OfflineError
from lab.http import redact_url
from lab.portal.account import Account, find_account
from lab.portal.client import DEFAULT_BASE_URL, Answer, PortalClient
from lab.portal.errors import (
    PortalAccountError,
    PortalAnswerError,
    PortalError,
    PortalPagingError,
    PortalSchemaError,
)
from lab.portal.ids import encode_dataset_id
from lab.sniff import HEAD_BYTES, html_title, looks_like_html

log = logging.getLogger(__name__)

PORTAL_NAME = "congdulieu"
#: Rows asked per API call when the catalog does not say.
PAGE_SIZE: int = 1000
#: More pages than this is a server that never stops.
MAX_PAGES: int = 100_000
#: Keys of a JSON answer that may hold the dataset's row count.
TOTAL_KEYS = ("total", "count", "totalCount", "total_count", "recordsTotal", "totalRecords")


# ------------------------------------------------------------------------------------------- the source
@dataclass(frozen=True)
class PortalSource:
    """Where a distribution's rows come from: the dataset id, the portal and the page size."""

    id: int
    base_url: str = DEFAULT_BASE_URL
    page_size: int = PAGE_SIZE

    @property
    def token(self) -> str:
        """The API form of the id (base64 of the number)."""
        return encode_dataset_id(self.id)

    @property
    def path(self) -> str:
        """The API path: ``/api/dataset/<token>``."""
        return f"/api/dataset/{self.token}"

    @property
    def url(self) -> str:
        """The API URL without paging (the cache key; it never carries credentials)."""
        return f"{self.base_url.rstrip('/')}{self.path}"

    @property
    def label(self) -> str:
        """A short name for messages: ``api/dataset/MTAyNTI4``."""
        return self.path.lstrip("/")


def portal_source(dist: Distribution) -> PortalSource:
    """The :class:`PortalSource` of a distribution's ``portal`` block.

    Raises
    ------
    lab.portal.errors.PortalError
        The distribution has no ``portal`` block or it names another portal.
    """
    spec = dist.portal or {}
    if spec.get("name", PORTAL_NAME) != PORTAL_NAME or "id" not in spec:
        raise PortalError(f"not a {PORTAL_NAME} portal distribution: {spec!r}")
    return PortalSource(
        id=int(spec["id"]),
        base_url=str(spec.get("base_url") or DEFAULT_BASE_URL).rstrip("/"),
        page_size=int(spec.get("page_size") or PAGE_SIZE),
    )


# ------------------------------------------------------------------------------------- answer shapes
@dataclass(frozen=True)
class Page:
    """The rows of one API answer and the row count it announces (None if it does not say)."""

    rows: list[dict[str, Any]]
    total: int | None = None
    shape: str = ""


def _total(*holders: Any) -> int | None:
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        for key in TOTAL_KEYS:
            value = holder.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
        meta = holder.get("meta") or holder.get("pagination")
        if isinstance(meta, dict) and meta is not holder:
            found = _total(meta)
            if found is not None:
                return found
    return None


def _as_dicts(records: list[Any], fields: Any, shape: str) -> list[dict[str, Any]]:
    """Records as dicts: dicts as they are, lists zipped with the DataStore's ``fields``."""
    if all(isinstance(r, dict) for r in records):
        return records
    if isinstance(fields, list) and all(isinstance(r, list) for r in records):
        names = [f.get("id") if isinstance(f, dict) else str(f) for f in fields]
        return [dict(zip(names, r, strict=False)) for r in records]
    kinds = sorted({type(r).__name__ for r in records if not isinstance(r, dict)})
    raise PortalAnswerError(f"the rows in {shape} are not objects ({', '.join(kinds)})")


def rows_from_answer(doc: Any) -> Page:
    """The rows of a decoded API answer, whatever its shape.

    Parameters
    ----------
    doc
        The decoded JSON: ``{"result": {"records": [...], "total": n}}`` (CKAN DataStore),
        ``{"data": [...]}``, ``{"records": [...]}`` or ``[...]``. Records are objects, or lists
        alongside the DataStore's ``result.fields``.

    Returns
    -------
    Page
        The rows (dicts), the announced total if any, and which shape it was.

    Raises
    ------
    lab.portal.errors.PortalAnswerError
        ``success: false`` (with the portal's error message) or none of the known shapes.

    Examples
    --------
    >>> rows_from_answer({"result": {"records": [{"a": 1}], "total": 7}})
    Page(rows=[{'a': 1}], total=7, shape='result.records')
    >>> rows_from_answer([{"a": 1}, {"a": 2}]).rows
    [{'a': 1}, {'a': 2}]
    """
    if isinstance(doc, list):
        return Page(_as_dicts(doc, None, "the list"), None, "list")
    if not isinstance(doc, dict):
        raise PortalAnswerError(f"the answer is a JSON {type(doc).__name__}, not rows")
    if doc.get("success") is False:
        error = doc.get("error")
        detail = error.get("message") if isinstance(error, dict) else error
        raise PortalAnswerError(f"the API answered success: false{f' ({detail})' if detail else ''}")
    result = doc.get("result")
    if isinstance(result, dict) and isinstance(result.get("records"), list):
        rows = _as_dicts(result["records"], result.get("fields"), "result.records")
        return Page(rows, _total(result, doc), "result.records")
    if isinstance(result, list):
        return Page(_as_dicts(result, None, "result"), _total(doc), "result")
    for key in ("data", "records"):
        value = doc.get(key)
        if isinstance(value, list):
            return Page(_as_dicts(value, doc.get("fields"), key), _total(doc), key)
        if isinstance(value, dict):
            for inner in ("records", "rows", "items"):
                if isinstance(value.get(inner), list):
                    rows = _as_dicts(value[inner], value.get("fields"), f"{key}.{inner}")
                    return Page(rows, _total(value, doc), f"{key}.{inner}")
    keys = ", ".join(sorted(map(str, doc))[:8]) or "none"
    raise PortalAnswerError(
        f"the answer has none of result.records, data, records or a list of rows (its keys: {keys})"
    )


# ---------------------------------------------------------------------------------------------- pages
def _decode(answer: Answer, where: str, account: Account | None) -> Any:
    """The JSON of one answer; an HTML page or 401/403 is an account problem, other statuses errors."""
    head = answer.body[:HEAD_BYTES]
    html = looks_like_html(head)
    source = f" (from {account.source})" if account is not None else ""

    def bad_account(what: str) -> PortalAccountError:
        return PortalAccountError(
            f"{where}: the portal answered HTTP {answer.status} with {what}: the portal account{source} "
            "is wrong or expired; check LAB_PORTAL_USER / LAB_PORTAL_PASSWORD or ~/.netrc (log in on the "
            "portal's website to renew it); nothing was cached"
        )

    def html_page() -> str:
        title = html_title(head)
        return f"an HTML page{f' ({title!r})' if title else ''} instead of JSON"

    if answer.status in (401, 403):
        raise bad_account(html_page() if html else "no data")
    if html and 200 <= answer.status < 300:
        raise bad_account(html_page())
    if answer.status == 404:
        raise PortalError(f"{where}: HTTP 404: the portal has no such dataset; check the id in the catalog")
    if not 200 <= answer.status < 300:
        raise PortalError(f"{where}: HTTP {answer.status} {answer.reason}")
    try:
        return json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        if answer.content_type.split(";")[0].strip().lower() == "text/html":  # a page without <html>
            raise bad_account(html_page()) from None
        start = answer.body[:40].decode("utf-8", "replace").strip()
        raise PortalAnswerError(f"{where}: the answer is not JSON (it starts {start!r})") from None


def _kind(dtype: pl.DataType) -> str | None:
    """The JSON kind of a column type (None for all-null): columns may widen, not change kind."""
    if dtype == pl.Null:
        return None
    if dtype.is_numeric():
        return "number"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_nested():
        return "nested"
    return "text"


def _page_frame(rows: list[dict[str, Any]], where: str) -> pl.DataFrame:
    try:
        return pl.from_dicts(rows, infer_schema_length=None)
    except (pl.exceptions.PolarsError, TypeError, ValueError):  # mixed kinds in a column: keep as text
        try:
            return pl.from_dicts(rows, infer_schema_length=None, strict=False)
        except (pl.exceptions.PolarsError, TypeError, ValueError) as exc:
            cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise PortalAnswerError(f"{where}: the rows cannot form a table ({cause})") from None


def _schema_change(first: pl.DataFrame, frame: pl.DataFrame, where: str) -> str | None:
    """Why ``frame`` does not continue ``first`` (other columns, or a column of another kind), or None.

    A column of numbers on one page and text on another is widened to text (with a warning): JSON APIs
    send codes either way. Booleans, numbers and nested values do not mix.
    """
    old, new = set(first.columns), set(frame.columns)
    if old != new:
        parts = []
        if new - old:
            parts.append("new columns " + ", ".join(sorted(new - old)))
        if old - new:
            parts.append("missing columns " + ", ".join(sorted(old - new)))
        return f"{where} has other columns than page 1: {'; '.join(parts)}"
    for name in first.columns:
        a, b = _kind(first.schema[name]), _kind(frame.schema[name])
        if a and b and a != b:
            if {a, b} == {"number", "text"}:  # codes sent as numbers on one page, text on another
                log.warning(
                    "%s: column %r holds %s values where page 1 held %s: kept as text", where, name, b, a
                )
                continue
            return f"{where}: column {name!r} holds {b} values where page 1 held {a}"
    return None


def _progress(desc: str, enabled: bool) -> tqdm:
    """A row progress bar on stderr (disabled when not asked or stderr is not a terminal)."""
    return tqdm(
        desc=desc, unit="rows", unit_scale=True, leave=False, disable=not enabled or not sys.stderr.isatty()
    )


def fetch_rows(
    source: PortalSource, *, client: PortalClient, dataset: str | None = None, progress: bool = True
) -> pl.DataFrame:
    """Every row of one portal dataset, page by page (limit/offset).

    Paging ends at the row count the API announces (``result.total`` and the like) or, when it
    announces none, at the first empty page after a short one. An empty page right after a full one
    is checked against the next page, so a gap in the middle is an error, not the end.

    Parameters
    ----------
    source
        The dataset id, portal and page size.
    client
        A :class:`~lab.portal.client.PortalClient` (with the account) for ``source.base_url``.
    dataset
        The catalog id, named by errors.
    progress
        Show a tqdm bar (rows) on a terminal.

    Returns
    -------
    polars.DataFrame
        The rows in the API's order, columns in the order of the first page.

    Raises
    ------
    lab.portal.errors.PortalAccountError
        The API answered an HTML page with a success status, or 401/403: a wrong or expired account.
    lab.portal.errors.PortalPagingError
        An empty page before the announced end (or followed by more rows), a page repeating the
        previous one (the API ignores ``offset``), more rows than asked after the first page.
    lab.portal.errors.PortalSchemaError
        The columns (or a column's kind) changed between two pages.
    lab.portal.errors.PortalError
        A page failed after the retries (timeouts, 5xx), or another HTTP status.
    """
    size = source.page_size
    frames: list[pl.DataFrame] = []
    offset = 0
    total: int | None = None
    previous: list[dict[str, Any]] | None = None

    def get(number: int, at: int) -> Page:
        where = f"page {number} (offset {at:,})"
        try:
            answer = client.get(
                source.path, {"limit": size, "offset": at}, dataset=dataset, file=source.label
            )
            page = rows_from_answer(_decode(answer, where, client.account))
        except PortalError as exc:
            message = exc.message if exc.message.startswith(where) else f"{where}: {exc.message}"
            raise type(exc)(message, dataset=dataset, file=source.label) from None
        except FetchError as exc:  # the retries are exhausted: say which page, keep the cause
            raise PortalError(f"{where}: {exc.message}", dataset=dataset, file=source.label) from None
        log.info("%s: %s: %d rows (%s)", dataset or source.label, where, len(page.rows), page.shape)
        return page

    def fail(kind: type[PortalError], message: str) -> PortalError:
        return kind(f"{message}; nothing was cached", dataset=dataset, file=source.label)

    with _progress(dataset or source.label, progress) as bar:
        for number in range(1, MAX_PAGES + 1):
            page = get(number, offset)
            where = f"page {number} (offset {offset:,})"
            if total is None and page.total is not None:
                total = page.total
                bar.total = total
                bar.refresh()
            n = len(page.rows)
            if n == 0:
                if total is not None and offset < total:
                    raise fail(
                        PortalPagingError,
                        f"{where} is empty but the API announced {total:,} rows ({offset:,} read so far)",
                    )
                if total is None and previous is not None and len(previous) >= size:
                    probe = get(number + 1, offset + size)  # a full page, an empty one: the end, or a gap?
                    if probe.rows:
                        raise fail(
                            PortalPagingError,
                            f"{where} is empty but page {number + 1} has {len(probe.rows):,} rows: the API "
                            "skipped rows",
                        )
                break
            if n > size and offset > 0:
                raise fail(PortalPagingError, f"{where} has {n:,} rows where {size:,} were asked")
            if previous is not None and page.rows == previous:
                raise fail(PortalPagingError, f"{where} repeats the previous page: the API ignores offset")
            frame = _page_frame(page.rows, where)
            if frames and (problem := _schema_change(frames[0], frame, where)):
                raise fail(PortalSchemaError, f"the columns changed between pages: {problem}")
            frames.append(frame)
            offset += n
            bar.update(n)
            if total is not None and offset >= total:
                break
            if n > size and total is None:
                log.warning(
                    "%s: the API sent %d rows where %d were asked: taking them as the whole dataset",
                    dataset or source.label,
                    n,
                    size,
                )
                break
            previous = page.rows
        else:
            raise fail(PortalPagingError, f"more than {MAX_PAGES:,} pages: the API never ends")
    if not frames:
        return pl.DataFrame()
    columns = frames[0].columns
    return pl.concat([f.select(columns) for f in frames], how="vertical_relaxed")


# ---------------------------------------------------------------------------------------------- cache
def _write_cache(frame: pl.DataFrame, source: PortalSource) -> Path:
    """Write the rows as Parquet into the cache entry of ``source.url``, atomically, meta last."""
    key = source.url
    target = lab_cache.entry_dir(key) / f"dataset-{source.id}.parquet"
    fetched_at = lab_cache.utc_timestamp()
    with atomic_path(target) as tmp:
        frame.write_parquet(
            tmp,
            metadata={
                "lab.source": PORTAL_NAME,
                "lab.url": redact_url(key),
                "lab.portal_id": str(source.id),
                "lab.fetched_at": fetched_at,
            },
        )
        size = tmp.stat().st_size
        digest = lab_cache.hash_file(tmp)
    meta = {
        "url": redact_url(key),
        "download_url": redact_url(key),
        "portal": {"name": PORTAL_NAME, "id": source.id, "page_size": source.page_size},
        "rows": frame.height,
        "columns": frame.columns,
        "sha256": digest,
        "byte_size": size,
        "fetched_at": fetched_at,
        "source": "portal",
    }
    atomic_write_text(target.with_name(target.name + lab_cache.META_SUFFIX), json.dumps(meta, indent=2))
    lab_cache.remember_sha256(target, digest)
    lab_cache.drop_other_entries(target.parent, keep=target)
    return target


def cached_path(dist: Distribution) -> Path | None:
    """The trusted cached Parquet file of a portal distribution, or None."""
    entry, _problem = lab_cache.cached_entry(portal_source(dist).url, dist)
    return entry.path if entry is not None else None


def fetch_portal(
    dataset: Dataset,
    dist: Distribution,
    *,
    refresh: bool = False,
    session: requests.Session | None = None,
    account: Account | None = None,
) -> Path:
    """The cached Parquet file of a portal distribution, fetched through the API if need be.

    Parameters
    ----------
    dataset
        The catalog dataset (named in messages and logs).
    dist
        Its distribution with a ``portal`` block.
    refresh
        Fetch every page again even when the cache holds the rows.
    session
        A :class:`requests.Session` to reuse; default a new one.
    account
        The portal account; default :func:`~lab.portal.account.find_account` (environment, netrc).

    Returns
    -------
    pathlib.Path
        ``<cache>/<key>/dataset-<id>.parquet``: every row, written after the last page.

    Raises
    ------
    lab.errors.OfflineError
        Not cached and ``LAB_OFFLINE=1``.
    lab.portal.errors.PortalError
        See :func:`fetch_rows`; also a missing account. Nothing is cached on any error.
    """
    source = portal_source(dist)
    label = dist.label if dist.label != "(no location)" else source.label
    entry, untrusted = lab_cache.cached_entry(source.url, dist)
    if entry is not None and (not refresh or lab_fetch.offline()):
        lab_fetch.log_source(dataset, dist, "cache", entry.path)
        return entry.path
    if lab_fetch.offline():
        cause = f"the cached copy is not trusted ({untrusted})" if untrusted else "not cached"
        raise OfflineError(
            f"{cause} and LAB_OFFLINE=1 forbids the network: unset LAB_OFFLINE and run "
            f"`lab fetch {dataset.id}`",
            dataset=dataset.id,
            file=label,
        )
    try:
        account = account or find_account(source.base_url)
    except PortalAccountError as exc:
        raise PortalAccountError(exc.message, dataset=dataset.id, file=label) from None
    with PortalClient(source.base_url, session=session, account=account) as client:
        frame = fetch_rows(source, client=client, dataset=dataset.id)
    try:
        path = _write_cache(frame, source)
    except OSError as exc:
        raise PortalError(
            f"could not write the cache ({exc.strerror or type(exc).__name__}): free some space or set "
            "LAB_CACHE=DIR",
            dataset=dataset.id,
            file=label,
        ) from None
    log.info(
        "%s: %d rows from %s into %s",
        dataset.id,
        frame.height,
        source.url,
        path,
        extra={"lab_source": "portal", "lab_dataset": dataset.id, "lab_file": label},
    )
    return path


lab_fetch.register_source("portal", fetch_portal)
