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
