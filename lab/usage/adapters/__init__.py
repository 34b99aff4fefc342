"""One adapter per input family, registered by the ``--format`` name of ``lab usage ingest``.

=======================  =========================================  ===========  ==================
format                   input                                      kind         covers
=======================  =========================================  ===========  ==================
``combined``             Apache/Nginx combined access log           events       web (+ api routes)
``common``               Apache/Nginx common access log             events       web (+ api routes)
``haproxy``              HAProxy HTTP log                           events       web (+ api routes)
``gateway-csv``          API gateway log, CSV                       events       api
``gateway-jsonl``        API gateway log, JSON lines                events       api
``channel-csv``          Zalo / SMS / app requests, CSV             events       zalo, sms, app
``accounts``             account sign-ups, CSV                      events       accounts
``datagouv-metrics``     data.gouv.fr Metric API JSON               facts        (its months)
``socrata-site-metrics`` Socrata site metrics, monthly CSV          facts        (its months)
``ga4``                  Google Analytics 4 CSV                     facts        (its months)
=======================  =========================================  ===========  ==================

"covers" is what a file's time range vouches for: a month covered by a web log with no download in
it has zero downloads, while a month no web log covers has an unknown number (null).
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.usage.adapters.accounts import read_accounts_csv
from lab.usage.adapters.base import Adapter, Context, Reject
from lab.usage.adapters.channels import read_channel_csv
from lab.usage.adapters.datagouv import read_datagouv_metrics
from lab.usage.adapters.ga4 import read_ga4_csv
from lab.usage.adapters.gateway import read_gateway_csv, read_gateway_jsonl
from lab.usage.adapters.socrata import read_socrata_site_metrics
from lab.usage.adapters.web import read_combined, read_common, read_haproxy

__all__ = ["ADAPTERS", "FORMATS", "AdapterInfo", "Context", "Reject"]


@dataclass(frozen=True)
class AdapterInfo:
    """An adapter and what its files are."""

    read: Adapter
    kind: str  # "events" or "facts"
    covers: tuple[str, ...]
    description: str


ADAPTERS: dict[str, AdapterInfo] = {
    "combined": AdapterInfo(read_combined, "events", ("web",), "Apache/Nginx combined access log"),
    "common": AdapterInfo(read_common, "events", ("web",), "Apache/Nginx common access log"),
    "haproxy": AdapterInfo(read_haproxy, "events", ("web",), "HAProxy HTTP log"),
    "gateway-csv": AdapterInfo(read_gateway_csv, "events", ("api",), "API gateway log (CSV)"),
    "gateway-jsonl": AdapterInfo(read_gateway_jsonl, "events", ("api",), "API gateway log (JSON lines)"),
    "channel-csv": AdapterInfo(read_channel_csv, "events", ("zalo", "sms", "app"), "Zalo/SMS/app requests"),
    "accounts": AdapterInfo(read_accounts_csv, "events", ("accounts",), "account sign-ups (CSV)"),
    "datagouv-metrics": AdapterInfo(read_datagouv_metrics, "facts", (), "data.gouv.fr Metric API JSON"),
    "socrata-site-metrics": AdapterInfo(read_socrata_site_metrics, "facts", (), "Socrata site metrics CSV"),
    "ga4": AdapterInfo(read_ga4_csv, "facts", (), "Google Analytics 4 CSV export"),
}
FORMATS = tuple(ADAPTERS)
"""The ``--format`` names, as ``lab usage ingest`` lists them."""
