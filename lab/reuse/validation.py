"""Validation of the reuse registry (:mod:`lab.reuse.registry` holds its model and its files): every
problem at once, as a :class:`ValidationReport` of :class:`~lab.reuse.registry.Issue`, never stopping at the
first; :func:`valid_rows` keeps the rows without errors and :func:`possible_duplicates` lists the
addresses a human should review."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from lab.periods import as_of_date
from lab.reuse import vocab
from lab.reuse.registry import (
    REQUIRED,
    Issue,
    Registry,
    RegistryError,
    checked_frame,
    duplicate_url_keepers,
    known_expr,
    url_key,
)

log = logging.getLogger(__name__)


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
    frame = checked_frame(registry.frame, known_datasets)
    missing_cols = {i.field for i in registry.parse_issues if i.code == "missing_column"}
    parts = [
        *_value_issues(frame, missing_cols),
        *_url_issues(frame),
        *_dataset_issues(frame, missing_cols, known_datasets),
        *_date_issues(frame, registry.parse_issues, as_of),
        *_link_issues(frame, services),
    ]
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


def _value_issues(frame: pl.DataFrame, missing_cols: set[str]) -> list[pl.DataFrame]:
    """Missing required values, duplicate ids, values outside their vocabulary."""
    parts: list[pl.DataFrame] = []
    rid = pl.col("reuse_id")
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
    return parts


def _url_issues(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """Addresses that are not http(s), registered twice, or possibly the same written otherwise."""
    parts: list[pl.DataFrame] = []
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
    dup = duplicate_url_keepers(frame)
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
    return parts


def _dataset_issues(
    frame: pl.DataFrame, missing_cols: set[str], known_datasets: Collection[str] | None
) -> list[pl.DataFrame]:
    """Reuses without a dataset, and datasets the catalog does not know."""
    parts: list[pl.DataFrame] = []
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
    return parts


def _date_issues(frame: pl.DataFrame, parse_issues: Sequence[Issue], as_of: date) -> list[pl.DataFrame]:
    """Launch and retirement dates against the status, each other and ``as_of``."""
    parts: list[pl.DataFrame] = []
    status, launched, retired = pl.col("status"), pl.col("launched"), pl.col("retired")
    bad_launched = {i.row for i in parse_issues if i.code == "bad_date" and i.field == "launched"}
    bad_retired = {i.row for i in parse_issues if i.code == "bad_date" and i.field == "retired"}
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
    return parts


def _link_issues(frame: pl.DataFrame, services: Collection[str] | None) -> list[pl.DataFrame]:
    """Unknown paid services and API consumer keys shared by several reuses."""
    parts: list[pl.DataFrame] = []
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
    return parts


def possible_duplicates(registry: Registry | pl.DataFrame) -> pl.DataFrame:
    """Reuses that register the same address, for a human to review: ``url`` (as compared: no scheme, no
    ``www.``, lower case, no final slash) and ``reuse_ids`` (two or more, in registry order).

    udata refuses only a byte-identical url (``Reuse.urlhash`` is unique), so ``http://`` and ``https://``
    of one address, or several products of one company registered with its home page, are distinct reuses
    there; the lab counts them all too and lists them here, never dropping one. Products under one domain
    at different paths are not listed.
    """
    frame = registry.frame if isinstance(registry, Registry) else registry
    keyed = frame.select("reuse_id", url_key(pl.col("url")).alias("url")).drop_nulls()
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
        kept = kept.with_columns(known_expr(known_datasets).alias("datasets"))
    return kept
