"""Importers into the reuse registry: the udata (data.gouv.fr) reuse export and CKAN ckanext-showcase answers.

Both give what those platforms know (title, type or tags, url, owner, datasets, dates) and leave empty what
they do not record (owner kind, channels, API consumer, paid service): validation then lists what the portal
team must complete. Every exported reuse is imported and counted, as the platform counts it; entries a human
should look at (no dataset linked, an address another entry registers) are *flagged* in the ``flags``
column, never dropped.

udata export (``docs/concepts/sources.md``, "The data.gouv.fr reuse export"): ``;``-separated, every field
double-quoted, descriptions may span several lines, ``datasets`` is a comma-separated list of dataset ids,
``remote_url`` is the product's address and ``url`` its page on data.gouv.fr, booleans are ``True``/``False``,
dates naive ISO timestamps, and ``metric.*_by_months`` cells hold a Python dict repr (``{'2024-08': 0,
...}``).

CKAN ckanext-showcase (``ckanext/showcase/logic/action/get.py``): ``ckanext_showcase_list`` answers
``{"help": ".../help_show?name=ckanext_showcase_list", "success": true, "result": [showcase, ...]}`` where
each showcase is a package dict of type ``showcase`` (``id``, ``name``, ``title``, ``notes``, ``url``,
``author``, ``metadata_created``, ``tags``...). ``ckanext_showcase_package_list`` (parameter ``showcase_id``)
answers the package dicts of the datasets a showcase uses; the answer does not repeat the showcase id, so a
saved answer must have the showcase's ``name`` or ``id`` in its file name
(``showcase_package_list.<name>.json``).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from lab.reuse import vocab
from lab.reuse.registry import Registry, RegistryError, parse, spam_flags

log = logging.getLogger(__name__)

FORMATS = ("udata-csv", "ckan-showcase")
"""The formats ``lab reuse import --format`` reads."""
LAUNCH_PROXY_NOTE = "launched: the date the reuse was declared on {platform} (its launch is on or before it)"


# ---------------------------------------------------------------------------------------------- udata
def _record_start(text: str) -> int:
    """Where the last record of a CSV text begins: after the last line break outside quotes."""
    end = len(text.rstrip("\r\n"))
    pos = text.rfind("\n", 0, end)
    while pos >= 0 and text.count('"', 0, pos) % 2:  # a line break inside a quoted field
        pos = text.rfind("\n", 0, pos)
    return pos + 1


def check_complete(text: str, path: str | Path) -> None:
    """Refuse a udata export cut short (an interrupted download, a truncated copy).

    udata writes every text field quoted and ends every record with a line break, so a cut shows as an
    unterminated quote, or as a last record with fewer fields than the header and no final line break.
    Read as it is, such a file gives a phantom reuse (its datasets and url lost). A cut exactly between two
    records cannot be seen (the file is then a shorter, complete export).

    Raises
    ------
    RegistryError
        One line naming the file, the record and what is missing.
    """
    from lab.readers.csv import count_fields

    start = _record_start(text)
    line = text.count("\n", 0, start) + 1
    if text.count('"') % 2:
        raise RegistryError(
            f"the export ends inside a quoted field (record starting on line {line}): the file is cut off; "
            "download it again",
            file=path,
        )
    if text.endswith(("\n", "\r")) or start == 0:
        return
    have = count_fields(text[start:], ";")
    want = count_fields(text[: text.find("\n")] if "\n" in text else text, ";")
    if have < want:
        raise RegistryError(
            f"the last record (line {line}) has {have} of {want} fields and no final line break: the file is "
            "cut off; download it again",
            file=path,
        )


def read_udata_export(path: str | Path) -> pl.DataFrame:
    """The udata reuse export as text: one row per reuse, every column a string (``;``, quoted, multi-line).

    Blank lines are skipped; a file cut short is refused (:func:`check_complete`).

    Raises
    ------
    RegistryError
        The file is missing, cut off, not UTF-8, or is not the ``;``-separated export (no
        ``id``/``datasets`` columns).
    """
    path = Path(path)
    if not path.is_file():
        raise RegistryError("no such file", file=path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError(f"not a udata reuse export: not UTF-8 (byte {exc.start})", file=path) from None
    check_complete(text, path)
    try:
        raw = pl.read_csv(io.BytesIO(data), separator=";", quote_char='"', infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise RegistryError(f"not a udata reuse export: {str(exc).splitlines()[0]}", file=path) from None
    raw = raw.rename({c: c.lstrip("\ufeff") for c in raw.columns})
    missing = [c for c in ("id", "title", "datasets") if c not in raw.columns]
    if missing:
        raise RegistryError(
            f"not a udata reuse export (';'-separated with id, title, datasets): no {', '.join(missing)}",
            file=path,
        )
    return raw.filter(~pl.all_horizontal(pl.all().is_null()))  # blank lines


def _col(raw: pl.DataFrame, name: str) -> pl.Expr:
    """Column ``name`` as text, or null when the export has no such column."""
    return pl.col(name).cast(pl.String) if name in raw.columns else pl.lit(None, dtype=pl.String)


def _blank(expr: pl.Expr) -> pl.Expr:
    text = expr.str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _comma_to_registry_list(expr: pl.Expr) -> pl.Expr:
    """udata's comma-separated ids as the registry's ``;``-separated list (order kept)."""
    return expr.fill_null("").str.split(",").list.eval(pl.element().str.strip_chars()).list.join(";")


def udata_rows(raw: pl.DataFrame) -> pl.DataFrame:
    """Map udata export columns onto registry columns (text), keeping what udata knows.

    ``url`` is ``remote_url`` (the product; udata's Reuse.url) or, when empty, the data.gouv.fr page, which
    goes to ``source_url``. An ``archived`` reuse is ``retired`` (on its ``last_modified`` date); otherwise
    ``live``, launched on its ``created_at`` date (a proxy, said in ``notes``).
    """
    archived = _col(raw, "archived").str.to_lowercase().is_in(["true", "1", "yes"]).fill_null(False)
    created = _col(raw, "created_at").str.slice(0, 10)
    owner = pl.coalesce(_blank(_col(raw, "organization")), _blank(_col(raw, "owner")))
    return raw.select(
        _col(raw, "id").alias("reuse_id"),
        _col(raw, "title").alias("title"),
        _col(raw, "description").alias("description"),
        _col(raw, "type").alias("type"),
        _col(raw, "topic").alias("topic"),
        pl.coalesce(_blank(_col(raw, "remote_url")), _blank(_col(raw, "url"))).alias("url"),
        owner.alias("owner"),
        pl.lit(None, dtype=pl.String).alias("owner_kind"),
        _comma_to_registry_list(_col(raw, "datasets")).alias("datasets"),
        _comma_to_registry_list(_col(raw, "dataservices")).alias("apis"),
        pl.lit(None, dtype=pl.String).alias("api_consumer"),
        created.alias("created"),
        created.alias("launched"),
        pl.when(archived).then(_col(raw, "last_modified").str.slice(0, 10)).alias("retired"),
        pl.when(archived).then(pl.lit("retired")).otherwise(pl.lit("live")).alias("status"),
        pl.lit(None, dtype=pl.String).alias("channels"),
        pl.lit(None, dtype=pl.String).alias("paid_service"),
        (pl.lit("udata:") + _col(raw, "id")).alias("source"),
        _col(raw, "url").alias("source_url"),
        _comma_to_registry_list(_col(raw, "tags")).alias("tags"),
        pl.lit(LAUNCH_PROXY_NOTE.format(platform="data.gouv.fr")).alias("notes"),
    )


def udata_metrics(path: str | Path) -> pl.DataFrame:
    """The udata export's metrics, long: ``reuse_id``, ``metric``, ``month`` (null for totals), ``value``.

    ``metric.views`` and the other totals give one row each; ``metric.*_by_months`` cells (a Python dict repr,
    ``{'2024-08': 0, ...}``) give one row per month (a bare ``0``, what the export writes for none, gives no
    row). udata stops at views and followers:
    the registry's outcomes are what the lab adds.
    """
    raw = read_udata_export(path)
    metric_cols = [c for c in raw.columns if c.startswith("metric.")]
    totals = [c for c in metric_cols if not c.endswith("_by_months")]
    monthly = [c for c in metric_cols if c.endswith("_by_months")]
    frames = []
    if totals:
        frames.append(
            raw.unpivot(index="id", on=totals, variable_name="metric", value_name="text").select(
                pl.col("id").alias("reuse_id"),
                pl.col("metric").str.strip_prefix("metric."),
                pl.lit(None, dtype=pl.String).alias("month"),
                pl.col("text").str.strip_chars().cast(pl.Int64, strict=False).alias("value"),
            )
        )
    for c in monthly:
        pairs = raw.select(
            pl.col("id").alias("reuse_id"),
            pl.col(c).fill_null("").str.extract_all(r"'\d{4}-\d{2}'\s*:\s*-?\d+").alias("pair"),
        ).explode("pair")
        frames.append(
            pairs.drop_nulls("pair").select(
                "reuse_id",
                pl.lit(c.removeprefix("metric.").removesuffix("_by_months")).alias("metric"),
                pl.col("pair").str.extract(r"'(\d{4}-\d{2})'").alias("month"),
                pl.col("pair").str.extract(r":\s*(-?\d+)").cast(pl.Int64).alias("value"),
            )
        )
    schema = {"reuse_id": pl.String, "metric": pl.String, "month": pl.String, "value": pl.Int64}
    return pl.concat([pl.DataFrame(schema=schema), *frames], how="vertical_relaxed")


# ----------------------------------------------------------------------------------------------- CKAN
def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise RegistryError("no such file", file=path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"not a JSON answer of the CKAN API: {exc}", file=path) from None
    except RecursionError:
        raise RegistryError("JSON nested too deeply: not an answer of the CKAN API", file=path) from None


def _action_of(doc: Any, result: list[Any]) -> str:
    """Which action answered: from ``help`` when present, else from the shape of the result."""
    help_url = str(doc.get("help", "")) if isinstance(doc, dict) else ""
    if "showcase_package_list" in help_url:
        return "ckanext_showcase_package_list"
    if "ckanext_showcase_list" in help_url:
        return "ckanext_showcase_list"
    if result and all(isinstance(p, dict) and p.get("type") == "showcase" for p in result):
        return "ckanext_showcase_list"
    return "ckanext_showcase_package_list"


def _result(doc: Any, path: Path) -> list[dict[str, Any]]:
    if isinstance(doc, dict):
        if doc.get("success") is False:
            error = doc.get("error") or {}
            message = error.get("message") if isinstance(error, dict) else error
            raise RegistryError(f"the CKAN API answered an error: {message or 'no message'}", file=path)
        if "result" not in doc:
            raise RegistryError("not a CKAN action answer (no 'result')", file=path)
        doc = doc["result"]
    if not isinstance(doc, list) or not all(isinstance(p, dict) for p in doc):
        raise RegistryError("the answer's 'result' is not a list of package dicts", file=path)
    return doc


def _site_of(docs: Sequence[Any]) -> str | None:
    """The CKAN site root, from an answer's ``help`` url (``https://host/api/3/action/help_show?...``)."""
    for doc in docs:
        help_url = str(doc.get("help", "")) if isinstance(doc, dict) else ""
        if "/api/" in help_url:
            return help_url.split("/api/", 1)[0]
    return None


def _first_match(tags: list[str], allowed: Sequence[str]) -> str | None:
    keys = {t.lower().replace("-", "_").replace(" ", "_") for t in tags}
    return next((a for a in allowed if a in keys), None)


def showcase_rows(
    showcases: list[dict[str, Any]], packages: dict[str, list[dict[str, Any]]], site: str | None = None
) -> pl.DataFrame:
    """Registry rows (text) from showcase dicts and, per showcase name, the package dicts it uses.

    The reuse id is the showcase's ``name``; datasets are the packages' ``name``; ``type`` and ``topic`` are
    taken from tags naming a udata type or topic (``visualization``, ``health``...), else left empty (CKAN
    has neither); ``url`` is the showcase's external link.
    """
    rows = []
    for sc in showcases:  # one per showcase: a few dozen at most
        name = str(sc.get("name") or sc.get("id") or "")
        tags = [
            str(t.get("display_name") or t.get("name")) for t in sc.get("tags") or [] if isinstance(t, dict)
        ]
        org = sc.get("organization") if isinstance(sc.get("organization"), dict) else {}
        owner = sc.get("author") or org.get("title") or org.get("name")
        created = str(sc.get("metadata_created") or "")[:10] or None
        used = packages.get(name) or packages.get(str(sc.get("id"))) or []
        rows.append(
            {
                "reuse_id": name,
                "title": sc.get("title") or name,
                "description": sc.get("notes"),
                "type": _first_match(tags, vocab.values("types")),
                "topic": _first_match(tags, vocab.values("topics")),
                "url": sc.get("url") or None,
                "owner": owner,
                "owner_kind": None,
                "datasets": ";".join(str(p.get("name") or p.get("id")) for p in used),
                "apis": None,
                "api_consumer": None,
                "created": created,
                "launched": created,
                "retired": None,
                "status": "live" if sc.get("state", "active") == "active" else "retired",
                "channels": None,
                "paid_service": None,
                "source": f"ckan:{sc.get('id') or name}",
                "source_url": f"{site}/showcase/{name}" if site else None,
                "tags": ";".join(tags),
                "notes": LAUNCH_PROXY_NOTE.format(platform="CKAN"),
            }
        )
    return pl.DataFrame(rows, schema=dict.fromkeys(rows[0] if rows else _TEXT_COLUMNS, pl.String))


_TEXT_COLUMNS = ("reuse_id", "title", "datasets", "url", "status")


def read_ckan_showcase(paths: Sequence[str | Path]) -> pl.DataFrame:
    """Registry rows (text) from saved ckanext-showcase answers.

    ``paths`` hold one or more ``ckanext_showcase_list`` answers and any number of
    ``ckanext_showcase_package_list`` answers, each with its showcase's ``name`` or ``id`` in its file name
    (the longest matching name wins). A package list that matches no showcase is an error; a showcase
    without a package list links no dataset (and is flagged).
    """
    showcases: list[dict[str, Any]] = []
    package_files: list[tuple[Path, list[dict[str, Any]]]] = []
    docs = []
    for p in map(Path, paths):
        doc = _load_json(p)
        docs.append(doc)
        result = _result(doc, p)
        if _action_of(doc, result) == "ckanext_showcase_list":
            showcases += result
        else:
            package_files.append((p, result))
    if not showcases:
        raise RegistryError(
            "no ckanext_showcase_list answer among the files: it lists the showcases",
            file=", ".join(map(str, paths)),
        )
    keys = {
        str(k): str(sc.get("name") or sc.get("id"))
        for sc in showcases
        for k in (sc.get("name"), sc.get("id"))
        if k
    }
    packages: dict[str, list[dict[str, Any]]] = {}
    for p, result in package_files:
        matches = [k for k in keys if k in p.name]
        if not matches:
            raise RegistryError(
                "a ckanext_showcase_package_list answer must have its showcase's name or id in its file name "
                f"(showcases: {', '.join(sorted(set(keys.values())))})",
                file=p,
            )
        packages.setdefault(keys[max(matches, key=len)], []).extend(result)
    return showcase_rows(showcases, packages, _site_of(docs))


# --------------------------------------------------------------------------------------------- import
def import_registry(fmt: str, paths: Sequence[str | Path]) -> Registry:
    """Import reuses from files of format ``fmt`` (:data:`FORMATS`) into a registry, rows to review flagged.

    Several files of the same format are concatenated (a url registered twice across files is flagged too).
    The ``flags`` column holds ``no_dataset`` and ``duplicate_url`` signs (dataset ids are not checked
    against this catalog: imported ids are the source platform's).

    Raises
    ------
    RegistryError
        An unknown format, or a file that is not of the format.
    """
    if fmt == "udata-csv":
        frames = [udata_rows(read_udata_export(p)) for p in paths]
        text = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    elif fmt == "ckan-showcase":
        text = read_ckan_showcase(paths)
    else:
        raise RegistryError(f"unknown import format {fmt!r}: one of {', '.join(FORMATS)}")
    if text.height == 0:
        raise RegistryError("no reuse in the files", file=", ".join(map(str, paths)))
    registry = parse(text, file=", ".join(map(str, paths)))
    flags = spam_flags(registry)
    frame = registry.frame.with_columns(flags["flags"].alias("flags"))
    flagged = frame.filter(pl.col("flags").list.len() > 0)
    if flagged.height:
        log.info(
            "%d imported reuse(s) flagged for review (all counted): %s",
            flagged.height,
            ", ".join(flagged["reuse_id"].fill_null("(no id)")),
        )
    return Registry(frame, registry.file, registry.parse_issues)
