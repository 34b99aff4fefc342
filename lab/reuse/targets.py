"""The city's targets: progress, the projected date each is reached on the monthly trend, and an honest
status.

Targets are declared in ``targets.yaml`` at the project root (``$LAB_TARGETS`` points at another file):
metric, target value, deadline, baseline and sources. Two metrics are measured:

* ``open_datasets``: public datasets of the portal's listing published (``issued``) by each month end;
* ``datasets_reused``: distinct datasets used by at least one product live at each month end (the registry's
  valid rows, dataset ids checked against the catalog).

Projection: the last ``window`` month ends (24 by default) up to the evaluation date are fitted by ordinary
least squares, linearly (``value = a + b·t``) and log-linearly (``log value = a + b·t``, steady growth in
percent). From the current value, each fit gives the date the target is reached; its interval comes from the
95 % confidence interval of the slope (Student's t). Monthly cumulative counts are autocorrelated, so the
interval is indicative, not a guarantee. The fit with the higher R² gives ``projected_date``.

Status (``reached``, ``on track``, ``at risk``, ``missed``):

* ``reached``: the target was met by the evaluation date, on or before the deadline; ``reached_on`` says the
  day (the first day the metric stood at the target: a dataset's ``issued`` date, a product's launch), and no
  projection is made;
* after the deadline otherwise: ``missed`` (even if it was met later: ``reached_on`` then says when);
* before it: ``on track`` if the projection *and* the late end of its interval fall on or before the deadline;
  otherwise ``at risk`` (the central projection is late, the interval straddles the deadline, or the trend is
  flat).

One evaluation date for every surface (``lab targets``, the reports, the apps): :func:`default_as_of`, the end
of the data (the demo portal's window end, or the last date in the listing and the registry), or an earlier
date stated by ``$LAB_AS_OF`` / ``--as-of`` / a report's period. Never a date past the end of the data: the
empty months after it would count as no growth and push every projection later.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml

from lab.errors import LabError
from lab.reuse.months import month_end, month_ends

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TARGETS_ENV = "LAB_TARGETS"
METRICS = ("open_datasets", "datasets_reused")
STATUSES = ("reached", "on track", "at risk", "missed")
WINDOW_MONTHS = 24


class TargetError(LabError):
    """The targets file is malformed or names an unknown metric."""


@dataclass(frozen=True)
class Target:
    """One declared target."""

    id: str
    metric: str
    target: float
    deadline: date
    title: dict[str, str]
    inputs: tuple[str, ...] = ()
    baseline: dict[str, Any] | None = None
    source: str | None = None

    def title_in(self, lang: str = "vi") -> str:
        """The title in ``lang`` (falling back to Vietnamese, then the id)."""
        return self.title.get(lang) or self.title.get("vi") or self.id


def default_targets_path() -> Path:
    """``$LAB_TARGETS`` or ``targets.yaml`` at the project root."""
    from lab.settings import path

    return path(TARGETS_ENV) or PROJECT_ROOT / "targets.yaml"


def load_targets(path: str | Path | None = None) -> list[Target]:
    """The declared targets, in file order.

    Raises
    ------
    TargetError
        A missing file, an entry without id/metric/target/deadline, an unknown metric, a bad date.
    """
    path = Path(path) if path else default_targets_path()
    if not path.is_file():
        raise TargetError("no targets file (set $LAB_TARGETS or create targets.yaml)", file=path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise TargetError(f"not valid YAML: {str(exc).splitlines()[0]}", file=path) from None
    out = []
    for i, entry in enumerate(doc.get("targets") or []):
        where = f"targets[{i}]"
        missing = [k for k in ("id", "metric", "target", "deadline") if entry.get(k) in (None, "")]
        if missing:
            raise TargetError(f"{where}: missing {', '.join(missing)}", file=path)
        if entry["metric"] not in METRICS:
            raise TargetError(
                f"{where}: unknown metric {entry['metric']!r} (one of {', '.join(METRICS)})", file=path
            )
        deadline = entry["deadline"]
        try:
            deadline = deadline if isinstance(deadline, date) else date.fromisoformat(str(deadline))
        except ValueError:
            raise TargetError(f"{where}: deadline {deadline!r} is not YYYY-MM-DD", file=path) from None
        out.append(
            Target(
                id=str(entry["id"]),
                metric=entry["metric"],
                target=float(entry["target"]),
                deadline=deadline,
                title=dict(entry.get("title") or {}),
                inputs=tuple(entry.get("inputs") or ()),
                baseline=entry.get("baseline"),
                source=entry.get("source"),
            )
        )
    return out


# ------------------------------------------------------------------------------------------ series
def data_end(catalog: Any = None) -> date | None:
    """The last day the targets' inputs tell: the demo portal's window end when the catalog's inputs are
    the demo's, else the latest date in the portal listing (``issued``) and the reuse registry (``created``,
    ``launched``, ``retired``); None when neither can be read."""
    from lab.catalog import as_catalog
    from lab.settings import demo_dir

    cat = as_catalog(catalog)
    manifest = demo_dir() / "manifest.json"
    synthetic = "portal-datasets" in cat and cat.get("portal-datasets").synthetic
    if synthetic and manifest.is_file():
        end = (json.loads(manifest.read_text(encoding="utf-8")).get("window") or {}).get("end")
        if end:
            return date.fromisoformat(end)
    from lab.reuse.indicators import portal_listing
    from lab.reuse.registry import registry_from_catalog

    days: list[date] = []
    try:
        days.append(portal_listing(cat)["issued"].max())
        reg = registry_from_catalog(cat).frame
        days += [reg[c].max() for c in ("created", "launched", "retired") if c in reg.columns]
    except LabError as exc:
        log.info("end of the data unknown: %s", exc)
    known = [d for d in days if isinstance(d, date)]
    return max(known) if known else None


def default_as_of(catalog: Any = None, as_of: date | None = None) -> date:
    """The one evaluation date of every surface: ``as_of`` (or ``$LAB_AS_OF``, else today), never past
    :func:`data_end` (the empty months after the data would read as no growth)."""
    from lab.periods import as_of_date

    asked = as_of or as_of_date()
    end = data_end(catalog)
    return min(asked, end) if end else asked


def metric_series(
    metric: str,
    catalog: Any = None,
    *,
    end: date,
    start: date | None = None,
    listing: pl.DataFrame | None = None,
    valid: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """A metric at each month end up to ``end``: ``date``, ``value``.

    Parameters
    ----------
    metric
        ``open_datasets`` or ``datasets_reused`` (see the module docstring).
    catalog
        The catalog the inputs come from (``portal-datasets``, ``reuse-registry``).
    end, start
        The months covered (``start`` default: the first month with data).
    listing, valid
        The portal listing and the registry's valid rows when already loaded (else read from the catalog).
    """
    from lab.reuse.indicators import portal_listing

    if metric == "open_datasets":
        listing = listing if listing is not None else portal_listing(catalog)
        first = start or listing["issued"].min() or end
    elif metric == "datasets_reused":
        from lab.reuse.registry import known_dataset_ids, registry_from_catalog
        from lab.reuse.validation import valid_rows

        if valid is None:
            valid = valid_rows(registry_from_catalog(catalog), known_dataset_ids(catalog))
        first = start or valid["launched"].min() or end
    else:
        raise TargetError(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")
    return metric_on(metric, month_ends(first, end), catalog, listing=listing, valid=valid)


def metric_on(
    metric: str,
    days: pl.Series,
    catalog: Any = None,
    *,
    listing: pl.DataFrame | None = None,
    valid: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The metric on each of ``days`` (any dates, not only month ends): ``date``, ``value``. The one
    definition :func:`metric_series` (month ends) and the day a target is reached both use."""
    from lab.reuse.indicators import datasets_reused_over_time, portal_listing

    grid = pl.DataFrame({"date": days.cast(pl.Date)})
    if metric == "open_datasets":
        from lab.listing import open_only

        frame = open_only(listing if listing is not None else portal_listing(catalog))
        issued = frame.get_column("issued").drop_nulls().sort().cast(pl.Date)
        counts = np.searchsorted(issued.to_numpy(), grid["date"].to_numpy(), side="right")
        return grid.with_columns(value=pl.Series(counts, dtype=pl.Int64))
    if metric == "datasets_reused":
        from lab.reuse.registry import known_dataset_ids, registry_from_catalog
        from lab.reuse.validation import valid_rows

        if valid is None:
            valid = valid_rows(registry_from_catalog(catalog), known_dataset_ids(catalog))
        series = datasets_reused_over_time(valid, grid["date"], basis="live")
        return series.select("date", pl.col("datasets_reused").alias("value"))
    raise TargetError(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")


def reached_day(
    metric: str,
    month_reached: date,
    target: float,
    catalog: Any = None,
    *,
    listing: pl.DataFrame | None = None,
    valid: pl.DataFrame | None = None,
) -> date:
    """The first day of the month ending ``month_reached`` on which the metric stood at ``target``."""
    days = pl.date_range(month_reached.replace(day=1), month_reached, "1d", eager=True)
    values = metric_on(metric, days, catalog, listing=listing, valid=valid)
    hit = values.filter(pl.col("value") >= target)
    return hit["date"][0] if hit.height else month_reached


# -------------------------------------------------------------------------------------- projection
def _t_quantile(df: int, p: float = 0.975) -> float:
    """Student's t quantile (Cornish–Fisher expansion around the normal; within 0.1 % for df ≥ 5)."""
    z = {0.975: 1.959963984540054, 0.95: 1.6448536269514722}[p]
    if df <= 0:
        return math.inf
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


@dataclass(frozen=True)
class Fit:
    """A trend fit and the date it reaches the target (None: never, on that trend)."""

    method: str
    slope_per_year: float
    r2: float
    projected: date | None
    low: date | None
    high: date | None

    def as_dict(self) -> dict[str, Any]:
        """Plain values (dates as ISO text)."""
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {
            "method": self.method,
            "slope_per_year": round(self.slope_per_year, 4),
            "r2": round(self.r2, 4),
            "projected_date": iso(self.projected),
            "interval": [iso(self.low), iso(self.high)],
        }


def _crossing(now: date, gap: float, slope: float) -> date | None:
    """The day a value ``gap`` below the target reaches it at ``slope`` per year (None if it never does, or if
    it is already there: :func:`evaluate` reports the day it was reached)."""
    if gap <= 0 or not slope > 0 or not math.isfinite(slope):
        return None
    days = gap / slope * 365.25
    return now + timedelta(days=math.ceil(days)) if days < 365.25 * 500 else None


def fit_trend(series: pl.DataFrame, target: float, *, method: str = "linear", as_of: date) -> Fit | None:
    """Fit ``value`` over ``date`` and project the date ``target`` is reached, from the last point.

    ``method`` is ``linear`` or ``log_linear``. Returns None when there are fewer than 3 points (or, for
    log-linear, non-positive values).
    """
    values = series["value"].cast(pl.Float64).to_numpy()
    days = series["date"].cast(pl.Int32).to_numpy().astype(float)
    if method == "log_linear":
        if (values <= 0).any():
            return None
        y, goal = np.log(values), math.log(target)
    elif method == "linear":
        y, goal = values, float(target)
    else:
        raise ValueError("method is 'linear' or 'log_linear'")
    n = len(y)
    if n < 3:
        return None
    x = (days - days[-1]) / 365.25
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    if sxx == 0:
        return None
    b = float(((x - xm) * (y - ym)).sum() / sxx)
    resid = y - (ym + b * (x - xm))
    sst = float(((y - ym) ** 2).sum())
    r2 = 1 - float((resid**2).sum()) / sst if sst > 0 else 0.0
    se = math.sqrt(float((resid**2).sum()) / (n - 2) / sxx) if n > 2 else math.inf
    half = _t_quantile(n - 2) * se
    now, gap = series["date"][-1], goal - float(y[-1])
    return Fit(
        method=method,
        slope_per_year=b,
        r2=r2,
        projected=_crossing(now, gap, b),
        low=_crossing(now, gap, b + half),
        high=_crossing(now, gap, b - half),
    )


def evaluate(
    target: Target, series: pl.DataFrame, as_of: date, *, window: int = WINDOW_MONTHS
) -> dict[str, Any]:
    """Progress, projections and status of one target on ``as_of`` from its monthly ``series``.

    Returns
    -------
    dict
        ``id``, ``title`` ({vi, en}), ``metric``, ``value`` (on ``as_of``), ``target``, ``deadline``,
        ``as_of``, ``projected_date`` (best fit; the day reached when it was), ``interval`` ([early, late]),
        ``method``, ``status`` (:data:`STATUSES`), ``reached_on`` (first month end at or above the target,
        the exact day once :func:`evaluate_targets` refines it; None if not reached),
        ``value_on_deadline`` (None before the deadline), ``projections`` ({linear, log_linear}),
        ``baseline``, ``source``.
    """
    upto = series.filter(pl.col("date") <= month_end(as_of)).sort("date")
    value = float(upto["value"][-1]) if upto.height else 0.0
    reached = upto.filter(pl.col("value") >= target.target)
    reached_on = reached["date"][0] if reached.height else None
    recent = upto.tail(window)
    fits = {m: fit_trend(recent, target.target, method=m, as_of=as_of) for m in ("linear", "log_linear")}
    usable = [f for f in fits.values() if f is not None]
    best = max(usable, key=lambda f: (f.r2, f.method == "linear")) if usable else None
    on_deadline = None
    if as_of >= target.deadline:
        at = upto.filter(pl.col("date") <= target.deadline)
        on_deadline = float(at["value"][-1]) if at.height else 0.0
        status = "reached" if on_deadline >= target.target else "missed"
    elif value >= target.target:
        status = "reached"
    elif best is not None and best.projected is not None and best.projected <= target.deadline:
        late_ok = best.high is not None and best.high <= target.deadline
        status = "on track" if late_ok else "at risk"
    else:
        status = "at risk"
    if value >= target.target and reached_on:
        projected, interval = reached_on, [reached_on, reached_on]
    else:
        projected = best.projected if best else None
        interval = [best.low, best.high] if best else [None, None]

    def num(v: float | None) -> float | int | None:
        return None if v is None else int(v) if float(v).is_integer() else v

    return {
        "id": target.id,
        "title": target.title,
        "metric": target.metric,
        "value": num(value),
        "target": num(target.target),
        "deadline": target.deadline.isoformat(),
        "as_of": as_of.isoformat(),
        "projected_date": projected.isoformat() if projected else None,
        "interval": [d.isoformat() if d else None for d in interval],
        "method": best.method if best else None,
        "status": status,
        "reached_on": reached_on.isoformat() if reached_on else None,
        "value_on_deadline": num(on_deadline),
        "projections": {m: (f.as_dict() if f else None) for m, f in fits.items()},
        "baseline": target.baseline,
        "source": target.source,
    }


def evaluate_targets(
    path: str | Path | None = None,
    catalog: Any = None,
    *,
    as_of: date | None = None,
    window: int = WINDOW_MONTHS,
    series: dict[str, pl.DataFrame] | None = None,
    listing: pl.DataFrame | None = None,
    valid: pl.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """Evaluate every declared target on ``as_of`` (:func:`default_as_of`: never past the end of the
    data); see :func:`evaluate`. A met target's ``reached_on`` is the day it was met.

    ``series`` may hold metric series already computed (:func:`metric_series`) up to that date, by metric;
    ``listing`` and ``valid`` the portal listing and the registry's valid rows when already loaded.
    """
    from lab.catalog import as_catalog

    cat = as_catalog(catalog)
    as_of = default_as_of(cat, as_of)
    results = []
    cache: dict[str, pl.DataFrame] = dict(series or {})
    for target in load_targets(path):  # two targets
        if target.metric not in cache:
            cache[target.metric] = metric_series(target.metric, cat, end=as_of, listing=listing, valid=valid)
        result = evaluate(target, cache[target.metric], as_of, window=window)
        if result["reached_on"]:  # the day, not the month end it was first seen on
            day = reached_day(
                target.metric,
                date.fromisoformat(result["reached_on"]),
                target.target,
                cat,
                listing=listing,
                valid=valid,
            ).isoformat()
            if result["projected_date"] == result["reached_on"]:
                result["projected_date"], result["interval"] = day, [day, day]
            result["reached_on"] = day
        results.append(result)
    return results


def projection_line(result: dict[str, Any], series: pl.DataFrame, *, months: int = 36) -> pl.DataFrame:
    """The chosen fit drawn forward from the last observed point: ``date``, ``value`` for ``months`` month
    ends (for charts). Empty when there is no usable fit."""
    method = result.get("method")
    fit = (result.get("projections") or {}).get(method) if method else None
    if not fit or series.height == 0:
        return pl.DataFrame(schema={"date": pl.Date, "value": pl.Float64})
    last = series.sort("date")
    start, v0 = last["date"][-1], float(last["value"][-1])
    dates = month_ends(start, start + timedelta(days=31 * months))
    years = (dates.cast(pl.Int32) - (start - date(1970, 1, 1)).days) / 365.25
    slope = fit["slope_per_year"]
    values = v0 + slope * years if method == "linear" else v0 * (years * slope).exp()
    return pl.DataFrame({"date": dates, "value": values.cast(pl.Float64)})
