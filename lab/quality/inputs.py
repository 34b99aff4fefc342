"""Usage and reuse counts in the plain shape the quality × usage join takes, from the demo portal.

:func:`lab.quality.scorecard.quality_usage` takes two plain frames, whoever counts them:
``dataset_id, views, downloads, api_calls`` and ``dataset_id, reuses``. The usage and reuse packages
count them properly (robots filtered, double clicks merged, spam reuses removed); this module only gives
simple counts from the demo portal's files, so that the quality report runs on its own:

* views: ``GET /dulieuchitiet/<id>`` answered 200 in the web log, user agents that say they are robots
  or scripts left out; downloads: ``GET /dulieuchitiet/<id>/download…`` the same way;
* API calls: API gateway requests answered 200 with JSON (an HTML answer is an expired account);
* reuses: reuse registry entries that were launched (live or retired), counted once per dataset listed.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from lab.catalog import Catalog

__all__ = ["ROBOTS", "demo_reuse", "demo_usage", "scan_lines", "web_counts"]

ROBOTS = r"(?i)bot|crawl|spider|slurp|monitor|curl|wget|python|java/|go-http|httpclient|headless"
"""User agents counted as robots or scripts (a simple list; the usage package uses a published one)."""

_LINE = (
    r"^\S+ \S+ \S+ \[(?P<day>\d{2}/\w{3}/\d{4}):[^\]]*\] "
    r'"GET /dulieuchitiet/(?P<id>\d+)(?P<dl>/download)?[^"]*" (?P<status>\d{3}) \S+ "[^"]*" "(?P<ua>[^"]*)"'
)


def web_counts(lines: pl.DataFrame | pl.LazyFrame, *, until: date | None = None) -> pl.DataFrame:
    """Views and downloads per portal id from combined-format log lines (a ``line`` column).

    A lazy frame (:func:`scan_lines`) is counted by polars' streaming engine: a scale-1 demo log
    (4 GB, 17 million lines) in bounded memory.
    """
    lazy = lines.lazy().filter(pl.col("line").str.contains("GET /dulieuchitiet/", literal=True))
    parsed = lazy.select(pl.col("line").str.extract_groups(_LINE).alias("m")).unnest("m")
    parsed = parsed.filter(
        pl.col("id").is_not_null() & (pl.col("status") == "200") & ~pl.col("ua").str.contains(ROBOTS)
    ).with_columns(day=pl.col("day").str.to_date("%d/%b/%Y", strict=False))
    if until is not None:
        parsed = parsed.filter(pl.col("day") <= until)
    counts = parsed.group_by(pl.col("id").alias("dataset_id")).agg(
        views=pl.col("dl").is_null().sum().cast(pl.Int64),
        downloads=pl.col("dl").is_not_null().sum().cast(pl.Int64),
    )
    return counts.collect(engine="streaming")


def scan_lines(dataset_id: str, catalog: Catalog) -> pl.LazyFrame:
    """The lines of a log dataset's file as a lazy ``line`` column (nothing read until collected)."""
    from lab import fetch
    from lab.loader import record_provenance

    dataset = catalog.get(dataset_id)
    path = fetch.fetch(dataset, dataset.distributions[0], catalog_root=catalog.root)
    record_provenance(dataset.id, path)
    options = {"has_header": False, "separator": "\x00", "quote_char": None, "infer_schema": False}
    return pl.scan_csv(path, new_columns=["line"], encoding="utf8-lossy", **options)


def demo_usage(catalog: Catalog, *, until: date | None = None) -> pl.DataFrame:
    """``dataset_id, views, downloads, api_calls`` per portal id, from the demo's web and API logs."""
    from lab.loader import load

    web = web_counts(scan_lines("portal-web-logs", catalog), until=until)
    api = load("portal-api-gateway", catalog=catalog).filter(
        (pl.col("status") == 200) & pl.col("content_type").str.contains("json")
    )
    if until is not None:
        api = api.filter(pl.col("timestamp").dt.date() <= until)
    calls = api.group_by(pl.col("portal_id").cast(pl.String).alias("dataset_id")).agg(
        api_calls=pl.len().cast(pl.Int64)
    )
    return (
        web.join(calls, on="dataset_id", how="full", coalesce=True)
        .with_columns(pl.col("views", "downloads", "api_calls").fill_null(0))
        .sort("dataset_id")
    )


def demo_reuse(catalog: Catalog, *, until: date | None = None) -> pl.DataFrame:
    """``dataset_id, reuses`` per portal id, from the demo's reuse registry (launched reuses only)."""
    from lab.loader import load

    registry = load("reuse-registry", catalog=catalog).filter(
        pl.col("status").is_in(["live", "retired"]) & pl.col("launched").is_not_null()
    )
    if until is not None:
        registry = registry.filter(pl.col("launched") <= until)
    return (
        registry.select("reuse_id", dataset_id=pl.col("datasets").str.split(";"))
        .explode("dataset_id")
        .with_columns(pl.col("dataset_id").str.strip_chars())
        .filter(pl.col("dataset_id").is_not_null() & (pl.col("dataset_id") != ""))
        .unique(["reuse_id", "dataset_id"])
        .group_by("dataset_id")
        .agg(reuses=pl.len().cast(pl.Int64))
        .sort("dataset_id")
    )
