"""What the monthly portal-usage report shows, ready to display: tables (:class:`lab.charts.Html`) and
charts (:class:`lab.charts.Svg`) in Vietnamese or English, every cell suppressed below ``min_count``.

The report notebook (``notebooks/reports/portal-usage.ipynb``) only calls these functions. On the demo
portal, :func:`prepare_store` ingests the demo's logs into the store first (idempotent: a no-op when
they are there), and :func:`notes` says the figures are synthetic.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import polars as pl

from lab.catalog import Catalog
from lab.charts import Html, Svg, bar_chart, column_chart, format_number, table
from lab.errors import LabError
from lab.i18n import t
from lab.usage.demo_store import ingest_demo, is_synthetic
from lab.usage.disclosure import app_labels
from lab.usage.kpis import (
    TOTALS,
    accounts_per_quarter,
    api_calls_per_app,
    channel_mix,
    growth,
    portal_totals,
    top_datasets,
)
from lab.usage.privacy import DEFAULT_MIN_COUNT
from lab.usage.store import EventStore

log = logging.getLogger(__name__)


def _month(period: str) -> str:
    """The report's month ``YYYY-MM`` (a monthly report's period)."""
    from lab.periods import Period

    p = Period.parse(period)
    if (p.start.month == 1 and p.end.month == 12 and len(p.label) == 4) or "Q" in p.label:
        raise LabError(f"the portal-usage report is monthly: period {period!r} is not YYYY-MM")
    return p.label


def _shift(month: str, months: int) -> str:
    """``month`` moved by ``months`` (negative: back)."""
    y, m = int(month[:4]), int(month[5:7])
    idx = y * 12 + (m - 1) + months
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def prepare_store(store: str | Path | None = None, catalog: Catalog | str | Path | None = None) -> EventStore:
    """The store the report reads (``store`` empty or None: ``$LAB_USAGE_STORE`` or ``data/store``).

    A store without real data gets the demo portal's logs (through the catalog, ``$LAB_DEMO``
    honoured); files already ingested are skipped, so this is cheap on every run.
    """
    st = EventStore(store or None)
    if not st.exists() or is_synthetic(st):
        ingest_demo(st, catalog=catalog)
    return st


def _cell(value: object, suppressed: bool, lang: str, min_count: int) -> str:
    if value is None:
        return t("usage_suppressed", lang).format(k=min_count) if suppressed else t("usage_unknown", lang)
    return format_number(float(value), lang) if isinstance(value, int | float) else str(value)


def _pct(value: float | None, lang: str) -> str:
    return "—" if value is None else ("+" if value > 0 else "") + format_number(float(value), lang)


def notes(store: EventStore | str | Path | None, lang: str = "vi") -> Html:
    """The report's introduction (on demo data the page header says so, once:
    :func:`lab.reports.demo_banner`)."""
    return Html(f"<p>{html.escape(t('usage_intro', lang))}</p>")


def chart_note(store: EventStore | str | Path | None, lang: str = "vi") -> str | None:
    """The line under each chart: nothing (the demo label is said once, in the page header)."""
    return None


def headline(
    store: EventStore | str | Path | None, period: str, lang: str = "vi", min_count: int = DEFAULT_MIN_COUNT
) -> Html:
    """The month's totals with their month-on-month and year-on-year change."""
    month = _month(period)
    totals = growth(portal_totals(store, start=_shift(month, -12), end=month, min_count=min_count))
    row = totals.filter(pl.col("period") == month).row(0, named=True)
    frame = pl.DataFrame(
        {
            "metric": [t(f"usage_{c}", lang) for c in TOTALS],
            "value": [_cell(row[c], row[f"{c}_suppressed"], lang, min_count) for c in TOTALS],
            "mom": [_pct(row[f"{c}_mom"], lang) for c in TOTALS],
            "yoy": [_pct(row[f"{c}_yoy"], lang) for c in TOTALS],
        }
    )
    return table(
        frame, [t(k, lang) for k in ("usage_metric", "usage_value", "usage_mom", "usage_yoy")], lang=lang
    )


def since_launch(
    store: EventStore | str | Path | None,
    period: str,
    lang: str = "vi",
    min_count: int = DEFAULT_MIN_COUNT,
    catalog: str | Path | None = None,
) -> Html:
    """The city's published figures (visits, API calls, accounts, datasets, channel datasets, sensors,
    cameras) beside what the lab counts from the first month of data to the report's month
    (:mod:`lab.published`), with the figures' source; on demo data, why the shares are small."""
    import calendar
    from datetime import date

    from lab import published

    month = _month(period)
    year, mon = int(month[:4]), int(month[5:])
    last_day = date(year, mon, calendar.monthrange(year, mon)[1])
    counted = pl.concat(
        [published.since_launch(store, month, min_count), published.in_the_data(catalog, last_day)]
    )
    shown = published.facts_table(published.beside_published(counted), lang, month)
    notes = [t("published_note_source", lang).format(source=published.published_source(lang))]
    if is_synthetic(store):
        notes.insert(0, t("published_note_demo", lang))
    text = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in notes)
    return Html(shown.markup + text)


def trend_chart(
    store: EventStore | str | Path | None,
    period: str,
    metric: str = "visits",
    lang: str = "vi",
    months: int = 24,
    min_count: int = DEFAULT_MIN_COUNT,
    note: str | None = None,
) -> Svg:
    """A total per month over the ``months`` months ending with the report's month."""
    month = _month(period)
    totals = portal_totals(store, start=_shift(month, -(months - 1)), end=month, min_count=min_count)
    last = t("usage_last_months", lang).format(n=months)
    title = f"{t(f'usage_{metric}', lang)} {t('usage_per_month', lang)}, {last}"
    return column_chart(
        totals.get_column("period").to_list(),
        totals.get_column(metric).to_list(),
        title=title,
        note=note,
        highlight=month,
        lang=lang,
    )


def channel_chart(
    store: EventStore | str | Path | None,
    period: str,
    lang: str = "vi",
    min_count: int = DEFAULT_MIN_COUNT,
    note: str | None = None,
) -> Svg:
    """Share of requests by channel over the report's year to date."""
    month = _month(period)
    mix = channel_mix(store, start=f"{month[:4]}-01", end=month, min_count=min_count).sort(
        "share", descending=True
    )
    labels = [t(f"usage_channel_{c}", lang) for c in mix.get_column("channel").to_list()]
    values = mix.get_column("share").fill_null(0.0).to_list()
    title = t("usage_channel_mix", lang).format(year=month[:4])
    return bar_chart(labels, values, title=title, note=note, lang=lang)


def _titles(catalog: str | Path | None, lang: str) -> pl.DataFrame | None:
    """Portal dataset titles (``dataset_id``, ``title``) from the catalog's portal listing, if it has one."""
    import lab

    try:
        portal = lab.load("portal-datasets", catalog=catalog)
    except LabError as exc:
        log.info("no dataset titles: %s", exc)
        return None
    title = f"title_{lang}" if f"title_{lang}" in portal.columns else "title_vi"
    return portal.select(
        pl.col("portal_id").cast(pl.String).alias("dataset_id"), pl.col(title).alias("title")
    )


def top_table(
    store: EventStore | str | Path | None,
    period: str,
    metric: str = "dataset_views",
    lang: str = "vi",
    catalog: str | Path | None = None,
    n: int = 10,
    min_count: int = DEFAULT_MIN_COUNT,
) -> Html:
    """The month's top ``n`` datasets by ``metric``, with their titles."""
    month = _month(period)
    top = top_datasets(store, metric=metric, n=n, start=month, end=month, min_count=min_count)
    if top.is_empty():
        return Html(f"<p>{html.escape(t('usage_no_data', lang))}</p>")
    titles = _titles(catalog, lang)
    if titles is not None:
        top = top.join(titles, on="dataset_id", how="left", maintain_order="left")
    else:
        top = top.with_columns(title=pl.lit(None, dtype=pl.String))
    frame = top.select(
        pl.col("rank").cast(pl.String),
        pl.col("title").fill_null(pl.col("dataset_id")),
        "dataset_id",
        value=pl.Series(
            [_cell(v, s, lang, min_count) for v, s in top.select(metric, f"{metric}_suppressed").rows()]
        ),
    )
    headers = [t(k, lang) for k in ("usage_rank", "usage_dataset", "usage_dataset_id")] + [
        t(f"usage_{metric}", lang)
    ]
    return table(frame, headers, lang=lang)


def _registry(catalog: str | Path | None) -> pl.DataFrame | None:
    """The reuse registry's consumer keys and titles (``api_consumer``, ``title``), if the catalog has one."""
    from lab.reuse.registry import registry_from_catalog

    try:
        return registry_from_catalog(catalog).frame
    except LabError as exc:
        log.info("no registered application names: %s", exc)
        return None


def apps_table(
    store: EventStore | str | Path | None,
    period: str,
    lang: str = "vi",
    n: int = 10,
    min_count: int = DEFAULT_MIN_COUNT,
    catalog: str | Path | None = None,
) -> Html:
    """API calls per application over the report's year to date (the ``n`` busiest), each application
    named by its registered product or a pseudonym (:func:`lab.usage.disclosure.app_labels`), never by
    its consumer key."""
    month = _month(period)
    apps = api_calls_per_app(store, start=f"{month[:4]}-01", end=month, by="year", min_count=min_count).head(
        n
    )
    title = f"<h3>{html.escape(t('usage_api_per_app', lang).format(year=month[:4]))}</h3>"
    if apps.is_empty():
        return Html(title + f"<p>{html.escape(t('usage_no_data', lang))}</p>")
    frame = apps.select(
        app=pl.Series(app_labels(apps.get_column("app_id").to_list(), _registry(catalog), lang)),
        calls=pl.Series(
            [_cell(v, s, lang, min_count) for v, s in apps.select("api_calls", "api_calls_suppressed").rows()]
        ),
        datasets=pl.Series(
            [_cell(v, s, lang, min_count) for v, s in apps.select("datasets", "datasets_suppressed").rows()]
        ),
    )
    headers = [t(k, lang) for k in ("usage_app", "usage_api_calls", "usage_datasets_called")]
    return Html(title + table(frame, headers, lang=lang).markup)


def accounts_table(
    store: EventStore | str | Path | None,
    period: str,
    lang: str = "vi",
    quarters: int = 8,
    min_count: int = DEFAULT_MIN_COUNT,
) -> Html:
    """Accounts signed up per quarter, the last ``quarters`` up to the report's month; active accounts
    per quarter only when ``min_count`` is 0 or 1 (a distinct count is published per month only: the
    quarter's minus its months would count the accounts active in one month but not another)."""
    month = _month(period)
    acc = accounts_per_quarter(store, end=month, min_count=min_count).tail(quarters)
    # a quarter the report's month does not complete says so: "2026-Q4 (đến 2026-10)", not a full quarter
    partial = t("usage_quarter_to", lang).format(month=month)
    last = f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"
    acc = acc.with_columns(
        pl.when((pl.col("quarter") == last) & (int(month[5:7]) % 3 != 0))
        .then(pl.col("quarter") + " " + pl.lit(partial))
        .otherwise(pl.col("quarter"))
        .alias("quarter")
    )
    title = f"<h3>{html.escape(t('usage_accounts_per_quarter', lang))}</h3>"
    if min_count > 1:
        title = f"<h3>{html.escape(t('usage_signups_per_quarter', lang))}</h3>"
        frame = acc.select(
            "quarter",
            signups=pl.Series(
                [_cell(v, s, lang, min_count) for v, s in acc.select("signups", "signups_suppressed").rows()],
                dtype=pl.String,
            ),
        )
        note = f"<p class='lab-note'>{html.escape(t('usage_active_monthly_only', lang))}</p>"
        return Html(
            title + table(frame, [t(k, lang) for k in ("usage_quarter", "usage_signups")]).markup + note
        )
    frame = acc.select(
        "quarter",
        signups=pl.Series(
            [_cell(v, s, lang, min_count) for v, s in acc.select("signups", "signups_suppressed").rows()],
            dtype=pl.String,
        ),
        active=pl.Series(
            [
                _cell(v, s, lang, min_count)
                for v, s in acc.select("active_accounts", "active_accounts_suppressed").rows()
            ],
            dtype=pl.String,
        ),
    )
    headers = [t(k, lang) for k in ("usage_quarter", "usage_signups", "usage_active_accounts")]
    return Html(title + table(frame, headers, lang=lang).markup)


def inputs_table(store: EventStore | str | Path | None, lang: str = "vi") -> Html:
    """What the store was made from: each input file, its format, months, lines read and rejected."""
    st = store if isinstance(store, EventStore) else EventStore(store)
    rows = [
        {
            "file": e.get("name", "?"),
            "format": e.get("format", "?"),
            "months": f"{e.get('first_month') or '?'} … {e.get('last_month') or '?'}",
            "read": format_number(float(e.get("lines_read", 0)), lang),
            "rejected": format_number(float(e.get("lines_rejected", 0)), lang),
            "kept": format_number(float(e.get("events_kept", 0)), lang),
        }
        for e in st.entries()
    ]
    frame = pl.DataFrame(
        rows, schema=dict.fromkeys(("file", "format", "months", "read", "rejected", "kept"), pl.String)
    )
    headers = [
        t(k, lang)
        for k in (
            "usage_file",
            "usage_format",
            "usage_months",
            "usage_lines_read",
            "usage_lines_rejected",
            "usage_events_kept",
        )
    ]
    return Html(f"<h3>{html.escape(t('usage_inputs', lang))}</h3>" + table(frame, headers, lang=lang).markup)


def rules_note(
    lang: str = "vi", min_count: int = DEFAULT_MIN_COUNT, store: EventStore | str | Path | None = None
) -> Html:
    """The counting rules in one paragraph (the full text is in lab/usage/README.md), with the time
    zone whose calendar days and months the figures count (the store's; default store if None)."""
    st = store if isinstance(store, EventStore) else EventStore(store)
    timezone = st.timezone
    return Html(
        f"<h3>{html.escape(t('usage_counting_rules', lang))}</h3>"
        f"<p>{html.escape(t('usage_rules_text', lang).format(k=min_count))} "
        f"{html.escape(t('usage_rules_timezone', lang).format(tz=timezone))}</p>"
        f"<p>{html.escape(t('usage_disclosure_text', lang).format(k=min_count))}</p>"
    )
