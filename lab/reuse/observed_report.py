"""The reuse report's section on observed versus declared reuse (:mod:`lab.reuse.observed`).

The notebook only calls :func:`observed_html`: the usage store (the demo portal's logs when it holds no
real data), the catalog's registry and listing, up to the report's day, never the network. Applications
are shown by their registered product's title or a keyed pseudonym (:func:`lab.usage.disclosure.app_labels`),
never by their consumer key; volumes below ``min_count`` are shown as "< k".
"""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from lab.charts import Html, format_number, table
from lab.i18n import t
from lab.reuse import observed as ob

__all__ = ["observed_html"]

_STATUS_LABELS = {
    "declared": "observed_status_declared",
    "observed only": "observed_status_observed_only",
    "declared but never observed": "observed_status_declared_never_observed",
    "neither": "observed_status_neither",
}


def observed_html(
    catalog: Any,
    as_of: date,
    lang: str,
    *,
    min_count: int = 10,
    store: str | Path | None = None,
    top: int = 15,
    rules: ob.ObservedRules | None = None,
) -> Html:
    """Dataset statuses, the 50-reused target both ways, and the top of the follow-up list.

    Parameters
    ----------
    catalog
        The catalog (or its file) holding ``reuse-registry`` and ``portal-datasets``.
    as_of
        The report's last day: usage is read up to its month.
    lang
        ``vi`` or ``en``.
    min_count
        Volumes below it are shown as "< k".
    store
        The usage store (default ``$LAB_USAGE_STORE`` or ``data/store``, filled from the demo portal
        when it holds no real data).
    top
        Rows of the follow-up list shown.
    rules
        :class:`lab.reuse.observed.ObservedRules` (default: the defaults).
    """
    rules = rules or ob.ObservedRules()
    from lab.catalog import as_catalog
    from lab.loader import load, record_provenance
    from lab.reuse.registry import registry_from_catalog
    from lab.usage.disclosure import app_labels
    from lab.usage.report import prepare_store
    from lab.usage.store import LEDGER

    cat = as_catalog(catalog)
    st = prepare_store(str(store) if store else None, cat.path)
    if (st.path / LEDGER).is_file():  # the store's ledger changes with every ingest: a report input
        record_provenance("usage-store", st.path / LEDGER)
    registry = registry_from_catalog(cat)
    listing = load("portal-datasets", catalog=cat) if "portal-datasets" in cat else None
    ids = listing.get_column("portal_id").cast(pl.String).to_list() if listing is not None else None
    result = ob.observed_reuse(st, registry, datasets=ids, rules=rules, end=f"{as_of:%Y-%m}")
    _series, target = ob.target_both_ways(result, registry, as_of=as_of)

    counts = pl.DataFrame(
        {
            "status": [t(_STATUS_LABELS[s], lang) for s in ob.DATASET_STATUSES],
            "n": [int((result.datasets["status"] == s).sum()) for s in ob.DATASET_STATUSES],
        }
    ).with_columns(pl.col("n").map_elements(lambda v: format_number(v, lang), return_dtype=pl.String))
    lines = []
    for key, label in (
        ("declared", "observed_target_declared"),
        ("declared_or_observed", "observed_target_both"),
    ):
        tv = target[key]
        when = (
            f"{t('observed_target_reached', lang)} {tv['reached_on']}"
            if tv["reached_on"]
            else f"{t('observed_target_projected', lang)} {tv['projected'] or '—'}"
        )
        lines.append((t(label, lang), format_number(tv["value"], lang), when))
    target_table = pl.DataFrame(lines, schema=["line", "value", "when"], orient="row")

    follow = ob.follow_up(result).head(top)
    labels = app_labels(follow.get_column("app_id").to_list(), registry.frame, lang)
    kinds = {
        "application": t("observed_kind_application", lang),
        "scheduled download": t("observed_kind_download", lang),
    }
    small = t("usage_suppressed", lang).format(k=min_count) if min_count > 1 else None
    shown = (
        follow.with_columns(
            app=pl.Series(labels, dtype=pl.String),
            kind=pl.col("kind").replace_strict(kinds, return_dtype=pl.String),
            volume=pl.when(pl.col("volume") < min_count)
            .then(pl.lit(small))
            .otherwise(pl.col("volume").cast(pl.String)),
        )
        .with_columns(app=pl.when(pl.col("app_id").is_null()).then(pl.lit("—")).otherwise(pl.col("app")))
        .select("kind", "app", "dataset_id", "first_month", "last_month", "months", "volume")
    )
    headers = [
        t("observed_col_kind", lang),
        t("observed_col_app", lang),
        t("id", lang),
        t("observed_col_since", lang),
        t("observed_col_until", lang),
        t("observed_col_months", lang),
        t("observed_col_volume", lang),
    ]
    note = t("observed_reuse_note", lang).format(days=rules.min_download_days)
    return Html(
        f"<p>{html.escape(note)}</p>"
        + str(table(counts, [t("observed_reuse_title", lang), t("insights_count", lang)]))
        + f"<h3>{html.escape(t('observed_target_title', lang))}</h3>"
        + str(table(target_table, ["", t("datasets", lang), ""]))
        + f"<h3>{html.escape(t('observed_follow_up_title', lang))}</h3>"
        + str(table(shown, headers))
    )
