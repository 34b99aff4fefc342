"""Moving ward-level tables from the old administrative structures to the 94 units of July 2025.

Two hops, each a table of edges *old unit → new unit* with a share:

1. **2019 → January 2025** (:func:`hop_2019`): on 1 January 2025 eleven of Đà Nẵng's 56 ward names of
   2019–2024 disappeared (An Hải Tây, An Hải Đông, Bình Hiên, Hòa Khê, Hòa Thuận Đông, Hải Châu I,
   Hải Châu II, Nam Dương, Tam Thuận, Tân Chính, Vĩnh Trung) and two appeared (An Hải Nam, Hải Châu);
   Quảng Nam merged communes too (2020 and 2025). The edges come from the ``vietnamadminunits`` package
   (table ``admin_units_legacy``: each January-2025 unit with the former names it absorbed), plus what
   the package lacks, taken from the National Assembly Standing Committee's 2024 resolution on Đà Nẵng's
   2023–2025 rearrangement: Hải Châu I + Hải Châu II → Phường Hải Châu (:data:`JANUARY_2025_MERGERS`) and
   the part of Hòa Minh moved to Thanh Khê Tây (:data:`PIECES`).
2. **January 2025 → July 2025** (:func:`crosswalk_2025`): the official crosswalk
   (``admin-crosswalk-2025``, from resolution 1659/NQ-UBTVQH15), plus Huyện Hoàng Sa → Đặc khu Hoàng Sa
   (a district without communes, absent from the commune-level file). Where it disagrees with the
   ``truoc_sap_nhap`` lists of the boundary file (:func:`disagreements`), a *partial* edge that the
   boundary file contradicts (the old unit is listed under another new unit only) is dropped and said so:
   Xã Phước Ninh (Quảng Nam) → Phường Hải Châu is an extraction error of the crosswalk.

A unit split between new units gives each part a share: by **area** (default) or by **population**,
from the sizes the resolutions give for the parts (:data:`PIECES`); or by weights you pass. Counts are
re-allocated by the shares (integers stay integers and every row's total is kept exactly, by largest
remainders) and summed per new unit; :func:`to_2025` says which rows were split.

Never join an old and a new table on a code alone: codes were reused (new 20242 is Phường Hải Châu,
old 20242 was Phường Phước Ninh). Names are matched within their structure, with the province and
district when the table has them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from lab.catalog import as_catalog
from lab.errors import LabError, MissingColumnError
from lab.geo import apportion
from lab.geo.names import accent_key_expr, place_key_expr, type_key_expr
from lab.geo.units import PROVINCE_CODE, QUANG_NAM_CODE, units_2025_01

if TYPE_CHECKING:
    import geopandas as gpd

    from lab.catalog import Catalog

log = logging.getLogger(__name__)

__all__ = [
    "JANUARY_2025_MERGERS",
    "PIECES",
    "CrosswalkError",
    "Moved",
    "Piece",
    "crosswalk_2025",
    "disagreements",
    "hop_2019",
    "normalise_structure",
    "population_2025",
    "to_2025",
]

CROSSWALK = "admin-crosswalk-2025"
CENSUS_2019 = "census-2019-wards"
HOANG_SA_DISTRICT = ("498", "Huyện Hoàng Sa", "20333", "Đặc khu Hoàng Sa")
"""Huyện Hoàng Sa had no communes; it became Đặc khu Hoàng Sa (absent from the commune-level file)."""

JANUARY_2025_MERGERS: tuple[tuple[str, str, str, str], ...] = (
    ("Hải Châu I", "Quận Hải Châu", "20236", "Phường Hải Châu"),
    ("Hải Châu II", "Quận Hải Châu", "20236", "Phường Hải Châu"),
)
"""(2019 name, district, January-2025 code, name) pairs that ``vietnamadminunits`` does not list as
aliases. Source: the 2024 UBTVQH15 resolution on Đà Nẵng's 2023–2025 commune-level rearrangement
(effective 1 January 2025): "nhập 2 phường Hải Châu I và Hải Châu II thành phường Hải Châu"."""


@dataclass(frozen=True)
class Piece:
    """A part of an old unit that went to another new unit than the rest, with its size.

    ``area_km2``/``population`` are the part's size, ``rest_area_km2``/``rest_population`` the size of
    what stayed (or went to the unit's other new units). Shares are ``part / (part + rest)``.
    """

    step: str
    province: str
    old_name: str
    old_code: str | None
    new_code: str
    new_name: str
    area_km2: float
    population: int
    rest_area_km2: float
    rest_population: int
    source: str


PIECES: tuple[Piece, ...] = (
    Piece(
        step="2025-01",
        province=PROVINCE_CODE,
        old_name="Phường Hòa Minh",
        old_code=None,
        new_code="20206",
        new_name="Phường Thanh Khê Tây",
        area_km2=1.03,
        population=15_220,
        rest_area_km2=6.65,
        rest_population=43_060,
        source="UBTVQH15 resolution of 2024 on Đà Nẵng's 2023–2025 rearrangement (effective 2025-01-01): "
        "1.03 km² and 15,220 people of Phường Hòa Minh moved to Phường Thanh Khê Tây; Hòa Minh kept "
        "6.65 km² and 43,060 people",
    ),
    Piece(
        step="2025",
        province=PROVINCE_CODE,
        old_name="Xã Hòa Liên",
        old_code="20296",
        new_code="20194",
        new_name="Phường Hải Vân",
        area_km2=8.4,
        population=1_342,
        rest_area_km2=31.63,
        rest_population=14_338,
        source="Resolution 1659/NQ-UBTVQH15 (2025): 8.4 km² and 1,342 people of Xã Hòa Liên joined Xã Hòa "
        "Bắc (→ Phường Hải Vân), the rest went to Phường Liên Chiểu; the rest's size is Hòa Liên's "
        "2019 census size (40.03 km² GADM, 15,680 people) minus the part",
    ),
)
"""Split parts whose size the resolutions state."""

_STRUCTURES = {"2019": "2019", "2025-01": "2025-01", "2025": "2025"}


class CrosswalkError(LabError):
    """A table cannot be moved between structures (unknown structure, columns, or no crosswalk)."""


def normalise_structure(value: str | int) -> str:
    """``"2019"`` (the 2019–2024 names: any year 2019–2024), ``"2025-01"`` or ``"2025"`` (July 2025).

    Examples
    --------
    >>> normalise_structure(2024), normalise_structure("2025-01"), normalise_structure("2025-07")
    ('2019', '2025-01', '2025')
    """
    text = str(value).strip()
    if text in ("2019", "2020", "2021", "2022", "2023", "2024"):
        return "2019"
    if text in ("2025-01", "2025-1", "2025-03"):
        return "2025-01"
    if text in ("2025", "2025-07", "2025-7", "2026"):
        return "2025"
    raise CrosswalkError(
        f"structure {value!r} is not one of 2019…2024 (the 2019–2024 names), 2025-01 (January 2025) "
        "or 2025 (since 1 July 2025)"
    )


# ------------------------------------------------------------------------------------ keys & matching
def _province_code_expr(expr: pl.Expr) -> pl.Expr:
    key = place_key_expr(expr.cast(pl.String))
    return (
        pl.when(key.is_in(["danang", "48"]))
        .then(pl.lit(PROVINCE_CODE))
        .when(key.is_in(["quangnam", "49"]))
        .then(pl.lit(QUANG_NAM_CODE))
        .otherwise(None)
    )


@functools.lru_cache(maxsize=1)
def _legacy_keys() -> pl.DataFrame:
    """January-2025 units with every key they answer to: own name (accented and plain), the former names
    ``vietnamadminunits`` lists as aliases, and :data:`JANUARY_2025_MERGERS`; ``via`` says which."""
    units = units_2025_01()
    base = units.with_columns(dkey=place_key_expr(pl.col("district")), tkey=type_key_expr(pl.col("name")))
    own = base.with_columns(
        akey=accent_key_expr(pl.col("name")), pkey=place_key_expr(pl.col("name")), via=pl.lit("name")
    )
    aliases = (
        base.explode("aliases")
        .filter(pl.col("aliases").is_not_null())
        .with_columns(
            akey=pl.lit(None, dtype=pl.String),
            pkey=place_key_expr(pl.col("aliases")),
            tkey=pl.lit(None, dtype=pl.String),
            via=pl.lit("former name, vietnamadminunits"),
        )
    )
    extra = pl.DataFrame(
        [(PROVINCE_CODE, old, code) for old, _, code, _ in JANUARY_2025_MERGERS],
        schema=["province_code", "old", "code"],
        orient="row",
    ).join(units.select("code", "name", "type", "district_code", "district"), on="code", how="left")
    extra = extra.select(
        "province_code",
        "district_code",
        "district",
        "code",
        "name",
        "type",
        dkey=place_key_expr(pl.col("district")),
        tkey=pl.lit(None, dtype=pl.String),
        akey=accent_key_expr(pl.col("old")),
        pkey=place_key_expr(pl.col("old")),
        via=pl.lit("former name, resolution of January 2025"),
    )
    cols = [
        "province_code",
        "district_code",
        "district",
        "code",
        "name",
        "type",
        "dkey",
        "tkey",
        "akey",
        "pkey",
        "via",
    ]
    return pl.concat([own.select(cols), aliases.select(cols), extra.select(cols)]).unique(maintain_order=True)


def _match(rows: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """Match rows (``_row``, ``prov``, ``dkey``, ``tkey``, ``akey``, ``pkey``) to unit keys, in passes from
    the most to the least specific; a pass only takes rows with exactly one candidate unit."""
    found: list[pl.DataFrame] = []
    passes = (
        (["dkey", "akey"], "name in district"),
        (["dkey", "pkey"], "name in district, without accents"),
        (["akey"], "name in province"),
        (["pkey"], "name in province, without accents"),
    )
    for on, label in passes:
        done = (
            pl.concat([f.select("_row") for f in found])
            if found
            else pl.DataFrame({"_row": []}, schema={"_row": pl.UInt32})
        )
        todo = rows.join(done, on="_row", how="anti").filter(
            pl.all_horizontal(pl.col(c).is_not_null() for c in on)
        )
        cand = todo.join(keys.rename({"tkey": "utkey"}), on=on, how="inner")
        cand = cand.filter(
            (pl.col("prov").is_null() | (pl.col("prov") == pl.col("province_code")))
            & (pl.col("tkey").is_null() | pl.col("utkey").is_null() | (pl.col("tkey") == pl.col("utkey")))
        ).unique(["_row", "code"], keep="first", maintain_order=True)
        unique = cand.filter(pl.len().over("_row") == 1)
        found.append(
            unique.select(
                "_row",
                "code",
                "name",
                "province_code",
                matched_by=pl.when(pl.col("via") == "name")
                .then(pl.lit(label))
                .otherwise(pl.lit(label) + pl.lit(" (") + pl.col("via") + pl.lit(")")),
            )
        )
    return pl.concat(found)


def _row_keys(table: pl.DataFrame, ward: str, district: str | None, province: str | None) -> pl.DataFrame:
    for col in (ward, district, province):
        if col and col not in table.columns:
            raise MissingColumnError(
                f"column {col!r} is not in the table (it has {', '.join(table.columns)})"
            )
    return table.with_row_index("_row").select(
        "_row",
        _name=pl.col(ward).cast(pl.String),
        prov=_province_code_expr(pl.col(province)) if province else pl.lit(None, dtype=pl.String),
        dkey=place_key_expr(pl.col(district).cast(pl.String)) if district else pl.lit(None, dtype=pl.String),
        tkey=type_key_expr(pl.col(ward).cast(pl.String)),
        akey=accent_key_expr(pl.col(ward).cast(pl.String)),
        pkey=place_key_expr(pl.col(ward).cast(pl.String)),
    )


def _piece_shares(step: str) -> pl.DataFrame:
    """The split parts of one step: old unit (code, name key) → new code, area share, population share."""
    schema = {
        "province": pl.String,
        "old_name": pl.String,
        "old_code": pl.String,
        "new_code": pl.String,
        "area_km2": pl.Float64,
        "population": pl.Float64,
        "rest_area_km2": pl.Float64,
        "rest_population": pl.Float64,
        "source": pl.String,
    }
    rows = [{k: getattr(p, k) for k in schema} for p in PIECES if p.step == step]
    df = pl.DataFrame(rows, schema=schema)
    return df.select(
        province_code="province",
        old_code="old_code",
        old_key=place_key_expr(pl.col("old_name")),
        piece_code="new_code",
        piece_area=pl.col("area_km2") / (pl.col("area_km2") + pl.col("rest_area_km2")),
        piece_population=pl.col("population") / (pl.col("population") + pl.col("rest_population")),
        piece_source="source",
    )


# --------------------------------------------------------------------------------------- hop 2019
def hop_2019(
    table: pl.DataFrame, *, ward: str, district: str | None = None, province: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Edges from each row of a table keyed on 2019–2024 names to the units of January 2025.

    Parameters
    ----------
    table
        One row per 2019–2024 unit (or any rows naming one).
    ward, district, province
        Its columns with the unit's name, and (recommended) its district and province names
        (``"ĐàNẵng"``/``"Đà Nẵng"``/``"48"``, ``"Quảng Nam"``/``"49"``).

    Returns
    -------
    tuple of polars.DataFrame
        ``edges`` (``_row``, ``code`` and ``name`` of the January-2025 unit, ``share_area``,
        ``share_population``, ``matched_by``, ``split``) and ``unmatched`` (``_row``, the row's name).
    """
    rows = _row_keys(table, ward, district, province)
    matched = _match(rows, _legacy_keys())
    edges = matched.with_columns(share_area=pl.lit(1.0), share_population=pl.lit(1.0), split=pl.lit(False))
    # parts moved elsewhere in January 2025 (Hòa Minh → Thanh Khê Tây)
    pieces = _piece_shares("2025-01")
    if pieces.height:
        named = rows.select("_row", "pkey").join(matched.select("_row", "province_code"), on="_row")
        hit = named.join(pieces, left_on=["province_code", "pkey"], right_on=["province_code", "old_key"])
        if hit.height:
            names = units_2025_01().select(piece_code="code", piece_name="name")
            hit = hit.join(names, on="piece_code", how="left")
            moved = hit.select(
                "_row",
                code="piece_code",
                name="piece_name",
                province_code="province_code",
                matched_by=pl.lit("part moved in January 2025"),
                share_area="piece_area",
                share_population="piece_population",
                split=pl.lit(True),
            )
            rest = edges.join(
                hit.select("_row", "piece_area", "piece_population"), on="_row", how="inner"
            ).select(
                "_row",
                "code",
                "name",
                "province_code",
                "matched_by",
                share_area=1.0 - pl.col("piece_area"),
                share_population=1.0 - pl.col("piece_population"),
                split=pl.lit(True),
            )
            edges = pl.concat([edges.join(hit.select("_row"), on="_row", how="anti"), rest, moved])
    unmatched = rows.join(edges.select("_row").unique(), on="_row", how="anti").select("_row", name="_name")
    if unmatched.height:
        log.warning(
            "%d of %d rows match no unit of January 2025 (e.g. %r)",
            unmatched.height,
            rows.height,
            unmatched["name"][0],
        )
    return edges.sort("_row", "code"), unmatched


# ------------------------------------------------------------------------------ crosswalk July 2025


def _crosswalk_raw(catalog: Catalog | str | Path | None, mirror: str | Path | None) -> pl.DataFrame:
    from lab.loader import load

    cw = load(CROSSWALK, catalog=as_catalog(catalog), mirror=mirror)
    if not isinstance(cw, pl.DataFrame):
        raise CrosswalkError("is not a table", dataset=CROSSWALK)
    hs_old, hs_old_name, hs_new, hs_new_name = HOANG_SA_DISTRICT
    hoang_sa = pl.DataFrame(
        {
            "old_level1_id": [PROVINCE_CODE],
            "old_province_name": ["Thành phố Đà Nẵng"],
            "old_ward_code": [hs_old],
            "old_ward_name": [hs_old_name],
            "new_ward_code": [hs_new],
            "new_ward_name": [hs_new_name],
            "merge_type": ["full"],
            "n_new_units_for_old_ward": [1],
        }
    )
    return pl.concat([cw, hoang_sa], how="diagonal_relaxed")


def _bando_lists(units: gpd.GeoDataFrame) -> pl.DataFrame:
    """The boundary file's ``truoc_sap_nhap`` lists, one row per (new unit, old unit named)."""
    from lab.geo.units import unit_columns

    code, name, _ = unit_columns(units)
    if "truoc_sap_nhap" not in units.columns:
        raise CrosswalkError("the units have no truoc_sap_nhap column (use the real danang-wards-2025)")
    df = pl.from_pandas(units[[code, name, "truoc_sap_nhap"]].reset_index(drop=True)).rename(
        {code: "new_code", name: "new_name"}
    )
    df = df.with_columns(old=pl.col("truoc_sap_nhap").str.split(",")).explode("old")
    df = df.with_columns(
        note=pl.col("old").str.extract(r"\((.*)\)"),
        old=pl.col("old").str.replace(r"\(.*\)", "").str.strip_chars(),
    )
    unchanged = place_key_expr(pl.col("old")) == "giunguyen"
    df = df.with_columns(
        old=pl.when(unchanged).then(pl.col("new_name")).otherwise(pl.col("old")),
        note=pl.when(unchanged).then(pl.lit("giữ nguyên")).otherwise(pl.col("note")),
    )
    return df.select("new_code", "new_name", "old", "note").with_columns(
        key=pl.concat_str([type_key_expr(pl.col("old")), place_key_expr(pl.col("old"))], separator=":")
    )


def _crosswalk_keys(cw: pl.DataFrame) -> pl.DataFrame:
    """Every key an old unit of the crosswalk answers to: its own name and the package's name/aliases."""
    legacy = units_2025_01().select(
        old_ward_code="code",
        legacy_name="name",
        legacy_type=type_key_expr(pl.col("name")),
        aliases="aliases",
    )
    edges = cw.select("old_ward_code", "old_ward_name", "new_ward_code").unique()
    own = edges.with_columns(
        key=pl.concat_str(
            [type_key_expr(pl.col("old_ward_name")), place_key_expr(pl.col("old_ward_name"))], separator=":"
        )
    )
    with_legacy = edges.join(legacy, on="old_ward_code", how="inner")
    named = with_legacy.with_columns(
        key=pl.concat_str([pl.col("legacy_type"), place_key_expr(pl.col("legacy_name"))], separator=":")
    )
    aliased = (
        with_legacy.explode("aliases")
        .filter(pl.col("aliases").is_not_null())
        .with_columns(
            key=pl.concat_str([pl.col("legacy_type"), place_key_expr(pl.col("aliases"))], separator=":")
        )
    )
    cols = ["old_ward_code", "old_ward_name", "new_ward_code", "key"]
    return pl.concat([own.select(cols), named.select(cols), aliased.select(cols)]).unique()


def _key_expr(column: str) -> pl.Expr:
    return pl.concat_str([type_key_expr(pl.col(column)), place_key_expr(pl.col(column))], separator=":")


# long: one comparison, four cases (missing, extra, renamed, recoded), each a few lines
def disagreements(crosswalk: pl.DataFrame, units: gpd.GeoDataFrame) -> pl.DataFrame:
    """Where the crosswalk and the boundary file's ``truoc_sap_nhap`` lists disagree about a new unit.

    Parameters
    ----------
    crosswalk
        The crosswalk as :func:`lab.load` returns ``admin-crosswalk-2025``.
    units
        The real 2025 units (``danang-wards-2025``), with ``truoc_sap_nhap``.

    Returns
    -------
    polars.DataFrame
        One row per disagreement: ``new_code``, ``new_name``, ``old_code`` (crosswalk side),
        ``old_name_crosswalk``, ``old_name_bando``, ``kind`` and ``detail``. Kinds:

        - ``spelling``: the same old unit (matched by its code through ``vietnamadminunits``), written
          differently;
        - ``only_crosswalk`` / ``only_bando``: one source lists the old unit under this new unit, the
          other does not;
        - ``partial_disputed``: a *partial* crosswalk edge the boundary file contradicts (it lists the old
          unit only under the crosswalk's other new unit): :func:`crosswalk_2025` drops it;
        - ``partial``: an old unit split between new units (informational, with the boundary file's note).
    """
    bando = _bando_lists(units)
    keys = _crosswalk_keys(crosswalk)
    edges = crosswalk.select(
        "old_ward_code", "old_ward_name", "new_ward_code", "new_ward_name", "merge_type"
    ).unique(maintain_order=True)
    pairs = (
        bando.join(keys, left_on=["new_code", "key"], right_on=["new_ward_code", "key"], how="inner")
        .unique(["new_code", "old", "old_ward_code"])
        .join(
            edges.select("old_ward_code", "new_ward_code", "merge_type"),
            left_on=["old_ward_code", "new_code"],
            right_on=["old_ward_code", "new_ward_code"],
        )
    )
    spelling = pairs.filter(pl.col("key") != _key_expr("old_ward_name")).select(
        "new_code",
        "new_name",
        old_code="old_ward_code",
        old_name_crosswalk="old_ward_name",
        old_name_bando="old",
        kind=pl.lit("spelling"),
        detail=pl.lit("the same unit (matched by its code through vietnamadminunits), written differently"),
    )
    # where the boundary file lists each old unit, and where the crosswalk sends it
    listed = (
        keys.select("old_ward_code", "key")
        .unique()
        .join(bando.select("key", listed_code="new_code"), on="key")
        .group_by("old_ward_code")
        .agg(listed=pl.col("listed_code").unique().sort())
    )
    sent = edges.group_by("old_ward_code").agg(sent=pl.col("new_ward_code").unique().sort())
    flagged = (
        edges.join(
            pairs.select("old_ward_code", new_ward_code="new_code"),
            on=["old_ward_code", "new_ward_code"],
            how="anti",
        )
        .join(listed, on="old_ward_code", how="left")
        .join(sent, on="old_ward_code", how="left")
    )
    disputed = (
        (pl.col("merge_type") == "partial")
        & pl.col("listed").is_not_null()
        & (pl.col("listed").list.set_difference(pl.col("sent")).list.len() == 0)
    )
    only_cw = flagged.select(
        new_code="new_ward_code",
        new_name="new_ward_name",
        old_code="old_ward_code",
        old_name_crosswalk="old_ward_name",
        old_name_bando=pl.lit(None, dtype=pl.String),
        kind=pl.when(disputed).then(pl.lit("partial_disputed")).otherwise(pl.lit("only_crosswalk")),
        detail=pl.when(disputed)
        .then(
            pl.lit("partial in the crosswalk, but the boundary file lists it only under ")
            + pl.col("listed").list.join(", ")
            + pl.lit(": edge dropped")
        )
        .when(pl.col("listed").is_not_null())
        .then(pl.lit("the boundary file lists it under ") + pl.col("listed").list.join(", "))
        .otherwise(pl.lit("the boundary file does not list it under any new unit")),
    )
    dropped = only_cw.filter(pl.col("kind") == "partial_disputed").select("old_code", dropped_to="new_code")
    only_bando = bando.join(pairs.select("new_code", "old"), on=["new_code", "old"], how="anti").select(
        "new_code",
        "new_name",
        old_code=pl.lit(None, dtype=pl.String),
        old_name_crosswalk=pl.lit(None, dtype=pl.String),
        old_name_bando="old",
        kind=pl.lit("only_bando"),
        detail=pl.lit("listed by the boundary file, not by the crosswalk"),
    )
    partial = (
        pairs.filter(pl.col("merge_type") == "partial")
        .join(dropped, left_on="old_ward_code", right_on="old_code", how="left")
        .select(
            "new_code",
            "new_name",
            old_code="old_ward_code",
            old_name_crosswalk="old_ward_name",
            old_name_bando="old",
            kind=pl.lit("partial"),
            detail=pl.when(pl.col("dropped_to").is_not_null())
            .then(pl.lit("whole once the disputed edge to ") + pl.col("dropped_to") + pl.lit(" is dropped"))
            .otherwise(
                pl.lit("split between new units")
                + pl.when(pl.col("note").is_not_null())
                .then(pl.lit(" (boundary file: ") + pl.col("note") + pl.lit(")"))
                .otherwise(pl.lit(""))
            ),
        )
    )
    names = pl.from_pandas(units[["ma_xa", "ten_xa"]].reset_index(drop=True)).rename(
        {"ma_xa": "new_code", "ten_xa": "new_name"}
    )
    result = (
        pl.concat([spelling, only_cw, only_bando, partial])
        .drop("new_name")
        .join(names, on="new_code", how="left")
    )
    return result.select(
        "new_code", "new_name", "old_code", "old_name_crosswalk", "old_name_bando", "kind", "detail"
    ).sort("new_code", "kind", "old_code", nulls_last=True)


# long: the crosswalk's corrections are listed inline, each with its resolution
def crosswalk_2025(
    *,
    correct: bool = True,
    units: gpd.GeoDataFrame | None = None,
    catalog: Catalog | str | Path | None = None,
    mirror: str | Path | None = None,
) -> pl.DataFrame:
    """Edges from the units of January 2025 to the 94 units of July 2025, with split shares.

    Parameters
    ----------
    correct
        Drop the partial edges the boundary file contradicts (``partial_disputed`` in
        :func:`disagreements`); needs the real 2025 units.
    units
        The real 2025 units (default: loaded from ``danang-wards-2025`` when ``correct``); a split unit whose
        parts' sizes no resolution gives is shared in proportion to its new units' areas (EPSG:5899).
    catalog, mirror
        As for :func:`lab.load`.

    Returns
    -------
    polars.DataFrame
        ``old_code``, ``old_name``, ``old_province``, ``new_code``, ``new_name``, ``split`` (the old unit
        goes to several new units), ``share_area``, ``share_population``, ``share_source``. Hoàng Sa
        (district 498, no communes) → 20333 is included.
    """
    cat = as_catalog(catalog)
    raw = _crosswalk_raw(cat, mirror)
    edges = raw
    if correct:
        if units is None:
            from lab.geo.units import units_2025

            units = units_2025(catalog=cat, mirror=mirror)
        plain = raw.filter(pl.col("old_ward_code") != HOANG_SA_DISTRICT[0])
        dropped = disagreements(plain, units).filter(pl.col("kind") == "partial_disputed")
        if dropped.height:
            log.info("crosswalk: dropped %d disputed partial edge(s): %s", dropped.height, dropped.rows())
            edges = raw.join(
                dropped.select(old_ward_code="old_code", new_ward_code="new_code"),
                on=["old_ward_code", "new_ward_code"],
                how="anti",
            )
    edges = edges.select(
        old_code="old_ward_code",
        old_name="old_ward_name",
        old_province="old_level1_id",
        new_code="new_ward_code",
        new_name="new_ward_name",
    ).unique(maintain_order=True)
    edges = edges.with_columns(n=pl.len().over("old_code"))
    pieces = _piece_shares("2025").select(
        old_code="old_code",
        new_code="piece_code",
        p_area="piece_area",
        p_pop="piece_population",
        p_src="piece_source",
    )
    edges = edges.join(pieces, on=["old_code", "new_code"], how="left")
    # the rest of a split unit with a known part goes to its other new units, equally if several
    known = edges.group_by("old_code").agg(
        k_area=pl.col("p_area").sum(),
        k_pop=pl.col("p_pop").sum(),
        k_n=pl.col("p_area").is_not_null().sum(),
        k_src=pl.col("p_src").drop_nulls().first(),
    )
    edges = edges.join(known, on="old_code", how="left")
    # parts of unknown size: shared in proportion to the new units' areas (EPSG:5899), else equally
    if units is not None:
        from lab.crs import areas_km2
        from lab.geo.units import unit_columns

        ucode, _, _ = unit_columns(units)
        sizes = pl.DataFrame({"new_code": units[ucode].astype(str).tolist(), "_km2": areas_km2(units)})
        edges = edges.join(sizes, on="new_code", how="left")
    else:
        edges = edges.with_columns(_km2=pl.lit(None, dtype=pl.Float64))
    fallback = (
        pl.when(pl.col("_km2").sum().over("old_code") > 0)
        .then(pl.col("_km2").fill_null(0.0) / pl.col("_km2").sum().over("old_code"))
        .otherwise(1.0 / pl.col("n"))
    )
    rest_n = pl.col("n") - pl.col("k_n")
    edges = edges.with_columns(
        split=pl.col("n") > 1,
        share_area=pl.when(pl.col("p_area").is_not_null())
        .then(pl.col("p_area"))
        .when(pl.col("k_n") > 0)
        .then((1.0 - pl.col("k_area")) / rest_n)
        .otherwise(fallback),
        share_population=pl.when(pl.col("p_pop").is_not_null())
        .then(pl.col("p_pop"))
        .when(pl.col("k_n") > 0)
        .then((1.0 - pl.col("k_pop")) / rest_n)
        .otherwise(fallback),
        share_source=pl.when(pl.col("n") == 1)
        .then(pl.lit("whole"))
        .when(pl.col("k_n") > 0)
        .then(pl.col("k_src"))
        .otherwise(pl.lit("no size known for the parts: shared by the new units' areas")),
    )
    unknown = edges.filter(pl.col("split") & (pl.col("k_n") == 0))
    if unknown.height:
        log.warning(
            "crosswalk: %d split unit(s) without known part sizes, shared by the new units' areas",
            unknown["old_code"].n_unique(),
        )
    return edges.select(
        "old_code",
        "old_name",
        "old_province",
        "new_code",
        "new_name",
        "split",
        "share_area",
        "share_population",
        "share_source",
    )


# --------------------------------------------------------------------------------------------- move
@dataclass
class Moved:
    """A table moved to the units of July 2025 (:func:`to_2025`).

    Attributes
    ----------
    table
        One row per new unit that received something: ``ma_xa``, ``ten_xa``, the value columns,
        ``rows`` (input rows contributing) and ``split_from`` (names of contributing rows that were
        split between new units; empty when none).
    edges
        Every input row → new unit edge with its ``share``.
    split
        The input rows that were split: their name, the new units and the shares.
    unmatched
        Input rows that match no old unit (their values are not in ``table``).
    totals
        Per value column: ``in`` (all input rows), ``matched`` and ``out`` (equal to ``matched`` for
        counts).
    method
        How split units were shared (``area``, ``population`` or ``weights``).
    """

    table: pl.DataFrame
    edges: pl.DataFrame
    split: pl.DataFrame
    unmatched: pl.DataFrame
    totals: dict[str, dict[str, float | None]] = field(default_factory=dict)
    method: str = "area"
    source: str = "2019"

    def summary(self) -> dict[str, Any]:
        """Counts and totals for the command line's JSON."""
        return {
            "from": self.source,
            "to": "2025",
            "rows": int(self.edges["_row"].n_unique()) + self.unmatched.height,
            "matched_rows": int(self.edges["_row"].n_unique()),
            "unmatched_rows": self.unmatched.height,
            "units": self.table.height,
            "split_rows": self.split["name"].to_list() if self.split.height else [],
            "split_method": self.method,
            "totals": self.totals,
        }


def _edges_2025_01(
    table: pl.DataFrame, ward: str | None, code: str | None, district: str | None, province: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows of a January-2025 table → January-2025 units (by code when given, else by name)."""
    rows = table.with_row_index("_row")
    legacy = units_2025_01()
    if code:
        hit = rows.select("_row", code=pl.col(code).cast(pl.String).str.strip_chars().str.zfill(5)).join(
            legacy.select("code", "name", "province_code"), on="code", how="inner"
        )
        edges = hit.with_columns(matched_by=pl.lit("code"))
        if ward:  # codes were reused: the name must agree
            check = rows.select("_row", _given=place_key_expr(pl.col(ward).cast(pl.String))).join(
                edges, on="_row"
            )
            bad = check.filter(pl.col("_given") != place_key_expr(pl.col("name")))
            if bad.height:
                log.warning(
                    "%d rows whose code names another unit than their name (e.g. row %d)",
                    bad.height,
                    bad["_row"][0] + 1,
                )
                edges = edges.join(bad.select("_row"), on="_row", how="anti")
    else:
        if not ward:
            raise CrosswalkError("name the unit column (ward=...) or the code column (code=...)")
        keys = _legacy_keys().filter(pl.col("via") == "name")  # own names only: no former names
        edges = _match(_row_keys(table, ward, district, province), keys)
    edges = edges.select(
        "_row",
        "code",
        "name",
        "province_code",
        "matched_by",
        share_area=pl.lit(1.0),
        share_population=pl.lit(1.0),
        split=pl.lit(False),
    )
    name_col = ward or code
    unmatched = rows.join(edges.select("_row"), on="_row", how="anti").select(
        "_row", name=pl.col(name_col).cast(pl.String)
    )
    return edges, unmatched


def _guess(table: pl.DataFrame, candidates: Sequence[str]) -> str | None:
    return next((c for c in candidates if c in table.columns), None)


def _split_shares(
    cw: pl.DataFrame, first: pl.DataFrame, split: str | pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """The share of each hop (``share_first``: 2019 → January 2025; ``share_cw``: → July 2025) by the split
    method, and the method's name."""
    if isinstance(split, pl.DataFrame):
        method = "weights"
        w = split.select(
            pl.col("old_code").cast(pl.String),
            pl.col("new_code").cast(pl.String),
            pl.col("weight").cast(pl.Float64),
        )
        w = w.with_columns(w_share=pl.col("weight") / pl.col("weight").sum().over("old_code"))
        cw = cw.join(
            w.select("old_code", "new_code", "w_share"), on=["old_code", "new_code"], how="left"
        ).with_columns(share_cw=pl.coalesce("w_share", "share_area"))
        first = first.with_columns(share_first=pl.col("share_area"))
    elif split in ("area", "population"):
        method = split
        cw = cw.with_columns(share_cw=pl.col(f"share_{split}"))
        first = first.with_columns(share_first=pl.col(f"share_{split}"))
    else:
        raise CrosswalkError(f"split {split!r} is not 'area', 'population' or a weights frame")
    return cw, first, method


def _through_crosswalk(
    first: pl.DataFrame, cw: pl.DataFrame, table: pl.DataFrame, unmatched: pl.DataFrame, name_col: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows' January-2025 edges joined to the crosswalk; rows reaching a unit the crosswalk does not
    list join the unmatched ones."""
    edges = first.select(
        "_row",
        old_code="code",
        old_name="name",
        split_first="split",
        share_first="share_first",
        matched_by="matched_by",
    ).join(
        cw.select("old_code", "new_code", "new_name", split_cw="split", share_cw="share_cw"),
        on="old_code",
        how="left",
    )
    lost = edges.filter(pl.col("new_code").is_null())
    if lost.height:
        log.warning(
            "%d rows reach January-2025 units the crosswalk does not list (%s)",
            lost["_row"].n_unique(),
            ", ".join(sorted(set(lost["old_code"]))),
        )
        unmatched = pl.concat(
            [
                unmatched,
                table.with_row_index("_row")
                .join(lost.select("_row").unique(), on="_row")
                .select("_row", name=pl.col(name_col).cast(pl.String)),
            ]
        )
        edges = edges.filter(pl.col("new_code").is_not_null())
    return edges, unmatched


def to_2025(
    table: pl.DataFrame,
    values: Sequence[str] | str,
    *,
    source: str | int = "2019",
    ward: str | None = None,
    district: str | None = None,
    province: str | None = None,
    code: str | None = None,
    weight: str | None = None,
    split: str | pl.DataFrame = "area",
    crosswalk: pl.DataFrame | None = None,
    catalog: Catalog | str | Path | None = None,
    mirror: str | Path | None = None,
) -> Moved:
    """Move a ward-level table to the 94 units of July 2025.

    Parameters
    ----------
    table
        One row per old unit (``source`` structure), e.g. the 2019 census.
    values
        The columns to move. Counts (the default) are re-allocated by the split shares and summed;
        integer columns stay integers and each row's total is kept exactly.
    source
        The table's structure: ``"2019"`` (or any year 2019–2024: the 2019–2024 names), ``"2025-01"``.
    ward, district, province
        Name columns (default: guessed: ``ward``/``ten_xa``/…, ``district``, ``city``/``province``).
    code
        For a ``"2025-01"`` table, its unit-code column (checked against ``ward`` when both are given).
    weight
        Treat ``values`` as rates or means weighted by this column (e.g. ``pop_density`` weighted by
        ``total``): the new value is the weighted mean over the parts, and the weight column is moved as a
        count.
    split
        How a unit split between new units is shared: ``"area"`` (default), ``"population"`` (the sizes
        the resolutions give for the parts, :data:`PIECES`), or a frame ``old_code`` (January-2025 code),
        ``new_code``, ``weight`` of your own (normalised per old unit).
    crosswalk
        The January 2025 → July 2025 edges (default :func:`crosswalk_2025`).
    catalog, mirror
        As for :func:`lab.load` (the crosswalk is a real source: it needs the cache or a mirror).

    Returns
    -------
    Moved
        The moved table, the edges, the split rows, the unmatched rows and the totals.

    Raises
    ------
    CrosswalkError
        Unknown structure or split method, or no name/code column.
    """
    structure = normalise_structure(source)
    if structure == "2025":
        raise CrosswalkError("the table is already in the structure of July 2025")
    cols = [values] if isinstance(values, str) else list(values)
    for c in [*cols, *([weight] if weight else [])]:
        if c not in table.columns:
            raise MissingColumnError(
                f"value column {c!r} is not in the table (it has {', '.join(table.columns)})"
            )
    ward = ward or (
        None
        if code
        else _guess(table, ("ward", "ten_xa", "ward_name", "old_ward_name", "phuong_xa", "name", "ten"))
    )
    district = district or _guess(table, ("district", "district_name", "quan_huyen", "huyen"))
    province = province or _guess(table, ("city", "province", "province_name", "tinh", "tinh_thanh"))
    if ward is None and code is None:
        raise CrosswalkError("no unit name column found: name it with ward=... (or code=... for 2025-01)")
    if structure == "2019":
        first, unmatched = hop_2019(table, ward=ward or "", district=district, province=province)
    else:
        first, unmatched = _edges_2025_01(table, ward, code, district, province)
    cw = crosswalk if crosswalk is not None else crosswalk_2025(catalog=as_catalog(catalog), mirror=mirror)

    cw, first, method = _split_shares(cw, first, split)

    edges, unmatched = _through_crosswalk(first, cw, table, unmatched, ward or code)
    edges = edges.with_columns(share=pl.col("share_first") * pl.col("share_cw"), ma_xa=pl.col("new_code"))
    edges = edges.with_columns(split=pl.len().over("_row") > 1)
    name_col = ward or code
    data = table.with_row_index("_row").select(
        "_row", *cols, *([weight] if weight else []), name=pl.col(name_col).cast(pl.String)
    )
    full = edges.join(data, on="_row", how="left")

    for c in cols:
        if not weight and not table.schema[c].is_numeric():
            raise CrosswalkError(f"value column {c!r} is {table.schema[c]}, not a number")
    out = apportion.by_unit(full, table.schema, cols, weight)
    split_rows = (
        full.filter(pl.col("split"))
        .group_by("_row", maintain_order=True)
        .agg(
            name=pl.col("name").first(),
            old_code=pl.col("old_code").unique().sort(),
            new_code=pl.col("ma_xa"),
            new_name=pl.col("new_name"),
            share=pl.col("share"),
        )
        .sort("_row")
    )
    totals: dict[str, dict[str, float | None]] = {}
    matched_rows = data.join(edges.select("_row").unique(), on="_row")
    for c in ([weight] if weight else []) + ([] if weight else cols):
        totals[c] = {
            "in": _num(data[c].sum()),
            "matched": _num(matched_rows[c].sum()),
            "out": _num(out[c].sum()),
        }
    if unmatched.height:
        log.warning(
            "to_2025: %d of %d rows were not moved (no matching unit)", unmatched.height, table.height
        )
    return Moved(
        table=out,
        edges=full.select(
            "_row", "name", "old_code", "old_name", "matched_by", "ma_xa", "new_name", "share", "split"
        ),
        split=split_rows,
        unmatched=unmatched.sort("_row"),
        totals=totals,
        method=method,
        source=structure,
    )


def _num(value: Any) -> float | None:
    if value is None:
        return None
    f = float(value)
    return int(f) if f.is_integer() else f


def population_2025(
    *,
    split: str = "population",
    provinces: Sequence[str] | None = None,
    crosswalk: pl.DataFrame | None = None,
    catalog: Catalog | str | Path | None = None,
    mirror: str | Path | None = None,
) -> Moved:
    """The 2019 census (``census-2019-wards``) moved to the 94 units of July 2025.

    Parameters
    ----------
    split
        ``"population"`` (default: the resolutions' counts of people in the split parts) or ``"area"``.
    provinces
        Only these rows of the census (``"ĐàNẵng"``, ``"QuảngNam"``); default all (2,630,122 people).
    crosswalk
        The January 2025 → July 2025 edges (default :func:`crosswalk_2025`).
    catalog, mirror
        As for :func:`lab.load` (the census is a real source: it needs the cache or a mirror).

    Returns
    -------
    Moved
        ``table`` has ``ma_xa``, ``ten_xa``, ``total``, ``urban``, ``rural`` per new unit.
    """
    from lab.loader import load

    cat = as_catalog(catalog)
    census = load(CENSUS_2019, catalog=cat, mirror=mirror)
    if not isinstance(census, pl.DataFrame):
        raise CrosswalkError("is not a table", dataset=CENSUS_2019)
    if provinces:
        keys = [place_key_expr(pl.lit(p)) for p in provinces]
        wanted = [pl.select(k).item() for k in keys]
        census = census.filter(place_key_expr(pl.col("city")).is_in(wanted))
    return to_2025(
        census,
        ["total", "urban", "rural"],
        source="2019",
        ward="ward",
        district="district",
        province="city",
        split=split,
        crosswalk=crosswalk,
        catalog=cat,
        mirror=mirror,
    )
