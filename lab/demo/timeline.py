"""The demo window and how activity is spread over it: growth, Tết, weekends and office hours.

Times are local wall-clock seconds (Asia/Ho_Chi_Minh, UTC+07:00, no daylight saving) held as
``int64`` seconds since 1970-01-01 *local*: formatting adds the ``+07:00`` offset, so no time-zone
arithmetic is ever needed.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

WINDOW_START = date(2017, 6, 1)
"""First day of the demo window (the portal's first months)."""
WINDOW_END = date(2026, 10, 31)
"""Last day of the demo window: October 2026 is the last full month a monthly report can show."""
UTC_OFFSET = "+07:00"

DAY = 86_400
_DAYS = np.arange(
    np.datetime64(WINDOW_START.isoformat(), "D"), np.datetime64(WINDOW_END.isoformat(), "D") + 1
)

TET = (
    "2018-02-16",
    "2019-02-05",
    "2020-01-25",
    "2021-02-12",
    "2022-02-01",
    "2023-01-22",
    "2024-02-10",
    "2025-01-29",
    "2026-02-17",
)
"""Lunar New Year's days in the window: offices close for about a week and portal traffic drops."""

HOURS_OFFICE = np.array(
    [2, 1, 1, 1, 1, 2, 4, 8, 14, 17, 17, 14, 8, 9, 15, 17, 15, 11, 7, 7, 8, 7, 5, 3], dtype=float
)
"""Relative activity per hour of day for people at work (web visits, sign-ups, look-ups)."""
HOURS_MACHINE = np.array(
    [9, 8, 5, 4, 4, 4, 8, 6, 7, 8, 8, 8, 7, 7, 8, 8, 8, 7, 6, 6, 6, 6, 6, 6], dtype=float
)
"""Relative activity per hour for applications calling the API (nightly syncs at 00–01 and 06)."""


def days() -> np.ndarray:
    """Every day of the window as ``datetime64[D]``."""
    return _DAYS.copy()


def to_seconds(day: date | str) -> int:
    """Local midnight of ``day`` in window seconds."""
    return int(np.datetime64(str(day), "s").astype(np.int64))


WINDOW_START_S = to_seconds(WINDOW_START)
WINDOW_END_S = to_seconds(WINDOW_END) + DAY - 1
"""Last second of the window (23:59:59 on its last day)."""


def day_weights(
    rng: np.random.Generator,
    *,
    start: date | str = WINDOW_START,
    growth: float = 0.25,
    weekend: float = 0.5,
    tet: float = 0.35,
    noise: float = 0.15,
) -> np.ndarray:
    """Relative activity of every day of the window.

    Parameters
    ----------
    rng
        The random generator (day-to-day noise and a few news-driven spikes).
    start
        No activity before this day (a service's launch).
    growth
        Yearly linear growth: a day ``t`` years after ``start`` weighs ``1 + growth·t`` (plus a
        three-month launch ramp).
    weekend
        Weight of Saturdays and Sundays relative to weekdays.
    tet
        Weight of the week around Lunar New Year relative to ordinary days.
    noise
        Standard deviation of the lognormal day-to-day noise.

    Returns
    -------
    numpy.ndarray
        One non-negative weight per day of the window; zero before ``start``.
    """
    d = _DAYS
    t = (d - np.datetime64(str(start), "D")).astype(float) / 365.25
    w = np.where(t >= 0, (1 + growth * np.clip(t, 0, None)) * np.clip(t / 0.25, 0.2, 1.0), 0.0)
    weekday = (d.astype(np.int64) + 3) % 7  # 0 = Monday
    w = w * np.where(weekday >= 5, weekend, 1.0)
    for day in TET:
        near = np.abs((d - np.datetime64(day, "D")).astype(np.int64)) <= 4
        w = np.where(near, w * tet, w)
    w = w * rng.lognormal(0.0, noise, size=len(d))
    spikes = rng.random(len(d)) < 0.004  # a press article or a storm warning
    return np.where(spikes, w * rng.uniform(2.0, 4.0, size=len(d)), w)


def sample_seconds(rng: np.random.Generator, n: int, weights: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """``n`` sorted event times (window seconds) with per-day ``weights`` and an hour-of-day profile.

    The number of events per day is drawn with one multinomial draw, so ``n`` is exact.
    """
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    per_day = rng.multinomial(n, weights / weights.sum())
    day_s = np.repeat(_DAYS.astype("datetime64[s]").astype(np.int64), per_day)
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    sec = day_s + hour * 3600 + rng.integers(0, 3600, size=n)
    return np.sort(sec)


def day_counts(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    """How many of ``n`` events fall on each day of the window (one multinomial draw: ``n`` is exact)."""
    if n <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    return rng.multinomial(n, weights / weights.sum())


def seconds_on_days(
    rng: np.random.Generator, per_day: np.ndarray, first_day: int, hours: np.ndarray
) -> np.ndarray:
    """Sorted event times for the days ``first_day, first_day + 1, …`` with ``per_day`` events each.

    The building block of :func:`sample_seconds` for a part of the window (a month of a streamed log).
    """
    n = int(per_day.sum())
    if n == 0:
        return np.empty(0, dtype=np.int64)
    day_s = np.repeat(
        _DAYS[first_day : first_day + len(per_day)].astype("datetime64[s]").astype(np.int64), per_day
    )
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    return np.sort(day_s + hour * 3600 + rng.integers(0, 3600, size=n))


def month_chunks() -> list[tuple[int, int]]:
    """``(first day index, day after the last)`` of each calendar month of the window, in order."""
    months = _DAYS.astype("datetime64[M]").astype(np.int64)
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    ends = np.r_[starts[1:], len(_DAYS)]
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def uniform_dates(rng: np.random.Generator, n: int, start: date | str, end: date | str) -> np.ndarray:
    """``n`` dates drawn uniformly between ``start`` and ``end`` (inclusive) as ``datetime64[D]``."""
    lo = np.datetime64(str(start), "D").astype(np.int64)
    hi = np.datetime64(str(end), "D").astype(np.int64)
    return rng.integers(lo, hi + 1, size=n).astype("datetime64[D]")


def curve_dates(u: np.ndarray, knots: list[tuple[str, float]]) -> np.ndarray:
    """Dates at which a cumulative curve reaches the fractions ``u`` (inverse of a piecewise-linear CDF).

    ``knots`` are ``(date, cumulative count)`` pairs in time order; ``u`` is in ``[0, 1)``.
    """
    x = np.array([np.datetime64(k, "D").astype(np.int64) for k, _ in knots], dtype=float)
    y = np.array([v for _, v in knots], dtype=float)
    return np.floor(np.interp(u * y[-1], y, x)).astype(np.int64).astype("datetime64[D]")


def iso_seconds(sec: np.ndarray | pl.Series) -> pl.Series:
    """Window seconds → ``2023-05-01T10:11:12+07:00`` strings (ISO 8601 with the local offset)."""
    return pl.from_epoch(pl.Series(sec, dtype=pl.Int64), time_unit="s").dt.strftime(
        f"%Y-%m-%dT%H:%M:%S{UTC_OFFSET}"
    )


def clf_seconds(sec: np.ndarray | pl.Series) -> pl.Series:
    """Window seconds → ``10/Oct/2023:13:55:36 +0700``, the access-log (common log format) time."""
    return pl.from_epoch(pl.Series(sec, dtype=pl.Int64), time_unit="s").dt.strftime("%d/%b/%Y:%H:%M:%S +0700")


def to_dates(days_: np.ndarray) -> pl.Series:
    """``datetime64[D]`` → a polars Date series."""
    return pl.Series(days_.astype("datetime64[D]"))
