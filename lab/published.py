"""The city's published figures beside what the lab counts: one table, the same in every report.

Đà Nẵng has published figures for its portal (about 4.68 million visits, 1.2 million API calls, 1,100
registered accounts, 860 datasets, 55 datasets served over Zalo/SMS/app) and for its sensors and cameras
(about 120 and 40,000). They live in ``lab/vocab/published_facts.yaml`` with their source. This module
reads them and sets each beside the lab's own count, from the usage store since the first month of data
(sums of whole safe periods, :mod:`lab.usage.disclosure`), the portal's listing, and the point datasets.
On the demo portal the ratio is the demo's scale, which the page header states.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from lab.periods import as_of_date

FACTS_FILE = Path(__file__).parent / "vocab" / "published_facts.yaml"
USAGE_FACTS = ("visits", "api_calls", "accounts", "channel_datasets")
"""Facts the usage store counts (through a month), in the order shown."""
PLACE_FACTS = {"env_sensors": "env-sensors", "cameras": "traffic-cameras"}
"""Facts counted as rows of a catalog point dataset: fact → catalog id."""


@dataclass(frozen=True)
class PublishedFact:
    """One published figure: ``value`` as said ``as_of``, with its label in each language."""

    key: str
    value: int
    as_of: str
    label: dict[str, str]

    def label_in(self, lang: str = "vi") -> str:
        """The figure's label in ``lang`` (NFC)."""
        return unicodedata.normalize("NFC", self.label[lang])


@cache
def _document() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8"))


def published_facts() -> dict[str, PublishedFact]:
    """The published figures of ``lab/vocab/published_facts.yaml``, by key."""
    return {
        key: PublishedFact(key, int(f["value"]), str(f["as_of"]), dict(f["label"]))
        for key, f in _document()["facts"].items()
    }


def published_source(lang: str = "vi") -> str:
    """Where the published figures come from, in ``lang``."""
    return unicodedata.normalize("NFC", " ".join(_document()["source"][lang].split()))


def since_launch(store: Any, period: str, min_count: int | None = None) -> pl.DataFrame:
    """The usage facts counted by the lab from the first month of data to ``period``'s month.

    Visits and API calls are sums of whole safe periods (as every published window); accounts are the
    sign-ups so counted; channel datasets are the datasets with any Zalo, SMS or app request.

    Returns
    -------
    polars.DataFrame
        ``fact``, ``measured`` (Int64; null when the store cannot tell), one row per
        :data:`USAGE_FACTS`.
    """
    from lab.usage.disclosure import window_sums
    from lab.usage.kpis import monthly_facts, portal_totals
    from lab.usage.privacy import DEFAULT_MIN_COUNT

    k = DEFAULT_MIN_COUNT if min_count is None else min_count
    month = period[:7]
    totals = portal_totals(store, end=month, min_count=0)  # every month from the first, unprotected
    measured: dict[str, int | None] = {}
    for fact, column in (("visits", "visits"), ("api_calls", "api_calls"), ("accounts", "signups")):
        measured[fact] = window_sums(totals.select("period", column), column, None, month, k)[column].item()
    facts = monthly_facts(store, end=month, min_count=0)
    channel = facts.filter((pl.col("metric") == "channel_requests") & (pl.col("value") > 0))
    measured["channel_datasets"] = channel.get_column("dataset_id").n_unique() if channel.height else None
    return pl.DataFrame(
        {"fact": list(USAGE_FACTS), "measured": [measured[f] for f in USAGE_FACTS]},
        schema={"fact": pl.String, "measured": pl.Int64},
    )


def in_the_data(catalog: Any = None, as_of: date | None = None) -> pl.DataFrame:
    """The datasets published (portal listing, by ``as_of``), sensors and cameras (rows of their catalog
    datasets, installed by ``as_of`` when the file says): ``fact``, ``measured`` (null when not loadable)."""
    import logging

    from lab.catalog import as_catalog
    from lab.errors import LabError
    from lab.listing import dataset_counts
    from lab.loader import load

    cat = as_catalog(catalog)
    day = as_of or as_of_date()
    rows: dict[str, int | None] = {"datasets": None, **dict.fromkeys(PLACE_FACTS)}
    for fact, dataset_id in (("datasets", "portal-datasets"), *PLACE_FACTS.items()):
        if dataset_id not in cat:
            continue
        try:
            frame = load(dataset_id, catalog=cat)
        except LabError as exc:
            logging.getLogger(__name__).info("%s not counted: %s", fact, exc)
            continue
        if fact == "datasets":
            rows[fact] = dataset_counts(pl.DataFrame(frame), day)["published"]
        else:
            table = frame if isinstance(frame, pl.DataFrame) else pl.DataFrame(frame.drop(columns="geometry"))
            if "installed" in table.columns:
                table = table.filter(pl.col("installed").cast(pl.Date, strict=False) <= day)
            rows[fact] = table.height
    return pl.DataFrame(
        {"fact": list(rows), "measured": list(rows.values())},
        schema={"fact": pl.String, "measured": pl.Int64},
    )


def beside_published(measured: pl.DataFrame) -> pl.DataFrame:
    """``measured`` (``fact``, ``measured``) with each fact's published figure: ``label_vi``,
    ``label_en``, ``published``, ``as_of`` and ``share`` (measured ÷ published, in %, 1 decimal)."""
    facts = published_facts()
    known = measured.filter(pl.col("fact").is_in(list(facts)))
    meta = pl.DataFrame(
        {
            "fact": [f.key for f in facts.values()],
            "label_vi": [f.label_in("vi") for f in facts.values()],
            "label_en": [f.label_in("en") for f in facts.values()],
            "published": [f.value for f in facts.values()],
            "as_of": [f.as_of for f in facts.values()],
        }
    )
    return known.join(meta, on="fact", how="left", maintain_order="left").with_columns(
        share=(pl.col("measured") * 100 / pl.col("published")).round(1)
    )


def facts_table(table: pl.DataFrame, lang: str, end: str) -> Any:
    """The table of :func:`beside_published` for a page in ``lang``: figure, published, as of, counted
    by the lab (to ``end``), share (%); unknown counts as "—"."""
    from lab.charts import table as html_table
    from lab.i18n import t

    frame = table.select(pl.col(f"label_{lang}").alias("fact"), "published", "as_of", "measured", "share")
    headers = [
        t("published_fact", lang),
        t("published_value", lang),
        t("published_as_of", lang),
        t("published_measured", lang).format(end=end),
        t("published_share", lang),
    ]
    return html_table(frame, headers, lang=lang)


def front_page_html(compared: dict[str, str] | None = None) -> str:
    """The published figures for the reports' front page (``reports/index.html``), in both languages,
    with their source; ``compared``: language → a relative link to the page that sets them beside the
    lab's counts (the newest portal-usage report)."""
    import html as _html

    from lab.charts import format_number
    from lab.i18n import t

    esc = _html.escape
    rows = "".join(
        f"<tr><td>{esc(f.label_in('vi'))}<br><span class='en'>{esc(f.label_in('en'))}</span></td><td>"
        f"{format_number(f.value, 'vi')}</td><td>{_html.escape(f.as_of)}</td></tr>"
        for f in published_facts().values()
    )
    links = " · ".join(
        f'<a href="{_html.escape(href)}">{_html.escape(t("usage_since_launch", lang))}</a>'
        for lang, href in sorted((compared or {}).items(), key=lambda kv: kv[0] != "vi")
    )
    return (
        f"<h2>{esc(t('published_facts_title', 'vi'))} / {esc(t('published_facts_title', 'en'))}</h2>"
        f"<table><tr><th>{t('published_fact', 'vi')} / {t('published_fact', 'en')}</th>"
        f"<th>{t('published_value', 'vi')} / {t('published_value', 'en')}</th>"
        f"<th>{t('published_as_of', 'vi')} / {t('published_as_of', 'en')}</th></tr>{rows}</table>"
        + (f"<p>{links}</p>" if links else "")
        + f"<p class='note'>{_html.escape(published_source('vi'))}</p>"
    )
