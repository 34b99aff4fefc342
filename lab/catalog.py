"""The dataset catalog: parse, validate and look up ``datasets.yaml``.

The catalog is DCAT-aligned: a ``catalog`` block (dcat:Catalog) and a list of ``datasets``
(dcat:Dataset), each with ``distributions`` (dcat:Distribution) and a table ``schema``. Its shape is
declared in ``lab/schemas/catalog.schema.json``; its vocabularies (themes, licences, frequencies,
access rights, channels, formats) in ``lab/vocab/vocabularies.yaml``.

:func:`validate` collects *every* problem at once, one :class:`Problem` per line with the entry id
and the field, and suggests the close name for a typo. :func:`load_catalog` validates and returns a
:class:`Catalog`, raising :class:`~lab.errors.CatalogError` with the first problem (and a count)
when it is not valid.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from lab.errors import CatalogError, UnknownDatasetError

log = logging.getLogger(__name__)

DEFAULT_CATALOG = "datasets.yaml"


# --------------------------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Column:
    """One column of a table schema (see the ``column`` definition of the catalog schema)."""

    name: str
    type: str
    source: str | None = None
    required: bool = False
    unique: bool = False
    unit: str | None = None
    decimal: str = "."
    thousands: str | None = None
    format: str | None = None
    timezone: str | None = None
    min: float | None = None
    max: float | None = None
    enum: tuple[Any, ...] | None = None
    title: dict[str, str] | None = None


@dataclass(frozen=True)
class TableSchema:
    """The declared columns of a dataset, its primary key and whether undeclared columns are dropped."""

    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    strict: bool = False

    def column(self, name: str) -> Column | None:
        """Return the column called ``name`` (after renaming), or None."""
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Distribution:
    """One way to get the data (dcat:Distribution): where the bytes are and how to read them."""

    format: str
    title: str | None = None
    download_url: str | None = None
    access_url: str | None = None
    path: str | None = None
    demo: str | None = None
    mirror: str | None = None
    ckan: dict[str, Any] | None = None
    portal: dict[str, Any] | None = None
    media_type: str | None = None
    encoding: str | None = None
    sha256: str | None = None
    byte_size: int | None = None
    license: str | None = None
    sheet: str | int | None = None
    header_rows: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A short name for messages: the file name of whichever location the distribution has."""
        for loc in (self.path, self.demo, self.mirror, self.download_url, self.access_url):
            if loc:
                return loc.rstrip("/").rsplit("/", 1)[-1]
        if self.ckan:
            return f"ckan:{self.ckan.get('package')}"
        if self.portal:
            return f"portal:{self.portal.get('id')}"
        return "(no location)"


@dataclass(frozen=True)
class Spatial:
    """How a dataset is placed on a map: none, points (lon/lat or x/y columns), address, polygons."""

    kind: str = "none"
    lon: str | None = None
    lat: str | None = None
    x: str | None = None
    y: str | None = None
    address: str | None = None
    coverage: str | None = None
    approximate: bool = False
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat (degrees)


@dataclass(frozen=True)
class Dataset:
    """One catalog entry (dcat:Dataset)."""

    id: str
    title: dict[str, str]
    publisher: str
    theme: tuple[str, ...]
    license: str
    frequency: str
    access_rights: str
    distributions: tuple[Distribution, ...]
    description: dict[str, str] | None = None
    keywords: tuple[str, ...] = ()
    issued: date | None = None
    modified: date | None = None
    contact_point: dict[str, str] | None = None
    channels: tuple[str, ...] = ()
    landing_page: str | None = None
    synthetic: bool = False
    portal_id: int | str | None = None
    spatial: Spatial = field(default_factory=Spatial)
    crs: str | None = None
    temporal: dict[str, date] | None = None
    schema: TableSchema | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def title_in(self, lang: str = "vi") -> str:
        """The title in ``lang`` ('vi' or 'en'), falling back to Vietnamese."""
        return self.title.get(lang) or self.title["vi"]


@dataclass(frozen=True)
class Catalog:
    """A parsed, valid catalog: its datasets by id, and the folder relative paths start from."""

    path: Path
    title: dict[str, str]
    datasets: dict[str, Dataset]
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def root(self) -> Path:
        """The folder that holds the catalog file (relative ``path`` distributions start here)."""
        return self.path.parent

    def __contains__(self, dataset_id: object) -> bool:
        return dataset_id in self.datasets

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.datasets.values())

    def __len__(self) -> int:
        return len(self.datasets)

    def get(self, dataset_id: str) -> Dataset:
        """Return the dataset ``dataset_id``; an unknown id raises with the close names."""
        try:
            return self.datasets[dataset_id]
        except KeyError:
            hint = _suggest(dataset_id, self.datasets)
            raise UnknownDatasetError(
                f"not in the catalog{hint}; `lab catalog list` shows the ids",
                dataset=dataset_id,
                file=self.path,
            ) from None


# ------------------------------------------------------------------------------------------ problems
@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in the catalog: which entry, which field, what."""

    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.entry}: {self.field}: {self.message}"


@functools.cache
def vocabularies() -> dict[str, dict[str, Any]]:
    """The controlled vocabularies (``lab/vocab/vocabularies.yaml``), each ``{value: attributes}``."""
    text = resources.files("lab").joinpath("vocab/vocabularies.yaml").read_text(encoding="utf-8")
    return {name: block["values"] for name, block in yaml.safe_load(text).items()}


@functools.cache
def catalog_schema() -> dict[str, Any]:
    """The declared JSON Schema of the catalog file."""
    text = resources.files("lab").joinpath("schemas/catalog.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _suggest(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _entry_of(doc: Any, path: list[Any]) -> tuple[str, str]:
    """Turn a JSON path into (entry id, field path) for messages."""
    if len(path) >= 2 and path[0] == "datasets" and isinstance(path[1], int):
        items = doc.get("datasets") or []
        entry = items[path[1]] if path[1] < len(items) else {}
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        name = str(entry_id) if entry_id else f"datasets[{path[1]}]"
        return name, ".".join(str(p) for p in path[2:]) or "(entry)"
    return "(catalog)", ".".join(str(p) for p in path) or "(top)"


@functools.cache
def _fast_schema_check() -> Any:
    """The catalog schema compiled by fastjsonschema: a yes/no answer in about a millisecond.

    ``jsonschema`` (which lists every problem) costs about a second to import, mostly for the
    URI grammar of its format checkers, so it is imported only when this check fails.
    """
    import fastjsonschema

    return fastjsonschema.compile(catalog_schema(), use_formats=False)


def _schema_problems(doc: Any) -> list[Problem]:
    import fastjsonschema

    try:
        _fast_schema_check()(doc)
    except fastjsonschema.JsonSchemaException:
        pass
    else:
        return []
    import jsonschema

    validator = jsonschema.Draft202012Validator(catalog_schema())
    problems = []
    for err in validator.iter_errors(doc):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            allowed = err.schema.get("properties", {})
            extra = sorted(set(err.instance) - set(allowed))
            for name in extra:
                entry, where = _entry_of(doc, [*path, name])
                problems.append(Problem(entry, where, f"unknown field{_suggest(name, allowed)}"))
            continue
        entry, where = _entry_of(doc, path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else err.message
            problems.append(
                Problem(
                    entry,
                    f"{where}.{missing}" if where != "(entry)" else missing,
                    "required field is missing",
                )
            )
        elif err.validator == "enum":
            problems.append(
                Problem(
                    entry,
                    where,
                    f"{err.instance!r} is not one of "
                    f"{', '.join(map(str, err.validator_value))}"
                    f"{_suggest(err.instance, err.validator_value)}",
                )
            )
        else:
            problems.append(Problem(entry, where, err.message))
    return problems


def _vocab_problem(entry: str, where: str, value: Any, vocab: str) -> Problem | None:
    values = vocabularies()[vocab]
    if value in values:
        return None
    return Problem(entry, where, f"{value!r} is not in the {vocab} vocabulary{_suggest(value, values)}")


def _check_date(entry: str, where: str, value: Any) -> Problem | None:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return Problem(entry, where, f"{value!r} is not a real date (YYYY-MM-DD)")
    return None


def _semantic_problems(doc: dict[str, Any]) -> list[Problem]:
    """Checks a JSON Schema cannot express: vocabularies, unique ids, dates, cross-field rules."""
    problems: list[Problem | None] = []
    seen: dict[str, int] = {}
    for i, ds in enumerate(doc.get("datasets") or []):
        if not isinstance(ds, dict):
            continue
        entry = str(ds.get("id") or f"datasets[{i}]")
        if "id" in ds:
            if ds["id"] in seen:
                problems.append(Problem(entry, "id", f"duplicate id (also entry #{seen[ds['id']] + 1})"))
            seen.setdefault(ds["id"], i)
        for j, theme in enumerate(ds.get("theme") or []):
            problems.append(_vocab_problem(entry, f"theme[{j}]", theme, "themes"))
        for key, vocab in (
            ("license", "licenses"),
            ("frequency", "frequencies"),
            ("access_rights", "access_rights"),
        ):
            if isinstance(ds.get(key), str):
                problems.append(_vocab_problem(entry, key, ds[key], vocab))
        for j, channel in enumerate(ds.get("channels") or []):
            problems.append(_vocab_problem(entry, f"channels[{j}]", channel, "channels"))
        for key in ("issued", "modified"):
            if isinstance(ds.get(key), str):
                problems.append(_check_date(entry, key, ds[key]))
        temporal = ds.get("temporal") or {}
        for key in ("start", "end"):
            if isinstance(temporal.get(key), str):
                problems.append(_check_date(entry, f"temporal.{key}", temporal[key]))
        if (
            isinstance(temporal.get("start"), str)
            and isinstance(temporal.get("end"), str)
            and temporal["start"] > temporal["end"]
        ):
            problems.append(Problem(entry, "temporal", "start is after end"))
        columns = [c.get("name") for c in (ds.get("schema") or {}).get("columns", []) if isinstance(c, dict)]
        problems.extend(_distribution_problems(entry, ds))
        problems.extend(_spatial_problems(entry, ds, columns))
        names_seen: set[str] = set()
        for j, name in enumerate(columns):
            if name in names_seen:
                problems.append(Problem(entry, f"schema.columns[{j}].name", f"duplicate column {name!r}"))
            names_seen.add(name)
        for key in (ds.get("schema") or {}).get("primary_key") or []:
            if key not in columns:
                problems.append(
                    Problem(
                        entry,
                        "schema.primary_key",
                        f"{key!r} is not a declared column{_suggest(key, columns)}",
                    )
                )
    return [p for p in problems if p is not None]


def _distribution_problems(entry: str, ds: dict[str, Any]) -> list[Problem | None]:
    problems: list[Problem | None] = []
    formats = vocabularies()["formats"]
    for j, dist in enumerate(ds.get("distributions") or []):
        if not isinstance(dist, dict):
            continue
        where = f"distributions[{j}]"
        fmt = dist.get("format")
        if isinstance(fmt, str):
            problems.append(_vocab_problem(entry, f"{where}.format", fmt, "formats"))
            media = dist.get("media_type")
            expected = formats.get(fmt, {}).get("media_type")
            if media and expected and media != expected:
                problems.append(
                    Problem(
                        entry, f"{where}.media_type", f"{media!r} does not match format {fmt} ({expected})"
                    )
                )
        if not any(dist.get(k) for k in ("download_url", "path", "demo", "mirror", "ckan", "portal")):
            problems.append(
                Problem(entry, where, "no location: give download_url, path, demo, mirror, ckan or portal")
            )
        if isinstance(dist.get("license"), str):
            problems.append(_vocab_problem(entry, f"{where}.license", dist["license"], "licenses"))
        for key in ("download_url", "access_url"):
            url = dist.get(key)
            if isinstance(url, str) and not url.startswith(("https://", "http://", "file://")):
                problems.append(Problem(entry, f"{where}.{key}", f"{url!r} is not an http(s) or file URL"))
        for key in ("mirror", "demo"):
            rel = dist.get(key)
            if isinstance(rel, str) and not stays_inside(rel):
                problems.append(
                    Problem(
                        entry,
                        f"{where}.{key}",
                        f"{rel!r} leaves the {key} folder: give a relative path without '..'",
                    )
                )
        if dist.get("demo") and not ds.get("synthetic"):
            problems.append(Problem(entry, "synthetic", "a demo distribution must be marked synthetic: true"))
    return problems


def _spatial(block: dict[str, Any]) -> Spatial:
    bbox = block.get("bbox")
    return Spatial(**{**block, "bbox": tuple(float(v) for v in bbox) if bbox else None})


def stays_inside(rel: str) -> bool:
    """True when ``rel`` names a file inside the folder it is relative to (a mirror, the demo portal).

    Examples
    --------
    >>> stays_inside("boundaries/danang-2025.geojson")
    True
    >>> stays_inside("../../etc/passwd"), stays_inside("/etc/passwd"), stays_inside("a/../../b")
    (False, False, False)
    """
    text = rel.replace("\\", "/")
    parts = PurePosixPath(text).parts
    return bool(parts) and not text.startswith(("/", "~")) and ":" not in parts[0] and ".." not in parts


def _spatial_problems(entry: str, ds: dict[str, Any], columns: list[Any]) -> list[Problem | None]:
    spatial = ds.get("spatial") or {}
    kind = spatial.get("kind", "none")
    problems: list[Problem | None] = []
    if kind in ("points", "polygons") and not ds.get("crs"):
        problems.append(Problem(entry, "crs", f"spatial kind {kind!r} needs a crs (e.g. EPSG:4326)"))
    if kind == "points":
        pairs = [("lon", "lat"), ("x", "y")]
        if not any(spatial.get(a) and spatial.get(b) for a, b in pairs):
            problems.append(Problem(entry, "spatial", "points need lon and lat (or x and y) column names"))
        for key in ("lon", "lat", "x", "y"):
            name = spatial.get(key)
            if name and columns and name not in columns:
                problems.append(
                    Problem(
                        entry, f"spatial.{key}", f"{name!r} is not a declared column{_suggest(name, columns)}"
                    )
                )
    bbox = spatial.get("bbox")
    if isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, int | float) for v in bbox):
        lon0, lat0, lon1, lat1 = bbox
        if not (-180 <= lon0 < lon1 <= 180 and -90 <= lat0 < lat1 <= 90):
            problems.append(
                Problem(
                    entry, "spatial.bbox", f"{bbox} is not [min lon, min lat, max lon, max lat] in degrees"
                )
            )
    if kind == "address" and not spatial.get("address"):
        problems.append(Problem(entry, "spatial.address", "address kind needs the address column name"))
    return problems


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe YAML loader that keeps dates as text: the catalog checks them itself, one problem per bad date
    (PyYAML's own date conversion crashes on 2024-02-30)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_catalog_file(path: str | Path) -> dict[str, Any]:
    """Read the YAML of a catalog file, raising :class:`CatalogError` if it is not YAML at all."""
    path = Path(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except FileNotFoundError:
        raise CatalogError(
            "catalog file not found; pass --catalog FILE or set LAB_CATALOG", file=path
        ) from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise CatalogError(f"not valid YAML: {where}{getattr(exc, 'problem', exc)}", file=path) from None
    if not isinstance(doc, dict):
        raise CatalogError("the catalog must be a mapping with 'catalog' and 'datasets'", file=path)
    return doc


def validate(path: str | Path | None = None) -> list[Problem]:
    """Return every problem of the catalog file, sorted by entry; an empty list means valid.

    Parameters
    ----------
    path
        The catalog file; default :func:`default_catalog_path`.
    """
    path = Path(path) if path else default_catalog_path()
    try:
        doc = read_catalog_file(path)
    except CatalogError as exc:
        return [Problem("(catalog)", "(file)", exc.message)]
    return _problems(doc)


def _problems(doc: dict[str, Any]) -> list[Problem]:
    problems = _schema_problems(doc) + _semantic_problems(doc)
    return sorted(set(problems), key=lambda p: (p.entry, p.field, p.message))


def default_catalog_path() -> Path:
    """``$LAB_CATALOG`` if set, else ``datasets.yaml`` of the project (beside the ``lab`` package)."""
    from lab.settings import catalog_file

    env = catalog_file()
    if env:
        return env
    project = Path(__file__).resolve().parent.parent / DEFAULT_CATALOG
    return project if project.exists() else Path.cwd() / DEFAULT_CATALOG


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _build(doc: dict[str, Any], path: Path) -> Catalog:
    datasets = {}
    for ds in doc["datasets"]:
        schema = None
        if ds.get("schema"):
            cols = tuple(
                Column(**{**c, "enum": tuple(c["enum"]) if "enum" in c else None})
                for c in ds["schema"]["columns"]
            )
            schema = TableSchema(
                cols, tuple(ds["schema"].get("primary_key", ())), ds["schema"].get("strict", False)
            )
        temporal = {k: date.fromisoformat(v) for k, v in (ds.get("temporal") or {}).items()} or None
        datasets[ds["id"]] = Dataset(
            id=ds["id"],
            title=ds["title"],
            publisher=ds["publisher"],
            theme=tuple(ds["theme"]),
            license=ds["license"],
            frequency=ds["frequency"],
            access_rights=ds["access_rights"],
            distributions=tuple(Distribution(**d) for d in ds["distributions"]),
            description=ds.get("description"),
            keywords=tuple(ds.get("keywords", ())),
            issued=_date(ds.get("issued")),
            modified=_date(ds.get("modified")),
            contact_point=ds.get("contact_point"),
            channels=tuple(ds.get("channels", ())),
            landing_page=ds.get("landing_page"),
            synthetic=bool(ds.get("synthetic", False)),
            portal_id=ds.get("portal_id"),
            spatial=_spatial(ds.get("spatial", {})),
            crs=ds.get("crs"),
            temporal=temporal,
            schema=schema,
            raw=ds,
        )
    return Catalog(path=path, title=doc["catalog"]["title"], datasets=datasets, meta=doc["catalog"])


def as_catalog(catalog: Catalog | str | Path | None = None) -> Catalog:
    """The one coercion of the lab's entry points: a loaded :class:`Catalog` as it is, a catalog file
    read (:func:`load_catalog`), None the default catalog."""
    return catalog if isinstance(catalog, Catalog) else load_catalog(catalog)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate a catalog file.

    Parameters
    ----------
    path
        The catalog file; default :func:`default_catalog_path`.

    Returns
    -------
    Catalog
        The parsed catalog.

    Raises
    ------
    CatalogError
        If the file has any problem: the message gives the first and how many there are in all
        (``lab catalog validate`` lists them all).
    """
    path = Path(path) if path else default_catalog_path()
    doc = read_catalog_file(path)
    problems = _problems(doc)
    if problems:
        more = f" (and {len(problems) - 1} more: run `lab catalog validate`)" if len(problems) > 1 else ""
        raise CatalogError(f"{problems[0]}{more}", file=path)
    return _build(doc, path.resolve())
