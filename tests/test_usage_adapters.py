"""Usage adapters: each input format maps into the canonical event (or fact), bad lines are counted
with their reason and never stop an ingest, and data.gouv.fr's own expected counts are matched."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from lab import usage
from lab.errors import ReadError
from lab.usage.adapters.base import Context, read_lines
from lab.usage.adapters.web import parse_access_log, parse_haproxy_log
from lab.usage.routes import catalog_keys

DATA = Path(__file__).parent / "data" / "usage"
SECRET = "test-secret-0123456789abcdef"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_USAGE_SECRET", SECRET)


def _lines(text: str, tmp_path: Path) -> pl.DataFrame:
    path = tmp_path / "in.log"
    path.write_text(text, encoding="utf-8")
    return pl.concat(list(read_lines(path)))


GOOD = (
    '203.0.113.7 - - [10/Oct/2023:13:55:36 +0700] "GET /dulieuchitiet/102528 HTTP/1.1" 200 2326 '
    '"https://www.google.com/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/118.0.0.0 Safari/537.36"'
)


def test_combined_line_is_parsed_to_utc_with_every_field(tmp_path: Path) -> None:
    row = parse_access_log(_lines(GOOD + "\n", tmp_path), "combined").row(0, named=True)
    assert row["reject"] is None
    assert (row["ip"], row["method"], row["target"], row["status"], row["bytes"]) == (
        "203.0.113.7",
        "GET",
        "/dulieuchitiet/102528",
        200,
        2326,
    )
    assert str(row["ts"]) == "2023-10-10 06:55:36+00:00"  # +0700 → UTC
    assert row["ua"].startswith("Mozilla/5.0 (Windows")


def test_escaped_quotes_extra_fields_and_common_format(tmp_path: Path) -> None:
    escaped = (
        '192.0.2.1 - - [10/Oct/2023:13:55:36 +0700] "GET /timkiem?q=%22a%22 HTTP/1.1" 200 10 "-" '
        '"Mozilla/5.0 \\"quoted\\" agent"'
    )
    extended = GOOD + ' "198.51.100.9"'  # nginx formats that log X-Forwarded-For after the UA
    parsed = parse_access_log(_lines(f"{escaped}\n{extended}\n", tmp_path), "combined")
    assert parsed.get_column("reject").to_list() == [None, None]
    assert parsed.get_column("ua").to_list()[0] == 'Mozilla/5.0 "quoted" agent'
    common = '192.0.2.1 - alice [10/Oct/2023:13:55:36 -0500] "GET /dichvu?p=2 HTTP/1.0" 304 -'
    row = parse_access_log(_lines(common + "\n", tmp_path), "common").row(0, named=True)
    assert (row["reject"], row["status"], row["bytes"], row["ua"]) == (None, 304, None, None)
    assert str(row["ts"]) == "2023-10-10 18:55:36+00:00"


def test_ten_percent_garbage_ingests_the_rest_and_reports_the_rejects(tmp_path: Path) -> None:
    good = [
        f"192.0.2.{i % 250 + 1} - - [10/Oct/2023:13:{i % 60:02d}:00 +0700] "
        f'"GET /dulieuchitiet/{101000 + i} HTTP/1.1" 200 512 "-" '
        f'"Mozilla/5.0 (X11; Linux x86_64) Firefox/{i % 20}.0"'
        for i in range(900)
    ]
    garbage = [
        "\x00\x01 binary junk",
        '"unclosed quote swallows nothing',
        '203.0.113.1 - - [99/Foo/2023:25:61:00 +0700] "GET / HTTP/1.1" 200 1 "-" "x"',
        "",
        "just text",
    ] * 20
    lines = good[:450] + garbage + good[450:]
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (r,) = usage.ingest(log, "combined", store=tmp_path / "store")
    assert (r.lines_read, r.lines_rejected, r.lines_parsed) == (1000, 100, 900)
    assert r.events_kept == 900
    # a line with NUL bytes reads as text (NUL → U+FFFD, issue 19): not a log line, like "just text"
    reasons = {"not in the combined log format": 60, "bad timestamp": 20, "blank or binary line": 20}
    assert r.reasons == reasons
    assert len(r.rejects) == 5 and r.rejects[0].line == 451  # the first few, with their line numbers
    got = usage.EventStore(tmp_path / "store").scan().select("dataset_id").collect()
    assert sorted(got.get_column("dataset_id").to_list()) == [str(101000 + i) for i in range(900)]


@pytest.mark.parametrize("rotated", [False, True], ids=["plain", "gzip-rotated"])
def test_haproxy_sample_matches_datagouv_expected_dataset_counts(
    shared_data: Path, tmp_path: Path, rotated: bool
) -> None:
    """The real data.gouv.fr HAProxy sample, counted as data.gouv.fr counts it, gives exactly the
    per-dataset counts its pipeline ships beside it; the same log rotated and gzipped (as logrotate
    keeps it) gives the same counts."""
    fixtures = shared_data / "datagouv_pipeline_fixtures"
    log_file = fixtures / "test_raw.log"
    if rotated:
        log_file = tmp_path / "haproxy.log.1.gz"
        log_file.write_bytes(gzip.compress((fixtures / "test_raw.log").read_bytes()))
    catalog = pl.read_csv(fixtures / "test_datasets_catalog.csv", separator=";", infer_schema=False)
    keys = catalog_keys(catalog.get_column("id").to_list(), catalog.get_column("slug").to_list())
    (r,) = usage.ingest(
        log_file,
        "haproxy",
        store=tmp_path / "store",
        rules=usage.datagouv_rules(keys),
        counting=usage.UDATA_COUNTING,
        options={"frontends": ["DATAGOUVFR_RGS~"]},
        timezone="Europe/Paris",
    )
    assert (r.lines_read, r.lines_rejected) == (42, 0)
    events = usage.EventStore(tmp_path / "store").scan().filter("counted").collect()
    got = (
        events.filter(pl.col("dataset_id").is_not_null())
        .group_by("dataset_id")
        .agg(
            nb_visit=(pl.col("event") == "dataset_view").sum().cast(pl.Int64),
            nb_visit_apis=(pl.col("event") == "api_call").sum().cast(pl.Int64),
        )
        .with_columns(nb_visit_total=pl.col("nb_visit") + pl.col("nb_visit_apis"))
        .sort("dataset_id")
    )
    expected = (
        pl.read_csv(fixtures / "test_datasets_expected.csv", infer_schema=False)
        .select(
            "dataset_id", *[pl.col(c).cast(pl.Int64) for c in ("nb_visit", "nb_visit_apis", "nb_visit_total")]
        )
        .sort("dataset_id")
    )
    assert got.to_dicts() == expected.to_dicts()


def test_haproxy_prefers_the_syslog_offset_and_reads_a_captured_user_agent(tmp_path: Path) -> None:
    line = (
        "2025-08-28T00:16:57.434486+02:00 slb-04 haproxy[1]: 192.0.2.5:13120 [28/Aug/2025:00:16:57.387] "
        "FE~ BE/srv 0/0/1/45/+46 200 +3126 - - --NN 1/1/1/0/0 0/0 {Mozilla/5.0 Googlebot/2.1|example.org} "
        '"GET /datasets/x/ HTTP/1.1"'
    )
    no_prefix = line.split("slb-04 ", 1)[1]
    parsed = parse_haproxy_log(_lines(f"{line}\n{no_prefix}\nnot haproxy\n", tmp_path), "Asia/Ho_Chi_Minh", 0)
    assert parsed.get_column("reject").to_list() == [None, None, "not an HAProxy HTTP log line"]
    ts = parsed.get_column("ts").to_list()
    assert str(ts[0]) == "2025-08-27 22:16:57.434486+00:00"  # from the syslog prefix (+02:00)
    assert str(ts[1]) == "2025-08-27 17:16:57.387000+00:00"  # the accept date in the given zone (+07:00)
    assert parsed.get_column("ua").to_list()[0] == "Mozilla/5.0 Googlebot/2.1"
    assert parsed.get_column("frontend").to_list()[0] == "FE~"


def test_gateway_jsonl_html_answers_and_rejects(tmp_path: Path) -> None:
    (r,) = usage.ingest(DATA / "gateway.jsonl", "gateway-jsonl", store=tmp_path / "s")
    assert (r.lines_read, r.lines_rejected, r.events_kept) == (6, 2, 4)
    assert r.reasons == {"not a JSON object": 1, "no valid timestamp": 1}
    ev = usage.EventStore(tmp_path / "s").scan().sort("ts").collect()
    assert ev.get_column("dataset_id").to_list() == ["102528", "102528", "101095", "101095"]  # base64 path
    assert ev.get_column("app_id").to_list() == ["app_one", "app_one", "app_two", "app_two"]
    # 200 with text/html = the API's answer to an expired account: not a call; 429 neither
    assert ev.get_column("counted").to_list() == [True, True, False, False]
    assert ev.get_column("account_key").n_unique() == 2 and ev.get_column("visitor_key").n_unique() == 2


def test_gateway_csv_without_a_status_column_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "gw.csv"
    bad.write_text("when,who\n2024-01-01T00:00:00Z,x\n", encoding="utf-8")
    with pytest.raises(ReadError, match="no time or status column"):
        usage.ingest(bad, "gateway-csv", store=tmp_path / "s")


def test_channel_and_account_exports(tmp_path: Path) -> None:
    channels = tmp_path / "channels.csv"
    channels.write_text(
        "timestamp,channel,portal_id,request_type,user_key,status\n"
        "2024-05-01T08:00:00+07:00,zalo,101095,lookup,u_1,ok\n"
        "2024-05-01T08:01:00+07:00,SMS,101095,notification,u_2,no_data\n"
        "2024-05-01T08:02:00+07:00,app,101266,subscribe,u_3,error\n"
        "2024-05-01T08:03:00+07:00,fax,101266,lookup,u_3,ok\n"
        "2024-05-01T08:04:00+07:00,zalo,101266,teleport,u_3,ok\n",
        encoding="utf-8",
    )
    (r,) = usage.ingest(channels, "channel-csv", store=tmp_path / "s")
    assert r.reasons == {"unknown channel (not zalo, sms or app)": 1, "unknown request type": 1}
    ev = usage.EventStore(tmp_path / "s").scan().sort("ts").collect()
    assert ev.select(
        pl.col("channel").cast(pl.String), pl.col("event").cast(pl.String), "status", "counted"
    ).rows() == [
        ("zalo", "dataset_view", 200, True),
        ("sms", "download", 204, True),
        ("app", "dataset_view", 500, False),
    ]
    accounts = tmp_path / "signups.csv"
    accounts.write_text(
        "timestamp,account_id,method\n2024-05-02T09:00:00+07:00,acc_1,email\n2024-05-02T09:05:00,acc_2,egov\n,acc_3,email\n",
        encoding="utf-8",
    )
    (a,) = usage.ingest(accounts, "accounts", store=tmp_path / "s")
    assert (a.events_kept, a.reasons) == (2, {"no valid timestamp": 1})
    signups = usage.EventStore(tmp_path / "s").scan().filter(pl.col("event") == "signup").sort("ts").collect()
    # a timestamp without an offset is local time (the store's zone, Asia/Ho_Chi_Minh)
    assert [str(t) for t in signups.get_column("ts")] == [
        "2024-05-02 02:00:00+00:00",
        "2024-05-02 02:05:00+00:00",
    ]


def test_datagouv_metrics_partial_month_and_null_id(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "datagouv_metrics"
    files = [folder / "global-stats.json", folder / "datasets" / "NULL_id.json"]
    one = sorted((folder / "datasets").glob("5*.json"))[0]
    results = usage.ingest([*files, one], "datagouv-metrics", store=tmp_path / "s")
    assert all(r.lines_rejected == 0 and r.kind == "facts" for r in results)
    facts = usage.EventStore(tmp_path / "s").scan_facts().collect()
    site = facts.filter(pl.col("dataset_id").is_null() & (pl.col("metric") == "visits")).sort("month")
    assert site.height == 42 and site.get_column("month").to_list()[-1].isoformat() == "2025-12-01"
    assert site.filter("partial").get_column("month").dt.strftime("%Y-%m").to_list() == ["2025-12"]
    # \N is not a dataset: its counts are site-wide downloads that could not be attributed
    assert "\\N" not in facts.get_column("dataset_id").drop_nulls().to_list()
    unattributed = facts.filter(pl.col("metric") == "downloads_unattributed").get_column("value").sum()
    import json

    null_doc = json.loads(files[1].read_text(encoding="utf-8"))
    assert unattributed == null_doc["totalDownloads"]
    per_dataset = facts.filter(pl.col("dataset_id") == one.stem)
    doc = json.loads(one.read_text(encoding="utf-8"))
    assert (
        per_dataset.filter(pl.col("metric") == "dataset_views").get_column("value").sum()
        == doc["totalVisits"]
    )


def test_metric_api_page_shape(tmp_path: Path) -> None:
    page = tmp_path / "api.json"
    page.write_text(
        '{"data": [{"__id": 1, "metric_month": "2024-01", "dataset_id": "abc", "monthly_visit": 12,'
        ' "monthly_download_resource": 3}, {"__id": 2, "metric_month": "2024-02", "dataset_id": "abc",'
        ' "monthly_visit": 0, "monthly_download_resource": null}], "links": {}, "meta": {"total": 2}}',
        encoding="utf-8",
    )
    usage.ingest(page, "datagouv-metrics", store=tmp_path / "s")
    facts = usage.EventStore(tmp_path / "s").scan_facts().sort("month", "metric").collect()
    assert facts.select(pl.col("month").dt.strftime("%Y-%m"), "dataset_id", "metric", "value").rows() == [
        ("2024-01", "abc", "dataset_views", 12),
        ("2024-01", "abc", "downloads", 3),
        ("2024-02", "abc", "dataset_views", 0),  # zero is kept; a null is no fact
    ]


def test_socrata_site_metrics_sparse_columns(tmp_path: Path) -> None:
    (r,) = usage.ingest(DATA / "socrata_site_metrics.csv", "socrata-site-metrics", store=tmp_path / "s")
    assert (r.lines_read, r.lines_rejected) == (6, 1) and r.rejects[0].line == 6
    facts = usage.EventStore(tmp_path / "s").scan_facts().collect()
    views = facts.filter(pl.col("metric") == "page_views").sort("month")
    assert views.get_column("value").to_list() == [41200, 39950, 45010, 44800, 47125]  # May rejected
    # empty cells are no fact, not zero
    api = facts.filter(pl.col("metric") == "rows_accessed_api").get_column("month").dt.month().to_list()
    assert sorted(api) == [1, 2, 4, 6]
    assert set(facts.get_column("metric")) >= {"users_created", "ga_sessions", "rows_downloaded"}


def test_ga4_pages_and_site_exports(tmp_path: Path) -> None:
    (pages,) = usage.ingest(DATA / "ga4_pages.csv", "ga4", store=tmp_path / "s")
    assert (pages.lines_read, pages.lines_rejected) == (9, 1)  # the '#' header block is skipped
    usage.ingest(DATA / "ga4_site.csv", "ga4", store=tmp_path / "s")
    facts = usage.EventStore(tmp_path / "s").scan_facts(latest_only=False).collect()
    key = ["source_file", "month", "dataset_id", "metric"]
    rows = {
        (r["source_file"].split("@")[0], r["month"].isoformat()[:7], r["dataset_id"], r["metric"]): (
            r["value"],
            r["partial"],
        )
        for r in facts.sort(key).iter_rows(named=True)
    }
    assert rows[("ga4_pages.csv", "2024-01", "102528", "page_views")] == (24, True)  # starts on the 30th
    assert rows[("ga4_pages.csv", "2024-02", "101095", "page_views")] == (10, False)  # page + its download
    assert rows[("ga4_pages.csv", "2024-02", None, "page_views")] == (100, False)
    assert ("ga4_pages.csv", "2024-01", None, "visits") not in rows  # sessions do not add up over pages
    assert rows[("ga4_site.csv", "2024-01", None, "visits")] == (340, False)
    assert rows[("ga4_site.csv", "2024-02", None, "visits")] == (100, True)


def test_ga4_interface_download_layout(tmp_path: Path) -> None:
    """The GA4 interface's "Pages and screens" download (display titles, no date column, the period in
    the header block, a quoted path holding a comma) gives whole-month page views per dataset."""
    (r,) = usage.ingest(DATA / "ga4_ui_pages_2024-10.csv", "ga4", store=tmp_path / "s")
    assert (r.lines_read, r.lines_rejected) == (6, 0)
    facts = usage.EventStore(tmp_path / "s").scan_facts().collect()
    got = {(f["dataset_id"], f["metric"]): (f["value"], f["partial"]) for f in facts.iter_rows(named=True)}
    assert set(facts.get_column("month").cast(pl.String)) == {"2024-10-01"}
    assert got == {
        ("102528", "page_views"): (812 + 95, False),  # the page and its download page
        ("101095", "page_views"): (377, False),
        (None, "page_views"): (5210 + 812 + 377 + 95 + 64 + 40, False),  # every page, a whole month
    }  # "Active users" is not additive over pages: no fact from it


def test_ga4_interface_download_over_two_months_is_refused(tmp_path: Path) -> None:
    text = (DATA / "ga4_ui_pages_2024-10.csv").read_text(encoding="utf-8")
    two = tmp_path / "ga4_two_months.csv"
    two.write_text(text.replace("# End date: 20241031", "# End date: 20241111"), encoding="utf-8")
    with pytest.raises(ReadError, match=r"ga4_two_months.csv: covers 2024-10-01 … 2024-11-11, more than one"):
        usage.ingest(two, "ga4", store=tmp_path / "s")
    assert not (tmp_path / "s" / "_ledger.json").exists() or "ga4_two" not in (
        tmp_path / "s" / "_ledger.json"
    ).read_text(encoding="utf-8")


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    from lab.errors import LabError

    with pytest.raises(LabError, match="unknown usage format 'apache'"):
        usage.ingest(DATA / "ga4_site.csv", "apache", store=tmp_path / "s")
    with pytest.raises(ReadError, match="no such file"):
        usage.ingest(tmp_path / "nope.log", "combined", store=tmp_path / "s")


def test_context_keeps_only_the_first_rejects() -> None:
    ctx = Context(secret=b"x" * 16, source_file="f")
    frame = pl.DataFrame({"line_no": range(1, 11), "line": ["x"] * 10, "reject": ["bad"] * 10})
    ctx.reject(frame)
    assert ctx.lines_rejected == 10 and len(ctx.rejects) == 5 and ctx.reasons == {"bad": 10}


def test_fast_chunk_parsing_agrees_with_line_by_line_parsing(tmp_path: Path) -> None:
    from lab.usage.adapters.base import lines_of
    from lab.usage.adapters.web import parse_access_chunk

    lines = [
        GOOD,
        GOOD.replace("Chrome/118", 'Chrome \\"beta\\" 118'),  # escaped quotes: line by line
        GOOD + ' "198.51.100.9"',  # an extra field
        '192.0.2.1 - - [10/Oct/2023:13:55:36 +0700] "GET / HTTP/1.1" 200 5',  # common line in a combined log
        "",
        GOOD.replace("+0700", "-0330").replace("200 2326", "304 -"),
        "garbage",
    ] * 30
    chunk = ("\n".join(lines) + "\n").encode()
    cols = ["line_no", "ts", "ip", "ua", "method", "target", "status", "bytes", "reject"]
    fast = parse_access_chunk(chunk, 1, "combined").select(cols)
    slow = parse_access_log(lines_of(chunk, 1), "combined").select(cols)
    assert fast.equals(slow)
    assert fast.get_column("reject").null_count() == 4 * 30
    unbalanced = ('"' + GOOD + "\n" + GOOD + "\n").encode()  # quotes running across lines: the whole chunk
    assert (
        parse_access_chunk(unbalanced, 1, "combined")
        .select(cols)
        .equals(parse_access_log(lines_of(unbalanced, 1), "combined").select(cols))
    )


def test_read_chunks_cuts_at_line_ends_and_numbers_lines(tmp_path: Path) -> None:
    from lab.usage.adapters.base import read_chunks

    lines = [b"a" * 10, b"b" * 100, b"", b"c" * 3, b"d" * 50]  # the 100-byte line is longer than a chunk
    path = tmp_path / "log"
    path.write_bytes(b"\n".join(lines))  # no line end at the end of the file
    chunks = list(read_chunks(path, chunk_bytes=32))
    assert b"".join(c.data for c in chunks) == path.read_bytes()
    assert all(c.data.endswith(b"\n") for c in chunks[:-1])
    assert [c.first_line for c in chunks] == [
        1,
        *(1 + sum(c.n_lines for c in chunks[:i]) for i in range(1, len(chunks))),
    ]
    assert sum(c.n_lines for c in chunks) == len(lines)
    (tmp_path / "empty").touch()
    assert list(read_chunks(tmp_path / "empty")) == []


def test_ahead_keeps_the_order_runs_one_item_ahead_and_raises_errors_in_place() -> None:
    import threading

    from lab.usage.adapters.base import ahead

    started: list[int] = []
    second_started = threading.Event()

    def work(i: int) -> int:
        started.append(i)
        if i == 2:
            second_started.set()
        if i == 4:
            raise ValueError("bad chunk 4")
        return i * 10

    results = ahead(range(1, 6), work)
    assert next(results) == 10
    assert second_started.wait(5)  # item 2 was submitted before item 1's result was handed out
    assert [next(results), next(results)] == [20, 30]
    with pytest.raises(ValueError, match="bad chunk 4"):
        next(results)
    assert started[:3] == [1, 2, 3]
