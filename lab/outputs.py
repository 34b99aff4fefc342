"""Files the command line writes (``--to``, ``--out``): the format the extension names, CSV cells no
spreadsheet runs, regular files only, atomically.

Every writer of the ``lab`` command goes through :func:`write_table`, or through :func:`output_format` and
:func:`csv_safe` for a file of its own shape (the reuse registry):

* the extension names the format (``.csv``, ``.parquet``, ``.geojson``…); any other is refused with one
  line (:class:`~lab.errors.OutputError`, exit 2) before anything is computed or written;
* in CSV, a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading apostrophe (the OWASP rule against CSV injection), so a spreadsheet shows ``=HYPERLINK(…)`` or
  ``=cmd|…`` as text instead of running it. Plain numbers (``-12.5``, ``+84``) and a lone ``-`` (a
  common "no value" mark) cannot run and are left as they are; numeric columns are never touched;
* a folder, a device (``/dev/full``), a pipe or a path in ``/proc`` is refused, and the file gets the
  umask's mode (:mod:`lab.atomic`).

>>> import polars as pl
>>> csv_safe(pl.DataFrame({"t": ["=HYPERLINK(\\"x\\")", "-12,5", "@me", "ok", "-"]}))["t"].to_list()
['\\'=HYPERLINK("x")', '-12,5', "'@me", 'ok', '-']
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from lab.atomic import atomic_path, atomic_write_text, check_target
from lab.errors import OutputError

log = logging.getLogger(__name__)

TABLE_FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
"""Extensions of a table output and the format each names."""
SPATIAL_FORMATS: dict[str, str] = {
    ".parquet": "geoparquet",
    ".geoparquet": "geoparquet",
    ".pq": "geoparquet",
    ".geojson": "geojson",
}
"""Extensions of a spatial output (geometries kept) and the format each names."""
FORMULA_START = r"^[=+\-@\t\r]"
"""A CSV cell that a spreadsheet may run as a formula begins with one of these (OWASP)."""
_HARMLESS = r"^(-|[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?)$"


def output_format(target: str | Path, formats: Mapping[str, str], *, what: str = "table") -> str:
    """The format ``target``'s extension names, after checking that it is a place for a file.

    Parameters
    ----------
    target
        The file to write.
    formats
        Extension (lower case, with the dot) → format name, e.g. :data:`TABLE_FORMATS`.
    what
        What is written, for the message (``table``, ``reuse registry``…).

    Raises
    ------
    lab.errors.OutputError
        Another extension (or none), or a target that is not a regular file (:func:`lab.atomic.check_target`).
    """
    suffix = Path(target).suffix.lower()
    if suffix not in formats:
        named = f"'{suffix}'" if suffix else "a name without one"
        raise OutputError(
            f"a {what} is written as {', '.join(formats)} (the extension names the format), not {named}",
            file=target,
        )
    check_target(target)
    return formats[suffix]


def csv_cell(expr: pl.Expr) -> pl.Expr:
    """Text ``expr`` escaped for CSV: a leading apostrophe on formula-like cells (see the module docs)."""
    risky = expr.str.contains(FORMULA_START) & ~expr.str.contains(_HARMLESS)
    return pl.when(risky).then(pl.lit("'") + expr).otherwise(expr)


def csv_unescape(expr: pl.Expr) -> pl.Expr:
    """Undo :func:`csv_cell` when reading back a CSV file the lab wrote (a leading apostrophe before a
    formula-like start is dropped), so a title such as ``=B1`` round-trips."""
    return pl.when(expr.str.contains(r"^'[=+\-@\t\r]")).then(expr.str.slice(1)).otherwise(expr)


def csv_safe(frame: pl.DataFrame, *, list_separator: str = "; ") -> pl.DataFrame:
    """``frame`` ready to write as CSV: lists joined by ``list_separator``, structs as JSON, and every
    text cell escaped by :func:`csv_cell` (columns of other types are left as they are)."""
    nested = {c: t for c, t in frame.schema.items() if isinstance(t, pl.List | pl.Array | pl.Struct)}
    flat = frame.with_columns(
        pl.col(c).struct.json_encode()
        if isinstance(t, pl.Struct)
        else pl.col(c).cast(pl.List(pl.String)).list.join(list_separator)
        for c, t in nested.items()
    )
    text = [c for c, t in flat.schema.items() if t == pl.String]
    return flat.with_columns(csv_cell(pl.col(c)).alias(c) for c in text)


def write_csv(frame: pl.DataFrame, target: str | Path, *, list_separator: str = "; ") -> Path:
    """Write ``frame`` as UTF-8 CSV (:func:`csv_safe`), atomically; ``target`` is not checked for its
    extension (use :func:`write_table`, or :func:`output_format` first)."""
    target = Path(target)
    with atomic_path(target) as tmp:
        csv_safe(frame, list_separator=list_separator).write_csv(tmp)
    return target


def write_table(
    frame: Any,
    target: str | Path,
    *,
    formats: Mapping[str, str] | None = None,
    what: str = "table",
) -> Path:
    """Write a table or a spatial frame in the format its extension names, atomically.

    Parameters
    ----------
    frame
        A :class:`polars.DataFrame` (written as CSV or Parquet), or a GeoDataFrame (GeoParquet or
        GeoJSON in WGS 84, as RFC 7946 wants).
    target
        The file to write.
    formats
        The extensions allowed (default :data:`TABLE_FORMATS`, or :data:`SPATIAL_FORMATS` for spatial
        data).
    what
        What is written, for messages.

    Raises
    ------
    lab.errors.OutputError
        An extension that names no allowed format, or a target that is not a regular file.
    """
    target = Path(target)
    spatial = not isinstance(frame, pl.DataFrame)
    if formats is None:
        formats = SPATIAL_FORMATS if spatial else TABLE_FORMATS
    if spatial and what == "table":
        what = "spatial dataset"
    fmt = output_format(target, formats, what=what)
    if fmt == "csv":
        write_csv(frame, target)
    elif fmt == "parquet":
        with atomic_path(target) as tmp:
            frame.write_parquet(tmp)
    elif fmt == "geoparquet":
        with atomic_path(target) as tmp:
            frame.to_parquet(tmp)
    elif fmt == "geojson":
        from lab.crs import to_wgs84

        wgs84 = to_wgs84(frame)  # the lab's CRS policy (the pinned VN-2000 shift)
        atomic_write_text(target, wgs84.to_json(drop_id=True, ensure_ascii=False, default=str))
    else:  # a caller's format name this module does not write
        raise OutputError(f"no writer for the format {fmt!r}", file=target)
    log.debug("wrote %s (%s)", target, fmt)
    return target
