"""The lab's one chart kit: offline-safe charts as plain inline SVG, no JavaScript, no CDN; and tables.

An SVG chart renders the same in JupyterLab, in an HTML report opened without internet and in a
Voilà page. Labels are escaped text, so Vietnamese diacritics render with the page's fonts; every chart
carries its title as the SVG's ``<title>`` (what a screen reader says) and ``role="img"``.

- :func:`bar_chart` (and :func:`bar_chart_from`): horizontal bars, one per label;
- :func:`column_chart`: vertical columns over time, a gap marked ``?`` where a value is unknown;
- :func:`line_chart`: a metric over time against its target, with a dashed projection;
- :func:`flow_chart`: three columns of nodes joined by links (the lineage dataset → product → outcome).

Every chart starts and ends the same way (:func:`_open`, :func:`_note`); the report pages and the apps
draw only through these.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

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


def format_numbers(values: Sequence[float], lang: str = "vi") -> list[str]:
    """:func:`format_number` of many values in one polars pass (the same rule; what a chart writes)."""
    if not values:
        return []
    v = pl.col("v")
    whole = v.is_finite() & (v == v.floor())
    expr = pl.when(whole).then(number_expr(v, lang, 0)).otherwise(number_expr(v, lang, 1))
    frame = pl.DataFrame({"v": [float(x) for x in values]}, schema={"v": pl.Float64})
    return frame.select(expr.fill_null("—")).to_series().to_list()


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


def _open(width: float, height: float, title: str, font_size: int) -> list[str]:
    """The start of every chart: the SVG element (accessible: ``role="img"`` and a ``<title>``) and the
    title written above the drawing."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, Arial, sans-serif" font-size="{font_size}">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="0" y="18" font-size="15" font-weight="600">{html.escape(title)}</text>',
    ]


def _note(text: str, y: float) -> str:
    """A line of small grey text under a chart (a source, "synthetic data", ...)."""
    return f'<text x="0" y="{y}" font-size="11" fill="#555">{html.escape(text)}</text>'


def _close(parts: list[str]) -> Svg:
    parts.append("</svg>")
    return Svg("".join(parts))


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
    parts = _open(width, height, title, 13)
    texts = format_numbers([float(v) for v in values], lang)
    for i, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        y = top + i * bar_height
        w = max(0.0, float(value) / vmax * plot_w)
        baseline = y + bar_height * 0.68
        parts.append(
            f'<text x="{label_w - 6}" y="{baseline:.1f}" text-anchor="end">{html.escape(str(label))}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{bar_height - 6}" fill="{color}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{baseline:.1f}">{text}</text>'
        )
    if note:
        parts.append(_note(note, height - 8))
    return _close(parts)


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


def column_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    note: str | None = None,
    width: int = 720,
    height: int = 240,
    color: str = PALETTE[0],
    highlight: str | None = None,
    lang: str = "vi",
) -> Svg:
    """Vertical columns, one per label (e.g. a month), the highest value written above its column. A null
    value (the inputs cannot tell, or the cell is suppressed) is a gap with a small ``?``, never a zero.

    Parameters
    ----------
    labels, values
        Same length, drawn left to right; None values are gaps marked ``?``.
    title
        Above the chart (already in the reader's language).
    note
        A line under the chart.
    highlight
        A label whose column is drawn in the accent colour (the reported month).
    lang
        How numbers are written.
    """
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length")
    top, bottom, left = 34, 42 + (16 if note else 0), 8
    plot_h = height - top - bottom
    n = max(len(labels), 1)
    step = (width - 2 * left) / n
    bar_w = max(2.0, step * 0.72)
    known = [float(v) for v in values if v is not None]
    vmax = max(known, default=0.0) or 1.0
    parts = _open(width, height, title, 11)
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" stroke="#999"/>'
    )
    every = max(1, round(n / 12))
    peak = (
        max(range(len(values)), key=lambda i: -1.0 if (v := values[i]) is None else float(v)) if known else -1
    )
    texts = iter(format_numbers([float(v) for v in values if v is not None], lang))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * step + (step - bar_w) / 2
        if value is None:
            cx, cy = x + bar_w / 2, top + plot_h - 4
            parts.append(f'<text x="{cx:.1f}" y="{cy}" text-anchor="middle" fill="#999">?</text>')
        else:
            h = max(0.0, float(value) / vmax * plot_h)
            fill = PALETTE[1] if label == highlight else color
            text = next(texts)
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{fill}"><title>{html.escape(str(label))}: {text}'
                "</title></rect>"
            )
            if i == peak or label == highlight:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle">'
                    f"{text}</text>"
                )
        crowded = i + 1 < len(labels) and labels[i + 1] == highlight and every > 1
        if (i % every == 0 and not crowded) or label == highlight:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" fill="#333">'
                f"{html.escape(str(label))}</text>"
            )
    if note:
        parts.append(_note(note, height - 6))
    return _close(parts)


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def nice_step(span: float, ticks: int = 6) -> float:
    """A round tick step (1, 2 or 5 × 10ⁿ) giving about ``ticks`` ticks over ``span``."""
    raw = max(span, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def line_chart(
    observed: pl.DataFrame,
    *,
    target: float,
    deadline: date,
    projection: pl.DataFrame | None = None,
    title: str,
    labels: tuple[str, str, str] = ("observed", "projection", "target"),
    note: str | None = None,
    lang: str = "vi",
    width: int = 720,
    height: int = 300,
) -> Svg:
    """A line chart of ``observed`` (``date``, ``value``), the dashed ``projection`` after it, a horizontal
    line at ``target`` and a vertical one at ``deadline``.

    Parameters
    ----------
    observed, projection
        Frames with ``date`` and ``value``.
    target, deadline
        Drawn as reference lines.
    title, labels, note
        Text already in the reader's language: the title, the legend (observed, projection, target) and a
        line under the chart.
    lang
        How numbers are written on the axis.
    """
    projection = (
        projection if projection is not None else pl.DataFrame(schema={"date": pl.Date, "value": pl.Float64})
    )
    frames = [f.select("date", pl.col("value").cast(pl.Float64)) for f in (observed, projection) if f.height]
    every = pl.concat(frames) if frames else pl.DataFrame(schema={"date": pl.Date, "value": pl.Float64})
    x_min = _days(min([*every["date"].to_list(), deadline])) if every.height else _days(deadline) - 365
    x_max = _days(max([*every["date"].to_list(), deadline]))
    x_max = max(x_max, x_min + 1)
    y_max = max([*every["value"].to_list(), float(target)]) * 1.08 or 1.0
    note_lines = textwrap.wrap(note, 118) if note else []
    height += 14 * max(0, len(note_lines) - 1)
    left, right, top, bottom = 56, 16, 40, 32 + 14 * len(note_lines)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(d: date) -> float:
        return left + (_days(d) - x_min) / (x_max - x_min) * plot_w

    def y(v: float) -> float:
        return top + plot_h - v / y_max * plot_h

    def path(frame: pl.DataFrame) -> str:
        pts = [f"{x(d):.1f},{y(float(v)):.1f}" for d, v in frame.select("date", "value").iter_rows()]
        return "M" + " L".join(pts) if pts else ""

    parts = _open(width, height, title, 12)
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>'
    )
    step = nice_step(y_max)
    for i in range(int(y_max // step) + 1):  # y ticks
        v = i * step
        parts.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#555">'
            f"{format_number(round(v), lang)}</text>"
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + plot_w}" y2="{y(v):.1f}" stroke="#eee"/>'
        )
    first_year = date.fromordinal(date(1970, 1, 1).toordinal() + x_min).year + 1
    last_year = date.fromordinal(date(1970, 1, 1).toordinal() + x_max).year
    step = max(1, (last_year - first_year + 1) // 10)
    for year in range(first_year, last_year + 1, step):  # x ticks: 1 January of each year
        xx = x(date(year, 1, 1))
        parts.append(
            f'<line x1="{xx:.1f}" y1="{top + plot_h}" x2="{xx:.1f}" y2="{top + plot_h + 4}" stroke="#888"/>'
            f'<text x="{xx:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#555">{year}</text>'
        )
    obs_label, proj_label, target_label = labels
    parts.append(
        f'<line x1="{left}" y1="{y(target):.1f}" x2="{left + plot_w}" y2="{y(target):.1f}" '
        f'stroke="{PALETTE[3]}" stroke-dasharray="2 3"/>'
        f'<line x1="{x(deadline):.1f}" y1="{top}" x2="{x(deadline):.1f}" y2="{top + plot_h}" '
        f'stroke="{PALETTE[3]}" stroke-dasharray="2 3"/>'
        f'<text x="{left + 4}" y="{y(target) - 4:.1f}" fill="{PALETTE[3]}">{html.escape(target_label)} '
        f"{format_number(target, lang)} · {deadline.isoformat()}</text>"
    )
    if observed.height:
        parts.append(f'<path d="{path(observed)}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    if projection.height:
        parts.append(
            f'<path d="{path(projection)}" fill="none" stroke="{PALETTE[1]}" stroke-width="2" '
            f'stroke-dasharray="6 4"/>'
        )
    legend_y = top - 8
    parts.append(
        f'<line x1="{width - 250}" y1="{legend_y}" x2="{width - 226}" y2="{legend_y}" stroke="{PALETTE[0]}" '
        f'stroke-width="2"/><text x="{width - 222}" y="{legend_y + 4}">{html.escape(obs_label)}</text>'
        f'<line x1="{width - 130}" y1="{legend_y}" x2="{width - 106}" y2="{legend_y}" stroke="{PALETTE[1]}" '
        f'stroke-width="2" stroke-dasharray="6 4"/>'
        f'<text x="{width - 102}" y="{legend_y + 4}">{html.escape(proj_label)}</text>'
    )
    for i, line in enumerate(note_lines):
        parts.append(_note(line, height - 8 - 14 * (len(note_lines) - 1 - i)))
    return _close(parts)


@dataclass(frozen=True)
class FlowNode:
    """A node of :func:`flow_chart`: its ``key`` (what links name), its ``label`` (cut to fit) and, for the
    middle column, its ``colour``; for the right column, a ``value`` written under the label."""

    key: str
    label: str
    colour: str = PALETTE[4]
    value: str = ""


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _ys(n: int, top: float, height: float) -> list[float]:
    """``n`` centres spread evenly over ``[top, top + height]``."""
    step = height / max(n, 1)
    return [top + step * (i + 0.5) for i in range(n)]


def _curve(x1: float, y1: float, x2: float, y2: float, width: float, colour: str, opacity: float) -> str:
    mid = (x1 + x2) / 2
    return (
        f'<path d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" fill="none" '
        f'stroke="{colour}" stroke-width="{width:.1f}" stroke-opacity="{opacity}"/>'
    )


def flow_chart(
    left: Sequence[FlowNode],
    middle: Sequence[FlowNode],
    right: Sequence[FlowNode],
    *,
    left_links: Iterable[tuple[str, str]],
    right_links: Iterable[tuple[str, str, float]],
    title: str,
    note: str,
    width: int = 980,
) -> Svg:
    """Three columns of nodes: dots on the left, boxes in the middle, labelled boxes with a value on the
    right; a thin line for each (left, middle) link and, for each (middle, right, share) link, a line as
    thick as the share (0–1) of the right node it carries.

    Parameters
    ----------
    left, middle, right
        The nodes, top to bottom (labels already in the reader's language; cut at 46 and 38 characters on
        the left and in the middle).
    left_links, right_links
        Links by node keys, drawn in the given order; a right link of share 0 is not drawn.
    title, note
        Above and under the picture.
    """
    n_rows = max(len(left), len(middle), len(right))
    top, row_h = 40, 20
    body = n_rows * row_h
    height = top + body + 36
    x_l, x_m1, x_m2, x_r = 300, 420, 650, 780
    left_y = dict(zip([n.key for n in left], _ys(len(left), top, body), strict=True))
    mid_y = dict(zip([n.key for n in middle], _ys(len(middle), top, body), strict=True))
    right_y = dict(zip([n.key for n in right], _ys(len(right), top, body), strict=True))
    parts = _open(width, height, title, 11)
    for a, b in left_links:
        parts.append(_curve(x_l, left_y[a], x_m1, mid_y[b], 1.2, PALETTE[0], 0.45))
    for a, b, share in right_links:
        if share > 0:
            parts.append(_curve(x_m2, mid_y[a], x_r, right_y[b], 1 + 14 * share, PALETTE[1], 0.5))
    for node in left:
        y, label = left_y[node.key], html.escape(_short(node.label, 46))
        parts.append(
            f'<circle cx="{x_l}" cy="{y:.1f}" r="3.5" fill="{PALETTE[0]}"/>'
            f'<text x="{x_l - 7}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    for node in middle:
        y = mid_y[node.key]
        parts.append(
            f'<rect x="{x_m1}" y="{y - 8:.1f}" width="{x_m2 - x_m1}" height="16" rx="3" fill="{node.colour}" '
            f'fill-opacity="0.18" stroke="{node.colour}"/>'
            f'<text x="{x_m1 + 5}" y="{y + 4:.1f}">{html.escape(_short(node.label, 38))}</text>'
        )
    for node in right:
        y = right_y[node.key]
        parts.append(
            f'<rect x="{x_r}" y="{y - 14:.1f}" width="{width - x_r - 2}" height="28" rx="3" '
            f'fill="{PALETTE[1]}" fill-opacity="0.15" stroke="{PALETTE[1]}"/>'
            f'<text x="{x_r + 6}" y="{y - 2:.1f}" font-weight="600">{html.escape(node.label)}</text>'
            f'<text x="{x_r + 6}" y="{y + 10:.1f}">{node.value}</text>'
        )
    parts.append(_note(note, height - 10))
    return _close(parts)
