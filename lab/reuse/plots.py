"""Offline SVG charts of the reuse reports: a metric over time against its target, with the projection.

Plain inline SVG (no JavaScript, no CDN), like :mod:`lab.charts`.
"""

from __future__ import annotations

import html
import math
import textwrap
from datetime import date

import polars as pl

from lab.charts import PALETTE, Svg, format_number


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def nice_step(span: float, ticks: int = 6) -> float:
    """A round tick step (1, 2 or 5 × 10ⁿ) giving about ``ticks`` ticks over ``span``."""
    raw = max(span, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def target_chart(
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

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, Arial, sans-serif" font-size="12">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="0" y="18" font-size="15" font-weight="600">{html.escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>',
    ]
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
        y_line = height - 8 - 14 * (len(note_lines) - 1 - i)
        parts.append(f'<text x="0" y="{y_line}" font-size="11" fill="#555">{html.escape(line)}</text>')
    parts.append("</svg>")
    return Svg("".join(parts))
