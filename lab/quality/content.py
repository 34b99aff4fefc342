"""Content checks: is the data itself đúng (correct), đủ (complete) and sạch (clean)?

Each check gives a count of failing items, the number checked, a rate and a few example rows (1-based
row numbers, as a spreadsheet shows them):

================== ========= =========================================================================
check              dimension what fails (out of what)
================== ========= =========================================================================
schema_conformance correct   cells that do not fit the declared type (present cells of non-text columns)
out_of_range       correct   values below ``min``, above ``max`` or outside ``enum`` (constrained values)
missing_columns    complete  declared required columns absent from the file (required columns)
required_nulls     complete  empty cells in required columns (rows × required columns)
temporal_gaps      complete  months of the declared temporal coverage without any row (its months)
unit_coverage      complete  2025 units absent from a table keyed by unit code (the 94 units)
duplicate_keys     clean     rows repeating an earlier primary key (else unique column, else whole row)
invalid_admin_codes clean    unit codes that are not 2025 codes (non-empty codes)
invalid_admin_names clean    unit names matching no 2025 unit, or not the unit of the row's code
inconsistent_names clean     unit names that match only once spelling is normalised ("P. Hải Châu")
invalid_geometry   clean     broken or empty geometries, points or shapes outside the city (rows)
encoding_damage    clean     rows with mojibake ("Ä\\x90Ã\\xa0 Náºµng" for "Đà Nẵng") or U+FFFD (rows)
================== ========= =========================================================================

A dimension's score is the mean of ``1 - rate`` over its checks; the content score the mean of the
dimensions. The checks run on the table *as read* (before the loader's schema step, which would stop
at the first bad value) from the same sources the loader uses: cache, local files, the demo portal,
the mirror; the network only when allowed.

Admin-unit checks use the 2025 units (:mod:`lab.quality.admin`) and only on tables describing the
units after the merger; the city's extent is that of the real boundaries (``admin.yaml``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from lab.catalog import Catalog, Column, Dataset, TableSchema
from lab.errors import LabError
from lab.quality.admin import AdminReference, applies_to, in_city_expr, reference_units
from lab.quality.conformance import present_expr, typed_columns
from lab.quality.vocab import admin_rules
from lab.text import place_key_expr

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

__all__ = [
    "DIMENSIONS",
    "MOJIBAKE_PATTERN",
    "Check",
    "ContentReport",
    "check_catalog",
    "check_dataset",
    "check_frame",
    "mojibake_expr",
]

DIMENSIONS = ("correct", "complete", "clean")
"""đúng, đủ, sạch."""

# A UTF-8 lead byte read as Latin-1/cp1252 (Â..ï) followed by a continuation byte read the same way
# (0x80–0xBF, or the cp1252 characters in 0x80–0x9F), or the replacement character of a lossy decode.
MOJIBAKE_PATTERN = (
    "[\u00c2-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]|\ufffd"
)
"""Encoding damage: e.g. "Ä\\x90Ã\\xa0 Náºµng" (UTF-8 "Đà Nẵng" decoded as cp1252) or "�"."""


def mojibake_expr(col: pl.Expr) -> pl.Expr:
    """True where a string holds encoding damage (:data:`MOJIBAKE_PATTERN`).

    Examples
    --------
    >>> damaged = "Đà Nẵng".encode("utf-8").decode("latin-1")
    >>> frame = pl.DataFrame({"s": ["Đà Nẵng", damaged, "Ấp Ông Già"]})
    >>> frame.select(mojibake_expr(pl.col("s")))["s"].to_list()
    [False, True, False]
    """
    return col.str.contains(MOJIBAKE_PATTERN).fill_null(False)


@dataclass(frozen=True)
class Check:
    """One content check's result."""

    name: str
    dimension: str
    failing: int
    checked: int
    examples: tuple[dict[str, Any], ...] = ()
    note: str | None = None

    @property
    def rate(self) -> float:
        """Share failing (0 when nothing was checked)."""
        return self.failing / self.checked if self.checked else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "check": self.name,
            "dimension": self.dimension,
            "rate": round(self.rate, 4),
            "failing": self.failing,
            "checked": self.checked,
            "examples": list(self.examples),
            **({"note": self.note} if self.note else {}),
        }


@dataclass(frozen=True)
class ContentReport:
    """Every content check of one dataset; ``error`` when it could not be read at all."""

    dataset: str
    rows: int = 0
    checks: tuple[Check, ...] = ()
    skipped: tuple[str, ...] = ()
    error: str | None = None

    def check(self, name: str) -> Check | None:
        """The check ``name``, or None when it did not apply."""
        return next((c for c in self.checks if c.name == name), None)

    def dimension_scores(self) -> dict[str, float | None]:
        """Per dimension, the mean of ``1 - rate`` over its checks that checked something."""
        out: dict[str, float | None] = {}
        for dim in DIMENSIONS:
            rates = [c.rate for c in self.checks if c.dimension == dim and c.checked]
            out[dim] = round(1 - sum(rates) / len(rates), 4) if rates else None
        return out

    @property
    def score(self) -> float | None:
        """The mean of the dimension scores (None when nothing could be checked)."""
        dims = [v for v in self.dimension_scores().values() if v is not None]
        return round(sum(dims) / len(dims), 4) if dims else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: score, dimension scores, rows, checks (with rates and examples), skipped, error."""
        return {
            "score": self.score,
            **self.dimension_scores(),
            "rows": self.rows,
            "checks": [c.to_dict() for c in self.checks],
            "skipped": list(self.skipped),
            "error": self.error,
        }


# ----------------------------------------------------------------------------------------- helpers
_ROW = "__row"


def _examples(
    frame: pl.DataFrame, mask: pl.Expr, column: str | None, n: int, value: pl.Expr | None = None
) -> list[dict]:
    """The first ``n`` rows where ``mask`` holds: row number, column, value (as text)."""
    shown = (value if value is not None else pl.col(column) if column else pl.lit(None)).cast(pl.String)
    picked = frame.filter(mask).head(n).select(pl.col(_ROW).alias("row"), shown.alias("value"))
    return [{"row": r, **({"column": column} if column else {}), "value": v} for r, v in picked.iter_rows()]


def _month_count(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


@dataclass
class _Builder:
    """Collects checks; ``n`` example rows each."""

    n: int
    checks: list[Check] = field(default_factory=list)

    def add(
        self,
        name: str,
        dim: str,
        failing: int,
        checked: int,
        examples: Sequence[dict] = (),
        note: str | None = None,
    ) -> None:
        self.checks.append(Check(name, dim, int(failing), int(checked), tuple(examples[: self.n]), note))


# ------------------------------------------------------------------------------------------ checks
def _schema_checks(b: _Builder, raw: pl.DataFrame, typed: pl.DataFrame, columns: Sequence[Column]) -> None:
    both = pl.concat([raw, typed.select(pl.all().name.prefix("t__"))], how="horizontal")
    # strings and codes always fit: the conformance rate is over the cells of the other types
    present = [c for c in columns if c.name in typed.columns and c.type not in ("string", "code")]
    if present:
        counts = both.select(
            [
                present_expr(pl.col(c.name), raw.schema[c.name]).sum().alias(f"p{i}")
                for i, c in enumerate(present)
            ]
            + [pl.col(f"t__{c.name}__bad").sum().alias(f"b{i}") for i, c in enumerate(present)]
        ).row(0, named=True)
        bad = sum(counts[f"b{i}"] for i in range(len(present)))
        checked = sum(counts[f"p{i}"] for i in range(len(present)))
        examples = [
            e
            for i, c in enumerate(present)
            if counts[f"b{i}"]
            for e in _examples(both, pl.col(f"t__{c.name}__bad"), c.name, b.n)
        ]
        b.add("schema_conformance", "correct", bad, checked, examples)
    _range_check(b, both, [c for c in columns if c.name in typed.columns])
    required = [c for c in columns if c.required and c.type != "geometry"]
    missing = [c.name for c in required if c.name not in raw.columns]
    if required:
        b.add("missing_columns", "complete", len(missing), len(required), [{"column": m} for m in missing])
    there = [c for c in required if c.name in raw.columns]
    if there:
        masks = [~present_expr(pl.col(c.name), raw.schema[c.name]) for c in there]
        nulls = raw.select([m.sum().alias(c.name) for m, c in zip(masks, there, strict=True)]).row(0)
        examples = [
            e
            for m, c, k in zip(masks, there, nulls, strict=True)
            if k
            for e in _examples(raw, m, c.name, b.n)
        ]
        b.add("required_nulls", "complete", sum(nulls), raw.height * len(there), examples)


def _range_check(b: _Builder, both: pl.DataFrame, columns: Sequence[Column]) -> None:
    rules: list[tuple[Column, pl.Expr, pl.Expr]] = []  # (column, breaking mask, checked mask)
    for c in columns:
        t = pl.col(f"t__{c.name}")
        breaks = []
        if c.type in ("integer", "number"):
            if c.min is not None:
                breaks.append(t < c.min)
            if c.max is not None:
                breaks.append(t > c.max)
        if c.enum is not None:
            allowed = [unicodedata.normalize("NFC", str(v)) if isinstance(v, str) else v for v in c.enum]
            value = t.cast(pl.String).str.normalize("NFC") if both.schema[f"t__{c.name}"] == pl.String else t
            allowed_values = pl.Series(allowed).cast(both.schema[f"t__{c.name}"], strict=False).to_list()
            breaks.append(~value.is_in(allowed_values))
        if breaks:
            mask = pl.any_horizontal(breaks).fill_null(False) & t.is_not_null()
            rules.append((c, mask, t.is_not_null()))
    if not rules:
        return
    counts = both.select(
        [m.sum().alias(f"f{i}") for i, (_, m, _) in enumerate(rules)]
        + [k.sum().alias(f"k{i}") for i, (_, _, k) in enumerate(rules)]
    ).row(0, named=True)
    examples = [
        e for i, (c, m, _) in enumerate(rules) if counts[f"f{i}"] for e in _examples(both, m, c.name, b.n)
    ]
    b.add(
        "out_of_range",
        "correct",
        sum(counts[f"f{i}"] for i in range(len(rules))),
        sum(counts[f"k{i}"] for i in range(len(rules))),
        examples,
    )


def _duplicate_check(b: _Builder, raw: pl.DataFrame, schema: TableSchema | None) -> None:
    key = [k for k in (schema.primary_key if schema else ()) if k in raw.columns]
    uniques = [c.name for c in (schema.columns if schema else ()) if c.unique and c.name in raw.columns]
    if key:
        groups, note = [key], f"primary key {', '.join(key)}"
    elif uniques:
        groups, note = [[u] for u in uniques], f"unique column(s) {', '.join(uniques)}"
    else:
        groups, note = [[c for c in raw.columns if c != _ROW]], "whole rows"
    masks = []
    for cols in groups:
        k = pl.struct(cols)
        filled = pl.all_horizontal(pl.col(c).is_not_null() for c in cols)
        masks.append(filled & k.is_duplicated() & ~k.is_first_distinct())
    mask = pl.any_horizontal(masks)
    failing = raw.select(mask.sum()).item()
    shown = pl.concat_str([pl.col(c).cast(pl.String) for c in groups[0]], separator=" | ")
    examples = _examples(raw, mask, None, b.n, shown) if failing else []
    b.add("duplicate_keys", "clean", failing, raw.height, examples, note)


def _admin_checks(
    b: _Builder, raw: pl.DataFrame, ref: AdminReference, schema: TableSchema | None
) -> list[str]:
    """Codes and names of 2025 units; returns the code columns checked."""
    units = ref.units.with_columns(key=place_key_expr(pl.col("name")))
    codes, keys, names = units["code"].to_list(), units["key"].to_list(), units["name"].to_list()
    by_code = dict(zip(codes, keys, strict=True))
    checked_codes = []
    code_fail = code_checked = 0
    name_fail = name_checked = loose = loose_checked = 0
    code_ex: list[dict] = []
    name_ex: list[dict] = []
    loose_ex: list[dict] = []
    for code_col, name_col in admin_rules().columns:
        has_code, has_name = code_col in raw.columns, bool(name_col) and name_col in raw.columns
        if not (has_code or has_name):
            continue
        code = (
            pl.col(code_col).cast(pl.String).str.strip_chars().str.replace(r"\.0+$", "") if has_code else None
        )
        if code is not None:
            checked_codes.append(code_col)
            bad = code.is_not_null() & ~code.is_in(codes)
            f, k = raw.select(bad.sum().alias("f"), code.is_not_null().sum().alias("k")).row(0)
            code_fail, code_checked = code_fail + f, code_checked + k
            code_ex += _examples(raw, bad, code_col, b.n) if f else []
        if has_name:
            name = pl.col(name_col).cast(pl.String).str.normalize("NFC")
            key = place_key_expr(name)
            known = key.is_in(keys)
            # a valid code whose unit has another name than the row's
            expected = (
                code.replace_strict(by_code, default=None, return_dtype=pl.String)
                if code is not None
                else None
            )
            wrong_pair = (expected != key) if expected is not None else pl.lit(False)
            bad = name.is_not_null() & (~known | wrong_pair.fill_null(False))
            spelled = name.is_not_null() & known & ~name.is_in(names)
            f, k, lf, lk = raw.select(
                bad.sum().alias("f"),
                name.is_not_null().sum().alias("k"),
                spelled.sum().alias("lf"),
                (name.is_not_null() & known).sum().alias("lk"),
            ).row(0)
            name_fail, name_checked, loose, loose_checked = (
                name_fail + f,
                name_checked + k,
                loose + lf,
                loose_checked + lk,
            )
            name_ex += _examples(raw, bad, name_col, b.n) if f else []
            loose_ex += _examples(raw, spelled, name_col, b.n) if lf else []
    if code_checked:
        b.add(
            "invalid_admin_codes", "clean", code_fail, code_checked, code_ex, f"2025 units from {ref.source}"
        )
    if name_checked:
        b.add(
            "invalid_admin_names", "clean", name_fail, name_checked, name_ex, f"2025 units from {ref.source}"
        )
    if loose_checked:
        b.add("inconsistent_names", "clean", loose, loose_checked, loose_ex)
    key_cols = [k for k in (schema.primary_key if schema else ()) if k in checked_codes]
    if key_cols:
        present = raw[key_cols[0]].cast(pl.String).str.strip_chars().str.replace(r"\.0+$", "").implode()
        absent = ref.units.filter(~pl.col("code").is_in(present))["code"]
        examples = [{"value": c} for c in absent.head(b.n).to_list()]
        b.add("unit_coverage", "complete", absent.len(), ref.units.height, examples)
    return checked_codes


def _temporal_check(
    b: _Builder,
    raw: pl.DataFrame,
    typed: pl.DataFrame,
    columns: Sequence[Column],
    temporal: dict[str, date] | None,
) -> None:
    if not temporal or not temporal.get("start") or not temporal.get("end"):
        return
    dated = [c for c in columns if c.type in ("date", "datetime") and c.name in typed.columns]
    if not dated:
        return
    col = sorted(dated, key=lambda c: not c.required)[0]
    start, end = temporal["start"], temporal["end"]
    total = _month_count(start, end)
    if total > 1200:
        return
    months = (
        typed.select(pl.col(col.name).cast(pl.Date).dt.truncate("1mo").alias("m"))
        .filter(pl.col("m").is_between(date(start.year, start.month, 1), end))
        .unique()
    )
    every = pl.date_range(date(start.year, start.month, 1), end, "1mo", eager=True)
    absent = every.filter(~every.is_in(months["m"].implode()))
    b.add(
        "temporal_gaps",
        "complete",
        absent.len(),
        total,
        [{"value": str(m)[:7]} for m in absent.head(b.n)],
        f"column {col.name}",
    )


def _point_check(b: _Builder, raw: pl.DataFrame, lon: str, lat: str) -> None:
    if lon not in raw.columns or lat not in raw.columns:
        return
    x = pl.col(lon).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    y = pl.col(lat).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    both = x.is_not_null() & y.is_not_null()
    outside = both & ~in_city_expr(x, y)
    f, k = raw.select(outside.sum().alias("f"), both.sum().alias("k")).row(0)
    shown = pl.concat_str([x.cast(pl.String), y.cast(pl.String)], separator=", ")
    b.add(
        "invalid_geometry",
        "clean",
        f,
        k,
        _examples(raw, outside, None, b.n, shown) if f else [],
        "points outside the city",
    )


def _geometry_check(b: _Builder, raw: pl.DataFrame, geometry: gpd.GeoSeries) -> None:
    import shapely

    geoms = geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    valid = np.where(empty, False, shapely.is_valid(geoms))
    frame = raw.with_columns(
        _empty=pl.Series(empty),
        _valid=pl.Series(valid),
        _x=pl.Series(np.where(empty, np.nan, shapely.get_x(shapely.centroid(geoms)))),
        _y=pl.Series(np.where(empty, np.nan, shapely.get_y(shapely.centroid(geoms)))),
        _why=pl.Series(shapely.is_valid_reason(geoms)).cast(pl.String),
    )
    if geometry.crs is not None and not geometry.crs.is_geographic:
        frame = frame.with_columns(
            _x=pl.lit(108.2), _y=pl.lit(16.05)
        )  # projected: the extent test needs degrees
    outside = ~pl.col("_empty") & ~in_city_expr(pl.col("_x"), pl.col("_y"))
    mask = pl.col("_empty") | ~pl.col("_valid") | outside
    why = (
        pl.when(pl.col("_empty"))
        .then(pl.lit("empty"))
        .when(outside)
        .then(pl.lit("outside the city"))
        .otherwise(pl.col("_why"))
    )
    f = frame.select(mask.sum()).item()
    b.add(
        "invalid_geometry",
        "clean",
        f,
        frame.height,
        _examples(frame, mask, None, b.n, why) if f else [],
        "broken, empty or outside the city",
    )


def _mojibake_check(b: _Builder, raw: pl.DataFrame) -> None:
    text = [c for c, t in raw.schema.items() if t == pl.String and c != _ROW]
    if not text:
        return
    hits = [mojibake_expr(pl.col(c)) for c in text]
    mask = pl.any_horizontal(hits)
    f = raw.select(mask.sum()).item()
    examples = [e for c, h in zip(text, hits, strict=True) for e in (_examples(raw, h, c, b.n) if f else [])][
        : b.n
    ]
    b.add("encoding_damage", "clean", f, raw.height, examples)


# -------------------------------------------------------------------------------------------- entry
def check_frame(
    raw: pl.DataFrame,
    schema: TableSchema | None = None,
    *,
    dataset: str = "(table)",
    admin: AdminReference | None = None,
    points: tuple[str, str] | None = None,
    geometry: gpd.GeoSeries | None = None,
    temporal: dict[str, date] | None = None,
    examples: int = 3,
) -> ContentReport:
    """Run every content check that applies to one table as read.

    Parameters
    ----------
    raw
        The table as read (text columns for CSV), declared names already applied.
    schema
        The declared table schema (types, required, unique, min/max/enum, primary key); None: only the
        checks that need no schema (duplicate rows, encoding, admin units, geometry).
    dataset
        The dataset id (for the report).
    admin
        The 2025 units to check codes and names against (None: no admin-unit check).
    points
        (lon, lat) column names of a points table.
    geometry
        The geometries of a GIS table (as read, not repaired), row-aligned with ``raw``.
    temporal
        The declared temporal coverage (``start``, ``end``), for the gap check.
    examples
        Example rows kept per check.
    """
    b = _Builder(examples)
    raw = raw.with_row_index(_ROW, offset=1)
    columns = list(schema.columns) if schema else []
    typed = typed_columns(raw, columns)
    if schema:
        _schema_checks(b, raw, typed, columns)
    _duplicate_check(b, raw, schema)
    if admin is not None:
        _admin_checks(b, raw, admin, schema)
    _temporal_check(b, raw, typed, columns, temporal)
    if geometry is not None:
        _geometry_check(b, raw, geometry)
    elif points:
        _point_check(b, raw, *points)
    _mojibake_check(b, raw)
    return ContentReport(dataset, raw.height, tuple(b.checks))


# ---------------------------------------------------------------------------------------- datasets
@contextlib.contextmanager
def _no_network(enabled: bool) -> Iterator[None]:
    """Forbid the network for :mod:`lab.fetch` inside the block (``LAB_OFFLINE=1``) when ``enabled``."""
    if not enabled:
        yield
        return
    before = os.environ.get("LAB_OFFLINE")
    os.environ["LAB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LAB_OFFLINE", None)
        else:
            os.environ["LAB_OFFLINE"] = before


def _declared_names(frame: pl.DataFrame, schema: TableSchema | None) -> pl.DataFrame:
    """NFC, stripped headers; declared ``source`` names renamed to the declared names."""
    cleaned = {c: unicodedata.normalize("NFC", str(c)).strip() for c in frame.columns}
    if len(set(cleaned.values())) == len(cleaned):
        frame = frame.rename(cleaned)
    if schema:
        mapping = {
            unicodedata.normalize("NFC", c.source).strip(): c.name
            for c in schema.columns
            if c.source and c.name not in frame.columns
        }
        frame = frame.rename({k: v for k, v in mapping.items() if k in frame.columns})
    return frame


MAX_BYTES = 512 * 2**20
"""Files larger than this are not content-checked (the checks read a file whole)."""


def _read_raw(dataset: Dataset, catalog: Catalog) -> tuple[pl.DataFrame, gpd.GeoSeries | None]:
    """Every distribution of ``dataset`` read as is (before the schema step), concatenated."""
    from lab import fetch
    from lab.readers.base import REGISTRY, Source, reader_name
    from lab.sniff import looks_like_html, read_head

    frames, geoms = [], []
    for dist in dataset.distributions:
        path = fetch.fetch(dataset, dist, catalog_root=catalog.root)
        size = path.stat().st_size
        if size > MAX_BYTES:  # a scale-1 demo log (4 GB): read whole, it would not fit in memory
            raise LabError(
                f"is {size / 2**30:.1f} GiB: content checks read whole files of at most "
                f"{MAX_BYTES // 2**20} MiB",
                dataset=dataset.id,
                file=dist.label,
            )
        src = Source(path=path, dist=dist, dataset=dataset, label=dist.label)
        if dist.format != "HTML" and looks_like_html(read_head(path)):
            raise LabError(f"is an HTML page, not {dist.format}", dataset=dataset.id, file=dist.label)
        out = REGISTRY[reader_name(src)](src)
        if isinstance(out, pl.DataFrame):
            frames.append(out)
            continue
        geoms.append(out.geometry)
        attrs = out.drop(columns=out.geometry.name)
        frames.append(
            pl.from_pandas(attrs.astype({c: "string" for c in attrs.columns if attrs[c].dtype == object}))
        )
    frame = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    geometry = None
    if geoms:
        import pandas as pd

        geometry = pd.concat(geoms, ignore_index=True) if len(geoms) > 1 else geoms[0]
    return _declared_names(frame, dataset.schema), geometry


def check_dataset(
    dataset: Dataset, catalog: Catalog, *, offline: bool = True, examples: int = 3
) -> ContentReport:
    """Read one catalog dataset as is and run the content checks that apply.

    Parameters
    ----------
    dataset, catalog
        The entry and its catalog (for relative paths and the admin reference).
    offline
        Use only what is already here (cache, local and demo files, mirror): never the network.
    examples
        Example rows kept per check.

    Returns
    -------
    ContentReport
        With ``error`` set (and no checks) when the dataset could not be read.
    """
    with _no_network(offline):
        try:
            raw, geometry = _read_raw(dataset, catalog)
        except LabError as exc:
            log.info("content checks of %s skipped: %s", dataset.id, exc)
            return ContentReport(dataset.id, error=str(exc))
        admin = reference_units(catalog) if applies_to(dataset) else None
    spatial = dataset.spatial
    points = (spatial.lon, spatial.lat) if spatial.kind == "points" and spatial.lon and spatial.lat else None
    report = check_frame(
        raw,
        dataset.schema,
        dataset=dataset.id,
        admin=admin,
        points=points,
        geometry=geometry,
        temporal=dataset.temporal,
        examples=examples,
    )
    skipped = []
    if applies_to(dataset) and admin is None:
        skipped.append("admin units: no reference of the 2025 units could be loaded")
    return replace(report, skipped=tuple(skipped))


def check_catalog(
    catalog: Catalog, ids: Sequence[str] | None = None, *, offline: bool = True
) -> dict[str, ContentReport]:
    """:func:`check_dataset` for each dataset (``ids``, default all), with a progress bar on a terminal."""
    from tqdm import tqdm

    entries = [catalog.get(i) for i in ids] if ids else list(catalog)
    out = {}
    for ds in tqdm(entries, desc="content checks", unit="dataset", leave=False, disable=not os.isatty(2)):
        out[ds.id] = check_dataset(ds, catalog, offline=offline)
    return out
