"""The demo portal's usage, ingested into a store through the catalog (so ``$LAB_DEMO`` is honoured).

:func:`ingest_demo` reads the catalog entries ``portal-web-logs`` (combined log), ``portal-api-gateway``
(gateway CSV), ``portal-channel-requests`` (channel CSV) and ``portal-signups`` (sign-ups) with
:func:`lab.fetch.fetch`, records them as report inputs, and ingests them. It is idempotent: a file
already in the store (same sha256, memoised by size and modification time) adds nothing, so a report
can call it on every run. The demo's usage is **synthetic**; a store that already holds real data
refuses it (and a demo store refuses real data), so the two are never mixed. A demo store made with
another usage secret (on another machine, under another home) is rebuilt from the demo. The store
records which demo it was built from (generator, seed, scale of the demo's ``manifest.json``): a demo
generated again with the same seed and scale adds nothing (its events are already there, by content),
and a store of another demo is refused rather than mixed with it.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from lab.catalog import Catalog, as_catalog
from lab.fetch import fetch
from lab.loader import record_provenance
from lab.settings import demo_dir
from lab.usage.ingest import IngestResult, ingest
from lab.usage.privacy import fingerprint, load_secret
from lab.usage.store import LEDGER, EventStore, StoreError

log = logging.getLogger(__name__)

DEMO_SOURCES: tuple[tuple[str, str | None], ...] = (
    ("portal-web-logs", None),  # the distribution's options say: log_format combined
    ("portal-api-gateway", "gateway-csv"),
    ("portal-channel-requests", "channel-csv"),
    ("portal-signups", "accounts"),
)
"""Catalog id → ingest format of the demo portal's usage inputs."""


def demo_identity(folder: str | Path | None = None) -> dict[str, Any] | None:
    """Which demo portal a folder holds (``generator``, ``format_version``, ``seed``, ``scale`` of its
    manifest), or None if it has no manifest. Default: ``$LAB_DEMO`` (``data/demo``)."""
    from lab.demo import read_manifest

    manifest = read_manifest(folder if folder is not None else demo_dir())
    if manifest is None:
        return None
    return {k: manifest.get(k) for k in ("generator", "format_version", "seed", "scale")}


def is_synthetic(store: EventStore | str | Path | None = None) -> bool:
    """Whether the store holds synthetic (demo) inputs."""
    st = store if isinstance(store, EventStore) else EventStore(store)
    return any(e.get("synthetic") for e in st.entries()) if st.exists() else False


def _clear_other_secret(st: EventStore) -> None:
    """Empty a demo store made with another secret (another machine or home): it holds nothing that cannot
    be made again from the demo portal in seconds, so it is rebuilt rather than refused.

    Under the store's lock, checked again once the lock is held: of several kernels finding the same old
    store, one empties it and the others find it empty (or already rebuilt with their secret). The ledger
    goes last, so a reader never finds parts without a ledger."""
    with st.locked():
        if not st.exists() or st.ledger().get("secret_fingerprint") in (None, fingerprint(load_secret())):
            return
        log.warning("rebuilding the demo usage store %s: it was made with another usage secret", st.path)
        for child in sorted(st.path.iterdir(), key=lambda p: p.name == LEDGER):
            if child.name == ".lock":
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()


def ingest_demo(
    store: EventStore | str | Path | None = None,
    *,
    catalog: Catalog | str | Path | None = None,
    progress: bool | None = False,
) -> list[IngestResult]:
    """Ingest the demo portal's usage logs (through the catalog) into ``store``; cheap when done before.

    Parameters
    ----------
    store
        The store or its folder (default ``$LAB_USAGE_STORE`` or ``data/store``).
    catalog
        The catalog (default ``$LAB_CATALOG`` or ``datasets.yaml``).
    progress
        Progress bars (off by default: reports run it on every run).

    Returns
    -------
    list of IngestResult
        One per input file; ``status`` is ``already ingested`` on every run after the first.

    Raises
    ------
    lab.usage.store.StoreError
        The store already holds real (not synthetic) inputs, or was built from another demo portal
        (another seed or scale).
    lab.errors.LabError
        The demo portal is missing (generate it with ``lab demo``) or a file cannot be read.
    """
    st = store if isinstance(store, EventStore) else EventStore(store)
    if st.exists() and any(not e.get("synthetic") for e in st.entries()):
        raise StoreError("holds real usage data: ingest the synthetic demo into another store", file=st.path)
    if st.exists() and st.ledger().get("secret_fingerprint") not in (None, fingerprint(load_secret())):
        _clear_other_secret(st)
    cat = as_catalog(catalog)
    identity = demo_identity()
    results: list[IngestResult] = []
    for dataset_id, fmt in DEMO_SOURCES:
        dataset = cat.get(dataset_id)
        for dist in dataset.distributions:
            path = fetch(dataset, dist, catalog_root=cat.root)
            record_provenance(dataset.id, path)
            results += ingest(
                path,
                fmt or str(dist.options.get("log_format", "combined")),
                store=st,
                timezone=dist.options.get("timezone"),
                synthetic=dataset.synthetic,
                progress=progress,
                demo=identity if dataset.synthetic else None,
            )
    for r in results:
        log.info("%s", r.summary())
    return results
