"""The reuse registry: a declared format (its model), read from and written to CSV, YAML or Parquet;
:mod:`lab.reuse.validation` checks it, with every problem collected at once.

The format is a superset of udata's Reuse model (``docs/concepts/sources.md``, "udata's Reuse model"): id,
title, description, type (the 8 udata types), topic (the 15 udata topics), url (unique), owner, datasets used
(at least one) and APIs used; plus what no platform records and the city asks for: the owner's kind (company,
startup, agency, university, NGO, individual), the launch and retirement dates, a status (live, retired,
planned), the delivery channels (web, app, zalo, sms), the API consumer key the product calls the data API
with (the join key to the gateway logs) and a linked paid service.

One row per reuse. In CSV, list cells (``datasets``, ``apis``, ``channels``, ``tags``, ``flags``) are
``;``-separated; in YAML they are lists. Dates are ``YYYY-MM-DD``. Dataset ids are the portal's ids (numbers)
or catalog ids; they are checked against both (:func:`known_dataset_ids`).

>>> reg = read_registry("reuse/registry.csv")                      # doctest: +SKIP
>>> from lab.reuse.validation import validate                        # doctest: +SKIP
>>> report = validate(reg, known_datasets=known_dataset_ids())       # doctest: +SKIP
>>> print("\\n".join(report.lines()))                                # doctest: +SKIP
row 7 (R007): type: 'appli' is not a udata reuse type (did you mean 'application'?)
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from lab.atomic import atomic_path, atomic_write_text
from lab.errors import LabError
from lab.outputs import csv_unescape, output_format, write_csv

log = logging.getLogger(__name__)

REGISTRY_COLUMNS: tuple[str, ...] = (
    "reuse_id",
    "title",
    "description",
    "type",
    "topic",
    "url",
    "owner",
    "owner_kind",
    "datasets",
    "apis",
    "api_consumer",
    "created",
    "launched",
    "retired",
    "status",
    "channels",
    "paid_service",
)
"""The registry's columns, in the order files are written."""
EXTRA_COLUMNS: tuple[str, ...] = ("source", "source_url", "tags", "flags", "notes")
"""Optional columns: where an imported row came from (``source`` ``udata:<id>`` / ``ckan:<id>``,
``source_url``: its page there), its tags, the ``flags`` an import found (signs for a human to review), and
free-form notes."""
LIST_COLUMNS: tuple[str, ...] = ("datasets", "apis", "channels", "tags", "flags")
DATE_COLUMNS: tuple[str, ...] = ("created", "launched", "retired")
REQUIRED: tuple[str, ...] = (
    "reuse_id",
    "title",
    "type",
    "topic",
    "url",
    "owner",
    "owner_kind",
    "created",
    "status",
)
"""Fields every row must fill (``datasets`` too, checked apart: an empty list is the ``no_dataset`` flag)."""
LIST_SEPARATOR = ";"
REGISTRY_FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet", ".yaml": "yaml", ".yml": "yaml"}
"""The registry's file formats, by extension."""
FLAGS = ("no_dataset", "unknown_datasets_only", "duplicate_url")
"""Signs for a human to review (spam, a reuse declared twice): no dataset linked, only dataset ids the catalog
does not know, a url another row registers (scheme, ``www.``, case and final slash aside). A flag never
takes a reuse out of the counts (udata counts every declared reuse: see :func:`valid_rows`)."""


class RegistryError(LabError):
    """The reuse registry cannot be read, or has errors where a valid one is needed."""


# ------------------------------------------------------------------------------------------- issues
@dataclass(frozen=True, order=True)
class Issue:
    """One problem of the registry: where (row and reuse id), which field, what.

    ``row`` is the 1-based record number in the file (the header is not counted); ``None`` for a problem of
    the whole file (a missing column). ``severity`` is ``error`` or ``warning``.
    """

    row: int | None
    reuse_id: str | None
    field: str
    code: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.reuse_id:
            where += f" ({self.reuse_id})"
        tag = "" if self.severity == "error" else f" [{self.severity}]"
        return f"{where}: {self.field}: {self.message}{tag}"


# ----------------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Registry:
    """A parsed registry: one row per reuse, typed, plus the problems met while parsing.

    ``frame`` has every column of :data:`REGISTRY_COLUMNS` and :data:`EXTRA_COLUMNS`: strings (NFC, trimmed,
    empty as null), ``List[String]`` for :data:`LIST_COLUMNS`, ``Date`` for :data:`DATE_COLUMNS`, and ``row``
    (the 1-based record number).
    """

    frame: pl.DataFrame
    file: str | None = None
    parse_issues: tuple[Issue, ...] = field(default=())

    @property
    def height(self) -> int:
        """Number of rows."""
        return self.frame.height

    def links(self) -> pl.DataFrame:
        """The reuse → dataset links: one row per (``reuse_id``, ``dataset_id``), in registry order."""
        return links(self.frame)


def links(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (``reuse_id``, ``dataset_id``) of a registry frame (reuses without dataset have no row)."""
    return (
        frame.select("reuse_id", pl.col("datasets").alias("dataset_id"))
        .explode("dataset_id")
        .drop_nulls("dataset_id")
        .unique(maintain_order=True)
    )


def _clean(expr: pl.Expr) -> pl.Expr:
    """Trim, NFC, and turn empty text into null."""
    text = expr.cast(pl.String).str.normalize("NFC").str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _split(expr: pl.Expr, sep: str = LIST_SEPARATOR) -> pl.Expr:
    """A ``sep``-separated cell as a list of trimmed, non-empty items (an empty cell is an empty list)."""
    return (
        expr.cast(pl.String)
        .fill_null("")
        .str.normalize("NFC")
        .str.split(sep)
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )


def parse(raw: pl.DataFrame, *, file: str | Path | None = None) -> Registry:
    """Type a registry read as text (every column a string or null).

    Missing optional columns are added empty; a missing required column and every unreadable date are
    collected as issues (never raised), so :func:`lab.reuse.validation.validate` reports everything in one
    run.

    Parameters
    ----------
    raw
        The registry as read: one row per reuse, all columns text (list cells ``;``-separated).
    file
        The file it came from, for messages.
    """
    issues: list[Issue] = []
    raw = raw.rename({c: c.strip().lstrip("\ufeff").lower() for c in raw.columns})
    for name in (*REGISTRY_COLUMNS, *EXTRA_COLUMNS):
        if name not in raw.columns:
            if name in REQUIRED or name == "datasets":
                issues.append(Issue(None, None, name, "missing_column", "the column is missing"))
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    frame = raw.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row")).with_columns(
        _clean(pl.col(c)).alias(c) for c in (*REGISTRY_COLUMNS, *EXTRA_COLUMNS)
    )
    # a date may carry a time (udata exports naive ISO timestamps): the date part is kept
    parsed = {c: pl.col(c).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False) for c in DATE_COLUMNS}
    bad_dates = frame.select(
        "row",
        "reuse_id",
        *[
            pl.when(pl.col(c).is_not_null() & parsed[c].is_null()).then(pl.col(c)).alias(c)
            for c in DATE_COLUMNS
        ],
    )
    for c in DATE_COLUMNS:
        bad = bad_dates.filter(pl.col(c).is_not_null())
        issues += [
            Issue(r["row"], r["reuse_id"], c, "bad_date", f"{r[c]!r} is not a date (YYYY-MM-DD)")
            for r in bad.iter_rows(named=True)
        ]
    frame = frame.with_columns(
        *[parsed[c].alias(c) for c in DATE_COLUMNS],
        *[_split(pl.col(c)).alias(c) for c in LIST_COLUMNS if c != "channels"],
        _split(pl.col("channels").str.to_lowercase()).alias("channels"),
    )
    keep = ["row", *REGISTRY_COLUMNS, *EXTRA_COLUMNS]
    others = [c for c in frame.columns if c not in keep]
    if others:
        log.debug("registry %s: extra columns kept as they are: %s", file, ", ".join(others))
    return Registry(frame.select(*keep, *others), str(file) if file else None, tuple(issues))


def read_registry(path: str | Path) -> Registry:
    """Read a registry file (``.csv``, ``.parquet``, or ``.yaml``/``.yml``) without validating it.

    Raises
    ------
    RegistryError
        The file is missing, empty, or not CSV/YAML of the registry's shape.
    """
    path = Path(path)
    if not path.is_file():
        raise RegistryError("no such file", file=path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return parse(_registry_shaped(_read_yaml(path), path), file=path)
    if path.suffix.lower() == ".parquet":
        return parse(_registry_shaped(_read_parquet(path), path), file=path)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, UnicodeDecodeError) as exc:
        raise RegistryError(f"not a readable CSV registry: {str(exc).splitlines()[0]}", file=path) from None
    if raw.width < 2:
        raise RegistryError("not a comma-separated registry (one column only)", file=path)
    raw = _registry_shaped(raw, path)
    return parse(raw.with_columns(csv_unescape(pl.col(c)).alias(c) for c in raw.columns), file=path)


def _registry_shaped(raw: pl.DataFrame, path: Path) -> pl.DataFrame:
    """``raw`` itself when it has the registry's shape: its ``reuse_id`` column, or most of the required
    ones (a column or two missing is for :func:`lab.reuse.validation.validate` to report). Another table
    (the portal's dataset listing, a usage export) is refused here instead of being counted as reuses."""
    names = {c.strip().lstrip("\ufeff").lower() for c in raw.columns}
    expected = (*REQUIRED, "datasets")
    found = [c for c in expected if c in names]
    if "reuse_id" in names or 2 * len(found) > len(expected):
        return raw
    has = ", ".join(sorted(raw.columns)[:6]) + (", …" if raw.width > 6 else "")
    raise RegistryError(
        f"not a reuse registry: no reuse_id column and {len(found)} of the registry's "
        f"{len(expected)} columns (it has {has}); import platform exports with `lab reuse import`",
        file=path,
    )


def _read_parquet(path: Path) -> pl.DataFrame:
    """A Parquet registry (as :func:`write_registry` writes it: lists as lists, dates as dates) as text."""
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise RegistryError(
            f"not a readable Parquet registry: {str(exc).splitlines()[0]}", file=path
        ) from None
    return frame.select(
        pl.col(c).cast(pl.List(pl.String)).list.join(LIST_SEPARATOR)
        if isinstance(t, pl.List)
        else pl.col(c).cast(pl.String)
        for c, t in frame.schema.items()
    )


def _read_yaml(path: Path) -> pl.DataFrame:
    """A YAML registry (a list of reuses, or ``{reuses: [...]}``) as a text frame."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(f"not valid YAML: {str(exc).splitlines()[0]}", file=path) from None
    rows = doc.get("reuses") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise RegistryError("a YAML registry is a list of reuses (mappings) or {reuses: [...]}", file=path)
    names = list(dict.fromkeys(k for r in rows for k in r))

    def text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, list | tuple):
            return LIST_SEPARATOR.join(str(v) for v in value)
        return value.isoformat() if isinstance(value, date) else str(value)

    return pl.DataFrame(
        {n: [text(r.get(n)) for r in rows] for n in names}, schema=dict.fromkeys(names, pl.String)
    )


def to_text(frame: pl.DataFrame) -> pl.DataFrame:
    """The registry columns as text, the way they are written (lists ``;``-joined, dates ISO, nulls empty)."""
    present = [c for c in (*REGISTRY_COLUMNS, *EXTRA_COLUMNS) if c in frame.columns]
    extras = [c for c in EXTRA_COLUMNS if c in present]
    used_extras = [
        c
        for c in extras
        if frame.select(
            (pl.col(c).list.len() > 0).any() if c in LIST_COLUMNS else pl.col(c).is_not_null().any()
        ).item()
    ]
    cols = [c for c in present if c in REGISTRY_COLUMNS or c in used_extras]
    return frame.select(
        [
            pl.when(pl.col(c).list.len() > 0).then(pl.col(c).list.join(LIST_SEPARATOR)).alias(c)
            if c in LIST_COLUMNS
            else pl.col(c).dt.strftime("%Y-%m-%d")
            if c in DATE_COLUMNS
            else pl.col(c).cast(pl.String)
            for c in cols
        ]
    )


def write_registry(frame: pl.DataFrame | Registry, path: str | Path) -> Path:
    """Write a registry atomically in the format its extension names (:data:`REGISTRY_FORMATS`).

    ``.csv``: lists ``;``-joined, formula-like cells escaped (:func:`lab.outputs.csv_safe`); ``.parquet``:
    lists as lists and dates as dates; ``.yaml``/``.yml``: ``{reuses: [...]}``. Extra columns (source,
    flags...) are written only when some row fills them.

    Raises
    ------
    lab.errors.OutputError
        Another extension, or a target that is not a regular file (nothing is written).
    """
    frame = frame.frame if isinstance(frame, Registry) else frame
    path = Path(path)
    fmt = output_format(path, REGISTRY_FORMATS, what="reuse registry")
    text = to_text(frame)
    if fmt == "yaml":
        rows = [
            {k: (v.split(LIST_SEPARATOR) if k in LIST_COLUMNS and v else v) for k, v in r.items() if v}
            for r in text.iter_rows(named=True)
        ]
        atomic_write_text(path, yaml.safe_dump({"reuses": rows}, allow_unicode=True, sort_keys=False))
    elif fmt == "parquet":
        with atomic_path(path) as tmp:
            frame.select(text.columns).write_parquet(tmp)
    else:
        write_csv(text, path)
    return path


# ------------------------------------------------------------------------------------- known datasets
def known_dataset_ids(catalog: Any = None, *, listing: str | None = "portal-datasets") -> frozenset[str]:
    """The dataset ids a registry may name: catalog ids, the catalog's portal ids, and the portal listing's
    ids.

    Parameters
    ----------
    catalog
        A :class:`~lab.catalog.Catalog`, a catalog file, or None for the default catalog.
    listing
        The catalog id of the portal's dataset listing (column ``portal_id``), or None to use the catalog
        only. When it is not in the catalog, or cannot be fetched (no demo portal, offline), a warning is
        logged and the catalog's ids are used.
    """
    from lab.catalog import as_catalog

    cat = as_catalog(catalog)
    ids = {d.id for d in cat} | {str(d.portal_id) for d in cat if d.portal_id is not None}
    if listing and listing in cat:
        from lab.loader import load

        try:
            frame = load(listing, catalog=cat)
        except LabError as exc:
            log.warning("dataset ids checked against the catalog only: %s", exc)
        else:
            ids |= set(frame.get_column("portal_id").cast(pl.String).drop_nulls().to_list())
    return frozenset(ids)


def ids_to_check(registry: Registry | pl.DataFrame, catalog: Any = None) -> frozenset[str] | None:
    """The known dataset ids to check ``registry`` against, or None when it shares no id with the catalog.

    A registry imported from another platform (udata, CKAN) names that platform's dataset ids: checking them
    against this catalog would flag every row, so the check is skipped (with a warning) when not one of the
    registry's ids is known.
    """
    frame = registry.frame if isinstance(registry, Registry) else registry
    known = known_dataset_ids(catalog)
    named = set(links(frame)["dataset_id"].to_list())
    if named and not named & known:
        log.warning(
            "dataset ids not checked: none of the registry's %d dataset ids is in the catalog", len(named)
        )
        return None
    return known


def registry_from_catalog(catalog: Any = None, dataset_id: str = "reuse-registry") -> Registry:
    """Read the registry the catalog declares (``reuse-registry``), raw, so that validation sees every row.

    (``lab.load`` would stop at the first value its schema rejects; the registry's own validation reports
    them all.)
    """
    from lab import fetch
    from lab.catalog import as_catalog
    from lab.loader import record_provenance

    cat = as_catalog(catalog)
    dataset = cat.get(dataset_id)
    path = fetch.fetch(dataset, dataset.distributions[0], catalog_root=cat.root)
    record_provenance(dataset.id, path)
    return read_registry(path)


# ------------------------------------------------------------------------------------------- checking
def url_key(expr: pl.Expr) -> pl.Expr:
    """A url compared without scheme, ``www.``, case and trailing slash."""
    return (
        expr.str.to_lowercase()
        .str.replace(r"^[a-z][a-z0-9+.-]*://", "")
        .str.replace(r"^www\.", "")
        .str.strip_chars_end("/")
    )


def owner_key(expr: pl.Expr) -> pl.Expr:
    """An owner's name compared without case and repeated spaces (one reuser, however it is typed)."""
    return expr.str.normalize("NFC").str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()


def known_expr(known: Collection[str], *, keep: bool = True) -> pl.Expr:
    """The ``datasets`` list filtered to the ids in ``known`` (or, ``keep=False``, to the others), in
    order."""
    ids = pl.Series(sorted(known), dtype=pl.String).implode()
    inside = pl.element().is_in(ids)
    return pl.col("datasets").list.eval(pl.element().filter(inside if keep else ~inside))


def checked_frame(frame: pl.DataFrame, known: Collection[str] | None) -> pl.DataFrame:
    """Add ``_known`` (dataset ids the catalog knows), ``_unknown`` (the others) and ``_urlkey``."""
    if known is None:
        kept, unknown = pl.col("datasets"), pl.col("datasets").list.head(0)
    else:
        kept, unknown = known_expr(known), known_expr(known, keep=False)
    return frame.with_columns(
        kept.alias("_known"), unknown.alias("_unknown"), url_key(pl.col("url")).alias("_urlkey")
    )


def duplicate_url_keepers(checked: pl.DataFrame) -> pl.DataFrame:
    """For each registered url, the row that keeps it: the one linking most known datasets, then the earliest
    created, then the first in the file. Returns ``row`` → ``keeper`` (reuse id), ``duplicate`` (bool)."""
    ranked = checked.filter(pl.col("_urlkey").is_not_null()).with_columns(
        pl.col("_known").list.len().alias("_n"), pl.col("created").fill_null(date(9999, 12, 31)).alias("_c")
    )
    keepers = (
        ranked.sort(["_n", "_c", "row"], descending=[True, False, False])
        .group_by("_urlkey", maintain_order=True)
        .agg(pl.col("row").first().alias("_keeper_row"), pl.col("reuse_id").first().alias("keeper"))
    )
    return ranked.join(keepers, on="_urlkey", how="left").select(
        "row", "keeper", (pl.col("row") != pl.col("_keeper_row")).alias("duplicate")
    )


def spam_flags(
    registry: Registry | pl.DataFrame, known_datasets: Collection[str] | None = None
) -> pl.DataFrame:
    """Signs for review of each row: ``reuse_id``, ``flags`` (list of :data:`FLAGS`), ``spam`` (any flag).

    A row is flagged when it links no dataset (``no_dataset``), only ids the catalog does not know
    (``unknown_datasets_only``; only checked when ``known_datasets`` is given) or registers a url another row
    keeps (``duplicate_url``: the row linking most known datasets, then the earliest created, keeps it).
    Flagged rows are kept in the registry *and counted* by the indicators (:func:`valid_rows`): a flag asks
    a human to look, it does not decide. (``spam`` keeps its name for the callers that read it.)
    """
    frame = registry.frame if isinstance(registry, Registry) else registry
    checked = checked_frame(frame, known_datasets)
    dup = duplicate_url_keepers(checked)
    out = checked.join(dup, on="row", how="left", maintain_order="left").select(
        "reuse_id",
        pl.concat_list(
            pl.when(pl.col("datasets").list.len() == 0).then(pl.lit("no_dataset")),
            pl.when((pl.col("datasets").list.len() > 0) & (pl.col("_known").list.len() == 0)).then(
                pl.lit("unknown_datasets_only")
            ),
            pl.when(pl.col("duplicate").fill_null(False)).then(pl.lit("duplicate_url")),
        )
        .list.drop_nulls()
        .alias("flags"),
    )
    return out.with_columns((pl.col("flags").list.len() > 0).alias("spam"))
