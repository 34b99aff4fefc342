"""Issue 19 (usage defects 1, 2, 3 and the usage cases of 10): no double counting, no lost data, no
poisoning timestamp, one-line errors.

Each test failed before the fix: whole-file hashes only (the same log with one more line end counted
twice), a file that kept nothing recorded as ingested, a year-9999 line breaking every KPI, and
"unexpected X" exits.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from lab import usage
from lab.usage.ingest import NothingKeptError
from lab.usage.store import EventStore, StoreError

SECRET = "trust-test-secret-0123456789abcdef"
IPS = ["192.0.2.11", "192.0.2.12", "203.0.113.77", "198.51.100.3"]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_USAGE_SECRET", SECRET)


def log_lines(month: str, n: int = 60) -> list[str]:
    """Combined-log lines of one month of 2024 (four visitors, seven datasets; synthetic)."""
    return [
        f"{IPS[i % 4]} - - [{1 + i % 28:02d}/{month}/2024:{8 + i % 9:02d}:{i % 60:02d}:{i % 7:02d} +0700] "
        f'"GET /dulieuchitiet/{101000 + i % 7} HTTP/1.1" 200 {900 + i} "-" '
        f'"Mozilla/5.0 (X11; Linux x86_64) Firefox/12{i % 3}.0"'
        for i in range(n)
    ]


def write(path: Path, lines: list[str], tail: str = "\n") -> Path:
    path.write_text("\n".join(lines) + tail, encoding="utf-8")
    return path


def lab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lab", *args], capture_output=True, text=True, timeout=300, check=False
    )


def snapshot(store: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(store)): p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def totals(store: Path) -> list[dict]:
    return usage.portal_totals(store, min_count=0).drop("source").to_dicts()


# ------------------------------------------------------------------------------- 1 double counting
def test_the_same_log_with_one_more_line_end_counts_once(tmp_path: Path) -> None:
    lines = log_lines("Apr") + log_lines("May")
    first = write(tmp_path / "access.log", lines)
    again = write(tmp_path / "access-copy.log", lines, tail="\n\n")
    store = tmp_path / "s"
    usage.ingest(first, "combined", store=store)
    once = totals(store)
    events = EventStore(store).scan().collect().height
    (result,) = usage.ingest(again, "combined", store=store)
    assert result.status == "already in the store" and result.duplicates == len(lines)
    assert totals(store) == once
    assert EventStore(store).scan().collect().height == events
    assert len(EventStore(store).entries()) == 1  # nothing kept: not recorded


def test_a_rotated_logs_halves_and_the_whole_log_count_once(tmp_path: Path) -> None:
    april, may = log_lines("Apr"), log_lines("May")
    whole = write(tmp_path / "access.log", april + may)
    reference = tmp_path / "ref"
    usage.ingest(whole, "combined", store=reference)

    store = tmp_path / "s"
    usage.ingest(write(tmp_path / "access.log.1", april), "combined", store=store)
    usage.ingest(write(tmp_path / "access.log.2", may), "combined", store=store)
    usage.ingest(whole, "combined", store=store)
    assert totals(store) == totals(reference)
    assert EventStore(store).scan().collect().height == len(april) + len(may)
    # a log overlapping half of what is stored adds only the other half
    store2 = tmp_path / "s2"
    usage.ingest(write(tmp_path / "a.log", april), "combined", store=store2)
    (r,) = usage.ingest(whole, "combined", store=store2)
    assert (r.duplicates, r.events_kept) == (len(april), len(may))
    assert totals(store2) == totals(reference)


def test_identical_requests_in_one_log_stay_two_events(tmp_path: Path) -> None:
    line = log_lines("Apr", 1)[0]
    store = tmp_path / "s"
    (r,) = usage.ingest(write(tmp_path / "twice.log", [line, line]), "combined", store=store)
    assert r.events_kept == 2
    (r,) = usage.ingest(write(tmp_path / "thrice.log", [line, line, line]), "combined", store=store)
    assert (r.duplicates, r.events_kept) == (2, 1)


def test_a_store_of_another_demo_is_refused_not_mixed(tmp_path: Path) -> None:
    store = tmp_path / "s"
    demo_a = {"generator": "lab.demo", "format_version": 1, "seed": 2017, "scale": 0.01}
    usage.ingest(
        write(tmp_path / "a.log", log_lines("Apr")), "combined", store=store, demo=demo_a, synthetic=True
    )
    before = snapshot(store)
    with pytest.raises(StoreError, match="another demo portal"):
        usage.ingest(
            write(tmp_path / "b.log", log_lines("May")),
            "combined",
            store=store,
            demo={**demo_a, "seed": 7},
            synthetic=True,
        )
    assert snapshot(store) == before
    assert EventStore(store).ledger()["demo"] == demo_a


# ----------------------------------------------------------------------------------- 2 lost data
def test_the_wrong_format_keeps_nothing_records_nothing_and_the_right_one_works(tmp_path: Path) -> None:
    gateway = tmp_path / "gateway.csv"
    gateway.write_text(
        "timestamp,client_ip,consumer_key,account_id,path,status,content_type,bytes\n"
        + "".join(
            f"2024-05-0{1 + i % 5}T10:00:0{i % 10}+07:00,{IPS[i % 4]},app_x,acc_{i % 2},"
            "/api/dataset/MTAyNTI4,200,application/json,1000\n"
            for i in range(20)
        ),
        encoding="utf-8",
    )
    store = tmp_path / "s"
    usage.ingest(write(tmp_path / "web.log", log_lines("Apr")), "combined", store=store)
    before = snapshot(store)
    proc = lab("usage", "ingest", "--format", "combined", str(gateway), "--store", str(store))
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "gateway.csv" in line and "all 21 lines rejected" in line and "first: line 1" in line
    assert snapshot(store) == before
    (r,) = usage.ingest(gateway, "gateway-csv", store=store)
    assert r.status == "ingested" and r.events_kept == 20
    sha = r.sha256
    st = EventStore(store)
    assert st.entry(sha, "gateway-csv") is not None and st.entry(sha, "combined") is None
    assert all(p.name.endswith("-gateway-csv.parquet") for p in st.part_files() if sha[:16] in p.name)


def test_forget_removes_a_files_parts_and_ledger_entry(tmp_path: Path) -> None:
    store = tmp_path / "s"
    april = write(tmp_path / "april.log", log_lines("Apr"))
    may = write(tmp_path / "may.log", log_lines("May"))
    usage.ingest(april, "combined", store=store)
    alone = totals(store)
    (r,) = usage.ingest(may, "combined", store=store)
    proc = lab("usage", "forget", str(may), "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    assert "forgot may.log" in proc.stdout
    st = EventStore(store)
    assert [e["name"] for e in st.entries()] == ["april.log"]
    assert not list(store.glob(f"year=*/month=*/*{r.sha256[:16]}*"))
    assert [t for t in totals(store) if t["period"] == "2024-04"] == [
        t for t in alone if t["period"] == "2024-04"
    ]
    # by sha256 prefix; and again: one line, exit 2
    (r2,) = usage.ingest(may, "combined", store=store)
    assert r2.status == "ingested"
    assert lab("usage", "forget", r2.sha256[:12], "--store", str(store)).returncode == 0
    proc = lab("usage", "forget", r2.sha256[:12], "--store", str(store))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


# -------------------------------------------------------------------------------- 3 bad timestamps
def test_implausible_timestamps_are_rejected_and_do_not_poison_the_store(tmp_path: Path) -> None:
    good = log_lines("May", 30)
    bad = [
        good[0].replace("/2024:", "/9999:"),
        good[1].replace("/2024:", "/0001:"),
        good[2].replace("/2024:", "/2099:"),
    ]
    store = tmp_path / "s"
    (r,) = usage.ingest(write(tmp_path / "access.log", good + bad), "combined", store=store)
    assert r.lines_rejected == 3 and r.events_kept == 30
    assert [k for k in r.reasons if k.startswith("time outside the plausible window 2017-01-01")]
    assert (r.first_month, r.last_month) == ("2024-05", "2024-05")
    proc = lab("usage", "kpis", "--store", str(store), "--json")
    assert proc.returncode == 0, proc.stderr
    assert [rec["period"] for rec in json.loads(proc.stdout)] == ["2024-05"]
    # the window is configurable: April is before 2024-05-01, every line rejected
    with pytest.raises(NothingKeptError, match=r"all 10 lines rejected.*plausible window 2024-05-01"):
        usage.ingest(
            write(tmp_path / "old.log", log_lines("Apr", 10)),
            "combined",
            store=tmp_path / "s2",
            earliest="2024-05-01",
        )
    (r,) = usage.ingest(tmp_path / "old.log", "combined", store=tmp_path / "s3", latest="2024-04-30")
    assert r.events_kept == 10


# ------------------------------------------------------------------------------- 10 one-line exits
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["usage", "kpis", "--min-count", "-1", "--json"], "--min-count must be 0 or more"),
        (["usage", "top", "--min-count", "-1", "--json"], "--min-count must be 0 or more"),
        (
            ["usage", "ingest", "--format", "combined", "LOG", "--store-timezone", "Mars/Olympus"],
            "Mars/Olympus",
        ),
        (["usage", "ingest", "--format", "combined", "LOG", "--timezone", "Nowhere/Else"], "Nowhere/Else"),
        (["usage", "ingest", "--format", "combined", "LOG", "--earliest", "2017-13-45"], "2017-13-45"),
        (["usage", "ingest", "--format", "combined", "NUL"], "nothing kept"),
    ],
)
def test_bad_usage_input_exits_2_with_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    store = tmp_path / "s"
    usage.ingest(write(tmp_path / "ok.log", log_lines("May", 10)), "combined", store=store)
    before = snapshot(store)
    nul = tmp_path / "binary.log"
    nul.write_bytes(b"\x00\x01\x02 binary \x00\n" * 50)
    args = [{"LOG": str(tmp_path / "ok.log"), "NUL": str(nul)}.get(a, a) for a in args] + [
        "--store",
        str(store),
    ]
    proc = lab(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "unexpected" not in lines[0], proc.stderr
    assert snapshot(store) == before


def test_dedup_keys_come_from_polars_vectorised_hashing() -> None:
    from lab.usage.dedup import with_event_keys

    frame = pl.DataFrame(
        {
            "ts": [None, None],
            "channel": ["web", "web"],
            "event": ["dataset_view", "dataset_view"],
            "visitor_key": [1, 1],
            "account_key": [None, None],
            "dataset_id": ["1", "1"],
            "app_id": [None, None],
            "status": [200, 200],
            "bytes": [9, 9],
        }
    )
    keys = with_event_keys(frame).collect().get_column("_key")
    assert keys.dtype == pl.UInt64 and keys.n_unique() == 2  # two occurrences, two keys
