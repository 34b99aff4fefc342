"""Portal tracker: how the open data portal is doing (``notebooks/apps/portal-tracker.ipynb``).

Headline figures (visits, API calls, new accounts) with monthly trend charts, the two targets (datasets
published against 1,000, datasets reused against 50) with their projections, requests by channel and the
most viewed datasets. Filters: a period range (months), an agency and a theme (they narrow the dataset
figures), a channel (it narrows the request figures).

Nothing is computed here: the figures come from :mod:`lab.usage.kpis` (every public cell through the
``min_count`` suppression of :func:`lab.usage.privacy.suppress`) and :mod:`lab.reuse` (targets), computed
once into the app snapshot (:mod:`lab.apps.snapshot`, built with the usage store by
:func:`lab.apps.snapshot.open_store` on the demo portal when there is no real data). A visitor's
kernel reads the snapshot only; a filter change slices it. Before drawing, the app checks that its
snapshot still matches the store, catalog and demo portal, and reads the new one if not: a visitor
never sees figures older than the store.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import polars as pl

from lab.apps.base import App, allowed
from lab.apps.tracker_figures import (
    CHANNELS,
    HEADLINE,
    card,
    channel_figures,
    channel_months,
    dataset_figures,
    monthly_figures,
    reuse_report,
    top_viewed,
    window_totals,
)
from lab.charts import bar_chart, column_chart, format_number, table
from lab.i18n import t, theme_label
from lab.usage.privacy import DEFAULT_MIN_COUNT

log = logging.getLogger(__name__)

ALL = "__all__"  # the "every agency / theme / channel" choice


class PortalTracker(App):
    """The portal tracker app (see the module docstring).

    Parameters
    ----------
    store
        The usage store folder (default ``$LAB_USAGE_STORE`` or a per-process temporary one), see
        :func:`lab.apps.snapshot.open_store`.
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


__all__ = ["PortalTracker"]
