"""The demo portal: a seeded, deterministic, clearly synthetic copy of what the Đà Nẵng portal produces.

Examples
--------
>>> from lab.demo import generate
>>> manifest = generate(Path("data/demo"), scale=0.01, seed=2017)   # doctest: +SKIP
>>> manifest["totals"]["visits"]                                     # doctest: +SKIP
46800

What it writes (``out/``)::

    README.md                        what this is (synthetic!), the layout, the columns
    manifest.json                    seed, scale, window, files (rows, sha256), totals, truth — written last
    catalog/portal_datasets.csv      860 datasets with the portal's metadata fields and gaps
    catalog/listing_history.csv      the listing at the 3 month-ends before, metadata changes planted
    logs/web/access.log              combined log format (people, crawlers, an uptime monitor)
    logs/api/gateway.csv             calls of /api/dataset/<base64 id>
    logs/channels/channels.csv       Zalo, SMS and app requests for the 55 channel datasets
    accounts/signups.csv             ≈1,100 sign-ups
    reuse/registry.csv               products built on the data (udata Reuse model + status, dates)
    reuse/outcomes.csv               monthly users, sessions, API calls, transactions, revenue
    revenue/notary_ledger.csv        paid notary-database look-ups from 2023-01-01
    geo/wards_approx.geojson         approximate (Voronoi) polygons of the 94 units
    geo/sensors.csv, geo/cameras.csv, geo/facilities_{schools,hospitals,food_safety}.csv

Every CSV and the log have a ``<file>-metadata.json`` companion (CSVW) with ``"synthetic": true``.

Same seed and scale give byte-identical files: nothing depends on the clock, each step draws from its
own random stream (:class:`~lab.demo.context.Context`), and files are written in a fixed order and
format. Only the usage logs depend on ``scale``. Generation happens in a hidden temporary folder
beside ``out`` which is renamed into place at the end (after ``manifest.json``, written atomically):
a failed or killed run never leaves a half-made ``out``, and a folder without ``manifest.json`` is not
a demo portal. A temporary folder left by a killed run is removed by the next run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from lab.atomic import atomic_write_text, check_folder, process_exists
from lab.demo import catalog, listing_history, places, reuse, timeline, usage
from lab.demo.context import Context
from lab.demo.vocab import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_VI
from lab.errors import LabError

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_SCALE", "DEFAULT_SEED", "STEPS", "DemoError", "generate", "read_manifest"]

DEFAULT_SCALE = 0.01
"""1 % of the portal's published usage: ≈47,000 visits and ≈12,000 API calls, generated in a few seconds."""
DEFAULT_SEED = 2017
MANIFEST = "manifest.json"
GENERATOR = "lab.demo"
FORMAT_VERSION = 1


class DemoError(LabError):
    """The demo portal cannot be generated where or how it was asked."""


def _write_readme(ctx: Context) -> None:
    """Step: ``README.md``, written after every data file so it can list them."""
    ctx.write_text("README.md", readme(ctx), title="What this folder is")


STEPS: tuple[tuple[str, Callable[[Context], None]], ...] = (
    ("places", places.write_places),
    ("catalog", catalog.write_catalog),
    ("listing history", listing_history.write_listing_history),
    ("sign-ups", usage.write_signups),
    ("reuse registry", reuse.write_registry),
    ("web log", usage.write_web_log),
    ("API gateway", usage.write_api_gateway),
    ("channels", usage.write_channels),
    ("ledger and outcomes", reuse.write_ledger_and_outcomes),
    ("README", _write_readme),
)
"""The generation steps in order; each is ``step(ctx)`` and writes its files into ``ctx.root``."""


def generate(
    out: str | Path,
    *,
    scale: float | None = DEFAULT_SCALE,
    seed: int | None = DEFAULT_SEED,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Generate the demo portal into ``out`` and return its manifest.

    Parameters
    ----------
    out
        The folder to create. An existing folder is replaced only if it is empty or a previous demo
        portal (it has a ``manifest.json`` written by this generator).
    scale
        Multiplier of the usage volumes: 1.0 puts the portal's published totals (≈4.68 million visits,
        ≈1.2 million API calls) in the window. The catalog, places and reuse files do not depend on it.
        None means :data:`DEFAULT_SCALE`.
    seed
        The seed of every random stream; None means :data:`DEFAULT_SEED`.
    progress
        Show a progress bar over the steps (default: only on a terminal).

    Returns
    -------
    dict
        The manifest (also written to ``out/manifest.json``).

    Raises
    ------
    DemoError
        If ``scale`` or ``seed`` is out of range, or ``out`` is something else than a demo folder.
    """
    scale = DEFAULT_SCALE if scale is None else scale
    seed = DEFAULT_SEED if seed is None else seed
    if isinstance(scale, bool) or not (
        isinstance(scale, int | float) and math.isfinite(scale) and 0 < scale <= 10
    ):
        raise DemoError(f"scale must be a number in (0, 10], got {scale!r}", file=out)
    if isinstance(seed, bool) or not (isinstance(seed, int) and 0 <= seed < 2**63):
        raise DemoError(f"seed must be a non-negative integer, got {seed!r}", file=out)
    out = Path(out).absolute()
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=f".{os.getpid()}.part", dir=out.parent))
    log.info("generating the demo portal into %s (scale %s, seed %s)", out, scale, seed)
    started = time.perf_counter()
    try:
        ctx = Context(tmp, seed, float(scale))
        bar = tqdm(
            STEPS,
            desc="lab demo",
            unit="step",
            disable=None if progress is None else not progress,
            leave=False,
        )
        for name, step in bar:
            bar.set_postfix_str(name)
            t0 = time.perf_counter()
            step(ctx)
            log.info("step %-20s %6.2f s", name, time.perf_counter() - t0)
        manifest = build_manifest(ctx)
        atomic_write_text(tmp / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("demo portal ready in %.1f s: %s", time.perf_counter() - started, out)
    return manifest


def build_manifest(ctx: Context) -> dict[str, Any]:
    """The manifest of a finished run: parameters, files (rows, bytes, sha256), totals and ground truth."""
    return {
        "generator": GENERATOR,
        "format_version": FORMAT_VERSION,
        "synthetic": True,
        "note": {"vi": SYNTHETIC_NOTE_VI, "en": SYNTHETIC_NOTE_EN},
        "seed": ctx.seed,
        "scale": ctx.scale,
        "window": {
            "start": timeline.WINDOW_START.isoformat(),
            "end": timeline.WINDOW_END.isoformat(),
            "timezone": "Asia/Ho_Chi_Minh",
            "utc_offset": timeline.UTC_OFFSET,
        },
        "files": {
            f.path: {
                "rows": f.rows,
                "bytes": f.bytes,
                "sha256": f.sha256,
                "title": f.title,
                **({"columns": list(f.columns)} if f.columns else {}),
            }
            for f in sorted(ctx.files, key=lambda f: f.path)
        },
        "totals": dict(sorted(ctx.totals.items())),
        "truth": ctx.truth,
    }


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The manifest of a demo folder, or None if it has none (not a demo, or an incomplete one)."""
    path = Path(folder) / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("generator") == GENERATOR else None


def _check_target(out: Path) -> None:
    """Refuse an ``out`` that is a file, a system path or a non-empty folder without a demo manifest."""
    if out.exists() and not out.is_dir():
        raise DemoError("exists and is not a folder: choose another --out", file=out)
    check_folder(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise DemoError("exists and is not a folder: choose another --out", file=out)
    if any(out.iterdir()) and read_manifest(out) is None:
        raise DemoError(
            "is a non-empty folder that is not a demo portal (no lab.demo manifest.json): "
            "refusing to replace it; choose another --out",
            file=out,
        )


def _remove_stale(out: Path) -> None:
    """Remove temporary folders of ``out`` left by killed runs (their process no longer exists)."""
    for leftover in out.parent.glob(f".{out.name}.*.part"):
        if leftover.is_dir() and not _alive(leftover.name.rsplit(".", 2)[-2]):
            log.info("removing %s, left by an interrupted run", leftover)
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in out.parent.glob(f".{out.name}.*.old"):
        if leftover.is_dir() and not _alive(leftover.name.rsplit(".", 2)[-2]):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid_text: str) -> bool:
    """Whether the process that named a temporary folder may still be running (unknown: yes)."""
    try:
        pid = int(pid_text)
    except ValueError:
        return True  # not ours: leave it alone
    return pid != os.getpid() and process_exists(pid)


def _move_into_place(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out``; an existing ``out`` is moved aside first and removed after."""
    if not out.exists():
        os.replace(tmp, out)
    else:
        old = out.parent / f".{out.name}.{os.getpid()}.old"
        os.replace(out, old)
        try:
            os.replace(tmp, out)
        except BaseException:
            os.replace(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):  # make the rename durable where the filesystem allows it
        fd = os.open(out.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ----------------------------------------------------------------------------------------------- README
def readme(ctx: Context) -> str:
    """The README of the demo folder: the synthetic warning, parameters, layout, columns and totals."""
    lines = [
        "# Cổng dữ liệu mẫu Đà Nẵng — Đà Nẵng demo portal",
        "",
        f"> **Lưu ý:** {SYNTHETIC_NOTE_VI}",
        ">",
        f"> **Note:** {SYNTHETIC_NOTE_EN} It is shaped like the real portal "
        "(opendata.danang.gov.vn / congdulieu.vn) so that the lab's analyses, reports and apps can run "
        "on it; its people are placeholders (Nguyễn Văn A, phones 0900 000 xxx, e-mail @example.org), its IP "
        "addresses are from the RFC 5737 documentation ranges and its web addresses use example.com.",
        "",
        f"- generator: `{GENERATOR}` (format {FORMAT_VERSION}), seed `{ctx.seed}`, scale `{ctx.scale}` "
        "(1.0 = the portal's published totals: ≈4.68 million visits, ≈1.2 million API calls)",
        f"- window: {timeline.WINDOW_START} … {timeline.WINDOW_END}, local time Asia/Ho_Chi_Minh "
        f"({timeline.UTC_OFFSET})",
        "- `manifest.json` lists every file with its rows and sha256, the totals, and ground truth for tests "
        "(spam reuse ids, anchor datasets, what the logs hold). A folder without it is an incomplete run.",
        "- Ward polygons in `geo/wards_approx.geojson` are **approximate** (Voronoi cells around the centre "
        "points of the `vietnamadminunits` package): label them on every map.",
        "",
        "## Files",
        "",
        "| file | rows | what | columns |",
        "|---|---:|---|---|",
    ]
    for f in sorted(ctx.files, key=lambda f: f.path):
        cols = ", ".join(f"`{c}`" for c in f.columns) if f.columns else ""
        rows = f"{f.rows:,}" if f.rows is not None else ""
        lines.append(f"| `{f.path}` | {rows} | {f.title} | {cols} |")
    lines += [
        "",
        'Every data file has a `<file>-metadata.json` companion (CSVW for CSV) with `"synthetic": true`.',
        "",
        "## Totals",
        "",
        *(f"- {k}: {v:,}" for k, v in sorted(ctx.totals.items())),
        "",
        "## Formats",
        "",
        "- `logs/web/access.log`: combined log format, e.g. "
        '`203.0.113.7 - - [10/Oct/2023:13:55:36 +0700] "GET /dulieuchitiet/102528 HTTP/1.1" 200 23260 '
        '"https://www.google.com/" "Mozilla/5.0 ..."`. Crawlers, scripts and an uptime monitor '
        "(`HEAD /`) are mixed in; `POST /zkau` lines are the ZK framework's AJAX requests, not page views.",
        "- `logs/api/gateway.csv`: `path` is `/api/dataset/<base64 of the numeric portal id>`; a 200 answer "
        "with `content_type` text/html is what the API returns to an expired or wrong account.",
        "- Timestamps are ISO 8601 with the `+07:00` offset; dates are `YYYY-MM-DD`; lists inside a cell "
        "are `;`-separated; coordinates are decimal degrees (EPSG:4326) with a dot.",
        "",
        "Licence of this generated data: CC0-1.0. The simplified city outline used as a land mask is derived "
        "from sapnhap.bando.com.vn (via thanglequoc/vietnamese-provinces-database, MIT).",
        "",
    ]
    return "\n".join(lines)
