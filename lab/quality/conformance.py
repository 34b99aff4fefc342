"""Casting without raising: which values of a raw table fit the declared column types.

:func:`lab.schema.apply_schema` stops at the first value that does not fit (a loader must not hand over
half-typed data). A quality check needs the opposite: every column cast, the values that do not fit
counted and shown. :func:`typed_columns` casts each declared column of a raw (mostly text) frame the way
the loader reads it: null tokens ("N/A", "-", …) and blanks are empty, numbers may carry a unit ("18.5
km/h", "83%") and a digit grouping (detected per column with :func:`lab.schema.number_style`), dates are
tried in the usual formats, booleans in Vietnamese and English words.

Examples
--------
>>> from lab.catalog import Column
>>> raw = pl.DataFrame({"n": ["1.234", "12 km", "abc", "N/A"]})
>>> typed = typed_columns(raw, [Column("n", "integer")])
>>> typed["n"].to_list(), typed["n__bad"].to_list()
([1234, 12, None, None], [False, False, True, False])
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from lab.catalog import Column
from lab.schema import NULL_TOKENS, dtype_of, number_style

__all__ = ["cast_expr", "present_expr", "typed_columns"]

_TRUE = ("true", "t", "yes", "y", "1", "có", "co", "đúng", "x")
_FALSE = ("false", "f", "no", "n", "0", "không", "khong", "sai")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%Y")
_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d",
)
_UNIT = r"\s*[\p{L}%‰°µ\p{Sc}][\p{L}%‰°µ/²³·.\s]*\d?$"


def present_expr(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """True where a raw cell holds a value: not null, not blank, not a null token, not NaN."""
    if dtype == pl.String:
        return col.is_not_null() & ~col.str.strip_chars().str.to_lowercase().is_in(NULL_TOKENS)
    if dtype.is_float():
        return col.is_not_null() & col.is_not_nan()
    return col.is_not_null()


def _text(col: pl.Expr) -> pl.Expr:
    stripped = col.str.strip_chars()
    return pl.when(stripped.str.to_lowercase().is_in(NULL_TOKENS)).then(None).otherwise(stripped)


def _number(col: pl.Expr, kind: str, style: tuple[str | None, str]) -> pl.Expr:
    thousands, decimal = style
    bare = _text(col).str.replace(r"^\p{Sc}\s*", "").str.replace(_UNIT, "").str.replace_all(r"\s", "")
    if thousands and thousands.strip():
        bare = bare.str.replace_all(thousands, "", literal=True)
    if decimal != ".":
        bare = bare.str.replace_all(decimal, ".", literal=True)
    if kind == "integer":
        return bare.str.extract(r"^([+-]?\d+)(\.0*)?$", 1).cast(pl.Int64, strict=False)
    return bare.cast(pl.Float64, strict=False)


def cast_expr(column: Column, dtype: pl.DataType, style: tuple[str | None, str] = (None, ".")) -> pl.Expr:
    """The value of a raw column as its declared type, null where it does not fit (never raises)."""
    col = pl.col(column.name)
    target = dtype_of(column)
    kind = column.type
    if kind in ("integer", "number"):
        if dtype.is_numeric():
            if kind == "integer" and dtype.is_float():
                return pl.when(col == col.round()).then(col.cast(pl.Int64, strict=False))
            return col.cast(target, strict=False)
        return _number(col.cast(pl.String), kind, style)
    if kind == "boolean":
        if dtype == pl.Boolean:
            return col
        text = _text(col.cast(pl.String)).str.to_lowercase()
        mapping = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
        return text.replace_strict(mapping, default=None, return_dtype=pl.Boolean)
    if kind == "date":
        if dtype == pl.Date:
            return col
        if isinstance(dtype, pl.Datetime):
            return col.dt.date()
        text = _text(col.cast(pl.String))
        formats = (column.format,) if column.format else _DATE_FORMATS
        return pl.coalesce(*[text.str.to_date(f, strict=False) for f in formats])
    if kind == "datetime":
        if isinstance(dtype, pl.Datetime) or dtype == pl.Date:
            return col.cast(pl.Datetime("us"))
        text = _text(col.cast(pl.String))
        formats = (column.format,) if column.format else _DATETIME_FORMATS
        parsed = [text.str.to_datetime(f, time_unit="us", strict=False) for f in formats]
        return pl.coalesce(
            *[p.dt.replace_time_zone(None) if "z" in f else p for p, f in zip(parsed, formats, strict=True)]
        )
    if kind == "code" and dtype.is_float():
        return pl.when(col == col.round()).then(col.cast(pl.Int64, strict=False).cast(pl.String))
    return col.cast(pl.String, strict=False)


def typed_columns(raw: pl.DataFrame, columns: Sequence[Column]) -> pl.DataFrame:
    """Every declared column of ``raw`` that is present, cast (null where it does not fit), beside a
    boolean ``<name>__bad``: a value was present but does not fit the type."""
    exprs = []
    for column in columns:
        if column.name not in raw.columns or column.type == "geometry":
            continue
        dtype = raw.schema[column.name]
        style = (column.thousands, column.decimal)
        if (
            column.type in ("integer", "number")
            and dtype == pl.String
            and column.thousands is None
            and column.decimal == "."
        ):
            values = raw.select(_text(pl.col(column.name))).to_series().drop_nulls()
            style = number_style(values, column.type) if values.len() else (None, ".")
        typed = cast_expr(column, dtype, style)
        bad = present_expr(pl.col(column.name), dtype) & typed.is_null()
        exprs += [typed.alias(column.name), bad.alias(f"{column.name}__bad")]
    return raw.select(exprs) if exprs else pl.DataFrame()
