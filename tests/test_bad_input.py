"""The bad-input corpus (tests/data/bad): every broken file fails with one exact, one-line LabError.

Each case names a dataset of ``tests/data/bad/catalog.yaml``, the exact error class, and words the
message must contain (the cause). The message must be one line that starts with the dataset id and
the file name. Binary files (``generated/…`` in the catalog) are written to a temporary folder here.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from support.bad_inputs import BAD, CASES, GENERATED

import lab
from lab import readers
from lab.catalog import Catalog
from lab.errors import (
    EmptyFileError,
    EncodingError,
    LabError,
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return lab.load_catalog(BAD / "catalog.yaml")


def _materialise(rel: str, tmp_path: Path) -> Path:
    if rel in GENERATED:
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(GENERATED[rel]())
        return target
    return BAD / rel


def test_the_corpus_catalog_is_valid_and_fully_covered(catalog: Catalog) -> None:
    assert lab.validate(BAD / "catalog.yaml") == []
    assert {ds.id for ds in catalog} == {case[0] for case in CASES}
    kinds = {cls for _, cls, _ in CASES}
    assert len(CASES) >= 12 and len(kinds) >= 10
    committed = {d.path for ds in catalog for d in ds.distributions} - set(GENERATED)
    assert all((BAD / p).is_file() for p in committed)


@pytest.mark.parametrize(("dataset_id", "error", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_with_one_clear_line(
    catalog: Catalog, tmp_path: Path, dataset_id: str, error: type[LabError], words: tuple[str, ...]
) -> None:
    ds = catalog.get(dataset_id)
    dist = ds.distributions[0]
    path = _materialise(dist.path or "", tmp_path)
    with pytest.raises(LabError) as info:
        readers.read(path, dist, ds, label=dist.label)
    exc = info.value
    assert type(exc) is error, f"{type(exc).__name__}: {exc}"
    text = str(exc)
    assert "\n" not in text
    assert text.startswith(f"{dataset_id}: {dist.label}: "), text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"


def test_label_defaults_to_the_file_name(catalog: Catalog) -> None:
    ds = catalog.get("bad-header-only")
    with pytest.raises(EmptyFileError, match=r"^bad-header-only: header_only\.csv: "):
        readers.read(BAD / "header_only.csv", ds.distributions[0], ds)


LOAD_CASES = {
    "bad-header-only",
    "bad-truncated-row",
    "bad-invalid-json",
    "bad-projected-as-4326",
    "bad-swapped-points",
    "bad-missing-column",
    "bad-duplicate-code",
    "bad-xlsx-is-html",
}


@pytest.mark.skipif(not hasattr(lab.fetch, "fetch"), reason="lab.fetch is not implemented yet")
@pytest.mark.parametrize(("dataset_id", "error"), [(i, e) for i, e, _ in CASES if i in LOAD_CASES])
def test_lab_load_raises_the_same(dataset_id: str, error: type[LabError]) -> None:
    """Through lab.load (fetch reads ``path`` distributions in place): the same exact error class."""
    with pytest.raises(LabError) as info:
        lab.load(dataset_id, catalog=BAD / "catalog.yaml")
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    assert "\n" not in str(info.value)


def test_utf16_declared_as_utf8_says_so(tmp_path: Path, catalog: Catalog) -> None:
    ds = catalog.get("bad-wrong-encoding")
    f = tmp_path / "u16.csv"
    f.write_bytes(codecs.BOM_UTF16_LE + "ma_xa\n20194\n".encode("utf-16-le"))
    with pytest.raises(EncodingError, match="looks like UTF-16 with BOM"):
        readers.read(f, ds.distributions[0], ds)
