"""Usage charts: a vertical column chart for monthly series (offline inline SVG, like lab.charts).

A null value (the inputs cannot tell, or the cell is suppressed) is drawn as a gap with a small
``?`` so that it is never read as zero.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from lab.charts import PALETTE, Svg, format_number


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
    """Vertical columns, one per label (e.g. a month), the highest value written above its column.

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
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, Arial, sans-serif" font-size="11">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="0" y="18" font-size="15" font-weight="600">{html.escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" stroke="#999"/>',
    ]
    every = max(1, round(n / 12))
    peak = (
        max(range(len(values)), key=lambda i: -1.0 if values[i] is None else float(values[i]))
        if known
        else -1
    )
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * step + (step - bar_w) / 2
        if value is None:
            cx, cy = x + bar_w / 2, top + plot_h - 4
            parts.append(f'<text x="{cx:.1f}" y="{cy}" text-anchor="middle" fill="#999">?</text>')
        else:
            h = max(0.0, float(value) / vmax * plot_h)
            fill = PALETTE[1] if label == highlight else color
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{fill}"><title>{html.escape(str(label))}: {format_number(float(value), lang)}'
                "</title></rect>"
            )
            if i == peak or label == highlight:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle">'
                    f"{format_number(float(value), lang)}</text>"
                )
        crowded = i + 1 < len(labels) and labels[i + 1] == highlight and every > 1
        if (i % every == 0 and not crowded) or label == highlight:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" fill="#333">'
                f"{html.escape(str(label))}</text>"
            )
    if note:
        parts.append(f'<text x="0" y="{height - 6}" font-size="11" fill="#555">{html.escape(note)}</text>')
    parts.append("</svg>")
    return Svg("".join(parts))
