"""lab.schema.apply_schema: renaming, normalising, casting and checking against a declared schema."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

import polars as pl
import pytest

from lab.catalog import Column, TableSchema
from lab.errors import MissingColumnError, SchemaError
from lab.schema import apply_schema, number_style


def run(df: pl.DataFrame, *columns: Column, strict: bool = False) -> pl.DataFrame:
    return apply_schema(df, TableSchema(tuple(columns), strict=strict), dataset="ds", file="f.csv")


def fails(exc_type: type[Exception], df: pl.DataFrame, *columns: Column) -> str:
    with pytest.raises(exc_type) as info:
        run(df, *columns)
    assert type(info.value) is exc_type
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith("ds: f.csv: ")
    return text


# ------------------------------------------------------------------------------------ names, strings
def test_rename_source_and_declared_order_then_extras_as_text() -> None:
    df = pl.DataFrame({"extra": [1, 2], "Tổng số": ["5", "6"], "ten": ["a", "b"]})
    out = run(df, Column("ten", "string"), Column("total", "integer", source="Tổng số"))
    assert out.columns == ["ten", "total", "extra"]
    assert out["extra"].dtype == pl.String
    assert out["total"].to_list() == [5, 6]


def test_strict_drops_undeclared_columns() -> None:
    df = pl.DataFrame({"a": ["1"], "b": ["x"]})
    assert run(df, Column("a", "integer"), strict=True).columns == ["a"]


def test_strings_are_nfc_and_blank_is_null() -> None:
    df = pl.DataFrame({"name": [unicodedata.normalize("NFD", "Hòa Vang"), "", "  ", "N/A"]})
    out = run(df, Column("name", "string"))
    assert out["name"].to_list() == ["Hòa Vang", None, None, "N/A"]  # N/A is only null for typed columns


def test_header_names_are_stripped_and_nfc() -> None:
    df = pl.DataFrame({unicodedata.normalize("NFD", " Dân số "): ["1"]})
    assert run(df, Column("dan_so", "integer", source="Dân số"))["dan_so"].to_list() == [1]


def test_case_insensitive_header_match() -> None:
    df = pl.DataFrame({"Ward_ID": ["A1"]})
    assert run(df, Column("ward_id", "code", required=True)).columns == ["ward_id"]


def test_no_schema_only_normalises() -> None:
    df = pl.DataFrame({"a": [unicodedata.normalize("NFD", "Đà Nẵng"), ""], "n": [1, 2]})
    out = apply_schema(df, None, dataset="ds", file="f")
    assert out["a"].to_list() == ["Đà Nẵng", None]
    assert out["n"].dtype == pl.Int64


def test_absent_optional_column_is_added_as_typed_nulls() -> None:
    out = run(pl.DataFrame({"a": ["1"]}), Column("a", "integer"), Column("b", "number"))
    assert out.schema["b"] == pl.Float64
    assert out["b"].to_list() == [None]


# -------------------------------------------------------------------------------------------- codes
def test_code_keeps_leading_zeros_and_text() -> None:
    df = pl.DataFrame({"c": ["020242", " 048 ", "N/A", "VNM.19.2.3_1"]})
    assert run(df, Column("c", "code"))["c"].to_list() == ["020242", "048", None, "VNM.19.2.3_1"]


def test_code_from_numbers() -> None:
    df = pl.DataFrame({"i": [20242, 490], "f": [20242.0, 490.0]})
    out = run(df, Column("i", "code"), Column("f", "code"))
    assert out["i"].to_list() == ["20242", "490"]
    assert out["f"].to_list() == ["20242", "490"]


# ------------------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    ("values", "kind", "expected"),
    [
        (["18.5 km/h", "3.7 km/h"], "number", [18.5, 3.7]),
        (["83%", "100%"], "number", [83.0, 100.0]),
        (["20.0°C", "-1.5°C"], "number", [20.0, -1.5]),
        (["1.134.310 người", "56"], "integer", [1134310, 56]),
        (["1.134.310", "1.495.812"], "integer", [1134310, 1495812]),
        (["12,5", "3"], "number", [12.5, 3.0]),
        (["1.234,5", "7"], "number", [1234.5, 7.0]),
        (["1,234.5", "7"], "number", [1234.5, 7.0]),
        (["1,234,567", "8"], "integer", [1234567, 8]),
        (["11160.0", "7477.0", ""], "integer", [11160, 7477, None]),
        (["1 134 310", "2\u00a0000"], "integer", [1134310, 2000]),
        (["1.5e3"], "number", [1500.0]),
        (["1.500"], "integer", [1500]),
        (["N/A", "-", "—", "n/a", "NA"], "number", [None] * 5),
    ],
)
def test_numbers_with_units_and_separators(values: list[str], kind: str, expected: list[object]) -> None:
    assert run(pl.DataFrame({"v": values}), Column("v", kind))["v"].to_list() == expected


def test_declared_separators_win_over_detection() -> None:
    df = pl.DataFrame({"v": ["1.234", "2.500"]})
    assert run(df, Column("v", "number"))["v"].to_list() == [1.234, 2.5]  # ambiguous: dot decimal
    declared = Column("v", "number", thousands=".", decimal=",")
    assert run(df, declared)["v"].to_list() == [1234.0, 2500.0]
    assert run(pl.DataFrame({"v": ["3,5"]}), Column("v", "number", decimal=","))["v"].to_list() == [3.5]


def test_number_style_is_detected_per_column() -> None:
    df = pl.DataFrame({"a": ["1.134.310", "20"], "b": ["11160.0", "3.5"]})
    out = run(df, Column("a", "integer"), Column("b", "number"))
    assert out["a"].to_list() == [1134310, 20]
    assert out["b"].to_list() == [11160.0, 3.5]
    assert number_style(pl.Series(["1,5", "2,25"])) == (".", ",")


def test_typed_numbers_pass_through() -> None:
    df = pl.DataFrame({"i": [1, 2], "f": [1.0, 2.0], "x": [1.5, 2.0]})
    out = run(df, Column("i", "integer"), Column("f", "integer"), Column("x", "number"))
    assert out.schema["i"] == out.schema["f"] == pl.Int64
    assert out["f"].to_list() == [1, 2]


def test_non_integral_value_in_integer_column_fails() -> None:
    msg = fails(SchemaError, pl.DataFrame({"n": ["1", "2", "2.5"]}), Column("n", "integer"))
    assert "'n'" in msg and "'2.5'" in msg and "row 3" in msg


def test_bad_number_names_column_value_and_row() -> None:
    msg = fails(SchemaError, pl.DataFrame({"aqi": ["58", "x58", "oops", "N/A"]}), Column("aqi", "integer"))
    assert "column 'aqi'" in msg and "'x58'" in msg and "row 2" in msg and "2 values" in msg


# ------------------------------------------------------------------------------- booleans and dates
def test_booleans() -> None:
    df = pl.DataFrame({"b": ["true", "False", "1", "0", "có", "Không", "yes", "NO", ""]})
    out = run(df, Column("b", "boolean"))["b"].to_list()
    assert out == [True, False, True, False, True, False, True, False, None]
    fails(SchemaError, pl.DataFrame({"b": ["maybe"]}), Column("b", "boolean"))


def test_dates_iso_and_vietnamese_styles() -> None:
    df = pl.DataFrame({"d": ["2025-07-01", "01/07/2025", "01-07-2025", None]})
    out = run(df, Column("d", "date"))["d"].to_list()
    assert out == [date(2025, 7, 1)] * 3 + [None]


def test_date_with_declared_format() -> None:
    df = pl.DataFrame({"d": ["07/01/2025"]})
    assert run(df, Column("d", "date", format="%m/%d/%Y"))["d"].to_list() == [date(2025, 7, 1)]
    fails(SchemaError, pl.DataFrame({"d": ["31/02/2025"]}), Column("d", "date"))


def test_datetime_keeps_the_instant_in_the_declared_zone() -> None:
    df = pl.DataFrame(
        {"t": ["2025-02-05T22:01:17.266247+07:00", "2025-02-05T15:01:17.266247Z", "2025-02-05 22:01"]}
    )
    out = run(df, Column("t", "datetime", timezone="Asia/Ho_Chi_Minh"))["t"]
    assert out.dtype == pl.Datetime("us", "Asia/Ho_Chi_Minh")
    utc = out.dt.convert_time_zone("UTC").to_list()
    assert utc[0] == utc[1] == datetime(2025, 2, 5, 15, 1, 17, 266247, tzinfo=UTC)
    assert utc[2] == datetime(2025, 2, 5, 15, 1, tzinfo=UTC)  # naive = local time of the column's zone


def test_datetime_default_zone_is_utc() -> None:
    out = run(pl.DataFrame({"t": ["05/02/2025 10:30"]}), Column("t", "datetime"))["t"]
    assert out.dtype == pl.Datetime("us", "UTC")
    assert out.to_list() == [datetime(2025, 2, 5, 10, 30, tzinfo=UTC)]


def test_bad_datetime_fails() -> None:
    msg = fails(
        SchemaError, pl.DataFrame({"t": ["2025-02-05T22:01:00+07:00", "yesterday"]}), Column("t", "datetime")
    )
    assert "'yesterday'" in msg and "row 2" in msg


def test_geometry_columns_are_skipped() -> None:
    out = run(
        pl.DataFrame({"a": ["1"]}), Column("a", "integer"), Column("geometry", "geometry", required=True)
    )
    assert out.columns == ["a"]


# ------------------------------------------------------------------------------------ constraints
def test_missing_required_column_suggests_close_name() -> None:
    msg = fails(
        MissingColumnError, pl.DataFrame({"ward_ids": ["a"]}), Column("ward_id", "code", required=True)
    )
    assert "'ward_id'" in msg and "did you mean 'ward_ids'" in msg


def test_required_with_nulls_counts_them() -> None:
    msg = fails(SchemaError, pl.DataFrame({"a": ["x", "", None]}), Column("a", "string", required=True))
    assert "2 empty values" in msg and "row 2" in msg


def test_unique_with_duplicates_gives_example() -> None:
    msg = fails(
        SchemaError, pl.DataFrame({"c": ["1", "2", "2", None, None]}), Column("c", "code", unique=True)
    )
    assert "unique" in msg and "'2'" in msg and "row 2" in msg


def test_min_max_and_enum() -> None:
    msg = fails(SchemaError, pl.DataFrame({"h": ["50%", "101%", "120%"]}), Column("h", "number", max=100))
    assert "2 values above" in msg and "101.0" in msg
    msg = fails(SchemaError, pl.DataFrame({"t": ["5", "-20"]}), Column("t", "number", min=-10))
    assert "below" in msg and "-20" in msg
    loai = Column("loai", "string", enum=("Phường", "Xã", "Đặc khu"))
    assert run(pl.DataFrame({"loai": [unicodedata.normalize("NFD", "Phường")]}), loai)["loai"][0] == "Phường"
    msg = fails(SchemaError, pl.DataFrame({"loai": ["Xã", "Quận"]}), loai)
    assert "must be one of" in msg and "'Quận'" in msg and "row 2" in msg


# ------------------------------------------------------------------------------------- performance
def count_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every polars query (lazy collect, collect_all, eager DataFrame operation) from now on."""
    seen: list[str] = []

    def counting(owner: object, name: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            seen.append(name)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    counting(pl.LazyFrame, "collect")
    counting(pl.LazyFrame, "_collect_eager")  # what eager DataFrame.select/with_columns/rename run
    counting(pl, "collect_all")
    return seen


def wide_frame(n_numbers: int) -> tuple[pl.DataFrame, list[Column]]:
    data = {
        "t": ["2025-02-05T22:01:17.266247+07:00", "2025-02-05T23:08:58.924887+07:00"],
        "city": ["Đà Nẵng", unicodedata.normalize("NFD", "Đà Nẵng")],
    }
    columns = [Column("t", "datetime", required=True), Column("city", "string")]
    for i in range(n_numbers):
        data[f"n{i}"] = ["18.5 km/h", "N/A"] if i % 2 else ["1.134.310", "56"]
        columns.append(Column(f"n{i}", "number" if i % 2 else "integer", min=0))
    return pl.DataFrame(data), columns


def test_queries_do_not_grow_with_the_number_of_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = []
    for n in (2, 40):
        df, columns = wide_frame(n)
        seen = count_queries(monkeypatch)
        out = run(df, *columns)
        counts.append(len(seen))
        monkeypatch.undo()
        assert out.width == n + 2
        assert out["n0"].to_list() == [1134310, 56]
        assert out["city"].to_list() == ["Đà Nẵng"] * 2
    assert counts[0] == counts[1] <= 10


def test_styles_are_detected_per_column_in_one_frame(caplog: pytest.LogCaptureFixture) -> None:
    df = pl.DataFrame(
        {
            "same_text_as_thousands": ["1.500", "2.000.000"],
            "same_text_as_decimal": ["1.500", "2.5"],
            "comma_decimal": ["12,5", "3"],
            "comma_thousands": ["1,234.5", "7"],
            "declared": ["3,5", "1,25"],
        }
    )
    with caplog.at_level("INFO", logger="lab.schema"):
        out = run(
            df,
            Column("same_text_as_thousands", "integer"),
            Column("same_text_as_decimal", "number"),
            Column("comma_decimal", "number"),
            Column("comma_thousands", "number"),
            Column("declared", "number", decimal=","),
        )
    assert out.rows() == [(1500, 1.5, 12.5, 1234.5, 3.5), (2000000, 2.5, 3.0, 7.0, 1.25)]
    logged = [r.getMessage() for r in caplog.records if "reads as" in r.getMessage()]
    assert logged == [
        "ds: f.csv: column 'same_text_as_thousands' reads as thousands '.', decimal ','",
        "ds: f.csv: column 'comma_decimal' reads as thousands '.', decimal ','",
        "ds: f.csv: column 'comma_thousands' reads as thousands ',', decimal '.'",
    ]


def test_number_text_is_normalised_before_parsing_and_in_messages() -> None:
    df = pl.DataFrame({"n": [unicodedata.normalize("NFD", "5 người"), " ", None]})
    assert run(df, Column("n", "integer"))["n"].to_list() == [5, None, None]
    bad = pl.DataFrame({"n": ["1", unicodedata.normalize("NFD", "hỏng")]})
    msg = fails(SchemaError, bad, Column("n", "integer"))
    assert "'hỏng' at row 2" in msg


def test_empty_and_all_null_number_columns() -> None:
    empty = pl.DataFrame({"a": pl.Series([], dtype=pl.String), "b": pl.Series([], dtype=pl.String)})
    out = run(empty, Column("a", "integer"), Column("b", "number"))
    assert out.schema == {"a": pl.Int64, "b": pl.Float64} and out.height == 0
    nulls = pl.DataFrame({"a": [None, "N/A"], "b": ["", "1"]}, schema={"a": pl.String, "b": pl.String})
    assert run(nulls, Column("a", "integer"), Column("b", "number")).rows() == [(None, None), (None, 1.0)]


def test_date_formats_after_the_first_are_tried_when_needed() -> None:
    df = pl.DataFrame(
        {"d": ["2025-07-01"] * 3 + ["02/07/2025"], "t": ["2025-02-05T22:01:00+07:00"] * 3 + ["x"]}
    )
    assert run(df, Column("d", "date"))["d"].to_list() == [date(2025, 7, 1)] * 3 + [date(2025, 7, 2)]
    msg = fails(SchemaError, df, Column("d", "date"), Column("t", "datetime"))
    assert "column 't': 'x' at row 4" in msg


@pytest.mark.parametrize("streaming_rows", [0, 10**9])
def test_same_result_on_either_polars_engine(monkeypatch: pytest.MonkeyPatch, streaming_rows: int) -> None:
    monkeypatch.setattr("lab.schema.STREAMING_ROWS", streaming_rows)
    df, columns = wide_frame(4)
    df = pl.concat([df] * 50)
    out = run(df.with_columns(pl.lit("x").alias("extra")), *columns)
    assert out.columns == [c.name for c in columns] + ["extra"]
    assert out["n0"].to_list() == [1134310, 56] * 50
    assert out["n1"].to_list() == [18.5, None] * 50
    assert out["t"].dt.convert_time_zone("UTC")[0] == datetime(2025, 2, 5, 15, 1, 17, 266247, tzinfo=UTC)
    msg = fails(SchemaError, df.with_columns(pl.lit("-3").alias("n0")), *columns)
    assert msg.endswith("column 'n0' has a minimum of 0: 100 values below it, e.g. -3 at row 1")
