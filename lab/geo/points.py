"""Points from tables: coordinates in any common form, VN-2000 grids, and addresses.

- Decimal degrees with a dot or a decimal comma (``108,2208``), degrees-minutes-seconds
  (``16°04'12.3"N``, ``108 12 30.5 E``, ``108d12m30s``), degrees and decimal minutes (``16°4.205'``);
  every form is parsed by one polars expression (:func:`coordinate_expr`).
- Swapped columns (latitude in the longitude column) are detected: when most rows fit Vietnam only as
  (lat, lon), the columns are swapped and ``attrs["swapped"]`` says so.
- VN-2000 grid coordinates (metres; EPSG:5899 for Đà Nẵng, TM-3 107°45') are recognised by their size
  and transformed with the pinned datum shift; ``attrs["transformation"]`` records it
  (:func:`lab.crs.transformation_record`).
- Rows with no usable coordinates are kept with a null geometry and a ``point_problem``
  (``no_coordinates``, ``unparseable_coordinates``, ``looks_swapped``, ``outside_vietnam``): nothing is
  dropped silently.
  Where a table has addresses, :func:`units_from_addresses` finds the unit through ``vietnamadminunits``.

Examples
--------
>>> import polars as pl
>>> df = pl.DataFrame({"v": ["108,2208", "16°04'12.3\\"N", "108 12 30 E", "16°4.5'", "x", None]})
>>> [None if v is None else round(v, 5) for v in df.select(coordinate_expr(pl.col("v"))).to_series()]
[108.2208, 16.07008, 108.20833, 16.075, None, None]
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from lab.crs import LOCAL_CRS, WGS84, transformation_record, transformer
from lab.errors import CoordinateError, MissingColumnError
from lab.readers.spatial import VIETNAM_BBOX

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

__all__ = [
    "POINT_PROBLEMS",
    "coordinate_expr",
    "looks_like_vn2000",
    "points_from_table",
    "units_from_addresses",
]

POINT_PROBLEMS = ("no_coordinates", "unparseable_coordinates", "looks_swapped", "outside_vietnam")

_NUM = r"(\d+(?:\.\d+)?)"
_HEMI = r"([NSEWĐBT])"
# hemisphere? degrees [°º˚d:] minutes? ['’′m:] seconds? ["”″s]? hemisphere?
_DMS = (
    rf"^{_HEMI}?\s*(-)?\s*{_NUM}\s*(?:[°º˚]|d|độ|:|\s)?\s*"
    rf"(?:{_NUM}\s*(?:['’′]|m|phút|:|\s)?\s*)?"
    rf"(?:{_NUM}\s*(?:\"|”|″|''|s|giây)?\s*)?{_HEMI}?$"
)
_NEGATIVE = ("S", "W", "T")  # south, west, Tây (west)


def coordinate_expr(expr: pl.Expr) -> pl.Expr:
    """Parse one coordinate column (any form above) to decimal degrees, null when unparseable.

    Minutes and seconds must be below 60; ``S``, ``W`` and ``T`` (Tây) make the value negative.
    Numeric columns pass through as Float64.
    """
    text = (
        expr.cast(pl.String)
        .str.normalize("NFC")
        .str.strip_chars()
        .str.replace_all(r"(\d),(\d)", "${1}.${2}")
        .str.replace_all(r"\s+", " ")
    )
    g = text.str.extract_groups(_DMS)
    deg = g.struct.field("3").cast(pl.Float64)
    minutes = g.struct.field("4").cast(pl.Float64)
    seconds = g.struct.field("5").cast(pl.Float64)
    hemi = pl.coalesce(g.struct.field("1"), g.struct.field("6"))
    value = deg + minutes.fill_null(0.0) / 60.0 + seconds.fill_null(0.0) / 3600.0
    negative = g.struct.field("2").is_not_null() | hemi.is_in(list(_NEGATIVE)).fill_null(False)
    ok = (
        (minutes.fill_null(0.0) < 60.0)
        & (seconds.fill_null(0.0) < 60.0)
        & (seconds.is_null() | minutes.is_not_null())
    )
    return pl.when(ok).then(pl.when(negative).then(-value).otherwise(value)).otherwise(None)


def _parse(df: pl.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Values and a mask of "a value was given but could not be parsed"."""
    if column not in df.columns:
        raise MissingColumnError(
            f"coordinate column {column!r} is not in the table (it has {', '.join(df.columns)})"
        )
    col = pl.col(column)
    if df.schema[column].is_numeric():
        out = df.select(v=col.cast(pl.Float64), bad=pl.lit(False))
    else:
        given = col.cast(pl.String).str.strip_chars().fill_null("") != ""
        out = df.select(v=coordinate_expr(col), bad=given & coordinate_expr(col).is_null())
    values = out["v"].fill_nan(None).to_numpy().astype("float64")
    return values, out["bad"].to_numpy()


def _inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    lon0, lat0, lon1, lat1 = VIETNAM_BBOX
    with np.errstate(invalid="ignore"):
        return (x >= lon0) & (x <= lon1) & (y >= lat0) & (y <= lat1)


def looks_like_vn2000(x: np.ndarray, y: np.ndarray) -> bool:
    """True when most finite coordinates look like VN-2000 TM-3 metres (easting 0.1–0.9 M, northing
    0.8–2.7 M) rather than degrees."""
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return False
    with np.errstate(invalid="ignore"):
        fits = (x[ok] > 100_000) & (x[ok] < 900_000) & (y[ok] > 800_000) & (y[ok] < 2_700_000)
    return bool(fits.mean() > 0.5)


def points_from_table(
    table: pl.DataFrame,
    lon: str,
    lat: str,
    *,
    crs: str | None = None,
    detect_swap: bool = True,
) -> gpd.GeoDataFrame:
    """A point GeoDataFrame (EPSG:4326) from a table's coordinate columns, every row kept.

    Parameters
    ----------
    table
        The rows (their columns are kept as they are).
    lon, lat
        The longitude and latitude columns (or easting and northing for VN-2000).
    crs
        The coordinates' CRS; default: degrees (EPSG:4326), or EPSG:5899 when the values look like
        VN-2000 metres. VN-2000 is transformed to WGS 84 with the pinned EPSG:6960 shift.
    detect_swap
        Swap the columns when most rows fit Vietnam only as (lat, lon).

    Returns
    -------
    geopandas.GeoDataFrame
        The table's columns, ``point_problem`` (null, ``no_coordinates``, ``unparseable_coordinates``,
        ``looks_swapped`` (this row fits Vietnam only as lat, lon) or ``outside_vietnam``) and the
        geometry (null where there is a problem). ``attrs``: ``crs_in``, ``swapped``, ``transformation``
        (for VN-2000 input) and ``problems`` (counts).
    """
    import geopandas as gpd
    import shapely

    x, bad_x = _parse(table, lon)
    y, bad_y = _parse(table, lat)
    attrs: dict[str, Any] = {"swapped": False, "transformation": None}
    projected = crs is not None and not _crs_is_geographic(crs)
    if crs is None and looks_like_vn2000(np.where(np.isfinite(x), x, np.nan), y):
        crs, projected = LOCAL_CRS, True
        log.info("coordinates look like VN-2000 metres: reading them as %s", LOCAL_CRS)
    elif crs is None and detect_swap and looks_like_vn2000(y, x):
        crs, projected = LOCAL_CRS, True
        x, y = y, x
        attrs["swapped"] = True
        log.warning("easting and northing look swapped (%s holds northings): swapped them", lon)
    crs = crs or WGS84
    attrs["crs_in"] = crs
    if projected:
        tr = transformer(crs, WGS84)
        with np.errstate(invalid="ignore"):
            x, y = tr.transform(x, y)
        x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
        attrs["transformation"] = transformation_record(crs, WGS84)
    elif detect_swap:
        fits, swapped = _inside(x, y), _inside(y, x)
        n = int((np.isfinite(x) & np.isfinite(y)).sum())
        if n and swapped.sum() > fits.sum() and swapped.sum() * 2 >= n:
            log.warning(
                "%s and %s look swapped (%d of %d rows fit Vietnam only as lat, lon): swapped them",
                lon,
                lat,
                int(swapped.sum()),
                n,
            )
            x, y = y, x
            attrs["swapped"] = True
    missing = ~(np.isfinite(x) & np.isfinite(y))
    problem = np.full(len(x), None, dtype=object)
    problem[missing] = "no_coordinates"
    problem[(bad_x | bad_y)] = "unparseable_coordinates"
    outside = ~missing & ~_inside(x, y)
    problem[outside] = "outside_vietnam"
    problem[outside & _inside(y, x)] = "looks_swapped"  # this row only: reported, not fixed
    good = np.equal(problem, None)
    geoms = np.full(len(x), None, dtype=object)
    geoms[good] = shapely.points(x[good], y[good])
    frame = table.to_pandas()
    frame["point_problem"] = problem
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=WGS84, index=frame.index), crs=WGS84)
    counts = {p: int(np.equal(problem, p).sum()) for p in POINT_PROBLEMS}
    attrs["problems"] = counts
    gdf.attrs.update(attrs)
    if not good.all():
        log.warning(
            "%d of %d rows have no usable point: %s",
            int((~good).sum()),
            len(x),
            {k: v for k, v in counts.items() if v},
        )
    return gdf


def _crs_is_geographic(crs: Any) -> bool:
    from pyproj import CRS

    return bool(CRS.from_user_input(crs).is_geographic)


# -------------------------------------------------------------------------------------------- addresses
def _province_keys() -> pl.DataFrame:
    """Every province name key the ``vietnamadminunits`` database knows (34 since 2025, 63 before)."""
    from lab.geo.names import place_key_expr
    from lab.geo.units import read_vnau

    df = read_vnau(
        "SELECT DISTINCT province, provinceShort, provinceCode FROM admin_units UNION "
        "SELECT DISTINCT province, provinceShort, provinceCode FROM admin_units_legacy"
    )
    return pl.concat(
        [
            df.select(key=place_key_expr(pl.col("province")), code=pl.col("provinceCode")),
            df.select(key=place_key_expr(pl.col("provinceShort")), code=pl.col("provinceCode")),
        ]
    ).unique("key", keep="first", maintain_order=True)


def units_from_addresses(
    addresses: pl.Series | list[str | None],
    *,
    province: str = "Thành phố Đà Nẵng",
    legacy: bool = False,
) -> pl.DataFrame:
    """The unit each Vietnamese address names, through ``vietnamadminunits`` (its offline parser).

    Each *distinct* address is parsed once with ``parse_address`` (the package's converter, which calls a
    geocoder, is never used). An address whose last part names no province gets ``province`` appended,
    so "Xã Tân Hiệp, Hội An" is not read as the Tân Hiệp of another province; one that names another
    province is reported as such.

    Parameters
    ----------
    addresses
        One address per row.
    province
        The province assumed when an address names none (Đà Nẵng; Quảng Nam counts as Đà Nẵng).
    legacy
        Parse the pre-July-2025 form (63 provinces, with districts) instead of the current one.

    Returns
    -------
    polars.DataFrame
        One row per address, in order: ``address``, ``unit_code``, ``unit_name``, ``province_code`` and
        ``reason`` (null, ``no_address``, ``other_province`` or ``no_unit_found``).
    """
    from tqdm.auto import tqdm
    from vietnamadminunits import ParseMode, parse_address

    from lab.geo.names import place_key_expr

    series = (
        addresses if isinstance(addresses, pl.Series) else pl.Series("address", addresses, dtype=pl.String)
    )
    series = series.cast(pl.String).rename("address")
    wanted = _province_code(province)
    home = {wanted, "49"} if wanted == "48" else {wanted}
    distinct = (
        series.drop_nulls()
        .unique(maintain_order=True)
        .to_frame()
        .filter(pl.col("address").str.strip_chars() != "")
        .with_columns(last=place_key_expr(pl.col("address").str.split(",").list.last()))
        .join(_province_keys(), left_on="last", right_on="key", how="left")
        .with_columns(
            query=pl.when(pl.col("code").is_null() | pl.col("code").is_in(sorted(c for c in home if c)))
            .then(pl.col("address") + pl.lit(f", {province}"))
            .otherwise(pl.col("address"))
        )
    )
    at_home = distinct.filter(pl.col("code").is_null() | pl.col("code").is_in(sorted(c for c in home if c)))
    direct = _prefixed_units(at_home["address"], wanted) if not legacy and wanted else None
    if direct is not None and direct.height:
        distinct = distinct.join(direct.select("address"), on="address", how="anti")
    mode = ParseMode.LEGACY if legacy else ParseMode.FROM_2025
    level = 3 if legacy else 2
    rows = (
        []
        if direct is None
        else list(direct.select("address", "unit_code", "unit_name", "province_code").rows())
    )
    queries = distinct.select("address", "query").rows()
    for text, query in tqdm(queries, desc="addresses", disable=len(queries) < 2000, leave=False):
        try:  # one call per distinct address: the package parses one string at a time
            unit = parse_address(query, mode=mode, level=level, keep_street=False)
        except (ValueError, KeyError, AttributeError, TypeError) as exc:
            log.debug("vietnamadminunits could not parse %r: %s", text, exc)
            rows.append((text, None, None, None))
            continue
        rows.append((text, unit.ward_code, unit.ward, unit.province_code))
    parsed = pl.DataFrame(
        rows,
        schema={
            "address": pl.String,
            "unit_code": pl.String,
            "unit_name": pl.String,
            "province_code": pl.String,
        },
        orient="row",
    )
    out = (
        series.to_frame()
        .with_row_index("_row")
        .join(parsed, on="address", how="left")
        .sort("_row")
        .drop("_row")
    )
    other = pl.col("province_code").is_not_null() & ~pl.col("province_code").is_in(
        sorted(c for c in home if c)
    )
    return out.with_columns(
        unit_code=pl.when(other).then(None).otherwise(pl.col("unit_code")),
        unit_name=pl.when(other).then(None).otherwise(pl.col("unit_name")),
        reason=pl.when(pl.col("address").is_null() | (pl.col("address").str.strip_chars() == ""))
        .then(pl.lit("no_address"))
        .when(other)
        .then(pl.lit("other_province"))
        .when(pl.col("unit_code").is_null())
        .then(pl.lit("no_unit_found"))
        .otherwise(None),
    )


def _prefixed_units(addresses: pl.Series, province_code: str) -> pl.DataFrame:
    """Addresses with a part that is a unit's full name with its type ("Xã Tân Hiệp"): the first such
    part from the left wins (vectorised; the rest go to the package's parser)."""
    from lab.geo.names import type_key_expr
    from lab.geo.units import UnitIndex, read_vnau

    units = read_vnau(
        "SELECT wardCode AS code, ward AS name, wardType AS type FROM admin_units WHERE provinceCode = ?",
        (province_code,),
    )
    parts = (
        addresses.to_frame()
        .with_columns(part=pl.col("address").str.split(","))
        .with_columns(pos=pl.int_ranges(pl.col("part").list.len()))
        .explode("part", "pos")
        .with_columns(part=pl.col("part").str.strip_chars())
        .filter(type_key_expr(pl.col("part")).is_in(["phuong", "xa", "dackhu", "thitran"]))
    )
    if not parts.height:
        return pl.DataFrame(
            schema={
                "address": pl.String,
                "unit_code": pl.String,
                "unit_name": pl.String,
                "province_code": pl.String,
            }
        )
    hits = UnitIndex(units, code="code", name="name").resolve(parts["part"])
    found = pl.concat(
        [parts.select("address", "pos"), hits.select(unit_code="code", unit_name="name")], how="horizontal"
    )
    return (
        found.filter(pl.col("unit_code").is_not_null())
        .sort("address", "pos")
        .unique("address", keep="first", maintain_order=True)
        .select("address", "unit_code", "unit_name", province_code=pl.lit(province_code))
    )


def _province_code(province: str) -> str | None:
    from lab.geo.names import place_key_expr

    key = pl.select(place_key_expr(pl.lit(province))).item()
    hit = _province_keys().filter(pl.col("key") == key)
    return hit["code"][0] if hit.height else None


def check_coordinates(gdf: gpd.GeoDataFrame) -> None:
    """Raise :class:`CoordinateError` when no row has a usable point (a whole column is wrong)."""
    if len(gdf) and gdf.geometry.isna().all():
        problems = {k: v for k, v in gdf.attrs.get("problems", {}).items() if v}
        raise CoordinateError(
            f"no row has a usable point ({problems}): check the coordinate columns and their CRS"
        )
