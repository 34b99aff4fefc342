"""Issue 14 (usage parts): real files from real platforms.

* one date parser for every facts adapter and channel export (:mod:`lab.usage.dates`);
* the Socrata site-metrics export exactly as a portal publishes it (``tests/data/usage/socrata``: the
  City of Austin's real export, see the README there): every non-empty ``page-views`` and
  ``users-created`` cell arrives exactly, an empty month stays null;
* nothing silently empty: a file whose every row is rejected exits 2 with one line and leaves the
  store as it was;
* imported facts answer in ``lab usage kpis`` and ``lab usage top`` with a ``source`` on every record:
  the all-time top 20 of the real data.gouv.fr per-dataset files equals the ranking the platform's
  own totals give (``totalVisits`` of each file, read here with ``json`` alone);
* the store's time zone is said in ``lab usage kpis --json`` and in the report's counting rules.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from lab import usage
from lab.cli import main
from lab.usage.dates import parse_date, parse_datetime, parse_month

DATA = Path(__file__).parent / "data" / "usage"
AUSTIN = DATA / "socrata" / "austin_site_metrics.csv"
SECRET = "real-files-test-secret-0123456789"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_USAGE_SECRET", SECRET)


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


# ------------------------------------------------------------------------------------------ dates
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00+07:00", datetime(2024, 5, 1, 3, tzinfo=UTC)),
        ("2024-05-01T03:00:00Z", datetime(2024, 5, 1, 3, tzinfo=UTC)),
        ("2024-05-01 10:00:00+0700", datetime(2024, 5, 1, 3, tzinfo=UTC)),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 3, tzinfo=UTC)),  # naive: the zone given (ICT)
        ("2024-05-01", datetime(2024, 4, 30, 17, tzinfo=UTC)),
        ("2024-05", datetime(2024, 4, 30, 17, tzinfo=UTC)),
        ("1714532400", datetime(2024, 5, 1, 3, tzinfo=UTC)),  # epoch seconds
        ("1714532400000", datetime(2024, 5, 1, 3, tzinfo=UTC)),  # epoch milliseconds
        ("Tue Nov 01 00:00:00 UTC 2011", datetime(2011, 11, 1, tzinfo=UTC)),  # Java Date.toString()
        ("Tue, 01 Nov 2011 07:00:00 +0700", datetime(2011, 11, 1, tzinfo=UTC)),  # RFC 2822
        ("01 Nov 2011 00:00:00 GMT", datetime(2011, 11, 1, tzinfo=UTC)),
        ("03/04/2024", datetime(2024, 4, 2, 17, tzinfo=UTC)),  # day first: 3 April
        ("31/12/2024 08:30", datetime(2024, 12, 31, 1, 30, tzinfo=UTC)),
        ("31/12/2024 08:30:15", datetime(2024, 12, 31, 1, 30, 15, tzinfo=UTC)),
        ("Tue Nov 01 00:00:00 XYZ 2011", None),  # an unknown zone is not guessed
        ("31/13/2024", None),
        ("not a date", None),
    ],
)
def test_one_parser_reads_every_date_form(text: str, expected: datetime | None) -> None:
    got = pl.select(parse_datetime(pl.lit(text), "Asia/Ho_Chi_Minh")).item()
    assert got == expected


def test_a_month_is_the_one_the_platform_writes() -> None:
    s = pl.Series(["Tue Nov 01 00:00:00 UTC 2011", "Wed Nov 30 23:59:59 UTC 2011", "20240131", "2024-02"])
    months = pl.select(parse_month(pl.lit(s), "Asia/Ho_Chi_Minh")).to_series().to_list()
    # 23:59 UTC on 30 November is already December in Hà Nội, but the export's month is November
    assert months == [date(2011, 11, 1), date(2011, 11, 1), date(2024, 1, 1), date(2024, 2, 1)]
    assert pl.select(parse_date(pl.lit("20240131"))).item() == date(2024, 1, 31)


# --------------------------------------------------------------------------------------- Socrata
def test_socrata_site_metrics_as_a_portal_exports_them(tmp_path: Path) -> None:
    with AUSTIN.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0])
    assert header[:2] == ["Start", "End"] and len(header) > 250  # the real layout, hundreds of columns

    (result,) = usage.ingest(AUSTIN, "socrata-site-metrics", store=tmp_path / "s")
    assert (result.lines_read, result.lines_rejected) == (len(rows), 0)

    facts = usage.EventStore(tmp_path / "s").scan_facts().collect()
    for column, metric in (("page-views", "page_views"), ("users-created", "users_created")):
        expected = {
            datetime.strptime(r["Start"], "%a %b %d %H:%M:%S UTC %Y").date(): int(r[column])
            for r in rows
            if r[column] != ""
        }
        got = dict(facts.filter(pl.col("metric") == metric).select("month", "value").iter_rows())
        assert got == expected, metric
    # an empty cell is no fact: October 2016 has no users-created, and its sign-ups stay unknown
    assert [r["Start"] for r in rows if r["users-created"] == ""] == ["Sat Oct 01 00:00:00 UTC 2016"]
    totals = usage.portal_totals(tmp_path / "s", min_count=0).to_dicts()
    by_month = {r["period"]: r for r in totals}
    assert by_month["2016-10"]["signups"] is None
    assert by_month["2016-09"]["signups"] == int(rows[-2]["users-created"])
    assert by_month["2011-11"]["page_views"] == int(rows[0]["page-views"])
    assert {r["source"] for r in totals} == {"socrata-site-metrics"}
    # a negative count is the platform's number, kept as it is
    negative = [r for r in rows if r["rows-created"].startswith("-")]
    assert negative
    kept = facts.filter(pl.col("metric") == "rows_created").get_column("value").to_list()
    assert int(negative[0]["rows-created"]) in kept


def test_a_file_of_60_unparseable_rows_exits_2_with_one_line_and_changes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s"
    usage.ingest(AUSTIN, "socrata-site-metrics", store=store)
    before = snapshot(store)
    bad = tmp_path / "broken_site_metrics.csv"
    lines = ['"Start","End","page-views"'] + [f'"sometime {i}","later {i}","{i}"' for i in range(60)]
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = lab("usage", "ingest", "--format", "socrata-site-metrics", str(bad), "--store", str(store))
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, proc.stderr
    assert "broken_site_metrics.csv" in err[0] and "all 60 lines rejected" in err[0]
    assert "line 2: no valid month" in err[0]
    assert snapshot(store) == before


def test_more_than_5_percent_rejected_is_said_on_stderr(tmp_path: Path) -> None:
    f = tmp_path / "site.csv"
    f.write_text(
        '"Start","End","page-views"\n'
        '"Tue Nov 01 00:00:00 UTC 2011","Wed Nov 30 23:59:59 UTC 2011","70"\n'
        '"soon","later","5"\n',
        encoding="utf-8",
    )
    proc = lab("usage", "ingest", "--format", "socrata-site-metrics", str(f), "--store", str(tmp_path / "s"))
    assert proc.returncode == 0, proc.stderr
    assert "1 of 2 lines rejected (50.0 %)" in proc.stderr and "no valid month (1)" in proc.stderr


# ---------------------------------------------------------------------------- data.gouv.fr ranking
def test_top_reproduces_the_platforms_all_time_ranking(shared_data: Path, tmp_path: Path) -> None:
    files = sorted((shared_data / "datagouv_metrics" / "datasets").glob("*.json"))
    assert len(files) > 100
    docs = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    ranked = sorted((d for d in docs if d["id"] != "\\N"), key=lambda d: (-int(d["totalVisits"]), d["id"]))
    expected = [(d["id"], int(d["totalVisits"])) for d in ranked[:20]]

    store = tmp_path / "s"
    proc = lab("usage", "ingest", "--format", "datagouv-metrics", *map(str, files), "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    proc = lab("usage", "top", "--store", str(store), "--metric", "dataset_views", "--n", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    top = json.loads(proc.stdout)
    assert [(r["dataset_id"], r["dataset_views"]) for r in top] == expected
    assert {r["source"] for r in top} == {"datagouv-metrics"}
    # the same through the Python API, and the downloads ranking from the platform's totals too
    downloads = usage.top_datasets(store, metric="downloads", n=5, min_count=0)
    by_downloads = sorted(
        (d for d in docs if d["id"] != "\\N"), key=lambda d: (-int(d["totalDownloads"]), d["id"])
    )
    assert downloads.get_column("dataset_id").to_list() == [d["id"] for d in by_downloads[:5]]
    # a period: the months of 2024 only
    in_2024 = usage.top_datasets(store, n=1, start="2024-01", end="2024-12", min_count=0).row(0, named=True)
    visits_2024 = {
        d["id"]: sum(int(m["visits"]) for m in d["monthlyStats"] if m["month"].startswith("2024"))
        for d in docs
        if d["id"] != "\\N"
    }
    best = min(visits_2024, key=lambda i: (-visits_2024[i], i))
    assert (in_2024["dataset_id"], in_2024["dataset_views"]) == (best, visits_2024[best])
    # --source events: the events cannot tell anything here
    proc = lab("usage", "top", "--store", str(store), "--source", "events", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


def test_kpis_answer_from_imported_facts_with_source_and_time_zone(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "datagouv_metrics"
    store = tmp_path / "s"
    usage.ingest(folder / "global-stats.json", "datagouv-metrics", store=store)
    site = json.loads((folder / "global-stats.json").read_text(encoding="utf-8"))
    proc = lab("usage", "kpis", "--store", str(store), "--json")
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert len(records) == len(site["monthlyStats"])
    first = site["monthlyStats"][0]
    rec = next(r for r in records if r["period"] == first["month"])
    assert (rec["visits"], rec["downloads"]) == (int(first["visits"]), int(first["downloads"]))
    assert all(r["source"] == "datagouv-metrics" for r in records)
    assert all(r["timezone"] == "Asia/Ho_Chi_Minh" for r in records)
    proc = lab("usage", "kpis", "--store", str(store), "--source", "events", "--json")
    assert proc.returncode == 0
    assert all(r["visits"] is None and r["source"] == "events" for r in json.loads(proc.stdout))
    proc = lab("usage", "kpis", "--store", str(store), "--source", "nowhere", "--json")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_a_new_stores_time_zone_is_said_in_kpis_and_the_counting_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "access.log"
    log.write_text(
        '192.0.2.1 - - [31/May/2024:23:30:00 +0000] "GET /dulieuchitiet/101 HTTP/1.1" 200 9 "-" '
        '"Mozilla/5.0"\n',
        encoding="utf-8",
    )
    store = tmp_path / "s"
    assert main(["usage", "ingest", "--format", "combined", str(log), "--store", str(store),
                 "--store-timezone", "UTC"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["usage", "kpis", "--store", str(store), "--json", "--min-count", "0"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert (record["period"], record["timezone"], record["source"]) == ("2024-05", "UTC", "events")
    from lab.usage.report import rules_note

    assert "UTC" in rules_note("en", store=store).markup
    assert "múi giờ UTC" in rules_note("vi", store=store).markup
