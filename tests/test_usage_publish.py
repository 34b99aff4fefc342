"""``lab usage publish``: one month of usage as an open dataset. The CSV files validate against their
CSVW metadata (columns, datatypes, required cells, primary keys), no count between 1 and min_count − 1
is shown, totals of the dataset metrics are sums of the shown dataset cells, the catalog entry passes
``lab catalog validate``, and a re-run is byte-identical.

Stores: a small one built from log lines whose every count is known, and the seeded synthetic store
of :mod:`lab.usage.synthetic` (synthetic, never the portal's figures)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from lab import usage
from lab.catalog import validate
from lab.usage.kpis import DATASET_METRICS
from lab.usage.publish import PublishError, publish

SECRET = "publish-test-secret-0123456789"
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36"


def web(ip: str, when: str, path: str) -> str:
    return f'{ip} - - [{when} +0700] "GET {path} HTTP/1.1" 200 100 "-" "{UA}"'


# January 2024: dataset 101 (MTAx) gets 6 API calls from app_x, dataset 102 (MTAy) 3 from app_y;
# seven visitors view 101 once each, one visitor views 102
GATEWAY = (
    ["timestamp,client_ip,consumer_key,account_id,path,status,content_type"]
    + [
        f"2024-01-{10 + i:02d}T10:00:00+07:00,192.0.2.50,app_x,acc_1,/api/dataset/MTAx,200,application/json"
        for i in range(6)
    ]
    + [
        f"2024-01-{20 + i:02d}T10:00:00+07:00,192.0.2.51,app_y,acc_2,/api/dataset/MTAy,200,application/json"
        for i in range(3)
    ]
)
WEB = [web(f"192.0.2.{10 + i}", f"0{1 + i}/Jan/2024:09:00:00", "/dulieuchitiet/101") for i in range(7)] + [
    web("192.0.2.99", "09/Jan/2024:09:00:00", "/dulieuchitiet/102")
]


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("LAB_USAGE_SECRET", SECRET)
    folder = tmp_path_factory.mktemp("publish")
    (folder / "gateway.csv").write_text("\n".join(GATEWAY) + "\n", encoding="utf-8")
    (folder / "access.log").write_text("\n".join(WEB) + "\n", encoding="utf-8")
    s = folder / "store"
    usage.ingest(folder / "access.log", "combined", store=s)
    usage.ingest(folder / "gateway.csv", "gateway-csv", store=s)
    mp.undo()
    return s


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lab.usage.synthetic import generate_store

    mp = pytest.MonkeyPatch()
    mp.setenv("LAB_USAGE_SECRET", SECRET)
    folder = tmp_path_factory.mktemp("publish-syn") / "store"
    generate_store(folder, scale=0.01, first="2025-11", last="2026-02", seed=7)
    mp.undo()
    return folder


# ------------------------------------------------------------------ a CSVW checker for the datatypes used
CELL = {
    "gYearMonth": re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])$"),
    "nonNegativeInteger": re.compile(r"^\+?\d+$"),
    "boolean": re.compile(r"^(true|false|1|0)$"),
    "string": re.compile(r"^.*$", re.S),
}


def check_csvw(metadata_file: Path) -> dict[str, pl.DataFrame]:
    """Validate every table of a CSVW table group (W3C Metadata Vocabulary for Tabular Data, the parts
    the lab uses): the header row equals the columns' names in order, each non-null cell is in its
    datatype's lexical space, required cells are not null, primary keys are unique. Returns the
    tables read as text."""
    meta = json.loads(metadata_file.read_text(encoding="utf-8"))
    assert "http://www.w3.org/ns/csvw" in meta["@context"]
    assert meta["dialect"]["header"] is True and meta["dialect"]["encoding"] == "utf-8"
    null = meta.get("null", "")
    tables = {}
    for table in meta["tables"]:
        path = metadata_file.parent / table["url"]
        raw = path.read_bytes()
        assert b"\r" not in raw and raw.endswith(b"\n")
        with path.open(encoding="utf-8", newline="") as fh:
            header, *body = list(csv.reader(fh))
        frame = pl.DataFrame(body, schema={h: pl.String for h in header}, orient="row")
        columns = table["tableSchema"]["columns"]
        assert frame.columns == [c["name"] for c in columns], path.name
        for col in columns:
            values = frame.get_column(col["name"]).to_list()
            pattern = CELL[col["datatype"]]
            for i, v in enumerate(values):
                if v == null:
                    assert not col.get("required"), f"{path.name} row {i + 2}: {col['name']} is required"
                    continue
                assert pattern.match(v), f"{path.name} row {i + 2}: {col['name']}={v!r} not {col['datatype']}"
        key = table["tableSchema"]["primaryKey"]
        assert frame.select(key).is_unique().all(), f"{path.name}: duplicate primary key"
        tables[table["url"]] = frame
    return tables


def count_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("period", "dataset_id") and not c.endswith("_suppressed")]


def test_small_store_published_cells_are_exact(small_store: Path, tmp_path: Path) -> None:
    result = publish(small_store, "2024-01", tmp_path / "out")
    names = [f.name for f in result.files]
    assert names == [
        "usage-2024-01-datasets.csv",
        "usage-2024-01-totals.csv",
        "usage-2024-01.csv-metadata.json",
        "usage-2024-01.catalog.yaml",
    ]
    tables = check_csvw(tmp_path / "out" / "usage-2024-01.csv-metadata.json")
    ds = tables["usage-2024-01-datasets.csv"]
    rows = {r["dataset_id"]: r for r in ds.iter_rows(named=True)}
    assert rows["101"]["api_calls"] == "6" and rows["101"]["api_calls_suppressed"] == "false"
    assert rows["101"]["dataset_views"] == "7"
    # 3 calls and 1 view of 102: hidden and flagged, never shown, never 0
    assert rows["102"]["api_calls"] == "" and rows["102"]["api_calls_suppressed"] == "true"
    assert rows["102"]["dataset_views"] == "" and rows["102"]["dataset_views_suppressed"] == "true"
    # no Zalo/SMS/app input: the inputs cannot tell, empty but not flagged
    assert rows["101"]["channel_requests"] == "" and rows["101"]["channel_requests_suppressed"] == "false"
    totals = tables["usage-2024-01-totals.csv"].row(0, named=True)
    # the total of a dataset metric is the sum of the shown cells (6), flagged: 102's calls are left out
    assert totals["api_calls"] == "6" and totals["api_calls_suppressed"] == "true"
    assert totals["dataset_views"] == "7" and totals["visits"] == "8"
    # two accounts were active: hidden too
    assert totals["active_accounts"] == "" and totals["active_accounts_suppressed"] == "true"
    assert result.datasets == 2 and result.suppressed == 5


def test_synthetic_month_validates_has_no_small_cell_and_is_idempotent(
    synthetic_store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = publish(synthetic_store, "2026-01", out, min_count=5)
    before = {f.name: f.read_bytes() for f in first.files}
    tables = check_csvw(out / "usage-2026-01.csv-metadata.json")
    ds = tables["usage-2026-01-datasets.csv"]
    assert ds.height == first.datasets > 100
    assert (ds.get_column("period") == "2026-01").all()
    for frame in tables.values():
        for c in count_columns(frame):
            shown = frame.get_column(c).filter(frame.get_column(c) != "").cast(pl.Int64)
            assert not ((shown > 0) & (shown < 5)).any(), c
    # some cells are hidden, and every hidden cell is flagged
    assert first.suppressed > 0
    for m in DATASET_METRICS:
        hidden = ds.filter(pl.col(f"{m}_suppressed") == "true")
        assert (hidden.get_column(m) == "").all()
    # totals of dataset metrics: sums of the shown dataset cells
    totals = tables["usage-2026-01-totals.csv"].row(0, named=True)
    for m in DATASET_METRICS:
        assert int(totals[m]) == ds.get_column(m).filter(ds.get_column(m) != "").cast(pl.Int64).sum()
    # byte-identical re-run, into the same folder and into another
    again = publish(synthetic_store, "2026-01", out, min_count=5)
    assert {f.name: f.read_bytes() for f in again.files} == before
    other = publish(synthetic_store, "2026-01", tmp_path / "other", min_count=5)
    assert {f.name: f.read_bytes() for f in other.files} == before
    # a later month published afterwards does not change this one
    publish(synthetic_store, "2026-02", out, min_count=5)
    assert (out / "usage-2026-01-datasets.csv").read_bytes() == before["usage-2026-01-datasets.csv"]


def test_catalog_entry_passes_lab_catalog_validate(synthetic_store: Path, tmp_path: Path) -> None:
    import yaml

    publish(synthetic_store, "2025-12", tmp_path)
    entry = tmp_path / "usage-2025-12.catalog.yaml"
    assert validate(entry) == []
    doc = yaml.safe_load(entry.read_text(encoding="utf-8"))
    ds = doc["datasets"][0]
    assert ds["frequency"] == "monthly" and ds["license"] == "CC-BY-4.0" and ds["access_rights"] == "public"
    assert ds["temporal"] == {"start": "2025-12-01", "end": "2025-12-31"}
    assert ds["synthetic"] is True and "không phải số liệu thật" in ds["description"]["vi"]
    assert [d["path"] for d in ds["distributions"]] == [
        "usage-2025-12-datasets.csv",
        "usage-2025-12-totals.csv",
        "usage-2025-12.csv-metadata.json",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "lab", "--catalog", str(entry), "catalog", "validate"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_cli_publish_and_bad_input(synthetic_store: Path, tmp_path: Path) -> None:
    def lab(*args: str) -> subprocess.CompletedProcess[str]:
        env_args = [sys.executable, "-m", "lab", "usage", "publish", *args]
        return subprocess.run(
            env_args, capture_output=True, text=True, env={**_env(), "LAB_USAGE_SECRET": SECRET}
        )

    ok = lab("--period", "2026-02", "--out", str(tmp_path / "o"), "--store", str(synthetic_store), "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["period"] == "2026-02"
    assert (tmp_path / "o" / "usage-2026-02.catalog.yaml").exists()
    # a month the store does not cover: one line, exit 2, nothing written
    none = lab("--period", "2027-01", "--out", str(tmp_path / "n"), "--store", str(synthetic_store))
    assert none.returncode == 2 and "covers 2027-01" in none.stderr and "Traceback" not in none.stderr
    assert not (tmp_path / "n").exists()
    # an output that is a file, a missing store, a public file showing every cell
    (tmp_path / "f").write_text("x")
    bad = lab("--period", "2026-02", "--out", str(tmp_path / "f"), "--store", str(synthetic_store))
    assert bad.returncode == 2 and "not a folder" in bad.stderr
    missing = lab("--period", "2026-02", "--out", str(tmp_path / "m"), "--store", str(tmp_path / "nostore"))
    assert missing.returncode == 2 and "no usage store" in missing.stderr
    with pytest.raises(PublishError, match="at least 2"):
        publish(synthetic_store, "2026-02", tmp_path / "z", min_count=1)
    with pytest.raises(PublishError, match="licences vocabulary"):
        publish(synthetic_store, "2026-02", tmp_path / "z", license_id="WTFPL")
    assert not (tmp_path / "z").exists()


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
