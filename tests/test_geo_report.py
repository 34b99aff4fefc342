"""The spatial coverage report: its schedule entry, its parameters, its figures on the demo portal."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import polars as pl
import pytest

import lab
from lab.geo.report import LAYERS, spatial_coverage
from lab.reports import load_schedule, notebook_parameters


def test_schedule_and_parameters(root: Path) -> None:
    report = next(r for r in load_schedule() if r.name == "spatial-coverage")
    assert (report.cadence, report.due_day, report.languages) == ("quarterly", 1, ("vi", "en"))
    params = notebook_parameters(report.notebook)
    assert {k: v[0] for k, v in params.items()} == {
        "period": "str",
        "language": "str",
        "catalog": "str",
        "min_count": "int",
        "radius_m": "int",
    }
    nb = json.loads(report.notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        assert cell.get("outputs", []) == []  # outputs stripped
        if cell["cell_type"] == "code":
            tree = ast.parse("".join(cell["source"]))
            assert not any(
                isinstance(n, ast.FunctionDef | ast.ClassDef | ast.For | ast.While) for n in ast.walk(tree)
            )


@pytest.fixture(scope="module")
def demo_report(demo_portal: Path):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_DEMO", str(demo_portal))
        yield spatial_coverage("2026-Q3", radius_m=2_000, min_count=2, prefer_real=False)


def test_demo_report_counts_every_point_valid_at_the_period_end(demo_report, demo_portal: Path) -> None:  # type: ignore[no-untyped-def]
    rep = demo_report
    assert not rep.real_units and rep.synthetic and rep.population is not None and rep.population_derived
    assert len(rep.units) == 94 and set(rep.layers) == set(LAYERS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_DEMO", str(demo_portal))
        sensors = lab.load("env-sensors")
    import pandas as pd

    installed = (pd.to_datetime(sensors["installed"]) <= pd.Timestamp("2026-09-30")).sum()
    assert len(rep.layers["sensors"]) == installed
    totals = rep.indicators.group_by("layer").agg(pl.col("count").sum())
    for layer, total in totals.rows():
        assert total == len(rep.layers[layer]), layer  # demo points all lie in their approximate unit
    # no census without a mirror: the demo units' derived population gives every inhabited unit a rate
    per_10k = rep.indicators.filter(pl.col("unit_code") != "20333")["per_10k"]
    assert per_10k.null_count() == 0 and (per_10k >= 0).all()
    assert rep.indicators.filter(pl.col("unit_code") == "20333")["per_10k"].null_count() == len(LAYERS)


def test_demo_units_carry_a_population_derived_from_the_published_census_totals(
    demo_report, shared_data: Path
) -> None:  # type: ignore[no-untyped-def]
    """Issue 20: per-resident measures without a mirror; the demo's population is the 2019 census totals
    of Đà Nẵng and Quảng Nam (urban, rural), as the real ward-level census sums them, shared equally."""
    from lab.demo.places import CENSUS_2019

    census = pl.read_csv(shared_data / "census2019/VN_Population_ward_danang_quangnam.csv")
    sums = census.group_by("city").agg(pl.col("urban", "rural").fill_null(0).sum()).rows_by_key("city")
    for (province, kind), total in CENSUS_2019.items():
        key = province.replace(" ", "")
        assert sums[key][0][0 if kind == "urban" else 1] == total, (province, kind)
    rep = demo_report
    assert rep.population["total"].sum() == 2_630_122 == sum(CENSUS_2019.values())
    units = rep.units.set_index("ma_xa")
    assert units.loc["20333", "population"] == 0  # Hoàng Sa: no resident population
    assert bool(units["population_derived"].all())
    en, vi = str(rep.heading("en")), str(rep.heading("vi"))
    assert "derived, not a census count" in en and "số suy ra" in vi and "LAB_MIRROR" in en
    assert "Derived population" in str(rep.unit_table("en"))


def test_demo_report_coverage_and_gaps(demo_report) -> None:  # type: ignore[no-untyped-def]
    rep = demo_report
    cov = rep.coverage
    assert cov.height == 94 and cov["covered_share"].is_between(0, 1).all()
    gaps = cov.filter(pl.col("covered_share") == 0)
    assert (gaps["distance_m"] > rep.radius_m).all()  # no sensor within the radius
    assert (cov.filter(pl.col("covered_share") > 0)["distance_m"] <= rep.radius_m).all()
    assert "20333" in gaps["unit_code"].to_list()  # Hoàng Sa has no sensor
    text = str(rep.uncovered_table("en"))
    assert f"({gaps.height})" in text and "Đặc khu Hoàng Sa" in text


def test_demo_report_speaks_both_languages(demo_report) -> None:  # type: ignore[no-untyped-def]
    rep = demo_report
    vi, en = str(rep.heading("vi")), str(rep.heading("en"))
    # "demo data" is said once, in the page header (lab.reports.demo_banner), not in the report's heading
    assert "Dữ liệu mẫu" not in vi and "Demo data" not in en
    assert "gần đúng" in vi and "Approximate" in en and "LAB_MIRROR" in en
    table_vi, table_en = str(rep.unit_table("vi")), str(rep.unit_table("en"))
    assert "Diện tích (km²)" in table_vi and "Area (km²)" in table_en
    assert str(rep.underserved_table("vi")).startswith("<h3>Phường, xã có dưới 2 cơ sở")
    assert str(rep.chart("en")).startswith("<svg")
    page = rep.map("en").to_html()
    assert "lab-lang-" in page and "Approximate boundaries" in page


def test_real_boundaries_and_census_when_the_mirror_is_there(demo_portal: Path, shared_data: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_DEMO", str(demo_portal))
        rep = spatial_coverage("2026-Q3", mirror=shared_data, layers=("sensors", "hospitals"))
    assert rep.real_units and rep.population is not None
    assert rep.population["total"].sum() == 2_630_122
    with_people = rep.indicators.filter(pl.col("population") > 0)
    assert with_people["per_10k"].null_count() == 0
    assert "sapnhap.bando.com.vn" in str(rep.heading("en"))
    sensors = rep.assignments["sensors"]
    assert sensors.assigned + sensors.unassigned == len(rep.layers["sensors"])
    assert rep.indicators.filter(pl.col("layer") == "sensors")["count"].sum() == sensors.assigned
