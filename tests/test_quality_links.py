"""Link checks against a local HTTP server only: each failure classified, history, politeness, offline."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from support.httpserver import LocalServer, Reply, Request

from lab.quality import links

CSV = b"ma_xa,ten_xa\n20242,Ph\xc6\xb0\xe1\xbb\x9dng H\xe1\xba\xa3i Ch\xc3\xa2u\n"
LOGIN = b"<!doctype html><html><head><title>Dang nhap</title></head><body>login</body></html>"
FAST = (1.0, 0.5)  # connect, read timeouts (s)


@pytest.fixture
def server() -> LocalServer:
    with LocalServer() as srv:
        srv.route("/ok.csv", Reply(200, CSV, {"Content-Type": "text/csv", "ETag": '"v1"'}))
        srv.route("/loop", lambda req: Reply(301, b"", {"Location": "/loop"}))
        srv.route("/gone.csv", Reply(404, b"not found", {"Content-Type": "text/plain"}))
        srv.route("/error.csv", Reply(500, b"oops", {"Content-Type": "text/plain"}))
        srv.route("/slow.csv", Reply(200, CSV, {"Content-Type": "text/csv"}, delay=3.0))
        srv.route("/login.csv", Reply(200, LOGIN, {"Content-Type": "text/html; charset=utf-8"}))
        srv.route("/busy.csv", Reply(429, b"slow down", {"Retry-After": "60"}))
        srv.route("/page", Reply(200, LOGIN, {"Content-Type": "text/html"}))
        yield srv


def _check(urls: dict[str, str | None], history: Path, **kw: object) -> dict[str, links.LinkResult]:
    results = links.check_links(
        urls, offline_only=False, history=history, delay=0, timeout=FAST, max_age=None, **kw
    )
    return {r.url: r for r in results}


def test_each_case_is_classified(server: LocalServer, tmp_path: Path) -> None:
    local = tmp_path / "local.csv"
    local.write_bytes(CSV)
    urls = {
        server.url("/ok.csv"): "CSV",
        server.url("/loop"): "CSV",
        server.url("/gone.csv"): "CSV",
        server.url("/error.csv"): "CSV",
        server.url("/slow.csv"): "CSV",
        server.url("/login.csv"): "CSV",
        server.url("/busy.csv"): "CSV",
        server.url("/page"): None,  # a landing page: HTML is what it should be
        "ftp://example.org/x.csv": "CSV",
        "http:///no-host.csv": "CSV",
        local.as_uri(): "CSV",
        (tmp_path / "missing.csv").as_uri(): "CSV",
    }
    got = _check(urls, tmp_path / "h.json")
    status = {u: (r.status, r.reason) for u, r in got.items()}
    assert status[server.url("/ok.csv")] == ("ok", None)
    assert status[server.url("/loop")] == ("broken", "request failed")
    assert "redirect loop" in got[server.url("/loop")].message
    assert status[server.url("/gone.csv")] == ("broken", "request failed")
    assert got[server.url("/gone.csv")].http_status == 404
    assert status[server.url("/error.csv")] == ("broken", "request failed")
    assert got[server.url("/error.csv")].http_status == 500
    assert status[server.url("/slow.csv")] == ("broken", "request failed")
    assert "no answer within" in got[server.url("/slow.csv")].message
    assert status[server.url("/login.csv")] == ("broken", "download error")
    assert "HTML page titled 'Dang nhap'" in got[server.url("/login.csv")].message
    assert status[server.url("/busy.csv")] == ("unsure", None)
    assert status[server.url("/page")] == ("ok", None)
    assert status["ftp://example.org/x.csv"] == ("broken", "invalid URL")
    assert status["http:///no-host.csv"] == ("broken", "invalid URL")
    assert status[local.as_uri()] == ("ok", None)
    assert status[(tmp_path / "missing.csv").as_uri()] == ("broken", "download error")
    # HEAD first, then a ranged GET (this server answers HEAD with 501, so the GET decides)
    req = server.last("/ok.csv")
    assert req.headers.get("Range") == f"bytes=0-{links.SNIFF_BYTES - 1}"
    assert "lab/" in req.headers.get("User-Agent", "")


def test_history_unchanged_first_failure_last_success_and_failure_count(
    server: LocalServer, tmp_path: Path
) -> None:
    history = tmp_path / "history.json"
    state = {"status": 200}
    server.route("/flaky.csv", lambda req: Reply(state["status"], CSV, {"ETag": '"v1"'}))
    ok, flaky, gone = server.url("/ok.csv"), server.url("/flaky.csv"), server.url("/gone.csv")
    urls = {ok: "CSV", flaky: "CSV", gone: "CSV"}

    first = _check(urls, history)
    assert first[ok].status == first[flaky].status == "ok"
    assert first[gone].failure_count == 1 and first[gone].first_failure
    broken_since = first[gone].first_failure

    state["status"] = 503  # busy: unsure keeps the counts
    time.sleep(1.1)  # timestamps have one-second resolution
    second = _check(urls, history)
    assert second[ok].status == "unchanged"  # same ETag and bytes as the last success
    assert second[flaky].status == "unsure" and second[flaky].failure_count == 0
    assert second[gone].failure_count == 2 and second[gone].first_failure == broken_since

    state["status"] = 404
    third = _check(urls, history)
    assert third[flaky].status == "broken" and third[flaky].failure_count == 1
    assert third[flaky].last_success == first[flaky].last_success
    state["status"] = 200
    fourth = _check(urls, history)
    assert fourth[flaky].answers and fourth[flaky].failure_count == 0 and fourth[flaky].first_failure is None

    doc = json.loads(history.read_text(encoding="utf-8"))  # a whole JSON file, written atomically
    assert doc["links"][gone]["failure_count"] == 4
    # back with the content of its last success: unchanged
    assert [s for _, s in doc["links"][flaky]["history"]][:4] == ["unchanged", "broken", "unsure", "ok"]
    assert not list(tmp_path.glob(".history.json.*.part"))  # no temporary file left behind
    frame = links.last_results(history)
    assert set(frame["url"].to_list()) == set(urls)
    assert frame.filter(frame["url"] == gone)["status"].item() == "broken"


def test_offline_and_cached_results_make_no_request(server: LocalServer, tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    ok, never = server.url("/ok.csv"), server.url("/gone.csv")
    links.check_links([ok], offline_only=False, history=history, delay=0, timeout=FAST)
    asked = server.count("/ok.csv")
    # offline: the last result, no request; a URL never checked stays "not checked yet"
    offline = {
        r.url: r for r in links.check_links([ok, never], offline_only=True, history=history, timeout=FAST)
    }
    assert offline[ok].status == "ok" and offline[ok].cached
    assert offline[never].status == "unsure" and offline[never].message == "not checked yet"
    # online but checked less than max_age ago: cached
    again = links.check_links([ok], offline_only=False, history=history, max_age=timedelta(hours=1))
    assert again[0].cached
    assert server.count("/ok.csv") == asked and server.count("/gone.csv") == 0
    # the offline default follows LAB_OFFLINE (the test suite sets it)
    assert links.check_links([never], history=history)[0].message == "not checked yet"
    assert server.count("/gone.csv") == 0


def test_per_host_limit_is_respected(server: LocalServer, tmp_path: Path) -> None:
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def slow(req: Request) -> Reply:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return Reply(200, CSV)

    for i in range(6):
        server.route(f"/p{i}.csv", slow)
    urls = {server.url(f"/p{i}.csv"): "CSV" for i in range(6)}
    got = _check(urls, tmp_path / "h.json", workers=6, per_host=1)
    assert all(r.status == "ok" for r in got.values())
    assert state["max"] == 1


def test_a_name_that_does_not_resolve_is_unknown_offline_and_broken_when_others_answer(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20 part 4: offline, every host name fails to resolve; that is "could not check" (unsure,
    unknown to the scores), not "does not answer". A name that fails while another host answers in the
    same run is a dead domain: broken."""
    import socket

    real = socket.getaddrinfo

    def resolver(host: str, *args: object, **kw: object) -> object:
        if str(host).endswith(".example"):  # the machine's resolver: offline for every real name
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    dead = "http://opendata.danang.example/dataset.csv"
    alone = _check({dead: "CSV"}, tmp_path / "h.json")[dead]
    assert (alone.status, alone.reason, alone.failure_count) == ("unsure", None, 0)
    assert alone.message == links.NO_DNS and alone.first_failure is None
    # with a host that answers in the same run, the network works: the name does not exist
    got = _check({dead: "CSV", server.url("/ok.csv"): "CSV"}, tmp_path / "h.json")
    assert (got[dead].status, got[dead].reason) == ("broken", "request failed")
    assert got[dead].message == links.NO_SUCH_HOST and got[dead].failure_count == 1
