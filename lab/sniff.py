"""Sniffing the first bytes of a file: is it what it claims to be?

Servers answer login or error pages with status 200 where data was expected (the Đà Nẵng portal's
API does so for a wrong account). These checks run on downloads before they enter the cache and
on every file before it is parsed.
"""

from __future__ import annotations

import re
from pathlib import Path

HEAD_BYTES = 4096
_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<!--|<\?xml[^>]*>\s*<html)", re.IGNORECASE)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _strip_bom(head: bytes) -> bytes:
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            head = head[len(bom) :]
    return head.replace(b"\x00", b"")  # UTF-16 text reads as ASCII for the check


def looks_like_html(head: bytes) -> bool:
    """True if ``head`` (the first bytes of a file) is an HTML document.

    Examples
    --------
    >>> looks_like_html(b"  <!DOCTYPE html><html><title>Login</title>")
    True
    >>> looks_like_html(b"id,name\\n1,<b>x</b>\\n")
    False
    """
    return bool(_HTML.match(_strip_bom(head)))


def html_title(head: bytes) -> str | None:
    """The ``<title>`` of an HTML page, to say which page a server answered, or None."""
    m = _TITLE.search(_strip_bom(head))
    if not m:
        return None
    title = " ".join(m.group(1).decode("utf-8", "replace").split())
    return title[:80] or None


def read_head(path: str | Path, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a file."""
    with open(path, "rb") as fh:
        return fh.read(n)
