"""A seeded **synthetic** event store, written month by month, for benchmarks (no log to parse).

The demo generator (:mod:`lab.demo`) needs about 12 GB of memory at scale 1 for its web log; a
benchmark of the KPIs needs only the store. :func:`generate_store` writes the same partitions and
ledger an ingest writes (``year=YYYY/month=MM/part-<id>.parquet``), one month at a time, so memory
stays bounded by one month whatever the scale: ≈5.9 million events at scale 1 (the portal's published
volumes: web page views and downloads of ≈4.7 million visits' worth of people, ≈1.2 million API calls,
Zalo/SMS/app requests, robots and monitors), ≈59 million at scale 10. Everything in it is invented.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from lab.atomic import atomic_write_text
from lab.usage.schema import AGENT_CLASSES, CHANNELS, EVENTS, conform_events
from lab.usage.store import LEDGER, STORE_FORMAT, STORE_VERSION, months_between
from lab.usage.summary import summarise, summary_name

EVENTS_AT_SCALE_1 = 5_900_000
FIRST_MONTH, LAST_MONTH = "2017-06", "2026-10"
N_DATASETS = 860
N_APPS = 100
N_ACCOUNTS = 1_100
SIGNUPS_PER_MONTH = 10
# (channel, event, agent_class, share of the month's events)
MIX: tuple[tuple[str, str, str, float], ...] = (
    ("web", "page_view", "human", 0.22),
    ("web", "search", "human", 0.04),
    ("web", "dataset_view", "human", 0.26),
    ("web", "download", "human", 0.09),
    ("web", "dataset_view", "bot", 0.09),
    ("web", "page_view", "bot", 0.03),
    ("web", "page_view", "monitor", 0.02),
    ("api", "api_call", "human", 0.20),
    ("zalo", "dataset_view", "human", 0.025),
    ("sms", "dataset_view", "human", 0.01),
    ("app", "dataset_view", "human", 0.015),
    ("app", "download", "human", 0.01),
)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """A bijective 64-bit mix (SplitMix64): spreads small integer ids over the whole UInt64 range."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _month_weights(months: list[str]) -> np.ndarray:
    """Growth over the window (×4 from the first month to the last) with a Tết dip each February."""
    t = np.linspace(0.0, 1.0, len(months))
    w = 0.25 + 0.75 * t**1.3
    w *= np.array([0.75 if m.endswith("-02") else 1.0 for m in months])
    return w / w.sum()


# long: one seeded draw per column; the order of the draws is the output
def synthetic_month(month: str, n: int, rng: np.random.Generator, month_index: int) -> pl.DataFrame:
    """``n`` synthetic events of one month (canonical columns, sorted by visitor then time)."""
    y, m = int(month[:4]), int(month[5:])
    start = datetime(y, m, 1, tzinfo=UTC) - (
        datetime(1970, 1, 1, 7, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    )
    end_day = (date(y + (m == 12), m % 12 + 1, 1) - date(y, m, 1)).days
    shares = np.array([s for *_, s in MIX])
    kind = rng.choice(len(MIX), size=n, p=shares / shares.sum())
    channel = np.array([CHANNELS.index(c) for c, *_ in MIX])[kind]
    event = np.array([EVENTS.index(e) for _, e, *_ in MIX])[kind]
    agent = np.array([AGENT_CLASSES.index(a) for *_, a, _ in MIX])[kind]
    micros = int(start.timestamp()) * 1_000_000 + rng.integers(0, end_day * 86_400 * 1_000_000, n)
    # visitors: a pool that grows with the portal; a few return often (Zipf), most come once or twice
    pool = 40_000 + 2_500 * month_index
    visitor = np.minimum(rng.zipf(1.3, n), pool) + rng.integers(0, pool, n) * (rng.random(n) < 0.7)
    web = channel == 0
    visitor_key = splitmix64(
        visitor.astype(np.uint64) + np.uint64(channel.astype(np.uint64) << np.uint64(40))
    )
    day = (micros - int(start.timestamp()) * 1_000_000) // 86_400_000_000
    session = splitmix64(
        (visitor.astype(np.uint64) << np.uint64(20))
        ^ (day.astype(np.uint64) << np.uint64(8))
        ^ rng.integers(0, 2, n).astype(np.uint64)
    )
    has_dataset = np.isin(
        event, [EVENTS.index("dataset_view"), EVENTS.index("download"), EVENTS.index("api_call")]
    )
    dataset = np.minimum(rng.zipf(1.15, n), N_DATASETS) - 1 + 101_000
    is_api = event == EVENTS.index("api_call")
    app = np.minimum(rng.zipf(1.4, n), N_APPS)
    account = splitmix64((np.minimum(rng.zipf(1.2, n), N_ACCOUNTS) + 7_000_000).astype(np.uint64))
    status = np.where(rng.random(n) < 0.95, 200, rng.choice(np.array([304, 404, 500]), n))
    human = agent == 0
    counted = human & (status < 400) & (rng.random(n) > 0.02)  # ≈2 % double-clicks and HTML answers
    frame = pl.DataFrame(
        {
            "ts": pl.Series(micros, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
            "channel": pl.Series(np.array(CHANNELS)[channel]),
            "event": pl.Series(np.array(EVENTS)[event]),
            "visitor_key": pl.Series(visitor_key, dtype=pl.UInt64),
            "account_key": pl.Series(np.where(is_api, account, 0), dtype=pl.UInt64),
            "session_id": pl.Series(session, dtype=pl.UInt64),
            "dataset_id": pl.Series(dataset.astype(str)),
            "app_id": pl.Series([f"app_{i:03d}" for i in range(N_APPS + 1)]).gather(app),
            "status": pl.Series(status, dtype=pl.Int16),
            "bytes": pl.Series(rng.integers(200, 200_000, n), dtype=pl.Int64),
            "agent_class": pl.Series(np.array(AGENT_CLASSES)[agent]),
            "counted": pl.Series(counted),
            "_web": pl.Series(web),
            "_api": pl.Series(is_api),
            "_ds": pl.Series(has_dataset),
        }
    ).with_columns(
        account_key=pl.when("_api").then("account_key"),
        session_id=pl.when("_web").then("session_id"),
        dataset_id=pl.when("_ds").then("dataset_id"),
        app_id=pl.when("_api").then("app_id"),
        source_file=pl.lit("synthetic"),
    )
    signups = pl.DataFrame(
        {
            "ts": pl.Series(
                int(start.timestamp()) * 1_000_000
                + rng.integers(0, end_day * 86_400 * 1_000_000, SIGNUPS_PER_MONTH),
                dtype=pl.Int64,
            ).cast(pl.Datetime("us", "UTC")),
            "channel": "web",
            "event": "signup",
            "account_key": pl.Series(
                splitmix64(
                    np.arange(SIGNUPS_PER_MONTH, dtype=np.uint64)
                    + np.uint64(7_000_000 + SIGNUPS_PER_MONTH * month_index)
                ),
                dtype=pl.UInt64,
            ),
            "agent_class": "human",
            "counted": True,
            "source_file": "synthetic",
        }
    )
    events = pl.concat([frame.drop("_web", "_api", "_ds"), signups], how="diagonal_relaxed")
    return conform_events(events).sort("visitor_key", "ts", nulls_last=True).collect()


def generate_store(
    path: str | Path,
    *,
    scale: float = 1.0,
    seed: int = 2017,
    first: str = FIRST_MONTH,
    last: str = LAST_MONTH,
    progress: bool | None = None,
) -> dict:
    """Write a synthetic event store of ≈``5.9 million × scale`` events, month by month.

    Parameters
    ----------
    path
        The store folder (created; must not hold a store already).
    scale
        Volume multiplier (1.0 ≈ 5.9 million events).
    seed
        Seed of the random stream (the same seed and scale give the same events).
    first, last
        The months to fill.

    Returns
    -------
    dict
        The ledger written (one synthetic "file" whose parts are the months).
    """
    root = Path(path)
    if (root / LEDGER).exists():
        raise FileExistsError(f"{root} already holds a store")
    months = months_between(first, last)
    counts = np.round(_month_weights(months) * EVENTS_AT_SCALE_1 * scale).astype(np.int64)
    ident = hashlib.sha256(f"synthetic:{seed}:{scale}:{first}:{last}".encode()).hexdigest()
    rng = np.random.default_rng(seed)
    parts, kept, counted = [], 0, 0
    for i, month in enumerate(
        tqdm(
            months, desc="synthetic store", unit=" month", disable=None if progress is None else not progress
        )
    ):
        events = synthetic_month(month, int(counts[i]), rng, i)
        rel = f"year={month[:4]}/month={month[5:]}/part-{ident[:16]}.parquet"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        events.write_parquet(root / rel, statistics=True)
        summarise(events).write_parquet(root / summary_name(rel))
        parts.append(rel)
        kept += events.height
        counted += int(events.get_column("counted").sum())
    ledger = {
        "format": STORE_FORMAT,
        "version": STORE_VERSION,
        "timezone": "Asia/Ho_Chi_Minh",
        "secret_fingerprint": None,
        "files": [
            {
                "sha256": ident,
                "name": f"synthetic (seed {seed}, scale {scale})",
                "format": "synthetic",
                "kind": "events",
                "synthetic": True,
                "lines_read": kept,
                "lines_rejected": 0,
                "events_kept": kept,
                "events_counted": counted,
                "first_month": first,
                "last_month": last,
                "covers": ["web", "api", "zalo", "sms", "app", "accounts"],
                "parts": parts,
                "summaries": [summary_name(p) for p in parts],
            }
        ],
    }
    atomic_write_text(root / LEDGER, json.dumps(ledger, indent=1) + "\n")
    return ledger
