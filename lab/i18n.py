"""Labels the public sees, in Vietnamese (primary, NFC) and English.

Keep every user-facing label here (or in the catalog), never inline in notebooks, so both languages
stay complete: a test checks every key has both.
"""

from __future__ import annotations

import unicodedata

LANGUAGES = ("vi", "en")

LABELS: dict[str, dict[str, str]] = {
    "synthetic_note": {
        "vi": "Dữ liệu mẫu (tổng hợp), không phải số liệu thật của cổng dữ liệu.",
        "en": "Demo data (synthetic), not the portal's real figures.",
    },
    "datasets": {"vi": "Tập dữ liệu", "en": "Datasets"},
    "datasets_by_agency": {"vi": "Số tập dữ liệu theo cơ quan", "en": "Datasets by agency"},
    "datasets_by_theme": {"vi": "Số tập dữ liệu theo lĩnh vực", "en": "Datasets by theme"},
    "datasets_by_year": {"vi": "Số tập dữ liệu công bố theo năm", "en": "Datasets published per year"},
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
}


def t(key: str, lang: str = "vi") -> str:
    """The label ``key`` in ``lang`` (NFC). Unknown keys raise KeyError: labels must be declared."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    return unicodedata.normalize("NFC", LABELS[key][lang])
