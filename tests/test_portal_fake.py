"""The fake portal (tests/support/fake_portal.py) has the real portal's shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from support.fake_portal import (
    FULL_META,
    PASSWORD,
    USER,
    ApiDataset,
    FakePortal,
    dataset_page,
    listing_page,
    make_rows,
    portal_env,
)
from support.httpserver import LocalServer

from lab.portal.zk import listing_links, read_dataset_page


# ------------------------------------------------------------------------------- the fake's own shape
def test_listing_page_has_the_zk_link_shape() -> None:
    page = listing_page([(102528, "Điểm dừng xe buýt", "17-10-2025")]).decode()
    assert (
        "zclass:'link',label:'\\u0110i\\u1ec3m d\\u1eebng xe bu\\u00fdt',href:'/dulieuchitiet/102528'" in page
    )
    assert listing_links(page) == [(102528, "Điểm dừng xe buýt")]


def test_dataset_page_carries_every_label_and_the_api_link() -> None:
    page = read_dataset_page(dataset_page(102528, "Điểm dừng xe buýt", FULL_META).decode())
    assert page.missing == []
    assert page.api_id == 102528
    assert page.values["tags"] == ["xe buýt", "giao thông công cộng"]
    assert page.values["issued"] == ["05-03-2021"]


def test_api_answers_html_to_a_wrong_account_and_rows_to_the_right_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal_env(monkeypatch, tmp_path)
    with LocalServer() as server:
        portal = FakePortal(server)
        portal.add_api(7, ApiDataset(make_rows(3)))
        url = server.url(portal.api_path(7)) + "?limit=2&offset=0"
        bad = requests.get(url, auth=("someone", "wrong"), timeout=5)
        good = requests.get(url, auth=(USER, PASSWORD), timeout=5)
    assert bad.status_code == 200 and bad.text.startswith("<!DOCTYPE html>")
    assert [r["_id"] for r in good.json()["result"]["records"]] == [1, 2]
