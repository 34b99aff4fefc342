"""App safety without a browser: forged widget values are ignored, failures show a plain message."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import load_catalog
from lab.apps.base import allowed, bounded_text
from lab.apps.catalog_browser import CatalogBrowser


def test_checks() -> None:
    assert allowed("en", ("vi", "en"), "vi") == "en"
    assert allowed("__import__('os')", ("vi", "en"), "vi") == "vi"
    assert bounded_text("a" * 500, 10) == "a" * 10
    assert bounded_text(["not", "text"]) == ""
    assert bounded_text("x\x00y\nz") == "xyz"


def test_forged_values_do_not_break_the_app(root: Path) -> None:
    app = CatalogBrowser(load_catalog(root / "datasets.yaml"))
    app.kind.set_state({"index": None})  # a visitor may send anything over the widget channel
    app.query.value = "dân số" * 1000
    app.render()
    assert "tập dữ liệu" in app.count.value and app.message.value == ""


def test_a_failing_callback_shows_a_plain_message(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = CatalogBrowser(load_catalog(root / "datasets.yaml"))

    def boom(*args: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr("lab.apps.catalog_browser.filter_table", boom)
    app.language.value = "en"
    assert "Could not show the results" in app.message.value
    assert "secret" not in app.message.value and "Traceback" not in app.message.value
