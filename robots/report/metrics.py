"""Every figure of the evaluation report, computed from the run-log records of a period.

A pure function of :class:`robots.report.data.ReportData` and ``[evaluation]``: no clock, no
database, no files, so that a test can build a run log with known truth and check each
figure against a hand computation. How each figure is defined is written next to it in the
report (see :mod:`robots.report.labels`); the short version:

- documents of a scanned form and rows of a data input are counted apart: only the scanned
  forms are OCR, and only their *read* fields (not the proposed or keyed ones) measure it;
- accuracy counts *reviewed* fields only (an import gave them a final value); fields not yet
  reviewed are reported as such and never counted as right;
- review time is what reviewers recorded on the correction sheet, shared among a run's forms
  by the work each needed (:mod:`robots.report.review_time`); a reviewed run without it is
  estimated — and the report says so;
- the manual baseline per form and per task is measured (``rpa baseline record``) or an
  assumption from the configuration, and the report says which;
- a scenario's own work (replies linked, findings judged) comes from its counts
  (:mod:`robots.report.work`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from robots.config.evaluation import EvaluationConfig
from robots.report.base import baseline
from robots.report.data import (
    FAILED_SCHEDULE_EVENT,
    FIELD_KINDS,
    MISSED_SCHEDULE_EVENT,
    DocRow,
    FieldRow,
    ReportData,
    RunRow,
    missed_schedule_scenario,
)
from robots.report.figures import (
    FormTime,
    KindFigures,
    QualityFigures,
    QualityGroup,
    Ratio,
    ReliabilityFigures,
    Report,
    ScenarioFigures,
    TimeFigures,
    VolumeFigures,
    VolumeRow,
)
from robots.report.review_time import attribute_review_time
from robots.report.verdict import decide
from robots.report.work import compute_work
from robots.scenario import WorkSpec

__all__ = ["compute_report", "week_of"]

#: The kind of work a reviewer does on a field → the kind of field it is.
_WORK_TO_FIELD = {"flagged": "read", "proposed": "proposed", "keyed": "keyed"}


def week_of(day: date) -> date:
    """The Monday of ``day``'s week: weeks are labelled by their first day."""
    return day - timedelta(days=day.weekday())


def _add(group: QualityGroup, f: FieldRow) -> None:
    group.fields += 1
    group.correct += f.correct
    group.chars += max(f.ocr_len, f.final_len)
    group.char_errors += f.char_errors
    group.flagged += f.flagged
    group.flagged_wrong += f.flagged and not f.correct
    group.silent += not f.flagged and not f.correct


def _volume(runs: dict[str, RunRow], docs: list[DocRow], fields: dict[str, list[FieldRow]],
            data_forms: set[str]) -> VolumeFigures:
    v = VolumeFigures()
    for d in docs:
        mine = fields.get(d.doc_id, [])
        tabular = d.form_id in data_forms
        week = v.by_week.setdefault(week_of(runs[d.run_id].day), {})
        rows = [(v.by_data if tabular else v.by_form).setdefault(d.form_id, VolumeRow()),
                week.setdefault(d.form_id, VolumeRow()), v.total]
        if not tabular:
            rows.append(v.paper)
            v.documents_flagged += any(f.flagged for f in mine)
        for row in rows:
            row.documents += 1
            if not (tabular and row is v.total):  # the total's pages are scanned pages only
                row.pages += d.pages
            if not tabular:
                row.fields += len(mine)
                for f in mine:
                    setattr(row, f.kind, getattr(row, f.kind) + 1)
    v.by_week = dict(sorted(v.by_week.items()))
    return v


def _changed(f: FieldRow) -> bool:
    """Reviewed and not kept as the machine gave it (a proposal: the import's own flag)."""
    return f.reviewed and (f.changed if f.kind == "proposed" else not f.correct)


def _quality(data: ReportData, run_ids: set[str], docs: list[DocRow],
             fields: dict[str, list[FieldRow]]) -> QualityFigures:
    q = QualityFigures(kinds={k: KindFigures() for k in FIELD_KINDS})
    evidence: dict[str, set[str]] = defaultdict(set)
    silent: dict[str, set[str]] = defaultdict(set)
    for d in docs:
        mine = fields.get(d.doc_id, [])
        for f in mine:
            k = q.kinds[f.kind]
            k.fields += 1
            k.flagged += f.flagged
            if f.reviewed:
                k.reviewed += 1
                k.changed += _changed(f)
                k.chars_final += f.final_len
            if f.kind != "read":
                continue  # proposed and keyed values are not the OCR's
            if not f.reviewed:
                q.fields_unreviewed += 1
                continue
            evidence[d.form_id].add(d.run_id)
            for g in (q.overall, q.by_form.setdefault(d.form_id, QualityGroup()),
                      q.by_type.setdefault(f.type, QualityGroup())):
                _add(g, f)
            if not f.flagged and not f.correct:
                silent[d.form_id].add(d.run_id)
        if mine and all(f.reviewed for f in mine):
            q.documents_reviewed += 1
            q.documents_straight_through += all(f.kind != "keyed" and not _changed(f)
                                                for f in mine)
        else:
            q.documents_unreviewed += 1
    q.simulated_runs = sorted({i.run_id for i in data.imports
                               if i.simulated and i.run_id in run_ids})
    q.evidence_by_form = {f: sorted(r) for f, r in sorted(evidence.items())}
    q.silent_by_form = {f: sorted(r) for f, r in sorted(silent.items())}
    q.evidence_runs = sorted(set().union(*evidence.values()))
    q.silent_runs = sorted(set().union(*silent.values()))
    return q


def _time(data: ReportData, cfg: EvaluationConfig, runs: list[RunRow], docs: list[DocRow],
          paper: list[DocRow], fields: dict[str, list[FieldRow]], q: QualityFigures
          ) -> TimeFigures:
    t = TimeFigures()
    timed = [d.stage_ms for d in paper if d.stage_ms is not None]
    t.robot_seconds = Ratio(sum(timed) / 1000, len(timed))
    count: Counter[str] = Counter(d.run_id for d in docs)
    done = [r for r in runs if r.status == "completed" and r.finished_at and count[r.run_id]]
    t.elapsed_seconds = Ratio(sum((r.finished_at - r.started_at).total_seconds()  # type: ignore[operator]
                                  for r in done), sum(count[r.run_id] for r in done))
    t.by_form = {f: FormTime(baseline=baseline(f, "form", data.baselines,
                                               cfg.baseline_minutes.get(f)),
                             annual_volume=cfg.annual_volume.get(f))
                 for f in sorted({d.form_id for d in paper})}
    spent = attribute_review_time(t, cfg, runs, paper, fields, data.imports)
    for kind, minutes in spent.items():
        q.kinds[_WORK_TO_FIELD[kind]].minutes += minutes
    return t


def _reliability(data: ReportData, scenario: str, runs: list[RunRow], docs: list[DocRow],
                 known: set[str]) -> ReliabilityFigures:
    rel = ReliabilityFigures(runs=len(runs))
    rel.by_status = dict(Counter(r.status for r in runs))
    rel.by_trigger = dict(Counter(r.trigger for r in runs))
    rel.failed_runs = [r.run_id for r in runs
                       if r.status in ("failed", "aborted") or r.exit_code == 1]
    ids = {r.run_id for r in runs}
    files = [f for f in data.files if f.run_id in ids]
    rel.files = len(files)
    pages_of: dict[int, int] = Counter()
    for d in docs:
        pages_of[d.file_id] += d.pages
    for f in files:
        if f.outcome != "processed":
            rel.quarantined.setdefault(f.reason_code or f.outcome, []).append(f.run_id)
        elif not pages_of[f.file_id]:
            rel.lost.append((f.run_id, f.source_name, "処理済みですが文書が記録されていません"))
        elif f.pages and pages_of[f.file_id] < f.pages:
            rel.lost.append((f.run_id, f.source_name,
                             f"{f.pages}ページ中{pages_of[f.file_id]}ページしか文書になっていません"))
        if f.file_id in data.originals_missing:
            rel.lost.append((f.run_id, f.source_name,
                             f"原本が記録された場所にありません（{f.final_path}）"))
    scheduler = [e for e in data.events if e.run_id is None
                 and missed_schedule_scenario(e.message, known) == scenario]
    rel.missed_schedules = [(e.at, e.message) for e in scheduler
                            if e.code == MISSED_SCHEDULE_EVENT]
    rel.failed_starts = [(e.at, e.message) for e in scheduler if e.code == FAILED_SCHEDULE_EVENT]
    rel.warnings = sum(1 for e in data.events
                       if e.run_id in ids and e.level in ("warning", "error"))
    return rel


def compute_report(data: ReportData, cfg: EvaluationConfig, *, generated_at: datetime,
                   scenario_filter: str | None = None,
                   scenario_titles: Mapping[str, str] | None = None,
                   form_titles: Mapping[str, str] | None = None,
                   data_inputs: Mapping[str, str] | None = None,
                   work_specs: Mapping[str, WorkSpec] | None = None) -> Report:
    """The whole report: one :class:`ScenarioFigures` per scenario seen in the period.

    ``form_titles`` names the scanned forms, ``data_inputs`` the inputs read from data files
    (form id → Japanese name: their documents are rows, not OCR), ``work_specs`` what each
    scenario's own work is judged on.
    """
    titles = scenario_titles or {}
    data_forms = set(data_inputs or {})
    specs = work_specs or {}
    known = set(titles) | {r.scenario for r in data.runs}
    report = Report(data.period.since, data.period.until, generated_at, scenario_filter,
                    form_titles={**(form_titles or {}), **(data_inputs or {})})
    missed = {missed_schedule_scenario(e.message, known) for e in data.events
              if e.run_id is None}
    names = {r.scenario for r in data.runs} | {m for m in missed if m}
    if scenario_filter:
        names &= {scenario_filter}
    fields: dict[str, list[FieldRow]] = defaultdict(list)
    for f in data.fields:
        fields[f.doc_id].append(f)
    for name in sorted(names):
        runs = [r for r in data.runs if r.scenario == name]
        by_id = {r.run_id: r for r in runs}
        docs = [d for d in data.documents if d.run_id in by_id]
        paper = [d for d in docs if d.form_id not in data_forms]
        s = ScenarioFigures(name, titles.get(name, name), [r.run_id for r in runs])
        s.volume = _volume(by_id, docs, fields, data_forms)
        s.quality = _quality(data, set(by_id), paper, fields)
        s.time = _time(data, cfg, runs, docs, paper, fields, s.quality)
        s.reliability = _reliability(data, name, runs, docs, known)
        if name in specs:
            s.work = compute_work(specs[name], data.work_counts, set(by_id), data.baselines,
                                  cfg.baseline_minutes, cfg.annual_volume)
        s.verdict = decide(s, cfg.thresholds, report.form_titles)
        report.scenarios.append(s)
    if report.empty:
        report.notes.append("この期間には実行の記録がありません。数値はすべて「—」です"
                            "（0件で割ることはしていません）。")
    return report
