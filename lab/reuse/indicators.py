"""Reuse indicators: open datasets over time, datasets reused in live products (the "50" target), reuse rate
by agency and theme, reuses and unique reusers, products live and retired, time from publication to first
reuse, and the registry summary and diff the CLI prints.

Every indicator takes the rows :func:`lab.reuse.validation.valid_rows` gives: every declared reuse, whatever
its flags (as udata counts them: a reuse without dataset or sharing a url with another is a reuse; flags
and possible duplicates are listed for a human to review, never dropped), dataset ids reduced to those the
catalog knows. A reuse's state on a date comes from its dates: it
is *launched* from its launch date, *live* until its retirement date, *planned* before its launch (or without
one). Reuses of every type count (an article or a paper built on a dataset is a reuse of it); pass
``types=vocab.product_types()`` to count only apps, APIs and devices.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

import polars as pl

from lab.periods import as_of_date
from lab.reuse.months import month_ends
from lab.reuse.registry import REGISTRY_COLUMNS, Registry, links, owner_key, spam_flags, to_text
from lab.reuse.validation import possible_duplicates, valid_rows

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------- inputs
def portal_listing(catalog: Any = None, dataset_id: str = "portal-datasets") -> pl.DataFrame:
    """The portal's dataset listing (:func:`lab.load`) with ``dataset_id``, the portal id as text (the ids the
    registry uses)."""
    from lab.loader import load

    listing = load(dataset_id, catalog=catalog)
    return listing.with_columns(pl.col("portal_id").cast(pl.String).alias("dataset_id"))


def with_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``_from`` (launch date; null if never launched) and ``_to`` (the day it stops being live)."""
    # a row marked retired without a retirement date is never counted live (validation reports it)
    to = pl.when((pl.col("status") == "retired") & pl.col("retired").is_null()).then(pl.col("launched"))
    return frame.with_columns(
        pl.col("launched").alias("_from"), pl.coalesce(pl.col("retired"), to).alias("_to")
    )


def status_on(day: date) -> pl.Expr:
    """A reuse's state on ``day`` from its dates: ``planned``, ``live`` or ``retired`` (needs
    :func:`with_dates`)."""
    return (
        pl.when(pl.col("_from").is_null() | (pl.col("_from") > day))
        .then(pl.lit("planned"))
        .when(pl.col("_to").is_not_null() & (pl.col("_to") <= day))
        .then(pl.lit("retired"))
        .otherwise(pl.lit("live"))
    )


def registered_by(day: date) -> pl.Expr:
    """True for reuses the registry knew of on ``day``: created (or launched) on or before it."""
    return (
        pl.col("created").is_null() & pl.col("launched").is_null()
        | (pl.col("created") <= day)
        | (pl.col("launched") <= day)
    ).fill_null(False)


def _typed(valid: pl.DataFrame, types: Collection[str] | None) -> pl.DataFrame:
    return valid if types is None else valid.filter(pl.col("type").is_in(list(types)))


def _spans(valid: pl.DataFrame, types: Collection[str] | None = None) -> pl.DataFrame:
    """One row per (reuse, dataset) with the reuse's ``_from`` and ``_to`` dates."""
    frame = with_dates(_typed(valid, types))
    return (
        frame.select("reuse_id", "owner", "_from", "_to", pl.col("datasets").alias("dataset_id"))
        .explode("dataset_id")
        .drop_nulls("dataset_id")
    )


# ------------------------------------------------------------------------------------ time series
def open_datasets_over_time(
    listing: pl.DataFrame,
    *,
    start: date | None = None,
    end: date | None = None,
    open_only: bool = True,
    issued: str = "issued",
) -> pl.DataFrame:
    """Open datasets at each month end: ``date``, ``published`` (that month), ``open_datasets`` (cumulative).

    A dataset is open when its ``access_rights`` are ``public`` (``open_only=False`` counts every dataset).
    """
    frame = listing
    if open_only and "access_rights" in frame.columns:
        frame = frame.filter(pl.col("access_rights") == "public")
    frame = frame.drop_nulls(issued)
    start = start or frame[issued].min() or as_of_date()
    end = end or frame[issued].max() or as_of_date()
    grid = pl.DataFrame({"date": month_ends(start, end)})
    per_month = frame.group_by(pl.col(issued).dt.month_end().alias("date")).len(name="published")
    before = frame.filter(pl.col(issued) < start.replace(day=1)).height
    return (
        grid.join(per_month.with_columns(pl.col("date").cast(pl.Date)), on="date", how="left")
        .with_columns(pl.col("published").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("published").cum_sum() + before).alias("open_datasets"))
    )


def datasets_reused_over_time(
    valid: pl.DataFrame,
    dates: Sequence[date] | pl.Series | None = None,
    *,
    basis: str = "live",
    types: Collection[str] | None = None,
) -> pl.DataFrame:
    """Distinct datasets reused on each date: ``date``, ``datasets_reused``, ``products`` (reuses counted).

    Parameters
    ----------
    valid
        The registry's valid rows.
    dates
        The dates to count on; default every month end from the first launch to the last date in the registry.
    basis
        ``live``: datasets in at least one product live on that date (the target's definition);
        ``launched``: datasets ever used by a launched product (retired ones included).
    types
        Reuse types to count (default all).
    """
    if basis not in ("live", "launched"):
        raise ValueError("basis is 'live' or 'launched'")
    spans = _spans(valid, types).drop_nulls("_from")
    if dates is None:
        known = [
            d for d in (spans["_from"].max(), spans["_to"].max(), valid["created"].max()) if d is not None
        ]
        last = max(known) if known else as_of_date()
        first = spans["_from"].min() or last
        dates = month_ends(first, last)
    grid = pl.DataFrame({"date": pl.Series(list(dates), dtype=pl.Date)})
    on = grid.join(spans, how="cross").filter(pl.col("_from") <= pl.col("date"))
    if basis == "live":
        on = on.filter(pl.col("_to").is_null() | (pl.col("_to") > pl.col("date")))
    counted = on.group_by("date").agg(
        pl.col("dataset_id").n_unique().alias("datasets_reused"),
        pl.col("reuse_id").n_unique().alias("products"),
    )
    return (
        grid.join(counted, on="date", how="left")
        .with_columns(pl.col("datasets_reused", "products").fill_null(0).cast(pl.Int64))
        .sort("date")
    )


def first_reuse(valid: pl.DataFrame, types: Collection[str] | None = None) -> pl.DataFrame:
    """Each reused dataset's first launch: ``dataset_id``, ``first_reused`` (date), ``first_reuse_id``,
    ``reuses`` (launched reuses of it), sorted by ``first_reused``."""
    spans = _spans(valid, types).drop_nulls("_from").sort("_from", "reuse_id")
    return (
        spans.group_by("dataset_id")
        .agg(
            pl.col("_from").first().alias("first_reused"),
            pl.col("reuse_id").first().alias("first_reuse_id"),
            pl.col("reuse_id").n_unique().alias("reuses"),
        )
        .sort("first_reused", "dataset_id")
    )


def date_reached(valid: pl.DataFrame, n: int, types: Collection[str] | None = None) -> date | None:
    """The day the ``n``-th distinct dataset was first reused by a launched product (None if not yet)."""
    firsts = first_reuse(valid, types)
    return firsts["first_reused"][n - 1] if firsts.height >= n else None


def time_to_first_reuse(valid: pl.DataFrame, listing: pl.DataFrame) -> pl.DataFrame:
    """Days from a dataset's publication to its first reuse: ``dataset_id``, ``title``, ``publisher``,
    ``issued``, ``first_reused``, ``days`` (negative when the registry dates a reuse before the listing's
    publication date: worth a look)."""
    cols = [c for c in ("dataset_id", "title_vi", "publisher", "issued") if c in listing.columns]
    return (
        first_reuse(valid)
        .join(listing.select(cols), on="dataset_id", how="inner")
        .with_columns((pl.col("first_reused") - pl.col("issued")).dt.total_days().alias("days"))
        .rename({"title_vi": "title"} if "title_vi" in cols else {})
        .sort("days")
    )


def time_to_first_reuse_summary(times: pl.DataFrame) -> dict[str, Any]:
    """Median and quartiles (days) of :func:`time_to_first_reuse`, and how many datasets they cover."""
    days = times["days"].drop_nulls()
    if days.len() == 0:
        return {"datasets": 0, "median_days": None, "p25_days": None, "p75_days": None}
    return {
        "datasets": days.len(),
        "median_days": float(days.median()),
        "p25_days": float(days.quantile(0.25, "linear")),
        "p75_days": float(days.quantile(0.75, "linear")),
    }


# --------------------------------------------------------------------------------------- breakdowns
def reuse_rate(
    valid: pl.DataFrame, listing: pl.DataFrame, as_of: date, *, by: str = "publisher", min_count: int = 1
) -> pl.DataFrame:
    """Share of each agency's (or theme's) open datasets that at least one product live on ``as_of`` uses.

    Returns
    -------
    polars.DataFrame
        ``by``, ``datasets`` (open, published by ``as_of``), ``reused``, ``rate`` (%), groups with fewer than
        ``min_count`` datasets left out; highest rate first.
    """
    published = listing.filter(pl.col("issued") <= as_of)
    if "access_rights" in published.columns:
        published = published.filter(pl.col("access_rights") == "public")
    live = _spans(valid).filter(status_on(as_of) == "live").select("dataset_id").unique()
    return (
        published.select(pl.col(by).fill_null("—"), "dataset_id")
        .with_columns(pl.col("dataset_id").is_in(live["dataset_id"].implode()).alias("_reused"))
        .group_by(by)
        .agg(pl.len().alias("datasets"), pl.col("_reused").sum().cast(pl.Int64).alias("reused"))
        .filter(pl.col("datasets") >= min_count)
        .with_columns((100 * pl.col("reused") / pl.col("datasets")).round(1).alias("rate"))
        .sort(["rate", "reused", by], descending=[True, True, False])
    )


def reuses_and_reusers(valid: pl.DataFrame, dates: Sequence[date]) -> pl.DataFrame:
    """Reuses and *unique reusers* counted apart on each date (one reuser can build many products).

    Returns ``date``, ``reuses`` (launched by then), ``unique_reusers`` (distinct owners of those), ``live``,
    ``retired``, ``planned`` (registered by then — created on or before the date — and not launched).
    """
    frame = with_dates(valid).with_columns(owner_key(pl.col("owner")).alias("_owner"))
    rows = []
    for day in dates:  # a handful of dates (years, quarters)
        state = frame.filter(registered_by(day))
        state = state.with_columns(status_on(day).alias("_state"))
        launched = state.filter(pl.col("_state") != "planned")
        rows.append(
            {
                "date": day,
                "reuses": launched.height,
                "unique_reusers": launched["_owner"].drop_nulls().n_unique(),
                "live": state.filter(pl.col("_state") == "live").height,
                "retired": state.filter(pl.col("_state") == "retired").height,
                "planned": state.filter(pl.col("_state") == "planned").height,
            }
        )
    schema = {
        "date": pl.Date,
        **dict.fromkeys(("reuses", "unique_reusers", "live", "retired", "planned"), pl.Int64),
    }
    return pl.DataFrame(rows, schema=schema)


def products_by_status(valid: pl.DataFrame, as_of: date, *, by: str = "type") -> pl.DataFrame:
    """Reuses the registry knew of on ``as_of``, per ``by`` (type, topic, owner_kind...) and state on that
    day: ``by``, ``live``, ``retired``, ``planned``, ``total``; most live first."""
    frame = with_dates(valid).filter(registered_by(as_of)).with_columns(status_on(as_of).alias("_state"))
    wide = (
        frame.group_by(by)
        .agg(*[(pl.col("_state") == s).sum().cast(pl.Int64).alias(s) for s in ("live", "retired", "planned")])
        .with_columns((pl.col("live") + pl.col("retired") + pl.col("planned")).alias("total"))
    )
    return wide.sort(["live", "total", by], descending=[True, True, False])


def top_datasets(valid: pl.DataFrame, n: int = 10, listing: pl.DataFrame | None = None) -> pl.DataFrame:
    """The most reused datasets: ``dataset_id``, ``reuses`` (valid reuses linking it), ``title`` when a
    listing is given; most reused first, ties by id."""
    counts = (
        links(valid)
        .group_by("dataset_id")
        .agg(pl.col("reuse_id").n_unique().alias("reuses"))
        .sort(["reuses", "dataset_id"], descending=[True, False])
        .head(n)
    )
    if listing is not None and "title_vi" in listing.columns:
        counts = counts.join(
            listing.select("dataset_id", pl.col("title_vi").alias("title")), on="dataset_id", how="left"
        )
    return counts


# ---------------------------------------------------------------------------------- summary and diff
def summary(
    registry: Registry | pl.DataFrame,
    known_datasets: Collection[str] | None = None,
    *,
    listing: pl.DataFrame | None = None,
    top: int = 10,
) -> dict[str, Any]:
    """The registry in figures (what ``lab reuse summary --json`` prints), counted as udata counts.

    Keys (udata's definition in brackets, from ``udata/core/reuse/models.py`` and ``csv.py``):

    ``reuses``
        Every declared reuse, one per reuse id, whatever its flags: with or without datasets, archived
        (retired) or not, sharing a url with another or not [udata's public reuse listing
        ``GET /api/1/reuses/`` and its catalogue export ``reuses-*.csv``: every reuse not private and not
        deleted; so a udata export gives ``reuses`` = its rows].
    ``reuses_with_datasets``
        Those linking at least one dataset (of the catalog, when checked) [udata's ``Reuse.objects.visible()``
        — ``datasets__0__exists`` — behind the site's and an organisation's ``metrics.reuses``].
    ``links``
        (reuse, dataset) pairs: each dataset a reuse declares is one link [the sum of the reuses'
        ``metrics.datasets``, ``len(reuse.datasets)``; a udata export's ``datasets`` cells, split on ``,``].
        When checked against the catalog, an id it does not know is not a link (udata cannot hold one).
    ``unique_reusers``
        Distinct owners (case and spaces aside) [udata has no such figure].
    ``datasets_linked``, ``datasets_reused``, ``datasets_reused_live``
        Distinct datasets linked by any reuse; by launched reuses (live or retired); by reuses live now.
    ``top_datasets``
        ``[{dataset_id, reuses}]``: the reuses linking each dataset, most first, ties by id [a dataset's
        ``metrics.reuses``, which udata counts over ``visible()`` reuses: the same, as a reuse linking it has
        a dataset].
    ``possible_duplicates``
        ``[{url, reuse_ids}]``: reuses registering one address written otherwise (``http``/``https``,
        ``www.``, case, final slash), for a human to review, all counted [udata refuses only a byte-identical
        url: ``Reuse.urlhash`` is unique].
    ``flagged``
        ``[{reuse_id, flags}]``: rows with review flags (:data:`~lab.reuse.registry.FLAGS`), all counted.
    ``by_type``, ``by_status``, ``by_owner_kind``; ``rows`` (rows of the file) and
    ``checked_against_catalog``.
    """
    frame = registry.frame if isinstance(registry, Registry) else registry
    valid = valid_rows(frame, known_datasets)
    flags = spam_flags(frame, known_datasets).filter("spam")
    launched = valid.filter(pl.col("status").is_in(["live", "retired"]) & pl.col("launched").is_not_null())
    live = valid.filter(pl.col("status") == "live")

    def counts(column: str) -> dict[str, int]:
        c = (
            valid.group_by(pl.col(column).fill_null("—"))
            .len()
            .sort(["len", column], descending=[True, False])
        )
        return dict(zip(c[column].to_list(), c["len"].to_list(), strict=True))

    tops = top_datasets(valid, top, listing)
    return {
        "reuses": valid.height,
        "reuses_with_datasets": valid.filter(pl.col("datasets").list.len() > 0).height,
        "unique_reusers": valid.select(owner_key(pl.col("owner")).drop_nulls().n_unique()).item(),
        "links": links(valid).height,
        "datasets_reused": links(launched)["dataset_id"].n_unique(),
        "datasets_reused_live": links(live)["dataset_id"].n_unique(),
        "datasets_linked": links(valid)["dataset_id"].n_unique(),
        "top_datasets": tops.to_dicts(),
        "by_type": counts("type"),
        "by_status": counts("status"),
        "by_owner_kind": counts("owner_kind"),
        "possible_duplicates": possible_duplicates(valid).to_dicts(),
        "flagged": [{"reuse_id": r["reuse_id"], "flags": r["flags"]} for r in flags.iter_rows(named=True)],
        "rows": frame.height,
        "checked_against_catalog": known_datasets is not None,
    }


def diff(old: Registry | pl.DataFrame, new: Registry | pl.DataFrame) -> dict[str, Any]:
    """What changed between two registries, by reuse id: ``added``, ``removed``, ``changed`` (sorted id lists)
    and ``fields`` (``{reuse_id: [changed fields]}``). Values are compared as written (lists in order)."""
    a = to_text(old.frame if isinstance(old, Registry) else old)
    b = to_text(new.frame if isinstance(new, Registry) else new)
    cols = [c for c in REGISTRY_COLUMNS if c in a.columns and c in b.columns]
    a = a.select(cols).unique("reuse_id", keep="first", maintain_order=True)
    b = b.select(cols).unique("reuse_id", keep="first", maintain_order=True)
    added = b.join(a, on="reuse_id", how="anti")["reuse_id"].sort().to_list()
    removed = a.join(b, on="reuse_id", how="anti")["reuse_id"].sort().to_list()
    both = a.join(b, on="reuse_id", how="inner", suffix="_new")
    fields = [c for c in cols if c != "reuse_id"]
    changed_fields = (
        both.select(
            "reuse_id",
            pl.concat_list(
                [pl.when(~pl.col(c).eq_missing(pl.col(f"{c}_new"))).then(pl.lit(c)) for c in fields]
            )
            .list.drop_nulls()
            .alias("fields"),
        )
        .filter(pl.col("fields").list.len() > 0)
        .sort("reuse_id")
    )
    return {
        "added": added,
        "removed": removed,
        "changed": changed_fields["reuse_id"].to_list(),
        "fields": dict(
            zip(changed_fields["reuse_id"].to_list(), changed_fields["fields"].to_list(), strict=True)
        ),
    }
