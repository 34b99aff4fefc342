"""The portal's usage as an open dataset: ``lab usage publish --period P --out DIR``.

One month of usage is written as two CSV files, a CSV on the Web (CSVW, W3C *Metadata Vocabulary for
Tabular Data*) metadata file describing both, and a ready catalog entry (DCAT fields, licence,
frequency monthly) that ``lab catalog validate`` accepts, so the portal can republish its own usage
like any dataset (Socrata publishes site metrics the same way, as monthly columns):

``usage-P-datasets.csv``
    One row per dataset seen in the store up to ``P``: ``period, dataset_id, dataset_views,
    downloads, api_calls, channel_requests`` and one ``<metric>_suppressed`` flag per metric.
``usage-P-totals.csv``
    One row: the portal totals of the month (visits, unique visitors, page views, sign-ups, active
    accounts) and the sums of the datasets' published figures (dataset views, downloads, API calls,
    channel requests), each with its flag.
``usage-P.csv-metadata.json``
    The CSVW table group: columns, titles (Vietnamese and English), datatypes, primary keys, null.
``usage-P.catalog.yaml``
    A catalog (``catalog`` + one entry in ``datasets``) naming the three files as distributions.

**Disclosure.** Every count goes through the safe-period rule of :mod:`lab.usage.disclosure` (via
:func:`lab.usage.kpis.monthly_facts` and :func:`lab.usage.kpis.portal_totals`): a cell is shown when
its month is a safe period by itself (0 or at least ``min_count``), else it is empty with its flag
true. The dataset metrics' totals are *composites* (rule 3): sums of the published dataset cells,
never of the raw months, so a total minus its shown datasets never gives away a hidden cell. A cell
the inputs cannot tell (no input covers the month for that channel) is empty with its flag false.

**Idempotent and atomic.** Nothing in the files depends on the clock or on the order of ingest: the
same store gives byte-identical files for the same period (the catalog entry's ``modified`` is the
day after the period). Each file is written atomically (:mod:`lab.atomic`), the catalog entry last, so
an entry never names a file that is not complete.
"""

from __future__ import annotations

import calendar
import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from lab.atomic import atomic_write_bytes, atomic_write_text, check_folder
from lab.errors import LabError
from lab.usage.demo_store import is_synthetic
from lab.usage.kpis import DATASET_METRICS, _ym, as_store, monthly_facts, portal_totals
from lab.usage.privacy import DEFAULT_MIN_COUNT
from lab.usage.store import EventStore

log = logging.getLogger(__name__)

PORTAL_METRICS = ("visits", "unique_visitors", "page_views", "signups", "active_accounts")
"""Portal totals published as they are (they are not sums over datasets)."""
TOTAL_METRICS = (*PORTAL_METRICS, *DATASET_METRICS)
"""The columns of the totals file, in order."""
DATASET_ID = "danang-portal-usage"
"""The catalog id of the published usage dataset."""


def _titles(name: str) -> tuple[str, str]:
    """A column's title, Vietnamese and English (labels ``usage_open_col_<name>``)."""
    from lab.i18n import t

    return t(f"usage_open_col_{name}", "vi"), t(f"usage_open_col_{name}", "en")


class PublishError(LabError):
    """The usage of a period cannot be published (bad period, no input covers it, bad option)."""


@dataclass
class Published:
    """What :func:`publish` wrote.

    Attributes
    ----------
    period
        ``YYYY-MM``.
    files
        The files written, in the order written (the catalog entry last).
    datasets
        Rows of the per-dataset file.
    suppressed
        Cells hidden by the safe-period rule (per-dataset and totals files together).
    """

    period: str
    files: list[Path] = field(default_factory=list)
    datasets: int = 0
    suppressed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: period, files (as text), datasets, suppressed."""
        return {
            "period": self.period,
            "files": [str(f) for f in self.files],
            "datasets": self.datasets,
            "suppressed": self.suppressed,
        }


def _check_period(period: str) -> date:
    """``YYYY-MM`` → its first day (a bad period is a one-line :class:`~lab.usage.kpis.KpiError`)."""
    ym = _ym(period, "--period")
    if ym is None:
        raise PublishError("--period is required (YYYY-MM)")
    return date(ym // 100, ym % 100, 1)


def dataset_usage(
    store: EventStore | str | Path | None, period: str, min_count: int = DEFAULT_MIN_COUNT
) -> pl.DataFrame:
    """Per-dataset usage of one month, published by the safe-period rule.

    Parameters
    ----------
    store
        The usage store.
    period
        ``YYYY-MM``.
    min_count
        The smallest count published (see :mod:`lab.usage.disclosure`).

    Returns
    -------
    polars.DataFrame
        ``period`` (text), ``dataset_id``, the :data:`~lab.usage.kpis.DATASET_METRICS` (Int64, null
        when hidden or when no input covers the month) and their ``<metric>_suppressed`` flags; sorted
        by dataset id.
    """
    first = _check_period(period)
    facts = monthly_facts(store, start=period, end=period, min_count=min_count, imported=False)
    month = facts.filter(pl.col("month") == first)
    wide = month.pivot(on="metric", index="dataset_id", values=["value", "value_suppressed"])
    columns = [pl.lit(period).alias("period"), pl.col("dataset_id")]
    for m in DATASET_METRICS:
        value, flag = f"value_{m}", f"value_suppressed_{m}"
        have = wide.columns
        columns.append((pl.col(value) if value in have else pl.lit(None)).cast(pl.Int64).alias(m))
    for m in DATASET_METRICS:
        flag = f"value_suppressed_{m}"
        columns.append(
            (pl.col(flag) if flag in wide.columns else pl.lit(False))
            .fill_null(False)
            .alias(f"{m}_suppressed")
        )
    return wide.select(columns).sort("dataset_id")


def portal_usage(
    store: EventStore | str | Path | None,
    period: str,
    datasets: pl.DataFrame,
    min_count: int = DEFAULT_MIN_COUNT,
) -> pl.DataFrame:
    """The portal totals of one month: :data:`PORTAL_METRICS` by the safe-period rule, and the dataset
    metrics as sums of the published dataset cells of ``datasets`` (from :func:`dataset_usage`).

    Returns
    -------
    polars.DataFrame
        One row: ``period``, the :data:`TOTAL_METRICS` (Int64, null when hidden or not covered) and
        their ``<metric>_suppressed`` flags (for a dataset metric: some dataset's cell is hidden, so
        the sum leaves it out).
    """
    totals = portal_totals(store, start=period, end=period, min_count=min_count)
    if totals.height != 1:
        raise PublishError(f"the store has no totals for {period}")
    portal = totals.select(*PORTAL_METRICS, *(f"{m}_suppressed" for m in PORTAL_METRICS))
    composite = datasets.select(
        *(
            pl.when(pl.col(m).is_not_null().any())
            .then(pl.col(m).sum())
            .otherwise(None)
            .cast(pl.Int64)
            .alias(m)
            for m in DATASET_METRICS
        ),
        *(pl.col(f"{m}_suppressed").any().alias(f"{m}_suppressed") for m in DATASET_METRICS),
    )
    if datasets.is_empty():
        composite = pl.DataFrame(
            {**{m: [None] for m in DATASET_METRICS}, **{f"{m}_suppressed": [False] for m in DATASET_METRICS}},
            schema={
                **{m: pl.Int64 for m in DATASET_METRICS},
                **{f"{m}_suppressed": pl.Boolean for m in DATASET_METRICS},
            },
        )
    return pl.concat([pl.DataFrame({"period": [period]}), portal, composite], how="horizontal").select(
        "period", *TOTAL_METRICS, *(f"{m}_suppressed" for m in TOTAL_METRICS)
    )


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 CSV, LF line ends, header, nulls as empty cells, booleans as ``true``/``false``."""
    return frame.write_csv(null_value="", line_terminator="\n").encode("utf-8")


def _column(name: str, dtype: pl.DataType, required: bool) -> dict[str, Any]:
    """The CSVW description of one column."""
    if name.endswith("_suppressed"):
        metric = name.removesuffix("_suppressed")
        vi, en = _titles(metric)
        titles = {"vi": f"{vi}: bị ẩn", "en": f"{en}: hidden"}
        desc = (
            "true: the count is hidden (its month is not a safe period by itself: the count is between 1 "
            "and min_count − 1, or a total leaves a hidden dataset out)"
        )
        datatype: Any = "boolean"
    else:
        vi, en = _titles(name)
        titles = {"vi": vi, "en": en}
        if name == "period":
            datatype, desc = "gYearMonth", "calendar month (Asia/Ho_Chi_Minh)"
        elif name == "dataset_id":
            datatype, desc = "string", "the dataset's id on the Đà Nẵng portal (/dulieuchitiet/<id>)"
        else:
            datatype = "nonNegativeInteger"
            desc = "count; empty: hidden (see the _suppressed column) or no input covers the month"
    return {
        "name": name,
        "titles": titles,
        "dc:description": desc,
        "datatype": datatype,
        "required": required,
    }


def csvw_metadata(period: str, datasets_file: str, totals_file: str, min_count: int) -> dict[str, Any]:
    """The CSVW table group describing the two files of ``period``.

    Parameters
    ----------
    period
        ``YYYY-MM``.
    datasets_file, totals_file
        The files' names (URLs relative to the metadata file).
    min_count
        Recorded in the description.

    Returns
    -------
    dict
        JSON-ready metadata (``@context`` http://www.w3.org/ns/csvw).
    """

    def schema(names: list[str], dtypes: dict[str, pl.DataType], key: list[str]) -> dict[str, Any]:
        return {
            "columns": [
                _column(n, dtypes.get(n, pl.Int64), n in key or n.endswith("_suppressed")) for n in names
            ],
            "primaryKey": key,
        }

    ds_cols = ["period", "dataset_id", *DATASET_METRICS, *(f"{m}_suppressed" for m in DATASET_METRICS)]
    tot_cols = ["period", *TOTAL_METRICS, *(f"{m}_suppressed" for m in TOTAL_METRICS)]
    return {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "vi"}],
        "dc:title": {
            "@value": f"Số liệu sử dụng cổng dữ liệu mở Đà Nẵng, tháng {period[5:]}/{period[:4]}",
            "@language": "vi",
        },
        "dc:description": (
            f"Monthly usage of the Đà Nẵng open data portal, {period}. Every count is published by the "
            f"safe-period rule with min_count {min_count}: a count between 1 and {min_count - 1} is never "
            "shown, nor any total from which one could be worked out."
        ),
        "dc:license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
        "dialect": {"encoding": "utf-8", "header": True, "delimiter": ",", "lineTerminators": ["\n"]},
        "null": "",
        "tables": [
            {
                "url": datasets_file,
                "dc:title": {"@value": "Sử dụng theo tập dữ liệu / Usage per dataset", "@language": "vi"},
                "tableSchema": schema(ds_cols, {}, ["period", "dataset_id"]),
            },
            {
                "url": totals_file,
                "dc:title": {"@value": "Tổng toàn cổng / Portal totals", "@language": "vi"},
                "tableSchema": schema(tot_cols, {}, ["period"]),
            },
        ],
    }


def catalog_entry(
    period: str,
    files: dict[str, str],
    *,
    publisher: str,
    license_id: str,
    synthetic: bool,
) -> dict[str, Any]:
    """A catalog document (``catalog`` and one dataset) for the published files of ``period``.

    Parameters
    ----------
    period
        ``YYYY-MM``.
    files
        ``datasets``, ``totals`` and ``metadata``: file names relative to the entry.
    publisher
        dct:publisher.
    license_id
        dct:license, an id of the ``licenses`` vocabulary.
    synthetic
        The store holds demo (synthetic) inputs: the entry says so.

    Returns
    -------
    dict
        What ``lab catalog validate`` checks (lab/schemas/catalog.schema.json).
    """
    first = _check_period(period)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    mm = f"{first.month:02d}/{first.year}"
    note_vi = " Dữ liệu tổng hợp của cổng mẫu, không phải số liệu thật." if synthetic else ""
    note_en = " Synthetic figures of the demo portal, never the portal's real usage." if synthetic else ""
    entry: dict[str, Any] = {
        "id": DATASET_ID,
        "title": {
            "vi": "Số liệu sử dụng cổng dữ liệu mở Đà Nẵng theo tháng",
            "en": "Monthly usage of the Đà Nẵng open data portal",
        },
        "description": {
            "vi": (
                "Lượt xem, lượt tải, lượt gọi API và yêu cầu qua Zalo/SMS/ứng dụng của từng tập dữ liệu, và "
                "tổng toàn cổng, theo tháng. Số nhỏ được ẩn để bảo vệ người dùng." + note_vi
            ),
            "en": (
                "Views, downloads, API calls and Zalo/SMS/app requests per dataset, and portal totals, per "
                "month. Small counts are hidden to protect users." + note_en
            ),
        },
        "publisher": publisher,
        "theme": ["government", "technology"],
        "keywords": ["sử dụng", "lượt truy cập", "usage", "statistics", "open data"],
        "license": license_id,
        "frequency": "monthly",
        "issued": (last + timedelta(days=1)).isoformat(),
        "modified": (last + timedelta(days=1)).isoformat(),
        "access_rights": "public",
        "temporal": {"start": first.isoformat(), "end": last.isoformat()},
        "distributions": [
            {
                "title": f"Sử dụng theo tập dữ liệu, tháng {mm} / Usage per dataset, {period}",
                "path": files["datasets"],
                "format": "CSV",
                "media_type": "text/csv",
                "encoding": "utf-8",
                "license": license_id,
            },
            {
                "title": f"Tổng toàn cổng, tháng {mm} / Portal totals, {period}",
                "path": files["totals"],
                "format": "CSV",
                "media_type": "text/csv",
                "encoding": "utf-8",
                "license": license_id,
            },
            {
                "title": f"Siêu dữ liệu CSVW, tháng {mm} / CSVW metadata, {period}",
                "path": files["metadata"],
                "format": "JSON",
                "media_type": "application/json",
                "encoding": "utf-8",
                "license": license_id,
            },
        ],
        "schema": {
            "primary_key": ["period", "dataset_id"],
            "columns": [
                {"name": "period", "type": "string", "required": True, "title": _text("period")},
                {"name": "dataset_id", "type": "code", "required": True, "title": _text("dataset_id")},
                *({"name": m, "type": "integer", "min": 0, "title": _text(m)} for m in DATASET_METRICS),
                *({"name": f"{m}_suppressed", "type": "boolean"} for m in DATASET_METRICS),
            ],
        },
    }
    if synthetic:
        entry["synthetic"] = True
    return {
        "catalog": {
            "title": {
                "vi": "Số liệu sử dụng cổng dữ liệu mở Đà Nẵng",
                "en": "Usage of the Đà Nẵng open data portal",
            },
            "publisher": publisher,
        },
        "datasets": [entry],
    }


def _text(name: str) -> dict[str, str]:
    vi, en = _titles(name)
    return {"vi": vi, "en": en}


def publish(
    store: EventStore | str | Path | None,
    period: str,
    out: str | Path,
    *,
    min_count: int = DEFAULT_MIN_COUNT,
    publisher: str = "Cổng dữ liệu mở thành phố Đà Nẵng",
    license_id: str = "CC-BY-4.0",
) -> Published:
    """Write the usage of ``period`` as an open dataset into ``out`` (see the module docstring).

    Parameters
    ----------
    store
        The usage store.
    period
        ``YYYY-MM``.
    out
        The output folder (created if missing).
    min_count
        The smallest count published; at least 2 (a public file never shows every cell).
    publisher, license_id
        The catalog entry's publisher and licence (an id of the ``licenses`` vocabulary).

    Returns
    -------
    Published
        The files written and the counts.

    Raises
    ------
    PublishError
        Bad period, ``min_count`` below 2, an unknown licence, no store, or no input covering the month.
    lab.errors.OutputError
        ``out`` is a file or in a system folder.
    """
    from lab.catalog import vocabularies

    first = _check_period(period)
    if min_count < 2:
        raise PublishError(f"--min-count {min_count}: a public file needs at least 2 (default 5)")
    if license_id not in vocabularies()["licenses"]:
        raise PublishError(f"--license {license_id!r} is not in the licences vocabulary")
    folder = check_folder(out)
    st = as_store(store)
    if not st.exists():
        raise PublishError("no usage store here: ingest files first", file=st.path)
    covered = st.coverage()
    if covered.filter(pl.col("month") == first).is_empty():
        raise PublishError(f"no input of the store covers {period}: nothing to publish", file=st.path)

    datasets = dataset_usage(st, period, min_count)
    totals = portal_usage(st, period, datasets, min_count)
    names = {
        "datasets": f"usage-{period}-datasets.csv",
        "totals": f"usage-{period}-totals.csv",
        "metadata": f"usage-{period}.csv-metadata.json",
    }
    metadata = csvw_metadata(period, names["datasets"], names["totals"], min_count)
    doc = catalog_entry(period, names, publisher=publisher, license_id=license_id, synthetic=is_synthetic(st))
    folder.mkdir(parents=True, exist_ok=True)
    result = Published(period=period, datasets=datasets.height)
    result.suppressed = sum(
        int(frame.get_column(c).sum())
        for frame in (datasets, totals)
        for c in frame.columns
        if c.endswith("_suppressed")
    )
    for key, data in (("datasets", _csv_bytes(datasets)), ("totals", _csv_bytes(totals))):
        atomic_write_bytes(folder / names[key], data)
        result.files.append(folder / names[key])
    atomic_write_text(folder / names["metadata"], json.dumps(metadata, ensure_ascii=False, indent=2) + "\n")
    result.files.append(folder / names["metadata"])
    entry = folder / f"usage-{period}.catalog.yaml"
    header = f"# lab usage publish --period {period}: the catalog entry of the files beside it\n"
    atomic_write_text(entry, header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    result.files.append(entry)
    log.info(
        "published the usage of %s: %d datasets, %d cells hidden", period, result.datasets, result.suppressed
    )
    return result
