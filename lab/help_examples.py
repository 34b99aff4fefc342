"""Examples shown at the end of every ``lab … --help``: what a newcomer types first.

Every command of :func:`lab.cli.build_parser` has an entry here (``tests/test_cli.py`` checks it, and
that each example parses); :func:`add_examples` writes them into the parsers' epilogs.
"""

from __future__ import annotations

import argparse

EXAMPLES: dict[str, tuple[str, ...]] = {
    "catalog list": ("lab catalog list", "lab catalog list --lang en --json"),
    "catalog show": ("lab catalog show air-quality-iqair",),
    "catalog validate": ("lab catalog validate", "lab catalog validate --catalog my-datasets.yaml"),
    "fetch": ("lab fetch danang-wards-2025", "lab fetch --mirror /data/mirror --refresh air-quality-iqair"),
    "load": (
        "lab load air-quality-iqair --json",
        "lab load danang-wards-2025 --out wards.geojson",
        "lab load census-2019-wards --source census.csv --out census.parquet",
    ),
    "demo": ("lab demo --out data/demo", "lab demo --scale 1 --out data/demo-scale-1"),
    "reports run": (
        "lab reports run --due",
        "lab reports run portal-usage --period 2026-10 --lang en",
        "lab reports run --period 2026-Q3 --force",
    ),
    "reports list": ("lab reports list",),
    "reports log": ("lab reports log", "lab reports log --failed"),
    "apps serve": (
        "lab apps serve --port 8866",
        "lab apps serve --port 8866 --max-kernels 20 --pool portal-tracker=4",
    ),
    "usage ingest": (
        "lab usage ingest --format combined access.log access.log.1.gz --store data/store",
        "lab usage ingest --format gateway-csv gateway.csv --store data/store --json",
        "lab usage ingest --format datagouv-metrics datasets-2024-*.json --store data/store",
        "lab usage ingest --workers 2 --format combined logs/*.log --store data/store",
    ),
    "usage kpis": (
        "lab usage kpis --store data/store",
        "lab usage kpis --store data/store --from 2026-01 --to 2026-06 --json",
        "lab usage kpis --store data/store --by day --min-count 10",
    ),
    "usage top": (
        "lab usage top --store data/store --metric downloads --n 20",
        "lab usage top --store data/store --source datagouv-metrics --json",
    ),
    "usage forget": ("lab usage forget access.log --store data/store",),
    "usage publish": ("lab usage publish --period 2026-10 --out open-usage/ --store data/store",),
    "reuse import": (
        "lab reuse import --format udata-csv reuses.csv --out registry.csv",
        "lab reuse import --format ckan-showcase showcases.json --out registry.parquet",
    ),
    "reuse summary": ("lab reuse summary", "lab reuse summary --registry registry.csv --n 20 --json"),
    "reuse validate": ("lab reuse validate --registry registry.csv",),
    "reuse observed": (
        "lab reuse observed --store data/store",
        "lab reuse observed --store data/store --from 2026-01 --out follow-up.csv",
    ),
    "reuse diff": ("lab reuse diff registry-2026-09.csv registry-2026-10.csv",),
    "targets": ("lab targets", "lab targets --as-of 2025-12-31 --json"),
    "geo assign": (
        "lab geo assign --points cameras.csv --lon lon --lat lat --units danang-wards-2025",
        "lab geo assign --points sensors.csv --lon x --lat y --crs EPSG:9210 --units danang-wards-2025 "
        "--out sensors-wards.csv",
    ),
    "geo crosswalk": (
        "lab geo crosswalk --from 2024 --value population census-2019.csv --ward ward --district district",
        "lab geo crosswalk --from 2024 --value cases --split population cases.csv --out cases-2025.csv",
    ),
    "quality score": ("lab quality score --offline", "lab quality score air-quality-iqair --json"),
    "quality history": ("lab quality history", "lab quality history --from 2026-01-01 --n 5"),
    "quality links": ("lab quality links", "lab quality links --offline --json"),
    "quality freshness": ("lab quality freshness", "lab quality freshness --as-of 2026-10-31 --months 12"),
    "portal harvest": ("lab portal harvest --pages 2", "lab portal harvest --out datasets.yaml --json"),
}
"""Command (``"usage kpis"``) → example command lines."""


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> dict[str, argparse.ArgumentParser]:
    """Every leaf command of ``parser`` by its words (``"usage kpis"``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            out: dict[str, argparse.ArgumentParser] = {}
            for name, sub in action.choices.items():
                out.update(commands(sub, (*path, name)))
            return out
    return {" ".join(path): parser}


def add_examples(parser: argparse.ArgumentParser) -> None:
    """Write each command's examples into its ``--help`` (an ``examples:`` block at the end)."""
    for name, sub in commands(parser).items():
        lines = EXAMPLES.get(name)
        if lines:
            sub.epilog = "examples:\n" + "\n".join(f"  {line}" for line in lines)
            sub.formatter_class = argparse.RawDescriptionHelpFormatter
