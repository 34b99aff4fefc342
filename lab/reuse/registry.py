"""The reuse registry: a declared format, read from CSV or YAML, validated with every problem collected at
once.

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
>>> report = validate(reg, known_datasets=known_dataset_ids())       # doctest: +SKIP
>>> print("\\n".join(report.lines()))                                # doctest: +SKIP
row 7 (R007): type: 'appli' is not a udata reuse type (did you mean 'application'?)
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from lab.atomic import atomic_path, atomic_write_text
from lab.errors import LabError
from lab.outputs import csv_unescape, output_format, write_csv
from lab.periods import as_of_date
from lab.reuse import vocab

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


@dataclass(frozen=True)
class ValidationReport:
    """Every problem found in one run, errors and warnings."""

    issues: tuple[Issue, ...]
    file: str | None = None

    @property
    def errors(self) -> tuple[Issue, ...]:
        """The issues of severity ``error``."""
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """The issues of severity ``warning``."""
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def codes(self) -> set[str]:
        """The distinct issue codes (``unknown_dataset``, ``duplicate_url``, ``bad_type``...)."""
        return {i.code for i in self.issues}

    def lines(self) -> list[str]:
        """One line per issue, prefixed by the file when known."""
        prefix = f"{self.file}: " if self.file else ""
        return [f"{prefix}{i}" for i in self.issues]

    def frame(self) -> pl.DataFrame:
        """The issues as a table (row, reuse_id, field, code, severity, message)."""
        return pl.DataFrame(
            [
                {
                    "row": i.row,
                    "reuse_id": i.reuse_id,
                    "field": i.field,
                    "code": i.code,
                    "severity": i.severity,
                    "message": i.message,
                }
                for i in self.issues
            ],
            schema=_ISSUE_SCHEMA,
        )

    def raise_for_errors(self) -> None:
        """Raise :class:`RegistryError` (one line: how many errors, and the first) if there is any error."""
        if self.errors:
            first = self.errors[0]
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            raise RegistryError(
                f"{len(self.errors)} error(s) in the reuse registry: {first}{more}", file=self.file
            )


_ISSUE_SCHEMA = {
    "row": pl.Int64,
    "reuse_id": pl.String,
    "field": pl.String,
    "code": pl.String,
    "severity": pl.String,
    "message": pl.String,
}


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
    collected as issues (never raised), so :func:`validate` reports everything in one run.

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
    ones (a column or two missing is for :func:`validate` to report). Another table (the portal's
    dataset listing, a usage export) is refused here instead of being counted as reuses."""
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
    from lab.catalog import Catalog, load_catalog

    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
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
    from lab.catalog import Catalog, load_catalog
    from lab.loader import record_provenance

    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    dataset = cat.get(dataset_id)
    path = fetch.fetch(dataset, dataset.distributions[0], catalog_root=cat.root)
    record_provenance(dataset.id, path)
    return read_registry(path)


# ------------------------------------------------------------------------------------------- checking
def _url_key(expr: pl.Expr) -> pl.Expr:
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


def _known_expr(known: Collection[str], *, keep: bool = True) -> pl.Expr:
    """The ``datasets`` list filtered to the ids in ``known`` (or, ``keep=False``, to the others), in
    order."""
    ids = pl.Series(sorted(known), dtype=pl.String).implode()
    inside = pl.element().is_in(ids)
    return pl.col("datasets").list.eval(pl.element().filter(inside if keep else ~inside))


def _checked(frame: pl.DataFrame, known: Collection[str] | None) -> pl.DataFrame:
    """Add ``_known`` (dataset ids the catalog knows), ``_unknown`` (the others) and ``_urlkey``."""
    if known is None:
        known_expr, unknown_expr = pl.col("datasets"), pl.col("datasets").list.head(0)
    else:
        known_expr, unknown_expr = _known_expr(known), _known_expr(known, keep=False)
    return frame.with_columns(
        known_expr.alias("_known"), unknown_expr.alias("_unknown"), _url_key(pl.col("url")).alias("_urlkey")
    )


def _duplicate_url_keepers(checked: pl.DataFrame) -> pl.DataFrame:
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
    checked = _checked(frame, known_datasets)
    dup = _duplicate_url_keepers(checked)
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


def _suggestions(bad: Iterable[str], allowed: Collection[str]) -> dict[str, str]:
    """``{bad value: " (did you mean 'x'?)"}`` for the close ones, ``""`` otherwise (few distinct values)."""
    out = {}
    for value in set(bad):
        low = value.lower()
        close = [a for a in allowed if a.lower() == low]  # a case slip
        close = close or [a for a in allowed if len(low) >= 3 and a.lower().startswith(low)]  # cut short
        close = close or difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
        out[value] = f" (did you mean {close[0]!r}?)" if close else ""
    return out


def _issues(
    frame: pl.DataFrame, cond: pl.Expr, fld: str, code: str, message: pl.Expr, severity: str = "error"
) -> pl.DataFrame:
    return frame.filter(cond).select(
        pl.col("row").cast(pl.Int64),
        pl.col("reuse_id"),
        pl.lit(fld).alias("field"),
        pl.lit(code).alias("code"),
        pl.lit(severity).alias("severity"),
        message.cast(pl.String).alias("message"),
    )


def _quoted(expr: pl.Expr) -> pl.Expr:
    return pl.lit("'") + expr + pl.lit("'")


def _vocab_issues(frame: pl.DataFrame, column: str, kind: str, what: str) -> list[pl.DataFrame]:
    allowed = vocab.values(kind)
    if column == "channels":
        values = frame.select(pl.col(column).explode().drop_nulls().unique()).to_series().to_list()
    else:
        values = frame.select(pl.col(column).drop_nulls().unique()).to_series().to_list()
    bad = [v for v in values if v not in allowed]
    if not bad:
        return []
    hints = _suggestions(bad, allowed)
    code = {"types": "bad_type", "topics": "bad_topic", "owner_kinds": "bad_owner_kind"}.get(
        kind, f"bad_{column}"
    )
    if column == "channels":
        rows = (
            frame.select("row", "reuse_id", pl.col(column).alias("_v"))
            .explode("_v")
            .filter(pl.col("_v").is_in(bad))
        )
        return [
            _issues(
                rows,
                pl.lit(True),
                column,
                code,
                _quoted(pl.col("_v")) + pl.lit(f" is not {what}") + pl.col("_v").replace_strict(hints),
            )
        ]
    return [
        _issues(
            frame,
            pl.col(column).is_in(bad),
            column,
            code,
            _quoted(pl.col(column))
            + pl.lit(f" is not {what}")
            + pl.col(column).replace_strict(hints, default="", return_dtype=pl.String),
        )
    ]


def validate(
    registry: Registry,
    *,
    known_datasets: Collection[str] | None = None,
    services: Collection[str] | None = None,
    as_of: date | None = None,
) -> ValidationReport:
    """Check a registry and return every problem at once (never stops at the first).

    Errors: a missing required column or value, a duplicate reuse id, a type, topic, owner kind, status or
    channel outside its vocabulary, a url that is not http(s), a url another row already registers (the
    same text: udata refuses it too), no dataset linked, a dataset id the catalog does not know, an
    unreadable date, a live or retired product without a launch date, a retired product without a
    retirement date (or a live one with one in the past), a retirement before the launch. Warnings: a url
    that is another row's written otherwise (``http``/``https``, ``www.``, case, final slash: a possible
    duplicate to review, as :func:`possible_duplicates` lists), a planned product already launched, an
    unknown paid service, an API consumer key shared by two reuses.

    Parameters
    ----------
    registry
        The parsed registry (:func:`read_registry`, :func:`registry_from_catalog`).
    known_datasets
        The ids the ``datasets`` column may name (:func:`known_dataset_ids`); None skips that check.
    services
        The paid service ids ``paid_service`` may name; None skips that check.
    as_of
        The date statuses are checked at (a live product retired after it is fine); default today.
    """
    as_of = as_of or as_of_date()
    frame = _checked(registry.frame, known_datasets)
    parts: list[pl.DataFrame] = []
    rid = pl.col("reuse_id")
    missing_cols = {i.field for i in registry.parse_issues if i.code == "missing_column"}
    for name in REQUIRED:
        if name not in missing_cols:
            parts.append(_issues(frame, pl.col(name).is_null(), name, "missing_value", pl.lit("no value")))
    parts.append(
        _issues(
            frame,
            rid.is_not_null() & rid.is_duplicated() & (pl.int_range(pl.len()).over(rid) > 0),
            "reuse_id",
            "duplicate_id",
            pl.lit("the id is used by an earlier row"),
        )
    )
    parts += _vocab_issues(frame, "type", "types", "a udata reuse type")
    parts += _vocab_issues(frame, "topic", "topics", "a udata reuse topic")
    parts += _vocab_issues(frame, "owner_kind", "owner_kinds", "an owner kind")
    parts += _vocab_issues(frame, "status", "statuses", "a status (live, retired, planned)")
    parts += _vocab_issues(frame, "channels", "channels", "a channel (web, app, zalo, sms)")
    url = pl.col("url")
    parts.append(
        _issues(
            frame,
            url.is_not_null() & ~url.str.contains(r"^(?i)https?://[^/\s]+\.[^/\s]+"),
            "url",
            "bad_url",
            _quoted(url) + pl.lit(" is not an http(s) address"),
        )
    )
    # udata refuses a url registered before (byte for byte); the same address written otherwise
    # (http/https, www., case, final slash) may be another product: a warning, for a human to review
    frame = frame.with_columns(
        pl.col("reuse_id").first().over("url").alias("_first_owner"),
        (url.is_not_null() & (pl.int_range(pl.len()).over("url") > 0)).alias("_exact_copy"),
    )
    exact = pl.col("_exact_copy")
    parts.append(
        _issues(
            frame,
            exact,
            "url",
            "duplicate_url",
            _quoted(url) + pl.lit(" is already registered by ") + pl.col("_first_owner"),
        )
    )
    dup = _duplicate_url_keepers(frame)
    with_dup = frame.join(dup, on="row", how="left", maintain_order="left")
    parts.append(
        _issues(
            with_dup,
            pl.col("duplicate").fill_null(False) & ~exact,
            "url",
            "possible_duplicate_url",
            _quoted(url)
            + pl.lit(" may be the address ")
            + pl.col("keeper")
            + pl.lit(" registers (scheme, www., case or final slash aside): a possible duplicate to review"),
            "warning",
        )
    )
    if "datasets" not in missing_cols:
        parts.append(
            _issues(
                frame,
                pl.col("datasets").list.len() == 0,
                "datasets",
                "no_dataset",
                pl.lit("no dataset linked (a reuse needs at least one)"),
            )
        )
    if known_datasets is not None:
        parts.append(
            _issues(
                frame,
                pl.col("_unknown").list.len() > 0,
                "datasets",
                "unknown_dataset",
                pl.lit("not in the catalog: ") + pl.col("_unknown").list.join(", "),
            )
        )
    status, launched, retired = pl.col("status"), pl.col("launched"), pl.col("retired")
    bad_launched = {i.row for i in registry.parse_issues if i.code == "bad_date" and i.field == "launched"}
    bad_retired = {i.row for i in registry.parse_issues if i.code == "bad_date" and i.field == "retired"}
    parts.append(
        _issues(
            frame,
            status.is_in(["live", "retired"]) & launched.is_null() & ~pl.col("row").is_in(list(bad_launched)),
            "launched",
            "missing_launch_date",
            pl.lit("a ") + status + pl.lit(" product needs a launch date"),
        )
    )
    parts.append(
        _issues(
            frame,
            (status == "retired") & retired.is_null() & ~pl.col("row").is_in(list(bad_retired)),
            "retired",
            "missing_retired_date",
            pl.lit("a retired product needs a retirement date"),
        )
    )
    parts.append(
        _issues(
            frame,
            (status == "live") & retired.is_not_null() & (retired <= as_of),
            "status",
            "retired_but_live",
            pl.lit("live, but retired on ") + retired.dt.strftime("%Y-%m-%d"),
        )
    )
    parts.append(
        _issues(
            frame,
            launched.is_not_null() & retired.is_not_null() & (retired < launched),
            "retired",
            "retired_before_launch",
            pl.lit("retired (")
            + retired.dt.strftime("%Y-%m-%d")
            + pl.lit(") before its launch (")
            + launched.dt.strftime("%Y-%m-%d")
            + pl.lit(")"),
        )
    )
    parts.append(
        _issues(
            frame,
            (status == "planned") & launched.is_not_null() & (launched <= as_of),
            "status",
            "planned_but_launched",
            pl.lit("planned, but launched on ") + launched.dt.strftime("%Y-%m-%d"),
            "warning",
        )
    )
    if services is not None:
        allowed = sorted(services)
        parts.append(
            _issues(
                frame,
                pl.col("paid_service").is_not_null() & ~pl.col("paid_service").is_in(allowed),
                "paid_service",
                "unknown_service",
                _quoted(pl.col("paid_service")) + pl.lit(" is not a declared paid service"),
                "warning",
            )
        )
    key = pl.col("api_consumer")
    parts.append(
        _issues(
            frame,
            key.is_not_null() & key.is_duplicated(),
            "api_consumer",
            "shared_api_consumer",
            _quoted(key) + pl.lit(" is declared by several reuses: their API calls cannot be told apart"),
            "warning",
        )
    )
    found = pl.concat([pl.DataFrame(schema=_ISSUE_SCHEMA), *parts], how="vertical_relaxed")
    parsed = pl.DataFrame(
        [
            {
                "row": i.row,
                "reuse_id": i.reuse_id,
                "field": i.field,
                "code": i.code,
                "severity": i.severity,
                "message": i.message,
            }
            for i in registry.parse_issues
        ],
        schema=_ISSUE_SCHEMA,
    )
    found = pl.concat([parsed, found]).sort("row", nulls_last=False, maintain_order=True)
    issues = tuple(Issue(**r) for r in found.iter_rows(named=True))
    return ValidationReport(issues, registry.file)


def possible_duplicates(registry: Registry | pl.DataFrame) -> pl.DataFrame:
    """Reuses that register the same address, for a human to review: ``url`` (as compared: no scheme, no
    ``www.``, lower case, no final slash) and ``reuse_ids`` (two or more, in registry order).

    udata refuses only a byte-identical url (``Reuse.urlhash`` is unique), so ``http://`` and ``https://``
    of one address, or several products of one company registered with its home page, are distinct reuses
    there; the lab counts them all too and lists them here, never dropping one. Products under one domain
    at different paths are not listed.
    """
    frame = registry.frame if isinstance(registry, Registry) else registry
    keyed = frame.select("reuse_id", _url_key(pl.col("url")).alias("url")).drop_nulls()
    return (
        keyed.unique(maintain_order=True)
        .group_by("url", maintain_order=True)
        .agg(pl.col("reuse_id").alias("reuse_ids"))
        .filter(pl.col("reuse_ids").list.len() > 1)
    )


def valid_rows(
    registry: Registry | pl.DataFrame, known_datasets: Collection[str] | None = None
) -> pl.DataFrame:
    """The rows the indicators count: every declared reuse, whatever its flags (udata's way).

    One row per reuse id (a reuse declared twice, e.g. in two exports imported together, counts once: the
    first row is kept; rows without an id are kept as they are). Reuses that link no dataset, share a url
    with another one (:func:`possible_duplicates`) or name only unknown ids are counted; their flags are for
    review (:func:`spam_flags`). ``datasets`` keeps each declared id once (a (reuse, dataset) pair is one
    link) and, when ``known_datasets`` is given, only the ids the catalog knows (an unknown id names no
    dataset of this portal: ``validate`` reports it; udata cannot hold one, its links are references).
    Rows keep every column.
    """
    frame = registry.frame if isinstance(registry, Registry) else registry
    rid = pl.col("reuse_id")
    kept = frame.filter(rid.is_null() | rid.is_first_distinct()).with_columns(
        pl.col("datasets").list.unique(maintain_order=True)
    )
    if known_datasets is not None:
        kept = kept.with_columns(_known_expr(known_datasets).alias("datasets"))
    return kept
