"""A fake Đà Nẵng portal on 127.0.0.1 for the portal tests, and checks that it has the real shapes.

:class:`FakePortal` serves, on a :class:`httpserver.LocalServer`:

- listing pages ``/dichvu?p=N`` and dataset pages ``/dulieuchitiet/<id>`` rendered the way the ZK
  framework renders them (widgets as JavaScript, ``zclass:'link',label:'<title>',href:'/dulieuchitiet/<id>'``,
  non-ASCII letters as ``\\uXXXX`` escapes, dates DD-MM-YYYY);
- the data API ``/api/dataset/<base64 id>?limit=&offset=`` with Basic authentication, in any of the
  answer shapes the notes list, and an HTML login page (status 200) for a wrong account;
- scripted faults per offset (a 500, a slow answer, an empty page, other columns).

The ``test_portal_*`` modules import it; :func:`portal_env` isolates a test (cache, account,
no real sleeping, loopback only).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lab.portal import client as portal_client
from lab.portal.ids import encode_dataset_id
from support.httpserver import LocalServer, Reply, Request
from support.network import loopback_network

USER = "nghien.cuu.vien@example.org"
PASSWORD = "Mk-9f3b!Zq7-secret"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Đăng nhập - Cổng dữ liệu mở</title></head>"
    "<body><form action='/login'>...</form></body></html>\n"
).encode()
FULL_META = {
    "Cơ quan chủ quản": "Ủy ban nhân dân thành phố Đà Nẵng",
    "Cơ quan cung cấp": "Sở Giao thông vận tải",
    "Lĩnh vực": "Giao thông vận tải",
    "Tần suất cung cấp": "Hàng tháng",
    "Mô tả": "Danh sách điểm dừng xe buýt trên địa bàn thành phố, kèm tọa độ.",
    "Mã định danh tập dữ liệu": "000.00.23.H17-BUS",
    "Tag": ["xe buýt", "giao thông công cộng"],
    "Người liên hệ": "Nguyễn Văn A",
    "Liên hệ (Email/số điện thoại)": "lienhe@example.org / 0900 000 123",
    "Ngày tạo": "05-03-2021",
    "Ngày cập nhật": "17-10-2025",
    "Giấy phép": "Giấy phép mở",
}


# ------------------------------------------------------------------------------------------ ZK pages
def js(text: str) -> str:
    """A JavaScript string literal the way ZK writes it: single quotes, non-ASCII as \\uXXXX."""
    out = []
    for ch in text:
        if ch in "'\\":
            out.append("\\" + ch)
        elif ord(ch) > 126:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def widget(kind: str, uuid: str, **props: str) -> str:
    """One ZK widget: ``['zul.wgt.A','uuid',{key:'value',...},{},[]]``."""
    body = ",".join(f"{k}:{js(v)}" for k, v in props.items())
    return f"['zul.wgt.{kind}','{uuid}',{{{body}}},{{}},[]]"


def zk_page(title: str, widgets: list[str]) -> bytes:
    """A page as ZK renders it: a menu in HTML, the content as widgets in a script, a footer."""
    script = "zkmx(['zul.wgt.Div','root',{id:'main',sclass:'content'},{},[" + ",\n".join(widgets) + "]]);"
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body>"
        "<nav><a href='/'>Trang chủ</a> <a href='/dichvu'>Dữ liệu</a> <a href='/lienhe'>Liên hệ</a></nav>"
        f"<script class='z-runonce' type='text/javascript'>zk.afterLoad('zul.wgt',function(){{}});\n{script}"
        "</script><footer>Cổng dữ liệu mở thành phố Đà Nẵng</footer></body></html>"
    ).encode()


def listing_page(items: list[tuple[int, str, str]]) -> bytes:
    """A listing page: per dataset a link widget and its update date (DD-MM-YYYY)."""
    widgets = []
    for n, (pid, title, updated) in enumerate(items):
        widgets.append(widget("A", f"l{n}", zclass="link", label=title, href=f"/dulieuchitiet/{pid}"))
        widgets.append(widget("Label", f"d{n}", value=f"Ngày cập nhật: {updated}"))
    return zk_page("Danh sách dữ liệu", widgets)


def dataset_page(pid: int, title: str, meta: dict[str, Any]) -> bytes:
    """A dataset page: each metadata label as a Label widget followed by its value (tags as links)."""
    widgets = [widget("Label", "t", value=title, sclass="title")]
    for n, (label, value) in enumerate(meta.items()):
        widgets.append(widget("Label", f"k{n}", value=label, sclass="meta-label"))
        for m, item in enumerate(value if isinstance(value, list) else [value]):
            if label == "Tag":
                widgets.append(widget("A", f"v{n}_{m}", zclass="tag", label=item, href=f"/dichvu?tag={m}"))
            else:
                widgets.append(widget("Label", f"v{n}_{m}", value=item))
    token = encode_dataset_id(pid)
    widgets.append(widget("A", "api", zclass="link", label="API", href=f"/api/dataset/{token}"))
    return zk_page(f"{title} - Cổng dữ liệu mở", widgets)


# --------------------------------------------------------------------------------------------- the API
def make_rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    """``n`` rows of a small table (ids from ``start + 1``)."""
    return [
        {"_id": i + 1, "ma": f"DN{i + 1:05d}", "ten": f"Điểm dừng số {i + 1}", "gia_tri": (i % 97) * 1.5}
        for i in range(start, start + n)
    ]


def answer(rows: list[dict[str, Any]], total: int | None, shape: str) -> Any:
    """The API's JSON for one page in the given shape."""
    if shape == "result.records":
        result: dict[str, Any] = {"records": rows, "fields": [{"id": k} for k in (rows[0] if rows else {})]}
        if total is not None:
            result["total"] = total
        return {"help": "datastore_search", "success": True, "result": result}
    if shape == "data":
        return {"data": rows, **({"total": total} if total is not None else {})}
    if shape == "records":
        return {"records": rows}
    if shape == "list":
        return rows
    raise ValueError(shape)


@dataclass
class ApiDataset:
    """One dataset the fake API serves, and how it misbehaves."""

    rows: list[dict[str, Any]]
    shape: str = "result.records"
    with_total: bool = True
    cap: int | None = None  # the most rows the server sends per page, whatever limit asks
    ignore_offset: bool = False
    faults: dict[int, list[Reply]] = field(default_factory=dict)  # offset → replies sent first, in order
    always: dict[int, Reply] = field(default_factory=dict)  # offset → the reply every time
    edit: Callable[[int, list[dict[str, Any]]], list[dict[str, Any]]] | None = None  # (offset, rows) → rows


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(user, password)`` of a Basic ``Authorization`` header, decoded as UTF-8 (RFC 7617), else None."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


class FakePortal:
    """The portal's pages and API on a :class:`LocalServer`."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.base_url = server.url("").rstrip("/")
        self.listing: list[list[tuple[int, str, str]]] = []
        self.api: dict[int, ApiDataset] = {}
        self.account = (USER, PASSWORD)  # the one registered account (user, password)
        self.credentials: list[tuple[str, str] | None] = []  # each API call's, decoded as UTF-8
        server.route("/dichvu", self._listing)

    # ------------------------------------------------------------------------------------------ pages
    def add_listing(self, pages: list[list[tuple[int, str, str]]]) -> None:
        """Listing pages (``p=1`` first); a page beyond the last repeats the last, as ZK paging does."""
        self.listing = pages

    def _listing(self, req: Request) -> Reply:
        number = int(req.query.get("p", "1"))
        if not self.listing:
            return Reply(200, zk_page("Danh sách dữ liệu", []), {"Content-Type": "text/html; charset=utf-8"})
        items = self.listing[min(number, len(self.listing)) - 1]
        return Reply(200, listing_page(items), {"Content-Type": "text/html; charset=utf-8"})

    def add_page(self, pid: int, title: str, meta: dict[str, Any] | None = None) -> None:
        """The dataset page ``/dulieuchitiet/<pid>`` (default: every metadata label filled)."""
        body = dataset_page(pid, title, FULL_META if meta is None else meta)
        self.server.route(
            f"/dulieuchitiet/{pid}", Reply(200, body, {"Content-Type": "text/html; charset=utf-8"})
        )

    # -------------------------------------------------------------------------------------------- API
    def api_path(self, pid: int) -> str:
        return f"/api/dataset/{encode_dataset_id(pid)}"

    def add_api(self, pid: int, data: ApiDataset) -> ApiDataset:
        """Serve ``data`` at ``/api/dataset/<base64 pid>``."""
        self.api[pid] = data
        self.server.route(self.api_path(pid), lambda req: self._api(data, req))
        return data

    def _api(self, data: ApiDataset, req: Request) -> Reply:
        sent = basic_credentials(req.headers.get("Authorization"))
        self.credentials.append(sent)
        if sent != self.account:
            return Reply(200, LOGIN_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        limit = int(req.query.get("limit", "100"))
        offset = int(req.query.get("offset", "0"))
        if data.faults.get(offset):
            return data.faults[offset].pop(0)
        if offset in data.always:
            return data.always[offset]
        start = 0 if data.ignore_offset else offset
        size = min(limit, data.cap) if data.cap else limit
        rows = data.rows[start : start + size]
        if data.edit is not None:
            rows = data.edit(offset, rows)
        total = len(data.rows) if data.with_total else None
        body = json.dumps(answer(rows, total, data.shape), ensure_ascii=False).encode()
        return Reply(200, body, {"Content-Type": "application/json; charset=utf-8"})

    def offsets(self, pid: int) -> list[int]:
        """The offsets the API was asked for, in order."""
        path = self.api_path(pid)
        return [int(r.query.get("offset", "-1")) for r in self.server.requests if r.path == path]


# ----------------------------------------------------------------------------------------- environment
def portal_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    """Isolate a portal test: own cache, an account in the environment, online, loopback only,
    tiny timeouts, no pause between requests, back-off recorded instead of slept."""
    monkeypatch.setenv("LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LAB_CATALOG", raising=False)
    monkeypatch.setenv("LAB_PORTAL_USER", USER)
    monkeypatch.setenv("LAB_PORTAL_PASSWORD", PASSWORD)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))  # never the developer's ~/.netrc
    backoffs = loopback_network(monkeypatch)
    pauses: list[float] = []
    monkeypatch.setattr(portal_client, "_sleep", pauses.append)
    monkeypatch.setattr(portal_client, "MIN_INTERVAL", 0.0)
    return SimpleNamespace(cache=tmp_path / "cache", tmp=tmp_path, backoffs=backoffs, pauses=pauses)
