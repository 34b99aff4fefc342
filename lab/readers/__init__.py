"""Readers: from a fetched file to a typed polars DataFrame or a checked GeoDataFrame.

:func:`read` is the one entry point (``lab.load`` calls it for each distribution). Formats are read by
functions registered in :data:`REGISTRY` under the ``reader`` names of the formats vocabulary
(``csv``, ``excel``, ``json``, ``jsonl``, ``geojson``, ``shapefile``, ``gpkg``, ``parquet``, ``raw``);
register another with :func:`register`.

Every failure is a one-line :class:`~lab.errors.LabError` subclass naming the dataset, the file and
the cause: an empty file, an HTML page where data was expected, bad encodings, truncated files,
schema violations, broken geometries, wrong CRSs, coordinates swapped or outside Vietnam.
"""

from __future__ import annotations

import logging
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from lab.catalog import Dataset, Distribution
from lab.errors import EmptyFileError, HtmlInsteadOfDataError, ReadError
from lab.readers import csv, excel, geo, jsonfile, parquet, raw  # noqa: F401  (they register themselves)
from lab.readers.base import REGISTRY, Reader, Source, reader_name, register
from lab.readers.spatial import VIETNAM_BBOX, to_points
from lab.schema import apply_schema
from lab.sniff import html_title, looks_like_html, read_head
from lab.unpack import IncompleteError, TooLargeError, gunzip_file, is_gzip, limit_message, max_unpacked_bytes

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

__all__ = ["REGISTRY", "VIETNAM_BBOX", "Reader", "Source", "read", "register"]


def _check_file(src: Source) -> None:
    if not src.path.exists():
        raise src.error(ReadError, f"file not found: {src.path}")
    if src.path.is_dir():
        raise src.error(ReadError, f"is a folder, not a file: {src.path}")
    if src.path.stat().st_size == 0:
        raise src.error(EmptyFileError, "is empty (0 bytes)")


def _check_not_html(src: Source) -> None:
    head = read_head(src.path)
    if looks_like_html(head):
        title = html_title(head)
        page = f"an HTML page titled {title!r}" if title else "an HTML page"
        raise src.error(
            HtmlInsteadOfDataError,
            f"is {page}, not {src.dist.format}: the server answered a web page (login, error) "
            "instead of the data",
        )


def _gunzipped(src: Source, folder: Path) -> Source:
    """A ``.csv.gz``/``.json.gz``… source as the file it holds, decompressed (bounded) into ``folder``."""
    try:
        data = gunzip_file(src.path)
    except TooLargeError:
        raise src.error(ReadError, limit_message(max_unpacked_bytes())) from None
    except IncompleteError as exc:
        raise src.error(ReadError, f"gzip file: {exc}") from None
    except (zlib.error, EOFError, OSError) as exc:
        raise src.error(ReadError, f"not a valid gzip file ({exc})") from None
    name = src.path.name[:-3] if src.path.name.lower().endswith(".gz") else src.path.name
    inner = folder / (name or "data")
    inner.write_bytes(data)
    return Source(path=inner, dist=src.dist, dataset=src.dataset, label=src.label)


def read(
    path: str | Path, dist: Distribution, dataset: Dataset, *, label: str | None = None
) -> pl.DataFrame | gpd.GeoDataFrame:
    """Read one file of a dataset: parse by ``dist.format``, apply the schema, check the geometry.

    Parameters
    ----------
    path
        The local file (already fetched).
    dist
        The distribution it belongs to: format, encoding, sheet, header_rows, options.
    dataset
        The catalog entry: id, schema, spatial, crs.
    label
        The file name used in messages; default ``path.name``.

    Returns
    -------
    polars.DataFrame or geopandas.GeoDataFrame
        A typed polars frame for tables; a GeoDataFrame for GIS formats and for ``points`` datasets
        (``attrs["repaired_geometries"]``, and ``attrs["missing_coordinates"]`` for points).

    Raises
    ------
    lab.errors.LabError
        ReadError (and its EmptyFile/HtmlInsteadOfData/Encoding/TruncatedFile subclasses),
        SchemaError/MissingColumnError, GeometryError/CRSError/CoordinateError — one line each.
    """
    path = Path(path)
    src = Source(path=path, dist=dist, dataset=dataset, label=label or path.name)
    _check_file(src)
    name = reader_name(src)
    try:
        if name != "raw" and is_gzip(read_head(src.path)):  # a .csv.gz / .json.gz: read what it holds
            with tempfile.TemporaryDirectory(prefix="lab-gz-") as folder:
                inner = _gunzipped(src, Path(folder))
                _check_file(inner)
                return _finish(_parse(inner, name), inner)
        return _finish(_parse(src, name), src)
    except (PermissionError, IsADirectoryError) as exc:  # never a line of the file: only why it is unreadable
        raise src.error(ReadError, f"cannot be read ({exc.strerror or type(exc).__name__})") from None


def _parse(src: Source, name: str) -> pl.DataFrame | gpd.GeoDataFrame:
    if src.dist.format != "HTML":
        _check_not_html(src)
    return REGISTRY[name](src)


def _finish(out: pl.DataFrame | gpd.GeoDataFrame, src: Source) -> pl.DataFrame | gpd.GeoDataFrame:
    dataset = src.dataset
    if not isinstance(out, pl.DataFrame):
        return geo.finish(out, src)
    out = apply_schema(out, dataset.schema, dataset=dataset.id, file=src.label)
    if dataset.spatial.kind == "points":
        return to_points(out, src)
    log.debug("%s: %s: %d rows x %d columns", dataset.id, src.label, out.height, out.width)
    return out
