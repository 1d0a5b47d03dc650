"""The correction sheet 確認シート: one row per flagged field, with its scanned crop.

This is where a clerk spends their time, so it explains itself in its first rows, shows the
crop next to what OCR read and why it is doubtful, and lets them type only where typing makes
sense (修正後の値, 確認済, 備考 and the review-time cells). Protection only prevents accidents:
any user can remove it, which is why the reader compares locked columns with the meta.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl.drawing.image import Image as XlImage
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, TwoCellAnchor
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from PIL import Image as PILImage

from ocr.results import FieldResult
from ocr.templates import FieldSpec, FieldType
from robots.records import DocumentRecord
from robots.sheets.answers import answer_rule, candidates_rule
from robots.sheets.common import (
    CHECK_MARK,
    CHECK_NONE,
    CLEAR_TOKEN,
    DONE_MARK,
    LOW_CONFIDENCE,
    REVIEW_HEADERS,
    VERIFY_HEADER,
    VERIFY_PLACEHOLDER,
    clean_text,
    display_width,
    print_setup,
    styled_cell,
    value_to_cell,
)

__all__ = [
    "EDITABLE_COLUMNS",
    "REVIEW_FIRST_ROW",
    "REVIEW_HEADER_ROW",
    "TIME_CELLS",
    "embed_crop",
    "is_proposal",
    "write_review_sheet",
]

log = logging.getLogger(__name__)

REVIEW_HEADER_ROW = 10
REVIEW_FIRST_ROW = REVIEW_HEADER_ROW + 1
#: Where the reviewer records how long the review took (labels in column A).
TIME_CELLS = {"start": "B6", "end": "B7", "minutes": "B8"}
EDITABLE_COLUMNS = (VERIFY_HEADER, "修正後の値", "確認済", "備考")
COL = {h: i for i, h in enumerate(REVIEW_HEADERS, start=1)}
IMAGE_MAX_W, IMAGE_MAX_H = 420, 64  # pixels shown in the sheet

_FILL_FLAG = PatternFill("solid", fgColor="FFF2CC")  # yellow: look at this
_FILL_LOW = PatternFill("solid", fgColor="F8CBAD")  # orange: OCR was unsure (< 50 %)
_FILL_HEAD = PatternFill("solid", fgColor="D9E1F2")
_FILL_HEAD_EDIT = PatternFill("solid", fgColor="C6EFCE")  # green: you may type here
_FILL_INPUT = PatternFill("solid", fgColor="FFFFFF")
_FILL_VERIFY = PatternFill("solid", fgColor="DDEBF7")  # blue: key the value from the image
_FILL_OFF = PatternFill("solid", fgColor="EDEDED")  # grey: not used on this row
_FILL_PROPOSED = PatternFill("solid", fgColor="E4DFEC")  # purple: a proposal to confirm
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_UNLOCKED = Protection(locked=False)
_TOP_WRAP = Alignment(vertical="center", wrap_text=True)
_LEFT_WRAP = Alignment(horizontal="left", vertical="center", wrap_text=True)

_INSTRUCTIONS = (
    "①「読取画像」と「読取結果」を見比べ、誤りがあれば「修正後の値」に正しい値を入力してください。"
    "「修正後の値」が空欄の行は、読取結果のまま確定します。",
    f"②値を消すときは「{CLEAR_TOKEN}」、チェック欄は「{CHECK_MARK}」か「{CHECK_NONE}」を"
    "入力します。日付は 2025/6/1 のように西暦で入力してください。",
    f"③確認した行は「確認済」で「{DONE_MARK}」を選び、気づいたことは「備考」へ。"
    "黄色＝要確認、橙色＝読取信頼度50%未満。緑の見出しの列だけ入力できます。"
    f"青色の行（ベリファイ）は読取結果を表示しません。画像を見て「{VERIFY_HEADER}」に入力してください。"
    "紫色の行は郵便番号・全銀データ・住民記録からの提案です（「修正後の値」に入っています）。"
    f"画像と同じなら「{DONE_MARK}」、違えば上書きし、候補があれば一覧から選んでください。",
)
_TIME_LABELS = {"start": "確認開始（時刻）", "end": "確認終了（時刻）", "minutes": "確認時間（分）"}
_TIME_NOTE = ("確認にかかった時間を記録します（効果測定に使います）。"
              "開始・終了の時刻（例 9:30）か、かかった分数のどちらかを入力してください。")
def _crop_of(fr: FieldResult, row: int) -> bytes | None:
    """The field's crop, from memory or from the run's spool folder (robots.run.spool)."""
    try:
        return fr.crop()
    except OSError as exc:
        log.warning("crop image for row %d cannot be read (%s); row written without it",
                    row, exc.strerror or type(exc).__name__)
        return None


def embed_crop(
    ws: Worksheet | WriteOnlyWorksheet, png: bytes | None, *, row: int, col: int, max_w: int,
    max_h: int, spool: Path | None = None,
) -> tuple[int, int] | None:
    """Put a field's scanned crop inside cell (row, col), scaled to fit; return its pixel size.

    The anchor spans exactly that cell ("move and size with cells"), so filtering the sheet
    hides the image with its row instead of leaving it floating over other rows. A crop that
    cannot be decoded is skipped with a warning: one bad image must not cost the run its
    workbook. With ``spool`` (a private folder that lives until the workbook is saved) the
    scaled PNG waits there instead of in memory: openpyxl reads images only when saving.
    """
    if not png:
        return None
    try:
        with PILImage.open(io.BytesIO(png)) as im:
            im.load()
            scale = min(max_w / im.width, max_h / im.height, 1.0)
            w, h = max(1, round(im.width * scale)), max(1, round(im.height * scale))
            # keep 1.5x the shown resolution (sharp at 150 % display scaling or zoom) and drop
            # the rest: 300 dpi crops would make a 500-field workbook tens of megabytes
            keep = min(1.0, 1.5 * scale)
            small = im.convert("L" if im.mode in ("1", "L", "P", "I;16") else "RGB")
            if keep < 1.0:
                size = (max(1, round(im.width * keep)), max(1, round(im.height * keep)))
                small = small.resize(size, PILImage.Resampling.LANCZOS)
            buf = io.BytesIO()
            small.save(buf, format="PNG", compress_level=6)  # optimize=True: 13 % slower here
    except (OSError, ValueError, PILImage.DecompressionBombError) as exc:
        log.warning("crop image for row %d cannot be decoded (%s); row written without it",
                    row, type(exc).__name__)
        return None
    if spool is None:
        buf.seek(0)
        img = XlImage(buf)
    else:  # a write error here (disk full) is the workbook's and must not be swallowed
        file = spool / f"r{row}c{col}.png"
        file.write_bytes(buf.getvalue())
        img = XlImage(str(file))  # a str path: openpyxl opens the file only to read it
    img.width, img.height = w, h
    pad, emu = 4, 9525  # EMU per pixel at 96 dpi
    img.anchor = TwoCellAnchor(
        editAs="twoCell",
        _from=AnchorMarker(col=col - 1, colOff=pad * emu, row=row - 1, rowOff=pad * emu),
        to=AnchorMarker(col=col - 1, colOff=(pad + w) * emu, row=row - 1,
                        rowOff=(pad + h) * emu),
    )
    ws.add_image(img)
    return w, h


class _Ranges:
    """The cells of one data validation, kept as runs of rows per column (rows come in order).

    One range per run instead of one per cell: the sqref of a 10,000-row sheet stays short.
    """

    def __init__(self) -> None:
        self._runs: dict[int, list[list[int]]] = {}

    def add(self, row: int, col: int) -> None:
        runs = self._runs.setdefault(col, [])
        if runs and runs[-1][1] == row - 1:
            runs[-1][1] = row
        elif not runs or runs[-1][1] != row:
            runs.append([row, row])

    def sqref(self) -> str:
        out = []
        for col, runs in self._runs.items():
            letter = get_column_letter(col)
            out += [f"{letter}{a}" if a == b else f"{letter}{a}:{letter}{b}" for a, b in runs]
        return " ".join(out)


def _top_rows(ws: WriteOnlyWorksheet, *, run_id: str, scenario: str, created: datetime,
              n: int, notes: Sequence[str] = ()) -> list[tuple[float | None, list[Any]]]:
    """Title, run line, instructions and the review-time block above the table (rows 1-9).

    Returned as (row height, cells) in row order; the merged ranges and the validations of
    the time cells are set on the sheet (both are written after the rows).
    """
    last = get_column_letter(len(REVIEW_HEADERS))
    rows: list[tuple[float | None, list[Any]]] = [
        (24, [styled_cell(ws, "確認シート（OCR読取結果の確認・修正）",
                          font=Font(bold=True, size=14))]),
        (None, [f"実行ID：{run_id}　業務：{scenario}　作成：{created:%Y-%m-%d %H:%M}"
                f"　確認が必要な項目：{n}件" + "".join(f"　※{x}" for x in notes)]),
    ]
    for i, text in enumerate(_INSTRUCTIONS, start=3):
        ws.merged_cells.add(f"A{i}:{last}{i}")  # a long instruction wraps to a second line
        rows.append((20 if len(text) < 120 else 36, [styled_cell(ws, text, alignment=_TOP_WRAP)]))
    for key, ref in TIME_CELLS.items():
        row = int(ref[1:])  # 6, 7, 8 in column B: the rows follow on from the instructions
        cells: list[Any] = [
            styled_cell(ws, _TIME_LABELS[key], font=Font(bold=True),
                  alignment=Alignment(horizontal="right")),
            styled_cell(ws, protection=_UNLOCKED, border=_BOX, fill=_FILL_INPUT,
                  number_format="0.0" if key == "minutes" else "h:mm"),
        ]
        if row == 6:
            cells.append(styled_cell(ws, _TIME_NOTE, alignment=_TOP_WRAP))
        rows.append((None, cells))
    ws.merged_cells.add(f"C6:{last}8")
    rows.append((None, []))  # row 9: space above the table
    times = DataValidation(type="time", operator="between", formula1="0", formula2="0.99999",
                           errorStyle="stop", errorTitle="時刻",
                           error="9:30 のように入力してください。")
    times.add(f"{TIME_CELLS['start']}:{TIME_CELLS['end']}")
    minutes = DataValidation(type="decimal", operator="between", formula1="0", formula2="1440",
                             errorStyle="stop", errorTitle="分",
                             error="分数を数字で入力してください。")
    minutes.add(TIME_CELLS["minutes"])
    ws.data_validations.append(times)
    ws.data_validations.append(minutes)
    return rows


def is_proposal(fr: FieldResult) -> bool:
    """A value derived from reference data (reason ``proposed``), not read by OCR."""
    return any(x.code == "proposed" for x in fr.reasons)


def _shown(
    spec: FieldSpec, fr: FieldResult
) -> tuple[bool, Any, str, float | None, str]:
    """What a row shows: (keyed blind, 読取結果 and its format, 信頼度, 確認理由)."""
    blind = any(x.code == "double_entry" for x in fr.reasons)
    shown, fmt = value_to_cell(spec.type, fr.value, review=True)
    confidence: float | None = round(float(fr.confidence), 4)
    reasons = "／".join(x.message for x in fr.reasons)
    if blind:  # nothing of the OCR reading may show: the keyed value must be independent
        shown, fmt, confidence = VERIFY_PLACEHOLDER, "@", None
        reasons = next(x.message for x in fr.reasons if x.code == "double_entry")
    elif is_proposal(fr):  # nothing was read: no confidence to show, the candidates listed
        confidence = None
        if fr.candidates:
            reasons += "　候補：" + "／".join(fr.candidates)
    return blind, shown, fmt, confidence, reasons


def write_review_sheet(
    ws: WriteOnlyWorksheet,
    flagged: Sequence[tuple[DocumentRecord, FieldSpec, FieldResult]],
    *,
    run_id: str,
    scenario: str,
    created: datetime,
    spool: Path | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """Fill 確認シート with one row per flagged field; return its part of the signed meta.

    ``ws`` is a write-only (streaming) sheet, which takes column widths and the frozen pane
    before its first row and rows only in order: a first pass over ``flagged`` works out the
    widths and embeds the crops (into ``spool``, see :func:`embed_crop`), the second appends
    the rows. Only the records stay in memory, never a cell of the sheet.
    """
    n_cols = len(REVIEW_HEADERS)
    last = get_column_letter(n_cols)
    hr = REVIEW_HEADER_ROW
    widths = {h: display_width(h) + 2 for h in REVIEW_HEADERS}
    widths.update({"修正後の値": 22, "確認済": 8, "備考": 24, "確認理由": 34, "信頼度": 8})
    image_w = 0
    blind_rows = 0
    image_h: list[int | None] = []  # per row: the crop's height, None without a crop
    for r, (rec, spec, fr) in enumerate(flagged, start=REVIEW_FIRST_ROW):
        blind, shown, _, _, _ = _shown(spec, fr)
        blind_rows += blind
        size = embed_crop(ws, _crop_of(fr, r), row=r, col=COL["読取画像"],
                          max_w=IMAGE_MAX_W, max_h=IMAGE_MAX_H, spool=spool)
        image_h.append(size[1] if size else None)
        image_w = max(image_w, size[0] if size else 0)
        for h, v in (("文書ID", clean_text(rec.doc_id)),
                     ("元ファイル", clean_text(rec.source_file)),
                     ("項目", clean_text(spec.column)), ("読取結果", shown)):
            widths[h] = min(max(widths[h], display_width(str(v or "")) + 2), 30)
    widths["読取画像"] = max(widths["読取画像"], math.ceil((image_w + 8) / 7) + 1)
    widths[VERIFY_HEADER] = 18
    # everything written before the rows: widths, hidden column, pane, print setup
    for h, w in widths.items():
        ws.column_dimensions[get_column_letter(COL[h])].width = w
    ws.column_dimensions[get_column_letter(COL[VERIFY_HEADER])].hidden = not blind_rows
    ws.freeze_panes = f"A{REVIEW_FIRST_ROW}"
    print_setup(ws, title_rows=f"{hr}:{hr}")

    top = _top_rows(ws, run_id=run_id, scenario=scenario, created=created, n=len(flagged),
                    notes=notes)
    top.append((None, [
        styled_cell(ws, h, font=Font(bold=True),
              fill=_FILL_HEAD_EDIT if h in EDITABLE_COLUMNS else _FILL_HEAD, border=_BOX,
              alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
        for h in REVIEW_HEADERS
    ]))
    for r, (height, cells) in enumerate(top, start=1):
        _append(ws, r, cells, height)

    validations: dict[tuple[Any, ...], tuple[dict[str, Any], _Ranges]] = {}
    done = _Ranges()
    rows_meta: list[dict[str, Any]] = []
    for i, (rec, spec, fr) in enumerate(flagged):
        r = REVIEW_FIRST_ROW + i
        blind, shown, fmt, confidence, reasons = _shown(spec, fr)
        proposed = is_proposal(fr)
        low = confidence is not None and confidence < LOW_CONFIDENCE
        fill = (_FILL_VERIFY if blind else _FILL_PROPOSED if proposed
                else _FILL_LOW if low else _FILL_FLAG)
        answer_fmt = {FieldType.DATE: "yyyy/mm/dd", FieldType.AMOUNT: "#,##0"}.get(spec.type, "@")
        values: dict[str, Any] = {
            "文書ID": clean_text(rec.doc_id), "元ファイル": clean_text(rec.source_file),
            "ページ": clean_text(rec.page), "項目": clean_text(spec.column),
            "読取画像": "（画像なし）" if image_h[i] is None else None,
            "読取結果": shown, "信頼度": confidence, "確認理由": clean_text(reasons),
            # a proposal is prefilled: 済 confirms it, typing over it changes it
            "修正後の値": shown if proposed and fr.value else None,
        }
        formats = {"文書ID": "@", "元ファイル": "@", "ページ": "@", "項目": "@", "確認理由": "@",
                   "読取結果": fmt, "信頼度": "0%", "修正後の値": answer_fmt,
                   **({VERIFY_HEADER: answer_fmt} if blind else {})}
        cells: list[Any] = []
        for h in REVIEW_HEADERS:
            cell = styled_cell(ws, values.get(h), number_format=formats.get(h), border=_BOX,
                         alignment=_LEFT_WRAP if h == "読取結果" else _TOP_WRAP)
            if h == VERIFY_HEADER and not blind:
                cell.fill = _FILL_OFF  # locked: only blind rows are keyed here
            elif h in EDITABLE_COLUMNS:
                cell.protection = _UNLOCKED
                cell.fill = _FILL_INPUT
            else:
                cell.fill = fill
            if h == "信頼度" and low:
                cell.font = Font(bold=True, color="C00000")
            cells.append(cell)
        rule = (candidates_rule(fr) if proposed else None) or answer_rule(spec)
        if rule is not None:
            key, kwargs = rule
            ranges = validations.setdefault(key, (kwargs, _Ranges()))[1]
            ranges.add(r, COL["修正後の値"])
            if blind:
                ranges.add(r, COL[VERIFY_HEADER])
        done.add(r, COL["確認済"])
        lines = max(math.ceil(display_width(reasons) / (widths["確認理由"] - 2)),
                    math.ceil(display_width(str(shown or "")) / 28), 1)
        _append(ws, r, cells, max(15 * lines + 6, ((image_h[i] or 0) + 8) * 0.75, 24))
        rows_meta.append({
            "row": r, "doc_id": rec.doc_id, "form_id": rec.form_id, "field": spec.name,
            "type": str(spec.type), "label": spec.column, "source_file": rec.source_file,
            "page": rec.page, "value": fr.value, "confidence": confidence, "reasons": reasons,
            **({"blind": True} if blind else {}), **({"proposed": True} if proposed else {}),
        })
    if not flagged:
        ws.merged_cells.add(f"A{REVIEW_FIRST_ROW}:{last}{REVIEW_FIRST_ROW}")
        _append(ws, REVIEW_FIRST_ROW, ["確認が必要な項目はありません。"], None)

    # written after the rows: validations, filter, merged cells, protection
    for kwargs, ranges in validations.values():
        ws.data_validations.append(DataValidation(allow_blank=True, sqref=ranges.sqref(), **kwargs))
    if flagged:
        ws.data_validations.append(DataValidation(
            type="list", formula1=f'"{DONE_MARK}"', errorStyle="stop", errorTitle="確認済",
            error=f"確認したら「{DONE_MARK}」を選んでください。", sqref=done.sqref(),
        ))
    last_row = REVIEW_FIRST_ROW + max(len(flagged), 1) - 1
    ws.auto_filter.ref = f"A{hr}:{last}{last_row}"
    p = ws.protection
    p.sheet = True
    # allow what does no harm: filtering, resizing, selecting; protect the images (objects)
    p.autoFilter = p.formatColumns = p.formatRows = False
    p.selectLockedCells = p.selectUnlockedCells = False
    p.objects = True
    return {
        "sheet": ws.title,
        "header_row": hr,
        "headers": list(REVIEW_HEADERS),
        "time_cells": dict(TIME_CELLS),
        "rows": rows_meta,
    }


def _append(ws: WriteOnlyWorksheet, row: int, cells: list[Any], height: float | None) -> None:
    """Append row ``row`` (rows come in order) with its height; keep no dimension behind."""
    if height is not None:
        ws.row_dimensions[row].height = height
    ws.append(cells)
    ws.row_dimensions.pop(row, None)  # written with the row: openpyxl reads it only then
