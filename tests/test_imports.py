"""The house's floors (issue 17): no import circle in ``lab/``, the report runner imported by the CLI only.

Every import counts, those inside functions too (an import moved into a function to dodge a circle is still
a circle). Plugins named as strings (the CLI's command modules, :data:`lab.fetch.SOURCE_PLUGINS`) are the
one way a lower module reaches a higher one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parent.parent / "lab"


def _modules() -> dict[str, Path]:
    found = {}
    for path in LAB.rglob("*.py"):
        parts = list(path.relative_to(LAB.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the lab modules it imports (anywhere in its code)."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [resolve(a.name) for a in node.names if a.name.split(".")[0] == "lab"]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                if base.split(".")[0] == "lab":
                    targets = [
                        f"{base}.{a.name}" if f"{base}.{a.name}" in modules else resolve(base)
                        for a in node.names
                    ]
            graph[module] |= {t for t in targets if t and t != module}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walker_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_lab() -> None:
    graph = import_graph()
    assert len(graph) > 100 and graph["lab.portal.api"] >= {"lab.fetch"}  # the walk sees real imports
    assert circles(graph) == []


def test_only_the_cli_imports_the_report_runner() -> None:
    graph = import_graph()
    assert sorted(m for m, targets in graph.items() if "lab.reports" in targets) == ["lab.cli"]
    # periods and "today" live on the ground floor, used by the upper ones
    assert "lab.periods" in graph["lab.reports"] and "lab.reports" not in graph["lab.periods"]


def test_the_portal_source_is_a_registered_plugin() -> None:
    from lab import fetch
    from lab.errors import FetchError
    from lab.portal.api import fetch_portal

    assert "lab.portal" not in " ".join(import_graph()["lab.fetch"])
    assert fetch.source_handler("portal") is fetch_portal
    with pytest.raises(FetchError, match="no source of kind 'ftp'"):
        fetch.source_handler("ftp")


def test_the_readme_layout_names_every_part_of_the_library() -> None:
    """Issue 17: the README's layout is checked, not left to drift."""
    readme = (LAB.parent / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("```", 2)[1]
    parts = sorted(
        p.name + ("/" if p.is_dir() else "")
        for p in LAB.iterdir()
        if p.name not in ("__init__.py", "__main__.py", "__pycache__")
    )
    missing = [p for p in parts if p not in layout]
    assert missing == [], f"README layout does not name {missing}"
    top = sorted(
        p.name for p in LAB.parent.iterdir() if p.name in ("notebooks", "reports", "tests", "bench", "docs")
    )
    assert all(f"{name}/" in layout for name in top)


def test_the_library_points_nowhere_outside_the_repository(root: Path) -> None:
    """Docstrings cite docs/concepts/sources.md (copied facts, with their sources), never ../shared."""
    outside = [
        p.relative_to(root).as_posix()
        for p in sorted((root / "lab").rglob("*.py"))
        if "../shared" in p.read_text(encoding="utf-8")
    ]
    assert outside == []
    assert (root / "docs" / "concepts" / "sources.md").is_file()


def test_test_modules_share_helpers_through_support_only(root: Path) -> None:
    """Shared helpers live in tests/support (or conftest fixtures); a test module never imports another."""
    crossed = []
    for path in sorted((root / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            crossed += [f"{path.name}: {n}" for n in names if n.startswith(("test_", "conftest"))]
    assert crossed == []


#: Bodies (docstring aside) longer than this need a reason written above the ``def``: ``# long: why``.
LONG_FUNCTION = 80


def test_a_long_function_says_why(root: Path) -> None:
    unexplained = []
    for path in sorted((root / "lab").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]
            if not body or body[-1].end_lineno - body[0].lineno + 1 <= LONG_FUNCTION:  # type: ignore[operator]
                continue
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if not lines[first - 2].strip().startswith("# long:"):
                unexplained.append(f"{path.relative_to(root)}:{node.lineno} {node.name}")
    assert unexplained == [], "split these functions or write `# long: why` above them"
