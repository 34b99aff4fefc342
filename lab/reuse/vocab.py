"""The registry's vocabularies: udata's 8 reuse types and 15 topics, owner kinds, statuses, channels, and the
Open Data Maturity impact domain of each topic (``lab/vocab/udata_reuse.yaml``, which cites its sources)."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources
from typing import Any

import yaml

VOCAB_FILE = "vocab/udata_reuse.yaml"
KINDS = ("types", "topics", "owner_kinds", "statuses", "channels", "impact_domains")


@cache
def reuse_vocabularies() -> dict[str, dict[str, dict[str, Any]]]:
    """Every vocabulary of the registry as ``{kind: {value: attributes}}``.

    ``kind`` is one of :data:`KINDS`; attributes hold ``vi`` and ``en`` labels, ``product`` (types) and
    ``impact`` (topics).
    """
    text = resources.files("lab").joinpath(VOCAB_FILE).read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    return {kind: dict(doc[kind]["values"]) for kind in KINDS}


def values(kind: str) -> tuple[str, ...]:
    """The allowed values of one vocabulary, in the file's order."""
    return tuple(reuse_vocabularies()[kind])


def label(kind: str, value: str, lang: str = "vi") -> str:
    """The label of ``value`` in ``lang`` (NFC); values not in the vocabulary are returned as they are."""
    entry = reuse_vocabularies()[kind].get(value)
    return unicodedata.normalize("NFC", entry[lang]) if entry else value


def labels(kind: str, lang: str = "vi") -> dict[str, str]:
    """``{value: label}`` of one vocabulary in ``lang`` (for ``pl.Expr.replace``)."""
    return {v: label(kind, v, lang) for v in values(kind)}


def product_types() -> tuple[str, ...]:
    """Reuse types that are products with users (api, application, hardware); the others are read."""
    return tuple(v for v, a in reuse_vocabularies()["types"].items() if a.get("product"))


def topic_impact() -> dict[str, str]:
    """udata topic → Open Data Maturity impact domain (governmental, social, environmental, economic)."""
    return {v: a["impact"] for v, a in reuse_vocabularies()["topics"].items()}
