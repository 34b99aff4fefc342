"""``python -m lab.demo --out DIR [--scale S] [--seed N]``: generate the demo portal."""

from __future__ import annotations

import argparse
import logging
import sys

from lab.demo import DEFAULT_SCALE, DEFAULT_SEED, generate
from lab.errors import LabError

log = logging.getLogger("lab.demo")


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, generate, log the totals; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m lab.demo",
        description=(
            "Generate the synthetic demo portal (catalog, usage logs, reuse registry, places) into a folder."
        ),
    )
    parser.add_argument("--out", required=True, help="folder to create (replaced if it is a previous demo)")
    parser.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help=f"usage volume multiplier; 1.0 = the portal's published totals (default {DEFAULT_SCALE})",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="only warnings and errors, no progress bar"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s", stream=sys.stderr
    )
    try:
        manifest = generate(
            args.out, scale=args.scale, seed=args.seed, progress=False if args.quiet else None
        )
    except LabError as exc:
        log.error("error: %s", exc)
        return exc.exit_code
    for key, value in manifest["totals"].items():
        log.info("  %-26s %12s", key, f"{value:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
