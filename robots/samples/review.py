"""A simulated reviewer for the demo: fills a review workbook from the samples' truth.

``make demo`` has no clerk, yet the evaluation report is only worth showing with reviewed
fields. The bundled samples come with the generator's truth, so the demo can play the
reviewer: every flagged field whose OCR value is wrong gets the true value in 修正後の値,
every flagged row is marked 済 (a proposal that is the true value written another way —
:func:`robots.samples.judge.judge_proposal` — is confirmed as it stands, as a clerk would),
and a wrong value that was *not* flagged is corrected on the
data sheet (which a real reviewer may never notice: the simulation finds every silent error,
so the demo's silent error rate is an upper bound of what review would catch). No review time
is written, so the report shows its estimate and says how it was made.

The import is recorded as simulated in the run log (``imports.simulated``) and the report
labels every figure that rests on it: it is a demonstration, never evidence for the decision.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from ocr.templates import TemplateLibrary
from robots.config import Config, forms_dirs
from robots.db.runlog import RunLog
from robots.samples.judge import judge_proposal
from robots.sheets import REVIEW_SHEET
from robots.sheets.common import CLEAR_TOKEN, DONE_MARK, REVIEW_HEADERS, value_to_cell
from robots.sheets.corrections import ImportResult, import_corrections
from robots.sheets.read import WrittenRecord, read_workbook_records
from robots.sheets.review import REVIEW_FIRST_ROW

__all__ = ["SIMULATED_REVIEWER", "SimulatedReview", "simulate_review"]

log = logging.getLogger(__name__)

SIMULATED_REVIEWER = "模擬レビュー（デモ）"
_COL = {h: i for i, h in enumerate(REVIEW_HEADERS, start=1)}


@dataclass
class SimulatedReview:
    """What the simulated reviewer did (no values)."""

    workbook: Path
    corrected_flagged: int = 0
    corrected_silent: int = 0
    documents_without_truth: int = 0
    result: ImportResult | None = None


def _truth(truth_dir: Path, rec: WrittenRecord) -> dict[str, str] | None:
    """The generator's values for a document, from ``<scan stem>.json`` beside the samples."""
    path = truth_dir / Path(rec.source_file).with_suffix(".json").name
    if not path.is_file():
        return None
    payload = json.loads(path.read_text(encoding="utf-8"))
    pages = payload.get("pages", [payload])
    first = int(rec.page.split("-")[0])
    if not 1 <= first <= len(pages) or pages[first - 1].get("form") != rec.form_id:
        return None
    return dict(pages[first - 1]["fields"])


def _review_rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[tuple[str, str], int]:
    rows = {}
    for r in range(REVIEW_FIRST_ROW, ws.max_row + 1):
        doc_id, label = ws.cell(r, _COL["文書ID"]).value, ws.cell(r, _COL["項目"]).value
        if doc_id and label:
            rows[(str(doc_id), str(label))] = r
    return rows


def simulate_review(workbook: Path, cfg: Config, truth_dir: Path) -> SimulatedReview:
    """Fill a copy of ``workbook`` from the truth in ``truth_dir``, import it, mark it simulated."""
    library = TemplateLibrary.from_dirs(forms_dirs(cfg))
    runlog = RunLog(cfg.resolve(cfg.paths.runlog))
    try:
        reviewed, written = read_workbook_records(workbook, secret_for=runlog.secret)
    finally:
        runlog.close()
    out = workbook.with_name(f"{workbook.stem}_模擬レビュー{workbook.suffix}")
    sim = SimulatedReview(out)
    wb = openpyxl.load_workbook(workbook)
    ws = wb[REVIEW_SHEET]
    review_rows = _review_rows(ws)
    for rec in written.values():
        truth = _truth(truth_dir, rec)
        if truth is None:
            sim.documents_without_truth += 1
            continue
        template = library.get(rec.form_id)
        for spec in template.fields:
            true = truth.get(spec.name, "")
            row = review_rows.get((rec.doc_id, spec.column))
            if row is not None:
                ws.cell(row, _COL["確認済"]).value = DONE_MARK
            value = rec.values.get(spec.name, "")
            if value == true or (value and spec.propose and row is not None
                                 and judge_proposal(spec, value, truth)[0] == "right"):
                continue
            if row is not None:
                cell, _ = value_to_cell(spec.type, true, review=True)
                # an empty answer means "keep what was read": a true blank is typed as 空欄
                ws.cell(row, _COL["修正後の値"]).value = CLEAR_TOKEN if cell in (None, "") else cell
                sim.corrected_flagged += 1
            else:
                data = wb[rec.sheet]
                col = next(c for c in range(1, data.max_column + 1)
                           if data.cell(1, c).value == spec.column)
                data.cell(rec.row, col).value = value_to_cell(spec.type, true)[0]
                sim.corrected_silent += 1
    wb.save(out)
    wb.close()
    sim.result = import_corrections(out, cfg, who=SIMULATED_REVIEWER)
    if sim.result.import_id is not None:
        runlog = RunLog(cfg.resolve(cfg.paths.runlog))
        try:
            runlog.mark_simulated(sim.result.import_id)
        finally:
            runlog.close()
    log.info("simulated review of %s (run %s): %d flagged and %d silent error(s) corrected",
             workbook.name, reviewed.run_id, sim.corrected_flagged, sim.corrected_silent)
    return sim
