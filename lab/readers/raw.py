"""Plain text (logs): one row per line, in a column ``line``; the same encoding detection as CSV."""

from __future__ import annotations

import polars as pl

from lab.errors import EmptyFileError
from lab.readers.base import Source, register
from lab.readers.encoding import decode

__all__ = ["read_raw"]


@register("raw")
def read_raw(src: Source) -> pl.DataFrame:
    """Read a text file as a one-column frame ``line`` (line ends removed, a final newline ignored)."""
    text = decode(src, src.path.read_bytes())
    if not text.strip():
        raise src.error(EmptyFileError, "has no text")
    body = text[:-1] if text.endswith("\n") else text
    return pl.DataFrame({"line": [body]}).select(
        pl.col("line").str.split("\n").explode().str.strip_suffix("\r")
    )
