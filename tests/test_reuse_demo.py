"""Acceptance on the demo portal (generated here, tiny scale): the registry, outcomes and ledger give every
indicator, spam rows are flagged (and counted, as udata counts) as the manifest's truth says, the ledger
reconciles to 0 VND, targets are evaluated, and the reuse-outcomes report renders in both languages."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from lab.reuse import impact, indicators, lineage, outcomes, revenue, targets
from lab.reuse.registry import known_dataset_ids, registry_from_catalog, spam_flags
from lab.reuse.validation import valid_rows

END = date(2026, 10, 31)  # the demo portal's window end


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from lab import demo as demo_portal

    out = tmp_path_factory.mktemp("reuse-demo") / "portal"
    manifest = demo_portal.generate(out, scale=0.002, seed=7, progress=False)
    return out, manifest


@pytest.fixture(autouse=True)
def demo_env(monkeypatch: pytest.MonkeyPatch, demo: tuple[Path, dict[str, Any]]) -> None:
    monkeypatch.setenv("LAB_DEMO", str(demo[0]))


@pytest.fixture(scope="module")
def data(demo: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_DEMO", str(demo[0]))
        registry = registry_from_catalog()
        known = known_dataset_ids()
        service = revenue.load_services()["notary-lookup"]
        return {
            "registry": registry,
            "known": known,
            "valid": valid_rows(registry, known),
            "listing": indicators.portal_listing(),
            "outcomes": outcomes.load_outcomes(),
            "service": service,
            "ledger": revenue.load_ledger(service),
        }


def _truth(demo: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return demo[1]["truth"]["reuse"]


# ------------------------------------------------------------------------------------------- registry
def test_spam_rows_are_flagged_and_counted(data: dict[str, Any], demo: tuple[Path, dict[str, Any]]) -> None:
    flagged = spam_flags(data["registry"], data["known"]).filter("spam")["reuse_id"].to_list()
    assert flagged == _truth(demo)["spam_reuse_ids"]
    result = indicators.summary(data["registry"], data["known"])
    # udata's way: a declared reuse counts whatever its flags (a human reviews them, then deletes spam)
    assert result["reuses"] == result["rows"] == demo[1]["totals"]["reuses"] + len(flagged)
    assert [f["reuse_id"] for f in result["flagged"]] == flagged
    assert set(_truth(demo)["known_kind_reuse_ids"]) <= set(data["valid"]["reuse_id"].to_list())
    assert 0 < result["unique_reusers"] < result["reuses"]  # owners repeat: reusers are counted apart


def test_datasets_reused_match_the_truth(data: dict[str, Any], demo: tuple[Path, dict[str, Any]]) -> None:
    truth = _truth(demo)
    assert (
        indicators.summary(data["registry"], data["known"])["datasets_reused"]
        == truth["distinct_datasets_reused"]
    )
    assert indicators.date_reached(data["valid"], 50).isoformat() == truth["distinct_datasets_50_reached_on"]
    launched = indicators.datasets_reused_over_time(data["valid"], [END], basis="launched")
    assert launched["datasets_reused"].to_list() == [truth["distinct_datasets_reused"]]


def test_products_use_datasets_of_their_own_theme(
    data: dict[str, Any], demo: tuple[Path, dict[str, Any]]
) -> None:
    """Issue 20: no air-quality study built on the budget and fire-incident datasets: every dataset a
    product names is of the product's theme (the catalog theme's udata topic is the product's topic)."""
    from lab.demo.vocab import THEME_TO_TOPIC

    catalog = pl.read_csv(demo[0] / "catalog/portal_datasets.csv", infer_schema=False)
    topic_of = {
        pid: THEME_TO_TOPIC.get(theme, "others")
        for pid, theme in catalog.select("portal_id", "theme").iter_rows()
    }
    spam = set(_truth(demo)["spam_reuse_ids"])
    rows = pl.read_csv(demo[0] / "reuse/registry.csv", infer_schema=False).filter(
        ~pl.col("reuse_id").is_in(spam) & pl.col("datasets").is_not_null()
    )
    checked = 0
    for reuse_id, topic, datasets in rows.select("reuse_id", "topic", "datasets").iter_rows():
        for dataset in datasets.split(";"):
            assert topic_of[dataset] == topic, (reuse_id, topic, dataset, topic_of[dataset])
            checked += 1
    assert checked >= rows.height > 80


def _live_oracle(registry_csv: Path, known: frozenset[str], spam: set[str], day: date) -> int:
    """Distinct known datasets of non-spam reuses live on ``day``, by a plain reading of the CSV."""
    import csv

    used: set[str] = set()
    with open(registry_csv, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            launched = date.fromisoformat(row["launched"]) if row["launched"] else None
            retired = date.fromisoformat(row["retired"]) if row["retired"] else None
            if row["reuse_id"] in spam or launched is None or launched > day or (retired and retired <= day):
                continue
            used |= {d for d in row["datasets"].split(";") if d in known}
    return len(used)


def test_live_series_agrees_with_a_plain_count(
    data: dict[str, Any], demo: tuple[Path, dict[str, Any]]
) -> None:
    days = [date(2020, 6, 30), date(2023, 12, 31), date(2025, 12, 31), END]
    series = indicators.datasets_reused_over_time(data["valid"], days)
    spam = set(_truth(demo)["spam_reuse_ids"])
    expected = [_live_oracle(demo[0] / "reuse/registry.csv", data["known"], spam, d) for d in days]
    assert series["datasets_reused"].to_list() == expected


# ----------------------------------------------------------------------------------------- indicators
def test_every_indicator_comes_out_of_the_demo(data: dict[str, Any]) -> None:
    valid, listing, outs = data["valid"], data["listing"], data["outcomes"]
    open_ds = indicators.open_datasets_over_time(listing, end=END)
    public = listing.filter(pl.col("access_rights") == "public", pl.col("issued") <= END).height
    assert open_ds["open_datasets"][-1] == public and open_ds["open_datasets"].is_sorted()

    rate = indicators.reuse_rate(valid, listing, END)
    live_ids = set(
        indicators.with_dates(valid)
        .filter(indicators.status_on(END) == "live")
        .select(pl.col("datasets").explode())
        .to_series()
        .to_list()
    )
    public_ids = set(listing.filter(pl.col("access_rights") == "public")["dataset_id"].to_list())
    assert rate["reused"].sum() == len(live_ids & public_ids)
    by_theme = indicators.reuse_rate(valid, listing, END, by="theme")
    assert by_theme["datasets"].sum() == public

    firsts = indicators.time_to_first_reuse(valid, listing)
    assert firsts.height == indicators.first_reuse(valid).height
    assert indicators.time_to_first_reuse_summary(firsts)["median_days"] > 0

    years = [date(y, 12, 31) for y in range(2018, 2026)]
    people = indicators.reuses_and_reusers(valid, years)
    assert people["reuses"].is_sorted() and (people["unique_reusers"] <= people["reuses"]).all()
    status = indicators.products_by_status(valid, END)
    assert status["total"].sum() == valid.height and status["live"].sum() > status["retired"].sum() > 0

    table = lineage.lineage_table(valid, outs, listing, start=date(2026, 7, 1), end=date(2026, 9, 30))
    assert table.height == valid.select(pl.col("datasets").list.len().sum()).item()
    assert table["publisher"].null_count() == 0  # every linked dataset is in the listing
    svg = str(lineage.lineage_svg(table, lang="en", max_products=8))
    assert svg.startswith("<svg") and svg.count("<rect") == 8 + 4 and "Revenue (VND)" in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to fetch

    summary = impact.impact_summary(valid, outs, range(2019, 2027))
    assert summary.height == 8 * 4 and set(summary["domain"]) == set(impact.DOMAINS)
    last = summary.filter(pl.col("year") == 2026)
    assert (last["products"] > 0).all() and last["evidence_links"].sum() > 0
    assert last.filter(pl.col("domain") == "economic")["revenue_vnd"].item() > 0  # the paid notary service


# --------------------------------------------------------------------------------------------- revenue
def test_ledger_reconciles_to_zero_vnd(data: dict[str, Any], demo: tuple[Path, dict[str, Any]]) -> None:
    service, ledger, valid = data["service"], data["ledger"], data["valid"]
    rec = revenue.reconcile(ledger, service, outcomes=data["outcomes"], registry=valid)
    assert rec.ok and rec.difference_vnd == 0 and rec.fee_mismatches == 0
    assert rec.ledger_total_vnd == demo[1]["totals"]["notary_revenue_vnd"]
    monthly = revenue.monthly_revenue(ledger, service)
    per_dataset = revenue.revenue_by_dataset(monthly, valid)
    assert per_dataset["revenue_vnd"].sum() == rec.ledger_total_vnd
    notary = valid.filter(pl.col("paid_service") == service.id)["reuse_id"].to_list()
    reported = outcomes.monthly_totals(data["outcomes"], notary).select("month", "transactions")
    joined = monthly.join(reported, on="month", how="inner")
    assert joined.height == monthly.height and (joined["transactions"] == joined["units"]).all()
    calls = data["outcomes"].filter(pl.col("reuse_id").is_in(notary)).select("month", "api_calls")
    per_1000 = revenue.revenue_per_1000_calls(monthly, calls)
    assert per_1000["vnd_per_1000_calls"].drop_nulls().min() > 0


def test_api_usage_per_app_reads_into_the_registry(data: dict[str, Any]) -> None:
    keyed = data["valid"].filter(pl.col("api_consumer").is_not_null()).head(3)
    usage = pl.DataFrame(
        {
            "month": ["2026-09"] * 4,
            "app_id": [*keyed["api_consumer"].to_list(), "app_unknown"],
            "api_calls": [10, 20, 30, 40],
        }
    )
    joined = outcomes.usage_by_reuse(usage, data["valid"])
    assert sorted(joined["reuse_id"].to_list()) == sorted(keyed["reuse_id"].to_list())
    assert outcomes.undeclared_apps(usage, data["valid"])["app_id"].to_list() == ["app_unknown"]


# --------------------------------------------------------------------------------------------- targets
def test_targets_on_the_demo(data: dict[str, Any], demo: tuple[Path, dict[str, Any]]) -> None:
    results = {r["metric"]: r for r in targets.evaluate_targets(as_of=END)}
    open_ds = results["open_datasets"]
    assert open_ds["value"] < 1000 and open_ds["status"] == "missed"  # the demo lists 860 datasets
    assert open_ds["projected_date"] > open_ds["deadline"]
    reused = results["datasets_reused"]
    spam = set(_truth(demo)["spam_reuse_ids"])
    on_deadline = _live_oracle(demo[0] / "reuse/registry.csv", data["known"], spam, date(2025, 12, 31))
    assert reused["value_on_deadline"] == on_deadline
    assert reused["status"] == ("reached" if on_deadline >= 50 else "missed")
    earlier = {r["metric"]: r for r in targets.evaluate_targets(as_of=date(2024, 3, 31))}
    assert all(r["status"] in targets.STATUSES for r in earlier.values())
    assert (
        earlier["open_datasets"]["status"] == "at risk"
        and earlier["open_datasets"]["value_on_deadline"] is None
    )
    low, high = earlier["open_datasets"]["interval"]
    assert low <= earlier["open_datasets"]["projected_date"] <= (high or "9999")


# ------------------------------------------------------------------------------------------------- CLI
def test_cli_summary_and_targets_on_the_demo(
    demo: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.cli import main

    assert main(["reuse", "summary", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["reuses"] == demo[1]["totals"]["reuses"] + len(_truth(demo)["spam_reuse_ids"])
    assert result["datasets_reused"] == _truth(demo)["distinct_datasets_reused"]
    tops = result["top_datasets"]
    assert [d["reuses"] for d in tops] == sorted((d["reuses"] for d in tops), reverse=True)
    assert set(tops[0]) >= {"dataset_id", "reuses"} and sum(result["by_type"].values()) == result["reuses"]
    assert main(["reuse", "validate"]) == 2  # the spam rows are errors
    lines = capsys.readouterr().out.splitlines()
    assert {
        rid for rid in _truth(demo)["spam_reuse_ids"] if any(f"({rid})" in line for line in lines)
    } == set(_truth(demo)["spam_reuse_ids"])
    monkeypatch.setenv("LAB_AS_OF", "2030-01-01")  # clipped to the demo's window
    assert main(["targets", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in listed] == ["open-datasets-1000", "datasets-reused-50"]
    for t in listed:
        assert {"value", "target", "deadline", "projected_date", "status"} <= set(t)
        assert t["status"] in targets.STATUSES and t["as_of"] == END.isoformat()


# ---------------------------------------------------------------------------------------------- report
@pytest.mark.slow
def test_reuse_outcomes_report_renders_in_both_languages(
    tmp_path: Path, jupyter_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab import reports

    for key in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTER_PLATFORM_DIRS"):
        monkeypatch.setenv(key, jupyter_env[key])
    out = tmp_path / "reports"
    results = reports.run(names=["reuse-outcomes"], period="2025-Q3", out=out)
    assert [(r.language, r.ok) for r in results] == [("vi", True), ("en", True)], [
        r.summary() for r in results
    ]
    vi = (out / "2025-Q3" / "reuse-outcomes.vi.html").read_text(encoding="utf-8")
    en = html.unescape((out / "2025-Q3" / "reuse-outcomes.en.html").read_text(encoding="utf-8"))
    assert unicodedata.is_normalized("NFC", vi)
    assert "Tái sử dụng dữ liệu mở và kết quả sản phẩm · 2025-Q3" in vi and "Mục tiêu của thành phố" in vi
    assert "Open data reuse and product outcomes · 2025-Q3" in en and "The city's targets" in en
    assert "Dữ liệu mẫu (tổng hợp)" in vi and "Demo data (synthetic)" in en
    assert "a difference of 0 VND" in en and "Fees are demo values" in en
    assert en.count("<svg") >= 7 and "ReuseReport" not in en  # charts inline, code hidden
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"https?://", en)


def test_registry_problems_speak_the_pages_language(demo: tuple[Path, dict[str, Any]]) -> None:
    """Issue 20: registry problems in English inside the Vietnamese report; every code the validator
    gives has a Vietnamese label, and the Vietnamese table shows it (the English one the message)."""
    from lab.i18n import LABELS
    from lab.reuse.report import ReuseReport

    vi, en = ReuseReport.build("2026-Q3", lang="vi"), ReuseReport.build("2026-Q3", lang="en")
    codes = set(
        re.findall(
            r'"([a-z_]+)",\s*\n\s*(?:pl\.lit|_quoted)',
            (Path(__file__).parents[1] / "lab/reuse/validation.py").read_text("utf-8"),
        )
    )
    codes |= {"missing_column", "bad_date", "bad_type", "bad_topic", "bad_owner_kind", "bad_status"}
    codes |= {"bad_channels"}
    assert {"duplicate_id", "no_dataset", "unknown_dataset", "shared_api_consumer"} <= codes
    assert all(f"reuse_issue_{c}" in LABELS for c in codes), codes - {k[12:] for k in LABELS}
    vi_html, en_html = str(vi.problems()), str(en.problems())
    assert "<table" in vi_html and "<table" in en_html  # the demo's spam rows have problems
    for english in ("not in the catalog", "is not", "no dataset linked", "is already registered"):
        assert english not in vi_html
    assert "tập dữ liệu" in vi_html or "địa chỉ" in vi_html


def test_english_pages_show_the_english_dataset_titles(demo: tuple[Path, dict[str, Any]]) -> None:
    """Issue 20: the English reuse report showed Vietnamese dataset titles where English ones exist."""
    from lab.reuse.report import ReuseReport

    en = ReuseReport.build("2026-Q3", lang="en")
    catalog = pl.read_csv(demo[0] / "catalog/portal_datasets.csv", infer_schema=False)
    top = indicators.top_datasets(en.valid, 3)["dataset_id"].to_list()
    titles = catalog.filter(pl.col("portal_id").is_in(top)).select("title_vi", "title_en").rows()
    chart = html.unescape(str(en.top_datasets_chart()))
    for vi_title, en_title in titles:
        assert en_title[:30] in chart and (vi_title == en_title or vi_title[:30] not in chart), (
            vi_title,
            en_title,
        )
