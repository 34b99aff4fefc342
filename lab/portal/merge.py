"""Merging harvested entries into a catalog file without losing what people wrote.

Rules (the same every run, so a second harvest of the same pages changes nothing):

- an entry is the same dataset when its ``portal_id``, a distribution's ``portal.id`` or its ``id``
  matches; a dataset not in the file is appended;
- in an existing entry, a value already there wins: harvest adds the fields (and sub-fields) the entry
  lacks, replaces placeholders (``unknown`` licence or frequency, a theme outside the vocabulary), moves
  ``modified`` forward, and reports every other difference as *kept* with the portal's value;
  ``title.en`` / ``description.en`` (copies of the Vietnamese) never replace a translation, and the
  distributions of an existing entry are never touched;
- the file's text is kept: only the entries that changed are rewritten in place and new ones are
  appended after the last entry, so comments and layout elsewhere survive. The result is checked by
  parsing it again; the file is written atomically, and not at all when nothing changed.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.atomic import atomic_write_text
from lab.catalog import read_catalog_file, vocabularies
from lab.portal.errors import HarvestError

log = logging.getLogger(__name__)

#: Sub-fields harvest fills but never replaces: the portal has no English, so these repeat the Vietnamese.
FILL_ONLY = {"title": {"en"}, "description": {"en"}}
MARKER = "by `lab portal harvest`"


# ------------------------------------------------------------------------------------------ the rules
@dataclass
class EntryChange:
    """What a harvest did to one catalog entry.

    Attributes
    ----------
    id
        The entry's id.
    action
        ``added``, ``updated`` or ``unchanged``.
    added
        Fields (``title.en`` for sub-fields) the entry gained.
    updated
        Fields whose value harvest replaced (placeholders, a later ``modified``).
    kept
        Field → the portal's value, where the entry's own value differs and was kept.
    """

    id: str
    action: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: dict[str, Any] = field(default_factory=dict)


def _placeholder(key: str, value: Any) -> bool:
    """True when ``value`` is what a harvest writes for "not known": harvest may replace it."""
    vocab = {"license": "licenses", "frequency": "frequencies"}.get(key)
    if vocab:
        return value == "unknown" or value not in vocabularies()[vocab]
    if key == "theme":
        themes = vocabularies()["themes"]
        return not isinstance(value, list) or any(t not in themes for t in value)
    return False


def merge_entry(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], EntryChange]:
    """Merge a harvested entry ``new`` into the catalog's entry ``old`` (see the module rules).

    Returns
    -------
    (dict, EntryChange)
        The merged entry (``old``'s field order, new fields at the end) and what changed.
    """
    merged = copy.deepcopy(old)
    change = EntryChange(str(old.get("id")), "unchanged")
    for key, value in new.items():
        if key == "id":
            continue
        if key not in old:
            merged[key] = copy.deepcopy(value)
            change.added.append(key)
        elif old[key] == value:
            continue
        elif key == "distributions":
            ids = {(d.get("portal") or {}).get("id") for d in old[key] if isinstance(d, dict)}
            wanted = {(d.get("portal") or {}).get("id") for d in value}
            if not wanted <= ids:
                change.kept[key] = [d.get("portal") for d in value]
        elif isinstance(old[key], dict) and isinstance(value, dict):
            for sub, sub_value in value.items():
                if sub not in old[key]:
                    merged[key][sub] = copy.deepcopy(sub_value)
                    change.added.append(f"{key}.{sub}")
                elif old[key][sub] != sub_value and sub not in FILL_ONLY.get(key, ()):
                    change.kept[f"{key}.{sub}"] = sub_value
        elif _placeholder(key, old[key]) and not _placeholder(key, value):
            merged[key] = copy.deepcopy(value)
            change.updated.append(key)
        elif key == "modified" and str(value) > str(old[key]):
            merged[key] = value
            change.updated.append(key)
        else:
            change.kept[key] = value
    if change.added or change.updated:
        change.action = "updated"
    return merged, change


def _portal_ids(entry: dict[str, Any]) -> set[int]:
    ids: set[int] = set()
    pid = entry.get("portal_id")
    if isinstance(pid, int) or (isinstance(pid, str) and pid.isdigit()):
        ids.add(int(pid))
    for dist in entry.get("distributions") or []:
        portal = dist.get("portal") if isinstance(dist, dict) else None
        if isinstance(portal, dict) and isinstance(portal.get("id"), int):
            ids.add(portal["id"])
    return ids


def merge_datasets(
    existing: list[dict[str, Any]], harvested: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[EntryChange], set[int]]:
    """Merge harvested entries into a catalog's ``datasets`` list.

    Returns
    -------
    (list, list of EntryChange, dict)
        The merged list (existing entries in place, new ones at the end), one change per harvested
        entry, and the indexes of the existing entries that changed.
    """
    by_portal: dict[int, int] = {}
    by_id: dict[str, int] = {}
    for i, entry in enumerate(existing):
        if not isinstance(entry, dict):
            continue
        for pid in _portal_ids(entry):
            by_portal.setdefault(pid, i)
        by_id.setdefault(str(entry.get("id")), i)
    merged = list(existing)
    changes: list[EntryChange] = []
    touched: set[int] = set()
    for entry in harvested:
        pid = entry.get("portal_id")
        index = by_portal.get(pid) if isinstance(pid, int) else None
        index = index if index is not None else by_id.get(str(entry["id"]))
        if index is None:
            merged.append(copy.deepcopy(entry))
            by_id[str(entry["id"])] = len(merged) - 1
            if isinstance(pid, int):
                by_portal[pid] = len(merged) - 1
            changes.append(EntryChange(str(entry["id"]), "added", added=[k for k in entry if k != "id"]))
            continue
        result, change = merge_entry(merged[index], entry)
        if result != merged[index]:
            merged[index] = result
            if index < len(existing):
                touched.add(index)
        changes.append(change)
    return merged, changes, touched


# ------------------------------------------------------------------------------------------ the text
class _TextLoader(yaml.SafeLoader):
    """Safe YAML that keeps dates as text, like the catalog's own loader."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Dumper(yaml.SafeDumper):
    """Block style with indented lists; short lists and small mappings of scalars in flow style."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(_scalar(v) for v in data) and len(str(data)) < 100
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = all(_scalar(v) for v in data.values()) and len(str(data)) < 100
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)


def dump_yaml(data: Any) -> str:
    """``data`` as YAML in the catalog's style (UTF-8 text, field order kept, no line wrapping)."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096)


def render_item(entry: dict[str, Any], prefix: str = "  - ") -> str:
    """One entry as an item of the ``datasets`` list, its first line starting with ``prefix``."""
    lines = dump_yaml(entry).splitlines()
    pad = " " * len(prefix)
    return "".join([f"{prefix}{lines[0]}\n", *(f"{pad}{line}\n" if line else "\n" for line in lines[1:])])


def _end_line(node: yaml.Node) -> int:
    """The last line (0-based) holding a node's text: the end of its last scalar, not the next token."""
    if isinstance(node, yaml.ScalarNode):
        mark = node.end_mark
        return mark.line - 1 if mark.column == 0 and mark.line > node.start_mark.line else mark.line
    if getattr(node, "flow_style", False):
        return node.end_mark.line
    children = node.value if isinstance(node, yaml.SequenceNode) else [v for _k, v in node.value]
    return _end_line(children[-1]) if children else node.start_mark.line


@dataclass(frozen=True)
class _Item:
    start: int  # first line (with the dash)
    end: int  # last line
    prefix: str  # the text before the first key: "  - "


def _items(text: str) -> list[_Item] | None:
    """Where each entry of the ``datasets`` block list is in ``text``, or None for any other layout."""
    root = yaml.compose(text, Loader=_TextLoader)
    if not isinstance(root, yaml.MappingNode):
        return None
    seq = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "datasets"), None)
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
        return None
    lines = text.splitlines()
    items = []
    for node in seq.value:
        if not isinstance(node, yaml.MappingNode) or node.flow_style:
            return None
        line = lines[node.start_mark.line]
        prefix = line[: node.start_mark.column]
        if prefix.strip() != "-":
            return None
        items.append(_Item(node.start_mark.line, _end_line(node), prefix))
    return items


def _splice(text: str, merged: list[dict[str, Any]], touched: set[int], n_old: int, note: str) -> str | None:
    """``text`` with the touched entries rewritten and the new ones appended, or None if it cannot."""
    items = _items(text)
    if items is None or len(items) != n_old:
        return None
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    new = merged[n_old:]
    if new:
        prefix = items[0].prefix
        block = [] if MARKER in text else ["\n", f"{prefix[: prefix.index('-')]}# {note}\n"]
        for i, entry in enumerate(new):
            block += ([] if i == 0 and block else ["\n"]) + [render_item(entry, prefix)]
        lines[items[-1].end + 1 : items[-1].end + 1] = block
    for index in sorted(touched, reverse=True):
        item = items[index]
        lines[item.start : item.end + 1] = [render_item(merged[index], item.prefix)]
    return "".join(lines)


def _whole(doc: dict[str, Any], text: str, merged: list[dict[str, Any]]) -> str:
    """The file written afresh (its leading comment block kept): for layouts :func:`_splice` cannot edit."""
    head = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#") and line.strip():
            break
        head.append(line)
    rest = {k: v for k, v in doc.items() if k != "datasets"}
    body = dump_yaml(rest) if rest else ""
    items = "".join(f"\n{render_item(e)}" for e in merged)
    return "".join(head) + body + "datasets:\n" + items.lstrip("\n")


def new_catalog_text(title: dict[str, str], homepage: str, entries: list[dict[str, Any]], note: str) -> str:
    """A new catalog file holding only harvested entries."""
    head = (
        f"# {note}\n# Edit freely: a later harvest keeps hand-written values (see lab/portal/merge.py).\n\n"
    )
    catalog = dump_yaml({"catalog": {"title": title, "homepage": homepage}})
    items = "\n".join(render_item(e) for e in entries)
    return head + catalog + "\ndatasets:\n" + items


def merge_file(
    path: Path, harvested: list[dict[str, Any]], *, note: str, title: dict[str, str], homepage: str
) -> tuple[list[EntryChange], bool]:
    """Merge harvested entries into the catalog file ``path`` (created if missing).

    Parameters
    ----------
    path
        The catalog file to update.
    harvested
        Catalog entries made by :func:`lab.portal.mapping.to_entry`.
    note
        The comment line written above the harvested entries (it must contain :data:`MARKER`).
    title, homepage
        The ``catalog`` block of a new file.

    Returns
    -------
    (list of EntryChange, bool)
        One change per harvested entry, and whether the file was written.

    Raises
    ------
    lab.portal.errors.HarvestError
        The file is not a catalog (no ``datasets`` list) or cannot be written.
    """
    path = Path(path)
    if not path.exists():
        if not harvested:  # every dataset page failed: no empty catalog
            return [], False
        merged, changes, _touched = merge_datasets([], harvested)
        _write(path, new_catalog_text(title, homepage, merged, note))
        return changes, True
    text = path.read_text(encoding="utf-8")
    doc = read_catalog_file(path)
    existing = doc.get("datasets") or []
    if not isinstance(existing, list):
        raise HarvestError("'datasets' is not a list: cannot merge into it", file=path)
    merged, changes, touched = merge_datasets(existing, harvested)
    if merged == existing:
        return changes, False
    spliced = _splice(text, merged, touched, len(existing), note)
    expected = {**doc, "datasets": merged}
    if spliced is None or yaml.load(spliced, Loader=_TextLoader) != expected:
        log.warning("%s: rewriting the whole file (its layout cannot be edited in place)", path)
        spliced = _whole(doc, text, merged)
        if yaml.load(spliced, Loader=_TextLoader) != expected:
            raise HarvestError(
                "the merged catalog does not read back as written; nothing was changed", file=path
            )
    _write(path, spliced)
    return changes, True


def _write(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise HarvestError(f"cannot write ({exc.strerror or type(exc).__name__})", file=path) from None
