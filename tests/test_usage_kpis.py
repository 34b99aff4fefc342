"""KPIs over a small store whose every count is known by construction: totals per month and day,
null where no input covers a month, imported facts filling the gaps, suppression, the fact table,
channel mix, top datasets, API calls per app, accounts per quarter, growth."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from lab import usage
from lab.usage.kpis import KpiError

UA1 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36"
UA2 = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile/15E148 Safari/604.1"
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def line(ip: str, when: str, path: str, ua: str, status: int = 200) -> str:
    return f'{ip} - - [{when} +0700] "GET {path} HTTP/1.1" {status} 100 "-" "{ua}"'


WEB = [
    # January: visitor A, two visits on the 5th (home, a view, a download; two hours later another view)
    line("192.0.2.1", "05/Jan/2024:09:00:00", "/", UA1),
    line("192.0.2.1", "05/Jan/2024:09:01:00", "/dulieuchitiet/101", UA1),
    line("192.0.2.1", "05/Jan/2024:09:02:00", "/dulieuchitiet/101/download?format=csv", UA1),
    line("192.0.2.1", "05/Jan/2024:11:00:00", "/dulieuchitiet/102", UA1),
    # visitor B on the 6th: a double-click on 101 (counts once), a search; a crawler meanwhile
    line("192.0.2.2", "06/Jan/2024:10:00:00", "/dulieuchitiet/101", UA2),
    line("192.0.2.2", "06/Jan/2024:10:00:10", "/dulieuchitiet/101", UA2),
    line("198.51.100.250", "06/Jan/2024:10:00:20", "/dulieuchitiet/101", BOT),
    line("192.0.2.2", "06/Jan/2024:10:01:00", "/timkiem?q=xe", UA2),
    # February: visitor C, a view and a dataset that does not exist
    line("203.0.113.9", "10/Feb/2024:15:00:00", "/dulieuchitiet/101", UA1),
    line("203.0.113.9", "10/Feb/2024:15:01:00", "/dulieuchitiet/999", UA1, 404),
]
# a second web log (another server, same month): visitor A again, who must not be counted twice
WEB2 = [line("192.0.2.1", "20/Jan/2024:09:00:00", "/dichvu?p=2", UA1)]
GATEWAY = (
    ["timestamp,client_ip,consumer_key,account_id,path,status,content_type"]
    + [
        f"2024-01-{10 + i:02d}T10:00:00+07:00,192.0.2.50,app_x,acc_1,/api/dataset/MTAx,200,application/json"
        for i in range(6)
    ]
    + ["2024-01-20T10:00:00+07:00,192.0.2.51,app_y,acc_2,/api/dataset/MTAx,200,text/html"]
)
SIGNUPS = "timestamp,account_id\n2024-01-02T08:00:00+07:00,acc_1\n2024-02-03T08:00:00+07:00,acc_2\n"
SOCRATA = "date,page-views,users-created\n2024-02,999,7\n2024-03,4321,3\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("LAB_USAGE_SECRET", "kpi-test-secret-0123456789")
    folder = tmp_path_factory.mktemp("kpis")
    (folder / "access.log").write_text("\n".join(WEB) + "\n", encoding="utf-8")
    (folder / "access2.log").write_text("\n".join(WEB2) + "\n", encoding="utf-8")
    (folder / "gateway.csv").write_text("\n".join(GATEWAY) + "\n", encoding="utf-8")
    (folder / "signups.csv").write_text(SIGNUPS, encoding="utf-8")
    (folder / "socrata.csv").write_text(SOCRATA, encoding="utf-8")
    s = folder / "store"
    usage.ingest([folder / "access.log", folder / "access2.log"], "combined", store=s)
    usage.ingest(folder / "gateway.csv", "gateway-csv", store=s)
    usage.ingest(folder / "signups.csv", "accounts", store=s)
    usage.ingest(folder / "socrata.csv", "socrata-site-metrics", store=s)
    mp.undo()
    return s


def test_portal_totals_per_month(store: Path) -> None:
    t = usage.portal_totals(store, start="2024-01", end="2024-03", min_count=0)
    rows = {r["period"]: r for r in t.iter_rows(named=True)}
    jan, feb, mar = rows["2024-01"], rows["2024-02"], rows["2024-03"]
    assert [jan[c] for c in usage.TOTALS] == [4, 2, 6, 3, 1, 6, 1, 1]
    # February: no gateway export covers it, so API calls cannot be told (null, not 0); the web log and
    # the sign-ups do; Socrata's site facts do not override what the events tell
    assert [feb[c] for c in usage.TOTALS] == [1, 1, 1, 1, 0, None, 1, 0]
    # March: no event input covers it; the imported site-wide facts fill what they can
    assert [mar[c] for c in usage.TOTALS] == [None, None, 4321, None, None, None, 3, None]
    assert not any(r[f"{c}_suppressed"] for r in rows.values() for c in usage.TOTALS)


def test_small_cells_are_suppressed_not_zeroed(store: Path) -> None:
    t = usage.portal_totals(store, start="2024-01", end="2024-02")  # default min_count 5
    jan, feb = t.row(0, named=True), t.row(1, named=True)
    assert (jan["visits"], jan["visits_suppressed"]) == (None, True)
    assert (jan["page_views"], jan["page_views_suppressed"]) == (6, False)
    assert (jan["api_calls"], jan["api_calls_suppressed"]) == (6, False)
    assert (feb["downloads"], feb["downloads_suppressed"]) == (0, False)  # zero is not disclosive
    assert (feb["api_calls"], feb["api_calls_suppressed"]) == (None, False)  # unknown, not suppressed


def test_portal_totals_per_day(store: Path) -> None:
    t = usage.portal_totals(store, start="2024-01", end="2024-01", by="day", min_count=0)
    assert t.height == 31
    days = {r["period"]: r for r in t.iter_rows(named=True)}
    assert (days["2024-01-05"]["visits"], days["2024-01-05"]["unique_visitors"]) == (2, 1)
    assert (days["2024-01-06"]["visits"], days["2024-01-06"]["page_views"]) == (1, 2)
    assert days["2024-01-07"]["visits"] == 0 and days["2024-01-20"]["unique_visitors"] == 1
    assert days["2024-01-02"]["signups"] == 1


def test_monthly_fact_table_fills_missing_months_with_zero(store: Path) -> None:
    f = usage.monthly_facts(store, start="2024-01", end="2024-02", min_count=0, imported=False)
    got = {(r["month"].month, r["dataset_id"], r["metric"]): r["value"] for r in f.iter_rows(named=True)}
    assert got[(1, "101", "dataset_views")] == 2 and got[(1, "101", "downloads")] == 1
    assert got[(1, "101", "api_calls")] == 6 and got[(2, "101", "dataset_views")] == 1
    assert got[(2, "102", "dataset_views")] == 0  # a covered month without events
    assert got[(2, "101", "api_calls")] is None  # no gateway export covers February
    assert got[(1, "101", "channel_requests")] is None  # no channel export at all
    assert {k[1] for k in got} == {"101", "102"}  # the 404 of dataset 999 does not count
    with_imported = usage.monthly_facts(store, min_count=0)
    socrata = with_imported.filter(pl.col("source") == "socrata-site-metrics")
    assert socrata.height == 4 and socrata.get_column("dataset_id").null_count() == 4


def test_channel_mix_top_datasets_apps_accounts_and_growth(store: Path) -> None:
    mix = usage.channel_mix(store, min_count=0)
    assert mix.select("period", "channel", "requests", "share").rows() == [
        ("2024", "api", 6, round(600 / 14, 2)),
        ("2024", "web", 8, round(800 / 14, 2)),
    ]
    top = usage.top_datasets(store, metric="dataset_views", n=5, min_count=0)
    assert top.select("rank", "dataset_id", "dataset_views").rows() == [(1, "101", 3), (2, "102", 1)]
    assert usage.top_datasets(store, metric="downloads", n=1, min_count=0).get_column(
        "dataset_id"
    ).to_list() == ["101"]
    apps = usage.api_calls_per_app(store, min_count=0)
    assert apps.select("period", "app_id", "api_calls", "datasets").rows() == [("2024", "app_x", 6, 1)]
    acc = usage.accounts_per_quarter(store, min_count=0)
    assert acc.select("quarter", "signups", "active_accounts").rows() == [("2024-Q1", 2, 1)]
    g = usage.growth(usage.portal_totals(store, start="2024-01", end="2024-02", min_count=0), ["visits"])
    assert g.get_column("visits_mom").to_list() == [None, -75.0]


def test_kpi_suite_and_bad_arguments(store: Path) -> None:
    suite = usage.kpi_suite(store, min_count=0)
    assert set(suite) == {
        "totals",
        "facts",
        "channel_mix",
        "top_dataset_views",
        "top_downloads",
        "top_api_calls",
        "api_per_app",
        "accounts",
    }
    with pytest.raises(KpiError, match="not YYYY-MM"):
        usage.portal_totals(store, start="2024-13")
    with pytest.raises(KpiError, match="after"):
        usage.portal_totals(store, start="2024-03", end="2024-01")
    with pytest.raises(KpiError, match="--metric"):
        usage.top_datasets(store, metric="visits")


def test_summaries_made_at_ingest_give_the_same_kpis_as_the_events(store: Path) -> None:
    from polars.testing import assert_frame_equal

    assert usage.EventStore(store).summary_files()  # every part has its summary
    fast = usage.kpi_suite(store, min_count=0)
    slow = usage.kpi_suite(store, min_count=0, use_summaries=False)
    for name in fast:
        assert_frame_equal(fast[name], slow[name], check_row_order=name != "facts")


def test_synthetic_store_and_its_summaries(tmp_path: Path) -> None:
    from polars.testing import assert_frame_equal

    from lab.usage.synthetic import generate_store

    ledger = generate_store(tmp_path / "syn", scale=0.01, first="2025-11", last="2026-02", seed=3)
    events = ledger["files"][0]["events_kept"]
    store = usage.EventStore(tmp_path / "syn")
    assert store.scan().collect().height == events > 1_000
    assert store.scan().select("month").unique().collect().height == 4
    fast = usage.kpi_suite(store, min_count=0)
    slow = usage.kpi_suite(store, min_count=0, use_summaries=False)
    for name in fast:
        assert_frame_equal(fast[name], slow[name], check_row_order=name != "facts")
    totals = fast["totals"]
    assert totals.height == 4 and (totals.get_column("visits") > 0).all()
    assert (totals.get_column("unique_visitors") <= totals.get_column("visits")).all()
