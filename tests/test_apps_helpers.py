"""The apps' thin adapters over the library, on small frames: window sums, suppression, search, quarters."""

from __future__ import annotations

from datetime import date

import polars as pl

from lab.apps.reuse_explorer import quarter_bounds, quarters_up_to, search_links
from lab.apps.tracker_figures import channel_figures, dataset_figures, top_viewed, window_totals


def test_window_totals_sum_whole_safe_periods() -> None:
    totals = pl.DataFrame(
        {
            "period": ["2025-01", "2025-02", "2025-03"],
            "visits": [10, None, 7],
            "api_calls": [1, 1, 1],
            "signups": [0, 0, 0],
        }
    )
    row = window_totals(totals, "2025-02", "2025-03", min_count=5)
    assert row["visits"] == 7 and not row["visits_suppressed"]
    assert row["api_calls"] is None and row["api_calls_suppressed"]  # 2 < 5: hidden, never shown as 0
    assert row["signups"] == 0 and not row["signups_suppressed"]


def test_dataset_figures_and_top_viewed_follow_the_datasets_and_months() -> None:
    facts = pl.DataFrame(
        {
            "period": ["2025-01", "2025-02", "2025-02", "2025-02"],
            "dataset_id": ["a", "a", "b", "b"],
            "metric": ["dataset_views", "dataset_views", "dataset_views", "downloads"],
            "value": [100, 20, 3, 9],
        }
    )
    every = dataset_figures(facts, None, "2025-02", "2025-02", min_count=5)
    # b's 3 views are no safe period yet: published nowhere, so "every dataset" minus "a" reveals nothing
    assert dict(every.select("metric", "value").iter_rows())["dataset_views"] == 20
    only_b = dataset_figures(facts, ["b"], "2025-01", "2025-02", min_count=5)
    row = only_b.filter(pl.col("metric") == "dataset_views").row(0, named=True)
    assert row["value"] is None and row["value_suppressed"]
    assert only_b.filter(pl.col("metric") == "downloads")["value"].item() == 9
    top = top_viewed(facts, None, "2025-01", "2025-02", min_count=5)
    assert top["dataset_id"].to_list() == ["a"] and top["dataset_views"].to_list() == [120]


def test_channel_figures_shares_and_suppression() -> None:
    mix = pl.DataFrame(
        {
            "period": ["2025-01", "2025-01", "2025-02"],
            "channel": ["web", "sms", "web"],
            "requests": [60, 2, 38],
        }
    )
    out = channel_figures(mix, "2025-01", "2025-02", min_count=5)
    web = out.filter(pl.col("channel") == "web").row(0, named=True)
    sms = out.filter(pl.col("channel") == "sms").row(0, named=True)
    # shares of the published requests only: a share of all requests would give the hidden 2 away
    assert web["requests"] == 98 and web["share"] == 100.0
    assert sms["requests"] is None and sms["share"] is None
    assert out.filter(pl.col("channel") == "zalo")["requests"].item() == 0


def test_quarters_and_search() -> None:
    assert quarters_up_to(date(2026, 2, 10), 3) == ["2025-Q3", "2025-Q4", "2026-Q1"]
    assert quarter_bounds("2025-Q4") == (date(2025, 10, 1), date(2025, 12, 31))
    links = pl.DataFrame(
        {
            "reuse_id": ["r1", "r1", "r2"],
            "product": ["Bản đồ xe buýt", "Bản đồ xe buýt", "Cảnh báo ngập"],
            "owner_kind": ["company", "company", "individual"],
            "dataset_id": ["d1", "d2", "d3"],
            "dataset_title": ["Tuyến xe buýt", "Trạm dừng", "Mực nước"],
        }
    )
    assert search_links(links, "xe buyt")["reuse_id"].unique().to_list() == ["r1"]
    assert search_links(links, "tram dung").height == 2  # every link of a matching product
    assert search_links(links, "").height == 3
