"""Intake: scanned applications in, data workbook, correction sheet and CSV out.

Any form whose template the library holds can be dropped into ``inbox/intake/``; several
forms may be mixed, and a multi-page PDF may hold several applications (one per page, or
one per page group when the template says ``pages_per_document``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ocr.pipeline import Reader
from robots.config import Config
from robots.errors import ConfigError
from robots.kit.scans import check_ocr_config, read_scan, reader_for, write_scan_outputs
from robots.scenario import ItemResult, RunContext, Scenario, WorkItem

__all__ = ["Intake", "IntakeSettings", "scenario"]

log = logging.getLogger(__name__)


class IntakeSettings(BaseModel):
    """``[scenarios.intake]`` in config.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    forms: tuple[str, ...] = ()  # accept only these form ids (empty: every known form)
    workbook_name: str = "申請データ"


class Intake(Scenario):
    """The main job: read every scan in the inbox into data for the core systems."""

    name = "intake"
    title_ja = "申請書の受付（AI-OCR読取）"
    settings_model = IntakeSettings

    def __init__(self) -> None:
        self._reader: Reader | None = None

    def settings(self, config: Config) -> BaseModel:
        """``[scenarios.intake]``, the OCR engines and the form ids, checked before any work."""
        settings: IntakeSettings = super().settings(config)  # type: ignore[assignment]
        problems = check_ocr_config(config, settings.forms)
        if problems:
            raise ConfigError(config.source or "config.toml",
                              [p if p.startswith(("ocr.", "reference."))
                               else f"scenarios.intake.forms: {p}" for p in problems])
        return settings

    def worker_init(self, ctx: RunContext) -> None:
        self._reader = reader_for(ctx)

    def process(self, item: WorkItem, ctx: RunContext) -> ItemResult:
        if self._reader is None:
            self._reader = reader_for(ctx)
        settings: IntakeSettings = ctx.settings
        return read_scan(self._reader, item, ctx, settings.forms)

    def finish(self, results: Sequence[ItemResult], ctx: RunContext, out_dir: Path
               ) -> list[Path]:
        settings: IntakeSettings = ctx.settings
        records = [d for r in results for d in r.documents]
        return write_scan_outputs(records, ctx, out_dir, workbook_name=settings.workbook_name,
                                  scenario=self.name)


scenario = Intake()
