"""A mkdocs hook: search that works when the site is opened from files (``file://``), offline.

mkdocs' search runs lunr in a Web Worker that loads ``search_index.json`` over HTTP; a browser refuses
both from ``file://``. After the build this hook writes the same index as a script
(``search/offline_index.js``: documents, titles and text) and adds to every page a small search
(``search/offline_search.js``, in this folder) that answers the search box from it when the page is a
file. Served over HTTP, mkdocs' own search is used as before.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Add the offline index and search scripts at the end of each page's body."""
    depth = page.url.count("/") if page.url else 0
    base = "../" * depth
    tags = (
        f'<script src="{base}search/offline_index.js"></script>'
        f'<script src="{base}search/offline_search.js"></script>'
    )
    return output.replace("</body>", tags + "</body>", 1)


def on_post_build(config: Any) -> None:
    """Write ``search/offline_index.js`` from the built index, and copy the search script beside it."""
    site = Path(config["site_dir"])
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs = [
        {"location": d["location"], "title": d["title"], "text": d["text"]}
        for d in index.get("docs", [])
    ]
    script = "window.LAB_SEARCH_DOCS = " + json.dumps(docs, ensure_ascii=False) + ";\n"
    (site / "search" / "offline_index.js").write_text(script, encoding="utf-8")
    shutil.copyfile(HERE / "offline_search.js", site / "search" / "offline_search.js")
