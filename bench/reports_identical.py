"""Are two report folders the same, but for what changes on every run? (issue 17's acceptance)

Usage::

    python bench/reports_identical.py BEFORE/reports AFTER/reports

Run ``make reports`` in two clones (before and after a change, same ``LAB_AS_OF``), then compare. Each
HTML page is compared after removing what legitimately differs between two runs: the provenance footer
(commit, time, input hashes: the usage store's ledger records its ingest times), papermill's random cell
ids and folium's random element ids. Prints one line per page and exits 1 if any page differs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

VOLATILE = (
    re.compile(r"<footer>.*?</footer>", re.S),
    re.compile(r'id="cell-id=[0-9a-f-]+"'),
    re.compile(r"\b([a-z_]+)_[0-9a-f]{32}(?=\b|_)"),
)


def normalised(path: Path) -> str:
    """The page without its volatile parts."""
    text = path.read_text(encoding="utf-8")
    for pattern in VOLATILE:
        text = pattern.sub(lambda m: m.group(1) + "_ID" if m.lastindex else "", text)
    return text


def main(before: Path, after: Path) -> int:
    pages = sorted(p.relative_to(before) for p in before.rglob("*.html"))
    if not pages:
        print(f"no report page in {before}", file=sys.stderr)
        return 2
    differ = 0
    for rel in pages:
        other = after / rel
        same = other.is_file() and normalised(before / rel) == normalised(other)
        differ += not same
        print(f"{'same' if same else 'DIFFERENT':9} {rel}")
    print(f"{len(pages) - differ} of {len(pages)} pages identical (provenance and random ids aside)")
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.split("Usage::")[1].strip().splitlines()[0].strip(), file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2])))
