"""Shared fixtures: the project root, the real shared data (read in place), an isolated cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def root() -> Path:
    """The project root."""
    return ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, the real public data (CI has it; read-only, read in place)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside the repository")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty cache and usage store; no test touches data/cache or data/store of
    the working tree."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("LAB_CACHE", str(cache))
    # and its own usage store: a report or app that fills the default store (data/store) from a test's demo
    # portal would leave it to the next test, built from another demo (and refused there)
    monkeypatch.setenv("LAB_USAGE_STORE", str(tmp_path_factory.mktemp("usage-store") / "store"))
    monkeypatch.delenv("LAB_MIRROR", raising=False)
    monkeypatch.delenv("LAB_CATALOG", raising=False)
    monkeypatch.setenv("LAB_OFFLINE", os.environ.get("LAB_OFFLINE", "1"))
    return cache


# ----------------------------------------------------------------------------------- browser tests
CHROMIUM = "/usr/bin/chromium"  # Debian's package: browsers cannot be downloaded here


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright launches Debian's chromium, headless, with the network chatter switched off."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


LOCAL_URLS = ("http://127.0.0.1", "ws://127.0.0.1", "file:", "data:", "blob:", "about:")
"""What a page may load in the offline browser tests: this machine's servers and files, and inline data."""


@pytest.fixture
def offline_page(page):  # type: ignore[no-untyped-def]
    """A Chromium page (and its frames) that can reach nothing but :data:`LOCAL_URLS`: every other
    request is refused and recorded. Yields ``(page, outside)``; tests assert ``outside == []``."""
    outside: list[str] = []

    def guard(route):  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith(LOCAL_URLS):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.context.route("**/*", guard)  # the context: maps in iframes too
    page.set_viewport_size({"width": 1280, "height": 900})
    yield page, outside


@pytest.fixture(scope="session")
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for kernels and servers: Jupyter writes to $HOME, so give it a throw-away one."""
    home = tmp_path_factory.mktemp("jupyter-home")
    return {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }


@pytest.fixture(scope="session")
def demo_portal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny demo portal (synthetic), generated once per test session; point LAB_DEMO at it."""
    from lab import demo

    out = tmp_path_factory.mktemp("demo") / "portal"
    demo.generate(out, scale=0.002, seed=7)
    return out


@pytest.fixture
def kernel_env(monkeypatch: pytest.MonkeyPatch, demo_portal: Path, jupyter_env: dict[str, str]) -> None:
    """Run kernels (papermill, Voilà) with a throw-away Jupyter home over the session's demo portal."""
    for key in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTER_PLATFORM_DIRS"):
        monkeypatch.setenv(key, jupyter_env[key])
    monkeypatch.setenv("LAB_DEMO", str(demo_portal))


@pytest.fixture
def app_store(demo_portal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The session's demo portal and a usage store of this test, as the apps read them (``LAB_DEMO``,
    ``LAB_USAGE_STORE``); the store is filled on first need."""
    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    store = tmp_path / "store"
    monkeypatch.setenv("LAB_USAGE_STORE", str(store))
    return store
