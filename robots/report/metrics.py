"""Every figure of the evaluation report, computed from the run-log records of a period.

A pure function of :class:`robots.report.data.ReportData` and ``[evaluation]``: no clock, no
database, no files, so that a test can build a run log with known truth and check each
figure against a hand computation. How each figure is defined is written next to it in the
report (see :mod:`robots.report.labels`); the short version:

- accuracy counts *reviewed* fields only (an import gave them a final value); fields not yet
  reviewed are reported as such and never counted as right;
- review time is what reviewers recorded on the correction sheet; a reviewed run without it
  is estimated from the recorded runs (median minutes per flagged field) or, with none
  recorded, from ``review_seconds_per_flagged_field`` — and the report says so;
- a run's review minutes are shared equally among its documents, to compare per form with
  the manual baseline (measured samples first, the configured time study otherwise).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from robots.config.evaluation import EvaluationConfig
from robots.report.data import (
    FAILED_SCHEDULE_EVENT,
    MISSED_SCHEDULE_EVENT,
    DocRow,
    FieldRow,
    ReportData,
    RunRow,
    missed_schedule_scenario,
)
from robots.report.figures import (
    BaselineFigure,
    FormTime,
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
from robots.report.verdict import decide

__all__ = ["compute_report", "week_of"]


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


def _volume(runs: dict[str, RunRow], docs: list[DocRow], fields: dict[str, list[FieldRow]]
            ) -> VolumeFigures:
    v = VolumeFigures()
    for d in docs:
        n = len(fields.get(d.doc_id, []))
        week = v.by_week.setdefault(week_of(runs[d.run_id].day), {})
        for row in (v.by_form.setdefault(d.form_id, VolumeRow()),
                    week.setdefault(d.form_id, VolumeRow()), v.total):
            row.documents += 1
            row.pages += d.pages
            row.fields += n
        v.documents_flagged += any(f.flagged for f in fields.get(d.doc_id, []))
    v.by_week = dict(sorted(v.by_week.items()))
    return v


def _quality(data: ReportData, run_ids: set[str], docs: list[DocRow],
             fields: dict[str, list[FieldRow]]) -> QualityFigures:
    q = QualityFigures()
    evidence: set[str] = set()
    silent: set[str] = set()
    for d in docs:
        mine = fields.get(d.doc_id, [])
        for f in mine:
            if not f.reviewed:
                q.fields_unreviewed += 1
                continue
            evidence.add(d.run_id)
            for g in (q.overall, q.by_form.setdefault(f.form_id or d.form_id, QualityGroup()),
                      q.by_type.setdefault(f.type, QualityGroup())):
                _add(g, f)
            if not f.flagged and not f.correct:
                silent.add(d.run_id)
        if mine and all(f.reviewed for f in mine):
            q.documents_reviewed += 1
            q.documents_straight_through += all(f.correct for f in mine)
        else:
            q.documents_unreviewed += 1
    q.simulated_runs = sorted({i.run_id for i in data.imports
                               if i.simulated and i.run_id in run_ids})
    q.evidence_runs, q.silent_runs = sorted(evidence), sorted(silent)
    return q


def _baselines(data: ReportData, cfg: EvaluationConfig, forms: Iterable[str]
               ) -> dict[str, BaselineFigure]:
    out = {}
    for form in forms:
        samples = [b for b in data.baselines if b.form_id == form]
        if samples:
            docs = sum(b.documents for b in samples)
            out[form] = BaselineFigure(sum(b.minutes for b in samples) / docs, "measured",
                                       len(samples), docs)
        elif form in cfg.baseline_minutes:
            out[form] = BaselineFigure(cfg.baseline_minutes[form], "configured")
        else:
            out[form] = BaselineFigure(None, "missing")
    return out


def _time(data: ReportData, cfg: EvaluationConfig, runs: list[RunRow], docs: list[DocRow],
          fields: dict[str, list[FieldRow]]) -> TimeFigures:
    t = TimeFigures()
    timed = [d.stage_ms for d in docs if d.stage_ms is not None]
    t.robot_seconds = Ratio(sum(timed) / 1000, len(timed))
    docs_of: dict[str, list[DocRow]] = defaultdict(list)
    for d in docs:
        docs_of[d.run_id].append(d)
    done = [r for r in runs if r.status == "completed" and r.finished_at and docs_of[r.run_id]]
    t.elapsed_seconds = Ratio(sum((r.finished_at - r.started_at).total_seconds()  # type: ignore[operator]
                                  for r in done), sum(len(docs_of[r.run_id]) for r in done))
    baselines = _baselines(data, cfg, sorted({d.form_id for d in docs}))
    t.by_form = {f: FormTime(baseline=b, annual_volume=cfg.annual_volume.get(f))
                 for f, b in baselines.items()}
    flags = {r.run_id: sum(f.flagged for d in docs_of[r.run_id] for f in fields.get(d.doc_id, []))
             for r in runs}
    recorded: dict[str, float] = {}
    for r in runs:
        if not docs_of[r.run_id]:
            continue
        imports = [i for i in data.imports if i.run_id == r.run_id]
        minutes = [i.review_minutes for i in imports if i.review_minutes is not None]
        if not imports:
            t.unreviewed_runs.append(r.run_id)
        elif minutes:
            t.measured_runs.append(r.run_id)
            recorded[r.run_id] = sum(minutes)
        else:
            t.estimated_runs.append(r.run_id)
    rates = [recorded[r] / flags[r] for r in t.measured_runs if flags[r]]
    if rates:
        rate = statistics.median(rates)
        source = (f"記録のある{len(rates)}回の実行から求めた要確認項目1件あたりの中央値"
                  f"（{rate * 60:.0f}秒）")
    else:
        rate = cfg.review_seconds_per_flagged_field / 60
        source = (f"設定値 evaluation.review_seconds_per_flagged_field"
                  f"（要確認項目1件あたり{cfg.review_seconds_per_flagged_field:g}秒）")
    if t.estimated_runs:
        t.estimate_minutes_per_flag = rate
        t.estimate_method = (f"確認時間の記入がなかった{len(t.estimated_runs)}回の実行は、"
                             f"{source} × 要確認項目数で推定しました。")
    for run_id in [*t.measured_runs, *t.estimated_runs]:
        minutes = recorded.get(run_id)
        if minutes is None:
            minutes = flags[run_id] * rate
            t.estimated_minutes += minutes
        else:
            t.measured_minutes += minutes
        share = minutes / len(docs_of[run_id])  # shared equally among the run's documents
        for d in docs_of[run_id]:
            t.by_form[d.form_id].documents += 1
            t.by_form[d.form_id].review_minutes += share
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
                   scenario_titles: dict[str, str] | None = None,
                   form_titles: dict[str, str] | None = None) -> Report:
    """The whole report: one :class:`ScenarioFigures` per scenario seen in the period."""
    titles = scenario_titles or {}
    known = set(titles) | {r.scenario for r in data.runs}
    report = Report(data.period.since, data.period.until, generated_at, scenario_filter,
                    form_titles=dict(form_titles or {}))
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
        s = ScenarioFigures(name, titles.get(name, name), [r.run_id for r in runs])
        s.volume = _volume(by_id, docs, fields)
        s.quality = _quality(data, set(by_id), docs, fields)
        s.time = _time(data, cfg, runs, docs, fields)
        s.reliability = _reliability(data, name, runs, docs, known)
        s.verdict = decide(s, cfg.thresholds)
        report.scenarios.append(s)
    if report.empty:
        report.notes.append("この期間には実行の記録がありません。数値はすべて「—」です"
                            "（0件で割ることはしていません）。")
    return report
