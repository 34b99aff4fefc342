"""The catalog: the project's datasets.yaml is valid, and validation reports every planted mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lab import catalog
from lab.errors import CatalogError, UnknownDatasetError

DATA = Path(__file__).parent / "data" / "catalogs"

REQUIRED_REAL_IDS = {
    "danang-wards-2025": "sapnhap_2025/danang_wards_2025.geojson",
    "danang-province-2025": "sapnhap_2025/danang_province_2025.geojson",
    "danang-districts-2024": "dvhcvn_gis/danang_districts_pre2025.geojson",
    "admin-crosswalk-2025": "dvhcvn_crosswalk_2025/danang_crosswalk_old_to_new_2025-07-01.csv",
    "census-2019-wards": "census2019/VN_Population_ward_danang_quangnam.csv",
    "census-2019-gso-cube-quangnam": "census2019/quangnam_population_urban_ward_2019_gso_cube.xlsx",
    "air-quality-iqair": "iqair_danang/aqi_da-nang_2025_feb.csv",
}


def test_project_catalog_is_valid(root: Path) -> None:
    assert catalog.validate(root / "datasets.yaml") == []


def test_real_sources_are_declared_with_origin_and_licence(root: Path) -> None:
    cat = catalog.load_catalog(root / "datasets.yaml")
    for dataset_id, mirror_file in REQUIRED_REAL_IDS.items():
        ds = cat.get(dataset_id)
        assert not ds.synthetic
        assert ds.license in catalog.vocabularies()["licenses"]
        assert mirror_file in [d.mirror for d in ds.distributions]
        for dist in ds.distributions:
            origin = dist.download_url or dist.access_url
            assert origin and origin.startswith("https://"), dataset_id
            assert dist.sha256, dataset_id


def test_real_sources_checksums_match_the_shared_files(root: Path, shared_data: Path) -> None:
    import hashlib

    cat = catalog.load_catalog(root / "datasets.yaml")
    for ds in cat:
        for dist in ds.distributions:
            if dist.mirror and dist.sha256:
                data = (shared_data / dist.mirror).read_bytes()
                assert hashlib.sha256(data).hexdigest() == dist.sha256, dist.mirror
                if dist.byte_size is not None:
                    assert len(data) == dist.byte_size


def test_five_planted_mistakes_are_all_reported() -> None:
    problems = catalog.validate(DATA / "five_mistakes.yaml")
    text = [str(p) for p in problems]
    assert any(
        p.entry == "typo-theme" and p.field == "theme[0]" and "did you mean 'education'" in p.message
        for p in problems
    ), text
    assert any(
        p.entry == "bad-field" and p.field == "licence" and "did you mean 'license'" in p.message
        for p in problems
    ), text
    assert any(
        p.entry == "bad-date" and p.field == "frequency" and "monthly" in p.message for p in problems
    ), text
    assert any(
        p.entry == "bad-date" and p.field == "issued" and "real date" in p.message for p in problems
    ), text
    assert any(p.entry == "air-ok" and p.field == "id" and "duplicate" in p.message for p in problems), text
    # the unknown field also leaves the required licence missing: reported, one line each
    assert any(p.entry == "bad-field" and p.field == "license" for p in problems), text
    assert all("\n" not in line for line in text)


def test_load_catalog_refuses_an_invalid_catalog() -> None:
    with pytest.raises(CatalogError, match=r"and \d+ more: run `lab catalog validate`"):
        catalog.load_catalog(DATA / "five_mistakes.yaml")


def test_not_yaml_is_one_clear_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("catalog: [unclosed\n", encoding="utf-8")
    (problem,) = catalog.validate(bad)
    assert "not valid YAML" in problem.message and "line" in problem.message


def test_unknown_dataset_suggests_the_close_id(root: Path) -> None:
    cat = catalog.load_catalog(root / "datasets.yaml")
    with pytest.raises(UnknownDatasetError, match="did you mean 'danang-wards-2025'"):
        cat.get("danang-ward-2025")


def test_cross_field_rules(tmp_path: Path) -> None:
    doc = catalog.read_catalog_file(DATA / "five_mistakes.yaml")
    entry = doc["datasets"][0]
    entry.update(
        spatial={"kind": "points", "lon": "lng", "lat": "lat"},
        schema={
            "columns": [{"name": "lon", "type": "number"}, {"name": "lat", "type": "number"}],
            "primary_key": ["id"],
        },
        temporal={"start": "2025-02-01", "end": "2024-01-01"},
    )
    entry["distributions"] = [{"format": "CSV", "media_type": "application/json"}]
    doc["datasets"] = [entry]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    found = {(p.field, p.message.split(" (")[0]) for p in catalog.validate(path)}
    fields = {f for f, _ in found}
    assert {
        "crs",
        "spatial.lon",
        "schema.primary_key",
        "temporal",
        "distributions[0]",
        "distributions[0].media_type",
    } <= fields, found


def test_vocabularies_are_bilingual_where_shown() -> None:
    for key, theme in catalog.vocabularies()["themes"].items():
        assert theme["vi"] and theme["en"], key
