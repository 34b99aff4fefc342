"""Notebook habits hold for the project's notebooks, and the checker catches each bad habit."""

from __future__ import annotations

import json
from pathlib import Path

from lab.notebook_hygiene import notebooks, problems, strip


def test_project_notebooks_are_clean(root: Path) -> None:
    found = notebooks([root / "notebooks"])
    assert found, "no notebooks found"
    assert [line for nb in found for line in problems(nb)] == []


def _write(path: Path, cells: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), "utf-8")
    return path


def _code(source: str, *, tags: list[str] | None = None, outputs: list | None = None) -> dict:
    return {
        "cell_type": "code",
        "id": "c",
        "metadata": {"tags": tags or []},
        "source": source,
        "outputs": outputs or [],
        "execution_count": 1 if outputs else None,
    }


def test_each_bad_habit_is_reported(tmp_path: Path) -> None:
    out = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    report = _write(
        tmp_path / "reports" / "r.ipynb",
        [_code("import lab", outputs=out), _code("def helper():\n    return 1"), _code("class A: ...")],
    )
    found = problems(report)
    assert any("stored outputs" in p for p in found)
    assert any("defines helper" in p for p in found) and any("defines A" in p for p in found)
    assert any("tagged 'parameters'" in p for p in found)
    explore = _write(tmp_path / "explore" / "e.ipynb", [_code("def ok():\n    pass")])
    assert problems(explore) == []  # explore notebooks may define helpers


def test_strip_removes_outputs(tmp_path: Path) -> None:
    out = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    nb = _write(tmp_path / "n.ipynb", [_code("print('x')", outputs=out)])
    assert strip(nb) and not strip(nb)
    assert problems(nb) == []
