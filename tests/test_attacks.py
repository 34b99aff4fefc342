"""Bad inputs through the real CLI: exit 2, one line naming the dataset or file and the cause, nothing kept.

Issue 19's acceptance table: broken, hostile or mislabelled inputs for the loaders (``lab load``), usage
ingest (``lab usage ingest``), reuse import (``lab reuse import``), assignment (``lab geo assign``) and
fetching (``lab fetch``, against a real HTTP server on 127.0.0.1). Each row runs ``lab.cli.main``
in-process (fast; the same code path as the ``lab`` command, whose entry point is checked by a subprocess
for a few rows), asserts exit code 2, exactly one line on stderr that names the dataset or file and the
cause, and that the cache, the usage store, the reports folder and every output target are byte-for-byte
unchanged (every file under the test's folders is snapshotted before and after; the usage store's empty
``.lock`` file and the cache's sha256 memo of local files, ``verified.json``, hold no data and are ignored,
as in ``test_fetch``).

The broken files are synthetic, generated here by seeded code (or taken from the bad-input corpus of
``tests/data/bad``, reused through ``test_bad_input``'s helpers).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from support.bad_inputs import BAD, CASES, GENERATED
from support.httpserver import LocalServer, Reply

from lab import cache as lab_cache
from lab import http as lab_http
from lab.cli import main
from lab.text import encode_windows_1258

PROJECT = Path(__file__).resolve().parent.parent
SECRET = "postgres://admin:hunter2@db.internal/prod"
ROWS_CSV = "ma_xa,dan_so\n" + "".join(f"{20194 + i},{1000 + i}\n" for i in range(50))


# ------------------------------------------------------------------------------------------ the inputs
def _xlsx_merged_number() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ma_xa", "thanh_thi", "nong_thon"])
    ws.append(["20194", 9430, None])
    ws.merge_cells("B2:C2")  # 9,430 urban residents merged over the rural cell too
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _combined(when: str) -> bytes:
    """One line of an Apache/nginx combined log, dated ``when``."""
    return f'127.0.0.1 - - [{when}] "GET /dataset/abc HTTP/1.1" 200 2326 "-" "Mozilla/5.0"\n'.encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _feature_collection(props: dict[str, Any], geometry: dict[str, Any]) -> bytes:
    doc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": props, "geometry": geometry}],
    }
    return json.dumps(doc).encode()


DANANG_SQUARE = {
    "type": "Polygon",
    "coordinates": [[[108.1, 16.0], [108.3, 16.0], [108.3, 16.1], [108.1, 16.1], [108.1, 16.0]]],
}

INPUTS: dict[str, bytes] = {
    # tables
    "mixed.csv": (
        b"ma_xa,dan_so\n"
        + "".join(f"{20194 + i},{1000 + i}\n" for i in range(40)).encode()
        + encode_windows_1258("20999,Phường Hòa Khánh\n")
        + "20998,Phường Hải Châu\n".encode()
    ),
    "secret.key": f"{SECRET}\nsecond line\n".encode(),
    "passwd": b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
    "bomb.csv.gz": gzip.compress(b"ma_xa,dan_so\n" + b"20194,1\n" * (1 << 20), compresslevel=9),
    "cut.csv.gz": gzip.compress(ROWS_CSV.encode())[:-30],
    "garbage.csv.gz": b"\x1f\x8b" + bytes(range(256)) * 4,
    "html.csv": b"<!DOCTYPE html><html><head><title>Loi</title></head><body>500</body></html>\n",
    "cut_row.csv": ROWS_CSV.encode()[:-7],  # the last line keeps 1 of 2 fields
    "empty.csv": b"",
    "header_only.csv": b"ma_xa,dan_so\n",
    "merged.xlsx": _xlsx_merged_number(),
    "hanoi_points.csv": b"id,lon,lat\n1,108.2208,16.0678\n2,105.8342,21.0278\n",
    "bomb.zip": _zip({"w.shp": b"\0" * (8 << 20), "w.shx": b"x", "w.dbf": b"x"}),
    "table_as.geojson": b"ma_xa,dan_so\n20194,1\n",
    "nul.csv": b"ma_xa,dan_so\n\x00\x00\x00\x00\n",
    # assign
    "points.csv": b"lon,lat\n108.2,16.05\n",
    "points_header_only.csv": b"lon,lat\n",
    "points_no_lon.csv": b"x,y\n108.2,16.05\n",
    "units.geojson": _feature_collection({"ma_xa": "1", "ten_xa": "Phường A"}, DANANG_SQUARE),
    "units_cut.geojson": _feature_collection({"ma_xa": "1", "ten_xa": "A"}, DANANG_SQUARE)[:60],
    "units_no_code.geojson": _feature_collection({"x": 1}, DANANG_SQUARE),
    "units_points.geojson": _feature_collection(
        {"ma_xa": "1", "ten_xa": "A"}, {"type": "Point", "coordinates": [108.2, 16.05]}
    ),
    "deep.json": b"[" * 100_000,
    "deep_line.jsonl": b'{"time": "2026-01-01T00:00:00Z"}\n' + b"[" * 100_000 + b"\n",
    # usage
    "y9999.log": _combined("10/Oct/9999:13:55:36 +0700"),
    "y0001.log": _combined("10/Oct/0001:13:55:36 +0700"),
    "html.log": b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>\n",
    "empty.log": b"",
    "gateway.csv": (
        b"time,method,path,status,consumer\n2026-10-01T00:00:00Z,GET,/api/3/action/package_show,200,app1\n"
    ),
    "garbage.log.gz": b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4,
    "cut.log.gz": gzip.compress(_combined("10/Oct/2026:13:55:36 +0700") * 200)[:-40],
    "bomb.log.gz": gzip.compress(_combined("10/Oct/2026:13:55:36 +0700") * 60_000, compresslevel=9),
    "cut.jsonl": b'{"time": "2026-01-0',
    "semicolons.csv": b"x;y\n1;2\n",
    "accounts_header.csv": b"id,title\n",
    # reuse
    "not_udata.csv": b"not,a,udata\n1,2,3\n",
    "ckan_result_null.json": b'{"success": true, "result": null}',
    "ckan_result_nulls.json": b'{"success": true, "result": [null, 5]}',
}


@dataclass(frozen=True)
class Attack:
    """One bad input: the command (a function of the context), the name it must print, the cause."""

    id: str
    argv: Callable[[SimpleNamespace], list[str]]
    names: str
    cause: tuple[str, ...]


def _i(ctx: SimpleNamespace, name: str) -> str:
    return str(ctx.inputs / name)


# ------------------------------------------------------------------------------------------ the catalog
def _catalog(url: Callable[[str], str]) -> dict[str, Any]:
    common = {
        "publisher": "the lab (attack tests)",
        "theme": ["regions"],
        "license": "MIT",
        "frequency": "never",
        "access_rights": "public",
    }
    table_schema = {
        "columns": [
            {"name": "ma_xa", "type": "code", "required": True},
            {"name": "dan_so", "type": "integer"},
        ]
    }

    def ds(id_: str, dist: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"id": id_, **common, "title": {"vi": id_, "en": id_}, "distributions": [dist], **extra}

    fetched = {
        "att-f-half": ("/half.csv", "CSV"),
        "att-f-chunked": ("/chunked.csv", "CSV"),
        "att-f-json": ("/cut.json", "JSON"),
        "att-f-gzip-bomb": ("/bomb.csv", "CSV"),
        "att-f-404": ("/missing.csv", "CSV"),
        "att-f-login": ("/login.csv", "CSV"),
        "att-f-5xx": ("/down.csv", "CSV"),
        "att-f-cut-gz": ("/cut.csv.gz", "CSV"),
        "att-f-broken-gzip": ("/broken.csv", "CSV"),
        "att-f-declared-length": ("/short.csv", "CSV"),
    }
    datasets = [
        ds("att-table", {"path": "table.csv", "format": "CSV"}, schema=table_schema),
        ds("att-xlsx", {"path": "table.xlsx", "format": "XLSX"}),
        ds("att-json", {"path": "table.json", "format": "JSON"}),
        ds("att-parquet", {"path": "table.parquet", "format": "PARQUET"}),
        ds(
            "att-points",
            {"path": "points.csv", "format": "CSV"},
            spatial={
                "kind": "points",
                "lon": "lon",
                "lat": "lat",
                "coverage": "Thành phố Đà Nẵng (48)",
                "bbox": [107.18, 14.93, 108.76, 16.25],
            },
            crs="EPSG:4326",
        ),
        ds("att-shp", {"path": "units.zip", "format": "SHP"}, spatial={"kind": "polygons"}, crs="EPSG:4326"),
        ds(
            "att-geojson",
            {"path": "units.geojson", "format": "GEOJSON"},
            spatial={"kind": "polygons"},
            crs="EPSG:4326",
        ),
        ds("att-f-sha", {"download_url": url("/ok.csv"), "format": "CSV", "sha256": "0" * 64}),
        ds("att-f-size", {"download_url": url("/ok.csv"), "format": "CSV", "byte_size": 3}),
        *[ds(k, {"download_url": url(path), "format": fmt}) for k, (path, fmt) in fetched.items()],
        *[
            ds(f"att-ckan-{name}", {"ckan": {"api": url(f"/ckan-{name}"), "package": "p"}, "format": "CSV"})
            for name in ("deep", "null", "nulls", "nourl", "false", "html", "huge")
        ],
    ]
    return {"catalog": {"title": {"vi": "Tấn công", "en": "Attacks"}}, "datasets": datasets}


def _routes(srv: LocalServer) -> None:
    rows = ROWS_CSV.encode()
    half = rows[: rows.index(b"\n", len(rows) // 2) + 4]
    doc = json.dumps([{"ma_xa": str(i)} for i in range(100)]).encode()
    srv.route("/ok.csv", Reply(200, rows))
    srv.route("/half.csv", Reply(200, half, send_length=False))
    srv.route("/chunked.csv", Reply(200, rows, chunked=True, chunked_end=False))
    srv.route("/cut.json", Reply(200, doc[: doc.index(b"}", len(doc) // 2) + 1], send_length=False))
    srv.route(
        "/bomb.csv",
        Reply(
            200, gzip.compress(b"ma_xa\n" + b"0" * (40 << 20), compresslevel=9), {"Content-Encoding": "gzip"}
        ),
    )
    srv.route("/login.csv", Reply(200, b"<!DOCTYPE html><html><head><title>Dang nhap</title></head></html>"))
    srv.route("/down.csv", Reply(503, b"busy"))
    srv.route("/cut.csv.gz", Reply(200, gzip.compress(rows)[:-30], send_length=False))
    srv.route("/broken.csv", Reply(200, b"\x1f\x8b\x08\x00" + b"\xff" * 64, {"Content-Encoding": "gzip"}))
    srv.route("/short.csv", Reply(200, rows[:100], content_length=len(rows)))
    ckan = {
        "deep": b'{"success": true, "result": ' + b"[" * 100_000,
        "null": b'{"success": true, "result": null}',
        "nulls": b'{"success": true, "result": {"resources": [null, null]}}',
        "nourl": b'{"success": true, "result": {"resources": [{"id": "r", "url": null}]}}',
        "false": b'{"success": false, "error": {"__type": "Not Found Error", "message": null}}',
        "html": b"<!DOCTYPE html><html><head><title>CKAN</title></head></html>",
        "huge": gzip.compress(b" " * (80 << 20)),
    }
    for name, body in ckan.items():
        headers = {"Content-Encoding": "gzip"} if name == "huge" else {}
        srv.route(f"/ckan-{name}/package_show", Reply(200, body, headers))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The inputs folder, the bad corpus with its generated files, the attack catalog and the server."""
    root = tmp_path_factory.mktemp("attacks")
    inputs = root / "inputs"
    inputs.mkdir()
    for name, data in INPUTS.items():
        (inputs / name).write_bytes(data)
    (inputs / "secret_link.csv").symlink_to(inputs / "secret.key")
    bad = root / "bad"
    shutil.copytree(BAD, bad)
    for rel, make in GENERATED.items():
        (bad / rel).parent.mkdir(parents=True, exist_ok=True)
        (bad / rel).write_bytes(make())
    escape = root / "escape.yaml"
    with LocalServer() as srv:
        _routes(srv)
        cat = _catalog(srv.url)
        import yaml

        (inputs / "att.yaml").write_text(yaml.safe_dump(cat, allow_unicode=True), encoding="utf-8")
        leaking = {
            "catalog": cat["catalog"],
            "datasets": [
                {
                    **cat["datasets"][0],
                    "id": "att-escape",
                    "distributions": [{"mirror": "../../etc/passwd", "format": "CSV"}],
                }
            ],
        }
        escape.write_text(yaml.safe_dump(leaking, allow_unicode=True), encoding="utf-8")
        yield SimpleNamespace(inputs=inputs, bad=bad, catalog=inputs / "att.yaml", escape=escape, server=srv)


@pytest.fixture
def ctx(world: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Empty cache, store, reports and output folders for one row; a small decompression limit; no waits."""
    state = tmp_path / "state"
    for sub in ("cache", "demo", "store", "reports", "out", "mirror"):
        (state / sub).mkdir(parents=True)
    monkeypatch.setenv("LAB_CACHE", str(state / "cache"))
    monkeypatch.setenv("LAB_DEMO", str(state / "demo"))
    monkeypatch.setenv("LAB_USAGE_STORE", str(state / "store"))
    monkeypatch.setenv("LAB_USAGE_SECRET", "attack-tests-secret-0123456789")
    monkeypatch.setenv("LAB_MAX_UNPACKED_MB", "4")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for var in (
        "LAB_MIRROR",
        "LAB_OFFLINE",
        "LAB_CATALOG",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(lab_http, "BACKOFF", 0.0)
    monkeypatch.setattr(lab_http, "READ_TIMEOUT", 2.0)
    monkeypatch.setattr(lab_http, "_sleep", lambda _s: None)
    return SimpleNamespace(**vars(world), state=state)


def _snapshot(*roots: Path) -> dict[str, bytes]:
    out = {}
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                if name in (".lock", lab_cache.MEMO_NAME):  # a lock file, the sha256 memo: no data
                    continue
                path = Path(folder) / name
                out[str(path)] = b"" if path.is_symlink() else path.read_bytes()
    return out


# --------------------------------------------------------------------------------------------- the rows
def _load(
    dataset: str, source: str | None = None, catalog: str = "att"
) -> Callable[[SimpleNamespace], list[str]]:
    def argv(c: SimpleNamespace) -> list[str]:
        cat = {"att": c.catalog, "bad": c.bad / "catalog.yaml", "project": PROJECT / "datasets.yaml"}[catalog]
        extra = ["--source", _i(c, source)] if source else []
        return ["load", dataset, "--catalog", str(cat), *extra, "--to", str(c.state / "out" / "t.parquet")]

    return argv


def _fetch(dataset: str, catalog: str = "att") -> Callable[[SimpleNamespace], list[str]]:
    def argv(c: SimpleNamespace) -> list[str]:
        cat = c.escape if catalog == "escape" else c.catalog
        return ["fetch", dataset, "--catalog", str(cat), "--mirror", str(c.state / "mirror")]

    return argv


def _assign(points: str, units: str) -> Callable[[SimpleNamespace], list[str]]:
    def argv(c: SimpleNamespace) -> list[str]:
        unit_arg = _i(c, units) if "." in units else units
        target = str(c.state / "out" / "a.csv")
        coords = ["--lon", "lon", "--lat", "lat"]
        return ["geo", "assign", "--points", _i(c, points), *coords, "--units", unit_arg, "--to", target]

    return argv


def _ingest(fmt: str, name: str) -> Callable[[SimpleNamespace], list[str]]:
    return lambda c: ["usage", "ingest", "--format", fmt, _i(c, name), "--store", str(c.state / "store")]


def _import(fmt: str, name: str) -> Callable[[SimpleNamespace], list[str]]:
    return lambda c: [
        "reuse",
        "import",
        "--format",
        fmt,
        _i(c, name),
        "--out",
        str(c.state / "out" / "r.csv"),
    ]


ATTACKS: list[Attack] = [
    # ---- loaders: the bad-input corpus through `lab load` (23 rows)
    *[Attack(f"load-{ds}", _load(ds, catalog="bad"), ds, words) for ds, _cls, words in CASES],
    # ---- loaders: hostile or mislabelled files given as --source
    Attack(
        "load-mixed-encoding", _load("att-table", "mixed.csv"), "mixed.csv", ("mixes encodings", "line 42")
    ),
    Attack(
        "load-secret-symlink",
        _load("att-table", "secret_link.csv"),
        "secret_link.csv",
        ("does not look like a header",),
    ),
    Attack("load-secret-as-json", _load("att-json", "secret.key"), "secret.key", ("not valid JSON",)),
    Attack(
        "load-secret-as-parquet", _load("att-parquet", "secret.key"), "secret.key", ("not a Parquet file",)
    ),
    Attack("load-secret-as-xlsx", _load("att-xlsx", "secret.key"), "secret.key", ("not a valid .xlsx",)),
    Attack("load-passwd", _load("att-table", "passwd"), "passwd", ("does not look like a header",)),
    Attack(
        "load-secret-as-points",
        _load("att-points", "secret.key"),
        "secret.key",
        ("coordinate column 'lon'",),
    ),
    Attack(
        "load-secret-as-geojson",
        _load("att-geojson", "secret.key"),
        "secret.key",
        ("not readable as GEOJSON",),
    ),
    Attack(
        "load-gz-bomb",
        _load("att-table", "bomb.csv.gz"),
        "bomb.csv.gz",
        ("decompresses to more than 4.0 MiB",),
    ),
    Attack("load-gz-cut", _load("att-table", "cut.csv.gz"), "cut.csv.gz", ("cut off",)),
    Attack("load-gz-garbage", _load("att-table", "garbage.csv.gz"), "garbage.csv.gz", ("not a valid gzip",)),
    Attack("load-html", _load("att-table", "html.csv"), "html.csv", ("HTML page",)),
    Attack("load-cut-row", _load("att-table", "cut_row.csv"), "cut_row.csv", ("no final newline",)),
    Attack("load-empty", _load("att-table", "empty.csv"), "empty.csv", ("empty",)),
    Attack("load-header-only", _load("att-table", "header_only.csv"), "header_only.csv", ("no rows",)),
    Attack(
        "load-excel-merged-number",
        _load("att-xlsx", "merged.xlsx"),
        "merged.xlsx",
        ("B2:C2", "merged over the number 9430"),
    ),
    Attack(
        "load-excel-is-csv", _load("att-xlsx", "header_only.csv"), "header_only.csv", ("not a valid .xlsx",)
    ),
    Attack(
        "load-hanoi-sensor",
        _load("att-points", "hanoi_points.csv"),
        "hanoi_points.csv",
        ("outside Thành phố Đà Nẵng", "row 2"),
    ),
    Attack("load-zip-bomb", _load("att-shp", "bomb.zip"), "bomb.zip", ("decompresses to more than 4.0 MiB",)),
    Attack("load-csv-as-geojson", _load("att-geojson", "points.csv"), "points.csv", ("no geometries",)),
    Attack(
        "load-table-as-geojson",
        _load("att-geojson", "table_as.geojson"),
        "table_as.geojson",
        ("not readable as GEOJSON",),
    ),
    Attack("load-zip-as-geojson", _load("att-geojson", "bomb.zip"), "bomb.zip", ("no layer",)),
    Attack("load-missing-source", _load("att-table", "no_such.csv"), "no_such.csv", ("not found",)),
    Attack("load-unknown-dataset", _load("att-nope"), "att-nope", ("not in the catalog",)),
    # ---- fetch, against a real server on 127.0.0.1
    Attack("fetch-no-length-half", _fetch("att-f-half"), "att-f-half", ("incomplete", "fields")),
    Attack("fetch-chunked-cut", _fetch("att-f-chunked"), "att-f-chunked", ("dropped",)),
    Attack("fetch-json-cut", _fetch("att-f-json"), "att-f-json", ("JSON does not parse",)),
    Attack(
        "fetch-gzip-bomb",
        _fetch("att-f-gzip-bomb"),
        "att-f-gzip-bomb",
        ("decompresses to more than 4.0 MiB", "/bomb.csv"),
    ),
    Attack("fetch-404", _fetch("att-f-404"), "att-f-404", ("HTTP 404",)),
    Attack("fetch-login-page", _fetch("att-f-login"), "att-f-login", ("HTML page", "nothing was cached")),
    Attack("fetch-503", _fetch("att-f-5xx"), "att-f-5xx", ("HTTP 503", "gave up")),
    Attack("fetch-gz-cut", _fetch("att-f-cut-gz"), "att-f-cut-gz", ("cut off",)),
    Attack(
        "fetch-broken-gzip", _fetch("att-f-broken-gzip"), "att-f-broken-gzip", ("broken compressed stream",)
    ),
    Attack(
        "fetch-short-body",
        _fetch("att-f-declared-length"),
        "att-f-declared-length",
        ("dropped after 100 of",),
    ),
    Attack("fetch-sha256", _fetch("att-f-sha"), "att-f-sha", ("sha256 mismatch",)),
    Attack("fetch-byte-size", _fetch("att-f-size"), "att-f-size", ("the catalog declares 3",)),
    Attack("fetch-ckan-deep", _fetch("att-ckan-deep"), "att-ckan-deep", ("nested too deeply",)),
    Attack("fetch-ckan-null", _fetch("att-ckan-null"), "att-ckan-null", ("no resources",)),
    Attack("fetch-ckan-nulls", _fetch("att-ckan-nulls"), "att-ckan-nulls", ("no resource",)),
    Attack("fetch-ckan-no-url", _fetch("att-ckan-nourl"), "att-ckan-nourl", ("has no url",)),
    Attack("fetch-ckan-false", _fetch("att-ckan-false"), "att-ckan-false", ("success: false",)),
    Attack("fetch-ckan-html", _fetch("att-ckan-html"), "att-ckan-html", ("HTML page",)),
    Attack("fetch-ckan-huge", _fetch("att-ckan-huge"), "att-ckan-huge", ("larger than",)),
    Attack(
        "fetch-mirror-escape", _fetch("att-escape", "escape"), "escape.yaml", ("leaves the mirror folder",)
    ),
    # ---- geo assign
    Attack(
        "assign-units-cut", _assign("points.csv", "units_cut.geojson"), "units_cut.geojson", ("not readable",)
    ),
    Attack(
        "assign-units-no-code",
        _assign("points.csv", "units_no_code.geojson"),
        "units_no_code.geojson",
        ("code and a name",),
    ),
    Attack(
        "assign-units-points",
        _assign("points.csv", "units_points.geojson"),
        "units_points.geojson",
        ("need polygons",),
    ),
    Attack(
        "assign-units-zip-bomb", _assign("points.csv", "bomb.zip"), "bomb.zip", ("decompresses to more than",)
    ),
    Attack("assign-units-csv", _assign("points.csv", "points.csv"), "points.csv", ("has no polygons",)),
    Attack("assign-units-secret", _assign("points.csv", "secret.key"), "secret.key", ("not readable",)),
    Attack(
        "assign-units-unknown-id",
        _assign("points.csv", "no-such-units"),
        "no-such-units",
        ("not in the catalog",),
    ),
    Attack("assign-points-empty", _assign("empty.csv", "units.geojson"), "empty.csv", ("empty",)),
    Attack(
        "assign-points-header-only",
        _assign("points_header_only.csv", "units.geojson"),
        "points_header_only.csv",
        ("no rows",),
    ),
    Attack("assign-points-html", _assign("html.csv", "units.geojson"), "html.csv", ("not a CSV table",)),
    Attack("assign-points-nul", _assign("nul.csv", "units.geojson"), "nul.csv", ("'lon'",)),
    Attack(
        "assign-points-deep-json", _assign("deep.json", "units.geojson"), "deep.json", ("not a CSV table",)
    ),
    Attack(
        "assign-points-secret", _assign("secret.key", "units.geojson"), "secret.key", ("not a CSV table",)
    ),
    Attack(
        "assign-points-no-lon", _assign("points_no_lon.csv", "units.geojson"), "points_no_lon.csv", ("'lon'",)
    ),
    Attack("assign-points-missing", _assign("no_such.csv", "units.geojson"), "no_such.csv", ("not found",)),
    # ---- usage ingest
    Attack("ingest-missing-file", _ingest("combined", "no_such.log"), "no_such.log", ("no such file",)),
    Attack(
        "ingest-gateway-cut", _ingest("gateway-jsonl", "cut.jsonl"), "cut.jsonl", ("not an API gateway log",)
    ),
    Attack("ingest-ga4-not-ga4", _ingest("ga4", "semicolons.csv"), "semicolons.csv", ("not a GA4 export",)),
    Attack(
        "ingest-accounts-header",
        _ingest("accounts", "accounts_header.csv"),
        "accounts_header.csv",
        ("not a sign-up export",),
    ),
    Attack(
        "ingest-datagouv-deep", _ingest("datagouv-metrics", "deep.json"), "deep.json", ("nested too deeply",)
    ),
    Attack(
        "ingest-gateway-deep-line",
        _ingest("gateway-jsonl", "deep_line.jsonl"),
        "deep_line.jsonl",
        ("not an API gateway log",),
    ),
    Attack(
        "ingest-wrong-format",
        _ingest("combined", "gateway.csv"),
        "gateway.csv",
        ("nothing kept", "all 2 lines rejected as --format combined"),
    ),
    Attack("ingest-year-9999", _ingest("combined", "y9999.log"), "y9999.log", ("plausible window",)),
    Attack("ingest-year-0001", _ingest("combined", "y0001.log"), "y0001.log", ("plausible window",)),
    Attack(
        "ingest-html-page", _ingest("combined", "html.log"), "html.log", ("not in the combined log format",)
    ),
    Attack("ingest-empty-log", _ingest("combined", "empty.log"), "empty.log", ("no lines in the file",)),
    Attack("ingest-garbage-gz", _ingest("combined", "garbage.log.gz"), "garbage.log.gz", ("gzip",)),
    Attack("ingest-cut-gz", _ingest("combined", "cut.log.gz"), "cut.log.gz", ("cut off",)),
    Attack(
        "ingest-gz-bomb", _ingest("combined", "bomb.log.gz"), "bomb.log.gz", ("decompresses to more than",)
    ),
    Attack(
        "ingest-bad-timezone",
        lambda c: [*_ingest("combined", "empty.log")(c), "--timezone", "Mars/Olympus"],
        "Mars/Olympus",
        ("unknown time zone",),
    ),
    Attack(
        "usage-kpis-negative-min-count",
        lambda c: ["usage", "kpis", "--store", str(c.state / "store"), "--min-count", "-1"],
        "--min-count",
        ("0 or more",),
    ),
    # ---- reuse import
    Attack(
        "import-udata-empty", _import("udata-csv", "empty.csv"), "empty.csv", ("not a udata reuse export",)
    ),
    Attack("import-udata-html", _import("udata-csv", "html.csv"), "html.csv", ("not a udata reuse export",)),
    Attack(
        "import-udata-other-csv",
        _import("udata-csv", "not_udata.csv"),
        "not_udata.csv",
        ("no id, title, datasets",),
    ),
    Attack("import-udata-nul", _import("udata-csv", "nul.csv"), "nul.csv", ("not a udata reuse export",)),
    Attack(
        "import-ckan-null",
        _import("ckan-showcase", "ckan_result_null.json"),
        "ckan_result_null.json",
        ("not a list",),
    ),
    Attack(
        "import-ckan-nulls",
        _import("ckan-showcase", "ckan_result_nulls.json"),
        "ckan_result_nulls.json",
        ("not a list",),
    ),
    Attack("import-ckan-cut", _import("ckan-showcase", "cut.jsonl"), "cut.jsonl", ("not a JSON answer",)),
    Attack("import-ckan-deep", _import("ckan-showcase", "deep.json"), "deep.json", ("nested too deeply",)),
    Attack(
        "import-ckan-missing", _import("ckan-showcase", "no_such.json"), "no_such.json", ("no such file",)
    ),
]


def test_the_table_is_large_and_covers_every_entry_point() -> None:
    assert len(ATTACKS) >= 60
    assert len({a.id for a in ATTACKS}) == len(ATTACKS)
    kinds = {a.id.split("-")[0] for a in ATTACKS}
    assert kinds == {"load", "fetch", "assign", "ingest", "usage", "import"}


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_a_bad_input_exits_2_with_one_line_and_changes_nothing(
    attack: Attack, ctx: SimpleNamespace, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = attack.argv(ctx)
    capsys.readouterr()
    before = _snapshot(ctx.state, ctx.inputs, ctx.bad)
    code = main(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, f"exit {code}: {err}"
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error: ") and len(line) < 600, line
    assert attack.names in line, line
    for word in attack.cause:
        assert word in line, line
    assert SECRET not in err + out and "root:x:0" not in err + out and "hunter2" not in err + out
    assert _snapshot(ctx.state, ctx.inputs, ctx.bad) == before  # store, cache, reports, outputs untouched


@pytest.mark.parametrize(
    "attack_id",
    ["load-secret-symlink", "load-hanoi-sensor", "import-ckan-deep", "assign-units-zip-bomb", "fetch-503"],
)
def test_the_lab_command_itself_prints_the_same_one_line(attack_id: str, ctx: SimpleNamespace) -> None:
    """The installed entry point (a real process): exit 2 and one line on stderr, as in-process."""
    attack = next(a for a in ATTACKS if a.id == attack_id)
    before = _snapshot(ctx.state)
    proc = subprocess.run(
        [sys.executable, "-m", "lab", *attack.argv(ctx)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and attack.names in lines[0], proc.stderr
    assert SECRET not in proc.stderr
    assert _snapshot(ctx.state) == before
