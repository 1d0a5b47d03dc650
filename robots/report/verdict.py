"""Go / conditional / no-go per scenario, from the thresholds the town set in config.toml.

The rule is written here once and printed in the report, so that nobody has to guess why a
scenario got its verdict. Criteria are judged per scanned form (a failing form cannot hide
under a passing total), per task of the scenario's own work, and for the scenario:

- **no-go** (見送り) when a criterion that protects the town's data fails: a document was
  lost; the silent error rate (wrong values nobody was asked to check) of a form carrying
  more than ``min_form_share`` of the scanned documents is above its limit; results of the
  scenario's own work were found wrong later (a deposit link undone) beyond
  ``max_work_errors``; or staff time measured — recorded review time, a timed manual
  baseline — went *up* against doing the work by hand, for such a form or for a task;
- **go** (導入) when every criterion of every form and task passes on measured evidence:
  manual baselines timed (an assumed one is a condition), review time recorded and shared
  among forms by measured rates, enough fully reviewed documents, no simulated review, no
  failed or missed runs;
- **conditional** (条件付き導入) otherwise; each condition is listed, naming the form or task.

``no_data`` (判定不能) is for a scenario without a single document in the period.
"""

from __future__ import annotations

from collections.abc import Mapping

from robots.config.evaluation import EvaluationThresholds
from robots.report.base import BaselineFigure, Ratio
from robots.report.figures import Criterion, FormTime, ScenarioFigures, Verdict
from robots.report.work import TaskFigure

__all__ = ["DECISION_JA", "REVIEW_SOURCE_JA", "decide", "pct", "source_ja"]

DECISION_JA = {"go": "導入", "conditional": "条件付き導入", "no_go": "見送り",
               "no_data": "判定不能（データなし）"}
REVIEW_SOURCE_JA = {"measured": "実測", "attributed": "実測を様式に配分",
                     "estimated": "推定（記入なし）"}


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a Japanese report shows it, or "—" when there is nothing to show."""
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def source_ja(b: BaselineFigure) -> str:
    """Where a manual time comes from, in a few Japanese words."""
    return {"measured": f"実測（{b.samples}回・計{b.sample_documents}件）",
            "configured": "仮定値（実測ではありません）",
            "assumed_manual": "未計測（手作業1件と同じとみなす）"}.get(b.source, "なし")


def _status(value: float | None, ok: bool) -> str:
    return "pending" if value is None else "pass" if ok else "fail"


def _form_criteria(s: ScenarioFigures, th: EvaluationThresholds, form: str, title: str
                   ) -> list[Criterion]:
    q = s.quality.by_form.get(form)
    acc = q.accuracy.value if q else None
    silent = q.silent_error_rate.value if q else None
    share = s.volume.share(form)
    major = share is not None and share > th.min_form_share
    ft = s.time.by_form.get(form, FormTime())
    saved = ft.saved_share.value
    evidence = tuple(s.quality.evidence_by_form.get(form, ()))
    pending = "修正の取り込み（確認済みの項目）がまだありません"
    common = {"subject": form, "subject_title": title, "major": major}
    return [
        Criterion("field_accuracy", "項目正読率（読取値＝確定値）",
                  f"{pct(th.min_field_accuracy)} 以上", acc, pct(acc),
                  _status(acc, acc is not None and acc >= th.min_field_accuracy), evidence,
                  f"機械が読んだ確認済み {q.fields} 項目中 {q.correct} 項目が正しい"
                  if q and acc is not None else pending, **common),
        Criterion("silent_error_rate", "見逃し率（要確認にならずに修正された項目）",
                  f"{pct(th.max_silent_error_rate, 2)} 以下", silent, pct(silent, 2),
                  _status(silent, silent is not None and silent <= th.max_silent_error_rate),
                  tuple(s.quality.silent_by_form.get(form, ())) or evidence,
                  f"確認済み {q.fields} 項目中 {q.silent} 項目" if q and silent is not None
                  else pending, **common),
        Criterion("time_saved", "職員の作業時間の削減率（手入力比）",
                  f"{pct(th.min_time_saved)} 以上", saved, pct(saved),
                  _status(saved, saved is not None and saved >= th.min_time_saved),
                  tuple(ft.runs),
                  f"基準：{source_ja(ft.baseline)}／確認時間："
                  f"{REVIEW_SOURCE_JA[ft.review_source]}" if saved is not None else
                  "確認済みの文書か手入力の基準時間がありません", **common),
    ]


def _task_criterion(t: TaskFigure, th: EvaluationThresholds) -> Criterion:
    saved: Ratio = t.saved_share
    note = (f"手作業：{source_ja(t.manual)}／判断：{source_ja(t.decision)}"
            if saved.value is not None else
            "件数がまだ記録されていません" if t.done is None or t.left is None
            else "手作業の基準時間がありません")
    return Criterion("time_saved", "職員の作業時間の削減率（手作業比）",
                     f"{pct(th.min_time_saved)} 以上", saved.value, pct(saved.value),
                     _status(saved.value, saved.value is not None
                             and saved.value >= th.min_time_saved),
                     t.runs, note, t.task, t.title)


def _criteria(s: ScenarioFigures, th: EvaluationThresholds, titles: Mapping[str, str]
              ) -> list[Criterion]:
    forms = sorted(s.volume.by_form, key=lambda f: (-s.volume.by_form[f].documents, f))
    out = [c for f in forms for c in _form_criteria(s, th, f, titles.get(f, f))]
    rel = s.reliability
    lost = float(len(rel.lost)) if rel.files else None
    out.append(Criterion(
        "lost_documents", "紛失した文書（出力にも隔離にも届かなかったもの）",
        f"{th.max_lost_documents} 件以下", lost, "—" if lost is None else f"{int(lost)} 件",
        _status(lost, lost is not None and lost <= th.max_lost_documents),
        tuple(sorted({r for r, _, _ in rel.lost})) if rel.lost else tuple(s.run_ids),
        "" if lost is not None else "ファイルの記録がありません"))
    w = s.work
    if w is not None:
        out += [_task_criterion(t, th) for t in w.tasks]
        if w.errors_declared:
            errors = None if w.errors is None else float(w.errors)
            out.append(Criterion(
                "work_errors", w.errors_label, f"{th.max_work_errors} 件以下", errors,
                "—" if errors is None else f"{int(errors)} 件",
                _status(errors, errors is not None and errors <= th.max_work_errors),
                w.error_runs, "" if errors is not None else "件数がまだ記録されていません"))
    return out


def _subject(c: Criterion) -> str:
    return f"「{c.subject_title}」の" if c.subject_title else ""


def _measured_time_went_up(c: Criterion, s: ScenarioFigures) -> bool:
    """Staff time grew on measured evidence only: a timed baseline and recorded review time."""
    if c.key != "time_saved" or c.measured is None or c.measured >= 0 or not c.major:
        return False
    if c.subject in s.time.by_form:
        ft = s.time.by_form[c.subject]
        rates = s.time.rates
        fitted = rates is not None and rates.source == "fitted"
        return ft.baseline.measured and (ft.review_source == "measured" or (
            ft.review_source == "attributed" and fitted))
    task = next((t for t in (s.work.tasks if s.work else []) if t.task == c.subject), None)
    return task is not None and task.measured_time


def _baseline_conditions(s: ScenarioFigures, titles: Mapping[str, str]) -> list[str]:
    out = []
    assumed = [titles.get(f, f) for f, ft in s.time.by_form.items()
               if ft.baseline.source == "configured"]
    missing = [titles.get(f, f) for f, ft in s.time.by_form.items()
               if ft.baseline.source == "missing"]
    tasks = s.work.tasks if s.work else []
    assumed += [t.title for t in tasks if t.manual.source == "configured"]
    missing += [t.title for t in tasks if t.manual.source == "missing"]
    if assumed:
        out.append("手作業の基準時間が実測ではなく仮定値です：" + "、".join(assumed)
                   + "。導入の判断には、職員が手作業でかかる時間の計測が必要です")
    if missing:
        out.append("手作業の基準時間がありません：" + "、".join(missing))
    untimed = [t.decision_title or t.title for t in tasks
               if t.decision.source in ("assumed_manual", "configured")]
    if untimed:
        out.append("人が判断した1件の時間が計測されていません（手作業と同じ時間とみなして"
                   "います）：" + "、".join(untimed))
    return out


def _review_conditions(s: ScenarioFigures) -> list[str]:
    t = s.time
    out = []
    if t.estimated_runs:
        out.append(f"確認時間に推定値を含みます（確認時間の記入がない{len(t.estimated_runs)}回"
                   "の実行）")
    attributed = any("attributed" in ft.sources for ft in t.by_form.values())
    if attributed and t.rates is not None and (
            t.rates.source != "fitted" or any(k in t.rates.assumed for k in t.kinds_used)):
        out.append("確認時間の様式への配分に、実測ではない比率を使っています（確認時間の記録が"
                   "ある実行がもっと必要です）")
    return out


def decide(s: ScenarioFigures, th: EvaluationThresholds,
           titles: Mapping[str, str] | None = None) -> Verdict:
    """The verdict of one scenario with its criteria and the conditions that keep it from go."""
    criteria = _criteria(s, th, titles or {})
    if not s.volume.total.documents and not s.reliability.files:
        return Verdict("no_data", tuple(criteria),
                       ("この期間に処理された文書がありません",))
    q, rel = s.quality, s.reliability
    no_go = False
    conditions: list[str] = []
    for c in criteria:
        if c.status == "fail":
            text = f"{_subject(c)}{c.label}が基準（{c.threshold}）を満たしていません: {c.shown}"
            if c.key in ("lost_documents", "work_errors") or (
                    c.key == "silent_error_rate" and c.major):
                no_go = True
            elif c.key == "silent_error_rate":
                text += "（文書の少ない様式のため、見送りではなく導入の条件とします）"
            no_go = no_go or _measured_time_went_up(c, s)
            conditions.append(text)
        elif c.status == "pending":
            conditions.append(f"{_subject(c)}{c.label}はまだ測れていません（{c.note}）")
    conditions += _baseline_conditions(s, titles or {})
    conditions += _review_conditions(s)
    if s.volume.paper.documents and q.documents_reviewed < th.min_reviewed_documents:
        conditions.append(f"確認済みの文書が{q.documents_reviewed}件で、判定に必要な"
                          f"{th.min_reviewed_documents}件に足りません")
    if q.simulated_runs:
        conditions.append("模擬レビュー（サンプルの正解データによる自動修正）の結果を含みます。"
                          "職員による実際の確認ではないため、導入判断には使えません")
    if rel.failed_runs or rel.failed_starts:
        conditions.append(f"異常終了した実行が{len(rel.failed_runs) + len(rel.failed_starts)}"
                          "回あります")
    if rel.missed_schedules:
        conditions.append(f"予定どおりに実行されなかった回が{len(rel.missed_schedules)}回あります")
    if no_go:
        return Verdict("no_go", tuple(criteria), tuple(conditions))
    return Verdict("conditional" if conditions else "go", tuple(criteria), tuple(conditions))
