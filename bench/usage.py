"""Usage KPIs: the lab against DuckDB SQL and pandas over the same Parquet event store; ingest speed.

Run by ``make bench`` (never by the tests)::

    .venv/bin/python bench/usage.py                 # scales 1 and 10, then ingest throughput
    .venv/bin/python bench/usage.py --scales 1      # scale 1 only
    .venv/bin/python bench/usage.py --quick         # scale 0.1, for a smoke run

For each scale a seeded synthetic event store is written month by month
(:func:`lab.usage.synthetic.generate_store`: ≈5.9 million events at scale 1, ≈59 million at scale 10;
the demo generator would need ≈12 GB of memory at scale 1 just for its web log). Then the same KPI
suite (portal totals per month with exact distinct visits, visitors and active accounts; month-on-month
and year-on-year growth; the dataset × month × metric fact table with missing months as 0; channel
shares per year; top 10 datasets by views, downloads and API calls; API calls and distinct datasets
per application per year; sign-ups and active accounts per quarter) is computed by

* ``lab``: :mod:`lab.usage.kpis`, as a notebook or the CLI calls it;
* ``duckdb``: DuckDB SQL over the Parquet files;
* ``pandas``: pandas over the needed columns (read with pyarrow);
* ``floor``: polars reading the needed columns and nothing else,

each in its own subprocess: its wall time (the whole process, and the computation alone, after the
imports) and its peak memory (``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a launcher that waits for
it). The three engines' results must agree: every count exactly, shares and growth percentages to
their rounding. Finally the ingest throughput of each log adapter on generated logs, in lines/s.
The targets of issue 3 are printed beside the numbers; they are measured here, not asserted by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NEEDED = [
    "year",
    "month",
    "channel",
    "event",
    "counted",
    "session_id",
    "visitor_key",
    "account_key",
    "dataset_id",
    "app_id",
]
TOP_N = 10
TARGETS = {
    1: "lab ≤ 0.8 × DuckDB wall time, ≤ 2 × the read floor, ≥ 4 × faster than pandas",
    10: "lab ≤ 0.8 × DuckDB wall time, peak memory ≤ 1.5 GB",
}


# ------------------------------------------------------------------------------------------ engines
def run_lab(store: str, use_summaries: bool | None = None) -> dict:  # type: ignore[assignment]
    """The lab's KPI suite (no suppression: the comparison needs every cell). By default it reads the
    per-part summaries written at ingest; ``use_summaries=False`` makes it read the events."""
    from lab.usage import EventStore, kpis

    kpis = _Bound(kpis, use_summaries)
    store = EventStore(store)  # one store object for the suite, as a report notebook holds it
    totals = kpis.portal_totals(store, min_count=0, use_facts=False)
    out = {
        "totals": totals.select("period", *kpis.TOTALS),
        "growth": kpis.growth(totals.select("period", *kpis.TOTALS)).select(
            "period", *[f"{c}_{g}" for c in kpis.TOTALS for g in ("mom", "yoy")]
        ),
        "facts": kpis.monthly_facts(store, min_count=0, imported=False)
        .select("month", "dataset_id", "metric", "value")
        .pivot(on="metric", index=["month", "dataset_id"], values="value"),
        "channel_mix": kpis.channel_mix(store, min_count=0).select("period", "channel", "requests", "share"),
        "apps": kpis.api_calls_per_app(store, min_count=0, by="year").select(
            "period", "app_id", "api_calls", "datasets"
        ),
        "accounts": kpis.accounts_per_quarter(store, min_count=0).select(
            "quarter", "signups", "active_accounts"
        ),
    }
    for m in kpis.TOP_METRICS:
        out[f"top_{m}"] = kpis.top_datasets(store, metric=m, n=TOP_N, min_count=0).select(
            "rank", "dataset_id", m
        )
    return out


class _Bound:
    """``lab.usage.kpis`` with ``use_summaries`` passed to every KPI function."""

    def __init__(self, module: object, use_summaries: bool | None) -> None:
        self._m, self._use = module, use_summaries

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        attr = getattr(self._m, name)
        if callable(attr) and name in {
            "portal_totals",
            "monthly_facts",
            "channel_mix",
            "top_datasets",
            "api_calls_per_app",
            "accounts_per_quarter",
        }:
            return lambda *a, **k: attr(*a, use_summaries=self._use, **k)
        return attr


def run_lab_events(store: str) -> dict:
    """The lab's KPI suite reading the events (not the summaries made at ingest)."""
    return run_lab(store, use_summaries=False)


def _duckdb_sql(files: list[str]) -> dict[str, str]:
    listing = ", ".join(f"'{f}'" for f in files)
    types = "{'year': BIGINT, 'month': BIGINT}"
    src = f"read_parquet([{listing}], hive_partitioning = true, hive_types = {types})"
    totals = f"""
        SELECT printf('%04d-%02d', year, month) AS period,
            count(DISTINCT session_id) FILTER (WHERE channel = 'web') AS visits,
            count(DISTINCT visitor_key) FILTER (WHERE channel = 'web') AS unique_visitors,
            count(*) FILTER (WHERE channel = 'web'
                AND event IN ('page_view', 'search', 'dataset_view')) AS page_views,
            count(*) FILTER (WHERE channel = 'web' AND event = 'dataset_view') AS dataset_views,
            count(*) FILTER (WHERE channel = 'web' AND event = 'download') AS downloads,
            count(*) FILTER (WHERE event = 'api_call') AS api_calls,
            count(*) FILTER (WHERE event = 'signup') AS signups,
            count(DISTINCT account_key) FILTER (WHERE event IN ('api_call', 'login')) AS active_accounts
        FROM {src} WHERE counted GROUP BY year, month"""
    growth_cols = ",\n".join(
        f"CASE WHEN lag({c}, {lag}) OVER w IS NOT NULL AND lag({c}, {lag}) OVER w <> 0 "
        f"THEN round(100 * ({c} / lag({c}, {lag}) OVER w - 1), 1) END AS {c}_{name}"
        for c in (
            "visits",
            "unique_visitors",
            "page_views",
            "dataset_views",
            "downloads",
            "api_calls",
            "signups",
            "active_accounts",
        )
        for name, lag in (("mom", 1), ("yoy", 12))
    )
    return {
        "totals": f"SELECT * FROM ({totals}) ORDER BY period",
        "growth": f"""SELECT period, {growth_cols}
            FROM ({totals}) WINDOW w AS (ORDER BY period) ORDER BY period""",
        "facts": f"""
            WITH c AS (
                SELECT year, month, dataset_id,
                    count(*) FILTER (WHERE channel = 'web' AND event = 'dataset_view') AS dataset_views,
                    count(*) FILTER (WHERE channel = 'web' AND event = 'download') AS downloads,
                    count(*) FILTER (WHERE event = 'api_call') AS api_calls,
                    count(*) FILTER (WHERE channel IN ('zalo', 'sms', 'app')) AS channel_requests
                FROM {src} WHERE counted AND dataset_id IS NOT NULL GROUP BY year, month, dataset_id),
            m AS (SELECT DISTINCT year, month FROM {src}),
            d AS (SELECT DISTINCT dataset_id FROM c)
            SELECT make_date(m.year::INT, m.month::INT, 1) AS month, d.dataset_id,
                coalesce(c.dataset_views, 0) AS dataset_views, coalesce(c.downloads, 0) AS downloads,
                coalesce(c.api_calls, 0) AS api_calls, coalesce(c.channel_requests, 0) AS channel_requests
            FROM m CROSS JOIN d LEFT JOIN c
                ON c.year = m.year AND c.month = m.month AND c.dataset_id = d.dataset_id""",
        "channel_mix": f"""
            SELECT year::VARCHAR AS period, channel, count(*) AS requests,
                round(100 * count(*) / sum(count(*)) OVER (PARTITION BY year), 2) AS share
            FROM {src} WHERE counted AND event NOT IN ('signup', 'login') GROUP BY year, channel""",
        "apps": f"""
            SELECT year::VARCHAR AS period, app_id, count(*) AS api_calls,
                count(DISTINCT dataset_id) AS datasets
            FROM {src} WHERE counted AND event = 'api_call' GROUP BY year, app_id""",
        "accounts": f"""
            SELECT printf('%d-Q%d', year, (month - 1) // 3 + 1) AS quarter,
                count(*) FILTER (WHERE event = 'signup') AS signups,
                count(DISTINCT account_key) FILTER (WHERE event IN ('api_call', 'login')) AS active_accounts
            FROM {src} WHERE counted AND account_key IS NOT NULL GROUP BY ALL""",
        **{
            f"top_{m}": f"""
                SELECT row_number() OVER (ORDER BY n DESC, dataset_id) AS rank, dataset_id, n AS {m}
                FROM (SELECT dataset_id, count(*) AS n FROM {src}
                      WHERE counted AND event = '{e}' AND dataset_id IS NOT NULL {web}
                      GROUP BY dataset_id) ORDER BY n DESC, dataset_id LIMIT {TOP_N}"""
            for m, e, web in (
                ("dataset_views", "dataset_view", "AND channel = 'web'"),
                ("downloads", "download", "AND channel = 'web'"),
                ("api_calls", "api_call", ""),
            )
        },
    }


def part_files(store: str) -> list[str]:
    """The store's event files, from its ledger (without importing the lab, which DuckDB and pandas
    do not need)."""
    ledger = json.loads((Path(store) / "_ledger.json").read_text(encoding="utf-8"))
    return [str(Path(store) / p) for e in ledger["files"] if e.get("kind") == "events" for p in e["parts"]]


def run_duckdb(store: str) -> dict:
    """The suite in DuckDB SQL over the same Parquet files."""
    import duckdb

    files = part_files(store)
    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 2}")
    return {name: con.sql(sql).pl() for name, sql in _duckdb_sql(files).items()}


def run_pandas(store: str) -> dict:
    """The suite in pandas over the needed columns (read with pyarrow, partitions as columns)."""
    import pandas as pd
    import pyarrow.dataset as pads

    files = part_files(store)
    ds = pads.dataset(files, format="parquet", partitioning="hive", partition_base_dir=store)
    df = ds.to_table(columns=NEEDED).to_pandas()
    df = df[df["counted"]]
    web = df["channel"] == "web"
    ev = df["event"]
    key = [df["year"], df["month"]]
    g = df.assign(
        _pv=web & ev.isin(["page_view", "search", "dataset_view"]),
        _dv=web & (ev == "dataset_view"),
        _dl=web & (ev == "download"),
        _api=ev == "api_call",
        _su=ev == "signup",
    ).groupby(key)
    totals = pd.DataFrame(
        {
            "visits": df["session_id"].where(web).groupby(key).nunique(),
            "unique_visitors": df["visitor_key"].where(web).groupby(key).nunique(),
            "page_views": g["_pv"].sum(),
            "dataset_views": g["_dv"].sum(),
            "downloads": g["_dl"].sum(),
            "api_calls": g["_api"].sum(),
            "signups": g["_su"].sum(),
            "active_accounts": df["account_key"].where(ev.isin(["api_call", "login"])).groupby(key).nunique(),
        }
    ).reset_index()
    totals.insert(0, "period", totals["year"].astype(str) + "-" + totals["month"].astype(str).str.zfill(2))
    totals = totals.drop(columns=["year", "month"]).sort_values("period").reset_index(drop=True)
    growth = totals[["period"]].copy()
    for c in totals.columns[1:]:
        for name, lag in (("mom", 1), ("yoy", 12)):
            before = totals[c].shift(lag)
            growth[f"{c}_{name}"] = (100 * (totals[c] / before.where(before != 0) - 1)).round(1)
    d = df[df["dataset_id"].notna()]
    dweb = d["channel"] == "web"
    cube = (
        d.assign(
            dataset_views=dweb & (d["event"] == "dataset_view"),
            downloads=dweb & (d["event"] == "download"),
            api_calls=d["event"] == "api_call",
            channel_requests=d["channel"].isin(["zalo", "sms", "app"]),
        )
        .groupby(["year", "month", "dataset_id"])[
            ["dataset_views", "downloads", "api_calls", "channel_requests"]
        ]
        .sum()
    )
    months = df[["year", "month"]].drop_duplicates()
    grid = months.merge(
        pd.DataFrame({"dataset_id": cube.index.get_level_values("dataset_id").unique()}), how="cross"
    )
    facts = grid.merge(cube.reset_index(), on=["year", "month", "dataset_id"], how="left").fillna(0)
    facts.insert(0, "month_", pd.to_datetime(dict(year=facts["year"], month=facts["month"], day=1)).dt.date)
    facts = facts.drop(columns=["year", "month"]).rename(columns={"month_": "month"})
    req = df[~ev.isin(["signup", "login"])]
    mix = req.groupby([req["year"], req["channel"]]).size().rename("requests").reset_index()
    mix["share"] = (100 * mix["requests"] / mix.groupby("year")["requests"].transform("sum")).round(2)
    mix = mix.assign(period=mix["year"].astype(str))[["period", "channel", "requests", "share"]]
    api = df[ev == "api_call"]
    apps = (
        api.groupby([api["year"].astype(str).rename("period"), api["app_id"]], dropna=False)
        .agg(api_calls=("event", "size"), datasets=("dataset_id", "nunique"))
        .reset_index()
    )
    acc = df[df["account_key"].notna()]
    quarter = acc["year"].astype(str) + "-Q" + ((acc["month"] - 1) // 3 + 1).astype(str)
    accounts = (
        pd.DataFrame(
            {
                "signups": (acc["event"] == "signup").groupby(quarter).sum(),
                "active_accounts": acc["account_key"]
                .where(acc["event"].isin(["api_call", "login"]))
                .groupby(quarter)
                .nunique(),
            }
        )
        .rename_axis("quarter")
        .reset_index()
    )
    out = {
        "totals": totals,
        "growth": growth,
        "facts": facts,
        "channel_mix": mix,
        "apps": apps,
        "accounts": accounts,
    }
    for m, e, web_only in (
        ("dataset_views", "dataset_view", True),
        ("downloads", "download", True),
        ("api_calls", "api_call", False),
    ):
        sel = d[(d["event"] == e) & (dweb if web_only else True)]
        n = sel.groupby("dataset_id").size().rename(m).reset_index()
        n = n.sort_values([m, "dataset_id"], ascending=[False, True]).head(TOP_N).reset_index(drop=True)
        n.insert(0, "rank", range(1, len(n) + 1))
        out[f"top_{m}"] = n
    import polars as pl

    return {k: pl.from_pandas(v) for k, v in out.items()}


def run_floor(store: str) -> dict:
    """Read the columns the suite needs, and nothing else."""
    import polars as pl

    frame = pl.scan_parquet(part_files(store), hive_partitioning=True).select(NEEDED).collect()
    return {"rows": pl.DataFrame({"rows": [frame.height]})}


ENGINES = {
    "lab": run_lab,
    "lab_events": run_lab_events,
    "duckdb": run_duckdb,
    "pandas": run_pandas,
    "floor": run_floor,
}
IMPORTS = {
    "lab": ("lab.usage.kpis",),
    "lab_events": ("lab.usage.kpis",),
    "duckdb": ("duckdb", "polars"),
    "pandas": ("pandas", "pyarrow.dataset", "polars"),
    "floor": ("polars",),
}
"""What each engine imports: done before its clock starts, so "compute" is the computation alone."""


def engine_main(name: str, store: str, out: str) -> None:
    """In the engine's own process: import, then run it (timed), write its results and compute time."""
    import importlib

    for module in IMPORTS[name]:
        importlib.import_module(module)
    started = time.perf_counter()
    results = ENGINES[name](store)
    seconds = time.perf_counter() - started
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for key, frame in results.items():
        frame.write_parquet(folder / f"{key}.parquet")
    (folder / "time.json").write_text(json.dumps({"compute_s": seconds}), encoding="utf-8")


LAUNCHER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
wall = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "wall_s": wall, "maxrss_kb": peak}))
"""


def measure(name: str, store: Path, out: Path) -> dict:
    """Run one engine in a fresh process under a launcher that reports its wall time and peak RSS."""
    cmd = [
        sys.executable,
        "-c",
        LAUNCHER,
        sys.executable,
        __file__,
        "--engine",
        name,
        "--store",
        str(store),
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"{name} failed: {proc.stderr[-2000:]}")
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    if facts["code"] != 0:
        raise RuntimeError(f"{name} exited {facts['code']}: {proc.stderr[-2000:]}")
    facts["compute_s"] = json.loads((out / "time.json").read_text(encoding="utf-8"))["compute_s"]
    return facts


# -------------------------------------------------------------------------------------- comparison
def normalise(key: str, frame):  # type: ignore[no-untyped-def]
    """A canonical form of one KPI result: sorted rows, integer counts as Int64, ratios as Float64."""
    import polars as pl

    sort = {
        "totals": ["period"],
        "growth": ["period"],
        "facts": ["month", "dataset_id"],
        "channel_mix": ["period", "channel"],
        "apps": ["period", "app_id"],
        "accounts": ["quarter"],
    }.get(key, ["rank"])
    casts = []
    for c, t in frame.schema.items():
        if c in ("period", "channel", "dataset_id", "app_id", "quarter"):
            casts.append(pl.col(c).cast(pl.String))
        elif c == "month" and key == "facts":
            casts.append(pl.col(c).cast(pl.Date))
        elif c == "share" or c.endswith(("_mom", "_yoy")):
            casts.append(pl.col(c).cast(pl.Float64))
        elif t.is_numeric():
            casts.append(pl.col(c).cast(pl.Int64))
        else:
            casts.append(pl.col(c))
    frame = frame.select(casts)
    return frame.select(sorted(frame.columns)).sort(sort, nulls_last=True)


def compare(results: dict[str, Path]) -> list[str]:
    """Differences between the engines' results (empty: they agree)."""
    import polars as pl
    from polars.testing import assert_frame_equal

    problems = []
    keys = sorted(p.stem for p in results["lab"].glob("*.parquet"))
    for key in keys:
        ref = normalise(key, pl.read_parquet(results["lab"] / f"{key}.parquet"))
        for other in ("duckdb", "pandas"):
            if other not in results:
                continue
            got = normalise(key, pl.read_parquet(results[other] / f"{key}.parquet"))
            ratio_cols = [c for c in ref.columns if c == "share" or c.endswith(("_mom", "_yoy"))]
            try:
                assert_frame_equal(ref.drop(ratio_cols), got.drop(ratio_cols), check_dtypes=False)
                for c in ratio_cols:  # rounded percentages: equal to their rounding
                    diff = (ref[c] - got[c]).abs().max()
                    both_null = (ref[c].is_null() == got[c].is_null()).all()
                    if not both_null or (diff is not None and diff > (0.011 if c == "share" else 0.11)):
                        raise AssertionError(f"{c}: max difference {diff}, nulls agree: {both_null}")
            except AssertionError as exc:
                problems.append(f"{key}: lab vs {other}: {str(exc).splitlines()[0]}")
    return problems


# ------------------------------------------------------------------------------------------ ingest
def make_log_inputs(work: Path, lines: int) -> dict[str, Path]:
    """Generated inputs of ``lines`` lines for each log adapter (a month of traffic, synthetic)."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(7)
    n = lines
    t = np.sort(rng.integers(1_700_000_000, 1_702_592_000, n))
    ts = pl.from_epoch(pl.Series(t), time_unit="s").cast(pl.Datetime("us"))
    ip = "192.0.2." + pl.Series(rng.integers(1, 255, n)).cast(pl.String)
    ds = pl.Series(rng.integers(101000, 101860, n)).cast(pl.String)
    kinds = rng.choice(4, n, p=[0.5, 0.2, 0.2, 0.1])
    path = pl.select(
        pl.when(pl.Series(kinds) == 0)
        .then("/dulieuchitiet/" + ds)
        .when(pl.Series(kinds) == 1)
        .then("/dulieuchitiet/" + ds + "/download?format=csv")
        .when(pl.Series(kinds) == 2)
        .then(pl.lit("/dichvu?p=") + pl.Series(rng.integers(1, 40, n)).cast(pl.String))
        .otherwise(pl.lit("/static/app.css"))
    ).to_series()
    ua = pl.Series(
        [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 "
            "Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ]
    ).gather(rng.choice(3, n, p=[0.6, 0.3, 0.1]))
    clf = pl.select(
        ts.dt.replace_time_zone("UTC")
        .dt.convert_time_zone("Asia/Ho_Chi_Minh")
        .dt.strftime("%d/%b/%Y:%H:%M:%S %z")
    ).to_series()
    status = pl.Series(rng.choice(np.array([200, 200, 200, 304, 404]), n)).cast(pl.String)
    size = pl.Series(rng.integers(200, 90_000, n)).cast(pl.String)
    frame = pl.DataFrame({"ip": ip, "clf": clf, "path": path, "status": status, "size": size, "ua": ua})
    inputs = {
        "combined": frame.select(
            pl.format(
                '{} - - [{}] "GET {} HTTP/1.1" {} {} "-" "{}"', "ip", "clf", "path", "status", "size", "ua"
            )
        ),
        "common": frame.select(
            pl.format('{} - - [{}] "GET {} HTTP/1.1" {} {}', "ip", "clf", "path", "status", "size")
        ),
        "haproxy": frame.select(
            pl.format(
                "{} slb haproxy[1]: {}:40000 [{}] FE~ BE/web 0/0/1/20/+21 {} +{} - - --NN 1/1/1/0/0 0/0 "
                '"GET {} HTTP/1.1"',
                pl.lit(None, dtype=pl.String).fill_null(
                    pl.Series(ts).dt.replace_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%6f+00:00")
                ),
                "ip",
                pl.Series(ts).dt.strftime("%d/%b/%Y:%H:%M:%S.000"),
                "status",
                "size",
                "path",
            )
        ),
    }
    iso = pl.Series(ts).dt.replace_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    token = ds.str.encode("base64")
    gateway = pl.DataFrame(
        {
            "timestamp": iso,
            "client_ip": ip,
            "consumer_key": "app_" + pl.Series(rng.integers(0, 100, n)).cast(pl.String),
            "account_id": "acc_" + pl.Series(rng.integers(0, 1100, n)).cast(pl.String),
            "method": "GET",
            "path": "/api/dataset/" + token,
            "status": status,
            "content_type": "application/json",
            "latency_ms": pl.Series(rng.integers(20, 900, n)),
            "bytes": size,
        }
    )
    channels = pl.DataFrame(
        {
            "timestamp": iso,
            "channel": pl.Series(["zalo", "sms", "app"]).gather(rng.integers(0, 3, n)),
            "portal_id": ds,
            "request_type": pl.Series(["lookup", "subscribe", "notification"]).gather(rng.integers(0, 3, n)),
            "user_key": "u_" + pl.Series(rng.integers(0, 50_000, n)).cast(pl.String),
            "status": "ok",
        }
    )
    accounts = pl.DataFrame(
        {"timestamp": iso, "account_id": "acc_" + pl.Series(np.arange(n)).cast(pl.String), "method": "email"}
    )
    files = {}
    for fmt, lines_frame in inputs.items():
        files[fmt] = work / f"{fmt}.log"
        lines_frame.to_series().to_frame("l").write_csv(files[fmt], include_header=False, quote_style="never")
    files["gateway-csv"] = work / "gateway.csv"
    gateway.write_csv(files["gateway-csv"])
    files["gateway-jsonl"] = work / "gateway.jsonl"
    gateway.write_ndjson(files["gateway-jsonl"])
    files["channel-csv"] = work / "channels.csv"
    channels.write_csv(files["channel-csv"])
    files["accounts"] = work / "accounts.csv"
    accounts.write_csv(files["accounts"])
    return files


INGEST_RUNS = 3
"""Ingests of each generated log: the median is printed (the first ingest of a process also pays for
polars' thread pool and allocator warming up, and this shared machine is noisy)."""


def ingest_throughput(work: Path, lines: int) -> list[tuple[str, int, float, float]]:
    """Lines per second of each log adapter on generated inputs of ``lines`` lines: for each input, the
    run with the median wall time of :data:`INGEST_RUNS` ingests into a fresh store."""
    from lab.usage.ingest import ingest

    os.environ.setdefault("LAB_USAGE_SECRET", "bench-secret-0123456789abcdef")
    files = make_log_inputs(work, lines)
    subprocess.run(["sync"], check=False)
    out = []
    for fmt, path in files.items():
        runs = []
        for _ in range(INGEST_RUNS):
            store = work / f"store-{fmt}"
            cpu0 = _cpu()
            started = time.perf_counter()
            (result,) = ingest(path, fmt, store=store, progress=False)
            runs.append((time.perf_counter() - started, _cpu() - cpu0, result.lines_read))
            shutil.rmtree(store, ignore_errors=True)
        seconds, cpu, n = sorted(runs)[len(runs) // 2]
        out.append((fmt, n, seconds, cpu))
    return out


def dedup_throughput(work: Path, lines: int) -> tuple[int, float, float]:
    """Lines per second of ingesting the generated combined log *again*, saved with one more line end
    (another sha256), into the store that holds it: every event is found already there by its content
    key (:mod:`lab.usage.dedup`) and nothing is added. Median of :data:`INGEST_RUNS`."""
    from lab.usage.ingest import ingest

    path = make_log_inputs(work, lines)["combined"]
    copy = path.with_name(path.name + ".again")
    shutil.copyfile(path, copy)
    with copy.open("a") as fh:
        fh.write("\n")
    store = work / "store-dedup"
    ingest(path, "combined", store=store, progress=False)
    runs = []
    for _ in range(INGEST_RUNS):
        cpu0 = _cpu()
        started = time.perf_counter()
        (result,) = ingest(copy, "combined", store=store, progress=False)
        runs.append((time.perf_counter() - started, _cpu() - cpu0, result.lines_read))
        assert result.events_kept == 0 and result.duplicates > 0, result.summary()
    shutil.rmtree(store, ignore_errors=True)
    seconds, cpu, n = sorted(runs)[len(runs) // 2]
    return n, seconds, cpu


def _cpu() -> float:
    """CPU seconds of this process so far (user + system, all threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---------------------------------------------------------------------------------------------- main
def bench_scale(scale: float, work: Path, skip_pandas_below_gb: float) -> dict:
    from lab.usage.synthetic import generate_store

    store = work / f"store-{scale:g}"
    t = time.perf_counter()
    ledger = generate_store(store, scale=scale, progress=False)
    events = ledger["files"][0]["events_kept"]
    print(
        f"\n== scale {scale:g}: {events:,} events in {len(ledger['files'][0]['parts'])} month files "
        f"({sum(p.stat().st_size for p in store.rglob('*.parquet')) / 1e6:,.0f} MB), "
        f"written in {time.perf_counter() - t:.1f} s"
    )
    subprocess.run(["sync"], check=False)
    runs: dict[str, dict] = {}
    outs: dict[str, Path] = {}
    for name in ("floor", "lab", "lab_events", "duckdb", "pandas"):
        if name == "pandas" and _available_gb() < skip_pandas_below_gb:
            print(
                f"   pandas skipped: {_available_gb():.1f} GB available, "
                f"it needs about {skip_pandas_below_gb:.0f}"
            )
            continue
        outs[name] = work / f"out-{scale:g}-{name}"
        runs[name] = measure(name, store, outs[name])
    print(f"   {'engine':<11} {'wall (s)':>9} {'compute (s)':>12} {'peak RSS (GB)':>14}")
    for name, r in runs.items():
        print(f"   {name:<11} {r['wall_s']:>9.2f} {r['compute_s']:>12.2f} {r['maxrss_kb'] / 1e6:>14.2f}")
    problems = compare({k: v for k, v in outs.items() if k not in ("floor", "lab_events")})
    # the lab reading the events must agree with the lab reading its summaries
    problems += [
        p.replace("vs duckdb", "vs lab_events")
        for p in compare({"lab": outs["lab"], "duckdb": outs["lab_events"]})
    ]
    print(
        "   results: "
        + ("lab (summaries and events), DuckDB and pandas agree" if not problems else "DISAGREE")
    )
    for p in problems:
        print(f"     {p}")
    for lab_name in ("lab", "lab_events"):
        print(f"   {lab_name}: " + "; ".join(_ratios(runs, lab_name)))
    print(f"   target at this scale: {TARGETS.get(round(scale), '(none)')}")
    for line in _verdicts(runs, scale):
        print(f"     {line}")
    shutil.rmtree(store, ignore_errors=True)
    return {"events": events, "runs": runs, "agree": not problems}


def _ratios(runs: dict[str, dict], lab_name: str) -> list[str]:
    """The lab's wall time and compute time against each other engine."""
    lab = runs[lab_name]
    out = []
    for other in ("duckdb", "floor", "pandas"):
        if other in runs:
            r = runs[other]
            out.append(
                f"/ {other} wall {lab['wall_s'] / r['wall_s']:.2f}, "
                f"compute {lab['compute_s'] / r['compute_s']:.2f}"
            )
    return out


def _verdicts(runs: dict[str, dict], scale: float) -> list[str]:
    """Each target of issue 3 at this scale: met or missed, and by how much (wall and compute)."""
    lab, duck, floor = runs["lab"], runs["duckdb"], runs["floor"]
    out = []

    def check(what: str, ratio_wall: float, ratio_compute: float, limit: float) -> str:
        def one(r: float) -> str:
            return f"{r:.2f} ({'met' if r <= limit else f'missed by {100 * (r / limit - 1):.0f} %'})"

        return f"{what} ≤ {limit}: wall {one(ratio_wall)}, compute {one(ratio_compute)}"

    if round(scale) in (1, 10):
        out.append(
            check("lab / DuckDB", lab["wall_s"] / duck["wall_s"], lab["compute_s"] / duck["compute_s"], 0.8)
        )
    if round(scale) == 1:
        out.append(
            check("lab / floor", lab["wall_s"] / floor["wall_s"], lab["compute_s"] / floor["compute_s"], 2.0)
        )
        if "pandas" in runs:
            p = runs["pandas"]
            out.append(
                check("lab / pandas", lab["wall_s"] / p["wall_s"], lab["compute_s"] / p["compute_s"], 0.25)
            )
    if round(scale) == 10:
        gb = lab["maxrss_kb"] / 1e6
        out.append(f"lab peak memory ≤ 1.5 GB: {gb:.2f} GB ({'met' if gb <= 1.5 else 'missed'})")
    return out


def import_cost() -> tuple[float, float]:
    """Seconds to import the lab's KPI module in a fresh interpreter, and the part of it spent importing
    polars (the lab's whole-process time carries its imports; DuckDB's and pandas' carry theirs)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import lab.usage.kpis"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    ).stderr
    cumulative = {}
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            cumulative[parts[2].strip()] = int(parts[1]) / 1e6
    return cumulative.get("lab.usage.kpis", 0.0), cumulative.get("polars", 0.0)


def _available_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=sorted(ENGINES), help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--scales", default="1,10", help="comma-separated scales (default 1,10)")
    parser.add_argument("--quick", action="store_true", help="scale 0.1 and 200,000-line logs: a smoke run")
    parser.add_argument("--ingest-lines", type=int, default=2_000_000, help="lines of each generated log")
    parser.add_argument("--work", help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    if args.engine:
        engine_main(args.engine, args.store, args.out)
        return 0
    scales = [0.1] if args.quick else [float(s) for s in args.scales.split(",")]
    lines = 200_000 if args.quick else args.ingest_lines
    work = Path(args.work or tempfile.mkdtemp(prefix="lab-bench-usage-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench/usage.py: {os.cpu_count()} cores, {_available_gb():.1f} GB available, scratch {work}")
    total, polars_s = import_cost()
    print(
        f"import lab.usage.kpis: {total:.2f} s in a fresh interpreter, {polars_s:.2f} s of it importing "
        f"polars (load average {os.getloadavg()[0]:.1f})"
    )
    ok = True
    try:
        for scale in scales:
            ok &= bench_scale(scale, work, skip_pandas_below_gb=4 + 1.4 * scale)["agree"]
        print(
            f"\n== ingest throughput: {lines:,} generated lines per input, median of {INGEST_RUNS} ingests; "
            "target: combined ≥ 500,000 lines/s wall"
        )
        print(
            f"   {'format':<14} {'lines':>10} {'wall (s)':>9} {'lines/s':>12} "
            f"{'CPU (s)':>8} {'lines/CPU-s':>12}"
        )
        for fmt, n, seconds, cpu in ingest_throughput(work, lines):
            print(
                f"   {fmt:<14} {n:>10,} {seconds:>9.2f} {n / seconds:>12,.0f} {cpu:>8.2f} {n / cpu:>12,.0f}"
            )
        n, seconds, cpu = dedup_throughput(work, lines)
        print(
            f"   {'combined again':<14} {n:>10,} {seconds:>9.2f} {n / seconds:>12,.0f} {cpu:>8.2f} "
            f"{n / cpu:>12,.0f}   (the same log + one line end, into the store holding it: all duplicates)"
        )
        print(f"   load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"peak memory of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
