"""Tests of :mod:`lab.fetch`: sources, cache, HTTP failure modes, CKAN, mirror, offline.

Every HTTP test talks to a local server on 127.0.0.1 (``tests/httpserver.py``); an autouse fixture
refuses any other host, points ``$LAB_CACHE`` and ``$LAB_DEMO`` at temporary folders and replaces the
back-off sleep with a recorder, so the module runs in a few seconds without the internet.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from support.httpserver import LocalServer, Reply, Request
from support.network import loopback_network

from lab import cache as lab_cache
from lab import fetch as lab_fetch
from lab import http as lab_http
from lab import settings
from lab.catalog import Dataset, Distribution, load_catalog
from lab.errors import ChecksumError, FetchError, HtmlInsteadOfDataError, LabError, OfflineError

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared" / "data"  # ../shared/data, read in place (never copied)
CKAN_DIR = SHARED / "ckan_demo"
needs_shared = pytest.mark.skipif(not CKAN_DIR.is_dir(), reason="the shared data folder is not mounted")

CSV = "id,ten,gia_tri\n1,Hải Châu,10\n2,Sơn Trà,20\n".encode()
SHA = hashlib.sha256(CSV).hexdigest()
LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Đăng nhập - Cổng dữ liệu</title></head>"
    "<body><form>...</form></body></html>\n"
).encode()
ETAG = '"v1-abc"'
LAST_MODIFIED = "Wed, 21 Oct 2025 07:28:00 GMT"


# -------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def lab_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Temporary cache and demo folders, no mirror, online, tiny timeouts, no real sleeping."""
    monkeypatch.setenv("LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LAB_DEMO", str(tmp_path / "demo"))
    monkeypatch.delenv("LAB_MIRROR", raising=False)
    sleeps = loopback_network(monkeypatch)
    return SimpleNamespace(cache=tmp_path / "cache", demo=tmp_path / "demo", tmp=tmp_path, sleeps=sleeps)


@pytest.fixture
def server() -> Any:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def sources(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """A function giving the ``source`` of every file fetched so far (from the log records)."""
    caplog.set_level(logging.INFO, logger="lab.fetch")
    return lambda: [r.lab_source for r in caplog.records if hasattr(r, "lab_source")]


# --------------------------------------------------------------------------------------------- helpers
def make_dataset(*dists: Distribution, ds_id: str = "fetch-test") -> Dataset:
    return Dataset(
        id=ds_id,
        title={"vi": "Dữ liệu thử", "en": "Test data"},
        publisher="lab tests",
        theme=("regions",),
        license="MIT",
        frequency="never",
        access_rights="public",
        distributions=tuple(dists),
    )


def get(
    dist: Distribution, *, refresh: bool = False, mirror: Path | None = None, root: Path | None = None
) -> Path:
    return lab_fetch.fetch(
        make_dataset(dist), dist, catalog_root=root or PROJECT, mirror=mirror, refresh=refresh
    )


def csv_reply(body: bytes = CSV, etag: str = ETAG) -> Reply:
    return Reply(200, body, {"Content-Type": "text/csv", "ETag": etag, "Last-Modified": LAST_MODIFIED})


def cache_files(cache: Path) -> dict[str, bytes]:
    """Every file under the cache (hidden temporary files included) but the verification memo."""
    out = {}
    for folder, _dirs, files in os.walk(cache):
        for name in files:
            path = Path(folder) / name
            if name != lab_cache.MEMO_NAME:
                out[str(path.relative_to(cache))] = path.read_bytes()
    return out


def no_partial_files(root: Path) -> bool:
    return not [name for _f, _d, files in os.walk(root) for name in files if name.endswith(".part")]


# ----------------------------------------------------------------------------------------- environment
def test_folders_come_from_the_environment(lab_env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.cache_dir() == lab_env.cache
    assert settings.demo_dir() == lab_env.demo
    assert settings.mirror_dir() is None
    monkeypatch.setenv("LAB_MIRROR", str(lab_env.tmp))
    assert settings.mirror_dir() == lab_env.tmp
    monkeypatch.delenv("LAB_CACHE")
    monkeypatch.delenv("LAB_DEMO")
    assert settings.cache_dir() == PROJECT / "data" / "cache"
    assert settings.demo_dir() == PROJECT / "data" / "demo"
    assert not settings.offline()
    for value, expected in (("1", True), ("true", True), ("0", False), ("", False)):
        monkeypatch.setenv("LAB_OFFLINE", value)
        assert settings.offline() is expected


def test_redact_url_strips_credentials() -> None:
    assert (
        lab_http.redact_url("https://bob:s3cret@example.org:8443/a.csv") == "https://example.org:8443/a.csv"
    )
    shown = lab_http.redact_url("https://example.org/a.csv?api_key=XYZ&page=2")
    assert "XYZ" not in shown and "page=2" in shown


# ------------------------------------------------------------------------------------- download, cache
def test_download_is_cached_by_url_and_hash(
    server: LocalServer, lab_env: SimpleNamespace, sources: Callable[[], list[str]]
) -> None:
    server.route("/files/gia%20tri.csv", csv_reply())
    url = server.url("/files/gia%20tri.csv")
    dist = Distribution(format="CSV", download_url=url, sha256=SHA, byte_size=len(CSV))

    path = get(dist)
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    assert path == lab_env.cache / key / "gia_tri.csv"
    assert path.read_bytes() == CSV
    meta = json.loads(path.with_name(path.name + ".meta.json").read_text(encoding="utf-8"))
    assert meta["url"] == url and meta["etag"] == ETAG and meta["last_modified"] == LAST_MODIFIED
    assert meta["sha256"] == SHA and meta["byte_size"] == len(CSV)
    assert meta["fetched_at"].endswith("Z")
    assert server.last("/files/gia%20tri.csv").headers["User-Agent"].startswith("lab/")

    assert get(dist) == path  # the second time: from the cache, no request
    assert server.count("/files/gia%20tri.csv") == 1
    assert sources() == ["download", "cache"]
    assert no_partial_files(lab_env.cache)


def test_refresh_sends_a_conditional_get_and_keeps_the_cache_on_304(
    server: LocalServer, sources: Callable[[], list[str]]
) -> None:
    version = {"etag": ETAG, "body": CSV}

    def answer(req: Request) -> Reply:
        if req.headers.get("If-None-Match") == version["etag"]:
            return Reply(304)
        return csv_reply(version["body"], version["etag"])

    server.route("/data.csv", answer)
    dist = Distribution(format="CSV", download_url=server.url("/data.csv"))
    path = get(dist)
    assert get(dist, refresh=True) == path
    assert server.count("/data.csv") == 2
    assert sources() == ["download", "cache"]
    sent = server.last("/data.csv").headers
    assert sent["If-None-Match"] == ETAG and sent["If-Modified-Since"] == LAST_MODIFIED
    assert path.read_bytes() == CSV
    assert "checked_at" in json.loads(path.with_name("data.csv.meta.json").read_text(encoding="utf-8"))

    version.update(
        etag='"v2"', body=CSV + "3,Liên Chiểu,30\n".encode()
    )  # the source changes: refresh gets it
    assert get(dist, refresh=True).read_bytes() == version["body"]
    assert get(dist).read_bytes() == version["body"]
    assert server.count("/data.csv") == 3


def test_same_url_twice_hits_the_cache_and_a_corrupted_copy_is_not_trusted(
    server: LocalServer, lab_env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("/c.csv", csv_reply())
    dist = Distribution(format="CSV", download_url=server.url("/c.csv"))
    path = get(dist)
    get(dist)
    assert server.count("/c.csv") == 1

    def corrupt() -> None:
        stat = path.stat()
        path.write_bytes(CSV.replace(b"10", b"99"))  # same size, other bytes
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    corrupt()
    assert get(dist).read_bytes() == CSV  # fetched again
    assert server.count("/c.csv") == 2

    corrupt()
    monkeypatch.setenv("LAB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="not trusted"):
        get(dist)
    assert server.count("/c.csv") == 2


def test_data_without_its_meta_is_not_trusted(server: LocalServer) -> None:
    server.route("/m.csv", csv_reply())
    dist = Distribution(format="CSV", download_url=server.url("/m.csv"))
    path = get(dist)
    path.with_name("m.csv.meta.json").unlink()  # as if killed between the data and the meta
    assert get(dist) == path
    assert server.count("/m.csv") == 2


def test_fetch_dataset_fetches_every_distribution(server: LocalServer) -> None:
    server.route("/jan.csv", csv_reply())
    server.route("/feb.csv", csv_reply(CSV + b"3,x,1\n"))
    dists = [Distribution(format="CSV", download_url=server.url(p)) for p in ("/jan.csv", "/feb.csv")]
    paths = lab_fetch.fetch_dataset(make_dataset(*dists), catalog_root=PROJECT)
    assert [p.name for p in paths] == ["jan.csv", "feb.csv"]
    assert paths[1].read_bytes().endswith(b"3,x,1\n")


# -------------------------------------------------------------------------------------- HTTP failures
def test_retries_5xx_with_exponential_backoff(server: LocalServer, lab_env: SimpleNamespace) -> None:
    def flaky(_req: Request) -> Reply:
        return Reply(500, b"oops") if server.count("/flaky.csv") <= 2 else csv_reply()

    server.route("/flaky.csv", flaky)
    path = get(Distribution(format="CSV", download_url=server.url("/flaky.csv")))
    assert path.read_bytes() == CSV
    assert server.count("/flaky.csv") == 3
    assert lab_env.sleeps == [0.01, 0.02]


def test_retry_after_is_honoured_up_to_a_cap(server: LocalServer, lab_env: SimpleNamespace) -> None:
    def busy(_req: Request) -> Reply:
        return Reply(429, headers={"Retry-After": "120"}) if server.count("/busy.csv") == 1 else csv_reply()

    server.route("/busy.csv", busy)
    assert get(Distribution(format="CSV", download_url=server.url("/busy.csv"))).read_bytes() == CSV
    assert lab_env.sleeps == [lab_http.RETRY_AFTER_CAP]


def test_persistent_5xx_gives_up_after_the_tries(server: LocalServer, lab_env: SimpleNamespace) -> None:
    server.route("/down.csv", Reply(503, b"maintenance"))
    with pytest.raises(FetchError, match=r"HTTP 503 Service Unavailable from .*/down\.csv.*3 tries"):
        get(Distribution(format="CSV", download_url=server.url("/down.csv")))
    assert server.count("/down.csv") == lab_http.TRIES == 3
    assert cache_files(lab_env.cache) == {}


def test_404_is_a_fetch_error_without_retries(server: LocalServer, lab_env: SimpleNamespace) -> None:
    url = server.url("/missing.csv")
    with pytest.raises(FetchError) as info:
        get(Distribution(format="CSV", download_url=url))
    assert str(info.value) == f"fetch-test: missing.csv: HTTP 404 Not Found from {url}"
    assert server.count("/missing.csv") == 1
    assert cache_files(lab_env.cache) == {}


def test_credentials_never_appear_in_messages_or_logs(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lab")
    server.route("/flaky-auth.csv", Reply(500))
    url = server.url("/flaky-auth.csv", userinfo="bob:s3cret")
    with pytest.raises(FetchError) as info:
        get(Distribution(format="CSV", download_url=url))
    assert "s3cret" not in str(info.value) and "bob" not in str(info.value)
    assert "flaky-auth.csv" in caplog.text and "s3cret" not in caplog.text
    assert server.last("/flaky-auth.csv").headers["Authorization"].startswith("Basic ")  # still sent


def test_html_login_page_is_refused_and_nothing_is_cached(
    server: LocalServer, lab_env: SimpleNamespace
) -> None:
    def flip(_req: Request) -> Reply:
        if server.count("/flip.csv") == 1:
            return csv_reply()
        return Reply(200, LOGIN_PAGE, {"Content-Type": "text/html; charset=utf-8"})

    server.route("/flip.csv", flip)
    server.route("/login.csv", Reply(200, LOGIN_PAGE, {"Content-Type": "text/html"}))
    good = Distribution(format="CSV", download_url=server.url("/flip.csv"))
    get(good)
    before = cache_files(lab_env.cache)

    with pytest.raises(HtmlInsteadOfDataError, match="Đăng nhập - Cổng dữ liệu"):
        get(good, refresh=True)  # the refresh answers a login page: the good copy stays
    with pytest.raises(HtmlInsteadOfDataError, match="instead of CSV data"):
        get(Distribution(format="CSV", download_url=server.url("/login.csv")))
    assert cache_files(lab_env.cache) == before
    assert get(good).read_bytes() == CSV
    assert server.count("/flip.csv") == 2

    page = get(Distribution(format="HTML", download_url=server.url("/login.csv")))  # HTML wanted: fine
    assert page.read_bytes() == LOGIN_PAGE


def test_truncated_body_is_retried_and_never_cached(server: LocalServer, lab_env: SimpleNamespace) -> None:
    def flip(_req: Request) -> Reply:
        if server.count("/t.csv") == 1:
            return csv_reply()
        return Reply(200, CSV[:20], {"Content-Type": "text/csv"}, content_length=len(CSV) + 1000)

    server.route("/t.csv", flip)
    dist = Distribution(format="CSV", download_url=server.url("/t.csv"))
    get(dist)
    before = cache_files(lab_env.cache)

    with pytest.raises(FetchError, match=r"dropped.*3 tries"):
        get(dist, refresh=True)
    assert server.count("/t.csv") == 1 + lab_http.TRIES
    assert cache_files(lab_env.cache) == before
    assert no_partial_files(lab_env.cache)
    assert get(dist).read_bytes() == CSV  # the good copy is still trusted
    assert server.count("/t.csv") == 1 + lab_http.TRIES

    server.route("/cut.csv", Reply(200, CSV[:20], content_length=len(CSV)))
    with pytest.raises(FetchError, match="dropped"):
        get(Distribution(format="CSV", download_url=server.url("/cut.csv")))
    assert cache_files(lab_env.cache) == before and no_partial_files(lab_env.cache)


def test_interrupted_download_leaves_nothing(
    server: LocalServer, lab_env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    class CtrlC:
        def __enter__(self) -> CtrlC:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, _n: int) -> None:
            raise KeyboardInterrupt

    server.route("/big.csv", csv_reply())
    dist = Distribution(format="CSV", download_url=server.url("/big.csv"))
    with monkeypatch.context() as patch:
        patch.setattr(lab_fetch, "progress_bar", lambda total, desc: CtrlC())
        with pytest.raises(KeyboardInterrupt):
            get(dist)
    assert cache_files(lab_env.cache) == {} and no_partial_files(lab_env.cache)
    assert get(dist).read_bytes() == CSV


def test_stale_partial_files_of_a_killed_download_are_swept(server: LocalServer) -> None:
    server.route("/p.csv", csv_reply())
    url = server.url("/p.csv")
    folder = settings.cache_dir() / hashlib.sha256(url.encode()).hexdigest()[:16]
    folder.mkdir(parents=True)
    old, fresh = folder / ".p.csv.abc.part", folder / ".p.csv.def.part"
    old.write_bytes(CSV[:10])
    fresh.write_bytes(CSV[:10])  # maybe another process downloading right now: kept
    os.utime(old, (1_000_000_000, 1_000_000_000))
    path = get(Distribution(format="CSV", download_url=url))
    assert path.read_bytes() == CSV
    assert not old.exists() and fresh.exists()


def test_slow_server_times_out_after_the_retries(
    server: LocalServer, lab_env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lab_http, "READ_TIMEOUT", 0.15)
    server.route("/slow.csv", Reply(200, CSV, delay=3.0))
    with pytest.raises(FetchError, match=r"no answer from .*/slow\.csv within 0\.15 s.*3 tries"):
        get(Distribution(format="CSV", download_url=server.url("/slow.csv")))
    assert server.count("/slow.csv") == 3
    assert cache_files(lab_env.cache) == {}


def test_connection_refused_is_a_fetch_error(lab_env: SimpleNamespace) -> None:
    with LocalServer() as srv:
        url = srv.url("/gone.csv")  # the port is closed once the server stops
    with pytest.raises(FetchError, match="could not connect"):
        get(Distribution(format="CSV", download_url=url))
    assert len(lab_env.sleeps) == lab_http.TRIES - 1


def test_redirect_loop_is_a_fetch_error(server: LocalServer) -> None:
    server.route("/loop.csv", Reply(301, headers={"Location": "/loop.csv"}))
    with pytest.raises(FetchError, match=r"redirect loop: more than 10 redirects from .*/loop\.csv"):
        get(Distribution(format="CSV", download_url=server.url("/loop.csv")))
    assert 2 <= server.count("/loop.csv") <= lab_http.MAX_REDIRECTS + 1


def test_wrong_sha256_or_size_is_refused_and_nothing_is_cached(
    server: LocalServer, lab_env: SimpleNamespace
) -> None:
    server.route("/s.csv", csv_reply())
    wrong = "0" * 64
    dist = Distribution(format="CSV", download_url=server.url("/s.csv"), sha256=wrong)
    with pytest.raises(ChecksumError, match=f"expected {wrong[:12]}, got {SHA[:12]}"):
        get(dist)
    with pytest.raises(ChecksumError, match=f"sent {len(CSV)} bytes where the catalog declares 5"):
        get(replace(dist, sha256=SHA, byte_size=5))
    assert cache_files(lab_env.cache) == {} and no_partial_files(lab_env.cache)
    assert get(replace(dist, sha256=SHA, byte_size=len(CSV))).read_bytes() == CSV


def test_a_cache_entry_that_no_longer_matches_the_catalog_is_fetched_again(server: LocalServer) -> None:
    server.route("/v.csv", csv_reply())
    dist = Distribution(format="CSV", download_url=server.url("/v.csv"))
    get(dist)
    with pytest.raises(ChecksumError):  # the catalog now declares another version
        get(replace(dist, sha256="f" * 64))
    assert server.count("/v.csv") == 2


# ------------------------------------------------------------------------------------------------ CKAN
def _ckan_packages() -> dict[str, dict[str, Any]]:
    """The real package_show answers of ckan_demo, by package id and by name."""
    out = {}
    for path in sorted(CKAN_DIR.glob("*-*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out[doc["result"]["id"]] = out[doc["result"]["name"]] = doc
    return out


def _serve_ckan(server: LocalServer, prefix: str, packages: dict[str, dict[str, Any]]) -> str:
    """Serve ``packages`` as ``<prefix>/api/3/action/package_show?id=``; return the API base."""

    def package_show(req: Request) -> Reply:
        doc = packages.get(req.query.get("id", ""))
        if doc is None:
            error = {"success": False, "error": {"message": "Not found", "__type": "Not Found Error"}}
            return Reply(404, json.dumps(error).encode(), {"Content-Type": "application/json"})
        return Reply(200, json.dumps(doc).encode(), {"Content-Type": "application/json;charset=utf-8"})

    server.route(f"{prefix}/api/3/action/package_show", package_show)
    return server.url(f"{prefix}/api/3/action")


@needs_shared
def test_ckan_resource_url_reads_the_real_package_show_answers(server: LocalServer) -> None:
    packages = _ckan_packages()
    api = _serve_ckan(server, "", packages)
    files = sorted(CKAN_DIR.glob("*-*.json"))
    assert len(files) == 3
    for path in files:
        doc = json.loads(path.read_bytes())  # the file as recorded, not the served copy
        result = doc["result"]
        real = result["resources"][0]["url"]
        assert real.startswith("https://demo.ckan.org/dataset/")
        assert lab_fetch.ckan_resource_url(api, result["id"]) == real
        assert lab_fetch.ckan_resource_url(api, result["name"]) == real
        assert lab_fetch.ckan_resource_url(api, result["name"], 0) == real
        assert lab_fetch.ckan_resource_url(api, result["id"], result["resources"][0]["id"]) == real
    assert server.count("/api/3/action/package_show") == 12
    assert server.last("/api/3/action/package_show").headers["User-Agent"].startswith("lab/")


@needs_shared
def test_ckan_errors_name_the_package(server: LocalServer) -> None:
    packages = _ckan_packages()
    api = _serve_ckan(server, "", packages)
    name = "100-validated-species-of-plants"
    with pytest.raises(FetchError, match=r"package 'no-such-package' failed: HTTP 404 .*Not found"):
        lab_fetch.ckan_resource_url(api, "no-such-package")
    with pytest.raises(FetchError, match=f"package '{name}': no resource 'nope' among its 1"):
        lab_fetch.ckan_resource_url(api, name, "nope")
    with pytest.raises(FetchError, match=f"package '{name}': no resource 3"):
        lab_fetch.ckan_resource_url(api, name, 3)

    denied = {"success": False, "error": {"message": "Access denied", "__type": "Authorization Error"}}
    server.route("/denied/api/3/action/package_show", Reply(200, json.dumps(denied).encode()))
    with pytest.raises(FetchError, match=f"package '{name}' answered success: false .*Access denied"):
        lab_fetch.ckan_resource_url(server.url("/denied/api/3/action"), name)

    server.route("/portal/api/3/action/package_show", Reply(200, LOGIN_PAGE, {"Content-Type": "text/html"}))
    with pytest.raises(FetchError, match=f"package '{name}' answered an HTML page .*Đăng nhập"):
        lab_fetch.ckan_resource_url(server.url("/portal/api/3/action"), name)


@needs_shared
def test_fetch_downloads_through_the_ckan_path(
    server: LocalServer,
    lab_env: SimpleNamespace,
    sources: Callable[[], list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    packages = _ckan_packages()
    local = {}
    for key, doc in packages.items():  # a copy, rewritten in memory, whose resource URL is this server's
        doc = copy.deepcopy(doc)
        name = doc["result"]["resources"][0]["url"].rsplit("/", 1)[-1]
        doc["result"]["resources"][0]["url"] = server.url(f"/ckan-files/{name}")
        local[key] = doc
    api = _serve_ckan(server, "/local", local)
    server.route("/ckan-files/20161231_rase.csv", csv_reply())

    package = "2016-regione-asia-est-oceania-classi-di-eta"
    dist = Distribution(format="CSV", ckan={"api": api, "package": package}, sha256=SHA)
    assert dist.label == f"ckan:{package}"
    path = get(dist)
    assert path.name == "20161231_rase.csv" and path.read_bytes() == CSV
    assert path.is_relative_to(lab_env.cache)
    assert server.count("/local/api/3/action/package_show") == 1
    assert server.count("/ckan-files/20161231_rase.csv") == 1

    assert get(dist) == path  # cached: neither the API nor the file is asked again
    monkeypatch.setenv("LAB_OFFLINE", "1")
    assert get(dist) == path
    assert server.count("/local/api/3/action/package_show") == 1
    assert server.count("/ckan-files/20161231_rase.csv") == 1
    assert sources() == ["ckan", "cache", "cache"]

    monkeypatch.delenv("LAB_OFFLINE")
    with pytest.raises(
        FetchError, match=r"^fetch-test: ckan:nope: CKAN package_show for package 'nope' fail"
    ):
        get(Distribution(format="CSV", ckan={"api": api, "package": "nope"}))


# ---------------------------------------------------------------------------------------------- mirror
@pytest.fixture
def iqair() -> tuple[Any, Dataset, Distribution]:
    if not (SHARED / "iqair_danang").is_dir():
        pytest.skip("the shared data folder is not mounted")
    cat = load_catalog(PROJECT / "datasets.yaml")
    dataset = cat.get("air-quality-iqair")
    return cat, dataset, dataset.distributions[0]


def test_mirror_resolves_a_real_entry_and_checks_its_sha256(
    iqair: tuple[Any, Dataset, Distribution],
    lab_env: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch,
    sources: Callable[[], list[str]],
) -> None:
    cat, dataset, dist = iqair
    assert dist.mirror and dist.sha256 and dist.download_url
    monkeypatch.setenv("LAB_OFFLINE", "1")  # the mirror answers before any download is tried
    hashed: list[Path] = []
    real_hash = lab_cache.hash_file
    monkeypatch.setattr(lab_cache, "hash_file", lambda p: hashed.append(p) or real_hash(p))

    path = lab_fetch.fetch(dataset, dist, catalog_root=cat.root, mirror=SHARED)
    assert path == SHARED / dist.mirror
    assert lab_fetch.fetch(dataset, dist, catalog_root=cat.root, mirror=SHARED) == path
    assert len(hashed) == 1  # the second load trusts the memo: same path, size and mtime
    memo = json.loads((lab_env.cache / lab_cache.MEMO_NAME).read_text(encoding="utf-8"))["entries"]
    assert memo[str(path.resolve())]["sha256"] == dist.sha256
    assert sources() == ["mirror", "mirror"]
    assert cache_files(lab_env.cache) == {}  # read in place, never copied


def test_lab_mirror_env_and_the_mirror_argument_wins(
    iqair: tuple[Any, Dataset, Distribution], lab_env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat, dataset, dist = iqair
    monkeypatch.setenv("LAB_OFFLINE", "1")
    monkeypatch.setenv("LAB_MIRROR", str(SHARED))
    assert lab_fetch.fetch(dataset, dist, catalog_root=cat.root) == SHARED / dist.mirror

    other = lab_env.tmp / "other-mirror"
    (other / dist.mirror).parent.mkdir(parents=True)
    (other / dist.mirror).write_bytes(b"time,aqi\n")  # another version of the file
    monkeypatch.setenv("LAB_MIRROR", str(other))
    assert lab_fetch.fetch(dataset, dist, catalog_root=cat.root, mirror=SHARED) == SHARED / dist.mirror
    with pytest.raises(ChecksumError, match=r"mirror copy .* has 9 bytes where the catalog declares 74,238"):
        lab_fetch.fetch(dataset, dist, catalog_root=cat.root)
    with pytest.raises(ChecksumError, match=f"expected {dist.sha256[:12]}, got "):
        lab_fetch.fetch(dataset, replace(dist, byte_size=None), catalog_root=cat.root)


def test_offline_with_nothing_cached_says_what_to_do(
    iqair: tuple[Any, Dataset, Distribution], lab_env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat, dataset, dist = iqair
    monkeypatch.setenv("LAB_OFFLINE", "1")
    with pytest.raises(OfflineError) as info:
        lab_fetch.fetch(dataset, dist, catalog_root=cat.root)
    message = str(info.value)
    assert message.startswith("air-quality-iqair: aqi_da-nang_2025_feb.csv: not cached and no mirror")
    assert f"set LAB_MIRROR=DIR (a folder holding {dist.mirror})" in message
    assert "run `lab fetch air-quality-iqair` with network" in message
    assert "\n" not in message

    monkeypatch.setenv("LAB_MIRROR", str(lab_env.tmp))  # a mirror without the file
    with pytest.raises(OfflineError, match=f"not in the mirror {lab_env.tmp}"):
        lab_fetch.fetch(dataset, dist, catalog_root=cat.root)

    wards = cat.get("danang-wards-2025")  # derived data: only a mirror or the cache has it
    monkeypatch.delenv("LAB_OFFLINE")
    monkeypatch.delenv("LAB_MIRROR")
    with pytest.raises(OfflineError, match="it has no download URL"):
        lab_fetch.fetch(wards, wards.distributions[0], catalog_root=cat.root)


# ---------------------------------------------------------------------------------- path, demo, file://
def test_local_path_is_read_in_place_and_verified(
    lab_env: SimpleNamespace, sources: Callable[[], list[str]]
) -> None:
    root = lab_env.tmp / "catalog"
    (root / "data").mkdir(parents=True)
    (root / "data" / "x.csv").write_bytes(CSV)
    dist = Distribution(format="CSV", path="data/x.csv", sha256=SHA, byte_size=len(CSV))
    assert get(dist, root=root) == root / "data" / "x.csv"
    absolute = replace(dist, path=str(root / "data" / "x.csv"))
    assert get(absolute, root=PROJECT) == root / "data" / "x.csv"
    assert sources() == ["path", "path"]
    mismatch = f"sha256 mismatch for the path copy .*expected {'a' * 12}, got {SHA[:12]}"
    with pytest.raises(ChecksumError, match=mismatch):
        get(replace(dist, sha256="a" * 64), root=root)
    with pytest.raises(FetchError, match="local file not found"):
        get(replace(dist, path="data/y.csv"), root=root)


def test_demo_file_or_a_hint_to_generate_it(lab_env: SimpleNamespace) -> None:
    dist = Distribution(format="CSV", demo="usage/downloads.csv")
    with pytest.raises(FetchError, match="run `lab demo`") as info:
        get(dist)
    assert isinstance(info.value, LabError)
    (lab_env.demo / "usage").mkdir(parents=True)
    (lab_env.demo / "usage" / "downloads.csv").write_bytes(CSV)
    assert get(dist) == lab_env.demo / "usage" / "downloads.csv"


def test_file_url_is_read_in_place(lab_env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    local = lab_env.tmp / "dữ liệu.csv"
    local.write_bytes(CSV)
    monkeypatch.setenv("LAB_OFFLINE", "1")  # no network needed
    assert get(Distribution(format="CSV", download_url=local.as_uri(), sha256=SHA)) == local
    with pytest.raises(FetchError, match="file not found"):
        get(Distribution(format="CSV", download_url=(lab_env.tmp / "none.csv").as_uri()))


# ------------------------------------------------------------------ incomplete and compressed bodies (#19.5)
ROWS = "id,ten,gia_tri\n" + "".join(f"{i},Phường {i},{i * 10}\n" for i in range(400))
BIG_CSV = ROWS.encode()


def _fails_and_cache_unchanged(dist: Distribution, lab_env: SimpleNamespace, *words: str) -> str:
    before = cache_files(lab_env.cache)
    with pytest.raises(FetchError) as info:
        get(dist)
    text = str(info.value)
    assert "\n" not in text and text.startswith("fetch-test: "), text
    for word in words:
        assert word in text, text
    assert cache_files(lab_env.cache) == before and no_partial_files(lab_env.cache)
    return text


def test_no_content_length_and_a_close_half_way_is_not_cached(
    server: LocalServer, lab_env: SimpleNamespace
) -> None:
    half = BIG_CSV[: BIG_CSV.index(b"\n", len(BIG_CSV) // 2) + 4]  # cut in the middle of a line
    assert not half.endswith(b"\n")
    server.route("/half.csv", Reply(200, half, {"Content-Type": "text/csv"}, send_length=False))
    dist = Distribution(format="CSV", download_url=server.url("/half.csv"))
    _fails_and_cache_unchanged(dist, lab_env, "incomplete", "fields", "3 tries")
    assert server.count("/half.csv") == lab_http.TRIES

    # a whole CSV without Content-Length (and without a final newline) is fine
    server.route("/whole.csv", Reply(200, BIG_CSV.rstrip(b"\n"), send_length=False))
    assert get(Distribution(format="CSV", download_url=server.url("/whole.csv"))).read_bytes() == BIG_CSV[:-1]


def test_a_chunked_answer_without_its_last_chunk_is_not_cached(
    server: LocalServer, lab_env: SimpleNamespace
) -> None:
    server.route("/cut.csv", Reply(200, BIG_CSV, chunked=True, chunked_end=False))
    dist = Distribution(format="CSV", download_url=server.url("/cut.csv"))
    _fails_and_cache_unchanged(dist, lab_env, "dropped")
    server.route("/ok.csv", Reply(200, BIG_CSV, chunked=True))
    assert get(Distribution(format="CSV", download_url=server.url("/ok.csv"))).read_bytes() == BIG_CSV


def test_json_that_does_not_parse_is_not_cached(server: LocalServer, lab_env: SimpleNamespace) -> None:
    doc = json.dumps([{"id": i, "ten": f"Phường {i}"} for i in range(200)], ensure_ascii=False).encode()
    cut = doc[: doc.index(b"}", len(doc) // 2) + 1]  # ends on a record's brace: only a parse sees it
    server.route("/cut.json", Reply(200, cut, send_length=False))
    _fails_and_cache_unchanged(
        Distribution(format="JSON", download_url=server.url("/cut.json")), lab_env, "JSON does not parse"
    )
    server.route("/ok.json", Reply(200, doc, send_length=False))
    assert get(Distribution(format="JSON", download_url=server.url("/ok.json"))).read_bytes() == doc


def test_a_gzip_bomb_answer_stops_at_the_limit(
    server: LocalServer, lab_env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    bomb = gzip.compress(b"id\n" + b"0" * (105 << 20), compresslevel=9)
    assert len(bomb) < 150_000
    monkeypatch.setenv("LAB_MAX_UNPACKED_MB", "8")
    server.route("/bomb.csv", Reply(200, bomb, {"Content-Encoding": "gzip", "Content-Type": "text/csv"}))
    url = server.url("/bomb.csv")
    text = _fails_and_cache_unchanged(
        Distribution(format="CSV", download_url=url), lab_env, url, "more than 8.0 MiB", "LAB_MAX_UNPACKED_MB"
    )
    assert server.count("/bomb.csv") == 1, text  # not retried

    # a normal gzip-encoded answer is stored decoded
    server.route("/gz.csv", Reply(200, gzip.compress(BIG_CSV), {"Content-Encoding": "gzip"}))
    assert get(Distribution(format="CSV", download_url=server.url("/gz.csv"))).read_bytes() == BIG_CSV


def test_csv_gz_and_json_gz_sources_are_read_as_what_they_hold(
    server: LocalServer, lab_env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    from lab import readers

    doc = json.dumps([{"id": 1, "ten": "Hải Châu"}, {"id": 2, "ten": "Sơn Trà"}], ensure_ascii=False).encode()
    server.route("/a.csv.gz", Reply(200, gzip.compress(BIG_CSV), {"Content-Type": "application/gzip"}))
    server.route("/a.json.gz", Reply(200, gzip.compress(doc), {"Content-Type": "application/gzip"}))
    for fmt, path, rows in (("CSV", "/a.csv.gz", 400), ("JSON", "/a.json.gz", 2)):
        dist = Distribution(format=fmt, download_url=server.url(path))
        local = get(dist)
        assert local.read_bytes()[:2] == b"\x1f\x8b"
        df = readers.read(local, dist, make_dataset(dist))
        assert df.height == rows and "ten" in df.columns

    # a cut .csv.gz without Content-Length is not cached; a .csv.gz bomb read from disk stops at the limit
    server.route("/cut.csv.gz", Reply(200, gzip.compress(BIG_CSV)[:-40], send_length=False))
    _fails_and_cache_unchanged(
        Distribution(format="CSV", download_url=server.url("/cut.csv.gz")), lab_env, "cut off"
    )
    monkeypatch.setenv("LAB_MAX_UNPACKED_MB", "1")
    bomb = lab_env.tmp / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"id\n" + b"1\n" * (2 << 20)))
    dist = Distribution(format="CSV", path=str(bomb))
    with pytest.raises(LabError, match=r"^fetch-test: bomb\.csv\.gz: decompresses to more than 1\.0 MiB"):
        readers.read(bomb, dist, make_dataset(dist))
