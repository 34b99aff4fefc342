"""The catalog browser app, served by a real Voilà on 127.0.0.1 and driven in a real headless Chromium."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lab.serve import voila_command, voila_env

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila_url(jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            voila_command(port), env=voila_env(jupyter_env), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    pytest.fail(f"voila exited: {log.read_text(errors='replace')[-2000:]}")
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.3)
            else:
                pytest.fail("voila did not listen within 90 s")
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def offline_page(page: Page) -> Iterator[tuple[Page, list[str]]]:
    """A page that can reach nothing but 127.0.0.1; every other request is refused and recorded."""
    outside: list[str] = []

    def guard(route):  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    yield page, outside


def test_catalog_app_renders_searches_and_switches_language(voila_url: str, offline_page) -> None:  # type: ignore[no-untyped-def]
    page, outside = offline_page
    page.goto(f"{voila_url}/voila/render/catalog.ipynb", timeout=120_000)
    table = page.locator(".lab-table")
    expect(table).to_contain_text("Ranh giới 94 đơn vị hành chính cấp xã", timeout=120_000)
    search = page.locator(".lab-catalog-browser input[type=text]")
    search.fill("dan so 2019")
    expect(page.locator(".lab-catalog-browser")).to_contain_text("2 tập dữ liệu", timeout=30_000)
    expect(table).to_contain_text("Dân số theo phường, xã năm 2019")
    page.get_by_text("English", exact=True).click()
    expect(search).to_have_attribute("placeholder", "Search datasets…", timeout=30_000)
    search.fill("")
    expect(table).to_contain_text("Boundaries of Đà Nẵng's 94 commune-level units", timeout=30_000)
    assert outside == [], f"the app asked the internet for {outside}"


def test_sources_are_stripped_and_only_apps_are_listed(voila_url: str, offline_page, root: Path) -> None:  # type: ignore[no-untyped-def]
    page, _ = offline_page
    page.goto(f"{voila_url}/voila/render/catalog.ipynb", timeout=120_000)
    expect(page.locator(".lab-table")).to_be_visible(timeout=120_000)
    assert "CatalogBrowser(lab.load_catalog())" not in page.content()
    page.goto(f"{voila_url}/", timeout=60_000)
    items = page.locator(".jp-DirListing-itemText")
    expect(items.first).to_contain_text(".ipynb", timeout=60_000)
    listed = [text.strip() for text in items.all_inner_texts()]
    apps = sorted(p.name for p in (root / "notebooks" / "apps").glob("*.ipynb"))
    assert listed == apps  # the tree lists the apps and nothing else (no .py, no data)
