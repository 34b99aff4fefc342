"""The catalog browser app, served by a real Voilà on 127.0.0.1 and driven in a real headless Chromium."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from support.waiting import wait_for

from lab.serve import kernel_pids, voila_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def voila_url(jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with voila_server(jupyter_env, tmp_path_factory.mktemp("voila") / "voila.log") as (url, _):
        yield url


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
    apps = sorted(p.name for p in (root / "notebooks" / "apps").glob("*.ipynb"))
    expect(items.first).to_contain_text(".ipynb", timeout=60_000)
    # the tree is drawn item by item: wait for the whole list before reading it (read too early, it was
    # sometimes a partial list: the test's one flake)
    expect(items).to_have_count(len(apps), timeout=60_000)
    page.wait_for_timeout(500)  # and nothing more is appended after it
    listed = sorted(text.strip() for text in items.all_inner_texts())
    assert listed == apps  # the tree lists the apps and nothing else (no .py, no data)


def test_visitors_cannot_execute_code(voila_url: str, tmp_path: Path) -> None:
    """An execute_request sent over the kernel websocket is dropped by Voilà: the code never runs."""
    import asyncio
    import json
    import re
    import urllib.request
    import uuid

    from tornado.websocket import websocket_connect

    with urllib.request.urlopen(f"{voila_url}/voila/render/catalog.ipynb", timeout=120) as page:
        html = page.read().decode("utf-8")
    kernel_id = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', html).group(1)
    marker = tmp_path / "pwned.txt"

    async def attack() -> list[str]:
        ws = await websocket_connect(f"{voila_url.replace('http', 'ws')}/api/kernels/{kernel_id}/channels")
        msg_id = uuid.uuid4().hex
        await ws.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "username": "visitor",
                        "session": uuid.uuid4().hex,
                        "date": "2026-01-01T00:00:00Z",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": f"open({str(marker)!r}, 'w').write('pwned')",
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                    },
                }
            )
        )
        replies = []
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                message = await asyncio.wait_for(ws.read_message(), timeout=5)
                if message is None:
                    break
                if isinstance(message, str) and msg_id in message:
                    replies.append(json.loads(message)["header"]["msg_type"])
        ws.close()
        return replies

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # playwright's sync API owns this thread's event loop
        replies = pool.submit(asyncio.run, attack()).result()
    assert not marker.exists()
    assert "execute_reply" not in replies and "execute_result" not in replies


def test_kernels_are_capped_and_closed_tabs_are_culled(
    jupyter_env: dict[str, str],
    tmp_path: Path,
    browser,  # type: ignore[no-untyped-def]
) -> None:
    import urllib.error
    import urllib.request

    options = {"preheat": False, "max_kernels": 2, "cull_interval": 2, "cull_idle_timeout": 20}
    with voila_server(jupyter_env, tmp_path / "voila.log", **options) as (url, proc):
        render = f"{url}/voila/render/catalog.ipynb"
        pages = [browser.new_page() for _ in range(2)]
        for page in pages:
            page.goto(render, timeout=120_000)
            expect(page.locator(".lab-table")).to_be_visible(timeout=120_000)
        assert len(kernel_pids(proc)) == 2
        with pytest.raises(urllib.error.HTTPError) as refused:  # a third visitor over the cap
            urllib.request.urlopen(render, timeout=120)
        assert refused.value.code == 503
        busy = refused.value.read().decode("utf-8")
        refused.value.close()
        assert "Vui lòng chờ" in busy and "Please wait" in busy  # the waiting page, reloading itself
        assert "https://" not in busy and "http://" not in busy  # nothing to load from outside
        for page in pages:
            page.close()
        assert wait_for(lambda: not kernel_pids(proc), 60), "kernels of closed tabs were not culled"


def test_a_preheated_kernel_that_waited_long_in_the_pool_is_not_culled_when_handed_out(
    jupyter_env: dict[str, str],
    tmp_path: Path,
    offline_page,  # type: ignore[no-untyped-def]
    root: Path,
) -> None:
    """The pooled kernel has been idle for longer than the cull timeout when a visitor arrives: it must
    live on (its idle clock is restarted while it waits), or the visitor's page never gets its widgets."""
    page, outside = offline_page
    n_apps = len(list((root / "notebooks" / "apps").glob("*.ipynb")))
    options = {"preheat": True, "cull_interval": 1, "cull_idle_timeout": 15}
    with voila_server(jupyter_env, tmp_path / "voila.log", **options) as (url, proc):
        assert wait_for(lambda: len(kernel_pids(proc)) >= n_apps, 120), "the pools were not filled"
        time.sleep(25)  # every pooled kernel is now idle for longer than the cull timeout
        page.goto(f"{url}/voila/render/catalog.ipynb", timeout=120_000)
        expect(page.locator(".lab-table")).to_be_visible(timeout=60_000)
        page.locator(".lab-catalog-browser input[type=text]").fill("dan so 2019")  # the kernel answers
        expect(page.locator(".lab-catalog-browser")).to_contain_text("2 tập dữ liệu", timeout=30_000)
        assert "Culling 'idle'" not in (tmp_path / "voila.log").read_text(errors="replace")
    assert outside == []


def test_visitors_see_bilingual_loading_feedback_while_the_kernel_starts(voila_url: str) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{voila_url}/voila/render/catalog.ipynb", timeout=120) as page:
        html = page.read().decode("utf-8")
    start = html.index('id="loading"')
    loading = html[start : html.index("</div>", start)]
    assert "Đang tải ứng dụng" in loading and "Loading the app" in loading
    assert "Running" not in loading  # Voilà's English-only message is replaced
    assert html.index('id="loading"') < html.index('id="rendered_cells"')  # shown before the app renders


def test_apps_serve_under_a_base_url_as_behind_a_reverse_proxy(
    jupyter_env: dict[str, str],
    tmp_path: Path,
    offline_page,  # type: ignore[no-untyped-def]
) -> None:
    """``lab apps serve --base-url /apps/``: every page, asset and websocket lives under the prefix."""
    import sys
    import urllib.error
    import urllib.request

    from lab.serve import free_port, running, voila_env

    page, outside = offline_page
    port = free_port()
    cmd = [sys.executable, "-m", "lab", "apps", "serve", "--port", str(port), "--base-url", "apps"]
    with running(cmd, port, env=voila_env(jupyter_env), log=tmp_path / "serve.log", timeout=120):
        base = f"http://127.0.0.1:{port}/apps"
        page.goto(f"{base}/voila/render/catalog.ipynb", timeout=120_000)
        expect(page.locator(".lab-table")).to_be_visible(timeout=120_000)
        page.locator(".lab-catalog-browser input[type=text]").fill("dan so 2019")  # over the websocket
        expect(page.locator(".lab-catalog-browser")).to_contain_text("2 tập dữ liệu", timeout=30_000)
        with pytest.raises(urllib.error.HTTPError) as outside_prefix:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/voila/render/catalog.ipynb", timeout=60)
        assert outside_prefix.value.code == 404
        outside_prefix.value.close()
    assert outside == []


def test_error_pages_are_bilingual_and_load_nothing_from_outside(voila_url: str, offline_page) -> None:  # type: ignore[no-untyped-def]
    page, outside = offline_page
    answer = page.goto(f"{voila_url}/voila/render/no-such-app.ipynb", timeout=60_000)
    assert answer is not None and answer.status == 404
    expect(page.locator(".lab-error-page")).to_contain_text("Không tìm thấy trang này.")
    expect(page.locator(".lab-error-page")).to_contain_text("This page does not exist.")
    page.goto(f"{voila_url}/", timeout=60_000)  # the apps listing, on the same offline base page
    expect(page.locator(".jp-DirListing-itemText").first).to_contain_text(".ipynb", timeout=60_000)
    assert outside == [], f"asked the internet for {outside}"


def test_a_visitor_whose_idle_kernel_was_culled_is_told_to_reload(
    jupyter_env: dict[str, str],
    tmp_path: Path,
    offline_page,  # type: ignore[no-untyped-def]
) -> None:
    page, outside = offline_page
    options = {"preheat": False, "cull_interval": 1, "cull_idle_timeout": 5}
    with voila_server(jupyter_env, tmp_path / "voila.log", **options) as (url, proc):
        page.goto(f"{url}/voila/render/catalog.ipynb", timeout=120_000)
        expect(page.locator(".lab-table")).to_be_visible(timeout=120_000)
        banner = page.locator("#lab-session-ended")
        expect(banner).to_be_hidden()
        assert wait_for(lambda: not kernel_pids(proc), 60), "the idle kernel was not culled"
        expect(banner).to_be_visible(timeout=45_000)  # the page asks every 20 s
        expect(banner).to_contain_text("Tải lại trang để tiếp tục")
        expect(banner).to_contain_text("Reload the page to continue")
        page.locator("#lab-session-ended button").click()  # a reload starts a new kernel
        expect(page.locator(".lab-table")).to_be_visible(timeout=120_000)
        expect(page.locator("#lab-session-ended")).to_be_hidden()
    assert outside == []
