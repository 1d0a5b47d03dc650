"""督促対象: overdue inquiries grouped by bank, as CSV and as a sheet ready to print.

The clerk phones or writes to each bank with its own list, so the print starts every bank on
a new page (with the bank's name and count above its rows) while the column headers repeat
on every page; A4 landscape, one page wide.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from robots.config import CsvConfig
from robots.sheets.csvout import EncodingProblem, write_csv
from robots.sheets.results import Col, write_table
from scenarios.deposit_inquiry.matching import InquiryFinding, InquiryStatus, Reconciliation

__all__ = ["REMINDER_COLUMNS", "overdue", "write_reminder_csv", "write_reminder_sheet"]

log = logging.getLogger(__name__)

REMINDER_COLUMNS = [
    Col("金融機関コード"), Col("金融機関名"), Col("照会番号"), Col("照会目的"), Col("氏名"),
    Col("フリガナ"), Col("生年月日", "date"), Col("照会日", "date"), Col("回答期限", "date"),
    Col("超過日数", "int"),
]


def overdue(rec: Reconciliation) -> list[InquiryFinding]:
    """Overdue inquiries by bank code, then deadline and number."""
    late = [f for f in rec.inquiries if f.status is InquiryStatus.OVERDUE]
    return sorted(late, key=lambda f: (f.inquiry.bank_code, f.inquiry.deadline, f.inquiry.number))


def _row(f: InquiryFinding) -> list[str]:
    i = f.inquiry
    return [i.bank_code, i.bank_name, i.number, i.purpose, i.name, i.kana, i.birth_date,
            i.sent_date, i.deadline, str(f.overdue_days)]


def write_reminder_csv(path: Path, rec: Reconciliation, cfg: CsvConfig) -> list[EncodingProblem]:
    """The reminder list as CSV in the configured encoding (〓 and a report for lost chars)."""
    return write_csv(path, [c.header for c in REMINDER_COLUMNS],
                     [_row(f) for f in overdue(rec)], encoding=cfg.encoding,
                     newline=cfg.newline, key_column=2,
                     formula_escape=cfg.formula_escape == "quote")


def write_reminder_sheet(ws: Worksheet, rec: Reconciliation, today: date) -> int:
    """The printable sheet; returns the number of banks (each starts a printed page)."""
    late = overdue(rec)
    banks: dict[str, list[InquiryFinding]] = {}
    for f in late:
        banks.setdefault(f.inquiry.bank_code, []).append(f)
    rows: list[list[str]] = []
    titles: list[tuple[int, str]] = []  # (sheet row, text) of each bank's title line
    for code, group in banks.items():
        titles.append((3 + len(rows), f"{code} {group[0].inquiry.bank_name}　{len(group)}件"))
        rows.append([""] * len(REMINDER_COLUMNS))
        rows += [_row(f) for f in group]
    write_table(ws, REMINDER_COLUMNS, rows, start=2)
    ws.cell(1, 1, f"督促対象一覧（回答期限を過ぎた照会）　基準日 {today:%Y年%m月%d日}"
                  f"　{len(late)}件").font = Font(bold=True, size=12)
    last = get_column_letter(len(REMINDER_COLUMNS))
    for n, (r, text) in enumerate(titles):
        if n:
            ws.row_breaks.append(Break(id=r - 1))  # each bank on its own page
        ws.merge_cells(f"A{r}:{last}{r}")
        ws.cell(r, 1, text).font = Font(bold=True, size=12)
    ws.auto_filter.ref = None
    ws.print_title_rows = "1:2"  # the title and the column headers on every page
    ws.oddHeader.center.text = "督促対象一覧"
    return len(banks)
