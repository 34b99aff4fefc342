"""Reuse explorer: the products built on the city's open data (``notebooks/apps/reuse-explorer.ipynb``).

Reuses and unique reusers, a searchable table of the products and the datasets behind them, the lineage
picture dataset → product → outcome, the outcomes and the revenue of paid data services. Filters: a
quarter, a product type and a search (accent-insensitive: product, dataset id or title). Individual
reusers are people: they are shown as "an individual", never by name (nor found by a search).

Nothing is computed here: the figures come from :class:`lab.reuse.report.ReuseReport` and
:mod:`lab.reuse.indicators` / :mod:`lab.reuse.lineage`. The registry is read once at start; a quarter only
moves the report's window (:func:`dataclasses.replace`), so a filter change does not read files again.
"""

from __future__ import annotations

import dataclasses
import html
import logging
from datetime import date
from typing import Any

import ipywidgets as widgets
import polars as pl

from lab.apps.base import App, allowed, bounded_text
from lab.apps.tracker_figures import card, reuse_report
from lab.charts import escape_expr, format_number, table
from lab.i18n import t
from lab.reuse import vocab
from lab.reuse.indicators import reuses_and_reusers
from lab.reuse.lineage import lineage_svg, lineage_table
from lab.text import strip_accents, strip_accents_expr

log = logging.getLogger(__name__)

ALL = "__all__"
MAX_QUERY = 100
MAX_ROWS = 50  # products listed at most (the count says how many match; a search narrows them)
QUARTERS = 8  # quarters offered, the last one holding the evaluation date


def quarters_up_to(day: date, n: int = QUARTERS) -> list[str]:
    """The ``n`` quarters ending with the one holding ``day``, oldest first (``YYYY-Qn``)."""
    idx = day.year * 4 + (day.month - 1) // 3
    return [f"{i // 4}-Q{i % 4 + 1}" for i in range(idx - n + 1, idx + 1)]


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First and last day of a quarter ``YYYY-Qn``."""
    from lab.periods import Period

    p = Period.parse(quarter)
    return p.start, p.end


def filter_products(valid: pl.DataFrame, kind: str | None) -> pl.DataFrame:
    """Registry rows of one product type (all when None)."""
    return valid if kind is None else valid.filter(pl.col("type") == kind)


def search_links(links: pl.DataFrame, query: str) -> pl.DataFrame:
    """Rows of a :func:`~lab.reuse.lineage.lineage_table` whose product, dataset id or title contain
    every word of ``query`` (accent- and case-insensitive); the whole table for an empty query."""
    words = strip_accents(query[:MAX_QUERY]).lower().split()
    if not words:
        return links
    hay = strip_accents_expr(
        pl.concat_str(
            [
                pl.col(c).cast(pl.String).fill_null("")
                for c in ("product", "owner_kind", "dataset_id", "dataset_title")
            ],
            separator=" ",
        )
    ).str.to_lowercase()
    matched = links.filter(pl.all_horizontal([hay.str.contains(w, literal=True) for w in words]))
    return links.filter(pl.col("reuse_id").is_in(matched["reuse_id"].unique().to_list()))


class ReuseExplorer(App):
    """The reuse explorer app (see the module docstring).

    Parameters
    ----------
    catalog
        The catalog (default ``$LAB_CATALOG`` or the project's).
    lang
        ``vi`` (default) or ``en``.
    """

    def __init__(self, catalog: Any = None, lang: str = "vi") -> None:
        from lab.catalog import as_catalog

        super().__init__(lang)
        self.catalog = as_catalog(catalog)
        self.report = reuse_report(self.catalog, self.lang)
        self.quarters = quarters_up_to(self.report.end)
        self.types: list[str] = sorted(self.report.valid["type"].drop_nulls().unique().to_list())
        self.quarter = widgets.Dropdown(
            options=self.quarters, value=self.quarters[-1], style={"description_width": "initial"}
        )
        self.kind = widgets.Dropdown(style={"description_width": "initial"})
        self.query = widgets.Text(continuous_update=False)
        self.quarter.add_class("lab-filter-quarter")
        self.kind.add_class("lab-filter-type")
        self.query.add_class("lab-filter-search")
        self._set_options(self.lang)
        self._outcomes_html: dict[tuple[str, str], str] = {}
        self.heading = widgets.HTML()
        self.cards = widgets.HTML()
        self.products = widgets.HTML()
        self.lineage = widgets.HTML()
        self.outcomes = widgets.HTML()
        self.reusers = widgets.HTML()
        self.observe(self.quarter, self.kind, self.query)
        self.widget = widgets.VBox(
            [
                self.language,
                self.heading,
                widgets.HBox([self.quarter, self.kind, self.query]),
                self.message,
                self.cards,
                self.products,
                self.lineage,
                self.reusers,
                self.outcomes,
            ]
        )
        self.widget.add_class("lab-reuse-explorer")
        self.safely(self.render)()

    def _set_options(self, lang: str) -> None:
        kind = allowed(self.kind.value, [ALL, *self.types], ALL)
        self.quarter.description = t("apps_quarter", lang)
        self.kind.description = t("apps_product_type", lang)
        self.query.placeholder = t("apps_search_products", lang)
        self.kind.options = [
            (t("apps_all", lang), ALL),
            *((vocab.label("types", k, lang), k) for k in self.types),
        ]
        self.kind.value = kind
        self._options_lang = lang

    def filters(self) -> dict[str, Any]:
        """The checked filters: ``quarter``, ``type`` (None: all), ``query``."""
        return {
            "quarter": allowed(self.quarter.value, self.quarters, self.quarters[-1]),
            "type": allowed(self.kind.value, self.types, None),
            "query": bounded_text(self.query.value, MAX_QUERY),
        }

    def report_for(self, quarter: str, lang: str) -> Any:
        """The reuse report moved to ``quarter`` (same registry), in ``lang``."""
        start, end = quarter_bounds(quarter)
        return dataclasses.replace(self.report, start=start, end=end, period_label=quarter, lang=lang)

    def figures(self) -> dict[str, Any]:
        """The headline figures for the current filters: ``reuses``, ``unique_reusers``, ``live`` at the
        quarter's end (products of the chosen type) and ``products`` (matching the search too)."""
        f = self.filters()
        _, end = quarter_bounds(f["quarter"])
        end = min(end, self.report.as_of or end)  # never past the end of the data (lab.reuse.targets)
        valid = filter_products(self.report.valid, f["type"])
        row = reuses_and_reusers(valid, [end]).row(0, named=True)
        links = self._links(f["quarter"], f["type"], f["query"])
        return {**row, "products": links["reuse_id"].n_unique(), "links": links}

    def _links(self, quarter: str, kind: str | None, query: str) -> pl.DataFrame:
        start, end = quarter_bounds(quarter)
        valid = filter_products(self.report.valid, kind).filter(pl.col("launched") <= end)
        table_ = lineage_table(valid, self.report.outcomes, self.report.listing, start=start, end=end)
        kinds = valid.select("reuse_id", "owner_kind")
        return search_links(table_.join(kinds, on="reuse_id", how="left"), query)

    def render(self) -> None:
        """Redraw every part from the checked filters, in the visitor's language."""
        lang = self.lang
        if self._options_lang != lang:
            self._set_options(lang)
        f = self.filters()
        report = self.report_for(f["quarter"], lang)
        fig = self.figures()
        note = t("synthetic_note", lang) if report.synthetic else None
        synthetic = f"<p class='synthetic'>{html.escape(note)}</p>" if note else ""
        self.heading.value = (
            f"<h2>{html.escape(t('apps_explorer_title', lang))}</h2>"
            f"<p>{html.escape(t('apps_explorer_intro', lang))}</p>{synthetic}"
        )
        cards = [
            (t("reuse_reuses", lang), fig["reuses"], "reuses"),
            (t("reuse_unique_reusers", lang), fig["unique_reusers"], "unique_reusers"),
            (t("reuse_live", lang), fig["live"], "live"),
        ]
        self.cards.value = "".join(card(label, value, False, lang, key, 0) for label, value, key in cards)
        links = fig["links"]
        self.products.value = self._products_html(links, fig["products"], lang)
        self.lineage.value = (
            f"<h3>{html.escape(t('apps_lineage_heading', lang))}</h3>"
            + str(lineage_svg(links, lang=lang, note=t("reuse_lineage_note", lang)))
            if links.height
            else ""
        )
        self.reusers.value = (
            f"<h3>{html.escape(t('apps_reusers_heading', lang))}</h3>{report.reusers_table()}"
        )
        key = (f["quarter"], lang)
        if key not in self._outcomes_html:  # the ledgers are read once per quarter and language
            self._outcomes_html[key] = (
                f"<h3>{html.escape(t('apps_outcomes_heading', lang))}</h3>"
                f"{report.outcomes_table()}{report.revenue()}"
            )
        self.outcomes.value = self._outcomes_html[key]

    @staticmethod
    def _products_html(links: pl.DataFrame, n: int, lang: str) -> str:
        status = {s: t(f"reuse_{s}", lang) for s in ("live", "retired", "planned")}
        rows = (
            links.with_columns(  # an individual reuser is a person: never named in public
                owner_shown=pl.when(pl.col("owner_kind") == "individual")
                .then(pl.lit(t("apps_individual", lang)))
                .otherwise(pl.col("owner"))
            )
            .group_by("reuse_id")
            .agg(
                pl.col("product").first(),
                pl.col("type").first(),
                pl.col("status").first(),
                pl.col("owner_shown").first(),
                pl.col("dataset_title")
                .fill_null(pl.col("dataset_id"))
                .sort()
                .str.join("; ")
                .alias("datasets"),
            )
            .sort("reuse_id")
            .head(MAX_ROWS)
            .select(
                escape_expr(pl.col("product")),
                pl.col("type").replace(vocab.labels("types", lang)),
                pl.col("status").replace(status),
                escape_expr(pl.col("owner_shown").fill_null("")),
                escape_expr(pl.col("datasets")),
            )
        )
        head = [t(k, lang) for k in ("reuse_product", "reuse_type", "apps_status", "apps_owner")]
        count = t("apps_products_found", lang).format(n=format_number(n, lang))
        return (
            f"<h3>{html.escape(t('apps_products_heading', lang))}</h3>"
            f"<p class='lab-count'><b>{html.escape(count)}</b></p>"
            + str(table(rows, [*head, t("apps_datasets_used", lang)], lang=lang))
        )
