"""Month rollups: the counts every KPI of :mod:`lab.usage.kpis` needs, reduced once from the counted rows.

One function, :func:`rollup`, turns counted rows (per-part summary counts, or events with ``n`` = 1)
into small frames keyed by month. One process calls it over the whole store; on a Dask cluster each
task calls it over a contiguous run of month partitions (:mod:`lab.usage.cluster`) and the client
only concatenates the tasks' frames (:func:`merge`). The KPI functions then read these frames, never
the summaries, so what stays on the client is bounded by datasets × months, not by events.

=================  ==================================================================================
frame              rows and columns
=================  ==================================================================================
``counts``         one per month: ``page_views``, ``dataset_views``, ``downloads``, ``api_calls``,
                   ``signups`` (web page events as :data:`lab.usage.schema.PAGE_EVENTS`)
``parts``          one per month (summaries only): ``visits`` (web sessions), ``visitors`` and
                   ``accounts`` (the sums of the parts' distinct counts: exact for a month of one part)
``datasets``       one per (month, dataset): ``dataset_views``, ``downloads``, ``api_calls``,
                   ``channel_requests``
``channels``       one per (month, channel): ``requests`` (every counted event but sign-ups and logins)
``apps``           one per (month, app): ``api_calls``, ``datasets`` (distinct datasets called)
``app_years``      one per (year, app) with API calls: ``datasets`` (distinct over the year's months)
``app_pairs``      (year, app, dataset) pairs of API calls, for the years a task holds only part of
=================  ==================================================================================

Distinct datasets per application and year are exact: a task that holds every month of a year counts
them (``app_years``); a year cut between tasks is sent as its distinct pairs and counted after the merge.
Every other frame is keyed by month, so concatenation is the exact merge.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import polars as pl

from lab.usage.schema import PAGE_EVENTS

Rollups = dict[str, pl.DataFrame]
"""The frames of a rollup, by name (see the module docstring)."""

MONTH = ["year", "month"]


def _n(condition: pl.Expr) -> pl.Expr:
    """Sum of counts ``n`` where ``condition`` holds (0 if none)."""
    return pl.col("n").filter(condition).sum().cast(pl.Int64)


def rollup(
    rows: pl.LazyFrame,
    parts: pl.LazyFrame | None = None,
    *,
    whole_years: Collection[int] | None = None,
) -> Rollups:
    """The rollup frames of counted rows.

    Parameters
    ----------
    rows
        Counted rows: ``year, month, channel, event, dataset_id, app_id, n``.
    parts
        The summaries' per-part rows of kinds ``sessions``, ``visitors``, ``accounts`` (``year, month,
        kind, channel, n``); None when the rows are events (``parts`` is then empty).
    whole_years
        The years whose every month is in ``rows`` (default: all of them, as in one process);
        the others get ``app_pairs`` instead of ``app_years``.

    Returns
    -------
    dict
        The frames named in the module docstring.
    """
    ch, ev = pl.col("channel"), pl.col("event")
    web = ch == "web"
    api = rows.filter(ev == "api_call")
    whole = pl.lit(True) if whole_years is None else pl.col("year").is_in(list(whole_years))
    queries = {
        "counts": rows.group_by(MONTH).agg(
            page_views=_n(web & ev.is_in(list(PAGE_EVENTS))),
            dataset_views=_n(web & (ev == "dataset_view")),
            downloads=_n(web & (ev == "download")),
            api_calls=_n(ev == "api_call"),
            signups=_n(ev == "signup"),
        ),
        "datasets": rows.filter(pl.col("dataset_id").is_not_null())
        .group_by(*MONTH, "dataset_id")
        .agg(
            dataset_views=_n(web & (ev == "dataset_view")),
            downloads=_n(web & (ev == "download")),
            api_calls=_n(ev == "api_call"),
            channel_requests=_n(ch.is_in(["zalo", "sms", "app"])),
        ),
        "channels": rows.filter(~ev.is_in(["signup", "login"]))
        .group_by(*MONTH, "channel")
        .agg(requests=pl.col("n").sum().cast(pl.Int64)),
        "apps": api.group_by(*MONTH, "app_id").agg(
            api_calls=pl.col("n").sum().cast(pl.Int64),
            datasets=pl.col("dataset_id").drop_nulls().n_unique().cast(pl.Int64),
        ),
        "app_years": api.filter(whole)
        .group_by("year", "app_id")
        .agg(datasets=pl.col("dataset_id").drop_nulls().n_unique().cast(pl.Int64)),
        "app_pairs": api.filter(~whole).select("year", "app_id", "dataset_id").unique(),
    }
    if parts is not None:
        kind = pl.col("kind")
        queries["parts"] = parts.group_by(MONTH).agg(
            visits=_n((kind == "sessions") & web),
            visitors=_n(kind == "visitors"),
            accounts=_n(kind == "accounts"),
        )
    frames = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    if parts is None:
        columns = ("year", "month", "visits", "visitors", "accounts")
        frames["parts"] = pl.DataFrame(schema=dict.fromkeys(columns, pl.Int64))
    return frames


def merge(pieces: Sequence[Rollups]) -> Rollups:
    """The rollup of all months from the rollups of disjoint runs of months (tasks' results).

    Month-keyed frames are concatenated; the years cut between tasks get their distinct datasets per
    application from the pooled pairs.
    """
    names = pieces[0].keys()
    out = {n: pl.concat([p[n] for p in pieces], how="vertical", rechunk=True) for n in names}
    pairs = out.pop("app_pairs")
    cut = pairs.group_by("year", "app_id").agg(
        datasets=pl.col("dataset_id").drop_nulls().n_unique().cast(pl.Int64)
    )
    out["app_years"] = pl.concat([out["app_years"], cut], how="vertical")
    out["app_pairs"] = pairs.clear()
    return out


def rollup_files(files: Sequence[str], whole_years: Collection[int] | None = None) -> Rollups:
    """The rollup of per-part summary files (``…/year=YYYY/month=MM/sum-<id>.parquet``): what one
    process computes over the whole store, and what a cluster's task computes over its months.

    Parameters
    ----------
    files
        Summary files (:mod:`lab.usage.summary`).
    whole_years
        As for :func:`rollup`.
    """
    from lab.usage.summary import KEY_KINDS, SUMMARY_SCHEMA

    kind = pl.col("kind")
    if files:  # read once (the key lists left out), then every frame from memory
        sums = pl.scan_parquet(list(files), hive_partitioning=True).filter(~kind.is_in(list(KEY_KINDS)))
        sums = sums.collect().lazy()
    else:
        sums = pl.LazyFrame(schema={**SUMMARY_SCHEMA, "year": pl.Int64, "month": pl.Int64})
    rows = sums.filter(kind == "count").select(*MONTH, "channel", "event", "dataset_id", "app_id", "n")
    parts = sums.filter(kind.is_in(["sessions", "visitors", "accounts"]))
    parts = parts.select(*MONTH, "kind", "channel", "n")
    return rollup(rows, parts, whole_years=whole_years)
