"""Reading scans into document records: the OCR step every scan-based scenario shares.

Intake, paper deposit-inquiry replies and paper bid applications all go the same way: a
claimed file is read page by page, pages are grouped into documents as their template says,
and a file with any page that could not be read is quarantined whole (so that a rescan
dropped later is not entered twice for the pages that did read). Scenarios call this; they
do not re-implement it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ocr.calibration import Calibration, CalibrationError, load_calibration
from ocr.engines import engine_classes
from ocr.errors import InputError
from ocr.fields import MarkThresholds, ReadOptions
from ocr.pipeline import PipelineOptions, Reader
from ocr.results import DocumentResult
from ocr.templates import FormTemplate, TemplateLibrary
from robots.config import Config, forms_dirs
from robots.kit.residents import (
    any_resident_proposals,
    check_reference,
    load_register,
    propose_residents,
)
from robots.records import DocumentRecord
from robots.scenario import ItemResult, Outcome, RunContext, WorkItem
from robots.sheets import write_workbook
from robots.sheets.outputs import write_form_csvs

__all__ = ["apply_register", "build_records", "calibration_for", "check_ocr_config",
           "read_scan", "reader_for", "write_scan_outputs"]

log = logging.getLogger(__name__)


def check_ocr_config(config: Config, forms: Sequence[str] = ()) -> list[str]:
    """Problems with ``[ocr]`` and a list of form ids, found before any file is claimed.

    An unknown engine would otherwise surface only in the workers (every file quarantined),
    a wrong form id would reject every page, and a malformed template must stop the run
    before any file moves.
    """
    known = engine_classes()
    try:
        cal = calibration_for(config)
    except CalibrationError as exc:
        return [f"ocr.calibration: {exc}"]
    if config.ocr.mark_on is not None and config.ocr.mark_off is None and \
            not cal.box_marks.off < config.ocr.mark_on:
        return ["ocr.mark_on: must be above the calibrated mark_off "
                f"({cal.box_marks.off}); set mark_off too"]
    problems = [f"ocr.engines: unknown OCR engine {n!r}; known engines: "
                f"{', '.join(sorted(known))}" for n in config.ocr.engines if n not in known]
    problems += [f"ocr.engines: OCR engine {n!r} is not installed here; run `make setup`"
                 for n in config.ocr.engines if n in known and not known[n].is_available()]
    library = TemplateLibrary.from_dirs(forms_dirs(config))
    problems += [f"unknown form {f!r}; known forms: {', '.join(library.ids)}"
                 for f in forms if f not in library]
    problems += check_reference(config)
    hand = sorted(t.id for t in library if any(f.hand_digits for f in t.fields))
    if hand and not known["digits"].is_available():
        problems.append(f"ocr.engines: forms {', '.join(hand)} have handwritten digits but the "
                        "digit model (ocr/models/digits.onnx) or onnxruntime is missing")
    return problems


def calibration_for(config: Config) -> Calibration:
    """The flag thresholds: ``[ocr] calibration`` if set, else the calibrated file shipped."""
    path = config.ocr.calibration
    return load_calibration(config.resolve(path) if path is not None else None)


def reader_for(ctx: RunContext) -> Reader:
    """An OCR reader configured from ``[ocr]``; built once per worker process."""
    ocr = ctx.config.ocr
    cal = calibration_for(ctx.config)
    marks = MarkThresholds(on=ocr.mark_on if ocr.mark_on is not None else cal.box_marks.on,
                           off=ocr.mark_off if ocr.mark_off is not None else cal.box_marks.off)
    options = PipelineOptions(
        engines=ocr.engines, tesseract_model=ocr.tesseract_model,
        max_pixels=round(ctx.config.inbox.max_megapixels_per_page * 1e6),
        max_pages=ctx.config.inbox.max_pages_per_file,
        read=ReadOptions(min_confidence=dict(ocr.min_confidence), marks=marks,
                         denoise=ocr.denoise, today=ctx.today, calibration=cal,
                         double_entry=frozenset(ocr.double_entry)))
    return Reader(TemplateLibrary.from_dirs(ctx.forms_dirs), options)


def build_records(doc: DocumentResult, item: WorkItem, ctx: RunContext,
                  library: TemplateLibrary, allowed: Sequence[str] = ()
                  ) -> tuple[list[DocumentRecord], list[str]]:
    """Group read pages into applications; returns (records, problems in Japanese)."""
    records: list[DocumentRecord] = []
    problems: list[str] = []
    pages = list(doc.pages)
    i = 0
    while i < len(pages):
        p = pages[i]
        if p.error or p.form is None:
            problems.append(f"{p.page}ページ目: {p.error_ja or '様式を判別できません'}")
            i += 1
            continue
        if allowed and p.form not in allowed:
            problems.append(f"{p.page}ページ目: この業務では扱わない様式です（{p.form}）")
            i += 1
            continue
        template: FormTemplate = library.get(p.form)
        n = template.form.pages_per_document
        group = pages[i:i + n]
        last = group[-1].page
        records.append(DocumentRecord(
            doc_id=f"{ctx.run_id}-{item.seq:03d}-{len(records) + 1:02d}",
            form_id=p.form, source_file=item.name,
            page=str(p.page) if n == 1 else f"{p.page}-{last}",
            fields=p.fields, registration_score=p.registration_score,
            timings_ms=dict(p.timings_ms)))
        if len(group) < n:
            problems.append(f"{p.page}ページ目から: {n}ページ組の様式ですがページが足りません")
        i += n
    return records, problems


def read_scan(reader: Reader, item: WorkItem, ctx: RunContext,
              allowed: Sequence[str] = ()) -> ItemResult:
    """Read one claimed file into records, or say in Japanese why it is quarantined."""
    try:
        doc = reader.read_file(item.path)
    except InputError as exc:
        return ItemResult(item, Outcome.REJECTED, reason_code=type(exc).__name__,
                          reason_ja=exc.reason_ja,
                          detail=str(exc).replace(str(item.path), item.name)
                          .replace(item.path.name, item.name))
    records, problems = build_records(doc, item, ctx, reader.library, allowed)
    timings = {"pages": float(len(doc.pages))}
    if problems:
        return ItemResult(item, Outcome.REJECTED, pages=len(doc.pages),
                          reason_code="page_not_recognised", reason_ja="／".join(problems),
                          detail=f"{len(problems)} page(s) not recognised", timings_ms=timings)
    if not records:
        return ItemResult(item, Outcome.REJECTED, pages=len(doc.pages), reason_code="empty",
                          reason_ja="読み取る様式のページがありませんでした。")
    outcome = Outcome.NEEDS_REVIEW if any(r.needs_review for r in records) else Outcome.OK
    return ItemResult(item, outcome, records, pages=len(doc.pages), timings_ms=timings)


def apply_register(records: Sequence[DocumentRecord], templates: dict[str, FormTemplate],
                   ctx: RunContext) -> list[str]:
    """Resident proposals (:mod:`robots.kit.residents`) on the run's documents, in place.

    Runs in the parent, before the workbook is written and the documents are logged, so
    the register is read once and never travels to a worker. Only when a form of the run
    proposes from residents is the register read; its warnings go to the log and the run
    log (events) and are returned in Japanese for the correction sheet.
    """
    if not any_resident_proposals(templates):
        return []
    loaded = load_register(ctx.config, today=ctx.today)
    for code, english, _ in loaded.warnings:
        log.warning("%s", english)
        ctx.events.append((code, english))
    if loaded.register is not None:
        counts = propose_residents(records, templates, loaded.register)
        for k in ("one", "several", "none"):
            ctx.counts[f"register_documents_{k}"] = counts[k]
    return [ja for _, _, ja in loaded.warnings]


def write_scan_outputs(records: Sequence[DocumentRecord], ctx: RunContext, out_dir: Path, *,
                       workbook_name: str, scenario: str) -> list[Path]:
    """The review workbook (data sheets + 確認シート) and one CSV per form, for ``records``.

    Resident proposals are applied first (:func:`apply_register`): they belong on the sheet
    and in the run log like every other proposal.
    """
    library = TemplateLibrary.from_dirs(ctx.forms_dirs)
    templates: dict[str, FormTemplate] = {r.form_id: library.get(r.form_id) for r in records}
    notes = apply_register(records, templates, ctx)
    workbook = out_dir / f"{workbook_name}_{ctx.run_id}.xlsx"
    write_workbook(workbook, run_id=ctx.run_id, scenario=scenario, templates=templates,
                   records=list(records), secret=ctx.secret, created=datetime.now(),
                   notes=notes)
    return [workbook, *write_form_csvs(out_dir, templates, records, ctx.config.csv)]
