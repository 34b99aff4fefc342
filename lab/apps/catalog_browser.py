"""Catalog browser: the lab's datasets, searchable, in Vietnamese or English.

A small public app over the catalog (``notebooks/apps/catalog.ipynb``). Search is accent- and
case-insensitive ("hai chau" finds "Hải Châu"); real sources and demo (synthetic) data are told apart.
"""

from __future__ import annotations

import logging

import ipywidgets as widgets
import polars as pl

from lab.apps.base import App, allowed, bounded_text
from lab.catalog import Catalog
from lab.charts import escape_expr
from lab.i18n import t
from lab.listing import catalog_table
from lab.text import strip_accents, strip_accents_expr

log = logging.getLogger(__name__)

MAX_QUERY = 100  # characters of a search a visitor can type; longer input is cut

_UI = {
    "search": {"vi": "Tìm tập dữ liệu…", "en": "Search datasets…"},
    "kind": {"vi": "Loại", "en": "Kind"},
    "all": {"vi": "Tất cả", "en": "All"},
    "real": {"vi": "Dữ liệu thật", "en": "Real sources"},
    "demo": {"vi": "Dữ liệu mẫu", "en": "Demo data"},
    "count": {"vi": "{n} tập dữ liệu", "en": "{n} datasets"},
    "columns": {"vi": ("Mã", "Tên", "Cơ quan", "Giấy phép"), "en": ("Id", "Title", "Publisher", "Licence")},
}


def filter_table(table: pl.DataFrame, query: str, kind: str) -> pl.DataFrame:
    """Rows of a :func:`~lab.listing.catalog_table` matching ``query`` (accent-insensitive, in id, title or
    publisher; every word of the query must appear) and ``kind`` ('all', 'real' or 'demo')."""
    needle = strip_accents(query[:MAX_QUERY]).strip().lower()
    out = table
    if kind == "real":
        out = out.filter(~pl.col("synthetic"))
    elif kind == "demo":
        out = out.filter(pl.col("synthetic"))
    words = needle.split()
    if words:
        hay = strip_accents_expr(
            pl.concat_str([pl.col("id"), pl.col("title"), pl.col("publisher")], separator=" ")
        )
        out = out.filter(
            pl.all_horizontal([hay.str.to_lowercase().str.contains(w, literal=True) for w in words])
        )
    return out


class CatalogBrowser(App):
    """The catalog browser app: a language switch, a search box, a kind filter and a table."""

    KINDS = ("all", "real", "demo")

    def __init__(self, catalog: Catalog, lang: str = "vi") -> None:
        super().__init__(lang)
        self.catalog = catalog
        self.query = widgets.Text(placeholder=_UI["search"][self.lang], continuous_update=True)
        self.kind = widgets.Dropdown(options=self._kind_options(self.lang), value="all")
        self.count = widgets.HTML()
        self.table = widgets.HTML()
        self.observe(self.query, self.kind)
        self.widget = widgets.VBox(
            [self.language, widgets.HBox([self.query, self.kind]), self.count, self.table, self.message]
        )
        self.widget.add_class("lab-catalog-browser")
        self.safely(self.render)()

    @classmethod
    def _kind_options(cls, lang: str) -> list[tuple[str, str]]:
        return [(_UI[k][lang], k) for k in cls.KINDS]

    def render(self) -> None:
        """Redraw the table from the (checked) search text and kind, in the visitor's language."""
        lang = self.lang
        self.query.placeholder = _UI["search"][lang]
        kind = allowed(self.kind.value, self.KINDS, "all")
        if self.kind.options != tuple(self._kind_options(lang)):
            self.kind.options = self._kind_options(lang)
            self.kind.value = kind
        rows = filter_table(
            catalog_table(self.catalog, lang), bounded_text(self.query.value, MAX_QUERY), kind
        )
        self.count.value = f"<b>{_UI['count'][lang].format(n=rows.height)}</b>"
        self.table.value = self._table_html(rows, lang)

    @staticmethod
    def _table_html(rows: pl.DataFrame, lang: str) -> str:
        head = "".join(f"<th>{h}</th>" for h in _UI["columns"][lang])
        demo = (
            pl.when(pl.col("synthetic"))
            .then(pl.lit(f" <em>({_UI['demo'][lang]})</em>"))
            .otherwise(pl.lit(""))
        )
        body = (
            rows.select(
                pl.format(
                    "<tr><td><code>{}</code></td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
                    escape_expr(pl.col("id")),
                    escape_expr(pl.col("title")),
                    demo,
                    escape_expr(pl.col("publisher")).fill_null(""),
                    escape_expr(pl.col("license")),
                )
            )
            .to_series()
            .str.join("")
            .item()
            if rows.height
            else ""
        )
        note = f"<p class='synthetic'>{t('synthetic_note', lang)}</p>"
        return f"<table class='lab-table'><tr>{head}</tr>{body}</table>{note}"
