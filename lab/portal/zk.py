"""Reading the portal's web pages, rendered by the ZK framework: listing links and metadata labels.

ZK sends its widgets as JavaScript inside ``<script>`` elements: a link to a dataset appears as
``zclass:'link',label:'<title>',href:'/dulieuchitiet/<id>'`` and the texts of a dataset page as
``value:'...'`` / ``label:'...'`` properties. This module reads both that and plain HTML (anchors and
text nodes), in document order, so the parse survives either rendering.

A dataset page is a sequence of texts where a metadata label ("Cơ quan chủ quản", "Lĩnh vực",
"Ngày tạo", ...; see ``docs/concepts/sources.md``) is followed by its value: the next plain text
(links are values only for tags, and ``mailto:``/``tel:`` links for contacts). Labels are plain texts,
never links, so a menu item "Liên hệ" is not the contact label. :func:`read_dataset_page` returns the
values it found and the labels it did not, so a harvest can say what it could not read.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

from lab.portal.ids import API_DATASET, decode_dataset_id

#: The metadata labels of a dataset page (Vietnamese, as the portal shows them) → field names.
LABELS: dict[str, str] = {
    "Cơ quan chủ quản": "managing_agency",
    "Cơ quan cung cấp": "providing_agency",
    "Lĩnh vực": "theme",
    "Tần suất cung cấp": "frequency",
    "Mô tả": "description",
    "Mã định danh tập dữ liệu": "identifier",
    "Tag": "tags",
    "Người liên hệ": "contact_name",
    "Liên hệ (Email/số điện thoại)": "contact",
    "Ngày tạo": "issued",
    "Ngày cập nhật": "modified",
    "Giấy phép": "license",
}
#: Other spellings seen for the same labels (matched without diacritics, case or a final colon).
ALIASES: dict[str, str] = {
    "Tần suất": "frequency",
    "Tần suất cập nhật": "frequency",
    "Tags": "tags",
    "Từ khóa": "tags",
    "Email/số điện thoại": "contact",
    "Giấy phép sử dụng": "license",
    "Ngày cập nhật cuối": "modified",
    "Ngày đăng": "issued",
}
#: Fields whose value may be several texts (one per tag widget); the others take the first text.
MULTI = frozenset({"tags", "description"})
#: A tag is short: a longer text after the Tag label is the page going on, not a tag.
MAX_TAG_CHARS = 60
MAX_TAGS = 50

_JS_TOKEN = re.compile(
    r"""(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    r"|(?P<open>\{)|(?P<close>\})"
    r"|(?P<key>[A-Za-z_$][\w$]*)\s*:\s*(?=['\"])",
    re.DOTALL,
)
_JS_ESCAPE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|.)", re.DOTALL)
_JS_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_TAG = re.compile(r"<[^>]*>")
_DATASET_HREF = re.compile(r"^(?:https?://[^/]+)?/dulieuchitiet/(\d+)(?:[/?#]|$)")
TEXT_KEYS = frozenset({"value", "label", "content"})


# ---------------------------------------------------------------------------------------- JavaScript
def js_unescape(literal: str) -> str:
    r"""The value of a JavaScript string literal (with its quotes).

    Examples
    --------
    >>> js_unescape(r"'Tr\u01b0\u1eddng h\u1ecdc \'A\''")
    "Trường học 'A'"
    """
    body = literal[1:-1]

    def one(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc[0] == "u" and len(esc) > 1:
            return chr(int(esc[1:].strip("{}"), 16))
        if esc[0] == "x" and len(esc) == 3:
            return chr(int(esc[1:], 16))
        return _JS_SIMPLE.get(esc, esc)

    return _JS_ESCAPE.sub(one, body)


def js_objects(script: str) -> list[dict[str, str]]:
    """The string properties of every object literal in a script, innermost first, in order.

    Only ``key: 'string'`` pairs are kept (numbers, booleans and nested values are ignored); braces
    inside strings do not count. ZK's widget properties are such objects.
    """
    stack: list[dict[str, str]] = []
    done: list[dict[str, str]] = []
    pending: str | None = None
    for m in _JS_TOKEN.finditer(script):
        if m.group("key"):
            pending = m.group("key")
        elif m.group("str") is not None:
            if pending is not None and stack:
                stack[-1][pending] = js_unescape(m.group("str"))
            pending = None
        elif m.group("open"):
            stack.append({})
            pending = None
        elif m.group("close") and stack:
            done.append(stack.pop())
            pending = None
    return done


def _clean(text: str) -> str:
    """Text without markup, entities or extra whitespace, in NFC."""
    text = html.unescape(_TAG.sub(" ", text))
    return unicodedata.normalize("NFC", " ".join(text.split()))


# ------------------------------------------------------------------------------------ document order
@dataclass
class _Item:
    text: str
    href: str | None = None


class _Reader(HTMLParser):
    """Texts and links of a page in document order: HTML text nodes, anchors and ZK widget props."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[_Item] = []
        self._in: str | None = None
        self._href: str | None = None
        self._anchor: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._in = tag
        elif tag == "a":
            self._href = dict(attrs).get("href")
            self._anchor = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in = None
        elif tag == "a" and self._href is not None:
            text = _clean(" ".join(self._anchor))
            if text:
                self.items.append(_Item(text, self._href))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            for props in js_objects(data):
                texts = [props[k] for k in ("label", "value", "content") if props.get(k)]
                text = _clean(texts[0]) if texts else ""
                href = props.get("href")
                if text or href:
                    self.items.append(_Item(text, href))
        elif self._in is None:
            if self._href is not None:
                self._anchor.append(data)
            else:
                text = _clean(data)
                if text:
                    self.items.append(_Item(text))


def page_items(page: str) -> list[tuple[str, str | None]]:
    """Every (text, link) of a page, in document order (ZK widgets and plain HTML alike)."""
    reader = _Reader()
    reader.feed(page)
    reader.close()
    return [(i.text, i.href) for i in reader.items]


# ---------------------------------------------------------------------------------------- the listing
_DMY = re.compile(r"\b(\d{1,2}[-/]\d{1,2}[-/]\d{4})\b")


def listing_dates(page: str) -> dict[int, str]:
    """The first ``DD-MM-YYYY`` date shown after each dataset link, before the next one (its update date).

    Examples
    --------
    >>> listing_dates("<a href='/dulieuchitiet/7'>Bảy</a> 05-03-2024 <a href='/dulieuchitiet/8'>Tám</a>")
    {7: '05-03-2024'}
    """
    dates: dict[int, str] = {}
    current: int | None = None
    for text, href in page_items(page):
        m = _DATASET_HREF.match(href or "")
        if m:
            current = int(m.group(1))
            continue
        if current is not None and current not in dates and (d := _DMY.search(text)):
            dates[current] = d.group(1)
    return dates


def listing_links(page: str) -> list[tuple[int, str]]:
    """The datasets a listing page links to: ``(id, title)`` in page order, each id once.

    Examples
    --------
    >>> listing_links("<script>zkmx([{zclass:'link',label:'Bus stops',href:'/dulieuchitiet/7'}])</script>")
    [(7, 'Bus stops')]
    """
    seen: dict[int, str] = {}
    for text, href in page_items(page):
        m = _DATASET_HREF.match(href or "")
        if m:
            number = int(m.group(1))
            if text and not seen.get(number):
                seen[number] = text
            seen.setdefault(number, "")
    return list(seen.items())


# ------------------------------------------------------------------------------------- a dataset page
def _fold(text: str) -> str:
    """A label's matching key: no diacritics (đ → d), lower case, no final colon, single spaces."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(text.replace("：", ":").rstrip(" :").split())


_KEYS: dict[str, str] = {_fold(k): v for k, v in {**LABELS, **ALIASES}.items()}


def label_field(text: str) -> tuple[str, str] | None:
    """``(field, rest)`` if ``text`` is a metadata label, alone or as ``"Label: value"``; else None.

    Examples
    --------
    >>> label_field("Lĩnh vực:")
    ('theme', '')
    >>> label_field("Tần suất cung cấp: Hàng tháng")
    ('frequency', 'Hàng tháng')
    """
    key = _fold(text)
    if key in _KEYS:
        return _KEYS[key], ""
    head, colon, rest = text.partition(":")
    if colon and _fold(head) in _KEYS and len(head) < 40:
        return _KEYS[_fold(head)], rest.strip()
    return None


@dataclass
class DatasetPage:
    """What a dataset page says: its values by field, the labels it lacks, the API id it links to.

    Attributes
    ----------
    values
        Field name (see :data:`LABELS`) → the texts after its label (one for most fields, several
        for tags and long descriptions).
    missing
        The Vietnamese labels not found, or found without a value.
    api_id
        The dataset id behind an ``/api/dataset/<base64>`` link on the page, if there is one.
    title
        The page's own title text (the ``<title>``), if any.
    """

    values: dict[str, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    api_id: int | None = None
    title: str | None = None


def read_dataset_page(page: str) -> DatasetPage:
    """The metadata of a dataset page (``/dulieuchitiet/<id>``), tolerant of missing labels.

    Parameters
    ----------
    page
        The page's HTML (with its ZK scripts).

    Returns
    -------
    DatasetPage
        Values found, labels missing, the API id linked to.
    """
    items = page_items(page)
    out = DatasetPage()
    texts = [t for t, _ in items]
    links = [bool(href) and not href.startswith(("mailto:", "tel:")) for _, href in items]
    # labels are plain texts, never links (a menu item "Liên hệ" is not the contact label)
    labels = [(i, hit) for i, (t, href) in enumerate(items) if not href and (hit := label_field(t))]
    for n, (i, (name, rest)) in enumerate(labels):
        if name in out.values:  # a label shown twice (a summary box and the table): the first wins
            continue
        end = labels[n + 1][0] if n + 1 < len(labels) else len(texts)
        following = [t for j, t in enumerate(texts[i + 1 : end], i + 1) if t.strip() and not links[j]]
        if name == "tags":  # tags are often links (to the listing filtered by the tag)
            following = [t for t in texts[i + 1 : end] if t.strip()]
        elif i + 1 < end and links[i + 1]:  # a link right after the label (e.g. "API") is not its value
            following = []
        if rest:
            following = [rest, *following]
        if not following:
            continue
        last = n + 1 == len(labels)  # after the last label the page goes on (footer): take one text
        if name == "tags":
            values = []
            for t in following[: 1 if last else MAX_TAGS]:
                if len(t) > MAX_TAG_CHARS:
                    break
                values.append(t)
        elif name in MULTI:
            values = [" ".join(following[:1] if last else following)]
        else:
            values = [following[0]]
        if values:
            out.values[name] = values
    found = set(out.values)
    out.missing = [label for label, name in LABELS.items() if name not in found]
    for _text, href in items:
        m = API_DATASET.match(_path(href or ""))
        if m:
            out.api_id = decode_dataset_id(m.group(1))
            break
    if out.api_id is None:
        m = re.search(r"/api/dataset/([A-Za-z0-9+/_-]+={0,2})", page)
        out.api_id = decode_dataset_id(m.group(1)) if m else None
    m = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    out.title = _clean(m.group(1)) if m and _clean(m.group(1)) else None
    return out


def _path(href: str) -> str:
    return re.sub(r"^https?://[^/]+", "", href)
