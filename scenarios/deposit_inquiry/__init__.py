"""Deposit-inquiry reconciliation (預貯金等照会): match bank replies to the inquiries sent.

The town asks banks whether a person holds accounts (for tax collection and welfare). The
inquiries are in the town's ledger export (named in the configuration); the replies come in
as data files from the online inquiry service, one layout per source (``mappings/``), and
as scanned paper reply forms (``forms/deposit_reply.toml``), read by the same OCR step and
correction sheet as intake. Each run stores the replies it received (``store``) and
reconciles the ledger against *every* reply received so far (``matching``), then writes the
reconciliation workbook and the reminder list of overdue inquiries (``finish``).

Statuses — inquiries: 回答済・口座あり, 回答済・該当なし, 未回答（期限内）, 未回答（期限超過）,
要確認; replies: 照合済, 要確認, 照会なし, 重複 (see :mod:`scenarios.deposit_inquiry.matching`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pydantic import BaseModel

from ocr.pipeline import Reader
from robots.config import Config
from robots.errors import ConfigError
from robots.reading import check_ocr_config, read_scan, reader_for
from robots.scenario import ItemResult, Outcome, RunContext, Scenario, WorkItem
from scenarios.deposit_inquiry.datafiles import DATA_FORM, read_reply_file
from scenarios.deposit_inquiry.finish import finish_run
from scenarios.deposit_inquiry.mapping import DATA_SUFFIXES, MappingError
from scenarios.deposit_inquiry.settings import (
    DepositInquirySettings,
    LedgerError,
    layouts_for,
    load_ledger,
)

__all__ = ["DATA_FORM", "DepositInquiry", "DepositInquirySettings", "scenario"]

log = logging.getLogger(__name__)

SCAN_SUFFIXES = (".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg")


class DepositInquiry(Scenario):
    """Reconcile deposit-inquiry replies (data files and paper) with the inquiry ledger."""

    name = "deposit_inquiry"
    title_ja = "預貯金等照会の回答照合"
    settings_model = DepositInquirySettings
    finish_without_items = True  # overdue inquiries change with the date, not with the inbox

    def __init__(self) -> None:
        self._reader: Reader | None = None

    def settings(self, config: Config) -> BaseModel:
        """The section, the mappings, the ledger and the OCR set-up, checked before any work."""
        settings: DepositInquirySettings = super().settings(config)  # type: ignore[assignment]
        problems: list[str] = []
        try:
            layouts_for(config, settings)
            load_ledger(config, settings)
        except MappingError as exc:
            problems += [f"scenarios.deposit_inquiry.mappings_dirs: {exc.path}: {p}"
                         for p in exc.problems]
        except LedgerError as exc:
            problems.append(exc.problem)
        problems += [p if p.startswith("ocr.") else f"scenarios.deposit_inquiry.forms: {p}"
                     for p in check_ocr_config(config, settings.forms)]
        if problems:
            raise ConfigError(config.source or "config.toml", problems)
        return settings

    def process(self, item: WorkItem, ctx: RunContext) -> ItemResult:
        settings: DepositInquirySettings = ctx.settings
        suffix = item.path.suffix.lower()
        if suffix in DATA_SUFFIXES:
            return read_reply_file(item, ctx, layouts_for(ctx.config, settings))
        if suffix in SCAN_SUFFIXES:
            if self._reader is None:  # OCR engines load only when a paper reply comes in
                self._reader = reader_for(ctx)
            return read_scan(self._reader, item, ctx, settings.forms)
        return ItemResult(
            item, Outcome.REJECTED, reason_code="unsupported_file",
            reason_ja=("この業務で扱うファイルではありません。回答データ（CSV・Excel）か、"
                       "回答書のスキャン（PDF・TIFF・PNG・JPEG）を入れてください。"),
            detail=f"unsupported file type {suffix or '(none)'}")

    def finish(self, results: Sequence[ItemResult], ctx: RunContext, out_dir: Path
               ) -> list[Path]:
        return finish_run(results, ctx, out_dir)

    def generate_samples(self, out_dir: Path, *, count: int, seed: int,
                         today: date | None = None) -> list[Path]:
        from scenarios.deposit_inquiry.samples import SAMPLE_TODAY
        from scenarios.deposit_inquiry.samples_write import write_sample_set

        return write_sample_set(out_dir, count=count, seed=seed, today=today or SAMPLE_TODAY)


scenario = DepositInquiry()
