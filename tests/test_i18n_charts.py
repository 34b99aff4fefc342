"""Labels in both languages (NFC Vietnamese), offline SVG charts, catalog and listing tables."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from lab import charts, listing
from lab.i18n import LABELS, t


def test_every_label_has_both_languages_in_nfc() -> None:
    for key, texts in LABELS.items():
        assert set(texts) == {"vi", "en"}, key
        assert unicodedata.is_normalized("NFC", t(key, "vi")), key
    with pytest.raises(ValueError):
        t("datasets", "fr")


def test_bar_chart_is_plain_svg_with_escaped_vietnamese_labels() -> None:
    svg = str(charts.bar_chart(["Sở Y tế", "A<B"], [1234567, 12.5], title="Số tập dữ liệu"))
    assert "1,234,567" in str(charts.bar_chart(["a"], [1234567], title="x", lang="en"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "Sở Y tế" in svg and "A&lt;B" in svg
    assert "1.234.567" in svg and "12,5" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    with pytest.raises(ValueError):
        charts.bar_chart(["a"], [1, 2], title="x")


def test_listing_summaries() -> None:
    frame = pl.DataFrame(
        {
            "publisher": ["A", "A", "B", None],
            "issued": [date(2018, 1, 1), date(2019, 5, 1), date(2019, 6, 1), date(2026, 1, 1)],
            "description": ["x", " ", None, "y"],
            "keywords": [["a"], [], None, ["b"]],
        }
    )
    published = listing.published_by(frame, date(2025, 12, 31))
    assert published.height == 3
    assert listing.count_by(published, "publisher").rows() == [("A", 2), ("B", 1)]
    assert listing.count_by(frame, "publisher", top=1).rows() == [("A", 2), ("…", 2)]
    assert listing.per_year(published).rows() == [(2018, 1, 1), (2019, 2, 3)]
    assert dict(listing.completeness(frame, ["description", "keywords"]).rows()) == {
        "description": 50.0,
        "keywords": 50.0,
    }


def test_labels_for_themes_fields_and_a_plain_table() -> None:
    from lab.i18n import label_values, theme_label

    assert theme_label("economy", "vi") == "Kinh tế và tài chính"
    frame = pl.DataFrame({"theme": ["economy", "unknown-theme"], "field": ["license", "x"]})
    assert label_values(frame, "theme", "en", kind="theme")["theme"].to_list() == [
        "Economy and finance",
        "unknown-theme",
    ]
    assert label_values(frame, "field", "vi", kind="field")["field"].to_list() == ["Giấy phép", "x"]
    html = str(charts.table(pl.DataFrame({"a": ["<x>", None], "b": [1, 2]}), ["Tên", "Số"]))
    assert "<th>Tên</th>" in html and "&lt;x&gt;" in html and "—" in html and "shape" not in html


def test_one_number_formatter_per_language() -> None:
    """Issue 20: "273,6" and "276.38" on one Vietnamese page; every number goes through one formatter
    (vi 1.234,5, en 1,234.5): the scalar, the polars expression and the table agree."""
    assert charts.format_number(1234.5, "vi") == "1.234,5" and charts.format_number(1234.5, "en") == "1,234.5"
    assert (
        charts.format_number(276.384, "vi", 2) == "276,38" and charts.format_number(-0.04, "vi", 1) == "0,0"
    )
    values = [0.0, 1.5, -1234.567, 1_234_567.0, 999.999, 12.05]
    for lang in ("vi", "en"):
        for d in (0, 1, 2):
            got = pl.select(charts.number_expr(pl.Series(values), lang, d).alias("x"))["x"].to_list()
            assert got == [charts.format_number(v, lang, d) for v in values], (lang, d)
    frame = pl.DataFrame({"id": [101716], "views": [3334], "points": [276.38], "share": [0.5]})
    vi = str(charts.table(frame, lang="vi"))
    assert "<td>101716</td><td>3.334</td><td>276,38</td><td>0,5</td>" in vi
    assert "<td>101716</td><td>3,334</td><td>276.38</td><td>0.5</td>" in str(charts.table(frame, lang="en"))


def test_bars_say_what_they_are() -> None:
    """Issue 20: bars labelled only "—" and "…": no value and the rest are named in the page's language."""
    frame = pl.DataFrame({"publisher": ["A", "A", "B", "C", None]})
    vi = listing.count_by(frame, "publisher", top=2, lang="vi")["publisher"].to_list()
    en = listing.count_by(frame, "publisher", top=2, lang="en")["publisher"].to_list()
    assert vi == ["A", "(chưa ghi)", "Khác (2)"] and en == ["A", "(not given)", "Others (2)"]
    assert "—" not in vi + en and "…" not in vi + en


def test_the_chart_kit_is_the_only_svg_renderer(root: Path) -> None:
    """Issue 17: one chart kit (bar, column, line, flow) in lab/charts.py; no other module writes SVG."""
    writers = [
        p.relative_to(root).as_posix() for p in (root / "lab").rglob("*.py") if "<svg" in p.read_text()
    ]
    assert writers == ["lab/charts.py"]
    for name in ("bar_chart", "column_chart", "line_chart", "flow_chart"):
        assert callable(getattr(charts, name))


def test_format_numbers_is_format_number_in_one_pass() -> None:
    values = [0, -0.0, 0.05, 0.15, 2.675, 12.5, -1234.5, 1234567, 1e15, float("nan"), float("inf"), -7.25]
    for lang in ("vi", "en"):
        assert charts.format_numbers(values, lang) == [charts.format_number(v, lang) for v in values]
    assert charts.format_numbers([], "vi") == []
