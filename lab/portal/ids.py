"""Dataset ids and URL shapes of the Đà Nẵng portal.

The data API addresses a dataset by the base64 of its numeric id (102528 → ``MTAyNTI4``); web pages
by the number itself (``/dulieuchitiet/102528``). Both the API client and the usage log adapters use
these functions, so a dataset is the same dataset in a URL, a log line and the catalog.
"""

from __future__ import annotations

import base64
import binascii
import re

import polars as pl

DATASET_PAGE = re.compile(r"^/dulieuchitiet/(\d+)(?:[/?#]|$)")
API_DATASET = re.compile(r"^/api/dataset/([A-Za-z0-9+/_-]+={0,2})(?:[/?#]|$)")
LISTING_PAGE = re.compile(r"^/dichvu(?:[/?#]|$)")


def encode_dataset_id(dataset_id: int | str) -> str:
    """The API form of a numeric dataset id.

    Examples
    --------
    >>> encode_dataset_id(102528)
    'MTAyNTI4'
    """
    text = str(int(dataset_id))
    return base64.b64encode(text.encode("ascii")).decode("ascii")


def decode_dataset_id(token: str) -> int | None:
    """The numeric id behind an API token, or None if the token is not the base64 of a number.

    Examples
    --------
    >>> decode_dataset_id("MTAyNTI4")
    102528
    >>> decode_dataset_id("not-base64!") is None
    True
    """
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("ascii", errors="replace")
    return int(text) if text.isdigit() else None


def dataset_id_from_path(path: str) -> int | None:
    """The dataset a portal URL path points at (a dataset page, its downloads, or an API call), or None.

    Examples
    --------
    >>> dataset_id_from_path("/dulieuchitiet/102528/download?format=csv")
    102528
    >>> dataset_id_from_path("/api/dataset/MTAyNTI4?limit=100&offset=0")
    102528
    >>> dataset_id_from_path("/dichvu?p=2") is None
    True
    """
    if m := DATASET_PAGE.match(path):
        return int(m.group(1))
    if m := API_DATASET.match(path):
        return decode_dataset_id(m.group(1))
    return None


def dataset_id_expr(path: pl.Expr) -> pl.Expr:
    """:func:`dataset_id_from_path` as a polars expression over URL paths (Int64, null if none)."""
    page = path.str.extract(r"^/dulieuchitiet/(\d+)(?:[/?#]|$)", 1).cast(pl.Int64, strict=False)
    token = path.str.extract(r"^/api/dataset/([A-Za-z0-9+/_-]+={0,2})(?:[/?#]|$)", 1)
    padded = token + pl.lit("=").repeat_by((4 - token.str.len_chars() % 4) % 4).list.join("")
    decoded = (
        padded.str.replace_all("-", "+", literal=True)
        .str.replace_all("_", "/", literal=True)
        .str.decode("base64", strict=False)
        .cast(pl.String, strict=False)
        .str.extract(r"^(\d+)$", 1)
        .cast(pl.Int64, strict=False)
    )
    return pl.coalesce(page, decoded)
