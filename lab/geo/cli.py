"""``lab geo``: assign points to units, move ward tables to the 2025 units.

``lab geo assign --points FILE --lon COL --lat COL --units ID [--to FILE] [--json]``
    Reads FILE (CSV or Parquet) as text, parses the coordinates (decimal dot or comma, DMS, VN-2000
    metres, swapped columns detected), assigns each row to the unit of catalog dataset ID (or a polygon
    file) whose polygon holds it, in the polygons' CRS. ``--to`` writes the input rows unchanged plus
    ``unit_code``, ``unit_name`` and ``reason`` (null when assigned). ``--json`` prints ``points``,
    ``assigned``, ``unassigned``, ``by_unit`` (unit code → points, every unit), ``reasons``.

``lab geo crosswalk FILE --from 2024 --to 2025 --value COL [--weight COL] --to FILE``
    Moves a ward-level table to the 94 units of July 2025. ``--to`` is given twice in that form: the
    value that names a structure (``2025``) is the target, the other one the output file; ``--out FILE``
    says the same without the ambiguity.

Output files are written by :func:`lab.outputs.write_table`: ``.csv`` or ``.parquet`` as the extension
says (any other refused before any work), formula-like CSV cells escaped, folders and devices refused.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from lab.errors import LabError, ReadError

_STRUCTURE = re.compile(r"^\d{4}(-\d{1,2})?$")


def _read_table(path: Path, *, as_text: bool) -> pl.DataFrame:
    """A CSV (any common encoding and delimiter) or Parquet file; ``as_text`` keeps every CSV cell as text."""
    from lab.readers.csv import sniff_delimiter
    from lab.readers.encoding import detect

    if not path.is_file():
        raise ReadError("file not found", file=path)
    from lab.schema import header_looks_like_names

    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            df = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise ReadError(f"not readable as Parquet: {str(exc).splitlines()[0]}", file=path) from None
        return df.with_columns(pl.all().cast(pl.String)) if as_text else df
    data = path.read_bytes()
    if not data.strip():
        raise ReadError("the file is empty", file=path)
    codec = detect(data)
    try:
        text = data.decode(codec, errors="strict")
    except UnicodeDecodeError as exc:
        raise ReadError(f"not a text file in {codec} (byte {exc.start}): not a CSV", file=path) from None
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    try:
        df = pl.read_csv(
            io.StringIO(text),
            separator=sniff_delimiter(lines),
            infer_schema=not as_text,
            infer_schema_length=10_000,
        )
    except pl.exceptions.PolarsError as exc:
        raise ReadError(f"not readable as CSV: {str(exc).splitlines()[0]}", file=path) from None
    one_cell = df.width == 1 or any(len(c) > 64 for c in df.columns)
    if one_cell and not header_looks_like_names(df.columns):  # print no content of a file that is not a table
        raise ReadError(
            "the first line does not look like a header of column names: not a CSV table", file=path
        )
    return df


def _units(spec: str, args: argparse.Namespace) -> Any:
    """Units from a catalog id, or from a polygon file (GeoJSON, GeoPackage, …) given by path."""
    from lab.geo.units import load_units, units_from_file

    path = Path(spec)
    if path.suffix and path.is_file():
        return units_from_file(path)
    return load_units(spec, catalog=args.catalog, mirror=args.mirror)


def cmd_assign(args: argparse.Namespace) -> int:
    """Assign the rows of a point table to units."""
    from lab.geo.assign import assign
    from lab.geo.points import points_from_table
    from lab.outputs import TABLE_FORMATS, output_format, write_table

    if args.to:
        output_format(args.to, TABLE_FORMATS)  # refused before any work
    table = _read_table(Path(args.points), as_text=True)
    if table.height == 0:
        raise ReadError("has a header and no rows: no points to assign", file=args.points)
    try:
        points = points_from_table(table, args.lon, args.lat, crs=args.crs)
    except LabError as exc:
        raise type(exc)(exc.message, dataset=exc.dataset, file=exc.file or args.points) from None
    units = _units(args.units, args)
    result = assign(points, units)
    if args.to:
        out = pl.concat([table, result.table.select("unit_code", "unit_name", "reason")], how="horizontal")
        write_table(out, Path(args.to))
    facts: dict[str, Any] = {
        **result.summary(),
        "units": args.units,
        "swapped": bool(points.attrs.get("swapped")),
        "crs_in": points.attrs.get("crs_in"),
        "transformation": points.attrs.get("transformation"),
    }
    if args.to:
        facts["written"] = str(args.to)
    if args.json:
        print(json.dumps(facts, ensure_ascii=False, indent=2))
    else:
        n, hit, miss = facts["points"], facts["assigned"], facts["unassigned"]
        print(f"{n} points: {hit} assigned to {args.units}, {miss} not")
        for reason, n in facts["reasons"].items():
            print(f"  {reason}: {n}")
        if args.to:
            print(f"written to {args.to}")
    return 0


def _targets(values: list[str] | None, out: str | None) -> tuple[str, str | None]:
    """Split the ``--to`` values into the target structure and the output file."""
    structures = [v for v in values or [] if _STRUCTURE.match(v)]
    files = [v for v in values or [] if not _STRUCTURE.match(v)]
    if len(structures) > 1 or len(files) > 1 or (files and out):
        raise LabError(
            "give --to once as the target structure (2025) and the output file once (--to or --out)"
        )
    return (structures[0] if structures else "2025"), (out or (files[0] if files else None))


def cmd_crosswalk(args: argparse.Namespace) -> int:
    """Move a ward-level table to the units of July 2025."""
    from lab.geo.crosswalk import normalise_structure, to_2025
    from lab.outputs import TABLE_FORMATS, output_format, write_table

    target, output = _targets(args.to, args.out)
    if output:
        output_format(output, TABLE_FORMATS)  # refused before any work
    if normalise_structure(target) != "2025":
        raise LabError(f"--to {target}: only the structure of July 2025 (2025) can be the target")
    values = [v for item in args.value for v in item.split(",") if v]
    table = _read_table(Path(args.file), as_text=False)
    moved = to_2025(
        table,
        values,
        source=args.from_,
        ward=args.ward,
        district=args.district,
        province=args.province,
        code=args.code,
        weight=args.weight,
        split=args.split,
        catalog=args.catalog,
        mirror=args.mirror,
    )
    if output:
        write_table(moved.table, Path(output))
    facts = moved.summary()
    if output:
        facts["written"] = output
    if args.json:
        print(json.dumps(facts, ensure_ascii=False, indent=2))
    else:
        print(moved.table)
        print(
            f"{facts['matched_rows']} of {facts['rows']} rows moved to {facts['units']} units of July 2025"
            + (f"; split: {', '.join(facts['split_rows'])}" if facts["split_rows"] else "")
        )
        for column, total in facts["totals"].items():
            print(f"  {column}: in {total['in']}, out {total['out']}")
        if output:
            print(f"written to {output}")
    return 0


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``lab geo assign`` and ``lab geo crosswalk``."""
    geo = subparsers.add_parser(
        "geo", help="spatial analyses: points to units, old to new units", parents=[common]
    )
    gsub = geo.add_subparsers(dest="action", required=True, metavar="ACTION")

    p = gsub.add_parser("assign", help="assign the rows of a point table to units", parents=[common])
    p.add_argument("--points", required=True, metavar="FILE", help="CSV or Parquet with coordinates")
    p.add_argument("--lon", required=True, metavar="COL", help="longitude (or VN-2000 easting) column")
    p.add_argument("--lat", required=True, metavar="COL", help="latitude (or VN-2000 northing) column")
    p.add_argument("--units", required=True, metavar="ID", help="catalog id of the unit polygons (or a file)")
    p.add_argument(
        "--out",
        "--to",
        dest="to",
        metavar="FILE",
        help="write the rows plus unit_code, unit_name, reason (CSV/Parquet); --to is the older name",
    )
    p.add_argument("--json", action="store_true", help="print points, assigned, unassigned, by_unit as JSON")
    p.add_argument(
        "--crs", help="CRS of the coordinates (default: degrees, or EPSG:5899 if they look like it)"
    )
    p.add_argument("--mirror", metavar="DIR", help="offline mirror folder (default: $LAB_MIRROR)")
    p.set_defaults(func=cmd_assign)

    p = gsub.add_parser(
        "crosswalk", help="move a ward-level table to the 94 units of July 2025", parents=[common]
    )
    p.add_argument("file", metavar="FILE", help="CSV or Parquet, one row per old unit")
    p.add_argument(
        "--from", dest="from_", required=True, metavar="YEAR", help="2019…2024 (2019–2024 names) or 2025-01"
    )
    p.add_argument(
        "--to",
        action="append",
        metavar="2025|FILE",
        help="the target structure (2025) and/or the output file (CSV or Parquet)",
    )
    p.add_argument("--out", metavar="FILE", help="the output file (same as the second --to)")
    p.add_argument(
        "--value", action="append", required=True, metavar="COL", help="column to move (repeatable)"
    )
    p.add_argument("--weight", metavar="COL", help="treat --value as a rate/mean weighted by this column")
    p.add_argument(
        "--split", choices=["area", "population"], default="area", help="how split units are shared"
    )
    p.add_argument("--ward", metavar="COL", help="unit name column (default: guessed)")
    p.add_argument("--district", metavar="COL", help="district name column (default: guessed)")
    p.add_argument("--province", metavar="COL", help="province name column (default: guessed)")
    p.add_argument("--code", metavar="COL", help="unit code column (2025-01 tables)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--mirror", metavar="DIR", help="offline mirror folder (default: $LAB_MIRROR)")
    p.set_defaults(func=cmd_crosswalk)
