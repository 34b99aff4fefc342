"""Vietnamese text normalisation for matching place names across sources.

Sources disagree on how they write the same name: Unicode form (NFC or NFD), old or new tone
placement ("Hoà" vs "Hòa"), spaces ("HảiChâuI" in the GADM-style census file), administrative
prefixes ("Phường", "P.", "Xã"), case, apostrophes. The helpers here are polars expressions, so a
whole column is normalised at once; the scalar functions (:func:`nfc`, :func:`fold_tones`,
:func:`strip_accents`, :func:`place_key`) run the very same expressions on one string, so a scalar
and a column can never disagree.

Examples
--------
>>> fold_tones("Hoà Quý") == fold_tones("Hòa Quý") == "Hòa Quý"
True
>>> place_key("HảiChâuI") == place_key("Phường Hải Châu I") == place_key("P. Hải Châu I")
True
>>> place_key("phuong hai chau i")
'haichaui'
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Sequence

import polars as pl

log = logging.getLogger(__name__)

__all__ = [
    "fold_tones",
    "fold_tones_expr",
    "match_places",
    "nfc",
    "nfc_expr",
    "place_key",
    "place_key_expr",
    "strip_accents",
    "strip_accents_expr",
]

# Old-style ("hoà") → new-style ("hòa") tone placement, lower case.
_TONE_PAIRS: tuple[tuple[str, str], ...] = (
    ("oà", "òa"), ("oá", "óa"), ("oả", "ỏa"), ("oã", "õa"), ("oạ", "ọa"),
    ("oè", "òe"), ("oé", "óe"), ("oẻ", "ỏe"), ("oẽ", "õe"), ("oẹ", "ọe"),
    ("uỳ", "ùy"), ("uý", "úy"), ("uỷ", "ủy"), ("uỹ", "ũy"), ("uỵ", "ụy"),
)  # fmt: skip


def _tone_rules() -> list[tuple[str, str]]:
    """Regex rules for the three spellings of each pair: lower ("oà"), title ("Oà"), upper ("OÀ").

    The tone only moves in an open syllable: "hoàn" stays "hoàn". So a pair is folded only when the
    next character does not continue the syllable (not a lower-case letter; for the all-caps form,
    not a letter at all), which also works for names written without spaces ("HoàQuý"). "qu" is a
    consonant, so "Quý" is left alone.
    """
    rules = []
    for old, new in _TONE_PAIRS:
        for o, n, follow in (
            (old, new, r"\P{Ll}"),
            (old[0].upper() + old[1:], new[0].upper() + new[1:], r"\P{Ll}"),
            (old.upper(), new.upper(), r"\P{L}"),
        ):
            rules.append((f"(^|[^qQ]){o}({follow}|$)", f"${{1}}{n}${{2}}"))
    return rules


_TONE_RULES = _tone_rules()

# Administrative prefixes removed by place_key, matched on the lower-cased NFC text. Words need a
# space after them, dotted abbreviations do not ("P.Hải Châu"). Accent-less forms are accepted too.
_PREFIX_WORDS = (
    "phường", "phuong", "thị trấn", "thi tran", "thị xã", "thi xa", "xã", "xa", "quận", "quan",
    "huyện", "huyen", "thành phố", "thanh pho", "tỉnh", "tinh", "đặc khu", "dac khu", "tp", "tt", "tx", "p",
)  # fmt: skip
_PREFIX_ABBREV = (r"t\.p\.", r"tp\.", r"tt\.", r"tx\.", r"p\.", r"x\.", r"q\.", r"h\.")
_PREFIX_RE = (
    r"^(?:(?:"
    + "|".join(w.replace(" ", r"\s+") for w in _PREFIX_WORDS)
    + r")\s+|(?:"
    + "|".join(_PREFIX_ABBREV)
    + r")\s*)"
)


# ------------------------------------------------------------------------------------ expressions
def nfc_expr(expr: pl.Expr) -> pl.Expr:
    """Unicode NFC form of a string expression (composed characters, as most sources use).

    Examples
    --------
    >>> import unicodedata
    >>> df = pl.DataFrame({"s": [unicodedata.normalize("NFD", "Đà Nẵng")]})
    >>> df.select(nfc_expr(pl.col("s"))).item() == "Đà Nẵng"
    True
    """
    return expr.str.normalize("NFC")


def fold_tones_expr(expr: pl.Expr) -> pl.Expr:
    """NFC, then old-style tone placement folded to the new style ("Hoà" → "Hòa", "Thuỷ" → "Thủy").

    Examples
    --------
    >>> df = pl.DataFrame({"s": ["Hoà Quý", "HoàHải", "Thuỷ", "hoàn", "KHOẺ"]})
    >>> df.select(fold_tones_expr(pl.col("s"))).to_series().to_list()
    ['Hòa Quý', 'HòaHải', 'Thủy', 'hoàn', 'KHỎE']
    """
    out = nfc_expr(expr)
    for pattern, replacement in _TONE_RULES:
        out = out.str.replace_all(pattern, replacement)
    return out


def strip_accents_expr(expr: pl.Expr) -> pl.Expr:
    """Remove every diacritic, with đ → d and Đ → D ("Đà Nẵng" → "Da Nang").

    Examples
    --------
    >>> pl.select(strip_accents_expr(pl.lit("Đà Nẵng, Hòa Khánh Bắc"))).item()
    'Da Nang, Hoa Khanh Bac'
    """
    return (
        expr.str.normalize("NFD")
        .str.replace_all(r"\p{M}", "")
        .str.replace_all("đ", "d", literal=True)
        .str.replace_all("Đ", "D", literal=True)
        .str.normalize("NFC")
    )


def place_key_expr(expr: pl.Expr) -> pl.Expr:
    """A matching key for place names: prefix-, accent-, case-, spacing- and punctuation-insensitive.

    One leading administrative prefix (Phường, P., Xã, Thị trấn, Quận, Huyện, Thành phố, TP., Tỉnh,
    Đặc khu, …) is removed, then diacritics, then everything but letters and digits.

    Examples
    --------
    >>> names = ["HảiChâuI", "Phường Hải Châu I", "P. Hải Châu I", "phuong hai chau i", "Hoà Quý"]
    >>> pl.DataFrame({"n": names}).select(place_key_expr(pl.col("n"))).to_series().to_list()
    ['haichaui', 'haichaui', 'haichaui', 'haichaui', 'hoaquy']
    """
    return (
        expr.str.normalize("NFC")
        .str.to_lowercase()
        .str.strip_chars()
        .str.replace(_PREFIX_RE, "")
        .str.replace_all("đ", "d", literal=True)
        .str.normalize("NFD")
        .str.replace_all(r"[^\p{L}\p{N}]+", "")
    )


# ----------------------------------------------------------------------------------------- scalars
def _scalar(fn: Callable[[pl.Expr], pl.Expr], s: str | None) -> str | None:
    if s is None:
        return None
    return pl.select(fn(pl.lit(s, dtype=pl.String))).item()


def nfc(s: str) -> str:
    """Unicode NFC form of one string.

    Examples
    --------
    >>> nfc(unicodedata.normalize("NFD", "Hòa")) == "Hòa"
    True
    """
    return unicodedata.normalize("NFC", s)


def fold_tones(s: str) -> str:
    """NFC and new-style tone placement of one string: ``fold_tones("Hoà") == "Hòa"``.

    Examples
    --------
    >>> fold_tones("Hoà") == "Hòa"
    True
    >>> fold_tones("Phường Hoà Thuận"), fold_tones("Uỷ ban"), fold_tones("Quý")
    ('Phường Hòa Thuận', 'Ủy ban', 'Quý')
    """
    return _scalar(fold_tones_expr, s)  # type: ignore[return-value]


def strip_accents(s: str) -> str:
    """One string without diacritics (đ/Đ → d/D too).

    Examples
    --------
    >>> strip_accents("Đặc khu Hoàng Sa")
    'Dac khu Hoang Sa'
    """
    return _scalar(strip_accents_expr, s)  # type: ignore[return-value]


def place_key(s: str) -> str:
    """The matching key of one place name (see :func:`place_key_expr`).

    Examples
    --------
    >>> place_key("HảiChâuI") == place_key("Phường Hải Châu I") == place_key("P. Hải Châu I")
    True
    >>> place_key("Hoà Quý") == place_key("Hòa Quý")
    True
    >>> place_key("Thành phố Đà Nẵng"), place_key("ĐàNẵng")
    ('danang', 'danang')
    >>> place_key("Xã Ea H'leo") == place_key("Xã Ea H\u2019leo")
    True
    """
    return _scalar(place_key_expr, s)  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------- matching
def _as_series(values: pl.Series | Sequence[str | None], name: str) -> pl.Series:
    if isinstance(values, pl.Series):
        return values.cast(pl.String).rename(name)
    return pl.Series(name, list(values), dtype=pl.String)


def match_places(
    names: pl.Series | Sequence[str | None], candidates: pl.Series | Sequence[str | None]
) -> pl.DataFrame:
    """Match place names to candidate names by :func:`place_key`.

    Parameters
    ----------
    names
        The names to look up, e.g. the census file's ``ward`` column.
    candidates
        The names to find them in, e.g. the official list of units.

    Returns
    -------
    polars.DataFrame
        One row per name, in order: ``name``, ``candidate`` (the matched candidate; null when there is
        none, or when the key is ambiguous), ``key`` and ``ambiguous`` (true when several different
        candidates share the key, e.g. "Phường Hòa Khánh" and "Xã Hòa Khánh").

    Examples
    --------
    >>> m = match_places(["HoàQuý", "HảiChâuI", "Nowhere"],
    ...                  ["Phường Hòa Quý", "Phường Hải Châu I", "Phường Hải Châu II"])
    >>> m.select("name", "candidate").rows()
    [('HoàQuý', 'Phường Hòa Quý'), ('HảiChâuI', 'Phường Hải Châu I'), ('Nowhere', None)]
    >>> match_places(["Hòa Khánh"], ["Phường Hòa Khánh", "Xã Hòa Khánh"])["ambiguous"].to_list()
    [True]
    """
    left = _as_series(names, "name").to_frame().with_columns(key=place_key_expr(pl.col("name")))
    right = (
        _as_series(candidates, "candidate")
        .drop_nulls()
        .unique(maintain_order=True)
        .to_frame()
        .with_columns(key=place_key_expr(pl.col("candidate")))
        .group_by("key", maintain_order=True)
        .agg(pl.col("candidate").first(), pl.len().alias("_n"))
    )
    out = left.join(right, on="key", how="left", maintain_order="left").with_columns(
        ambiguous=pl.col("_n").fill_null(0) > 1
    )
    out = out.with_columns(candidate=pl.when(pl.col("ambiguous")).then(None).otherwise(pl.col("candidate")))
    n_missing = out["candidate"].null_count()
    if n_missing:
        log.debug("match_places: %d of %d names without a unique candidate", n_missing, out.height)
    return out.select("name", "candidate", "key", "ambiguous")


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def encode_windows_1258(text: str) -> bytes:
    """Encode text the way Windows-1258 exports write Vietnamese: base letters precomposed, tones combining.

    Windows-1258 has code points for â, ă, ê, ô, ơ, ư, đ but not for toned letters, so "ẵ" is written
    "ă" + U+0303. Use it to produce files for legacy systems (and test data for the CSV reader, which
    detects Windows-1258 and normalises it back to NFC).

    Examples
    --------
    >>> encode_windows_1258("Đà Nẵng")
    b'\\xd0\\xe0 N\\xe3\\xdeng'
    """
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
            out += (base + "".join(c for c in parts if c in _TONE_MARKS)).encode("cp1258")
    return bytes(out)
