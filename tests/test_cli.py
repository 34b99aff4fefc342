"""The command line, run as a user runs it: a real subprocess, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def lab(
    *args: str, env_extra: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "lab", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_catalog_list_and_show(root: Path) -> None:
    out = lab("catalog", "list", "--catalog", str(root / "datasets.yaml"))
    assert out.returncode == 0, out.stderr
    assert "danang-wards-2025" in out.stdout and "air-quality-iqair" in out.stdout
    shown = lab("catalog", "show", "census-2019-wards", "--json")
    assert json.loads(shown.stdout)["license"] == "unknown"


def test_validate_reports_every_problem_and_exits_2(root: Path) -> None:
    out = lab("catalog", "validate", "--catalog", str(root / "tests/data/catalogs/five_mistakes.yaml"))
    assert out.returncode == 2
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 6  # five planted mistakes; the misspelt field also leaves `license` missing
    assert "Traceback" not in out.stderr


def test_catalog_option_before_the_subcommand_is_kept(root: Path) -> None:
    out = lab("--catalog", str(root / "tests/data/catalogs/five_mistakes.yaml"), "catalog", "validate")
    assert out.returncode == 2 and "five_mistakes.yaml" in out.stdout


def test_unknown_dataset_is_one_line_exit_2() -> None:
    out = lab("load", "danang-ward-2025")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "did you mean 'danang-wards-2025'" in out.stderr
    assert "Traceback" not in out.stderr


def test_usage_error_exits_2() -> None:
    assert lab("load").returncode == 2


def test_offline_with_nothing_cached_says_what_to_do() -> None:
    out = lab("load", "danang-wards-2025", env_extra={"LAB_OFFLINE": "1"})
    assert out.returncode == 2, out.stderr
    assert "danang-wards-2025" in out.stderr and "LAB_MIRROR" in out.stderr
    assert out.stderr.count("\n") == 1


def test_load_json_and_geoparquet(shared_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "wards.parquet"
    out = lab("load", "danang-wards-2025", "--mirror", str(shared_data), "--json", "--to", str(target))
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout)
    assert facts["rows"] == 94 and facts["crs"] == "EPSG:4326" and facts["repaired_geometries"] == 5
    import geopandas as gpd

    back = gpd.read_parquet(target)
    assert len(back) == 94 and back.crs.to_epsg() == 4326


def test_load_source_reads_another_file_the_same_way(shared_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "may.parquet"
    src = shared_data / "iqair_danang" / "aqi_da-nang_2025_may.csv"
    out = lab("load", "air-quality-iqair", "--source", str(src), "--json", "--to", str(target))
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout)
    assert facts["rows"] == 706 and facts["dtypes"]["wind_speed"] == "Float64"
    import polars as pl

    assert pl.read_parquet(target).height == 706


@pytest.mark.parametrize("bad", ["<!DOCTYPE html><html><head><title>Đăng nhập</title></head></html>\n"])
def test_html_instead_of_csv_through_the_cli(tmp_path: Path, bad: str) -> None:
    page = tmp_path / "aqi.csv"
    page.write_text(bad, encoding="utf-8")
    out = lab("load", "air-quality-iqair", "--source", str(page))
    assert out.returncode == 2
    assert "air-quality-iqair" in out.stderr and "aqi.csv" in out.stderr and "HTML" in out.stderr
    assert out.stderr.count("\n") == 1


def test_every_command_has_examples_in_its_help_and_each_parses() -> None:
    """Issue 20: examples in every ``--help``; an example that no longer parses fails here."""
    import shlex

    from lab.cli import build_parser
    from lab.help_examples import EXAMPLES, commands

    parser = build_parser()
    names = commands(parser)
    assert set(names) == set(EXAMPLES), set(names) ^ set(EXAMPLES)
    for name, sub in names.items():
        assert sub.format_help().rstrip().splitlines()[-len(EXAMPLES[name]) - 1] == "examples:", name
        for line in EXAMPLES[name]:
            words = shlex.split(line)
            assert words[0] == "lab" and " ".join(words[1 : 1 + len(name.split())]) == name, line
            args = parser.parse_args(words[1:])  # exits 2 (SystemExit) on a stale example
            assert args.func is not None


def test_one_output_and_one_count_flag_with_the_old_names_kept() -> None:
    from lab.cli import build_parser

    parser = build_parser()
    for argv in (["load", "x", "--out", "a.csv"], ["load", "x", "--to", "a.csv"]):
        assert parser.parse_args(argv).to == "a.csv"
    for flag in ("--out", "--to"):
        argv = ["geo", "assign", "--points", "p.csv", "--lon", "x", "--lat", "y", "--units", "u"]
        argv += [flag, "o.csv"]
        assert parser.parse_args(argv).to == "o.csv"
    for flag in ("--n", "--top"):
        assert parser.parse_args(["reuse", "summary", flag, "3"]).top == 3
    assert parser.parse_args(["usage", "top", "--n", "3"]).n == 3


def test_lists_show_titles_beside_ids(
    demo_portal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 20: ``lab usage top`` and ``lab reuse summary`` name the datasets, not only their ids."""
    import polars as pl

    from lab.cli import main

    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    monkeypatch.setenv("LAB_USAGE_SECRET", "cli-titles-secret-0123456789")
    listing = pl.read_csv(demo_portal / "catalog" / "portal_datasets.csv", infer_schema=False)
    titles = dict(listing.select("portal_id", "title_vi").iter_rows())
    log = demo_portal / "logs" / "web" / "access.log"
    assert main(["usage", "ingest", "--format", "combined", str(log), "--store", str(tmp_path / "s")]) == 0
    capsys.readouterr()
    assert main(["usage", "top", "--store", str(tmp_path / "s"), "--n", "3"]) == 0
    head, *rows = capsys.readouterr().out.splitlines()
    assert head.split() == ["rank", "dataset_id", "dataset_views", "source", "title"] and len(rows) == 3
    for row in rows:
        dataset_id = row.split()[1]
        assert titles[dataset_id][:40] in row, row
    assert main(["reuse", "summary"]) == 0
    out = capsys.readouterr().out
    listed = out.split("most reused:\n", 1)[1].splitlines()[:3]
    for row in listed:
        dataset_id = row.split()[0]
        assert row.endswith(titles[dataset_id]), row


def test_reuse_summary_of_a_file_that_is_no_registry_is_exit_2(
    demo_portal: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lab.cli import main

    monkeypatch.setenv("LAB_DEMO", str(demo_portal))
    listing = demo_portal / "catalog" / "portal_datasets.csv"  # a real table, but not of reuses
    assert main(["reuse", "summary", "--registry", str(listing)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a reuse registry" in err and "portal_datasets.csv" in err


def test_output_cut_short_by_a_pipe_is_no_error(demo_portal: Path) -> None:
    """``lab reuse summary | head -1``: no 'unexpected BrokenPipeError', no traceback (exit 141, as a
    tool stopped by SIGPIPE). The reader here closes the pipe before anything is written."""
    import os

    lab = str(Path(sys.executable).with_name("lab"))
    env = {**os.environ, "LAB_DEMO": str(demo_portal)}
    proc = subprocess.Popen(
        [lab, "reuse", "summary"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""
