"""The report pages: one pattern for the five scheduled reports.

A page is built once from a period, a language, the catalog and the report's parameters
(:meth:`ReportPage.open`: the period parsed, the language checked, the catalog coerced once,
:func:`lab.catalog.as_catalog`), computes what its sections share, and offers one method per section
returning an HTML fragment (:class:`lab.charts.Html`, :class:`lab.charts.Svg`, a map, or Markdown for
titles). A report notebook is then a parameters cell, ``page = XPage.open(...)`` and one call per cell:

>>> page = QualityPage.open("2026-10", "en", "datasets.yaml")   # doctest: +SKIP
>>> page.heading()                                              # doctest: +SKIP
>>> page.scorecard()                                            # doctest: +SKIP

The computations stay in their packages (:mod:`lab.listing`, :mod:`lab.quality.report`,
:mod:`lab.usage.report`, :mod:`lab.reuse.report`, :mod:`lab.geo.report`); a page only composes them for
one period and language, so the apps and the command line reuse the same computations without a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

from lab.catalog import Catalog, as_catalog
from lab.errors import ReportError
from lab.i18n import LANGUAGES, t
from lab.periods import Period

__all__ = [
    "CatalogOverviewPage",
    "QualityPage",
    "ReportPage",
    "ReusePage",
    "SpatialPage",
    "UsagePage",
]


def _markdown(text: str) -> Any:
    from IPython.display import Markdown

    return Markdown(text)


class ReportPage:
    """A report page (see the module docstring). Subclasses set :attr:`title_key` and implement
    :meth:`prepare` and their sections."""

    title_key: ClassVar[str]
    """The label of the report's title (``lab/vocab/labels``)."""

    def __init__(self, period: Period, lang: str, catalog: Catalog) -> None:
        self.period = period
        self.lang = lang
        self.catalog = catalog

    @classmethod
    def open(
        cls,
        period: str | Period,
        lang: str = "vi",
        catalog: Catalog | str | Path | None = None,
        **params: Any,
    ) -> Self:
        """The page of ``period`` in ``lang`` over ``catalog``, its shared figures computed.

        Parameters
        ----------
        period
            ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY`` (or a :class:`~lab.periods.Period`).
        lang
            ``vi`` or ``en``.
        catalog
            The catalog or its file (default the project's).
        **params
            The report's own parameters (see each page).
        """
        if lang not in LANGUAGES:
            raise ReportError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
        per = period if isinstance(period, Period) else Period.parse(period)
        page = cls(per, lang, as_catalog(catalog))
        page.prepare(**params)
        return page

    def prepare(self, *args: Any, **params: Any) -> None:
        """Compute what the sections share (once), from the report's parameters."""
        raise NotImplementedError

    def heading(self) -> Any:
        """The report's title line with its period (Markdown)."""
        return _markdown(f"# {t(self.title_key, self.lang)} · {self.period.label}")

    def title(self, key: str, level: int = 2) -> Any:
        """A section title (Markdown) from a label key."""
        return _markdown(f"{'#' * level} {t(key, self.lang)}")


# ------------------------------------------------------------------------------------ catalog overview
class CatalogOverviewPage(ReportPage):
    """The catalog overview: the portal's datasets by agency, theme and year, metadata completeness, the
    lab's real sources. Parameter: ``top`` (agencies shown by name; the rest summed)."""

    title_key = "catalog_overview"
    FIELDS: ClassVar[Sequence[str]] = (
        "description",
        "keywords",
        "license",
        "frequency",
        "modified",
        "contact_email",
        "temporal_start",
        "spatial_coverage",
    )

    def prepare(self, *, top: int = 12) -> None:
        from lab import listing
        from lab.loader import load

        self.top = top
        self.portal = load("portal-datasets", catalog=self.catalog)
        self.published = listing.published_by(self.portal, self.period.end)

    def counts(self) -> Any:
        """How many datasets, open and published by the period's end (Markdown)."""
        from lab import listing

        return _markdown(listing.dataset_counts_text(self.portal, self.period.end, self.lang))

    def by_agency(self) -> Any:
        """Datasets per agency (bar chart)."""
        from lab import charts, listing

        frame = listing.count_by(self.published, "publisher", top=self.top, lang=self.lang)
        title = t("datasets_by_agency", self.lang)
        return charts.bar_chart_from(frame, "publisher", "datasets", title=title, lang=self.lang)

    def by_theme(self) -> Any:
        """Datasets per theme (bar chart)."""
        from lab import charts, listing
        from lab.i18n import label_values

        counted = listing.count_by(self.published, "theme", lang=self.lang)
        frame = label_values(counted, "theme", self.lang, kind="theme")
        title = t("datasets_by_theme", self.lang)
        return charts.bar_chart_from(frame, "theme", "datasets", title=title, lang=self.lang)

    def growth(self) -> Any:
        """Datasets published, cumulated per year (bar chart)."""
        from lab import charts, listing

        frame = listing.per_year(self.published)
        title = t("datasets_cumulative", self.lang)
        return charts.bar_chart_from(frame, "year", "total", title=title, lang=self.lang)

    def completeness(self) -> Any:
        """The share of datasets filling each metadata field (bar chart)."""
        from lab import charts, listing
        from lab.i18n import label_values

        frame = label_values(
            listing.completeness(self.published, list(self.FIELDS)), "field", self.lang, kind="field"
        )
        title = t("metadata_completeness", self.lang)
        return charts.bar_chart_from(frame, "field", "share_filled", title=title, lang=self.lang)

    def real_sources(self) -> Any:
        """The lab's real (not synthetic) sources (table)."""
        from lab import charts, listing

        headers = [t(k, self.lang) for k in ("id", "title", "publisher", "license", "spatial")]
        return charts.table(listing.real_sources(self.catalog, self.lang), headers)


# ---------------------------------------------------------------------------------------------- quality
class QualityPage(ReportPage):
    """The dataset-quality report: MQA, udata and stars per dataset and agency, with usage, freshness,
    quality over time, links and content. Parameters: ``store`` (the usage store), ``min_count`` (agencies
    with fewer datasets are left out of the league table)."""

    title_key = "quality_report_title"

    def prepare(self, *, store: str | Path | None = None, min_count: int = 5) -> None:
        from lab.quality import report

        self.min_count = min_count
        self.report = report.build(self.period.end, self.lang, self.catalog, store=store or None)

    def headline(self) -> Any:
        """The catalogue's scores in a few figures."""
        from lab.quality import report

        return report.headline(self.report)

    def indicator_chart(self) -> Any:
        """Points lost per MQA indicator."""
        from lab.quality import report

        return report.indicator_chart(self.report)

    def band_chart(self) -> Any:
        """Datasets per MQA band."""
        from lab.quality import report

        return report.band_chart(self.report)

    def scorecard(self) -> Any:
        """The datasets with the most to gain, and why."""
        from lab.quality import report

        return report.scorecard_html(self.report)

    def agencies(self) -> Any:
        """The agencies' league table."""
        from lab.quality import report

        return report.agency_html(self.report, min_count=self.min_count)

    def usage(self) -> Any:
        """Quality against views, downloads and reuse."""
        from lab.quality import report

        return report.usage_html(self.report)

    def freshness_chart(self) -> Any:
        """Datasets on time and late against their declared frequency."""
        from lab.quality import report

        return report.freshness_chart(self.report)

    def freshness(self) -> Any:
        """HDX freshness statuses with history."""
        from lab.quality import over_time

        return over_time.freshness_html(self.report.scores.meta.datasets, self.report.as_of, self.lang)

    def trend(self) -> Any:
        """The catalogue's scores per snapshot, up to the report's day."""
        from lab.quality import over_time

        return over_time.trend_html(self.lang, history=self._history(), until=self.report.as_of)

    def movers(self) -> Any:
        """The datasets that moved most between the last two snapshots."""
        from lab.quality import over_time

        return over_time.movers_html(self.lang, history=self._history(), until=self.report.as_of)

    def _history(self) -> Path:
        from lab.quality import history

        return history.report_history(self.catalog)

    def links(self) -> Any:
        """The last link checks."""
        from lab.quality import report

        return report.links_html(self.report)

    def content(self) -> Any:
        """The content checks of the data the lab holds."""
        from lab.quality import report

        return report.content_html(self.report)


# ------------------------------------------------------------------------------------------------ usage
class UsagePage(ReportPage):
    """The portal-usage report: visits, views, downloads, API calls and channels of one month, since
    launch, the top datasets and applications, accounts, usage as open data. Parameters: ``store`` (the
    usage store; empty: ``$LAB_USAGE_STORE`` or ``data/store``, filled from the demo portal), ``min_count``
    (cells counting fewer are hidden)."""

    title_key = "usage_report_title"

    def prepare(self, *, store: str | Path | None = None, min_count: int = 5) -> None:
        from lab.usage import report

        self.min_count = min_count
        self.catalog_file = str(self.catalog.path)
        self.store = report.prepare_store(store or None, self.catalog)
        self.note = report.chart_note(self.store, self.lang)

    def notes(self) -> Any:
        """What the reader must know first (demo data, partial months)."""
        from lab.usage import report

        return report.notes(self.store, self.lang)

    def headline(self) -> Any:
        """The month's figures against the month before and a year before."""
        from lab.usage import report

        return report.headline(self.store, self.period.label, self.lang, self.min_count)

    def since_launch(self) -> Any:
        """The lab's counts since the first month of data, beside the city's published figures."""
        from lab.usage import report

        return report.since_launch(
            self.store, self.period.label, self.lang, self.min_count, self.catalog_file
        )

    def trend(self, metric: str) -> Any:
        """A metric over the last months (column chart)."""
        from lab.usage import report

        return report.trend_chart(
            self.store, self.period.label, metric, self.lang, min_count=self.min_count, note=self.note
        )

    def channels(self) -> Any:
        """Requests per channel (web, API, Zalo, SMS, app)."""
        from lab.usage import report

        return report.channel_chart(self.store, self.period.label, self.lang, self.min_count, note=self.note)

    def top(self, metric: str, n: int = 10) -> Any:
        """The month's top datasets by ``metric``."""
        from lab.usage import report

        return report.top_table(
            self.store, self.period.label, metric, self.lang, self.catalog_file, n, self.min_count
        )

    def applications(self, n: int = 10) -> Any:
        """The applications calling the API most."""
        from lab.usage import report

        return report.apps_table(
            self.store, self.period.label, self.lang, n, self.min_count, catalog=self.catalog_file
        )

    def accounts(self, n: int = 8) -> Any:
        """Sign-ups and active accounts."""
        from lab.usage import report

        return report.accounts_table(self.store, self.period.label, self.lang, n, self.min_count)

    def published(self) -> Any:
        """What ``lab usage publish`` would write for the month."""
        from lab.usage.publish_report import published_html

        return published_html(self.store, self.period.label, self.lang, self.min_count)

    def rules(self) -> Any:
        """How events are counted, and the safe-period rule."""
        from lab.usage import report

        return report.rules_note(self.lang, self.min_count, self.store)

    def inputs(self) -> Any:
        """The files the store holds."""
        from lab.usage import report

        return report.inputs_table(self.store, self.lang)


# ------------------------------------------------------------------------------------------------ reuse
class ReusePage(ReportPage):
    """The reuse-outcomes report (:class:`lab.reuse.report.ReuseReport`: targets, products, reusers,
    outcomes, lineage, revenue, impact, observed reuse, registry problems). Parameter: ``min_count``
    (agencies and themes with fewer open datasets are left out of the reuse-rate charts)."""

    title_key = "reuse_report_title"

    def prepare(self, *, min_count: int = 10) -> None:
        from lab.reuse.report import ReuseReport

        self.min_count = min_count
        self.report = ReuseReport.build(
            self.period.label, catalog=self.catalog, lang=self.lang, min_count=min_count
        )

    def __getattr__(self, name: str) -> Any:
        """The sections of :class:`~lab.reuse.report.ReuseReport` (``targets_table``, ``lineage``, ...)."""
        if name.startswith("_") or name == "report":
            raise AttributeError(name)
        return getattr(self.report, name)

    def heading(self) -> Any:
        """The report's title line with its period (Markdown)."""
        return _markdown(self.report.heading())

    def time_to_first_reuse(self) -> Any:
        """How long datasets wait for their first reuse (Markdown)."""
        return _markdown(self.report.time_to_first_reuse_text())

    def impact_note(self) -> Any:
        """What the impact table counts (Markdown)."""
        return _markdown(t("reuse_impact_note", self.lang))

    def observed(self) -> Any:
        """Observed versus declared reuse, up to the targets' evaluation date."""
        from lab.reuse.observed_report import observed_html

        return observed_html(
            self.catalog, self.report.as_of or self.period.end, self.lang, min_count=self.min_count
        )


# ---------------------------------------------------------------------------------------------- spatial
class SpatialPage(ReportPage):
    """The spatial-coverage report (:class:`lab.geo.report.SpatialCoverage`): sensors, cameras and
    facilities per 2025 unit, coverage, the map. Parameters: ``radius_m`` (coverage radius around each
    sensor), ``min_count`` (units with fewer facilities of a kind are listed as underserved)."""

    title_key = "geo_spatial_coverage"

    def prepare(self, *, radius_m: float = 2_000.0, min_count: int = 1) -> None:
        from lab.geo.report import spatial_coverage

        self.report = spatial_coverage(
            self.period.label, catalog=self.catalog, radius_m=radius_m, min_count=min_count
        )

    def __getattr__(self, name: str) -> Any:
        """The sections of :class:`~lab.geo.report.SpatialCoverage` in the page's language
        (``summary_table()``, ``map()``, ...)."""
        if name.startswith("_") or name == "report":
            raise AttributeError(name)
        section = getattr(self.report, name)
        return lambda *args, **kwargs: section(self.lang, *args, **kwargs)

    def heading(self) -> Any:
        """Title, period and the notes a reader needs (HTML)."""
        return self.report.heading(self.lang)
