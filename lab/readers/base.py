"""The reader registry and what every reader is handed: a :class:`Source`.

A reader is a function ``(Source) -> polars.DataFrame | geopandas.GeoDataFrame`` registered under the
``reader`` names of the formats vocabulary (``lab/vocab/vocabularies.yaml``)::

    @register("csv")
    def read_csv(src: Source) -> pl.DataFrame: ...

Table readers return the frame as parsed (text columns where the format has no types); the schema,
points and geometry checks are applied afterwards by :func:`lab.readers.read`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from lab.catalog import Dataset, Distribution, vocabularies
from lab.errors import LabError, ReadError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["REGISTRY", "Reader", "Source", "check_archive", "reader_name", "register"]

E = TypeVar("E", bound=LabError)


@dataclass(frozen=True)
class Source:
    """One file to read: where it is, how the catalog says to read it, and the name for messages."""

    path: Path
    dist: Distribution
    dataset: Dataset
    label: str

    @property
    def options(self) -> dict[str, Any]:
        """The distribution's reader options (``options:`` in the catalog)."""
        return self.dist.options or {}

    def error(self, cls: type[E], message: str) -> E:
        """An error of class ``cls`` naming this dataset and file."""
        return cls(message, dataset=self.dataset.id, file=self.label)


def check_archive(src: Source) -> None:
    """Refuse a zip archive (zipped shapefile, .xlsx) that would decompress past the lab's limit.

    Raises
    ------
    ReadError
        A decompression bomb (see :mod:`lab.unpack`). A broken archive passes: its reader reports it.
    """
    import zipfile
    import zlib

    from lab.unpack import TooLargeError, check_zip, limit_message, max_unpacked_bytes

    try:
        check_zip(src.path)
    except TooLargeError:
        raise src.error(ReadError, f"the zip archive {limit_message(max_unpacked_bytes())}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, zlib.error):
        return  # a broken archive: the reader says so in its own words


Reader = Callable[[Source], "pl.DataFrame | gpd.GeoDataFrame"]

#: Reader functions by the vocabulary's ``reader`` name.
REGISTRY: dict[str, Reader] = {}


def register(*names: str) -> Callable[[Reader], Reader]:
    """Register the decorated function as the reader of each of ``names``."""

    def deco(fn: Reader) -> Reader:
        for name in names:
            if name in REGISTRY and REGISTRY[name] is not fn:
                raise ValueError(f"reader {name!r} is registered twice")
            REGISTRY[name] = fn
        return fn

    return deco


def reader_name(src: Source) -> str:
    """The registered reader name for the distribution's format, or a :class:`ReadError`."""
    formats = vocabularies()["formats"]
    fmt = src.dist.format
    if fmt not in formats:
        raise src.error(ReadError, f"format {fmt!r} is not in the formats vocabulary ({', '.join(formats)})")
    name = formats[fmt].get("reader")
    if not name:
        raise src.error(ReadError, f"format {fmt} has no reader: the lab cannot read it as a table")
    if name not in REGISTRY:
        raise src.error(ReadError, f"format {fmt}: reader {name!r} is not available")
    return name
