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

import logging
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from lab.apps.base import App, allowed
from lab.i18n import t
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
        """Take a snapshot (:class:`lab.apps.snapshot.Snapshot`): the filters' options from its front."""
        self.snapshot = snap
        self.synthetic = snap.synthetic
        front = snap.front
        self.months: list[str] = list(front["months"])
        self.agencies: list[str] = list(front["agencies"])
        self.themes: list[str] = list(front["themes"])
        self.channels_offered: list[str] = list(front["channels"])
        self._theme_labels: dict[str, dict[str, str]] = front["theme_labels"]

    @property
    def totals(self) -> Any:
        """The snapshot's monthly totals (:attr:`lab.apps.snapshot.Snapshot.totals`)."""
        return self.snapshot.totals

    @property
    def facts(self) -> Any:
        """The snapshot's dataset facts."""
        return self.snapshot.facts

    @property
    def mix(self) -> Any:
        """The snapshot's channel mix."""
        return self.snapshot.mix

    @property
    def listing(self) -> Any:
        """The snapshot's portal listing."""
        return self.snapshot.listing

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
        from lab.apps.tracker_figures import reuse_report

        return reuse_report(self.catalog, self.lang)

    # ------------------------------------------------------------------------------------ inputs
    def _set_options(self, lang: str) -> None:
        every = t("apps_all", lang)
        agency = allowed(self.agency.value, [ALL, *self.agencies], ALL)
        theme = allowed(self.theme.value, [ALL, *self.themes], ALL)
        channel = allowed(self.channel.value, [ALL, *self.channels_offered], ALL)
        self.agency.description = t("apps_agency", lang)
        self.theme.description = t("apps_theme", lang)
        self.channel.description = t("apps_channel", lang)
        self.period.description = t("apps_period", lang)
        self.agency.options = [(every, ALL), *((a, a) for a in self.agencies)]
        labels = self._theme_labels.get(lang, {})
        self.theme.options = [(every, ALL), *((labels.get(th, th), th) for th in self.themes)]
        self.channel.options = [
            (every, ALL),
            *((t(f"usage_channel_{c}", lang), c) for c in self.channels_offered),
        ]
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
        channel = allowed(self.channel.value, self.channels_offered, None)
        return {"start": start, "end": end, "agency": agency, "theme": theme, "channel": channel}

    def dataset_ids(self, agency: str | None, theme: str | None) -> list[str] | None:
        """The portal datasets of an agency and theme (None: no filter)."""
        from lab.apps.tracker_view import dataset_ids

        return dataset_ids(self.listing, agency, theme)

    # ------------------------------------------------------------------------------------ output
    def _on_change(self, change: dict) -> None:
        if not getattr(self, "_refreshing", False):
            super()._on_change(change)

    def render(self) -> None:
        """Redraw every part from the checked filters, in the visitor's language (from a snapshot that
        matches the store: :meth:`refresh_if_stale` first). The default filters' view is the one the
        snapshot drew (:mod:`lab.apps.tracker_view`); any other is drawn here from the snapshot's frames."""
        self.refresh_if_stale()
        lang = self.lang
        if self._options_lang != lang:
            self._set_options(lang)
        f = self.filters()
        parts = self.snapshot.front["views"].get(lang) if f == self.snapshot.front["default"] else None
        if parts is None:
            from lab.apps.tracker_view import tracker_view

            parts = tracker_view(self.snapshot, f, lang, self.min_count)
        for name, value in parts.items():
            getattr(self, name).value = value


__all__ = ["PortalTracker"]
