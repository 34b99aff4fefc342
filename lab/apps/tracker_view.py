"""The portal tracker's page for a choice of filters, as HTML parts, apart from its widgets.

:func:`tracker_view` draws every part the tracker shows (heading, headline cards, trend charts, targets,
dataset figures, channels) from an app snapshot (:class:`lab.apps.snapshot.Snapshot`), the checked
filters and a language. The snapshot build draws the default view (the last twelve months, every
agency, theme and channel) in both languages with this very function and keeps it in the snapshot, so
a visitor's first paint is read, not computed: the kernel imports polars only when the visitor changes
a filter (:class:`lab.apps.portal_tracker.PortalTracker`).
"""

from __future__ import annotations

import html
from typing import Any

import polars as pl

from lab.apps.tracker_figures import (
    CHANNELS,
    HEADLINE,
    card,
    channel_figures,
    channel_months,
    dataset_figures,
    monthly_figures,
    top_viewed,
    window_totals,
)
from lab.charts import bar_chart, column_chart, format_number, table
from lab.i18n import LANGUAGES, t, theme_label

PARTS = ("heading", "cards", "trends", "gauges", "datasets", "channels")
"""The parts of the page, in the order the tracker shows them."""


def default_filters(months: list[str]) -> dict[str, Any]:
    """The filters a visitor first sees: the last twelve months (or fewer), every agency, theme and
    channel."""
    return {
        "start": months[max(0, len(months) - 12)] if months else None,
        "end": months[-1] if months else None,
        "agency": None,
        "theme": None,
        "channel": None,
    }


def options(listing: pl.DataFrame) -> dict[str, Any]:
    """What the filters offer: ``agencies``, ``themes`` (sorted ids) and ``theme_labels`` (language →
    theme id → name)."""
    agencies = sorted(listing["publisher"].drop_nulls().unique().to_list())
    themes = sorted(listing["theme"].drop_nulls().unique().to_list())
    labels = {lang: {th: theme_label(th, lang) for th in themes} for lang in LANGUAGES}
    return {"agencies": agencies, "themes": themes, "theme_labels": labels}


def dataset_ids(listing: pl.DataFrame, agency: str | None, theme: str | None) -> list[str] | None:
    """The portal datasets of an agency and theme (None: no filter)."""
    if agency is None and theme is None:
        return None
    sub = listing
    if agency is not None:
        sub = sub.filter(pl.col("publisher") == agency)
    if theme is not None:
        sub = sub.filter(pl.col("theme") == theme)
    return sub["dataset_id"].to_list()


def tracker_view(snap: Any, f: dict[str, Any], lang: str, min_count: int) -> dict[str, str]:
    """Every part of the tracker (:data:`PARTS`) as HTML.

    Parameters
    ----------
    snap
        The app snapshot (:class:`lab.apps.snapshot.Snapshot`).
    f
        Checked filters: ``start``, ``end`` (months), ``agency``, ``theme``, ``channel`` (None for all).
    lang
        ``vi`` or ``en``.
    min_count
        The smallest count shown to the public.

    Returns
    -------
    dict
        Part name → HTML.
    """
    start, end = f["start"], f["end"]
    note = t("synthetic_note", lang) if snap.synthetic else None
    synthetic = f"<p class='synthetic'>{html.escape(note)}</p>" if note else ""
    heading = (
        f"<h2>{html.escape(t('apps_tracker_title', lang))}</h2>"
        f"<p>{html.escape(t('apps_tracker_intro', lang))}</p>{synthetic}"
    )
    totals = window_totals(snap.totals, start, end, min_count)
    cards = [
        card(t(f"usage_{k}", lang), totals[k], totals[f"{k}_suppressed"], lang, k, min_count)
        for k in HEADLINE
    ]
    window_label = t("apps_window", lang).format(start=start, end=end)
    window = monthly_figures(snap.totals, start, end, min_count)
    charts = [
        column_chart(
            window["period"].to_list(),
            window[k].to_list(),
            title=f"{t(f'usage_{k}', lang)} {t('usage_per_month', lang)}",
            note=note,
            lang=lang,
        )
        for k in ("visits", "api_calls", "signups")
    ]
    return {
        "heading": heading,
        "cards": f"<h3>{html.escape(window_label)}</h3>{''.join(cards)}",
        "trends": "".join(str(c) for c in charts),
        "gauges": snap.gauges.get(lang, ""),
        "datasets": _datasets(snap, f, lang, min_count),
        "channels": _channels(snap, f, lang, note, min_count),
    }


def _datasets(snap: Any, f: dict[str, Any], lang: str, min_count: int) -> str:
    ids = dataset_ids(snap.listing, f["agency"], f["theme"])
    figures = dataset_figures(snap.facts, ids, f["start"], f["end"], min_count)
    cards = "".join(
        card(t(f"usage_{r['metric']}", lang), r["value"], r["value_suppressed"], lang, r["metric"], 0)
        for r in figures.iter_rows(named=True)  # four metrics
    )
    top = top_viewed(snap.facts, ids, f["start"], f["end"], min_count).join(
        snap.listing.select("dataset_id", pl.col(f"title_{lang}").alias("title"), "publisher"),
        on="dataset_id",
        how="left",
    )
    shown = top.select(
        pl.coalesce("title", "dataset_id"),
        pl.col("publisher").fill_null(""),
        pl.col("dataset_views").map_elements(lambda v: format_number(v, lang), pl.String).fill_null("…"),
    )
    n = len(ids) if ids is not None else snap.listing.height
    scope = t("apps_datasets_scope", lang).format(n=format_number(n, lang))
    return (
        f"<h3>{html.escape(t('apps_datasets_heading', lang))}</h3>"
        f"<p class='lab-scope'>{html.escape(scope)}</p><div class='lab-dataset-cards'>{cards}</div>"
        f"<h4>{html.escape(t('apps_top_viewed', lang))}</h4>"
        + str(table(shown, [t("apps_dataset", lang), t("apps_agency", lang), t("usage_dataset_views", lang)]))
    )


def _channels(snap: Any, f: dict[str, Any], lang: str, note: str | None, min_count: int) -> str:
    mix = channel_figures(snap.mix, f["start"], f["end"], min_count)
    channel = f["channel"]
    if channel is None:
        chart = bar_chart(
            [t(f"usage_channel_{c}", lang) for c in mix["channel"].to_list()],
            mix["share"].fill_null(0.0).to_list(),
            title=t("apps_channel_share", lang),
            note=note,
            lang=lang,
        )
        head = ""
    else:
        row = mix.filter(pl.col("channel") == channel).row(0, named=True)
        monthly = channel_months(snap.mix, channel, f["start"], f["end"], min_count)
        label = t(f"usage_channel_{channel}", lang)
        chart = column_chart(
            monthly["period"].to_list(),
            monthly["requests"].to_list(),
            title=f"{t('apps_requests', lang)} · {label}",
            note=note,
            lang=lang,
        )
        head = card(
            f"{t('apps_requests', lang)} · {label}",
            row["requests"],
            row["requests_suppressed"],
            lang,
            "channel_requests_window",
            min_count,
        )
    return f"<h3>{html.escape(t('apps_channels_heading', lang))}</h3>{head}{chart}"


__all__ = ["CHANNELS", "PARTS", "dataset_ids", "default_filters", "options", "tracker_view"]
