"""What the review workbook's writer and reader must agree on.

The writer (:mod:`robots.sheets.write`) and the reader (:mod:`robots.sheets.read`) run days apart,
often on different machines, with a reviewer and a spreadsheet program in between. Everything
both sides depend on lives here so that it cannot drift: sheet names and headers, how a
normalised value becomes a cell and how a cell typed by a reviewer becomes a normalised value
again, and how the meta payload is signed. Import the public API from :mod:`robots.sheets`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from ocr.templates import FieldType
from robots.errors import ExitCode, RobotError
from robots.sheets.personal import mask_mynumber

__all__ = [
    "CHECK_MARK",
    "CHECK_NONE",
    "CLEAR_TOKEN",
    "DATA_ID_HEADERS",
    "DONE_MARK",
    "FORMAT_VERSION",
    "FORMULA_PREFIXES",
    "LOW_CONFIDENCE",
    "META_SHEET",
    "REVIEW_HEADERS",
    "REVIEW_SHEET",
    "STATUS_OK",
    "STATUS_REVIEW",
    "TEXT_TYPES",
    "VERIFY_HEADER",
    "VERIFY_PLACEHOLDER",
    "Correction",
    "ForeignWorkbookError",
    "ReviewedWorkbook",
    "WorkbookEditedError",
    "WorkbookSummary",
    "canonical_json",
    "cell_to_value",
    "clean_text",
    "display_width",
    "iter_canonical_json",
    "keep_as_text",
    "looks_like_formula",
    "neutralise_formulas",
    "print_setup",
    "sign",
    "styled_cell",
    "value_to_cell",
]

FORMAT_VERSION = 1
REVIEW_SHEET = "確認シート"
META_SHEET = "_meta"

#: A marked checkbox is shown as this mark; an unmarked one as an empty cell on the data sheet
#: and as CHECK_NONE on the correction sheet, where an empty cell means "keep the OCR value".
CHECK_MARK = "✓"
CHECK_NONE = "なし"
#: Typed into 修正後の値 (or a data cell) to say "this field is really empty".
CLEAR_TOKEN = "空欄"
DONE_MARK = "済"
STATUS_REVIEW = "要確認"
STATUS_OK = "確認不要"
LOW_CONFIDENCE = 0.5

DATA_ID_HEADERS = ("文書ID", "元ファイル", "ページ", "状態")
#: Double entry (ベリファイ): the reviewer keys the value here without seeing the OCR value,
#: which is replaced by VERIFY_PLACEHOLDER wherever it would show (see robots.sheets.review).
VERIFY_HEADER = "入力（ベリファイ）"
VERIFY_PLACEHOLDER = "（ベリファイ入力）"
REVIEW_HEADERS = (
    "文書ID",
    "元ファイル",
    "ページ",
    "項目",
    "読取画像",
    "読取結果",
    "信頼度",
    "確認理由",
    "修正後の値",
    "確認済",
    "備考",
    "入力（ベリファイ）",  # last: hidden unless a row is keyed blind (double entry)
)

#: Types kept as text cells: leading zeros and dashes matter, and a number would lose them.
TEXT_TYPES = frozenset(
    {
        FieldType.DIGITS,
        FieldType.POSTAL_CODE,
        FieldType.PHONE,
        FieldType.MYNUMBER,
        FieldType.CORPORATE_NUMBER,
        FieldType.BANK_CODE,
        FieldType.BRANCH_CODE,
        FieldType.ACCOUNT_NUMBER,
        FieldType.TEXT,
        FieldType.KANA,
        FieldType.CHOICE,
        FieldType.NAME,
        FieldType.ADDRESS,
    }
)

_MARKED = frozenset({CHECK_MARK, "✔", "☑", "レ", "〇", "○", "◯", "あり", "有", "1", "TRUE"})
_UNMARKED = frozenset({CHECK_NONE, "無", "0", "FALSE", "×", "-", "－", "ー", CLEAR_TOKEN})
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MAX_EXACT_DIGITS = 15  # Excel keeps 15 significant digits; longer amounts stay text


@dataclass(slots=True)
class WorkbookSummary:
    """What :func:`robots.sheets.write_workbook` wrote (for the run log and the CLI)."""

    path: Path
    sheets: list[str]
    rows_per_form: dict[str, int]
    correction_rows: int


@dataclass(slots=True)
class Correction:
    """One value a reviewer changed. ``row``/``sheet`` say where, for error messages."""

    doc_id: str
    field: str
    before: str
    after: str
    source: str  # "correction_sheet" | "data_sheet"
    row: int
    sheet: str
    form_id: str = ""


@dataclass(slots=True)
class ReviewedWorkbook:
    """Everything a reviewer put into a workbook, keyed by (doc_id, field name)."""

    run_id: str
    scenario: str
    corrections: list[Correction] = field(default_factory=list)
    confirmed: set[tuple[str, str]] = field(default_factory=set)
    review_minutes: float | None = None
    notes: dict[tuple[str, str], str] = field(default_factory=dict)
    # double entry: (keyed value normalised, row, 修正後の値 also filled) by (doc_id, field)
    keyed: dict[tuple[str, str], tuple[str, int, bool]] = field(default_factory=dict)
    # proposals from reference data: (row on 確認シート, column label) by (doc_id, field)
    proposed: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)


class ForeignWorkbookError(RobotError):
    """The workbook was not written by this run (or not by misato-rpa at all)."""

    exit_code = ExitCode.NEEDS_ATTENTION
    reason_ja = (
        "このブックはこの処理の確認用ブックではありません（別の実行のブック、"
        "または改ざん・破損の可能性）。正しいブックを指定してください。"
    )

    def __init__(self, message: str, *, reason_ja: str | None = None) -> None:
        super().__init__(message)
        if reason_ja is not None:
            self.reason_ja = reason_ja


class WorkbookEditedError(RobotError):
    """A cell that must not change was changed (protection can be removed by any user)."""

    exit_code = ExitCode.NEEDS_ATTENTION

    def __init__(
        self, message: str, *, sheet: str, row: int, column: str, reason_ja: str | None = None
    ) -> None:
        super().__init__(message)
        self.sheet = sheet
        self.row = row
        self.column = column
        self.reason_ja = reason_ja or (
            f"「{sheet}」シート {row}行目の「{column}」が変更されています。"
            "この欄は変更できません。元に戻してから取り込み直してください。"
        )


def canonical_json(obj: Any) -> str:
    """The one text the signature is computed over: sorted keys, no spaces, ASCII only.

    ASCII escapes keep the payload safe in any cell and through any spreadsheet program.
    """
    return json.dumps(obj, ensure_ascii=True, sort_keys=True, separators=(",", ":"))


_CANONICAL = json.JSONEncoder(ensure_ascii=True, sort_keys=True, separators=(",", ":"))


def iter_canonical_json(obj: Any) -> Iterator[str]:
    """:func:`canonical_json` in small pieces (joined, the same text), never all of it at once."""
    return _CANONICAL.iterencode(obj)


def sign(secret: bytes, payload: str | Iterable[str]) -> str:
    """HMAC-SHA256 of ``payload`` (a text, or the pieces of one) with the run's secret, as hex."""
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    for piece in [payload] if isinstance(payload, str) else payload:
        mac.update(piece.encode("utf-8"))
    return mac.hexdigest()


#: Leading characters that make a spreadsheet program take a cell (or a CSV field on import)
#: for a formula: ``=1+2``, ``+A1*2``, ``-2+3``, ``@SUM(...)``, and tab / CR, which some
#: programs skip before looking (OWASP, "CSV Injection"). A value from outside — an OCR
#: reading, a file name, a reviewer's entry, another system's export — must never run.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text``: it starts like a formula and is no plain number."""
    return text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(text)


def keep_as_text(cell: Cell | WriteOnlyCell) -> Cell | WriteOnlyCell:
    """Store a string that starts like a formula as text, shown with Excel's quote prefix.

    openpyxl turns any string starting with ``=`` into a formula; Excel and LibreOffice turn
    ``+``, ``-`` and ``@`` into one when a clerk edits the cell. Data type "s" writes the
    characters as they are, and the quote prefix keeps them text after an edit.
    """
    value = cell.value
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def neutralise_formulas(wb: Workbook) -> int:
    """Every string cell of a (not write-only) workbook kept as text; returns how many changed.

    Called right before a workbook is saved, so that no way of putting a value into a cell
    can leave a live formula behind.
    """
    n = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES):
                    keep_as_text(cell)
                    n += 1
    return n


def display_width(text: str) -> int:
    """Width in half-width character cells: full-width (CJK) characters count as 2."""
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


def clean_text(text: str) -> str:
    """Drop characters XML (and so xlsx) cannot hold; they would make openpyxl refuse the cell."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def print_setup(
    ws: Worksheet | WriteOnlyWorksheet,
    *,
    title_rows: str,
    title_cols: str | None = None,
    pages_wide: int = 1,
) -> None:
    """A4 landscape, fit to ``pages_wide`` pages across, headers repeated, page in the footer.

    A write-only sheet writes its properties (fit to page) before its first row: call this
    before appending to one.
    """
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = pages_wide
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    if title_cols:
        ws.print_title_cols = title_cols
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "&A　&P / &N"


def value_to_cell(ftype: str, value: str, *, review: bool = False) -> tuple[Any, str]:
    """A normalised value as (cell value, number format) for its field type.

    Dates become real dates and amounts integers so that staff can sort and sum; digit-like
    values stay text so that leading zeros survive. A value that does not have the normal form
    of its type (the OCR could not normalise it) is shown as text, exactly as read.
    ``review`` shows an unmarked checkbox as ``なし`` (on the correction sheet an empty cell
    would read as "nothing to say").
    """
    value = clean_text(value)
    if ftype == FieldType.MYNUMBER:
        return (mask_mynumber(value) or None), "@"
    if ftype == FieldType.DATE:
        m = _ISO_DATE.match(value)
        if m:
            try:
                return dt.datetime(int(m[1]), int(m[2]), int(m[3])), "yyyy/mm/dd"
            except ValueError:
                pass
        return (value or None), "@"
    if ftype == FieldType.AMOUNT:
        if value.isascii() and value.isdigit() and len(value) <= _MAX_EXACT_DIGITS:
            return int(value), "#,##0"
        return (value or None), "@"
    if ftype == FieldType.CHECKBOX:
        if value == "1":
            return CHECK_MARK, "@"
        if value == "0":
            return (CHECK_NONE if review else None), "@"
        return (value or None), "@"
    return (value or None), "@"


def _number_text(v: float) -> str:
    if isinstance(v, int) or float(v).is_integer():
        return str(int(v))
    return format(v, ".15g")


def cell_to_value(ftype: str, v: Any) -> str:
    """A cell as a reviewer left it, back in the normalised string form of ``ftype``.

    Spreadsheet programs turn what people type into dates and numbers; this undoes that
    (datetime → ``YYYY-MM-DD``, 1234.0 → ``1234``, ✓ → ``1``). Anything else comes back as the
    text typed, stripped: validating it is the caller's job (it knows the validators and can
    name the row). ``空欄`` means an empty value.
    """
    if v is None:
        text = ""
    elif isinstance(v, bool):
        text = "1" if v else "0"
    elif isinstance(v, dt.datetime):
        text = v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    elif isinstance(v, dt.date):
        text = v.isoformat()
    elif isinstance(v, dt.time):
        text = v.strftime("%H:%M")
    elif isinstance(v, int | float):
        text = _number_text(v)
    else:
        text = str(v).strip()
    if text == CLEAR_TOKEN:
        text = ""
    if ftype == FieldType.CHECKBOX:
        folded = unicodedata.normalize("NFKC", text).upper()
        if text in _MARKED or folded in _MARKED:
            return "1"
        if not text or text in _UNMARKED or folded in _UNMARKED:
            return "0"
    return text


def styled_cell(ws: WriteOnlyWorksheet, value: Any = None, **style: Any) -> WriteOnlyCell:
    """A cell for ``ws.append``: write-only sheets take styles only this way.

    ``style`` names cell attributes (number_format, font, fill, border, alignment,
    protection); a ``None`` leaves the attribute unset.
    """
    cell = WriteOnlyCell(ws, value)
    for name, v in style.items():
        if v is not None:
            setattr(cell, name, v)
    return keep_as_text(cell)
