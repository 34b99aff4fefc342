"""A mkdocs hook: Sphinx roles left in docstrings (``:func:`name```) become links, not raw text.

The docstrings use numpydoc's Sphinx roles (``:func:``, ``:class:``, ``:mod:``, …), which mkdocstrings
renders as the role's name followed by code. This hook rewrites each into the code alone, linked to the
object's heading when the page has exactly one heading for that name (full dotted path, or a unique
last part), and shows the short name for ``~``-prefixed targets, as Sphinx does.
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const):<code>(~?)([\w.]+)(\(\))?</code>")
ANCHOR = re.compile(r'id="([A-Za-z_][\w.]*)"')


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Rewrite the page's Sphinx roles (mkdocs calls this for every page)."""
    ids = set(ANCHOR.findall(html))
    by_last: dict[str, list[str]] = {}
    for anchor in ids:
        by_last.setdefault(anchor.rsplit(".", 1)[-1], []).append(anchor)

    def link(match: re.Match[str]) -> str:
        tilde, target, call = match.group(1), match.group(2), match.group(3) or ""
        shown = (target.rsplit(".", 1)[-1] if tilde else target) + call
        if target in ids:
            anchor = target
        else:
            found = by_last.get(target.rsplit(".", 1)[-1], [])
            anchor = found[0] if len(found) == 1 else ""
        code = f"<code>{shown}</code>"
        return f'<a href="#{anchor}">{code}</a>' if anchor else code

    return ROLE.sub(link, html)
