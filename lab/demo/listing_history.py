"""The demo portal's listing as it was at the last month-ends: ``catalog/listing_history.csv``.

A portal's listing changes: agencies complete their metadata, and some entries lose a field when a page
is edited. The lab keeps a monthly copy of the listing it harvests; the demo plants one, so the quality
history (:mod:`lab.quality.history`) has something to find: at each of the :data:`SNAPSHOTS` month-ends
before the window's end, the listing as it was then, with :data:`IMPROVED` datasets whose metadata were
completed in the month after (a licence, a description, keywords and a contact added) and
:data:`WORSENED` datasets whose metadata were damaged in it (their licence and download link lost). The
planted ids are in the manifest's truth (``quality_changes``), per pair of consecutive snapshots.

Going back in time from the current listing: datasets issued after a snapshot's day are not in it, and an
update after that day is not yet there (the listing then shows the issue date as the last update).
Synthetic, like every file of the demo.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from lab.demo import timeline
from lab.demo.catalog import PUBLIC_COLUMNS
from lab.demo.context import Context
from lab.periods import month_end

SNAPSHOTS = 3
"""Month-ends before the window's end with a copy of the listing."""
IMPROVED = 6
"""Datasets completed in each month between two snapshots (or the last snapshot and the window's end)."""
WORSENED = 2
"""Datasets damaged in each such month."""
COMPLETED = ("license", "description", "keywords", "contact_name", "contact_email")
"""The fields an improved dataset lacked before its month (and has after)."""
DAMAGED = ("license", "download_url")
"""The fields a damaged dataset had before its month (and lacks after)."""


def snapshot_days(end: date = timeline.WINDOW_END, n: int = SNAPSHOTS) -> list[date]:
    """The ``n`` month-ends before the month of ``end``, oldest first."""
    idx = end.year * 12 + end.month - 1
    return [month_end(i // 12, i % 12 + 1) for i in range(idx - n, idx)]


def _has(frame: pl.DataFrame, fields: tuple[str, ...]) -> pl.Series:
    """Rows where every one of ``fields`` is given."""
    return frame.select(pl.all_horizontal([pl.col(c).is_not_null() for c in fields])).to_series()


def build_history(
    rng: np.random.Generator, current: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, dict[str, list[int]]]]:
    """The earlier listings (``snapshot_date`` + :data:`~lab.demo.catalog.PUBLIC_COLUMNS`) and the planted
    changes, going back from ``current`` (the listing at the window's end).

    In the month after each snapshot day, :data:`IMPROVED` datasets complete at its end gain the
    :data:`COMPLETED` fields (so they lack them on the day), and :data:`WORSENED` datasets lacking a
    :data:`DAMAGED` field at its end lose it (so they have it on the day: the listing's most common licence,
    the download link the portal gives every dataset).

    Returns
    -------
    tuple
        The history frame (oldest snapshot first, by ``portal_id`` within one) and, per
        ``"<from>..<to>"`` pair of consecutive snapshot days, the ``improved`` and ``worsened`` ids.
    """
    later = current.select(PUBLIC_COLUMNS)
    licence = later["license"].drop_nulls().mode().sort()[0]
    link = pl.format("{}/download?format={}", "landing_page", pl.col("formats").str.split(";").list.first())
    later_day = timeline.WINDOW_END
    frames, truth = [], {}
    for day in reversed(snapshot_days()):
        listing = later.filter(pl.col("issued") <= day)
        complete = listing.filter(_has(listing, COMPLETED))["portal_id"].to_numpy()
        damaged = listing.filter(~_has(listing, DAMAGED))["portal_id"].to_numpy()
        improved = sorted(rng.choice(complete, size=IMPROVED, replace=False).tolist())
        worsened = sorted(rng.choice(damaged, size=WORSENED, replace=False).tolist())
        lost = pl.col("portal_id").is_in(worsened)
        listing = listing.with_columns(
            *[
                pl.when(pl.col("portal_id").is_in(improved)).then(None).otherwise(c).alias(c)
                for c in COMPLETED
            ],
        ).with_columns(
            license=pl.when(lost).then(pl.coalesce("license", pl.lit(licence))).otherwise("license"),
            download_url=pl.when(lost)
            .then(pl.coalesce("download_url", link.str.to_lowercase()))
            .otherwise("download_url"),
            modified=pl.when(pl.col("modified") > day).then(pl.col("issued")).otherwise(pl.col("modified")),
        )
        truth[f"{day}..{later_day}"] = {"improved": improved, "worsened": worsened}
        frames.append(listing.with_columns(snapshot_date=pl.lit(day)))
        later, later_day = listing, day
    history = pl.concat(frames).select("snapshot_date", *PUBLIC_COLUMNS)
    return history.sort("snapshot_date", "portal_id"), truth


def write_listing_history(ctx: Context) -> None:
    """Step: ``catalog/listing_history.csv`` (after the catalog step, from its listing)."""
    history, planted = build_history(ctx.rng("listing history"), ctx.shared["catalog"])
    ctx.write_csv(
        "catalog/listing_history.csv",
        history,
        title="Portal dataset listing at the last month-ends",
        description="The listing as the portal showed it at each of the last month-ends before the "
        "window's end (one copy per snapshot_date); metadata completed and damaged on purpose between "
        "them, for the quality history.",
    )
    ctx.truth["quality_changes"] = planted
