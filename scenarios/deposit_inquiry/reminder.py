"""再照会: overdue inquiries per bank, as a list a clerk can send, and as CSV.

Towards a bank the word is 再照会 (asking again), not 督促: the bank owes the town nothing
but an answer. Each bank starts a new printed page, addressed to it in full (zengin's short
names written out) with its count; each row is the inquiry as it was sent — document number
and date, the person's name, kana, birth date and address as sent — with the deadline and
the days overdue. The column headers and the sheet title repeat on every page; A4
landscape, one page wide.

The last column, 再照会を依頼, is outside the print area: a clerk selects 依頼する there and
saves the workbook, and the next run sends the 再照会 (the upload file for an online bank, a
letter titled （再照会） for the others) with a new deadline — once per request
(:func:`read_resend_requests`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from ocr.japanese import normalize_text
from ocr.refdata import bank_full_name, branch_full_name
from robots.config import CsvConfig
from robots.kit.reconcile import normalize_ref
from robots.sheets.common import print_setup
from robots.sheets.csvout import EncodingProblem, write_csv
from robots.sheets.results import Col, write_table
from scenarios.deposit_inquiry.matching import InquiryFinding, InquiryStatus, Reconciliation

__all__ = ["REMINDER_COLUMNS", "RESEND_ASK", "RESEND_SHEET", "overdue", "read_resend_requests",
           "write_reminder_csv", "write_reminder_sheet"]

log = logging.getLogger(__name__)

RESEND_SHEET = "再照会"
RESEND_HEADER = "再照会を依頼"
RESEND_ASK = "依頼する"
REMINDER_COLUMNS = [
    Col("金融機関コード"), Col("金融機関名"), Col("店舗"), Col("照会番号"), Col("文書番号"),
    Col("照会日", "date"), Col("照会目的"), Col("氏名"), Col("フリガナ"), Col("生年月日", "date"),
    Col("住所（照会時）"), Col("回答期限", "date"), Col("超過日数", "int"),
    Col("再照会回数", "int"),
]
_INPUT_FILL = PatternFill("solid", fgColor="E2EFDA")


def overdue(rec: Reconciliation) -> list[InquiryFinding]:
    """Overdue inquiries by bank code, then deadline and number."""
    late = [f for f in rec.inquiries if f.status is InquiryStatus.OVERDUE]
    return sorted(late, key=lambda f: (f.inquiry.bank_code, f.inquiry.deadline, f.inquiry.number))


def _row(f: InquiryFinding, rec: Reconciliation) -> list[str]:
    i = f.inquiry
    sent = rec.sends.get(i.number, [])
    facts = sent[-1].facts if sent else {}
    branch = (branch_full_name(i.bank_code, i.branch_code) or i.branch_code
              if i.branch_code else "全店")
    return [i.bank_code, bank_full_name(i.bank_code) or "", branch, i.number,
            i.document_number or "（台帳に記載なし）", i.sent_date, i.purpose,
            facts.get("name", i.name),
            facts.get("kana", i.kana), facts.get("birth_date", i.birth_date),
            facts.get("address", i.address), i.deadline, str(f.overdue_days), str(i.resent)]


def write_reminder_csv(path: Path, rec: Reconciliation, cfg: CsvConfig) -> list[EncodingProblem]:
    """The 再照会 list as CSV in the configured encoding (〓 and a report for lost chars)."""
    return write_csv(path, [c.header for c in REMINDER_COLUMNS],
                     [_row(f, rec) for f in overdue(rec)], encoding=cfg.encoding,
                     newline=cfg.newline, key_column=3,
                     formula_escape=cfg.formula_escape == "quote")


def write_reminder_sheet(ws: Worksheet, rec: Reconciliation, today: date) -> int:
    """The printable 再照会 sheet; returns the number of banks (each starts a printed page)."""
    late = overdue(rec)
    banks: dict[str, list[InquiryFinding]] = {}
    for f in late:
        banks.setdefault(f.inquiry.bank_code, []).append(f)
    rows: list[list[Any]] = []
    titles: list[tuple[int, str]] = []  # (sheet row, text) of each bank's title line
    inputs: list[int] = []
    for code, group in banks.items():
        titles.append((3 + len(rows), f"{bank_full_name(code) or code}　御中　"
                                      f"再照会（{len(group)}件）"))
        rows.append([""] * len(REMINDER_COLUMNS))
        for f in group:
            inputs.append(3 + len(rows))
            rows.append(_row(f, rec))
    cols = [*REMINDER_COLUMNS, Col(RESEND_HEADER)]
    write_table(ws, cols, [[*r, ""] for r in rows], start=2)
    ws.cell(1, 1, f"預貯金等の照会　再照会一覧（回答期限を過ぎた照会）　{today:%Y年%m月%d日}現在"
                  f"　{len(late)}件").font = Font(bold=True, size=12)
    width = len(REMINDER_COLUMNS)
    last = get_column_letter(width)
    for n, (r, text) in enumerate(titles):
        if n:
            ws.row_breaks.append(Break(id=r - 1))  # each bank on its own page
        ws.merge_cells(f"A{r}:{last}{r}")
        ws.cell(r, 1, text).font = Font(bold=True, size=12)
    dv = DataValidation(type="list", formula1=f'"{RESEND_ASK}"', allow_blank=True)
    ws.add_data_validation(dv)
    for r in inputs:
        cell = ws.cell(r, width + 1)
        cell.fill, cell.protection = _INPUT_FILL, Protection(locked=False)
        dv.add(cell)
    ws.auto_filter.ref = None
    print_setup(ws, title_rows="1:2", pages_wide=1)
    ws.print_area = f"A1:{last}{max(2, 2 + len(rows))}"  # the request column is not printed
    ws.oddHeader.center.text = "再照会一覧"
    return len(banks)


def read_resend_requests(path: Path) -> set[str]:
    """Inquiry numbers a clerk marked 依頼する on a saved workbook's 再照会 sheet."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        if RESEND_SHEET not in wb.sheetnames:
            return set()
        rows: Iterable[tuple[Any, ...]] = wb[RESEND_SHEET].iter_rows(values_only=True)
        out: set[str] = set()
        c_no = c_ask = None
        for row in rows:
            cells = [normalize_text(str(v)) if v is not None else "" for v in row]
            if c_no is None:
                if "照会番号" in cells and RESEND_HEADER in cells:
                    c_no, c_ask = cells.index("照会番号"), cells.index(RESEND_HEADER)
                continue
            assert c_ask is not None
            if len(cells) > c_ask and cells[c_ask] == RESEND_ASK and cells[c_no]:
                out.add(normalize_ref(cells[c_no]))
        return out
    finally:
        wb.close()
