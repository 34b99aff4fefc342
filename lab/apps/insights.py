"""Insights: observed reuse, freshness, quality over time and usage as open data, for the public
(``notebooks/apps/insights.ipynb``).

One view for each of the four analyses no portal tool shows yet; each view is the section the reports
print (:func:`lab.reuse.observed_report.observed_html`, :func:`lab.quality.over_time.freshness_html`,
:func:`lab.quality.over_time.trend_html` with :func:`~lab.quality.over_time.movers_html`,
:func:`lab.usage.publish_report.published_html`), so the app and the reports show the same figures.
Filters: the view, a month (usage and reuse up to its end, freshness as of its last day, the quality
snapshots up to it) and the language.

Nothing heavy runs in a visitor's kernel more than once per input: a view's HTML for a (month, language)
is computed on first need and kept in ``<cache>/apps/insights/<key>/`` (written whole, then renamed: a
reader never sees half a fragment), where ``key`` fingerprints the usage store, the catalog, the demo
portal, the smallest count shown and the quality and freshness histories
(:func:`lab.apps.snapshot.input_key`); ``lab apps serve`` computes the default month's views before any
kernel starts (:func:`prepare`). Every render checks the key first, so a visitor never sees a view
computed from an older store or history.
"""

from __future__ import annotations

import hashlib
import html
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from lab import settings
from lab.apps.base import App, allowed
from lab.atomic import atomic_write_text
from lab.i18n import LANGUAGES, t
from lab.usage.privacy import DEFAULT_MIN_COUNT

log = logging.getLogger(__name__)

APP = "insights"
VIEWS = ("observed", "freshness", "quality", "published")
MONTHS = 12  # months offered, the last one being the default period's
KEEP_OLD_S = 3600.0  # fragments of an older key are removed after an hour (a kernel may still read them)

_VIEW_LABELS = {
    "observed": "observed_reuse_title",
    "freshness": "hdx_freshness_title",
    "quality": "quality_trend_title",
    "published": "usage_open_title",
}


def months_offered(n: int = MONTHS) -> list[str]:
    """The ``n`` months (``YYYY-MM``, oldest first) ending with the default monthly period (the last
    month ended, inside the demo portal's window on the demo: :func:`lab.periods.default_period`)."""
    from lab.periods import default_period

    last = default_period("monthly").start
    idx = last.year * 12 + last.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(idx - n + 1, idx + 1)]


def _history_files() -> tuple[Path, ...]:
    from lab.quality import aging
    from lab.quality import history as quality_history

    return quality_history.default_path(), quality_history.listing_path(), aging.history_path()


def insights_key(store: Path, catalog: Path, min_count: int) -> str:
    """The fingerprint of everything the views come from (see the module docstring); cheap."""
    from lab.apps.snapshot import _file_digest, input_key

    parts = [f"app={APP}", input_key(store, catalog, min_count)]
    parts += [f"{p}:{_file_digest(p)}" for p in _history_files()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def fragments_dir() -> Path:
    """Where the views' fragments live: ``<cache>/apps/insights``."""
    return settings.cache_dir() / "apps" / APP


def _prune(keep: Path) -> None:
    """Remove the fragment folders of other keys untouched for :data:`KEEP_OLD_S` seconds."""
    now = time.time()
    for other in keep.parent.iterdir():
        if other != keep and other.is_dir() and now - other.stat().st_mtime > KEEP_OLD_S:
            shutil.rmtree(other, ignore_errors=True)


def compute(view: str, month: str, lang: str, *, store: Any, catalog: Any, min_count: int) -> str:
    """A view's HTML for ``month`` in ``lang`` (no cache: :func:`fragment` keeps it).

    Parameters
    ----------
    view
        One of :data:`VIEWS`.
    month
        ``YYYY-MM``: usage and reuse up to its last day, freshness as of its last day.
    lang
        ``vi`` or ``en``.
    store
        The usage store (:class:`lab.usage.store.EventStore`).
    catalog
        The :class:`lab.catalog.Catalog` holding the portal's listing and the reuse registry.
    min_count
        The smallest count shown; smaller ones are shown as "< k".
    """
    from lab.periods import Period

    end = Period.parse(month).end
    if view == "observed":
        from lab.reuse.observed_report import observed_html

        return str(observed_html(catalog, end, lang, min_count=min_count, store=store.path))
    if view == "freshness":
        from lab.loader import load
        from lab.quality.metadata import from_listing
        from lab.quality.over_time import freshness_html

        listing = load("portal-datasets", catalog=catalog)
        meta = from_listing(listing, synthetic=catalog.get("portal-datasets").synthetic)
        return str(freshness_html(meta.datasets, end, lang))
    if view == "quality":
        from lab.quality.history import report_history
        from lab.quality.over_time import movers_html, trend_html

        history = report_history(catalog)
        movers = html.escape(t("quality_movers_title", lang))
        trend = trend_html(lang, history=history, until=end)
        return f"{trend}<h3>{movers}</h3>{movers_html(lang, history=history, until=end)}"
    if view == "published":
        from lab.usage.publish_report import published_html

        return str(published_html(store, month, lang, min_count))
    raise ValueError(f"view {view!r} is not one of {', '.join(VIEWS)}")


def fragment(view: str, month: str, lang: str, *, store: Any, catalog: Any, min_count: int, key: str) -> str:
    """A view's HTML from the fragments folder of ``key``, computed (:func:`compute`) and kept on first
    need."""
    folder = fragments_dir() / key
    file = folder / f"{view}-{month}-{lang}.html"
    if file.is_file():
        return file.read_text(encoding="utf-8")
    started = time.monotonic()
    text = compute(view, month, lang, store=store, catalog=catalog, min_count=min_count)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(file, text)
    _prune(folder)
    log.info("insights %s %s %s computed in %.2f s", view, month, lang, time.monotonic() - started)
    return text


def _open(store: str | Path | None, catalog: Any) -> tuple[Any, Any, Path]:
    """The usage store (the apps' shared one, filled from the demo when empty), the catalog and its file."""
    from lab.apps.snapshot import catalog_path, open_store
    from lab.catalog import load_catalog
    from lab.quality.history import report_history

    cat_file = catalog_path(catalog)
    cat = load_catalog(cat_file)
    report_history(cat)  # scored once from the listing's copies (before the key is taken: it is an input)
    return open_store(store, cat), cat, cat_file


def prepare(store: str | Path | None = None, catalog: Any = None, min_count: int = DEFAULT_MIN_COUNT) -> int:
    """Compute every view of the default month in both languages (``lab apps serve`` calls it before any
    kernel starts); the number of fragments ready."""
    st, cat, cat_file = _open(store, catalog)
    key = insights_key(Path(st.path), cat_file, min_count)
    month = months_offered()[-1]
    for view in VIEWS:
        for lang in LANGUAGES:
            fragment(view, month, lang, store=st, catalog=cat, min_count=min_count, key=key)
    return len(VIEWS) * len(LANGUAGES)


class Insights(App):
    """The insights app (see the module docstring).

    Parameters
    ----------
    store
        The usage store (default ``$LAB_USAGE_STORE``, else the apps' shared store).
    catalog
        The catalog file or :class:`~lab.catalog.Catalog` (default ``$LAB_CATALOG`` or the project's).
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
        super().__init__(lang)
        self.min_count = int(min_count)
        self.store, self.catalog, self.catalog_file = _open(store, catalog)
        self.months = months_offered()
        self.view = widgets.ToggleButtons(options=self._view_options(self.lang), value=VIEWS[0])
        self.month = widgets.Dropdown(options=self.months, value=self.months[-1])
        self.view.add_class("lab-filter-view")
        self.month.add_class("lab-filter-month")
        self.heading = widgets.HTML()
        self.body = widgets.HTML()
        self.observe(self.view, self.month)
        self.widget = widgets.VBox(
            [self.language, self.heading, self.view, self.month, self.message, self.body]
        )
        self.widget.add_class("lab-insights")
        self.safely(self.render)()

    @staticmethod
    def _view_options(lang: str) -> list[tuple[str, str]]:
        return [(t(_VIEW_LABELS[v], lang), v) for v in VIEWS]

    def render(self) -> None:
        """Redraw the chosen view for the chosen month, in the visitor's language (checked inputs)."""
        lang = self.lang
        view = allowed(self.view.value, VIEWS, VIEWS[0])
        month = allowed(self.month.value, self.months, self.months[-1])
        if self.view.options != tuple(self._view_options(lang)):
            self.view.options = self._view_options(lang)
            self.view.value = view
        self.month.description = t("apps_month", lang)
        synthetic = "portal-datasets" in self.catalog and self.catalog.get("portal-datasets").synthetic
        note = f"<p class='synthetic'>{html.escape(t('synthetic_note', lang))}</p>" if synthetic else ""
        self.heading.value = (
            f"<h2>{html.escape(t('apps_insights_title', lang))}</h2>"
            f"<p>{html.escape(t('apps_insights_intro', lang))}</p>{note}"
        )
        key = insights_key(Path(self.store.path), self.catalog_file, self.min_count)
        body = fragment(
            view, month, lang, store=self.store, catalog=self.catalog, min_count=self.min_count, key=key
        )
        title = html.escape(t(_VIEW_LABELS[view], lang))
        self.body.value = f"<section class='lab-insights-{view}'><h3>{title}</h3>{body}</section>"


__all__ = ["VIEWS", "Insights", "compute", "fragment", "insights_key", "months_offered", "prepare"]
