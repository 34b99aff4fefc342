"""Administrative units of Đà Nẵng, old and new, and a lookup by code or by name.

Three structures matter (codes are GSO's 5-digit commune codes, kept as text):

- ``"2025"``: the 94 units (23 phường, 70 xã, 1 đặc khu) in force since 1 July 2025, polygons from the
  catalog entry ``danang-wards-2025`` (sapnhap.bando.com.vn) or, for the demo, ``demo-wards-approx``.
- ``"2025-01"``: the structure of 1 January – 30 June 2025 (47 Đà Nẵng units + 233 of Quảng Nam), the
  "old" side of the official crosswalk; list from the ``vietnamadminunits`` package (table
  ``admin_units_legacy``), no polygons; the 8 districts as polygons (``danang-districts-2024``).
- ``"2019"``: the 2019–2024 names (56 Đà Nẵng wards, 244 Quảng Nam communes), used by the 2019 census;
  see :mod:`lab.geo.crosswalk` for the hop to ``"2025-01"``.

Codes were reused across structures (new 20242 is Phường Hải Châu, old 20242 Phường Phước Ninh), so a
:class:`UnitIndex` belongs to one structure and a code is only looked up in it.

Examples
--------
>>> import polars as pl
>>> idx = UnitIndex(pl.DataFrame({"ma_xa": ["20242", "20257"],
...                               "ten_xa": ["Phường Hải Châu", "Phường Hòa Cường"],
...                               "loai": ["Phường", "Phường"]}))
>>> idx.get("hai chau").code, idx.get("P. Hoà Cường").code, idx.get("20257").name
('20242', '20257', 'Phường Hòa Cường')
>>> idx.find("Sơn Trà") is None
True
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from lab.errors import GeometryError, LabError, ReadError, SchemaError
from lab.geo.names import TYPE_NAMES, accent_key_expr, place_key_expr, type_key_expr

if TYPE_CHECKING:
    import geopandas as gpd

    from lab.catalog import Catalog

log = logging.getLogger(__name__)

__all__ = [
    "PROVINCE_CODE",
    "QUANG_NAM_CODE",
    "UNITS_2025",
    "UNITS_2025_APPROX",
    "Unit",
    "UnitIndex",
    "UnitNotFoundError",
    "districts_2024",
    "load_units",
    "lookup",
    "repair_report",
    "unit_columns",
    "units_2025",
    "units_2025_01",
]

PROVINCE_CODE = "48"
"""GSO code of Thành phố Đà Nẵng (old and new)."""
QUANG_NAM_CODE = "49"
"""GSO code of the former Tỉnh Quảng Nam (merged into Đà Nẵng on 1 July 2025)."""
UNITS_2025 = "danang-wards-2025"
UNITS_2025_APPROX = "demo-wards-approx"
DISTRICTS_2024 = "danang-districts-2024"

_CODE_COLUMNS = ("ma_xa", "code", "unit_code", "ward_code", "wardCode", "level3_id", "level2_id", "ma")
_NAME_COLUMNS = ("ten_xa", "name", "unit_name", "ward_name", "ward", "ten")
_TYPE_COLUMNS = ("loai", "type", "unit_type", "ward_type", "wardType")


class UnitNotFoundError(LabError):
    """A code or name that matches no unit (or several) of the structure looked in."""


@dataclass(frozen=True)
class Unit:
    """One administrative unit: code, full name (with its type prefix) and type."""

    code: str
    name: str
    type: str | None = None


# ------------------------------------------------------------------------------------------- loading


def load_units(
    dataset: str = UNITS_2025,
    *,
    catalog: Catalog | str | Path | None = None,
    mirror: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Load a polygon dataset of units through :func:`lab.load` (CRS checked, geometries repaired).

    Parameters
    ----------
    dataset
        A catalog id of a polygon dataset (default the real 2025 units).
    catalog, mirror
        As for :func:`lab.load`.

    Returns
    -------
    geopandas.GeoDataFrame
        The units with their source columns; ``attrs`` carries ``repaired_geometries``, ``dataset``,
        ``approximate`` (the demo's Voronoi cells), ``synthetic`` and ``publisher`` (for attribution).
    """
    import geopandas as gpd

    from lab.catalog import as_catalog
    from lab.loader import load

    cat = as_catalog(catalog)
    ds = cat.get(dataset)
    gdf = load(dataset, catalog=cat, mirror=mirror)
    if not isinstance(gdf, gpd.GeoDataFrame) or ds.spatial.kind != "polygons":
        raise SchemaError("is not a polygon dataset: units need polygons", dataset=dataset)
    gdf.attrs.update(
        dataset=dataset,
        approximate=bool(ds.spatial.approximate),
        synthetic=bool(ds.synthetic),
        publisher=ds.publisher,
        landing_page=ds.landing_page,
        license=ds.license,
    )
    return gdf


def units_from_file(path: str | Path) -> gpd.GeoDataFrame:
    """Units from a polygon file given by path (GeoJSON, GeoPackage, zipped shapefile).

    A file without a CRS is taken as EPSG:4326; invalid polygons are repaired (``make_valid``).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    geopandas.GeoDataFrame
        The units; ``attrs["dataset"]`` is the path.

    Raises
    ------
    lab.errors.ReadError
        Not readable as a GIS file, a decompression bomb, no features.
    lab.errors.GeometryError
        Features that are not polygons.
    lab.errors.SchemaError
        No code or name column.
    """
    import geopandas as gpd
    import pyogrio.errors

    from lab.unpack import TooLargeError, check_zip, limit_message, max_unpacked_bytes

    path = Path(path)
    label = path.name
    if path.suffix.lower() == ".zip":
        try:
            check_zip(path)
        except TooLargeError:
            raise ReadError(f"the zip archive {limit_message(max_unpacked_bytes())}", file=label) from None
        except (OSError, ValueError, EOFError) as exc:
            raise ReadError(f"a broken zip archive ({type(exc).__name__})", file=label) from None
    try:
        gdf = gpd.read_file(path, engine="pyogrio", on_invalid="ignore")
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FieldError,
        pyogrio.errors.GeometryError,
        pyogrio.errors.CRSError,
        ValueError,
        IndexError,
        OSError,
    ) as exc:
        cause = (
            "no layer in it" if isinstance(exc, IndexError) else (str(exc).strip().splitlines() or [""])[0]
        )
        cause = cause.replace(str(path), label) or type(exc).__name__
        raise ReadError(
            f"not readable as a units file (GeoJSON, GeoPackage, zipped shapefile): {cause}", file=label
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.empty or gdf.geometry.isna().all():
        raise ReadError("has no polygons: a units file needs polygon features", file=label)
    kinds = set(gdf.geometry.dropna().geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise GeometryError(
            f"units need polygons; the file has {', '.join(sorted(kinds - {'Polygon', 'MultiPolygon'}))}",
            file=label,
        )
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf.loc[invalid, gdf.geometry.name] = gdf.geometry[invalid].make_valid()
    try:
        unit_columns(gdf)
    except SchemaError as exc:
        raise SchemaError(exc.message, file=label) from None
    gdf.attrs.update(dataset=str(path))
    return gdf


def units_2025(
    *,
    approximate: bool = False,
    catalog: Catalog | str | Path | None = None,
    mirror: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """The 94 units since 1 July 2025 (``approximate=True``: the demo portal's Voronoi cells)."""
    return load_units(UNITS_2025_APPROX if approximate else UNITS_2025, catalog=catalog, mirror=mirror)


def districts_2024(
    *, catalog: Catalog | str | Path | None = None, mirror: str | Path | None = None
) -> gpd.GeoDataFrame:
    """The 8 districts of Đà Nẵng before 1 July 2025 (GSO codes 490–498), as polygons."""
    return load_units(DISTRICTS_2024, catalog=catalog, mirror=mirror)


@functools.lru_cache(maxsize=1)
def _vnau_db() -> Path:
    """The package's SQLite file, found without importing the package (its import parses 4 MB of JSON)."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise LabError("the vietnamadminunits package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "dataset.db"
    if not path.is_file():
        raise LabError("the vietnamadminunits package has no data/dataset.db", file=path)
    return path


def read_vnau(query: str, params: Sequence[Any] = ()) -> pl.DataFrame:
    """Run a read-only SQL query on the ``vietnamadminunits`` package database (``dataset.db``)."""
    path = _vnau_db()
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        cur = con.execute(query, tuple(params))
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    return pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String), orient="row")


@functools.lru_cache(maxsize=4)
def units_2025_01(provinces: Sequence[str] = (PROVINCE_CODE, QUANG_NAM_CODE)) -> pl.DataFrame:
    """The units of 1 January – 30 June 2025 (the crosswalk's "old" side), from ``vietnamadminunits``.

    Returns
    -------
    polars.DataFrame
        ``province_code``, ``district_code``, ``district``, ``code``, ``name``, ``type`` and ``aliases``
        (accent-less keys of former names the package knows, e.g. "hoakhe" for Thanh Khê Đông).
    """
    marks = ",".join("?" * len(provinces))
    df = read_vnau(
        "SELECT provinceCode, districtCode, district, wardCode, ward, wardType, wardAlias "
        f"FROM admin_units_legacy WHERE provinceCode IN ({marks}) AND wardCode IS NOT NULL "
        "ORDER BY wardCode",
        provinces,
    )
    return df.select(
        province_code=pl.col("provinceCode"),
        district_code=pl.col("districtCode"),
        district=pl.col("district"),
        code=pl.col("wardCode"),
        name=pl.col("ward"),
        type=pl.col("wardType"),
        aliases=pl.col("wardAlias")
        .str.json_decode(pl.List(pl.String))
        .fill_null(pl.lit([], pl.List(pl.String))),
    )


def repair_report(units: gpd.GeoDataFrame) -> dict[str, Any]:
    """How many geometries the loader repaired and whether any is still invalid.

    Returns
    -------
    dict
        ``units``, ``repaired`` (from ``attrs["repaired_geometries"]``), ``invalid`` (now, should be 0),
        ``empty`` and ``types`` (geometry type counts).
    """
    geoms = units.geometry
    return {
        "units": len(units),
        "repaired": int(units.attrs.get("repaired_geometries", 0)),
        "invalid": int((~geoms.is_valid).sum()),
        "empty": int(geoms.is_empty.sum()),
        "types": {str(k): int(v) for k, v in geoms.geom_type.value_counts().items()},
    }


# -------------------------------------------------------------------------------------------- lookup
def unit_columns(frame: Any, code: str | None = None, name: str | None = None) -> tuple[str, str, str | None]:
    """The code, name and type columns of a units table (``ma_xa``/``ten_xa``/``loai`` and friends).

    Raises
    ------
    SchemaError
        When no code or name column is found (name them with ``code=`` / ``name=``).
    """
    columns = [str(c) for c in frame.columns]
    code = code or next((c for c in _CODE_COLUMNS if c in columns), None)
    name = name or next((c for c in _NAME_COLUMNS if c in columns), None)
    kind = next((c for c in _TYPE_COLUMNS if c in columns), None)
    if code is None or name is None or code not in columns or name not in columns:
        raise SchemaError(
            f"units need a code and a name column (looked for {', '.join(_CODE_COLUMNS)} and "
            f"{', '.join(_NAME_COLUMNS)}; the table has {', '.join(columns)})"
        )
    return code, name, kind


def _to_polars(frame: Any) -> pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame
    table = frame.drop(columns=[frame.geometry.name]) if hasattr(frame, "geometry") else frame
    return pl.from_pandas(table.reset_index(drop=True))


class UnitIndex:
    """Look units up by code or by name within one structure.

    Names match whatever their accents, tone placement, spacing, case or prefix ("P. Hoà Cường",
    "phuong hoa cuong", "HòaCường"); a prefix in the query picks between units of different types
    that share a name. Exact diacritics win over accent-blind matches.

    Parameters
    ----------
    units
        A polars/pandas/GeoPandas table of units.
    code, name
        Its code and name columns (default: detected, see :func:`unit_columns`).
    """

    def __init__(self, units: Any, *, code: str | None = None, name: str | None = None) -> None:
        code_col, name_col, type_col = unit_columns(units, code, name)
        df = _to_polars(units)
        type_expr = pl.col(type_col).cast(pl.String) if type_col else pl.lit(None, dtype=pl.String)
        self.units = df.select(
            code=pl.col(code_col).cast(pl.String),
            name=pl.col(name_col).cast(pl.String),
            type=type_expr,
        ).with_columns(
            tkey=pl.coalesce(type_key_expr(pl.col("name")), type_key_expr(pl.col("type"))),
            akey=accent_key_expr(pl.col("name")),
            pkey=place_key_expr(pl.col("name")),
        )

    def __len__(self) -> int:
        return self.units.height

    def resolve(self, queries: pl.Series | Sequence[Any]) -> pl.DataFrame:
        """Look up many codes or names at once (vectorised).

        Returns
        -------
        polars.DataFrame
            One row per query, in order: ``query``, ``code``, ``name``, ``type`` and ``matched_by``
            (``code``, ``name``, ``name_without_accents``; null when nothing or several units match).
        """
        q = pl.Series("query", list(queries) if not isinstance(queries, pl.Series) else queries)
        frame = q.cast(pl.String).to_frame().with_row_index("_row")
        frame = frame.with_columns(
            _is_code=pl.col("query").str.contains(r"^\s*\d{3,5}\s*$").fill_null(False),
            _code=pl.col("query").str.strip_chars().str.zfill(5),
            tkey=type_key_expr(pl.col("query")),
            akey=accent_key_expr(pl.col("query")),
            pkey=place_key_expr(pl.col("query")),
        )
        units = self.units
        by_code = frame.filter("_is_code").join(
            units.select("code", "name", "type").rename({"code": "_code"}), on="_code", how="inner"
        )
        by_code = by_code.select("_row", code="_code", name="name", type="type", matched_by=pl.lit("code"))
        found = [by_code]
        names = frame.filter(~pl.col("_is_code"))
        for key, label in (("akey", "name"), ("pkey", "name_without_accents")):
            done = pl.concat([f.select("_row") for f in found])
            todo = names.join(done, on="_row", how="anti")
            cand = todo.join(units.select(key, "code", "name", "type", utkey="tkey"), on=key, how="inner")
            # a prefix in the query must agree with the unit's type
            cand = cand.filter(
                pl.col("tkey").is_null() | pl.col("utkey").is_null() | (pl.col("tkey") == pl.col("utkey"))
            )
            unique = cand.filter(pl.len().over("_row") == 1)
            found.append(unique.select("_row", "code", "name", "type", matched_by=pl.lit(label)))
        hits = pl.concat(found)
        return frame.select("_row", "query").join(hits, on="_row", how="left").sort("_row").drop("_row")

    def find(self, query: Any) -> Unit | None:
        """The unit with this code or name, or None (also when the name is ambiguous)."""
        row = self.resolve([None if query is None else str(query)]).row(0, named=True)
        if row["code"] is None:
            return None
        return Unit(row["code"], row["name"], row["type"])

    def get(self, query: Any) -> Unit:
        """Like :meth:`find`, but a miss is a :class:`UnitNotFoundError` naming close candidates."""
        unit = self.find(query)
        if unit is not None:
            return unit
        text = "" if query is None else str(query)
        key = place_key_expr(pl.lit(text))
        close = self.units.filter(pl.col("pkey") == pl.select(key).item())["name"].to_list()
        if close:
            raise UnitNotFoundError(
                f"{text!r} matches several units ({', '.join(close)}): add the type prefix"
            )
        raise UnitNotFoundError(f"no unit with code or name {text!r} among {len(self)} units")

    def type_name(self, key: str | None) -> str | None:
        """The Vietnamese type name of a type key (``"xa"`` → ``"Xã"``)."""
        return TYPE_NAMES.get(key) if key else None


def lookup(query: Any, units: Any = None, **load_kwargs: Any) -> Unit:
    """Look one unit up by code or name (default among the 94 units of 2025).

    Parameters
    ----------
    query
        A code (``"20242"``) or a name (``"P. Hải Châu"``, ``"hai chau"``).
    units
        A units table (any structure); default :func:`units_2025` with ``load_kwargs``.
    """
    table = units if units is not None else units_2025(**load_kwargs)
    return UnitIndex(table).get(query)
