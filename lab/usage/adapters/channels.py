"""Zalo, SMS and mobile-app channel exports (CSV).

``timestamp``, ``channel`` (zalo | sms | app), the dataset (``portal_id``, ``dataset_id``
or ``dataset``), the request type (``request_type``, ``type``, ``action``), the user (``user_key``,
``user``, ``subscriber``: hashed into ``visitor_key``) and optionally ``status`` (``ok`` 200, ``no_data``
204, ``error`` 500, or an HTTP number). Request types map to events by :data:`REQUEST_EVENTS`: a
look-up or a subscription is a ``dataset_view``, a notification that delivers the data a
``download``; any other type is rejected (and counted) rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from lab.errors import ReadError
from lab.usage.adapters.base import Context, as_staged, parse_timestamp, pick_column, read_csv_text
from lab.usage.privacy import keyed_hash

REQUEST_EVENTS: dict[str, str] = {
    "lookup": "dataset_view",
    "query": "dataset_view",
    "view": "dataset_view",
    "subscribe": "dataset_view",
    "search": "search",
    "notification": "download",
    "push": "download",
    "download": "download",
}
"""Request type → event of a channel request."""
CHANNEL_NAMES: dict[str, str] = {
    "zalo": "zalo",
    "sms": "sms",
    "app": "app",
    "mobile": "app",
    "mobile_app": "app",
}
STATUS_WORDS: dict[str, int] = {
    "ok": 200,
    "success": 200,
    "no_data": 204,
    "nodata": 204,
    "error": 500,
    "failed": 500,
}


def row_text(columns: list[str]) -> pl.Expr:
    """The row's cells joined by commas (``_text``: shown with a reject, never stored)."""
    return pl.concat_str([pl.col(c).fill_null("") for c in columns], separator=",").alias("_text")


def read_channel_csv(path: Path, ctx: Context) -> Iterator[pl.DataFrame]:
    """Adapter: a Zalo / SMS / app channel export → staged channel events."""
    rows = read_csv_text(path)
    columns = [c for c in rows.columns if c != "line_no"]
    c_time = pick_column(columns, "timestamp", "time", "ts", "datetime")
    c_channel = pick_column(columns, "channel")
    c_dataset = pick_column(columns, "portal_id", "dataset_id", "dataset")
    c_type = pick_column(columns, "request_type", "type", "action", "request")
    c_user = pick_column(columns, "user_key", "user", "subscriber", "user_id")
    c_status = pick_column(columns, "status")
    missing = [
        n for n, c in (("timestamp", c_time), ("channel", c_channel), ("request type", c_type)) if c is None
    ]
    if missing:
        raise ReadError(f"no {', '.join(missing)} column: not a channel export", file=path.name)
    ctx.lines_read += rows.height

    def col(name: str | None) -> pl.Expr:
        return pl.col(name).str.strip_chars() if name else pl.lit(None, dtype=pl.String)

    status_text = col(c_status).str.to_lowercase()
    frame = rows.with_columns(
        row_text(columns),
        ts=parse_timestamp(col(c_time), ctx.timezone),
        channel=col(c_channel).str.to_lowercase().replace_strict(CHANNEL_NAMES, default=None),
        event=col(c_type).str.to_lowercase().replace_strict(REQUEST_EVENTS, default=None),
        dataset_id=col(c_dataset).replace("", None),
        _user=col(c_user).replace("", None),
        status=pl.when(status_text.is_null())
        .then(pl.lit(200))
        .otherwise(
            status_text.replace_strict(STATUS_WORDS, default=None).fill_null(
                status_text.cast(pl.Int16, strict=False)
            )
        )
        .cast(pl.Int16),
    ).with_columns(
        reject=pl.when(pl.col("ts").is_null())
        .then(pl.lit("no valid timestamp"))
        .when(pl.col("channel").is_null())
        .then(pl.lit("unknown channel (not zalo, sms or app)"))
        .when(pl.col("event").is_null())
        .then(pl.lit("unknown request type"))
        .when(pl.col("status").is_null())
        .then(pl.lit("unknown status"))
    )
    frame = ctx.reject(frame, text_col="_text")
    good = frame.filter(pl.col("reject").is_null())
    ctx.note_times(good)
    yield as_staged(
        good.with_columns(
            visitor_key=keyed_hash(good.get_column("_user"), ctx.secret, "channel-user"),
            agent_class=pl.lit("human"),
            source_file=pl.lit(ctx.source_file),
            ok=ctx.rules.ok_expr(pl.col("status")),
        )
    )
