"""Matching keys for unit names: with and without diacritics, and the unit type from the prefix.

:func:`lab.text.place_key_expr` is accent-blind, which is right for most sources but merges a few real
pairs ("Trà Dơn" and "Trà Don", "Tam Đàn" and "Tam Dân" are different communes of Quảng Nam). So unit
matching tries :func:`accent_key_expr` (tone placement folded, case, spaces, prefix and punctuation
ignored, diacritics kept) first and falls back to the accent-blind key only where that is unambiguous.
:func:`type_key_expr` reads the unit type from a name's prefix, so "Phường Phước Ninh" (Đà Nẵng) and
"Xã Phước Ninh" (Quảng Nam) stay apart.

Examples
--------
>>> import polars as pl
>>> df = pl.DataFrame({"n": ["Phường Hoà Quý", "P. Hòa Quý", "Xã Trà Dơn", "TT. Ái Nghĩa", "HảiChâuI"]})
>>> df.select(accent_key_expr(pl.col("n"))).to_series().to_list()
['hòaquý', 'hòaquý', 'tràdơn', 'áinghĩa', 'hảichâui']
>>> df.select(type_key_expr(pl.col("n"))).to_series().to_list()
['phuong', 'phuong', 'xa', 'thitran', None]
"""

from __future__ import annotations

import polars as pl

from lab.text import fold_tones_expr, place_key_expr, strip_accents_expr

__all__ = ["TYPE_NAMES", "accent_key_expr", "place_key_expr", "type_key_expr"]

#: Canonical type keys and the Vietnamese type names they stand for.
TYPE_NAMES: dict[str, str] = {
    "phuong": "Phường",
    "xa": "Xã",
    "thitran": "Thị trấn",
    "dackhu": "Đặc khu",
    "quan": "Quận",
    "huyen": "Huyện",
    "thixa": "Thị xã",
    "thanhpho": "Thành phố",
    "tinh": "Tỉnh",
}

# On accent-stripped lower-case text: (prefix regex, type key). Longer prefixes first.
_TYPE_PREFIXES: tuple[tuple[str, str], ...] = (
    (r"thi\s+tran\s+", "thitran"),
    (r"thi\s+xa\s+", "thixa"),
    (r"thanh\s+pho\s+", "thanhpho"),
    (r"dac\s+khu\s+", "dackhu"),
    (r"phuong\s+", "phuong"),
    (r"xa\s+", "xa"),
    (r"quan\s+", "quan"),
    (r"huyen\s+", "huyen"),
    (r"tinh\s+", "tinh"),
    (r"t\.?t\.\s*|tt\s+", "thitran"),
    (r"t\.?x\.\s*|tx\s+", "thixa"),
    (r"t\.?p\.\s*|tp\s+", "thanhpho"),
    (r"p\.\s*", "phuong"),
    (r"x\.\s*", "xa"),
    (r"q\.\s*", "quan"),
    (r"h\.\s*", "huyen"),
)
_PREFIX_RE = "^(?:" + "|".join(p for p, _ in _TYPE_PREFIXES) + ")"


def _plain(expr: pl.Expr) -> pl.Expr:
    return strip_accents_expr(expr.str.normalize("NFC")).str.to_lowercase().str.strip_chars()


def type_key_expr(expr: pl.Expr) -> pl.Expr:
    """The unit type a name's prefix states (``phuong``, ``xa``, ``thitran``, ``dackhu``, ``quan``,
    ``huyen``, ``thixa``, ``thanhpho``, ``tinh``), null when the name has no prefix."""
    plain = _plain(expr)
    out = pl.lit(None, dtype=pl.String)
    for pattern, key in reversed(_TYPE_PREFIXES):
        out = pl.when(plain.str.contains(f"^(?:{pattern})")).then(pl.lit(key)).otherwise(out)
    return out


def accent_key_expr(expr: pl.Expr) -> pl.Expr:
    """Like :func:`lab.text.place_key_expr` but keeping diacritics (tone placement folded first)."""
    folded = fold_tones_expr(expr).str.to_lowercase().str.strip_chars()
    # the prefix is found on the accent-less text and cut by length from the accented one (same length
    # in NFC: every Vietnamese letter is one code point)
    cut = _plain(expr).str.extract(f"({_PREFIX_RE})", 1).str.len_chars().fill_null(0)
    return folded.str.slice(cut).str.replace_all(r"[^\p{L}\p{N}]+", "")
