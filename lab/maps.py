"""Offline-safe folium maps: choropleths, clustered markers, coverage buffers, in Vietnamese and English.

folium loads Leaflet, jQuery, Bootstrap, Font Awesome and awesome-markers from CDNs, so without internet
its maps are blank. :class:`Map` is a ``folium.Map`` that loads nothing: its ``default_js`` and
``default_css`` are empty, and the vendored Leaflet 1.9.3 and Leaflet.markercluster 1.1.0
(``lab/share/leaflet``, the versions folium 0.20 pins) are **inlined** into the page; images inside the
CSS become data URIs. There is no tile layer unless one is configured (``tiles=`` or ``$LAB_TILES``,
with ``$LAB_TILES_ATTRIBUTION``), so the background is plain and nothing is fetched.

The same object shows in JupyterLab, in an HTML report (nbconvert keeps its output) and in a Voilà app:
its ``_repr_html_`` is an ``<iframe srcdoc>`` holding the whole page. :meth:`Map.to_html` gives the page,
:meth:`Map.save` writes it atomically.

Labels are in both languages in the page (``<span class="lab-vi">`` / ``<span class="lab-en">``); a
button switches them (``lang`` picks the first one shown). The boundary source is attributed, and
approximate (demo) geometry says so on the map.

Examples
--------
>>> import geopandas as gpd, shapely
>>> units = gpd.GeoDataFrame({"ma_xa": ["1"], "ten_xa": ["Phường A"]},
...                          geometry=[shapely.box(108.1, 16.0, 108.2, 16.1)], crs="EPSG:4326")
>>> m = Map(units, lang="en", attribution="test data").outline()
>>> page = m.to_html()
>>> "cdn." in page or "<script src=" in page
False
>>> "Phường A" in page
True
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import numpy as np
import polars as pl
from branca.element import Element, MacroElement
from folium.map import Layer
from jinja2 import Template

from lab.charts import format_number
from lab.crs import to_wgs84
from lab.i18n import t

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

__all__ = ["PALETTE", "Map", "leaflet_assets"]

ASSETS = Path(__file__).resolve().parent / "share" / "leaflet"
PALETTE = ("#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d")
"""Sequential blues, light to dark (ColorBrewer PuBu 5)."""
NO_DATA = "#d9d9d9"
SIMPLIFY_DEG = 0.0002
"""Display tolerance (about 20 m): the real 2025 polygons are 3.9 MB raw, a few hundred KB simplified."""

_CSS = """
.folium-map.leaflet-container { background: #eef3f7; font: 13px/1.4 system-ui, Arial, sans-serif; }
.lab-lang-en .lab-vi, .lab-lang-vi .lab-en { display: none !important; }
.lab-box { background: rgba(255,255,255,.92); padding: 6px 9px; border-radius: 4px;
           box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 320px; }
.lab-box h4 { margin: 0 0 4px; font-size: 13px; }
.lab-legend i { display: inline-block; width: 14px; height: 12px; margin-right: 6px; vertical-align: middle;
                border: 1px solid #999; }
.lab-note { font-size: 11px; color: #7a2a00; }
.lab-toggle { cursor: pointer; font-weight: 600; }
"""


# ------------------------------------------------------------------------------------------- assets
def _inline_css(path: Path) -> str:
    """A CSS file with its ``url(images/…)`` turned into data URIs."""
    text = path.read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        target = path.parent / match.group(1)
        if not target.is_file():
            return match.group(0)
        encoded = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\((images/[^)]+\.png)\)", data_uri, text)


def _inline_js(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"//# sourceMappingURL=\S+", "", text)  # no .map request from developer tools
    return text.replace("</script", "<\\/script")


@functools.lru_cache(maxsize=1)
def leaflet_assets() -> dict[str, str]:
    """The vendored Leaflet and markercluster, ready to inline: ``leaflet_css``, ``leaflet_js``,
    ``cluster_css``, ``cluster_js``."""
    cluster = ASSETS / "markercluster"
    return {
        "leaflet_css": _inline_css(ASSETS / "leaflet.css"),
        "leaflet_js": _inline_js(ASSETS / "leaflet.js"),
        "cluster_css": _inline_css(cluster / "MarkerCluster.css")
        + _inline_css(cluster / "MarkerCluster.Default.css"),
        "cluster_js": _inline_js(cluster / "leaflet.markercluster.js"),
    }


class _Raw(Element):
    """Raw HTML put in the page as is (no Jinja: Leaflet's source must not be read as a template)."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._markup = markup

    def render(self, **kwargs: Any) -> str:
        return self._markup


def _script_json(value: Any) -> str:
    """JSON safe to put inside a ``<script>``."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def both(key: str, **fmt: Any) -> str:
    """A label in both languages as two spans (the page shows one of them)."""
    vi, en = (html.escape(t(key, lang).format(**fmt)) for lang in ("vi", "en"))
    return f'<span class="lab-vi">{vi}</span><span class="lab-en">{en}</span>'


def _both_text(vi: str, en: str) -> str:
    return f'<span class="lab-vi">{html.escape(vi)}</span><span class="lab-en">{html.escape(en)}</span>'


# -------------------------------------------------------------------------------------------- layers
class _GeoJsonLayer(Layer):
    """A GeoJSON layer whose features carry their own style (``_style``) and tooltip (``_tip``, HTML)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON({{ this.data }}, {
            style: function (f) { return f.properties._style; },
            pointToLayer: function (f, ll) { return L.circleMarker(ll, f.properties._style); },
            onEachFeature: function (f, layer) {
                if (f.properties._tip) { layer.bindTooltip(f.properties._tip, {sticky: true}); }
            }
        });
        {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% endmacro %}
        """
    )

    def __init__(self, features: list[dict[str, Any]], name: str, *, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "LabGeoJson"
        self.data = _script_json({"type": "FeatureCollection", "features": features})


class _PointsLayer(Layer):
    """Many points as circle markers from one compact array, clustered or not."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var rows = {{ this.data }};
            var group = {{ 'L.markerClusterGroup({chunkedLoading: true, maxClusterRadius: 45})'
                           if this.cluster else 'L.layerGroup()' }};
            for (var i = 0; i < rows.length; i++) {
                var r = rows[i];
                var m = L.circleMarker([r[1], r[0]], {radius: 5, weight: 1, color: "#333",
                                                      fillColor: {{ this.color }}, fillOpacity: 0.85});
                if (r[2]) { m.bindTooltip(r[2]); }
                group.addLayer(m);
            }
            return group;
        })();
        {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self, rows: list[list[Any]], name: str, *, color: str, cluster: bool, show: bool = True
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "LabPoints"
        self.data = _script_json(rows)
        self.color = json.dumps(color)
        self.cluster = cluster


class _Control(MacroElement):
    """A box (legend, note, language switch) in a corner of the map; ``script`` runs after creation."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var box = L.control({position: {{ this.position }}});
            box.onAdd = function () {
                var div = L.DomUtil.create("div", {{ this.css_class }});
                div.innerHTML = {{ this.markup }};
                L.DomEvent.disableClickPropagation(div);
                {{ this.script_js }}
                return div;
            };
            box.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, markup: str, *, position: str = "bottomleft", css_class: str = "lab-box", script: str = ""
    ) -> None:
        super().__init__()
        self._name = "LabControl"
        self.markup = _script_json(markup)
        self.position = json.dumps(position)
        self.css_class = json.dumps(css_class)
        self.script_js = script


class _MapSetup(MacroElement):
    """Language class on the map container, attribution, fitting the bounds."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var box = map.getContainer();
            box.classList.add("lab-lang-" + {{ this.lang }});
            {% for a in this.attributions %}map.attributionControl.addAttribution({{ a }});{% endfor %}
            {% if this.bounds %}map.fitBounds({{ this.bounds }}, {padding: [8, 8]});{% endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, lang: str, attributions: Sequence[str], bounds: list[list[float]] | None) -> None:
        super().__init__()
        self._name = "LabMapSetup"
        self.lang = json.dumps(lang)
        self.attributions = [_script_json(a) for a in attributions]
        self.bounds = json.dumps(bounds) if bounds else None


# ---------------------------------------------------------------------------------------------- map
def _main_bounds(units: gpd.GeoDataFrame) -> list[list[float]] | None:
    """Bounds of the units, leaving out far-off ones (Hoàng Sa is 400 km offshore): [[s, w], [n, e]]."""
    if units is None or not len(units):
        return None
    b = units.geometry.bounds.to_numpy(dtype="float64")
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    mx, my = np.nanmedian(cx), np.nanmedian(cy)
    near = (np.abs(cx - mx) < 2.0) & (np.abs(cy - my) < 2.0)
    b = b[near] if near.any() else b
    return [
        [float(np.nanmin(b[:, 1])), float(np.nanmin(b[:, 0]))],
        [float(np.nanmax(b[:, 3])), float(np.nanmax(b[:, 2]))],
    ]


def _display_geoms(units: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Simplified, rounded GeoJSON geometries in EPSG:4326 for display."""
    import shapely

    geoms = np.asarray(to_wgs84(units.geometry).values, dtype=object)
    simple = shapely.simplify(geoms, SIMPLIFY_DEG, preserve_topology=True)
    simple = shapely.set_precision(simple, 1e-5)
    return [json.loads(shapely.to_geojson(g)) if g is not None else None for g in simple]


def _unit_columns(units: gpd.GeoDataFrame) -> tuple[str, str]:
    from lab.geo.units import unit_columns

    code, name, _ = unit_columns(units)
    return code, name


class Map(folium.Map):
    """An offline-safe folium map of Đà Nẵng's units (see the module docstring).

    Parameters
    ----------
    units
        Unit polygons drawn as an outline layer and used to fit the view (optional).
    lang
        ``"vi"`` (default) or ``"en"``: the language shown first.
    attribution
        The boundary source, shown in the attribution corner (default: the units' ``attrs["publisher"]``).
    approximate
        Say on the map that the boundaries are approximate (default: ``units.attrs["approximate"]``).
    synthetic
        Say on the map that the data are demo data (default: ``units.attrs["synthetic"]``).
    tiles, tiles_attribution
        A tile URL template and its attribution (default ``$LAB_TILES``, ``$LAB_TILES_ATTRIBUTION``; none).
    height
        Height of the map in a notebook or report, in pixels.
    """

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 - folium's own class attributes
    default_css: list[tuple[str, str]] = []  # noqa: RUF012

    def __init__(
        self,
        units: gpd.GeoDataFrame | None = None,
        *,
        lang: str = "vi",
        attribution: str | None = None,
        approximate: bool | None = None,
        synthetic: bool | None = None,
        tiles: str | None = None,
        tiles_attribution: str | None = None,
        height: int = 520,
        **kwargs: Any,
    ) -> None:
        if lang not in ("vi", "en"):
            raise ValueError(f"language {lang!r} is not vi or en")
        tiles = tiles or os.environ.get("LAB_TILES") or None
        tiles_attr = tiles_attribution or os.environ.get("LAB_TILES_ATTRIBUTION")
        if tiles and not tiles_attr:
            raise ValueError(
                "a tile layer needs its attribution (tiles_attribution= or $LAB_TILES_ATTRIBUTION)"
            )
        kwargs.setdefault("maxZoom", 18)  # markercluster needs a maxZoom, which tiles would otherwise give
        kwargs.setdefault("minZoom", 4)
        super().__init__(location=[16.05, 108.2], zoom_start=9, tiles=None, control_scale=True, **kwargs)
        self.default_js = []
        self.default_css = []
        self.lang = lang
        self.height_px = int(height)
        self._uses_cluster = False
        self._legend_added = False
        attrs = getattr(units, "attrs", {}) if units is not None else {}
        self.approximate = bool(attrs.get("approximate")) if approximate is None else approximate
        self.synthetic = bool(attrs.get("synthetic")) if synthetic is None else synthetic
        source = attribution or attrs.get("publisher")
        attributions = []
        if source:
            attributions.append(f"{both('geo_boundaries')}: {html.escape(str(source))}")
        if tiles:
            folium.TileLayer(tiles=tiles, attr=tiles_attr, name="tiles", control=False).add_to(self)
        self.add_child(_MapSetup(lang, attributions, _main_bounds(units) if units is not None else None))
        self.add_child(
            _Control(
                self._switch_markup(), position="topright", css_class="lab-box lab-toggle", script=_SWITCH_JS
            )
        )
        notes = []
        if self.approximate:
            notes.append(both("geo_approximate_note"))
        if self.synthetic:
            notes.append(both("synthetic_note"))
        if notes:
            self.add_child(
                _Control("<div class='lab-note'>" + "<br>".join(notes) + "</div>", position="bottomleft")
            )
        self.units = units

    # ---------------------------------------------------------------------------------- building
    @staticmethod
    def _switch_markup() -> str:
        return (
            "<span class='lab-vi' data-lab-switch='en'>English</span>"
            "<span class='lab-en' data-lab-switch='vi'>Tiếng Việt</span>"
        )

    def outline(
        self, units: gpd.GeoDataFrame | None = None, *, name: str | None = None, show: bool = True
    ) -> Map:
        """Draw the units as outlines with their names as tooltips."""
        units = units if units is not None else self.units
        _, uname = _unit_columns(units)
        geoms = _display_geoms(units)
        names = units[uname].astype(str).tolist()
        features = [
            {
                "type": "Feature",
                "geometry": g,
                "properties": {
                    "_style": {"color": "#555", "weight": 1, "fillColor": "#ffffff", "fillOpacity": 0.35},
                    "_tip": html.escape(n),
                },
            }
            for g, n in zip(geoms, names, strict=True)
            if g is not None
        ]
        _GeoJsonLayer(features, name or both("geo_units"), show=show).add_to(self)
        return self

    def choropleth(
        self,
        values: pl.DataFrame,
        column: str,
        *,
        title: str,
        units: gpd.GeoDataFrame | None = None,
        code: str = "unit_code",
        bins: int = 5,
        decimals: int = 1,
        show: bool = True,
    ) -> Map:
        """Colour each unit by ``values[column]`` (joined on ``code``), with a legend.

        Parameters
        ----------
        values
            One row per unit: ``code`` and ``column``.
        column
            The value to map (null: grey, "no data").
        title
            Legend and layer title as two spans (use :func:`both`) or plain text.
        bins
            Number of classes of the non-zero values (their quantiles); zero, when some unit has it, is a
            class of its own ("0", the lightest), never folded into the first class of the others.
        decimals
            Digits shown in the legend and tooltips.
        """
        units = units if units is not None else self.units
        ucode, uname = _unit_columns(units)
        table = pl.DataFrame(
            {"_code": units[ucode].astype(str).tolist(), "_name": units[uname].astype(str).tolist()}
        )
        joined = table.join(
            values.select(
                pl.col(code).cast(pl.String).alias("_code"), pl.col(column).cast(pl.Float64).alias("_v")
            ),
            on="_code",
            how="left",
        )
        v = joined["_v"].to_numpy()
        finite = v[np.isfinite(v)]
        positive = finite[finite > 0]
        zero = bool((finite == 0).any()) and positive.size > 0  # units with none: a class of their own
        edges = (
            np.unique(np.quantile(positive, np.linspace(0, 1, max(1, bins - zero) + 1)))
            if positive.size
            else np.array([0.0, 1.0])
        )
        if edges.size < 2:  # one value: one class of it ("2"), or "0 – 1" when nothing is above zero
            edges = np.array([float(edges[0])] * 2) if positive.size else np.array([0.0, 1.0])
        classes = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 2)
        classes = np.where(v == 0, 0, classes + 1) if zero else classes
        palette = _palette(len(edges) - 1 + zero)
        geoms = _display_geoms(units)
        features = []
        for i, g in enumerate(geoms):
            if g is None:
                continue
            value = v[i]
            color = NO_DATA if not np.isfinite(value) else palette[int(classes[i])]
            shown = "—" if not np.isfinite(value) else None
            tip_vi = shown or format_number(round(float(value), decimals), "vi")
            tip_en = shown or format_number(round(float(value), decimals), "en")
            name = html.escape(joined["_name"][i])
            features.append(
                {
                    "type": "Feature",
                    "geometry": g,
                    "properties": {
                        "_style": {"color": "#444", "weight": 0.7, "fillColor": color, "fillOpacity": 0.8},
                        "_tip": f"<b>{name}</b><br>{title}: {_both_text(tip_vi, tip_en)}",
                    },
                }
            )
        _GeoJsonLayer(features, title, show=show).add_to(self)
        rows = []
        if zero:
            rows.append(f"<div><i style='background:{palette[0]}'></i>{_both_text('0', '0')}</div>")
        for k in range(len(edges) - 1):
            lo, hi = float(edges[k]), float(edges[k + 1])
            text = {
                lang: " – ".join(dict.fromkeys(format_number(round(v, decimals), lang) for v in (lo, hi)))
                for lang in ("vi", "en")
            }
            swatch = f"<i style='background:{palette[k + zero]}'></i>"
            rows.append(f"<div>{swatch}{_both_text(text['vi'], text['en'])}</div>")
        if not np.isfinite(v).all():
            rows.append(f"<div><i style='background:{NO_DATA}'></i>{both('geo_no_data')}</div>")
        self.add_child(
            _Control(f"<div class='lab-legend'><h4>{title}</h4>{''.join(rows)}</div>", position="bottomright")
        )
        return self

    def points(
        self,
        points: gpd.GeoDataFrame,
        *,
        name: str,
        label: str | None = None,
        color: str = "#e07a1f",
        cluster: bool = True,
        show: bool = True,
    ) -> Map:
        """Add points as circle markers (clustered by default), with ``label`` as tooltip."""
        series = points.geometry
        keep = (series.notna() & ~series.is_empty).to_numpy()
        sub = points[keep]
        sub = to_wgs84(sub)  # the pinned VN-2000 shift, as for the polygons
        xs, ys = sub.geometry.x.to_numpy(), sub.geometry.y.to_numpy()
        labels = sub[label].astype(str).map(html.escape).tolist() if label else [None] * len(sub)
        rows = [
            [round(float(x), 6), round(float(y), 6), lab] for x, y, lab in zip(xs, ys, labels, strict=True)
        ]
        if cluster:
            self._uses_cluster = True
        _PointsLayer(rows, name, color=color, cluster=cluster, show=show).add_to(self)
        return self

    def coverage(self, area: Any, *, name: str, color: str = "#3a9d5d", show: bool = True) -> Map:
        """Add a coverage area (a shapely geometry in EPSG:4326, e.g. :func:`lab.geo.coverage_area`)."""
        import shapely

        if area is None or shapely.is_empty(area):
            return self
        geom = shapely.set_precision(shapely.simplify(area, SIMPLIFY_DEG), 1e-5)
        feature = {
            "type": "Feature",
            "geometry": json.loads(shapely.to_geojson(geom)),
            "properties": {
                "_style": {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.25},
                "_tip": name,
            },
        }
        _GeoJsonLayer([feature], name, show=show).add_to(self)
        return self

    # ---------------------------------------------------------------------------------- rendering
    def _ensure_finished(self) -> None:
        from folium import LayerControl

        if not any(isinstance(c, LayerControl) for c in self._children.values()):
            LayerControl(collapsed=False).add_to(self)
        root = self.get_root()
        assets = leaflet_assets()
        head = [
            f"<style>{assets['leaflet_css']}</style>",
            f"<style>{_CSS}</style>",
            f"<script>{assets['leaflet_js']}</script>",
        ]
        if self._uses_cluster:
            head += [f"<style>{assets['cluster_css']}</style>", f"<script>{assets['cluster_js']}</script>"]
        root.header.add_child(_Raw("\n".join(head)), name="lab_offline_assets", index=1)

    def to_html(self) -> str:
        """The whole map as one self-contained HTML page (no request leaves the page)."""
        if self._parent is None:
            from branca.element import Figure

            Figure().add_child(self)
        self._ensure_finished()
        page = self.get_root().render()
        external = re.findall(r"<(?:script|link)[^>]+(?:src|href)=\"(https?:[^\"]+)\"", page)
        if external:  # a plugin added a CDN link: drop it rather than leak a request
            log.warning("maps: dropping %d external asset link(s): %s", len(external), ", ".join(external))
            page = re.sub(r"<script[^>]+src=\"https?:[^\"]+\"[^>]*></script>", "", page)
            page = re.sub(r"<link[^>]+href=\"https?:[^\"]+\"[^>]*/?>", "", page)
        return page

    def save(self, outfile: str | Path, close_file: bool = True, **kwargs: Any) -> None:  # type: ignore[override]
        """Write :meth:`to_html` to ``outfile`` atomically."""
        from lab.atomic import atomic_write_text

        atomic_write_text(outfile, self.to_html())

    def _repr_html_(self, **kwargs: Any) -> str:
        page = html.escape(self.to_html(), quote=True)
        title = html.escape(t("geo_map", self.lang))
        return (
            f'<iframe class="lab-map" title="{title}" srcdoc="{page}" '
            f'style="width:100%;height:{self.height_px}px;border:1px solid #ccc;border-radius:4px"></iframe>'
        )


_SWITCH_JS = """
div.addEventListener("click", function (ev) {
    var to = ev.target.getAttribute("data-lab-switch");
    if (!to) { return; }
    var box = map.getContainer();
    box.classList.remove("lab-lang-vi", "lab-lang-en");
    box.classList.add("lab-lang-" + to);
});
"""


def _palette(n: int) -> list[str]:
    if n <= len(PALETTE):
        idx = np.round(np.linspace(0, len(PALETTE) - 1, n)).astype(int) if n > 1 else [len(PALETTE) - 1]
        return [PALETTE[i] for i in idx]
    return list(PALETTE) + [PALETTE[-1]] * (n - len(PALETTE))
