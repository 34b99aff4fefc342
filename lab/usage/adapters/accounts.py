"""Account sign-ups (CSV): ``signup`` (and ``login``) events.

Columns: ``timestamp`` (or ``created``, ``created_at``), ``account_id`` (or ``account``, ``user_id``,
``id``), optionally ``event`` / ``action`` (``signup`` or ``login``; default ``signup``); other columns
(``method``, …) are not stored. The account id becomes ``account_key`` (a keyed hash): the same
account has the same key in the API gateway log, so sign-ups and activity can be related.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from lab.errors import ReadError
from lab.usage.adapters.base import Context, as_staged, parse_timestamp, pick_column, read_csv_text
from lab.usage.adapters.channels import row_text
from lab.usage.privacy import keyed_hash


def read_accounts_csv(path: Path, ctx: Context) -> Iterator[pl.DataFrame]:
    """Adapter: account sign-ups (and optionally logins) → staged ``signup`` / ``login`` events."""
    rows = read_csv_text(path)
    columns = [c for c in rows.columns if c != "line_no"]
    c_time = pick_column(columns, "timestamp", "created", "created_at", "time", "date")
    c_account = pick_column(columns, "account_id", "account", "user_id", "id")
    c_event = pick_column(columns, "event", "action")
    if c_time is None or c_account is None:
        raise ReadError("needs a timestamp and an account_id column: not a sign-up export", file=path.name)
    ctx.lines_read += rows.height
    event = (
        pl.col(c_event)
        .str.strip_chars()
        .str.to_lowercase()
        .replace({"sign_up": "signup", "sign-up": "signup"})
        if c_event
        else pl.lit("signup")
    )
    frame = rows.with_columns(
        row_text(columns),
        ts=parse_timestamp(pl.col(c_time), ctx.timezone),
        _account=pl.col(c_account).str.strip_chars().replace("", None),
        event=event,
    ).with_columns(
        reject=pl.when(pl.col("ts").is_null())
        .then(pl.lit("no valid timestamp"))
        .when(pl.col("_account").is_null())
        .then(pl.lit("no account id"))
        .when(~pl.col("event").is_in(["signup", "login"]).fill_null(False))
        .then(pl.lit("event is not signup or login"))
    )
    frame = ctx.reject(frame, text_col="_text")
    good = frame.filter(pl.col("reject").is_null())
    ctx.note_times(good)
    yield as_staged(
        good.with_columns(
            channel=pl.lit("web"),
            account_key=keyed_hash(good.get_column("_account"), ctx.secret, "account"),
            agent_class=pl.lit("human"),
            source_file=pl.lit(ctx.source_file),
            ok=pl.lit(True),
        )
    )
