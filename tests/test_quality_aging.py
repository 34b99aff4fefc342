"""Freshness in HDX's vocabulary with history (issue 18 part 2): the aging table as HDX publishes it,
change detection by catalog date, then HTTP Last-Modified, then content hash (on files fetched for real
from a server on 127.0.0.1 into the cache), an append-only history, and the share of fresh datasets per
month and per agency."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from support.httpserver import LocalServer, Reply

from lab import fetch as lab_fetch
from lab.catalog import Catalog, Dataset, Distribution
from lab.quality import aging
from lab.quality.vocab import aging_table

# HDX's aging table (../shared/design/stack-notes.md): due / overdue / delinquent days
HDX = {"daily": (1, 2, 3), "weekly": (7, 14, 21), "monthly": (30, 44, 60), "quarterly": (90, 120, 150)}
HDX["annual"] = (365, 425, 455)  # HDX's "yearly"


def test_vocabulary_holds_hdx_table_with_its_source() -> None:
    from importlib import resources

    import yaml

    doc = yaml.safe_load(resources.files("lab").joinpath("vocab/quality/freshness.yaml").read_text("utf-8"))
    assert "hdx-data-freshness" in doc["source"]
    assert doc["aging"]["half_yearly"] == {"due": 180, "overdue": 210, "delinquent": 240}
    assert doc["aging"]["every_two_years"] == {"due": 730, "overdue": 785, "delinquent": 840}
    assert doc["aging"]["fortnightly"] == {"due": 14, "overdue": 21, "delinquent": 28}
    table = {r["frequency"]: r for r in aging_table().iter_rows(named=True)}
    for freq, (due, overdue, delinquent) in HDX.items():
        assert (table[freq]["due"], table[freq]["overdue"], table[freq]["delinquent"]) == (
            due,
            overdue,
            delinquent,
        )


@pytest.mark.parametrize("frequency", sorted(HDX))
def test_status_at_each_threshold(frequency: str) -> None:
    due, overdue, delinquent = HDX[frequency]
    as_of = date(2026, 6, 30)
    ages = [0, due - 1, due, overdue - 1, overdue, delinquent - 1, delinquent, delinquent + 400]
    frame = pl.DataFrame({"frequency": [frequency] * len(ages), "age": ages}).with_columns(
        last_update=pl.lit(as_of) - pl.duration(days=pl.col("age"))
    )
    got = aging.hdx_status(frame, as_of=as_of)
    assert got["age_days"].to_list() == ages
    expected = ["fresh", "fresh", "due", "due", "overdue", "overdue", "delinquent", "delinquent"]
    assert got["status"].to_list() == expected


def test_always_fresh_and_unknown() -> None:
    frame = pl.DataFrame(
        {
            "frequency": ["irregular", "never", "continuous", "unknown", None, "monthly"],
            "last_update": [date(2000, 1, 1), None, None, date(2026, 1, 1), date(2026, 1, 1), None],
        },
        schema={"frequency": pl.String, "last_update": pl.Date},
    )
    got = aging.hdx_status(frame, as_of=date(2026, 6, 30))["status"].to_list()
    assert got == ["fresh", "fresh", "fresh", "unknown", "unknown", "unknown"]


# ------------------------------------------------------------------- change detection on a real cache
def make_catalog(url: str, modified: date) -> Catalog:
    ds = Dataset(
        id="gia-nuoc",
        title={"vi": "Giá nước", "en": "Water prices"},
        publisher="Sở Xây dựng",
        theme=("economy",),
        license="CC-BY-4.0",
        frequency="monthly",
        access_rights="public",
        distributions=(Distribution(format="CSV", download_url=url),),
        issued=date(2025, 1, 1),
        modified=modified,
    )
    return Catalog(path=Path("datasets.yaml"), title={"vi": "t", "en": "t"}, datasets={ds.id: ds})


def test_changes_by_catalog_date_then_last_modified_then_content_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_OFFLINE", "0")
    served = {"body": b"thang,gia\n2025-09,7500\n", "lm": "Wed, 01 Oct 2025 07:00:00 GMT", "etag": '"1"'}
    history = tmp_path / "freshness.parquet"
    with LocalServer() as srv:
        srv.route(
            "/gia.csv",
            lambda req: Reply(
                200,
                served["body"],
                {"Content-Type": "text/csv", "Last-Modified": served["lm"], "ETag": served["etag"]},
            ),
        )
        url = srv.url("/gia.csv")

        def observe(modified: date, day: date, refresh: bool) -> pl.DataFrame:
            catalog = make_catalog(url, modified)
            ds = catalog.get("gia-nuoc")
            lab_fetch.fetch(ds, ds.distributions[0], catalog_root=tmp_path, refresh=refresh)
            return aging.record(history, aging.catalog_observations(catalog), day)

        first = observe(date(2025, 10, 1), date(2025, 10, 5), False)
        assert first.select("method", "changed").rows() == [("first_seen", date(2025, 10, 1))]
        assert first["sha256"][0] == __import__("hashlib").sha256(served["body"]).hexdigest()
        assert first["last_modified"][0] == date(2025, 10, 1)
        # nothing new: nothing recorded, the file untouched
        before = history.read_bytes()
        assert observe(date(2025, 10, 1), date(2025, 10, 20), True).height == 0
        assert history.read_bytes() == before
        # the catalog date moves (the server's file too): the catalog date wins, dated by it
        served.update(body=b"thang,gia\n2025-10,7600\n", lm="Sat, 01 Nov 2025 08:00:00 GMT", etag='"2"')
        second = observe(date(2025, 11, 2), date(2025, 11, 5), True)
        assert second.select("method", "changed").rows() == [("catalog_date", date(2025, 11, 2))]
        # the catalog forgets to move its date; the server says Last-Modified
        served.update(body=b"thang,gia\n2025-11,7700\n", lm="Mon, 01 Dec 2025 09:00:00 GMT", etag='"3"')
        third = observe(date(2025, 11, 2), date(2025, 12, 6), True)
        assert third.select("method", "changed").rows() == [("last_modified", date(2025, 12, 1))]
        # neither date moves, the bytes do: the content hash, dated by the observation
        served.update(body=b"thang,gia\n2025-12,7800\n", etag='"4"')
        fourth = observe(date(2025, 11, 2), date(2026, 1, 7), True)
        assert fourth.select("method", "changed").rows() == [("content_hash", date(2026, 1, 7))]

    full = aging.read_history(history)
    assert full["method"].to_list() == ["first_seen", "catalog_date", "last_modified", "content_hash"]
    assert full.slice(0, 1).equals(first)  # append-only: the first row is unchanged
    # an observation older than the last one is refused, the history untouched
    before = history.read_bytes()
    stale = aging.catalog_observations(make_catalog("https://example.invalid/x.csv", date(2027, 1, 1)))
    with pytest.raises(aging.FreshnessHistoryError, match="append-only"):
        aging.record(history, stale, date(2025, 12, 31))
    assert history.read_bytes() == before

    # statuses through time follow the history, not the catalog date alone
    datasets = pl.DataFrame(
        {
            "id": ["gia-nuoc"],
            "frequency": ["monthly"],
            "publisher": ["Sở Xây dựng"],
            "issued": [date(2025, 1, 1)],
        }
    )
    on = aging.status_as_of(
        datasets.with_columns(modified=pl.lit(date(2025, 11, 2))), full, date(2026, 1, 20)
    )
    assert on.select("last_update", "last_method", "age_days", "status").row(0) == (
        date(2026, 1, 7),
        "content_hash",
        13,
        "fresh",
    )
    share = aging.fresh_share(datasets, full, ["2025-10", "2025-12", "2026-02", "2026-03", "2026-04"])
    portal = share.filter(pl.col("agency").is_null())
    # Oct 31: 30 days after Oct 1 (due); Dec 31: 30 after Dec 1 (due); Feb 28: 52 after Jan 7 (overdue);
    # Mar 31: 83 (delinquent)
    assert portal["due"].to_list()[:2] == [1, 1]
    assert portal.select("overdue", "delinquent").rows()[2:4] == [(1, 0), (0, 1)]
    assert portal["fresh_share"].to_list()[:2] == [0.0, 0.0]


def test_fresh_share_per_month_and_agency() -> None:
    datasets = pl.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "frequency": ["monthly", "monthly", "annual", "unknown"],
            "publisher": ["Sở Y tế", "Sở Y tế", "Sở Giao thông vận tải", "Sở Giao thông vận tải"],
            "issued": [date(2025, 1, 1)] * 4,
        }
    )
    history = pl.DataFrame(
        {
            "dataset_id": ["a", "a", "b", "c", "d"],
            "observed": [
                date(2026, 1, 1),
                date(2026, 2, 20),
                date(2026, 1, 1),
                date(2026, 1, 1),
                date(2026, 1, 1),
            ],
            "changed": [
                date(2025, 12, 20),
                date(2026, 2, 20),
                date(2025, 11, 1),
                date(2025, 6, 1),
                date(2025, 1, 1),
            ],
            "method": ["first_seen", "catalog_date", "first_seen", "first_seen", "first_seen"],
            "catalog_modified": [None] * 5,
            "last_modified": [None] * 5,
            "sha256": [None] * 5,
        },
        schema=aging.HISTORY_SCHEMA,
    )
    share = aging.fresh_share(datasets, history, ["2026-01", "2026-02"])
    rows = {(r["month"], r["agency"]): r for r in share.iter_rows(named=True)}
    jan = rows[("2026-01", None)]
    # Jan 31: a 42 days (due), b 91 (delinquent), c 244 (fresh), d unknown
    assert (jan["fresh"], jan["due"], jan["delinquent"], jan["unknown"], jan["datasets"]) == (1, 1, 1, 1, 4)
    assert jan["fresh_share"] == pytest.approx(1 / 3)
    feb_health = rows[("2026-02", "Sở Y tế")]
    assert (feb_health["fresh"], feb_health["delinquent"], feb_health["fresh_share"]) == (1, 1, 0.5)
    assert rows[("2026-02", "Sở Giao thông vận tải")]["fresh_share"] == 1.0


def test_cli_freshness_records_and_prints(tmp_path: Path, root: Path) -> None:
    history = tmp_path / "h.parquet"
    cmd = [
        sys.executable,
        "-m",
        "lab",
        "quality",
        "freshness",
        "--as-of",
        "2026-03-01",
        "--history",
        str(history),
    ]
    run = subprocess.run([*cmd, "--json"], capture_output=True, text=True, cwd=root)
    assert run.returncode == 0, run.stderr
    import json

    out = json.loads(run.stdout)
    assert {"datasets", "share"} <= out.keys() and out["datasets"]
    assert all(d["status"] in aging.STATUSES for d in out["datasets"])
    assert history.exists() and aging.read_history(history).height == len(out["datasets"])
    again = subprocess.run([*cmd, "--json"], capture_output=True, text=True, cwd=root)
    assert again.returncode == 0 and aging.read_history(history).height == len(out["datasets"])
    (tmp_path / "bad.parquet").write_text("not parquet")
    bad = subprocess.run([*cmd[:-1], str(tmp_path / "bad.parquet")], capture_output=True, text=True, cwd=root)
    assert bad.returncode == 2 and "bad.parquet" in bad.stderr and "Traceback" not in bad.stderr


def test_demo_portal_statuses_follow_the_aging_table(
    demo_portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every dataset of the demo portal's listing gets the status the aging table gives for its frequency
    and age, computed here by hand from the table in the issue (HDX's)."""
    from lab.catalog import load_catalog
    from lab.loader import load
    from lab.quality.metadata import from_listing

    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    listing = load("portal-datasets", catalog=load_catalog())
    meta = from_listing(listing).datasets.select("id", "publisher", "frequency", "modified", "issued")
    as_of = date(2026, 10, 31)
    got = aging.status_as_of(meta, pl.DataFrame(schema=aging.HISTORY_SCHEMA), as_of)
    always = {"irregular", "never", "continuous"}
    for row in got.iter_rows(named=True):
        last = row["modified"] if row["modified"] and row["modified"] <= as_of else row["issued"]
        if row["frequency"] in always:
            expected = "fresh"
        elif row["frequency"] not in HDX or last is None or last > as_of:
            expected = "unknown"
        else:
            due, overdue, delinquent = HDX[row["frequency"]]
            age = (as_of - last).days
            expected = (
                "delinquent"
                if age >= delinquent
                else "overdue"
                if age >= overdue
                else "due"
                if age >= due
                else "fresh"
            )
        assert row["status"] == expected, row
    assert {"fresh", "delinquent"} <= set(got["status"])
