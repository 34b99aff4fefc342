"""The reuse-outcomes report, built in the library so that its notebook only calls it.

``notebooks/reports/reuse-outcomes.ipynb`` builds one :class:`ReuseReport` for a quarter and shows its parts:
the targets (datasets reused against 50, open datasets against 1,000, with projections), products and reusers,
outcomes, the lineage picture, the revenue of paid services reconciled to the ledger, the Open Data
Maturity–style impact table and the registry's problems. Every figure is as of the end of the period.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from lab.charts import Html, Svg, bar_chart, bar_chart_from, format_number, line_chart, table
from lab.i18n import LABELS, t
from lab.reuse import vocab
from lab.reuse.impact import impact_summary, impact_table
from lab.reuse.indicators import (
    products_by_status,
    reuse_rate,
    reuses_and_reusers,
    time_to_first_reuse,
    time_to_first_reuse_summary,
    top_datasets,
)
from lab.reuse.lineage import lineage_svg, lineage_table
from lab.reuse.outcomes import in_period, load_outcomes, normalise_outcomes, totals_by_reuse
from lab.reuse.registry import Registry, spam_flags
from lab.reuse.revenue import load_ledger, load_services, monthly_revenue, reconcile, revenue_per_1000_calls
from lab.reuse.targets import default_as_of, evaluate_targets, load_targets, metric_series, projection_line
from lab.reuse.validation import valid_rows, validate


def _titles_in(listing: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The listing whose dataset titles (``title_vi``, the column the tables take them from) are in
    ``lang``: the English title where the portal has one, in English pages."""
    if lang != "en" or "title_en" not in listing.columns or "title_vi" not in listing.columns:
        return listing
    return listing.with_columns(title_vi=pl.coalesce("title_en", "title_vi"))


def _status_label(status: str, lang: str) -> str:
    return t(f"reuse_status_{status.replace(' ', '_')}", lang)


@dataclass
class ReuseReport:
    """Everything the report shows for one period, computed once (see :meth:`build`)."""

    period_label: str
    start: date
    end: date
    lang: str
    min_count: int
    catalog: Any
    registry: Registry
    valid: pl.DataFrame
    known: frozenset[str]
    listing: pl.DataFrame
    outcomes: pl.DataFrame
    targets: list[dict[str, Any]]
    series: dict[str, pl.DataFrame]
    synthetic: bool
    as_of: date | None = None
    """The targets' evaluation date: the period's end, or the end of the data when that comes first."""

    @classmethod
    def build(cls, period: str, *, catalog: Any = None, lang: str = "vi", min_count: int = 10) -> ReuseReport:
        """Load the registry, outcomes, listing and targets from the catalog and compute as of the period's
        end.

        Parameters
        ----------
        period
            The period reported on (``YYYY-Qn``, also ``YYYY-MM`` or ``YYYY``).
        catalog
            The catalog or its file (default: the project's).
        lang
            ``vi`` or ``en``.
        min_count
            Agencies with fewer open datasets than this are left out of the reuse-rate chart.
        """
        from lab.catalog import as_catalog
        from lab.periods import Period
        from lab.reuse.indicators import portal_listing
        from lab.reuse.registry import known_dataset_ids, registry_from_catalog

        if lang not in ("vi", "en"):
            raise ValueError(f"language {lang!r} is not vi or en")
        per = Period.parse(period)
        cat = as_catalog(catalog)
        registry = registry_from_catalog(cat)
        known = known_dataset_ids(cat)
        listing = portal_listing(cat)
        valid = valid_rows(registry, known)
        as_of = default_as_of(cat, per.end)  # the period's end, never past the end of the data
        series = {
            t.metric: metric_series(t.metric, cat, end=as_of, listing=listing, valid=valid)
            for t in load_targets()
        }
        results = evaluate_targets(catalog=cat, as_of=as_of, series=series, listing=listing, valid=valid)
        synthetic = any(cat.get(i).synthetic for i in ("reuse-registry", "portal-datasets") if i in cat)
        return cls(
            period_label=per.label,
            start=per.start,
            end=per.end,
            lang=lang,
            min_count=min_count,
            catalog=cat,
            registry=registry,
            valid=valid,
            known=known,
            listing=listing,
            outcomes=load_outcomes(cat),
            targets=results,
            series=series,
            synthetic=synthetic,
            as_of=as_of,
        )

    # ----------------------------------------------------------------------------------------- text
    def heading(self) -> str:
        """The report's title line (Markdown)."""
        return f"# {t('reuse_report_title', self.lang)} · {self.period_label}"

    def intro_html(self) -> Html:
        """The introduction (the demo label is said once, in the page header: lab.reports)."""
        return Html(f"<p>{html.escape(t('reuse_intro', self.lang))}</p>")

    def _note(self) -> str | None:
        return None  # no line under each chart: the page header says "demo data" once

    # -------------------------------------------------------------------------------------- targets
    def targets_table(self) -> Html:
        """One row per target: title, value, target, deadline, projected date and interval (or the day it was
        reached), status; the evaluation date above."""
        lang = self.lang
        rows = []
        for r in self.targets:  # two targets
            low, high = r["interval"]
            if r["status"] == "reached" or (r["reached_on"] and r["value"] >= r["target"]):
                when = t("reuse_reached_on", lang).format(date=r["reached_on"])
                interval = "—"
            else:
                when = r["projected_date"] or "—"
                interval = f"{low or '—'} … {high or '—'}"
            rows.append(
                {
                    "title": r["title"].get(lang) or r["id"],
                    "value": format_number(r["value"], lang),
                    "target": format_number(r["target"], lang),
                    "deadline": r["deadline"],
                    "projected": when,
                    "interval": interval,
                    "status": _status_label(r["status"], lang),
                }
            )
        keys = (
            "reuse_targets",
            "reuse_value",
            "reuse_target",
            "reuse_deadline",
            "reuse_projected_date",
            "reuse_interval",
            "reuse_status",
        )
        as_of = self.targets[0]["as_of"] if self.targets else (self.as_of or self.end).isoformat()
        caption = f"<p class='lab-as-of'>{html.escape(t('reuse_as_of', lang).format(date=as_of))}</p>"
        return Html(caption + table(pl.DataFrame(rows), [t(k, lang) for k in keys], lang=lang).markup)

    def target_chart(self, metric: str) -> Svg:
        """The metric's monthly series against its target, with the chosen projection (dashed)."""
        lang = self.lang
        result = next(r for r in self.targets if r["metric"] == metric)
        observed = self.series[metric].filter(pl.col("date") <= self.end)
        if metric == "open_datasets":
            observed = observed.filter(pl.col("date") >= date(self.end.year - 6, 1, 1))
        reached = result["reached_on"] and result["value"] >= result["target"]
        projection = pl.DataFrame() if reached else projection_line(result, observed, months=48)
        if projection.height and result["projected_date"]:
            stop = date.fromisoformat(result["projected_date"]) + timedelta(days=31)
            projection = projection.filter(pl.col("date") <= stop)
        key = (
            "reuse_open_datasets_over_time"
            if metric == "open_datasets"
            else "reuse_datasets_reused_over_time"
        )
        method = result["method"]
        note = t("reuse_projection_note", lang) + (
            f" ({t(f'reuse_method_{method}', lang)})" if method else ""
        )
        return line_chart(
            observed,
            target=float(result["target"]),
            deadline=date.fromisoformat(result["deadline"]),
            projection=projection if projection.height else None,
            title=t(key, lang),
            labels=(t("reuse_observed", lang), t("reuse_projection", lang), t("reuse_target", lang)),
            note=note,
            lang=lang,
        )

    # ------------------------------------------------------------------------------------- products
    def products_table(self) -> Html:
        """Products by type and state on the period's end."""
        lang = self.lang
        frame = products_by_status(self.valid, self.end).with_columns(
            pl.col("type").replace(vocab.labels("types", lang))
        )
        keys = ("reuse_type", "reuse_live", "reuse_retired", "reuse_planned", "reuse_total")
        return table(frame, [t(k, lang) for k in keys], lang=lang)

    def reusers_table(self) -> Html:
        """Reuses and unique reusers at the end of each year up to the period (and at its end)."""
        lang = self.lang
        dates = sorted({*(date(y, 12, 31) for y in range(self.end.year - 5, self.end.year)), self.end})
        frame = reuses_and_reusers(self.valid, dates).select(
            pl.col("date").dt.strftime("%Y-%m-%d"), "reuses", "unique_reusers", "live", "retired"
        )
        keys = ("reuse_date", "reuse_reuses", "reuse_unique_reusers", "reuse_live", "reuse_retired")
        return table(frame, [t(k, lang) for k in keys], lang=lang)

    def top_datasets_chart(self, n: int = 10) -> Svg:
        """The most reused datasets (bars: valid reuses linking each)."""
        tops = (
            top_datasets(self.valid, n, _titles_in(self.listing, self.lang))
            .with_columns(pl.coalesce(pl.col("title"), pl.col("dataset_id")).alias("label"))
            .with_columns(
                pl.when(pl.col("label").str.len_chars() > 44)
                .then(pl.col("label").str.slice(0, 43) + "…")
                .otherwise("label")
                .alias("label")
            )
        )
        return bar_chart_from(
            tops,
            "label",
            "reuses",
            title=t("reuse_top_datasets", self.lang),
            note=self._note(),
            lang=self.lang,
        )

    def reuse_rate_chart(self, by: str = "publisher") -> Svg:
        """Share of each agency's (or theme's) open datasets used by a product live at the period's end."""
        from lab.i18n import label_values

        rates = reuse_rate(self.valid, self.listing, self.end, by=by, min_count=self.min_count)
        if by == "theme":
            rates = label_values(rates, "theme", self.lang, kind="theme")
        rates = rates.with_columns(
            pl.col(by).replace("—", t("not_given", self.lang))
        )  # a bar says what it is
        key = "reuse_min_count_note" if by == "publisher" else "reuse_min_count_note_theme"
        note = t(key, self.lang).format(n=self.min_count)  # the footnote of this chart, not the other
        title = t("reuse_rate_by_agency" if by == "publisher" else "reuse_rate_by_theme", self.lang)
        return bar_chart_from(rates, by, "rate", title=title, note=note, lang=self.lang)

    def time_to_first_reuse_text(self) -> str:
        """One sentence: median and quartiles of the days from publication to first reuse."""
        launched = self.valid.filter(pl.col("launched") <= self.end)
        stats = time_to_first_reuse_summary(time_to_first_reuse(launched, self.listing))
        fmt = lambda v: format_number(round(v), self.lang) if v is not None else "—"  # noqa: E731
        return t("reuse_time_to_first_reuse", self.lang).format(
            median=fmt(stats["median_days"]),
            p25=fmt(stats["p25_days"]),
            p75=fmt(stats["p75_days"]),
            n=stats["datasets"],
        )

    # ------------------------------------------------------------------------------------- outcomes
    def outcomes_table(self, n: int = 12) -> Html:
        """The products with the most revenue, then users, in the period: their outcomes."""
        lang = self.lang
        totals = totals_by_reuse(self.outcomes, self.start, self.end).join(
            self.valid.select("reuse_id", "title", "type"), on="reuse_id", how="inner"
        )
        frame = totals.head(n).select(
            "title",
            pl.col("type").replace(vocab.labels("types", lang)),
            *[
                pl.col(c).map_elements(lambda v: format_number(v, lang), pl.String).alias(c)
                for c in ("active_users_monthly", "transactions", "api_calls", "revenue_vnd")
            ],
            "evidence_links",
        )
        keys = (
            "reuse_product",
            "reuse_type",
            "reuse_active_users",
            "reuse_transactions",
            "reuse_api_calls",
            "reuse_revenue_vnd",
            "reuse_evidence_links",
        )
        return table(frame, [t(k, lang) for k in keys], lang=lang)

    def lineage(self, max_products: int = 12) -> Svg:
        """The lineage picture dataset → product → outcome over the period."""
        live = self.valid.filter(pl.col("launched") <= self.end)
        listing = _titles_in(self.listing, self.lang)
        frame = lineage_table(live, self.outcomes, listing, start=self.start, end=self.end)
        note = t("reuse_lineage_note", self.lang)
        return lineage_svg(frame, lang=self.lang, max_products=max_products, note=note)

    # -------------------------------------------------------------------------------------- revenue
    def revenue_parts(self) -> list[Html | Svg]:
        """Per paid service: the period's revenue, a monthly chart (12 months), revenue per 1,000 API calls
        and the reconciliation to the ledger."""
        lang = self.lang
        parts: list[Html | Svg] = []
        for service in load_services().values():  # one or two services
            if service.ledger not in self.catalog:
                continue
            ledger = load_ledger(service, self.catalog)
            monthly = monthly_revenue(ledger, service).filter(pl.col("month") <= self.end)
            in_per = monthly.filter(pl.col("month") >= self.start)
            amount, units = int(in_per["revenue_vnd"].sum()), int(in_per["units"].sum())
            text = t("reuse_revenue_period", lang).format(
                amount=format_number(amount, lang),
                units=format_number(units, lang),
                unit=service.unit.get(lang, ""),
                since=service.since.isoformat(),
                total=format_number(int(monthly["revenue_vnd"].sum()), lang),
            )
            paragraphs = [f"<h3>{html.escape(service.title_in(lang))}</h3>", f"<p>{html.escape(text)}</p>"]
            ids = self.valid.filter(pl.col("paid_service") == service.id)["reuse_id"].to_list()
            calls = in_period(
                normalise_outcomes(self.outcomes).filter(pl.col("reuse_id").is_in(ids)), self.start, self.end
            )
            per_1000 = revenue_per_1000_calls(in_per, calls.select("month", pl.col("api_calls").fill_null(0)))
            total_calls = int(per_1000["api_calls"].fill_null(0).sum())
            if total_calls:
                value = format_number(round(amount * 1000 / total_calls), lang)
                paragraphs.append(
                    f"<p>{html.escape(t('reuse_revenue_per_1000', lang).format(value=value))}</p>"
                )
            rec = reconcile(ledger, service, outcomes=self.outcomes, registry=self.valid, end=self.end)
            if rec.ok:
                sentence = t("reuse_reconciliation_ok", lang).format(
                    diff=format_number(rec.difference_vnd, lang),
                    total=format_number(rec.ledger_total_vnd, lang),
                )
            else:
                sentence = t("reuse_reconciliation_off", lang).format(
                    diff=format_number(rec.difference_vnd, lang),
                    months=", ".join(rec.months_off) or "—",
                    fees=rec.fee_mismatches,
                )
            paragraphs.append(f"<p class='reconciliation'>{html.escape(sentence)}</p>")
            if service.synthetic_fees:
                paragraphs.append(f"<p class='synthetic'>{html.escape(t('reuse_fees_demo', lang))}</p>")
            parts.append(Html("".join(paragraphs)))
            last = monthly.tail(12)
            parts.append(
                bar_chart(
                    last["month"].dt.strftime("%Y-%m").to_list(),
                    (last["revenue_vnd"] / 1_000_000).round(1).to_list(),
                    title=t("reuse_revenue_by_month", lang),
                    note=self._note(),
                    lang=lang,
                )
            )
        return parts

    def revenue(self) -> Html:
        """:meth:`revenue_parts` as one HTML fragment."""
        return Html("".join(str(p) for p in self.revenue_parts()))

    # --------------------------------------------------------------------------------------- impact
    def impact(self) -> Html:
        """Products giving evidence of impact in each Open Data Maturity domain, per year up to the period."""
        years = list(range(self.end.year - 4, self.end.year + 1))
        live = self.valid.filter(pl.col("launched") <= self.end)
        outs = normalise_outcomes(self.outcomes).filter(pl.col("month") <= self.end)
        wide = impact_table(impact_summary(live, outs, years), lang=self.lang)
        return table(wide, [t("reuse_year", self.lang), *wide.columns[1:]], lang=self.lang)

    # ------------------------------------------------------------------------------------- problems
    def problems(self) -> Html:
        """The rows to review (flagged, still counted), and every problem validation finds (for the portal
        team)."""
        lang = self.lang
        flagged = spam_flags(self.registry, self.known).filter("spam")["reuse_id"].to_list()
        report = validate(
            self.registry, known_datasets=self.known, services=set(load_services()), as_of=self.end
        )
        head = ""
        if flagged:
            head = f"<p>{html.escape(t('reuse_flagged', lang).format(ids=', '.join(flagged)))}</p>"
        if not report.issues:
            return Html(head + f"<p>{html.escape(t('reuse_no_problems', lang))}</p>")
        frame = report.frame().select("reuse_id", "field", "code", "message")
        if lang != "en":  # the validator speaks English: the problem's kind in the page's language
            codes = [c for c in frame["code"].unique().to_list() if f"reuse_issue_{c}" in LABELS]
            words = {c: t(f"reuse_issue_{c}", lang) for c in codes}
            frame = frame.with_columns(
                message=pl.col("code").replace_strict(words, default=pl.col("message"))
            )
        frame = frame.drop("code")
        return Html(head + str(table(frame, ["Id", t("field", lang), t("reuse_problem", lang)])))
