"""Reference pages generated from the code, so the docs never drift: the CLI and the catalog schema.

``python -m lab.docs_gen [DIR]`` writes ``DIR/reference/cli.md`` (from the argument parser) and
``DIR/reference/catalog.md`` (from ``lab/schemas/catalog.schema.json`` and the vocabularies). ``make docs``
runs it before ``mkdocs build --strict``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lab.atomic import atomic_write_text
from lab.catalog import catalog_schema, vocabularies

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _commands(
    parser: argparse.ArgumentParser, prefix: str, summary: str | None = None
) -> list[tuple[str, argparse.ArgumentParser, str | None]]:
    found = [(prefix, parser, summary or parser.description)]
    for action in parser._actions:  # argparse keeps sub-parsers here; there is no public accessor
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                found.extend(_commands(sub, f"{prefix} {name}", helps.get(name)))
    return found


def cli_markdown() -> str:
    """Every ``lab`` command with its usage and options, from the parser itself."""
    from lab.cli import build_parser

    lines = [
        "# Command line reference",
        "",
        "Generated from the argument parser (`lab/cli.py` and the packages' `cli.py` modules).",
        "Exit codes: 0 ok, 2 bad input or usage (one line: dataset, file, cause), 1 anything else.",
        "",
    ]
    for name, parser, summary in _commands(build_parser(), "lab"):
        lines += [f"## `{name}`", ""]
        if summary:
            lines += [summary[0].upper() + summary[1:] + ("" if summary.endswith(".") else "."), ""]
        lines += ["```text", parser.format_usage().strip().replace("usage: ", ""), "```", ""]
        rows = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            flags = ", ".join(f"`{o}`" for o in action.option_strings) or f"`{action.metavar or action.dest}`"
            rows.append(f"| {flags} | {(action.help or '').replace('|', '/')} |")
        if rows:
            lines += ["| option | meaning |", "| --- | --- |", *rows, ""]
    return "\n".join(lines)


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "enum" in spec:
        return " \\| ".join(f"`{v}`" for v in spec["enum"])
    kind = spec.get("type", "")
    if kind == "array":
        return f"list of {_type(spec.get('items', {}))}"
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def catalog_markdown() -> str:
    """Every catalog field (from the JSON Schema) and every vocabulary value."""
    schema = catalog_schema()
    lines = [
        "# Catalog reference (`datasets.yaml`)",
        "",
        "Generated from `lab/schemas/catalog.schema.json` and `lab/vocab/vocabularies.yaml`;",
        "`lab catalog validate` checks a catalog against both and reports every problem, one line each.",
        "",
    ]
    blocks = [("catalog file", schema), *schema["$defs"].items()]
    for name, spec in blocks:
        props = spec.get("properties")
        if not props:
            continue
        required = set(spec.get("required", []))
        lines += [f"## {name}", ""]
        if spec.get("description"):
            lines += [spec["description"], ""]
        lines += ["| field | type | required | meaning |", "| --- | --- | --- | --- |"]
        for field, fspec in props.items():
            req = "yes" if field in required else ""
            lines.append(f"| `{field}` | {_type(fspec)} | {req} | {fspec.get('description', '')} |")
        lines.append("")
    lines += ["## Vocabularies", ""]
    for vocab, values in vocabularies().items():
        lines += [f"### {vocab}", "", ", ".join(f"`{v}`" for v in values), ""]
    return "\n".join(lines)


def write(folder: Path) -> list[Path]:
    """Write the generated pages under ``folder/reference``."""
    out = folder / "reference"
    pages = {out / "cli.md": cli_markdown(), out / "catalog.md": catalog_markdown()}
    for path, text in pages.items():
        atomic_write_text(path, text + "\n")
    return list(pages)


if __name__ == "__main__":
    for page in write(Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_ROOT / "docs"):
        print(page)
