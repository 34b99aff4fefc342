"""Quality over time: a dated snapshot of every scorecard run, the trend per agency and for the
catalogue, and the datasets that moved most, with the indicators that changed.

Each ``lab quality score`` run appends its scorecard to a history store (Parquet, one row per dataset
and snapshot, :func:`append_snapshot`): MQA points and band, udata score, stars, freshness, content
score, the quality index, broken links, and every MQA indicator (``mqa_*``) and udata criterion
(``udata_*``) so that a move can be explained. The file is rewritten atomically (:mod:`lab.atomic`) with
the earlier snapshots unchanged; a second run on the same day replaces that day's snapshot (a day has one
snapshot: the last run of the day), so re-running is idempotent.

:func:`trend` gives, per snapshot, the catalogue's and each agency's mean scores; :func:`movers` compares
two snapshots (by default the last two) and lists the datasets whose scores or indicators changed, the
largest move first, each with the names of the indicators that changed (``mqa_keywords``,
``udata_update_on_time``, ``freshness`` …) and datasets added or dropped.
"""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from lab.atomic import atomic_path, check_target
from lab.errors import LabError

log = logging.getLogger(__name__)

__all__ = [
    "SCORES",
    "append_snapshot",
    "default_path",
    "listing_path",
    "movers",
    "read",
    "report_history",
    "score_listing_history",
    "trend",
]

LISTING_ID = "portal-datasets"
"""The catalog entry of the portal's current listing (what the quality report scores)."""
LISTING_HISTORY_ID = "portal-listing-history"
"""The catalog entry holding earlier copies of the listing (a ``snapshot_date`` column)."""

SCORES = (
    "mqa_points",
    "mqa_band",
    "udata_score",
    "stars",
    "freshness",
    "content_score",
    "quality",
    "links_broken",
)
"""The scores kept in each snapshot (with every ``mqa_*`` and ``udata_*`` indicator)."""
SUMMARY = ("mqa_points", "udata_score", "stars", "content_score", "quality")
"""The scores :func:`trend` averages."""


class QualityHistoryError(LabError):
    """The quality history is unreadable or not a history, or a snapshot cannot be taken."""


def default_path() -> Path:
    """``$LAB_QUALITY_HISTORY`` if set, else ``<cache>/quality/score-history.parquet``."""
    from lab.settings import cache_dir

    named = os.environ.get("LAB_QUALITY_HISTORY", "").strip()
    return Path(named) if named else cache_dir() / "quality" / "score-history.parquet"


def listing_path() -> Path:
    """The quality history of the portal's listing: ``listing-score-history.parquet`` beside
    :func:`default_path` (the catalog's history): the two score different datasets, never mixed."""
    return default_path().with_name("listing-score-history.parquet")


def read(path: str | Path | None = None) -> pl.DataFrame:
    """The history (empty, with ``as_of`` and ``id`` only, when there is none yet)."""
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        return pl.DataFrame(schema={"as_of": pl.Date, "id": pl.String})
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several kinds for a damaged file
        raise QualityHistoryError(f"not a readable Parquet file ({type(exc).__name__})", file=path) from None
    if not {"as_of", "id", "mqa_points"} <= set(frame.columns):
        raise QualityHistoryError("not a quality history (no as_of, id, mqa_points columns)", file=path)
    return frame


def _indicators(frame: pl.DataFrame) -> list[str]:
    return [
        c for c in frame.columns if c.startswith(("mqa_", "udata_")) and c not in (*SCORES, "udata_score")
    ]


def snapshot(datasets: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The snapshot rows of a scorecard (``Scores.datasets``): ``as_of``, ``id``, ``title``,
    ``publisher``, :data:`SCORES` and every indicator column it has."""
    keep = ["id", "title", "publisher", *[c for c in SCORES if c in datasets.columns], *_indicators(datasets)]
    return datasets.select(pl.lit(as_of, pl.Date).alias("as_of"), *keep)


def append_snapshot(datasets: pl.DataFrame, as_of: date, path: str | Path | None = None) -> Path:
    """Append the snapshot of ``datasets`` (a scorecard) dated ``as_of`` to the history.

    Parameters
    ----------
    datasets
        ``Scores.datasets`` of :func:`lab.quality.scorecard.score`.
    as_of
        The snapshot's date (the scorecard's ``as_of``); an earlier snapshot of the same day is replaced.
    path
        The history file (default :func:`default_path`).

    Returns
    -------
    pathlib.Path
        The history file.
    """
    if datasets.is_empty():
        raise QualityHistoryError("the scorecard has no dataset: nothing to record")
    target = check_target(path if path is not None else default_path())
    old = read(target).filter(pl.col("as_of") != as_of)
    new = snapshot(datasets, as_of)
    frame = pl.concat([old, new], how="diagonal_relaxed") if old.height else new
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        frame.sort("as_of", "id", maintain_order=True).write_parquet(tmp)
    log.info("quality history %s: snapshot of %s, %d datasets", target, as_of, new.height)
    return target


def trend(history: pl.DataFrame) -> pl.DataFrame:
    """Mean scores per snapshot, for the catalogue and per agency.

    Returns
    -------
    polars.DataFrame
        ``as_of``, ``agency`` (null: the whole catalogue), ``datasets``, the means of :data:`SUMMARY`
        (nulls left out: an unknown score is not zero), ``fresh_share`` (share of datasets whose
        freshness is ``on_time`` among those with a schedule); catalogue rows first, then agencies.
    """
    if history.is_empty():
        return pl.DataFrame(schema={"as_of": pl.Date, "agency": pl.String, "datasets": pl.Int64})
    have = [c for c in SUMMARY if c in history.columns]
    if "freshness" in history.columns:
        scheduled = pl.col("freshness").is_in(["on_time", "late"])
        fresh = pl.when(scheduled.sum() > 0).then((pl.col("freshness") == "on_time").sum() / scheduled.sum())
    else:
        fresh = pl.lit(None, pl.Float64)
    aggs = [
        pl.len().cast(pl.Int64).alias("datasets"),
        *(pl.col(c).cast(pl.Float64).mean().round(4).alias(c) for c in have),
        fresh.alias("fresh_share"),
    ]
    catalogue = history.group_by("as_of").agg(aggs).with_columns(agency=pl.lit(None, pl.String))
    agencies = history.group_by("as_of", "publisher").agg(aggs).rename({"publisher": "agency"})
    cols = ["as_of", "agency", "datasets", *have, "fresh_share"]
    return pl.concat([catalogue.select(cols), agencies.select(cols)]).sort(
        "as_of", pl.col("agency").is_not_null(), "agency"
    )


def movers(
    history: pl.DataFrame, start: date | None = None, end: date | None = None, n: int | None = None
) -> pl.DataFrame:
    """The datasets whose scores or indicators changed between two snapshots, largest move first.

    Parameters
    ----------
    history
        :func:`read`.
    start, end
        The snapshots compared (default: the last two). A date without a snapshot is a
        :class:`QualityHistoryError`.
    n
        Keep the first ``n`` (default all).

    Returns
    -------
    polars.DataFrame
        ``id``, ``publisher``, ``from``, ``to``, ``change`` (``changed``, ``added`` or ``dropped``),
        ``mqa_points_before``/``_after``/``delta_mqa_points``,
        ``quality_before``/``_after``/``delta_quality``,
        ``indicators`` (the names of the scores and indicators whose value changed, in column order).
        Datasets with nothing changed are left out.
    """
    days = sorted(history.get_column("as_of").unique().to_list())
    if len(days) < 2 and (start is None or end is None):
        raise QualityHistoryError(f"the history has {len(days)} snapshot(s): two are needed to compare")
    start = start or days[-2]
    end = end or days[-1]
    for d in (start, end):
        if d not in days:
            raise QualityHistoryError(f"no snapshot on {d}; snapshots: {', '.join(map(str, days[-5:]))}")
    compared = [c for c in (*SCORES, *_indicators(history)) if c in history.columns and c != "mqa_band"]
    before = history.filter(pl.col("as_of") == start).drop("as_of").with_columns(_in=pl.lit(True))
    after = history.filter(pl.col("as_of") == end).drop("as_of").with_columns(_in=pl.lit(True))
    joined = before.join(after, on="id", how="full", suffix="_after", coalesce=True)
    changed_names = pl.concat_list(
        [pl.when(pl.col(c).ne_missing(pl.col(f"{c}_after"))).then(pl.lit(c)) for c in compared]
    ).list.drop_nulls()

    def col(name: str) -> pl.Expr:
        return pl.col(name) if name in joined.columns else pl.lit(None, pl.Float64)

    in_before = pl.col("_in").fill_null(False)
    in_after = pl.col("_in_after").fill_null(False)
    out = joined.select(
        "id",
        pl.coalesce("publisher_after", "publisher").alias("publisher"),
        pl.lit(start, pl.Date).alias("from"),
        pl.lit(end, pl.Date).alias("to"),
        pl.when(~in_before)
        .then(pl.lit("added"))
        .when(~in_after)
        .then(pl.lit("dropped"))
        .otherwise(pl.lit("changed"))
        .alias("change"),
        col("mqa_points").alias("mqa_points_before"),
        col("mqa_points_after").alias("mqa_points_after"),
        (col("mqa_points_after") - col("mqa_points")).round(4).alias("delta_mqa_points"),
        col("quality").alias("quality_before"),
        col("quality_after").alias("quality_after"),
        (col("quality_after") - col("quality")).round(4).alias("delta_quality"),
        changed_names.alias("indicators"),
    ).filter((pl.col("change") != "changed") | (pl.col("indicators").list.len() > 0))
    out = out.sort(
        [
            pl.col("delta_mqa_points").abs().fill_null(float("inf")),
            pl.col("delta_quality").abs().fill_null(0),
            "id",
        ],
        descending=[True, True, False],
    )
    return out.head(n) if n is not None else out


def score_listing_history(catalog: Any) -> pl.DataFrame:
    """Snapshot rows (:func:`snapshot`) of every copy of the listing in :data:`LISTING_HISTORY_ID`, each
    scored as of its ``snapshot_date``, and of the current listing (:data:`LISTING_ID`) as of its catalog
    entry's ``modified`` date (no network: links are not checked, as for the report).

    Parameters
    ----------
    catalog
        A :class:`lab.catalog.Catalog` holding both entries.
    """
    from lab.loader import load
    from lab.quality.scorecard import score_listing

    copies = load(LISTING_HISTORY_ID, catalog=catalog)
    synthetic = bool(catalog.get(LISTING_HISTORY_ID).synthetic)
    current = catalog.get(LISTING_ID)
    listings = [
        (day, copies.filter(pl.col("snapshot_date") == day).drop("snapshot_date"))
        for day in sorted(copies.get_column("snapshot_date").unique().to_list())
    ]
    if current.modified is not None:
        listings.append((current.modified, load(LISTING_ID, catalog=catalog)))
    frames = [
        snapshot(score_listing(listing, as_of=day, synthetic=synthetic).datasets, day)
        for day, listing in listings
    ]
    if not frames or all(f.is_empty() for f in frames):
        raise QualityHistoryError("the listing history holds no copy", dataset=LISTING_HISTORY_ID)
    return pl.concat(frames, how="diagonal_relaxed").sort("as_of", "id", maintain_order=True)


def report_history(catalog: Any) -> Path:
    """The history the quality report and the insights app show.

    When the catalog holds earlier copies of the portal's listing (:data:`LISTING_HISTORY_ID`, e.g. the
    demo portal's), the history of the listing (:func:`listing_path`), scored from them the first time
    (written whole, atomically; a later call reads it); otherwise the catalog's own history
    (:func:`default_path`, appended to by ``lab quality score``).
    """
    if LISTING_HISTORY_ID not in catalog or LISTING_ID not in catalog:
        return default_path()
    target = check_target(listing_path())
    if not target.exists():
        frame = score_listing_history(catalog)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            frame.write_parquet(tmp)
        log.info("listing quality history %s: %d snapshots", target, frame.get_column("as_of").n_unique())
    return target
