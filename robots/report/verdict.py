"""Go / conditional / no-go per scenario, from the thresholds the town set in config.toml.

The rule is written here once and printed in the report, so that nobody has to guess why a
scenario got its verdict:

- **no-go** (見送り) when a criterion that protects the town's data fails: a document was
  lost, or the silent error rate (wrong values nobody was asked to check) is above its
  limit, or staff time measured — not estimated — went *up* compared with keying by hand;
- **go** (導入) when every criterion passes on measured evidence: enough fully reviewed
  documents, review time recorded for every reviewed run, no simulated review, no failed
  or missed runs;
- **conditional** (条件付き導入) otherwise; each condition is listed.

``no_data`` (判定不能) is for a scenario without a single document in the period.
"""

from __future__ import annotations

from robots.config.evaluation import EvaluationThresholds
from robots.report.figures import Criterion, Ratio, ScenarioFigures, Verdict

__all__ = ["DECISION_JA", "decide", "pct"]

DECISION_JA = {"go": "導入", "conditional": "条件付き導入", "no_go": "見送り",
               "no_data": "判定不能（データなし）"}


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a Japanese report shows it, or "—" when there is nothing to show."""
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def _status(value: float | None, ok: bool) -> str:
    return "pending" if value is None else "pass" if ok else "fail"


def _criteria(s: ScenarioFigures, th: EvaluationThresholds) -> list[Criterion]:
    q, t, rel = s.quality, s.time, s.reliability
    acc = q.overall.accuracy.value
    silent = q.overall.silent_error_rate.value
    saved: Ratio = t.saved_share
    lost = float(len(rel.lost)) if rel.files else None
    pending_review = "修正の取り込み（確認済みの項目）がまだありません"
    return [
        Criterion("field_accuracy", "項目正読率（読取値＝確定値）",
                  f"{pct(th.min_field_accuracy)} 以上", acc, pct(acc),
                  _status(acc, acc is not None and acc >= th.min_field_accuracy),
                  tuple(q.evidence_runs),
                  f"確認済み {q.overall.fields} 項目中 {q.overall.correct} 項目が正しい"
                  if acc is not None else pending_review),
        Criterion("silent_error_rate", "見逃し率（要確認にならずに修正された項目）",
                  f"{pct(th.max_silent_error_rate, 2)} 以下", silent, pct(silent, 2),
                  _status(silent, silent is not None and silent <= th.max_silent_error_rate),
                  tuple(q.silent_runs or q.evidence_runs),
                  f"確認済み {q.overall.fields} 項目中 {q.overall.silent} 項目"
                  if silent is not None else pending_review),
        Criterion("time_saved", "職員の作業時間の削減率（手入力比）",
                  f"{pct(th.min_time_saved)} 以上", saved.value, pct(saved.value),
                  _status(saved.value, saved.value is not None
                          and saved.value >= th.min_time_saved),
                  tuple(sorted({*t.measured_runs, *t.estimated_runs})),
                  ("確認時間に推定値を含みます" if t.estimated_runs else "確認時間は実測")
                  if saved.value is not None else
                  "確認済みの文書か手入力の基準時間がありません"),
        Criterion("lost_documents", "紛失した文書（出力にも隔離にも届かなかったもの）",
                  f"{th.max_lost_documents} 件以下", lost,
                  "—" if lost is None else f"{int(lost)} 件",
                  _status(lost, lost is not None and lost <= th.max_lost_documents),
                  tuple(sorted({r for r, _, _ in rel.lost})) if rel.lost
                  else tuple(s.run_ids), "" if lost is not None else "ファイルの記録がありません"),
    ]


def decide(s: ScenarioFigures, th: EvaluationThresholds) -> Verdict:
    """The verdict of one scenario with its criteria and the conditions that keep it from go."""
    criteria = _criteria(s, th)
    if not s.volume.total.documents and not s.reliability.files:
        return Verdict("no_data", tuple(criteria),
                       ("この期間に処理された文書がありません",))
    by_key = {c.key: c for c in criteria}
    t, q, rel = s.time, s.quality, s.reliability
    hard = [by_key["lost_documents"], by_key["silent_error_rate"]]
    time_c = by_key["time_saved"]
    costs_time = (time_c.measured is not None and time_c.measured < 0 and not t.estimated_runs)
    conditions: list[str] = []
    for c in criteria:
        if c.status == "fail":
            conditions.append(f"{c.label}が基準（{c.threshold}）を満たしていません: {c.shown}")
        elif c.status == "pending":
            conditions.append(f"{c.label}はまだ測れていません（{c.note}）")
    if t.estimated_runs:
        conditions.append(f"確認時間に推定値を含みます（{len(t.estimated_runs)}回の実行）")
    if q.documents_reviewed < th.min_reviewed_documents:
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
    if any(c.status == "fail" for c in hard) or costs_time:
        return Verdict("no_go", tuple(criteria), tuple(conditions))
    return Verdict("conditional" if conditions else "go", tuple(criteria), tuple(conditions))
