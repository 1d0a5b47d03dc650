"""契約チェック結果_<run>.xlsx: a summary per rule and per department, one sheet per rule.

Every rule has its sheet, also when nothing was found (then the clerk sees it was checked).
Each finding row gives the severity, the contract as the register has it and the evidence
in Japanese; high-severity rows are coloured. Laid out to be printed: A4 landscape, each sheet
one page wide (the file, row and id columns used to read verdicts back stay outside the
print area), 根拠 wrapped in a wide column with the row as high as its text. The clerk's
判定 (妥当 / 誤検知, a list) and its reason are the two green columns, read back next run
(:mod:`scenarios.contracts.verdicts`) and shown again where a finding is found again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from robots.sheets.common import display_width, print_setup
from robots.sheets.results import Col, info_rows, save_workbook, write_table
from robots.sheets.write import sheet_title
from scenarios.contracts.checks import Finding
from scenarios.contracts.rules import RULES, SEVERITIES
from scenarios.contracts.settings import METHOD_JA, ContractsSettings
from scenarios.contracts.verdicts import (
    FALSE,
    ID_HEADER,
    NOTE_HEADER,
    VALID,
    VERDICT_HEADER,
    finding_id,
)

__all__ = ["FINDING_COLS", "write_findings_workbook"]

log = logging.getLogger(__name__)

#: (column, width in half-width characters, wrapped); the last three stay outside the print.
_LAYOUT = (
    (Col("重要度"), 6, False), (Col("契約番号"), 12, False), (Col("契約日", "date"), 11, False),
    (Col("担当課"), 10, True), (Col("件名"), 22, True), (Col("契約方法"), 11, True),
    (Col("業種"), 10, True), (Col("業者名"), 18, True), (Col("法人番号"), 14, False),
    (Col("契約金額", "amount"), 12, False), (Col("予定価格", "amount"), 12, False),
    (Col("根拠（確認した内容）"), 46, True), (Col("関連する契約"), 13, True),
    (Col(VERDICT_HEADER), 10, False), (Col(NOTE_HEADER), 14, True),
    (Col("台帳ファイル"), 14, True), (Col("行", "int"), 6, False), (Col(ID_HEADER), 16, True),
)  # fmt: skip
FINDING_COLS = [c for c, _w, _wrap in _LAYOUT]
_PRINTED = len(_LAYOUT) - 3
_INPUT_FILL = PatternFill("solid", fgColor="E2EFDA")
_LINE_HEIGHT = 14.5  # points per line of 11-point text


def _row(f: Finding, verdict: tuple[str, str]) -> list[Any]:
    c = f.contract
    return [f.severity, c.number, c.day.isoformat() if c.day else "", c.department, c.subject,
            METHOD_JA.get(c.method, c.method), c.category, c.vendor_name, c.corporate_number,
            "" if c.amount is None else str(c.amount),
            "" if c.estimated_price is None else str(c.estimated_price), f.evidence,
            "、".join(f.related), verdict[0], verdict[1], c.file_name, str(c.line),
            finding_id(f)]


def _fit(ws: Worksheet, layout: Sequence[tuple[Col, int, bool]], rows: Sequence[Sequence[Any]],
         start: int, printed: int, *, title_rows: str) -> None:
    """Widths as laid out, each row as high as its longest wrapped text, one page wide."""
    for i, (_col, width, _wrap) in enumerate(layout, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width + 1
    ws.row_dimensions[start].height = _LINE_HEIGHT * 2 + 2  # headers of two lines
    for r, row in enumerate(rows, start=start + 1):
        lines = max((-(-display_width(str(v or "")) // width)
                     for v, (_c, width, wrap) in zip(row, layout, strict=True) if wrap),
                    default=1)
        ws.row_dimensions[r].height = _LINE_HEIGHT * max(1, lines) + 2
    print_setup(ws, title_rows=title_rows, pages_wide=1)
    ws.print_area = f"A1:{get_column_letter(printed)}{max(start, start + len(rows))}"


def _rule_sheet(ws: Worksheet, rule_id: str, mine: Sequence[Finding],
                verdicts: Mapping[str, tuple[str, str]]) -> None:
    rule = RULES[rule_id]
    ws.cell(1, 1, f"{rule.title}（{len(mine)}件）：{rule.description}　根拠: {rule.basis}　"
                  f"— 判定欄に「{VALID}」か「{FALSE}」を選び、保存してください（次回の処理で"
                  "読み取ります）").font = Font(bold=True, size=12)
    rows = [_row(f, verdicts.get(finding_id(f), ("", ""))) for f in mine]
    last = write_table(ws, FINDING_COLS, rows, start=2, mark=0, mark_values=("高",), wrap=True)
    _fit(ws, _LAYOUT, rows, 2, _PRINTED, title_rows="2:2")
    dv = DataValidation(type="list", formula1=f'"{VALID},{FALSE}"', allow_blank=True,
                        showErrorMessage=True, errorTitle="判定",
                        error=f"{VALID} か {FALSE} を選んでください")
    ws.add_data_validation(dv)
    for col in (FINDING_COLS.index(c) + 1 for c in FINDING_COLS
                if c.header in (VERDICT_HEADER, NOTE_HEADER)):
        for r in range(3, last + 1):
            ws.cell(r, col).fill = _INPUT_FILL
            if ws.cell(2, col).value == VERDICT_HEADER:
                dv.add(ws.cell(r, col))


def _departments(ws: Worksheet, findings: Sequence[Finding]) -> None:
    """Findings per rule (rows) and department (columns): few departments, many rules."""
    departments = sorted({f.contract.department for f in findings})
    ws.cell(1, 1, "担当課別の指摘件数").font = Font(bold=True, size=12)
    table = {d: Counter(f.rule for f in findings if f.contract.department == d)
             for d in departments}
    rows = [[r.title, *(str(table[d][r.id]) for d in departments),
             str(sum(table[d][r.id] for d in departments))] for r in RULES.values()]
    layout = [(Col("ルール"), 26, True), *((Col(d, "int"), max(8, display_width(d)), False)
                                          for d in departments), (Col("合計", "int"), 8, False)]
    write_table(ws, [c for c, _w, _x in layout], rows, start=2, wrap=True)
    _fit(ws, layout, rows, 2, len(layout), title_rows="2:2")


def _summary(ws: Worksheet, findings: Sequence[Finding], settings: ContractsSettings,
             info: Sequence[tuple[str, str]], verdicts: Mapping[str, tuple[str, str]]) -> None:
    start = info_rows(ws, "契約登録チェック結果", info)
    per_rule = Counter(f.rule for f in findings)
    contracts = {r: len({id(f.contract) for f in findings if f.rule == r}) for r in RULES}
    judged = Counter((f.rule, verdicts.get(finding_id(f), ("", ""))[0]) for f in findings)
    sev = Counter(f.severity for f in findings)
    layout = ((Col("ルール"), 20, True), (Col("内容"), 48, True), (Col("根拠法令等"), 34, True),
              (Col("重要度"), 7, False), (Col("指摘件数", "int"), 9, False),
              (Col("該当契約数", "int"), 9, False), (Col(f"判定: {VALID}", "int"), 9, False),
              (Col(f"判定: {FALSE}", "int"), 9, False))
    rows = [[r.title, r.description, r.basis,
             settings.severity.get(r.id, r.severity),  # type: ignore[call-overload]
             str(per_rule[r.id]), str(contracts[r.id]), str(judged[(r.id, VALID)]),
             str(judged[(r.id, FALSE)])] for r in RULES.values()]
    rows.append(["合計", "　".join(f"{s} {sev[s]}件" for s in SEVERITIES), "", "",
                 str(len(findings)), str(len({id(f.contract) for f in findings})),
                 str(sum(v for (_r, d), v in judged.items() if d == VALID)),
                 str(sum(v for (_r, d), v in judged.items() if d == FALSE))])
    write_table(ws, [c for c, _w, _x in layout], rows, start=start, print_it=False, wrap=True)
    ws.auto_filter.ref = None
    _fit(ws, layout, rows, start, len(layout), title_rows=f"{start}:{start}")
    ws.print_area = f"A1:{get_column_letter(len(layout))}{start + len(rows)}"


def write_findings_workbook(path: Path, findings: Sequence[Finding], *, run_id: str,
                            settings: ContractsSettings, contracts: int, sources: str,
                            suspensions: str, basis: str,
                            verdicts: Mapping[str, tuple[str, str]] | None = None) -> None:
    """Write the workbook (see the module docstring); ``verdicts`` are the clerks' so far."""
    verdicts = verdicts or {}
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    ws.title = sheet_title("集計", taken)
    floors = "、".join(f"{k} {v:.0%}" for k, v in settings.bid_ratio_floors.items())
    _summary(ws, findings, settings, [
        ("実行ID", run_id), ("契約台帳", sources), ("契約件数", f"{contracts:,}件"),
        ("指名停止一覧", suspensions), ("限度額と比べた金額", basis),
        ("限度額の基準日", "契約の申込みの誘引の日（公告・指名・見積依頼日）、記載がなければ契約日"
                          if settings.limit_date == "invitation" else "契約日"),
        ("分割発注の判定", f"{settings.split_window_days}日以内・件名の類似度 "
                          f"{settings.split_similarity:g} 以上（同じ業者）／同じ業種・場所"
                          "（複数業者、候補）"),
        ("落札率の範囲", f"{settings.bid_ratio_min:.0%}（{floors}）〜{settings.bid_ratio_max:.0%}"),
        ("作成日時", f"{dt.datetime.now():%Y-%m-%d %H:%M}")], verdicts)
    _departments(wb.create_sheet(sheet_title("担当課別", taken)), findings)
    for rule in RULES.values():
        mine = [f for f in findings if f.rule == rule.id]
        _rule_sheet(wb.create_sheet(sheet_title(rule.title, taken)), rule.id, mine, verdicts)
    save_workbook(wb, path, f"契約登録チェック結果 {run_id}")
