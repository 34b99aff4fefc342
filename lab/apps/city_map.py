"""City map: sensors, cameras and facilities per ward (``notebooks/apps/city-map.ipynb``).

The visitor picks a point layer (sensors, cameras, schools, health facilities, food-safety certified
establishments) and a measure (count, per km², per 10,000 residents, share of the area within 2 km of a
point); an offline folium choropleth (:class:`lab.maps.Map`, Leaflet inlined: no CDN) shows it, with the
points, and each ward's name and value on hover or click.

Nothing is computed here: units, points and indicators come from :func:`lab.geo.report.spatial_coverage`
(read once at start), coverage of other layers than sensors from :func:`lab.geo.indicators.coverage`.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import ipywidgets as widgets
import polars as pl

from lab.apps.base import App, allowed
from lab.apps.tracker_figures import card, quarter_of
from lab.charts import format_number, table
from lab.geo.report import LAYERS
from lab.i18n import t

log = logging.getLogger(__name__)

MEASURES = ("count", "per_100km2", "per_10k", "coverage")  # densities per 100 km², as the spatial report
DECIMALS = {"count": 0, "per_100km2": 2, "per_10k": 2, "coverage": 1}
KEPT_MAPS = 8
"""Drawn maps a kernel keeps (≈ 0.3 MB each): going back to a layer shows its map at once."""


class CityMap(App):
    """The city map app (see the module docstring).

    Parameters
    ----------
    catalog
        The catalog (default ``$LAB_CATALOG`` or the project's).
    period
        Points as of the end of this period (default: the quarter holding the evaluation date).
    lang
        ``vi`` (default) or ``en``.
    """

    def __init__(self, catalog: Any = None, period: str | None = None, lang: str = "vi") -> None:
        from lab.catalog import as_catalog
        from lab.geo.report import spatial_coverage
        from lab.reuse.targets import default_as_of

        super().__init__(lang)
        self.catalog = as_catalog(catalog)
        period = period or quarter_of(default_as_of(self.catalog))
        self.report = spatial_coverage(period, catalog=self.catalog)
        self.layers: list[str] = [k for k in LAYERS if k in self.report.layers]
        self._coverage: dict[str, pl.DataFrame] = {"sensors": self.report.coverage}
        self._maps: dict[tuple[str, str, str], str] = {}  # (layer, measure, language) -> the map's HTML
        self.layer = widgets.Dropdown(style={"description_width": "initial"})
        self.measure = widgets.Dropdown(style={"description_width": "initial"})
        self.layer.add_class("lab-filter-layer")
        self.measure.add_class("lab-filter-measure")
        self._set_options(self.lang)
        self.heading = widgets.HTML()
        self.cards = widgets.HTML()
        self.map = widgets.HTML()
        self.details = widgets.HTML()
        self.observe(self.layer, self.measure)
        self.widget = widgets.VBox(
            [
                self.language,
                self.heading,
                widgets.HBox([self.layer, self.measure]),
                self.message,
                self.cards,
                self.map,
                self.details,
            ]
        )
        self.widget.add_class("lab-city-map")
        self.safely(self.render)()

    def _set_options(self, lang: str) -> None:
        layer = allowed(self.layer.value, self.layers, "sensors")
        measure = allowed(self.measure.value, MEASURES, "count")
        self.layer.description = t("apps_layer", lang)
        self.measure.description = t("apps_measure", lang)
        self.layer.options = [(t(LAYERS[k][1], lang), k) for k in self.layers]
        self.measure.options = [(t(f"apps_measure_{m}", lang), m) for m in MEASURES]
        self.layer.value, self.measure.value = layer, measure
        self._options_lang = lang

    def filters(self) -> dict[str, str]:
        """The checked ``layer`` and ``measure``."""
        return {
            "layer": allowed(self.layer.value, self.layers, "sensors"),
            "measure": allowed(self.measure.value, MEASURES, "count"),
        }

    def values(self, layer: str, measure: str) -> pl.DataFrame:
        """One row per unit: ``unit_code``, ``unit_name``, ``value`` (the measure of the layer)."""
        if measure == "coverage":
            if layer not in self._coverage:  # computed on first use, then kept
                from lab.geo.indicators import coverage

                self._coverage[layer] = coverage(
                    self.report.units,
                    self.report.layers[layer],
                    self.report.radius_m,
                    population=self.report.population,
                )
            cov = self._coverage[layer]
            return cov.select("unit_code", "unit_name", value=(pl.col("covered_share") * 100).round(1))
        ind = self.report.indicators.filter(pl.col("layer") == layer)
        return ind.select("unit_code", "unit_name", value=pl.col(measure).cast(pl.Float64))

    def map_html(self, layer: str, measure: str, lang: str, values: pl.DataFrame) -> str:
        """The map of ``values`` (a layer's measure) in ``lang``: drawn once, then kept (the last
        :data:`KEPT_MAPS`), since a visitor going back and forth between layers sees the same maps."""
        from lab.maps import Map, both

        key = (layer, measure, lang)
        if key not in self._maps:
            m = Map(self.report.units, lang=lang, height=480)
            m.choropleth(values, "value", title=both(f"apps_measure_{measure}"), decimals=DECIMALS[measure])
            m.points(
                self.report.layers[layer],
                name=both(LAYERS[layer][1]),
                color=LAYERS[layer][3],
                cluster=layer not in ("sensors", "hospitals"),
            )
            while len(self._maps) >= KEPT_MAPS:
                self._maps.pop(next(iter(self._maps)))  # the oldest drawn
            self._maps[key] = m._repr_html_()
        return self._maps[key]

    def render(self) -> None:
        """Redraw the map and the figures from the checked layer and measure, in the visitor's language."""
        lang = self.lang
        if self._options_lang != lang:
            self._set_options(lang)
        f = self.filters()
        layer, measure = f["layer"], f["measure"]
        values = self.values(layer, measure)
        note = t("synthetic_note", lang) if self.report.synthetic else None
        synthetic = f"<p class='synthetic'>{html.escape(note)}</p>" if note else ""
        self.heading.value = (
            f"<h2>{html.escape(t('apps_map_title', lang))}</h2>"
            f"<p>{html.escape(t('apps_map_intro', lang))}</p>{synthetic}"
        )
        counts = self.report.indicators.filter(pl.col("layer") == layer)
        total = int(counts["count"].sum())
        empty = int((counts["count"] == 0).sum())
        cards = [
            (t("apps_layer_total", lang), total, "total"),
            (t("apps_units_with_none", lang), empty, "empty"),
        ]
        warn = ""
        if measure == "per_10k" and values["value"].is_null().all():
            warn = f"<p class='lab-warning'>{html.escape(t('apps_no_population', lang))}</p>"
        self.cards.value = warn + "".join(
            card(label, value, False, lang, key, 0) for label, value, key in cards
        )
        self.map.value = self.map_html(layer, measure, lang, values)
        top = (
            values.filter(pl.col("value").is_not_null())
            .sort(["value", "unit_name"], descending=[True, False])
            .head(10)
            .select(
                "unit_name",
                pl.col("value").map_elements(
                    lambda v: format_number(round(v, DECIMALS[measure]), lang), pl.String
                ),
            )
        )
        self.details.value = f"<h3>{html.escape(t('apps_top_units', lang))}</h3>" + str(
            table(top, [t("apps_unit", lang), t(f"apps_measure_{measure}", lang)], lang=lang)
        )
