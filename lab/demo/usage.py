"""Usage logs in the formats the portal's servers write: web access log, API gateway, channels, sign-ups.

Volumes scale with ``scale``: at 1.0 the window holds the portal's published totals, ≈4.68 million
web visits (sessions) and ≈1.2 million API calls; sign-ups are fixed at ≈1,100 accounts.

* ``logs/web/access.log``: Nginx/Apache "combined" format, local time ``+0700``, time order.
  People browse in sessions (home, ``/dichvu?p=N`` listings, ``/dulieuchitiet/<id>`` dataset pages,
  ``.../download?format=csv`` downloads, ``/timkiem?q=`` search, ``/dangky`` sign-up); the ZK framework's
  AJAX requests (``POST /zkau``) follow some pages. Crawlers (Googlebot, bingbot, coccocbot, ...),
  scripts and an uptime monitor (``HEAD /`` every 5 minutes at scale 1) are mixed in, as are 304, 404
  and 500 answers. Requests of one visit are never more than 25 minutes apart, and visits are told
  apart by IP and User-Agent, so a 30-minute sessionisation recovers the visit count.
* ``logs/api/gateway.csv``: one row per call of ``GET /api/dataset/<base64 of the numeric id>``,
  by registered applications (consumer keys) on behalf of portal accounts. Like the real API, a call
  with an expired or wrong account gets an HTML page *with status 200* (``content_type`` text/html).
* ``logs/channels/channels.csv``: requests for the 55 channel datasets over Zalo, SMS and the app.
* ``accounts/signups.csv``: self-service sign-ups by e-mail or by the city's e-government account.

IP addresses are from the documentation ranges (RFC 5737) only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import polars as pl

from lab.demo import timeline
from lab.demo.context import Context
from lab.demo.vocab import (
    BOT_USER_AGENTS,
    HUMAN_USER_AGENTS,
    MONITOR_USER_AGENT,
    PORTAL_HOST,
    REFERRERS_LANDING,
    SEARCH_TERMS,
)

log = logging.getLogger(__name__)

VISITS_AT_SCALE_1 = 4_680_000
API_CALLS_AT_SCALE_1 = 1_200_000
CHANNEL_REQUESTS_AT_SCALE_1 = 800_000
"""Not published: a plausible volume for 55 datasets over Zalo, SMS and the app."""
BOT_LINES_AT_SCALE_1 = 2_400_000
MONITOR_FROM = "2019-01-01"
MONITOR_EVERY_S = 300
N_ACCOUNTS = 1_100
API_FROM = "2018-01-01"
EGOV_FROM = "2020-09-01"
CHANNEL_FROM = {"sms": "2018-06-01", "zalo": "2019-06-01", "app": "2020-08-01"}
MONITOR_IP = "198.51.100.10"
HUMAN_NETS = ("192.0.2.", "203.0.113.", "198.51.100.")
"""RFC 5737 documentation networks; people never get 198.51.100.200–254 (crawlers) or .10 (monitor)."""

# page kinds of the web log
HOME, LISTING, DATASET, DOWNLOAD, SEARCH, SIGNUP = range(6)
FIRST_PAGE_P = (0.28, 0.12, 0.48, 0.05, 0.05, 0.02)
NEXT_PAGE_P = (0.05, 0.22, 0.40, 0.23, 0.08, 0.02)
MAX_GAP_S = 1_500


def hex_ids(rng: np.random.Generator, n: int, chars: int) -> np.ndarray:
    """``n`` random lower-case hex strings of ``chars`` characters (even), without a Python loop."""
    return np.frombuffer(rng.bytes(n * chars // 2).hex().encode(), dtype=f"S{chars}").astype(str)


def unique_hex_ids(rng: np.random.Generator, n: int, chars: int) -> np.ndarray:
    """Like :func:`hex_ids`, but all different (the first ``n`` distinct of a larger draw)."""
    draw = hex_ids(rng, 2 * n + 16, chars)
    _, first = np.unique(draw, return_index=True)
    return draw[np.sort(first)[:n]]


def _pick(rng: np.random.Generator, weighted: tuple[tuple[str, float], ...], n: int) -> pl.Series:
    """``n`` values drawn from ``(value, weight)`` pairs, as a string Series."""
    p = np.array([w for _, w in weighted], dtype=float)
    return pl.Series([v for v, _ in weighted], dtype=pl.String).gather(
        rng.choice(len(p), size=n, p=p / p.sum())
    )


def _const(value: str, n: int) -> pl.Series:
    """``value`` repeated ``n`` times."""
    return pl.repeat(value, n, eager=True, dtype=pl.String)


def _available(
    rng: np.random.Generator, t: np.ndarray, issued_s: np.ndarray, popularity: np.ndarray
) -> np.ndarray:
    """For each time ``t``, a dataset index among those already issued, weighted by popularity (-1: none)."""
    n_avail = np.searchsorted(issued_s, t, side="right")
    cum = np.cumsum(popularity)
    top = np.where(n_avail > 0, cum[np.maximum(n_avail - 1, 0)], 0.0)
    idx = np.searchsorted(cum, rng.random(len(t)) * top, side="right")
    return np.where(n_avail > 0, np.minimum(idx, np.maximum(n_avail - 1, 0)), -1)


def _issued_seconds(cat: pl.DataFrame) -> np.ndarray:
    """Issue dates of the catalog rows as window seconds (sorted, as the catalog is)."""
    return cat["issued"].to_numpy().astype("datetime64[s]").astype(np.int64)


# --------------------------------------------------------------------------------------------- accounts
def signups(rng: np.random.Generator) -> pl.DataFrame:
    """≈1,100 sign-ups over the window: ``timestamp``, opaque ``account_id``, ``method`` email|egov."""
    w = timeline.day_weights(rng, growth=0.3, weekend=0.4)
    t = timeline.sample_seconds(rng, N_ACCOUNTS, w, timeline.HOURS_OFFICE)
    egov_from = timeline.to_seconds(EGOV_FROM)
    years_after = np.clip((t - egov_from) / (365.25 * timeline.DAY), 0, None)
    egov = (t >= egov_from) & (rng.random(len(t)) < np.minimum(0.25 + 0.15 * years_after, 0.7))
    return pl.DataFrame(
        {
            "timestamp": timeline.iso_seconds(t),
            "account_id": "acc_" + pl.Series(unique_hex_ids(rng, len(t), 10)),
            "method": np.where(egov, "egov", "email"),
            "_t": t,
        }
    )


# ---------------------------------------------------------------------------------------------- web log
def _browser_versions(t: np.ndarray) -> dict[str, pl.Series]:
    """Browser major versions at times ``t`` (Chrome 59 in mid-2017, about 9.5 releases a year)."""
    years = (t - timeline.to_seconds("2017-06-01")) / (365.25 * timeline.DAY)
    return {
        "{v}": pl.Series(np.floor(59 + 9.5 * years).astype(np.int64)).cast(pl.String),
        "{c}": pl.Series(np.floor(66 + 9.5 * years).astype(np.int64)).cast(pl.String),
        "{f}": pl.Series(np.floor(54 + 9.5 * years).astype(np.int64)).cast(pl.String),
        "{s}": pl.Series(np.floor(11 + years).astype(np.int64)).cast(pl.String),
        "{i}": pl.Series(np.floor(11 + years).astype(np.int64)).cast(pl.String),
    }


def _human_agents(rng: np.random.Generator, t: np.ndarray) -> pl.Series:
    """A browser User-Agent per visit, with the browser versions of the visit's date (lagging 0–3).

    The strings are made once per (browser, day) that occurs and gathered: a month of a scale-1 log has
    ~40,000 visits but a few hundred distinct agents.
    """
    p = np.array([w for _, w in HUMAN_USER_AGENTS], dtype=float)
    template = rng.choice(len(p), size=len(t), p=p / p.sum())
    lagged = t - rng.integers(0, 100, len(t)) * timeline.DAY
    day = lagged // timeline.DAY
    key = template.astype(np.int64) * (1 << 32) + (day - day.min() if len(day) else day)
    uniq, inverse = np.unique(key, return_inverse=True)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[inverse] = np.arange(len(key))  # any visit of each (browser, day): the strings are the same
    ua = pl.Series([v for v, _ in HUMAN_USER_AGENTS], dtype=pl.String).gather(template[first])
    for name, version in _browser_versions(day[first] * timeline.DAY).items():
        ua = pl.select(ua.str.replace_all(name, version, literal=True)).to_series()
    return ua.gather(inverse)


def _ips(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` visitor addresses from the documentation networks (never the crawler or monitor hosts)."""
    net = rng.integers(0, len(HUMAN_NETS), n)
    host = np.where(net == 2, rng.integers(20, 200, n), rng.integers(1, 255, n))
    return pl.Series(HUMAN_NETS, dtype=pl.String).gather(net) + pl.Series(host).cast(pl.String)


# long: one seeded draw per column; the order of the draws is the demo's bytes
def _human_requests(
    rng: np.random.Generator, cat: pl.DataFrame, start: np.ndarray
) -> tuple[pl.DataFrame, dict]:
    """The page requests of the visits starting at ``start`` (one row per request) and their counts."""
    n_sessions = len(start)
    pages = np.minimum(rng.geometric(0.42, n_sessions), 25)
    sess = np.repeat(np.arange(n_sessions), pages)
    n = len(sess)
    first_idx = np.concatenate([[0], np.cumsum(pages)[:-1]]) if n_sessions else np.empty(0, np.int64)
    first = np.zeros(n, dtype=bool)
    first[first_idx] = True
    gaps = np.minimum(rng.exponential(50, n), MAX_GAP_S).astype(np.int64) + 1
    gaps[first] = 0
    cs = np.cumsum(gaps)
    t = np.minimum(np.repeat(start, pages) + cs - np.repeat(cs[first_idx], pages), timeline.WINDOW_END_S)

    kind = np.where(first, rng.choice(6, n, p=FIRST_PAGE_P), rng.choice(6, n, p=NEXT_PAGE_P))
    ds = _available(rng, t, _issued_seconds(cat), cat["_popularity"].to_numpy())
    kind = np.where((ds < 0) & np.isin(kind, [DATASET, DOWNLOAD]), HOME, kind)
    # a download is of the dataset last viewed in the visit, if any (rows of a visit are contiguous)
    row = np.arange(n)
    last_view = np.maximum.accumulate(np.where(kind == DATASET, row, -1)) if n else row
    in_visit = last_view >= np.repeat(first_idx, pages)
    ds = np.where((kind == DOWNLOAD) & in_visit, ds[np.maximum(last_view, 0)], ds)

    has_download = cat["_has_download"].to_numpy()[np.maximum(ds, 0)]
    u = rng.random(n)
    missing = (kind == DATASET) & (u < 0.008)  # an old bookmark or a mistyped id
    wrong_id = rng.integers(1, 999, n)
    status = np.full(n, 200)
    status = np.where(np.isin(kind, [HOME, LISTING, DATASET]) & (u > 0.955), 304, status)
    status = np.where(missing | (kind == DOWNLOAD) & ~has_download, 404, status)
    status = np.where(rng.random(n) < 0.002, 500, status)

    n_pages = np.maximum(np.ceil(np.searchsorted(_issued_seconds(cat), t, side="right") / 20), 1)
    listing_p = np.minimum(rng.geometric(0.35, n), n_pages).astype(np.int64)
    term = rng.integers(0, len(SEARCH_TERMS), n)
    # every path is one of a few thousand: made once (the lookup table), then gathered by index
    table, offsets = _path_table(cat, int(listing_p.max()) if n else 1)
    dsi = np.maximum(ds, 0)
    index = np.select(
        [kind == HOME, kind == LISTING, missing, kind == DATASET, kind == DOWNLOAD, kind == SEARCH],
        [
            offsets["home"],
            offsets["listing"] + listing_p - 1,
            offsets["missing"] + wrong_id - 1,
            offsets["dataset"] + dsi,
            offsets["download"] + dsi,
            offsets["search"] + term,
        ],
        offsets["signup"],
    )
    path = table.gather(index)

    s_ip, s_ua = _ips(rng, n_sessions), _human_agents(rng, start)
    p_land = np.array([w for _, w in REFERRERS_LANDING], dtype=float)
    landing = rng.choice(len(p_land), size=n, p=p_land / p_land.sum())
    # the previous request of the same visit, except on a visit's first row: the landing referrer
    referers = pl.concat([PORTAL_HOST + table, pl.Series([v for v, _ in REFERRERS_LANDING], dtype=pl.String)])
    prev = np.r_[0, index[:-1]] if n else index
    referer = referers.gather(np.where(first, table.len() + landing, prev))
    size = np.where(kind == DOWNLOAD, rng.lognormal(11.5, 1.2, n), rng.lognormal(10.1, 0.4, n))
    size = np.where(status == 304, 0, np.where(status == 404, 1_187, np.where(status == 500, 612, size)))
    http2 = (t >= timeline.to_seconds("2020-03-01")) & (rng.random(n) < 0.6)
    requests = pl.DataFrame(
        {
            "t": t,
            "ip": s_ip.gather(sess),
            "method": _const("GET", n),
            "path": path,
            "proto": pl.Series(["HTTP/1.1", "HTTP/2.0"]).gather(http2.astype(np.int64)),
            "status": status,
            "bytes": size.astype(np.int64),
            "referer": referer,
            "ua": s_ua.gather(sess),
            "kind": kind,
        }
    )
    extras = _ajax_and_forms(rng, requests)
    stats = {
        "visits": n_sessions,
        "page_views": int(np.isin(kind, [HOME, LISTING, DATASET, SEARCH, SIGNUP]).sum()),
        "downloads": int((kind == DOWNLOAD).sum()),
        "ajax_and_form_posts": extras.height,
    }
    return pl.concat([requests.drop("kind"), extras]), stats


def _path_table(cat: pl.DataFrame, listing_pages: int) -> tuple[pl.Series, dict[str, int]]:
    """Every path a visitor asks for, and where each kind starts in it: the home page, the sign-up
    page, listing pages 1…``listing_pages``, wrong ids (100001–100998), dataset pages and downloads
    (in catalog order), searches (one per term)."""
    pid = cat["portal_id"].cast(pl.String)
    parts = {
        "home": pl.Series(["/"]),
        "signup": pl.Series(["/dangky"]),
        "listing": "/dichvu?p=" + pl.Series(np.arange(1, listing_pages + 1)).cast(pl.String),
        "missing": "/dulieuchitiet/" + pl.Series(np.arange(100_001, 100_999)).cast(pl.String),
        "dataset": "/dulieuchitiet/" + pid,
        "download": "/dulieuchitiet/" + pid + "/download?format=" + cat["_format"],
        "search": "/timkiem?q=" + pl.Series(SEARCH_TERMS, dtype=pl.String),
    }
    offsets, at = {}, 0
    for name, values in parts.items():
        offsets[name] = at
        at += values.len()
    return pl.concat([v.cast(pl.String) for v in parts.values()]), offsets


def _ajax_and_forms(rng: np.random.Generator, req: pl.DataFrame) -> pl.DataFrame:
    """ZK AJAX posts after some pages and sign-up form posts: requests that are not page views."""
    n = req.height
    u = rng.random(n)
    kind = req["kind"].to_numpy()
    ok = req["status"].to_numpy() == 200
    ajax = ok & np.isin(kind, [HOME, LISTING, DATASET, SEARCH]) & (u < 0.3)
    form = ok & (kind == SIGNUP) & (u < 0.25)
    pick = req.filter(pl.Series(ajax | form))
    is_form = pl.Series(form[ajax | form])
    m = pick.height
    return pick.select(
        t=pl.col("t")
        + pl.Series(np.where(is_form.to_numpy(), rng.integers(40, 200, m), rng.integers(1, 10, m))),
        ip="ip",
        method=pl.lit("POST"),
        path=pl.when(is_form).then(pl.lit("/dangky")).otherwise(pl.lit("/zkau")),
        proto="proto",
        status=pl.when(is_form).then(pl.lit(302)).otherwise(pl.lit(200)).cast(pl.Int64),
        bytes=pl.when(is_form)
        .then(pl.lit(0))
        .otherwise(pl.Series(rng.integers(80, 2_000, m)))
        .cast(pl.Int64),
        referer=PORTAL_HOST + pl.col("path"),
        ua="ua",
    ).with_columns(t=pl.min_horizontal("t", pl.lit(timeline.WINDOW_END_S)))


def _bot_requests(rng: np.random.Generator, cat: pl.DataFrame, t: np.ndarray) -> pl.DataFrame:
    """Crawler and script requests at times ``t``: dataset pages, listings, robots.txt, sitemaps,
    vulnerability probes."""
    n = len(t)
    ua = _pick(rng, BOT_USER_AGENTS, n)
    script = ua.str.starts_with("python") | ua.str.starts_with("curl")
    ds = _available(rng, t, _issued_seconds(cat), np.ones(cat.height))
    pid = pl.Series(cat["portal_id"].to_numpy()[np.maximum(ds, 0)]).cast(pl.String)
    u = pl.Series(rng.random(n))
    probes = pl.Series(np.array(["/wp-login.php", "/.env", "/admin", "/phpmyadmin/"])[rng.integers(0, 4, n)])
    path = pl.select(
        pl.when(script & (u < 0.5))
        .then(probes)
        .when(pl.Series(ds < 0) | (u < 0.05))
        .then(pl.lit("/robots.txt"))
        .when(u < 0.10)
        .then(pl.lit("/sitemap.xml"))
        .when(u < 0.15)
        .then(pl.lit("/"))
        .when(u < 0.32)
        .then("/dichvu?p=" + pl.Series(rng.integers(1, 45, n)).cast(pl.String))
        .otherwise("/dulieuchitiet/" + pid)
    ).to_series()
    status = pl.select(
        pl.when(path.is_in(["/wp-login.php", "/.env", "/admin", "/phpmyadmin/"]))
        .then(404)
        .when(pl.Series(rng.random(n) < 0.01))
        .then(301)
        .otherwise(200)
    ).to_series()
    return pl.DataFrame(
        {
            "t": t,
            "ip": "198.51.100." + pl.Series(rng.integers(200, 255, n)).cast(pl.String),
            "method": _const("GET", n),
            "path": path,
            "proto": _const("HTTP/1.1", n),
            "status": status.cast(pl.Int64),
            "bytes": np.where(
                path.to_numpy() == "/robots.txt",
                112,
                np.where(status.to_numpy() == 200, rng.lognormal(10.0, 0.5, n), 300),
            ).astype(np.int64),
            "referer": _const("-", n),
            "ua": ua,
        }
    )


def _monitor_requests(scale: float, lo: int, hi: int) -> pl.DataFrame:
    """An uptime monitor: ``HEAD /`` every ``MONITOR_EVERY_S / scale`` seconds from 2019 (those in
    ``[lo, hi)``)."""
    step = max(1, round(MONITOR_EVERY_S / scale))
    first = timeline.to_seconds(MONITOR_FROM)
    lo = max(lo, first)
    lo = first + -(-(lo - first) // step) * step  # the first tick at or after lo
    t = np.arange(lo, min(hi, timeline.WINDOW_END_S + 1), step, dtype=np.int64)
    n = len(t)
    return pl.DataFrame(
        {
            "t": t,
            "ip": _const(MONITOR_IP, n),
            "method": _const("HEAD", n),
            "path": _const("/", n),
            "proto": _const("HTTP/1.1", n),
            "status": np.full(n, 200, dtype=np.int64),
            "bytes": np.zeros(n, np.int64),
            "referer": _const("-", n),
            "ua": _const(MONITOR_USER_AGENT, n),
        }
    )


def web_log(
    rng: np.random.Generator, cat: pl.DataFrame, scale: float, stats: dict[str, int]
) -> Iterator[pl.Series]:
    """The access log lines (combined format, time order), month by month: a streamed log.

    Visits and crawler requests are spread over the days once (exact totals); each month's are then
    drawn, merged with the requests of visits that began in the month before and ran past midnight,
    sorted and formatted. ``stats`` is filled as the months go: ``visits``, ``page_views``,
    ``downloads``, ``ajax_and_form_posts``, ``bot_lines``, ``monitor_lines``, ``log_lines``.
    """
    human_days = timeline.day_counts(
        rng, round(VISITS_AT_SCALE_1 * scale), timeline.day_weights(rng, growth=0.22, weekend=0.55)
    )
    bot_days = timeline.day_counts(
        rng,
        round(BOT_LINES_AT_SCALE_1 * scale),
        timeline.day_weights(rng, growth=0.5, weekend=1.0, tet=1.0),
    )
    for key in ("visits", "page_views", "downloads", "ajax_and_form_posts", "bot_lines", "monitor_lines"):
        stats[key] = 0
    stats["log_lines"] = 0
    day_s = timeline.days().astype("datetime64[s]").astype(np.int64)
    carry: pl.DataFrame | None = None
    for a, b in timeline.month_chunks():
        lo = int(day_s[a])
        hi = int(day_s[b]) if b < len(day_s) else timeline.WINDOW_END_S + 1
        parts = [] if carry is None else [carry]
        start = timeline.seconds_on_days(rng, human_days[a:b], a, timeline.HOURS_OFFICE)
        if len(start):
            human, counts = _human_requests(rng, cat, start)
            parts.append(human)
            for key, value in counts.items():
                stats[key] += value
        bot_t = timeline.seconds_on_days(rng, bot_days[a:b], a, np.ones(24))
        if len(bot_t):
            parts.append(_bot_requests(rng, cat, bot_t))
            stats["bot_lines"] += len(bot_t)
        monitor = _monitor_requests(scale, lo, hi)
        parts.append(monitor)
        stats["monitor_lines"] += monitor.height
        month = pl.concat(parts).with_row_index("seq").sort("t", "seq").drop("seq")
        carry = month.filter(pl.col("t") >= hi)
        month = month.filter(pl.col("t") < hi)
        stats["log_lines"] += month.height
        yield _combined_lines(month)
    if carry is not None and carry.height:  # nothing runs past the window's end (times are clipped)
        stats["log_lines"] += carry.height
        yield _combined_lines(carry)


def _combined_lines(req: pl.DataFrame) -> pl.Series:
    """Requests as combined-log-format lines."""
    return req.select(
        pl.concat_str(
            "ip",
            pl.lit(" - - ["),
            timeline.clf_seconds(req["t"]),
            pl.lit('] "'),
            "method",
            pl.lit(" "),
            "path",
            pl.lit(" "),
            "proto",
            pl.lit('" '),
            pl.col("status").cast(pl.String),
            pl.lit(" "),
            pl.col("bytes").cast(pl.String),
            pl.lit(' "'),
            "referer",
            pl.lit('" "'),
            "ua",
            pl.lit('"'),
        )
    ).to_series()


# ----------------------------------------------------------------------------------------------- API
def consumers(
    rng: np.random.Generator, cat: pl.DataFrame, accounts: pl.DataFrame, declared: list[dict]
) -> pl.DataFrame:
    """API applications: the reuses that declared an API use, plus undeclared ones.

    Parameters
    ----------
    declared
        From the reuse registry: ``{"key", "start", "end", "datasets", "weight"}`` per declared consumer
        (``start``/``end`` as window seconds, ``datasets`` as catalog row indices).

    Returns
    -------
    polars.DataFrame
        ``key``, ``account_id``, ``start``, ``end``, ``weight``, ``datasets`` (list of row indices),
        ``expires`` (window seconds after which its account is expired, or a time after the window),
        ``scraper`` (bool).
    """
    api_rows = np.flatnonzero(cat["_has_api"].to_numpy())
    pop = cat["_popularity"].to_numpy()
    issued_s = _issued_seconds(cat)
    n_undeclared = 60
    start = (
        timeline.uniform_dates(rng, n_undeclared, API_FROM, "2026-06-30")
        .astype("datetime64[s]")
        .astype(np.int64)
    )
    dur = rng.uniform(0.3, 6.0, n_undeclared) * 365.25 * timeline.DAY
    end = np.minimum(start + dur.astype(np.int64), timeline.WINDOW_END_S)
    end = np.where(rng.random(n_undeclared) < 0.6, timeline.WINDOW_END_S, end)
    rows = []
    for i in range(n_undeclared):  # 60 consumers
        avail = api_rows[issued_s[api_rows] <= start[i]]
        if not len(avail):
            avail = api_rows[:5]
        k = min(len(avail), int(rng.integers(1, 9)))
        p = pop[avail] / pop[avail].sum()
        rows.append(np.sort(rng.choice(avail, k, replace=False, p=p)).tolist())
    keys = "app_" + pl.Series(unique_hex_ids(rng, n_undeclared + 1, 12))
    scraper_start = timeline.to_seconds("2024-03-04")
    table = pl.DataFrame(
        {
            "key": pl.concat([pl.Series([d["key"] for d in declared], dtype=pl.String), keys]),
            "start": np.concatenate([[d["start"] for d in declared], start, [scraper_start]]).astype(
                np.int64
            ),
            "end": np.concatenate(
                [[d["end"] for d in declared], end, [scraper_start + 70 * timeline.DAY]]
            ).astype(np.int64),
            "weight": np.concatenate(
                [[d["weight"] for d in declared], rng.lognormal(0, 1.5, n_undeclared), [3.0]]
            ),
            "datasets": [d["datasets"] for d in declared]
            + rows
            + [api_rows[issued_s[api_rows] <= scraper_start].tolist()],
            "scraper": [False] * (len(declared) + n_undeclared) + [True],
        }
    )
    n = table.height
    acc_t = accounts["_t"].to_numpy()
    acc_i = np.searchsorted(acc_t, table["start"].to_numpy(), side="right")
    acc_i = np.maximum((rng.random(n) * acc_i).astype(np.int64), 0)
    expires = np.where(
        rng.random(n) < 0.12,
        table["start"].to_numpy()
        + (rng.uniform(0.2, 0.9, n) * (table["end"] - table["start"]).to_numpy()).astype(np.int64),
        timeline.WINDOW_END_S + 1,
    )
    return table.with_columns(account_id=accounts["account_id"].gather(acc_i), expires=pl.Series(expires))


def api_gateway(
    rng: np.random.Generator, cat: pl.DataFrame, cons: pl.DataFrame, scale: float
) -> pl.DataFrame:
    """The API gateway log: one row per call, time order.

    Columns: ``timestamp``, ``request_id``, ``client_ip``, ``consumer_key``, ``account_id``, ``method``,
    ``path`` (``/api/dataset/<base64 id>``), ``query``, ``portal_id``, ``status``, ``content_type``,
    ``latency_ms``, ``bytes``.
    """
    total = round(API_CALLS_AT_SCALE_1 * scale)
    w_day = timeline.day_weights(rng, start=API_FROM, growth=0.6, weekend=0.8, tet=0.6)
    day_s = timeline.days().astype("datetime64[s]").astype(np.int64)
    start, end = cons["start"].to_numpy(), cons["end"].to_numpy()
    active_mass = np.array(
        [w_day[(day_s >= s) & (day_s <= e)].sum() for s, e in zip(start, end, strict=True)]
    )
    n_per = rng.multinomial(
        total, cons["weight"].to_numpy() * active_mass / (cons["weight"].to_numpy() * active_mass).sum()
    )
    t_parts, c_parts, d_parts = [], [], []
    for c in range(cons.height):  # ~100 consumers
        if n_per[c] == 0:
            continue
        w = np.where((day_s >= start[c] - timeline.DAY) & (day_s <= end[c]), w_day, 0.0)
        t = timeline.sample_seconds(rng, int(n_per[c]), w, timeline.HOURS_MACHINE)
        t = np.clip(t, start[c], end[c])
        mine = np.asarray(cons["datasets"][c].to_list(), dtype=np.int64)
        t_parts.append(t)
        c_parts.append(np.full(len(t), c))
        d_parts.append(mine[rng.integers(0, len(mine), len(t))])
    t, ci, ds = np.concatenate(t_parts), np.concatenate(c_parts), np.concatenate(d_parts)
    order = np.argsort(t, kind="stable")
    t, ci, ds = t[order], ci[order], ds[order]
    n = len(t)
    pid = cat["portal_id"].to_numpy()[ds]
    u = rng.random(n)
    missing = u < 0.008
    pid = np.where(missing, rng.integers(100_001, 100_999, n), pid)
    expired = (t >= cons["expires"].to_numpy()[ci]) & (rng.random(n) < 0.85)
    wrong = rng.random(n) < 0.005
    scraper = cons["scraper"].to_numpy()[ci]
    status = np.full(n, 200)
    status = np.where(missing, 404, status)
    status = np.where(scraper & (rng.random(n) < 0.7), 429, status)
    r = rng.random(n)
    status = np.where(r < 0.003, 500, np.where(r < 0.005, 504, status))
    html = (expired | wrong) & (status == 200)
    limit = np.array([10, 50, 100, 500, 1000])[rng.choice(5, n, p=[0.1, 0.25, 0.4, 0.15, 0.1])]
    offset = (np.minimum(rng.geometric(0.5, n), 50) - 1) * limit
    latency = rng.lognormal(np.log(120), 0.6, n) * (1 + limit / 1000)
    latency = np.where(status == 504, 30_000, np.where(status == 429, rng.integers(2, 15, n), latency))
    size = np.where(status == 200, limit * rng.uniform(150, 600, n) + 200, 180)
    size = np.where(html, 4_812, size)
    b64 = pl.Series(pid.astype(str)).str.encode("base64")
    net = np.asarray(HUMAN_NETS)[rng.integers(0, 2, cons.height)]
    host = rng.integers(1, 255, cons.height).astype(str)
    client_ip = pl.Series(np.char.add(net, host)).gather(ci)
    return pl.DataFrame(
        {
            "timestamp": timeline.iso_seconds(t),
            "request_id": pl.Series(hex_ids(rng, n, 16)),
            "client_ip": client_ip,
            "consumer_key": cons["key"].gather(ci),
            "account_id": cons["account_id"].gather(ci),
            "method": _const("GET", n),
            "path": "/api/dataset/" + b64,
            "query": "limit="
            + pl.Series(limit).cast(pl.String)
            + "&offset="
            + pl.Series(offset).cast(pl.String),
            "portal_id": pid.astype(np.int64),
            "status": status.astype(np.int64),
            "content_type": np.where(html, "text/html; charset=UTF-8", "application/json"),
            "latency_ms": np.round(latency).astype(np.int64),
            "bytes": size.astype(np.int64),
        }
    )


# -------------------------------------------------------------------------------------------- channels
def channel_requests(rng: np.random.Generator, cat: pl.DataFrame, scale: float) -> pl.DataFrame:
    """Requests for the channel datasets over Zalo, SMS and the app (each channel from its launch).

    Columns: ``timestamp``, ``channel``, ``portal_id``, ``request_type`` (lookup, subscribe,
    notification), ``user_key`` (opaque), ``status`` (ok, no_data, error).
    """
    ch = cat.filter(pl.col("channels").str.contains("zalo|sms|app"))
    n = round(CHANNEL_REQUESTS_AT_SCALE_1 * scale)
    w = timeline.day_weights(rng, start=CHANNEL_FROM["sms"], growth=0.35, weekend=0.8)
    t = timeline.sample_seconds(rng, n, w, timeline.HOURS_OFFICE)
    ds = _available(rng, t, _issued_seconds(ch), ch["_popularity"].to_numpy())
    keep = ds >= 0
    t, ds = t[keep], ds[keep]
    names = ("zalo", "sms", "app")
    allowed = np.stack(
        [
            ch["channels"].str.contains(c).to_numpy()[ds] & (t >= timeline.to_seconds(CHANNEL_FROM[c]))
            for c in names
        ],
        axis=1,
    )
    score = np.where(allowed, rng.random(allowed.shape) * np.array([1.6, 0.6, 1.0]), -1.0)
    pick = np.argmax(score, axis=1)
    ok = allowed.any(axis=1)
    t, ds, pick = t[ok], ds[ok], pick[ok]
    m = len(t)
    channel = np.asarray(names)[pick]
    u = rng.random(m)
    request_type = np.where(
        u < 0.62, "lookup", np.where((u < 0.72) & (channel == "zalo"), "subscribe", "notification")
    )
    users = "u_" + pl.Series(hex_ids(rng, max(50, m // 8), 10))
    s = rng.random(m)
    return pl.DataFrame(
        {
            "timestamp": timeline.iso_seconds(t),
            "channel": channel,
            "portal_id": ch["portal_id"].to_numpy()[ds],
            "request_type": request_type,
            "user_key": users.gather(rng.integers(0, users.len(), m)),
            "status": np.where(s < 0.95, "ok", np.where(s < 0.98, "no_data", "error")),
        }
    )


# ----------------------------------------------------------------------------------------------- steps
def write_signups(ctx: Context) -> None:
    """Step: ``accounts/signups.csv``."""
    acc = signups(ctx.rng("signups"))
    ctx.shared["accounts"] = acc
    ctx.write_csv(
        "accounts/signups.csv",
        acc.drop("_t"),
        title="Account sign-ups",
        description="Self-service sign-ups: opaque account id, e-mail or e-government account.",
    )
    ctx.totals["accounts"] = acc.height


def write_web_log(ctx: Context) -> None:
    """Step: ``logs/web/access.log``."""
    stats: dict[str, int] = {}
    ctx.write_lines(
        "logs/web/access.log",
        web_log(ctx.rng("web"), ctx.shared["catalog"], ctx.scale, stats),
        title="Portal web access log (combined format)",
        description="Nginx/Apache combined log format, local time (+0700); people, crawlers, an "
        "uptime monitor; IPs from the RFC 5737 documentation ranges.",
    )
    ctx.totals |= {
        "visits": stats["visits"],
        "page_views": stats["page_views"],
        "downloads": stats["downloads"],
    }
    ctx.truth["web"] = stats


def write_api_gateway(ctx: Context) -> None:
    """Step: ``logs/api/gateway.csv``."""
    rng = ctx.rng("api")
    cons = consumers(
        rng, ctx.shared["catalog"], ctx.shared["accounts"], ctx.shared.get("declared_consumers", [])
    )
    df = api_gateway(rng, ctx.shared["catalog"], cons, ctx.scale)
    ctx.write_csv(
        "logs/api/gateway.csv",
        df,
        title="API gateway log",
        description="One row per call of /api/dataset/<base64 id>; a 200 with text/html is the API's "
        "answer to an expired or wrong account.",
        units={"latency_ms": "ms", "bytes": "byte"},
    )
    ctx.totals["api_calls"] = df.height
    ctx.truth["api"] = {
        "consumers": cons.height,
        "html_200": int(((df["status"] == 200) & (df["content_type"] != "application/json")).sum()),
        "scraper_key": cons.filter("scraper")["key"].item(),
        # the planted undeclared reusers: keys no registered reuse declares, with calls answered with data
        "undeclared_keys": sorted(
            set(df.filter((df["status"] == 200) & (df["content_type"] == "application/json"))["consumer_key"])
            - {d["key"] for d in ctx.shared.get("declared_consumers", [])}
        ),
        "by_status": {str(k): v for k, v in df["status"].value_counts().sort("status").iter_rows()},
    }


def write_channels(ctx: Context) -> None:
    """Step: ``logs/channels/channels.csv``."""
    df = channel_requests(ctx.rng("channels"), ctx.shared["catalog"], ctx.scale)
    ctx.write_csv(
        "logs/channels/channels.csv",
        df,
        title="Zalo, SMS and app requests",
        description="Requests for the channel datasets over Zalo, SMS and the Danang Smart City app.",
    )
    ctx.totals["channel_requests"] = df.height
