"""The demo portal generator (lab.demo): determinism, volumes, formats, geometry, labels, atomicity."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import shapely
import yaml

import lab
import lab.demo
from lab.catalog import default_catalog_path, validate
from lab.demo import DemoError, generate
from lab.demo.__main__ import main

SCALE = 0.002
SEED = 2017
WINDOW = ("2017-06-01", "2026-10-31")
COMBINED = re.compile(
    r"^(?P<ip>\S+) \S+ \S+ \[(?P<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0700)\] "
    r'"(?P<method>[A-Z]+) (?P<path>\S+) (?P<proto>HTTP/[\d.]+)" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r'"(?P<referer>[^"]*)" "(?P<ua>[^"]*)"$'
)
ROBOTS = "bot|Googlebot|bingbot|coccocbot|AhrefsBot|facebookexternalhit|python-requests|curl|UptimeRobot"
POINT_FILES = (
    "geo/sensors.csv",
    "geo/cameras.csv",
    "geo/facilities_schools.csv",
    "geo/facilities_hospitals.csv",
    "geo/facilities_food_safety.csv",
)
DEMO_IDS = (
    "portal-datasets",
    "portal-web-logs",
    "portal-api-gateway",
    "portal-channel-requests",
    "portal-signups",
    "reuse-registry",
    "reuse-outcomes",
    "notary-revenue-ledger",
    "env-sensors",
    "traffic-cameras",
    "facilities-schools",
    "facilities-hospitals",
    "facilities-food-safety",
    "demo-wards-approx",
)
NOT_EVENTS = {"certificate_expires"}
"""Date columns that may lie after the window: a certificate's expiry is a future date, not an event."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo") / "portal"
    return out, generate(out, scale=SCALE, seed=SEED, progress=False)


def _csv(root: Path, rel: str) -> pl.DataFrame:
    return pl.read_csv(root / rel, infer_schema_length=0)  # every column as text: no guessing


def _ward_polygons(root: Path) -> dict[str, shapely.Geometry]:
    doc = json.loads((root / "geo/wards_approx.geojson").read_text(encoding="utf-8"))
    return {
        f["properties"]["ma_xa"]: shapely.from_geojson(json.dumps(f["geometry"])) for f in doc["features"]
    }


# ---------------------------------------------------------------------------------------------- basics
def test_same_seed_and_scale_give_identical_files(demo: tuple[Path, dict], tmp_path: Path) -> None:
    _, first = demo
    again = generate(tmp_path / "again", scale=SCALE, seed=SEED, progress=False)
    assert {k: v["sha256"] for k, v in again["files"].items()} == {
        k: v["sha256"] for k, v in first["files"].items()
    }
    assert (tmp_path / "again/manifest.json").read_bytes() == (demo[0] / "manifest.json").read_bytes()


def test_another_seed_gives_other_data_and_scale_leaves_the_catalog_alone(
    demo: tuple[Path, dict], tmp_path: Path
) -> None:
    other = generate(tmp_path / "other", scale=SCALE / 2, seed=SEED + 1, progress=False)
    assert (
        other["files"]["catalog/portal_datasets.csv"]["sha256"]
        != demo[1]["files"]["catalog/portal_datasets.csv"]["sha256"]
    )
    half = generate(tmp_path / "half", scale=SCALE / 2, seed=SEED, progress=False)
    for rel in (
        "catalog/portal_datasets.csv",
        "reuse/registry.csv",
        "geo/cameras.csv",
        "geo/wards_approx.geojson",
    ):
        assert half["files"][rel]["sha256"] == demo[1]["files"][rel]["sha256"], rel


def test_totals_follow_the_scale_and_the_published_figures(demo: tuple[Path, dict]) -> None:
    root, manifest = demo
    totals = manifest["totals"]
    assert totals["visits"] == pytest.approx(4_680_000 * SCALE, rel=0.03)
    assert totals["api_calls"] == pytest.approx(1_200_000 * SCALE, rel=0.03)
    assert totals["accounts"] == pytest.approx(1_100, rel=0.05)
    assert totals["datasets"] == 860
    assert totals["channel_datasets"] == 55
    cat = _csv(root, "catalog/portal_datasets.csv")
    assert cat.height == 860 and cat["portal_id"].n_unique() == 860
    assert cat["channels"].str.contains("zalo|sms|app").sum() == 55
    assert _csv(root, "logs/api/gateway.csv").height == totals["api_calls"]
    assert _csv(root, "accounts/signups.csv").height == totals["accounts"]
    assert manifest["synthetic"] is True and manifest["seed"] == SEED and manifest["scale"] == SCALE


def test_every_manifest_file_exists_with_its_rows_and_checksum(demo: tuple[Path, dict]) -> None:
    root, manifest = demo
    written = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert written == set(manifest["files"]) | {"manifest.json"}
    for rel, info in manifest["files"].items():
        path = root / rel
        assert hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"], rel
        assert path.stat().st_size == info["bytes"], rel
        if rel.endswith(".csv"):
            df = _csv(root, rel)
            assert df.height == info["rows"], rel
            assert df.columns == info["columns"], rel
        elif rel.endswith(".log"):
            assert len(path.read_text(encoding="utf-8").splitlines()) == info["rows"]
        elif rel.endswith(".geojson"):
            assert len(json.loads(path.read_text(encoding="utf-8"))["features"]) == info["rows"] == 94


# ------------------------------------------------------------------------------------------------ logs
def test_web_log_is_combined_format_and_sessions_recover_the_visits(demo: tuple[Path, dict]) -> None:
    root, manifest = demo
    lines = (root / "logs/web/access.log").read_text(encoding="utf-8").splitlines()
    matches = [COMBINED.match(line) for line in lines]
    bad = [line for line, m in zip(lines, matches, strict=True) if m is None]
    assert not bad, bad[:3]
    log = pl.DataFrame([m.groupdict() for m in matches if m])
    assert log["ip"].str.contains(r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$").all()
    assert set(log["status"].unique()) >= {"200", "304", "404"}
    assert log.filter(pl.col("ua").str.contains("Googlebot")).height > 0
    assert log.filter(pl.col("ua").str.contains("bingbot")).height > 0
    assert (
        log.filter(pl.col("ua").str.contains("UptimeRobot")).height
        == manifest["truth"]["web"]["monitor_lines"]
    )
    t = log["time"].str.to_datetime("%d/%b/%Y:%H:%M:%S %z").dt.replace_time_zone(None)
    assert t.is_sorted()
    assert str(t.min())[:10] >= WINDOW[0] and str(t.max())[:10] <= WINDOW[1]
    paths = log["path"]
    for shape in (
        r"^/$",
        r"^/dichvu\?p=\d+$",
        r"^/dulieuchitiet/\d+$",
        r"^/dulieuchitiet/\d+/download\?format=\w+$",
        r"^/timkiem\?q=",
        r"^/dangky$",
    ):
        assert paths.str.contains(shape).any(), shape
    # a 30-minute sessionisation of the people's requests finds the generated visits
    people = log.with_columns(t=t.dt.epoch("s")).filter(~pl.col("ua").str.contains(ROBOTS))
    people = people.sort("ip", "ua", "t")
    new = (
        (pl.col("ip") != pl.col("ip").shift())
        | (pl.col("ua") != pl.col("ua").shift())
        | (pl.col("t") - pl.col("t").shift() > 1800)
    )
    sessions = people.select(new.fill_null(True).sum()).item()
    assert sessions == pytest.approx(manifest["totals"]["visits"], rel=0.05)


def test_api_paths_are_base64_of_the_portal_id(demo: tuple[Path, dict]) -> None:
    root, _ = demo
    api = _csv(root, "logs/api/gateway.csv")
    assert api["path"].str.starts_with("/api/dataset/").all()
    encoded = api["path"].str.replace("/api/dataset/", "", literal=True).to_list()
    decoded = [base64.b64decode(s).decode() for s in encoded[:500]]
    assert decoded == api["portal_id"].to_list()[:500]
    assert set(api["status"].unique()) <= {"200", "404", "429", "500", "504"}
    html = api.filter((pl.col("status") == "200") & (pl.col("content_type") != "application/json"))
    assert html.height > 0 and html["content_type"].str.starts_with("text/html").all()
    assert (api["timestamp"] == api["timestamp"].sort()).all()


def test_channels_only_serve_channel_datasets(demo: tuple[Path, dict]) -> None:
    root, _ = demo
    cat = _csv(root, "catalog/portal_datasets.csv")
    ch = _csv(root, "logs/channels/channels.csv")
    served = cat.filter(pl.col("channels").str.contains("zalo|sms|app"))
    assert set(ch["portal_id"].unique()) <= set(served["portal_id"])
    assert set(ch["channel"].unique()) <= {"zalo", "sms", "app"}
    joined = ch.join(served.select("portal_id", "channels"), on="portal_id")
    assert joined.select(pl.col("channels").str.contains(pl.col("channel"), literal=True).all()).item()


# ------------------------------------------------------------------------------------------- catalog
def test_catalog_is_shaped_like_the_portal_with_metadata_gaps(demo: tuple[Path, dict]) -> None:
    root, _ = demo
    cat = _csv(root, "catalog/portal_datasets.csv")
    assert cat["landing_page"].str.contains(r"^https://opendata\.danang\.gov\.vn/dulieuchitiet/\d+$").all()
    assert (cat["landing_page"].str.extract(r"(\d+)$") == cat["portal_id"]).all()
    assert cat["title_vi"].n_unique() == cat.height
    issued = cat.sort(pl.col("portal_id").cast(pl.Int64))["issued"]
    assert issued.is_sorted()
    by_2021 = (cat["issued"] <= "2021-12-31").sum()
    assert 450 <= by_2021 <= 560
    for column in ("license", "description", "contact_name", "keywords", "modified", "theme"):
        share = cat[column].null_count() / cat.height
        assert 0.02 < share < 0.35, column
    short = cat["description"].str.len_chars() < 100
    assert short.sum() > 100
    agencies = set(cat["publisher"])
    assert {"Sở Thông tin và Truyền thông", "Sở Y tế", "Công an thành phố", "Cục Thống kê"} <= agencies
    vocab = yaml.safe_load(
        (Path(lab.demo.__file__).parents[1] / "vocab/vocabularies.yaml").read_text("utf-8")
    )
    assert set(cat["theme"].drop_nulls()) <= set(vocab["themes"]["values"])
    assert set(cat["license"].drop_nulls()) <= set(vocab["licenses"]["values"])
    assert set(cat["frequency"].drop_nulls()) <= set(vocab["frequencies"]["values"])


# --------------------------------------------------------------------------------------------- places
def test_points_lie_in_their_ward_and_in_vietnam(demo: tuple[Path, dict]) -> None:
    root, _ = demo
    wards = _ward_polygons(root)
    assert len(wards) == 94 and all(g.is_valid and g.geom_type == "Polygon" for g in wards.values())
    for rel in POINT_FILES:
        df = pl.read_csv(root / rel, schema_overrides={"ma_xa": pl.String})
        lon, lat = df["lon"].to_numpy(), df["lat"].to_numpy()
        assert ((lon > 102.1) & (lon < 117.9) & (lat > 8.1) & (lat < 23.4)).all(), rel
        for code, part in df.with_row_index().group_by("ma_xa"):
            inside = shapely.contains_xy(wards[code[0]], part["lon"].to_numpy(), part["lat"].to_numpy())
            assert inside.all(), (rel, code)
    assert pl.read_csv(root / "geo/sensors.csv").height == 120
    assert pl.read_csv(root / "geo/cameras.csv").height == 2_000


def test_ward_polygons_are_labelled_approximate(demo: tuple[Path, dict]) -> None:
    root, _ = demo
    doc = json.loads((root / "geo/wards_approx.geojson").read_text(encoding="utf-8"))
    assert doc["synthetic"] is True and doc["approximate"] is True
    props = [f["properties"] for f in doc["features"]]
    assert all(
        p["approximate"] is True and "gần đúng" in p["note"] and "approximate" in p["note"] for p in props
    )
    assert all(re.fullmatch(r"\d{5}", p["ma_xa"]) for p in props)
    assert sorted({p["loai"] for p in props}) == ["Phường", "Xã", "Đặc khu"]
    centres = [
        shapely.contains_xy(
            shapely.from_geojson(json.dumps(f["geometry"])),
            f["properties"]["center_lon"],
            f["properties"]["center_lat"],
        )
        for f in doc["features"]
    ]
    assert all(centres)


# ---------------------------------------------------------------------------------------------- reuse
def test_reuses_name_catalog_datasets_except_the_spam(demo: tuple[Path, dict]) -> None:
    root, manifest = demo
    ids = set(_csv(root, "catalog/portal_datasets.csv")["portal_id"])
    reg = _csv(root, "reuse/registry.csv")
    spam = set(manifest["truth"]["reuse"]["spam_reuse_ids"])
    assert spam and spam <= set(reg["reuse_id"])
    real = reg.filter(~pl.col("reuse_id").is_in(spam))
    used = real["datasets"].str.split(";")
    assert used.list.len().min() >= 1
    assert set(used.explode()) <= ids
    assert real.height == manifest["totals"]["reuses"]
    spam_rows = reg.filter(pl.col("reuse_id").is_in(spam))
    assert (
        spam_rows["datasets"].is_null()
        | ~spam_rows["datasets"].str.split(";").list.eval(pl.element().is_in(ids)).list.all()
    ).all()
    assert reg["url"].n_unique() < reg.height  # a spam row copies a real url
    assert real["url"].n_unique() == real.height
    launched = real.filter(pl.col("status") != "planned")
    distinct = launched["datasets"].str.split(";").explode().n_unique()
    assert distinct == manifest["totals"]["distinct_reused_datasets"] >= 50
    assert manifest["truth"]["reuse"]["distinct_datasets_50_reached_on"].startswith("2025")
    titles = " ".join(reg["title"])
    for known in ("điểm tập kết rác", "an toàn thực phẩm", "cấp cứu", "công chứng"):
        assert known in titles, known
    keys = set(_csv(root, "logs/api/gateway.csv")["consumer_key"])
    assert set(reg["api_consumer"].drop_nulls()) <= keys


def test_outcomes_and_ledger_agree_on_the_paid_service(demo: tuple[Path, dict]) -> None:
    root, _ = demo
    reg = _csv(root, "reuse/registry.csv")
    paid = reg.filter(pl.col("paid_service") == "notary-lookup")["reuse_id"].item()
    ledger = pl.read_csv(root / "revenue/notary_ledger.csv", try_parse_dates=True)
    assert str(ledger["date"].min()) >= "2023-01-01"
    assert (ledger["amount_vnd"] == ledger["lookups"] * ledger["fee_vnd"]).all()
    out = pl.read_csv(root / "reuse/outcomes.csv", try_parse_dates=True, infer_schema_length=None).filter(
        pl.col("reuse_id") == paid
    )
    assert out["revenue_vnd"].sum() == ledger["amount_vnd"].sum()
    assert out["transactions"].sum() == ledger["lookups"].sum()


# ------------------------------------------------------------------------------------- dates, labels
def test_every_date_lies_inside_the_window(demo: tuple[Path, dict]) -> None:
    root, manifest = demo
    checked = 0
    for rel in manifest["files"]:
        if not rel.endswith(".csv"):
            continue
        meta = json.loads((root / f"{rel}-metadata.json").read_text(encoding="utf-8"))
        df = _csv(root, rel)
        for col in meta["tableSchema"]["columns"]:
            name = col["name"]
            if name in NOT_EVENTS or not (col["datatype"] == "date" or name == "timestamp"):
                continue
            day = df[name].drop_nulls().str.slice(0, 10)
            assert day.min() >= WINDOW[0] and day.max() <= WINDOW[1], (rel, name)
            checked += 1
    assert checked >= 15


def test_synthetic_labels_are_everywhere(demo: tuple[Path, dict]) -> None:
    root, manifest = demo
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "Dữ liệu mẫu (tổng hợp)" in readme and "Synthetic demo data" in readme
    assert json.loads((root / "manifest.json").read_text(encoding="utf-8"))["synthetic"] is True
    for rel in manifest["files"]:
        if rel.endswith((".csv", ".log")):
            meta = json.loads((root / f"{rel}-metadata.json").read_text(encoding="utf-8"))
            assert meta["synthetic"] is True and "synthetic" in meta["note"]["en"].lower(), rel
    signups = _csv(root, "accounts/signups.csv")
    assert signups["account_id"].n_unique() == signups.height
    hospitals = _csv(root, "geo/facilities_hospitals.csv")
    assert hospitals["phone"].str.starts_with("0900 000 ").all()
    cat = _csv(root, "catalog/portal_datasets.csv")
    assert cat["contact_email"].drop_nulls().str.ends_with("@example.org").all()


# ---------------------------------------------------------------------------------------- atomicity
def _explode(ctx: object) -> None:
    raise RuntimeError("simulated failure in the middle of a generation")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_an_interrupted_generation_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = list(lab.demo.STEPS)
    monkeypatch.setattr(lab.demo, "STEPS", (*steps[:3], ("boom", _explode), *steps[3:]))
    with pytest.raises(RuntimeError, match="simulated failure"):
        generate(tmp_path / "portal", scale=SCALE, seed=SEED, progress=False)
    assert _leftovers(tmp_path) == []


def test_a_failed_regeneration_keeps_the_previous_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "portal"
    generate(out, scale=SCALE / 4, seed=SEED + 2, progress=False)
    generate(out, scale=SCALE / 4, seed=SEED, progress=False)  # replaces the previous demo
    assert _leftovers(tmp_path) == ["portal"]
    before = (out / "manifest.json").read_bytes()
    assert json.loads(before)["seed"] == SEED
    monkeypatch.setattr(lab.demo, "STEPS", (*lab.demo.STEPS[:-1], ("boom", _explode)))
    with pytest.raises(RuntimeError):
        generate(out, scale=SCALE / 4, seed=SEED + 1, progress=False)
    assert (out / "manifest.json").read_bytes() == before
    assert _leftovers(tmp_path) == ["portal"]


def test_refuses_to_replace_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"not a demo")
    with pytest.raises(DemoError, match="not a demo portal"):
        generate(out, scale=SCALE, progress=False)
    assert (out / "thesis.docx").exists()
    with pytest.raises(DemoError, match="scale"):
        generate(tmp_path / "x", scale=0, progress=False)


def test_a_stale_temporary_folder_of_a_dead_run_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".portal.abcd1234.4194999.part"  # above Linux's largest pid: that process is gone
    stale.mkdir()
    (stale / "half.csv").write_text("a,b\n", encoding="utf-8")
    assert main(["--out", str(tmp_path / "portal"), "--scale", str(SCALE / 4), "-q"]) == 0
    assert _leftovers(tmp_path) == ["portal"]
    assert (tmp_path / "portal/manifest.json").exists()


# ----------------------------------------------------------------------------------- datasets.yaml
def test_catalog_entries_validate_and_name_generated_files(demo: tuple[Path, dict]) -> None:
    root, manifest = demo
    path = default_catalog_path()
    assert validate(path) == []
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = {d["id"]: d for d in doc["datasets"] if d.get("synthetic")}
    assert set(DEMO_IDS) <= set(entries)
    for entry_id in DEMO_IDS:
        entry = entries[entry_id]
        # synthetic is the entry's flag (apps and pages label it once), not a prefix of every title
        assert entry["synthetic"] is True
        assert "Dữ liệu mẫu" not in entry["title"]["vi"] and "Demo data" not in entry["title"]["en"]
        for dist in entry["distributions"]:
            rel = dist["demo"]
            assert rel in manifest["files"], (entry_id, rel)
            declared = [c["name"] for c in entry["schema"]["columns"]]
            if rel.endswith(".csv"):
                assert declared == manifest["files"][rel]["columns"], entry_id
            elif rel.endswith(".geojson"):
                props = json.loads((root / rel).read_text(encoding="utf-8"))["features"][0]["properties"]
                assert declared == [*props, "geometry"], entry_id
    assert entries["demo-wards-approx"]["spatial"]["approximate"] is True
    assert entries["portal-web-logs"]["distributions"][0]["format"] == "LOG"
    assert entries["facilities-food-safety"]["spatial"] == {
        **entries["facilities-food-safety"]["spatial"],
        "kind": "points",
        "address": "address",
    }


def test_every_demo_entry_loads_through_the_catalog(
    demo: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end-to-end contract: catalog entry → fetch (demo folder) → reader → declared schema."""
    root, manifest = demo
    monkeypatch.setenv("LAB_DEMO", str(root))
    for entry_id in DEMO_IDS:
        frame = lab.load(entry_id)
        rel = {
            "portal-datasets": "catalog/portal_datasets.csv",
            "portal-web-logs": "logs/web/access.log",
            "demo-wards-approx": "geo/wards_approx.geojson",
        }.get(entry_id)
        if rel:
            assert len(frame) == manifest["files"][rel]["rows"], entry_id
        assert len(frame) > 0, entry_id
