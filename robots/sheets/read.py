"""Read a reviewed workbook back: verify it is this run's, then collect what the reviewer did.

A workbook comes back from a shared folder after days in Excel or LibreOffice: it may belong
to another run, protection may have been removed, rows may have been sorted. The signed meta
says what was written, so the reader can refuse a foreign workbook, refuse a workbook whose
locked cells were changed (naming sheet, row and column so a clerk can fix it), and report
every value a reviewer changed, on the correction sheet or directly on a data sheet.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from robots.sheets.common import (
    DONE_MARK,
    FORMAT_VERSION,
    META_SHEET,
    REVIEW_SHEET,
    VERIFY_HEADER,
    VERIFY_PLACEHOLDER,
    Correction,
    ForeignWorkbookError,
    ReviewedWorkbook,
    WorkbookEditedError,
    cell_to_value,
    clean_text,
    sign,
    value_to_cell,
)
from robots.sheets.personal import unseal_personal_numbers

__all__ = ["PROPOSAL_UNCONFIRMED", "VERIFY_MISMATCH", "WrittenRecord", "read_workbook",
           "read_workbook_records", "unconfirmed_proposals", "verify_keyed"]

log = logging.getLogger(__name__)

_LOCKED_TEXT = ("文書ID", "元ファイル", "ページ", "項目", "確認理由")
VERIFY_MISMATCH = ("ベリファイ入力が読取結果と一致しません。原本を見直し、正しい値を"
                   "「修正後の値」に入力してから取り込み直してください")
PROPOSAL_UNCONFIRMED = ("参照データからの提案が確認されていません。画像と同じなら「確認済」に"
                        "「済」を、違えば「修正後の値」に正しい値を入力してから取り込み直してください")
_CONFIDENCE_TOLERANCE = 5e-5
_DAY_MINUTES = 24 * 60


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _edited(sheet: str, row: int, column: str, what: str, reason_ja: str | None = None) -> (
    WorkbookEditedError
):
    return WorkbookEditedError(
        f"sheet {sheet!r} row {row} column {column!r}: {what}; restore it and import again",
        sheet=sheet, row=row, column=column, reason_ja=reason_ja,
    )


def _open(path: Path) -> Workbook:
    try:
        return load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        raise ForeignWorkbookError(
            f"{path.name} cannot be opened as an .xlsx workbook ({type(exc).__name__})",
            reason_ja="Excelブック（.xlsx）として開けません。ファイルが壊れていないか確認してください。",
        ) from exc


def _verified_payload(wb: Workbook, secret_for: Callable[[str], bytes | None]) -> dict[str, Any]:
    """The meta payload, after checking its format and its signature with the run's secret."""
    if META_SHEET not in wb.sheetnames:
        raise ForeignWorkbookError(
            "not a misato-rpa review workbook (no meta sheet)",
            reason_ja="このブックはOCR処理が作成した確認用ブックではありません。",
        )
    ws = wb[META_SHEET]
    head = {_text(ws.cell(r, 1).value): ws.cell(r, 2).value for r in range(1, 10)}
    try:
        n_chunks = int(head["chunks"])
        text = "".join(str(ws.cell(10 + i, 1).value or "") for i in range(n_chunks))
        payload = json.loads(text)
        run_id = str(payload["run_id"])
        version = payload["format"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ForeignWorkbookError(
            "the workbook's meta sheet is damaged",
            reason_ja="確認用ブックの管理情報が壊れています。",
        ) from exc
    if version != FORMAT_VERSION:
        raise ForeignWorkbookError(
            f"workbook format {version!r} is not supported (expected {FORMAT_VERSION})",
            reason_ja="このブックは別の版のプログラムで作成されたため取り込めません。",
        )
    secret = secret_for(run_id)
    if secret is None:
        raise ForeignWorkbookError(
            f"workbook belongs to run {run_id!r}, which is unknown here",
            reason_ja=f"このブックの処理（実行ID {run_id}）が見つかりません。"
            "正しい実行のブックか確認してください。",
        )
    if not hmac.compare_digest(sign(secret, text), _text(head.get("signature"))):
        raise ForeignWorkbookError(
            f"workbook signature does not match run {run_id!r} (another run's workbook, "
            "or its meta sheet was altered)",
            reason_ja="このブックは指定した処理のものではないか、管理情報が改ざんされています。",
        )
    unseal_personal_numbers(payload, secret)
    return payload


def _sheet(wb: Workbook, title: str) -> Worksheet:
    if title not in wb.sheetnames:
        raise _edited(title, 0, "", "sheet is missing or was renamed",
                      reason_ja=f"「{title}」シートが見つかりません（削除または名前の変更）。"
                      "元のシート名に戻してください。")
    return wb[title]


def _read_review(
    wb: Workbook, meta: dict[str, Any], out: ReviewedWorkbook
) -> dict[tuple[str, str], Correction]:
    """Corrections, 済 marks and notes of 確認シート; its locked columns checked against meta."""
    ws = _sheet(wb, meta["sheet"])
    title, hr, headers = ws.title, meta["header_row"], meta["headers"]
    col = {h: i for i, h in enumerate(headers, start=1)}
    for h, c in col.items():
        if _text(ws.cell(hr, c).value) != h:
            raise _edited(title, hr, h, "header was changed or columns were moved")
    found: dict[tuple[str, str], Correction] = {}
    for m in meta["rows"]:
        r, ftype = m["row"], m["type"]
        for h, key in zip(_LOCKED_TEXT, ("doc_id", "source_file", "page", "label", "reasons"),
                          strict=True):
            if _text(ws.cell(r, col[h]).value) != clean_text(m[key]).strip():
                raise _edited(title, r, h, "locked cell was changed")
        blind = bool(m.get("blind"))
        shown = value_to_cell(ftype, m["value"], review=True)[0]
        cell = ws.cell(r, col["読取結果"]).value
        if (_text(cell) != VERIFY_PLACEHOLDER if blind
                else cell_to_value(ftype, cell) != cell_to_value(ftype, shown)):
            raise _edited(title, r, "読取結果", "locked cell was changed")
        conf = ws.cell(r, col["信頼度"]).value
        shows_none = blind or bool(m.get("proposed"))  # nothing read: no confidence shown
        if (conf is not None if shows_none else not isinstance(conf, int | float)
                or abs(conf - m["confidence"]) > _CONFIDENCE_TOLERANCE):
            raise _edited(title, r, "信頼度", "locked cell was changed")
        key = (m["doc_id"], m["field"])
        if m.get("proposed"):
            out.proposed[key] = (r, m["label"])
        answer = ws.cell(r, col["修正後の値"]).value
        keyed = ws.cell(r, col[VERIFY_HEADER]).value if VERIFY_HEADER in col else None
        if blind and _text(keyed):
            out.keyed[key] = (cell_to_value(ftype, keyed), r, bool(_text(answer)))
        if _text(answer):
            after = cell_to_value(ftype, answer)
            if after != m["value"]:
                found[key] = Correction(m["doc_id"], m["field"], m["value"], after,
                                        "correction_sheet", r, title, m["form_id"])
        if _text(ws.cell(r, col["確認済"]).value) in (DONE_MARK, "済み"):
            out.confirmed.add(key)
        note = _text(ws.cell(r, col["備考"]).value)
        if note:
            out.notes[key] = note
    last = hr + max(len(meta["rows"]), 1)
    for r in range(last + 1, ws.max_row + 1):
        for h, c in col.items():
            if _text(ws.cell(r, c).value):
                raise _edited(title, r, h, "a row was added below the table",
                              reason_ja=f"「{title}」シート {r}行目に行が追加されています。"
                              "一覧にない項目の修正はデータのシートで直接行ってください。")
    out.review_minutes = _review_minutes(ws, meta["time_cells"])
    return found


def _minutes_of_day(v: Any) -> float | None:
    if isinstance(v, dt.datetime):
        v = v.time()
    if isinstance(v, dt.time):
        return v.hour * 60 + v.minute + v.second / 60
    if isinstance(v, int | float) and 0 <= v < 1:
        return float(v) * _DAY_MINUTES
    if isinstance(v, str) and ":" in v:
        try:
            t = dt.time.fromisoformat(v.strip().translate(str.maketrans("：", ":")).zfill(5))
        except ValueError:
            return None
        return t.hour * 60 + t.minute + t.second / 60
    return None


def _review_minutes(ws: Worksheet, cells: dict[str, str]) -> float | None:
    """Minutes typed, else end minus start (across midnight if needed), else None."""
    minutes = ws[cells["minutes"]].value
    if isinstance(minutes, str):
        try:
            minutes = float(minutes.strip())
        except ValueError:
            minutes = None
    if isinstance(minutes, int | float) and not isinstance(minutes, bool) and minutes >= 0:
        return float(minutes)
    start = _minutes_of_day(ws[cells["start"]].value)
    end = _minutes_of_day(ws[cells["end"]].value)
    if start is None or end is None:
        if ws[cells["start"]].value is not None or ws[cells["end"]].value is not None:
            log.warning("review time cells are incomplete or not times; review time unknown")
        return None
    return round((end - start) % _DAY_MINUTES, 2)


def _read_data_sheet(wb: Workbook, form: dict[str, Any]) -> list[Correction]:
    """Cells a reviewer changed on one data sheet; rows found by 文書ID, columns by header."""
    ws = _sheet(wb, form["sheet"])
    title, hr = ws.title, form["header_row"]
    by_header: dict[str, int] = {}
    for c in range(1, ws.max_column + 1):
        by_header.setdefault(_text(ws.cell(hr, c).value), c)
    for h in ("文書ID", "元ファイル", "ページ", *(f["header"] for f in form["fields"])):
        if h not in by_header:
            raise _edited(title, hr, h, "column is missing or its header was renamed")
    id_col = by_header["文書ID"]
    known = {m["doc_id"]: m for m in form["rows"]}
    row_of: dict[str, int] = {}
    for r in range(hr + 1, ws.max_row + 1):
        doc_id = _text(ws.cell(r, id_col).value)
        if not doc_id:
            if any(_text(ws.cell(r, c).value) for c in range(1, ws.max_column + 1)):
                raise _edited(title, r, "文書ID", "row has no document id")
            continue
        if doc_id not in known or doc_id in row_of:
            raise _edited(title, r, "文書ID", "unknown or repeated document id")
        row_of[doc_id] = r
    out: list[Correction] = []
    for m in form["rows"]:
        r = row_of.get(m["doc_id"])
        if r is None:
            raise _edited(title, m["row"], "文書ID", "the row of a document was deleted")
        # a sort of one column alone scrambles rows: the scan name and page would not match
        for h, key in (("元ファイル", "source_file"), ("ページ", "page")):
            if _text(ws.cell(r, by_header[h]).value) != clean_text(m[key]).strip():
                raise _edited(title, r, h, "identity cell was changed (rows sorted apart?)")
        blind = set(m.get("blind", ()))
        for f, before in zip(form["fields"], m["values"], strict=True):
            written = cell_to_value(f["type"], value_to_cell(f["type"], before)[0])
            cell = ws.cell(r, by_header[f["header"]]).value
            if f["name"] in blind and _text(cell) == VERIFY_PLACEHOLDER:
                continue  # a double-entry value, hidden until the import
            now = cell_to_value(f["type"], cell)
            if now != written:
                out.append(Correction(m["doc_id"], f["name"], before, now, "data_sheet", r,
                                      title, form["form_id"]))
    return out


@dataclass(frozen=True, slots=True)
class WrittenRecord:
    """One document as the signed meta says it was written, i.e. before any review.

    Importing corrections needs every value of every document, not only the changed ones,
    to write the confirmed outputs; the meta holds them, and its signature vouches for them.
    ``values`` maps field name to normalised value (the OCR value); ``sheet``/``row`` are
    where the document was written on its data sheet; ``flagged`` names its fields that have
    a row on 確認シート.
    """

    doc_id: str
    form_id: str
    source_file: str
    page: str
    sheet: str
    row: int
    values: dict[str, str]
    flagged: frozenset[str] = frozenset()


def _written_records(payload: dict[str, Any]) -> dict[str, WrittenRecord]:
    flagged: dict[str, set[str]] = {}
    for m in payload["review"]["rows"]:
        flagged.setdefault(m["doc_id"], set()).add(m["field"])
    out: dict[str, WrittenRecord] = {}
    for form in payload["forms"]:
        names = [f["name"] for f in form["fields"]]
        for m in form["rows"]:
            out[m["doc_id"]] = WrittenRecord(
                m["doc_id"], form["form_id"], m["source_file"], m["page"], form["sheet"],
                m["row"], dict(zip(names, m["values"], strict=True)),
                frozenset(flagged.get(m["doc_id"], ())))
    return out


def read_workbook(path: Path, *, secret_for: Callable[[str], bytes | None]) -> ReviewedWorkbook:
    """Read a reviewed workbook: verify it, check locked cells, return what the reviewer did.

    ``secret_for(run_id)`` returns the secret the run signed its workbook with, or None for
    a run this installation does not know. Raises :class:`ForeignWorkbookError` for a
    workbook of another run or not ours at all, :class:`WorkbookEditedError` when a cell
    that must keep its value changed, or one field was corrected differently in two places.
    Corrected values are returned in normalised string form but are NOT validated.
    """
    return read_workbook_records(path, secret_for=secret_for)[0]


def read_workbook_records(
    path: Path, *, secret_for: Callable[[str], bytes | None]
) -> tuple[ReviewedWorkbook, dict[str, WrittenRecord]]:
    """:func:`read_workbook`, plus every document as written (by doc id, in sheet order).

    One pass over one file: the records come from the same verified meta as the
    corrections, so they cannot belong to another version of the workbook.
    """
    path = Path(path)
    wb = _open(path)
    try:
        payload = _verified_payload(wb, secret_for)
        out = ReviewedWorkbook(run_id=payload["run_id"], scenario=payload["scenario"])
        on_review = _read_review(wb, payload["review"], out)
        on_data: list[Correction] = []
        for form in payload["forms"]:
            on_data.extend(_read_data_sheet(wb, form))
    finally:
        wb.close()
    for c in on_data:
        other = on_review.get((c.doc_id, c.field))
        if other is None:
            continue
        if other.after != c.after:
            raise _edited(
                c.sheet, c.row, c.field, f"corrected differently on {other.sheet} row {other.row}",
                reason_ja=f"同じ項目が「{other.sheet}」{other.row}行目と「{c.sheet}」{c.row}行目"
                "で異なる値に修正されています。どちらか一方だけにしてください。",
            )
    out.corrections = [*on_review.values(),
                       *(c for c in on_data if (c.doc_id, c.field) not in on_review)]
    log.info("read review workbook %s (run %s): %d corrections, %d confirmed, %d notes",
             path.name, out.run_id, len(out.corrections), len(out.confirmed), len(out.notes))
    return out, _written_records(payload)


def verify_keyed(reviewed: ReviewedWorkbook, written: dict[str, WrittenRecord],
                 templates: dict[str, Any], today: dt.date) -> list[tuple[str, int, str, str]]:
    """Double entry (ベリファイ): compare each keyed value with the OCR value.

    Equal (after the same normalisation) → the field is confirmed: two independent readings,
    machine and human, agree. Different → neither is taken: the row goes back to review
    (returned as sheet, row, column, message, and the import is refused) unless the reviewer
    has already decided it in 修正後の値, which then stands as the correction. A reviewer's
    typo must not overwrite a right OCR value, nor an OCR error pass because it was keyed.
    """
    from ocr.validators import validate_value

    out = []
    for (doc_id, name), (keyed, row, decided) in sorted(reviewed.keyed.items()):
        rec = written[doc_id]
        spec = templates[rec.form_id].by_name[name]
        if validate_value(spec, keyed, today=today).value == rec.values.get(name, "") or decided:
            reviewed.confirmed.add((doc_id, name))  # decided: 修正後の値 holds the answer
        else:
            out.append((REVIEW_SHEET, row, spec.column, VERIFY_MISMATCH))
    return out


def unconfirmed_proposals(reviewed: ReviewedWorkbook, looked_at: set[tuple[str, str]]
                          ) -> list[tuple[str, int, str, str]]:
    """Proposals neither marked 済 nor typed over: (sheet, row, column, message) each.

    A flagged *reading* left alone is kept as read; a *proposal* is not a reading: the
    machine derived it, so it becomes data only when a person confirmed it. The import is
    refused, naming the rows, until every proposal is confirmed or replaced.
    """
    return [(REVIEW_SHEET, row, label, PROPOSAL_UNCONFIRMED)
            for key, (row, label) in sorted(reviewed.proposed.items(), key=lambda kv: kv[1])
            if key not in looked_at]
