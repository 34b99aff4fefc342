"""Robots and monitors by User-Agent: the published COUNTER-Robots list plus uptime monitors.

The patterns live in ``lab/vocab/usage_robots.yaml`` (with their source and licence): the COUNTER
Code of Practice's robot list, copied verbatim, and a hand-curated list of uptime monitors and
health checks. Patterns are regular expressions matched case-insensitively anywhere in the
User-Agent; monitors are tried first. A missing User-Agent (``None``: the log format does not record
it, e.g. HAProxy without a captured header) cannot tell, and counts as human; an empty or one-character
User-Agent (``-`` in a combined log) is a robot, as the COUNTER list says (``^.?$``).

Behaviour (request rate) is the other half of the rule: see :mod:`lab.usage.rules`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import polars as pl
import yaml

from lab.usage.schema import AgentClass


@dataclass(frozen=True)
class AgentPatterns:
    """The robot and monitor patterns, and where they come from."""

    robots: tuple[str, ...]
    monitors: tuple[str, ...]
    robots_source: str
    monitors_source: str

    @property
    def robots_regex(self) -> str:
        """All robot patterns as one case-insensitive alternation."""
        return "(?i)" + "|".join(f"(?:{p})" for p in self.robots)

    @property
    def monitors_regex(self) -> str:
        """All monitor patterns as one case-insensitive alternation."""
        return "(?i)" + "|".join(f"(?:{p})" for p in self.monitors)


@functools.cache
def agent_patterns() -> AgentPatterns:
    """The patterns of ``lab/vocab/usage_robots.yaml`` (read once)."""
    text = resources.files("lab").joinpath("vocab/usage_robots.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    return AgentPatterns(
        robots=tuple(str(p) for p in doc["robots"]["patterns"]),
        monitors=tuple(str(p["pattern"]) for p in doc["monitors"]["patterns"]),
        robots_source=" ".join(str(doc["robots"]["source"]).split()),
        monitors_source=" ".join(str(doc["monitors"]["source"]).split()),
    )


def agent_class_expr(ua: pl.Expr) -> pl.Expr:
    """The agent class (``human | bot | monitor``) of each User-Agent, as an expression.

    Examples
    --------
    >>> uas = ["Mozilla/5.0 (compatible; Googlebot/2.1)", "curl/8.0", "-", None,
    ...        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    ...        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36"]
    >>> pl.select(agent_class_expr(pl.Series(uas))).to_series().to_list()
    ['bot', 'bot', 'bot', 'human', 'monitor', 'human']
    """
    p = agent_patterns()
    return (
        pl.when(ua.is_null())
        .then(pl.lit("human"))
        .when(ua.str.contains(p.monitors_regex))
        .then(pl.lit("monitor"))
        .when(ua.str.contains(p.robots_regex))
        .then(pl.lit("bot"))
        .otherwise(pl.lit("human"))
        .cast(AgentClass)
    )


def classify_agents(ua: pl.Series) -> pl.Series:
    """:func:`agent_class_expr` over a Series, matching each distinct User-Agent once.

    A log has thousands of distinct User-Agents for millions of lines; the 300 patterns are
    matched against the distinct ones and the classes mapped back onto the rows.
    """
    distinct = ua.unique()
    classes = pl.select(agent_class_expr(pl.lit(distinct))).to_series()
    frame = pl.DataFrame({"ua": distinct, "agent_class": classes})
    return (
        pl.DataFrame({"ua": ua})
        .join(frame, on="ua", how="left", nulls_equal=True, maintain_order="left")
        .get_column("agent_class")
    )
