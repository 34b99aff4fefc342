"""Harvesting the portal's listing into catalog entries: ZK page parsing, metadata mapping, merging.

The listing and dataset pages come from the fake portal (``test_portal_fake.py``) on 127.0.0.1.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from support.fake_portal import FULL_META, FakePortal, dataset_page, listing_page, portal_env, widget, zk_page
from support.httpserver import LocalServer, Reply

from lab.catalog import load_catalog, validate, vocabularies
from lab.cli import main
from lab.errors import CatalogError, OfflineError
from lab.portal.errors import HarvestError
from lab.portal.harvest import harvest
from lab.portal.mapping import PortalRecord, map_themes, mapping_table, parse_date, to_entry, value_key
from lab.portal.merge import merge_entry
from lab.portal.zk import (
    js_objects,
    js_unescape,
    label_field,
    listing_dates,
    listing_links,
    read_dataset_page,
)

PROJECT = Path(__file__).resolve().parent.parent
LISTING = [
    [(101, "Điểm dừng xe buýt", "17-10-2025"), (102, "Danh sách trường học", "01-02-2024")],
    [(103, "Danh sách bệnh viện", "03-03-2023")],
    [(104, "Giá đất", "01-01-2020")],
]


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    return portal_env(monkeypatch, tmp_path)


@pytest.fixture
def portal() -> Any:
    with LocalServer() as server:
        fake = FakePortal(server)
        fake.add_listing(LISTING)
        fake.add_page(101, "Điểm dừng xe buýt")
        fake.add_page(
            102,
            "Danh sách trường học",
            {**FULL_META, "Cơ quan cung cấp": "Sở Giáo dục và Đào tạo", "Lĩnh vực": "Giáo dục"},
        )
        fake.add_page(103, "Danh sách bệnh viện", {"Cơ quan chủ quản": "Sở Y tế", "Lĩnh vực": "Y tế"})
        fake.add_page(104, "Giá đất", {**FULL_META, "Lĩnh vực": "Đất đai"})
        yield fake


def run(portal: FakePortal, out: Path, *args: str) -> int:
    return main(["portal", "harvest", "--base-url", portal.base_url, "--out", str(out), *args])


# ----------------------------------------------------------------------------------------- ZK parsing
def test_js_strings_and_objects() -> None:
    assert js_unescape(r"'Gi\u00e1 \'\u0111\u1ea5t\' \x41\n'") == "Giá 'đất' A\n"
    objects = js_objects(
        "zkmx(['zul.wgt.A','x',{zclass:'link',label:'a } { b',href:'/dulieuchitiet/5',n:3},{}])"
    )
    assert objects[0] == {"zclass": "link", "label": "a } { b", "href": "/dulieuchitiet/5"}


def test_listing_links_from_zk_widgets_and_plain_anchors() -> None:
    page = listing_page(
        [(7, "Bảy", "01-01-2024"), (8, "Tám", "01-01-2024"), (7, "Bảy", "01-01-2024")]
    ).decode()
    assert listing_links(page) == [(7, "Bảy"), (8, "Tám")]
    assert listing_dates(page) == {7: "01-01-2024", 8: "01-01-2024"}
    plain = "<ul><li><a href='https://congdulieu.vn/dulieuchitiet/9?x=1'>Chín <b>mới</b></a></li></ul>"
    assert listing_links(plain) == [(9, "Chín mới")]


def test_label_forms() -> None:
    assert label_field("Cơ quan chủ quản") == ("managing_agency", "")
    assert label_field("NGÀY CẬP NHẬT :") == ("modified", "")
    assert label_field("Giấy phép: CC BY 4.0") == ("license", "CC BY 4.0")
    assert label_field("Liên hệ") is None  # a menu item, not the contact label
    assert label_field("Giao thông: một câu dài hơn") is None


def test_a_dataset_page_with_missing_labels_says_which() -> None:
    meta = {k: v for k, v in FULL_META.items() if k not in ("Giấy phép", "Tag")}
    meta["Ngày cập nhật"] = ""  # a label with no value
    page = read_dataset_page(dataset_page(5, "Năm", meta).decode())
    assert set(page.missing) == {"Giấy phép", "Tag", "Ngày cập nhật"}
    assert page.values["providing_agency"] == ["Sở Giao thông vận tải"]
    assert page.values["contact"] == ["lienhe@example.org / 0900 000 123"]
    assert page.title == "Năm - Cổng dữ liệu mở"


def test_a_page_rendered_as_plain_html_reads_too() -> None:
    rows = "".join(
        f"<tr><td>{label}:</td><td>{value}</td></tr>"
        for label, value in [("Lĩnh vực", "Y tế"), ("Ngày tạo", "02-01-2020"), ("Tag", "bệnh viện, y tế")]
    )
    page = read_dataset_page(
        f"<html><body><a href='/lienhe'>Liên hệ</a><table>{rows}</table>"
        "<a href='/api/dataset/MTAy'>API</a></body></html>"
    )
    assert page.values["theme"] == ["Y tế"] and page.values["issued"] == ["02-01-2020"]
    assert page.api_id == 102
    assert "Lĩnh vực" not in page.missing and "Cơ quan cung cấp" in page.missing


def test_inline_label_values_and_an_empty_page() -> None:
    page = read_dataset_page(
        zk_page("x", [widget("Label", "a", value="Tần suất cung cấp: Hàng năm")]).decode()
    )
    assert page.values == {"frequency": ["Hàng năm"]}
    empty = read_dataset_page("<html><body>Không tìm thấy trang</body></html>")
    assert empty.values == {} and len(empty.missing) == 12 and empty.api_id is None


# ---------------------------------------------------------------------------------------------- mapping
def test_every_mapping_target_is_in_the_vocabulary() -> None:
    vocab = vocabularies()
    table = mapping_table()
    assert table["themes"] and table["frequencies"] and table["licenses"]
    for themes in table["themes"].values():
        assert set(themes) <= set(vocab["themes"]), themes
    assert set(table["frequencies"].values()) <= set(vocab["frequencies"])
    assert set(table["licenses"].values()) <= set(vocab["licenses"])


def test_vietnamese_values_map_whatever_their_spelling() -> None:
    assert value_key("Giáo dục và Đào tạo") == value_key("GIÁO DỤC - ĐÀO TẠO") == "giaoducdaotao"
    assert map_themes("Văn hoá - Thể thao") == (["education"], [])
    assert map_themes("Giao thông, Y tế") == (["transport", "health"], [])
    assert map_themes("Giáo dục - Du lịch") == (["education", "economy"], [])
    assert map_themes("health") == (["health"], [])
    assert map_themes("Y tế; Du lịch biển") == (["health"], ["Du lịch biển"])
    assert parse_date("17-10-2025") == "2025-10-17" and parse_date("2025-10-17") == "2025-10-17"
    assert parse_date("17/10/2025 08:30") == "2025-10-17" and parse_date("hôm qua") is None


def test_a_full_page_maps_to_a_valid_entry(tmp_path: Path) -> None:
    page = read_dataset_page(dataset_page(102528, "Điểm dừng xe buýt", FULL_META).decode())
    record = PortalRecord(102528, "Điểm dừng xe buýt", page.values, tuple(page.missing), page.api_id)
    mapped = to_entry(record)
    entry = mapped.entry
    assert (mapped.unread, mapped.unmapped) == ([], {})
    assert entry["id"] == "congdulieu-102528" and entry["portal_id"] == 102528
    assert entry["publisher"] == "Sở Giao thông vận tải"
    assert (entry["theme"], entry["frequency"], entry["license"]) == (
        ["transport"],
        "monthly",
        "danang-open-data",
    )
    assert (entry["issued"], entry["modified"]) == ("2021-03-05", "2025-10-17")
    assert entry["keywords"] == ["xe buýt", "giao thông công cộng"]
    assert entry["contact_point"] == {
        "name": "Nguyễn Văn A",
        "email": "lienhe@example.org",
        "phone": "0900 000 123",
    }
    assert entry["landing_page"] == "https://congdulieu.vn/dulieuchitiet/102528"
    assert entry["distributions"][0]["portal"] == {"name": "congdulieu", "id": 102528}
    assert entry["distributions"][0]["format"] == "PARQUET"
    catalog = tmp_path / "c.yaml"
    catalog.write_text(yaml.safe_dump({"catalog": {"title": {"vi": "x", "en": "x"}}, "datasets": [entry]}))
    assert validate(catalog) == []


def test_unknown_and_missing_values_are_marked_for_validation(tmp_path: Path) -> None:
    values = {
        "theme": ["Du lịch biển"],
        "frequency": ["6 tháng/lần"],
        "issued": ["31-02-2024"],
        "contact": ["x"],
    }
    mapped = to_entry(PortalRecord(9, "Chín", values, ("Cơ quan cung cấp", "Cơ quan chủ quản", "Giấy phép")))
    entry = mapped.entry
    assert "publisher" not in entry and entry["license"] == "unknown"
    assert entry["theme"] == ["Du lịch biển"] and entry["frequency"] == "6 tháng/lần"
    assert mapped.unmapped == {"theme": "Du lịch biển", "frequency": "6 tháng/lần"}
    assert "Ngày tạo: '31-02-2024' is not a date (DD-MM-YYYY)" in mapped.unread
    assert any(line.startswith("Liên hệ (Email/số điện thoại): 'x'") for line in mapped.unread)
    catalog = tmp_path / "c.yaml"
    catalog.write_text(yaml.safe_dump({"catalog": {"title": {"vi": "x", "en": "x"}}, "datasets": [entry]}))
    problems = {(p.field, p.message.split(" (did")[0]) for p in validate(catalog)}
    assert problems == {
        ("publisher", "required field is missing"),
        ("theme[0]", "'Du lịch biển' is not in the themes vocabulary"),
        ("frequency", "'6 tháng/lần' is not in the frequencies vocabulary"),
    }


# ------------------------------------------------------------------------------------------------ merge
def test_merge_rules() -> None:
    old = {
        "id": "x",
        "title": {"vi": "Tên", "en": "A hand translation"},
        "publisher": "Hand-written agency",
        "theme": ["Du lịch biển"],
        "license": "unknown",
        "modified": "2024-01-01",
        "spatial": {"kind": "none"},
        "distributions": [{"format": "CSV", "path": "a.csv"}],
    }
    new = {
        "id": "x",
        "title": {"vi": "Tên", "en": "Tên"},
        "publisher": "Sở Y tế",
        "theme": ["health"],
        "license": "CC-BY-4.0",
        "modified": "2025-01-01",
        "keywords": ["y tế"],
        "distributions": [{"format": "PARQUET", "portal": {"name": "congdulieu", "id": 1}}],
    }
    merged, change = merge_entry(old, new)
    assert merged["title"] == old["title"] and merged["publisher"] == "Hand-written agency"
    assert (merged["theme"], merged["license"], merged["modified"]) == (["health"], "CC-BY-4.0", "2025-01-01")
    assert merged["keywords"] == ["y tế"] and merged["spatial"] == {"kind": "none"}
    assert merged["distributions"] == old["distributions"]
    assert change.action == "updated" and change.added == ["keywords"]
    assert change.updated == ["theme", "license", "modified"]
    assert set(change.kept) == {"publisher", "distributions"}
    again, change2 = merge_entry(merged, new)
    assert again == merged and change2.action == "unchanged"


# ---------------------------------------------------------------------------------------------- harvest
def test_harvest_two_listing_pages_into_a_new_catalog(
    portal: FakePortal, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "portal.yaml"
    assert run(portal, out, "--pages", "2") == 0
    printed = capsys.readouterr().out
    assert f"harvested 3 datasets from 2 listing pages of {portal.base_url}: 3 added" in printed
    assert "unread    congdulieu-103: Cơ quan cung cấp: not on the page" in printed
    cat = load_catalog(out)  # valid
    assert [d.id for d in cat] == ["congdulieu-101", "congdulieu-102", "congdulieu-103"]
    assert cat.get("congdulieu-102").theme == ("education",)
    assert cat.get("congdulieu-103").publisher == "Sở Y tế"  # the managing agency when no provider
    assert cat.get("congdulieu-101").distributions[0].portal == {
        "name": "congdulieu",
        "id": 101,
        "base_url": portal.base_url,
    }
    assert portal.server.count("/dulieuchitiet/104") == 0  # page 3 was not read


def test_harvest_twice_is_idempotent_and_hand_edits_survive(
    portal: FakePortal, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "portal.yaml"
    assert run(portal, out, "--pages", "2") == 0
    first = out.read_text(encoding="utf-8")
    assert run(portal, out, "--pages", "2") == 0
    assert out.read_text(encoding="utf-8") == first
    assert "0 added, 0 updated, 3 unchanged" in capsys.readouterr().out

    edited = first.replace(
        "title: {vi: Điểm dừng xe buýt, en: Điểm dừng xe buýt}",
        "title: {vi: Điểm dừng xe buýt, en: Bus stops}  # translated by hand",
    )
    edited = edited.replace("publisher: Sở Giao thông vận tải", "publisher: Sở GTVT (hand-edited)", 1)
    edited = edited.replace("  - id: congdulieu-102\n", "  # a note about schools\n  - id: congdulieu-102\n")
    assert "Sở GTVT (hand-edited)" in edited and "en: Bus stops" in edited
    out.write_text(edited, encoding="utf-8")
    assert run(portal, out, "--pages", "2") == 0
    printed = capsys.readouterr().out
    assert out.read_text(encoding="utf-8") == edited  # nothing to change: the file is not rewritten
    assert "kept      congdulieu-101: publisher (the portal says 'Sở Giao thông vận tải')" in printed
    cat = load_catalog(out)
    assert cat.get("congdulieu-101").title["en"] == "Bus stops"
    assert cat.get("congdulieu-101").publisher == "Sở GTVT (hand-edited)"


def test_harvest_updates_placeholders_in_place_and_keeps_the_rest_of_the_file(
    portal: FakePortal, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "datasets.yaml"
    shutil.copy(PROJECT / "datasets.yaml", out)
    original = out.read_text(encoding="utf-8")
    portal.add_page(101, "Điểm dừng xe buýt", {k: v for k, v in FULL_META.items() if k != "Giấy phép"})
    assert run(portal, out, "--pages", "1") == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith(original)  # every line, comment and entry of the catalog is where it was
    assert validate(out) == []
    assert "license: unknown" in text[len(original) :]
    hand = "    spatial: {kind: none, coverage: Đà Nẵng}  # added by hand\n"
    text = text.replace("    portal_id: 101\n", "    portal_id: 101\n" + hand)
    out.write_text(text, encoding="utf-8")

    portal.add_page(101, "Điểm dừng xe buýt")  # the portal now states the licence
    capsys.readouterr()
    assert run(portal, out, "--pages", "1") == 0
    assert "updated   congdulieu-101: license" in capsys.readouterr().out
    after = out.read_text(encoding="utf-8")
    assert after.startswith(original)
    cat = load_catalog(out)
    entry = cat.get("congdulieu-101")
    assert entry.license == "danang-open-data"
    assert entry.spatial.coverage == "Đà Nẵng"  # the hand-added field survived the rewrite
    assert len(cat) == len(load_catalog(PROJECT / "datasets.yaml")) + 2


def test_an_existing_entry_with_the_portal_id_is_merged_not_duplicated(
    portal: FakePortal, tmp_path: Path
) -> None:
    out = tmp_path / "c.yaml"
    out.write_text(
        "catalog:\n  title: {vi: Danh mục, en: Catalog}\n\ndatasets:\n"
        "  # written by hand before any harvest\n"
        "  - id: bus-stops\n    title: {vi: Điểm dừng xe buýt, en: Bus stops}\n    publisher: Sở GTVT\n"
        "    theme: [transport]\n    license: CC-BY-4.0\n    frequency: monthly\n    access_rights: public\n"
        "    portal_id: 101\n    distributions:\n      - {format: CSV, path: bus.csv}\n",
        encoding="utf-8",
    )
    assert run(portal, out, "--pages", "1") == 0
    cat = load_catalog(out)
    assert [d.id for d in cat] == ["bus-stops", "congdulieu-102"]
    bus = cat.get("bus-stops")
    assert bus.license == "CC-BY-4.0" and bus.keywords == ("xe buýt", "giao thông công cộng")
    assert [d.format for d in bus.distributions] == ["CSV"]
    assert "# written by hand before any harvest" in out.read_text(encoding="utf-8")


def test_a_dataset_page_that_fails_is_skipped_and_reported(portal: FakePortal, tmp_path: Path) -> None:
    portal.server.route("/dulieuchitiet/102", Reply(404, b"not found"))
    report = harvest(tmp_path / "c.yaml", base_url=portal.base_url, pages=2, progress=False)
    assert report.failed == {102: "HTTP 404 Not Found"}
    assert [c.id for c in report.changes] == ["congdulieu-101", "congdulieu-103"]
    assert any(line.startswith("skipped   portal dataset 102: HTTP 404") for line in report.lines())


def test_a_listing_page_that_fails_writes_nothing(portal: FakePortal, tmp_path: Path) -> None:
    portal.server.route(
        "/dichvu", lambda req: Reply(500 if req.query.get("p") == "2" else 200, listing_page(LISTING[0]))
    )
    out = tmp_path / "c.yaml"
    with pytest.raises(
        HarvestError, match=r"listing page 2: HTTP 500 .* gave up after 3 tries; nothing was written"
    ):
        harvest(out, base_url=portal.base_url, progress=False)
    assert not out.exists()


def test_the_listing_ends_when_a_page_lists_nothing_new(portal: FakePortal, tmp_path: Path) -> None:
    report = harvest(tmp_path / "c.yaml", base_url=portal.base_url, progress=False)
    assert (report.pages, report.datasets) == (4, 4)  # page 4 repeated page 3: the end


def test_a_listing_without_dataset_links_is_an_error(tmp_path: Path) -> None:
    with LocalServer() as server:
        server.route("/dichvu", Reply(200, "<html><body>Trang chủ</body></html>".encode()))
        with pytest.raises(HarvestError, match="links to no dataset"):
            harvest(tmp_path / "c.yaml", base_url=server.url(""), progress=False)


def test_the_listing_date_stands_in_for_a_missing_update_date(portal: FakePortal, tmp_path: Path) -> None:
    portal.add_page(101, "Điểm dừng xe buýt", {k: v for k, v in FULL_META.items() if k != "Ngày cập nhật"})
    report = harvest(tmp_path / "c.yaml", base_url=portal.base_url, pages=1, progress=False)
    assert load_catalog(tmp_path / "c.yaml").get("congdulieu-101").modified.isoformat() == "2025-10-17"
    assert "Ngày cập nhật: taken from the listing (17-10-2025)" in report.unread["congdulieu-101"]


def test_harvest_respects_lab_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="LAB_OFFLINE=1 forbids the network"):
        harvest(tmp_path / "c.yaml", progress=False)
    assert not (tmp_path / "c.yaml").exists()


def test_a_broken_catalog_file_fails_before_reading_the_portal(portal: FakePortal, tmp_path: Path) -> None:
    out = tmp_path / "c.yaml"
    out.write_text("datasets: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        harvest(out, base_url=portal.base_url, progress=False)
    assert portal.server.requests == []


def test_a_catalog_in_another_layout_is_rewritten_with_its_header(portal: FakePortal, tmp_path: Path) -> None:
    out = tmp_path / "c.yaml"
    out.write_text(
        "# my catalog\ncatalog: {title: {vi: Danh mục, en: Catalog}}\ndatasets: []\n", encoding="utf-8"
    )
    harvest(out, base_url=portal.base_url, pages=1, progress=False)
    assert out.read_text(encoding="utf-8").startswith("# my catalog\n")
    assert [d.id for d in load_catalog(out)] == ["congdulieu-101", "congdulieu-102"]


def test_nothing_is_written_when_every_dataset_page_fails(portal: FakePortal, tmp_path: Path) -> None:
    for pid in (101, 102):
        portal.server.route(f"/dulieuchitiet/{pid}", Reply(404, b"not found"))
    report = harvest(tmp_path / "c.yaml", base_url=portal.base_url, pages=1, progress=False)
    assert set(report.failed) == {101, 102} and not report.written
    assert not (tmp_path / "c.yaml").exists()
