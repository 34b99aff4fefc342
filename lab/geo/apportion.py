"""The apportioning engine of the crosswalks: values of old units shared among new units by edge shares.

An *edge* frame has one row per (old row, new unit) with the old row's number ``_row``, the new unit
``ma_xa`` (and ``new_name``), its ``share`` of the old row (the shares of a row sum to 1), the old row's
``name``, whether the row is ``split``, and the old row's values. :func:`by_unit` sums the shared values
per new unit:

- an integer count is shared by the largest remainders (:func:`integer_shares`): each old row's total is
  kept exactly, and the parts stay integers;
- a decimal count is shared in proportion;
- with a ``weight`` column (rates or means), the weight is moved as a count and each value becomes the
  weighted mean over the parts.

:mod:`lab.geo.crosswalk` builds the edges (names and codes matched, the two hops of 2025 joined); this
module only does the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

__all__ = ["by_unit", "integer_shares"]


def integer_shares(column: str) -> pl.Expr:
    """Integer shares of an integer column, summing exactly to each row's value (largest remainders; ties
    to the smaller new code)."""
    exact = pl.col(column).cast(pl.Float64) * pl.col("share")
    base = exact.floor()
    return (
        base
        + (
            pl.int_range(pl.len()).over("_row", order_by=[(exact - base) * -1, pl.col("ma_xa")])
            < (pl.col(column).cast(pl.Float64) - base.sum().over("_row")).round(0)
        ).cast(pl.Float64)
    ).cast(pl.Int64)


def by_unit(
    edges: pl.DataFrame, schema: Mapping[str, pl.DataType], values: Sequence[str], weight: str | None
) -> pl.DataFrame:
    """The values summed per new unit: ``ma_xa``, ``ten_xa``, the weight (if any), ``values``, ``rows``
    (old rows reaching the unit) and ``split_from`` (the names of the split old rows among them).

    Parameters
    ----------
    edges
        The edge frame (see the module docstring).
    schema
        The old table's schema (integer columns are shared as integers).
    values
        The columns moved (numbers; the caller checks).
    weight
        A column the values are weighted means of, or None for counts.
    """
    full = edges
    moved: list[pl.Expr] = []
    if weight:
        wexpr = (
            integer_shares(weight)
            if schema[weight].is_integer()
            else pl.col(weight).cast(pl.Float64) * pl.col("share")
        )
        full = full.with_columns(
            _w=pl.col(weight).cast(pl.Float64) * pl.col("share"), **{f"_m_{weight}": wexpr}
        )
        moved.append(pl.col(f"_m_{weight}").sum().alias(weight))
        for c in values:
            full = full.with_columns(**{f"_m_{c}": pl.col(c).cast(pl.Float64) * pl.col("_w")})
            moved.append(
                (pl.col(f"_m_{c}").sum() / pl.col("_w").filter(pl.col(c).is_not_null()).sum()).alias(c)
            )
    else:
        for c in values:
            share = (
                integer_shares(c) if schema[c].is_integer() else pl.col(c).cast(pl.Float64) * pl.col("share")
            )
            full = full.with_columns(**{f"_m_{c}": share})
            moved.append(pl.col(f"_m_{c}").sum().alias(c))
    return (
        full.group_by("ma_xa", maintain_order=True)
        .agg(
            *moved,
            ten_xa=pl.col("new_name").first(),
            rows=pl.col("_row").n_unique(),
            split_from=pl.col("name").filter(pl.col("split")).unique().sort(),
        )
        .sort("ma_xa")
        .select("ma_xa", "ten_xa", *([weight] if weight else []), *values, "rows", "split_from")
    )
