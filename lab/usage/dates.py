"""Dates and times as platforms write them: one parser for every usage adapter (polars expressions).

:func:`parse_datetime` reads, into a UTC datetime (null when the text is none of them):

==============================  ======================================================================
form                            example
==============================  ======================================================================
ISO 8601 with an offset         ``2024-05-01T10:00:00+07:00``, ``2024-05-01 03:00:00Z``, ``…+0700``
ISO 8601 without an offset      ``2024-05-01T10:00:00``, ``2024-05-01 10:00`` (in ``timezone``)
a date, a month                 ``2024-05-01``, ``20240501`` (GA4), ``2024-05`` (first day, midnight)
epoch seconds, milliseconds     ``1714532400``, ``1714532400000`` (13 digits or more: milliseconds)
Java ``Date.toString()``        ``Tue Nov 01 00:00:00 UTC 2011`` (Socrata site metrics)
RFC 2822                        ``Tue, 01 Nov 2011 00:00:00 +0000``, ``01 Nov 2011 07:00:00 GMT``
Vietnamese day first            ``31/12/2024``, ``31/12/2024 08:30``, ``31/12/2024 08:30:15``
==============================  ======================================================================

Times written without an offset are in ``timezone`` (the store's, Asia/Ho_Chi_Minh by default).
``dd/mm/yyyy`` is always day first, as Vietnamese exports write it (``03/04/2024`` is 3 April). Zone
abbreviations are read for the few a platform writes (UTC, GMT, ICT and the North American and
central European ones); another abbreviation is not guessed: the value is null.
"""

from __future__ import annotations

import polars as pl

ZONE_OFFSETS: dict[str, str] = {
    "UTC": "+0000",
    "GMT": "+0000",
    "UT": "+0000",
    "Z": "+0000",
    "ICT": "+0700",
    "EST": "-0500",
    "EDT": "-0400",
    "CST": "-0600",
    "CDT": "-0500",
    "MST": "-0700",
    "MDT": "-0600",
    "PST": "-0800",
    "PDT": "-0700",
    "CET": "+0100",
    "CEST": "+0200",
}
"""Zone abbreviations read in Java ``Date.toString()`` and RFC 2822 dates, as UTC offsets."""

_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_JAVA_RE = rf"^(?:[A-Za-z]{{3}} )?{_MONTH} +(\d{{1,2}}) (\d{{2}}:\d{{2}}:\d{{2}}) ([A-Za-z]+) (\d{{4}})$"
_RFC_RE = rf"^(?:[A-Za-z]{{3}}, *)?(\d{{1,2}}) {_MONTH} (\d{{4}}) (\d{{2}}:\d{{2}}(?::\d{{2}})?) *(\S+)$"
_VN_RE = r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"


def _zone(abbrev: pl.Expr) -> pl.Expr:
    """A zone abbreviation or numeric offset → ``+HHMM`` (null if unknown)."""
    a = abbrev.str.to_uppercase()
    numeric = a.str.replace(":", "", literal=True)
    return (
        pl.when(numeric.str.contains(r"^[+-]\d{4}$"))
        .then(numeric)
        .otherwise(a.replace_strict(ZONE_OFFSETS, default=None, return_dtype=pl.String))
    )


def _local_and_offset(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The wall-clock time as written (naive), its stated offset (``+HHMM``, null if none) and the
    epoch value (a UTC datetime, for numbers only)."""
    t = text.cast(pl.String).str.strip_chars()
    # ISO 8601: date, optional time, optional offset (Z, +07:00, +0700)
    iso = t.str.extract_groups(
        r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))? *([Zz]|[+-]\d{2}:?\d{2})?$"
    )
    iso_time = iso.struct.field("2")
    iso_local = pl.concat_str(
        [
            iso.struct.field("1"),
            pl.when(iso_time.is_null())
            .then(pl.lit("00:00:00"))
            .when(iso_time.str.len_chars() == 5)
            .then(iso_time + ":00")
            .otherwise(iso_time),
        ],
        separator=" ",
    ).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
    month_only = pl.when(t.str.contains(r"^\d{4}-\d{2}$")).then(
        (t + "-01").str.to_datetime("%Y-%m-%d", time_unit="us", strict=False)
    )
    compact = pl.when(t.str.contains(r"^\d{8}$")).then(
        t.str.to_datetime("%Y%m%d", time_unit="us", strict=False)
    )
    java = t.str.extract_groups(_JAVA_RE)
    java_local = pl.concat_str(
        [java.struct.field(k) for k in ("5", "1")]
        + [java.struct.field("2").str.zfill(2), java.struct.field("3")],
        separator=" ",
    ).str.to_datetime("%Y %b %d %H:%M:%S", time_unit="us", strict=False)
    rfc = t.str.extract_groups(_RFC_RE)
    rfc_time = rfc.struct.field("4")
    rfc_local = pl.concat_str(
        [
            rfc.struct.field("3"),
            rfc.struct.field("2"),
            rfc.struct.field("1").str.zfill(2),
            pl.when(rfc_time.str.len_chars() == 5).then(rfc_time + ":00").otherwise(rfc_time),
        ],
        separator=" ",
    ).str.to_datetime("%Y %b %d %H:%M:%S", time_unit="us", strict=False)
    vn = t.str.extract_groups(_VN_RE)
    vn_local = pl.concat_str(
        [
            vn.struct.field("3"),
            vn.struct.field("2").str.zfill(2),
            vn.struct.field("1").str.zfill(2),
            vn.struct.field("4").fill_null("0").str.zfill(2),
            vn.struct.field("5").fill_null("00"),
            vn.struct.field("6").fill_null("00"),
        ],
        separator="-",
    ).str.to_datetime("%Y-%m-%d-%H-%M-%S", time_unit="us", strict=False)
    local = pl.coalesce(iso_local, month_only, compact, java_local, rfc_local, vn_local)
    offset = (
        pl.when(iso_local.is_not_null())
        .then(_zone(iso.struct.field("3")))
        .when(java_local.is_not_null())
        .then(_zone(java.struct.field("4")))
        .when(rfc_local.is_not_null())
        .then(_zone(rfc.struct.field("5")))
    )
    # a stated zone that is not known makes the value unreadable (not guessed)
    unknown_zone = (
        (java_local.is_not_null() & java.struct.field("4").is_not_null())
        | (rfc_local.is_not_null() & rfc.struct.field("5").is_not_null())
        | (iso_local.is_not_null() & iso.struct.field("3").is_not_null())
    ) & offset.is_null()
    local = pl.when(unknown_zone).then(None).otherwise(local)
    digits = pl.when(t.str.contains(r"^-?\d{9,}$")).then(t.cast(pl.Int64, strict=False))
    epoch = (
        pl.when(digits.abs() >= 100_000_000_000)
        .then(pl.from_epoch(digits, time_unit="ms"))
        .otherwise(pl.from_epoch(digits, time_unit="s"))
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )
    return local, offset, epoch


def _apply_offset(local: pl.Expr, offset: pl.Expr) -> pl.Expr:
    """A naive wall-clock time and a ``+HHMM`` offset → UTC."""
    sign = pl.when(offset.str.slice(0, 1) == "-").then(-1).otherwise(1)
    minutes = offset.str.slice(1, 2).cast(pl.Int64) * 60 + offset.str.slice(3, 2).cast(pl.Int64)
    return (local - pl.duration(minutes=sign * minutes)).dt.replace_time_zone("UTC")


def parse_datetime(text: pl.Expr, timezone: str) -> pl.Expr:
    """Any of the forms in the module docstring → ``Datetime("us", "UTC")``; null if none.

    Parameters
    ----------
    text
        A string expression.
    timezone
        Time zone of values written without an offset.

    Examples
    --------
    >>> s = pl.Series(["Tue Nov 01 00:00:00 UTC 2011", "31/12/2024 08:30", "2024-05", "1714532400000"])
    >>> out = pl.select(parse_datetime(pl.lit(s), "Asia/Ho_Chi_Minh")).to_series()
    >>> out.dt.strftime("%F %R").to_list()
    ['2011-11-01 00:00', '2024-12-31 01:30', '2024-04-30 17:00', '2024-05-01 03:00']
    """
    local, offset, epoch = _local_and_offset(text)
    in_zone = local.dt.replace_time_zone(
        timezone, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")
    return pl.coalesce(
        pl.when(offset.is_not_null()).then(_apply_offset(local, offset)).otherwise(in_zone), epoch
    ).cast(pl.Datetime("us", "UTC"))


def _iso(text: pl.Expr, timezone: str) -> pl.Expr:
    """The common forms only (ISO 8601 with seconds, with or without an offset, or a date): cheap."""
    t = text.str.strip_chars().str.replace(" ", "T", literal=True).str.replace(r"Z$", "+00:00")
    with_offset = t.str.contains(r"[+-]\d{2}:?\d{2}$")
    aware = t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", time_unit="us", time_zone="UTC", strict=False)
    naive = (
        t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
        .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    date_only = (
        t.str.to_date("%Y-%m-%d", strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    return pl.when(with_offset).then(aware).otherwise(pl.coalesce(naive, date_only))


def _parse_series(values: pl.Series, timezone: str) -> pl.Series:
    s = values.cast(pl.String)
    out = pl.select(_iso(pl.lit(s), timezone).cast(pl.Datetime("us", "UTC"))).to_series()
    missing = (out.is_null() & s.is_not_null()).arg_true()
    if missing.len():
        slow = pl.select(parse_datetime(pl.lit(s.gather(missing)), timezone)).to_series()
        out = out.scatter(missing, slow)
    return out.alias(values.name)


def parse_timestamps(text: pl.Expr, timezone: str) -> pl.Expr:
    """:func:`parse_datetime`, fast on a column of event times: the common ISO 8601 forms are parsed
    for every row with three ``strptime`` passes, and only the rows they leave null go through every
    other form (the regular expressions cost ten times as much as the ISO passes on millions of rows).

    Examples
    --------
    >>> s = pl.Series(["2024-05-01T10:00:00+07:00", "31/12/2024 08:30", None])
    >>> pl.select(parse_timestamps(pl.lit(s), "Asia/Ho_Chi_Minh")).to_series().dt.strftime("%F %R").to_list()
    ['2024-05-01 03:00', '2024-12-31 01:30', None]
    """
    return text.map_batches(
        lambda s: _parse_series(s, timezone), return_dtype=pl.Datetime("us", "UTC"), is_elementwise=True
    )


def parse_date(text: pl.Expr, timezone: str = "UTC") -> pl.Expr:
    """The day (a ``Date``) a value writes, in any form :func:`parse_datetime` reads (epoch numbers,
    which write no wall clock, in ``timezone``).

    Examples
    --------
    >>> pl.select(parse_date(pl.lit("20240131"))).item()
    datetime.date(2024, 1, 31)
    """
    local, _, epoch = _local_and_offset(text)
    return pl.coalesce(local, epoch.dt.convert_time_zone(timezone).dt.replace_time_zone(None)).dt.date()


def parse_month(text: pl.Expr, timezone: str = "UTC") -> pl.Expr:
    """The month (first day, a ``Date``) of a date in any form :func:`parse_datetime` reads.

    The month is the one written: ``Tue Nov 01 00:00:00 UTC 2011`` is November 2011 whatever the
    store's zone (a platform's month is the platform's). Epoch numbers, which state no wall clock,
    are read in ``timezone``.

    Examples
    --------
    >>> pl.select(parse_month(pl.lit("Tue Nov 01 00:00:00 UTC 2011"))).item()
    datetime.date(2011, 11, 1)
    """
    local, _, epoch = _local_and_offset(text)
    return (
        pl.coalesce(local, epoch.dt.convert_time_zone(timezone).dt.replace_time_zone(None))
        .dt.date()
        .dt.truncate("1mo")
    )
