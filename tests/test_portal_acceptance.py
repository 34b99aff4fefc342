"""Issue 9's acceptance criteria, end to end through the ``lab`` command line and ``lab.load``.

- ``lab fetch`` of an API dataset of 2,500 rows in pages of 1,000 yields 2,500 rows once; a failure on
  page 2 leaves no cache entry;
- the account appears in no log line, output, cache file, catalog entry or harvest report;
- harvesting two listing pages twice gives the same catalog and a hand-edited field survives
  (also in ``test_portal_harvest.py``), and a harvested entry fetches its rows.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import polars as pl
import pytest
from support.fake_portal import (
    BASIC,
    FULL_META,
    PASSWORD,
    USER,
    ApiDataset,
    FakePortal,
    make_rows,
    portal_env,
)
from support.httpserver import LocalServer, Reply

import lab
from lab import cache as lab_cache
from lab import http as lab_http
from lab.catalog import load_catalog
from lab.cli import main
from lab.portal.errors import PortalError

PID = 102528
DS_ID = "bus-stops"


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    return portal_env(monkeypatch, tmp_path)


@pytest.fixture
def portal() -> Any:
    with LocalServer() as server:
        yield FakePortal(server)


def write_catalog(path: Path, portal: FakePortal, pid: int = PID, page_size: int = 1000) -> Path:
    path.write_text(
        "catalog:\n  title: {vi: Thử, en: Test}\n\ndatasets:\n"
        f"  - id: {DS_ID}\n"
        "    title: {vi: Điểm dừng xe buýt, en: Bus stops}\n"
        "    publisher: Sở Giao thông vận tải\n    theme: [transport]\n    license: danang-open-data\n"
        "    frequency: monthly\n    access_rights: public\n"
        f"    portal_id: {pid}\n"
        "    distributions:\n"
        f"      - portal: {{name: congdulieu, id: {pid}, base_url: '{portal.base_url}',\n"
        f"                  page_size: {page_size}}}\n"
        "        format: PARQUET\n",
        encoding="utf-8",
    )
    return path


def cache_files(cache: Path) -> list[Path]:
    if not cache.exists():
        return []
    return [p for p in cache.rglob("*") if p.is_file() and p.name != lab_cache.MEMO_NAME]


def test_lab_fetch_reads_2500_rows_in_pages_of_1000_once(
    portal: FakePortal, env: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    portal.add_api(PID, ApiDataset(make_rows(2500)))
    catalog = write_catalog(tmp_path / "datasets.yaml", portal)
    assert main(["--catalog", str(catalog), "fetch", DS_ID]) == 0
    dataset_id, path = capsys.readouterr().out.strip().split("\t")
    assert dataset_id == DS_ID and Path(path).suffix == ".parquet"
    frame = pl.read_parquet(path)
    assert frame.height == 2500 and frame["_id"].n_unique() == 2500
    assert portal.offsets(PID) == [0, 1000, 2000]
    assert portal.server.last(portal.api_path(PID)).query == {"limit": "1000", "offset": "2000"}

    assert main(["--catalog", str(catalog), "fetch", DS_ID]) == 0  # from the cache: no call
    loaded = lab.load(DS_ID, catalog=catalog)
    assert loaded.height == 2500 and loaded.equals(frame)
    assert portal.offsets(PID) == [0, 1000, 2000]


def test_a_failure_on_page_2_leaves_no_cache_entry(
    portal: FakePortal, env: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ApiDataset(make_rows(2500))
    data.always[1000] = Reply(500, b"Internal Server Error")
    portal.add_api(PID, data)
    catalog = write_catalog(tmp_path / "datasets.yaml", portal)
    assert main(["--catalog", str(catalog), "fetch", DS_ID]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {DS_ID}: api/dataset/MTAyNTI4: page 2 (offset 1,000): HTTP 500")
    assert err[-1].endswith(f"gave up after {lab_http.TRIES} tries")
    assert cache_files(env.cache) == []  # no Parquet, no meta, no temporary file
    with pytest.raises(PortalError, match="page 2"):
        lab.load(DS_ID, catalog=catalog)
    assert cache_files(env.cache) == []


def test_the_account_appears_nowhere(
    portal: FakePortal,
    env: SimpleNamespace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's request lines included
    portal.add_listing([[(PID, "Điểm dừng xe buýt", "17-10-2025")]])
    portal.add_page(PID, "Điểm dừng xe buýt", FULL_META)
    portal.add_api(PID, ApiDataset(make_rows(1200)))
    failing = ApiDataset(make_rows(1200))
    failing.always[1000] = Reply(503, b"busy")
    portal.add_api(PID + 1, failing)
    harvested = tmp_path / "harvested.yaml"
    catalog = write_catalog(tmp_path / "datasets.yaml", portal)

    assert main(["portal", "harvest", "--base-url", portal.base_url, "--out", str(harvested)]) == 0
    assert main(["portal", "harvest", "--base-url", portal.base_url, "--out", str(harvested), "--json"]) == 0
    assert main(["fetch", "--catalog", str(harvested), f"congdulieu-{PID}"]) == 0
    assert (
        main(["load", "--catalog", str(catalog), DS_ID, "--json", "--to", str(tmp_path / "out.parquet")]) == 0
    )
    assert main(["catalog", "show", "--catalog", str(harvested), f"congdulieu-{PID}"]) == 0
    write_catalog(tmp_path / "failing.yaml", portal, pid=PID + 1)
    assert main(["fetch", "--catalog", str(tmp_path / "failing.yaml"), DS_ID]) == 2
    monkeypatch.setenv("LAB_PORTAL_PASSWORD", PASSWORD + "-old")
    assert main(["fetch", "--refresh", "--catalog", str(catalog), DS_ID]) == 2

    # the account was used ...
    assert any(r.headers.get("Authorization") == BASIC for r in portal.server.requests)
    # ... and shows nowhere: not as text, URL-encoded, or as the Basic token
    secrets = [USER, PASSWORD, quote(USER, safe=""), quote(PASSWORD, safe=""), BASIC.split()[1]]
    secrets.append(base64.b64encode(USER.encode()).decode().rstrip("="))
    out = capsys.readouterr()
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "urllib3.connectionpool" in logs and "page 2 (offset 1,000)" in logs  # the logs were captured
    texts = {"stdout": out.out, "stderr": out.err, "logs": logs}
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "no-netrc"]
    assert any(p.suffix == ".parquet" for p in files) and harvested in files
    for path in files:
        texts[str(path)] = path.read_bytes().decode("latin-1")  # binary files searched byte for byte
    for secret in secrets:
        for name, text in texts.items():
            assert secret not in text, f"the account shows in {name}"
        assert secret.encode("utf-8").decode("latin-1") not in "".join(texts.values())


def test_a_harvested_entry_loads_its_rows(portal: FakePortal, tmp_path: Path) -> None:
    portal.add_listing([[(PID, "Điểm dừng xe buýt", "17-10-2025")], [(PID + 1, "Trường học", "01-02-2024")]])
    portal.add_page(PID, "Điểm dừng xe buýt")
    portal.add_page(PID + 1, "Trường học", {**FULL_META, "Lĩnh vực": "Giáo dục"})
    portal.add_api(PID, ApiDataset(make_rows(1500), shape="data", with_total=False))
    out = tmp_path / "harvested.yaml"
    assert main(["portal", "harvest", "--base-url", portal.base_url, "--out", str(out), "--pages", "2"]) == 0
    first = out.read_text(encoding="utf-8")
    assert main(["catalog", "validate", "--catalog", str(out)]) == 0
    assert main(["portal", "harvest", "--base-url", portal.base_url, "--out", str(out), "--pages", "2"]) == 0
    assert out.read_text(encoding="utf-8") == first
    frame = lab.load(f"congdulieu-{PID}", catalog=load_catalog(out))
    assert frame.height == 1500 and frame["ten"][0] == "Điểm dừng số 1"


def test_a_source_override_reads_the_given_file_not_the_api(portal: FakePortal, tmp_path: Path) -> None:
    portal.add_api(PID, ApiDataset(make_rows(10)))
    catalog = write_catalog(tmp_path / "datasets.yaml", portal)
    pl.DataFrame({"ma": ["A", "B"]}).write_parquet(tmp_path / "next.parquet")
    portal.server.route("/exports/next.parquet", Reply(200, (tmp_path / "next.parquet").read_bytes()))
    assert lab.load(DS_ID, catalog=catalog, source=tmp_path / "next.parquet")["ma"].to_list() == ["A", "B"]
    assert lab.load(DS_ID, catalog=catalog, source=portal.server.url("/exports/next.parquet")).height == 2
    assert portal.offsets(PID) == []


def test_a_password_with_vietnamese_letters_is_sent_as_utf8(
    portal: FakePortal,
    env: SimpleNamespace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """RFC 7617: Basic credentials are UTF-8, user and password in Unicode NFC (typed as NFD here)."""
    import unicodedata

    user, password = "Nguyễn.Thị.Ánh", "Mật-khẩu"
    monkeypatch.setenv("LAB_PORTAL_USER", unicodedata.normalize("NFD", user))
    monkeypatch.setenv("LAB_PORTAL_PASSWORD", unicodedata.normalize("NFD", password))
    portal.account = (user, password)
    portal.add_api(PID, ApiDataset(make_rows(30)))
    catalog = write_catalog(tmp_path / "datasets.yaml", portal)
    assert main(["--catalog", str(catalog), "fetch", DS_ID]) == 0, capsys.readouterr().err
    assert portal.credentials == [(user, password)]  # the server decoded them as UTF-8
    header = portal.server.last(portal.api_path(PID)).headers["Authorization"]
    assert base64.b64decode(header.split()[1]) == f"{user}:{password}".encode()
    _, path = capsys.readouterr().out.strip().split("\t")
    assert pl.read_parquet(path).height == 30
