"""Reporting periods and the lab's one clock: months, quarters and years, and the day the lab counts to.

Every module that needs a period or "today" takes it from here (usage, reuse, geo, quality, the apps and
the report runner): :class:`Period` parses ``YYYY-MM``, ``YYYY-Qn`` and ``YYYY``; :func:`as_of_date` is
``$LAB_AS_OF`` or today; on the demo portal, :func:`clamped_as_of` and :func:`default_period` keep the
clock inside the demo's window (its manifest's end), so a default never lands on months without data.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta

from lab.errors import ReportError

CADENCES = ("monthly", "quarterly", "yearly")
"""The cadences a scheduled report can have."""


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a month (``2025-06``), a quarter (``2025-Q2``) or a year (``2025``)."""

    start: date
    end: date  # inclusive
    label: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``."""
        text = str(text).strip()
        if m := re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text):
            y, mo = int(m[1]), int(m[2])
            return cls(date(y, mo, 1), month_end(y, mo), text)
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text, flags=re.IGNORECASE):
            y, q = int(m[1]), int(m[2])
            return cls(date(y, 3 * q - 2, 1), month_end(y, 3 * q), f"{y}-Q{q}")
        if re.fullmatch(r"\d{4}", text):
            y = int(text)
            return cls(date(y, 1, 1), date(y, 12, 31), text)
        raise ReportError(f"period {text!r} is not YYYY-MM, YYYY-Qn or YYYY")

    @classmethod
    def last_ended(cls, cadence: str, as_of: date) -> Period:
        """The last period of ``cadence`` that ended before ``as_of``."""
        prev = as_of.replace(day=1) - timedelta(days=1)  # last day of the previous month
        if cadence == "monthly":
            return cls.parse(f"{prev.year}-{prev.month:02d}")
        if cadence == "quarterly":
            q = (as_of.month - 1) // 3  # quarters fully ended this year
            return cls.parse(f"{as_of.year}-Q{q}") if q else cls.parse(f"{as_of.year - 1}-Q4")
        if cadence == "yearly":
            return cls.parse(str(as_of.year - 1))
        raise ReportError(f"cadence {cadence!r} is not one of {', '.join(CADENCES)}")


def month_end(year: int, month: int) -> date:
    """The last day of ``month`` of ``year``."""
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def becomes_due(period: Period, due_day: int) -> date:
    """The day a report on ``period`` becomes due: ``due_day`` days after the period ends
    (``due_day`` 1 = the first day after the period)."""
    return period.end + timedelta(days=due_day)


def as_of_date() -> date:
    """The date reports count from: ``$LAB_AS_OF`` (YYYY-MM-DD) if set, else today.

    When reports run on the demo portal, its window ends on a fixed date; the default period is then
    the last one ended inside that window (see :func:`default_period`).
    """
    env = os.environ.get("LAB_AS_OF")
    return date.fromisoformat(env) if env else date.today()


def demo_window_end() -> date | None:
    """The last day of the demo portal's window (its manifest), or None when there is no demo."""
    from lab.settings import demo_dir

    manifest = demo_dir() / "manifest.json"
    if not manifest.exists():
        return None
    window = json.loads(manifest.read_text(encoding="utf-8")).get("window") or {}
    end = window.get("end")
    return date.fromisoformat(end) if end else None


def default_period(cadence: str, as_of: date | None = None) -> Period:
    """The period a run reports on by default: the last one ended before ``as_of`` (and inside the
    demo portal's window when the data are the demo's)."""
    as_of = as_of or as_of_date()
    demo_end = demo_window_end()
    if demo_end is not None and demo_end < as_of:
        as_of = demo_end + timedelta(days=1)
    return Period.last_ended(cadence, as_of)


def clamped_as_of(as_of: date) -> date:
    """``as_of``, or the day after the demo portal's window when that comes first."""
    demo_end = demo_window_end()
    return min(as_of, demo_end + timedelta(days=1)) if demo_end else as_of
