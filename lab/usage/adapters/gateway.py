"""API gateway logs, as CSV or JSON lines: one row per call.

Columns are found by name (case-insensitive; the first present wins):

=============  ==============================================================================
role           names
=============  ==============================================================================
time           ``timestamp``, ``time``, ``ts``, ``datetime``, ``@timestamp``, ``request_time``
dataset        ``portal_id``, ``dataset_id``, ``dataset``; else from ``path`` by the URL routes
path           ``path``, ``uri``, ``url``, ``route``, ``request_path``, ``api``
application    ``consumer_key``, ``consumer``, ``app_id``, ``app``, ``application``, ``client_id``
account        ``account_id``, ``account``, ``user_id``, ``user``, ``username``
client IP      ``client_ip``, ``ip``, ``remote_addr``, ``client``
status         ``status``, ``status_code``, ``http_status``
bytes          ``bytes``, ``size``, ``response_size``, ``bytes_sent``
content type   ``content_type``, ``response_content_type``
method         ``method``, ``http_method``
=============  ==============================================================================

A call is answered (``ok``) when its status is in the accepted range, its method is GET (if the log
says) and its content type is not HTML: the portal's API answers an expired or wrong account with an
HTML page and status 200, which is not a successful call. The client IP becomes ``visitor_key`` and
the account ``account_key`` (keyed hashes); latency is read but not stored.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from lab.errors import ReadError
from lab.usage.adapters.base import (
    BATCH_LINES,
    Context,
    as_staged,
    lines_of,
    parse_timestamp,
    pick_column,
    read_chunks,
    read_csv_text,
)
from lab.usage.privacy import keyed_hash
from lab.usage.routes import normalise_target

ROLES: dict[str, tuple[str, ...]] = {
    "time": ("timestamp", "time", "ts", "datetime", "@timestamp", "request_time"),
    "dataset": ("portal_id", "dataset_id", "dataset"),
    "path": ("path", "uri", "url", "route", "request_path", "api"),
    "app": ("consumer_key", "consumer", "app_id", "app", "application", "client_id"),
    "account": ("account_id", "account", "user_id", "user", "username"),
    "ip": ("client_ip", "ip", "remote_addr", "client"),
    "status": ("status", "status_code", "http_status"),
    "bytes": ("bytes", "size", "response_size", "bytes_sent"),
    "content_type": ("content_type", "response_content_type"),
    "method": ("method", "http_method"),
}


def roles_of(columns: list[str]) -> dict[str, str | None]:
    """Which column plays each role (None: absent)."""
    return {role: pick_column(columns, *names) for role, names in ROLES.items()}


def gateway_events(
    rows: pl.DataFrame, roles: dict[str, str | None], ctx: Context, not_json: pl.Expr | None = None
) -> pl.DataFrame:
    """Staged API events from text rows whose columns are named by ``roles``; rejects noted in ``ctx``.

    ``not_json`` marks rows that were not JSON objects (JSON lines), so they are rejected as such.
    """

    def col(role: str) -> pl.Expr:
        name = roles.get(role)
        return pl.col(name).cast(pl.String).str.strip_chars() if name else pl.lit(None, dtype=pl.String)

    frame = rows.with_columns(
        ts=parse_timestamp(col("time"), ctx.timezone),
        status=col("status").cast(pl.Int16, strict=False),
        bytes=col("bytes").cast(pl.Int64, strict=False),
        _path=normalise_target(col("path")),
        _dataset=col("dataset").replace("", None),
        _ip=col("ip"),
        _account=col("account").replace("", None),
        app_id=col("app").replace("", None),
        _html=col("content_type").str.to_lowercase().str.contains("html").fill_null(False),
        _get=col("method").str.to_uppercase().is_in(["GET", "HEAD"]).fill_null(True),
        _head=(col("method").str.to_uppercase() == "HEAD").fill_null(False),
    ).with_columns(
        reject=pl.when(not_json if not_json is not None else pl.lit(False))
        .then(pl.lit("not a JSON object"))
        .when(pl.col("ts").is_null())
        .then(pl.lit("no valid timestamp"))
        .when(pl.col("status").is_null())
        .then(pl.lit("no valid status"))
    )
    frame = ctx.reject(frame, text_col="_text")
    good = frame.filter(pl.col("reject").is_null() & pl.col("_get"))
    ctx.note_times(good)
    if roles.get("dataset") is None and roles.get("path") is not None:
        classes = ctx.rules.classify(good.get_column("_path").unique()).select(
            pl.col("path").alias("_path"), pl.col("dataset_id").alias("_dataset")
        )
        good = good.drop("_dataset").join(classes, on="_path", how="left", maintain_order="left")
    good = good.with_columns(
        visitor_key=keyed_hash(good.get_column("_ip"), ctx.secret, "visitor"),
        account_key=keyed_hash(good.get_column("_account"), ctx.secret, "account"),
    )
    return as_staged(
        good.with_columns(
            channel=pl.lit("api"),
            event=pl.lit("api_call"),
            dataset_id=pl.col("_dataset"),
            agent_class=pl.lit("human"),
            source_file=pl.lit(ctx.source_file),
            ok=ctx.rules.ok_expr(pl.col("status")) & ~pl.col("_html") & ~pl.col("_head"),
        )
    )


def _require(roles: dict[str, str | None], path: Path, columns: list[str]) -> None:
    missing = [r for r in ("time", "status") if roles.get(r) is None]
    if missing:
        raise ReadError(
            f"no {' or '.join(missing)} column among {', '.join(columns[:12])}: not an API gateway log",
            file=path.name,
        )


def read_gateway_csv(path: Path, ctx: Context) -> Iterator[pl.DataFrame]:
    """Adapter: an API gateway log as CSV (header row) → staged API events."""
    rows = read_csv_text(path)
    columns = [c for c in rows.columns if c != "line_no"]
    roles = roles_of(columns)
    _require(roles, path, columns)
    ctx.lines_read += rows.height
    text = pl.concat_str([pl.col(c).fill_null("") for c in columns], separator=",").alias("_text")
    for start in range(0, max(rows.height, 1), BATCH_LINES):
        batch = rows.slice(start, BATCH_LINES).with_columns(text)
        yield gateway_events(batch, roles, ctx)


def _json_keys(path: Path) -> list[str]:
    """The keys of the first JSON object lines (sniffed from the head of the file)."""
    keys: dict[str, None] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for _, line in zip(range(200), fh, strict=False):
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict):
                keys.update(dict.fromkeys(obj))
    return list(keys)


def read_gateway_jsonl(path: Path, ctx: Context) -> Iterator[pl.DataFrame]:
    """Adapter: an API gateway log as JSON lines (one object per line) → staged API events.

    A chunk whose every line is a JSON object is read by polars' NDJSON reader in one go; a chunk
    with a bad line is read line by line, so each bad line is rejected with its reason.
    """
    columns = _json_keys(path)
    roles = roles_of(columns)
    _require(roles, path, columns)
    used = sorted({c for c in roles.values() if c})
    for first_line, chunk, n_lines in read_chunks(path):
        try:
            rows = pl.read_ndjson(io.BytesIO(chunk), schema=dict.fromkeys(used, pl.String))
        except pl.exceptions.PolarsError:
            rows = None
        if rows is not None and rows.height == n_lines:
            ctx.lines_read += rows.height
            rows = rows.with_columns(
                pl.int_range(first_line, first_line + rows.height, dtype=pl.Int64).alias("line_no"),
                _text=pl.lit(None, dtype=pl.String),
            )
            yield gateway_events(rows, roles, ctx)
            continue
        lines = lines_of(chunk, first_line)
        ctx.lines_read += lines.height
        line = pl.col("line")
        rows = lines.with_columns([line.str.json_path_match(f"$['{c}']").alias(c) for c in used])
        not_json = ~line.str.strip_chars().str.starts_with("{").fill_null(False)
        yield gateway_events(rows.with_columns(_text=line), roles, ctx, not_json)
