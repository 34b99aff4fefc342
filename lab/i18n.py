"""Labels the public sees, in Vietnamese (primary, NFC) and English.

Keep every user-facing label here (or in the catalog), never inline in notebooks, so both languages
stay complete: a test checks every key has both.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # polars only where a frame is labelled: an app's first paint needs only the labels
    import polars as pl

LANGUAGES = ("vi", "en")

LABELS: dict[str, dict[str, str]] = {
    "demo_banner": {
        "vi": "{note} Cổng mô phỏng ở tỉ lệ {percent} % lượng sử dụng thật đã công bố: {visits} lượt "
        "truy cập và {api} lượt gọi API từ {start} đến {end} (cổng thật: 4,68 triệu lượt truy cập, "
        "1,2 triệu lượt gọi API). Nhãn này áp dụng cho mọi số liệu, biểu đồ và bảng của trang.",
        "en": "{note} A simulated portal at {percent} % of the published real usage: {visits} visits and "
        "{api} API calls from {start} to {end} (the real portal: 4.68 million visits, 1.2 million API "
        "calls). This label holds for every figure, chart and table of the page.",
    },
    "not_given": {"vi": "(chưa ghi)", "en": "(not given)"},
    "others_n": {"vi": "Khác ({n})", "en": "Others ({n})"},
    "synthetic_note": {
        "vi": "Dữ liệu mẫu (tổng hợp), không phải số liệu thật của cổng dữ liệu.",
        "en": "Demo data (synthetic), not the portal's real figures.",
    },
    "datasets": {"vi": "Tập dữ liệu", "en": "Datasets"},
    "datasets_published_open": {
        "vi": "**Tập dữ liệu đã công bố đến ngày {date}: {published}**, trong đó **{open} tập dữ liệu mở** "
        "(truy cập công khai; chỉ tiêu 1.000 tập dữ liệu mở đếm các tập này).",
        "en": "**Datasets published by {date}: {published}**, of which **{open} open datasets** (public "
        "access; the 1,000 open datasets target counts these).",
    },
    "datasets_by_agency": {"vi": "Số tập dữ liệu theo cơ quan", "en": "Datasets by agency"},
    "datasets_by_theme": {"vi": "Số tập dữ liệu theo lĩnh vực", "en": "Datasets by theme"},
    "datasets_cumulative": {
        "vi": "Tổng số tập dữ liệu đã công bố, lũy kế đến cuối mỗi năm",
        "en": "Datasets published, cumulative at the end of each year",
    },
    "metadata_completeness": {"vi": "Mức đầy đủ của siêu dữ liệu", "en": "Metadata completeness"},
    "catalog_overview": {"vi": "Tổng quan danh mục dữ liệu", "en": "Catalog overview"},
    "period": {"vi": "Kỳ báo cáo", "en": "Period"},
    "generated_by": {
        "vi": "Tạo bởi phòng thí nghiệm dữ liệu mở Đà Nẵng",
        "en": "Made by the Đà Nẵng open data lab",
    },
    "reports_index": {"vi": "Báo cáo định kỳ", "en": "Scheduled reports"},
    "field": {"vi": "Trường", "en": "Field"},
    "share_filled": {"vi": "Tỷ lệ có giá trị (%)", "en": "Share filled (%)"},
    "real_sources": {"vi": "Nguồn dữ liệu thật trong danh mục", "en": "Real sources in the catalog"},
    "source": {"vi": "Nguồn", "en": "Source"},
    "report_parameters": {"vi": "Tham số", "en": "Parameters"},
    "report_inputs": {"vi": "Dữ liệu đầu vào (sha256)", "en": "Inputs (sha256)"},
    "id": {"vi": "Mã", "en": "Id"},
    "title": {"vi": "Tên", "en": "Title"},
    "publisher": {"vi": "Cơ quan", "en": "Publisher"},
    "license": {"vi": "Giấy phép", "en": "Licence"},
    "spatial": {"vi": "Không gian", "en": "Spatial"},
    # catalog fields, as the completeness chart names them
    "field_description": {"vi": "Mô tả", "en": "Description"},
    "field_keywords": {"vi": "Từ khóa", "en": "Keywords"},
    "field_license": {"vi": "Giấy phép", "en": "Licence"},
    "field_frequency": {"vi": "Tần suất cập nhật", "en": "Update frequency"},
    "field_modified": {"vi": "Ngày cập nhật", "en": "Date modified"},
    "field_contact_email": {"vi": "Email liên hệ", "en": "Contact e-mail"},
    "field_temporal_start": {"vi": "Thời gian bao phủ", "en": "Temporal coverage"},
    "field_spatial_coverage": {"vi": "Phạm vi không gian", "en": "Spatial coverage"},
}


def _load_label_files() -> None:
    """Add the labels of ``lab/vocab/labels/*.yaml`` (one file per analysis package: ``key: {vi, en}``)."""
    from importlib import resources

    import yaml

    folder = resources.files("lab").joinpath("vocab/labels")
    if not folder.is_dir():
        return
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if item.name.endswith(".yaml"):
            # libyaml's loader when installed (~10× faster: every public app's kernel loads these)
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            for key, texts in (yaml.load(item.read_text(encoding="utf-8"), Loader=loader) or {}).items():
                if key in LABELS:
                    raise ValueError(f"label {key!r} of {item.name} is declared twice")
                LABELS[key] = texts


_load_label_files()


def t(key: str, lang: str = "vi") -> str:
    """The label ``key`` in ``lang`` (NFC). Unknown keys raise KeyError: labels must be declared."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    return unicodedata.normalize("NFC", LABELS[key][lang])


def theme_label(theme: str, lang: str = "vi") -> str:
    """The name of a catalog theme (vocabulary id, e.g. ``economy``) in ``lang``; unknown ids as they are."""
    from lab.catalog import vocabularies

    entry = vocabularies()["themes"].get(theme)
    return unicodedata.normalize("NFC", entry[lang]) if entry else theme


def label_values(frame: pl.DataFrame, column: str, lang: str = "vi", *, kind: str) -> pl.DataFrame:
    """Replace the ids in ``column`` by their labels in ``lang``.

    ``kind`` is ``"theme"`` (catalog themes) or ``"field"`` (catalog fields, labels ``field_<name>``);
    values without a label are kept as they are.
    """
    import polars as pl

    if kind == "theme":
        from lab.catalog import vocabularies

        mapping = {k: theme_label(k, lang) for k in vocabularies()["themes"]}
    elif kind == "field":
        mapping = {k.removeprefix("field_"): t(k, lang) for k in LABELS if k.startswith("field_")}
    else:
        raise ValueError(f"kind {kind!r} is not 'theme' or 'field'")
    return frame.with_columns(pl.col(column).replace(mapping))
