"""JSON (a list of records, or an object holding one) and JSON lines.

Options: ``records_path`` — where the list of records is inside a JSON object, as dotted keys
(``"result.records"`` for a CKAN DataStore answer, ``"data"``, ``"records"``). Without it, a top-level
list is used, or the first of ``result.records``, ``records``, ``data``, ``items``, ``result`` that
holds a list.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import polars as pl

from lab.errors import EmptyFileError, ReadError, TruncatedFileError
from lab.readers.base import Source, register
from lab.readers.encoding import decode

log = logging.getLogger(__name__)

__all__ = ["read_json", "read_jsonl", "records_frame"]

_GUESSES = ("result.records", "records", "data", "items", "result")


def _at(doc: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(doc, dict) and key in doc:
            doc = doc[key]
        elif isinstance(doc, list) and key.isdigit() and int(key) < len(doc):
            doc = doc[int(key)]
        else:
            return None
    return doc


def _records(src: Source, doc: Any) -> list[Any]:
    path = src.options.get("records_path")
    if path:
        found = _at(doc, str(path))
        if not isinstance(found, list):
            what = "nothing" if found is None else type(found).__name__
            raise src.error(
                ReadError, f"options.records_path {path!r} leads to {what}, not a list of records"
            )
        return found
    if isinstance(doc, list):
        return doc
    for guess in _GUESSES:
        found = _at(doc, guess)
        if isinstance(found, list):
            log.info("%s: %s: records found under %r", src.dataset.id, src.label, guess)
            return found
    keys = ", ".join(list(doc)[:10]) if isinstance(doc, dict) else type(doc).__name__
    raise src.error(
        ReadError, f"a JSON object without a list of records (keys: {keys}); set options.records_path"
    )


def _mixed_column(name: str, values: list[Any]) -> pl.Series:
    try:
        return pl.Series(name, values, strict=False)
    except (TypeError, ValueError, pl.exceptions.PolarsError):
        return pl.Series(
            name,
            [v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values],
            dtype=pl.String,
        )


def records_frame(src: Source, records: list[Any]) -> pl.DataFrame:
    """A frame from a list of JSON objects; columns of mixed types fall back to per-column building."""
    if not records:
        raise src.error(EmptyFileError, "has no records")
    try:
        return pl.from_dicts(records, infer_schema_length=None)
    except (TypeError, ValueError, AttributeError, pl.exceptions.PolarsError):
        pass
    if not all(isinstance(r, dict) for r in records):
        raise src.error(ReadError, "the records are not all JSON objects")
    names = list(dict.fromkeys(k for r in records for k in r))
    log.info("%s: %s: mixed value types, building the columns one by one", src.dataset.id, src.label)
    return pl.DataFrame([_mixed_column(n, [r.get(n) for r in records]) for n in names])


def _json_error(src: Source, text: str, exc: json.JSONDecodeError) -> Exception:
    if exc.pos >= len(text.rstrip()):
        return src.error(TruncatedFileError, f"the JSON ends early ({exc.msg}): the file looks cut off")
    return src.error(ReadError, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")


@register("json")
def read_json(src: Source) -> pl.DataFrame:
    """Read a JSON file of records (see the module docstring)."""
    text = decode(src, src.path.read_bytes())
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(src, text, exc) from None
    return records_frame(src, _records(src, doc))


@register("jsonl")
def read_jsonl(src: Source) -> pl.DataFrame:
    """Read JSON lines (one object per line); a bad line is reported by number."""
    text = decode(src, src.path.read_bytes())
    if not text.strip():
        raise src.error(EmptyFileError, "has no records")
    try:
        return pl.read_ndjson(io.BytesIO(text.encode("utf-8")), infer_schema_length=None)
    except pl.exceptions.PolarsError:
        pass  # only now go line by line: to name the bad line, or to build mixed-type columns
    lines = text.splitlines()
    records = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if n == len(lines) and not text.endswith("\n") and exc.pos >= len(line.rstrip()):
                raise src.error(
                    TruncatedFileError, f"the last line ({n}) ends early ({exc.msg}): the file looks cut off"
                ) from None
            raise src.error(
                ReadError, f"not valid JSON on line {n}: {exc.msg} at column {exc.colno}"
            ) from None
    return records_frame(src, records)
