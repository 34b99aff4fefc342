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


def _fmt(value: float) -> str:
    """Format a number the Vietnamese way for labels: 1.234.567 and 12,5."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    note: str | None = None,
    width: int = 720,
    bar_height: int = 22,
    color: str = PALETTE[0],
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
    """
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length")
    label_w = min(320, 8 + 7 * max((len(str(s)) for s in labels), default=1))
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
            f'<text x="{label_w + w + 4:.1f}" y="{baseline:.1f}">{_fmt(float(value))}</text>'
        )
    if note:
        parts.append(f'<text x="0" y="{height - 8}" font-size="11" fill="#555">{html.escape(note)}</text>')
    parts.append("</svg>")
    return Svg("".join(parts))


def bar_chart_from(
    frame: pl.DataFrame, label: str, value: str, *, title: str, note: str | None = None
) -> Svg:
    """:func:`bar_chart` over two columns of a polars frame."""
    return bar_chart(frame[label].cast(pl.String).to_list(), frame[value].to_list(), title=title, note=note)
