"""Workbook tables of this scenario, and the qualified-vendor list workbook (資格者名簿).

Laid out for the clerks of the contract section: Japanese headers, real dates (yyyy/mm/dd)
and integer yen so that columns sort and sum, numbers and codes as text so that leading
zeros stay, a filter on every table, the header row frozen and repeated when printed (A4
landscape). Workbooks are written atomically (temporary file, then rename) and readable by
their owner only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from robots.sheets.results import Col, save_workbook, write_table
from robots.sheets.write import sheet_title
from scenarios.contracts.registry import Change, Entry, is_sole_proprietor, listed_row

__all__ = ["write_list_workbook"]

log = logging.getLogger(__name__)

LIST_COLS = [
    Col("法人番号"), Col("商号又は名称"), Col("フリガナ"), Col("代表者役職"), Col("代表者氏名"),
    Col("郵便番号"), Col("所在地"), Col("電話番号"), Col("FAX番号"), Col("業種"), Col("等級"),
    Col("有効期間（自）", "date"), Col("有効期間（至）", "date"), Col("状態"), Col("根拠"),
]
CHANGE_COLS = [Col("区分"), Col("法人番号"), Col("商号又は名称"), Col("業種"), Col("等級"),
               Col("有効期間（自）", "date"), Col("有効期間（至）", "date"), Col("内容")]
REVIEW_COLS = [Col("ファイル"), Col("位置"), Col("受付番号"), Col("法人番号"), Col("商号又は名称"),
               Col("申請日", "date"), Col("業種・等級"), Col("理由"), Col("申請ID")]


def _list_row(e: Entry, today: dt.date) -> list[Any]:
    r = listed_row(e)
    number = "" if is_sole_proprietor(e.number) else e.number
    return [number, r["name"], r["kana"], r["representative_title"], r["representative_name"],
            r["postal_code"], r["address"], r["phone"], r["fax"], e.category, e.grade,
            r["valid_from"], r["valid_to"], "有効" if e.covers(today) else "有効期間前",
            r["source"]]


def write_list_workbook(path: Path, *, run_id: str, today: dt.date, rows: Sequence[Entry],
                        changes: Sequence[Change], review: Sequence[Sequence[Any]],
                        base: str) -> None:
    """資格者名簿_<run>.xlsx: 名簿 (the list today), 変更点 (against ``base``), 要確認."""
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    ws.title = sheet_title("名簿", taken)
    vendors = len({e.number for e in rows})
    ws.cell(1, 1, f"入札参加資格者名簿　{today:%Y年%m月%d日}現在　{vendors}者・{len(rows)}件"
                  f"（実行 {run_id}）").font = Font(bold=True, size=12)
    write_table(ws, LIST_COLS, [_list_row(e, today) for e in rows], start=2,
                mark=13, mark_values=("有効期間前",), wrap=True)
    ws = wb.create_sheet(sheet_title("変更点", taken))
    counts = {k: sum(1 for c in changes if c.kind == k) for k in ("新規", "変更", "失効")}
    ws.cell(1, 1, f"前回の名簿（{base}）からの変更　" + "　".join(
        f"{k} {n}件" for k, n in counts.items())).font = Font(bold=True, size=12)
    change_rows = []
    for c in changes:
        now = c.after or c.before or {}
        change_rows.append([c.kind, c.number, now.get("name", ""), c.category,
                            now.get("grade", ""), now.get("valid_from", ""),
                            now.get("valid_to", ""), "／".join(c.details)])
    write_table(ws, CHANGE_COLS, change_rows, start=2, mark=0, mark_values=("失効",), wrap=True)
    ws = wb.create_sheet(sheet_title("要確認", taken))
    ws.cell(1, 1, f"名簿に入れていない申請（確認・訂正が必要）　{len(review)}件"
                  ).font = Font(bold=True, size=12)
    write_table(ws, REVIEW_COLS, review, start=2, wrap=True)
    save_workbook(wb, path, f"入札参加資格者名簿 {run_id}")
