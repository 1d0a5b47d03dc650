"""The reconciliation workbook's tables: summary, one sheet per status, accounts, replies.

Laid out for the clerks who chase banks and the collectors who use the balances: Japanese
headers, real dates (yyyy/mm/dd) and integer yen so that columns sort and sum, codes as text
so that leading zeros stay, a filter on every table, the header row frozen and repeated when
printed (A4 landscape, one page wide). Conventions shared with :mod:`robots.sheets.common`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ocr.refdata import branch_name
from robots.kit.reconcile import name_key
from robots.sheets.common import print_setup
from robots.sheets.results import Col, info_rows, write_table
from scenarios.deposit_inquiry.matching import (
    InquiryFinding,
    InquiryStatus,
    Reconciliation,
    ReplyFinding,
    ReplyStatus,
)

__all__ = [
    "INQUIRY_COLS",
    "REPLY_COLS",
    "REVIEW",
    "inquiry_rows",
    "reply_rows",
    "write_accounts",
    "write_people",
    "write_summary",
    "write_transactions",
]

#: ``mark_values`` of a reply table: the rows a person must look at.
REVIEW = (ReplyStatus.REVIEW.value,)

log = logging.getLogger(__name__)

INQUIRY_COLS = [
    Col("照会番号"), Col("文書番号"), Col("照会目的"), Col("氏名"), Col("フリガナ"),
    Col("生年月日", "date"),
    Col("金融機関コード"), Col("金融機関名"), Col("店舗コード"), Col("照会日", "date"),
    Col("回答期限", "date"), Col("状態"), Col("回答数", "int"), Col("口座数", "int"),
    Col("残高合計（照合済）", "amount"), Col("期限超過日数", "int"), Col("理由"),
    Col("台帳の行", "int"),
]


def inquiry_rows(findings: Iterable[InquiryFinding]) -> list[list[Any]]:
    """Rows of an inquiry sheet (:data:`INQUIRY_COLS`); the total counts 照合済 accounts only."""
    rows = []
    for f in findings:
        i = f.inquiry
        confirmed = [r for r in f.accounts if r.status is ReplyStatus.MATCHED]
        total = sum(int(r.reply.balance) for r in confirmed if r.reply.balance.isdigit())
        rows.append([i.number, i.document_number, i.purpose, i.name, i.kana, i.birth_date,
                     i.bank_code,
                     i.bank_name, i.branch_code, i.sent_date, i.deadline, f.status.value,
                     len(f.replies), len(f.accounts), str(total) if confirmed else "",
                     str(f.overdue_days) if f.overdue_days else "", "／".join(f.reasons),
                     str(i.row)])
    return rows


REPLY_COLS = [
    Col("状態"), Col("照合先の照会番号"), Col("照合方法"), Col("類似度", "score"), Col("理由"),
    Col("回答の照会番号"), Col("金融機関コード"), Col("金融機関名"), Col("店舗コード"),
    Col("氏名カナ（回答）"), Col("氏名（回答）"), Col("生年月日（回答）", "date"), Col("該当なし"),
    Col("預貯金の種類"), Col("口座番号"), Col("残高", "amount"), Col("残高基準日", "date"),
    Col("届出住所"), Col("取引明細（件）", "int"), Col("受付日", "date"), Col("回答元"),
    Col("ファイル"), Col("位置"), Col("回答ID"),
]


def reply_rows(findings: Iterable[ReplyFinding], titles: dict[str, str]) -> list[list[Any]]:
    """Rows of a reply sheet (:data:`REPLY_COLS`); ``titles`` names each source layout."""
    rows = []
    for f in findings:
        r = f.reply
        rows.append([f.status.value, f.inquiry.number if f.inquiry else "", f.method,
                     f.score if f.inquiry and f.method != "職員確認" else None,
                     "／".join(f.reasons), r.inquiry_number, r.bank_code, r.bank_name,
                     r.branch_code, r.kana, r.name, r.birth_date, "✓" if r.no_account else "",
                     r.account_type, r.account_number, r.balance, r.balance_date,
                     r.registered_address, str(len(r.transactions)) if r.transactions else "",
                     r.received, titles.get(r.source, r.source), r.file_name, r.locator,
                     r.reply_id])
    return rows


def write_summary(ws: Worksheet, rec: Reconciliation, *, run_id: str, ledger: str,
                  created: dt.datetime) -> None:
    """集計: counts per status, per bank and per purpose, and what the figures are based on."""
    info_rows(ws, "預貯金等照会 照合結果", (
        ("実行ID", run_id), ("基準日", rec.today.isoformat()), ("照会台帳", ledger),
        ("作成日時", f"{created:%Y-%m-%d %H:%M}")))
    statuses = [s.value for s in InquiryStatus]
    counts = rec.inquiry_counts()
    last = write_table(ws, [Col("照会の状態"), Col("件数", "int")],
                       [[s, str(counts[s])] for s in statuses]
                       + [["合計", str(len(rec.inquiries))]], start=7, print_it=False)
    rcounts = rec.reply_counts()
    last = write_table(ws, [Col("回答の状態"), Col("件数", "int")],
                       [[s.value, str(rcounts[s.value])] for s in ReplyStatus]
                       + [["合計", str(len(rec.replies))]], start=last + 2, print_it=False)
    groups: list[tuple[str, Any]] = [
        ("金融機関別", lambda f: (f.inquiry.bank_code, f.inquiry.bank_name)),
        ("照会目的別", lambda f: (f.inquiry.purpose or "（記載なし）",))]
    for title, key in groups:
        table: dict[tuple[str, ...], Counter[str]] = {}
        for f in rec.inquiries:
            table.setdefault(key(f), Counter())[f.status.value] += 1
        head = ([Col("金融機関コード"), Col("金融機関名")] if title == "金融機関別"
                else [Col("照会目的")])
        cols = [*head, Col("照会数", "int"), *(Col(s, "int") for s in statuses)]
        ws.cell(last + 2, 1, title).font = Font(bold=True)
        last = write_table(ws, cols, [[*k, str(sum(c.values())), *(str(c[s]) for s in statuses)]
                                      for k, c in sorted(table.items())],
                           start=last + 3, print_it=False)
    ws.auto_filter.ref = None
    for c in range(1, len(statuses) + 4):  # several tables share the columns: one width
        ws.column_dimensions[get_column_letter(c)].width = 22 if c == 1 else 17
    print_setup(ws, title_rows="1:1")


def write_accounts(ws: Worksheet, rec: Reconciliation) -> None:
    """口座一覧: every account a linked reply reports (照合済, and 要確認 marked as such)."""
    cols = [Col("状態"), Col("照会番号"), Col("照会目的"), Col("氏名"), Col("フリガナ"),
            Col("生年月日", "date"), Col("金融機関コード"), Col("金融機関名"), Col("店舗コード"),
            Col("店舗名"), Col("預貯金の種類"), Col("口座番号"), Col("残高", "amount"),
            Col("残高基準日", "date"), Col("届出住所"), Col("取引明細（件）", "int"), Col("回答ID")]
    rows = []
    for f in rec.inquiries:
        i = f.inquiry
        for r in f.accounts:
            a = r.reply
            rows.append([r.status.value, i.number, i.purpose, i.name, i.kana, i.birth_date,
                         a.bank_code, a.bank_name, a.branch_code,
                         branch_name(a.bank_code, a.branch_code) or "", a.account_type,
                         a.account_number, a.balance, a.balance_date, a.registered_address,
                         str(len(a.transactions)) if a.transactions else "", a.reply_id])
    write_table(ws, cols, rows, mark=0, mark_values=REVIEW)


_TX_COLS = [Col("状態"), Col("金融機関"), Col("店舗"), Col("預貯金の種類"), Col("口座番号"),
            Col("取引日", "date"), Col("摘要"), Col("出金額", "amount"), Col("入金額", "amount"),
            Col("取引後残高", "amount")]


def write_transactions(new_sheet: Callable[[str], Worksheet], rec: Reconciliation) -> int:
    """取引_<照会番号>: one sheet per person whose linked accounts came with transactions.

    Collection staff read the movements of a person's accounts together (salary in, rent
    out); ``new_sheet(title)`` adds a sheet to the workbook. Returns how many were written.
    """
    n = 0
    for f in rec.inquiries:
        accounts = [r for r in f.accounts if r.reply.transactions]
        if not accounts:
            continue
        i = f.inquiry
        ws = new_sheet(f"取引_{i.number}")
        start = info_rows(ws, f"取引明細　{i.name}（{i.kana}）", (
            ("照会番号", i.number), ("生年月日", i.birth_date), ("照会の状態", f.status.value)))
        rows = [[r.status.value, f"{a.bank_code} {a.bank_name}",
                 f"{a.branch_code} {branch_name(a.bank_code, a.branch_code) or ''}".strip(),
                 a.account_type, a.account_number, *t]
                for r in accounts for a in (r.reply,) for t in a.transactions]
        write_table(ws, _TX_COLS, rows, start=start, mark=0, mark_values=REVIEW)
        n += 1
    return n


def write_people(ws: Worksheet, rec: Reconciliation) -> None:
    """人別合計: per person (kana key + birth date), the confirmed accounts and their total.

    One account reported to two inquiries (a tax and a welfare inquiry to the same bank)
    counts once.
    """
    people: dict[tuple[str, str], dict[str, Any]] = {}
    for f in rec.inquiries:
        i = f.inquiry
        p = people.setdefault((name_key(i.kana), i.birth_date), {
            "name": i.name, "kana": i.kana, "birth": i.birth_date, "numbers": [],
            "accounts": {}, "review": set()})
        p["numbers"].append(i.number)
        for r in f.accounts:
            if r.status is ReplyStatus.MATCHED:
                p["accounts"].setdefault(r.reply.account_key, r.reply.balance)
            else:
                p["review"].add(r.reply.account_key)
    cols = [Col("氏名"), Col("フリガナ"), Col("生年月日", "date"), Col("照会番号"),
            Col("口座数（照合済）", "int"), Col("残高合計（照合済）", "amount"),
            Col("要確認の口座数", "int")]
    rows = []
    for p in sorted(people.values(), key=lambda p: (p["kana"], p["birth"])):
        if not p["accounts"] and not p["review"]:
            continue
        total = sum(int(b) for b in p["accounts"].values() if b.isdigit())
        rows.append([p["name"], p["kana"], p["birth"], "、".join(p["numbers"]),
                     str(len(p["accounts"])), str(total), str(len(p["review"]))])
    write_table(ws, cols, rows)
