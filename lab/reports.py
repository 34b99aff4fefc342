"""Scheduled reports: parameterized notebooks run by papermill into ``reports/``.

The schedule (``reports.yaml``) lists each report, its notebook, its cadence and the day it becomes
due, its default parameters and languages. Parameters are checked against the notebook's
``parameters`` cell before any kernel starts (papermill accepts unknown names silently). Each run
executes into a temporary folder, renders HTML without code, and only then replaces the published
file: a failed run never replaces the last good report, and the run log says which cell failed.

Layout: ``reports/<period>/<report>.<lang>.html``, beside it the executed ``.ipynb`` and a ``.json``
record (fingerprint, parameters, inputs with their sha256, lab version and commit); failed runs leave
their executed notebook in ``reports/<period>/failed/``; ``reports/index.html`` lists everything and
``reports/runs.jsonl`` has one JSON line per run. A run whose notebook, parameters and input files are
unchanged since the last good one is skipped unless forced.
"""

from __future__ import annotations

import ast
import hashlib
import html
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from lab.atomic import atomic_path, atomic_write_text, check_folder
from lab.errors import ReportError
from lab.i18n import LANGUAGES, t
from lab.loader import PROVENANCE_ENV
from lab.periods import CADENCES, Period, as_of_date, becomes_due, clamped_as_of, default_period

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KERNEL_NAME = "python3"


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
    timeout: int = 600  # seconds a cell may run before the run fails


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
            timeout=int(item.get("timeout", 600)),
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
STATUSES = ("ok", "skipped", "failed")


@dataclass
class RunResult:
    """What one report run did: ``status`` is ok, skipped (nothing changed) or failed."""

    report: str
    period: str
    language: str
    status: str
    html: Path | None = None
    seconds: float = 0.0
    error: str | None = None
    failed_cell: int | None = None

    @property
    def ok(self) -> bool:
        """True unless the run failed (a skipped run keeps a good report)."""
        return self.status != "failed"

    def summary(self) -> str:
        """One line for the console: name, period, status, seconds, output path (or the failure)."""
        head = f"{self.report:<20} {self.period:<8} {self.language}  {self.status:<7} {self.seconds:6.1f} s"
        if self.status == "failed":
            cell = f" cell {self.failed_cell}:" if self.failed_cell is not None else ""
            return f"{head} {cell} {self.error}"
        return f"{head}  {self.html}"


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


def _page(title: str, body: str, footer: str, lang: str) -> str:
    return _PAGE.format(lang=lang, title=html.escape(title), css=_CSS, body=body, footer=footer)


def demo_banner(inputs: list[dict[str, str]], lang: str) -> str:
    """The page header's one demo label, with the demo's scale stated plainly, when any input of the
    report is a file of the generated demo portal (``$LAB_DEMO``); else "".

    The label is said once per page, here, not under each chart or in each title.
    """
    from lab.charts import format_number
    from lab.settings import demo_dir

    root = demo_dir().resolve()
    if not any(Path(i["file"]).is_relative_to(root) for i in inputs):
        return ""
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        scale, totals, window = float(manifest["scale"]), manifest["totals"], manifest["window"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"<p class='synthetic lab-demo-banner'>{html.escape(t('synthetic_note', lang))}</p>"
    percent = scale * 100
    decimals = next(d for d in range(4) if round(percent, d) == round(percent, 3))
    words = t("demo_banner", lang).format(
        note=t("synthetic_note", lang),
        percent=format_number(percent, lang, decimals),
        visits=format_number(totals.get("visits", 0), lang),
        api=format_number(totals.get("api_calls", 0), lang),
        start=window["start"][:7],
        end=window["end"][:7],
    )
    return f"<p class='synthetic lab-demo-banner'>{html.escape(words)}</p>"


def _render_html(executed: Path, title: str, lang: str, footer: str, banner: str = "") -> str:
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(executed, as_version=4)
    exporter = HTMLExporter(
        template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    # cells tagged "report-hide" speak to researchers in JupyterLab, not to the report's readers
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"report-hide"}), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    return _page(title, banner + body, footer, lang)


def git_commit() -> str | None:
    """The project's git commit (short), or None outside a checkout."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def _provenance_footer(record: dict[str, Any], lang: str) -> str:
    inputs = "; ".join(f"{i['dataset']} ({i['sha256'][:12]})" for i in record["inputs"]) or "—"
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(record["parameters"].items()))
    return (
        f"{html.escape(t('generated_by', lang))} · lab {html.escape(record['lab_version'])}"
        f" · commit {html.escape(record['commit'] or '—')} · {html.escape(record['ran_at'])}<br>"
        f"<span class='provenance'>{html.escape(t('report_parameters', lang))}: {html.escape(params)}<br>"
        f"{html.escape(t('report_inputs', lang))}: {html.escape(inputs)}</span>"
    )


def _append_log(out: Path, result: RunResult) -> None:
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "report": result.report,
        "period": result.period,
        "language": result.language,
        "status": result.status,
        "ok": result.ok,
        "seconds": round(result.seconds, 2),
        "html": str(result.html) if result.html else None,
        "error": result.error,
        "failed_cell": result.failed_cell,
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / "runs.jsonl"
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with open(path, "a+b") as fh:  # one short line per run: appends are atomic
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":  # a killed writer left a partial line: start on a line of our own
                line = "\n" + line
        fh.write(line.encode("utf-8"))


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


def _fingerprint(report: Report, params: dict[str, Any]) -> str:
    digest = hashlib.sha256(report.notebook.read_bytes())
    digest.update(json.dumps(params, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()


def _record_path(out: Path, report: str, period: str, lang: str) -> Path:
    return out / period / f"{report}.{lang}.json"


def _unchanged(record_path: Path, fingerprint: str) -> bool:
    """True if the last good run had this fingerprint and its input files still have the same hashes."""
    from lab.cache import file_sha256

    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if record.get("fingerprint") != fingerprint or not Path(record.get("html", "")).exists():
        return False
    if not unit_complete(
        record_path.parent.parent, record_path.parent.name, *record_path.stem.rsplit(".", 1)
    ):
        return False
    try:
        return all(file_sha256(i["file"]) == i["sha256"] for i in record.get("inputs", []))
    except OSError:  # an input file is gone: run again
        return False


def _read_inputs(provenance: Path) -> list[dict[str, str]]:
    if not provenance.exists():
        return []
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for line in provenance.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        seen[(item["dataset"], item["file"])] = item
    return sorted(seen.values(), key=lambda i: (i["dataset"], i["file"]))


def run_report(
    report: Report,
    period: Period,
    lang: str,
    out: Path,
    *,
    extra: dict[str, Any] | None = None,
    force: bool = False,
) -> RunResult:
    """Execute one report for one period and language, and publish it only if it succeeded.

    Parameters
    ----------
    report, period, lang
        What to run.
    out
        The reports folder.
    extra
        Parameters that override the schedule's.
    force
        Run even when notebook, parameters and inputs are unchanged since the last good run.
    """
    import papermill as pm

    from lab import __version__
    from lab.kernels import IPCKernelManager

    declared = notebook_parameters(report.notebook)
    params = {**report.parameters, **(extra or {})}
    params.update({k: v for k, v in (("period", period.label), ("language", lang)) if k in declared})
    check_parameters(report.notebook, params)
    target = out / period.label / f"{report.name}.{lang}.html"
    record_path = _record_path(out, report.name, period.label, lang)
    fingerprint = _fingerprint(report, params)
    started = time.perf_counter()
    if not force and _unchanged(record_path, fingerprint):
        result = RunResult(report.name, period.label, lang, "skipped", html=target)
        result.seconds = time.perf_counter() - started
        _append_log(out, result)
        return result
    result = RunResult(report.name, period.label, lang, "failed")
    with tempfile.TemporaryDirectory(prefix=f"lab-report-{report.name}-") as tmp:
        executed = Path(tmp) / f"{report.name}.{lang}.ipynb"
        provenance = Path(tmp) / "inputs.jsonl"
        previous = os.environ.get(PROVENANCE_ENV)
        os.environ[PROVENANCE_ENV] = str(provenance)  # the kernel inherits it; lab.load records its inputs
        try:
            pm.execute_notebook(
                str(report.notebook),
                str(executed),
                parameters=params,
                kernel_name=KERNEL_NAME,
                kernel_manager_class=IPCKernelManager,  # local sockets: no TCP ports, no warning
                cwd=str(PROJECT_ROOT),
                progress_bar=False,
                log_output=False,
                execution_timeout=report.timeout,
            )
        except pm.PapermillExecutionError as exc:
            result.failed_cell = _source_cell_index(executed, exc.cell_index)
            result.error = f"{exc.ename}: {str(exc.evalue).splitlines()[0] if exc.evalue else ''}"
        except (
            Exception
        ) as exc:  # kernel died, timeout, notebook unreadable: report it, keep the last good one
            result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        else:
            record = {
                "report": report.name,
                "period": period.label,
                "language": lang,
                "fingerprint": fingerprint,
                "parameters": params,
                "inputs": (inputs := _read_inputs(provenance)),
                "lab_version": __version__,
                "commit": git_commit(),
                "ran_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "html": str(target),
            }
            title = f"{report.title.get(lang, report.name)} · {period.label}"
            page = _render_html(
                executed, title, lang, _provenance_footer(record, lang), demo_banner(inputs, lang)
            )
            publish_unit(target, page, executed, record)
            result.status, result.html = "ok", target
        finally:
            if previous is None:
                os.environ.pop(PROVENANCE_ENV, None)
            else:
                os.environ[PROVENANCE_ENV] = previous
        if result.status == "failed" and executed.exists():
            failed = out / period.label / "failed" / f"{report.name}.{lang}.ipynb"
            with atomic_path(failed) as nb_tmp:
                shutil.copyfile(executed, nb_tmp)
            result.html = None
    result.seconds = time.perf_counter() - started
    _append_log(out, result)
    (log.info if result.ok else log.error)(result.summary())
    return result


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def publish_unit(target: Path, page: str, executed: Path, record: dict[str, Any]) -> None:
    """Publish a report's HTML, executed notebook and record as one unit.

    The three files are first written in full beside their targets (:func:`lab.atomic.atomic_path`);
    only then is the old record removed and the notebook, the HTML and the new record (holding the
    sha256 of both) renamed into place, the record last. A run killed at any point leaves the old unit
    or a unit without a record, which :func:`unit_complete` refuses: the index does not link it and
    ``--due`` runs it again.

    Parameters
    ----------
    target
        ``<out>/<period>/<report>.<lang>.html``.
    page
        The rendered HTML.
    executed
        The executed notebook to publish beside it.
    record
        The run record; ``html_sha256`` and ``ipynb_sha256`` are added here.
    """
    record_file = target.with_suffix(".json")
    with (
        atomic_path(record_file) as staged_record,  # exits last: the record is renamed after the others
        atomic_path(target) as staged_html,
        atomic_path(target.with_suffix(".ipynb")) as staged_nb,
    ):
        staged_html.write_text(page, encoding="utf-8")
        shutil.copyfile(executed, staged_nb)
        full = {**record, "html_sha256": _sha256(staged_html), "ipynb_sha256": _sha256(staged_nb)}
        staged_record.write_text(json.dumps(full, ensure_ascii=False, indent=1), encoding="utf-8")
        record_file.unlink(missing_ok=True)  # from here until the record's rename the unit is not trusted


def unit_complete(out: Path, period: str, name: str, lang: str) -> bool:
    """True when a report's HTML, notebook and record were published together (hashes in the record match).

    Parameters
    ----------
    out
        The reports folder.
    period, name, lang
        Which report.
    """
    record_path = _record_path(out, name, period, lang)
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict):
        return False
    html_path, nb_path = record_path.with_suffix(".html"), record_path.with_suffix(".ipynb")
    try:
        if "html_sha256" not in record:  # published before units: the record was written after the others
            return record_path.stat().st_mtime_ns >= max(
                html_path.stat().st_mtime_ns, nb_path.stat().st_mtime_ns
            )
        return record.get("html_sha256") == _sha256(html_path) and record.get("ipynb_sha256") == _sha256(
            nb_path
        )
    except OSError:
        return False


def _run_job(job: tuple[Report, Period, str, Path, bool]) -> RunResult:
    report, period, lang, out, force = job
    return run_report(report, period, lang, out, force=force)


def _run_group(group: list[tuple[Report, Period, str, Path, bool]]) -> list[RunResult]:
    return [_run_job(job) for job in group]


_LOG_KEYS = ("report", "period", "language", "status")


def read_log(out: Path) -> list[dict[str, Any]]:
    """Every run recorded in ``runs.jsonl``, oldest first.

    A line that is not a complete record (a partial line left by a killed run, a hand edit) is skipped
    with a warning naming the file and line, so it never stops later runs.
    """
    path = out / "runs.jsonl"
    if not path.exists():
        return []
    entries = []
    raw = path.read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in _LOG_KEYS):
            log.warning("%s: line %d is not a complete run record (a killed run?): skipped", path, number)
            continue
        entries.append(entry)
    return entries


def write_index(out: Path, schedule: list[Report]) -> Path:
    """Write ``index.html``: every period and report, newest first, with its status and links.

    Links are relative, so the index works from the file system and from any static web server.
    """
    titles = {r.name: r.title for r in schedule}
    last: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in read_log(out):
        if entry.get("status") != "skipped":
            last[(entry["period"], entry["report"], entry["language"])] = entry
    for page in out.glob("*/*.html"):  # published reports with no log line (e.g. copied in) still count
        name, _, lang = page.stem.rpartition(".")
        last.setdefault((page.parent.name, name, lang), {"status": "ok"})
    rows = []
    for (period, name, lang), entry in sorted(
        last.items(), key=lambda kv: (kv[0][0], kv[0][1]), reverse=True
    ):
        title = html.escape(titles.get(name, {}).get(lang, name))
        good = unit_complete(out, period, name, lang)  # HTML, notebook and record published together
        link = f'<a href="{period}/{name}.{lang}.html">{title}</a>' if good else title
        status = entry.get("status", "ok")
        if status == "ok" and not good:
            status = "incomplete"
        note = ""
        if status == "failed":
            failed = f"{period}/failed/{name}.{lang}.ipynb"
            note = f' · <a href="{failed}">notebook</a> · {html.escape(str(entry.get("error") or ""))}'
        rows.append(
            f"<tr><td>{period}</td><td>{link}</td><td>{lang}</td>"
            f"<td class='status-{status}'>{status}{note}</td></tr>"
        )
    from lab.published import front_page_html

    newest = max((p for (p, n, _lang) in last if n == "portal-usage"), default=None)
    compared = {
        lang: f"{newest}/portal-usage.{lang}.html"
        for lang in ("vi", "en")
        if newest is not None and unit_complete(out, newest, "portal-usage", lang)
    }
    body = (
        f"<h1>{t('reports_index', 'vi')} / {t('reports_index', 'en')}</h1>"
        f"<table><tr><th>{t('period', 'vi')} / {t('period', 'en')}</th><th>Báo cáo / Report</th><th></th>"
        f"<th>Trạng thái / Status</th></tr>{''.join(rows)}</table>" + front_page_html(compared)
    )
    target = out / "index.html"
    atomic_write_text(target, _page(t("reports_index", "vi"), body, t("generated_by", "vi"), "vi"))
    return target


def due_reports(schedule: list[Report], out: Path, as_of: date | None = None) -> list[tuple[Report, Period]]:
    """The reports due on ``as_of``: their last ended period has no good report yet, and its due day has come.

    A nightly ``lab reports run --due`` therefore runs each report once per period, on or after its due day,
    and catches up after a missed night; a first run makes every report for its latest ended period.
    """
    as_of = as_of or as_of_date()
    due = []
    for report in schedule:
        period = default_period(report.cadence, as_of)
        done = all(unit_complete(out, period.label, report.name, lang) for lang in report.languages)
        if not done and becomes_due(period, report.due_day) <= clamped_as_of(as_of):
            due.append((report, period))
    return due


def run(
    names: list[str] | None = None,
    period: str | None = None,
    languages: list[str] | None = None,
    out: Path | None = None,
    *,
    due_only: bool = False,
    force: bool = False,
    schedule_path: str | Path | None = None,
    workers: int | None = None,
) -> list[RunResult]:
    """Run scheduled reports (independent reports in parallel) and rewrite the index.

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
        Only the reports that are due (:func:`due_reports`).
    force
        Run even when nothing changed since the last good run.
    workers
        Parallel runs (default: the number of cores, at most 2 here).
    """
    schedule = load_schedule(schedule_path)
    out = check_folder(out or PROJECT_ROOT / "reports")
    known = {r.name for r in schedule}
    if names and (unknown := [n for n in names if n not in known]):
        raise ReportError(f"unknown report(s) {', '.join(unknown)}; scheduled: {', '.join(sorted(known))}")
    chosen = [r for r in schedule if not names or r.name in names]
    if due_only and period:
        raise ReportError("--due picks each report's own period: give --due or --period, not both")
    if due_only:
        plan = due_reports(chosen, out)
    else:
        plan = [(r, Period.parse(period) if period else default_period(r.cadence)) for r in chosen]
    # one group per report: its languages run one after the other (they share inputs such as the usage
    # store, which the first run may be filling); different reports run in parallel
    groups = [[(r, p, lang, out, force) for lang in (languages or r.languages)] for r, p in plan]
    workers = max(1, min(workers or os.cpu_count() or 1, 2, len(groups) or 1))
    if workers == 1:
        results = [res for group in groups for res in _run_group(group)]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: the parent may hold polars/zmq threads that a fork would copy half-way
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = [res for done in pool.map(_run_group, groups) for res in done]
    write_index(out, schedule)
    return results
