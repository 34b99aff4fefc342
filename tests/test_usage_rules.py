"""The counting rules, one by one (lab/usage/rules.py): robots and monitors, static assets, answered
requests, 30-minute visits, 30-second double-clicks, views vs downloads, web vs API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from lab.demo.vocab import BOT_USER_AGENTS, HUMAN_USER_AGENTS, MONITOR_USER_AGENT
from lab.usage import CountingRules, UrlRules
from lab.usage.adapters.base import Context, as_staged
from lab.usage.adapters.web import requests_to_events
from lab.usage.agents import agent_patterns, classify_agents
from lab.usage.routes import PORTAL_RULES, Route, RulesError
from lab.usage.rules import apply_rules

T0 = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
DATA = Path(__file__).parent / "data" / "usage"


def staged(rows: list[dict]) -> pl.DataFrame:
    """Staged events from short dicts: t (seconds after T0), v (visitor), plus any column."""
    base = {"channel": "web", "event": "dataset_view", "dataset_id": "1", "agent_class": "human", "ok": True}
    full = [
        {
            **base,
            **{k: v for k, v in r.items() if k not in ("t", "v")},
            "ts": T0 + timedelta(seconds=r["t"]),
            "visitor_key": r.get("v", 1),
        }
        for r in rows
    ]
    return as_staged(pl.DataFrame(full))


def counted(rows: list[dict], rules: CountingRules | None = None) -> pl.DataFrame:
    return apply_rules(staged(rows), rules or CountingRules()).sort("ts")


# ------------------------------------------------------------------------------------ robots
def test_published_robot_list_catches_the_demo_crawlers_and_never_a_browser() -> None:
    p = agent_patterns()
    assert "COUNTER" in p.robots_source and len(p.robots) > 250
    humans = [
        ua.replace("{v}", "120")
        .replace("{c}", "130")
        .replace("{f}", "121")
        .replace("{s}", "17")
        .replace("{i}", "17")
        for ua, _ in HUMAN_USER_AGENTS
    ]
    classes = classify_agents(
        pl.Series([*humans, *(ua for ua, _ in BOT_USER_AGENTS), MONITOR_USER_AGENT, "-", None])
    )
    n = len(humans)
    assert classes[:n].to_list() == ["human"] * n
    assert classes[n : n + len(BOT_USER_AGENTS)].to_list() == ["bot"] * len(BOT_USER_AGENTS)
    assert classes[-3:].to_list() == ["monitor", "bot", "human"]  # "-" is a robot; no UA recorded: unknown


def test_a_visitor_over_the_rate_limit_is_a_robot_for_that_day() -> None:
    fast = [{"t": i // 2, "v": 7, "dataset_id": str(i)} for i in range(61)]  # 61 requests in one minute
    next_day = [{"t": 86_400 + 60, "v": 7}]
    at_limit = [{"t": i // 2, "v": 8, "dataset_id": str(i)} for i in range(60)]
    out = counted(fast + next_day + at_limit)
    by_visitor = out.group_by("visitor_key", pl.col("ts").dt.date()).agg(pl.col("agent_class").unique())
    classes = {(r[0], r[1].day): r[2] for r in by_visitor.iter_rows()}
    assert classes[(7, 6)] == ["bot"] and classes[(7, 7)] == ["human"] and classes[(8, 6)] == ["human"]
    assert out.filter(pl.col("visitor_key") == 7).get_column("counted").sum() == 1
    per_day = [{"t": i * 30, "v": 9, "dataset_id": str(i)} for i in range(2001)]  # slow but 2,001 a day
    assert counted(per_day, CountingRules(max_per_minute=None)).get_column("counted").sum() == 0
    assert counted(per_day, CountingRules(max_per_minute=None, max_per_day=None)).get_column("counted").all()


# ------------------------------------------------------------------------- what is an event
def _requests(rows: list[tuple[str, str, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts": [T0 + timedelta(seconds=i) for i in range(len(rows))],
            "ip": ["192.0.2.1"] * len(rows),
            "ua": [r[3] for r in rows],
            "method": [r[0] for r in rows],
            "target": [r[1] for r in rows],
            "status": pl.Series([r[2] for r in rows], dtype=pl.Int16),
            "bytes": [100] * len(rows),
        }
    )


def test_static_assets_ajax_robots_txt_and_posts_are_not_events() -> None:
    ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"
    req = _requests(
        [
            ("GET", "/static/app.css", 200, ua),
            ("GET", "/img/logo.PNG", 200, ua),
            ("POST", "/zkau", 200, ua),
            ("GET", "/zkau/web/js/zk.wpd", 200, ua),
            ("GET", "/robots.txt", 200, ua),
            ("GET", "/favicon.ico", 200, ua),
            ("POST", "/dangky", 302, ua),
            ("GET", "https://opendata.danang.gov.vn/dulieuchitiet/102528?tab=1", 200, ua),
            ("GET", "/dulieuchitiet/102528/download?format=csv", 200, ua),
            ("GET", "/api/dataset/MTAyNTI4?limit=10", 200, "python-requests/2.31.0"),
            ("GET", "/timkiem?q=xe+buyt", 200, ua),
            ("GET", "/dichvu?p=3", 200, ua),
            ("HEAD", "/", 200, MONITOR_USER_AGENT),
        ]
    )
    ev = requests_to_events(req, Context(secret=b"s" * 16, source_file="x"))
    assert ev.select("event", "channel", "dataset_id", "agent_class").rows() == [
        ("dataset_view", "web", "102528", "human"),
        ("download", "web", "102528", "human"),
        ("api_call", "api", "102528", "bot"),
        ("search", "web", None, "human"),
        ("page_view", "web", None, "human"),
        ("page_view", "web", None, "monitor"),
    ]
    assert ev.get_column("ok").to_list() == [True, True, True, True, True, False]  # a HEAD is never a view


def test_only_answered_requests_count() -> None:
    rows = [
        {"t": 100 * i, "status": s, "dataset_id": str(i)}
        for i, s in enumerate([200, 304, 302, 404, 500, 301])
    ]
    ok = PORTAL_RULES.ok_expr(pl.col("status"))
    frame = staged(rows).with_columns(ok=ok)
    assert apply_rules(frame, CountingRules()).sort("ts").get_column("counted").to_list() == [
        True, True, True, False, False, True,
    ]  # fmt: skip
    udata = UrlRules(routes=(), ok_status=((200, 200), (302, 302)))
    assert pl.select(udata.ok_expr(pl.Series([200, 302, 304, 301, None]))).to_series().to_list() == [
        True, True, False, False, False,
    ]  # fmt: skip


# ------------------------------------------------------------------------------- visits
def test_a_visit_ends_after_30_minutes_of_inactivity() -> None:
    rows = [
        {"t": 0, "dataset_id": "1"},
        {"t": 29 * 60, "dataset_id": "2"},
        {"t": 58 * 60, "dataset_id": "3"},  # 29 minutes after the previous: same visit
        {"t": 58 * 60 + 31 * 60, "dataset_id": "4"},  # 31 minutes later: a new visit
        {"t": 10, "v": 2, "dataset_id": "1"},  # another visitor, interleaved: own visit
    ]
    out = counted(rows)
    sessions = out.filter(pl.col("visitor_key") == 1).get_column("session_id").to_list()
    assert sessions[0] == sessions[1] == sessions[2] != sessions[3]
    assert out.get_column("session_id").n_unique() == 3
    longer = counted(rows, CountingRules(session_gap_s=3600))
    assert longer.get_column("session_id").n_unique() == 2


# ------------------------------------------------------------------------- double-clicks
def test_a_double_click_counts_once() -> None:
    rows = [
        {"t": 0},
        {"t": 20},  # same visitor, dataset, event within 30 s: not counted again
        {"t": 45},  # 25 s after the previous click: still the same burst
        {"t": 200},  # later: counted
        {"t": 210, "event": "download"},  # a download is not a repeat of a view
        {"t": 220, "dataset_id": "2"},  # another dataset
        {"t": 300, "ok": False},  # a failed request (404) ...
        {"t": 310, "dataset_id": "3", "ok": False},
        {"t": 315, "dataset_id": "3"},  # ... then the retry that worked counts
    ]
    assert counted(rows).get_column("counted").to_list() == [
        True,
        False,
        False,
        True,
        True,
        True,
        False,
        False,
        True,
    ]
    off = counted(rows, CountingRules(double_click_s=0)).get_column("counted").to_list()
    assert off == [True, True, True, True, True, True, False, False, True]


def test_api_calls_are_paged_so_quick_repeats_count() -> None:
    rows = [{"t": i, "channel": "api", "event": "api_call"} for i in range(3)]
    assert counted(rows).get_column("counted").to_list() == [True, True, True]


def test_robots_and_monitors_never_count() -> None:
    rows = [{"t": 0, "agent_class": "bot"}, {"t": 1000, "agent_class": "monitor"}, {"t": 2000}]
    assert counted(rows).get_column("counted").to_list() == [False, False, True]


# ------------------------------------------------------------------------------- routes
def test_routes_from_a_yaml_file_and_bad_routes() -> None:
    rules = UrlRules.from_file(DATA / "routes.yaml")
    got = rules.classify(pl.Series(["/xem/77", "/dulieuchitiet/5/download", "/a.css", "/"]))
    assert got.select("event", "dataset_id").rows() == [
        ("dataset_view", "77"),
        ("download", "5"),
        (None, None),
        ("page_view", None),
    ]
    with pytest.raises(RulesError, match="event 'click'"):
        Route("^/x", "click")
    with pytest.raises(RulesError, match="not a valid regex"):
        Route("^/x(", "page_view")
    with pytest.raises(RulesError, match="unknown field"):
        UrlRules.from_mapping({"paths": []})


def test_resolving_slugs_to_catalog_ids() -> None:
    from lab.usage import datagouv_rules
    from lab.usage.routes import catalog_keys

    rules = datagouv_rules(catalog_keys(["5b3c"], ["jours-feries"]))
    got = rules.classify(
        pl.Series(
            [
                "/datasets/jours-feries/",
                "/fr/datasets/5b3c/",
                "/api/2/datasets/search/",
                "/fr/datasets/r/uuid",
            ]
        )
    )
    assert got.select("event", "channel", "dataset_id").rows() == [
        ("dataset_view", "web", "5b3c"),
        ("dataset_view", "web", "5b3c"),
        ("api_call", "api", None),  # "search" is not a dataset
        ("download", "web", None),
    ]
