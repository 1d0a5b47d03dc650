"""Write a run's review workbook: data sheets, the correction sheet 確認シート and signed meta.

The workbook is the only place a clerk sees OCR output, so it is laid out for them (Japanese
headers, real dates, leading zeros kept, the scanned crop beside each doubtful value) and is
written atomically: a half-written workbook on a shared drive would be opened by somebody.
What was written is recorded in a very hidden ``_meta`` sheet, signed with the run's secret,
so that :mod:`robots.excel_read` can tell which cells a reviewer changed and refuse a workbook
from another run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from ocr.results import FieldResult
from ocr.templates import FieldSpec, FieldType, FormTemplate
from robots.excel_common import (
    DATA_ID_HEADERS,
    FORMAT_VERSION,
    META_SHEET,
    REVIEW_SHEET,
    STATUS_OK,
    STATUS_REVIEW,
    VERIFY_PLACEHOLDER,
    WorkbookSummary,
    canonical_json,
    clean_text,
    display_width,
    print_setup,
    sign,
    value_to_cell,
)
from robots.excel_review import write_review_sheet
from robots.records import DocumentRecord

__all__ = ["data_headers", "sheet_title", "write_workbook"]

log = logging.getLogger(__name__)

META_CHUNK = 30_000  # characters per meta cell (Excel holds at most 32,767)
_FORBIDDEN = str.maketrans({":": "：", "\\": "＼", "/": "／", "?": "？", "*": "＊",
                            "[": "（", "]": "）"})
_FLAG_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="4472C4")  # the header colour of TableStyleMedium2
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center")
_HEADER_WRAP = 10  # header width (half-width cells) above which a label wraps
_PRINT_CHARS_PER_PAGE = 170  # column-width units on A4 landscape at ~80 % scale


def sheet_title(title: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name from a form title (forbidden characters made full-width).

    Excel compares sheet names case-insensitively and allows 31 characters; ``taken`` holds
    the folded names already used and is updated.
    """
    name = title.translate(_FORBIDDEN).strip().strip("'") or "様式"
    base = name[:31]
    n = 1
    while base.casefold() in taken or base.casefold() == "history":
        n += 1
        suffix = f"({n})"
        base = name[: 31 - len(suffix)] + suffix
    taken.add(base.casefold())
    return base


def data_headers(template: FormTemplate) -> list[str]:
    """Column headers of a form's data sheet: each field's column name (header or label).

    Templates guarantee the names are unique (a repeated printed label such as 通数 must get a
    ``header``), so the workbook and the CSV use the same names.
    """
    return [f.column for f in template.fields]


def _shown_width(v: Any) -> int:
    if v is None:
        return 0
    if isinstance(v, datetime):
        return 10
    if isinstance(v, int):
        return len(f"{v:,}")
    return display_width(str(v))


def _write_data_sheet(
    ws: Worksheet, template: FormTemplate, records: list[DocumentRecord], table_name: str
) -> dict[str, Any]:
    """One row per document, one column per field; returns this sheet's part of the meta.

    Styles are set on the cells as well as through the table style: LibreOffice shows table
    ranges without their style, and a printed sheet needs visible headers and borders.
    """
    headers = [*DATA_ID_HEADERS, *data_headers(template)]
    ws.append(headers)
    # long labels wrap (up to 3 lines) rather than widen a column of ✓ marks
    widths = [min(display_width(h), _HEADER_WRAP) for h in headers]
    rows_meta: list[dict[str, Any]] = []
    n_id = len(DATA_ID_HEADERS)
    for r, rec in enumerate(records, start=2):
        by_name = {f.name: f for f in rec.fields}
        status = STATUS_REVIEW if rec.needs_review else STATUS_OK
        for c, v in enumerate((rec.doc_id, rec.source_file, rec.page, status), start=1):
            cell = ws.cell(r, c, clean_text(v))
            cell.number_format = "@"
            cell.border = _BOX
            widths[c - 1] = max(widths[c - 1], display_width(v))
        if rec.needs_review:
            ws.cell(r, n_id).fill = _FLAG_FILL
        values: list[str] = []
        blind: list[str] = []
        for c, spec in enumerate(template.fields, start=n_id + 1):
            fr = by_name.get(spec.name)
            value = fr.value if fr else ""
            shown, fmt = value_to_cell(spec.type, value)
            if fr is not None and any(x.code == "double_entry" for x in fr.reasons):
                shown, fmt = VERIFY_PLACEHOLDER, "@"  # keyed blind on 確認シート first
                blind.append(spec.name)
            cell = ws.cell(r, c, shown)
            cell.number_format = fmt
            cell.border = _BOX
            if spec.type in (FieldType.DATE, FieldType.CHECKBOX):
                cell.alignment = _CENTER
            if fr is not None and fr.flagged:
                cell.fill = _FLAG_FILL
            widths[c - 1] = max(widths[c - 1], _shown_width(shown))
            values.append(value)
        rows_meta.append({"row": r, "doc_id": rec.doc_id, "source_file": rec.source_file,
                          "page": rec.page, "values": values,
                          **({"blind": blind} if blind else {})})
    last = f"{get_column_letter(len(headers))}{len(records) + 1}"
    table = Table(displayName=table_name, ref=f"A1:{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    lines = 1
    total = 0.0
    for c, w in enumerate(widths, start=1):
        width = min(w, 50) + 4  # room for the filter button
        total += width
        ws.column_dimensions[get_column_letter(c)].width = width
        lines = max(lines, math.ceil(display_width(headers[c - 1]) / (width - 3)))
        head = ws.cell(1, c)
        head.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        head.font = _HEADER_FONT
        head.fill = _HEADER_FILL
        head.border = _BOX
    ws.row_dimensions[1].height = 15 * min(lines, 3) + 4
    ws.freeze_panes = "B2"
    # one page wide would shrink 25 columns to unreadable; keep >= ~80 % and repeat 文書ID
    print_setup(ws, title_rows="1:1", title_cols="A:A",
                pages_wide=max(1, math.ceil(total / _PRINT_CHARS_PER_PAGE)))
    return {
        "form_id": template.id,
        "sheet": ws.title,
        "header_row": 1,
        "fields": [{"name": f.name, "type": str(f.type), "header": h, "col": n_id + i + 1}
                   for i, (f, h) in enumerate(zip(template.fields, headers[n_id:], strict=True))],
        "rows": rows_meta,
    }


def _write_meta(wb: Workbook, payload: dict[str, Any], secret: bytes) -> None:
    """The signed record of what was written: very hidden, protected, chunked across cells."""
    text = canonical_json(payload)
    ws = wb.create_sheet(META_SHEET)
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + META_CHUNK, len(text))
        # never cut next to a space: some programs trim cell text at the edges
        while end < len(text) and end - start > 1 and " " in (text[end - 1], text[end]):
            end -= 1
        chunks.append(text[start:end])
        start = end
    rows: list[tuple[str, Any]] = [
        ("format", FORMAT_VERSION),
        ("run_id", payload["run_id"]),
        ("scenario", payload["scenario"]),
        ("created", payload["created"]),
        ("signature", sign(secret, text)),
        ("chunks", len(chunks)),
        ("note", "改ざん検出用のシートです。編集しないでください。"),
    ]
    for key, value in rows:
        ws.append([key, value])
    for i, chunk in enumerate(chunks):
        ws.cell(10 + i, 1, chunk)
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True


def _check_inputs(templates: Mapping[str, FormTemplate], records: Sequence[DocumentRecord]) -> None:
    """Fail before writing anything: a record the workbook cannot represent is a bug upstream."""
    seen: set[str] = set()
    for rec in records:
        if rec.doc_id in seen:
            raise ValueError(f"duplicate doc_id {rec.doc_id!r}: doc ids must be unique in a run")
        seen.add(rec.doc_id)
        if rec.form_id not in templates:
            raise ValueError(f"document {rec.doc_id}: no template for form {rec.form_id!r}")
        known = templates[rec.form_id].by_name
        unknown = sorted({f.name for f in rec.fields} - set(known))
        if unknown:
            raise ValueError(
                f"document {rec.doc_id}: fields {unknown} are not in form {rec.form_id!r}"
            )


def _save_atomically(wb: Workbook, path: Path) -> None:
    """Save beside the target and rename: readers see the old workbook or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".xlsx.tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.chmod(0o600)
        wb.save(tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        tmp.chmod(0o600)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_workbook(
    path: Path,
    *,
    run_id: str,
    scenario: str,
    templates: Mapping[str, FormTemplate],
    records: Sequence[DocumentRecord],
    secret: bytes,
    created: datetime,
) -> WorkbookSummary:
    """Write the run's review workbook to ``path`` (atomically, mode 0600).

    Sheets: 確認シート first (the reviewer's work), one data sheet per form present in
    ``records`` (in order of first appearance), and the very hidden signed ``_meta``.
    Raises ``ValueError`` for records the templates cannot place (unknown form or field,
    duplicate doc id) before anything is written.
    """
    path = Path(path)
    _check_inputs(templates, records)
    by_form: dict[str, list[DocumentRecord]] = {}
    for rec in records:
        by_form.setdefault(rec.form_id, []).append(rec)

    wb = Workbook()
    wb.properties.creator = "misato-rpa"
    wb.properties.title = f"OCR確認 {scenario} {run_id}"
    review_ws = wb.active
    review_ws.title = REVIEW_SHEET
    taken = {REVIEW_SHEET.casefold(), META_SHEET.casefold()}
    forms_meta: list[dict[str, Any]] = []
    for n, (form_id, recs) in enumerate(by_form.items(), start=1):
        ws = wb.create_sheet(sheet_title(templates[form_id].title, taken))
        forms_meta.append(_write_data_sheet(ws, templates[form_id], recs, f"tbl_{n}_{form_id}"))

    flagged: list[tuple[DocumentRecord, FieldSpec, FieldResult]] = []
    for rec in records:
        specs = templates[rec.form_id].by_name
        flagged.extend((rec, specs[f.name], f) for f in rec.fields if f.flagged)
    review_meta = write_review_sheet(
        review_ws, flagged, run_id=run_id, scenario=scenario, created=created
    )
    payload = {
        "format": FORMAT_VERSION,
        "run_id": run_id,
        "scenario": scenario,
        "created": created.isoformat(),
        "forms": forms_meta,
        "review": review_meta,
    }
    _write_meta(wb, payload, secret)
    wb.active = 0
    _save_atomically(wb, path)
    rows_per_form = {m["form_id"]: len(m["rows"]) for m in forms_meta}
    log.info(
        "wrote review workbook %s: %d documents in %d form sheets, %d fields to review",
        path.name, len(records), len(forms_meta), len(flagged),
    )
    return WorkbookSummary(
        path=path,
        sheets=[ws.title for ws in wb.worksheets],
        rows_per_form=rows_per_form,
        correction_rows=len(flagged),
    )

