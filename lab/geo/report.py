"""The spatial coverage report: sensors, cameras and facilities per unit, coverage gaps, a map.

Everything the notebook ``notebooks/reports/spatial-coverage.ipynb`` shows is computed here; the notebook
only calls :func:`spatial_coverage` and the display methods of :class:`SpatialCoverage`.

It runs on the demo portal alone (the approximate units ``demo-wards-approx`` and the demo point layers).
When the real 2025 boundaries are reachable (cache or ``$LAB_MIRROR``) it uses them, and when the real
2019 census is reachable it adds rates per 10,000 residents.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from lab.charts import Html, Svg, bar_chart_from, format_number, number_expr, table
from lab.errors import LabError
from lab.geo.assign import Assignment, assign
from lab.geo.indicators import coverage, coverage_area, indicators, uncovered, wide
from lab.i18n import t

if TYPE_CHECKING:
    import geopandas as gpd

    from lab.catalog import Catalog
    from lab.maps import Map

log = logging.getLogger(__name__)

__all__ = ["LAYERS", "SpatialCoverage", "spatial_coverage"]

#: Report layers: key → (catalog id, label key, "valid at" rule, colour).
LAYERS: dict[str, tuple[str, str, str, str]] = {
    "sensors": ("env-sensors", "geo_sensors", "installed", "#1f6f8b"),
    "cameras": ("traffic-cameras", "geo_cameras", "installed", "#e07a1f"),
    "schools": ("facilities-schools", "geo_schools", "always", "#3a9d5d"),
    "hospitals": ("facilities-hospitals", "geo_hospitals", "always", "#b8405e"),
    "food_safety": ("facilities-food-safety", "geo_food_safety", "certificate", "#7a5aa6"),
}
FACILITY_LAYERS = ("schools", "hospitals", "food_safety")


def _fmt(expr: pl.Expr, decimals: int, lang: str) -> pl.Expr:
    """Numbers as text the way ``lang`` writes them (:func:`lab.charts.number_expr`), null "—"."""
    return number_expr(expr, lang, decimals).fill_null("—")


def _valid_at(gdf: gpd.GeoDataFrame, rule: str, end: date) -> gpd.GeoDataFrame:
    import pandas as pd

    stamp = pd.Timestamp(end)
    if rule == "installed" and "installed" in gdf.columns:
        return gdf[pd.to_datetime(gdf["installed"]) <= stamp]
    if rule == "certificate" and "certificate_issued" in gdf.columns:
        issued = pd.to_datetime(gdf["certificate_issued"])
        expires = pd.to_datetime(gdf["certificate_expires"])
        return gdf[(issued <= stamp) & (expires > stamp)]
    return gdf


def _radius_text(radius_m: float, lang: str) -> str:
    return (
        f"{format_number(radius_m / 1000, lang)} km"
        if radius_m >= 1000
        else f"{format_number(radius_m, lang)} m"
    )


@dataclass
class SpatialCoverage:
    """The report's figures for one period (see :func:`spatial_coverage`)."""

    period: str
    end: date
    units: gpd.GeoDataFrame
    real_units: bool
    layers: dict[str, gpd.GeoDataFrame]
    assignments: dict[str, Assignment]
    indicators: pl.DataFrame
    coverage: pl.DataFrame
    population: pl.DataFrame | None
    radius_m: float
    min_count: int
    synthetic: bool
    population_derived: bool = False
    """True when ``population`` is the demo units' derived figure (no census here), not the census."""

    # ------------------------------------------------------------------------------------- words
    def heading(self, lang: str) -> Html:
        """Title, period and the notes a reader needs (demo data, approximate boundaries, population)."""
        notes = []  # "demo data" is said once, in the page header (lab.reports.demo_banner)
        key = "geo_real_boundaries" if self.real_units else "geo_approximate_note"
        notes.append(f"<p>{html.escape(t(key, lang))}</p>")
        if self.population is None:
            notes.append(f"<p>{html.escape(t('geo_population_unavailable', lang))}</p>")
        elif self.population_derived:
            notes.append(f"<p>{html.escape(t('geo_population_derived_note', lang))}</p>")
        as_of = t("geo_as_of", lang).format(date=self.end.isoformat())
        return Html(
            f"<h1>{html.escape(t('geo_spatial_coverage', lang))} · {html.escape(self.period)}</h1>"
            f"<p>{html.escape(as_of)}</p>{''.join(notes)}"
        )

    def summary_table(self, lang: str) -> Html:
        """Per layer: points, points in a unit, points in none, units without any."""
        rows = []
        for key, result in self.assignments.items():
            zero = int((result.by_unit["points"] == 0).sum())
            rows.append((t(LAYERS[key][1], lang), result.points, result.assigned, result.unassigned, zero))
        frame = pl.DataFrame(rows, schema=["layer", "points", "assigned", "unassigned", "zero"], orient="row")
        headers = {
            "vi": [
                "Lớp dữ liệu",
                "Số điểm",
                "Trong một phường, xã",
                "Không thuộc phường, xã nào",
                "Phường, xã không có",
            ],
            "en": ["Layer", "Points", "In a ward/commune", "In no ward/commune", "Wards/communes with none"],
        }[lang]
        return table(frame, headers, lang=lang)

    def unit_table(self, lang: str) -> Html:
        """Per unit: area, population, counts of every layer, sensors per 100 km² and per 10,000 residents."""
        counts = wide(self.indicators, "count")
        base = self.indicators.filter(pl.col("layer") == "sensors").select(
            "unit_code", "area_km2", "population", "per_100km2", "per_10k"
        )
        frame = (
            base.join(counts, on="unit_code", how="left")
            .sort("unit_name")
            .select(
                "unit_name",
                _fmt(pl.col("area_km2"), 1, lang).alias("area"),
                _fmt(pl.col("population"), 0, lang).alias("population"),
                *[pl.col(k).cast(pl.String) for k in self.layers],
                _fmt(pl.col("per_100km2"), 1, lang).alias("per100"),
                _fmt(pl.col("per_10k"), 2, lang).alias("per10k"),
            )
        )
        headers = [
            t("geo_unit", lang),
            t("geo_area_km2", lang),
            t("geo_population_derived" if self.population_derived else "geo_population", lang),
            *[t(LAYERS[k][1], lang) for k in self.layers],
            t("geo_sensors_per_km2", lang),
            f"{t('geo_sensors', lang)} {t('geo_per_10k', lang)}",
        ]
        return table(frame, headers, lang=lang)

    def coverage_summary(self, lang: str) -> Html:
        """City-wide share of area (and population) within the radius of a sensor."""
        cov = self.coverage
        area = cov["covered_km2"].sum() / cov["area_km2"].sum() * 100
        parts = [f"{t('geo_coverage_share', lang)}: <b>{format_number(round(area, 1), lang)}</b>"]
        if self.population is not None and cov["population"].sum():
            share = cov["population_covered"].sum() / cov["population"].sum() * 100
            parts.append(
                f"{t('geo_population_covered', lang)}: <b>{format_number(round(share, 1), lang)}</b>"
            )
        radius = _radius_text(self.radius_m, lang)
        title = t("geo_coverage_layer", lang).format(radius=radius)
        return Html(f"<h2>{html.escape(title)}</h2><p>{' · '.join(parts)}</p>")

    def uncovered_table(self, lang: str) -> Html:
        """Units with no sensor within the radius, farthest first."""
        gaps = uncovered(self.coverage)
        title = t("geo_uncovered", lang).format(radius=_radius_text(self.radius_m, lang))
        if not gaps.height:
            return Html(f"<h3>{html.escape(title)}</h3><p>{html.escape(t('geo_none', lang))}</p>")
        frame = gaps.select(
            "unit_name",
            _fmt(pl.col("distance_m") / 1000, 1, lang).alias("km"),
            _fmt(pl.col("area_km2"), 1, lang).alias("area"),
            _fmt(pl.col("population"), 0, lang).alias("population"),
        )
        headers = [
            t("geo_unit", lang),
            t("geo_distance_km", lang),
            t("geo_area_km2", lang),
            t("geo_population_derived" if self.population_derived else "geo_population", lang),
        ]
        return Html(f"<h3>{html.escape(title)} ({gaps.height})</h3>{table(frame, headers, lang=lang)}")

    def underserved_table(self, lang: str) -> Html:
        """Units with fewer than ``min_count`` schools, health facilities or certified food businesses."""
        title = t("geo_underserved", lang).format(n=self.min_count)
        low = (
            self.indicators.filter(
                pl.col("layer").is_in(FACILITY_LAYERS) & (pl.col("count") < self.min_count)
            )
            .group_by("unit_code", "unit_name", maintain_order=True)
            .agg(pl.col("layer"), pl.col("count"))
            .sort("unit_name")
        )
        if not low.height:
            return Html(f"<h3>{html.escape(title)}</h3><p>{html.escape(t('geo_none', lang))}</p>")
        names = {k: t(LAYERS[k][1], lang) for k in FACILITY_LAYERS}
        frame = low.select(
            "unit_name",
            layers=pl.col("layer")
            .list.eval(pl.element().replace_strict(names, default=pl.element()))
            .list.join(", "),
        )
        headers = [t("geo_unit", lang), t("geo_layer", lang)]
        return Html(f"<h3>{html.escape(title)} ({low.height})</h3>{table(frame, headers, lang=lang)}")

    def outside_table(self, lang: str) -> Html:
        """Points that fall in no unit, per layer and reason (reported, never dropped)."""
        rows = []
        for key, result in self.assignments.items():
            for reason, n in result.reasons().items():
                rows.append((t(LAYERS[key][1], lang), t(f"geo_reason_{reason}", lang), n))
        title = t("geo_points_in_no_unit", lang)
        if not rows:
            return Html(f"<h3>{html.escape(title)}</h3><p>{html.escape(t('geo_none', lang))}</p>")
        frame = pl.DataFrame(rows, schema=["layer", "reason", "n"], orient="row")
        headers = [t("geo_layer", lang), t("geo_reason", lang), t("geo_count", lang)]
        return Html(f"<h3>{html.escape(title)}</h3>{table(frame, headers, lang=lang)}")

    def chart(self, lang: str, top: int = 20) -> Svg:
        """The ``top`` best covered units: share of the area within the radius of a sensor (%)."""
        data = (
            self.coverage.with_columns(share=(pl.col("covered_share") * 100).round(1))
            .filter(pl.col("share") > 0)
            .sort(["share", "unit_name"], descending=[True, False])
            .head(top)
        )
        radius = _radius_text(self.radius_m, lang)
        title = f"{t('geo_coverage_share', lang)} — {t('geo_coverage_layer', lang).format(radius=radius)}"
        return bar_chart_from(data, "unit_name", "share", title=title, lang=lang)

    def map(self, lang: str) -> Map:
        """Sensors per 100 km² by unit, the coverage area, sensors and (clustered) cameras."""
        from lab.maps import Map, both

        radius = {k: _radius_text(self.radius_m, k) for k in ("vi", "en")}
        m = Map(self.units, lang=lang)
        density = self.indicators.filter(pl.col("layer") == "sensors")
        m.choropleth(density, "per_100km2", title=both("geo_sensors_per_km2"), decimals=2)
        vi, en = (html.escape(t("geo_coverage_layer", k).format(radius=radius[k])) for k in ("vi", "en"))
        coverage_name = f"<span class='lab-vi'>{vi}</span><span class='lab-en'>{en}</span>"
        m.coverage(coverage_area(self.layers["sensors"], self.radius_m), name=coverage_name)
        if "cameras" in self.layers:
            m.points(
                self.layers["cameras"],
                name=both("geo_cameras"),
                label="camera_id",
                color=LAYERS["cameras"][3],
            )
        m.points(
            self.layers["sensors"],
            name=both("geo_sensors"),
            label="name",
            color=LAYERS["sensors"][3],
            cluster=False,
        )
        return m


def _units(catalog: Catalog, mirror: str | Path | None, prefer_real: bool) -> tuple[gpd.GeoDataFrame, bool]:
    from lab.geo.units import UNITS_2025, UNITS_2025_APPROX, load_units

    if prefer_real:
        try:
            return load_units(UNITS_2025, catalog=catalog, mirror=mirror), True
        except LabError as exc:
            log.info("real 2025 boundaries not reachable (%s): using the approximate demo units", exc)
    return load_units(UNITS_2025_APPROX, catalog=catalog, mirror=mirror), False


def spatial_coverage(
    period: str,
    *,
    catalog: Catalog | str | Path | None = None,
    radius_m: float = 2_000.0,
    min_count: int = 1,
    mirror: str | Path | None = None,
    prefer_real: bool = True,
    layers: tuple[str, ...] = tuple(LAYERS),
) -> SpatialCoverage:
    """Compute the spatial coverage report for ``period`` (``YYYY-Qn``, ``YYYY-MM`` or ``YYYY``).

    Parameters
    ----------
    period
        The points count as of the period's last day (sensors and cameras installed by then,
        food-safety certificates valid on that day).
    catalog, mirror
        As for :func:`lab.load`.
    radius_m
        Coverage radius around each sensor, in metres.
    min_count
        Units with fewer facilities than this (per facility layer) are listed as underserved.
    prefer_real
        Use the real 2025 boundaries when reachable (else the demo's approximate ones).
    layers
        Which point layers (keys of :data:`LAYERS`; ``sensors`` is required).
    """
    from lab.catalog import as_catalog
    from lab.loader import load
    from lab.periods import Period

    if "sensors" not in layers:
        raise LabError("the spatial coverage report needs the sensors layer")
    if radius_m <= 0 or min_count < 0:
        raise LabError(f"radius_m must be positive and min_count not negative (got {radius_m}, {min_count})")
    per = Period.parse(period)
    cat = as_catalog(catalog)
    units, real = _units(cat, mirror, prefer_real)
    points: dict[str, gpd.GeoDataFrame] = {}
    synthetic = bool(units.attrs.get("synthetic"))
    for key in layers:
        dataset_id, _, rule, _ = LAYERS[key]
        gdf = load(dataset_id, catalog=cat, mirror=mirror)
        points[key] = _valid_at(gdf, rule, per.end)
        synthetic = synthetic or cat.get(dataset_id).synthetic
    population = None
    try:
        from lab.geo.crosswalk import population_2025

        population = population_2025(catalog=cat, mirror=mirror).table
    except LabError as exc:
        log.info("no population figures (%s)", exc)
    derived = population is None and "population" in units.columns and bool(units["population"].notna().any())
    if derived:  # the demo's units carry a population derived from published totals (labelled)
        population = pl.DataFrame(
            {
                "ma_xa": units["ma_xa"].astype(str).tolist(),
                "total": units["population"].astype(float).tolist(),
            }
        )
    results = {key: assign(gdf, units) for key, gdf in points.items()}
    ind = indicators(units, results, population=population)
    cov = coverage(units, points["sensors"], radius_m, population=population)
    return SpatialCoverage(
        period=per.label,
        end=per.end,
        units=units,
        real_units=real,
        layers=points,
        assignments=results,
        indicators=ind,
        coverage=cov,
        population=population,
        radius_m=float(radius_m),
        min_count=int(min_count),
        synthetic=synthetic,
        population_derived=derived,
    )
