"""Apply a dataset's declared table schema to a freshly read frame.

Readers hand over text (CSV, Excel) or loosely typed values (JSON, Parquet, GIS attributes);
:func:`apply_schema` renames, normalises and casts them to the declared types, and checks the
declared constraints. Everything runs as polars expressions over whole columns, in a fixed number of
passes per file whatever its width (see :func:`apply_schema`); a value that does not cast is found by
comparing null masks before and after the cast.

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
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

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
#: Rows from which queries run on the streaming engine (it splits columns into morsels for all the cores)
#: rather than the in-memory one (as the eager API does), whose fixed cost per query is ~0.03 ms against
#: ~0.2 ms: that dominates on the small frames open data mostly comes in.
STREAMING_ROWS = 100_000


def _collect(lf: pl.LazyFrame, rows: int) -> pl.DataFrame:
    return lf.collect(engine=_engine(rows))


def _engine(rows: int) -> Literal["streaming", "in-memory"]:
    return "streaming" if rows >= STREAMING_ROWS else "in-memory"


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


def _number_text(
    bare: pl.Expr, thousands: str | None, decimal: str, scientific: pl.Expr | None = None
) -> pl.Expr:
    """Plain ``[-]digits[.digits]`` text, or null when ``bare`` does not fit the style.

    ``scientific``: ``bare.str.contains(_SCIENTIFIC)`` when already computed (shared by the styles).
    """
    out = bare
    if thousands and thousands.strip():
        out = out.str.replace_all(thousands, "", literal=True)
    if decimal != ".":
        out = out.str.replace_all(decimal, ".", literal=True)
    sci = bare.str.contains(_SCIENTIFIC) if scientific is None else scientific
    return pl.when(bare.str.contains(_style_regex(thousands, decimal)) | sci).then(out)


def _integer_from_text(text: pl.Expr) -> pl.Expr:
    """Int64 from plain number text; "11160.0" is integral and casts, "1.5" does not."""
    return text.str.extract(r"^([+-]?\d+)(\.0*)?$", 1).cast(pl.Int64, strict=False)


def _from_text(text: pl.Expr, kind: str) -> pl.Expr:
    return _integer_from_text(text) if kind == "integer" else text.cast(pl.Float64, strict=False)


def _parsed(bare: pl.Expr, kind: str, thousands: str | None, decimal: str) -> pl.Expr:
    return _from_text(_number_text(bare, thousands, decimal), kind)


def _declared_style(column: Column) -> tuple[str | None, str] | None:
    return (
        (column.thousands, column.decimal) if column.thousands is not None or column.decimal != "." else None
    )


def _best_style(counts: Sequence[int]) -> tuple[str | None, str]:
    """The style under which the most values parse; a tie goes to the first of :data:`STYLES`."""
    return STYLES[max(range(len(STYLES)), key=lambda i: (counts[i], -i))]


@dataclass(frozen=True)
class _NumberTexts:
    """The text columns of type integer/number, parsed (see :func:`_number_texts`)."""

    styles: dict[str, tuple[str | None, str]]  # the style each column is read with
    detected: frozenset[str]  # the columns whose style was detected, not declared
    failures: dict[str, int]  # values present (not null, not a null token) that do not parse
    joined: pl.LazyFrame | None  # the long frame's candidate columns (to collect in the cast pass)
    slices: dict[str, tuple[str, int]]  # column → (candidate column of ``joined``, offset)
    height: int

    def columns(self, joined: pl.DataFrame) -> dict[str, pl.Series]:
        """The typed columns, as zero-copy slices of the collected ``joined`` frame."""
        return {name: joined[c].slice(at, self.height).alias(name) for name, (c, at) in self.slices.items()}


def _number_texts(df: pl.DataFrame, columns: Sequence[Column], *, normalise: bool) -> _NumberTexts:
    """Detect the style of, and parse, every text column of type integer/number at once.

    The columns are stacked (zero-copy) into one long ``(j, v)`` frame, j = the column's position, and
    reduced to its distinct pairs with their counts, so each regex is compiled once per file rather than
    once per column, and runs once per distinct text rather than once per cell (open-data columns repeat
    a lot: "N/A", "83%", "20.0°C"). Each candidate parse (a style, as integer and/or number) is a
    column of that small table (one query), and the per-column counts (values present, values parsed by
    each candidate) are one ``group_by`` over it (one more). The default style is tried first; the two
    others only when some detected column has values it does not parse (two more queries), since a
    style that parses every value cannot be beaten (ties go to the first). ``joined`` is the left join
    of the long frame with the chosen candidates: the caller collects it with its cast query, and
    :meth:`_NumberTexts.columns` slices it back into columns.

    A null token ("N/A", "-", …) has no digit, so it never parses under any style: counting on the
    texts with null tokens removed counts exactly what :func:`number_style` counts.
    """
    types = df.schema
    cols = [
        c
        for c in columns
        if c.type in ("integer", "number") and c.name in types and types[c.name] == pl.String
    ]
    if not cols:
        return _NumberTexts({}, frozenset(), {}, None, {}, 0)
    detect = [k for k, c in enumerate(cols) if _declared_style(c) is None]
    styles: dict[tuple[str | None, str], int] = {}  # the styles with candidate columns → their number
    kinds = sorted({c.type for c in cols})
    j, v, text, bare = pl.col("j"), pl.col("v"), pl.col("text"), pl.col("bare")
    weight = pl.col("len").cast(pl.Int64)

    def cand(style: tuple[str | None, str], kind: str) -> str:
        return f"{kind}{styles[style]}"

    def with_styles(table: pl.LazyFrame, new: Sequence[tuple[str | None, str]]) -> pl.DataFrame:
        new = [s for s in dict.fromkeys(new) if s not in styles]
        for s in new:
            styles[s] = len(styles)
        texts = [_number_text(bare, t, d, pl.col("sci")).alias(f"text{styles[t, d]}") for t, d in new]
        parsed = [
            _from_text(pl.col(f"text{styles[s]}"), kind).alias(cand(s, kind)) for s in new for kind in kinds
        ]
        return _collect(table.with_columns(texts).with_columns(parsed), len(cols) * height)

    def count(table: pl.DataFrame) -> dict[int, dict[str, int]]:
        names = [cand(s, kind) for s in styles for kind in kinds]
        flags = [(weight * pl.col(n).is_not_null()).alias(n) for n in names]
        sums = table.lazy().select(j, (weight * pl.col("present")).alias("present"), *flags).group_by(j).sum()
        return {row["j"]: row for row in _collect(sums, 0).iter_rows(named=True)}  # a small table

    height = df.height
    stacked = pl.DataFrame({"v": pl.concat([df[c.name].alias("v") for c in cols], rechunk=False)}).lazy()
    stacked = stacked.select((pl.int_range(pl.len(), dtype=pl.UInt32) // max(height, 1)).alias("j"), v)
    base = (
        stacked.filter(v.is_not_null())
        .group_by(j, v)
        .len()
        .with_columns((_normalised(v) if normalise else v).alias("text"))
        .with_columns(_nullify(text).alias("text"))  # a node per step: cheaper than nested expressions
        .with_columns(text.is_not_null().alias("present"), _bare_number(text).alias("bare"))
        .with_columns(bare.str.contains(_SCIENTIFIC).alias("sci"))
    )
    declared = [s for c in cols if (s := _declared_style(c)) is not None]
    table = with_styles(base, ([STYLES[0]] if detect else []) + declared)
    counts = count(table)
    if any(
        counts.get(k, {}).get(cand(STYLES[0], cols[k].type), 0) < counts.get(k, {}).get("present", 0)
        for k in detect
    ):
        table = with_styles(table.lazy(), STYLES[1:])
        counts = count(table)

    chosen_styles: dict[str, tuple[str | None, str]] = {}
    failures: dict[str, int] = {}
    chosen: dict[str, list[int]] = {}  # candidate column → the columns read with it
    for k, col in enumerate(cols):
        n = counts.get(k, {})
        style = _declared_style(col)
        if style is None:  # a style not tried ranks last
            style = _best_style([n.get(cand(s, col.type), 0) if s in styles else -1 for s in STYLES])
        name = cand(style, col.type)
        chosen_styles[col.name] = style
        failures[col.name] = n.get("present", 0) - n.get(name, 0)  # a parsed value is a present one
        chosen.setdefault(name, []).append(k)
    picks = table.lazy().select(v, *chosen).unique(v, keep="any")  # a candidate depends on the text only
    joined = stacked.join(picks, on="v", how="left", maintain_order="left").select(*chosen)
    slices = {cols[k].name: (name, k * height) for name, ks in chosen.items() for k in ks}
    detected = frozenset(c.name for c in cols if _declared_style(c) is None)
    return _NumberTexts(chosen_styles, detected, failures, joined, slices, height)


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
    column = Column("v", "integer" if kind == "integer" else "number")
    return _number_texts(frame, [column], normalise=False).styles["v"]


# ------------------------------------------------------------------------------------------ casting
def _nullify(v: pl.Expr) -> pl.Expr:
    stripped = v.str.strip_chars()
    return pl.when(stripped.str.to_lowercase().is_in(NULL_TOKENS)).then(None).otherwise(stripped)


def _cast_number(column: Column, v: pl.Expr, dtype: pl.DataType, style: tuple[str | None, str]) -> pl.Expr:
    """Numbers from typed values; text (String columns go through :func:`_number_texts` instead)."""
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


def _tries_formats(column: Column, dtype: pl.DataType) -> bool:
    """A date/datetime read from text without a declared format: the known formats are tried in turn.

    Such a column is first cast with the first format only (``first_only``), which gives the same
    values wherever that format reads every present cell, as it does in a clean file: the formats are
    tried in order, the first that reads a cell wins. Where it leaves cells unread (the cast-failure
    count of the column, which here counts exactly the non-null texts left null), the column is cast
    again with all the formats.
    """
    return column.type in ("date", "datetime") and not column.format and dtype == pl.String


def _cast_date(column: Column, v: pl.Expr, dtype: pl.DataType, first_only: bool) -> pl.Expr:
    if dtype == pl.Date:
        return v
    if isinstance(dtype, pl.Datetime):
        return v.dt.date()
    text = _nullify(v.cast(pl.String))
    if column.format:
        return text.str.to_date(column.format, strict=False)
    if first_only:
        return text.str.to_date(_DATE_FORMATS[0], strict=False)
    return pl.coalesce(
        *[text.str.to_date(f, strict=False) for f in _DATE_FORMATS],
        text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False).dt.date(),
    )


def _cast_datetime(column: Column, v: pl.Expr, dtype: pl.DataType, first_only: bool) -> pl.Expr:
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
        for f in _DATETIME_AWARE[: 1 if first_only else None]
    ]
    if first_only:
        return aware[0]
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


def _caster(
    column: Column, dtype: pl.DataType, style: tuple[str | None, str], *, first_only: bool = False
) -> pl.Expr:
    """The cast of one column; ``first_only``: try only the first known date/datetime format."""
    v = pl.col(column.name)
    if column.type in ("integer", "number"):
        return _cast_number(column, v, dtype, style)
    if column.type == "boolean":
        return _cast_boolean(v, dtype)
    if column.type == "date":
        return _cast_date(column, v, dtype, first_only)
    if column.type == "datetime":
        return _cast_datetime(column, v, dtype, first_only)
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


def _normalised(v: pl.Expr, *, nfc: bool = True) -> pl.Expr:
    """A string column as :func:`apply_schema` sees it: NFC, a blank cell null."""
    return pl.when(v.str.strip_chars() == "").then(None).otherwise(v.str.normalize("NFC") if nfc else v)


def _normalise_strings(df: pl.DataFrame, skip: Collection[str] = ()) -> pl.DataFrame:
    """NFC every string column (but ``skip``); a blank cell becomes null.

    Two passes: one finds the columns holding any non-ASCII text (byte length ≠ character length),
    one rewrites every string column; only the former pay for NFC (ASCII text is already NFC).
    """
    names = [n for n, t in df.schema.items() if t == pl.String and n not in skip]
    if not names:
        return df
    probe = df.lazy().select(
        (pl.col(n).str.len_bytes() != pl.col(n).str.len_chars()).any().alias(str(j))
        for j, n in enumerate(names)
    )
    unicode = _collect(probe, df.height).row(0)
    rewrite = df.lazy().with_columns(
        _normalised(pl.col(n), nfc=unicode[j]).alias(n) for j, n in enumerate(names)
    )
    return _collect(rewrite, df.height)


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


_HEADER_NAME = re.compile(r"[\w .,()%#/°²³+\-–]{1,64}")


def header_looks_like_names(columns: list[str]) -> bool:
    """True when every header cell looks like a column name, so a message may show them.

    A secret or system file read by mistake (``--source`` pointing at a key file, ``/etc/passwd``) has a
    first line such as ``postgres://user:password@host`` or ``root:x:0:0:…``: it is never echoed.

    Examples
    --------
    >>> header_looks_like_names(["ma_xa", "Dân số (người)"])
    True
    >>> header_looks_like_names(["postgres://admin:hunter2@db/prod"])
    False
    """
    return bool(columns) and all(_HEADER_NAME.fullmatch(c or "") for c in columns)


def _missing_error(column: Column, df: pl.DataFrame, dataset: str, file: str) -> MissingColumnError:
    wanted = column.source or column.name
    src = f" (source '{column.source}')" if column.source else ""
    if not header_looks_like_names(df.columns):  # print no content of a file that is not data
        return MissingColumnError(
            f"required column '{column.name}'{src} is missing; the first line ({df.width} column"
            f"{'s' if df.width != 1 else ''}) does not look like a header of column names: "
            "is this the data file?",
            dataset=dataset,
            file=file,
        )
    close = difflib.get_close_matches(wanted, df.columns, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    listed = ", ".join(df.columns[:12]) + (", …" if df.width > 12 else "")
    return MissingColumnError(
        f"required column '{column.name}'{src} is missing{hint}; the file has: {listed}",
        dataset=dataset,
        file=file,
    )


# ------------------------------------------------------------------------------------------ checks
def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "…'"


@dataclass(frozen=True)
class _Check:
    """One rule over the check frame: ``mask()`` is true on a breaking row, ``value()`` the cell shown.

    ``count``: the number of breaking rows when already known (text numbers, see :func:`_number_texts`),
    else None and the counting pass sums the mask. The expressions are built only when used.
    """

    column: str
    rule: str
    mask: Callable[[], pl.Expr]
    value: Callable[[], pl.Expr]
    message: Callable[[int, int, object, int], str]  # (count, 1-based row, value, distinct values)
    count: int | None = None


def _type_check(
    col: Column, raw: Callable[[], pl.Expr], raw_dtype: pl.DataType, typed: pl.Expr, count: int | None
) -> _Check:
    def message(count: int, row: int, value: object, _: int) -> str:
        more = f" ({count} values in all)" if count > 1 else ""
        return f"column '{col.name}': {_show(value)} at row {row} is not a valid {col.type}{more}"

    return _Check(col.name, "type", lambda: _present(raw(), raw_dtype) & typed.is_null(), raw, message, count)


def _constraint(
    col: Column, rule: str, c: pl.Expr, mask: Callable[[], pl.Expr], reason: Callable[[int], str]
) -> _Check:
    what = {
        "unique": "must be unique",
        "min": f"has a minimum of {col.min:g}" if col.min is not None else "",
        "max": f"has a maximum of {col.max:g}" if col.max is not None else "",
        "enum": f"must be one of {', '.join(map(str, col.enum or ()))}",
    }[rule]

    def message(count: int, row: int, value: object, distinct: int) -> str:
        return (
            f"column '{col.name}' {what}: {count} value{'s' if count > 1 else ''} {reason(distinct)}, "
            f"e.g. {_show(value)} at row {row}"
        )

    return _Check(col.name, rule, mask, lambda: c, message)


def _constraint_checks(col: Column, c: pl.Expr, dtype: pl.DataType) -> list[_Check]:
    """The declared constraints of one typed column, in the order they are reported."""
    out = []
    if col.required:

        def required(count: int, row: int, _value: object, _distinct: int) -> str:
            return (
                f"column '{col.name}' is required but has {count} empty value{'s' if count > 1 else ''} "
                f"(first at row {row})"
            )

        out.append(_Check(col.name, "required", c.is_null, lambda: c, required))
    if col.unique:

        def repeated(n: int) -> str:
            return f"repeated ({n} distinct value{'s' if n > 1 else ''})"

        out.append(_constraint(col, "unique", c, lambda: c.is_duplicated() & c.is_not_null(), repeated))
    if col.min is not None and col.type in ("integer", "number"):
        low = col.min
        out.append(_constraint(col, "min", c, lambda: c < low, lambda _: "below it"))
    if col.max is not None and col.type in ("integer", "number"):
        high = col.max
        out.append(_constraint(col, "max", c, lambda: c > high, lambda _: "above it"))
    if col.enum is not None:
        allowed = pl.Series(list(col.enum)).cast(dtype, strict=False)
        if dtype == pl.String:
            allowed = allowed.str.normalize("NFC")
        values = allowed.to_list()
        out.append(
            _constraint(col, "enum", c, lambda: c.is_not_null() & ~c.is_in(values), lambda _: "not allowed")
        )
    return out


def _counted_checks(
    raw: pl.DataFrame, typed: pl.DataFrame, columns: Sequence[Column], known: dict[str, int]
) -> tuple[pl.LazyFrame, list[tuple[_Check, int]]]:
    """Every check with its count, from one polars pass (a ``select`` of sums), in reporting order.

    Cast failures (a value present before the cast, null after) come first, then each column's
    required, unique, min, max and enum rules in declared order. ``known``: cast-failure counts already
    computed (the text numbers, whose raw column is not normalised yet: it is, here, when needed). The
    check frame holds the typed columns as ``t{k}`` and the raw ones as ``r{k}`` (k = declared
    position), so no column name can clash; it is returned for the follow-up query.
    """
    raw_types, typed_types = raw.schema, typed.schema
    series, checks, constraints = [], [], []
    for k, col in enumerate(columns):
        if col.name not in typed_types or col.type == "geometry":
            continue
        t = pl.col(f"t{k}")
        series.append(typed[col.name].alias(f"t{k}"))
        if col.name in raw_types and col.type != "string":
            series.append(raw[col.name].alias(f"r{k}"))
            r = pl.col(f"r{k}")
            raw_value = (lambda r=r: _normalised(r)) if col.name in known else (lambda r=r: r)
            checks.append(_type_check(col, raw_value, raw_types[col.name], t, known.get(col.name)))
        constraints += _constraint_checks(col, t, typed_types[col.name])
    checks += constraints
    frame = pl.DataFrame(series).lazy()
    todo = [ch for ch in checks if ch.count is None]
    sums = frame.select(ch.mask().sum().alias(str(i)) for i, ch in enumerate(todo))
    found = iter(_collect(sums, typed.height).row(0) if todo else ())
    return frame, [(ch, ch.count if ch.count is not None else next(found)) for ch in checks]


def _raise_first(
    frame: pl.LazyFrame, checks: list[tuple[_Check, int]], rows: int, dataset: str, file: str
) -> None:
    """Raise the first check with a non-zero count; a targeted query finds its first row and value."""
    for ch, count in checks:
        if count:
            mask = ch.mask()
            hits = ch.value().filter(mask)
            query = frame.select(
                mask.arg_true().first().alias("row"),
                hits.first().alias("value"),
                hits.n_unique().alias("distinct"),
            )
            row, value, distinct = _collect(query, rows).row(0)
            raise SchemaError(ch.message(count, row + 1, value, distinct), dataset=dataset, file=file)


# -------------------------------------------------------------------------------------------- main
def apply_schema(df: pl.DataFrame, schema: TableSchema | None, *, dataset: str, file: str) -> pl.DataFrame:
    """Rename, normalise, cast and check a frame against a declared table schema.

    The work is a fixed number of polars queries per file, whatever the number of columns: parse the
    text number columns (2, see :func:`_number_texts`; 2 more when a column's number style is not the
    default one), normalise the other strings (2), cast every column (1) and count every cast failure
    and constraint breach (1). A date/datetime column without a declared format is first cast with the
    first known format only; a column where that leaves values unread is cast again with all of them
    (2 more queries, only then: see :func:`_tries_formats`). A breach costs one more query, for its
    first row and value.

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
    df = _clean_names(df)
    if schema is None:
        return _normalise_strings(df)
    df = _rename(df, schema)
    columns = [c for c in schema.columns if c.type != "geometry"]
    for col in columns:
        if col.required and col.name not in df.columns:
            raise _missing_error(col, df, dataset, file)

    numbers = _number_texts(df, columns, normalise=True)  # normalises its distinct texts itself
    df = _normalise_strings(df, skip=numbers.slices)
    types = df.schema
    for name, style in numbers.styles.items():
        if name in numbers.detected and style != STYLES[0]:
            log.info("%s: %s: column %r reads as thousands %r, decimal %r", dataset, file, name, *style)

    def cast(col: Column, *, first_only: bool) -> pl.Expr:
        style = _declared_style(col) or STYLES[0]
        expr = _caster(col, types[col.name], style, first_only=first_only)
        return expr.cast(dtype_of(col)).alias(col.name)

    for col in columns:
        if col.name not in types:
            log.debug("%s: %s: declared column %r is absent, added as nulls", dataset, file, col.name)
    others = [
        cast(c, first_only=_tries_formats(c, types[c.name]))
        for c in columns
        if c.name in types and c.name not in numbers.slices
    ]
    plans = ([df.lazy().select(others)] if others else []) + ([numbers.joined] if numbers.slices else [])
    done = pl.collect_all(plans, engine=_engine(df.height))
    parsed = {s.name: s for s in done[0].get_columns()} if others else {}
    parsed.update(numbers.columns(done[-1]) if numbers.slices else {})
    typed = (
        pl.DataFrame([parsed[c.name] if c.name in parsed else _nulls(c, df.height) for c in columns])
        if parsed
        else df.select(pl.lit(None, dtype=dtype_of(c)).alias(c.name) for c in columns)  # one row, as before
    )
    frame, checks = _counted_checks(df, typed, columns, numbers.failures)

    unread = {ch.column for ch, count in checks if ch.rule == "type" and count}
    again = [c for c in columns if c.name in unread and _tries_formats(c, types[c.name])]
    if again:  # the first format did not read every value: try them all (the result is the same elsewhere)
        typed = typed.with_columns(
            _collect(df.lazy().select(cast(c, first_only=False) for c in again), df.height).get_columns()
        )
        frame, checks = _counted_checks(df, typed, columns, numbers.failures)
    _raise_first(frame, checks, typed.height, dataset, file)

    declared = {c.name for c in schema.columns}
    extra = [c for c in df.columns if c not in declared]
    if schema.strict:
        if extra:
            log.info("%s: %s: strict schema drops undeclared columns %s", dataset, file, ", ".join(extra))
        return typed
    return pl.concat([typed, df.select(_as_text(df, extra))], how="horizontal") if extra else typed


def _nulls(column: Column, height: int) -> pl.Series:
    return pl.Series(column.name, [], dtype=dtype_of(column)).extend_constant(None, height)


def _as_text(df: pl.DataFrame, names: list[str]) -> list[pl.Expr]:
    out = []
    for name in names:
        dtype = df.schema[name]
        castable = not (dtype.is_nested() or dtype == pl.Object or dtype == pl.Null)
        out.append(pl.col(name).cast(pl.String) if castable and dtype != pl.String else pl.col(name))
    return out
