"""Outcomes joined to API usage per app, paid services (fees, ledger, revenue, reconciliation to 0 VND)
and target projections, on small frames built here (no demo portal)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from lab.reuse import outcomes, revenue, targets
from lab.reuse.months import month_ends
from lab.reuse.revenue import Fee, PaidService, RevenueError

SERVICE = PaidService(
    id="lookup",
    title={"vi": "Tra cứu", "en": "Look-up"},
    unit={"vi": "lượt", "en": "look-up"},
    since=date(2023, 1, 1),
    ledger="some-ledger",
    fees=(Fee(date(2023, 1, 1), date(2023, 1, 15), 20_000), Fee(date(2023, 1, 16), None, 25_000)),
)

REGISTRY = pl.DataFrame(
    {
        "reuse_id": ["R1", "R2", "R3"],
        "api_consumer": ["app_a", "app_b", None],
        "paid_service": ["lookup", None, None],
        "datasets": [["101", "102", "103"], ["102"], ["104"]],
    }
)


# ---------------------------------------------------------------------------------------------- outcomes
def test_usage_per_app_joins_to_the_registry_by_api_consumer() -> None:
    usage = pl.DataFrame(
        {
            "month": ["2025-01", "2025-01", "2025-02", "2025-02", "2025-02"],
            "app_id": ["app_a", "app_b", "app_a", "app_a", "app_scraper"],
            "api_calls": [100, 7, 50, 25, 999],
        }
    )
    joined = outcomes.usage_by_reuse(usage, REGISTRY)
    assert joined.select("reuse_id", pl.col("month").dt.strftime("%Y-%m"), "api_calls").rows() == [
        ("R1", "2025-01", 100),
        ("R1", "2025-02", 75),  # two rows of one app and month are summed
        ("R2", "2025-01", 7),
    ]
    assert outcomes.undeclared_apps(usage, REGISTRY).rows() == [("app_scraper", 999, 1)]
    reported = pl.DataFrame(
        {
            "reuse_id": ["R1", "R3"],
            "month": [date(2025, 1, 1), date(2025, 1, 1)],
            "active_users": [10, 3],
            "api_calls": [80, 5],
            "revenue_vnd": [1000, 0],
        }
    )
    merged = outcomes.with_gateway_calls(reported, usage, REGISTRY)
    rows = {(r["reuse_id"], r["month"].month): r for r in merged.iter_rows(named=True)}
    assert (rows["R1", 1]["api_calls"], rows["R1", 1]["api_calls_source"]) == (100, "gateway")
    assert rows["R1", 1]["api_calls_reported"] == 80 and rows["R1", 1]["active_users"] == 10
    assert (rows["R3", 1]["api_calls"], rows["R3", 1]["api_calls_source"]) == (5, "reported")
    assert rows["R1", 2]["api_calls"] == 75 and rows["R1", 2]["active_users"] is None  # gateway-only month
    with pytest.raises(Exception, match="app_id"):
        outcomes.normalise_usage(pl.DataFrame({"month": ["2025-01"], "api_calls": [1]}))


def test_outcome_totals_and_per_dataset_join() -> None:
    table = pl.DataFrame(
        {
            "reuse_id": ["R1", "R1", "R2"],
            "month": [date(2025, 1, 1), date(2025, 2, 1), date(2025, 2, 1)],
            "active_users": [10, 20, 5],
            "transactions": [1, 2, 3],
            "revenue_vnd": [100, 200, 0],
            "evidence_url": ["https://e/1", None, "https://e/2"],
        }
    )
    totals = outcomes.totals_by_reuse(table, date(2025, 1, 1), date(2025, 2, 28))
    assert totals.select("reuse_id", "months_reported", "active_users_monthly", "revenue_vnd").rows() == [
        ("R1", 2, 15, 300),
        ("R2", 1, 5, 0),
    ]
    per_dataset = outcomes.outcomes_by_dataset(table, REGISTRY)
    feb_102 = per_dataset.filter(pl.col("dataset_id") == "102", pl.col("month") == date(2025, 2, 1))
    assert feb_102.select("transactions", "products").row(0) == (5, 2)


# ----------------------------------------------------------------------------------------------- revenue
def _ledger() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "date": [date(2023, 1, 3), date(2023, 1, 15), date(2023, 1, 16), date(2023, 3, 2)],
            "office_id": ["A", "B", "A", "A"],
            "lookups": [2, 1, 3, 1],
            "fee_vnd": [20_000, 20_000, 25_000, 25_000],
        }
    ).with_columns(amount_vnd=pl.col("lookups") * pl.col("fee_vnd"))


def test_monthly_revenue_follows_the_fee_schedule_and_fills_empty_months() -> None:
    monthly = revenue.monthly_revenue(_ledger(), SERVICE)
    assert monthly.select(
        pl.col("month").dt.strftime("%Y-%m"), "units", "revenue_vnd", "schedule_vnd"
    ).rows() == [
        ("2023-01", 6, 135_000, 135_000),
        ("2023-02", 0, 0, 0),
        ("2023-03", 1, 25_000, 25_000),
    ]
    assert revenue.fee_mismatches(_ledger(), SERVICE).height == 0
    assert SERVICE.fee_on(date(2023, 1, 15)) == 20_000 and SERVICE.fee_on(date(2022, 12, 31)) is None


def test_reconciliation_is_exact_and_finds_any_vnd_off() -> None:
    ledger = _ledger()
    reported = pl.DataFrame(
        {
            "reuse_id": ["R1", "R1"],
            "month": [date(2023, 1, 1), date(2023, 3, 1)],
            "revenue_vnd": [135_000, 25_000],
        }
    )
    good = revenue.reconcile(ledger, SERVICE, outcomes=reported, registry=REGISTRY)
    assert good.ok and good.difference_vnd == 0 and good.ledger_total_vnd == 160_000
    off_by_one = reported.with_columns(revenue_vnd=pl.col("revenue_vnd") + pl.Series([0, 1]))
    bad = revenue.reconcile(ledger, SERVICE, outcomes=off_by_one, registry=REGISTRY)
    assert not bad.ok and bad.difference_vnd == 1 and bad.months_off == ["2023-03"]
    wrong_fee = ledger.with_columns(
        fee_vnd=pl.when(pl.col("date") == date(2023, 1, 16)).then(20_000).otherwise("fee_vnd")
    ).with_columns(amount_vnd=pl.col("lookups") * pl.col("fee_vnd"))
    charged = revenue.reconcile(wrong_fee, SERVICE)
    assert charged.fee_mismatches == 1 and charged.difference_vnd == 15_000  # schedule − ledger
    assert charged.summary()["ok"] is False


def test_monthly_totals_ledger_is_accepted() -> None:
    monthly_ledger = pl.DataFrame(
        {"month": ["2023-02", "2023-01"], "units": [4, 2], "amount_vnd": [100_000, 40_000]}
    )
    norm = revenue.normalise_ledger(monthly_ledger)
    assert norm["date"].to_list() == [date(2023, 1, 1), date(2023, 2, 1)]
    assert revenue.monthly_revenue(monthly_ledger, SERVICE)["revenue_vnd"].to_list() == [40_000, 100_000]
    with pytest.raises(Exception, match="units column"):
        revenue.normalise_ledger(pl.DataFrame({"date": [date(2023, 1, 1)], "amount_vnd": [1]}))


def test_revenue_by_dataset_adds_up_to_the_vnd() -> None:
    monthly = pl.DataFrame(
        {
            "service": ["lookup"] * 2,
            "month": [date(2023, 1, 1), date(2023, 2, 1)],
            "revenue_vnd": [100_001, 2],
        }
    )
    split = revenue.revenue_by_dataset(monthly, REGISTRY)
    jan = split.filter(pl.col("month") == date(2023, 1, 1))
    assert jan.select("dataset_id", "revenue_vnd").rows() == [
        ("101", 33_334),
        ("102", 33_334),
        ("103", 33_333),
    ]
    assert split.group_by("month").agg(pl.col("revenue_vnd").sum()).sort("month")[
        "revenue_vnd"
    ].to_list() == [
        100_001,
        2,
    ]


def test_revenue_per_thousand_calls() -> None:
    monthly = pl.DataFrame({"month": [date(2023, 1, 1), date(2023, 2, 1)], "revenue_vnd": [50_000, 10_000]})
    calls = pl.DataFrame({"month": ["2023-01", "2023-02"], "api_calls": [2_000, 0]})
    per = revenue.revenue_per_1000_calls(monthly, calls)
    assert per["vnd_per_1000_calls"].to_list() == [25_000.0, None]


def test_services_file_is_validated(tmp_path: Path) -> None:
    declared = revenue.load_services()
    assert declared["notary-lookup"].fee_on(date(2024, 6, 1)) == 20_000
    assert declared["notary-lookup"].fee_on(date(2025, 6, 1)) == 25_000
    bad = tmp_path / "services.yaml"
    bad.write_text(
        "services:\n  - id: x\n    ledger: l\n    fees:\n      - {from: 2023-01-01, vnd: 10}\n"
        "      - {from: 2023-06-01, vnd: 12}\n",
        encoding="utf-8",
    )
    with pytest.raises(RevenueError, match="overlap"):
        revenue.load_services(bad)
    bad.write_text(
        "services:\n  - id: x\n    ledger: l\n    fees:\n      - {from: 2023-01-01, vnd: 10.5}\n", "utf-8"
    )
    with pytest.raises(RevenueError, match="whole"):
        revenue.load_services(bad)


# ----------------------------------------------------------------------------------------------- targets
def _series(start: date, values: list[float]) -> pl.DataFrame:
    dates = month_ends(start, start + timedelta(days=31 * (len(values) - 1)))
    return pl.DataFrame({"date": dates.head(len(values)), "value": values})


TARGET = targets.Target(id="t", metric="open_datasets", target=100, deadline=date(2025, 12, 31), title={})


def test_t_quantile_matches_tables() -> None:
    for df, expected in ((5, 2.5706), (10, 2.2281), (22, 2.0739), (120, 1.9799)):
        assert targets._t_quantile(df) == pytest.approx(expected, abs=0.004)


def test_linear_trend_projects_the_exact_crossing_date() -> None:
    series = _series(date(2023, 1, 1), [40 + 2 * i for i in range(24)])  # +2 a month, exactly
    fit = targets.fit_trend(series, 100, method="linear", as_of=date(2024, 12, 31))
    assert fit is not None and fit.r2 > 0.999
    # 86 on 2024-12-31, 14 to go at ≈24.3 a year (month ends are 30–31 days apart)
    assert abs((fit.projected - date(2025, 7, 31)).days) <= 8
    assert fit.low == fit.high == fit.projected  # a perfect line: no slope uncertainty


def test_log_linear_fits_steady_percent_growth() -> None:
    series = _series(date(2022, 1, 1), [10 * 1.05**i for i in range(30)])
    fit = targets.fit_trend(series, 100, method="log_linear", as_of=date(2024, 6, 30))
    assert fit is not None and fit.r2 == pytest.approx(1.0, abs=1e-4)  # month ends are not evenly spaced
    months_needed = math.log(100 / (10 * 1.05**29)) / math.log(1.05)
    expected = series["date"][-1] + timedelta(days=months_needed * 30.44)
    assert abs((fit.projected - expected).days) <= 10
    assert (
        targets.fit_trend(
            _series(date(2022, 1, 1), [0, 1, 2]), 10, method="log_linear", as_of=date(2022, 3, 31)
        )
        is None
    )


@pytest.mark.parametrize(
    "values, as_of, status",
    [
        ([50 + 3 * i for i in range(24)], date(2024, 12, 31), "reached"),  # 119 > 100: met, not "on track"
        ([40 + 1.5 * i for i in range(24)], date(2024, 12, 31), "at risk"),  # projected for 2027
        ([40 + 1.5 * i for i in range(36)], date(2025, 12, 31), "missed"),  # deadline passed at 92.5
        ([40 + 1.5 * i + (3 if i % 2 else -3) for i in range(24)], date(2024, 12, 31), "at risk"),
    ],
)
def test_status_is_honest(values: list[float], as_of: date, status: str) -> None:
    series = _series(date(2023, 1, 1), values)
    result = targets.evaluate(TARGET, series, as_of)
    assert result["status"] == status
    assert {"value", "target", "deadline", "projected_date", "status"} <= set(result)
    if status == "missed":
        assert result["value_on_deadline"] < 100 and result["projected_date"] > "2025-12-31"


def test_on_track_needs_the_late_end_before_the_deadline() -> None:
    def zigzag(noise: int) -> pl.DataFrame:  # +2 a month, alternately above and below the line
        return _series(date(2023, 1, 1), [40 + 2 * i + (-noise if i % 2 else noise) for i in range(18)])

    steady = targets.evaluate(TARGET, zigzag(0), date(2024, 6, 30))
    assert steady["status"] == "on track" and steady["interval"][1] <= "2025-12-31"
    noisy = targets.evaluate(TARGET, zigzag(4), date(2024, 6, 30))
    # the central projection makes the deadline, the late end of its interval does not
    assert noisy["projected_date"] <= "2025-12-31" < noisy["interval"][1]
    assert noisy["status"] == "at risk"


def test_targets_file_is_checked(tmp_path: Path) -> None:
    declared = targets.load_targets()
    assert [(t.metric, t.target, t.deadline) for t in declared] == [
        ("open_datasets", 1000, date(2025, 12, 31)),
        ("datasets_reused", 50, date(2025, 12, 31)),
    ]
    assert all(t.baseline and t.source for t in declared)
    bad = tmp_path / "targets.yaml"
    bad.write_text("targets:\n  - {id: x, metric: happiness, target: 1, deadline: 2025-12-31}\n", "utf-8")
    with pytest.raises(targets.TargetError, match="unknown metric 'happiness'"):
        targets.load_targets(bad)
    bad.write_text("targets:\n  - {id: x, metric: open_datasets, target: 1}\n", "utf-8")
    with pytest.raises(targets.TargetError, match="missing deadline"):
        targets.load_targets(bad)
