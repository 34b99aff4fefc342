"""Report sections of the dataset-quality report for freshness with history and quality over time.

The notebook only calls these; they read the freshness history (:mod:`lab.quality.aging`) and the quality
history (:mod:`lab.quality.history`) where the lab keeps them, never the network, and give plain HTML in
the reader's language (labels in ``lab/vocab/labels/insights.yaml``).
"""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path

import polars as pl

from lab.charts import Html, format_number, table
from lab.i18n import t
from lab.quality import aging
from lab.quality import history as quality_history

__all__ = ["freshness_html", "movers_html", "trend_html"]


def _pct(value: float | None, lang: str) -> str:
    return "—" if value is None else format_number(round(value * 100, 1), lang)


def freshness_html(
    datasets: pl.DataFrame, as_of: date, lang: str, *, history: str | Path | None = None, months: int = 6
) -> Html:
    """HDX statuses as of ``as_of`` (counts per status, portal-wide and per agency) and the share of
    fresh datasets over the last ``months`` months.

    Parameters
    ----------
    datasets
        ``id``, ``publisher``, ``frequency``, ``modified``, ``issued`` (e.g.
        ``QualityReport.scores.meta.datasets``).
    as_of
        The report's day.
    lang
        ``vi`` or ``en``.
    history
        The freshness history (default :func:`lab.quality.aging.history_path`); without one, each
        dataset's last update is its ``modified`` (else ``issued``) date.
    months
        Months of the share shown.
    """
    path = Path(history) if history is not None else aging.history_path()
    _provenance("freshness-history", path)
    hist = aging.read_history(path).filter(pl.col("observed") <= as_of)
    frame = datasets.select("id", "publisher", "frequency", "modified", "issued")
    now = aging.status_as_of(frame, hist, as_of)
    # the catalog's dates as observations of today: the months before use the history only
    seen = aging.detect_changes(hist, _observations(frame), as_of)
    start = as_of.year * 12 + as_of.month - months
    month_list = [f"{(m) // 12:04d}-{m % 12 + 1:02d}" for m in range(start, start + months)]
    share = aging.fresh_share(frame.drop("modified"), pl.concat([hist, seen]), month_list)
    counts = now.group_by("publisher").agg(
        *[(pl.col("status") == s).sum().alias(s) for s in aging.STATUSES], pl.len().alias("n")
    )
    total = now.select(
        pl.lit(t("insights_whole_portal", lang)).alias("publisher"),
        *[(pl.col("status") == s).sum().alias(s) for s in aging.STATUSES],
        pl.len().alias("n"),
    )
    rows = pl.concat([total, counts.sort("n", "publisher", descending=[True, False])]).drop("n")
    headers = [t("insights_agency", lang), *[t(f"hdx_status_{s}", lang) for s in aging.STATUSES]]
    trend = share.filter(pl.col("agency").is_null()).select(
        "month", pl.col("fresh_share").map_elements(lambda v: _pct(v, lang), return_dtype=pl.String)
    )
    note = t("hdx_freshness_note", lang)
    hist_note = t("hdx_history_note", lang).format(n=format_number(hist.height, lang))
    return Html(
        f"<p>{html.escape(note)}</p>"
        + str(table(rows, headers))
        + str(table(trend, [t("period", lang), t("hdx_fresh_share", lang)]))
        + f"<p class='note'>{html.escape(hist_note)}</p>"
    )


def _provenance(name: str, path: Path) -> None:
    """Record a history file among the report's inputs (a changed history makes the report run again)."""
    from lab.loader import record_provenance

    if path.is_file():
        record_provenance(name, path)


def _observations(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        dataset_id="id",
        catalog_modified="modified",
        last_modified=pl.lit(None, pl.Date),
        sha256=pl.lit(None, pl.String),
        issued="issued",
    )


def _history(history: str | Path | None, until: date | None) -> pl.DataFrame:
    """The quality history's snapshots up to ``until`` (all when None), recorded as a report input."""
    _provenance("quality-history", Path(history) if history is not None else quality_history.default_path())
    frame = quality_history.read(history)
    return frame if until is None else frame.filter(pl.col("as_of") <= until)


def trend_html(
    lang: str, *, history: str | Path | None = None, snapshots: int = 6, until: date | None = None
) -> Html:
    """The catalogue's mean scores per snapshot (the last ``snapshots`` up to ``until``), or a line saying
    there is none.

    Parameters
    ----------
    lang
        ``vi`` or ``en``.
    history
        The quality history (default :func:`lab.quality.history.default_path`; the reports pass
        :func:`lab.quality.history.report_history`).
    snapshots
        Snapshots shown at most.
    until
        The report's last day: later snapshots are left out.
    """
    frame = _history(history, until)
    trend = quality_history.trend(frame)
    if trend.is_empty():
        return Html(f"<p>{html.escape(t('quality_trend_none', lang))}</p>")
    cat = trend.filter(pl.col("agency").is_null()).tail(snapshots)
    shown = cat.select(
        pl.col("as_of").cast(pl.String),
        "datasets",
        *[pl.col(c).round(2) for c in ("mqa_points", "udata_score", "quality") if c in cat.columns],
        pl.col("fresh_share").map_elements(lambda v: _pct(v, lang), return_dtype=pl.String),
    )
    names = {
        "as_of": t("quality_trend_snapshot", lang),
        "datasets": t("datasets", lang),
        "mqa_points": "MQA",
        "udata_score": "udata",
        "quality": t("quality_trend_title", lang),
        "fresh_share": t("hdx_fresh_share", lang),
    }
    return table(shown, [names[c] for c in shown.columns])


def movers_html(
    lang: str, *, history: str | Path | None = None, n: int = 10, until: date | None = None
) -> Html:
    """The datasets that moved most between the last two snapshots up to ``until``, with the indicators
    that changed (``history`` and ``until`` as for :func:`trend_html`)."""
    frame = _history(history, until)
    if frame.get_column("as_of").n_unique() < 2:
        return Html(f"<p>{html.escape(t('quality_trend_none', lang))}</p>")
    moved = quality_history.movers(frame, n=n)
    if moved.is_empty():
        return Html(f"<p>{html.escape(t('quality_movers_none', lang))}</p>")
    shown = moved.select(
        "id",
        "publisher",
        "change",
        pl.col("delta_mqa_points").round(1),
        pl.col("indicators").list.join(", "),
    )
    headers = [
        t("id", lang),
        t("publisher", lang),
        t("quality_movers_change", lang),
        t("quality_movers_delta", lang),
        t("quality_movers_indicators", lang),
    ]
    return table(shown, headers)
