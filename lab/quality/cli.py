"""``lab quality``: score the catalog and check its links.

``lab quality score [ID …] [--offline] [--json]`` prints, with ``--json``, one object
``{"datasets": [...], "catalogue": {...}}``: per dataset ``id, mqa_points, mqa_band, udata_score, stars,
freshness, content`` (and title, publisher, links, quality index, reasons), for the catalogue
``mqa_points`` and ``mqa_band``. Without ``--offline`` the links the catalog lists are checked first;
with it, the last recorded results are used and nothing touches the network.

``lab quality links [--offline] [--json]`` checks every URL of the catalog (or, offline, shows the last
results) with its status, reason, broken-since date and failure count.

Every whole-catalog ``lab quality score`` appends a dated snapshot to the quality history (``--history``);
``lab quality history [--from DATE] [--to DATE] [--n N] [--json]`` prints the trend (catalogue, agencies) and
the datasets that moved most between two snapshots, with the indicators that changed
(:mod:`lab.quality.history`).

``lab quality freshness [--as-of DATE] [--history FILE] [--months N] [--json]`` observes the catalog and
the cache (catalog date, HTTP Last-Modified, content sha256), appends the changes to the freshness
history, and prints each dataset's HDX status (fresh / due / overdue / delinquent / unknown) and the
share of fresh datasets per month, portal-wide and per agency (:mod:`lab.quality.aging`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]


def _catalog(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from lab.catalog import load_catalog

    return load_catalog(args.catalog)


def _expected_formats(meta: Any) -> dict[str, str | None]:
    """``{url: format expected there}``: a download URL promises its format, a landing page nothing."""
    import polars as pl

    d = meta.distributions
    out: dict[str, str | None] = dict.fromkeys(
        d.filter(pl.col("access_url").is_not_null())["access_url"].to_list()
    )
    downloads = d.filter(pl.col("download_url").is_not_null())
    out.update(zip(downloads["download_url"].to_list(), downloads["format"].to_list(), strict=True))
    return out


def _run_links(args: argparse.Namespace, catalog: Any, ids: list[str] | None = None):  # type: ignore[no-untyped-def]
    """Check the catalog's links; with ``--offline`` only local files, the others from the last results."""
    from lab.quality import links, metadata

    meta = metadata.from_catalog(catalog, ids)
    results = links.check_links(_expected_formats(meta), offline_only=True if args.offline else None)
    return links.results_frame(results)


def cmd_score(args: argparse.Namespace) -> int:
    """Score the catalog (or the datasets named) and print the scores."""
    from lab.quality.scorecard import reasons_text, score_catalog

    catalog = _catalog(args)
    ids = args.ids or None
    if ids:
        for dataset_id in ids:
            catalog.get(dataset_id)  # unknown ids fail early, with a suggestion
    results = _run_links(args, catalog, ids)
    scores = score_catalog(catalog, ids, links=results, offline=args.offline)
    if not ids and scores.datasets.height:  # a snapshot of the whole catalog, dated, in the quality history
        from lab.quality.history import append_snapshot

        append_snapshot(scores.datasets, scores.as_of, args.history)
    if args.json:
        print(json.dumps(scores.to_json(), ensure_ascii=False, indent=2, default=str, allow_nan=False))
        return 0
    import polars as pl

    table = scores.datasets.select(
        "id",
        "mqa_points",
        "mqa_max_points",
        "mqa_band",
        "udata_score",
        "stars",
        "freshness",
        "content_score",
        reasons=reasons_text(pl.col("reasons"), limit=3),
    )
    width = max(len(i) for i in table["id"].to_list()) if table.height else 2
    for row in table.iter_rows(named=True):
        content = "—" if row["content_score"] is None else f"{row['content_score']:.3f}"
        print(
            f"{row['id']:<{width}}  MQA {row['mqa_points']:6.1f}/{row['mqa_max_points']:.0f} "
            f"{row['mqa_band']:<10}  "
            f"udata {row['udata_score']:.2f}  {row['stars']}★  {row['freshness']:<13}  content {content}  "
            f"{row['reasons']}"
        )
    cat = scores.catalogue
    print(
        f"catalogue: MQA {cat['mqa_points']:.2f} of {cat['max_points']:.0f} ({cat['mqa_band']}), "
        f"{cat['datasets']} datasets"
        + (
            f"; {cat['links_unknown']} links not checked (unknown: left out of the score)"
            if cat["links_unknown"]
            else ""
        )
    )
    return 0


def cmd_links(args: argparse.Namespace) -> int:
    """Check (or, offline, show) every link of the catalog."""
    frame = _run_links(args, _catalog(args))
    if args.json:
        print(json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2, default=str))
        return 0
    for row in frame.sort("status", "url").iter_rows(named=True):
        extra = []
        if row["reason"]:
            extra.append(row["reason"])
        if row["message"]:
            extra.append(row["message"])
        if row["first_failure"]:
            extra.append(f"broken since {row['first_failure']:%Y-%m-%d}, {row['failure_count']} failure(s)")
        if row["cached"]:
            extra.append("last result")
        print(f"{row['status']:<9}  {row['url']}  {'; '.join(extra)}")
    counts = frame.group_by("status").len().sort("status")
    print("links: " + ", ".join(f"{s} {n}" for s, n in counts.iter_rows()) if frame.height else "links: none")
    return 0


def cmd_freshness(args: argparse.Namespace) -> int:
    """Record the catalog's observed changes, print HDX statuses and the monthly share of fresh datasets."""
    from datetime import date

    import polars as pl

    from lab.quality import aging
    from lab.quality.metadata import from_catalog
    from lab.usage.store import months_between

    catalog = _catalog(args)
    from lab.periods import as_of_date

    as_of = date.fromisoformat(args.as_of) if args.as_of else as_of_date()
    path = args.history or aging.history_path()
    aging.record(path, aging.catalog_observations(catalog), as_of)
    history = aging.read_history(path)
    meta = from_catalog(catalog).datasets.select("id", "publisher", "frequency", "modified", "issued")
    statuses = aging.status_as_of(meta, history, as_of)
    start = as_of.year * 12 + as_of.month - 1 - (max(args.months, 1) - 1)
    months = months_between(f"{start // 12:04d}-{start % 12 + 1:02d}", f"{as_of:%Y-%m}")
    share = aging.fresh_share(meta.drop("modified"), history, months)
    if args.json:
        out = {
            "datasets": statuses.select(
                "id", "publisher", "frequency", "last_update", "last_method", "age_days", "status"
            ).to_dicts(),
            "share": share.to_dicts(),
        }
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return 0
    for row in statuses.sort("status", "id").iter_rows(named=True):
        age = "—" if row["age_days"] is None else f"{row['age_days']} d"
        print(f"{row['status']:<10}  {row['id']}  {row['frequency']}  {age}  {row['last_method'] or ''}")
    for row in share.filter(pl.col("agency").is_null()).iter_rows(named=True):
        pct = "—" if row["fresh_share"] is None else f"{row['fresh_share']:.0%}"
        print(f"{row['month']}: fresh {pct} of {row['datasets'] - row['unknown']} datasets with a status")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """Print the quality trend (catalogue, agencies) and the datasets that moved most between two runs."""
    from datetime import date

    import polars as pl

    from lab.quality import history as qh

    frame = qh.read(args.history)
    trend = qh.trend(frame)
    start = date.fromisoformat(args.start) if args.start else None
    end = date.fromisoformat(args.end) if args.end else None
    enough = frame.get_column("as_of").n_unique() >= 2 or (start and end)
    moved = qh.movers(frame, start, end, n=args.n) if enough else None
    if args.json:
        out = {
            "trend": trend.to_dicts(),
            "movers": moved.to_dicts() if moved is not None else [],
        }
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str, allow_nan=False))
        return 0
    if trend.is_empty():
        print("no snapshot yet: run lab quality score")
        return 0
    for row in trend.filter(pl.col("agency").is_null()).iter_rows(named=True):
        mqa = "—" if row["mqa_points"] is None else f"{row['mqa_points']:.1f}"
        print(f"{row['as_of']}: {row['datasets']} datasets, MQA {mqa}, quality {row['quality']}")
    if moved is None:
        print("one snapshot: run lab quality score again later to see what moved")
        return 0
    for row in moved.iter_rows(named=True):
        delta = "—" if row["delta_mqa_points"] is None else f"{row['delta_mqa_points']:+.1f}"
        print(f"{row['id']}  {row['change']}  MQA {delta}  {', '.join(row['indicators'])}")
    return 0


def _date(text: str) -> str:
    """argparse type: ``YYYY-MM-DD``."""
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD") from None
    return text


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``lab quality score`` and ``lab quality links``."""
    quality = subparsers.add_parser(
        "quality", help="dataset quality: scores and link checks", parents=[common]
    )
    qsub = quality.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = qsub.add_parser("score", help="MQA, udata, 5-star, freshness and content scores", parents=[common])
    p.add_argument("ids", nargs="*", metavar="ID", help="dataset ids (default: the whole catalog)")
    p.add_argument("--offline", action="store_true", help="use the last link-check results; no network")
    p.add_argument("--json", action="store_true", help='print {"datasets": [...], "catalogue": {...}}')
    p.add_argument(
        "--history",
        metavar="FILE",
        help="quality history a whole-catalog run appends to "
        "(default: $LAB_QUALITY_HISTORY or <cache>/quality/score-history.parquet)",
    )
    p.set_defaults(func=cmd_score)
    p = qsub.add_parser(
        "history", help="quality over time: trend and the datasets that moved most", parents=[common]
    )
    p.add_argument("--history", metavar="FILE", help="quality history (default as for score)")
    p.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD", help="first snapshot compared")
    p.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD", help="second snapshot compared")
    p.add_argument("--n", type=int, default=10, metavar="N", help="movers shown (default 10)")
    p.add_argument("--json", action="store_true", help='print {"trend": [...], "movers": [...]}')
    p.set_defaults(func=cmd_history)
    p = qsub.add_parser("links", help="check every distribution URL of the catalog", parents=[common])
    p.add_argument("--offline", action="store_true", help="show the last results; no network")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_links)
    p = qsub.add_parser(
        "freshness", help="HDX freshness per dataset, with a history of observed changes", parents=[common]
    )
    p.add_argument(
        "--as-of", type=_date, metavar="YYYY-MM-DD", help="the day observed (default $LAB_AS_OF or today)"
    )
    p.add_argument(
        "--history",
        metavar="FILE",
        help="history file (default: $LAB_FRESHNESS_HISTORY or <cache>/quality/freshness-history.parquet)",
    )
    p.add_argument("--months", type=int, default=12, metavar="N", help="months of fresh shares (default 12)")
    p.add_argument("--json", action="store_true", help='print {"datasets": [...], "share": [...]}')
    p.set_defaults(func=cmd_freshness)
