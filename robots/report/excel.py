"""The evaluation report as an Excel workbook: the same figures as the page, as numbers.

Managers forward the page; whoever checks the figures or builds the next budget request
opens the workbook, so every value is a real number with a number format (percentages,
minutes, counts), never text, and each ratio sits beside the counts it was computed from.
Sheets: 判定 (verdict and criteria per form and task with every evidence run id), 業務の成果
(the scenario's own work), 品質 (with the three kinds of field), 時間, 件数, 信頼性, and 詳細:
the internal names (ids, task names, reason codes, configuration keys) the other sheets avoid.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from robots import __version__
from robots.report.figures import QualityGroup, Ratio, Report, ScenarioFigures
from robots.report.labels import (
    DECISION_JA,
    DEFINITIONS,
    DETAILS,
    KIND_JA,
    REVIEW_SOURCE_JA,
    RUN_STATUS_JA,
    STATUS_JA,
    TRIGGER_JA,
    TYPE_JA,
    VERDICT_RULE,
    baseline_source,
    period_text,
    quarantine_reason,
    schedule_event,
)
from robots.report.review_time import WORK_KIND_JA, rates_text
from robots.sheets.common import display_width, neutralise_formulas, print_setup

__all__ = ["write_excel"]

log = logging.getLogger(__name__)

PCT, PCT2, MIN, SEC, COUNT, HOURS = "0.0%", "0.00%", "0.0", "0.0", "#,##0", "#,##0.0"
_HEAD = PatternFill("solid", fgColor="D9E1F2")
_BOLD = Font(bold=True)
_FILLS = {"go": "C6EFCE", "conditional": "FFEB9C", "no_go": "FFC7CE", "no_data": "D9D9D9",
          "pass": "C6EFCE", "fail": "FFC7CE", "pending": "D9D9D9"}
Cell = object


class _Sheet:
    """Appends rows; a (value, number format) pair gives a cell its format."""

    def __init__(self, ws: Worksheet, widths: Sequence[int]) -> None:
        self.ws = ws
        self.widths = list(widths)
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w

    def row(self, *cells: Cell, bold: bool = False, fill: str | None = None) -> int:
        values = [c[0] if isinstance(c, tuple) else c for c in cells]
        self.ws.append(["—" if v is None else v for v in values])
        r = self.ws.max_row
        for i, c in enumerate(cells, start=1):
            cell = self.ws.cell(r, i)
            if isinstance(c, tuple) and c[0] is not None:
                cell.number_format = c[1]
            cell.alignment = Alignment(vertical="top", wrap_text=isinstance(cell.value, str))
            if bold:
                cell.font = _BOLD
            if fill:
                cell.fill = PatternFill("solid", fgColor=fill)
        # wrapped text needs a row tall enough: spreadsheet programs do not always refit it
        lines = max([math.ceil(display_width(v) / max(self.widths[i] - 1, 4))
                     for i, v in enumerate(values) if isinstance(v, str) and i < len(self.widths)]
                    or [1])
        if lines > 1:
            self.ws.row_dimensions[r].height = 15 * lines + 3
        return r

    def text(self, label: str, text: str, *, fill: str | None = None) -> int:
        """A label and a long text across the rest of the sheet's columns (merged, wrapped)."""
        r = self.row(label, text, fill=fill)
        last = len(self.widths)
        self.ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=last)
        lines = math.ceil(display_width(text) / max(sum(self.widths[1:]) - 2, 4))
        self.ws.row_dimensions[r].height = 15 * lines + 3
        return r

    def header(self, *names: str) -> None:
        r = self.row(*names, bold=True)
        for i in range(1, len(names) + 1):
            self.ws.cell(r, i).fill = _HEAD

    def blank(self) -> None:
        self.ws.append([])


def _r(ratio: Ratio, fmt: str = PCT) -> tuple[float | None, str]:
    return ratio.value, fmt


def _verdict_sheet(sh: _Sheet, report: Report) -> None:
    sh.row("RPA・AI-OCR 実証実験 評価報告", bold=True)
    sh.row("対象期間", period_text(report))
    sh.row("対象の業務", next((s.title for s in report.scenarios), "—")
           if report.scenario_filter else "すべて")
    sh.row("作成日時", report.generated_at.strftime("%Y-%m-%d %H:%M"))
    sh.row("バージョン", f"misato-rpa {__version__}")
    for n in report.notes:
        sh.text("注記", n, fill="FFF2CC")
    if any(s.quality.simulated_runs for s in report.scenarios):
        sh.text("注記", "模擬レビュー（サンプルの正解データで確認シートを自動で埋めたもの）の結果"
                "を含みます。職員による実際の確認ではないため、品質と判定は参考値です。",
                fill="FFC7CE")
    sh.blank()
    sh.header("業務", "対象", "基準", "目標", "測定値", "結果", "根拠（実行ID）", "補足")
    for s in report.scenarios:
        v = s.verdict
        sh.row(s.title, "判定", "", "", DECISION_JA[v.decision], "", "", "",
               bold=True, fill=_FILLS[v.decision])
        for c in v.criteria:
            fmt = COUNT if c.key in ("lost_documents", "work_errors") else (
                PCT2 if c.key == "silent_error_rate" else PCT)
            r = sh.row(s.title, c.subject_title or "業務全体", c.label, c.threshold,
                       (c.measured, fmt), STATUS_JA[c.status], ", ".join(c.evidence) or "—",
                       c.note)
            sh.ws.cell(r, 6).fill = PatternFill("solid", fgColor=_FILLS[c.status])
        for cond in v.conditions:
            sh.row(s.title, "", "条件・理由", "", "", "", "", cond)
    if report.empty:
        sh.row("この期間に記録された実行はありません。")
    sh.blank()
    sh.text("判定のしかた", VERDICT_RULE)
    for k, d in DEFINITIONS:
        sh.text(k, d)


def _count(value: int | None) -> tuple[object, str]:
    return ("未計測" if value is None else value), COUNT


def _work_sheet(sh: _Sheet, report: Report) -> None:
    sh.header("業務", "項目", "件数", "根拠（実行ID）")
    for s in report.scenarios:
        for m in (s.work.measures if s.work else []):
            sh.row(s.title, m.label, _count(m.value), ", ".join(m.runs) or "—")
    sh.blank()
    sh.header("業務", "割合", "値", "分子", "分母", "求め方")
    for s in report.scenarios:
        for x in (s.work.shares if s.work else []):
            r = x.ratio
            sh.row(s.title, x.label, _r(r) if r else "未計測", (r.num if r else None, COUNT),
                   (r.den if r else None, COUNT), x.definition)
    sh.blank()
    sh.header("業務", "作業", "処理件数", "人が判断した件数", "人手を介さなかった割合",
              "手作業（分/件）", "手作業の時間の出所", "判断（分/件）", "判断の時間の出所",
              "ロボット導入後（分/件）", "削減率", "年間件数", "年間削減見込み（時間）")
    for s in report.scenarios:
        for t in (s.work.tasks if s.work else []):
            sh.row(s.title, t.title, _count(t.done), _count(t.left),
                   _r(t.automated) if t.automated else (None, PCT),
                   (t.manual.minutes, MIN), baseline_source(t.manual),
                   (t.decision.minutes, MIN), baseline_source(t.decision),
                   (t.staff_per_unit, MIN), _r(t.saved_share), (t.annual_volume, COUNT),
                   (t.annual_hours_saved, HOURS))
    sh.row("記録されていない件数は「未計測」で、0件とは数えません。")


def _quality_cells(s: ScenarioFigures, kind: str, name: str, g: QualityGroup
                   ) -> tuple[Cell, ...]:
    return (s.title, kind, name, (g.fields, COUNT), (g.correct, COUNT), _r(g.accuracy),
            (g.chars, COUNT), (g.char_errors, COUNT), _r(g.char_accuracy), (g.flagged, COUNT),
            (g.flagged_wrong, COUNT), _r(g.flag_precision), _r(g.flag_recall),
            (g.silent, COUNT), _r(g.silent_error_rate, PCT2))


def _quality_sheet(sh: _Sheet, report: Report) -> None:
    titles = report.form_titles
    sh.row("機械が読んだ項目だけの数値です（提案を確認した項目・手入力の項目は含みません）。")
    sh.header("業務", "区分", "名称", "確認済み項目", "正しい項目", "項目正読率", "読取文字数",
              "修正文字数", "文字正読率", "要確認", "要確認で修正", "要確認の的中率",
              "誤りの検出率", "見逃し", "見逃し率")
    for s in report.scenarios:
        q = s.quality
        sh.row(*_quality_cells(s, "全体（参考）", "全体", q.overall))
        for f, g in sorted(q.by_form.items()):
            sh.row(*_quality_cells(s, "様式", titles.get(f, f), g))
        for t, g in sorted(q.by_type.items()):
            sh.row(*_quality_cells(s, "項目の種類", TYPE_JA.get(t, t), g))
    sh.blank()
    sh.header("業務", "項目の区分", "項目数", "割合", "確認済み", "確認シートに載った",
              "職員が修正・変更した", "職員が入力・確定した文字数", "確認時間（分）",
              "1項目あたり（分）")
    for s in report.scenarios:
        total = sum(k.fields for k in s.quality.kinds.values())
        for name, k in s.quality.kinds.items():
            sh.row(s.title, KIND_JA[name], (k.fields, COUNT), _r(k.share(total)),
                   (k.reviewed, COUNT), (k.flagged, COUNT),
                   (k.changed if name != "keyed" else None, COUNT),
                   (k.chars_final if name != "read" else None, COUNT), (k.minutes, MIN),
                   (k.minutes / k.fields if k.fields else None, "0.00"))
    sh.blank()
    sh.header("業務", "確認済み文書", "修正なし文書", "修正なし率", "未確認の文書",
              "未確認の項目（機械読取）", "模擬レビューの実行")
    for s in report.scenarios:
        q = s.quality
        sh.row(s.title, (q.documents_reviewed, COUNT), (q.documents_straight_through, COUNT),
               _r(q.straight_through), (q.documents_unreviewed, COUNT),
               (q.fields_unreviewed, COUNT), ", ".join(q.simulated_runs) or "なし")
    sh.row("未確認の項目は精度に含めていません（正しいとは数えていません）。")


def _time_sheet(sh: _Sheet, report: Report) -> None:
    titles = report.form_titles
    sh.header("業務", "様式", "確認済み文書", "手入力の基準（分/文書）", "基準の出所",
              "確認時間の合計（分）", "うち実測", "うち配分", "うち推定", "確認（分/文書）",
              "確認時間の出所", "削減（分/文書）", "削減率", "年間件数", "年間削減見込み（時間）")
    for s in report.scenarios:
        for f, t in sorted(s.time.by_form.items()):
            sh.row(s.title, titles.get(f, f), (t.documents, COUNT), (t.baseline.minutes, MIN),
                   baseline_source(t.baseline), (t.review_minutes, MIN),
                   (t.measured_minutes, MIN), (t.attributed_minutes, MIN),
                   (t.estimated_minutes, MIN), (t.review_per_doc, MIN),
                   REVIEW_SOURCE_JA[t.review_source] if t.documents else "—",
                   (t.saved_per_doc, MIN), _r(t.saved_share), (t.annual_volume, COUNT),
                   (t.annual_hours_saved, HOURS))
    sh.blank()
    sh.header("業務", "項目", "値", "補足")
    for s in report.scenarios:
        t = s.time
        rates = t.rates
        for label, cell, note in (
            ("ロボットの処理時間（秒/文書）", (t.robot_seconds.value, SEC), "無人の時間"),
            ("実行時間（秒/件）", (t.elapsed_seconds.value, SEC),
             "開始〜終了 ÷ 文書・データの件数"),
            ("確認時間（分/文書）", (t.review_per_doc.value, MIN), ""),
            ("手入力の基準（分/文書）", (t.baseline_per_doc.value, MIN), "確認済み文書の加重平均"),
            ("削減時間（分/文書）", (t.saved_per_doc.value, MIN), ""),
            ("削減時間の合計（分）", (t.saved_minutes if t.counted else None, MIN), ""),
            ("削減率", _r(t.saved_share), ""),
            ("年間削減見込み（時間）", (t.annual_hours_saved, HOURS),
             "年間件数 × 1文書あたりの削減"),
            ("確認時間 実測（分）", (t.measured_minutes, MIN), ", ".join(t.measured_runs)),
            ("確認時間 推定（分）", (t.estimated_minutes, MIN), t.estimate_method
             or ", ".join(t.estimated_runs)),
            ("取り込み前の実行", (len(t.unreviewed_runs), COUNT), ", ".join(t.unreviewed_runs)),
            *((f"1項目あたりの確認時間（{WORK_KIND_JA[k]}、分）", (rates.minutes[k], "0.00"),
               rates_text(rates, t.kinds_used)) for k in t.kinds_used if rates is not None),
        ):
            sh.row(s.title, label, cell, note)


def _volume_sheet(sh: _Sheet, report: Report) -> None:
    titles = report.form_titles
    sh.header("業務", "様式", "文書数", "文書の割合", "ページ数", "項目数", "うち機械が読んだ",
              "うち提案を確認", "うち手入力")
    for s in report.scenarios:
        v = s.volume
        for f, r in sorted(v.by_form.items()):
            sh.row(s.title, titles.get(f, f), (r.documents, COUNT), (v.share(f), PCT),
                   (r.pages, COUNT), (r.fields, COUNT), (r.read, COUNT), (r.proposed, COUNT),
                   (r.keyed, COUNT))
        p = v.paper
        if v.by_form:
            sh.row(s.title, "合計", (p.documents, COUNT), (1.0, PCT), (p.pages, COUNT),
                   (p.fields, COUNT), (p.read, COUNT), (p.proposed, COUNT), (p.keyed, COUNT),
                   bold=True)
    sh.blank()
    sh.header("業務", "データ（OCRなし）", "件数", "行数")
    for s in report.scenarios:
        for f, r in sorted(s.volume.by_data.items()):
            sh.row(s.title, titles.get(f, f), (r.documents, COUNT), (r.pages, COUNT))
    sh.blank()
    sh.header("業務", "週（月曜日）", "様式・データ", "文書・件数", "ページ数", "行数")
    for s in report.scenarios:
        for week, forms in s.volume.by_week.items():
            for f, v in sorted(forms.items()):
                data = f in s.volume.by_data
                sh.row(s.title, (week, "yyyy-mm-dd"), titles.get(f, f), (v.documents, COUNT),
                       (None if data else v.pages, COUNT), (v.pages if data else None, COUNT))


def _reliability_sheet(sh: _Sheet, report: Report) -> None:
    sh.header("業務", "実行回数", "状態別", "起動のしかた", "異常終了", "受け付けたファイル",
              "隔離したファイル", "予定漏れ", "紛失した文書", "警告・エラー")
    for s in report.scenarios:
        r = s.reliability
        sh.row(s.title, (r.runs, COUNT),
               "、".join(f"{RUN_STATUS_JA.get(k, k)} {v}" for k, v in sorted(r.by_status.items())),
               "、".join(f"{TRIGGER_JA.get(k, k)} {v}" for k, v in sorted(r.by_trigger.items())),
               (len(r.failed_runs), COUNT), (r.files, COUNT), (r.quarantined_files, COUNT),
               (len(r.missed_schedules), COUNT), (len(r.lost), COUNT), (r.warnings, COUNT))
    sh.blank()
    sh.header("業務", "種類", "内容", "実行ID・日時")
    for s in report.scenarios:
        r = s.reliability
        for run_id in r.failed_runs:
            sh.row(s.title, "異常終了", "", run_id)
        for reason, runs in sorted(r.quarantined.items()):
            sh.row(s.title, "隔離", f"{quarantine_reason(reason)}（{len(runs)} ファイル）",
                   ", ".join(sorted(set(runs))))
        for at, message in r.missed_schedules:
            sh.row(s.title, "予定漏れ", schedule_event(message, failed=False),
                   f"{at.astimezone():%Y-%m-%d %H:%M}")
        for at, message in r.failed_starts:
            sh.row(s.title, "定時実行の失敗", schedule_event(message, failed=True),
                   f"{at.astimezone():%Y-%m-%d %H:%M}")
        for run_id, name, why in r.lost:
            sh.row(s.title, "紛失", f"{name}: {why}", run_id)


def _details_sheet(sh: _Sheet, report: Report) -> None:
    """Internal names, for whoever maintains the configuration: ids, task names, codes, keys."""
    sh.row("詳細：設定ファイル・コマンド・実行ログでの名前（システムの担当者向け）", bold=True)
    sh.blank()
    sh.header("業務", "名前（ID）", "日本語の名称", "区分")
    for s in report.scenarios:
        sh.row(s.title, s.scenario, s.title, "業務")
        for f in sorted(s.volume.by_form):
            sh.row(s.title, f, report.form_titles.get(f, f), "スキャンした様式")
        for f in sorted(s.volume.by_data):
            sh.row(s.title, f, report.form_titles.get(f, f), "データ（OCRなし）")
        for t in (s.work.tasks if s.work else []):
            sh.row(s.title, t.task, t.title, "作業（rpa baseline record --task）")
            if t.decision_task:
                sh.row(s.title, t.decision_task, t.decision_title,
                       "判断（rpa baseline record --task）")
        for m in (s.work.measures if s.work else []):
            sh.row(s.title, m.name, m.label, "業務の件数（work_counts）")
        for reason in sorted(s.reliability.quarantined):
            sh.row(s.title, reason, quarantine_reason(reason), "隔離の理由コード")
        for at, message in [*s.reliability.missed_schedules, *s.reliability.failed_starts]:
            sh.row(s.title, message, f"{at.astimezone():%Y-%m-%d %H:%M}", "スケジューラーの記録")
    sh.blank()
    sh.header("項目", "設定・コマンド")
    for k, d in DETAILS:
        sh.text(k, d)


def write_excel(report: Report, path: Path) -> Path:
    """Write the workbook to ``path`` and return it."""
    wb = Workbook()
    sheets = (("判定", (40, 26, 36, 14, 12, 10, 36, 60), _verdict_sheet),
              ("業務の成果", (40, 36, 14, 14, 14, 30, 30, 14, 30, 16, 10, 10, 16), _work_sheet),
              ("品質", (40, 16, 30, 12, 12, 12, 12, 14, 14, 12, 12, 14, 12, 10, 10),
               _quality_sheet),
              ("時間", (40, 30, 12, 16, 34, 14, 10, 10, 10, 14, 16, 14, 10, 12, 18), _time_sheet),
              ("件数", (40, 30, 12, 12, 12, 12, 14, 14, 12), _volume_sheet),
              ("信頼性", (40, 12, 30, 24, 10, 14, 14, 10, 12, 12), _reliability_sheet),
              ("詳細", (40, 30, 40, 34), _details_sheet))
    for i, (title, widths, fill) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        assert ws is not None
        ws.title = title
        # printed on A4 landscape, one page wide: a sheet cut into strips is unreadable
        print_setup(ws, title_rows="1:1")
        fill(_Sheet(ws, widths), report)
    wb.properties.title = "RPA・AI-OCR 実証実験 評価報告"
    wb.properties.creator = f"misato-rpa {__version__}"
    neutralise_formulas(wb)
    wb.save(path)
    log.info("report workbook written: %s", path)
    return path
