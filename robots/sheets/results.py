"""Result workbooks of the reconciling scenarios: plain tables a clerk can sort, sum and print.

The review workbook (:mod:`robots.sheets.write`) is a round trip with a signed meta sheet;
result workbooks (照合結果, 資格者名簿, 契約チェック結果, …) are read by people only, so they
share these simpler conventions: Japanese headers in a coloured row, real dates
(yyyy/mm/dd) and integer yen (#,##0) so that columns sort and sum, codes and numbers as text
so that leading zeros stay, a filter on every table, the header row frozen and repeated when
printed (A4 landscape, as many pages wide as the columns need, usually one), and rows a
person must look at coloured. Workbooks are saved atomically and readable by their owner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from robots.sheets.common import clean_text, display_width, neutralise_formulas, print_setup

__all__ = ["Col", "info_rows", "save_workbook", "write_table"]

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="4472C4")
_MARK_FILL = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_MAX_WIDTH = 60  # characters; a longer text wraps (with ``wrap``) or is cut off on screen
_DATE_WIDTH = 11


@dataclass(frozen=True)
class Col:
    """A column: its header and how its values are shown.

    ``kind``: ``text`` (default), ``date`` (ISO string → date cell), ``amount`` and ``int``
    (digits → integer cell), ``score`` (0–100, one decimal), ``ratio`` (0–1 as a percentage).
    """

    header: str
    kind: str = "text"


def _style(ws: Worksheet, fmt: str, marked: bool, wrap: bool) -> str:
    """A named style (border, number format, fill, alignment): one per workbook and kind.

    Setting border, format and fill cell by cell makes openpyxl hash styles hundreds of
    thousands of times (20 s for a 10,000-inquiry workbook); a named style is set at once.
    """
    name = f"rs_{'mark' if marked else 'plain'}_{'wrap' if wrap else 'line'}_{fmt}"
    wb = ws.parent
    if name not in wb.named_styles:
        style = NamedStyle(name=name, number_format=fmt, border=_BOX)
        if wrap:
            style.alignment = Alignment(vertical="top", wrap_text=fmt == "@")
        if marked:
            style.fill = _MARK_FILL
        wb.add_named_style(style)
    return name


def _cell(kind: str, v: Any) -> tuple[Any, str]:
    """The cell value and number format of ``v`` shown as ``kind``."""
    if v is None or v == "":
        return None, "@"
    if kind == "date":
        try:
            return dt.datetime.fromisoformat(str(v)), "yyyy/mm/dd"
        except ValueError:
            return clean_text(str(v)), "@"
    if kind in ("amount", "int"):
        s = str(v)
        return (int(s), "#,##0") if s.lstrip("-").isdigit() else (clean_text(s), "@")
    if kind == "score":
        return round(float(v), 1), "0.0"
    if kind == "ratio":
        return float(v), "0.0%"
    return clean_text(str(v)), "@"


def write_table(ws: Worksheet, cols: Sequence[Col], rows: Iterable[Sequence[Any]], *,
                start: int = 1, mark: int | None = None, mark_values: Collection[str] = (),
                wrap: bool = False, print_it: bool = True) -> int:
    """Header at row ``start``, then the rows; returns the last row written.

    A row whose column ``mark`` holds one of ``mark_values`` is coloured. ``wrap`` wraps
    long texts in their cell (top-aligned) instead of letting them run over. ``print_it``
    False leaves the sheet's print set-up alone (a summary sheet with several tables).
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
            ws.cell(r, c, shown).style = _style(ws, fmt, marked, wrap)
            width = _DATE_WIDTH if col.kind == "date" else display_width(
                f"{shown:,}" if isinstance(shown, int) else str(shown or ""))
            widths[c - 1] = max(widths[c - 1], width)
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(w, _MAX_WIDTH) + 3
    ws.auto_filter.ref = f"A{start}:{get_column_letter(len(cols))}{max(r, start)}"
    if print_it:
        ws.freeze_panes = ws.cell(start + 1, 1)
        total = sum(min(w, _MAX_WIDTH) + 3 for w in widths)
        print_setup(ws, title_rows=f"{start}:{start}", pages_wide=max(1, -(-total // 200)))
    return r


def info_rows(ws: Worksheet, title: str, pairs: Sequence[tuple[str, str]]) -> int:
    """A title and key/value lines at the top of a summary sheet; returns the next free row."""
    ws.cell(1, 1, title).font = Font(bold=True, size=14)
    for r, (k, v) in enumerate(pairs, start=2):
        ws.cell(r, 1, k).font = Font(bold=True)
        ws.cell(r, 2, v)
    return len(pairs) + 3


def save_workbook(wb: Workbook, path: Path, title: str) -> None:
    """Save atomically (a temporary file renamed over the name), readable by its owner only."""
    wb.properties.creator = "misato-rpa"
    wb.properties.title = title
    neutralise_formulas(wb)
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    tmp.chmod(0o600)
    tmp.replace(path)
