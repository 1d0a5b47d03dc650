"""The evaluation report as an Excel workbook: the same figures as the page, as numbers.

Managers forward the page; whoever checks the figures or builds the next budget request
opens the workbook, so every value is a real number with a number format (percentages,
minutes, counts), never text, and each ratio sits beside the counts it was computed from.
Sheets: 判定 (verdict and criteria with every evidence run id), 品質, 時間, 件数, 信頼性.
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
    RUN_STATUS_JA,
    STATUS_JA,
    TRIGGER_JA,
    TYPE_JA,
    VERDICT_RULE,
    baseline_source,
    period_text,
)
from robots.sheets.common import display_width, neutralise_formulas

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
    sh.row("対象の業務", report.scenario_filter or "すべて")
    sh.row("作成日時", report.generated_at.strftime("%Y-%m-%d %H:%M"))
    sh.row("バージョン", f"misato-rpa {__version__}")
    for n in report.notes:
        sh.row("注記", n, fill="FFF2CC")
    if any(s.quality.simulated_runs for s in report.scenarios):
        sh.row("注記", "模擬レビュー（サンプルの正解データで確認シートを自動で埋めたもの）の結果を"
               "含みます。職員による実際の確認ではないため、品質と判定は参考値です。",
               fill="FFC7CE")
    sh.blank()
    sh.header("業務", "基準", "目標", "測定値", "結果", "根拠（実行ID）", "補足")
    for s in report.scenarios:
        v = s.verdict
        sh.row(f"{s.title}（{s.scenario}）", "判定", "", DECISION_JA[v.decision], "", "", "",
               bold=True, fill=_FILLS[v.decision])
        for c in v.criteria:
            fmt = COUNT if c.key == "lost_documents" else (
                PCT2 if c.key == "silent_error_rate" else PCT)
            r = sh.row(s.scenario, c.label, c.threshold, (c.measured, fmt), STATUS_JA[c.status],
                       ", ".join(c.evidence) or "—", c.note)
            sh.ws.cell(r, 5).fill = PatternFill("solid", fgColor=_FILLS[c.status])
        for cond in v.conditions:
            sh.row(s.scenario, "条件・理由", "", "", "", "", cond)
    if report.empty:
        sh.row("この期間に記録された実行はありません。")
    sh.blank()
    sh.row("判定のしかた", VERDICT_RULE, bold=False)
    for k, d in DEFINITIONS:
        sh.row(k, d)


def _quality_cells(s: ScenarioFigures, kind: str, name: str, g: QualityGroup
                   ) -> tuple[Cell, ...]:
    return (s.scenario, kind, name, (g.fields, COUNT), (g.correct, COUNT), _r(g.accuracy),
            (g.chars, COUNT), (g.char_errors, COUNT), _r(g.char_accuracy), (g.flagged, COUNT),
            (g.flagged_wrong, COUNT), _r(g.flag_precision), _r(g.flag_recall),
            (g.silent, COUNT), _r(g.silent_error_rate, PCT2))


def _quality_sheet(sh: _Sheet, report: Report) -> None:
    titles = report.form_titles
    sh.header("業務", "区分", "名称", "確認済み項目", "正しい項目", "項目正読率", "読取文字数",
              "修正文字数", "文字正読率", "要確認", "要確認で修正", "要確認の的中率",
              "誤りの検出率", "見逃し", "見逃し率")
    for s in report.scenarios:
        q = s.quality
        sh.row(*_quality_cells(s, "全体", "全体", q.overall))
        for f, g in sorted(q.by_form.items()):
            sh.row(*_quality_cells(s, "様式", titles.get(f, f), g))
        for t, g in sorted(q.by_type.items()):
            sh.row(*_quality_cells(s, "項目の種類", TYPE_JA.get(t, t), g))
    sh.blank()
    sh.header("業務", "確認済み文書", "修正なし文書", "修正なし率", "未確認の文書",
              "未確認の項目", "模擬レビューの実行")
    for s in report.scenarios:
        q = s.quality
        sh.row(s.scenario, (q.documents_reviewed, COUNT), (q.documents_straight_through, COUNT),
               _r(q.straight_through), (q.documents_unreviewed, COUNT),
               (q.fields_unreviewed, COUNT), ", ".join(q.simulated_runs) or "なし")
    sh.row("未確認の項目は精度に含めていません（正しいとは数えていません）。")


def _time_sheet(sh: _Sheet, report: Report) -> None:
    titles = report.form_titles
    sh.header("業務", "様式", "確認済み文書", "手入力の基準（分/文書）", "基準の出所",
              "確認時間の合計（分）", "確認（分/文書）", "削減（分/文書）", "削減率",
              "年間件数", "年間削減見込み（時間）")
    for s in report.scenarios:
        for f, t in sorted(s.time.by_form.items()):
            sh.row(s.scenario, titles.get(f, f), (t.documents, COUNT), (t.baseline.minutes, MIN),
                   baseline_source(t.baseline), (t.review_minutes, MIN), (t.review_per_doc, MIN),
                   (t.saved_per_doc, MIN), _r(t.saved_share), (t.annual_volume, COUNT),
                   (t.annual_hours_saved, HOURS))
    sh.blank()
    sh.header("業務", "項目", "値", "補足")
    for s in report.scenarios:
        t = s.time
        for label, cell, note in (
            ("ロボットの処理時間（秒/文書）", (t.robot_seconds.value, SEC), "無人の時間"),
            ("実行時間（秒/文書）", (t.elapsed_seconds.value, SEC), "開始〜終了 ÷ 文書数"),
            ("確認時間（分/文書）", (t.review_per_doc.value, MIN), ""),
            ("手入力の基準（分/文書）", (t.baseline_per_doc.value, MIN), "確認済み文書の加重平均"),
            ("削減時間（分/文書）", (t.saved_per_doc.value, MIN), ""),
            ("削減時間の合計（分）", (t.saved_minutes if t.counted else None, MIN), ""),
            ("削減率", _r(t.saved_share), ""),
            ("年間削減見込み（時間）", (t.annual_hours_saved, HOURS), "evaluation.annual_volume"),
            ("確認時間 実測（分）", (t.measured_minutes, MIN), ", ".join(t.measured_runs)),
            ("確認時間 推定（分）", (t.estimated_minutes, MIN), t.estimate_method
             or ", ".join(t.estimated_runs)),
            ("取り込み前の実行", (len(t.unreviewed_runs), COUNT), ", ".join(t.unreviewed_runs)),
        ):
            sh.row(s.scenario, label, cell, note)


def _volume_sheet(sh: _Sheet, report: Report) -> None:
    titles = report.form_titles
    sh.header("業務", "様式", "文書数", "ページ数", "項目数")
    for s in report.scenarios:
        for f, v in sorted(s.volume.by_form.items()):
            sh.row(s.scenario, titles.get(f, f), (v.documents, COUNT), (v.pages, COUNT),
                   (v.fields, COUNT))
        t = s.volume.total
        sh.row(s.scenario, "合計", (t.documents, COUNT), (t.pages, COUNT), (t.fields, COUNT),
               bold=True)
    sh.blank()
    sh.header("業務", "週（月曜日）", "様式", "文書数", "ページ数", "項目数")
    for s in report.scenarios:
        for week, forms in s.volume.by_week.items():
            for f, v in sorted(forms.items()):
                sh.row(s.scenario, (week, "yyyy-mm-dd"), titles.get(f, f), (v.documents, COUNT),
                       (v.pages, COUNT), (v.fields, COUNT))


def _reliability_sheet(sh: _Sheet, report: Report) -> None:
    sh.header("業務", "実行回数", "状態別", "起動のしかた", "異常終了", "受け付けたファイル",
              "隔離したファイル", "予定漏れ", "紛失した文書", "警告・エラー")
    for s in report.scenarios:
        r = s.reliability
        sh.row(s.scenario, (r.runs, COUNT),
               "、".join(f"{RUN_STATUS_JA.get(k, k)} {v}" for k, v in sorted(r.by_status.items())),
               "、".join(f"{TRIGGER_JA.get(k, k)} {v}" for k, v in sorted(r.by_trigger.items())),
               (len(r.failed_runs), COUNT), (r.files, COUNT), (r.quarantined_files, COUNT),
               (len(r.missed_schedules), COUNT), (len(r.lost), COUNT), (r.warnings, COUNT))
    sh.blank()
    sh.header("業務", "種類", "内容", "実行ID・日時")
    for s in report.scenarios:
        r = s.reliability
        for run_id in r.failed_runs:
            sh.row(s.scenario, "異常終了", "", run_id)
        for reason, runs in sorted(r.quarantined.items()):
            sh.row(s.scenario, "隔離", f"{reason}（{len(runs)} ファイル）",
                   ", ".join(sorted(set(runs))))
        for at, message in r.missed_schedules:
            sh.row(s.scenario, "予定漏れ", message, f"{at.astimezone():%Y-%m-%d %H:%M}")
        for at, message in r.failed_starts:
            sh.row(s.scenario, "定時実行の失敗", message, f"{at.astimezone():%Y-%m-%d %H:%M}")
        for run_id, name, why in r.lost:
            sh.row(s.scenario, "紛失", f"{name}: {why}", run_id)


def write_excel(report: Report, path: Path) -> Path:
    """Write the workbook to ``path`` and return it."""
    wb = Workbook()
    sheets = (("判定", (22, 40, 14, 14, 10, 40, 60), _verdict_sheet),
              ("品質", (12, 12, 26, 12, 12, 12, 12, 12, 12, 10, 12, 14, 12, 10, 10),
               _quality_sheet),
              ("時間", (12, 30, 12, 16, 26, 16, 14, 14, 10, 12, 18), _time_sheet),
              ("件数", (12, 30, 12, 12, 12, 12), _volume_sheet),
              ("信頼性", (12, 12, 30, 24, 10, 14, 14, 10, 12, 12), _reliability_sheet))
    for i, (title, widths, fill) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        assert ws is not None
        ws.title = title
        fill(_Sheet(ws, widths), report)
    wb.properties.title = "RPA・AI-OCR 実証実験 評価報告"
    wb.properties.creator = f"misato-rpa {__version__}"
    neutralise_formulas(wb)
    wb.save(path)
    log.info("report workbook written: %s", path)
    return path
