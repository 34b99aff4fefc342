"""``lab usage ingest | kpis | top | forget | publish``: the usage commands of the ``lab`` CLI.

::

    lab usage ingest --format {combined,common,haproxy,gateway-csv,gateway-jsonl,channel-csv,accounts,
                               datagouv-metrics,socrata-site-metrics,ga4} FILE... --store DIR
                     [--timezone TZ] [--store-timezone TZ] [--earliest YYYY-MM-DD] [--latest YYYY-MM-DD]
    lab usage kpis --store DIR [--from YYYY-MM] [--to YYYY-MM] [--by month|day] [--min-count K]
                   [--source SOURCE] --json
    lab usage top --store DIR --metric {dataset_views,downloads,api_calls} --n N [--source SOURCE] --json
    lab usage forget FILE|SHA256 --store DIR [--format FORMAT]
    lab usage publish --period YYYY-MM --out DIR [--store DIR] [--min-count K] [--license ID] [--json]

``--store`` defaults to ``$LAB_USAGE_STORE`` or ``data/store``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lab.errors import LabError
from lab.usage.adapters import FORMATS
from lab.usage.privacy import DEFAULT_MIN_COUNT

INGEST_OPTIONS = ("frontends", "ua_header")


def _month(text: str) -> str:
    """argparse type: ``YYYY-MM``."""
    from lab.usage.kpis import _ym

    try:
        _ym(text, "month")
    except Exception:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM") from None
    return text


def _records(frame: Any, columns: tuple[str, ...] | list[str], key: str = "period") -> list[dict[str, Any]]:
    """Rows as JSON records: ``key``, the columns, and ``suppressed`` (the suppressed columns' names)."""
    flags = [c for c in columns if f"{c}_suppressed" in frame.columns]
    out = []
    for row in frame.iter_rows(named=True):
        record = {key: row[key], **{c: row[c] for c in columns}}
        record["suppressed"] = [c for c in flags if row[f"{c}_suppressed"]]
        out.append(record)
    return out


def cmd_ingest(args: argparse.Namespace) -> int:
    """Ingest files into the store; print lines read, parsed, rejected and events kept per file."""
    from lab.usage.ingest import ingest
    from lab.usage.routes import UrlRules, datagouv_rules
    from lab.usage.rules import UDATA_COUNTING, CountingRules
    from lab.usage.store import EventStore

    rules = UrlRules.from_file(args.rules) if args.rules else (datagouv_rules() if args.udata else None)
    options: dict[str, Any] = {}
    if args.frontend:
        options["frontends"] = tuple(args.frontend)
    if args.ua_header is not None:
        options["ua_header"] = args.ua_header
    new = not EventStore(args.store).exists()
    # a new store takes its time zone from --store-timezone, else from --timezone (default Asia/Ho_Chi_Minh)
    store = EventStore(args.store, timezone=args.store_timezone or (args.timezone if new else None))
    with _cluster(args) as client:
        results = ingest(
            [Path(f) for f in args.files],
            args.format,
            store=store,
            rules=rules,
            counting=UDATA_COUNTING if args.udata else CountingRules(),
            timezone=args.timezone,
            options=options,
            progress=None if not args.json else False,
            earliest=args.earliest,
            latest=args.latest,
            client=client,
        )
    if args.json:
        print(json.dumps([r.as_dict(with_text=True) for r in results], ensure_ascii=False, indent=2))
        return 0
    for r in results:
        print(r.summary())
        for rej in r.rejects:
            print(
                f"  line {rej.line}: {rej.reason}: {rej.text[:160]}"
                if rej.text
                else f"  line {rej.line}: {rej.reason}"
            )
        if r.lines_rejected > len(r.rejects):
            print(
                f"  … {r.lines_rejected - len(r.rejects):,} more rejected: "
                + ", ".join(f"{k} {v:,}" for k, v in r.reasons.items())
            )
    if len(results) > 1:
        total = {
            k: sum(getattr(r, k) for r in results)
            for k in ("lines_read", "lines_parsed", "lines_rejected", "events_kept")
        }
        print(
            f"total: {total['lines_read']:,} lines read, {total['lines_parsed']:,} parsed, "
            f"{total['lines_rejected']:,} rejected, {total['events_kept']:,} events kept"
        )
    print(f"store: {store.path}")
    return 0


def _existing_store(path: str | None):  # type: ignore[no-untyped-def]
    """The store at ``path`` (default store if None); a missing one is a one-line error."""
    from lab.usage.store import EventStore, StoreError

    store = EventStore(path)
    if not store.exists():
        raise StoreError(
            "no usage store here: ingest files first (lab usage ingest ... --store DIR)", file=store.path
        )
    return store


@contextmanager
def _cluster(args: argparse.Namespace) -> Iterator[Any]:
    """A Dask client when ``--workers``/``--scheduler``/``$LAB_DASK_SCHEDULER`` ask for one, else None
    (and nothing of Dask imported)."""
    from lab.usage import cluster

    if not cluster.wanted(args.workers, args.scheduler):
        yield None
        return
    with cluster.connect(args.workers, args.scheduler) as client:
        yield client


def _on_cluster(store: Any, client: Any) -> Any:
    """``store`` itself, or the same store with its summaries reduced on the cluster."""
    if client is None:
        return store
    from lab.usage.cluster import ClusterStore

    return ClusterStore(store.path, client)


def _computed(args: argparse.Namespace, kpi: Any, **kwargs: Any) -> Any:
    """``kpi`` over the existing store of ``args`` (on a cluster when asked for), with the window,
    ``--min-count`` and ``--source`` of the command line; ``args.store`` becomes the store."""
    _check_min_count(args.min_count)
    args.store = _existing_store(args.store)
    with _cluster(args) as client:
        return kpi(
            _on_cluster(args.store, client),
            start=args.start,
            end=args.end,
            min_count=args.min_count,
            source=args.source,
            **kwargs,
        )


def _cluster_flags(p: argparse.ArgumentParser) -> None:
    """``--workers N`` and ``--scheduler ADDR`` (docs/guides/cluster.md)."""
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run on a local Dask cluster of N worker processes (needs the extra lab[cluster])",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDR",
        help="run on the Dask cluster at ADDR, e.g. tcp://10.0.0.5:8786 (default $LAB_DASK_SCHEDULER)",
    )


def _check_min_count(value: int) -> int:
    if value < 0:
        raise LabError(f"--min-count must be 0 or more, not {value}")
    return value


def cmd_kpis(args: argparse.Namespace) -> int:
    """Print the portal totals per month or day (``--json``: a list of records, each with its
    ``source`` and the store's ``timezone``)."""
    from lab.usage.kpis import TOTALS, portal_totals

    table = _computed(args, portal_totals, by=args.by)
    records = _records(table, TOTALS)
    timezone = args.store.timezone
    for record, row in zip(records, table.iter_rows(named=True), strict=True):
        record["source"] = row["source"]
        record["timezone"] = timezone
    if args.json:
        print(json.dumps(records, ensure_ascii=False, indent=2))
        return 0
    _print_table(records, ["period", *TOTALS, "source"])
    print(f"periods are calendar {args.by}s in {timezone} (the store's time zone)")
    return 0


def cmd_top(args: argparse.Namespace) -> int:
    """Print the top datasets by a metric (``--json``: a list of records)."""
    from lab.usage.kpis import top_datasets

    table = _computed(args, top_datasets, metric=args.metric, n=args.n)
    records = [
        {
            "rank": r["rank"],
            "dataset_id": r["dataset_id"],
            args.metric: r[args.metric],
            "suppressed": r[f"{args.metric}_suppressed"],
            "source": r["source"],
        }
        for r in table.iter_rows(named=True)
    ]
    if args.json:
        print(json.dumps(records, ensure_ascii=False, indent=2))
        return 0
    from lab.listing import dataset_titles

    titles = dataset_titles(args.catalog)
    for r in records:
        r["title"] = _short(titles.get(str(r["dataset_id"]), ""))
    _print_table(records, ["rank", "dataset_id", args.metric, "source", "title"])
    return 0


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_forget(args: argparse.Namespace) -> int:
    """Remove an ingested file (its parts and ledger entry) from the store."""
    store = _existing_store(args.store)
    for entry in store.forget(args.file, fmt=args.format):
        sha, kind = str(entry.get("sha256"))[:12], entry.get("kind", "events")
        print(
            f"forgot {entry.get('name')} (sha256 {sha}, --format {entry.get('format')}): "
            f"{entry.get('events_kept', 0):,} {kind} removed"
        )
    print(f"store: {store.path}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """Write one month of usage as an open dataset (CSV, CSVW metadata, catalog entry); print the files."""
    from lab.usage.publish import publish

    store = _existing_store(args.store)
    result = publish(store, args.period, args.out, min_count=args.min_count, license_id=args.license)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return 0
    for f in result.files:
        print(f)
    print(f"{result.period}: {result.datasets:,} datasets, {result.suppressed:,} cells hidden")
    return 0


def _print_table(records: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned table; suppressed cells as ``<k``, unknown as ``–``."""

    def cell(r: dict[str, Any], c: str) -> str:
        v = r.get(c)
        if v is None:
            return "suppressed" if c in r.get("suppressed", []) else "–"
        return f"{v:,}" if isinstance(v, int) and c != "rank" else str(v)

    rows = [[cell(r, c) for c in columns] for r in records]
    widths = [max(len(c), *(len(row[i]) for row in rows)) if rows else len(c) for i, c in enumerate(columns)]
    text = {i for i, c in enumerate(columns) if c == "title"}  # text reads left-aligned, last

    def line(values: list[str]) -> str:
        cells = [
            v.ljust(w) if i in text else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    print(line(columns))
    for row in rows:
        print(line(row))


# long: the usage command table: one declaration per subcommand, read like --help
def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``lab usage ingest | kpis | top | forget | publish`` to the ``lab`` CLI."""
    usage = subparsers.add_parser(
        "usage", help="usage analytics: ingest logs, KPIs, top datasets, publish", parents=[common]
    )
    usub = usage.add_subparsers(dest="action", required=True, metavar="ACTION")

    store_help = "event store folder (default: $LAB_USAGE_STORE or data/store)"
    p = usub.add_parser("ingest", help="ingest log files or exports into the event store", parents=[common])
    p.add_argument(
        "--format", required=True, choices=FORMATS, metavar="FORMAT", help="one of: " + ", ".join(FORMATS)
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="input files")
    p.add_argument("--store", metavar="DIR", help=store_help)
    p.add_argument("--rules", metavar="FILE", help="YAML URL routes (default: the Đà Nẵng portal's)")
    p.add_argument(
        "--timezone",
        metavar="TZ",
        help="time zone of timestamps without an offset (default: the store's); for a new store, also the "
        "time zone of its days and months",
    )
    p.add_argument(
        "--store-timezone",
        metavar="TZ",
        help="time zone of the days and months of a new store (default Asia/Ho_Chi_Minh); fixed at creation",
    )
    p.add_argument(
        "--earliest",
        metavar="YYYY-MM-DD",
        help="events before this day are rejected (default 2017-01-01, the portal's launch)",
    )
    p.add_argument(
        "--latest", metavar="YYYY-MM-DD", help="events after this day are rejected (default: tomorrow)"
    )
    p.add_argument(
        "--frontend", action="append", metavar="NAME", help="HAProxy: keep only this frontend (repeatable)"
    )
    p.add_argument(
        "--ua-header", type=int, metavar="I", help="HAProxy: index of the User-Agent among captured headers"
    )
    p.add_argument(
        "--udata", action="store_true", help="data.gouv.fr routes and counting (every hit, 200/302 only)"
    )
    p.add_argument("--json", action="store_true", help="print JSON (with the first rejected lines)")
    _cluster_flags(p)
    p.set_defaults(func=cmd_ingest)

    p = usub.add_parser("kpis", help="portal totals per month or day", parents=[common])
    p.add_argument("--store", metavar="DIR", help=store_help)
    p.add_argument("--from", dest="start", type=_month, metavar="YYYY-MM", help="first month")
    p.add_argument("--to", dest="end", type=_month, metavar="YYYY-MM", help="last month")
    p.add_argument("--by", choices=["month", "day"], default="month", help="period (default month)")
    p.add_argument(
        "--min-count",
        type=int,
        default=DEFAULT_MIN_COUNT,
        metavar="K",
        help="publish whole safe periods counting at least K (default 5; lab/usage/disclosure.py)",
    )
    p.add_argument(
        "--source",
        metavar="SOURCE",
        help="only this source: events, or an import format (datagouv-metrics, socrata-site-metrics, ga4)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list of records")
    _cluster_flags(p)
    p.set_defaults(func=cmd_kpis)

    p = usub.add_parser("top", help="top datasets by views, downloads or API calls", parents=[common])
    p.add_argument("--store", metavar="DIR", help=store_help)
    p.add_argument(
        "--metric",
        choices=["dataset_views", "downloads", "api_calls"],
        default="dataset_views",
        help="what to rank by",
    )
    p.add_argument("--n", type=int, default=10, metavar="N", help="how many (default 10)")
    p.add_argument("--from", dest="start", type=_month, metavar="YYYY-MM", help="first month")
    p.add_argument("--to", dest="end", type=_month, metavar="YYYY-MM", help="last month")
    p.add_argument(
        "--min-count",
        type=int,
        default=DEFAULT_MIN_COUNT,
        metavar="K",
        help="publish whole safe periods counting at least K (default 5; lab/usage/disclosure.py)",
    )
    p.add_argument(
        "--source",
        metavar="SOURCE",
        help="only this source: events, or an import format (datagouv-metrics, socrata-site-metrics, ga4)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list of records")
    _cluster_flags(p)
    p.set_defaults(func=cmd_top)

    p = usub.add_parser(
        "forget", help="remove an ingested file (its events or facts and its ledger entry)", parents=[common]
    )
    p.add_argument("file", metavar="FILE|SHA256", help="the input file, or its sha256 (8 hex digits or more)")
    p.add_argument("--store", metavar="DIR", help=store_help)
    p.add_argument("--format", choices=FORMATS, metavar="FORMAT", help="only the entry read as this format")
    p.set_defaults(func=cmd_forget)

    p = usub.add_parser(
        "publish", help="one month of usage as an open dataset (CSV + CSVW + catalog entry)", parents=[common]
    )
    p.add_argument("--period", required=True, type=_month, metavar="YYYY-MM", help="the month to publish")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--store", metavar="DIR", help=store_help)
    p.add_argument(
        "--min-count",
        type=int,
        default=DEFAULT_MIN_COUNT,
        metavar="K",
        help="publish by the safe-period rule with threshold K (default 5, at least 2)",
    )
    p.add_argument("--license", default="CC-BY-4.0", metavar="ID", help="licence id (default CC-BY-4.0)")
    p.add_argument("--json", action="store_true", help="print the files and counts as JSON")
    p.set_defaults(func=cmd_publish)
