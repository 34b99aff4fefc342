"""The guided notebooks run top to bottom (papermill, real kernel) on the demo portal and the real data."""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks" / "explore").glob("*.ipynb"))

pytestmark = pytest.mark.slow


def _text_outputs(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    texts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            texts.append("".join(out.get("text", "")))
            texts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_guided_notebook_runs(notebook: Path, kernel_env: None, shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / notebook.name
    pm.execute_notebook(
        str(notebook),
        str(out),
        parameters={"mirror": str(shared_data)},
        kernel_name="python3",
        cwd=str(notebook.parent),
        progress_bar=False,
    )
    text = _text_outputs(out)
    assert "Traceback" not in text
    if notebook.stem.startswith("01-"):
        assert "94 EPSG:4326 repaired: 5" in text
    if notebook.stem.startswith("02-"):
        assert "windows-1258 True" in text and "utf-16 True" in text
        assert "urban + rural == total everywhere: True" in text
        assert "is an HTML page titled 'Đăng nhập'" in text
    if notebook.stem.startswith("03-"):
        assert "94 units" in text
        cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
        page = "".join("".join(o.get("data", {}).get("text/html", "")) for o in cells[-1]["outputs"])
        assert page.count("#ffffff") == 94  # the 94 units drawn as outlines (white fill), not only points
    if notebook.stem.startswith("04-"):
        assert "4 files ingested" in text and "visits" in text
    if notebook.stem.startswith("05-"):
        assert "problems found in one run" in text and "datasets_reused" in text
    if notebook.stem.startswith("06-"):
        assert "mqa_points" in text and "schema_conformance" in text


def test_every_guided_notebook_is_bilingual() -> None:
    assert NOTEBOOKS
    for notebook in NOTEBOOKS:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        prose = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert "**VI.**" in prose and "**EN.**" in prose, notebook.name
