"""Usage analytics: raw portal logs → a tidy, private event store → trusted monthly KPIs.

>>> from lab import usage
>>> usage.ingest(["access.log"], "combined", store="data/store")        # doctest: +SKIP
>>> usage.portal_totals("data/store", start="2026-01", end="2026-10")   # doctest: +SKIP
>>> usage.top_datasets("data/store", metric="downloads", n=10)          # doctest: +SKIP
>>> usage.ingest_demo()   # the demo portal's (synthetic) logs, through the catalog  # doctest: +SKIP

Modules: :mod:`~lab.usage.schema` (the canonical event and fact), :mod:`~lab.usage.adapters` (one per
input family), :mod:`~lab.usage.routes` (URL → event and dataset), :mod:`~lab.usage.agents` (robots
and monitors), :mod:`~lab.usage.rules` (the counting rules), :mod:`~lab.usage.privacy` (keyed
hashes, suppression), :mod:`~lab.usage.store` and :mod:`~lab.usage.ingest` (the store),
:mod:`~lab.usage.kpis` (the KPIs), :mod:`~lab.usage.report` (what the monthly report shows),
:mod:`~lab.usage.synthetic` (a seeded synthetic store for benchmarks). ``lab/usage/README.md`` has the
counting rules and the privacy rules in full.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.usage.adapters import FORMATS
    from lab.usage.demo_store import ingest_demo, is_synthetic
    from lab.usage.ingest import IngestResult, ingest
    from lab.usage.kpis import (
        TOTALS,
        accounts_per_quarter,
        api_calls_per_app,
        channel_mix,
        growth,
        kpi_suite,
        monthly_facts,
        portal_totals,
        top_datasets,
    )
    from lab.usage.privacy import DEFAULT_MIN_COUNT, keyed_hash, load_secret, suppress
    from lab.usage.routes import PORTAL_RULES, Route, UrlRules, datagouv_rules
    from lab.usage.rules import UDATA_COUNTING, CountingRules
    from lab.usage.schema import EVENT_SCHEMA, FACT_SCHEMA
    from lab.usage.store import EventStore, default_store_path

# imported on first use: `import lab.usage.kpis` (a public app's kernel) must not load the whole
# package (adapters, ingest, the loaders); `from lab.usage import ingest` works as before
_LAZY = {
    "FORMATS": "lab.usage.adapters",
    "ingest_demo": "lab.usage.demo_store",
    "is_synthetic": "lab.usage.demo_store",
    "IngestResult": "lab.usage.ingest",
    "ingest": "lab.usage.ingest",
    "TOTALS": "lab.usage.kpis",
    "accounts_per_quarter": "lab.usage.kpis",
    "api_calls_per_app": "lab.usage.kpis",
    "channel_mix": "lab.usage.kpis",
    "growth": "lab.usage.kpis",
    "kpi_suite": "lab.usage.kpis",
    "monthly_facts": "lab.usage.kpis",
    "portal_totals": "lab.usage.kpis",
    "top_datasets": "lab.usage.kpis",
    "DEFAULT_MIN_COUNT": "lab.usage.privacy",
    "keyed_hash": "lab.usage.privacy",
    "load_secret": "lab.usage.privacy",
    "suppress": "lab.usage.privacy",
    "PORTAL_RULES": "lab.usage.routes",
    "Route": "lab.usage.routes",
    "UrlRules": "lab.usage.routes",
    "datagouv_rules": "lab.usage.routes",
    "UDATA_COUNTING": "lab.usage.rules",
    "CountingRules": "lab.usage.rules",
    "EVENT_SCHEMA": "lab.usage.schema",
    "FACT_SCHEMA": "lab.usage.schema",
    "EventStore": "lab.usage.store",
    "default_store_path": "lab.usage.store",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lab.usage' has no attribute {name!r}")


class _Package(types.ModuleType):
    """``lab.usage.ingest`` is the function, as when the package imported everything at once (the import
    system binds the submodule of the same name on the package when it loads it: ignored here)."""

    @property
    def ingest(self) -> Any:
        return importlib.import_module("lab.usage.ingest").ingest

    @ingest.setter
    def ingest(self, value: Any) -> None:
        pass


sys.modules[__name__].__class__ = _Package


__all__ = [
    "DEFAULT_MIN_COUNT",
    "EVENT_SCHEMA",
    "FACT_SCHEMA",
    "FORMATS",
    "PORTAL_RULES",
    "TOTALS",
    "UDATA_COUNTING",
    "CountingRules",
    "EventStore",
    "IngestResult",
    "Route",
    "UrlRules",
    "accounts_per_quarter",
    "api_calls_per_app",
    "channel_mix",
    "datagouv_rules",
    "default_store_path",
    "growth",
    "ingest",
    "ingest_demo",
    "is_synthetic",
    "keyed_hash",
    "kpi_suite",
    "load_secret",
    "monthly_facts",
    "portal_totals",
    "suppress",
    "top_datasets",
]
