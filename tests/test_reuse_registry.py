"""The reuse registry: format, validation (every problem in one run), importers (udata CSV, CKAN showcase),
diff, and the `lab reuse` commands on hand-made fixtures (tests/data/reuse/README.md)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from lab.catalog import load_catalog
from lab.reuse import importers, vocab
from lab.reuse.indicators import diff, summary
from lab.reuse.registry import (
    Registry,
    RegistryError,
    ids_to_check,
    read_registry,
    spam_flags,
    write_registry,
)
from lab.reuse.validation import valid_rows, validate

DATA = Path(__file__).parent / "data" / "reuse"
PLANTED = DATA / "registry_planted.csv"
UDATA_SAMPLE = "datagouv_pipeline_fixtures/test_reuses_catalog.csv"


def lab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "lab", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.fixture(scope="module")
def catalog_ids() -> frozenset[str]:
    return frozenset(d.id for d in load_catalog())


# ------------------------------------------------------------------------------------------ vocabulary
def test_vocabularies_are_udatas_eight_types_and_fifteen_topics() -> None:
    assert vocab.values("types") == (
        "api",
        "application",
        "idea",
        "news_article",
        "paper",
        "post",
        "visualization",
        "hardware",
    )
    assert len(vocab.values("topics")) == 15 and "law_and_justice" in vocab.values("topics")
    assert set(vocab.topic_impact().values()) == {"governmental", "social", "environmental", "economic"}
    assert vocab.values("owner_kinds") == ("company", "startup", "agency", "university", "NGO", "individual")
    assert vocab.label("types", "hardware", "en") == "Connected device"
    assert vocab.label("types", "not-a-type", "vi") == "not-a-type"


# ------------------------------------------------------------------------------------------ validation
def test_planted_mistakes_are_all_reported_in_one_run(catalog_ids: frozenset[str]) -> None:
    report = validate(read_registry(PLANTED), known_datasets=catalog_ids, as_of=date(2026, 1, 1))
    found = {(i.reuse_id, i.code) for i in report.errors}
    assert found == {
        ("T003", "unknown_dataset"),
        ("T004", "duplicate_url"),
        ("T005", "bad_type"),
        ("T006", "missing_launch_date"),
    }
    by_code = {i.code: i for i in report.errors}
    assert "no-such-dataset" in by_code["unknown_dataset"].message
    assert "T001" in by_code["duplicate_url"].message  # names the row that keeps the url
    assert "did you mean 'application'" in by_code["bad_type"].message
    assert [i.row for i in report.errors] == [3, 4, 5, 6]
    assert not report.ok and len(report.lines()) == 4
    with pytest.raises(RegistryError, match=r"4 error\(s\).*\(and 3 more\)"):
        report.raise_for_errors()


def test_every_rule_reports_and_parsing_never_stops(tmp_path: Path) -> None:
    text = (
        "reuse_id,title,type,topic,url,owner,owner_kind,datasets,created,launched,retired,status,channels,"
        "api_consumer,paid_service\n"
        "A1,One,application,health,ftp://x.example.com,Org,company,d1,2024-01-01,2024-02-30,,live,web,k1,\n"
        "A1,Two,idea,healthy,https://two.example.com,,robot,,2024-01-01,2024-01-01,,retired,fax;web,k1,gold\n"
        "A3,Three,post,others,https://three.example.com,Org,NGO,d1,2024-01-01,2024-05-01,2024-04-01,live,web,,\n"
        "A4,Four,paper,others,https://four.example.com,Org,NGO,d1,2024-01-01,2024-01-01,,planned,web,,\n"
    )
    path = tmp_path / "reg.csv"
    path.write_text(text, encoding="utf-8")
    report = validate(
        read_registry(path), known_datasets={"d1"}, services={"notary-lookup"}, as_of=date(2025, 1, 1)
    )
    codes = [(i.row, i.code) for i in report.issues]
    for expected in [
        (1, "bad_date"),  # 30 February
        (1, "bad_url"),
        (2, "duplicate_id"),
        (2, "missing_value"),  # owner
        (2, "bad_topic"),
        (2, "bad_owner_kind"),
        (2, "bad_channels"),
        (2, "no_dataset"),
        (2, "missing_retired_date"),
        (2, "unknown_service"),
        (3, "retired_but_live"),
        (3, "retired_before_launch"),
        (4, "planned_but_launched"),
    ]:
        assert expected in codes, expected
    assert (1, "missing_launch_date") not in codes  # the unreadable date is reported once, as bad_date
    assert {i.code for i in report.warnings} == {
        "unknown_service",
        "planned_but_launched",
        "shared_api_consumer",
    }
    assert "did you mean 'health'" in next(i.message for i in report.issues if i.code == "bad_topic")


def test_missing_columns_are_issues_not_crashes(tmp_path: Path) -> None:
    path = tmp_path / "reg.csv"
    path.write_text("reuse_id,title\nX,Only a title\n", encoding="utf-8")
    report = validate(read_registry(path))
    missing = {i.field for i in report.issues if i.code == "missing_column"}
    assert {"type", "topic", "url", "owner", "datasets", "status"} <= missing
    assert all(i.row is None for i in report.issues if i.code == "missing_column")


@pytest.mark.parametrize(
    "content, match",
    [("", "not a readable CSV"), ("just one column\nvalue\n", "one column only")],
)
def test_unreadable_registry_is_one_line_error(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "reg.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RegistryError, match=match):
        read_registry(path)
    with pytest.raises(RegistryError, match="no such file"):
        read_registry(tmp_path / "missing.csv")


def test_yaml_and_csv_forms_read_the_same(tmp_path: Path) -> None:
    from_csv = read_registry(PLANTED).frame.head(2).drop("row")
    from_yaml = read_registry(DATA / "registry_planted.yaml").frame.drop("row")
    assert from_yaml.equals(from_csv)
    assert from_yaml["datasets"].to_list()[0] == ["danang-wards-2025", "census-2019-wards"]
    assert from_yaml["description"][1] == "Trực quan hóa mẫu, nhiều dòng\nmô tả."


@pytest.mark.parametrize("suffix", [".csv", ".yaml", ".parquet"])
def test_write_then_read_round_trips(tmp_path: Path, suffix: str) -> None:
    reg = read_registry(PLANTED)
    formula = pl.when(pl.col("row") == 2).then(pl.lit('=HYPERLINK("x")')).otherwise("title").alias("title")
    reg = Registry(reg.frame.with_columns(formula), reg.file)  # written escaped in CSV, read back as it was
    out = write_registry(reg, tmp_path / f"out{suffix}")
    again = read_registry(out)
    assert again.frame.drop("row").equals(reg.frame.drop("row"))


def test_spam_flags_and_valid_rows(catalog_ids: frozenset[str]) -> None:
    reg = read_registry(PLANTED)
    flags = spam_flags(reg, catalog_ids)
    assert flags.filter("spam")["reuse_id"].to_list() == ["T004"]  # T003 still links one known dataset
    valid = valid_rows(reg, catalog_ids)
    assert valid["reuse_id"].to_list() == [f"T00{i}" for i in range(1, 7)]  # flagged rows are counted
    assert valid.filter(pl.col("reuse_id") == "T003")["datasets"].to_list() == [["census-2019-wards"]]


def test_duplicate_url_keeps_the_row_with_known_datasets() -> None:
    frame = pl.DataFrame(
        {
            "reuse_id": ["S1", "R1"],
            "url": ["https://www.app.example.com/", "http://app.example.com"],
            "datasets": [["999999"], ["101"]],
            "created": [date(2020, 1, 1), date(2024, 1, 1)],
        }
    ).with_row_index("row", offset=1)
    flags = spam_flags(frame, {"101"})
    assert flags.to_dicts() == [
        {"reuse_id": "S1", "flags": ["unknown_datasets_only", "duplicate_url"], "spam": True},
        {"reuse_id": "R1", "flags": [], "spam": False},
    ]


def test_ids_to_check_skips_a_registry_from_another_platform(shared_data: Path) -> None:
    assert ids_to_check(read_registry(PLANTED)) is not None
    imported = importers.import_registry("udata-csv", [shared_data / UDATA_SAMPLE])
    assert ids_to_check(imported) is None


# ------------------------------------------------------------------------------------------- importers
def test_udata_sample_links_exactly_as_the_datasets_column(shared_data: Path) -> None:
    sample = shared_data / UDATA_SAMPLE
    with open(sample, encoding="utf-8", newline="") as fh:
        expected = [
            (row["id"], ds)
            for row in csv.DictReader(fh, delimiter=";")
            for ds in row["datasets"].split(",")
            if ds
        ]
    reg = importers.import_registry("udata-csv", [sample])
    assert list(reg.links().iter_rows()) == expected
    assert reg.height == 2 and reg.frame["flags"].list.len().sum() == 0
    first = reg.frame.row(0, named=True)
    assert first["title"] == "cadastre.data.gouv.fr"  # trailing space trimmed
    assert first["url"] == "https://cadastre.data.gouv.fr/" and first["source_url"].startswith(
        "https://www.data"
    )
    assert first["owner"] == "data.gouv.fr" and first["type"] == "application" and first["status"] == "live"


def test_udata_fixture_multiline_flags_archived_and_metrics() -> None:
    reg = importers.import_registry("udata-csv", [DATA / "udata_reuses.csv"])
    rows = {r["reuse_id"][-1]: r for r in reg.frame.iter_rows(named=True)}
    assert rows["1"]["description"].count("\n") == 2 and '"guillemets"' in rows["1"]["description"]
    assert rows["1"]["datasets"] == [
        "dd0000000000000000000003",
        "dd0000000000000000000001",
        "dd0000000000000000000002",
    ]
    assert rows["2"]["flags"] == ["no_dataset"] and rows["2"]["owner"] == "Jean Exemple"
    assert rows["3"]["flags"] == ["duplicate_url"] and rows["1"]["flags"] == []
    assert rows["4"]["status"] == "retired" and rows["4"]["retired"] == date(2021, 6, 30)
    metrics = importers.udata_metrics(DATA / "udata_reuses.csv")
    monthly = metrics.filter(pl.col("metric") == "views", pl.col("month").is_not_null()).sort(
        "reuse_id", "month"
    )
    assert monthly.select("month", "value").rows() == [("2024-08", 10), ("2024-09", 12), ("2024-08", 0)]
    views = metrics.filter(pl.col("metric") == "views", pl.col("month").is_null())["value"].to_list()
    assert views == [1500, 3, 20, 99]


def test_ckan_showcase_answers_import_with_links_and_flags() -> None:
    ckan = DATA / "ckan"
    files = [ckan / "ckanext_showcase_list.json", *sorted(ckan.glob("showcase_package_list.*.json"))]
    reg = importers.import_registry("ckan-showcase", files)
    rows = {r["reuse_id"]: r for r in reg.frame.iter_rows(named=True)}
    assert rows["ban-do-xe-buyt"]["datasets"] == ["tuyen-xe-buyt", "tram-xe-buyt"]
    assert (
        rows["ban-do-xe-buyt"]["type"] == "application"
        and rows["ban-do-xe-buyt"]["topic"] == "transport_and_mobility"
    )
    assert rows["bieu-do-khong-khi"]["owner"] == "Trường Đại học Mẫu"  # no author: the organization
    assert rows["bieu-do-khong-khi"]["source_url"] == "https://ckan.example.org/showcase/bieu-do-khong-khi"
    assert rows["showcase-khong-du-lieu"]["flags"] == ["no_dataset", "duplicate_url"]
    assert rows["ban-do-xe-buyt"]["created"] == date(2021, 3, 4)


def test_ckan_bad_answers_are_one_line_errors(tmp_path: Path) -> None:
    ckan = DATA / "ckan"
    with pytest.raises(RegistryError, match="Showcase not found"):
        importers.import_registry(
            "ckan-showcase", [ckan / "ckanext_showcase_list.json", ckan / "error_answer.json"]
        )
    stray = tmp_path / "packages.json"
    stray.write_text(
        (ckan / "showcase_package_list.ban-do-xe-buyt.json").read_text("utf-8"), encoding="utf-8"
    )
    with pytest.raises(RegistryError, match="name or id in its file name"):
        importers.import_registry("ckan-showcase", [ckan / "ckanext_showcase_list.json", stray])
    with pytest.raises(RegistryError, match="no ckanext_showcase_list answer"):
        importers.import_registry("ckan-showcase", [ckan / "showcase_package_list.ban-do-xe-buyt.json"])
    with pytest.raises(RegistryError, match="unknown import format"):
        importers.import_registry("socrata", [])


# ------------------------------------------------------------------------------------- summary and diff
def test_summary_counts_reuses_and_reusers_apart(catalog_ids: frozenset[str]) -> None:
    result = summary(read_registry(PLANTED), catalog_ids)
    assert result["reuses"] == result["rows"] == 6  # T004 repeats T001's url: counted, listed for review
    assert result["reuses_with_datasets"] == 6
    assert result["unique_reusers"] == 5  # Công ty Mẫu A owns T001 and T005
    assert result["links"] == 7 and result["datasets_reused"] == 3  # T003's unknown id is no link
    assert result["top_datasets"] == [  # ties listed by id
        {"dataset_id": "danang-wards-2025", "reuses": 3},
        {"dataset_id": "air-quality-iqair", "reuses": 2},
        {"dataset_id": "census-2019-wards", "reuses": 2},
    ]
    assert result["by_type"] == {"application": 3, "appli": 1, "news_article": 1, "visualization": 1}
    assert result["flagged"] == [{"reuse_id": "T004", "flags": ["duplicate_url"]}]
    assert result["possible_duplicates"] == [
        {"url": "ban-do-phuong-xa.example.com", "reuse_ids": ["T001", "T004"]}
    ]


def test_the_same_address_written_otherwise_is_a_warning_and_a_byte_copy_an_error(tmp_path: Path) -> None:
    head = "reuse_id,title,type,topic,url,owner,owner_kind,datasets,created,launched,status\n"
    rows = [
        "A1,Bus,application,others,https://www.acme.example/,Acme,company,d1,2024-01-01,2024-01-01,live",
        "A2,Air,application,others,http://acme.example,Acme,company,d2,2024-01-01,2024-01-01,live",
        "A3,Bike,application,others,https://acme.example/bike,Acme,company,d3,2024-01-01,2024-01-01,live",
        "A4,Copy,application,others,https://www.acme.example/,Acme,company,d1,2024-01-01,2024-01-01,live",
    ]
    path = tmp_path / "reg.csv"
    path.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    report = validate(read_registry(path), known_datasets={"d1", "d2", "d3"})
    assert [(i.reuse_id, i.code, i.severity) for i in report.issues] == [
        ("A2", "possible_duplicate_url", "warning"),
        ("A4", "duplicate_url", "error"),
    ]
    assert "A1" in report.issues[0].message and "A1" in report.issues[1].message


def test_diff_reports_added_removed_changed(tmp_path: Path) -> None:
    old = read_registry(PLANTED)
    frame = old.frame.filter(pl.col("reuse_id") != "T006").with_columns(
        pl.when(pl.col("reuse_id") == "T002").then(pl.lit("retired")).otherwise("status").alias("status"),
        pl.when(pl.col("reuse_id") == "T003")
        .then(pl.concat_list(pl.col("datasets"), pl.lit("x")))
        .otherwise("datasets")
        .alias("datasets"),
    )
    extra = frame.filter(pl.col("reuse_id") == "T001").with_columns(reuse_id=pl.lit("T007"))
    new = Registry(pl.concat([frame, extra]))
    result = diff(old, new)
    assert result["added"] == ["T007"] and result["removed"] == ["T006"]
    assert result["changed"] == ["T002", "T003"]
    assert result["fields"] == {"T002": ["status"], "T003": ["datasets"]}
    assert diff(old, old) == {"added": [], "removed": [], "changed": [], "fields": {}}


# ------------------------------------------------------------------------------------------------- CLI
def test_cli_validate_lists_each_planted_mistake_and_exits_2(tmp_path: Path) -> None:
    out = lab("reuse", "validate", "--registry", str(PLANTED), env={"LAB_DEMO": str(tmp_path / "none")})
    assert out.returncode == 2, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 4 and "Traceback" not in out.stderr
    for rid, word in (
        ("T003", "no-such-dataset"),
        ("T004", "already registered"),
        ("T005", "appli"),
        ("T006", "launch date"),
    ):
        assert any(rid in line and word in line for line in lines), (rid, lines)


def test_cli_import_summary_and_diff(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture
) -> None:
    from lab.cli import main

    out_file = tmp_path / "imported.csv"
    files = [str(shared_data / UDATA_SAMPLE), str(DATA / "udata_reuses.csv")]
    assert main(["reuse", "import", "--format", "udata-csv", *files, "--out", str(out_file)]) == 0
    assert "6 reuse(s) imported from 2 file(s), 2 flagged" in capsys.readouterr().out
    assert main(["reuse", "summary", "--registry", str(out_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"reuses", "unique_reusers", "links", "datasets_reused", "top_datasets", "by_type"} <= set(result)
    assert result["reuses"] == 6 and result["reuses_with_datasets"] == 5  # every row of the exports
    assert result["links"] == 2 + 5 + 3 + 1 + 1  # every declared pair, the copied url's included
    assert result["top_datasets"][0] == {"dataset_id": "dd0000000000000000000001", "reuses": 2}
    assert result["possible_duplicates"] == [
        {"url": "arrets.example.org", "reuse_ids": ["aa0000000000000000000001", "aa0000000000000000000003"]}
    ]
    assert len(result["top_datasets"]) == 10 and not result["checked_against_catalog"]
    assert main(["reuse", "diff", str(DATA / "registry_planted.yaml"), str(PLANTED), "--json"]) == 0
    diffed = json.loads(capsys.readouterr().out)
    assert diffed == {"added": ["T003", "T004", "T005", "T006"], "removed": [], "changed": [], "fields": {}}
    assert (
        main(["reuse", "import", "--format", "udata-csv", str(PLANTED), "--out", str(tmp_path / "x.csv")])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a udata reuse export" in err
    assert not (tmp_path / "x.csv").exists()
