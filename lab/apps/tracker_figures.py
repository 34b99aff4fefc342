"""The portal tracker's figures, apart from its widgets: the store it reads, the headline, dataset and
channel figures by the safe-period rule, and the targets' gauges.

:mod:`lab.apps.snapshot` computes them once into the app snapshot and :mod:`lab.apps.portal_tracker` (the
widgets) slices them; the city map and the reuse explorer share its cards. Nothing here imports
ipywidgets.
"""

from __future__ import annotations

import html
import logging
from datetime import date
from typing import Any

import polars as pl

from lab.charts import format_number
from lab.i18n import t
from lab.usage.disclosure import protect, safe_periods, window_sums

log = logging.getLogger(__name__)

CHANNELS = ("web", "api", "zalo", "sms", "app")
DATASET_METRICS = ("dataset_views", "downloads", "api_calls", "channel_requests")
HEADLINE = ("visits", "api_calls", "signups")
"""The headline totals (sums over a window of whole safe periods)."""


def quarter_of(day: date) -> str:
    """``YYYY-Qn`` of a day."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def reuse_report(catalog: Any, lang: str = "vi") -> Any:
    """The reuse report (:class:`lab.reuse.report.ReuseReport`) of the quarter holding the evaluation date."""
    from lab.reuse.report import ReuseReport
    from lab.reuse.targets import default_as_of

    path = str(catalog.path) if hasattr(catalog, "path") else catalog
    return ReuseReport.build(quarter_of(default_as_of(catalog)), catalog=path, lang=lang)


def gauges_html(report: Any) -> str:
    """The targets part of the tracker in the report's language: a gauge per target and its chart."""
    lang = report.lang
    return f"<h3>{html.escape(t('reuse_targets', lang))}</h3>{gauge_html(report.targets, lang)}" + "".join(
        str(report.target_chart(r["metric"])) for r in report.targets
    )


def gauge_html(results: list[dict[str, Any]], lang: str) -> str:
    """One bar per target: the value against the target, the deadline and the projected date."""
    parts = []
    if results:  # one evaluation date for every target: the end of the data (lab.reuse.targets)
        as_of = t("reuse_as_of", lang).format(date=results[0]["as_of"])
        parts.append(f"<p class='lab-as-of'>{html.escape(as_of)}</p>")
    for r in results:  # two targets
        value, target = float(r["value"]), float(r["target"])
        pct = max(0.0, min(100.0, 100 * value / target)) if target else 0.0
        title = html.escape(r["title"].get(lang) or r["id"])
        when = r["projected_date"] or "—"
        status = html.escape(t(f"reuse_status_{str(r['status']).replace(' ', '_')}", lang))
        met = r["status"] == "reached"  # a met target says when it was met, not a projection
        text = t("apps_gauge_reached" if met else "apps_gauge_text", lang).format(
            value=format_number(value, lang),
            target=format_number(target, lang),
            deadline=r["deadline"],
            projected=when,
            reached=r["reached_on"],
        )
        parts.append(
            f"<div class='lab-gauge' data-metric='{html.escape(r['metric'])}'><b>{title}</b>"
            f"<div style='background:#e6e6e6;border-radius:4px;height:14px;width:100%;max-width:520px'>"
            f"<div style='background:#1f6f8b;height:14px;border-radius:4px;width:{pct:.1f}%'></div></div>"
            f"<span class='lab-gauge-value'>{html.escape(text)}</span> · <em>{status}</em></div>"
        )
    return "".join(parts)


def card(label: str, value: Any, suppressed: bool, lang: str, key: str, min_count: int) -> str:
    """One headline figure (``data-key`` names it for tests and styling)."""
    if value is None:
        shown = t("usage_suppressed", lang).format(k=min_count) if suppressed else "—"
    else:
        shown = format_number(float(value), lang)
    return (
        f"<div class='lab-card' data-key='{key}' style='display:inline-block;margin:0 18px 8px 0'>"
        f"<div style='font-size:0.85em'>{html.escape(label)}</div>"
        f"<div class='lab-card-value' style='font-size:1.6em;font-weight:bold'>{html.escape(shown)}</div>"
        "</div>"
    )


# ------------------------------------------------------------------------------ figures (thin adapters)
# Every figure follows the safe-period rule of lab.usage.disclosure: the inputs are the unprotected
# monthly series over the whole history (periods are formed once over it), and what is shown is a sum of
# whole safe periods, so no two windows, channels or selections can be subtracted into a small count.
def window_totals(totals: pl.DataFrame, start: str, end: str, min_count: int) -> dict[str, Any]:
    """The headline totals over ``start``..``end``: for each, the sum of its safe periods lying wholly
    inside the window (``totals``: unprotected monthly :func:`~lab.usage.kpis.portal_totals`, every month
    from the first). ``{total: value}``, ``{total}_suppressed`` (months left out) and
    ``{total}_months_left_out``."""
    row: dict[str, Any] = {}
    for c in HEADLINE:
        r = window_sums(totals.select("period", c), c, start, end, min_count).row(0, named=True)
        hidden = r[f"{c}_suppressed"] and not r[c]
        row[c] = None if hidden else r[c]
        row[f"{c}_suppressed"] = r[f"{c}_suppressed"]
        row[f"{c}_months_left_out"] = r["months_left_out"]
    return row


def monthly_figures(totals: pl.DataFrame, start: str, end: str, min_count: int) -> pl.DataFrame:
    """The headline totals per month of the window, a month shown only when it is a safe period by itself."""
    shown = protect(totals.select("period", *HEADLINE), HEADLINE, min_count)
    return shown.filter(pl.col("period").is_between(pl.lit(start), pl.lit(end)))


def cut_facts(facts: pl.DataFrame, min_count: int) -> pl.DataFrame:
    """The unprotected facts (``period``, ``dataset_id``, ``metric``, ``value``, every month from the
    first) cut once into each dataset's safe periods (:func:`lab.usage.disclosure.safe_periods`)."""
    return safe_periods(facts, "value", order="period", by=["metric", "dataset_id"], min_count=min_count)


def _dataset_sums(
    facts: pl.DataFrame, ids: list[str] | None, start: str, end: str, min_count: int
) -> pl.DataFrame:
    cut = facts if "_period" in facts.columns else cut_facts(facts, min_count)
    if ids is not None:
        cut = cut.filter(pl.col("dataset_id").is_in(ids))
    return window_sums(cut, "value", start, end, min_count, by=["metric", "dataset_id"])


def dataset_figures(
    facts: pl.DataFrame, ids: list[str] | None, start: str, end: str, min_count: int
) -> pl.DataFrame:
    """Dataset views, downloads, API calls and channel requests of the datasets ``ids`` (all when None)
    over ``start``..``end``: the sum of the datasets' published window sums (each dataset's safe periods
    wholly inside the window), so an agency's figure minus a theme's is itself a sum of whole periods.
    ``value_suppressed``: some month with a count is left out; ``value`` null when nothing is left."""
    sums = (
        _dataset_sums(facts, ids, start, end, min_count)
        .group_by("metric")
        .agg(pl.col("value").fill_null(0).sum().cast(pl.Int64), pl.col("value_suppressed").any())
    )
    frame = pl.DataFrame({"metric": list(DATASET_METRICS)}).join(sums, on="metric", how="left")
    return frame.with_columns(
        pl.col("value_suppressed").fill_null(False),
        pl.when(pl.col("value_suppressed") & (pl.col("value").fill_null(0) == 0))
        .then(None)
        .otherwise(pl.col("value").fill_null(0))
        .alias("value"),
    ).select("metric", "value", "value_suppressed")


def top_viewed(
    facts: pl.DataFrame, ids: list[str] | None, start: str, end: str, min_count: int, n: int = 10
) -> pl.DataFrame:
    """The ``n`` datasets (among ``ids``) with the most published dataset views over the window (each
    dataset's safe periods wholly inside it)."""
    sums = _dataset_sums(facts.filter(pl.col("metric") == "dataset_views"), ids, start, end, min_count)
    top = sums.filter(pl.col("value") > 0).sort(["value", "dataset_id"], descending=[True, False])
    return top.head(n).select(
        "dataset_id",
        pl.col("value").alias("dataset_views"),
        pl.col("value_suppressed").alias("dataset_views_suppressed"),
    )


def channel_figures(mix: pl.DataFrame, start: str, end: str, min_count: int) -> pl.DataFrame:
    """Requests per channel over the window (``mix``: unprotected monthly requests per channel, every
    month from the first) and each channel's share of the requests published, both from each channel's
    safe periods wholly inside the window (share null where nothing is published)."""
    sums = window_sums(
        mix.select("period", "channel", "requests"), "requests", start, end, min_count, by=["channel"]
    )
    frame = (
        pl.DataFrame({"channel": list(CHANNELS)})
        .join(sums.drop("bucket"), on="channel", how="left")
        .with_columns(pl.col("requests_suppressed").fill_null(False))
        .with_columns(
            pl.when(pl.col("requests_suppressed") & (pl.col("requests").fill_null(0) == 0))
            .then(None)
            .otherwise(pl.col("requests").fill_null(0))
            .alias("requests")
        )
    )
    share = (100 * pl.col("requests") / pl.col("requests").sum()).fill_nan(None).round(2)
    return frame.select("channel", "requests", share.alias("share"), "requests_suppressed")


def channel_months(mix: pl.DataFrame, channel: str, start: str, end: str, min_count: int) -> pl.DataFrame:
    """One channel's requests per month of the window, a month shown when it is a safe period by itself."""
    one = mix.filter(pl.col("channel") == channel).select("period", "requests")
    shown = protect(one, ["requests"], min_count)
    return shown.filter(pl.col("period").is_between(pl.lit(start), pl.lit(end)))
