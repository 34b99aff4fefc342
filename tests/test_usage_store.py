"""The event store: incremental and idempotent ingest, atomic per file (a killed ingest leaves the
store as it was), the keyed-hash secret, and no raw IP address or account id anywhere in the store."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from lab import usage
from lab.usage.privacy import SecretError, load_secret
from lab.usage.store import EventStore, StoreError

SECRET = "store-test-secret-0123456789"
IPS = ["192.0.2.11", "192.0.2.12", "203.0.113.77", "198.51.100.3"]
ACCOUNTS = ["acc_secret_0001", "acc_secret_0002"]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_USAGE_SECRET", SECRET)


def write_log(path: Path, months: tuple[str, ...] = ("Apr", "May"), n: int = 40) -> Path:
    """A combined log spanning ``months`` of 2024, visitors from :data:`IPS`."""
    lines = [
        f"{IPS[i % len(IPS)]} - - [{10 + i % 15:02d}/{mon}/2024:{8 + i % 9:02d}:{i % 60:02d}:00 +0700] "
        f'"GET /dulieuchitiet/{101000 + i % 7} HTTP/1.1" 200 999 "-" '
        f'"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/12{i % 3}.0.0.0 Safari/537.36"'
        for mon in months
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_gateway(path: Path) -> Path:
    rows = ["timestamp,client_ip,consumer_key,account_id,path,status,content_type,bytes"] + [
        f"2024-05-0{1 + i % 5}T10:00:0{i % 10}+07:00,{IPS[i % 4]},app_x,{ACCOUNTS[i % 2]},"
        "/api/dataset/MTAyNTI4,200,application/json,1000"
        for i in range(20)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def snapshot(store: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(store)): p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def test_reingesting_a_file_changes_nothing(tmp_path: Path) -> None:
    log = write_log(tmp_path / "access.log")
    (first,) = usage.ingest(log, "combined", store=tmp_path / "s")
    assert (
        first.status == "ingested"
        and first.events_kept == 80
        and (first.first_month, first.last_month)
        == (
            "2024-04",
            "2024-05",
        )
    )
    before = snapshot(tmp_path / "s")
    copy = tmp_path / "renamed.log"  # same content under another name: same file
    copy.write_bytes(log.read_bytes())
    again = usage.ingest([log, copy], "combined", store=tmp_path / "s")
    assert [r.status for r in again] == ["already ingested", "already ingested"]
    assert again[0].events_kept == 80
    assert snapshot(tmp_path / "s") == before
    parts = EventStore(tmp_path / "s").part_files()
    assert [p.relative_to(tmp_path / "s").parent.as_posix() for p in parts] == [
        "year=2024/month=04",
        "year=2024/month=05",
    ]


def test_incremental_ingest_adds_new_files(tmp_path: Path) -> None:
    usage.ingest(write_log(tmp_path / "a.log", ("Apr",)), "combined", store=tmp_path / "s")
    usage.ingest(write_log(tmp_path / "b.log", ("Jun",)), "combined", store=tmp_path / "s")
    store = EventStore(tmp_path / "s")
    assert len(store.entries()) == 2
    months = store.scan().select("month").unique().collect().get_column("month").sort().to_list()
    assert months == [4, 6]
    covered = store.coverage().get_column("month").dt.strftime("%Y-%m").to_list()
    assert covered == ["2024-04", "2024-06"]


KILL = """
import os, sys
import lab.usage.store as store_module
calls = []
real = os.replace
def dying(src, dst):
    if "part-" in str(dst):
        calls.append(dst)
    if len(calls) == 2:
        os._exit(9)  # killed half-way through moving the parts into place: no cleanup runs
    real(src, dst)
store_module.os.replace = dying
from lab import usage
usage.ingest(sys.argv[1], "combined", store=sys.argv[2])
"""


def test_a_killed_ingest_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    store_dir = tmp_path / "s"
    usage.ingest(write_log(tmp_path / "old.log", ("Mar",)), "combined", store=store_dir)
    store = EventStore(store_dir)
    before_rows = store.scan().collect().sort("ts", "visitor_key")
    before_ledger = (store_dir / "_ledger.json").read_bytes()
    new = write_log(tmp_path / "new.log", ("Apr", "May", "Jun"))
    env = {**os.environ, "LAB_USAGE_SECRET": SECRET}
    proc = subprocess.run(
        [sys.executable, "-c", KILL, str(new), str(store_dir)], env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == 9, proc.stderr.decode()[-2000:]
    # one part of the new file reached its place, but the ledger does not list it: readers never see it
    assert len(list(store_dir.glob("year=*/month=*/part-*.parquet"))) == 2
    assert (store_dir / "_ledger.json").read_bytes() == before_ledger
    assert store.scan().collect().sort("ts", "visitor_key").equals(before_rows)
    # the next ingest cleans up, and the file can be ingested again, completely
    (again,) = usage.ingest(new, "combined", store=store_dir)
    assert again.status == "ingested" and again.events_kept == 120
    assert len(list(store_dir.glob("year=*/month=*/part-*.parquet"))) == 4
    assert not any((store_dir / ".staging").iterdir())
    assert store.scan().collect().height == before_rows.height + 120


def test_no_raw_ip_or_account_id_anywhere_in_the_store(tmp_path: Path) -> None:
    store_dir = tmp_path / "s"
    usage.ingest(write_log(tmp_path / "access.log"), "combined", store=store_dir)
    usage.ingest(write_gateway(tmp_path / "gateway.csv"), "gateway-csv", store=store_dir)
    signups = tmp_path / "signups.csv"
    signups.write_text(
        "timestamp,account_id\n" + "".join(f"2024-05-01T08:00:00Z,{a}\n" for a in ACCOUNTS), encoding="utf-8"
    )
    usage.ingest(signups, "accounts", store=store_dir)
    secrets_ = [s.encode() for s in [*IPS, *ACCOUNTS]]
    files = [p for p in store_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    for path in files:  # the bytes on disk (Parquet files and the ledger) ...
        data = path.read_bytes()
        assert not [s for s in secrets_ if s in data], path
    events = EventStore(store_dir).scan().collect()  # ... and every decoded value
    text = events.select(pl.all().cast(pl.String)).unpivot().get_column("value").drop_nulls()
    assert not text.str.contains("|".join(s.decode() for s in secrets_).replace(".", r"\.")).any()
    # the keys still tell visitors and accounts apart, and the same account is the same key everywhere
    assert events.filter(pl.col("channel") == "api").get_column("account_key").n_unique() == 2
    signup_keys = set(events.filter(pl.col("event") == "signup").get_column("account_key"))
    assert signup_keys == set(events.filter(pl.col("channel") == "api").get_column("account_key"))


def test_secret_file_is_created_once_with_0600(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LAB_USAGE_SECRET")
    monkeypatch.delenv("LAB_USAGE_SECRET_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    first = load_secret()
    path = tmp_path / "config" / "lab" / "usage-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) == 64
    assert load_secret() == first
    monkeypatch.setenv("LAB_USAGE_SECRET", "short")
    with pytest.raises(SecretError, match="shorter than 16"):
        load_secret()


def test_a_store_refuses_another_secret_and_mixing_demo_with_real_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store_dir = tmp_path / "s"
    usage.ingest(write_log(tmp_path / "a.log", ("Apr",)), "combined", store=store_dir)
    monkeypatch.setenv("LAB_USAGE_SECRET", "another-secret-9876543210")
    with pytest.raises(StoreError, match="another usage secret"):
        usage.ingest(write_log(tmp_path / "b.log", ("May",)), "combined", store=store_dir)
    monkeypatch.setenv("LAB_USAGE_SECRET", SECRET)
    with pytest.raises(StoreError, match="holds real usage data"):
        usage.ingest(write_log(tmp_path / "c.log", ("Jun",)), "combined", store=store_dir, synthetic=True)
    ledger = json.loads((store_dir / "_ledger.json").read_text(encoding="utf-8"))
    assert len(ledger["files"]) == 1 and ledger["secret_fingerprint"] and SECRET not in json.dumps(ledger)


def test_a_folder_of_parquet_files_without_a_ledger_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "year=2024" / "month=01").mkdir(parents=True)
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "year=2024" / "month=01" / "x.parquet")
    with pytest.raises(StoreError, match="not a lab usage store"):
        EventStore(tmp_path).ledger()
    assert EventStore(tmp_path / "empty").scan().collect().is_empty()


def test_spilling_staged_events_to_disk_gives_the_same_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib

    base = importlib.import_module("lab.usage.adapters.base")
    ingest_module = importlib.import_module("lab.usage.ingest")  # lab.usage.ingest is also the function

    log = write_log(tmp_path / "access.log", ("Apr", "May", "Jun"), n=200)
    usage.ingest(log, "combined", store=tmp_path / "held")
    monkeypatch.setattr(ingest_module, "SPILL_ROWS", 50)  # spill after every batch
    monkeypatch.setattr(base, "CHUNK_BYTES", 4096)  # many small batches
    usage.ingest(log, "combined", store=tmp_path / "spilled")
    key = ["ts", "visitor_key", "event", "dataset_id"]
    held = EventStore(tmp_path / "held").scan().collect().sort(key)
    spilled = EventStore(tmp_path / "spilled").scan().collect().sort(key)
    assert held.height == 600 and held.drop("source_file").equals(spilled.drop("source_file"))


def test_two_ingests_at_once_wait_for_each_other(tmp_path: Path) -> None:
    """A report's two languages run in parallel and both fill the same store: the second waits."""
    store_dir = tmp_path / "s"
    logs = [write_log(tmp_path / f"{m}.log", (m,)) for m in ("Apr", "May")]
    env = {**os.environ, "LAB_USAGE_SECRET": SECRET}
    code = "import sys; from lab import usage; usage.ingest(sys.argv[1], 'combined', store=sys.argv[2])"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(log), str(store_dir)], env=env, stderr=subprocess.PIPE
        )
        for log in logs
    ]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()[-2000:]
    assert len(EventStore(store_dir).entries()) == 2
    assert EventStore(store_dir).scan().collect().height == 80
