"""Apache Parquet, through a polars lazy scan."""

from __future__ import annotations

import polars as pl

from lab.errors import EmptyFileError, ReadError
from lab.readers.base import Source, register

__all__ = ["read_parquet"]


@register("parquet")
def read_parquet(src: Source) -> pl.DataFrame:
    """Read a Parquet file (typed columns; the schema still renames, casts and checks them)."""
    with open(src.path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PAR1":
        # the file's bytes are not shown: it may be a secret or system file given by mistake
        raise src.error(ReadError, "not a Parquet file (it does not start with the PAR1 marker)")
    try:
        df = pl.scan_parquet(src.path).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise src.error(ReadError, f"not readable as Parquet: {cause}") from None
    if df.height == 0:
        raise src.error(EmptyFileError, f"has {df.width} columns and no rows")
    return df
