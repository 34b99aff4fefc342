"""How much does ``lab.schema.apply_schema`` cost over a bare parse? Prints ratios (same run).

Cases, each the median of ``--repeat`` runs after one warm-up:

* baseline: ``polars.read_csv(infer_schema=False)`` of the 4 real IQAir CSVs (~700 rows x 13 columns each);
* the same plus ``apply_schema`` with the catalog's schema of ``air-quality-iqair``;
* ``apply_schema`` alone on SYNTHETIC frames with the same 13 columns (seeded, generated here with numpy;
  not real data): by default 100,000 and 1,000,000 rows, to show the cost per million rows stays flat.
  Number cells are written the way the real files write them ("18.5 km/h", "83%", "20.0°C", "N/A"),
  with one decimal, so a column repeats its texts as real sensor data does; ``--distinct`` writes four
  decimals instead (nearly every cell distinct: the worst case for the per-distinct-text parsing).

Run: ``.venv/bin/python bench/bench_schema.py [--rows 100000 1000000] [--distinct]`` (or ``make bench``).
Uses ``$LAB_MIRROR`` or ../shared/data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

import lab
from lab.schema import apply_schema

ROOT = Path(__file__).resolve().parent.parent
SEED = 20250205
ICONS = tuple(
    f"/dl/web/weather/ic-w-{code}-full.svg"
    for code in ("01-clear-sky", "02-few-clouds", "03-scattered-clouds", "04-broken-clouds", "09-rain")
)


def median_seconds(fn: Callable[[], object], repeat: int = 7) -> float:
    """Median wall time of ``repeat`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def synthetic_iqair(rows: int, *, seed: int = SEED, distinct: bool = False) -> pl.DataFrame:
    """A SYNTHETIC text frame shaped like the IQAir CSVs (same 13 columns, same cell styles)."""
    rng = np.random.default_rng(seed)
    decimals = 4 if distinct else 1

    def text(values: np.ndarray, suffix: str = "") -> pl.Series:
        out = pl.Series(np.round(values, decimals)).cast(pl.String)
        return out + suffix if suffix else out

    def with_gaps(values: pl.Series, share: float) -> pl.Series:  # "N/A" in about ``share`` of the rows
        gaps = pl.Series(rng.random(rows) < share)
        return pl.select(pl.when(gaps).then(pl.lit("N/A")).otherwise(values)).to_series()

    start = np.datetime64("2025-02-05T22:00:00", "us")
    minutes = np.arange(rows) * np.timedelta64(60, "s")
    jitter = rng.integers(0, 59_000_000, rows).astype("timedelta64[us]")
    columns = {
        "timestamp": pl.Series(start + minutes + jitter).dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+07:00"),
        "city": pl.Series(["Đà Nẵng"]).gather(np.zeros(rows, dtype=np.int64)),
        "aqi": pl.Series(rng.integers(0, 1000 if distinct else 300, rows)).cast(pl.String),
        "weather_icon": pl.Series(ICONS).gather(rng.integers(0, len(ICONS), rows)),
        "wind_speed": text(rng.gamma(2.0, 4.0, rows), " km/h"),
        "humidity": text(rng.uniform(30, 100, rows), "%"),
        "temperature": text(rng.normal(27, 4, rows).clip(-10, 50), "°C"),
        "pm25": text(rng.gamma(2.0, 8.0, rows)),
        "pm10": with_gaps(text(rng.gamma(2.0, 12.0, rows)), 0.3),
        "o3": with_gaps(text(rng.gamma(2.0, 20.0, rows)), 0.9),
        "no2": with_gaps(text(rng.gamma(2.0, 15.0, rows)), 0.5),
        "so2": with_gaps(text(rng.gamma(2.0, 5.0, rows)), 0.9),
        "co": with_gaps(text(rng.gamma(2.0, 0.3, rows)), 0.5),
    }
    return pl.DataFrame([values.alias(name) for name, values in columns.items()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="synthetic sizes")
    parser.add_argument("--distinct", action="store_true", help="synthetic numbers nearly all distinct")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per case (after one warm-up)")
    args = parser.parse_args(argv)

    mirror = Path(os.environ.get("LAB_MIRROR", ROOT.parent / "shared" / "data"))
    if not mirror.is_dir():
        print(f"bench_schema: no mirror at {mirror}; set LAB_MIRROR", file=sys.stderr)
        return 1
    dataset = lab.load_catalog(ROOT / "datasets.yaml").get("air-quality-iqair")
    schema = dataset.schema
    files = [mirror / d.mirror for d in dataset.distributions]

    def parse() -> list[pl.DataFrame]:
        return [pl.read_csv(f, infer_schema=False) for f in files]

    def parse_and_apply() -> list[pl.DataFrame]:
        return [
            apply_schema(df, schema, dataset=dataset.id, file=f.name)
            for f, df in zip(files, parse(), strict=True)
        ]

    rows = sum(df.height for df in parse())
    base = median_seconds(parse, args.repeat)
    print(f"{'case':<50} {'rows':>9} {'seconds':>9} {'ratio':>8} {'s/M rows':>9}")

    def report(case: str, n: int, seconds: float) -> None:
        print(f"{case:<50} {n:>9,} {seconds:>9.4f} {seconds / base:>8.2f} {seconds / n * 1e6:>9.3f}")

    report("baseline: read_csv x4 (IQAir)", rows, base)
    report("read_csv + apply_schema x4 (IQAir)", rows, median_seconds(parse_and_apply, args.repeat))
    for n in args.rows:
        frame = synthetic_iqair(n, distinct=args.distinct)
        label = f"apply_schema, SYNTHETIC{' distinct' if args.distinct else ''} (seed {SEED})"

        def apply(frame: pl.DataFrame = frame) -> pl.DataFrame:
            return apply_schema(frame, schema, dataset=dataset.id, file="synthetic")

        report(label, n, median_seconds(apply, args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
