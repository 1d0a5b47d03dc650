"""Double entry (ベリファイ): the reviewer keys a value blind; a mismatch goes back to review.

Real run log, real workbook (as in test_corrections); the reviewer is simulated with openpyxl.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from test_corrections import JUMIN_VALUES, NOW, RUN_ID, Run, col, read_csv

from ocr.fields import ReadOptions
from ocr.reasons import reason
from ocr.results import FieldResult
from ocr.templates import TemplateLibrary, load_template
from robots.config import forms_dirs, load_config
from robots.db.runlog import RunLog
from robots.records import DocumentRecord
from robots.sheets import REVIEW_SHEET, write_workbook
from robots.sheets.common import VERIFY_HEADER, VERIFY_PLACEHOLDER
from robots.sheets.corrections import ImportStatus, import_corrections
from robots.sheets.outputs import write_form_csvs
from robots.sheets.review import REVIEW_FIRST_ROW, REVIEW_HEADER_ROW

JUMIN_CONFIRMED = "住民票の写し等交付請求書_確定.csv"
D1 = f"{RUN_ID}-001-01"
OCR_RECEIPT = "00012345"


def _run(root: Path) -> Run:
    """One juminhyo document whose receipt number (digits) is keyed blind."""
    root.mkdir(parents=True, exist_ok=True)
    cfg_path = root / "config.toml"
    cfg_path.write_text('[ocr]\ndouble_entry = ["digits"]\n[csv]\nencoding = "cp932"\n',
                        encoding="utf-8")
    cfg = load_config(cfg_path)
    t = TemplateLibrary.from_dirs(forms_dirs(cfg)).get("juminhyo_request")
    opts = ReadOptions(double_entry=frozenset(cfg.ocr.double_entry))
    fields = []
    for spec in t.fields:
        v = {**JUMIN_VALUES, "receipt_number": OCR_RECEIPT}.get(spec.name, "")
        why = [reason("double_entry")] if opts.double_entered(spec) and v else []
        fields.append(FieldResult(spec.name, spec.label, spec.type.value, v, v, 0.97, why))
    records = [DocumentRecord(D1, t.id, "scan_0001.pdf", "1", fields)]
    out_dir = cfg.resolve(cfg.paths.out) / "intake" / RUN_ID
    runlog = RunLog(cfg.resolve(cfg.paths.runlog), key=cfg.resolve(cfg.paths.digest_key))
    try:
        secret = runlog.start_run(RUN_ID, "intake", trigger="manual", jobs=1, version="test",
                                  out_dir=out_dir)
        out_dir.mkdir(parents=True)
        workbook = out_dir / f"申請データ_{RUN_ID}.xlsx"
        write_workbook(workbook, run_id=RUN_ID, scenario="intake", templates={t.id: t},
                       records=records, secret=secret, created=dt.datetime(2026, 11, 26, 9, 30))
        write_form_csvs(out_dir, {t.id: t}, records, cfg.csv)
        with runlog.atomic():
            file_id = runlog.add_file(RUN_ID, source_name="scan_0001.pdf", sha256="a" * 64,
                                      size=1000, pages=1, outcome="processed")
            runlog.add_document(RUN_ID, file_id, doc_id=D1, page="1", form_id=t.id,
                                status="needs_review", registration_score=0.9,
                                reason_code=None, timings={}, fields=fields)
            runlog.finish_run(RUN_ID, status="completed", exit_code=2, summary={})
    finally:
        runlog.close()
    return Run(cfg_path, cfg, out_dir, workbook, cfg.resolve(cfg.paths.runlog), {t.id: t},
               records)


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return _run(tmp_path)


def _row(ws) -> int:
    head = {ws.cell(REVIEW_HEADER_ROW, c).value: c for c in range(1, ws.max_column + 1)}
    for r in range(REVIEW_FIRST_ROW, ws.max_row + 1):
        if ws.cell(r, head["項目"]).value == "受付番号":
            return r
    raise AssertionError("no review row for 受付番号")


def _keyed(run: Run, name: str, keyed: str, answer: str | None = None) -> Path:
    wb = openpyxl.load_workbook(run.workbook)
    ws = wb[REVIEW_SHEET]
    head = {ws.cell(REVIEW_HEADER_ROW, c).value: c for c in range(1, ws.max_column + 1)}
    r = _row(ws)
    ws.cell(r, head[VERIFY_HEADER]).value = keyed
    if answer is not None:
        ws.cell(r, head["修正後の値"]).value = answer
    path = run.out_dir.parent / name
    wb.save(path)
    return path


def test_the_ocr_value_never_shows_in_the_workbook(run: Run) -> None:
    wb = openpyxl.load_workbook(run.workbook)
    ws = wb[REVIEW_SHEET]
    head = {ws.cell(REVIEW_HEADER_ROW, c).value: c for c in range(1, ws.max_column + 1)}
    r = _row(ws)
    row = [ws.cell(r, c).value for c in range(1, ws.max_column + 1)]
    assert OCR_RECEIPT not in [str(v) for v in row]
    assert ws.cell(r, head["読取結果"]).value == VERIFY_PLACEHOLDER
    assert ws.cell(r, head["信頼度"]).value is None
    assert not ws.cell(r, head[VERIFY_HEADER]).protection.locked
    assert not ws.column_dimensions[openpyxl.utils.get_column_letter(head[VERIFY_HEADER])].hidden
    data = wb["住民票の写し等交付請求書"]
    assert data.cell(2, col(data, "受付番号")).value == VERIFY_PLACEHOLDER
    for sheet in wb.worksheets:  # nowhere a person can see it (the signed meta keeps it)
        if sheet.sheet_state == "visible":
            for cells in sheet.iter_rows(values_only=True):
                assert OCR_RECEIPT not in [str(v) for v in cells]


def test_keyed_value_equal_to_ocr_confirms_the_field(run: Run) -> None:
    result = import_corrections(_keyed(run, "v1.xlsx", OCR_RECEIPT), run.cfg, who="A", now=NOW)
    assert result.status is ImportStatus.IMPORTED and result.corrections == 0
    assert result.unreviewed == 1  # the other blind field (通数) was not keyed: kept as read
    assert read_csv(run.out_dir / JUMIN_CONFIRMED)[D1]["受付番号"] == OCR_RECEIPT


def test_a_mismatch_goes_back_to_review_then_the_decision_stands(run: Run) -> None:
    first = import_corrections(_keyed(run, "v1.xlsx", "00012346"), run.cfg, who="A", now=NOW)
    assert first.status is ImportStatus.REJECTED and first.exit_code == 2
    (rej,) = first.rejected
    assert (rej.sheet, rej.label) == (REVIEW_SHEET, "受付番号") and "ベリファイ" in rej.message
    assert not (run.out_dir / JUMIN_CONFIRMED).exists()
    # the reviewer looks at the original again and decides in 修正後の値
    second = import_corrections(_keyed(run, "v2.xlsx", "00012346", answer="00012346"),
                                run.cfg, who="B", now=NOW)
    assert second.status is ImportStatus.IMPORTED and second.corrections == 1
    assert read_csv(run.out_dir / JUMIN_CONFIRMED)[D1]["受付番号"] == "00012346"


def test_double_entry_per_field_in_the_template_overrides_config(tmp_path: Path) -> None:
    src = Path("scenarios/intake/forms/juminhyo_request.toml").read_text(encoding="utf-8")
    src = src.replace('sample = "digits:8"', 'sample = "digits:8"\nreview = "flagged"')
    (tmp_path / "f.toml").write_text(src.replace('blank = "juminhyo_request.png"', ""),
                                     encoding="utf-8")
    t = load_template(tmp_path / "f.toml")
    opts = ReadOptions(double_entry=frozenset({"digits"}))
    assert not opts.double_entered(t.by_name["receipt_number"])
    assert opts.double_entered(t.by_name["copies_inkan"])
    assert not opts.double_entered(t.by_name["cert_inkan"])  # marks are never keyed
