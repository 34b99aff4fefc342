"""Scheduled reports: parameterized notebooks run by papermill into ``reports/``.

The schedule (``reports.yaml``) lists each report, its notebook, its cadence and the day it becomes
due, its default parameters and languages. Parameters are checked against the notebook's
``parameters`` cell before any kernel starts (papermill accepts unknown names silently). Each run
executes into a temporary folder, renders HTML without code, and only then replaces the published
file: a failed run never replaces the last good report, and the run log says which cell failed.

Layout: ``reports/<period>/<report>.<lang>.html`` (+ the executed ``.ipynb``), ``reports/index.html``
and ``reports/runs.jsonl`` (one JSON line per run).
"""

from __future__ import annotations

import ast
import html
import json
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from lab.atomic import atomic_path, atomic_write_text
from lab.errors import ReportError
from lab.i18n import LANGUAGES, t

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CADENCES = ("monthly", "quarterly", "yearly")
KERNEL_NAME = "python3"


# ------------------------------------------------------------------------------------------- periods
@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a month (``2025-06``), a quarter (``2025-Q2``) or a year (``2025``)."""

    start: date
    end: date  # inclusive
    label: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``."""
        text = str(text).strip()
        if m := re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text):
            y, mo = int(m[1]), int(m[2])
            return cls(date(y, mo, 1), _month_end(y, mo), text)
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text, flags=re.IGNORECASE):
            y, q = int(m[1]), int(m[2])
            return cls(date(y, 3 * q - 2, 1), _month_end(y, 3 * q), f"{y}-Q{q}")
        if re.fullmatch(r"\d{4}", text):
            y = int(text)
            return cls(date(y, 1, 1), date(y, 12, 31), text)
        raise ReportError(f"period {text!r} is not YYYY-MM, YYYY-Qn or YYYY")

    @classmethod
    def last_ended(cls, cadence: str, as_of: date) -> Period:
        """The last period of ``cadence`` that ended before ``as_of``."""
        prev = as_of.replace(day=1) - timedelta(days=1)  # last day of the previous month
        if cadence == "monthly":
            return cls.parse(f"{prev.year}-{prev.month:02d}")
        if cadence == "quarterly":
            q = (as_of.month - 1) // 3  # quarters fully ended this year
            return cls.parse(f"{as_of.year}-Q{q}") if q else cls.parse(f"{as_of.year - 1}-Q4")
        if cadence == "yearly":
            return cls.parse(str(as_of.year - 1))
        raise ReportError(f"cadence {cadence!r} is not one of {', '.join(CADENCES)}")


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def is_due(cadence: str, due_day: int, today: date) -> bool:
    """True on the day a report becomes due: ``due_day`` of each month, of each quarter's first month, or
    of January."""
    if today.day != due_day:
        return False
    return (
        cadence == "monthly"
        or (cadence == "quarterly" and today.month in (1, 4, 7, 10))
        or (cadence == "yearly" and today.month == 1)
    )


def as_of_date() -> date:
    """The date reports count from: ``$LAB_AS_OF`` (YYYY-MM-DD) if set, else today.

    When reports run on the demo portal, its window ends on a fixed date; the default period is then
    the last one ended inside that window (see :func:`default_period`).
    """
    env = os.environ.get("LAB_AS_OF")
    return date.fromisoformat(env) if env else date.today()


def _demo_window_end() -> date | None:
    from lab.fetch import demo_dir

    manifest = demo_dir() / "manifest.json"
    if not manifest.exists():
        return None
    window = json.loads(manifest.read_text(encoding="utf-8")).get("window") or {}
    end = window.get("end")
    return date.fromisoformat(end) if end else None


def default_period(cadence: str, as_of: date | None = None) -> Period:
    """The period a run reports on by default: the last one ended before ``as_of`` (and inside the
    demo portal's window when the data are the demo's)."""
    as_of = as_of or as_of_date()
    demo_end = _demo_window_end()
    if demo_end is not None and demo_end < as_of:
        as_of = demo_end + timedelta(days=1)
    return Period.last_ended(cadence, as_of)


# ------------------------------------------------------------------------------------------ schedule
@dataclass(frozen=True)
class Report:
    """One scheduled report."""

    name: str
    notebook: Path
    cadence: str
    title: dict[str, str]
    due_day: int = 1
    languages: tuple[str, ...] = LANGUAGES
    parameters: dict[str, Any] = field(default_factory=dict)


def load_schedule(path: str | Path | None = None) -> list[Report]:
    """Read ``reports.yaml``; every problem is a :class:`ReportError`."""
    path = Path(path) if path else PROJECT_ROOT / "reports.yaml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError("schedule file not found", file=path) from None
    except yaml.YAMLError as exc:
        raise ReportError(f"not valid YAML: {exc}".splitlines()[0], file=path) from None
    reports = []
    for i, item in enumerate((doc or {}).get("reports") or []):
        name = item.get("name") or f"reports[{i}]"
        cadence = item.get("cadence")
        if cadence not in CADENCES:
            raise ReportError(f"{name}: cadence {cadence!r} is not one of {', '.join(CADENCES)}", file=path)
        langs = tuple(item.get("languages") or LANGUAGES)
        if bad := [lang for lang in langs if lang not in LANGUAGES]:
            raise ReportError(f"{name}: languages {bad} not in {LANGUAGES}", file=path)
        notebook = (path.parent / item["notebook"]).resolve()
        if not notebook.exists():
            raise ReportError(f"{name}: notebook {item['notebook']} not found", file=path)
        report = Report(
            name=name,
            notebook=notebook,
            cadence=cadence,
            title=item.get("title") or {"vi": name, "en": name},
            due_day=int(item.get("due_day", 1)),
            languages=langs,
            parameters=dict(item.get("parameters") or {}),
        )
        check_parameters(report.notebook, report.parameters)
        reports.append(report)
    return reports


# ---------------------------------------------------------------------------------------- parameters
_TYPES: dict[str, type | tuple[type, ...]] = {"str": str, "int": int, "float": (int, float), "bool": bool}


def notebook_parameters(notebook: str | Path) -> dict[str, tuple[str, Any]]:
    """The parameters a notebook declares: ``{name: (type name, default)}`` from its cell tagged
    ``parameters`` (annotated assignments of literals, e.g. ``period: str = "2025-06"``)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ReportError("needs exactly one cell tagged 'parameters'", file=notebook)
    source = "".join(cells[0]["source"]) if isinstance(cells[0]["source"], list) else cells[0]["source"]
    params: dict[str, tuple[str, Any]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value):
            raise ReportError(
                f"parameters cell line {node.lineno}: write `name: type = literal`", file=notebook
            )
        type_name = ast.unparse(node.annotation)
        if type_name not in _TYPES:
            raise ReportError(
                f"parameter {node.target.id}: type {type_name} is not str, int, float or bool", file=notebook
            )
        params[node.target.id] = (type_name, ast.literal_eval(node.value))
    return params


def check_parameters(notebook: str | Path, values: dict[str, Any]) -> None:
    """Raise :class:`ReportError` for unknown names or wrong types, before any kernel starts."""
    declared = notebook_parameters(notebook)
    problems = []
    for name, value in values.items():
        if name not in declared:
            problems.append(f"unknown parameter {name!r} (declared: {', '.join(declared)})")
            continue
        type_name = declared[name][0]
        expected = _TYPES[type_name]
        if (isinstance(value, bool) and type_name != "bool") or not isinstance(value, expected):
            problems.append(f"parameter {name!r} must be {type_name}, got {type(value).__name__} {value!r}")
    if problems:
        raise ReportError("; ".join(problems), file=Path(notebook).name)


# ------------------------------------------------------------------------------------------- running
@dataclass
class RunResult:
    """What one report run did."""

    report: str
    period: str
    language: str
    ok: bool
    html: Path | None = None
    seconds: float = 0.0
    error: str | None = None
    failed_cell: int | None = None

    def summary(self) -> str:
        """One line for the console."""
        if self.ok:
            return (
                f"ok     {self.report} {self.period} [{self.language}] → {self.html} ({self.seconds:.1f} s)"
            )
        cell = f" (cell {self.failed_cell})" if self.failed_cell is not None else ""
        return f"FAILED {self.report} {self.period} [{self.language}]{cell}: {self.error}"


_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style></head>
<body><main>
{body}
</main><footer>{footer}</footer></body></html>
"""

_CSS = (Path(__file__).resolve().parent / "share" / "report.css").read_text(encoding="utf-8")


def _render_html(executed: Path, title: str, lang: str) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    # cells tagged "report-hide" speak to researchers in JupyterLab, not to the report's readers
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"report-hide"}), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _PAGE.format(
        lang=lang,
        title=html.escape(title),
        css=_CSS,
        body=body,
        footer=f"{html.escape(t('generated_by', lang))} · {stamp}",
    )


def _append_log(out: Path, result: RunResult) -> None:
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "report": result.report,
        "period": result.period,
        "language": result.language,
        "ok": result.ok,
        "seconds": round(result.seconds, 2),
        "html": str(result.html) if result.html else None,
        "error": result.error,
        "failed_cell": result.failed_cell,
    }
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "runs.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def _source_cell_index(executed: Path, index: int) -> int:
    """The failed cell's index in the report's own notebook (papermill inserts a parameters cell)."""
    try:
        cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return index
    injected = [
        i for i, c in enumerate(cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])
    ]
    return index - 1 if injected and index > injected[0] else index


def run_report(
    report: Report, period: Period, lang: str, out: Path, *, extra: dict[str, Any] | None = None
) -> RunResult:
    """Execute one report for one period and language, and publish it only if it succeeded."""
    import papermill as pm

    params = {**report.parameters, **(extra or {}), "period": period.label, "language": lang}
    declared = notebook_parameters(report.notebook)
    params = {k: v for k, v in params.items() if k in declared or k not in ("period", "language")}
    check_parameters(report.notebook, params)
    target = out / period.label / f"{report.name}.{lang}.html"
    started = time.perf_counter()
    result = RunResult(report.name, period.label, lang, ok=False)
    with tempfile.TemporaryDirectory(prefix=f"lab-report-{report.name}-") as tmp:
        executed = Path(tmp) / f"{report.name}.{lang}.ipynb"
        try:
            pm.execute_notebook(
                str(report.notebook),
                str(executed),
                parameters=params,
                kernel_name=KERNEL_NAME,
                cwd=str(PROJECT_ROOT),
                progress_bar=False,
                log_output=False,
            )
        except pm.PapermillExecutionError as exc:
            result.failed_cell = _source_cell_index(executed, exc.cell_index)
            result.error = f"{exc.ename}: {str(exc.evalue).splitlines()[0] if exc.evalue else ''}"
        except Exception as exc:  # kernel died, notebook unreadable: report it, keep the last good report
            result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        else:
            page = _render_html(executed, f"{report.title.get(lang, report.name)} · {period.label}", lang)
            atomic_write_text(target, page)
            with atomic_path(target.with_suffix(".ipynb")) as nb_tmp:
                shutil.copyfile(executed, nb_tmp)
            result.ok, result.html = True, target
    result.seconds = time.perf_counter() - started
    _append_log(out, result)
    (log.info if result.ok else log.error)(result.summary())
    return result


def write_index(out: Path, schedule: list[Report]) -> Path:
    """Write ``index.html``: every published report, newest period first, in both languages."""
    titles = {r.name: r.title for r in schedule}
    rows = []
    for page in sorted(out.glob("*/*.html"), key=lambda p: (p.parent.name, p.name), reverse=True):
        name, _, lang = page.stem.rpartition(".")
        title = titles.get(name, {}).get(lang, name)
        rows.append(
            f'<tr><td>{html.escape(page.parent.name)}</td><td><a href="{page.parent.name}/{page.name}">'
            f"{html.escape(title)}</a></td><td>{lang}</td></tr>"
        )
    body = (
        f"<h1>{t('reports_index', 'vi')} / {t('reports_index', 'en')}</h1>"
        f"<table><tr><th>{t('period', 'vi')}</th><th>Báo cáo / Report</th><th></th></tr>"
        f"{''.join(rows)}</table>"
    )
    page = _PAGE.format(
        lang="vi", title=t("reports_index", "vi"), css=_CSS, body=body, footer=t("generated_by", "vi")
    )
    target = out / "index.html"
    atomic_write_text(target, page)
    return target


def run(
    names: list[str] | None = None,
    period: str | None = None,
    languages: list[str] | None = None,
    out: Path | None = None,
    *,
    due_only: bool = False,
    schedule_path: str | Path | None = None,
) -> list[RunResult]:
    """Run scheduled reports.

    Parameters
    ----------
    names
        Only these reports (default: all in the schedule).
    period
        The period (``YYYY-MM``, ``YYYY-Qn``, ``YYYY``); default: each report's last ended period.
    languages
        Only these languages (default: each report's languages).
    out
        The reports folder (default ``reports/`` of the project).
    due_only
        Only the reports due today (:func:`is_due`), for a nightly ``lab reports run --due``.
    """
    schedule = load_schedule(schedule_path)
    out = out or PROJECT_ROOT / "reports"
    known = {r.name for r in schedule}
    if names and (unknown := [n for n in names if n not in known]):
        raise ReportError(f"unknown report(s) {', '.join(unknown)}; scheduled: {', '.join(sorted(known))}")
    today = as_of_date()
    results = []
    for report in schedule:
        if names and report.name not in names:
            continue
        if due_only and not is_due(report.cadence, report.due_day, today):
            continue
        per = Period.parse(period) if period else default_period(report.cadence, today)
        for lang in languages or report.languages:
            results.append(run_report(report, per, lang, out))
    write_index(out, schedule)
    return results
