"""確認リスト: what a person must decide, and reading those decisions back next time.

Every 要確認 reply is listed with the ledger's facts beside the reply's, the reason and the
similarity score; every 要確認 inquiry without a reply (a ledger problem) too. A clerk may
write a decision in 判断 — 照合する (link the reply to the inquiry in 照会番号（照合先）, which
they may change) or 照合しない (the reply belongs to no inquiry) — and save the workbook where
it is. The next run reads the decisions of every saved review sheet (once per version of the
file) and applies them: a linked reply is then 照合済 by 職員確認, never by the machine alone.
Only the 判断, 照会番号（照合先） and 備考 cells are unlocked (protection without a password:
it prevents accidents, it is not security).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl.styles import PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ocr.japanese import normalize_text
from robots.kit.reconcile import normalize_ref
from robots.sheets.results import Col, write_table
from scenarios.deposit_inquiry.matching import (
    InquiryStatus,
    Reconciliation,
    ReplyStatus,
)
from scenarios.deposit_inquiry.store import Decision

__all__ = ["DECIDE_LINK", "DECIDE_REJECT", "REVIEW_SHEET", "read_decisions", "write_review"]

log = logging.getLogger(__name__)

REVIEW_SHEET = "確認リスト"
DECIDE_LINK = "照合する"
DECIDE_REJECT = "照合しない"
_INPUT_FILL = PatternFill("solid", fgColor="E2EFDA")
_COLS = [
    Col("区分"), Col("理由"), Col("類似度", "score"), Col("照会番号（照合先）"), Col("判断"),
    Col("備考"), Col("台帳: 氏名"), Col("台帳: フリガナ"), Col("台帳: 生年月日", "date"),
    Col("台帳: 金融機関"), Col("回答: 照会番号"), Col("回答: 氏名カナ"), Col("回答: 氏名"),
    Col("回答: 生年月日", "date"), Col("回答: 金融機関"), Col("回答: 店舗コード"),
    Col("回答: 該当なし"), Col("回答: 種類"), Col("回答: 口座番号"), Col("回答: 残高", "amount"),
    Col("ファイル"), Col("位置"), Col("回答ID"),
]
_EDITABLE = ("照会番号（照合先）", "判断", "備考")


def _rows(rec: Reconciliation) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for f in rec.replies:
        if f.status is not ReplyStatus.REVIEW:
            continue
        r, i = f.reply, f.inquiry
        rows.append([
            "回答", "／".join(f.reasons), f.score if i else None, i.number if i else "", "", "",
            i.name if i else "", i.kana if i else "", i.birth_date if i else "",
            f"{i.bank_code} {i.bank_name}" if i else "", r.inquiry_number, r.kana, r.name,
            r.birth_date, f"{r.bank_code} {r.bank_name}", r.branch_code,
            "✓" if r.no_account else "", r.account_type, r.account_number, r.balance,
            r.file_name, r.locator, r.reply_id])
    for g in rec.inquiries:
        if g.status is InquiryStatus.REVIEW and not g.replies:
            i = g.inquiry
            rows.append(["照会（台帳）", "／".join(g.reasons), None, i.number, "", "", i.name,
                         i.kana, i.birth_date, f"{i.bank_code} {i.bank_name}",
                         *([""] * 10), "", f"台帳 {i.row}行目", ""])
    return rows


def write_review(ws: Worksheet, rec: Reconciliation) -> int:
    """The review sheet; returns how many rows need a decision."""
    rows = _rows(rec)
    last = write_table(ws, _COLS, rows)
    dv = DataValidation(type="list", formula1=f'"{DECIDE_LINK},{DECIDE_REJECT}"',
                        allow_blank=True, showErrorMessage=True,
                        errorTitle="判断",
                        error=f"{DECIDE_LINK} か {DECIDE_REJECT} を選んでください")
    ws.add_data_validation(dv)
    headers = [c.header for c in _COLS]
    for name in _EDITABLE:
        col = headers.index(name) + 1
        for r in range(2, last + 1):
            cell = ws.cell(r, col)
            cell.protection = Protection(locked=False)
            cell.fill = _INPUT_FILL
            if name == "判断":
                dv.add(cell)
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False
    return len(rows)


def read_decisions(path: Path) -> dict[str, Decision]:
    """回答ID → decision from a saved reconciliation workbook (empty when none was made)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        if REVIEW_SHEET not in wb.sheetnames:
            return {}
        rows: Iterable[tuple[Any, ...]] = wb[REVIEW_SHEET].iter_rows(values_only=True)
        it = iter(rows)
        header = [normalize_text(str(h or "")) for h in next(it, ())]
        try:
            c_id, c_do, c_to = (header.index(normalize_text(h))
                                for h in ("回答ID", "判断", "照会番号（照合先）"))
        except ValueError:
            log.warning("%s: review sheet without its columns; decisions ignored", path.name)
            return {}
        out: dict[str, Decision] = {}
        for row in it:
            cells = [normalize_text(str(v)) if v is not None else "" for v in row]
            if len(cells) <= max(c_id, c_do, c_to) or not cells[c_id]:
                continue
            if cells[c_do] == DECIDE_LINK:
                out[cells[c_id]] = Decision("link", normalize_ref(cells[c_to]))
            elif cells[c_do] == DECIDE_REJECT:
                out[cells[c_id]] = Decision("reject", "")
        return out
    finally:
        wb.close()
