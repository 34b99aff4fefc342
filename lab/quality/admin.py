"""The 2025 administrative units of Đà Nẵng as a reference for the content checks.

The codes and names of the 94 commune-level units come from a catalog dataset, the first that loads of
``admin.yaml``'s ``reference_datasets``: the real centre points ``danang-ward-points-2025`` (through the
offline mirror), the demo portal's ``demo-wards-approx`` (always there when the demo is), the real
boundaries ``danang-wards-2025``. Nothing is hard-coded: the reference is the data.

A table is only checked against these codes when it describes the units after the merger (its temporal
coverage, else its issue date, is on or after 2025-07-01): codes were reused, so a table of the old units
would show false "invalid" codes (new 20242 is Phường Hải Châu; old 20242 was Phường Phước Ninh).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import polars as pl

from lab.catalog import Catalog, Dataset
from lab.errors import LabError
from lab.quality.vocab import admin_rules

log = logging.getLogger(__name__)

__all__ = ["AdminReference", "applies_to", "in_city_expr", "reference_units"]


@dataclass(frozen=True)
class AdminReference:
    """The units' codes and names (NFC) and the dataset they were read from."""

    units: pl.DataFrame  # code, name
    source: str

    @property
    def codes(self) -> list[str]:
        """The unit codes."""
        return self.units["code"].to_list()


_CACHE: dict[tuple[str, str, str], AdminReference | None] = {}


def _load(catalog: Catalog) -> AdminReference | None:
    from lab.loader import load

    for dataset_id, code, name in admin_rules().reference_datasets:
        if dataset_id not in catalog:
            continue
        try:
            frame = load(dataset_id, catalog=catalog)
        except LabError as exc:
            log.info("admin reference %s not available: %s", dataset_id, exc)
            continue
        if not isinstance(frame, pl.DataFrame):
            frame = pl.from_pandas(frame.drop(columns=frame.geometry.name).astype({code: str, name: str}))
        units = frame.select(
            code=pl.col(code).cast(pl.String).str.strip_chars(),
            name=pl.col(name).cast(pl.String).str.normalize("NFC"),
        ).unique("code", keep="first", maintain_order=True)
        log.info("admin reference: %d units from %s", units.height, dataset_id)
        return AdminReference(units, dataset_id)
    log.warning(
        "no admin reference could be loaded (%s)",
        ", ".join(d for d, _, _ in admin_rules().reference_datasets),
    )
    return None


def reference_units(catalog: Catalog) -> AdminReference | None:
    """The 2025 units (code, name) from the first reference dataset of ``catalog`` that loads, or None.

    Cached per catalog file, demo folder and mirror folder.
    """
    from lab.settings import demo_dir, mirror_dir

    key = (str(catalog.path), str(demo_dir()), str(mirror_dir()))
    if key not in _CACHE:
        _CACHE[key] = _load(catalog)
    return _CACHE[key]


def applies_to(dataset: Dataset) -> bool:
    """True when ``dataset`` describes the units after the 2025 merger (its codes are the new ones)."""
    merger = admin_rules().merger_date
    temporal = dataset.temporal or {}
    if temporal.get("end") and temporal["end"] < merger:
        return False
    start = temporal.get("start") or dataset.issued
    return start is not None and start >= merger


def in_city_expr(lon: pl.Expr, lat: pl.Expr) -> pl.Expr:
    """True where (lon, lat) lies inside the city's extent (the mainland or the Hoàng Sa box)."""
    inside = pl.lit(False)
    for x0, y0, x1, y1 in admin_rules().boxes:
        inside = inside | (lon.is_between(x0, x1) & lat.is_between(y0, y1))
    return inside
