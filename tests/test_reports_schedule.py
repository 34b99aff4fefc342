"""Report periods, due dates and parameter checks (no kernel needed)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from lab.errors import ReportError
from lab.periods import Period, becomes_due
from lab.reports import check_parameters, notebook_parameters


def test_periods_parse_and_end_inclusive() -> None:
    assert Period.parse("2024-02").end == date(2024, 2, 29)
    assert Period.parse("2025-q2") == Period(date(2025, 4, 1), date(2025, 6, 30), "2025-Q2")
    assert Period.parse("2025").start == date(2025, 1, 1)
    with pytest.raises(ReportError, match="not YYYY-MM"):
        Period.parse("2025-13")


@pytest.mark.parametrize(
    ("cadence", "as_of", "label"),
    [
        ("monthly", date(2026, 1, 1), "2025-12"),
        ("monthly", date(2026, 11, 27), "2026-10"),
        ("quarterly", date(2026, 2, 10), "2025-Q4"),
        ("quarterly", date(2026, 7, 1), "2026-Q2"),
        ("yearly", date(2026, 1, 1), "2025"),
    ],
)
def test_last_ended_period(cadence: str, as_of: date, label: str) -> None:
    assert Period.last_ended(cadence, as_of).label == label


def test_due_days() -> None:
    assert becomes_due(Period.parse("2026-02"), 1) == date(2026, 3, 1)
    assert becomes_due(Period.parse("2026-Q1"), 5) == date(2026, 4, 5)
    assert becomes_due(Period.parse("2025"), 1) == date(2026, 1, 1)


def _notebook(tmp_path: Path, source: str) -> Path:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "r.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_parameters_are_read_from_the_tagged_cell(tmp_path: Path) -> None:
    nb = _notebook(tmp_path, 'period: str = "2025-06"  # month\nmin_count: int = 5\nshare: float = 0.5\n')
    assert notebook_parameters(nb) == {
        "period": ("str", "2025-06"),
        "min_count": ("int", 5),
        "share": ("float", 0.5),
    }


def test_unknown_names_and_wrong_types_are_refused_before_a_kernel(tmp_path: Path) -> None:
    nb = _notebook(tmp_path, 'period: str = "2025-06"\nmin_count: int = 5\n')
    check_parameters(nb, {"period": "2025-07", "min_count": 3})
    with pytest.raises(ReportError, match="unknown parameter 'perod'"):
        check_parameters(nb, {"perod": "2025-07"})
    with pytest.raises(ReportError, match="'period' must be str, got int 2024"):
        check_parameters(nb, {"period": 2024})
    with pytest.raises(ReportError, match="'min_count' must be int, got bool"):
        check_parameters(nb, {"min_count": True})


def test_parameters_cell_must_be_typed_literals(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="name: type = literal"):
        notebook_parameters(_notebook(tmp_path, "period = '2025-06'\n"))
