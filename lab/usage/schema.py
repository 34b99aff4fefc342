"""The canonical usage event, and the monthly fact imported from other platforms' aggregates.

Every adapter maps its input into one of two tables:

**Events** (one row per counted-or-not request, sign-up or channel message), Parquet partitioned by
``year=YYYY/month=MM`` (calendar months in the store's time zone, Asia/Ho_Chi_Minh by default):

================  =======================  ==========================================================
column            type                     meaning
================  =======================  ==========================================================
``ts``            datetime (µs, UTC)       when it happened, in UTC
``channel``       enum                     web | api | zalo | sms | app
``event``         enum                     page_view | search | dataset_view | download | api_call |
                                           signup | login
``visitor_key``   UInt64, nullable         keyed hash (HMAC-SHA256, first 64 bits) of the visitor:
                                           IP + User-Agent on the web, client IP on the API, the
                                           opaque user key on Zalo/SMS/app; never the raw value
``account_key``   UInt64, nullable         keyed hash of the portal account id (API calls, sign-ups)
``session_id``    UInt64, nullable         the visitor's session (30 minutes of inactivity ends one)
``dataset_id``    string, nullable         the catalog's dataset id (the portal's numeric id as text)
``app_id``        string, nullable         the API application (consumer key), as the registry names it
``status``        Int16, nullable          HTTP status (channels: ok 200, no_data 204, error 500)
``bytes``         Int64, nullable          bytes sent
``agent_class``   enum                     human | bot | monitor
``source_file``   string                   the input file's name and the first 12 hex digits of its
                                           sha256 (``access.log@1a2b3c4d5e6f``)
``counted``       bool                     whether the counting rules count it (see
                                           :mod:`lab.usage.rules`): decided once, at ingest
================  =======================  ==========================================================

``counted`` is the one column beyond the issue's list: the rules that need an event's neighbours
(sessions, double-clicks, request rate) are applied once at ingest, so every KPI is a plain filter.

**Facts** (monthly aggregates of other platforms: data.gouv.fr Metric API, Socrata site metrics,
Google Analytics 4), one Parquet file per input file: ``month`` (date, first day), ``source``
(the input format), ``dataset_id`` (null = the whole site), ``metric``, ``value``, ``partial`` (the
month is not complete in the export), ``source_file``.
"""

from __future__ import annotations

import polars as pl

CHANNELS = ("web", "api", "zalo", "sms", "app")
EVENTS = ("page_view", "search", "dataset_view", "download", "api_call", "signup", "login")
AGENT_CLASSES = ("human", "bot", "monitor")
PAGE_EVENTS = ("page_view", "search", "dataset_view")
"""Events that are a page seen by a person (``page_views`` counts all three)."""

Channel = pl.Enum(list(CHANNELS))
Event = pl.Enum(list(EVENTS))
AgentClass = pl.Enum(list(AGENT_CLASSES))

EVENT_SCHEMA = pl.Schema(
    {
        "ts": pl.Datetime("us", "UTC"),
        "channel": Channel,
        "event": Event,
        "visitor_key": pl.UInt64,
        "account_key": pl.UInt64,
        "session_id": pl.UInt64,
        "dataset_id": pl.String,
        "app_id": pl.String,
        "status": pl.Int16,
        "bytes": pl.Int64,
        "agent_class": AgentClass,
        "source_file": pl.String,
        "counted": pl.Boolean,
    }
)
"""The columns of an event partition file, in order."""

FACT_SCHEMA = pl.Schema(
    {
        "month": pl.Date,
        "source": pl.String,
        "dataset_id": pl.String,
        "metric": pl.String,
        "value": pl.Int64,
        "partial": pl.Boolean,
        "source_file": pl.String,
    }
)
"""The columns of an imported monthly fact file, in order."""

PARTITION_COLUMNS = ("year", "month")

COLUMN_DOCS: dict[str, str] = {
    "ts": "when it happened (UTC)",
    "channel": "web | api | zalo | sms | app",
    "event": "page_view | search | dataset_view | download | api_call | signup | login",
    "visitor_key": "HMAC-SHA256 (64 bits) of the visitor: IP + User-Agent, client IP, or user key",
    "account_key": "HMAC-SHA256 (64 bits) of the portal account id",
    "session_id": "session of the visitor (30 minutes of inactivity ends it)",
    "dataset_id": "catalog dataset id",
    "app_id": "API application (consumer key)",
    "status": "HTTP status (channels: ok 200, no_data 204, error 500)",
    "bytes": "bytes sent",
    "agent_class": "human | bot | monitor",
    "source_file": "input file name @ first 12 hex digits of its sha256",
    "counted": "counted under the counting rules (decided at ingest)",
}


def empty_events() -> pl.DataFrame:
    """An event table with no rows and the canonical schema."""
    return pl.DataFrame(schema=EVENT_SCHEMA)


def empty_facts() -> pl.DataFrame:
    """A fact table with no rows and the canonical schema."""
    return pl.DataFrame(schema=FACT_SCHEMA)


def conform_events(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Select the canonical event columns, in order, cast to their types (missing ones as nulls).

    Parameters
    ----------
    frame
        Events from an adapter; extra columns are dropped.

    Returns
    -------
    polars.LazyFrame
        Exactly :data:`EVENT_SCHEMA`.
    """
    lf = frame.lazy()
    have = lf.collect_schema().names()
    return lf.select(
        [
            (pl.col(name) if name in have else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in EVENT_SCHEMA.items()
        ]
    )


def conform_facts(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Like :func:`conform_events`, for monthly facts (:data:`FACT_SCHEMA`)."""
    lf = frame.lazy()
    have = lf.collect_schema().names()
    return lf.select(
        [
            (pl.col(name) if name in have else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in FACT_SCHEMA.items()
        ]
    )
