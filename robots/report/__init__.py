"""The proof-of-concept evaluation report: the run log turned into a go / no-go decision.

``write_report`` reads the runs of a period from the run log (:mod:`.data`), computes every
figure (:mod:`.metrics`, pure) and the verdict per scenario against ``[evaluation]``
(:mod:`.verdict`), and writes one self-contained HTML page (:mod:`.html`, charts from
:mod:`.charts`) and an Excel workbook (:mod:`.excel`) with the same figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path

from ocr.templates import TemplateLibrary
from robots.config import Config, forms_dirs
from robots.db.runlog import RunLog
from robots.report.data import Period, ReportData, load_report_data
from robots.report.figures import Report
from robots.report.metrics import compute_report
from robots.scenario import all_scenarios

__all__ = ["Report", "ReportFiles", "build_report", "write_report"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote, and the report it wrote."""

    html: Path
    xlsx: Path
    report: Report


def build_report(cfg: Config, *, since: date | None = None, until: date | None = None,
                 scenario: str | None = None, now: datetime | None = None,
                 tz: tzinfo | None = None, check_originals: bool = True) -> Report:
    """The figures of the runs started from ``since`` to ``until`` (local dates, inclusive).

    A missing run log is an empty period (it is not created). ``tz`` is the town's time zone
    for dates and weeks (None: this machine's).
    """
    period = Period(since, until)
    db = cfg.resolve(cfg.paths.runlog)
    if db.exists():
        runlog = RunLog(db)
        try:
            data = load_report_data(runlog.db, period, scenario=scenario, tz=tz,
                                    check_originals=check_originals,
                                    workspace=cfg.resolve(Path()))
        finally:
            runlog.close()
    else:
        log.info("no run log at %s: the report covers nothing", db)
        data = ReportData(period)
    library = TemplateLibrary.from_dirs(forms_dirs(cfg))
    scenarios = all_scenarios()
    return compute_report(
        data, cfg.evaluation, generated_at=now or datetime.now().astimezone(),
        scenario_filter=scenario,
        scenario_titles={n: s.title_ja for n, s in scenarios.items()},
        form_titles={t.id: t.title for t in library},
        data_inputs={f: title for s in scenarios.values() for f, title in s.data_inputs.items()},
        work_specs={n: s.work for n, s in scenarios.items() if s.work is not None})


def write_report(cfg: Config, *, since: date | None = None, until: date | None = None,
                 scenario: str | None = None, out_dir: Path | None = None,
                 now: datetime | None = None, tz: tzinfo | None = None) -> ReportFiles:
    """Write ``評価報告_<stamp>.html`` and ``.xlsx`` into ``out_dir`` (default ``<out>/report``)."""
    from robots.report.excel import write_excel
    from robots.report.html import render_html

    now = now or datetime.now().astimezone()
    report = build_report(cfg, since=since, until=until, scenario=scenario, now=now, tz=tz)
    folder = out_dir if out_dir is not None else cfg.resolve(cfg.paths.out) / "report"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"評価報告_{now:%Y%m%d-%H%M%S}"
    html_path = folder / f"{stem}.html"
    html_path.write_text(render_html(report, cfg.evaluation), encoding="utf-8")
    xlsx_path = write_excel(report, folder / f"{stem}.xlsx")
    log.info("evaluation report written: %s, %s", html_path, xlsx_path)
    return ReportFiles(html_path, xlsx_path, report)
