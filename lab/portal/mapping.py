"""From a dataset page of the portal to a catalog entry (``datasets.yaml``).

==============================  ===========================================================
Portal label                    Catalog field
==============================  ===========================================================
Cơ quan cung cấp                ``publisher`` (else Cơ quan chủ quản)
Lĩnh vực                        ``theme`` (through ``lab/vocab/portal_congdulieu.yaml``)
Tần suất cung cấp               ``frequency`` (same table; absent → ``unknown``)
Giấy phép                       ``license`` (same table; absent → ``unknown``)
Mô tả                           ``description``
Tag                             ``keywords``
Người liên hệ, Liên hệ          ``contact_point`` (name, email, phone)
Ngày tạo, Ngày cập nhật         ``issued``, ``modified`` (DD-MM-YYYY → YYYY-MM-DD; else the
                                listing's date beside the dataset for ``modified``)
the page's id / API link        ``portal_id``, ``landing_page`` and a PARQUET distribution
                                ``portal: {name: congdulieu, id: ...}``
==============================  ===========================================================

The portal has no English texts: ``title.en`` and ``description.en`` repeat the Vietnamese until
someone translates them (a hand-written translation survives later harvests).

Values the mapping does not know are written as the portal gave them (a theme ``"Du lịch biển"``), and
a missing agency or field leaves ``publisher`` / ``theme`` out, so ``lab catalog validate`` names
every entry that needs a hand; :class:`Mapped` lists the same for the harvest's report.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any

import yaml

from lab.catalog import vocabularies
from lab.portal.api import PORTAL_NAME
from lab.portal.client import DEFAULT_BASE_URL
from lab.portal.zk import LABELS

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
_LABEL_OF = {name: label for label, name in LABELS.items()}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d .()-]{6,}\d")
_DATE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:\b|$)")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:\b|$)")
_SPLIT = re.compile(r"\s*[,;|/]\s*")


# -------------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class PortalRecord:
    """What a harvest read about one dataset: its id, listing title and page values.

    Attributes
    ----------
    id
        The number of ``/dulieuchitiet/<id>``.
    title
        The title the listing links it with.
    values
        Field name → texts (see :data:`lab.portal.zk.LABELS`).
    missing
        The labels its page lacks.
    api_id
        The id its ``/api/dataset/<base64>`` link decodes to, if the page has one.
    listed
        The date the listing shows beside it (DD-MM-YYYY), used when the page has no "Ngày cập nhật".
    """

    id: int
    title: str
    values: dict[str, list[str]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    api_id: int | None = None
    listed: str | None = None

    def first(self, name: str) -> str | None:
        """The first text of field ``name``, or None."""
        texts = self.values.get(name) or []
        return (texts[0].strip() or None) if texts else None


@dataclass
class Mapped:
    """A catalog entry made from a :class:`PortalRecord`, and what did not go into it cleanly.

    Attributes
    ----------
    entry
        The catalog entry (a dict in the catalog's field order).
    unread
        One line per thing the page did not say or said unreadably (missing labels, bad dates).
    unmapped
        Catalog field → the portal's value the mapping table does not know (written as is, so
        validation reports it).
    """

    entry: dict[str, Any]
    unread: list[str] = field(default_factory=list)
    unmapped: dict[str, str] = field(default_factory=dict)


def entry_id(portal_id: int) -> str:
    """The catalog id of a harvested dataset: ``congdulieu-<id>``."""
    return f"{PORTAL_NAME}-{int(portal_id)}"


# ------------------------------------------------------------------------------------------ the table
def value_key(text: str) -> str:
    """A mapping key: no diacritics (đ → d), lower case, letters and digits only, without "và".

    Examples
    --------
    >>> value_key("Văn hóa - Thể thao") == value_key("VĂN HOÁ, THỂ THAO") == value_key("Văn hóa và Thể thao")
    True
    """
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    words = [w for w in re.split(r"[^0-9a-z]+", text) if w and w != "va"]
    return "".join(words)


@functools.cache
def mapping_table() -> dict[str, dict[str, Any]]:
    """``lab/vocab/portal_congdulieu.yaml`` keyed by :func:`value_key`: themes, frequencies, licenses."""
    text = resources.files("lab").joinpath("vocab/portal_congdulieu.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return {name: {value_key(k): v for k, v in (raw.get(name) or {}).items()} for name in raw}


def _vocab_id(value: str, vocab: str) -> str | None:
    """``value`` itself when it already is an id of ``vocab`` (any case), else None."""
    for known in vocabularies()[vocab]:
        if value.strip().lower() == known.lower():
            return known
    return None


def map_themes(value: str) -> tuple[list[str], list[str]]:
    """Theme ids of a "Lĩnh vực" value, and the parts the table does not know.

    The whole value is looked up first, then its parts split at ``, ; | /`` and then at `` - ``.

    Examples
    --------
    >>> map_themes("Giao thông vận tải; Y tế")
    (['transport', 'health'], [])
    >>> map_themes("Du lịch biển")
    ([], ['Du lịch biển'])
    """
    table = mapping_table()["themes"]
    themes: list[str] = []
    unknown: list[str] = []

    def look(part: str) -> list[str] | None:
        hit = table.get(value_key(part))
        if hit is None and (own := _vocab_id(part, "themes")):
            hit = [own]
        return list(hit) if hit is not None else None

    whole = look(value)
    parts = [value] if whole is not None else [p for p in _SPLIT.split(value) if p.strip()]
    for part in parts:
        hit = look(part)
        if hit is None:
            pieces = [p for p in re.split(r"\s+[-–]\s+", part) if p.strip()]
            found = [look(p) for p in pieces] if len(pieces) > 1 else [None]
            if all(f is not None for f in found):
                hit = [t for f in found for t in f or []]
        if hit is None:
            unknown.append(part.strip())
        else:
            themes.extend(t for t in hit if t not in themes)
    return themes, unknown


def map_value(value: str, table: str, vocab: str) -> str | None:
    """The vocabulary id of a frequency or licence text, or None if the table does not know it.

    Examples
    --------
    >>> map_value("Hàng tháng", "frequencies", "frequencies")
    'monthly'
    >>> map_value("CC-BY-4.0", "licenses", "licenses")
    'CC-BY-4.0'
    """
    hit = mapping_table()[table].get(value_key(value))
    return hit if hit is not None else _vocab_id(value, vocab)


def parse_date(text: str) -> str | None:
    """``DD-MM-YYYY`` (or ``DD/MM/YYYY``, a time after it, or ISO) as ``YYYY-MM-DD``; None if not a date.

    Examples
    --------
    >>> parse_date("05-03-2024"), parse_date("5/3/2024 14:20"), parse_date("31-02-2024")
    ('2024-03-05', '2024-03-05', None)
    """
    if m := _DATE.match(text):
        day, month, year = (int(g) for g in m.groups())
    elif m := _ISO.match(text):
        year, month, day = (int(g) for g in m.groups())
    else:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _contact(record: PortalRecord, unread: list[str]) -> dict[str, str] | None:
    out: dict[str, str] = {}
    if name := record.first("contact_name"):
        out["name"] = name
    if info := " ".join(record.values.get("contact") or []).strip():
        if m := _EMAIL.search(info):
            out["email"] = m.group(0)
        if m := _PHONE.search(_EMAIL.sub(" ", info)):
            out["phone"] = " ".join(m.group(0).split())
        if "email" not in out and "phone" not in out:
            unread.append(f"{_LABEL_OF['contact']}: {info!r} is neither an e-mail nor a phone number")
    return out or None


def _keywords(record: PortalRecord) -> list[str]:
    words: list[str] = []
    for text in record.values.get("tags") or []:
        for word in _SPLIT.split(text):
            word = word.strip().lstrip("#").strip()
            if word and word not in words:
                words.append(word)
    return words


# ------------------------------------------------------------------------------------------ the entry
def to_entry(record: PortalRecord, *, base_url: str = DEFAULT_BASE_URL) -> Mapped:
    """The catalog entry of one harvested dataset.

    Parameters
    ----------
    record
        What the listing and the dataset page said.
    base_url
        The portal it came from: the landing page is ``<base_url>/dulieuchitiet/<id>``; the
        distribution carries ``base_url`` only when it is not the real portal.

    Returns
    -------
    Mapped
        The entry, what could not be read and the values the mapping does not know.
    """
    base = base_url.rstrip("/")
    unread = [f"{label}: not on the page" for label in record.missing]
    unmapped: dict[str, str] = {}
    title = record.title.strip() or f"Tập dữ liệu {record.id}"
    entry: dict[str, Any] = {"id": entry_id(record.id), "title": {"vi": title, "en": title}}

    if description := " ".join(record.values.get("description") or []).strip():
        entry["description"] = {"vi": description, "en": description}

    publisher = record.first("providing_agency") or record.first("managing_agency")
    if publisher:
        entry["publisher"] = publisher

    if raw := record.first("theme"):
        themes, unknown = map_themes(raw)
        if unknown:
            unmapped["theme"] = "; ".join(unknown)
        entry["theme"] = themes + [u for u in unknown if u not in themes]

    if words := _keywords(record):
        entry["keywords"] = words

    for name, table, vocab in (
        ("license", "licenses", "licenses"),
        ("frequency", "frequencies", "frequencies"),
    ):
        raw = record.first(name)
        mapped = map_value(raw, table, vocab) if raw else "unknown"
        if mapped is None:
            unmapped[name] = str(raw)
        entry[name] = mapped if mapped is not None else raw

    for name in ("issued", "modified"):
        if raw := record.first(name):
            day = parse_date(raw)
            if day is None:
                unread.append(f"{_LABEL_OF[name]}: {raw!r} is not a date (DD-MM-YYYY)")
            else:
                entry[name] = day
    if "modified" not in entry and record.listed and (day := parse_date(record.listed)):
        entry["modified"] = day  # the date the listing shows beside the dataset
        unread.append(f"{_LABEL_OF['modified']}: taken from the listing ({record.listed})")

    entry["access_rights"] = "public"
    entry["channels"] = ["web", "api"]
    landing = f"{base}/dulieuchitiet/{record.id}"
    entry["landing_page"] = landing
    if contact := _contact(record, unread):
        entry["contact_point"] = contact
    entry["portal_id"] = record.id

    api_id = record.api_id or record.id
    portal: dict[str, Any] = {"name": PORTAL_NAME, "id": api_id}
    if base != DEFAULT_BASE_URL:
        portal["base_url"] = base
    entry["distributions"] = [
        {
            "title": "Dữ liệu qua API của cổng dữ liệu mở Đà Nẵng (cần tài khoản)",
            "access_url": landing,
            "portal": portal,
            "format": "PARQUET",
            "media_type": PARQUET_MEDIA_TYPE,
        }
    ]
    return Mapped(entry, unread, unmapped)
