"""Notebook habits: outputs stripped in git, thin report and app notebooks, a parameters cell in reports.

``python -m lab.notebook_hygiene check [PATH ...]`` lists every problem (exit 1 if any);
``python -m lab.notebook_hygiene strip PATH ...`` removes outputs and execution counts in place (the
pre-commit hook). The test suite runs the check over ``notebooks/``.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from lab.atomic import atomic_write_text

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _code_without_magics(text: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines())


def problems(path: Path) -> list[str]:
    """Everything wrong with one notebook, one line each (empty when it is fine)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{path}: not a readable notebook ({exc})"]
    found = []
    cells = nb.get("cells", [])
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            found.append(f"{path}: cell {i} has stored outputs (run `python -m lab.notebook_hygiene strip`)")
        thin = {"reports", "apps"} & set(path.parts)
        if thin:
            try:
                tree = ast.parse(_code_without_magics(_source(cell)))
            except SyntaxError as exc:
                found.append(f"{path}: cell {i} does not parse ({exc.msg})")
                continue
            defs = [
                n
                for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            ]
            if defs:
                found.append(
                    f"{path}: cell {i} defines {defs[0].name}: logic belongs in lab/, not in a notebook"
                )
    if "reports" in path.parts:
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        if len(tagged) != 1:
            found.append(f"{path}: a report notebook needs exactly one cell tagged 'parameters'")
    return found


def notebooks(paths: Iterable[Path]) -> list[Path]:
    """The notebooks in ``paths`` (folders are searched), checkpoints left out."""
    out: list[Path] = []
    for p in paths:
        found = sorted(p.rglob("*.ipynb")) if p.is_dir() else [p]
        out.extend(n for n in found if ".ipynb_checkpoints" not in n.parts)
    return out


def strip(path: Path) -> bool:
    """Remove outputs and execution counts from a notebook in place; True if it changed."""
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    new = json.dumps(nb, ensure_ascii=False, indent=1) + "\n"
    if new != text:
        atomic_write_text(path, new)
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    """``check [PATH ...]`` or ``strip PATH ...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("check", "strip"):
        print("usage: python -m lab.notebook_hygiene check|strip [PATH ...]", file=sys.stderr)
        return 2
    paths = notebooks(Path(a) for a in args[1:]) or notebooks([PROJECT_ROOT / "notebooks"])
    if args[0] == "strip":
        changed = [p for p in paths if strip(p)]
        for p in changed:
            print(f"stripped {p}")
        return 0
    found = [line for p in paths for line in problems(p)]
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
