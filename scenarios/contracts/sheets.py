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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from robots.excel_common import clean_text, display_width, print_setup
from robots.excel_write import sheet_title
from scenarios.contracts.registry import Change, Entry, listed_row

__all__ = ["Col", "save_workbook", "write_list_workbook", "write_table"]

log = logging.getLogger(__name__)

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="4472C4")
_MARK_FILL = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclass(frozen=True)
class Col:
    """A column: its header and how its values are shown (text, date, amount, int, ratio)."""

    header: str
    kind: str = "text"


def _style(ws: Worksheet, fmt: str, marked: bool) -> str:
    """A named style per format (setting border, format and fill per cell is slow)."""
    name = f"ct_{'mark' if marked else 'plain'}_{fmt}"
    wb = ws.parent
    if name not in wb.named_styles:
        style = NamedStyle(name=name, number_format=fmt, border=_BOX)
        style.alignment = Alignment(vertical="top", wrap_text=fmt == "@")
        if marked:
            style.fill = _MARK_FILL
        wb.add_named_style(style)
    return name


def _cell(kind: str, v: Any) -> tuple[Any, str]:
    if v is None or v == "":
        return None, "@"
    if kind == "date":
        try:
            return dt.datetime.fromisoformat(str(v)), "yyyy/mm/dd"
        except ValueError:
            return clean_text(str(v)), "@"
    if kind in ("amount", "int"):
        return (int(v), "#,##0") if str(v).lstrip("-").isdigit() else (clean_text(str(v)), "@")
    if kind == "ratio":
        return float(v), "0.0%"
    return clean_text(str(v)), "@"


def write_table(ws: Worksheet, cols: Sequence[Col], rows: Iterable[Sequence[Any]], *,
                start: int = 1, mark: int | None = None, mark_values: Iterable[str] = (),
                print_it: bool = True) -> int:
    """Header at row ``start``, then the rows; returns the last row written.

    A row whose column ``mark`` holds one of ``mark_values`` is coloured.
    """
    marks = frozenset(mark_values)
    widths = [display_width(c.header) for c in cols]
    for c, col in enumerate(cols, start=1):
        cell = ws.cell(start, c, col.header)
        cell.font, cell.fill, cell.border = _HEADER_FONT, _HEADER_FILL, _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    r = start
    for r, row in enumerate(rows, start=start + 1):
        marked = mark is not None and row[mark] in marks
        for c, (col, v) in enumerate(zip(cols, row, strict=True), start=1):
            shown, fmt = _cell(col.kind, v)
            ws.cell(r, c, shown).style = _style(ws, fmt, marked)
            width = 11 if col.kind == "date" else display_width(
                f"{shown:,}" if isinstance(shown, int) else str(shown or ""))
            widths[c - 1] = max(widths[c - 1], width)
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(w, 60) + 3
    ws.auto_filter.ref = f"A{start}:{get_column_letter(len(cols))}{max(r, start)}"
    if print_it:
        ws.freeze_panes = ws.cell(start + 1, 1)
        total = sum(min(w, 60) + 3 for w in widths)
        print_setup(ws, title_rows=f"{start}:{start}", pages_wide=max(1, -(-total // 200)))
    return r


def save_workbook(wb: Workbook, path: Path, title: str) -> None:
    """Save atomically, owner-only."""
    wb.properties.creator = "misato-rpa"
    wb.properties.title = title
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    tmp.chmod(0o600)
    tmp.replace(path)


def info_rows(ws: Worksheet, title: str, pairs: Sequence[tuple[str, str]]) -> int:
    """A title and key/value lines at the top of a summary sheet; returns the next free row."""
    ws.cell(1, 1, title).font = Font(bold=True, size=14)
    for r, (k, v) in enumerate(pairs, start=2):
        ws.cell(r, 1, k).font = Font(bold=True)
        ws.cell(r, 2, v)
    return len(pairs) + 3


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
    return [e.number, r["name"], r["kana"], r["representative_title"],
            r["representative_name"], r["postal_code"], r["address"], r["phone"], r["fax"],
            e.category, e.grade, r["valid_from"], r["valid_to"],
            "有効" if e.covers(today) else "有効期間前", r["source"]]


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
                mark=13, mark_values=("有効期間前",))
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
    write_table(ws, CHANGE_COLS, change_rows, start=2, mark=0, mark_values=("失効",))
    ws = wb.create_sheet(sheet_title("要確認", taken))
    ws.cell(1, 1, f"名簿に入れていない申請（確認・訂正が必要）　{len(review)}件"
                  ).font = Font(bold=True, size=12)
    write_table(ws, REVIEW_COLS, review, start=2)
    save_workbook(wb, path, f"入札参加資格者名簿 {run_id}")
