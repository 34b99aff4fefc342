"""The ``lab`` command line.

Exit codes: 0 ok, 2 bad input or usage (a :class:`~lab.errors.LabError`, printed as one line
without a traceback unless ``--debug``), 1 anything else.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lab.errors import LabError

log = logging.getLogger("lab")

# Each analysis package adds its own commands: a module with `register(subparsers, common_parent_parser)`
# that adds sub-parsers whose `func(args) -> int` runs the command. Modules not written yet are skipped.
COMMAND_MODULES = ("lab.usage.cli", "lab.reuse.cli", "lab.geo.cli", "lab.quality.cli", "lab.portal.cli")


# ------------------------------------------------------------------------------------------ commands
def _catalog(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from lab.catalog import load_catalog

    return load_catalog(args.catalog)


def cmd_catalog_list(args: argparse.Namespace) -> int:
    """Print one line per dataset: id, kind, title."""
    cat = _catalog(args)
    rows = [
        {"id": d.id, "spatial": d.spatial.kind, "synthetic": d.synthetic, "title": d.title_in(args.lang)}
        for d in cat
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        flag = " [demo]" if r["synthetic"] else ""
        print(f"{r['id']:<{width}}  {r['spatial']:<8}  {r['title']}{flag}")
    return 0


def cmd_catalog_show(args: argparse.Namespace) -> int:
    """Print one catalog entry as YAML (or JSON)."""
    import yaml

    entry = _catalog(args).get(args.id).raw
    if args.json:
        print(json.dumps(entry, ensure_ascii=False, indent=2, default=str))
    else:
        print(yaml.safe_dump(entry, allow_unicode=True, sort_keys=False), end="")
    return 0


def cmd_catalog_validate(args: argparse.Namespace) -> int:
    """Print every problem of the catalog, one per line; exit 2 if there is any."""
    from lab.catalog import default_catalog_path, validate

    path = Path(args.catalog) if args.catalog else default_catalog_path()
    problems = validate(path)
    for p in problems:
        print(f"{path}: {p}")
    if problems:
        print(f"{len(problems)} problem(s) in {path}", file=sys.stderr)
        return 2
    print(f"{path}: ok")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch the named datasets (default: all that are not synthetic) into the cache."""
    from lab import fetch

    cat = _catalog(args)
    ids = args.ids or [d.id for d in cat if not d.synthetic]
    mirror = Path(args.mirror) if args.mirror else None
    for dataset_id in ids:
        paths = fetch.fetch_dataset(
            cat.get(dataset_id), catalog_root=cat.root, mirror=mirror, refresh=args.refresh
        )
        for p in paths:
            print(f"{dataset_id}\t{p}")
    return 0


def describe_frame(frame: Any) -> dict[str, Any]:
    """Rows, columns, dtypes, CRS and repaired-geometry count of a loaded frame (for ``--json``)."""
    import polars as pl

    if isinstance(frame, pl.DataFrame):
        return {
            "rows": frame.height,
            "columns": frame.columns,
            "dtypes": {c: str(t) for c, t in frame.schema.items()},
            "crs": None,
            "repaired_geometries": None,
        }
    crs = frame.crs.to_string() if frame.crs is not None else None
    return {
        "rows": len(frame),
        "columns": [str(c) for c in frame.columns],
        "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
        "crs": crs,
        "repaired_geometries": int(frame.attrs.get("repaired_geometries", 0)),
    }


def write_frame(frame: Any, target: Path) -> None:
    """Write a loaded frame atomically in the format its extension names (:func:`lab.outputs.write_table`):
    a table as CSV or Parquet, spatial data as GeoParquet or GeoJSON."""
    from lab.outputs import write_table

    write_table(frame, target)


def cmd_load(args: argparse.Namespace) -> int:
    """Load one dataset; print a summary, JSON facts, or write it to a file."""
    from lab.loader import load
    from lab.outputs import SPATIAL_FORMATS, TABLE_FORMATS, output_format

    if args.to:  # a wrong extension or target is refused before the dataset is read
        output_format(args.to, {**TABLE_FORMATS, **SPATIAL_FORMATS}, what="dataset")
    frame = load(args.id, source=args.source, catalog=args.catalog, mirror=args.mirror, refresh=args.refresh)
    facts = {"dataset": args.id, **describe_frame(frame)}
    if args.to:
        write_frame(frame, Path(args.to))
        facts["written"] = str(args.to)
    if args.json:
        print(json.dumps(facts, ensure_ascii=False, indent=2))
    else:
        print(frame)
        extra = (
            f", CRS {facts['crs']}, {facts['repaired_geometries']} geometries repaired"
            if facts["crs"]
            else ""
        )
        print(f"{args.id}: {facts['rows']} rows × {len(facts['columns'])} columns{extra}")
        if args.to:
            print(f"written to {args.to}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the synthetic demo portal."""
    from lab import demo
    from lab.settings import demo_dir

    out = Path(args.out) if args.out else demo_dir()
    manifest = demo.generate(out, scale=args.scale, seed=args.seed)
    totals = manifest.get("totals", {})
    print(f"demo portal (synthetic) written to {out}: " + ", ".join(f"{k} {v:,}" for k, v in totals.items()))
    return 0


def cmd_reports_run(args: argparse.Namespace) -> int:
    """Run scheduled reports into the reports folder; exit 1 if any failed."""
    from lab import reports

    results = reports.run(
        names=args.names or None,
        period=args.period,
        languages=[args.lang] if args.lang else None,
        out=Path(args.out) if args.out else None,
        due_only=args.due,
        force=args.force,
    )
    for r in results:
        print(r.summary())
    if not results:
        print("nothing to run: no report is due" if args.due else "nothing to run")
    return 1 if any(not r.ok for r in results) else 0


def cmd_reports_list(args: argparse.Namespace) -> int:
    """List the scheduled reports: name, cadence, due day, languages, notebook."""
    from lab import reports

    for r in reports.load_schedule():
        notebook = r.notebook.relative_to(reports.PROJECT_ROOT)
        print(f"{r.name:<20} {r.cadence:<9} due day {r.due_day:<2} {','.join(r.languages):<5} {notebook}")
    return 0


def cmd_reports_log(args: argparse.Namespace) -> int:
    """Print the run log (newest last), or only the failed runs."""
    from lab import reports

    out = Path(args.out) if args.out else reports.PROJECT_ROOT / "reports"
    for entry in reports.read_log(out):
        if args.failed and entry.get("status") != "failed":
            continue
        where = entry.get("html") or ""
        if entry.get("status") == "failed":
            cell = f"cell {entry['failed_cell']}: " if entry.get("failed_cell") is not None else ""
            where = f"{cell}{entry.get('error')}"
        print(
            f"{entry['at']}  {entry['report']:<20} {entry['period']:<8} {entry['language']}  "
            f"{entry['status']:<7} {entry['seconds']:6.1f} s  {where}"
        )
    return 0


def _app_pool(value: str) -> tuple[str, int]:
    """``APP=N`` of ``lab apps serve --pool``."""
    name, _, size = value.partition("=")
    if not name.strip() or not size.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected APP=N (e.g. portal-tracker=20), got {value!r}")
    return name.strip(), int(size)


def cmd_apps_serve(args: argparse.Namespace) -> int:
    """Serve the Voilà apps on 127.0.0.1."""
    from lab import serve

    cap = {"max_kernels": args.max_kernels} if args.max_kernels is not None else {}
    return serve.serve_apps(
        port=args.port,
        host=args.host,
        base_url=args.base_url,
        pool_size=None if args.pool_size == "auto" else int(args.pool_size),
        status_port=args.status_port,
        catalog=args.catalog,
        store=args.store,
        pools=dict(args.pool or []),
        max_total_kernels=args.max_total_kernels,
        **cap,
    )


# ------------------------------------------------------------------------------------------- parser
# long: the command table: one declaration per command, read top to bottom like --help
def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also the source of the CLI reference docs)."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand's copy of these options must not reset a value given before the subcommand
    common.add_argument(
        "--catalog",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="catalog file (default: $LAB_CATALOG or datasets.yaml)",
    )
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks and debug logs"
    )

    parser = argparse.ArgumentParser(
        prog="lab",
        description="The Đà Nẵng open data lab: catalog, loaders, demo portal, reports and apps.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    catalog = sub.add_parser("catalog", help="list, show or validate the catalog", parents=[common])
    csub = catalog.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = csub.add_parser("list", help="one line per dataset", parents=[common])
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--lang", choices=["vi", "en"], default="vi", help="title language (default vi)")
    p.set_defaults(func=cmd_catalog_list)
    p = csub.add_parser("show", help="one entry", parents=[common])
    p.add_argument("id", help="dataset id")
    p.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    p.set_defaults(func=cmd_catalog_show)
    p = csub.add_parser("validate", help="every problem, one line each", parents=[common])
    p.set_defaults(func=cmd_catalog_validate)

    p = sub.add_parser("fetch", help="fetch datasets into the cache", parents=[common])
    p.add_argument("ids", nargs="*", metavar="ID", help="dataset ids (default: every real source)")
    p.add_argument("--mirror", metavar="DIR", help="offline mirror folder (default: $LAB_MIRROR)")
    p.add_argument("--refresh", action="store_true", help="fetch again even if cached")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("load", help="load one dataset", parents=[common])
    p.add_argument("id", help="dataset id")
    p.add_argument("--source", metavar="PATH_OR_URL", help="read this file the way entry ID is read")
    p.add_argument(
        "--out",
        "--to",
        dest="to",
        metavar="FILE",
        help="write the rows: .csv or .parquet (spatial data: .parquet for GeoParquet, or .geojson); "
        "--to is the older name",
    )
    p.add_argument(
        "--json", action="store_true", help="print rows, columns, dtypes, CRS, repaired geometries"
    )
    p.add_argument("--mirror", metavar="DIR", help="offline mirror folder (default: $LAB_MIRROR)")
    p.add_argument("--refresh", action="store_true", help="fetch again even if cached")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("demo", help="generate the synthetic demo portal", parents=[common])
    p.add_argument("--scale", type=float, default=None, help="usage volume scale (1.0 = published totals)")
    p.add_argument("--seed", type=int, default=2017, help="random seed (default 2017)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: $LAB_DEMO or data/demo)")
    p.set_defaults(func=cmd_demo)

    reports = sub.add_parser("reports", help="scheduled reports", parents=[common])
    rsub = reports.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = rsub.add_parser("run", help="run reports into reports/", parents=[common])
    p.add_argument("names", nargs="*", metavar="NAME", help="only these reports (default: all)")
    p.add_argument(
        "--period", help="period to report on (YYYY-MM, YYYY-Qn or YYYY); default: the last one ended"
    )
    p.add_argument("--lang", choices=["vi", "en"], help="only this language")
    p.add_argument(
        "--due", action="store_true", help="only the reports that are due (for a nightly cron line)"
    )
    p.add_argument("--force", action="store_true", help="run even if nothing changed since the last good run")
    p.add_argument("--out", metavar="DIR", help="reports folder (default: reports/)")
    p.set_defaults(func=cmd_reports_run)
    p = rsub.add_parser("list", help="the scheduled reports", parents=[common])
    p.set_defaults(func=cmd_reports_list)
    p = rsub.add_parser("log", help="the run log", parents=[common])
    p.add_argument("--failed", action="store_true", help="only failed runs")
    p.add_argument("--out", metavar="DIR", help="reports folder (default: reports/)")
    p.set_defaults(func=cmd_reports_log)

    apps = sub.add_parser("apps", help="the public Voilà apps", parents=[common])
    asub = apps.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = asub.add_parser("serve", help="serve the apps with Voilà", parents=[common])
    p.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--base-url", default="/", help="path prefix behind a reverse proxy, e.g. /apps/ (default /)"
    )
    p.add_argument(
        "--pool-size",
        type=lambda v: v if v == "auto" else str(int(v)),
        default="1",
        help="preheated kernels waiting per app, ~150 MB each, or 'auto' (from the free memory; default 1)",
    )
    p.add_argument(
        "--max-kernels", type=int, help="visitors' kernels at most; more get the waiting page (default 12)"
    )
    p.add_argument(
        "--status-port", type=int, help="JSON status endpoint on 127.0.0.1 (default PORT+1; 0: none)"
    )
    p.add_argument("--store", metavar="DIR", help="usage store the apps read (default: $LAB_USAGE_STORE)")
    p.add_argument(
        "--pool",
        action="append",
        metavar="APP=N",
        type=_app_pool,
        help="another pool size for one app, e.g. portal-tracker=20 (repeatable)",
    )
    p.add_argument(
        "--max-total-kernels",
        type=int,
        default=0,
        help="kernels at most, visitors' and pooled: pools refill only below it (a memory budget)",
    )
    p.set_defaults(func=cmd_apps_serve)

    for name in COMMAND_MODULES:
        if _module_exists(name):
            importlib.import_module(name).register(sub, common)
    from lab.help_examples import add_examples

    add_examples(parser)
    return parser


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent package is not written yet
        return False


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    from lab import settings

    parser = build_parser()
    args = parser.parse_args(argv)
    args.catalog = getattr(args, "catalog", None)
    settings.resolve_environment()  # relative paths mean the caller's directory, in kernels too
    settings.resolve_args(args)
    args.debug = getattr(args, "debug", False)
    _setup_logging(args.debug)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except LabError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `lab … | head`: the reader has had enough; no error, no traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        if args.debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"error: unexpected {type(exc).__name__}: {first} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
