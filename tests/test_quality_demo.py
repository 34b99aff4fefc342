"""The demo portal: the listing's planted metadata gaps are named by the scorecard's reasons; agencies,
quality × usage × reuse; the ``lab quality`` commands (offline, and online against a local server only)."""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from support.httpserver import LocalServer, Reply

from lab import loader
from lab.catalog import load_catalog
from lab.cli import main
from lab.quality import inputs, links
from lab.quality.scorecard import agency_table, quality_usage, rank_correlations, score_listing
from lab.usage.kpis import portal_totals, top_datasets
from lab.usage.report import prepare_store

AS_OF = date(2026, 10, 31)  # the demo window's last day
NO_LINKS = pl.DataFrame(schema=links.LINK_SCHEMA)
BANDS = {"excellent", "good", "sufficient", "bad"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lab import demo as demo_portal

    out = tmp_path_factory.mktemp("quality-demo") / "portal"
    demo_portal.generate(out, scale=0.002, seed=7)
    return out


@pytest.fixture
def env(demo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAB_DEMO", str(demo))
    return demo


@pytest.fixture(scope="module")
def listing(demo: Path, root: Path) -> pl.DataFrame:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_DEMO", str(demo))
        return loader.load("portal-datasets", catalog=root / "datasets.yaml")


def _blank(col: str) -> pl.Expr:
    return pl.col(col).is_null() | (pl.col(col).str.strip_chars() == "")


# gap → (which listing rows have it, the reason that must name it)
GAPS: dict[str, tuple[pl.Expr, str, str]] = {
    "licence": (_blank("license"), "mqa", "license_present"),
    "licence (udata)": (_blank("license"), "udata", "license"),
    "description": (_blank("description"), "mqa", "dcat_ap"),
    "short description": (pl.col("description").str.len_chars().fill_null(0) <= 100, "udata", "description"),
    "contact": (
        _blank("contact_name") & _blank("contact_email") & _blank("contact_phone"),
        "mqa",
        "contact_point",
    ),
    "keywords": (_blank("keywords"), "mqa", "keywords"),
    "theme": (_blank("theme"), "mqa", "themes"),
    "temporal coverage": (
        pl.col("temporal_start").is_null() & pl.col("temporal_end").is_null(),
        "mqa",
        "temporal",
    ),
    "spatial coverage": (_blank("spatial_coverage"), "mqa", "spatial"),
    "download link": (_blank("download_url"), "mqa", "download_url_present"),
    "date modified": (pl.col("modified").is_null(), "mqa", "modified"),
    "update frequency": (
        _blank("frequency") | (pl.col("frequency") == "unknown"),
        "udata",
        "update_frequency",
    ),
}


def test_the_scorecard_names_every_planted_gap(listing: pl.DataFrame) -> None:
    scores = score_listing(listing, links=NO_LINKS, as_of=AS_OF, lang="en", synthetic=True)
    assert scores.datasets.height == listing.height == 860
    reasons = scores.datasets.select("id", "reasons").explode("reasons").unnest("reasons")
    for gap, (has_gap, scheme, indicator) in GAPS.items():
        with_gap = set(listing.filter(has_gap)["portal_id"].cast(pl.String).to_list())
        named = set(
            reasons.filter((pl.col("scheme") == scheme) & (pl.col("indicator") == indicator))["id"].to_list()
        )
        assert with_gap, f"the demo plants no {gap} gap"
        assert named == with_gap, gap
    # the planted shares (lab/demo): about 12 % without licence, 18 % without contact
    share = listing.select(_blank("license").mean(), GAPS["contact"][0].mean()).row(0)
    assert 0.08 < share[0] < 0.16 and 0.12 < share[1] < 0.24
    no_description = reasons.filter(pl.col("indicator") == "dcat_ap")["reason"].unique().to_list()
    assert no_description == ["not DCAT-AP compliant: no description"]
    texts = set(reasons.filter(pl.col("scheme") == "udata")["reason"].to_list())
    assert {"udata: no description", "udata: description shorter than 100 characters"} <= texts
    # the portal's links were never checked here: unknown, no points lost, 80 left out of the maximum
    unknown = reasons.filter(pl.col("indicator") == "access_url_ok")
    assert unknown["reason"].unique().to_list() == ["access URL not checked: unknown, left out of the score"]
    assert unknown["points_lost"].null_count() == unknown.height == 860
    # 405 less access (50) and download (30) answers; a dataset without a download URL fails that one
    # (a missing property scores 0, as in MQA): 355
    assert set(scores.datasets["mqa_max_points"].unique().to_list()) == {325.0, 355.0}
    # the catalogue: access unknown (50 out); download known to fail where there is no download URL
    assert scores.catalogue["max_points"] == 355 and scores.catalogue["links_unknown"] > 0
    assert set(scores.datasets["mqa_band"].unique()) <= BANDS
    assert scores.catalogue["mqa_band"] in BANDS and 0 < scores.catalogue["mqa_points"] < 405


def test_agencies_and_quality_usage_reuse(
    env: Path, listing: pl.DataFrame, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_USAGE_SECRET", "quality-test-secret-0123456789")
    catalog = load_catalog(root / "datasets.yaml")
    scores = score_listing(listing, links=NO_LINKS, as_of=AS_OF)
    league = agency_table(scores.datasets, min_count=10)
    assert league["datasets"].min() >= 10
    assert league["rank"].to_list() == sorted(league["rank"].to_list()) and league["rank"][0] == 1
    assert league["quality"][0] == league["quality"].max()

    store = prepare_store(tmp_path / "store", catalog)
    usage, reuse = inputs.store_usage(store, until=AS_OF), inputs.demo_reuse(catalog, until=AS_OF)
    # one definition of each count: the usage store's, as the usage report, the tracker and the CLI
    totals = portal_totals(store, end="2026-10", min_count=0)
    assert usage["api_calls"].sum() == totals["api_calls"].sum() > 0
    assert usage["views"].sum() == totals["dataset_views"].sum() > 0
    assert usage["downloads"].sum() == totals["downloads"].sum() > 0
    top = top_datasets(store, metric="dataset_views", n=3, end="2026-10", min_count=0)
    views = dict(usage.select("dataset_id", "views").iter_rows())
    assert [views[d] for d in top["dataset_id"]] == top["dataset_views"].to_list()
    joined = quality_usage(scores.datasets, usage, reuse)
    assert joined.height == 860
    q1, q3 = joined["quality"].quantile(0.25), joined["quality"].quantile(0.75)
    u1, u3 = joined["usage"].quantile(0.25), joined["usage"].quantile(0.75)
    gems = joined.filter(pl.col("segment") == "hidden_gem")
    poor = joined.filter(pl.col("segment") == "popular_but_poor")
    assert gems.height and poor.height
    assert (gems["quality"] >= q3).all() and (gems["usage"] <= u1).all()
    assert (poor["usage"] >= u3).all() and (poor["quality"] <= q1).all()
    corr = rank_correlations(joined)
    assert corr["n"].to_list() == [860, 860, 860]
    assert corr["spearman"].is_between(-1, 1).all()
    expected = joined.select(pl.corr("quality", "usage", method="spearman")).item()
    assert corr["spearman"][0] == pytest.approx(expected, abs=1e-4)


def test_cli_score_offline_json(env: Path, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "quality",
            "score",
            "facilities-schools",
            "portal-datasets",
            "danang-wards-2025",
            "--offline",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out) == {"datasets", "catalogue"}
    assert {"mqa_points", "mqa_band"} <= set(out["catalogue"]) and out["catalogue"]["mqa_band"] in BANDS
    by_id = {d["id"]: d for d in out["datasets"]}
    assert list(by_id) == ["facilities-schools", "portal-datasets", "danang-wards-2025"]
    for d in out["datasets"]:
        assert {"id", "mqa_points", "mqa_band", "udata_score", "stars", "freshness", "content"} <= set(d)
        assert d["mqa_band"] in BANDS and 0 <= d["stars"] <= 5 and 0 <= d["udata_score"] <= 1
    schools = by_id["facilities-schools"]
    assert schools["content"]["score"] == 1.0 and schools["content"]["error"] is None
    assert {c["check"] for c in schools["content"]["checks"]} >= {"invalid_admin_codes", "invalid_geometry"}
    assert schools["freshness"]["status"] == "on_time"  # annual, modified on the window's last day
    assert schools["links"]["checked"] == 1 and schools["links"]["broken"] == 0  # the demo file, on disk
    # a real source without the offline mirror: its data cannot be read here, so no content score
    assert by_id["danang-wards-2025"]["content"]["score"] is None
    assert by_id["danang-wards-2025"]["content"]["error"]


def test_cli_unknown_id_is_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quality", "score", "facilities-school", "--offline", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "did you mean 'facilities-schools'" in err


CATALOG = """
catalog:
  title: {vi: "Danh mục thử", en: "Test catalogue"}
datasets:
  - id: good-one
    title: {vi: "Tốt", en: "Good"}
    publisher: "P"
    theme: [economy]
    license: CC-BY-4.0
    frequency: irregular
    access_rights: public
    distributions:
      - {format: CSV, download_url: "URL/a.csv"}
  - id: gone-one
    title: {vi: "Mất", en: "Gone"}
    publisher: "P"
    theme: [economy]
    license: CC-BY-4.0
    frequency: irregular
    access_rights: public
    distributions:
      - {format: CSV, download_url: "URL/gone.csv"}
"""


def test_cli_links_online_against_what_the_catalog_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAB_OFFLINE", "0")
    monkeypatch.setattr(links, "HOST_DELAY", 0.0)
    with LocalServer() as srv:
        srv.route("/a.csv", Reply(200, b"a,b\n1,2\n", {"Content-Type": "text/csv"}))
        path = tmp_path / "datasets.yaml"
        path.write_text(CATALOG.replace("URL", srv.url("")), encoding="utf-8")
        assert main(["quality", "links", "--json", "--catalog", str(path)]) == 0
        checked = {r["url"].rsplit("/", 1)[-1]: r for r in json.loads(capsys.readouterr().out)}
        assert (checked["a.csv"]["status"], checked["gone.csv"]["status"]) == ("ok", "broken")
        assert checked["gone.csv"]["reason"] == "request failed" and checked["gone.csv"]["failure_count"] == 1
        asked = len(srv.requests)
        # offline: the recorded results, no request
        assert main(["quality", "score", "--offline", "--json", "--catalog", str(path)]) == 0
        out = {d["id"]: d for d in json.loads(capsys.readouterr().out)["datasets"]}
        assert len(srv.requests) == asked
    assert out["gone-one"]["links"]["broken"] == 1 and out["gone-one"]["links"]["broken_since"]
    assert out["gone-one"]["stars"] == 0 and out["good-one"]["stars"] == 3
    lost = {r["indicator"]: r["points_lost"] for r in out["gone-one"]["reasons"] if r["scheme"] == "mqa"}
    assert lost["access_url_ok"] == 50 and lost["download_url_ok"] == 30
    assert out["good-one"]["mqa_points"] - out["gone-one"]["mqa_points"] == 80
    assert links.history_path().is_file()
    assert main(["quality", "links", "--offline", "--catalog", str(path)]) == 0
    assert "broken since" in capsys.readouterr().out


def test_the_listing_history_finds_exactly_the_planted_metadata_changes(env: Path) -> None:
    """Issue 18: the demo plants completed and damaged metadata between the copies of its listing; the
    quality history scored from them moves exactly those datasets' MQA points (the others only age)."""
    from lab.quality import history as qh

    catalog = load_catalog()
    path = qh.report_history(catalog)
    assert path == qh.listing_path() and path.is_file()
    assert qh.report_history(catalog) == path  # scored once; later calls read it
    frame = qh.read(path)
    days = sorted(frame["as_of"].unique().to_list())
    planted = json.loads((env / "manifest.json").read_text(encoding="utf-8"))["truth"]["quality_changes"]
    assert len(days) == len(planted) + 1 and days[-1] == AS_OF
    for start, end in itertools.pairwise(days):
        moved = qh.movers(frame, start, end)
        points = moved.filter((pl.col("change") == "changed") & (pl.col("delta_mqa_points") != 0))
        truth = planted[f"{start}..{end}"]
        up = points.filter(pl.col("delta_mqa_points") > 0)["id"].to_list()
        down = points.filter(pl.col("delta_mqa_points") < 0)["id"].to_list()
        assert sorted(up) == sorted(map(str, truth["improved"]))
        assert sorted(down) == sorted(map(str, truth["worsened"]))
