"""Suppression must survive subtraction (issue 19, defect 4): the attacks that undid it, replayed.

* the tracker: SMS requests over windows ending one month apart (12, 15, 18, 21) gave away months of 3
  shown as "< 5";
* the usage report: the year's requests by channel (and their shares) minus the months shown gave away
  2 API calls the headline hides, and the quarter's active accounts minus the shown months gave away 2
  active accounts;
* raw API consumer keys in the report's table of applications.

Each test does the subtraction an attacker would do on what is published and asserts it yields 0 or
at least ``min_count``, never a hidden small count. The store is built from small synthetic logs
written by seeded code below (synthetic: no real portal's data).
"""

from __future__ import annotations

import json
import random
from itertools import combinations, pairwise
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lab import usage
from lab.apps.tracker_figures import channel_figures, channel_months, dataset_figures, window_totals
from lab.usage.disclosure import app_labels, safe_periods, window_sums

K = 5


def _nested_differences(published: dict[tuple[str, str], int | None]) -> list[int]:
    """What subtracting every published window from every window containing it gives."""
    out = []
    for (a, b), (c, d) in combinations(published, 2):
        outer, inner = ((a, b), (c, d)) if a <= c and d <= b else ((c, d), (a, b))
        if not (outer[0] <= inner[0] and inner[1] <= outer[1]):
            continue
        x, y = published[outer], published[inner]
        if x is not None and y is not None:
            out.append(x - y)
    return out


# ----------------------------------------------------------------------------------- the rule itself
def test_safe_periods_are_formed_oldest_first_and_stable_when_months_are_added() -> None:
    f = pl.DataFrame({"period": ["01", "02", "03", "04", "05", "06"], "n": [12, 3, 0, 4, 1, 0]})
    cut = safe_periods(f, "n", order="period", min_count=K)
    assert cut["_period_value"].to_list() == [12, 7, 7, 7, 1, 1]
    assert cut["_pending"].to_list() == [False, False, False, False, True, True]
    more = safe_periods(
        f.vstack(pl.DataFrame({"period": ["07"], "n": [9]})), "n", order="period", min_count=K
    )
    # appending a month completes the pending run; the earlier periods do not move
    assert more["_period_value"].to_list()[:4] == [12, 7, 7, 7]
    assert more["_pending"].to_list() == [False] * 7


def test_every_contiguous_set_of_months_derivable_from_published_windows_is_safe() -> None:
    """Linear algebra, not only pairs: from ALL window totals and months published for a series, the
    months' counts an attacker can solve for (a set of consecutive months whose indicator lies in the
    span of what is published) always add up to 0 or at least K."""
    rng = random.Random(19)
    months = [f"2024-{m:02d}" for m in range(1, 13)] + [f"2025-{m:02d}" for m in range(1, 13)]
    values = [rng.choice([0, 1, 2, 3, 3, 4, 6, 12]) for _ in months]
    series = pl.DataFrame({"period": months, "requests": values})
    cut = safe_periods(series, "requests", order="period", min_count=K)
    rows = []
    n = len(months)
    for i in range(n):
        for j in range(i, n):
            whole = cut.with_row_index("i").filter(
                (pl.col("_period_first") >= months[i])
                & (pl.col("_period_last") <= months[j])
                & ~pl.col("_pending")
            )
            vec = np.zeros(n)
            vec[whole["i"].to_list()] = 1
            got = window_sums(series, "requests", months[i], months[j], K)["requests"].item()
            assert got == int(np.dot(vec, values))  # the function publishes exactly these months
            rows.append(vec)
    span = np.array(rows)
    rank = np.linalg.matrix_rank(span)
    for i in range(n):
        for j in range(i, n):
            target = np.zeros(n)
            target[i : j + 1] = 1
            if np.linalg.matrix_rank(np.vstack([span, target])) == rank:  # derivable
                total = sum(values[i : j + 1])
                assert total == 0 or total >= K, (months[i], months[j], total)


# -------------------------------------------------------------------------------------- the tracker
def _sms_mix() -> pl.DataFrame:
    """Twelve months of web requests and 3 SMS requests a month (the issue's case), unprotected."""
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    return pl.DataFrame(
        {
            "period": months * 2,
            "channel": ["web"] * 12 + ["sms"] * 12,
            "requests": [400 + 10 * i for i in range(12)] + [3] * 12,
        }
    )


def test_tracker_sms_windows_ending_one_month_apart_give_nothing_away() -> None:
    mix = _sms_mix()
    months = mix["period"].unique().sort().to_list()

    def sms(start: str, end: str) -> int | None:
        out = channel_figures(mix, start, end, K)
        return out.filter(pl.col("channel") == "sms")["requests"].item()

    # the attack: windows from January ending one month apart, then subtract
    ends = [sms(months[0], e) for e in months[3:8]]
    steps = [b - a for a, b in pairwise(ends) if a is not None and b is not None]
    assert steps, "the windows publish something"
    assert all(s == 0 or s >= K for s in steps), f"a hidden month of 3 derived: {steps}"
    # every window the slider offers, nested in another: the difference is 0 or at least K
    published = {(a, b): sms(a, b) for a, b in combinations(months, 2)}
    assert all(d == 0 or d >= K for d in _nested_differences(published))
    # the monthly chart of the channel and any window: what the window has beyond the shown months
    shown = channel_months(mix, "sms", months[0], months[-1], K)
    for (a, b), total in published.items():
        inside = (
            shown.filter(pl.col("period").is_between(pl.lit(a), pl.lit(b)))["requests"].drop_nulls().sum()
        )
        assert total is None or total - inside == 0 or total - inside >= K
    # the share of SMS next to the web's published requests gives nothing more either
    out = channel_figures(mix, months[0], months[4], K)
    web = out.filter(pl.col("channel") == "web").row(0, named=True)
    total = web["requests"] * 100 / web["share"]
    assert round(total - web["requests"]) in (0, *range(K, 10**6))


def test_tracker_headline_and_dataset_selections_cannot_be_subtracted() -> None:
    months = [f"2025-{m:02d}" for m in range(1, 7)]
    totals = pl.DataFrame(
        {"period": months, "visits": [50] * 6, "api_calls": [30, 2, 40, 3, 1, 50], "signups": [3] * 6}
    )
    published = {}
    for a, b in combinations(months, 2):
        published[(a, b)] = window_totals(totals, a, b, K)["signups"]
    assert all(d == 0 or d >= K for d in _nested_differences(published))
    api = {(a, b): window_totals(totals, a, b, K)["api_calls"] for a, b in combinations(months, 2)}
    assert all(d == 0 or d >= K for d in _nested_differences(api))
    # an agency's datasets minus the agency's datasets of one theme: the rest is 0 or at least K
    facts = pl.DataFrame(
        {
            "period": ["2025-01", "2025-02", "2025-01", "2025-02"],
            "dataset_id": ["a", "a", "b", "b"],
            "metric": ["dataset_views"] * 4,
            "value": [40, 40, 1, 2],
        }
    )
    both = dataset_figures(facts, ["a", "b"], "2025-01", "2025-02", K)
    only_a = dataset_figures(facts, ["a"], "2025-01", "2025-02", K)
    get = lambda f: f.filter(pl.col("metric") == "dataset_views")["value"].item()  # noqa: E731
    assert get(both) - get(only_a) in (0, *range(K, 10**6))


# ----------------------------------------------------------------------------------- the usage report
def _gateway(rng: random.Random) -> str:
    """API calls: January and February 40 each by 8 accounts of app_alpha (not the same 8); March 2
    calls by 2 other accounts of app_beta (the small cells the headline hides)."""
    lines = ["timestamp,client_ip,consumer_key,account_id,path,status,content_type"]
    for month, n, app, accounts in ((1, 40, "app_alpha", 8), (2, 40, "app_alpha", 8), (3, 2, "app_beta", 2)):
        base = {1: 0, 2: 10, 3: 90}[month]  # three disjoint groups of accounts
        for i in range(n):
            day, hour = rng.randint(1, 28), rng.randint(8, 17)
            acc = f"acc_{base + i % accounts}"
            lines.append(
                f"2025-{month:02d}-{day:02d}T{hour:02d}:00:{i % 60:02d}+07:00,192.0.2.{10 + i % 50},"
                f"{app},{acc},/api/dataset/MTAx,200,application/json"
            )
    return "\n".join(lines) + "\n"


def _web(rng: random.Random) -> str:
    """Web: 30 visitors a month, one page view each, January to March."""
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36"
    out = []
    for name in ("Jan", "Feb", "Mar"):
        for v in range(30):
            day = rng.randint(1, 28)
            out.append(
                f'198.51.100.{v + 1} - - [{day:02d}/{name}/2025:10:{v:02d}:00 +0700] "GET /dulieuchitiet/101 '
                f'HTTP/1.1" 200 100 "-" "{ua}"'
            )
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("LAB_USAGE_SECRET", "disclosure-test-secret-0123456789")
    rng = random.Random(2025)  # synthetic logs, seeded
    folder = tmp_path_factory.mktemp("disclosure")
    (folder / "gateway.csv").write_text(_gateway(rng), encoding="utf-8")
    (folder / "access.log").write_text(_web(rng), encoding="utf-8")
    s = folder / "store"
    usage.ingest(folder / "access.log", "combined", store=s)
    usage.ingest(folder / "gateway.csv", "gateway-csv", store=s)
    mp.undo()
    return s


def test_report_year_channel_share_minus_shown_months_hides_the_2_api_calls(store: Path) -> None:
    truth = usage.portal_totals(store, min_count=0)
    assert truth.filter(pl.col("period") == "2025-03")["api_calls"].item() == 2  # the cell to protect
    headline = usage.portal_totals(store, start="2025-01", end="2025-03")
    march = headline.filter(pl.col("period") == "2025-03").row(0, named=True)
    assert march["api_calls"] is None and march["api_calls_suppressed"]
    shown = headline["api_calls"].drop_nulls().sum()
    mix = usage.channel_mix(store, start="2025-01", end="2025-03", by="year")
    api = mix.filter(pl.col("channel") == "api").row(0, named=True)
    web = mix.filter(pl.col("channel") == "web").row(0, named=True)
    # the attack: the year's API requests (or the year's total from the web share, times the API share)
    # minus the months shown
    from_requests = api["requests"] - shown
    from_shares = round(web["requests"] * 100 / web["share"] * api["share"] / 100) - shown
    for derived in (from_requests, from_shares):
        assert derived == 0 or derived >= 5, f"the hidden March API calls derived: {derived}"
    # the applications table under the year's API calls: what the shown ones leave is 0 or >= 5
    apps = usage.api_calls_per_app(store, start="2025-01", end="2025-03", by="year")
    left = api["requests"] - apps["api_calls"].drop_nulls().sum()
    assert left == 0 or left >= 5


def test_report_quarter_active_accounts_minus_shown_months_hides_the_2_accounts(store: Path) -> None:
    truth = usage.portal_totals(store, min_count=0)
    assert truth.filter(pl.col("period") == "2025-03")["active_accounts"].item() == 2
    months = usage.portal_totals(store, start="2025-01", end="2025-03")
    assert months.filter(pl.col("period") == "2025-03")["active_accounts"].item() is None
    quarter = usage.accounts_per_quarter(store, start="2025-01", end="2025-03").row(0, named=True)
    shown = months["active_accounts"].drop_nulls().sum()
    derived = None if quarter["active_accounts"] is None else quarter["active_accounts"] - shown
    assert derived is None or derived == 0 or derived >= 5, f"2 hidden active accounts derived: {derived}"


def test_report_shows_application_names_never_consumer_keys(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.usage.report import apps_table

    monkeypatch.setenv("LAB_USAGE_SECRET", "disclosure-test-secret-0123456789")
    html = str(apps_table(store, "2025-03", "vi", min_count=0))
    assert "app_alpha" not in html and "app_beta" not in html
    assert "Ứng dụng chưa đăng ký" in html
    registry = pl.DataFrame({"api_consumer": ["app_alpha"], "title": ["Bản đồ xe buýt"]})
    names = app_labels(["app_alpha", "app_beta", None, "app_beta"], registry, "en")
    assert names[0] == "Bản đồ xe buýt" and names[2] == "No application key"
    assert (
        names[1] == names[3] and names[1].startswith("Unregistered application ") and "beta" not in names[1]
    )


def test_cli_kpis_json_keeps_its_keys_and_publishes_safe_periods(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.cli import main

    monkeypatch.setenv("LAB_USAGE_SECRET", "disclosure-test-secret-0123456789")
    assert main(["usage", "kpis", "--store", str(store), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    # its keys, plus what issue 14 adds to every record: where the figures come from, the store's zone
    assert set(records[0]) == {"period", *usage.TOTALS, "suppressed", "source", "timezone"}
    march = next(r for r in records if r["period"] == "2025-03")
    assert march["api_calls"] is None and "api_calls" in march["suppressed"]
    assert main(["usage", "kpis", "--store", str(store), "--by", "day", "--json"]) == 0
    days = json.loads(capsys.readouterr().out)
    march_days = [r["api_calls"] for r in days if r["period"].startswith("2025-03")]
    assert all(v in (None, 0) for v in march_days)  # the 2 calls are not published day by day either
    jan = sum(r["api_calls"] or 0 for r in days if r["period"].startswith("2025-01"))
    assert jan in (0, 40) or jan <= 40  # days publish whole day periods of January's 40
