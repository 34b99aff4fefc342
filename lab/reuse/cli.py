"""``lab reuse ...`` and ``lab targets``: the reuse registry and the city's targets on the command line.

* ``lab reuse import --format {udata-csv,ckan-showcase} FILE... --out FILE``: a registry from exports
  (``.csv``, ``.parquet`` or ``.yaml``, as the extension says; any other refused);
* ``lab reuse summary [--registry FILE] [--json]``: reuses (every declared one, as udata counts), reuses with
  datasets, reusers, links (declared (reuse, dataset) pairs), datasets reused, top datasets, possible
  duplicates (same address, all counted): definitions next to udata's in
  :func:`lab.reuse.indicators.summary` and ``docs/concepts/reuse.md``;
* ``lab reuse diff OLD NEW [--json]``: reuse ids added, removed, changed;
* ``lab reuse validate [--registry FILE] [--json]``: every problem of the registry (exit 2 on errors);
* ``lab reuse observed --store DIR [--registry FILE] [--out FILE] [--json]``: observed versus declared reuse
  (:mod:`lab.reuse.observed`): each dataset's status, the 50-reused target counted both ways, and the
  officer's follow-up list (CSV with ``--out``);
* ``lab targets [--json] [--targets FILE] [--as-of DATE]``: each target's value, projection and status.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from lab.errors import LabError


def _registry(args: argparse.Namespace) -> Any:
    from lab.reuse.registry import read_registry, registry_from_catalog

    return read_registry(args.registry) if args.registry else registry_from_catalog(args.catalog)


def _known(args: argparse.Namespace, registry: Any) -> Any:
    from lab.reuse.registry import ids_to_check

    return None if args.no_check else ids_to_check(registry, args.catalog)


def _dump(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def cmd_import(args: argparse.Namespace) -> int:
    """Import reuses from udata or CKAN exports into a registry file; flagged rows are kept, counted and
    listed for review."""
    from lab.outputs import output_format
    from lab.reuse.importers import import_registry
    from lab.reuse.registry import REGISTRY_FORMATS, write_registry
    from lab.reuse.validation import validate

    output_format(args.out, REGISTRY_FORMATS, what="reuse registry")  # refused before any work
    registry = import_registry(args.format, args.files)
    out = write_registry(registry, Path(args.out))
    flagged = registry.frame.filter(registry.frame["flags"].list.len() > 0)
    report = validate(registry)
    print(
        f"{out}: {registry.height} reuse(s) imported from {len(args.files)} file(s), {flagged.height} flagged"
    )
    for row in flagged.iter_rows(named=True):
        print(f"flagged {row['reuse_id']}: {', '.join(row['flags'])}", file=sys.stderr)
    if report.issues:
        print(
            f"{len(report.issues)} thing(s) to complete or fix: `lab reuse validate --registry {out}`",
            file=sys.stderr,
        )
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print the registry in figures (JSON with --json)."""
    from lab.reuse.indicators import summary

    registry = _registry(args)
    result = summary(registry, _known(args, registry), top=args.top)
    if args.json:
        _dump(result)
        return 0
    print(
        f"{result['reuses']} reuses registered ({result['reuses_with_datasets']} with datasets; planned, "
        f"live and retired: the reports count those launched by their date) by "
        f"{result['unique_reusers']} unique reusers; {result['links']} links to "
        f"{result['datasets_linked']} datasets; {result['datasets_reused']} datasets reused by launched "
        f"products ({result['datasets_reused_live']} by live ones)"
    )
    print("by type: " + ", ".join(f"{k} {v}" for k, v in result["by_type"].items()))
    print("by status: " + ", ".join(f"{k} {v}" for k, v in result["by_status"].items()))
    from lab.listing import dataset_titles

    titles = dataset_titles(args.catalog) if result["top_datasets"] else {}
    print("most reused:")
    for d in result["top_datasets"]:
        title = titles.get(str(d["dataset_id"]))
        print(f"  {d['dataset_id']} ({d['reuses']})" + (f" {title}" if title else ""))
    for d in result["possible_duplicates"]:
        print(f"possible duplicates (all counted, to review): {', '.join(d['reuse_ids'])} at {d['url']}")
    for f in result["flagged"]:
        print(f"flagged (counted, to review) {f['reuse_id']}: {', '.join(f['flags'])}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Print the reuse ids added, removed and changed between two registry files."""
    from lab.reuse.indicators import diff
    from lab.reuse.registry import read_registry

    result = diff(read_registry(args.old), read_registry(args.new))
    if args.json:
        _dump(result)
        return 0
    for key, sign in (("added", "+"), ("removed", "-")):
        for rid in result[key]:
            print(f"{sign} {rid}")
    for rid in result["changed"]:
        print(f"~ {rid}: {', '.join(result['fields'][rid])}")
    print(f"{len(result['added'])} added, {len(result['removed'])} removed, {len(result['changed'])} changed")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Print every problem of the registry at once; exit 2 if there is an error."""
    from lab.reuse.revenue import load_services
    from lab.reuse.validation import validate

    registry = _registry(args)
    report = validate(registry, known_datasets=_known(args, registry), services=set(load_services()))
    if args.json:
        _dump({"file": report.file, "ok": report.ok, "issues": report.frame().to_dicts()})
    else:
        for line in report.lines():
            print(line)
        print(
            f"{registry.file}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)",
            file=sys.stderr,
        )
    return 0 if report.ok else 2


def cmd_targets(args: argparse.Namespace) -> int:
    """Print each target's value, deadline, projected date and status."""
    from lab.reuse.targets import evaluate_targets

    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        raise LabError(f"--as-of {args.as_of!r} is not YYYY-MM-DD") from None
    results = evaluate_targets(args.targets, args.catalog, as_of=as_of)
    if args.json:
        _dump(results)
        return 0
    for r in results:
        low, high = r["interval"]
        if r["reached_on"] and r["value"] >= r["target"]:
            when = f"reached on {r['reached_on']}"
        elif r["projected_date"]:
            when = f"projected {r['projected_date']} [{low or '?'} … {high or 'never'}] ({r['method']})"
        else:
            when = "not reached on the current trend"
        progress = f"{r['value']:g} of {r['target']:g} by {r['deadline']} (as of {r['as_of']})"
        print(f"{r['id']}: {progress}: {r['status']}; {when}")
    return 0


def _portal_ids(args: argparse.Namespace) -> list[str] | None:
    """The portal's dataset ids from the catalog's ``portal-datasets`` listing (None when it has none)."""
    import polars as pl

    from lab.catalog import load_catalog
    from lab.loader import load

    catalog = load_catalog(args.catalog)
    if "portal-datasets" not in catalog:
        return None
    try:
        frame = load("portal-datasets", catalog=catalog)
    except LabError as exc:
        print(f"note: datasets with neither use not counted ({exc})", file=sys.stderr)
        return None
    return frame.get_column("portal_id").cast(pl.String).drop_nulls().to_list()


def cmd_observed(args: argparse.Namespace) -> int:
    """Observed versus declared reuse: dataset statuses, the target both ways, the follow-up list."""
    from lab.reuse import observed as ob

    registry = _registry(args)
    rules = ob.ObservedRules(
        min_api_calls=args.min_api_calls, min_months=args.min_months, min_download_days=args.min_download_days
    )
    result = ob.observed_reuse(
        args.store or None,
        registry,
        datasets=_portal_ids(args),
        rules=rules,
        start=args.start,
        end=args.end,
    )
    _series, target = ob.target_both_ways(result, registry)
    follow = ob.follow_up(result)
    if args.out:
        ob.write_follow_up(result, args.out)
    counts = {s: int((result.datasets["status"] == s).sum()) for s in ob.DATASET_STATUSES}
    if args.json:
        out = {
            "datasets": counts,
            "target": target,
            "reuses_observed": int(result.reuses["observed"].sum()),
            "reuses_with_key": result.reuses.height,
            "follow_up": follow.to_dicts(),
        }
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return 0
    print("datasets: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for line in ("declared", "declared_or_observed"):
        t = target[line]
        when = f"reached {t['reached_on']}" if t["reached_on"] else f"projected {t['projected'] or '—'}"
        print(f"target {target['target']} ({line.replace('_', ' ')}): {t['value']} datasets, {when}")
    print(f"follow-up: {follow.height} candidate(s)" + (f" written to {args.out}" if args.out else ""))
    return 0


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``lab reuse`` (import, summary, diff, validate) and ``lab targets`` to the ``lab`` command."""
    from lab.reuse.importers import FORMATS

    reuse = subparsers.add_parser("reuse", help="the reuse registry: import, summary, diff", parents=[common])
    sub = reuse.add_subparsers(dest="action", required=True, metavar="ACTION")

    p = sub.add_parser(
        "import", help="write a registry from udata or CKAN showcase exports", parents=[common]
    )
    p.add_argument("--format", required=True, choices=FORMATS, help="the files' format")
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="export files (CKAN: showcase list + package lists)"
    )
    p.add_argument("--out", required=True, metavar="FILE", help="registry to write: .csv, .parquet or .yaml")
    p.set_defaults(func=cmd_import)

    for name, func, text in (
        ("summary", cmd_summary, "reuses, unique reusers, links, datasets reused, top datasets"),
        ("validate", cmd_validate, "every problem of the registry, one line each"),
    ):
        p = sub.add_parser(name, help=text, parents=[common])
        p.add_argument(
            "--registry", metavar="FILE", help="registry file (default: the catalog's reuse-registry)"
        )
        p.add_argument("--json", action="store_true", help="print JSON")
        p.add_argument("--no-check", action="store_true", help="do not check dataset ids against the catalog")
        if name == "summary":
            p.add_argument(
                "--n",
                "--top",
                dest="top",
                type=int,
                default=10,
                metavar="N",
                help="most reused datasets listed (default 10; --top is the older name)",
            )
        p.set_defaults(func=func)

    p = sub.add_parser(
        "observed", help="observed versus declared reuse, from the usage store", parents=[common]
    )
    p.add_argument("--store", metavar="DIR", help="usage store (default: $LAB_USAGE_STORE or data/store)")
    p.add_argument("--registry", metavar="FILE", help="registry file (default: the catalog's reuse-registry)")
    p.add_argument("--from", dest="start", metavar="YYYY-MM", help="first month of usage read")
    p.add_argument("--to", dest="end", metavar="YYYY-MM", help="last month of usage read")
    p.add_argument("--min-api-calls", type=int, default=1, metavar="N", help="calls a month (default 1)")
    p.add_argument("--min-months", type=int, default=1, metavar="N", help="months a pair (default 1)")
    p.add_argument(
        "--min-download-days", type=int, default=4, metavar="N", help="days a month, scheduled downloads (4)"
    )
    p.add_argument("--out", metavar="FILE", help="write the follow-up list as CSV")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_observed)

    p = sub.add_parser(
        "diff", help="reuse ids added, removed, changed between two registries", parents=[common]
    )
    p.add_argument("old", metavar="OLD", help="the older registry file")
    p.add_argument("new", metavar="NEW", help="the newer registry file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_diff)

    p = subparsers.add_parser(
        "targets", help="the city's targets: progress, projection, status", parents=[common]
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--targets", metavar="FILE", help="targets file (default: $LAB_TARGETS or targets.yaml)")
    p.add_argument("--as-of", metavar="DATE", help="evaluate on this date (default: today, within the data)")
    p.set_defaults(func=cmd_targets)
