"""Point-in-polygon: ``lab.geo`` against plain ``geopandas.sjoin`` on the same points, in the same run.

Assigns 40,000 and 1,000,000 seeded random points (uniform over the mainland bounding box of the 94 units
of July 2025, so about half fall in no unit) to the units, three ways:

- ``sjoin``: ``geopandas.sjoin(points, units, predicate="intersects")``, keeping the first unit of a border
  point (the baseline);
- ``locate``: :func:`lab.geo.locate`, the per-unit vectorised ``shapely.intersects_xy`` with a bounding-box
  prefilter (the assignment step);
- ``assign``: :func:`lab.geo.assign`, end to end (coordinates out of the GeoDataFrame, assignment, and a
  reason with the distance to the nearest unit for every unassigned point).

Prints the median times and the ratios to ``sjoin`` (target: ≤ 1.0 for 1,000,000 points) and checks that
the three give identical assignments. Run: ``.venv/bin/python bench/spatial.py`` (or ``make bench``).
Uses ``$LAB_MIRROR`` or ../shared/data for the real boundaries.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 2025
SIZES = (40_000, 1_000_000)


def median_seconds(fn: Callable[[], object], repeat: int, *, warm_up: bool = True) -> float:
    """Median wall time of ``repeat`` calls (after one warm-up call)."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_size(n: int, units: object, box: tuple[float, float, float, float]) -> bool:
    """Time the three ways on ``n`` points; print one line; return whether the assignments agree."""
    import geopandas as gpd
    import numpy as np

    from lab import geo

    x0, y0, x1, y1 = box
    rng = np.random.default_rng(SEED)
    x, y = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=units.crs)  # type: ignore[attr-defined]
    right = units[["geometry"]]  # type: ignore[index]
    geoms = units.geometry.values  # type: ignore[attr-defined]

    def sjoin() -> gpd.GeoDataFrame:
        return gpd.sjoin(points, right, how="left", predicate="intersects")

    def ours() -> np.ndarray:
        return geo.locate(x, y, geoms)

    def full() -> geo.Assignment:
        return geo.assign(points, units)  # type: ignore[arg-type]

    repeat = 5 if n < 200_000 else 3
    # sjoin of a million points takes ~20 s here: once is enough to compare with
    t_sjoin = median_seconds(sjoin, repeat) if n < 200_000 else median_seconds(sjoin, 1, warm_up=False)
    t_locate = median_seconds(ours, repeat)
    t_assign = median_seconds(full, repeat)
    joined = sjoin()
    first = joined["index_right"].groupby(level=0).min().reindex(range(n))  # a border point: the first unit
    base = first.fillna(-1).astype(np.int64).to_numpy()
    mine = ours()
    codes = units["ma_xa"].astype(str).to_numpy()  # type: ignore[index]
    expected = np.where(base >= 0, codes[np.clip(base, 0, None)], None)
    via_assign = full().table["unit_code"].to_numpy()
    same = bool(np.array_equal(base, mine) and (via_assign == expected).all())
    print(
        f"{n:>10,}  {t_sjoin:>8.3f}  {t_locate:>8.3f}  {t_assign:>8.3f}  {t_locate / t_sjoin:>12.2f}  "
        f"{t_assign / t_sjoin:>12.2f}  {'yes' if same else 'NO'}   ({int((mine >= 0).sum()):,} in a unit)"
    )
    return same


def main() -> int:
    mirror = Path(os.environ.get("LAB_MIRROR", ROOT.parent / "shared" / "data"))
    if not mirror.is_dir():
        print(f"bench/spatial: no mirror at {mirror}; set LAB_MIRROR", file=sys.stderr)
        return 1
    os.environ["LAB_CACHE"] = tempfile.mkdtemp(prefix="lab-bench-cache-")
    os.environ["LAB_OFFLINE"] = "1"
    import lab
    from lab import geo

    units = geo.units_2025(catalog=lab.load_catalog(ROOT / "datasets.yaml"), mirror=mirror)
    bounds = units.geometry.bounds
    mainland = bounds[bounds.minx < 110]  # Hoàng Sa lies 400 km offshore
    box = (mainland.minx.min(), mainland.miny.min(), mainland.maxx.max(), mainland.maxy.max())
    repaired = units.attrs["repaired_geometries"]
    where = ", ".join(f"{v:.2f}" for v in box)
    print(f"{len(units)} units ({repaired} repaired), points uniform in ({where}), seed {SEED}")
    header = ("points", "sjoin s", "locate s", "assign s", "locate/sjoin", "assign/sjoin")
    widths = (10, 8, 8, 8, 12, 12)
    print("  ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)) + "  same")
    ok = all([run_size(n, units, box) for n in SIZES])
    if not ok:
        print("assignments differ from geopandas.sjoin", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
