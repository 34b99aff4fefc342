"""The quality vocabularies: data files under ``lab/vocab/quality/``, read once, as tables.

They extend the catalog's own vocabularies (``lab/vocab/vocabularies.yaml``, :func:`lab.catalog.vocabularies`)
rather than repeat them: the format table below joins the catalog's formats (id, media type) with the
quality attributes of ``formats.yaml`` (EU code, machine-readable, non-proprietary, closed, stars) and
adds the formats the catalog does not list yet.

Each file names its source: data.europa.eu MQA methodology (``mqa.yaml``), the European Data Portal's
machine-readable and non-proprietary format lists, udata's closed formats, ckanext-qa's 5-star rules
(``formats.yaml``), the SPDX License List (``licences.yaml``), udata's quality criteria (``udata.yaml``),
the 2025 administrative units of Đà Nẵng (``admin.yaml``) and HDX's freshness aging table
(``freshness.yaml``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

import polars as pl
import yaml

from lab.catalog import vocabularies

__all__ = [
    "Indicator",
    "admin_rules",
    "aging_table",
    "format_table",
    "frequency_days",
    "indicators",
    "licence_table",
    "mqa_bands",
    "mqa_max_points",
    "udata_rules",
]


@functools.cache
def _read(name: str) -> dict[str, Any]:
    text = resources.files("lab").joinpath(f"vocab/quality/{name}").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class Indicator:
    """One MQA indicator: id, FAIR dimension, the DCAT property it inspects, level and weight (points)."""

    id: str
    dimension: str
    property: str
    level: str  # dataset | distribution | best_distribution
    weight: float


@functools.cache
def indicators() -> tuple[Indicator, ...]:
    """The 23 MQA indicators in the methodology's order (``mqa.yaml``)."""
    return tuple(
        Indicator(i["id"], i["dimension"], i["property"], i["level"], float(i["weight"]))
        for i in _read("mqa.yaml")["indicators"]
    )


def mqa_max_points() -> float:
    """The highest MQA score (405)."""
    return float(_read("mqa.yaml")["max_points"])


def mqa_bands() -> dict[str, float]:
    """The lowest points of each band, highest band first: excellent, good, sufficient, bad."""
    bands = _read("mqa.yaml")["bands"]
    return dict(sorted(((k, float(v)) for k, v in bands.items()), key=lambda kv: -kv[1]))


@functools.cache
def format_table() -> pl.DataFrame:
    """One row per known format id: media type, EU code, machine-readable, non-proprietary, closed, stars.

    The catalog's formats (``vocabularies.yaml``) come first, then the ones ``formats.yaml`` adds.
    """
    doc = _read("formats.yaml")
    catalog = vocabularies()["formats"]
    extra = doc["file_types"]["values"]
    eu_codes = doc["eu_codes"]["values"]
    machine = set(doc["machine_readable"]["values"])
    open_ = set(doc["non_proprietary"]["values"])
    closed = set(doc["closed"]["values"])
    stars = doc["stars"]["values"]
    ids = [*catalog, *(f for f in extra if f not in catalog)]
    eu = [eu_codes.get(f) if f in catalog else extra[f].get("eu") for f in ids]
    return pl.DataFrame(
        {
            "format": ids,
            "media_type": [(catalog.get(f) or extra.get(f) or {}).get("media_type") for f in ids],
            "eu_code": eu,
            "machine_readable": [code in machine for code in eu],
            "non_proprietary": [code in open_ for code in eu],
            "closed": [f in closed for f in ids],
            "stars": [stars.get(f, 0) for f in ids],
        },
        schema={
            "format": pl.String,
            "media_type": pl.String,
            "eu_code": pl.String,
            "machine_readable": pl.Boolean,
            "non_proprietary": pl.Boolean,
            "closed": pl.Boolean,
            "stars": pl.Int8,
        },
    )


@functools.cache
def licence_table() -> pl.DataFrame:
    """One row per catalog licence id: ``open`` (Open Definition) and ``in_vocabulary`` (has an SPDX id)."""
    catalog = vocabularies()["licenses"]
    spdx = _read("licences.yaml")["values"]
    ids = list(dict.fromkeys([*catalog, *spdx]))
    return pl.DataFrame(
        {
            "license": ids,
            "open": [bool((catalog.get(i) or {}).get("open", False)) for i in ids],
            "in_vocabulary": [bool((spdx.get(i) or {}).get("spdx")) for i in ids],
        },
        schema={"license": pl.String, "open": pl.Boolean, "in_vocabulary": pl.Boolean},
    )


def frequency_days() -> dict[str, float | None]:
    """Days between two updates for each frequency id of the catalog (None: no regular update)."""
    return {
        k: (None if v.get("days") is None else float(v["days"]))
        for k, v in vocabularies()["frequencies"].items()
    }


@functools.cache
def aging_table() -> pl.DataFrame:
    """HDX's freshness aging table (``freshness.yaml``) for the catalog's frequencies.

    Returns
    -------
    polars.DataFrame
        ``frequency`` (the catalog's id), ``hdx_frequency``, ``due``, ``overdue``, ``delinquent`` (days;
        null for the always-fresh frequencies) and ``always_fresh``; frequencies without an HDX
        equivalent (``unknown``) are left out.
    """
    doc = _read("freshness.yaml")
    rows = []
    for frequency, hdx in doc["frequencies"].items():
        if hdx is None:
            continue
        days = doc["aging"].get(hdx, {})
        rows.append(
            {
                "frequency": frequency,
                "hdx_frequency": hdx,
                "due": days.get("due"),
                "overdue": days.get("overdue"),
                "delinquent": days.get("delinquent"),
                "always_fresh": hdx == "always_fresh",
            }
        )
    schema = {"frequency": pl.String, "hdx_frequency": pl.String, "always_fresh": pl.Boolean}
    schema |= {k: pl.Int64 for k in ("due", "overdue", "delinquent")}
    return pl.DataFrame(rows, schema=schema).select(
        "frequency", "hdx_frequency", "due", "overdue", "delinquent", "always_fresh"
    )


def udata_rules() -> dict[str, Any]:
    """udata's criteria list, description length, grace days and exempt frequencies (``udata.yaml``)."""
    return _read("udata.yaml")


@dataclass(frozen=True)
class AdminRules:
    """What the content checks know about the 2025 administrative units (``admin.yaml``)."""

    merger_date: date
    reference_datasets: tuple[tuple[str, str, str], ...]  # (dataset id, code column, name column)
    columns: tuple[tuple[str, str | None], ...]  # (code column, name column)
    boxes: tuple[tuple[float, float, float, float], ...]


@functools.cache
def admin_rules() -> AdminRules:
    """The merger date, the reference datasets, the unit-code columns and the city's extent."""
    doc = _read("admin.yaml")
    merger = doc["merger_date"]
    return AdminRules(
        merger_date=merger if isinstance(merger, date) else date.fromisoformat(str(merger)),
        reference_datasets=tuple((r["id"], r["code"], r["name"]) for r in doc["reference_datasets"]),
        columns=tuple((c["code"], c.get("name")) for c in doc["columns"]),
        boxes=tuple(tuple(float(x) for x in box) for box in doc["extent"]["boxes"].values()),  # type: ignore[misc]
    )
