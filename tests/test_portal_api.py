"""The portal's data API client (:mod:`lab.portal.api`) against a fake portal on 127.0.0.1.

Answer shapes, limit/offset paging, the account (environment, netrc, wrong, missing), retries,
timeouts, pacing, and the guarantee that a failed fetch caches nothing.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from support.fake_portal import PASSWORD, USER, ApiDataset, FakePortal, make_rows, portal_env
from support.httpserver import LocalServer, Reply

from lab import cache as lab_cache
from lab import fetch as lab_fetch
from lab import http as lab_http
from lab.catalog import Dataset, Distribution, validate
from lab.errors import OfflineError
from lab.portal import api, client
from lab.portal.account import Account, find_account
from lab.portal.errors import (
    PortalAccountError,
    PortalAnswerError,
    PortalError,
    PortalPagingError,
    PortalSchemaError,
)

PID = 102528
DS_ID = "bus-stops"


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    return portal_env(monkeypatch, tmp_path)


@pytest.fixture
def portal() -> Any:
    with LocalServer() as server:
        yield FakePortal(server)


def dataset(portal: FakePortal, page_size: int = 1000, pid: int = PID) -> tuple[Dataset, Distribution]:
    dist = Distribution(
        format="PARQUET",
        portal={"name": "congdulieu", "id": pid, "base_url": portal.base_url, "page_size": page_size},
    )
    ds = Dataset(
        id=DS_ID,
        title={"vi": "Điểm dừng xe buýt", "en": "Bus stops"},
        publisher="Sở Giao thông vận tải",
        theme=("transport",),
        license="danang-open-data",
        frequency="monthly",
        access_rights="public",
        distributions=(dist,),
    )
    return ds, dist


def fetch(portal: FakePortal, page_size: int = 1000, **kw: Any) -> Path:
    ds, dist = dataset(portal, page_size)
    return lab_fetch.fetch(ds, dist, catalog_root=Path("."), **kw)


def cache_files(cache: Path) -> list[Path]:
    """Every file in the cache (temporary ones too) but the verification memo."""
    if not cache.exists():
        return []
    return [p for p in cache.rglob("*") if p.is_file() and p.name != lab_cache.MEMO_NAME]


# ---------------------------------------------------------------------------------------- answer shapes
@pytest.mark.parametrize(
    ("doc", "rows", "total", "shape"),
    [
        ({"success": True, "result": {"records": [{"a": 1}], "total": 9}}, [{"a": 1}], 9, "result.records"),
        ({"data": [{"a": 1}, {"a": 2}], "total": 2}, [{"a": 1}, {"a": 2}], 2, "data"),
        ({"records": [{"a": 1}]}, [{"a": 1}], None, "records"),
        ([{"a": 1}], [{"a": 1}], None, "list"),
        ({"data": {"records": [{"a": 3}], "meta": {"total": 5}}}, [{"a": 3}], 5, "data.records"),
        (
            {"result": {"records": [[1, "x"]], "fields": [{"id": "a"}, {"id": "b"}]}},
            [{"a": 1, "b": "x"}],
            None,
            "result.records",
        ),
        ({"result": {"records": [], "total": 0}}, [], 0, "result.records"),
    ],
)
def test_rows_from_every_answer_shape(
    doc: Any, rows: list[dict[str, Any]], total: int | None, shape: str
) -> None:
    page = api.rows_from_answer(doc)
    assert (page.rows, page.total, page.shape) == (rows, total, shape)


@pytest.mark.parametrize(
    ("doc", "cause"),
    [
        ({"success": False, "error": {"message": "Not found"}}, "success: false (Not found)"),
        ({"items": []}, "none of result.records, data, records"),
        ("text", "JSON str"),
        ({"data": [1, 2]}, "not objects"),
    ],
)
def test_answers_that_are_not_rows(doc: Any, cause: str) -> None:
    with pytest.raises(PortalAnswerError, match=re.escape(cause)):
        api.rows_from_answer(doc)


def test_the_catalog_accepts_a_portal_distribution_and_checks_it(tmp_path: Path) -> None:
    head = "catalog:\n  title: {vi: x, en: x}\ndatasets:\n  - id: a-b\n    title: {vi: x, en: x}\n"
    head += "    publisher: x\n    theme: [transport]\n    license: MIT\n    frequency: never\n"
    head += "    access_rights: public\n    distributions:\n      - format: PARQUET\n"
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(head + "        portal: {name: congdulieu, id: 102528, page_size: 500}\n")
    bad.write_text(head + "        portal: {name: other, id: 0, limit: 5}\n")
    assert validate(good) == []
    problems = {(p.field, p.message.split(" (did")[0]) for p in validate(bad)}
    assert problems == {
        ("distributions.0.portal.name", "'other' is not one of congdulieu"),
        ("distributions.0.portal.id", "0 is less than the minimum of 1"),
        ("distributions.0.portal.limit", "unknown field"),
    }


# ---------------------------------------------------------------------------------------------- paging
@pytest.mark.parametrize(
    ("shape", "with_total"), [("result.records", True), ("data", False), ("records", False), ("list", False)]
)
def test_paging_reads_every_row_once_in_each_shape(
    portal: FakePortal, env: SimpleNamespace, shape: str, with_total: bool
) -> None:
    rows = make_rows(2500)
    portal.add_api(PID, ApiDataset(rows, shape=shape, with_total=with_total))
    path = fetch(portal)
    frame = pl.read_parquet(path)
    assert frame.height == 2500
    assert frame["_id"].to_list() == list(range(1, 2501))
    assert frame.columns == ["_id", "ma", "ten", "gia_tri"]
    # with a total the client stops at it; without, at the first empty page after the short one
    assert portal.offsets(PID) == ([0, 1000, 2000] if with_total else [0, 1000, 2000, 2500])


def test_a_server_capping_the_page_size_still_gives_every_row(portal: FakePortal) -> None:
    portal.add_api(PID, ApiDataset(make_rows(1200), shape="data", with_total=False, cap=500))
    frame = pl.read_parquet(fetch(portal))
    assert frame.height == 1200 and frame["_id"].n_unique() == 1200
    assert portal.offsets(PID) == [0, 500, 1000, 1200]


def test_rows_ending_on_a_page_boundary_are_checked_past_the_empty_page(portal: FakePortal) -> None:
    portal.add_api(PID, ApiDataset(make_rows(2000), shape="list", with_total=False))
    assert pl.read_parquet(fetch(portal)).height == 2000
    assert portal.offsets(PID) == [0, 1000, 2000, 3000]  # the empty page, then one probe


def test_an_empty_page_in_the_middle_is_an_error(portal: FakePortal, env: SimpleNamespace) -> None:
    data = ApiDataset(make_rows(2500), edit=lambda offset, rows: [] if offset == 1000 else rows)
    portal.add_api(PID, data)
    with pytest.raises(PortalPagingError) as err:
        fetch(portal)
    msg = str(err.value)
    assert msg.startswith(f"{DS_ID}: ")
    assert "page 2 (offset 1,000) is empty but the API announced 2,500 rows" in msg
    assert "nothing was cached" in msg
    assert cache_files(env.cache) == []


def test_an_empty_page_in_the_middle_without_a_total_is_found_by_the_next_page(
    portal: FakePortal, env: SimpleNamespace
) -> None:
    data = ApiDataset(make_rows(2500), shape="list", with_total=False)
    data.edit = lambda offset, rows: [] if offset == 1000 else rows
    portal.add_api(PID, data)
    with pytest.raises(PortalPagingError, match=r"page 2 \(offset 1,000\) is empty but page 3 has 500 rows"):
        fetch(portal)
    assert cache_files(env.cache) == []


def test_columns_changing_between_pages_is_one_clear_error(portal: FakePortal, env: SimpleNamespace) -> None:
    def rename(offset: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return (
            [{("ten_diem" if k == "ten" else k): v for k, v in r.items()} for r in rows] if offset else rows
        )

    portal.add_api(PID, ApiDataset(make_rows(2500), edit=rename))
    with pytest.raises(PortalSchemaError) as err:
        fetch(portal)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{DS_ID}: api/dataset/")
    assert "the columns changed between pages: page 2 (offset 1,000) has other columns than page 1" in msg
    assert "new columns ten_diem; missing columns ten" in msg
    assert cache_files(env.cache) == []


def test_a_column_changing_kind_is_an_error_but_numbers_becoming_text_widen(portal: FakePortal) -> None:
    def flag(offset: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "gia_tri": True} for r in rows] if offset else rows

    portal.add_api(PID, ApiDataset(make_rows(1500), edit=flag))
    with pytest.raises(
        PortalSchemaError, match="column 'gia_tri' holds boolean values where page 1 held number"
    ):
        fetch(portal)

    def codes(offset: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "ma": f"X{r['_id']}" if offset else r["_id"]} for r in rows]

    portal.add_api(PID + 1, ApiDataset(make_rows(1500), edit=codes))
    ds, dist = dataset(portal, pid=PID + 1)
    frame = pl.read_parquet(lab_fetch.fetch(ds, dist, catalog_root=Path(".")))
    assert frame.schema["ma"] == pl.String and frame["ma"][0] == "1" and frame["ma"][-1] == "X1500"


def test_an_api_ignoring_offset_is_caught_not_looped(portal: FakePortal, env: SimpleNamespace) -> None:
    portal.add_api(PID, ApiDataset(make_rows(2500), shape="data", with_total=False, ignore_offset=True))
    with pytest.raises(
        PortalPagingError, match=r"page 2 .* repeats the previous page: the API ignores offset"
    ):
        fetch(portal)
    assert portal.offsets(PID) == [0, 1000]
    assert cache_files(env.cache) == []


# -------------------------------------------------------------------------------------- HTTP failures
def test_a_500_on_page_2_is_retried(portal: FakePortal, env: SimpleNamespace) -> None:
    data = ApiDataset(make_rows(2500))
    data.faults[1000] = [Reply(500, b"oops"), Reply(503, b"busy", {"Retry-After": "0"})]
    portal.add_api(PID, data)
    assert pl.read_parquet(fetch(portal)).height == 2500
    assert portal.offsets(PID) == [0, 1000, 1000, 1000, 2000]
    assert len(env.backoffs) == 2


def test_a_500_on_page_2_that_persists_caches_nothing(portal: FakePortal, env: SimpleNamespace) -> None:
    data = ApiDataset(make_rows(2500))
    data.always[1000] = Reply(500, b"Internal Server Error")
    portal.add_api(PID, data)
    with pytest.raises(PortalError) as err:
        fetch(portal)
    msg = str(err.value)
    assert msg.startswith(f"{DS_ID}: api/dataset/MTAyNTI4: page 2 (offset 1,000): HTTP 500")
    assert f"gave up after {lab_http.TRIES} tries" in msg
    assert portal.offsets(PID).count(1000) == lab_http.TRIES
    assert cache_files(env.cache) == []


def test_a_timeout_is_retried_then_reported(
    portal: FakePortal, env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lab_http, "READ_TIMEOUT", 0.3)
    data = ApiDataset(make_rows(1500))
    data.faults[1000] = [Reply(200, b"[]", delay=2.0)]  # one slow answer: the retry gets the rows
    portal.add_api(PID, data)
    assert pl.read_parquet(fetch(portal)).height == 1500

    slow = ApiDataset(make_rows(1500))
    slow.always[1000] = Reply(200, b"[]", delay=2.0)
    portal.add_api(PID + 1, slow)
    ds, dist = dataset(portal, pid=PID + 1)
    before = cache_files(env.cache)
    with pytest.raises(
        PortalError, match=r"page 2 \(offset 1,000\): no answer from .* within 0.3 s; gave up"
    ):
        lab_fetch.fetch(ds, dist, catalog_root=Path("."))
    assert cache_files(env.cache) == before  # only the first dataset's entry


def test_requests_are_paced(
    portal: FakePortal, env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "MIN_INTERVAL", 10.0)
    portal.add_api(PID, ApiDataset(make_rows(2500)))
    fetch(portal)
    assert len(env.pauses) == 2  # before pages 2 and 3
    assert all(9.0 < p <= 10.0 for p in env.pauses)


# ------------------------------------------------------------------------------------------ the account
def test_an_html_answer_with_status_200_means_a_bad_account(
    portal: FakePortal, env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_PORTAL_PASSWORD", "expired-password")
    portal.add_api(PID, ApiDataset(make_rows(10)))
    with pytest.raises(PortalAccountError) as err:
        fetch(portal)
    msg = str(err.value)
    assert "page 1 (offset 0): the portal answered HTTP 200 with an HTML page" in msg
    assert "'Đăng nhập - Cổng dữ liệu mở'" in msg
    assert "account (from LAB_PORTAL_USER/LAB_PORTAL_PASSWORD) is wrong or expired" in msg
    assert USER not in msg and "expired-password" not in msg
    assert cache_files(env.cache) == []


def test_json_labelled_as_html_is_still_read(portal: FakePortal) -> None:
    data = ApiDataset(make_rows(3))
    data.always[0] = Reply(200, json.dumps({"data": make_rows(3)}).encode(), {"Content-Type": "text/html"})
    portal.add_api(PID, data)
    assert pl.read_parquet(fetch(portal)).height == 3


def test_a_401_is_an_account_error_too(portal: FakePortal) -> None:
    data = ApiDataset(make_rows(10))
    data.always[0] = Reply(401, b'{"error": "unauthorized"}', {"Content-Type": "application/json"})
    portal.add_api(PID, data)
    with pytest.raises(PortalAccountError, match="HTTP 401 with no data"):
        fetch(portal)


def test_a_missing_account_is_one_clear_error_before_any_request(
    portal: FakePortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAB_PORTAL_USER")
    monkeypatch.delenv("LAB_PORTAL_PASSWORD")
    portal.add_api(PID, ApiDataset(make_rows(10)))
    with pytest.raises(PortalAccountError) as err:
        fetch(portal)
    msg = str(err.value)
    assert msg.startswith(f"{DS_ID}: ") and "no portal account" in msg
    assert "LAB_PORTAL_USER" in msg and "machine 127.0.0.1" in msg
    assert portal.offsets(PID) == []


def test_half_an_account_in_the_environment_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAB_PORTAL_PASSWORD")
    with pytest.raises(PortalAccountError, match="LAB_PORTAL_PASSWORD is not set"):
        find_account("https://congdulieu.vn")


def test_the_account_comes_from_netrc(
    portal: FakePortal, env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAB_PORTAL_USER")
    monkeypatch.delenv("LAB_PORTAL_PASSWORD")
    netrc = env.tmp / "netrc"
    netrc.write_text(
        f"machine example.org login x password y\nmachine 127.0.0.1 login {USER} password {PASSWORD}\n"
    )
    os.chmod(netrc, 0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    account = find_account(portal.base_url)
    assert account.source == str(netrc)
    assert PASSWORD not in repr(account) and USER not in str(account)
    portal.add_api(PID, ApiDataset(make_rows(5)))
    assert pl.read_parquet(fetch(portal)).height == 5


def test_an_unreadable_netrc_is_named_without_its_content(
    env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAB_PORTAL_USER")
    monkeypatch.delenv("LAB_PORTAL_PASSWORD")
    netrc = env.tmp / "netrc"
    netrc.write_text(f"machine congdulieu.vn login {USER} pasword {PASSWORD}\n")  # a typo
    monkeypatch.setenv("NETRC", str(netrc))
    with pytest.raises(PortalAccountError, match="not valid netrc syntax") as err:
        find_account("https://congdulieu.vn")
    assert USER not in str(err.value) and PASSWORD not in str(err.value)


# --------------------------------------------------------------------------------------------- the cache
def test_the_cache_holds_parquet_with_the_fetch_time_and_is_reused(
    portal: FakePortal, env: SimpleNamespace
) -> None:
    portal.add_api(PID, ApiDataset(make_rows(1500)))
    path = fetch(portal)
    assert path.suffix == ".parquet" and env.cache in path.parents
    kv = pq.read_metadata(path).metadata
    assert kv[b"lab.portal_id"] == str(PID).encode()
    assert kv[b"lab.fetched_at"].decode().endswith("Z")
    meta = json.loads(path.with_name(path.name + lab_cache.META_SUFFIX).read_text())
    assert meta["fetched_at"] == kv[b"lab.fetched_at"].decode()
    assert (meta["rows"], meta["source"], meta["url"]) == (
        1500,
        "portal",
        f"{portal.base_url}/api/dataset/MTAyNTI4",
    )
    assert fetch(portal) == path
    assert portal.offsets(PID) == [0, 1000]  # the second fetch came from the cache
    fetch(portal, refresh=True)
    assert portal.offsets(PID) == [0, 1000, 0, 1000]


def test_offline_uses_the_cache_or_says_what_to_do(
    portal: FakePortal, env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal.add_api(PID, ApiDataset(make_rows(20)))
    monkeypatch.setenv("LAB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="not cached and LAB_OFFLINE=1 forbids the network"):
        fetch(portal)
    monkeypatch.delenv("LAB_OFFLINE")
    path = fetch(portal)
    monkeypatch.setenv("LAB_OFFLINE", "1")
    assert fetch(portal, refresh=True) == path
    assert portal.offsets(PID) == [0]


def test_a_corrupted_cache_entry_is_fetched_again(portal: FakePortal) -> None:
    portal.add_api(PID, ApiDataset(make_rows(20)))
    path = fetch(portal)
    path.write_bytes(path.read_bytes()[:-10])
    assert pl.read_parquet(fetch(portal)).height == 20
    assert portal.offsets(PID) == [0, 0]


def test_fetch_rows_works_with_an_explicit_account(portal: FakePortal) -> None:
    portal.add_api(PID, ApiDataset(make_rows(30), shape="records", with_total=False))
    source = api.PortalSource(PID, portal.base_url, page_size=25)
    with client.PortalClient(portal.base_url, account=Account(USER, PASSWORD, "test")) as c:
        frame = api.fetch_rows(source, client=c, dataset="x", progress=False)
    assert frame.height == 30 and portal.offsets(PID) == [0, 25, 30]
