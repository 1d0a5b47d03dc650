"""契約チェック結果_<run>.xlsx: a summary per rule and per department, one sheet per rule.

Every rule has its sheet, also when nothing was found (then the clerk sees it was checked).
Each finding row gives the severity, the contract as the register has it and the evidence
in Japanese; high-severity rows are coloured.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from robots.sheets.common import print_setup
from robots.sheets.results import Col, info_rows, save_workbook, write_table
from robots.sheets.write import sheet_title
from scenarios.contracts.checks import Finding
from scenarios.contracts.rules import RULES, SEVERITIES
from scenarios.contracts.settings import METHOD_JA, ContractsSettings

__all__ = ["FINDING_COLS", "write_findings_workbook"]

log = logging.getLogger(__name__)

FINDING_COLS = [
    Col("重要度"), Col("契約番号"), Col("契約日", "date"), Col("担当課"), Col("件名"),
    Col("契約方法"), Col("業種"), Col("業者名"), Col("法人番号"), Col("契約金額", "amount"),
    Col("予定価格", "amount"), Col("根拠（確認した内容）"), Col("関連する契約"),
    Col("台帳ファイル"), Col("行", "int"),
]


def _row(f: Finding) -> list[Any]:
    c = f.contract
    return [f.severity, c.number, c.day.isoformat() if c.day else "", c.department, c.subject,
            METHOD_JA.get(c.method, c.method), c.category, c.vendor_name, c.corporate_number,
            "" if c.amount is None else str(c.amount),
            "" if c.estimated_price is None else str(c.estimated_price), f.evidence,
            "、".join(f.related), c.file_name, str(c.line)]


def write_findings_workbook(path: Path, findings: Sequence[Finding], *, run_id: str,
                            settings: ContractsSettings, contracts: int, sources: str,
                            suspensions: str, basis: str) -> None:
    """Write the workbook (see the module docstring)."""
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    ws.title = sheet_title("集計", taken)
    start = info_rows(ws, "契約登録チェック結果", [
        ("実行ID", run_id), ("契約台帳", sources), ("契約件数", f"{contracts:,}件"),
        ("指名停止一覧", suspensions), ("限度額と比べた金額", basis),
        ("分割発注の判定", f"同じ業者・{settings.split_window_days}日以内・件名の類似度 "
                          f"{settings.split_similarity:g} 以上"),
        ("落札率の範囲", f"{settings.bid_ratio_min:.0%}〜{settings.bid_ratio_max:.0%}"),
        ("作成日時", f"{dt.datetime.now():%Y-%m-%d %H:%M}")])
    per_rule = Counter(f.rule for f in findings)
    contracts_per_rule = {r: len({id(f.contract) for f in findings if f.rule == r})
                          for r in RULES}
    sev = Counter(f.severity for f in findings)
    rows = [[r.title, r.description, settings.severity.get(r.id, r.severity),  # type: ignore[call-overload]
             str(per_rule[r.id]), str(contracts_per_rule[r.id])] for r in RULES.values()]
    rows.append(["合計", "　".join(f"{s} {sev[s]}件" for s in SEVERITIES), "",
                 str(len(findings)), str(len({id(f.contract) for f in findings}))])
    last = write_table(ws, [Col("ルール"), Col("内容"), Col("重要度"), Col("指摘件数", "int"),
                            Col("該当契約数", "int")], rows, start=start, print_it=False, wrap=True)
    departments = sorted({f.contract.department for f in findings})
    table = {d: Counter(f.rule for f in findings if f.contract.department == d)
             for d in departments}
    ws.cell(last + 2, 1, "担当課別の指摘件数").font = Font(bold=True)
    write_table(ws, [Col("担当課"), *(Col(r.title, "int") for r in RULES.values()),
                     Col("合計", "int")],
                [[d, *(str(table[d][r]) for r in RULES), str(sum(table[d].values()))]
                 for d in departments], start=last + 3, print_it=False, wrap=True)
    ws.auto_filter.ref = None
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 70
    for c in range(3, len(RULES) + 3):
        ws.column_dimensions[get_column_letter(c)].width = 14
    print_setup(ws, title_rows="1:1")
    for rule in RULES.values():
        mine = [f for f in findings if f.rule == rule.id]
        sheet = wb.create_sheet(sheet_title(rule.title, taken))
        sheet.cell(1, 1, f"{rule.title}（{len(mine)}件）：{rule.description}").font = Font(
            bold=True, size=12)
        write_table(sheet, FINDING_COLS, [_row(f) for f in mine], start=2, mark=0,
                    mark_values=("高",), wrap=True)
    save_workbook(wb, path, f"契約登録チェック結果 {run_id}")
