"""Intake: scanned applications in, data workbook, correction sheet and CSV out.

Any form whose template the library holds can be dropped into ``inbox/intake/``; several
forms may be mixed, and a multi-page PDF may hold several applications (one per page, or
one per page group when the template says ``pages_per_document``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ocr.engines import engine_classes
from ocr.errors import InputError
from ocr.fields import MarkThresholds, ReadOptions
from ocr.pipeline import PipelineOptions, Reader
from ocr.results import DocumentResult
from ocr.templates import FormTemplate, TemplateLibrary
from robots.config import Config
from robots.errors import ConfigError
from robots.excel import write_workbook
from robots.outputs import write_form_csvs
from robots.records import DocumentRecord
from robots.scenario import ItemResult, Outcome, RunContext, Scenario, WorkItem, forms_dirs

__all__ = ["Intake", "IntakeSettings", "build_records", "scenario"]

log = logging.getLogger(__name__)


class IntakeSettings(BaseModel):
    """``[scenarios.intake]`` in config.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    forms: tuple[str, ...] = ()  # accept only these form ids (empty: every known form)
    workbook_name: str = "申請データ"


def reader_for(ctx: RunContext) -> Reader:
    """An OCR reader configured from ``[ocr]``; built once per worker process."""
    ocr = ctx.config.ocr
    options = PipelineOptions(
        engines=ocr.engines, tesseract_model=ocr.tesseract_model,
        read=ReadOptions(min_confidence=dict(ocr.min_confidence),
                         marks=MarkThresholds(on=ocr.mark_on, off=ocr.mark_off),
                         denoise=ocr.denoise, today=ctx.today))
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


class Intake(Scenario):
    """The main job: read every scan in the inbox into data for the core systems."""

    name = "intake"
    title_ja = "申請書の受付（AI-OCR読取）"
    settings_model = IntakeSettings

    def __init__(self) -> None:
        self._reader: Reader | None = None

    def settings(self, config: Config) -> BaseModel:
        """``[scenarios.intake]``, the OCR engines and the form ids, checked before any work.

        An unknown engine or form id would otherwise surface only once files are claimed
        (engines start in the workers; a wrong id in ``forms`` rejects every page).
        Loading the library here also stops a malformed template before any file moves.
        """
        settings: IntakeSettings = super().settings(config)  # type: ignore[assignment]
        known = engine_classes()
        problems = [f"ocr.engines: unknown OCR engine {n!r}; known engines: "
                    f"{', '.join(sorted(known))}" for n in config.ocr.engines if n not in known]
        problems += [f"ocr.engines: OCR engine {n!r} is not installed here; run `make setup`"
                     for n in config.ocr.engines if n in known and not known[n].is_available()]
        library = TemplateLibrary.from_dirs(forms_dirs(config))
        problems += [f"scenarios.intake.forms: unknown form {f!r}; known forms: "
                     f"{', '.join(library.ids)}" for f in settings.forms if f not in library]
        if problems:
            raise ConfigError(config.source or "config.toml", problems)
        return settings

    def worker_init(self, ctx: RunContext) -> None:
        self._reader = reader_for(ctx)

    def process(self, item: WorkItem, ctx: RunContext) -> ItemResult:
        if self._reader is None:
            self._reader = reader_for(ctx)
        try:
            doc = self._reader.read_file(item.path)
        except InputError as exc:
            return ItemResult(item, Outcome.REJECTED, reason_code=type(exc).__name__,
                              reason_ja=exc.reason_ja, detail=str(exc).replace(str(item.path),
                                                                               item.name))
        settings: IntakeSettings = ctx.settings
        records, problems = build_records(doc, item, ctx, self._reader.library, settings.forms)
        timings = {"pages": float(len(doc.pages))}
        if problems:
            # One bad page quarantines the whole file, so that a rescan dropped later is not
            # entered twice for the pages that did read.
            return ItemResult(item, Outcome.REJECTED, pages=len(doc.pages),
                              reason_code="page_not_recognised",
                              reason_ja="／".join(problems),
                              detail=f"{len(problems)} page(s) not recognised", timings_ms=timings)
        if not records:
            return ItemResult(item, Outcome.REJECTED, pages=len(doc.pages), reason_code="empty",
                              reason_ja="読み取る様式のページがありませんでした。")
        outcome = Outcome.NEEDS_REVIEW if any(r.needs_review for r in records) else Outcome.OK
        return ItemResult(item, outcome, records, pages=len(doc.pages), timings_ms=timings)

    def finish(self, results: Sequence[ItemResult], ctx: RunContext, out_dir: Path
               ) -> list[Path]:
        settings: IntakeSettings = ctx.settings
        library = TemplateLibrary.from_dirs(ctx.forms_dirs)
        records = [d for r in results for d in r.documents]
        templates = {r.form_id: library.get(r.form_id) for r in records}
        workbook = out_dir / f"{settings.workbook_name}_{ctx.run_id}.xlsx"
        write_workbook(workbook, run_id=ctx.run_id, scenario=self.name, templates=templates,
                       records=records, secret=ctx.secret, created=datetime.now())
        csvs = write_form_csvs(out_dir, templates, records, ctx.config.csv)
        return [workbook, *csvs]


scenario = Intake()
