"""Quality over time (issue 18 part 3): every whole-catalog ``lab quality score`` appends a dated snapshot
to the quality history; two runs a month apart with one changed dataset show exactly that change, with the
indicators that moved; the trend per agency and catalogue; a same-day re-run replaces its snapshot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from lab.quality import history as qh

CATALOG = """
catalog:
  title: {vi: "Danh mục thử", en: "Test catalogue"}
datasets:
  - id: alpha
    title: {vi: "Alpha", en: "Alpha"}
    description: {vi: "Mô tả alpha.", en: "Alpha."}
    publisher: "Sở Y tế"
    theme: [health]
    keywords: [y tế]
    license: CC-BY-4.0
    frequency: annual
    access_rights: public
    issued: 2024-01-01
    modified: 2025-12-01
    distributions:
      - {format: CSV, media_type: text/csv, download_url: "http://h.example/a.csv", license: CC-BY-4.0}
  - id: beta
    title: {vi: "Beta", en: "Beta"}
    publisher: "Sở Y tế"
    theme: [health]
    license: CC-BY-4.0
    frequency: irregular
    access_rights: public
    issued: 2024-01-01
    distributions:
      - {format: XLSX, download_url: "http://h.example/b.xlsx"}
  - id: gamma
    title: {vi: "Gamma", en: "Gamma"}
    publisher: "Sở Giao thông vận tải"
    theme: [transport]
    keywords: [xe buýt]
    license: CC0-1.0
    frequency: never
    access_rights: public
    issued: 2024-01-01
    distributions:
      - {format: JSON, media_type: application/json, download_url: "http://h.example/c.json"}
"""


def score(catalog: Path, history: Path, as_of: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAB_AS_OF": as_of}
    cmd = [sys.executable, "-m", "lab", "--catalog", str(catalog), "quality", "score", "--offline", "--json"]
    return subprocess.run([*cmd, "--history", str(history)], capture_output=True, text=True, env=env)


def test_two_runs_a_month_apart_show_exactly_the_one_change(tmp_path: Path) -> None:
    catalog, history = tmp_path / "datasets.yaml", tmp_path / "h" / "quality.parquet"
    catalog.write_text(CATALOG, encoding="utf-8")
    first = score(catalog, history, "2026-01-15")
    assert first.returncode == 0, first.stderr
    # beta gets keywords and a media type a month later; nothing else changes
    catalog.write_text(
        CATALOG.replace(
            "    license: CC-BY-4.0\n    frequency: irregular\n",
            "    keywords: [bệnh viện]\n    license: CC-BY-4.0\n    frequency: irregular\n",
        ).replace(
            "{format: XLSX, download_url:",
            "{format: XLSX, media_type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, "
            "download_url:",
        ),
        encoding="utf-8",
    )
    second = score(catalog, history, "2026-02-15")
    assert second.returncode == 0, second.stderr

    frame = qh.read(history)
    assert sorted(frame["as_of"].unique().to_list()) == [date(2026, 1, 15), date(2026, 2, 15)]
    assert frame.height == 6
    moved = qh.movers(frame)
    assert moved["id"].to_list() == ["beta"]
    row = moved.row(0, named=True)
    assert row["change"] == "changed" and (row["from"], row["to"]) == (date(2026, 1, 15), date(2026, 2, 15))
    # MQA: keywords 30 points, media type present 10 points
    assert row["delta_mqa_points"] == pytest.approx(40.0)
    assert {"mqa_keywords", "mqa_media_type_present", "mqa_points"} <= set(row["indicators"])
    assert not {i for i in row["indicators"] if i.startswith("udata_") or i in ("freshness", "stars")}
    scores_now = json.loads(second.stdout)["datasets"]
    beta_now = next(d for d in scores_now if d["id"] == "beta")
    assert row["mqa_points_after"] == pytest.approx(beta_now["mqa_points"])

    trend = qh.trend(frame)
    catalogue = trend.filter(pl.col("agency").is_null())
    assert catalogue["datasets"].to_list() == [3, 3]
    assert catalogue["mqa_points"][1] - catalogue["mqa_points"][0] == pytest.approx(40 / 3, abs=1e-3)
    transport = trend.filter(pl.col("agency") == "Sở Giao thông vận tải")
    assert transport["mqa_points"][0] == transport["mqa_points"][1]

    # the same day again: its snapshot replaced, not doubled; earlier snapshot untouched
    before = frame.filter(pl.col("as_of") == date(2026, 1, 15))
    again = score(catalog, history, "2026-02-15")
    assert again.returncode == 0
    after = qh.read(history)
    assert after.height == 6 and after.filter(pl.col("as_of") == date(2026, 1, 15)).equals(before)

    # the CLI view
    run = subprocess.run(
        [sys.executable, "-m", "lab", "quality", "history", "--history", str(history), "--json"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert [m["id"] for m in out["movers"]] == ["beta"] and len(out["trend"]) == 2 + 4


def test_added_and_dropped_datasets_and_bad_history(tmp_path: Path) -> None:
    base = pl.DataFrame(
        {"id": ["a", "b"], "title": ["A", "B"], "publisher": ["P", "P"], "mqa_points": [100.0, 200.0]}
    )
    path = tmp_path / "h.parquet"
    qh.append_snapshot(base, date(2026, 1, 1), path)
    qh.append_snapshot(
        pl.DataFrame(
            {"id": ["b", "c"], "title": ["B", "C"], "publisher": ["P", "Q"], "mqa_points": [200.0, 50.0]}
        ),
        date(2026, 2, 1),
        path,
    )
    moved = qh.movers(qh.read(path))
    assert dict(zip(moved["id"], moved["change"], strict=True)) == {"a": "dropped", "c": "added"}
    with pytest.raises(qh.QualityHistoryError, match="no snapshot on 2025-12-01"):
        qh.movers(qh.read(path), date(2025, 12, 1), date(2026, 2, 1))
    (tmp_path / "bad.parquet").write_text("x")
    bad = subprocess.run(
        [sys.executable, "-m", "lab", "quality", "history", "--history", str(tmp_path / "bad.parquet")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "bad.parquet" in bad.stderr and "Traceback" not in bad.stderr
