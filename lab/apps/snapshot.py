"""The portal tracker's app snapshot: the figures the app shows, computed once, read by every kernel.

A visitor's kernel must not recompute the portal's history: the monthly totals, the per-dataset monthly
facts, the channel mix, the portal listing and the targets (with their charts, in both languages) are
computed once, by ``lab apps serve`` before Voilà starts or by the first kernel that needs them, into a
small folder of Parquet files under ``<cache>/apps/portal-tracker/<key>/`` (written whole, then renamed
into place: a reader never sees half a snapshot). A kernel only reads them.

The ``key`` is a fingerprint of everything the figures come from: the usage store (its ledger's content
and the size and modification time of every part), the catalog file, the demo portal's manifest, the
targets file, ``$LAB_AS_OF``, the smallest count shown and the snapshot format's version. Another store,
registry or catalog is another key, so another snapshot. The files the build read through the catalog
(listing, registry, outcomes) are recorded with their sha256 in ``meta.json`` and checked when a
snapshot is read; :func:`is_current` tells an app whether its snapshot still matches its inputs (the
tracker checks before it draws, so a visitor never sees figures older than the store).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab import settings
from lab.usage.privacy import DEFAULT_MIN_COUNT

if TYPE_CHECKING:  # a snapshot's frames are read on first use: the first paint needs none of them
    import polars as pl

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 3
"""2: the facts without their zero months that are safe periods by themselves; 3: ``front.json``."""
APP = "portal-tracker"
FRAMES = ("totals", "facts", "mix", "listing", "gauges")
FRONT = "front.json"
LANGS = ("vi", "en")


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The tracker's figures as read from a snapshot folder (see the module docstring).

    ``meta.json`` and ``front.json`` are read at once (no polars: the filters' options and the default
    view's HTML in both languages); each frame is read from its Parquet file on first use.
    """

    folder: Path
    key: str
    store: Path
    catalog: Path
    synthetic: bool
    inputs: dict[str, str]
    front: dict[str, Any]  # months, agencies, themes, theme_labels, channels, default, views

    @functools.cached_property
    def _frames(self) -> dict[str, pl.DataFrame]:
        return {}

    def frame(self, name: str) -> pl.DataFrame:
        """One of the snapshot's frames (:data:`FRAMES`), read on first use."""
        import polars as pl

        if name not in self._frames:
            self._frames[name] = pl.read_parquet(self.folder / f"{name}.parquet")
        return self._frames[name]

    @property
    def totals(self) -> pl.DataFrame:
        """Monthly totals, unprotected (the app publishes safe periods of them)."""
        return self.frame("totals")

    @property
    def facts(self) -> pl.DataFrame:
        """Every dataset's monthly facts, cut into safe periods (:func:`compact_facts`)."""
        return self.frame("facts")

    @property
    def mix(self) -> pl.DataFrame:
        """Requests per channel and month, unprotected."""
        return self.frame("mix")

    @property
    def listing(self) -> pl.DataFrame:
        """The portal listing: ``dataset_id``, titles, ``publisher``, ``theme``."""
        return self.frame("listing")

    @functools.cached_property
    def gauges(self) -> dict[str, str]:
        """Language → the targets' HTML (gauges and charts)."""
        g = self.frame("gauges")
        return dict(zip(g["lang"].to_list(), g["html"].to_list(), strict=True))


# ------------------------------------------------------------------------------------------ inputs
def catalog_path(catalog: Any = None) -> Path:
    """The catalog file: ``catalog`` (a path or a :class:`~lab.catalog.Catalog`), else the default one."""
    if catalog is not None:
        return settings.absolute(getattr(catalog, "path", catalog))
    found = settings.catalog_file()
    if found is not None:
        return found
    project = settings.PROJECT_ROOT / "datasets.yaml"
    return project if project.exists() else Path.cwd() / "datasets.yaml"


def shared_store(catalog: Path) -> Path:
    """The store the apps share when no store is configured: in this user's temporary folder, named
    after the catalog and the demo portal's manifest (two demos never mix)."""
    manifest = settings.demo_dir() / "manifest.json"
    stamp = manifest.read_bytes() if manifest.is_file() else b""
    key = hashlib.sha256(str(catalog).encode() + stamp).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"lab-apps-{os.getuid()}" / f"usage-{key}"


def store_path(store: str | Path | None, catalog: Path) -> Path:
    """The store the tracker reads: ``store``, else ``$LAB_USAGE_STORE``, else :func:`shared_store`."""
    if store is not None and str(store).strip():
        return settings.absolute(store)
    configured = os.environ.get("LAB_USAGE_STORE", "").strip()
    return settings.absolute(configured) if configured else shared_store(catalog)


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "-"


def store_fingerprint(store: Path) -> str:
    """A fingerprint of a store's content: its ledger's bytes (every ingest and every removal rewrites
    it) and the name, size and modification time of each entry at its top level. Cheap (a few stat
    calls): the tracker checks it before every redraw."""
    digest = hashlib.sha256()
    if store.is_dir():
        with os.scandir(store) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if not entry.name.startswith(".") and not entry.name.endswith(".tmp"):  # .lock, .staging
                    stat = entry.stat()
                    digest.update(f"{entry.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        digest.update(_file_digest(store / "_ledger.json").encode())
    return digest.hexdigest()


def input_key(store: Path, catalog: Path, min_count: int) -> str:
    """The snapshot key of a store, catalog and smallest count (see the module docstring)."""
    parts = [
        f"v{SNAPSHOT_VERSION}",
        f"min_count={min_count}",
        f"as_of={os.environ.get('LAB_AS_OF', '')}",
        f"store={store}:{store_fingerprint(store)}",
        f"catalog={catalog}:{_file_digest(catalog)}",
        f"demo={_file_digest(settings.demo_dir() / 'manifest.json')}",
        f"targets={_file_digest(settings.path('LAB_TARGETS') or settings.PROJECT_ROOT / 'targets.yaml')}",
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _prepare(store: Path | str | None, catalog: Any, wait_s: float) -> Any:
    """:func:`lab.usage.report.prepare_store`, waiting up to ``wait_s`` while another kernel ingests."""
    import time

    from lab.usage.report import prepare_store
    from lab.usage.store import StoreError

    deadline = time.monotonic() + wait_s
    while True:
        try:
            return prepare_store(store, catalog)
        except StoreError as exc:
            if "another ingest" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def open_store(store: str | Path | None = None, catalog: Any = None, *, wait_s: float = 120.0) -> Any:
    """The usage store the app reads, the demo portal's logs ingested into it when it holds no real data.

    ``store`` (or ``$LAB_USAGE_STORE``) when given. Otherwise a store in the temporary folder shared by
    the kernels of this user, named after the catalog and the demo's manifest (so two demos never mix).
    Ingestion is idempotent (:func:`lab.usage.report.prepare_store`): only the first kernel pays for it;
    a kernel starting while another ingests waits for it (up to ``wait_s`` seconds), then falls back to a
    store of its own in a temporary folder removed when it exits.
    """
    from lab.usage.store import STORE_ENV, StoreError

    if store is not None or os.environ.get(STORE_ENV, "").strip():
        return _prepare(store, catalog, wait_s)
    shared = shared_store(catalog_path(catalog))
    try:
        shared.parent.mkdir(parents=True, exist_ok=True)
        return _prepare(shared, catalog, wait_s)
    except StoreError as exc:
        log.info("shared app store unusable (%s): using a store of this process", exc)
    folder = tempfile.mkdtemp(prefix="lab-app-usage-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return _prepare(Path(folder) / "store", catalog, 0)


def snapshots_dir() -> Path:
    """Where the tracker's snapshots live: ``<cache>/apps/portal-tracker``."""
    return settings.cache_dir() / "apps" / APP


# ------------------------------------------------------------------------------------------ build
def dataset_facts(store: Any, min_count: int) -> pl.DataFrame:
    """Every dataset's monthly facts (``period``, ``dataset_id``, ``metric``, ``value``), cut into safe
    periods (:func:`lab.apps.tracker_figures.cut_facts`)."""
    import polars as pl

    from lab.apps.tracker_figures import cut_facts
    from lab.usage.kpis import monthly_facts

    return (
        monthly_facts(store, min_count=0, imported=False)
        .filter(pl.col("value").is_not_null())
        .select(pl.col("month").dt.strftime("%Y-%m").alias("period"), "dataset_id", "metric", "value")
        .pipe(cut_facts, min_count)
    )


def compact_facts(cut: pl.DataFrame) -> pl.DataFrame:
    """The cut facts without the months that count 0 and are a safe period by themselves (three in four
    on the demo portal): whatever the window, such a month adds 0 to a sum, is never left out and hides
    nothing, so every figure the tracker shows is the same without them; each kernel holds a quarter of
    the rows."""
    import polars as pl

    return cut.filter(~((pl.col("value") == 0) & (pl.col("_period_months") == 1)))


def build(store: str | Path | None, catalog: Path, min_count: int, key: str | None = None) -> Path:
    """Compute the tracker's figures from the store (None: the apps' shared one,
    :func:`open_store`) and the catalog into a new snapshot folder (whole, then
    renamed into place) and return it. The store gets the demo portal's logs first when it holds no real
    data (:func:`lab.usage.report.prepare_store`)."""
    import polars as pl

    from lab.apps.tracker_figures import gauges_html, reuse_report
    from lab.catalog import load_catalog
    from lab.loader import PROVENANCE_ENV
    from lab.reuse.indicators import portal_listing
    from lab.usage.demo_store import is_synthetic
    from lab.usage.kpis import channel_mix, portal_totals

    cat = load_catalog(catalog)
    st = open_store(store, cat)
    key = key or input_key(Path(st.path), catalog, min_count)
    target = snapshots_dir() / key
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=target.parent))
    provenance = work / "inputs.jsonl"
    previous = os.environ.get(PROVENANCE_ENV)
    os.environ[PROVENANCE_ENV] = str(provenance)  # lab.load records every file it reads, with its sha256
    try:
        totals = portal_totals(st, min_count=0)  # unprotected: the app publishes safe periods of it
        facts = dataset_facts(st, min_count).pipe(compact_facts)
        mix = channel_mix(st, by="month", min_count=0)
        listing = portal_listing(cat).select(
            pl.col("dataset_id").cast(pl.String), "title_vi", "title_en", "publisher", "theme"
        )
        report = reuse_report(cat, "vi")
        gauges = pl.DataFrame(
            {"lang": list(LANGS), "html": [gauges_html(dataclasses.replace(report, lang=g)) for g in LANGS]}
        )
        for name, frame in zip(FRAMES, (totals, facts, mix, listing, gauges), strict=True):
            frame.write_parquet(work / f"{name}.parquet")
        inputs = {}
        if provenance.is_file():
            for line in provenance.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                inputs[record["file"]] = record["sha256"]
        meta = {
            "format": "lab apps snapshot",
            "version": SNAPSHOT_VERSION,
            "app": APP,
            "key": key,
            "store": str(st.path),
            "catalog": str(catalog),
            "min_count": min_count,
            "synthetic": bool(is_synthetic(st)),
            "inputs": inputs,
        }
        (work / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        _write_front(work, meta, totals, listing, min_count)
        provenance.unlink(missing_ok=True)
        try:
            work.rename(target)  # atomic: readers see the whole snapshot or none
        except OSError:  # another kernel published the same snapshot meanwhile: theirs is as good
            shutil.rmtree(work, ignore_errors=True)
        log.info("app snapshot %s written", target)
        return target
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        if previous is None:
            os.environ.pop(PROVENANCE_ENV, None)
        else:
            os.environ[PROVENANCE_ENV] = previous


def _write_front(
    work: Path, meta: dict[str, Any], totals: pl.DataFrame, listing: pl.DataFrame, mc: int
) -> None:
    """``front.json``: the filters' options and the default view in both languages, drawn by
    :func:`lab.apps.tracker_view.tracker_view` from the frames just written."""
    from lab.apps.tracker_figures import CHANNELS
    from lab.apps.tracker_view import default_filters, options, tracker_view

    months = totals["period"].to_list()
    default = default_filters(months)
    snap = Snapshot(
        folder=work,
        key=meta["key"],
        store=Path(meta["store"]),
        catalog=Path(meta["catalog"]),
        synthetic=meta["synthetic"],
        inputs=meta["inputs"],
        front={},
    )
    front = {
        "months": months,
        **options(listing),
        "channels": list(CHANNELS),
        "default": default,
        "views": {lang: tracker_view(snap, default, lang, mc) for lang in LANGS} if months else {},
    }
    (work / FRONT).write_text(json.dumps(front, ensure_ascii=False), encoding="utf-8")


def read(folder: Path) -> Snapshot:
    """Read a snapshot folder (its meta and front; the frames on first use)."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"snapshot format {meta.get('version')} is not {SNAPSHOT_VERSION}")
    missing = [name for name in FRAMES if not (folder / f"{name}.parquet").is_file()]
    if missing:
        raise ValueError(f"snapshot {folder} lacks {', '.join(missing)}")
    return Snapshot(
        folder=folder,
        key=meta["key"],
        store=Path(meta["store"]),
        catalog=Path(meta["catalog"]),
        synthetic=bool(meta["synthetic"]),
        inputs=dict(meta.get("inputs", {})),
        front=json.loads((folder / FRONT).read_text(encoding="utf-8")),
    )


def _inputs_unchanged(inputs: dict[str, str]) -> bool:
    return all(_file_digest(Path(file)) == sha for file, sha in inputs.items())


def current(
    store: str | Path | None = None, catalog: Any = None, min_count: int = DEFAULT_MIN_COUNT
) -> Snapshot:
    """The tracker's snapshot for the current store and catalog: read when one matches, else built.

    Parameters
    ----------
    store
        The usage store (default ``$LAB_USAGE_STORE``, else the apps' shared one).
    catalog
        The catalog file or :class:`~lab.catalog.Catalog` (default ``$LAB_CATALOG`` or the project's).
    min_count
        The smallest count shown to the public.
    """
    cat = catalog_path(catalog)
    where = store_path(store, cat)
    key = input_key(where, cat, min_count)
    folder = snapshots_dir() / key
    if folder.is_dir():
        with contextlib.suppress(OSError, ValueError, KeyError):
            snap = read(folder)
            if _inputs_unchanged(snap.inputs):
                return snap
        shutil.rmtree(folder, ignore_errors=True)  # unreadable or its registry/listing changed: rebuild
    configured = store is not None or bool(os.environ.get("LAB_USAGE_STORE", "").strip())
    folder = build(where if configured else None, cat, min_count)
    snap = read(folder)
    if snap.key != input_key(snap.store, cat, min_count):  # the store changed while we built: once more
        return current(store, catalog, min_count)
    return snap


def is_current(snap: Snapshot, min_count: int) -> bool:
    """Whether ``snap`` still matches its store, catalog and demo portal (cheap: no figure is read)."""
    return input_key(snap.store, snap.catalog, min_count) == snap.key


__all__ = [
    "Snapshot",
    "build",
    "catalog_path",
    "compact_facts",
    "current",
    "dataset_facts",
    "input_key",
    "is_current",
    "read",
    "shared_store",
    "snapshots_dir",
    "store_fingerprint",
    "store_path",
]
