"""Text encodings of open-data files: detect, decode strictly, normalise to NFC.

Vietnamese exports come as UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text", with or
without BOM) or Windows-1258, whose tone marks are *combining* characters: the text is NFC-normalised
after decoding so "Hòa" from a cp1258 file equals "Hòa" from a UTF-8 one.

Examples
--------
>>> detect("Đà Nẵng".encode("utf-8"))
'utf-8'
>>> detect(b"\\xef\\xbb\\xbfid")
'utf-8-sig'
>>> detect("id,name".encode("utf-16-le"))
'utf-16-le'
>>> detect(b"Hoa\\xcc")
'cp1258'
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata

from lab.errors import EncodingError
from lab.readers.base import Source

log = logging.getLogger(__name__)

__all__ = ["decode", "detect", "pretty"]

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_PRETTY = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16 with BOM",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "cp1258": "Windows-1258",
}


def pretty(codec: str) -> str:
    """A readable name of a codec for messages ('cp1258' → 'Windows-1258')."""
    return _PRETTY.get(codecs.lookup(codec).name if codec not in _PRETTY else codec, codec)


def detect(data: bytes) -> str:
    """Guess the codec of ``data``: BOM, UTF-16 NUL pattern, strict UTF-8, else Windows-1258."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    sample = data[:4096]
    half = len(sample) // 2
    if half >= 2:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > 0.3 * half and even < 0.05 * half:
            return "utf-16-le"
        if even > 0.3 * half and odd < 0.05 * half:
            return "utf-16-be"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1258"
    return "utf-8"


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _declared(src: Source, data: bytes, declared: str) -> str:
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        raise src.error(EncodingError, f"unknown encoding {declared!r} declared in the catalog") from None
    if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise src.error(
            EncodingError,
            f"not valid {declared} at byte {exc.start}; the file looks like {pretty(detect(data))}: "
            "fix `encoding` in the catalog",
        ) from None


# Vietnamese in UTF-8: đ Đ ư Ư ơ Ơ, Latin-1 vowels (à á â ã è é …) and the U+1EA0–U+1EFF block
_UTF8_VIETNAMESE = re.compile(
    rb"\xc4[\x90\x91]|\xc6[\xaf\xb0\xa0\xa1]|\xc3[\x80-\xbf]|\xe1[\xba\xbb][\x80-\xbf]"
)


def _mixed_utf8_line(data: bytes) -> int | None:
    """The 1-based number of a line that is valid UTF-8 Vietnamese in a file that is not UTF-8, or None.

    A file whose lines were appended by different tools (UTF-8 and Windows-1258) decodes as Windows-1258
    without an error, turning the UTF-8 lines into mojibake: such a file must be refused.
    """
    for match in _UTF8_VIETNAMESE.finditer(data):
        start = data.rfind(b"\n", 0, match.start()) + 1
        end = data.find(b"\n", match.end())
        line = data[start : end if end >= 0 else len(data)]
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return data.count(b"\n", 0, start) + 1
    return None


def decode(src: Source, data: bytes) -> str:
    """Decode the bytes of a text file to NFC text.

    The distribution's declared ``encoding`` is honoured strictly; otherwise the encoding is detected
    (:func:`detect`).

    Raises
    ------
    EncodingError
        The bytes are not valid in the declared encoding (the message says what they look like), or in
        no encoding the lab knows.
    """
    if src.dist.encoding:
        return _nfc(_declared(src, data, src.dist.encoding))
    codec = detect(data)
    if codec == "cp1258" and (good := _mixed_utf8_line(data)) is not None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as utf8:
            bad = data.count(b"\n", 0, utf8.start) + 1
            raise src.error(
                EncodingError,
                f"mixes encodings: line {bad} is not UTF-8 (byte 0x{data[utf8.start]:02x}) but line "
                f"{good} is UTF-8; the lines would be read as mojibake: save the whole file as UTF-8",
            ) from None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as utf8:
            first = f"byte 0x{data[utf8.start]:02x} at {utf8.start}"
        else:  # pragma: no cover - detect() only falls back when UTF-8 fails
            first = "?"
        raise src.error(
            EncodingError,
            f"cannot decode the text: not UTF-8 ({first}) nor {pretty(codec)} "
            f"(byte 0x{data[exc.start]:02x} at {exc.start}); declare `encoding` in the catalog",
        ) from None
    if codec != "utf-8":
        log.info("%s: %s: decoded as %s", src.dataset.id, src.label, pretty(codec))
    return _nfc(text)
