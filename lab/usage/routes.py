"""URL paths → events and datasets: ordered, configurable routes.

A request line's target is normalised (scheme and host removed, query string dropped), then:

1. paths matching an ``exclude`` pattern are not events (static assets, the ZK framework's AJAX
   endpoint ``/zkau``, ``robots.txt``, sitemaps, favicons);
2. the first route whose pattern matches (and, if it names a dataset, yields a non-empty key) gives
   the event, the channel and the dataset key;
3. any other path is a ``page_view`` on the web (``default_event``).

The dataset key is a capture group of the pattern, its base64 decoding (the data API's tokens), or
``portal``: :func:`lab.portal.ids.dataset_id_expr` over the whole path (``/dulieuchitiet/<id>``,
``/api/dataset/<base64 id>``), which is what the default Đà Nẵng routes use. An optional ``keys``
mapping (slug or id → catalog id, as data.gouv.fr's logs need) resolves keys; unknown keys give no
dataset.

Routes can be written in YAML (``lab usage ingest --rules FILE``)::

    routes:
      - {pattern: '^/api/dataset/', event: api_call, channel: api, dataset: portal}
      - {pattern: '^/dulieuchitiet/\\d+/download', event: download, dataset: portal}
      - {pattern: '^/dulieuchitiet/\\d+', event: dataset_view, dataset: portal}
      - {pattern: '^/timkiem', event: search}
    exclude: ['\\.(css|js|png)$', '^/zkau']
    default_event: page_view
    ok_status: [200, 399]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from lab.errors import LabError
from lab.portal.ids import dataset_id_expr
from lab.usage.schema import CHANNELS, EVENTS


class RulesError(LabError):
    """A routes file or rule is malformed."""


@dataclass(frozen=True)
class Route:
    """One route: a regex over the normalised path, the event it means, and where the dataset is.

    Parameters
    ----------
    pattern
        Regular expression (Rust syntax) searched in the path; anchor it with ``^``.
    event
        One of :data:`lab.usage.schema.EVENTS`.
    channel
        ``web`` or ``api`` (a web-server log also carries API calls).
    dataset
        ``None`` (no dataset), a capture group number, ``"portal"`` (the Đà Nẵng URL shapes) or
        ``"base64:<group>"`` (a group holding the base64 of the id).
    """

    pattern: str
    event: str
    channel: str = "web"
    dataset: int | str | None = None

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise RulesError(
                f"route {self.pattern!r}: event {self.event!r} is not one of {', '.join(EVENTS)}"
            )
        if self.channel not in CHANNELS:
            raise RulesError(f"route {self.pattern!r}: channel {self.channel!r} is not one of {CHANNELS}")
        d = self.dataset
        ok = (
            d is None
            or isinstance(d, int)
            or d == "portal"
            or (isinstance(d, str) and d.startswith("base64:"))
        )
        if not ok or isinstance(d, bool):
            raise RulesError(
                f"route {self.pattern!r}: dataset must be a group number, 'portal' or 'base64:N'"
            )
        try:
            pl.select(pl.lit("").str.contains(self.pattern))
        except pl.exceptions.PolarsError as exc:
            raise RulesError(f"route pattern {self.pattern!r} is not a valid regex: {exc}") from None

    def key_expr(self, path: pl.Expr) -> pl.Expr:
        """The dataset key this route extracts from ``path`` (String, null if none)."""
        d = self.dataset
        if d is None:
            return pl.lit(None, dtype=pl.String)
        if d == "portal":
            return dataset_id_expr(path).cast(pl.String)
        if isinstance(d, str):  # base64:N
            token = path.str.extract(self.pattern, int(d.split(":", 1)[1]))
            return dataset_id_expr(pl.lit("/api/dataset/") + token).cast(pl.String)
        return path.str.extract(self.pattern, d)


STATIC_EXCLUDES = (
    r"(?i)\.(?:css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|eot|otf)$",
    r"^/(?:robots\.txt|sitemap[^/]*\.xml|favicon\.ico|apple-touch-icon[^/]*\.png|ads\.txt|humans\.txt)$",
    r"^/(?:static|assets|css|js|img|images|fonts|media)/",
    r"^/\.well-known/",
)
"""Paths that are never page views on any site: static assets, robots.txt, sitemaps, icons."""


@dataclass(frozen=True)
class UrlRules:
    """How a web log's requests become events.

    Parameters
    ----------
    routes
        Tried in order; the first that matches wins.
    exclude
        Regexes of paths that are not events at all.
    default_event
        The event of a GET of any other path (``None``: not an event).
    methods
        Request methods that can be events; others (POST form submissions, PUT, ...) are not.
    ok_status
        Inclusive ranges of the statuses that count as answered (default 200–399: 304 is a page served
        from the browser's cache, 302 the redirect to a file).
    keys
        Optional mapping of dataset keys (slugs, ids) to catalog ids; unknown keys then give no dataset.
    """

    routes: tuple[Route, ...]
    exclude: tuple[str, ...] = STATIC_EXCLUDES
    default_event: str | None = "page_view"
    methods: tuple[str, ...] = ("GET", "HEAD")
    ok_status: tuple[tuple[int, int], ...] = ((200, 399),)
    keys: Mapping[str, str] | None = field(default=None, compare=False)

    def ok_expr(self, status: pl.Expr) -> pl.Expr:
        """Whether ``status`` is an answered request under :attr:`ok_status` (null status: false)."""
        return pl.any_horizontal([status.is_between(lo, hi) for lo, hi in self.ok_status]).fill_null(False)

    def with_keys(self, keys: Mapping[str, str] | None) -> UrlRules:
        """The same rules with a key → catalog id mapping."""
        return replace(self, keys=keys)

    def classify(self, paths: pl.Series) -> pl.DataFrame:
        """Event, channel and dataset of each distinct normalised path.

        Parameters
        ----------
        paths
            Normalised paths (see :func:`normalise_target`); best given distinct.

        Returns
        -------
        polars.DataFrame
            ``path``, ``event`` (null: not an event), ``channel``, ``dataset_id``.
        """
        frame = pl.DataFrame({"path": paths.cast(pl.String)})
        p = pl.col("path")
        excluded = (
            pl.any_horizontal([p.str.contains(x) for x in self.exclude]) if self.exclude else pl.lit(False)
        )
        keys = [r.key_expr(p).replace("", None) for r in self.routes]
        hits = [
            p.str.contains(r.pattern) & (k.is_not_null() if r.dataset is not None else pl.lit(True))
            for r, k in zip(self.routes, keys, strict=True)
        ]
        event: Any = pl.lit(self.default_event, dtype=pl.String)
        channel: Any = pl.lit("web")
        key: Any = pl.lit(None, dtype=pl.String)
        for r, k, hit in reversed(list(zip(self.routes, keys, hits, strict=True))):
            event = pl.when(hit).then(pl.lit(r.event)).otherwise(event)
            channel = pl.when(hit).then(pl.lit(r.channel)).otherwise(channel)
            key = pl.when(hit).then(k).otherwise(key)
        out = frame.with_columns(
            event=pl.when(excluded | p.is_null()).then(None).otherwise(event),
            channel=channel,
            dataset_id=pl.when(excluded).then(None).otherwise(key),
        )
        if self.keys is not None:
            mapping = pl.DataFrame(
                {"dataset_id": list(self.keys.keys()), "_id": list(self.keys.values())},
                schema={"dataset_id": pl.String, "_id": pl.String},
            )
            out = out.join(mapping, on="dataset_id", how="left").with_columns(dataset_id="_id").drop("_id")
        return out

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any], *, base: UrlRules | None = None) -> UrlRules:
        """Rules from a mapping (a parsed YAML file); absent fields keep ``base``'s (default: portal's)."""
        base = base or PORTAL_RULES
        unknown = set(doc) - {"routes", "exclude", "default_event", "methods", "ok_status", "keys"}
        if unknown:
            raise RulesError(f"unknown field(s) {', '.join(sorted(unknown))} in the routes")
        routes = base.routes
        if "routes" in doc:
            try:
                routes = tuple(Route(**r) for r in doc["routes"])
            except TypeError as exc:
                raise RulesError(f"a route is malformed: {exc}") from None
        default_event = doc.get("default_event", base.default_event)
        if default_event is not None and default_event not in EVENTS:
            raise RulesError(f"default_event {default_event!r} is not one of {', '.join(EVENTS)}")
        ok = doc.get("ok_status", base.ok_status)
        if ok and isinstance(ok[0], int):
            ok = [ok]
        if not ok or not all(
            isinstance(r, list | tuple) and len(r) == 2 and all(isinstance(v, int) for v in r) for r in ok
        ):
            raise RulesError("ok_status must be [lowest, highest] or a list of such ranges")
        return cls(
            routes=routes,
            exclude=tuple(doc.get("exclude", base.exclude)),
            default_event=default_event,
            methods=tuple(m.upper() for m in doc.get("methods", base.methods)),
            ok_status=tuple((int(lo), int(hi)) for lo, hi in ok),
            keys=doc.get("keys", base.keys),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> UrlRules:
        """Rules from a YAML file (see the module docstring)."""
        try:
            doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise RulesError(f"cannot read the routes: {str(exc).splitlines()[0]}", file=path) from None
        if not isinstance(doc, dict):
            raise RulesError("a routes file is a mapping with 'routes', 'exclude', ...", file=path)
        try:
            return cls.from_mapping(doc)
        except RulesError as exc:
            raise RulesError(exc.message, file=path) from None


def normalise_target(target: pl.Expr) -> pl.Expr:
    """The path of a request target: scheme and host removed, query string and fragment dropped.

    Examples
    --------
    >>> pl.select(normalise_target(pl.lit("https://www.data.gouv.fr/datasets/x/?a=1"))).item()
    '/datasets/x/'
    """
    return target.str.replace(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]*", "").str.replace(r"[?#].*$", "")


PORTAL_RULES = UrlRules(
    routes=(
        Route(r"^/api/dataset/", "api_call", "api", "portal"),
        Route(r"^/dulieuchitiet/\d+/download(?:/|$)", "download", "web", "portal"),
        Route(r"^/dulieuchitiet/\d+(?:/|$)", "dataset_view", "web", "portal"),
        Route(r"^/timkiem(?:/|$)", "search"),
    ),
    exclude=(*STATIC_EXCLUDES, r"^/zkau(?:/|$)", r"^/zkres/"),
)
"""The Đà Nẵng portal (congdulieu.vn / opendata.danang.gov.vn): dataset pages ``/dulieuchitiet/<id>``,
their downloads ``/dulieuchitiet/<id>/download``, the data API ``/api/dataset/<base64 id>``, search
``/timkiem``; ``/zkau`` is the ZK framework's AJAX endpoint, not a page."""


def datagouv_rules(keys: Mapping[str, str] | None = None) -> UrlRules:
    """data.gouv.fr's HAProxy routes, as its metrics pipeline counts them (datagouvfr_data_pipelines,
    ``dgv/metrics/config.yaml``): resource downloads first, then datasets under ``/api/1``, ``/api/2``
    and the web pages with or without a language prefix; only 200 and 302 answers count.

    Parameters
    ----------
    keys
        Dataset slug or id → dataset id (from the catalogue export); unknown keys give no dataset.
    """
    return UrlRules(
        routes=(
            Route(r"^/(?:fr|en|es)/datasets/r/([^/]+)", "download", "web"),
            Route(r"^/api/1/datasets/r/([^/]+)", "download", "api"),
            Route(r"^/api/1/datasets/[^/]+/resources/([^/]+)", "api_call", "api"),
            Route(r"^/api/2/datasets/resources/([^/]+)", "api_call", "api"),
            Route(r"^/resources/(.+)", "download", "web"),
            Route(r"^/api/[12]/datasets/([^/]+)", "api_call", "api", 1),
            Route(r"^/(?:(?:fr|en|es)/)?datasets/([^/]+)", "dataset_view", "web", 1),
            Route(r"^/api/", "api_call", "api"),
        ),
        exclude=STATIC_EXCLUDES[:1],
        ok_status=((200, 200), (302, 302)),
        keys=keys,
    )


def catalog_keys(ids: Sequence[str], slugs: Sequence[str] | None = None) -> dict[str, str]:
    """A key mapping where each id and each slug resolve to the id (data.gouv.fr style).

    Examples
    --------
    >>> catalog_keys(["5b3c"], ["jours-feries"])
    {'jours-feries': '5b3c', '5b3c': '5b3c'}
    """
    out: dict[str, str] = {}
    for i, dataset_id in enumerate(ids):
        if slugs is not None and slugs[i]:
            out[str(slugs[i])] = str(dataset_id)
        out[str(dataset_id)] = str(dataset_id)
    return out
