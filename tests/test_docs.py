"""`make docs`: the reference covers every command and catalog field; mkdocs builds with no warning."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lab import docs_gen
from lab.catalog import catalog_schema
from lab.cli import build_parser

pytestmark = pytest.mark.slow


def test_cli_page_lists_every_command() -> None:
    page = docs_gen.cli_markdown()
    for name, _, _ in docs_gen._commands(build_parser(), "lab"):
        assert f"## `{name}`" in page, name
    assert "`lab catalog validate`" in page and "`lab reports run`" in page


def test_catalog_page_lists_every_field() -> None:
    page = docs_gen.catalog_markdown()
    schema = catalog_schema()
    for spec in [schema, *schema["$defs"].values()]:
        for field in spec.get("properties", {}):
            assert f"| `{field}` |" in page, field


@pytest.fixture(scope="module")
def site(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The docs built once, as `make docs` does (generated reference pages, then a strict mkdocs build)."""
    docs_gen.write(root / "docs")
    site = tmp_path_factory.mktemp("docs") / "site"
    mkdocs = Path(sys.executable).with_name("mkdocs")
    out = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(site)], cwd=root, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return site


def test_mkdocs_builds_strict_and_offline(site: Path) -> None:
    api = (site / "reference" / "api.html").read_text(encoding="utf-8")
    assert "load_catalog" in api and "apply_schema" in api
    # Sphinx roles in docstrings are rendered as links or code, never as raw ':func:' text (docs/hooks)
    assert not re.search(r":(func|class|meth|mod|attr|data|exc|obj):<code>", api)
    assert '<a href="#lab.catalog.load_catalog"><code>' in api
    assert not (site / "hooks").exists()
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert 'src="http' not in text and '<link rel="stylesheet" href="http' not in text, page


def test_search_works_from_files_offline(site: Path, page: Page) -> None:
    """Issue 20: the site opened from ``file://`` answers its search box (mkdocs' own search needs HTTP);
    Vietnamese words are found with or without their diacritics."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((site / "guides" / "apps.html").as_uri())
    page.get_by_role("link", name="Search").first.click()
    box = page.locator("#mkdocs-search-query")
    expect(box).to_be_visible()
    box.fill("dask cluster")
    hit = page.locator("#mkdocs-search-results a", has_text="Dask cluster")
    expect(hit.first).to_be_visible()
    hit.first.click()
    expect(page).to_have_url((site / "guides" / "cluster.html").as_uri())
    page.go_back()
    page.get_by_role("link", name="Search").first.click()
    for query in ("Đà Nẵng", "da nang"):
        page.locator("#mkdocs-search-query").fill(query)
        expect(page.locator("#mkdocs-search-results a").first).to_be_visible()
    page.locator("#mkdocs-search-query").fill("zzzqqq-nothing")
    expect(page.locator("#mkdocs-search-results")).to_contain_text("No results")
    assert all(u.startswith(("file:", "data:")) for u in requests), [u for u in requests if "file:" not in u]
