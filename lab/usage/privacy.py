"""Privacy: keyed hashes instead of IP addresses and account ids, and small-cell suppression.

Raw IP addresses, User-Agents and account ids never reach the event store. What is stored is the first
64 bits of ``HMAC-SHA256(secret, domain || value)``: the same visitor gets the same key in every file
ingested with the same secret (so unique visitors can be counted across months), and without the
secret nobody can test a guessed IP address against the store (an unkeyed hash of an IPv4 address is
reversed by trying all 2³² of them in minutes). 64 bits keep the chance of two visitors sharing a key
below one in ten million for a million visitors.

The secret comes from, in order:

1. ``$LAB_USAGE_SECRET`` (at least 16 characters);
2. the file named by ``$LAB_USAGE_SECRET_FILE``;
3. ``$XDG_CONFIG_HOME/lab/usage-secret`` (default ``~/.config/lab/usage-secret``), created on first use
   with 32 random bytes and permissions 0600. It lives outside the repository and outside the store, so
   copying or publishing the store never carries the secret with it. Never commit it.

The store records a fingerprint of the secret (an HMAC of a fixed text, not the secret) and refuses to
mix keys made with another secret.

Every KPI takes ``min_count`` (default :data:`DEFAULT_MIN_COUNT`): a cell counting fewer than
``min_count`` (and more than zero) is *suppressed*: its value becomes null and its
``<column>_suppressed`` flag true, so it is never mistaken for zero.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from lab.errors import LabError

if TYPE_CHECKING:  # polars is imported where it is used: an app's first paint needs only the constant
    import polars as pl

log = logging.getLogger(__name__)

SECRET_ENV = "LAB_USAGE_SECRET"
SECRET_FILE_ENV = "LAB_USAGE_SECRET_FILE"
MIN_SECRET_CHARS = 16
DEFAULT_MIN_COUNT = 5
"""Cells below this count are suppressed in anything public."""

_FINGERPRINT_TEXT = b"lab.usage secret fingerprint v1"


class SecretError(LabError):
    """The keyed-hash secret is missing, too short, unreadable, or not the store's."""


def default_secret_file() -> Path:
    """``$XDG_CONFIG_HOME/lab/usage-secret``, default ``~/.config/lab/usage-secret``."""
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base).expanduser() if base else Path.home() / ".config"
    return root / "lab" / "usage-secret"


def _create_secret_file(path: Path) -> None:
    """Write 32 random bytes (hex) to ``path`` with permissions 0600, atomically: the file appears
    complete or not at all, and when two processes race, the first one's secret wins."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process made it meanwhile: theirs is kept
        log.info("created the usage secret %s (0600); keep it, never commit it", path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def load_secret(create: bool = True) -> bytes:
    """The HMAC secret (see the module docstring for where it comes from).

    Parameters
    ----------
    create
        Create the default secret file when no secret is configured (the first ingest does).

    Raises
    ------
    SecretError
        The configured secret is shorter than 16 characters, or its file is unreadable or empty.
    """
    env = os.environ.get(SECRET_ENV, "")
    if env:
        if len(env) < MIN_SECRET_CHARS:
            raise SecretError(
                f"${SECRET_ENV} is shorter than {MIN_SECRET_CHARS} characters: use a long random value"
            )
        return env.encode("utf-8")
    named = os.environ.get(SECRET_FILE_ENV, "").strip()
    from lab.settings import absolute

    path = absolute(named) if named else default_secret_file()
    if not path.exists() and not named and create:
        _create_secret_file(path)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(
            f"cannot read the usage secret ({exc.strerror or exc}); set ${SECRET_ENV} or ${SECRET_FILE_ENV}",
            file=path,
        ) from None
    if len(text) < MIN_SECRET_CHARS:
        raise SecretError(f"the usage secret is shorter than {MIN_SECRET_CHARS} characters", file=path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("the usage secret %s is readable by others (mode %o): chmod 600 it", path, mode)
    return text.encode("utf-8")


def fingerprint(secret: bytes) -> str:
    """A public fingerprint of ``secret`` (16 hex digits): the store records it to detect a new secret."""
    return hmac.new(secret, _FINGERPRINT_TEXT, "sha256").hexdigest()[:16]


def keyed_hash(values: pl.Series, secret: bytes, domain: str) -> pl.Series:
    """The keyed hash of each value: first 64 bits of HMAC-SHA256(secret, domain + 0x1f + value).

    Each distinct value is hashed once (HMAC has no vectorised form in polars; a log has far fewer
    distinct visitors than lines), then mapped back onto the rows.

    Parameters
    ----------
    values
        Strings to hash; nulls stay null.
    secret
        From :func:`load_secret`.
    domain
        Separates kinds of keys (``"visitor"``, ``"account"``): the same text in two domains gives two
        unrelated keys.

    Returns
    -------
    polars.Series
        UInt64 keys, same length and name as ``values``.

    Examples
    --------
    >>> s = pl.Series("ip", ["192.0.2.1", None, "192.0.2.1"])
    >>> k = keyed_hash(s, b"0123456789abcdef", "visitor")
    >>> k[0] == k[2], k[1] is None, k.dtype
    (True, True, UInt64)
    """
    import polars as pl

    values = values.cast(pl.String)
    distinct = values.unique().drop_nulls()
    prefix = f"{domain}\x1f".encode()
    keys = [
        int.from_bytes(hmac.digest(secret, prefix + v.encode("utf-8"), "sha256")[:8], "big")
        for v in distinct.to_list()
    ]
    return values.replace_strict(
        distinct, pl.Series(keys, dtype=pl.UInt64), default=None, return_dtype=pl.UInt64
    ).alias(values.name)


def suppress(frame: pl.DataFrame, columns: Iterable[str], min_count: int = DEFAULT_MIN_COUNT) -> pl.DataFrame:
    """Suppress small cells: values ``0 < v < min_count`` become null, flagged in ``<column>_suppressed``.

    Parameters
    ----------
    frame
        A KPI table.
    columns
        The count columns to protect.
    min_count
        The smallest count shown; ``0`` or ``1`` shows everything (the flags are then all false).

    Returns
    -------
    polars.DataFrame
        ``frame`` with the values replaced and one boolean ``<column>_suppressed`` per column
        (false where the value is shown or was null because the inputs cannot tell).

    Examples
    --------
    >>> suppress(pl.DataFrame({"n": [0, 3, 7, None]}), ["n"], 5).rows()
    [(0, False), (None, True), (7, False), (None, False)]
    """
    import polars as pl

    if min_count < 0:
        raise ValueError("min_count must be >= 0")
    exprs = []
    for c in columns:
        small = (pl.col(c) > 0) & (pl.col(c) < min_count)
        exprs += [
            pl.when(small).then(None).otherwise(pl.col(c)).alias(c),
            small.fill_null(False).alias(f"{c}_suppressed"),
        ]
    return frame.with_columns(exprs)
