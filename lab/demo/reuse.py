"""Reuse: the registry of products built on the portal's data, their monthly outcomes, the notary ledger.

* ``reuse/registry.csv`` follows udata's Reuse model (title, description, type, topic, unique url,
  owner, datasets, APIs) and adds what udata lacks and the city asks for: the owner's kind, launch and
  retirement dates, a status (live, retired, planned), the delivery channels, the API consumer key the
  product calls the API with, and a linked paid service. ``datasets`` and ``apis`` are ``;``-separated.
  The known kinds of reuse of Đà Nẵng are there as demo rows (temporary waste points app, food-safety
  certificate look-up, ambulance dispatch on hospital data, the paid notary look-up service); the others
  are made up so that the number of *distinct* datasets reused by launched products crosses the target
  of 50 around mid-2025. Owners repeat (one reuser, several products). A few spam-like rows (no dataset
  or an unknown one, a duplicate url) are mixed in; their ids are in ``manifest.json`` (``truth``).
* ``reuse/outcomes.csv``: what products report each month (users, sessions, API calls, transactions,
  revenue, evidence); some products never report, some months are missing.
* ``revenue/notary_ledger.csv``: paid look-ups of the notary database by notary offices, per office and
  working day from 1 January 2023; offices of the former Quảng Nam join from 1 July 2025.
"""

from __future__ import annotations

import logging
import unicodedata

import numpy as np
import polars as pl

from lab.demo import timeline
from lab.demo.catalog import weighted_choice
from lab.demo.context import Context
from lab.demo.usage import unique_hex_ids
from lab.demo.vocab import OWNER_STEMS, REUSE_IDEAS, REUSE_TYPE_LABEL, THEME_TO_TOPIC
from lab.reuse.registry import REGISTRY_COLUMNS
from lab.reuse.vocab import product_types

log = logging.getLogger(__name__)

N_REUSES = 100
"""Products in the registry, besides the spam rows."""
DISTINCT_CURVE: list[tuple[str, float]] = [
    ("2018-01-01", 0),
    ("2019-12-31", 14),
    ("2021-12-31", 27),
    ("2023-12-31", 41),
    ("2025-06-30", 50),
    ("2026-10-31", 58),
]
"""Distinct datasets reused by launched products, by date: the target of 50 is reached around mid-2025."""
LAUNCH_CURVE: list[tuple[str, float]] = [
    ("2018-01-01", 0),
    ("2019-12-31", 14),
    ("2021-12-31", 32),
    ("2023-12-31", 58),
    ("2025-06-30", 78),
    ("2026-10-31", 100),
]
TYPE_WEIGHTS = {
    "application": 45,
    "visualization": 15,
    "api": 8,
    "news_article": 8,
    "paper": 8,
    "post": 8,
    "idea": 5,
    "hardware": 3,
}
KIND_WEIGHTS = {"company": 30, "startup": 20, "agency": 10, "university": 15, "NGO": 8, "individual": 17}
THEME_WEIGHTS = {
    "transport": 18,
    "environment": 16,
    "health": 12,
    "economy": 12,
    "education": 9,
    "regions": 9,
    "society": 7,
    "justice": 5,
    "government": 5,
    "technology": 4,
    "agriculture": 3,
}
NOTARY_SERVICE = "notary-lookup"
NOTARY_FROM = "2023-01-01"
NOTARY_FEES: tuple[tuple[str, int], ...] = (("2023-01-01", 20_000), ("2025-01-01", 25_000))
"""Fee per look-up in VND by date (demo values, not the city's real fee schedule)."""
N_NOTARY_OFFICES = 18
N_NOTARY_OFFICES_QUANG_NAM = 8

KNOWN: tuple[dict, ...] = (
    {
        "title": "Ứng dụng tra cứu điểm tập kết rác tạm thời",
        "type": "application",
        "owner": "Sở Tài nguyên và Môi trường",
        "owner_kind": "agency",
        "anchors": ("waste_points",),
        "launched": "2019-08-15",
        "channels": "app;zalo",
        "api": True,
    },
    {
        "title": "Tra cứu giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
        "type": "application",
        "owner": "Ban Quản lý An toàn thực phẩm",
        "owner_kind": "agency",
        "anchors": ("food_safety",),
        "launched": "2018-10-01",
        "channels": "web;zalo;sms",
        "api": True,
    },
    {
        "title": "Hệ thống quản lý, điều phối xe cấp cứu theo dữ liệu bệnh viện",
        "type": "application",
        "owner": "Trung tâm Cấp cứu 115 Đà Nẵng",
        "owner_kind": "agency",
        "anchors": ("hospitals",),
        "launched": "2020-05-01",
        "channels": "app",
        "api": True,
    },
    {
        "title": "Dịch vụ tra cứu cơ sở dữ liệu công chứng (có thu phí)",
        "type": "api",
        "owner": "Sở Tư pháp",
        "owner_kind": "agency",
        "anchors": ("notary",),
        "launched": NOTARY_FROM,
        "channels": "web",
        "api": True,
        "paid_service": NOTARY_SERVICE,
    },
)
"""The known kinds of reuse of Đà Nẵng's open data, as demo rows (their figures are made up)."""

SPAM: tuple[dict, ...] = (
    {"title": "Dịch vụ SEO từ khóa giá rẻ", "type": "post", "datasets": "", "owner": "seo.dichvu.mau"},
    {
        "title": "Mua bán đất nền ven biển giá tốt",
        "type": "post",
        "datasets": "999999",
        "owner": "nhadat.mau",
        "duplicate_url": True,
    },
    {
        "title": "Bản đồ dữ liệu mở",
        "type": "visualization",
        "datasets": "",
        "owner": "Nguyễn Văn A",
        "duplicate_url": True,
    },
    {"title": "Kiếm tiền online nhanh", "type": "idea", "datasets": "", "owner": "kiemtien.mau"},
    {"title": "test", "type": "idea", "datasets": "1", "owner": "test.mau"},
)
"""Spam-like registry rows (no dataset, an unknown dataset, a duplicate url)."""


def slug(text: str) -> str:
    """ASCII slug of a Vietnamese title: ``Bản đồ giá đất`` → ``ban-do-gia-dat``."""
    ascii_ = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_ = "".join(c for c in ascii_ if not unicodedata.combining(c)).lower()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_).split())[:48].strip("-")


def _day(text: str) -> np.datetime64:
    """``YYYY-MM-DD`` → ``datetime64[D]``."""
    return np.datetime64(text, "D")


def _pick_datasets(
    rng: np.random.Generator,
    cat: pl.DataFrame,
    theme: str,
    launched: np.datetime64,
    used: list[int],
    n_new: int,
    n_old: int,
) -> list[int]:
    """Catalog row indices for one reuse, all of the reuse's theme (an air-quality study is built on
    environment datasets, never on the budget): ``n_new`` never reused before (issued a month before
    launch, public), ``n_old`` already reused. Fewer when the theme has fewer."""
    issued = cat["issued"].to_numpy().astype("datetime64[D]")
    public = (cat["access_rights"] == "public").to_numpy()
    mine = (cat["theme"] == theme).fill_null(False).to_numpy()
    pop = cat["_popularity"].to_numpy()
    fresh = np.ones(cat.height, dtype=bool)
    fresh[used] = False
    ok = np.flatnonzero(fresh & public & mine & (issued <= launched - 30))
    chosen: list[int] = []
    if n_new and len(ok):
        w = pop[ok]
        chosen += rng.choice(ok, min(n_new, len(ok)), replace=False, p=w / w.sum()).tolist()
    pool = np.asarray(sorted(i for i in set(used) if mine[i]), dtype=np.int64)
    if n_old and len(pool):
        chosen += rng.choice(pool, min(n_old, len(pool)), replace=False).tolist()
    return sorted(set(chosen))


def _theme_with_data(cat: pl.DataFrame, theme: str, launched: np.datetime64, used: list[int]) -> str:
    """``theme`` if it has a public dataset issued a month before ``launched`` (or one already reused),
    else the theme with the most such datasets: a reuse is only of a theme the portal has data for."""
    issued = cat["issued"].to_numpy().astype("datetime64[D]")
    public = (cat["access_rights"] == "public").to_numpy()
    ready = public & (issued <= launched - 30)
    ready[used] = True
    themes = cat["theme"].fill_null("").to_numpy()
    if (ready & (themes == theme)).any():
        return theme
    names, counts = np.unique(themes[ready & (themes != "")], return_counts=True)
    return str(names[np.argmax(counts)]) if len(names) else theme


def registry(rng: np.random.Generator, cat: pl.DataFrame) -> tuple[pl.DataFrame, list[dict], dict]:
    """The reuse registry, the API consumers the reuses declared, and ground truth for tests.

    Returns
    -------
    tuple
        The registry (one row per reuse, sorted by ``created``), the declared consumers
        (``key``, ``start``, ``end``, ``datasets`` as catalog rows, ``weight``) and ``truth`` (spam ids,
        known-kind ids, the date the 50th distinct dataset was first reused).
    """
    n_other = N_REUSES - len(KNOWN)
    anchors = {a: i for i, a in enumerate(cat["_anchor"].to_list()) if a}
    when = np.sort(timeline.curve_dates(rng.random(n_other), LAUNCH_CURVE))
    rows: list[dict] = [{**k, "when": _day(k["launched"]), "theme": None, "known": True} for k in KNOWN] + [
        {"when": when[i], "known": False} for i in range(n_other)
    ]
    rows.sort(key=lambda r: (r["when"], not r["known"]))
    kinds = weighted_choice(rng, KIND_WEIGHTS, len(rows))
    types = weighted_choice(rng, TYPE_WEIGHTS, len(rows))
    themes = weighted_choice(rng, THEME_WEIGHTS, len(rows))
    owners = {k: np.asarray(v) for k, v in OWNER_STEMS.items()}
    end = _day(timeline.WINDOW_END.isoformat())
    knots_x = np.array([_day(d).astype(np.int64) for d, _ in DISTINCT_CURVE], dtype=float)
    knots_y = np.array([v for _, v in DISTINCT_CURVE], dtype=float)
    used: list[int] = []
    reached_50: str | None = None
    out: list[dict] = []
    for i, r in enumerate(rows):  # ~100 reuses
        planned = not r["known"] and r["when"] >= _day("2025-06-01") and rng.random() < 0.3
        if r["known"]:
            theme = cat["theme"][anchors[r["anchors"][0]]] or "government"
            ds = [anchors[a] for a in r["anchors"]]
            ds += _pick_datasets(rng, cat, theme, r["when"], used, 0, int(rng.integers(0, 2)))
            kind, rtype, owner = r["owner_kind"], r["type"], r["owner"]
        else:
            kind, rtype = str(kinds[i]), str(types[i])
            theme = _theme_with_data(cat, str(themes[i]), r["when"], used)
            owner = str(rng.choice(owners[kind]))
            target = round(float(np.interp(r["when"].astype(np.int64), knots_x, knots_y)))
            n_new = 0 if planned else max(0, target - len(set(used)))
            n_old = int(rng.integers(0, 6 if rtype in ("visualization", "paper") else 3))
            ds = _pick_datasets(rng, cat, theme, r["when"], used, n_new, n_old if used else max(n_old, 1))
            if not ds:
                ds = _pick_datasets(rng, cat, theme, r["when"], used, 1, 0)
        if not planned:
            used += ds
            if reached_50 is None and len(set(used)) >= 50:
                reached_50 = str(r["when"])
        retired = None
        if not planned and not r["known"] and r["when"] < _day("2024-01-01") and rng.random() < 0.2:
            retired = min(r["when"] + int(rng.integers(180, 4 * 365)), end - 1)
        idea = str(rng.choice(REUSE_IDEAS.get(theme, REUSE_IDEAS["government"])))
        title = r.get("title") or f"{REUSE_TYPE_LABEL[rtype]} {idea}"
        out.append(
            {
                "title": title,
                "type": rtype,
                "topic": THEME_TO_TOPIC.get(theme, "others"),  # the theme of its datasets
                "owner": owner,
                "owner_kind": kind,
                "rows": ds,
                "launched": None if planned else r["when"],
                "retired": retired,
                "planned_on": r["when"] if planned else None,
                "channels": r.get("channels") or _channels_for(rng, rtype),
                "paid_service": r.get("paid_service"),
                "known": r["known"],
                "api": _uses_api(rng, r, rtype),
            }
        )
    reg = _assemble(rng, cat, out)
    reg, spam_ids = _add_spam(rng, reg)
    declared = _declared_consumers(rng, cat, reg)
    truth = {
        "spam_reuse_ids": spam_ids,
        "known_kind_reuse_ids": reg.filter(pl.col("_known"))["reuse_id"].to_list(),
        "distinct_datasets_50_reached_on": reached_50,
        "distinct_datasets_reused": len(set(used)),
    }
    return reg, declared, truth


def _uses_api(rng: np.random.Generator, row: dict, rtype: str) -> bool:
    """Whether a reuse calls the data API: APIs and devices always, half of the applications."""
    if "api" in row:
        return bool(row["api"])
    return rtype in ("api", "hardware") or (rtype == "application" and bool(rng.random() < 0.5))


def _channels_for(rng: np.random.Generator, rtype: str) -> str:
    """How a product reaches its users (web, app, Zalo)."""
    if rtype in ("news_article", "paper", "post", "idea", "visualization", "api"):
        return "web"
    if rtype == "hardware":
        return "app"
    return str(rng.choice(["web", "app", "web;app", "app;zalo", "web;zalo"]))


def _assemble(rng: np.random.Generator, cat: pl.DataFrame, out: list[dict]) -> pl.DataFrame:
    """The registry frame of the generated reuses (ids and urls come later)."""
    ids = cat["portal_id"].to_numpy()
    has_api = cat["_has_api"].to_numpy()
    b64 = cat["_b64"].to_numpy()
    created = []
    for r in out:  # ~100 reuses
        base = r["launched"] if r["launched"] is not None else r["planned_on"] - int(rng.integers(30, 300))
        created.append(min(base + int(rng.integers(0, 120)), _day(timeline.WINDOW_END.isoformat())))
    status = [
        "planned" if r["launched"] is None else "retired" if r["retired"] is not None else "live" for r in out
    ]
    reg = pl.DataFrame(
        {
            "title": [r["title"] for r in out],
            "description": [_describe(r) for r in out],
            "type": [r["type"] for r in out],
            "topic": [r["topic"] for r in out],
            "owner": [r["owner"] for r in out],
            "owner_kind": [r["owner_kind"] for r in out],
            "datasets": [";".join(str(ids[j]) for j in r["rows"]) for r in out],
            "apis": [
                ";".join(f"/api/dataset/{b64[j]}" for j in r["rows"] if has_api[j]) if r["api"] else ""
                for r in out
            ],
            "created": pl.Series(np.asarray(created, dtype="datetime64[D]")),
            "launched": _dates([r["launched"] for r in out]),
            "retired": _dates([r["retired"] for r in out]),
            "status": status,
            "channels": [r["channels"] for r in out],
            "paid_service": [r["paid_service"] or "" for r in out],
            "_known": [r["known"] for r in out],
            "_rows": [r["rows"] for r in out],
        }
    )
    return reg


def _dates(values: list[np.datetime64 | None]) -> pl.Series:
    """Dates with nulls from a list of ``datetime64[D]`` or None."""
    arr = np.array([v if v is not None else np.datetime64("NaT") for v in values], dtype="datetime64[D]")
    return pl.Series(arr)


def _describe(r: dict) -> str:
    """A one-sentence description; the known kinds say they are demo rows of a real kind of reuse."""
    if r["known"]:
        return (
            f"{r['title']} do {r['owner']} xây dựng trên dữ liệu mở của thành phố. "
            "Dữ liệu mẫu: mô phỏng một dạng tái sử dụng có thật, số liệu không phải số liệu thật."
        )
    return f"{r['title']}, phát triển bởi {r['owner']} từ dữ liệu mở Đà Nẵng."


def _add_spam(rng: np.random.Generator, reg: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Append the spam rows, give urls and ids (``R001``... in ``created`` order)."""
    n = reg.height
    urls = [f"https://{slug(t)}-{i + 1}.example.com/" for i, t in enumerate(reg["title"].to_list())]
    reg = reg.with_columns(url=pl.Series(urls), _spam=pl.lit(False))
    created = timeline.uniform_dates(rng, len(SPAM), "2020-01-01", "2026-09-30")
    spam = pl.DataFrame(
        {
            "title": [s["title"] for s in SPAM],
            "description": ["Liên hệ ngay để được giá tốt!!!"] * len(SPAM),
            "type": [s["type"] for s in SPAM],
            "topic": ["others"] * len(SPAM),
            "owner": [s["owner"] for s in SPAM],
            "owner_kind": ["individual"] * len(SPAM),
            "datasets": [s["datasets"] for s in SPAM],
            "apis": [""] * len(SPAM),
            "created": pl.Series(created),
            "launched": pl.Series(created),
            "retired": _dates([None] * len(SPAM)),
            "status": ["live"] * len(SPAM),
            "channels": ["web"] * len(SPAM),
            "paid_service": [""] * len(SPAM),
            "_known": [False] * len(SPAM),
            "_rows": [[] for _ in SPAM],
            "url": [
                urls[int(rng.integers(0, n))]
                if s.get("duplicate_url")
                else f"https://{slug(s['title'])}-spam{j}.example.com/"
                for j, s in enumerate(SPAM)
            ],
            "_spam": [True] * len(SPAM),
        },
        schema=reg.schema,
    )
    reg = pl.concat([reg, spam]).sort("created", "title", maintain_order=True)
    reg = reg.with_columns(reuse_id="R" + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(3))
    return reg, reg.filter("_spam")["reuse_id"].to_list()


def _declared_consumers(rng: np.random.Generator, cat: pl.DataFrame, reg: pl.DataFrame) -> list[dict]:
    """API consumers of the launched reuses that use the API; sets ``api_consumer`` in the registry."""
    has_api = cat["_has_api"].to_numpy()
    uses = (reg["apis"] != "") & (reg["status"] != "planned") & ~reg["_spam"]
    keys = "app_" + pl.Series(unique_hex_ids(rng, reg.height, 12))
    declared = []
    for i in np.flatnonzero(uses.to_numpy()):  # a few dozen
        launched = reg["launched"][int(i)]
        retired = reg["retired"][int(i)]
        rows = [j for j in reg["_rows"][int(i)].to_list() if has_api[j]]
        declared.append(
            {
                "key": keys[int(i)],
                "start": timeline.to_seconds(launched),
                "end": timeline.to_seconds(retired) if retired else timeline.WINDOW_END_S,
                "datasets": rows,
                "weight": float(rng.lognormal(1.0, 1.0)) * (4.0 if reg["_known"][int(i)] else 1.0),
            }
        )
    return declared


# ---------------------------------------------------------------------------------------------- ledger
def notary_ledger(rng: np.random.Generator) -> pl.DataFrame:
    """Paid look-ups per notary office and working day: ``date``, ``office_id``, ``office``, ``lookups``,
    ``fee_vnd``, ``amount_vnd`` (= lookups × fee). Days without look-ups have no row."""
    n_off = N_NOTARY_OFFICES + N_NOTARY_OFFICES_QUANG_NAM
    days = np.arange(_day(NOTARY_FROM), _day(timeline.WINDOW_END.isoformat()) + 1)
    joined = np.concatenate(
        [
            timeline.uniform_dates(rng, N_NOTARY_OFFICES, NOTARY_FROM, "2023-09-30"),
            timeline.uniform_dates(rng, N_NOTARY_OFFICES_QUANG_NAM, "2025-07-01", "2026-03-31"),
        ]
    )
    rate = rng.lognormal(np.log(5), 0.5, n_off)
    weekday = (days.astype(np.int64) + 3) % 7
    day_factor = np.where(weekday == 6, 0.0, np.where(weekday == 5, 0.35, 1.0))
    for tet in timeline.TET:
        day_factor = np.where(np.abs((days - _day(tet)).astype(np.int64)) <= 4, 0.0, day_factor)
    years = (days - days[0]).astype(float) / 365.25
    lam = (
        rate[:, None] * day_factor[None, :] * (1 + 0.25 * years)[None, :] * (days[None, :] >= joined[:, None])
    )
    lam = lam * np.clip((days[None, :] - joined[:, None]).astype(float) / 60, 0.2, 1.0)
    lookups = rng.poisson(lam)
    off, d = np.nonzero(lookups)
    fee_days = np.array([_day(f) for f, _ in NOTARY_FEES])
    fees = np.array([v for _, v in NOTARY_FEES])[np.searchsorted(fee_days, days[d], side="right") - 1]
    office_no = pl.Series(off + 1).cast(pl.String).str.zfill(2)
    df = pl.DataFrame(
        {
            "date": pl.Series(days[d]),
            "office_id": "VPCC-" + office_no,
            "office": "Văn phòng công chứng Mẫu " + office_no,
            "lookups": lookups[off, d].astype(np.int64),
            "fee_vnd": fees.astype(np.int64),
        }
    ).with_columns(amount_vnd=pl.col("lookups") * pl.col("fee_vnd"))
    return df.sort("date", "office_id")


# --------------------------------------------------------------------------------------------- outcomes
def outcomes(rng: np.random.Generator, reg: pl.DataFrame, ledger: pl.DataFrame) -> pl.DataFrame:
    """Monthly outcomes reported by launched reuses (about 85 % of them report; ~8 % of months are missing).

    Articles, papers, posts and visualisations report only ``sessions`` (views): their ``active_users``
    and ``transactions`` are empty, as ``api_calls`` is for reuses that do not use the API. The notary
    service's transactions and revenue are the ledger's monthly sums.
    """
    launched = reg.filter(pl.col("launched").is_not_null() & ~pl.col("_spam"))
    reporting = launched.filter(pl.Series(rng.random(launched.height) < 0.85) | pl.col("_known"))
    end_month = np.datetime64(timeline.WINDOW_END.isoformat(), "M")
    first = reporting["launched"].to_numpy().astype("datetime64[M]")
    last = np.where(
        reporting["retired"].is_null().to_numpy(),
        end_month,
        reporting["retired"].fill_null(timeline.WINDOW_END).to_numpy().astype("datetime64[M]"),
    )
    n_months = (last - first).astype(np.int64) + 1
    base = pl.DataFrame(
        {
            "reuse_id": reporting["reuse_id"],
            "first": first.astype(np.int64),
            "n": n_months,
            "type": reporting["type"],
            "url": reporting["url"],
            "api": reporting["apis"] != "",
            "paid": reporting["paid_service"] == NOTARY_SERVICE,
            "scale": rng.lognormal(np.log(300), 1.1, reporting.height)
            * np.where(reporting["type"].is_in(product_types()).to_numpy(), 3.0, 0.5),
            "evidence": rng.random(reporting.height) < 0.7,
        }
    )
    m = base.with_columns(k=pl.int_ranges(0, "n")).explode("k")
    rows = m.height
    k = m["k"].to_numpy().astype(float)
    users = m["scale"].to_numpy() * (1 - np.exp(-(k + 1) / 6)) * (1 + 0.03 * k) * rng.lognormal(0, 0.2, rows)
    sessions = users * rng.uniform(2, 5, rows)
    month = (m["first"].to_numpy() + m["k"].to_numpy()).astype("datetime64[M]")
    month_str = pl.Series(month.astype(str))
    product = m["type"].is_in(product_types())
    out = pl.DataFrame(
        {
            "reuse_id": m["reuse_id"],
            "month": pl.Series(month.astype("datetime64[D]")),
            "active_users": pl.select(
                pl.when(product).then(pl.Series(np.round(users).astype(np.int64)))
            ).to_series(),
            "sessions": np.round(sessions).astype(np.int64),
            "api_calls": pl.select(
                pl.when(m["api"]).then(pl.Series(np.round(users * rng.uniform(5, 30, rows)).astype(np.int64)))
            ).to_series(),
            "transactions": pl.select(
                pl.when(product).then(
                    pl.Series(np.round(sessions * rng.uniform(0.3, 1.0, rows)).astype(np.int64))
                )
            ).to_series(),
            "revenue_vnd": np.zeros(rows, dtype=np.int64),
            "evidence_url": pl.select(
                pl.when(m["evidence"]).then(m["url"] + "thong-ke/" + month_str)
            ).to_series(),
            "_paid": m["paid"],
            "_key": month_str,
        }
    )
    monthly = ledger.group_by(pl.col("date").dt.strftime("%Y-%m").alias("_key")).agg(
        pl.col("lookups").sum().alias("_tx"), pl.col("amount_vnd").sum().alias("_rev")
    )
    out = out.join(monthly, on="_key", how="left", maintain_order="left").with_columns(
        transactions=pl.when("_paid").then(pl.col("_tx").fill_null(0)).otherwise("transactions"),
        revenue_vnd=pl.when("_paid").then(pl.col("_rev").fill_null(0)).otherwise("revenue_vnd"),
    )
    keep = pl.Series(rng.random(out.height) >= 0.08) | pl.col("_paid")
    return out.filter(keep).drop("_paid", "_key", "_tx", "_rev").sort("reuse_id", "month")


# ----------------------------------------------------------------------------------------------- steps
def write_registry(ctx: Context) -> None:
    """Step: ``reuse/registry.csv`` (and the API consumers the gateway step uses)."""
    reg, declared, truth = registry(ctx.rng("reuse"), ctx.shared["catalog"])
    uses = ((reg["apis"] != "") & (reg["status"] != "planned") & ~reg["_spam"]).to_numpy()
    keys = pl.Series([None] * reg.height, dtype=pl.String).scatter(
        np.flatnonzero(uses), pl.Series([c["key"] for c in declared], dtype=pl.String)
    )
    reg = reg.with_columns(api_consumer=keys)
    ctx.shared["registry"] = reg
    ctx.shared["declared_consumers"] = declared
    ctx.write_csv(
        "reuse/registry.csv",
        reg.select(REGISTRY_COLUMNS),
        title="Reuse registry",
        description="Products built on the portal's datasets (udata Reuse model + status, dates, "
        "owner kind, channels, paid service); datasets and apis are ';'-separated.",
    )
    launched = reg.filter(pl.col("status") != "planned")
    ctx.totals["reuses"] = reg.filter(~pl.col("_spam")).height
    ctx.totals["distinct_reused_datasets"] = truth["distinct_datasets_reused"]
    ctx.truth["reuse"] = truth | {"launched": launched.height}


def write_ledger_and_outcomes(ctx: Context) -> None:
    """Step: ``revenue/notary_ledger.csv`` and ``reuse/outcomes.csv``."""
    rng = ctx.rng("revenue")
    ledger = notary_ledger(rng)
    ctx.write_csv(
        "revenue/notary_ledger.csv",
        ledger,
        title="Notary look-up revenue ledger",
        description="Paid look-ups of the notary database per notary office and working day, from "
        "2023-01-01 (fees are demo values).",
        units={"fee_vnd": "VND", "amount_vnd": "VND"},
    )
    out = outcomes(rng, ctx.shared["registry"], ledger)
    ctx.write_csv(
        "reuse/outcomes.csv",
        out,
        title="Reuse outcomes (monthly)",
        description="What products report each month: users, sessions, API calls, transactions, "
        "revenue and an evidence link.",
        units={"revenue_vnd": "VND"},
    )
    ctx.totals["notary_revenue_vnd"] = int(ledger["amount_vnd"].sum())
