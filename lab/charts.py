"""Offline-safe charts: plain inline SVG, no JavaScript, no CDN.

An SVG chart renders the same in JupyterLab, in an HTML report opened without internet and in a
Voilà page. Labels are escaped text, so Vietnamese diacritics render with the page's fonts.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

PALETTE = ("#1f6f8b", "#e07a1f", "#3a9d5d", "#b8405e", "#7a5aa6", "#8c6d46")


@dataclass(frozen=True)
class Svg:
    """An SVG document that notebooks display inline (``_repr_html_``) and reports embed as is."""

    markup: str

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


def _separators(lang: str) -> tuple[str, str]:
    """(thousands, decimal point) of ``lang``: Vietnamese ``1.234,5``, English ``1,234.5``."""
    return (".", ",") if lang == "vi" else (",", ".")


def format_number(value: float, lang: str = "vi", decimals: int | None = None) -> str:
    """A number as readers of ``lang`` write it: 1.234.567 and 12,5 (vi); 1,234,567 and 12.5 (en).

    The one number formatter of the lab (reports, apps, charts, maps); :func:`number_expr` is the same
    rule as a polars expression. ``decimals`` default: none for a whole number, else 1.

    Examples
    --------
    >>> format_number(1234.5, "vi"), format_number(1234.5, "en"), format_number(276.384, "vi", 2)
    ('1.234,5', '1,234.5', '276,38')
    >>> format_number(float("nan"), "vi")
    '—'
    """
    v = float(value)
    if decimals is None:
        decimals = 0 if v.is_integer() else 1
    text = pl.select(number_expr(pl.lit(v, pl.Float64), lang, decimals)).item()  # one rule: the expression
    return "—" if text is None else text


def number_expr(expr: pl.Expr, lang: str, decimals: int = 0) -> pl.Expr:
    """:func:`format_number` as a polars expression, with fixed ``decimals``; null stays null. Name the
    result (``.alias``): it is not the input column's name.

    Examples
    --------
    >>> pl.select(a=number_expr(pl.lit(1234567.891), "vi", 1), b=number_expr(pl.lit(-1234.6), "en")).row(0)
    ('1.234.567,9', '-1,235')
    """
    thousands, point = _separators(lang)
    value = expr.cast(pl.Float64)
    value = pl.when(value.is_finite()).then(value).round(decimals)  # NaN and ±inf: no number, null
    whole = value.abs().floor().cast(pl.Int64).cast(pl.String)
    grouped = whole.str.reverse().str.replace_all(r"(\d{3})", "${1}" + thousands).str.reverse()
    grouped = grouped.str.strip_prefix(thousands)
    sign = pl.when(value < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    if decimals:
        frac = ((value.abs() - value.abs().floor()) * 10**decimals).round(0).cast(pl.Int64).cast(pl.String)
        return sign + grouped + pl.lit(point) + frac.str.zfill(decimals)
    return sign + grouped


PLAIN_COLUMNS = ("id", "year", "rank", "portal_id", "dataset_id", "reuse_id", "unit_code", "ma_xa")
"""Integer columns :func:`table` never groups in thousands (identifiers and years, not quantities)."""


def _decimals(column: pl.Series) -> int:
    """The fewest decimals (at most 3) that show every value of a float column as it is."""
    values = column.drop_nulls().drop_nans()
    for d in range(3):
        if (values.round(d) == values).all():
            return d
    return 3


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    note: str | None = None,
    width: int = 720,
    bar_height: int = 22,
    color: str = PALETTE[0],
    lang: str = "vi",
) -> Svg:
    """A horizontal bar chart, one bar per label, with the value written at the end of each bar.

    Parameters
    ----------
    labels, values
        Same length; drawn top to bottom in the given order.
    title
        Shown above the bars (already in the reader's language).
    note
        A line under the chart (source, "synthetic data", ...).
    lang
        How numbers are written (``vi``: 1.234,5; ``en``: 1,234.5).
    """
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length")
    label_w = min(340, max(60, 14 + 7.5 * max((len(str(s)) for s in labels), default=1)))
    plot_w = width - label_w - 80
    top = 34
    height = top + bar_height * len(labels) + (34 if note else 14)
    vmax = max((float(v) for v in values), default=0.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, Arial, sans-serif" font-size="13">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="0" y="18" font-size="15" font-weight="600">{html.escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * bar_height
        w = max(0.0, float(value) / vmax * plot_w)
        baseline = y + bar_height * 0.68
        parts.append(
            f'<text x="{label_w - 6}" y="{baseline:.1f}" text-anchor="end">{html.escape(str(label))}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{bar_height - 6}" fill="{color}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{baseline:.1f}">{format_number(float(value), lang)}</text>'
        )
    if note:
        parts.append(f'<text x="0" y="{height - 8}" font-size="11" fill="#555">{html.escape(note)}</text>')
    parts.append("</svg>")
    return Svg("".join(parts))


def bar_chart_from(
    frame: pl.DataFrame, label: str, value: str, *, title: str, note: str | None = None, lang: str = "vi"
) -> Svg:
    """:func:`bar_chart` over two columns of a polars frame."""
    labels = frame[label].cast(pl.String).to_list()
    return bar_chart(labels, frame[value].to_list(), title=title, note=note, lang=lang)


@dataclass(frozen=True)
class Html:
    """An HTML fragment that notebooks display and reports embed."""

    markup: str

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


def table(
    frame: pl.DataFrame,
    headers: Sequence[str] | None = None,
    *,
    lang: str | None = None,
    plain: Sequence[str] = PLAIN_COLUMNS,
) -> Html:
    """A plain HTML table of a polars frame (escaped cells, no dtype row), for reports and apps.

    Parameters
    ----------
    frame
        The rows to show (keep it small: this is for people to read).
    headers
        Column titles in the reader's language; default the column names.
    lang
        Write the numeric columns as readers of ``lang`` do (:func:`number_expr`: ``1.234,5`` in
        Vietnamese, ``1,234.5`` in English; floats with the decimals they carry, at most 3). None: as
        polars prints them.
    plain
        Integer columns left as they are (ids, years): default :data:`PLAIN_COLUMNS`.
    """
    headers = list(headers) if headers is not None else frame.columns
    if lang is not None:
        frame = frame.with_columns(
            number_expr(pl.col(c), lang, _decimals(frame[c]) if frame[c].dtype.is_float() else 0).alias(c)
            for c in frame.columns
            if frame[c].dtype.is_numeric() and not (frame[c].dtype.is_integer() and c in plain)
        )
    if len(headers) != frame.width:
        raise ValueError("one header per column")
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    if frame.height == 0:
        return Html(f"<table class='lab-table'><tr>{head}</tr></table>")
    cells = [
        pl.lit("<td>") + escape_expr(pl.col(c).cast(pl.String)).fill_null("—") + pl.lit("</td>")
        for c in frame.columns
    ]
    rows = frame.select(pl.concat_str([pl.lit("<tr>"), *cells, pl.lit("</tr>")]).str.join("")).item()
    return Html(f"<table class='lab-table'><tr>{head}</tr>{rows}</table>")


def escape_expr(expr: pl.Expr) -> pl.Expr:
    """HTML-escape a string column (the same five characters as :func:`html.escape`)."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
        expr = expr.str.replace_all(char, entity, literal=True)
    return expr
