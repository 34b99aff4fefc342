"""The lab's errors: one base class, narrow subclasses, one-line messages.

Every error the lab raises on bad input is a :class:`LabError`. Its message is one line that
names the dataset, the file and the cause (and, where there is one, the fix), so the CLI can print
it without a traceback and a notebook user sees at once what is wrong.

Examples
--------
>>> str(ReadError("looks like an HTML page, not CSV", dataset="census-2019-wards", file="x.csv"))
'census-2019-wards: x.csv: looks like an HTML page, not CSV'
"""

from __future__ import annotations

from pathlib import Path


class LabError(Exception):
    """Base class of every error the lab raises on bad input or a failed step.

    Parameters
    ----------
    message
        What is wrong (and what to do), without the dataset and file names.
    dataset
        The catalog id of the dataset concerned, if any.
    file
        The file, URL or catalog field concerned, if any.
    """

    exit_code: int = 2

    def __init__(self, message: str, *, dataset: str | None = None, file: str | Path | None = None) -> None:
        self.message = " ".join(str(message).split())  # always one line
        self.dataset = dataset
        self.file = str(file) if file is not None else None
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [p for p in (self.dataset, self.file) if p]
        return ": ".join([*parts, self.message])


class CatalogError(LabError):
    """The catalog (``datasets.yaml``) is malformed or names an unknown dataset."""


class UnknownDatasetError(CatalogError):
    """A dataset id that the catalog does not declare."""


class FetchError(LabError):
    """A source could not be fetched (network, HTTP status, CKAN answer)."""


class OfflineError(FetchError):
    """Nothing cached and no way to reach the source (offline, no mirror)."""


class ChecksumError(FetchError):
    """The bytes fetched do not match the declared sha256 or byte size."""


class ReadError(LabError):
    """A file could not be read as its declared format."""


class EncodingError(ReadError):
    """A text file is not in any encoding the lab can decode it as."""


class HtmlInsteadOfDataError(ReadError):
    """A server answered an HTML page (login, error) where data was expected."""


class EmptyFileError(ReadError):
    """The file is empty or has a header and no rows."""


class TruncatedFileError(ReadError):
    """The file ends mid-record (an interrupted download or a cut export)."""


class SchemaError(LabError):
    """The data do not match the dataset's declared schema."""


class MissingColumnError(SchemaError):
    """A required column is absent."""


class GeometryError(LabError):
    """Geometries are broken beyond repair or of the wrong kind."""


class CRSError(GeometryError):
    """The coordinate reference system is missing, wrong or does not fit the coordinates."""


class CoordinateError(GeometryError):
    """Coordinates are swapped, malformed or outside Vietnam."""


class ReportError(LabError):
    """A report's schedule entry, parameters or run is wrong (the run log says which cell failed)."""


class OutputError(LabError):
    """An output cannot be written as asked: a format its extension does not name, a folder, a device or
    a system path instead of a file, or a folder that cannot be written."""
