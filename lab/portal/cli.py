"""``lab portal ...``: commands for the real Đà Nẵng portal.

``lab portal harvest [--pages N] [--out FILE] [--base-url URL] [--json]`` turns the portal's dataset
listing into catalog entries (see :mod:`lab.portal.harvest`). Fetching a dataset's rows through the
API needs no command of its own: ``lab fetch ID`` and ``lab.load(ID)`` do it for any entry with a
``portal`` distribution.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lab.portal.client import DEFAULT_BASE_URL


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def cmd_harvest(args: argparse.Namespace) -> int:
    """Harvest the listing into the catalog file; print what changed."""
    from lab.catalog import default_catalog_path
    from lab.outputs import output_format
    from lab.portal.harvest import harvest

    out = Path(args.out) if args.out else Path(args.catalog) if args.catalog else default_catalog_path()
    output_format(out, {".yaml": "yaml", ".yml": "yaml"}, what="catalog")  # refused before any request
    report = harvest(out, base_url=args.base_url, pages=args.pages)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print("\n".join(report.lines()))
    return 0


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``lab portal harvest`` to the ``lab`` command line."""
    portal = subparsers.add_parser(
        "portal", help="the real Đà Nẵng portal: harvest its listing", parents=[common]
    )
    psub = portal.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = psub.add_parser(
        "harvest",
        help="turn the portal's dataset listing into catalog entries (merged, hand edits kept)",
        parents=[common],
    )
    p.add_argument("--pages", type=_positive, metavar="N", help="read at most N listing pages (default: all)")
    p.add_argument("--out", metavar="FILE", help="catalog file to merge into (default: the catalog)")
    p.add_argument(
        "--base-url",
        default=DEFAULT_BASE_URL,
        metavar="URL",
        help=f"the portal's address (default {DEFAULT_BASE_URL})",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_harvest)
