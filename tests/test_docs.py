"""`make docs`: the reference covers every command and catalog field; mkdocs builds with no warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def test_mkdocs_builds_strict_and_offline(root: Path, tmp_path: Path) -> None:
    docs_gen.write(root / "docs")
    site = tmp_path / "site"
    mkdocs = Path(sys.executable).with_name("mkdocs")
    out = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(site)], cwd=root, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    api = (site / "reference" / "api.html").read_text(encoding="utf-8")
    assert "load_catalog" in api and "apply_schema" in api
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert 'src="http' not in text and '<link rel="stylesheet" href="http' not in text, page
