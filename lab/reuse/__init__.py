"""Reuse and product outcomes: who builds what on which datasets, and what it yields.

* :mod:`lab.reuse.registry`: the registry format (udata's Reuse + status, dates, owner kind, channels, paid
  service), reading, writing, validation with every problem at once, spam-like flags;
* :mod:`lab.reuse.importers`: udata/data.gouv.fr reuse export CSV, CKAN ckanext-showcase API responses;
* :mod:`lab.reuse.outcomes`: the monthly outcomes table, joined to API usage per app;
* :mod:`lab.reuse.revenue`: paid services, fee schedules, ledger, revenue per month/dataset, reconciliation;
* :mod:`lab.reuse.indicators`: open datasets over time, datasets reused, reuse rate, reusers, time to first
  reuse, summary and diff;
* :mod:`lab.reuse.lineage`: dataset → product → outcome, as a table and an offline SVG picture;
* :mod:`lab.reuse.impact`: an Open Data Maturity–style impact summary per year;
* :mod:`lab.reuse.observed`: observed versus declared reuse (the usage store's applications and scheduled
  downloads joined with the registry), the 50-reused target both ways, the officer's follow-up list;
* :mod:`lab.reuse.targets`: the city's targets (``targets.yaml``), projections and status;
* :mod:`lab.reuse.report`: the reuse-outcomes report's parts (charts from :mod:`lab.charts`);
* :mod:`lab.reuse.cli`: ``lab reuse import|summary|diff|validate`` and ``lab targets``.
"""

from __future__ import annotations

from lab.reuse.registry import (
    Issue,
    Registry,
    RegistryError,
    known_dataset_ids,
    read_registry,
    registry_from_catalog,
    spam_flags,
    write_registry,
)
from lab.reuse.validation import ValidationReport, valid_rows, validate

__all__ = [
    "Issue",
    "Registry",
    "RegistryError",
    "ValidationReport",
    "known_dataset_ids",
    "read_registry",
    "registry_from_catalog",
    "spam_flags",
    "valid_rows",
    "validate",
    "write_registry",
]
