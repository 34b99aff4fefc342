"""Apply a dataset's declared table schema to a freshly read frame.

Readers hand over text (CSV, Excel) or loosely typed values (JSON, Parquet, GIS attributes);
:func:`apply_schema` renames, normalises and casts them to the declared types, and checks the
declared constraints. Everything runs as polars expressions over whole columns; a value that does not
cast is found by comparing null masks before and after the cast.

Number parsing understands what open-data exports really contain: units inside the cell
("18.5 km/h", "83%", "20.0°C", "1.134.310 người"), Vietnamese digit grouping ("1.134.310",
"12,5") and integral floats ("11160.0" for an integer column). A column's ``thousands`` and
``decimal`` win when declared; otherwise the style is detected per column (see
:func:`number_style`).

Examples
--------
>>> from lab.catalog import Column, TableSchema
>>> schema = TableSchema((Column("pop", "integer", source="Dân số"), Column("code", "code")))
>>> df = pl.DataFrame({"Dân số": ["1.134.310", "N/A"], "code": ["020", "031"]})
>>> apply_schema(df, schema, dataset="demo", file="x.csv").rows()
[(1134310, '020'), (None, '031')]
"""

from __future__ import annotations

import difflib
import logging
import unicodedata
from collections.abc import Sequence

import polars as pl

from lab.catalog import Column, TableSchema
from lab.errors import MissingColumnError, SchemaError

log = logging.getLogger(__name__)

__all__ = ["NULL_TOKENS", "apply_schema", "dtype_of", "number_style"]

#: Cell texts that mean "no value" in a non-string column (compared after strip, case-insensitively).
NULL_TOKENS: tuple[str, ...] = ("n/a", "na", "#n/a", "-", "—", "–", "")

_TRUE = ("true", "t", "yes", "y", "1", "có", "co", "đúng", "x")
_FALSE = ("false", "f", "no", "n", "0", "không", "khong", "sai")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%Y")
_DATETIME_AWARE = ("%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M%#z")
_DATETIME_NAIVE = (
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
)
# A trailing unit: starts with a letter, %, ‰, °, µ or a currency sign ("km/h", "%", "°C", "người", "m3").
_UNIT = r"\s*[\p{L}%‰°µ\p{Sc}][\p{L}%‰°µ/²³·.\s]*\d?$"
_SCIENTIFIC = r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$"
#: (thousands, decimal) styles tried, in order of preference on a tie, when a column declares neither.
STYLES: tuple[tuple[str | None, str], ...] = ((None, "."), (".", ","), (",", "."))


def dtype_of(column: Column) -> pl.DataType:
    """The polars dtype a declared column is cast to (geometry: String, never cast here)."""
    if column.type == "integer":
        return pl.Int64()
    if column.type == "number":
        return pl.Float64()
    if column.type == "boolean":
        return pl.Boolean()
    if column.type == "date":
        return pl.Date()
    if column.type == "datetime":
        return pl.Datetime("us", column.timezone or "UTC")
    return pl.String()


# ---------------------------------------------------------------------------------------- numbers
def _style_regex(thousands: str | None, decimal: str) -> str:
    t, d = (None if thousands is None else "\\" + thousands), "\\" + decimal
    whole = rf"(\d{{1,3}}({t}\d{{3}})+|\d+)" if t and thousands.strip() else r"\d+"
    return rf"^[+-]?({whole}({d}\d*)?|{d}\d+)$"


def _bare_number(v: pl.Expr) -> pl.Expr:
    """Strip the unit, a leading currency sign and the spaces inside a number ("1 134 310")."""
    bare = v.str.replace(r"^\p{Sc}\s*", "").str.replace(_UNIT, "").str.replace_all(r"\s", "")
    return pl.when(v.str.contains(_SCIENTIFIC)).then(v).otherwise(bare)


def _number_text(bare: pl.Expr, thousands: str | None, decimal: str) -> pl.Expr:
    """Plain ``[-]digits[.digits]`` text, or null when ``bare`` does not fit the style."""
    out = bare
    if thousands and thousands.strip():
        out = out.str.replace_all(thousands, "", literal=True)
    if decimal != ".":
        out = out.str.replace_all(decimal, ".", literal=True)
    ok = bare.str.contains(_style_regex(thousands, decimal)) | bare.str.contains(_SCIENTIFIC)
    return pl.when(ok).then(out)


def _integer_from_text(text: pl.Expr) -> pl.Expr:
    """Int64 from plain number text; "11160.0" is integral and casts, "1.5" does not."""
    return text.str.extract(r"^([+-]?\d+)(\.0*)?$", 1).cast(pl.Int64, strict=False)


def _parsed(bare: pl.Expr, kind: str, thousands: str | None, decimal: str) -> pl.Expr:
    text = _number_text(bare, thousands, decimal)
    if kind == "integer":
        return _integer_from_text(text)
    return text.cast(pl.Float64, strict=False)


def number_style(values: pl.Series, kind: str = "number") -> tuple[str | None, str]:
    """Detect the (thousands, decimal) style of a column of number texts.

    The style under which the most values parse wins (for an ``integer`` column: parse *and* are
    integral); ties go to the first of ``(None, ".")``, ``(".", ",")``, ``(",", ".")``.

    Examples
    --------
    >>> number_style(pl.Series(["1.134.310", "56.789"]), "integer")
    ('.', ',')
    >>> number_style(pl.Series(["12,5", "3"]))
    ('.', ',')
    >>> number_style(pl.Series(["11160.0", "18.5 km/h"]))
    (None, '.')
    >>> number_style(pl.Series(["1,234.5", "20"]))
    (',', '.')
    """
    frame = values.cast(pl.String).rename("v").to_frame()
    bare = _bare_number(pl.col("v").str.strip_chars())
    counts = frame.select(
        [_parsed(bare, kind, t, d).is_not_null().sum().alias(str(i)) for i, (t, d) in enumerate(STYLES)]
    ).row(0)
    best = max(range(len(STYLES)), key=lambda i: (counts[i], -i))
    return STYLES[best]


# ------------------------------------------------------------------------------------------ casting
def _nullify(v: pl.Expr) -> pl.Expr:
    stripped = v.str.strip_chars()
    return pl.when(stripped.str.to_lowercase().is_in(NULL_TOKENS)).then(None).otherwise(stripped)


def _cast_number(column: Column, v: pl.Expr, dtype: pl.DataType, style: tuple[str | None, str]) -> pl.Expr:
    if dtype.is_numeric():
        if column.type == "number":
            return v.cast(pl.Float64)
        if dtype.is_integer():
            return v.cast(pl.Int64)
        return pl.when(v == v.round()).then(v.cast(pl.Int64, strict=False))
    if dtype == pl.Boolean:
        return v.cast(pl.Int64 if column.type == "integer" else pl.Float64)
    return _parsed(_bare_number(_nullify(v.cast(pl.String))), column.type, *style)


def _cast_boolean(v: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Boolean:
        return v
    if dtype.is_numeric():
        return pl.when(v == 1).then(True).when(v == 0).then(False)
    mapping = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
    return _nullify(v).str.to_lowercase().replace_strict(mapping, default=None, return_dtype=pl.Boolean)


def _cast_date(column: Column, v: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Date:
        return v
    if isinstance(dtype, pl.Datetime):
        return v.dt.date()
    text = _nullify(v.cast(pl.String))
    if column.format:
        return text.str.to_date(column.format, strict=False)
    return pl.coalesce(
        *[text.str.to_date(f, strict=False) for f in _DATE_FORMATS],
        text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False).dt.date(),
    )


def _cast_datetime(column: Column, v: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    tz = column.timezone or "UTC"
    if isinstance(dtype, pl.Datetime):
        v = v.dt.cast_time_unit("us")
        return v.dt.convert_time_zone(tz) if dtype.time_zone else v.dt.replace_time_zone(tz)
    if dtype == pl.Date:
        return v.cast(pl.Datetime("us")).dt.replace_time_zone(tz)
    text = _nullify(v.cast(pl.String)).str.replace(r"^(\d{4}-\d{2}-\d{2})T", "$1 ")

    def naive(fmt: str) -> pl.Expr:
        parsed = text.str.to_datetime(fmt, time_unit="us", strict=False)
        return parsed.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")

    if column.format:
        if "%z" in column.format or "%#z" in column.format or "%:z" in column.format:
            return text.str.to_datetime(column.format, time_unit="us", strict=False).dt.convert_time_zone(tz)
        return naive(column.format)
    aware = [
        text.str.to_datetime(f, time_unit="us", time_zone="UTC", strict=False).dt.convert_time_zone(tz)
        for f in _DATETIME_AWARE
    ]
    return pl.coalesce(*aware, *[naive(f) for f in _DATETIME_NAIVE], naive("%Y-%m-%d"))


def _cast_code(v: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype.is_float():
        return (
            pl.when(v == v.round())
            .then(v.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(v.cast(pl.String))
        )
    if dtype == pl.String:
        return _nullify(v)
    return v.cast(pl.String)


def _cast_string(v: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    return v if dtype == pl.String else v.cast(pl.String)


def _caster(column: Column, dtype: pl.DataType, style: tuple[str | None, str]) -> pl.Expr:
    v = pl.col(column.name)
    if column.type in ("integer", "number"):
        return _cast_number(column, v, dtype, style)
    if column.type == "boolean":
        return _cast_boolean(v, dtype)
    if column.type == "date":
        return _cast_date(column, v, dtype)
    if column.type == "datetime":
        return _cast_datetime(column, v, dtype)
    if column.type == "code":
        return _cast_code(v, dtype)
    return _cast_string(v, dtype)


def _present(v: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """True where the source cell holds a value (not null, not a null token)."""
    if dtype == pl.String:
        return _nullify(v).is_not_null()
    if dtype.is_float():
        return v.is_not_null() & v.is_not_nan()
    return v.is_not_null()


# ------------------------------------------------------------------------------------------- names
def _clean_names(df: pl.DataFrame) -> pl.DataFrame:
    """Strip and NFC-normalise the column names (unless that would make two names equal)."""
    cleaned = [unicodedata.normalize("NFC", str(c)).strip() for c in df.columns]
    if len(set(cleaned)) < len(cleaned) or cleaned == df.columns:
        return df
    return df.rename(dict(zip(df.columns, cleaned, strict=True)))


def _normalise_strings(df: pl.DataFrame) -> pl.DataFrame:
    """NFC every string column; a blank cell becomes null."""
    names = [n for n, t in df.schema.items() if t == pl.String]
    return df.with_columns(
        pl.when(pl.col(n).str.strip_chars() == "")
        .then(None)
        .otherwise(pl.col(n).str.normalize("NFC"))
        .alias(n)
        for n in names
    )


def _rename(df: pl.DataFrame, schema: TableSchema) -> pl.DataFrame:
    """``source`` → ``name``; a header differing only in case is matched too (and logged)."""
    mapping: dict[str, str] = {}
    lower = {c.lower(): c for c in df.columns}
    for col in schema.columns:
        source = unicodedata.normalize("NFC", col.source).strip() if col.source else col.name
        if col.name in df.columns and source == col.name:
            continue
        if source in df.columns and col.name not in df.columns:
            mapping[source] = col.name
        elif source.lower() in lower and col.name not in df.columns and lower[source.lower()] not in mapping:
            log.info("column %r matched to declared %r ignoring case", lower[source.lower()], col.name)
            mapping[lower[source.lower()]] = col.name
    return df.rename(mapping) if mapping else df


def _missing_error(column: Column, df: pl.DataFrame, dataset: str, file: str) -> MissingColumnError:
    wanted = column.source or column.name
    close = difflib.get_close_matches(wanted, df.columns, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    listed = ", ".join(df.columns[:12]) + (", …" if df.width > 12 else "")
    src = f" (source '{column.source}')" if column.source else ""
    return MissingColumnError(
        f"required column '{column.name}'{src} is missing{hint}; the file has: {listed}",
        dataset=dataset,
        file=file,
    )


# ------------------------------------------------------------------------------------------ checks
def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "…'"


def _first(df: pl.DataFrame, mask: pl.Expr, column: str) -> tuple[int, int, object]:
    """(count, 1-based row, value) of the rows where ``mask`` holds."""
    hits = df.select(mask.alias("m"), pl.col(column).alias("v")).with_row_index("row").filter(pl.col("m"))
    if hits.is_empty():
        return 0, 0, None
    return hits.height, int(hits["row"][0]) + 1, hits["v"][0]


def _type_failures(
    raw: pl.DataFrame, typed: pl.DataFrame, columns: Sequence[Column], dataset: str, file: str
) -> None:
    checks = [c for c in columns if c.name in raw.columns and c.type not in ("string", "geometry")]
    if not checks:
        return
    masks = raw.select(
        [
            (_present(pl.col(c.name), raw.schema[c.name]) & typed[c.name].is_null()).alias(c.name)
            for c in checks
        ]
    )
    bad = masks.select(pl.all().sum()).row(0, named=True)
    for col in checks:
        if bad[col.name]:
            count, row, value = _first(
                raw.with_columns(masks[col.name].alias("__m")), pl.col("__m"), col.name
            )
            more = f" ({count} values in all)" if count > 1 else ""
            raise SchemaError(
                f"column '{col.name}': {_show(value)} at row {row} is not a valid {col.type}{more}",
                dataset=dataset,
                file=file,
            )


def _constraint_checks(df: pl.DataFrame, columns: Sequence[Column], dataset: str, file: str) -> None:
    def fail(col: Column, what: str, mask: pl.Expr, reason: str) -> None:
        count, row, value = _first(df, mask, col.name)
        if count:
            raise SchemaError(
                f"column '{col.name}' {what}: {count} value{'s' if count > 1 else ''} {reason}, "
                f"e.g. {_show(value)} at row {row}",
                dataset=dataset,
                file=file,
            )

    for col in columns:
        if col.name not in df.columns or col.type == "geometry":
            continue
        c = pl.col(col.name)
        if col.required:
            nulls = df[col.name].null_count()
            if nulls:
                _, row, _ = _first(df, c.is_null(), col.name)
                raise SchemaError(
                    f"column '{col.name}' is required but has {nulls} empty value{'s' if nulls > 1 else ''} "
                    f"(first at row {row})",
                    dataset=dataset,
                    file=file,
                )
        if col.unique:
            dup = c.is_duplicated() & c.is_not_null()
            n_values = df.filter(dup)[col.name].n_unique()
            fail(
                col,
                "must be unique",
                dup,
                f"repeated ({n_values} distinct value{'s' if n_values > 1 else ''})",
            )
        if col.min is not None and col.type in ("integer", "number"):
            fail(col, f"has a minimum of {col.min:g}", c < col.min, "below it")
        if col.max is not None and col.type in ("integer", "number"):
            fail(col, f"has a maximum of {col.max:g}", c > col.max, "above it")
        if col.enum is not None:
            allowed = pl.Series(list(col.enum)).cast(df.schema[col.name], strict=False)
            if df.schema[col.name] == pl.String:
                allowed = allowed.str.normalize("NFC")
            listed = ", ".join(map(str, col.enum))
            fail(
                col, f"must be one of {listed}", c.is_not_null() & ~c.is_in(allowed.to_list()), "not allowed"
            )


# -------------------------------------------------------------------------------------------- main
def apply_schema(df: pl.DataFrame, schema: TableSchema | None, *, dataset: str, file: str) -> pl.DataFrame:
    """Rename, normalise, cast and check a frame against a declared table schema.

    Parameters
    ----------
    df
        The frame as read (mostly text columns).
    schema
        The dataset's schema; None only normalises (NFC strings, blank → null).
    dataset, file
        The dataset id and file name used in error messages.

    Returns
    -------
    polars.DataFrame
        The declared columns (``source`` renamed to ``name``) in declared order, typed: ``code`` and
        ``string`` as String, ``integer`` Int64, ``number`` Float64, ``boolean``, ``date``, ``datetime``
        (time zone = the column's ``timezone``, else UTC); declared optional columns absent from the file
        are added as nulls; undeclared columns follow as strings, unless ``strict`` drops them.
        ``geometry`` columns are left to the spatial readers.

    Raises
    ------
    MissingColumnError
        A required column is absent (the message suggests a close name).
    SchemaError
        A value that does not cast (column, value and row), nulls in a required column, duplicates in
        a unique column, values outside min/max/enum (count and an example).
    """
    df = _normalise_strings(_clean_names(df))
    if schema is None:
        return df
    df = _rename(df, schema)
    columns = [c for c in schema.columns if c.type != "geometry"]
    for col in columns:
        if col.required and col.name not in df.columns:
            raise _missing_error(col, df, dataset, file)

    styles: dict[str, tuple[str | None, str]] = {}
    for col in columns:
        if col.type not in ("integer", "number") or col.name not in df.columns:
            continue
        if col.thousands is not None or col.decimal != ".":
            styles[col.name] = (col.thousands, col.decimal)
        elif df.schema[col.name] == pl.String:
            styles[col.name] = number_style(df[col.name], col.type)
            if styles[col.name] != STYLES[0]:
                log.info(
                    "%s: %s: column %r reads as thousands %r, decimal %r",
                    dataset,
                    file,
                    col.name,
                    *styles[col.name],
                )

    exprs = []
    for col in columns:
        if col.name in df.columns:
            expr = _caster(col, df.schema[col.name], styles.get(col.name, STYLES[0]))
            exprs.append(expr.cast(dtype_of(col)).alias(col.name))
        else:
            log.debug("%s: %s: declared column %r is absent, added as nulls", dataset, file, col.name)
            exprs.append(pl.lit(None, dtype=dtype_of(col)).alias(col.name))
    typed = df.select(exprs)
    _type_failures(df, typed, columns, dataset, file)
    _constraint_checks(typed, columns, dataset, file)

    declared = {c.name for c in schema.columns}
    extra = [c for c in df.columns if c not in declared]
    if schema.strict:
        if extra:
            log.info("%s: %s: strict schema drops undeclared columns %s", dataset, file, ", ".join(extra))
        return typed
    return pl.concat([typed, df.select(_as_text(df, extra))], how="horizontal") if extra else typed


def _as_text(df: pl.DataFrame, names: list[str]) -> list[pl.Expr]:
    out = []
    for name in names:
        dtype = df.schema[name]
        castable = not (dtype.is_nested() or dtype == pl.Object or dtype == pl.Null)
        out.append(pl.col(name).cast(pl.String) if castable and dtype != pl.String else pl.col(name))
    return out
