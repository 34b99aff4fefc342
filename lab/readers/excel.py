"""Excel workbooks (.xlsx, via openpyxl in read-only mode), including GSO "cube" exports.

Distribution fields and options:

``sheet``
    Sheet name, or 0-based index; default the first sheet. A missing sheet lists the sheets.
``header_rows``
    1-based number of the header row (rows above are titles); default 1; 0 = no header row.
``options.label_columns``
    Names for the leading columns whose header cell is empty (a cube's row labels).
``options.rename``
    ``{header text: column name}``.
``options.forward_fill``
    Columns whose labels are written only on the first row of a group.
``options.drop_subtotals``
    A marker such as ``"(Tổng số)"``: rows where any label column contains it are subtotal rows and
    are dropped; the marker is stripped from labels first, so forward filling never spreads it.
``options.empty_is_zero``
    Columns (after ``rename``) where an empty cell means 0.

Merged cells: a text label merged over several cells is carried into each of them; a number merged over
several cells is refused (Excel stores it in the first cell only, the others would read as empty or 0).

Every cell comes out as text (numbers stored as text, or as numbers, alike) with surrounding spaces
stripped; the schema types them.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import zipfile
from typing import Any

import polars as pl

from lab.errors import EmptyFileError, ReadError
from lab.readers.base import Source, check_archive, register

log = logging.getLogger(__name__)

__all__ = ["read_excel"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


def _open_sheet(src: Source) -> tuple[Any, Any]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    with open(src.path, "rb") as fh:
        magic = fh.read(4)
    if magic == _OLE_MAGIC:
        raise src.error(ReadError, "is an old binary Excel (.xls) workbook: save it as .xlsx to read it")
    if magic.startswith(b"PK"):
        check_archive(src)
    try:
        wb = openpyxl.load_workbook(src.path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise src.error(ReadError, f"not a valid .xlsx workbook ({type(exc).__name__}: {exc})") from None
    sheet = src.dist.sheet
    names = wb.sheetnames
    if sheet is None:
        return wb, wb[names[0]]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            wb.close()
            raise src.error(
                ReadError, f"no sheet number {sheet} (0-based); the sheets are: {', '.join(names)}"
            )
        return wb, wb[names[sheet]]
    if sheet not in names:
        wb.close()
        raise src.error(ReadError, f"no sheet {sheet!r}; the sheets are: {', '.join(names)}")
    return wb, wb[sheet]


def _header(cells: tuple[Any, ...], label_columns: list[str]) -> list[str]:
    names = []
    for i, cell in enumerate(cells):
        text = "" if cell is None else unicodedata.normalize("NFC", str(cell)).strip()
        if not text:
            text = label_columns[i] if i < len(label_columns) else f"column_{i + 1}"
        names.append(text)
    seen: dict[str, int] = {}
    for i, name in enumerate(names):  # make duplicated header texts unique
        if name in seen:
            seen[name] += 1
            names[i] = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
    return names


def _as_text(name: str, values: tuple[Any, ...]) -> pl.Series:
    """One column of cells as text: built by polars at once, then cast (ints stay "20242")."""
    series = pl.Series(name, values, strict=False)
    if series.dtype != pl.String:
        series = series.cast(pl.String)
    return series.str.strip_chars()


def _frame(src: Source, rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    opts = src.options
    header_row = 1 if src.dist.header_rows is None else src.dist.header_rows
    label_columns = list(opts.get("label_columns") or [])
    width = max((len(r) for r in rows), default=0)
    rows = [r + (None,) * (width - len(r)) for r in rows] if any(len(r) != width for r in rows) else rows
    if header_row == 0:
        names = _header((None,) * width, label_columns)
        body = rows
    else:
        if len(rows) < header_row:
            raise src.error(EmptyFileError, f"has {len(rows)} rows, fewer than header_rows ({header_row})")
        names = _header(rows[header_row - 1], label_columns)
        body = rows[header_row:]
    columns = list(zip(*body, strict=True)) if body else [() for _ in names]
    df = pl.DataFrame([_as_text(n, col) for n, col in zip(names, columns, strict=True)])
    if df.width:
        blank = pl.all_horizontal([pl.col(c).is_null() | (pl.col(c) == "") for c in df.columns])
        df = df.filter(~blank)
    empty = [c for c in df.columns if c.startswith("column_") and df[c].null_count() == df.height]
    return df.drop(empty)


def _cube(src: Source, df: pl.DataFrame) -> pl.DataFrame:
    opts = src.options
    labels = [c for c in (opts.get("label_columns") or []) if c in df.columns]
    marker = opts.get("drop_subtotals")
    if marker:
        targets = labels or [c for c, t in df.schema.items() if t == pl.String]
        df = df.with_columns(
            pl.any_horizontal([pl.col(c).str.contains(marker, literal=True) for c in targets])
            .fill_null(False)
            .alias("__subtotal")
        ).with_columns(
            pl.col(c).str.replace_all(marker, "", literal=True).str.strip_chars().alias(c) for c in targets
        )
    fill = [c for c in (opts.get("forward_fill") or []) if c in df.columns]
    missing = [c for c in (opts.get("forward_fill") or []) if c not in df.columns]
    if missing:
        raise src.error(ReadError, f"options.forward_fill names unknown columns: {', '.join(missing)}")
    if fill:
        df = df.with_columns(pl.col(fill).forward_fill())
    if marker:
        n = int(df["__subtotal"].sum())
        log.info("%s: %s: dropped %d subtotal rows marked %r", src.dataset.id, src.label, n, marker)
        df = df.filter(~pl.col("__subtotal")).drop("__subtotal")
    return df


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _merged_ranges(src: Source, ws: Any) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges as (first row, first column, last row, last column), 1-based.

    Read-only worksheets do not expose them: they are read from the sheet's XML in the workbook.
    """
    from openpyxl.utils import column_index_from_string

    part = getattr(ws, "_worksheet_path", None)
    if not part:
        return []
    try:
        with zipfile.ZipFile(src.path) as zf, zf.open(part) as fh:
            xml = fh.read()
    except (zipfile.BadZipFile, KeyError, OSError):
        return []
    return [
        (int(r1), column_index_from_string(c1.decode()), int(r2), column_index_from_string(c2.decode()))
        for c1, r1, c2, r2 in _MERGE.findall(xml)
    ]


def _unmerge(src: Source, ws: Any, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Give every cell of a merged range its value; a number merged over several cells is refused.

    Excel keeps a merged range's value in its first cell only, so the others read as empty (and
    ``empty_is_zero`` would make them 0). A text label is carried into every cell of its range; a number
    cannot be split between cells, so the file is refused with the range named.
    """
    from openpyxl.utils import get_column_letter

    merged = _merged_ranges(src, ws)
    if not merged:
        return rows
    out = [list(r) for r in rows]
    for r1, c1, r2, c2 in merged:
        if r1 > len(out) or c1 > len(out[r1 - 1]):
            continue
        value = out[r1 - 1][c1 - 1]
        if value is None:
            continue
        where = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise src.error(
                ReadError,
                f"sheet {ws.title!r}: cells {where} are merged over the number {value:g}: one figure for "
                f"{(r2 - r1 + 1) * (c2 - c1 + 1)} cells cannot be read as a table; unmerge them in the "
                "workbook",
            )
        for r in range(r1, min(r2, len(out)) + 1):
            row = out[r - 1]
            for c in range(c1, min(c2, len(row)) + 1):
                row[c - 1] = value
    return [tuple(r) for r in out]


@register("excel")
def read_excel(src: Source) -> pl.DataFrame:
    """Read one sheet of an .xlsx workbook as text columns (see the module docstring for options)."""
    wb, ws = _open_sheet(src)
    try:
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    rows = _unmerge(src, ws, rows)
    while rows and all(v is None or str(v).strip() == "" for v in rows[-1]):
        rows.pop()
    if not rows:
        raise src.error(EmptyFileError, f"sheet {ws.title!r} is empty")
    df = _frame(src, rows)
    rename = {
        unicodedata.normalize("NFC", str(k)).strip(): v for k, v in (src.options.get("rename") or {}).items()
    }
    rename = {k: v for k, v in rename.items() if k in df.columns}
    df = _cube(src, df.rename(rename))
    zero = [c for c in (src.options.get("empty_is_zero") or []) if c in df.columns]
    if zero:
        df = df.with_columns(
            pl.when(pl.col(c).is_null() | (pl.col(c) == "")).then(pl.lit("0")).otherwise(pl.col(c)).alias(c)
            for c in zero
        )
    if df.height == 0:
        raise src.error(EmptyFileError, f"sheet {ws.title!r} has a header and no rows")
    return df
