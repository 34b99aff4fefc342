"""What the generation steps share: the seed and scale, random streams, shared tables, and the writer.

Every step draws from its own random stream, ``Context.rng(name)``, seeded by ``(seed, crc32(name))``:
a step's output depends only on the seed (and the scale, for the usage logs), never on which steps
ran before it or how many numbers they drew. So the catalog, places and reuse files are the same at
every scale, and adding a step never changes the others.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from lab.demo.vocab import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_VI

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileRecord:
    """One written file: where, how many records, its checksum and what it is."""

    path: str
    rows: int | None
    sha256: str
    bytes: int
    title: str
    columns: tuple[str, ...] = ()


@dataclass
class Context:
    """The state of one generation run.

    Parameters
    ----------
    root
        The (temporary) folder files are written into.
    seed
        The seed of every random stream.
    scale
        Multiplier of the usage volumes (1.0 = the portal's published totals over the window).
    """

    root: Path
    seed: int
    scale: float
    files: list[FileRecord] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    truth: dict[str, Any] = field(default_factory=dict)

    def rng(self, name: str) -> np.random.Generator:
        """The random stream of step ``name`` (independent of every other step)."""
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    def scaled(self, total_at_one: float) -> int:
        """``total_at_one × scale``, rounded: how many events a scaled volume has in this run."""
        return round(total_at_one * self.scale)

    # ------------------------------------------------------------------------------------- writers
    def _record(
        self,
        rel: str,
        rows: int | None,
        title: str,
        columns: tuple[str, ...] = (),
        digest: Any = None,
    ) -> FileRecord:
        """Checksum a written file (in blocks: logs can be large; or the ``digest`` made while writing
        it) and add it to the file list."""
        path = self.root / rel
        if digest is None:
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
        rec = FileRecord(rel, rows, digest.hexdigest(), path.stat().st_size, title, columns)
        self.files.append(rec)
        log.debug("wrote %s (%s rows)", rel, rows)
        return rec

    def write_csv(
        self, rel: str, df: pl.DataFrame, *, title: str, description: str, units: dict[str, str] | None = None
    ) -> FileRecord:
        """Write ``df`` as UTF-8 CSV (comma, header, ``\\n``) with a CSVW companion ``<file>-metadata.json``.

        The companion carries ``"synthetic": true`` and the synthetic note in both languages, the
        title, the description and the columns with their datatypes.
        """
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        df.write_csv(path, line_terminator="\n", float_precision=6)
        rec = self._record(rel, df.height, title, tuple(df.columns))
        self._write_companion(rel, df, title, description, units or {})
        return rec

    def write_text(self, rel: str, text: str, *, title: str, rows: int | None = None) -> FileRecord:
        """Write ``text`` (UTF-8, ``\\n`` line ends) and record it."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return self._record(rel, rows, title)

    def write_lines(
        self, rel: str, lines: pl.Series | Iterable[pl.Series], *, title: str, description: str
    ) -> FileRecord:
        """Write one string per line (a log file), plus a JSON companion with the synthetic note.

        ``lines`` may be an iterable of Series, written one after the other as they come: a log of
        millions of lines is streamed, never held in memory whole.
        """
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        rows, digest, buffer = 0, hashlib.sha256(), io.BytesIO()
        with open(path, "wb") as fh:
            for part in [lines] if isinstance(lines, pl.Series) else lines:
                # one column, never quoted, no header: each string is written as it is, one per line
                part.to_frame("line").write_csv(
                    buffer, include_header=False, quote_style="never", line_terminator="\n"
                )
                digest.update(buffer.getbuffer())  # checksummed as written: a large log is read once
                fh.write(buffer.getbuffer())
                buffer.seek(0)
                buffer.truncate()
                rows += part.len()
        rec = self._record(rel, rows, title, digest=digest)
        self._write_json(
            f"{rel}-metadata.json",
            {
                "url": Path(rel).name,
                "dc:title": title,
                "dc:description": description,
                "synthetic": True,
                "note": {"vi": SYNTHETIC_NOTE_VI, "en": SYNTHETIC_NOTE_EN},
            },
            title=f"{title} — metadata",
        )
        return rec

    def _write_json(self, rel: str, doc: dict[str, Any], *, title: str) -> FileRecord:
        """Write ``doc`` as indented UTF-8 JSON."""
        text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
        return self.write_text(rel, text, title=title)

    def _write_companion(
        self, rel: str, df: pl.DataFrame, title: str, description: str, units: dict[str, str]
    ) -> None:
        """The CSVW companion of a CSV: title, description, synthetic note, columns and units."""
        columns = []
        for name, dtype in df.schema.items():
            col: dict[str, Any] = {"name": name, "datatype": _csvw_type(dtype)}
            if name in units:
                col["unit"] = units[name]
            columns.append(col)
        self._write_json(
            f"{rel}-metadata.json",
            {
                "@context": "http://www.w3.org/ns/csvw",
                "url": Path(rel).name,
                "dc:title": title,
                "dc:description": description,
                "synthetic": True,
                "note": {"vi": SYNTHETIC_NOTE_VI, "en": SYNTHETIC_NOTE_EN},
                "tableSchema": {"columns": columns},
            },
            title=f"{title} — metadata",
        )


def _csvw_type(dtype: pl.DataType) -> str:
    """The CSVW datatype of a polars dtype."""
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "number"
    if dtype == pl.Date:
        return "date"
    if dtype == pl.Datetime:
        return "datetime"
    return "string"
