"""Reuse counting that matches udata (issue 14, part 4): every declared reuse counts, whatever its flags;
same-address reuses are listed as possible duplicates, never dropped; every declared (reuse, dataset) pair
is one link; reuses without datasets count. Proven on files in the data.gouv.fr export layout (the real
sample in ../shared and ``tests/data/reuse/udata_reuses_same_site.csv``, see its README) and on
ckanext-showcase answers; the expected figures come from a plain reading of the files."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from lab.cli import main

DATA = Path(__file__).parent / "data" / "reuse"
SAME_SITE = DATA / "udata_reuses_same_site.csv"
UDATA_SAMPLE = Path("datagouv_pipeline_fixtures") / "test_reuses_catalog.csv"
OLD_KEYS = {
    "reuses",
    "unique_reusers",
    "links",
    "datasets_reused",
    "datasets_reused_live",
    "datasets_linked",
    "top_datasets",
    "by_type",
    "by_status",
    "by_owner_kind",
    "flagged",
    "rows",
    "checked_against_catalog",
}


def declared(*paths: Path) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    """The export's rows and its (reuse id, dataset id) pairs, read with the csv module."""
    rows: list[dict[str, str]] = []
    for path in paths:
        with open(path, encoding="utf-8", newline="") as fh:
            rows += list(csv.DictReader(fh, delimiter=";"))
    pairs = [(r["id"], d) for r in rows for d in r["datasets"].split(",") if d]
    return rows, pairs


def summarise(capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str, *files: Path) -> dict:
    """``lab reuse summary --json`` of the imported files (ids are the platform's: ``--no-check``)."""
    out = tmp_path / "registry.csv"
    assert main(["reuse", "import", "--format", fmt, *map(str, files), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["reuse", "summary", "--registry", str(out), "--json", "--top", "3", "--no-check"]) == 0
    return json.loads(capsys.readouterr().out)


def test_same_site_products_and_reuses_without_datasets_all_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, pairs = declared(SAME_SITE)
    result = summarise(capsys, tmp_path, "udata-csv", SAME_SITE)
    assert OLD_KEYS | {"reuses_with_datasets", "possible_duplicates"} <= set(result)
    assert result["reuses"] == result["rows"] == len(rows) == 7  # reuses = rows
    assert result["links"] == len(pairs) == 7  # links = declared pairs
    assert result["reuses_with_datasets"] == sum(1 for r in rows if r["datasets"]) == 5
    assert result["datasets_linked"] == len({d for _, d in pairs})
    top = Counter(d for _, d in pairs).most_common(1)[0]
    assert result["top_datasets"][0] == {"dataset_id": top[0], "reuses": top[1]}
    assert result["unique_reusers"] == 4  # Acme's three products, jean-exemple's two, the journal, marie
    assert result["possible_duplicates"] == [
        {
            "url": "acme-mobilite.example",
            "reuse_ids": ["bb00000000000000000000a1", "bb00000000000000000000a2"],
        },
        {
            "url": "carte-ecoles.example",
            "reuse_ids": ["bb00000000000000000000a4", "bb00000000000000000000a5"],
        },
    ]  # Acme's /velos is another product on the same domain: not listed
    assert result["by_status"] == {"live": 6, "retired": 1}  # the archived idea is counted


def test_the_real_sample_and_the_same_site_file_together(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = (shared_data / UDATA_SAMPLE, SAME_SITE)
    rows, pairs = declared(*files)
    result = summarise(capsys, tmp_path, "udata-csv", *files)
    assert result["reuses"] == len(rows) == 9 and result["links"] == len(pairs) == 14
    assert result["top_datasets"][0] == {"dataset_id": "59b0020ec751df07d5f13bcf", "reuses": 4}
    assert Counter(d for _, d in pairs).most_common(1) == [("59b0020ec751df07d5f13bcf", 4)]


def test_text_summary_lists_possible_duplicates_for_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summarise(capsys, tmp_path, "udata-csv", SAME_SITE)
    assert main(["reuse", "summary", "--registry", str(tmp_path / "registry.csv"), "--no-check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("7 reuses registered (5 with datasets;")
    assert "by 4 unique reusers" in out and "7 links to 4 datasets" in out
    assert (
        "possible duplicates (all counted, to review): bb00000000000000000000a1, bb00000000000000000000a2"
        in out
    )


def test_ckan_showcases_count_the_same_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckan = DATA / "ckan"
    package_lists = sorted(ckan.glob("showcase_package_list.*.json"))
    showcases = json.loads((ckan / "ckanext_showcase_list.json").read_text("utf-8"))["result"]
    pairs = [
        p["name"] for f in package_lists for p in json.loads(f.read_text("utf-8"))["result"]
    ]  # one package list per showcase
    result = summarise(capsys, tmp_path, "ckan-showcase", ckan / "ckanext_showcase_list.json", *package_lists)
    assert result["reuses"] == len(showcases) == 3  # the showcase without datasets too
    assert result["links"] == len(pairs) == 3 and result["reuses_with_datasets"] == 2
    assert result["possible_duplicates"] == [
        {"url": "xe-buyt.example.com", "reuse_ids": ["ban-do-xe-buyt", "showcase-khong-du-lieu"]}
    ]


# ------------------------------------------------------------------------- an export cut short (issue 19)
@pytest.mark.parametrize(
    "cut_before, cause",
    [
        ('"visualization"', "has 5 of 25 fields"),  # cut between two fields
        ("Les données sont", "inside a quoted field"),  # cut inside the description
        (';"Minist', "has 7 of 25 fields"),  # cut after the product's address
    ],
)
def test_a_truncated_export_is_refused_not_read_as_a_phantom_reuse(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], cut_before: str, cause: str
) -> None:
    lines = (shared_data / UDATA_SAMPLE).read_text(encoding="utf-8").splitlines(keepends=True)
    cut = tmp_path / "export-reuse-20250828-000000.csv"
    cut.write_text(lines[0] + lines[1] + lines[2][: lines[2].index(cut_before)], encoding="utf-8")
    out = tmp_path / "registry.csv"
    assert main(["reuse", "import", "--format", "udata-csv", str(cut), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(cut) in err and cause in err and "cut off" in err
    assert not out.exists()


def test_blank_lines_at_the_end_are_no_reuse(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    padded = tmp_path / "reuses.csv"
    padded.write_text((shared_data / UDATA_SAMPLE).read_text(encoding="utf-8") + "\r\n\r\n", encoding="utf-8")
    assert summarise(capsys, tmp_path, "udata-csv", padded)["reuses"] == 2
