"""The portal-usage report's section on usage as open data (:mod:`lab.usage.publish`).

It shows what ``lab usage publish`` would write for the report's month (nothing is written): how many
dataset rows, how many cells the safe-period rule hides, and the totals row, in the reader's language.
"""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from lab.charts import Html, format_number, table
from lab.i18n import t
from lab.usage.privacy import DEFAULT_MIN_COUNT
from lab.usage.publish import TOTAL_METRICS, dataset_usage, portal_usage
from lab.usage.store import EventStore

__all__ = ["published_html"]


def published_html(
    store: EventStore | str | Path | None, period: str, lang: str, min_count: int = DEFAULT_MIN_COUNT
) -> Html:
    """The month's published usage: a note with the command, and the totals as the file has them.

    Parameters
    ----------
    store
        The usage store.
    period
        ``YYYY-MM``.
    lang
        ``vi`` or ``en``.
    min_count
        The threshold of the safe-period rule.
    """
    datasets = dataset_usage(store, period, min_count)
    totals = portal_usage(store, period, datasets, min_count)
    hidden = sum(
        int(frame.get_column(c).sum())
        for frame in (datasets, totals)
        for c in frame.columns
        if c.endswith("_suppressed")
    )
    row = totals.row(0, named=True)
    hidden_text = t("usage_suppressed", lang).format(k=min_count)

    def cell(metric: str) -> str:
        value = row[metric]
        if value is None:
            return hidden_text if row[f"{metric}_suppressed"] else "—"
        return format_number(value, lang)

    shown = pl.DataFrame(
        {
            "metric": [t(f"usage_open_col_{m}", lang) for m in TOTAL_METRICS],
            "value": [cell(m) for m in TOTAL_METRICS],
        }
    )
    note = t("usage_open_note", lang).format(
        period=period,
        datasets=format_number(datasets.height, lang),
        hidden=format_number(hidden, lang),
        k=min_count,
    )
    return Html(
        f"<p>{html.escape(note)}</p>"
        + str(table(shown, [t("usage_open_metric", lang), t("usage_open_value", lang)]))
    )
