"""Bounded decompression: gzip/deflate bodies and ``.gz`` files, zip archives, never past a size limit.

A few kilobytes of gzip or zip can expand to gigabytes (a "zip bomb"). Everything the lab decompresses
(an HTTP answer sent with ``Content-Encoding: gzip``, a ``.csv.gz`` / ``.json.gz`` source, the members
of a zipped shapefile) goes through this module, which stops at :func:`max_unpacked_bytes`
(``$LAB_MAX_UNPACKED_MB``, default :data:`DEFAULT_MAX_UNPACKED_MB`) and raises :class:`TooLargeError`.

Examples
--------
>>> import gzip
>>> u = Unpacker("gzip", limit=1000)
>>> u.feed(gzip.compress(b"id\\n1\\n")) + u.finish()
b'id\\n1\\n'
>>> is_gzip(gzip.compress(b"x"))
True
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

__all__ = [
    "DEFAULT_MAX_UNPACKED_MB",
    "GZIP_MAGIC",
    "IncompleteError",
    "TooLargeError",
    "Unpacker",
    "check_zip",
    "gunzip_file",
    "is_gzip",
    "max_unpacked_bytes",
]

#: The default limit on decompressed bytes, in MiB (``$LAB_MAX_UNPACKED_MB`` overrides it).
DEFAULT_MAX_UNPACKED_MB: float = 2048
#: The first two bytes of a gzip stream.
GZIP_MAGIC = b"\x1f\x8b"
_STEP = 1 << 20  # decompress at most this many bytes per call


class TooLargeError(ValueError):
    """Decompressing would pass the limit (the message says how far it got and the limit)."""


class IncompleteError(ValueError):
    """The compressed stream ends before its end marker (a cut download or file)."""


def max_unpacked_bytes() -> int:
    """The most bytes a decompression may produce: ``$LAB_MAX_UNPACKED_MB`` MiB (default 2048).

    Returns
    -------
    int
        Bytes. A value that is not a positive number falls back to the default.
    """
    raw = os.environ.get("LAB_MAX_UNPACKED_MB", "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_MAX_UNPACKED_MB
    except ValueError:
        mb = DEFAULT_MAX_UNPACKED_MB
    if not mb > 0:
        mb = DEFAULT_MAX_UNPACKED_MB
    return int(mb * (1 << 20))


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MiB" if n >= 1 << 20 else f"{n:,} bytes"


def limit_message(limit: int) -> str:
    """The cause shown when :class:`TooLargeError` stops a decompression."""
    return (
        f"decompresses to more than {_mib(limit)} (a decompression bomb or a very large file); "
        "raise LAB_MAX_UNPACKED_MB if it is genuine"
    )


def is_gzip(head: bytes) -> bool:
    """True when ``head`` starts a gzip stream."""
    return head.startswith(GZIP_MAGIC)


class Unpacker:
    """Streaming gzip/deflate decompression that refuses to produce more than ``limit`` bytes.

    Parameters
    ----------
    encoding
        ``gzip`` (also ``x-gzip``) or ``deflate`` (zlib-wrapped or raw, as servers send either).
    limit
        The most bytes it may produce; default :func:`max_unpacked_bytes`.
    """

    def __init__(self, encoding: str = "gzip", *, limit: int | None = None) -> None:
        enc = encoding.strip().lower()
        if enc not in ("gzip", "x-gzip", "deflate"):
            raise ValueError(f"unsupported compression {encoding!r}")
        self.encoding = enc
        self.limit = max_unpacked_bytes() if limit is None else limit
        self.produced = 0
        self._raw_deflate = False
        self._first = True
        self._obj = zlib.decompressobj(31 if enc != "deflate" else 15)

    def _take(self, data: bytes) -> bytes:
        out = bytearray()
        while data:
            room = self.limit - self.produced - len(out)
            piece = self._obj.decompress(data, min(_STEP, room + 1))
            out += piece
            if self.produced + len(out) > self.limit:
                raise TooLargeError(limit_message(self.limit))
            data = self._obj.unconsumed_tail
            if self._obj.eof:
                if self.encoding != "deflate" and self._obj.unused_data:  # concatenated gzip members
                    rest = self._obj.unused_data
                    self._obj = zlib.decompressobj(31)
                    data = rest
                    continue
                break
        self.produced += len(out)
        return bytes(out)

    def feed(self, chunk: bytes) -> bytes:
        """Decompress the next piece of the stream.

        Raises
        ------
        TooLargeError
            The output passes the limit.
        zlib.error
            The bytes are not a valid stream.
        """
        if self._first and self.encoding == "deflate" and chunk:
            self._first = False
            try:  # zlib-wrapped first; some servers send raw deflate
                return self._take(chunk)
            except zlib.error:
                self._obj = zlib.decompressobj(-15)
                self._raw_deflate = True
        self._first = False
        return self._take(chunk)

    def finish(self) -> bytes:
        """The end of the stream: any buffered output.

        Raises
        ------
        IncompleteError
            The stream stopped before its end marker.
        """
        out = self._obj.flush()
        self.produced += len(out)
        if self.produced > self.limit:
            raise TooLargeError(limit_message(self.limit))
        if not self._obj.eof:
            raise IncompleteError("the compressed stream ends before its end marker: it is cut off")
        return out


def gunzip_file(path: Path, *, limit: int | None = None) -> bytes:
    """The decompressed bytes of a gzip file, at most ``limit`` of them.

    Raises
    ------
    TooLargeError, IncompleteError, zlib.error
        Too large, cut off, or not a valid gzip stream.
    """
    unpacker = Unpacker("gzip", limit=limit)
    out = bytearray()
    with open(path, "rb") as fh:
        while chunk := fh.read(_STEP):
            out += unpacker.feed(chunk)
    out += unpacker.finish()
    return bytes(out)


def check_zip(path: Path, *, limit: int | None = None) -> None:
    """Refuse a zip archive whose members would decompress past ``limit`` bytes in total.

    The sizes the archive declares are checked first; then each member is decompressed (and discarded)
    with a running count, since a forged archive can declare small sizes.

    Raises
    ------
    TooLargeError
        The archive expands past the limit.
    zipfile.BadZipFile
        The archive is broken.
    """
    limit = max_unpacked_bytes() if limit is None else limit
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > limit:
            raise TooLargeError(limit_message(limit))
        total = 0
        for info in infos:
            with zf.open(info) as fh:
                while piece := fh.read(_STEP):
                    total += len(piece)
                    if total > limit:
                        raise TooLargeError(limit_message(limit))
