"""CSV and TSV: encoding detection, delimiter sniffing, truncation checks; every column read as text.

Options (``options:`` of the distribution): ``delimiter`` (default: sniffed among ``, ; TAB |``; TAB
for the TSV format), ``skip_rows`` (lines above the header), ``comment`` (a line prefix to ignore).
Null tokens ("N/A", "-", …) and types are the schema's job (:func:`lab.schema.apply_schema`).
"""

from __future__ import annotations

import io
import logging
import re

import polars as pl

from lab.errors import EmptyFileError, ReadError, TruncatedFileError
from lab.readers.base import Source, register
from lab.readers.encoding import decode

log = logging.getLogger(__name__)

__all__ = ["count_fields", "read_csv", "sniff_delimiter"]

DELIMITERS = (",", ";", "\t", "|")
_QUOTED = re.compile(r'"[^"]*"')
_SAMPLE_CHARS = 65536
_SAMPLE_LINES = 30


def count_fields(line: str, delimiter: str) -> int:
    """Fields in one CSV line (quoted delimiters do not count).

    Examples
    --------
    >>> count_fields('a,"b,c",d', ",")
    3
    """
    return _QUOTED.sub("", line).count(delimiter) + 1


def _sample_lines(text: str, skip_rows: int, comment: str | None) -> list[str]:
    lines = text[:_SAMPLE_CHARS].splitlines()[skip_rows:]
    if len(text) > _SAMPLE_CHARS:
        lines = lines[:-1]  # the last sampled line may be cut
    lines = [ln for ln in lines if ln.strip() and not (comment and ln.startswith(comment))]
    return lines[:_SAMPLE_LINES]


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter among ``, ; TAB |`` that splits the sample lines most consistently.

    Examples
    --------
    >>> sniff_delimiter(["ma;ten;dan_so", "1;Hải Châu;1,5", "2;Thanh Khê;2,5"])
    ';'
    >>> sniff_delimiter(["only_one_column", "x"])
    ','
    """
    best, best_score = ",", (0.0, 0)
    for delim in DELIMITERS:
        counts = [count_fields(line, delim) - 1 for line in lines]
        if not counts or counts[0] == 0:
            continue
        score = (sum(c == counts[0] for c in counts) / len(counts), counts[0])
        if score > best_score:
            best, best_score = delim, score
    return best


def _check_truncated(src: Source, text: str, header: str, delimiter: str) -> None:
    pos = text.rfind('"')
    opens_field = pos == 0 or (pos > 0 and text[pos - 1] in (delimiter, "\n", "\r"))
    if opens_field and text.count('"') % 2:  # a stray inch sign (5" screen) does not open a field
        line = text.count("\n", 0, pos) + 1
        raise src.error(
            TruncatedFileError,
            f"unterminated quote (opened on line {line}) at the end of the file: the file looks cut off",
        )
    if text.endswith(("\n", "\r")):
        return
    last = text[text.rfind("\n") + 1 :]
    have, want = count_fields(last, delimiter), count_fields(header, delimiter)
    if have < want:
        line = text.count("\n") + 1
        raise src.error(
            TruncatedFileError,
            f"the last line ({line}) has {have} of {want} fields and no final newline: "
            "the file looks cut off",
        )


@register("csv")
def read_csv(src: Source) -> pl.DataFrame:
    """Read a CSV/TSV file as all-text columns (see the module docstring for options)."""
    text = decode(src, src.path.read_bytes())
    opts = src.options
    skip_rows = int(opts.get("skip_rows", 0))
    comment = opts.get("comment")
    lines = _sample_lines(text, skip_rows, comment)
    if not lines:
        raise src.error(EmptyFileError, "is empty (no header, no rows)")
    delimiter = opts.get("delimiter") or ("\t" if src.dist.format == "TSV" else sniff_delimiter(lines))
    if delimiter not in DELIMITERS:
        log.info("%s: %s: delimiter %r from options", src.dataset.id, src.label, delimiter)
    _check_truncated(src, text, lines[0], delimiter)
    try:
        df = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            separator=delimiter,
            skip_rows=skip_rows,
            comment_prefix=comment,
            infer_schema=False,
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise src.error(ReadError, f"not readable as CSV (delimiter {delimiter!r}): {cause}") from None
    df = df.filter(~pl.all_horizontal(pl.all().is_null()))  # blank lines
    if df.height == 0:
        raise src.error(EmptyFileError, f"has a header ({df.width} columns) and no rows")
    log.debug(
        "%s: %s: %d rows x %d columns, delimiter %r",
        src.dataset.id,
        src.label,
        df.height,
        df.width,
        delimiter,
    )
    return df
