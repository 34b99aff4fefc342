"""Portal tracker: how the open data portal is doing (``notebooks/apps/portal-tracker.ipynb``).

Headline figures (visits, API calls, new accounts) with monthly trend charts, the two targets (datasets
published against 1,000, datasets reused against 50) with their projections, requests by channel and the
most viewed datasets. Filters: a period range (months), an agency and a theme (they narrow the dataset
figures), a channel (it narrows the request figures).

Nothing is computed here: the figures come from :mod:`lab.usage.kpis` (every public cell through the
``min_count`` suppression of :func:`lab.usage.privacy.suppress`) and :mod:`lab.reuse` (targets), computed
once into the app snapshot (:mod:`lab.apps.snapshot`, built with the usage store by :func:`open_store` on
the demo portal when there is no real data). A visitor's kernel reads the snapshot only; a filter change
slices it. Before drawing, the app checks that its snapshot still matches the store, catalog and demo
portal, and reads the new one if not: a visitor never sees figures older than the store.
"""

from __future__ import annotations

import atexit
import html
import logging
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import polars as pl

from lab.apps.base import App, allowed
from lab.charts import bar_chart, format_number, table
from lab.i18n import t, theme_label
from lab.usage.charts import column_chart
from lab.usage.disclosure import protect, safe_periods, window_sums
from lab.usage.privacy import DEFAULT_MIN_COUNT

log = logging.getLogger(__name__)

ALL = "__all__"  # the "every agency / theme / channel" choice
CHANNELS = ("web", "api", "zalo", "sms", "app")
HEADLINE = ("visits", "api_calls", "signups")
DATASET_METRICS = ("dataset_views", "downloads", "api_calls", "channel_requests")


def _prepare(store: Path | str | None, catalog: Any, wait_s: float) -> Any:
    """:func:`lab.usage.report.prepare_store`, waiting up to ``wait_s`` while another kernel ingests."""
    import time

    from lab.usage.report import prepare_store
    from lab.usage.store import StoreError

    deadline = time.monotonic() + wait_s
    while True:
        try:
            return prepare_store(store, catalog)
        except StoreError as exc:
            if "another ingest" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def open_store(store: str | Path | None = None, catalog: Any = None, *, wait_s: float = 120.0) -> Any:
    """The usage store the app reads, the demo portal's logs ingested into it when it holds no real data.

    ``store`` (or ``$LAB_USAGE_STORE``) when given. Otherwise a store in the temporary folder shared by
    the kernels of this user, named after the catalog and the demo's manifest (so two demos never mix).
    Ingestion is idempotent (:func:`lab.usage.report.prepare_store`): only the first kernel pays for it;
    a kernel starting while another ingests waits for it (up to ``wait_s`` seconds), then falls back to a
    store of its own in a temporary folder removed when it exits.
    """
    from lab.apps.snapshot import catalog_path, shared_store
    from lab.usage.store import STORE_ENV, StoreError

    if store is not None or os.environ.get(STORE_ENV, "").strip():
        return _prepare(store, catalog, wait_s)
    shared = shared_store(catalog_path(catalog))
    try:
        shared.parent.mkdir(parents=True, exist_ok=True)
        return _prepare(shared, catalog, wait_s)
    except StoreError as exc:
        log.info("shared app store unusable (%s): using a store of this process", exc)
    folder = tempfile.mkdtemp(prefix="lab-app-usage-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return _prepare(Path(folder) / "store", catalog, 0)


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


class PortalTracker(App):
    """The portal tracker app (see the module docstring).

    Parameters
    ----------
    store
        The usage store folder (default ``$LAB_USAGE_STORE`` or a per-process temporary one), see
        :func:`open_store`.
    catalog
        The catalog (default ``$LAB_CATALOG`` or the project's).
    lang
        ``vi`` (default) or ``en``.
    min_count
        The smallest count shown to the public.
    """

    def __init__(
        self,
        store: str | Path | None = None,
        catalog: Any = None,
        lang: str = "vi",
        min_count: int = DEFAULT_MIN_COUNT,
    ) -> None:
        from lab.apps import snapshot

        super().__init__(lang)
        self.min_count = int(min_count)
        self._store_arg, self._catalog_arg = store, catalog
        self._catalog: Any = None
        self._read(snapshot.current(store, catalog, self.min_count))

        first = max(0, len(self.months) - 12)
        self.period = widgets.SelectionRangeSlider(
            options=self.months, index=(first, len(self.months) - 1), continuous_update=False
        )
        self.period.layout.width = "520px"
        self.agency = widgets.Dropdown(style={"description_width": "initial"})
        self.theme = widgets.Dropdown(style={"description_width": "initial"})
        self.channel = widgets.Dropdown(style={"description_width": "initial"})
        self._set_options(self.lang)
        for w, name in ((self.period, "period"), (self.agency, "agency"), (self.theme, "theme")):
            w.add_class(f"lab-filter-{name}")
        self.channel.add_class("lab-filter-channel")
        self.heading = widgets.HTML()
        self.cards = widgets.HTML()
        self.trends = widgets.HTML()
        self.gauges = widgets.HTML()
        self.datasets = widgets.HTML()
        self.channels = widgets.HTML()
        self.observe(self.period, self.agency, self.theme, self.channel)
        self.widget = widgets.VBox(
            [
                self.language,
                self.heading,
                widgets.HBox([self.period]),
                widgets.HBox([self.agency, self.theme, self.channel]),
                self.message,
                self.cards,
                self.trends,
                self.gauges,
                self.datasets,
                self.channels,
            ]
        )
        self.widget.add_class("lab-portal-tracker")
        self.safely(self.render)()

    # ------------------------------------------------------------------------------------ snapshot
    def _read(self, snap: Any) -> None:
        """Take the figures of a snapshot (:class:`lab.apps.snapshot.Snapshot`)."""
        self.snapshot = snap
        self.synthetic = snap.synthetic
        self.totals, self.facts, self.mix, self.listing = snap.totals, snap.facts, snap.mix, snap.listing
        self.months: list[str] = self.totals["period"].to_list()
        self.agencies: list[str] = sorted(self.listing["publisher"].drop_nulls().unique().to_list())
        self.themes: list[str] = sorted(self.listing["theme"].drop_nulls().unique().to_list())

    def refresh_if_stale(self) -> bool:
        """Read the new snapshot if the store, catalog or demo portal changed; True if it did."""
        from lab.apps import snapshot

        if snapshot.is_current(self.snapshot, self.min_count):
            return False
        log.info("the store or catalog changed: reading the new app snapshot")
        self._read(snapshot.current(self._store_arg, self._catalog_arg, self.min_count))
        self._refreshing = True
        try:
            start, end = self.filters()["start"], self.filters()["end"]
            self.period.options = self.months
            self.period.value = (
                allowed(start, self.months, self.months[0]),
                allowed(end, self.months, self.months[-1]),
            )
            self._set_options(self.lang)
        finally:
            self._refreshing = False
        return True

    @property
    def catalog(self) -> Any:
        """The catalog the snapshot was computed from (read on first use: the app does not need it)."""
        from lab.catalog import Catalog, load_catalog

        if self._catalog is None:
            arg = self._catalog_arg
            self._catalog = arg if isinstance(arg, Catalog) else load_catalog(self.snapshot.catalog)
        return self._catalog

    @property
    def store(self) -> Any:
        """The usage store (:class:`lab.usage.store.EventStore`) the snapshot was computed from."""
        from lab.usage.store import EventStore

        return EventStore(self.snapshot.store)

    @property
    def reuse(self) -> Any:
        """The reuse report behind the targets (built on first use: the app shows the snapshot's)."""
        return reuse_report(self.catalog, self.lang)

    # ------------------------------------------------------------------------------------ inputs
    def _set_options(self, lang: str) -> None:
        every = t("apps_all", lang)
        agency = allowed(self.agency.value, [ALL, *self.agencies], ALL)
        theme = allowed(self.theme.value, [ALL, *self.themes], ALL)
        channel = allowed(self.channel.value, [ALL, *CHANNELS], ALL)
        self.agency.description = t("apps_agency", lang)
        self.theme.description = t("apps_theme", lang)
        self.channel.description = t("apps_channel", lang)
        self.period.description = t("apps_period", lang)
        self.agency.options = [(every, ALL), *((a, a) for a in self.agencies)]
        self.theme.options = [(every, ALL), *((theme_label(th, lang), th) for th in self.themes)]
        self.channel.options = [(every, ALL), *((t(f"usage_channel_{c}", lang), c) for c in CHANNELS)]
        self.agency.value, self.theme.value, self.channel.value = agency, theme, channel
        self._options_lang = lang

    def filters(self) -> dict[str, Any]:
        """The checked filter values: ``start``, ``end`` (months), ``agency``, ``theme``, ``channel``
        (``None`` for all)."""
        value = self.period.value if isinstance(self.period.value, tuple) else ()
        start = allowed(value[0] if len(value) == 2 else None, self.months, self.months[0])
        end = allowed(value[1] if len(value) == 2 else None, self.months, self.months[-1])
        start, end = min(start, end), max(start, end)
        agency = allowed(self.agency.value, self.agencies, None)
        theme = allowed(self.theme.value, self.themes, None)
        channel = allowed(self.channel.value, CHANNELS, None)
        return {"start": start, "end": end, "agency": agency, "theme": theme, "channel": channel}

    def dataset_ids(self, agency: str | None, theme: str | None) -> list[str] | None:
        """The portal datasets of an agency and theme (None: no filter)."""
        if agency is None and theme is None:
            return None
        sub = self.listing
        if agency is not None:
            sub = sub.filter(pl.col("publisher") == agency)
        if theme is not None:
            sub = sub.filter(pl.col("theme") == theme)
        return sub["dataset_id"].to_list()

    # ------------------------------------------------------------------------------------ output
    def _on_change(self, change: dict) -> None:
        if not getattr(self, "_refreshing", False):
            super()._on_change(change)

    def render(self) -> None:
        """Redraw every part from the checked filters, in the visitor's language (from a snapshot that
        matches the store: :meth:`refresh_if_stale` first)."""
        self.refresh_if_stale()
        lang = self.lang
        if self._options_lang != lang:
            self._set_options(lang)
        f = self.filters()
        start, end, mc = f["start"], f["end"], self.min_count
        note = t("synthetic_note", lang) if self.synthetic else None
        synthetic = f"<p class='synthetic'>{html.escape(note)}</p>" if note else ""
        self.heading.value = (
            f"<h2>{html.escape(t('apps_tracker_title', lang))}</h2>"
            f"<p>{html.escape(t('apps_tracker_intro', lang))}</p>{synthetic}"
        )
        totals = window_totals(self.totals, start, end, mc)
        cards = [
            card(t(f"usage_{k}", lang), totals[k], totals[f"{k}_suppressed"], lang, k, mc) for k in HEADLINE
        ]
        window_label = t("apps_window", lang).format(start=start, end=end)
        self.cards.value = f"<h3>{html.escape(window_label)}</h3>{''.join(cards)}"
        window = monthly_figures(self.totals, start, end, mc)
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
        self.trends.value = "".join(str(c) for c in charts)
        self.gauges.value = self.snapshot.gauges.get(lang, "")
        self._render_datasets(f, lang, note)
        self._render_channels(f, lang, note)

    def _render_datasets(self, f: dict[str, Any], lang: str, note: str | None) -> None:
        ids = self.dataset_ids(f["agency"], f["theme"])
        figures = dataset_figures(self.facts, ids, f["start"], f["end"], self.min_count)
        cards = "".join(
            card(t(f"usage_{r['metric']}", lang), r["value"], r["value_suppressed"], lang, r["metric"], 0)
            for r in figures.iter_rows(named=True)  # four metrics
        )
        top = top_viewed(self.facts, ids, f["start"], f["end"], self.min_count).join(
            self.listing.select("dataset_id", pl.col(f"title_{lang}").alias("title"), "publisher"),
            on="dataset_id",
            how="left",
        )
        shown = top.select(
            pl.coalesce("title", "dataset_id"),
            pl.col("publisher").fill_null(""),
            pl.col("dataset_views").map_elements(lambda v: format_number(v, lang), pl.String).fill_null("…"),
        )
        n = len(ids) if ids is not None else self.listing.height
        scope = t("apps_datasets_scope", lang).format(n=format_number(n, lang))
        self.datasets.value = (
            f"<h3>{html.escape(t('apps_datasets_heading', lang))}</h3>"
            f"<p class='lab-scope'>{html.escape(scope)}</p><div class='lab-dataset-cards'>{cards}</div>"
            f"<h4>{html.escape(t('apps_top_viewed', lang))}</h4>"
            + str(
                table(
                    shown, [t("apps_dataset", lang), t("apps_agency", lang), t("usage_dataset_views", lang)]
                )
            )
        )

    def _render_channels(self, f: dict[str, Any], lang: str, note: str | None) -> None:
        mix = channel_figures(self.mix, f["start"], f["end"], self.min_count)
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
            monthly = channel_months(self.mix, channel, f["start"], f["end"], self.min_count)
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
                self.min_count,
            )
        self.channels.value = f"<h3>{html.escape(t('apps_channels_heading', lang))}</h3>{head}{chart}"


__all__ = [
    "PortalTracker",
    "card",
    "channel_figures",
    "channel_months",
    "cut_facts",
    "dataset_figures",
    "gauges_html",
    "monthly_figures",
    "open_store",
    "top_viewed",
    "window_totals",
]
