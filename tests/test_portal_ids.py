"""Portal ids: base64 API tokens and URL shapes, scalar and vectorised forms agree."""

from __future__ import annotations

import polars as pl
import pytest

from lab.portal.ids import dataset_id_expr, dataset_id_from_path, decode_dataset_id, encode_dataset_id

PATHS = [
    ("/dulieuchitiet/102528", 102528),
    ("/dulieuchitiet/102528/download?format=csv", 102528),
    ("/api/dataset/MTAyNTI4?limit=1000&offset=2000", 102528),
    ("/api/dataset/MTAyNTI4", 102528),
    ("/dichvu?p=3", None),
    ("/dulieuchitiet/abc", None),
    ("/api/dataset/%%%", None),
    ("/", None),
]


@pytest.mark.parametrize("number", [1, 102528, 999999999])
def test_round_trip(number: int) -> None:
    assert decode_dataset_id(encode_dataset_id(number)) == number


def test_the_documented_example() -> None:
    assert encode_dataset_id(102528) == "MTAyNTI4"


@pytest.mark.parametrize(("path", "expected"), PATHS)
def test_paths(path: str, expected: int | None) -> None:
    assert dataset_id_from_path(path) == expected


def test_expression_agrees_with_the_scalar_function() -> None:
    frame = pl.DataFrame({"path": [p for p, _ in PATHS]})
    assert frame.select(dataset_id_expr(pl.col("path")))["path"].to_list() == [e for _, e in PATHS]
