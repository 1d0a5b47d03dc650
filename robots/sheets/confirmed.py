"""The confirmed outputs of an import: ``<form_id>_確定.csv`` and ``確定データ_<run_id>.xlsx``.

What the core systems receive after review: the data sheets of the review workbook with the
final values, without 確認シート and signed meta (data, not a second review workbook: only
the review workbook holds the OCR values corrections are measured against), and one CSV per
form. Every file is staged privately beside its target and renamed into place.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook

from ocr.results import FieldResult
from ocr.templates import FormTemplate
from robots.config import CsvConfig
from robots.records import DocumentRecord
from robots.sheets.common import META_SHEET, REVIEW_SHEET, neutralise_formulas
from robots.sheets.outputs import ENCODING_REPORT, write_form_csvs
from robots.sheets.read import WrittenRecord
from robots.sheets.write import write_workbook

__all__ = ["CONFIRMED_SUFFIX", "confirmed_workbook_name", "write_confirmed_outputs"]

CONFIRMED_SUFFIX = "_確定"
_STATUS_COLUMN = 4  # 状態, after 文書ID, 元ファイル, ページ (common.DATA_ID_HEADERS)
_REPORT = f"{Path(ENCODING_REPORT).stem}{CONFIRMED_SUFFIX}.csv"


def confirmed_workbook_name(run_id: str) -> str:
    """File name of a run's confirmed data workbook."""
    return f"確定データ_{run_id}.xlsx"


def _write_confirmed_workbook(path: Path, *, run_id: str, scenario: str,
                              templates: dict[str, FormTemplate],
                              records: list[DocumentRecord]) -> None:
    """The final values in the data-sheet layout staff know; no 確認シート, no signed meta."""
    write_workbook(path, run_id=run_id, scenario=scenario, templates=templates,
                   records=records, secret=secrets.token_bytes(32), created=datetime.now())
    wb = load_workbook(path)
    try:
        del wb[REVIEW_SHEET], wb[META_SHEET]
        wb.active = 0
        wb.properties.title = f"確定データ {scenario} {run_id}"
        for ws in wb.worksheets:
            for r in range(2, ws.max_row + 1):
                ws.cell(r, _STATUS_COLUMN).value = "確定"
        neutralise_formulas(wb)  # loading made cells again; a reviewer's "=..." stays text
        wb.save(path)
    finally:
        wb.close()
    path.chmod(0o600)
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def write_confirmed_outputs(out_dir: Path, *, run_id: str, scenario: str,
                   templates: dict[str, FormTemplate], written: dict[str, WrittenRecord],
                   final: dict[str, dict[str, str]], csv_cfg: CsvConfig) -> list[Path]:
    """Stage every output privately beside its target, then rename each (atomic) in place."""
    bare = [DocumentRecord(r.doc_id, r.form_id, r.source_file, r.page) for r in written.values()]
    full = [DocumentRecord(r.doc_id, r.form_id, r.source_file, r.page, [
        FieldResult(name=s.name, label=s.label, type=s.type.value, raw=final[r.doc_id][s.name],
                    value=final[r.doc_id][s.name], confidence=1.0)
        for s in templates[r.form_id].fields]) for r in written.values()]
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=".confirm-"))
    try:
        staged = write_form_csvs(staging, templates, bare, csv_cfg, suffix=CONFIRMED_SUFFIX,
                                 values=final)
        if written:
            staged.append(staging / confirmed_workbook_name(run_id))
            _write_confirmed_workbook(staged[-1], run_id=run_id, scenario=scenario,
                                      templates=templates, records=full)
        files = [p.replace(out_dir / (_REPORT if p.name == ENCODING_REPORT else p.name))
                 for p in staged]
        if out_dir / _REPORT not in files:  # all values encode now: an old report would mislead
            (out_dir / _REPORT).unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return files
