"""Paid data services: fee schedules, ledgers, revenue per month, per dataset and per 1,000 API calls, and the
reconciliation of what reports show to the ledger, to exactly 0 VND.

Services are declared in ``lab/vocab/paid_services.yaml`` (id, title, unit, start date, the ledger's catalog
id and the fee in VND per unit with validity dates). A ledger is either transactions per day (``date``) or
monthly totals (``month``), with the units sold (``lookups``, ``units`` or ``transactions``), the amount in
VND (``amount_vnd``) and, optionally, the fee charged (``fee_vnd``). Every amount is an integer number of VND:
no float ever touches money here.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from lab.errors import LabError, SchemaError
from lab.reuse.months import month_start

log = logging.getLogger(__name__)

SERVICES_FILE = "vocab/paid_services.yaml"
UNIT_COLUMNS = ("lookups", "units", "transactions")


class RevenueError(LabError):
    """A paid service, its fee schedule or its ledger is malformed."""


@dataclass(frozen=True)
class Fee:
    """A fee in VND per unit, valid from ``valid_from`` to ``valid_to`` (inclusive; None: still in force)."""

    valid_from: date
    valid_to: date | None
    vnd: int


@dataclass(frozen=True)
class PaidService:
    """A paid data service and its fee schedule."""

    id: str
    title: dict[str, str]
    unit: dict[str, str]
    since: date
    ledger: str
    fees: tuple[Fee, ...]
    synthetic_fees: bool = False

    def title_in(self, lang: str = "vi") -> str:
        """The title in ``lang``."""
        return self.title.get(lang) or self.title["vi"]

    def fee_on(self, day: date) -> int | None:
        """The fee in force on ``day`` (None before the service or in a gap of the schedule)."""
        for fee in self.fees:  # a handful of fee periods
            if fee.valid_from <= day and (fee.valid_to is None or day <= fee.valid_to):
                return fee.vnd
        return None

    def schedule(self) -> pl.DataFrame:
        """The fee schedule: ``valid_from``, ``valid_to``, ``fee_vnd``, sorted by ``valid_from``."""
        return pl.DataFrame(
            {
                "valid_from": [f.valid_from for f in self.fees],
                "valid_to": [f.valid_to for f in self.fees],
                "fee_vnd": [f.vnd for f in self.fees],
            },
            schema={"valid_from": pl.Date, "valid_to": pl.Date, "fee_vnd": pl.Int64},
        ).sort("valid_from")


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RevenueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)", file=SERVICES_FILE) from None


def _service(entry: dict[str, Any], file: str) -> PaidService:
    sid = str(entry.get("id") or "")
    fees = []
    for i, f in enumerate(entry.get("fees") or []):
        where = f"{sid}: fees[{i}]"
        vnd = f.get("vnd")
        if not isinstance(vnd, int) or vnd < 0:
            raise RevenueError(f"{where}: vnd must be a whole, non-negative number of VND", file=file)
        to = f.get("to")
        fees.append(Fee(_as_date(f.get("from"), where), _as_date(to, where) if to else None, vnd))
    fees.sort(key=lambda f: f.valid_from)
    for a, b in itertools.pairwise(fees):
        if a.valid_to is None or a.valid_to >= b.valid_from:
            raise RevenueError(f"{sid}: fee periods overlap ({a.valid_from} and {b.valid_from})", file=file)
    if not sid or not fees or not entry.get("ledger"):
        raise RevenueError(f"service {sid or '?'}: needs id, ledger and at least one fee", file=file)
    return PaidService(
        id=sid,
        title=dict(entry.get("title") or {"vi": sid, "en": sid}),
        unit=dict(entry.get("unit") or {"vi": "lượt", "en": "unit"}),
        since=_as_date(entry.get("since") or fees[0].valid_from, f"{sid}: since"),
        ledger=str(entry["ledger"]),
        fees=tuple(fees),
        synthetic_fees=bool(entry.get("synthetic_fees", False)),
    )


def load_services(path: str | Path | None = None) -> dict[str, PaidService]:
    """The declared paid services by id (default ``lab/vocab/paid_services.yaml``).

    Raises
    ------
    RevenueError
        A service without id, ledger or fee, a fee that is not a whole number of VND, overlapping periods.
    """
    if path is None:
        text, file = resources.files("lab").joinpath(SERVICES_FILE).read_text(encoding="utf-8"), SERVICES_FILE
    else:
        text, file = Path(path).read_text(encoding="utf-8"), str(path)
    doc = yaml.safe_load(text) or {}
    services = [_service(e, file) for e in doc.get("services") or []]
    return {s.id: s for s in services}


def load_ledger(service: PaidService, catalog: Any = None) -> pl.DataFrame:
    """The service's ledger from the catalog (:func:`lab.load` of ``service.ledger``), normalised."""
    from lab.loader import load

    return normalise_ledger(load(service.ledger, catalog=catalog), dataset=service.ledger)


def normalise_ledger(ledger: pl.DataFrame, *, dataset: str | None = None) -> pl.DataFrame:
    """A ledger as ``date`` (a day, or a month's first day for monthly totals), ``month``, ``units``,
    ``amount_vnd``, ``fee_vnd`` (null when the ledger does not say) and every other column it has.

    Raises
    ------
    lab.errors.SchemaError
        No ``date``/``month`` column, no units column, or no ``amount_vnd`` and no ``fee_vnd`` to compute it.
    """
    if "date" in ledger.columns:
        day = pl.col("date").cast(pl.Date)
    elif "month" in ledger.columns:
        day = month_start(pl.col("month"))
    else:
        raise SchemaError("a ledger needs a 'date' or a 'month' column", dataset=dataset)
    unit = next((c for c in UNIT_COLUMNS if c in ledger.columns), None)
    if unit is None:
        raise SchemaError(f"a ledger needs a units column ({', '.join(UNIT_COLUMNS)})", dataset=dataset)
    fee = pl.col("fee_vnd").cast(pl.Int64) if "fee_vnd" in ledger.columns else pl.lit(None, dtype=pl.Int64)
    if "amount_vnd" in ledger.columns:
        amount = pl.col("amount_vnd").cast(pl.Int64)
    elif "fee_vnd" in ledger.columns:
        amount = pl.col(unit).cast(pl.Int64) * fee
    else:
        raise SchemaError("a ledger needs 'amount_vnd' (or 'fee_vnd' to compute it)", dataset=dataset)
    rest = [c for c in ledger.columns if c not in ("date", "month", unit, "amount_vnd", "fee_vnd")]
    return ledger.select(
        day.alias("date"),
        day.dt.month_start().alias("month"),
        pl.col(unit).cast(pl.Int64).alias("units"),
        amount.alias("amount_vnd"),
        fee.alias("fee_vnd"),
        *rest,
    ).sort("date")


def price(ledger: pl.DataFrame, service: PaidService) -> pl.DataFrame:
    """The ledger with the fee the schedule sets: ``schedule_fee_vnd`` (null outside every fee period),
    ``schedule_amount_vnd`` (units × that fee), ``fee_ok`` and ``amount_ok``."""
    schedule = service.schedule()
    priced = (
        normalise_ledger(ledger)
        .with_row_index("_i")
        .sort("date")
        .join_asof(schedule, left_on="date", right_on="valid_from", strategy="backward")
        .with_columns(
            pl.when(pl.col("valid_to").is_null() | (pl.col("date") <= pl.col("valid_to")))
            .then(pl.col("fee_vnd_right"))
            .alias("schedule_fee_vnd")
        )
        .sort("_i")
        .drop("_i", "valid_from", "valid_to", "fee_vnd_right")
    )
    return priced.with_columns(
        (pl.col("units") * pl.col("schedule_fee_vnd")).alias("schedule_amount_vnd")
    ).with_columns(
        (pl.col("fee_vnd").is_null() | (pl.col("fee_vnd") == pl.col("schedule_fee_vnd")))
        .fill_null(False)
        .alias("fee_ok"),
        (pl.col("amount_vnd") == pl.col("schedule_amount_vnd")).fill_null(False).alias("amount_ok"),
    )


def fee_mismatches(ledger: pl.DataFrame, service: PaidService) -> pl.DataFrame:
    """Ledger rows whose fee or amount differ from the fee schedule (or fall outside it)."""
    return price(ledger, service).filter(~pl.col("fee_ok") | ~pl.col("amount_ok"))


def monthly_revenue(ledger: pl.DataFrame, service: PaidService) -> pl.DataFrame:
    """Revenue of a service per month: ``service``, ``month``, ``units``, ``revenue_vnd`` (the ledger's
    amounts) and ``schedule_vnd`` (units × scheduled fee), months without sales included as 0 from the first
    sale."""
    priced = price(ledger, service)
    monthly = priced.group_by("month").agg(
        pl.col("units").sum(),
        pl.col("amount_vnd").sum().alias("revenue_vnd"),
        pl.col("schedule_amount_vnd").sum().alias("schedule_vnd"),
    )
    if monthly.height == 0:
        return monthly.with_columns(pl.lit(service.id).alias("service")).select(
            "service", pl.all().exclude("service")
        )
    grid = pl.DataFrame(
        {"month": pl.date_range(monthly["month"].min(), monthly["month"].max(), "1mo", eager=True)}
    )
    return (
        grid.join(monthly, on="month", how="left")
        .with_columns(pl.col("units", "revenue_vnd", "schedule_vnd").fill_null(0))
        .select(pl.lit(service.id).alias("service"), "month", "units", "revenue_vnd", "schedule_vnd")
    )


def service_datasets(registry: pl.DataFrame, service_id: str) -> pl.DataFrame:
    """The datasets behind a paid service: those of the reuses whose ``paid_service`` is ``service_id``
    (``dataset_id``, sorted)."""
    from lab.reuse.registry import links

    ids = registry.filter(pl.col("paid_service") == service_id).select("reuse_id", "datasets")
    return links(ids).select("dataset_id").unique().sort("dataset_id")


def revenue_by_dataset(
    monthly: pl.DataFrame, registry: pl.DataFrame, service_id: str | None = None
) -> pl.DataFrame:
    """Monthly revenue apportioned to the datasets behind the service, to the VND.

    Each month's revenue is split evenly over the service's datasets; the VND that do not divide evenly go one
    each to the first datasets (by id), so the parts add up to the month's revenue exactly.

    Returns
    -------
    polars.DataFrame
        ``service``, ``month``, ``dataset_id``, ``revenue_vnd``.
    """
    service_id = service_id or monthly["service"][0]
    ds = service_datasets(registry, service_id).with_row_index("_k").with_columns(pl.len().alias("_n"))
    if ds.height == 0:
        log.warning("paid service %s: no reuse of the registry links it to a dataset", service_id)
        return pl.DataFrame(
            schema={"service": pl.String, "month": pl.Date, "dataset_id": pl.String, "revenue_vnd": pl.Int64}
        )
    return (
        monthly.select("month", "revenue_vnd")
        .join(ds, how="cross")
        .with_columns(
            (
                pl.col("revenue_vnd") // pl.col("_n")
                + (pl.col("_k").cast(pl.Int64) < pl.col("revenue_vnd") % pl.col("_n")).cast(pl.Int64)
            ).alias("revenue_vnd")
        )
        .select(pl.lit(service_id).alias("service"), "month", "dataset_id", "revenue_vnd")
        .sort("month", "dataset_id")
    )


def revenue_per_1000_calls(monthly: pl.DataFrame, api_calls: pl.DataFrame) -> pl.DataFrame:
    """Revenue per 1,000 API calls each month: ``month``, ``revenue_vnd``, ``api_calls``,
    ``vnd_per_1000_calls`` (null when there were no calls).

    ``api_calls`` holds ``month`` and ``api_calls`` of the service's products (from the outcomes table or from
    the gateway, :func:`lab.reuse.outcomes.with_gateway_calls`).
    """
    calls = api_calls.select(month_start(pl.col("month")).alias("month"), pl.col("api_calls").cast(pl.Int64))
    calls = calls.group_by("month").agg(pl.col("api_calls").sum())
    return (
        monthly.select("month", "revenue_vnd")
        .join(calls, on="month", how="left")
        .with_columns(
            pl.when(pl.col("api_calls") > 0)
            .then((pl.col("revenue_vnd") * 1000 / pl.col("api_calls")).round(0))
            .alias("vnd_per_1000_calls")
        )
        .sort("month")
    )


@dataclass(frozen=True)
class Reconciliation:
    """Report totals against the ledger, per month and in total, in VND.

    ``table``: ``month``, ``ledger_vnd``, ``schedule_vnd`` (units × scheduled fee), ``reported_vnd`` (what the
    product reports in the outcomes table, when given) and the differences to the ledger.
    """

    service: str
    table: pl.DataFrame
    ledger_total_vnd: int
    report_total_vnd: int
    fee_mismatches: int

    @property
    def difference_vnd(self) -> int:
        """Report total − ledger total (0 when they reconcile)."""
        return self.report_total_vnd - self.ledger_total_vnd

    @property
    def months_off(self) -> list[str]:
        """Months (``YYYY-MM``) where any figure differs from the ledger."""
        off = self.table.filter(
            (pl.col("diff_schedule_vnd") != 0) | (pl.col("diff_reported_vnd").fill_null(0) != 0)
        )
        return off["month"].dt.strftime("%Y-%m").to_list()

    @property
    def ok(self) -> bool:
        """True when totals and every month agree to the VND and every fee follows the schedule."""
        return self.difference_vnd == 0 and not self.months_off and self.fee_mismatches == 0

    def summary(self) -> dict[str, Any]:
        """The reconciliation as plain values (for JSON and reports)."""
        return {
            "service": self.service,
            "ledger_total_vnd": self.ledger_total_vnd,
            "report_total_vnd": self.report_total_vnd,
            "difference_vnd": self.difference_vnd,
            "months_off": self.months_off,
            "fee_mismatches": self.fee_mismatches,
            "ok": self.ok,
        }


def reconcile(
    ledger: pl.DataFrame,
    service: PaidService,
    *,
    outcomes: pl.DataFrame | None = None,
    registry: pl.DataFrame | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Reconciliation:
    """Reconcile a service's revenue as reports show it to its ledger, per month and in total.

    Three figures per month: the ledger's amounts, units × the scheduled fee, and — with ``outcomes`` and
    ``registry`` — the revenue the service's products report in the outcomes table (the report's figure).
    The report total is the reported revenue when given, else the scheduled one.

    Parameters
    ----------
    ledger
        The service's ledger (transactions or monthly totals).
    service
        The paid service and its fee schedule.
    outcomes, registry
        The monthly outcomes table and the registry (the reuses whose ``paid_service`` is the service).
    start, end
        Restrict to months in ``[start, end]``.
    """
    monthly = monthly_revenue(ledger, service)
    if start is not None:
        monthly = monthly.filter(pl.col("month") >= start.replace(day=1))
    if end is not None:
        monthly = monthly.filter(pl.col("month") <= end)
    table = monthly.select("month", pl.col("revenue_vnd").alias("ledger_vnd"), "schedule_vnd")
    reported_given = outcomes is not None and registry is not None
    if reported_given:
        from lab.reuse.outcomes import in_period, normalise_outcomes

        ids = registry.filter(pl.col("paid_service") == service.id)["reuse_id"].to_list()
        rep = (
            in_period(normalise_outcomes(outcomes).filter(pl.col("reuse_id").is_in(ids)), start, end)
            .group_by("month")
            .agg(pl.col("revenue_vnd").sum().alias("reported_vnd"))
        )
        table = table.join(rep, on="month", how="full", coalesce=True).with_columns(
            pl.col("ledger_vnd", "schedule_vnd", "reported_vnd").fill_null(0)
        )
    else:
        table = table.with_columns(pl.lit(None, dtype=pl.Int64).alias("reported_vnd"))
    table = table.sort("month").with_columns(
        (pl.col("schedule_vnd") - pl.col("ledger_vnd")).alias("diff_schedule_vnd"),
        (pl.col("reported_vnd") - pl.col("ledger_vnd")).alias("diff_reported_vnd"),
    )
    bad_fees = fee_mismatches(ledger, service)
    if start is not None:
        bad_fees = bad_fees.filter(pl.col("date") >= start)
    if end is not None:
        bad_fees = bad_fees.filter(pl.col("date") <= end)
    report_col = "reported_vnd" if reported_given else "schedule_vnd"
    return Reconciliation(
        service=service.id,
        table=table,
        ledger_total_vnd=int(table["ledger_vnd"].sum()),
        report_total_vnd=int(table[report_col].sum()),
        fee_mismatches=bad_fees.height,
    )
