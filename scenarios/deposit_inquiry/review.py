"""確認リスト: what a person must decide, and reading those decisions back next time.

One row per reply a person must look at — a reply of a bank about one person, with all the
accounts it reports, so that one decision covers them all — with the ledger's facts beside
the reply's, the reason and the similarity score; every 要確認 inquiry without a reply (a
ledger problem) too. Instructions stand above the table; printed, the header row repeats on
every page and the table fits the page width.

A clerk writes a decision in 判断 — 照合する (link the reply to the inquiry in 照会番号
（照合先）, which they may change) or 照合しない (the reply belongs to no inquiry) — and saves
the workbook where it is. The next run reads the decisions of every saved review sheet
(once per version of the file) and checks each link against the facts before applying it
(:func:`scenarios.deposit_inquiry.matching.decision_conflicts`): a link the facts contradict
comes back as 要再確認 with both sets of facts, unless 備考 says why it is right anyway — a
forced link, listed on its own sheet (強制照合). Only the 判断, 照会番号（照合先） and 備考 cells
are unlocked (protection without a password: it prevents accidents, it is not security).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ocr.japanese import normalize_text
from ocr.refdata import branch_name
from robots.kit.reconcile import normalize_ref
from robots.sheets.common import display_width, print_setup
from robots.sheets.results import Col, write_table
from scenarios.deposit_inquiry.matching import (
    InquiryStatus,
    Reconciliation,
    ReplyFinding,
    ReplyStatus,
)
from scenarios.deposit_inquiry.records import Inquiry, Reply
from scenarios.deposit_inquiry.store import Decision

__all__ = ["DECIDE_LINK", "DECIDE_REJECT", "FORCED_SHEET", "REVIEW_SHEET", "read_decisions",
           "write_forced", "write_review"]

log = logging.getLogger(__name__)

REVIEW_SHEET = "確認リスト"
FORCED_SHEET = "強制照合"
DECIDE_LINK = "照合する"
DECIDE_REJECT = "照合しない"
_INPUT_FILL = PatternFill("solid", fgColor="E2EFDA")
_HEADER_ROW = 8
_INSTRUCTIONS = (
    "確認リスト（人の判断が必要な回答）　— 記入のしかた —",
    "1. 左の「台帳」の列（照会した内容）と右の「回答」の列（金融機関の回答）を見比べてください。"
    "1行が1通の回答（1人分。複数の口座はまとめて1行）です。",
    "2. 同じ人への回答なら「判断」で「照合する」を選びます。別の照会に当たる場合は「照会番号"
    "（照合先）」を正しい番号に直してください。どの照会にも当たらなければ「照合しない」。",
    "3. 金融機関・店舗・生年月日が違う、または氏名カナが似ていない照会への「照合する」は"
    "反映されず、次回「要再確認」として戻ります。それでも照合する場合は、理由を「備考」に書いてください"
    "（強制照合として一覧に残ります）。",
    "4. 緑の欄だけ入力できます。記入後はこのブックを同じ場所に上書き保存してください。"
    "次回の処理で反映されます。",
)
# Printed on A4 landscape at the page's width: the facts of each side in a few multi-line
# cells (name over kana, bank over branch) keep the table narrow enough to read on paper.
_COLS = [
    Col("区分"), Col("理由"), Col("照会番号（照合先）"), Col("判断"), Col("備考"),
    Col("台帳: 氏名・フリガナ"), Col("台帳: 生年月日", "date"), Col("台帳: 金融機関・店舗"),
    Col("台帳: 住所"), Col("回答: 照会番号"), Col("回答: 氏名カナ・氏名"),
    Col("回答: 生年月日", "date"), Col("回答: 金融機関・店舗"), Col("回答: 届出住所"),
    Col("口座数", "int"), Col("回答: 口座（種類 番号 残高）"), Col("ファイル・位置"),
    Col("回答ID"),
]
_WIDTHS = (7, 34, 11, 9, 16, 15, 11, 16, 18, 10, 15, 11, 16, 16, 7, 21, 14, 22)
_EDITABLE = ("照会番号（照合先）", "判断", "備考")


def _branch(bank: str, branch: str) -> str:
    return f"{branch} {branch_name(bank, branch) or ''}".strip() if branch else ""


def _ledger(i: Inquiry | None) -> list[Any]:
    if i is None:
        return [""] * 4
    return [f"{i.name}\n{i.kana}", i.birth_date,
            f"{i.bank_code} {i.bank_name}\n{_branch(i.bank_code, i.branch_code) or '（全店）'}",
            i.address]


def _accounts(group: list[ReplyFinding]) -> str:
    return "\n".join(f"{r.reply.account_type} {r.reply.account_number} "
                     f"{int(r.reply.balance):,}円" if r.reply.balance.isdigit() else
                     f"{r.reply.account_type} {r.reply.account_number} {r.reply.balance}"
                     for r in group if not r.reply.no_account)


def _lines(value: Any, width: int) -> int:
    """How many lines a wrapped cell of ``width`` characters needs for ``value``."""
    return sum(max(1, -(-display_width(part) // max(1, width - 3)))
               for part in str(value or "").split("\n"))


def _rows(rec: Reconciliation) -> list[list[Any]]:
    groups: dict[str, list[ReplyFinding]] = {}
    for f in rec.replies:
        if f.status in (ReplyStatus.REVIEW, ReplyStatus.RECHECK):
            groups.setdefault(f.reply.group or f.reply.reply_id, []).append(f)
    rows: list[list[Any]] = []
    for gid, group in groups.items():
        f = group[0]
        r: Reply = f.reply
        i = f.inquiry
        reasons = list(dict.fromkeys(x for g in group for x in g.reasons))
        status = (ReplyStatus.RECHECK if any(g.status is ReplyStatus.RECHECK for g in group)
                  else ReplyStatus.REVIEW)
        accounts = [g for g in group if not g.reply.no_account]
        where = r.locator if len(group) == 1 else r.locator.split(" ")[0]
        rows.append([
            status.value, "／".join(reasons), i.number if i else "", "", r.decided_note,
            *_ledger(i), r.inquiry_number, f"{r.kana}\n{r.name}".strip(), r.birth_date,
            f"{r.bank_code} {r.bank_name}\n{_branch(r.bank_code, r.branch_code)}".strip(),
            r.registered_address, str(len(accounts)),
            "該当なし" if r.no_account else _accounts(group), f"{r.file_name}\n{where}",
            gid])
    for g in rec.inquiries:
        if g.status is InquiryStatus.REVIEW and not g.replies:
            i = g.inquiry
            rows.append(["照会（台帳）", "／".join(g.reasons), i.number, "", "", *_ledger(i),
                         *([""] * 7), f"台帳 {i.row}行目", ""])
    return rows


def write_review(ws: Worksheet, rec: Reconciliation) -> int:
    """The review sheet; returns how many rows need a decision."""
    rows = _rows(rec)
    for n, text in enumerate(_INSTRUCTIONS, start=1):
        cell = ws.cell(n, 1, text)
        cell.font = Font(bold=n == 1, size=14 if n == 1 else 11)
        cell.alignment = Alignment(wrap_text=False, vertical="center")
    ws.cell(len(_INSTRUCTIONS) + 1, 1, f"判断が必要な回答: {len(rows)}件").font = Font(bold=True)
    last = write_table(ws, _COLS, rows, start=_HEADER_ROW, wrap=True)
    dv = DataValidation(type="list", formula1=f'"{DECIDE_LINK},{DECIDE_REJECT}"',
                        allow_blank=True, showErrorMessage=True,
                        errorTitle="判断",
                        error=f"{DECIDE_LINK} か {DECIDE_REJECT} を選んでください")
    ws.add_data_validation(dv)
    headers = [c.header for c in _COLS]
    for name in _EDITABLE:
        col = headers.index(name) + 1
        for r in range(_HEADER_ROW + 1, last + 1):
            cell = ws.cell(r, col)
            cell.protection = Protection(locked=False)
            cell.fill = _INPUT_FILL
            if name == "判断":
                dv.add(cell)
    for c, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.row_dimensions[_HEADER_ROW].height = 30  # headers wrap onto two lines
    for n, row in enumerate(rows, start=_HEADER_ROW + 1):  # spreadsheets do not grow rows
        ws.row_dimensions[n].height = 14 * max(_lines(v, w) for v, w in zip(row, _WIDTHS,
                                                                            strict=True))
    print_setup(ws, title_rows=f"{_HEADER_ROW}:{_HEADER_ROW}", pages_wide=1)
    # 回答ID is for the robot (it reads the decisions back by it): not printed
    ws.print_area = f"A1:{get_column_letter(len(_COLS) - 1)}{max(last, _HEADER_ROW)}"
    ws.print_options.gridLines = False
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False
    ws.protection.formatColumns = False
    return len(rows)


def write_forced(ws: Worksheet, rec: Reconciliation) -> int:
    """強制照合: links applied against the facts because a clerk wrote why; returns how many."""
    cols = [Col("照会番号"), Col("台帳: 氏名"), Col("台帳: フリガナ"),
            Col("台帳: 生年月日", "date"), Col("台帳: 金融機関"), Col("回答: 氏名カナ"),
            Col("回答: 生年月日", "date"),
            Col("回答: 金融機関"), Col("回答: 店舗"), Col("口座番号"), Col("残高", "amount"),
            Col("事実の違い"), Col("備考（職員の理由）"), Col("回答ID")]
    rows = []
    for f in rec.forced():
        i, r = f.inquiry, f.reply
        assert i is not None
        rows.append([i.number, i.name, i.kana, i.birth_date, f"{i.bank_code} {i.bank_name}",
                     r.kana, r.birth_date, f"{r.bank_code} {r.bank_name}",
                     _branch(r.bank_code, r.branch_code), r.account_number, r.balance,
                     "／".join(f.conflicts), r.decided_note, r.reply_id])
    write_table(ws, cols, rows, wrap=True)
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
        want = [normalize_text(h) for h in ("回答ID", "判断", "照会番号（照合先）", "備考")]
        for row in it:  # the header row, below the instructions
            header = [normalize_text(str(h or "")) for h in row]
            if all(h in header for h in want[:3]):
                break
        else:
            log.warning("%s: review sheet without its columns; decisions ignored", path.name)
            return {}
        c_id, c_do, c_to = (header.index(h) for h in want[:3])
        c_note = header.index(want[3]) if want[3] in header else None
        out: dict[str, Decision] = {}
        for row in it:
            cells = [normalize_text(str(v)) if v is not None else "" for v in row]
            if len(cells) <= max(c_id, c_do, c_to) or not cells[c_id]:
                continue
            note = cells[c_note] if c_note is not None and c_note < len(cells) else ""
            if cells[c_do] == DECIDE_LINK:
                out[cells[c_id]] = Decision("link", normalize_ref(cells[c_to]), note)
            elif cells[c_do] == DECIDE_REJECT:
                out[cells[c_id]] = Decision("reject", "", note)
        return out
    finally:
        wb.close()
