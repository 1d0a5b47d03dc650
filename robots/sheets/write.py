"""Write a run's review workbook: data sheets, the correction sheet 確認シート and signed meta.

The workbook is the only place a clerk sees OCR output, so it is laid out for them (Japanese
headers, real dates, leading zeros kept, the scanned crop beside each doubtful value) and is
written atomically: a half-written workbook on a shared drive would be opened by somebody.
What was written is recorded in a very hidden ``_meta`` sheet, signed with the run's secret,
so that :mod:`robots.sheets.read` can tell which cells a reviewer changed and refuse a workbook
from another run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from ocr.results import FieldResult
from ocr.templates import FieldSpec, FieldType, FormTemplate
from robots.records import DocumentRecord
from robots.sheets.common import (
    DATA_ID_HEADERS,
    FORMAT_VERSION,
    META_SHEET,
    REVIEW_SHEET,
    STATUS_OK,
    STATUS_REVIEW,
    VERIFY_PLACEHOLDER,
    WorkbookSummary,
    clean_text,
    display_width,
    iter_canonical_json,
    print_setup,
    sign,
    styled_cell,
    value_to_cell,
)
from robots.sheets.personal import seal_personal_numbers
from robots.sheets.review import write_review_sheet

__all__ = ["data_headers", "sheet_title", "write_workbook"]

log = logging.getLogger(__name__)

META_CHUNK = 30_000  # characters per meta cell (Excel holds at most 32,767)
META_FIRST_CHUNK_ROW = 10  # robots.sheets.read reads the chunks from A10 down
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


def _data_value(spec: FieldSpec, fr: FieldResult | None) -> tuple[Any, str, bool]:
    """A field's data cell: (value, number format, keyed blind on 確認シート first)."""
    shown, fmt = value_to_cell(spec.type, fr.value if fr else "")
    if fr is not None and any(x.code == "double_entry" for x in fr.reasons):
        return VERIFY_PLACEHOLDER, "@", True
    return shown, fmt, False


def _styled(ws: WriteOnlyWorksheet, value: Any, **style: Any) -> WriteOnlyCell:
    """A boxed cell for ``ws.append``."""
    return styled_cell(ws, value, border=_BOX, **style)


def _write_data_sheet(
    ws: WriteOnlyWorksheet, template: FormTemplate, records: list[DocumentRecord],
    table_name: str,
) -> dict[str, Any]:
    """One row per document, one column per field; returns this sheet's part of the meta.

    Styles are set on the cells as well as through the table style: LibreOffice shows table
    ranges without their style, and a printed sheet needs visible headers and borders.
    ``ws`` is write-only: a first pass over ``records`` sizes the columns (written before the
    first row), the second appends the rows.
    """
    headers = [*DATA_ID_HEADERS, *data_headers(template)]
    n_id = len(DATA_ID_HEADERS)
    # long labels wrap (up to 3 lines) rather than widen a column of ✓ marks
    widths = [min(display_width(h), _HEADER_WRAP) for h in headers]
    for rec in records:
        by_name = {f.name: f for f in rec.fields}
        status = STATUS_REVIEW if rec.needs_review else STATUS_OK
        for c, v in enumerate((rec.doc_id, rec.source_file, rec.page, status)):
            widths[c] = max(widths[c], display_width(v))
        for c, spec in enumerate(template.fields, start=n_id):
            widths[c] = max(widths[c], _shown_width(_data_value(spec, by_name.get(spec.name))[0]))
    lines = 1
    total = 0.0
    for c, w in enumerate(widths, start=1):
        width = min(w, 50) + 4  # room for the filter button
        total += width
        ws.column_dimensions[get_column_letter(c)].width = width
        lines = max(lines, math.ceil(display_width(headers[c - 1]) / (width - 3)))
    ws.freeze_panes = "B2"
    # one page wide would shrink 25 columns to unreadable; keep >= ~80 % and repeat 文書ID
    print_setup(ws, title_rows="1:1", title_cols="A:A",
                pages_wide=max(1, math.ceil(total / _PRINT_CHARS_PER_PAGE)))
    ref = f"A1:{get_column_letter(len(headers))}{len(records) + 1}"
    # the column names are given: openpyxl would read them from the cells, which a
    # write-only sheet does not keep
    table = Table(displayName=table_name, ref=ref, autoFilter=AutoFilter(ref=ref),
                  tableColumns=[TableColumn(id=i, name=h) for i, h in enumerate(headers, 1)])
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    with warnings.catch_warnings():  # "you must add table columns manually": done above
        warnings.filterwarnings("ignore", "In write-only mode", UserWarning)
        ws.add_table(table)

    ws.row_dimensions[1].height = 15 * min(lines, 3) + 4
    head_align = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws.append([_styled(ws, h, alignment=head_align, font=_HEADER_FONT, fill=_HEADER_FILL)
               for h in headers])
    ws.row_dimensions.pop(1, None)  # written with the row
    rows_meta: list[dict[str, Any]] = []
    for r, rec in enumerate(records, start=2):
        by_name = {f.name: f for f in rec.fields}
        status = STATUS_REVIEW if rec.needs_review else STATUS_OK
        cells = [_styled(ws, clean_text(v), number_format="@")
                 for v in (rec.doc_id, rec.source_file, rec.page, status)]
        if rec.needs_review:
            cells[n_id - 1].fill = _FLAG_FILL
        values: list[str] = []
        blind: list[str] = []
        for spec in template.fields:
            fr = by_name.get(spec.name)
            shown, fmt, keyed = _data_value(spec, fr)
            if keyed:  # keyed blind on 確認シート first
                blind.append(spec.name)
            cells.append(_styled(
                ws, shown, number_format=fmt,
                alignment=_CENTER if spec.type in (FieldType.DATE, FieldType.CHECKBOX) else None,
                fill=_FLAG_FILL if fr is not None and fr.flagged else None,
            ))
            values.append(fr.value if fr else "")
        ws.append(cells)
        rows_meta.append({"row": r, "doc_id": rec.doc_id, "source_file": rec.source_file,
                          "page": rec.page, "values": values,
                          **({"blind": blind} if blind else {})})
    return {
        "form_id": template.id,
        "sheet": ws.title,
        "header_row": 1,
        "fields": [{"name": f.name, "type": str(f.type), "header": h, "col": n_id + i + 1}
                   for i, (f, h) in enumerate(zip(template.fields, headers[n_id:], strict=True))],
        "rows": rows_meta,
    }


def _meta_chunks(pieces: Iterable[str], size: int = META_CHUNK) -> Iterator[str]:
    """The meta text in cells of at most ``size`` characters, never cut next to a space.

    Some programs trim cell text at the edges. ``pieces`` is the text in order (see
    :func:`robots.sheets.common.iter_canonical_json`): only about one cell of it is held.
    """
    parts: list[str] = []
    held = 0
    for piece in pieces:
        parts.append(piece)
        held += len(piece)
        if held <= size:
            continue
        text = "".join(parts)
        while len(text) > size:  # more text follows this cell: it may move its end back
            end = size
            while end > 1 and " " in (text[end - 1], text[end]):
                end -= 1
            yield text[:end]
            text = text[end:]
        parts, held = [text], len(text)
    text = "".join(parts)
    if text:
        yield text


def _write_meta(wb: Workbook, payload: dict[str, Any], secret: bytes) -> None:
    """The signed record of what was written: very hidden, protected, chunked across cells.

    The JSON is encoded twice, piece by piece (signature and number of cells first, as they
    come first in the sheet; then the cells), so that its text, which grows with the number
    of rows, is never held whole.
    """
    n_chunks = 0

    def counted() -> Iterator[str]:
        nonlocal n_chunks
        for chunk in _meta_chunks(iter_canonical_json(payload)):
            n_chunks += 1
            yield chunk

    signature = sign(secret, counted())
    ws = wb.create_sheet(META_SHEET)
    rows: list[tuple[str, Any]] = [
        ("format", FORMAT_VERSION),
        ("run_id", payload["run_id"]),
        ("scenario", payload["scenario"]),
        ("created", payload["created"]),
        ("signature", signature),
        ("chunks", n_chunks),
        ("note", "改ざん検出用のシートです。編集しないでください。"),
    ]
    for key, value in rows:
        ws.append([_styled(ws, key), _styled(ws, value)])
    for _ in range(len(rows) + 1, META_FIRST_CHUNK_ROW):
        ws.append([])
    for chunk in _meta_chunks(iter_canonical_json(payload)):
        ws.append([_styled(ws, chunk)])  # a chunk may start with "-" or "="
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


def _discard(wb: Workbook) -> None:
    """Remove what the write-only sheets of a failed write streamed to temporary files.

    openpyxl itself removes them only when the process exits, and they hold the run's data.
    """
    for ws in wb.worksheets:
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()
        writer = getattr(ws, "_writer", None)
        if writer is not None and isinstance(writer.out, str) and Path(writer.out).exists():
            with contextlib.suppress(OSError, ValueError):
                writer.cleanup()


def write_workbook(
    path: Path,
    *,
    run_id: str,
    scenario: str,
    templates: Mapping[str, FormTemplate],
    records: Sequence[DocumentRecord],
    secret: bytes,
    created: datetime,
    notes: Sequence[str] = (),
) -> WorkbookSummary:
    """Write the run's review workbook to ``path`` (atomically, mode 0600).

    ``notes`` are shown on 確認シート under the run line (in Japanese: a stale resident
    register, say, that explains why fewer words are proposed).

    Sheets: 確認シート first (the reviewer's work), one data sheet per form present in
    ``records`` (in order of first appearance), and the very hidden signed ``_meta``.
    Raises ``ValueError`` for records the templates cannot place (unknown form or field,
    duplicate doc id) before anything is written.

    The workbook is streamed (openpyxl's write-only mode): each row goes to a temporary file
    as it is appended and the crops wait in a private folder beside ``path`` until the save,
    so no cell and no image is held in memory. What still grows with the rows is small: the
    meta's entry per row and, while saving, openpyxl's drawing part (one anchor per crop).
    """
    path = Path(path)
    _check_inputs(templates, records)
    by_form: dict[str, list[DocumentRecord]] = {}
    for rec in records:
        by_form.setdefault(rec.form_id, []).append(rec)
    flagged: list[tuple[DocumentRecord, FieldSpec, FieldResult]] = []
    for rec in records:
        specs = templates[rec.form_id].by_name
        flagged.extend((rec, specs[f.name], f) for f in rec.fields if f.flagged)

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    wb.properties.creator = "misato-rpa"
    wb.properties.title = f"OCR確認 {scenario} {run_id}"
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.stem}.crops-") as spool:
            review_ws = wb.create_sheet(REVIEW_SHEET)  # first: the reviewer's work
            taken = {REVIEW_SHEET.casefold(), META_SHEET.casefold()}
            forms_meta: list[dict[str, Any]] = []
            for n, (form_id, recs) in enumerate(by_form.items(), start=1):
                ws = wb.create_sheet(sheet_title(templates[form_id].title, taken))
                forms_meta.append(
                    _write_data_sheet(ws, templates[form_id], recs, f"tbl_{n}_{form_id}")
                )
            review_meta = write_review_sheet(
                review_ws, flagged, run_id=run_id, scenario=scenario, created=created,
                spool=Path(spool), notes=notes,
            )
            payload = {
                "format": FORMAT_VERSION,
                "run_id": run_id,
                "scenario": scenario,
                "created": created.isoformat(),
                "forms": forms_meta,
                "review": review_meta,
            }
            seal_personal_numbers(payload, secret)
            _write_meta(wb, payload, secret)
            wb.active = 0
            _save_atomically(wb, path)
    except BaseException:
        _discard(wb)
        raise
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
