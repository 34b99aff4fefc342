"""One report-page pattern (issue 17 part 2): every report notebook builds one page (lab/pages.py) from its
period, language, catalog and parameters and calls one section per cell."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from lab import pages
from lab.charts import Svg
from lab.errors import LabError

REPORTS = {
    "catalog-overview": "CatalogOverviewPage",
    "dataset-quality": "QualityPage",
    "portal-usage": "UsagePage",
    "reuse-outcomes": "ReusePage",
    "spatial-coverage": "SpatialPage",
}


def _code(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        "".join(c["source"])
        for c in cells
        if c["cell_type"] == "code" and "parameters" not in c.get("metadata", {}).get("tags", [])
    ]


@pytest.mark.parametrize(("notebook", "page"), REPORTS.items())
def test_each_report_notebook_opens_its_page_and_imports_nothing_else_of_the_lab(
    root: Path, notebook: str, page: str
) -> None:
    code = _code(root / "notebooks" / "reports" / f"{notebook}.ipynb")
    assert f"page = {page}.open(period, language, catalog" in code[0]
    imported = {
        node.module
        for cell in code
        for node in ast.walk(ast.parse(cell))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert {m for m in imported if m.startswith("lab")} == {"lab.pages"}
    assert all(isinstance(getattr(pages, page).title_key, str) for page in REPORTS.values())


def test_a_wrong_language_or_period_is_one_line(root: Path) -> None:
    with pytest.raises(LabError) as bad_lang:
        pages.CatalogOverviewPage.open("2026-10", "fr", root / "datasets.yaml")
    assert "language 'fr'" in str(bad_lang.value) and "\n" not in str(bad_lang.value)
    with pytest.raises(LabError) as bad_period:
        pages.CatalogOverviewPage.open("2026-13", "vi", root / "datasets.yaml")
    assert "\n" not in str(bad_period.value)


def test_the_catalog_overview_page_draws_its_sections(
    root: Path, demo_portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    page = pages.CatalogOverviewPage.open("2026-10", "en", str(root / "datasets.yaml"), top=5)
    assert page.catalog.path == (root / "datasets.yaml").resolve()  # coerced once, at the boundary
    assert page.heading().data == "# Catalog overview · 2026-10"
    charts = [page.by_agency(), page.by_theme(), page.growth(), page.completeness()]
    assert all(isinstance(c, Svg) and "<svg" in str(c) for c in charts)
    assert "Datasets by agency" in str(charts[0]) and str(charts[0]).count("<rect") == 6  # top 5 + others
    assert "<table" in str(page.real_sources())
