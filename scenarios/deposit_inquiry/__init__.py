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
from typing import Any

from ocr.errors import OcrError
from ocr.render import find_font
from robots.config import Config
from robots.kit.tables import Layout
from robots.kit.tabular import SourceError, TableOrScanScenario
from robots.scenario import ItemResult, RunContext, WorkItem
from scenarios.deposit_inquiry.datafiles import DATA_FORM, read_reply_file
from scenarios.deposit_inquiry.evaluation import DATA_INPUTS, WORK
from scenarios.deposit_inquiry.finish import finish_run
from scenarios.deposit_inquiry.settings import (
    DepositInquirySettings,
    layouts_for,
    load_ledger,
    upload_layout,
)

__all__ = ["DATA_FORM", "DepositInquiry", "DepositInquirySettings", "scenario"]

log = logging.getLogger(__name__)


class DepositInquiry(TableOrScanScenario):
    """Reconcile deposit-inquiry replies (data files and paper) with the inquiry ledger."""

    name = "deposit_inquiry"
    title_ja = "預貯金等照会の回答照合"
    settings_model = DepositInquirySettings
    finish_without_items = True  # overdue inquiries change with the date, not with the inbox
    data_inputs = DATA_INPUTS
    work = WORK
    unsupported_ja = ("この業務で扱うファイルではありません。回答データ（CSV・Excel）か、"
                      "回答書のスキャン（PDF・TIFF・PNG・JPEG）を入れてください。")

    def layouts(self, config: Config, settings: Any) -> tuple[Layout, ...]:
        return layouts_for(config, settings)

    def check_sources(self, config: Config, settings: Any) -> list[str]:
        """The ledger, and the upload layout and the letters' font when inquiries are sent.

        The ledger must exist, be readable in a known layout and hold inquiries.
        """
        problems = []
        try:
            load_ledger(config, settings)
            if settings.send.enabled:
                upload_layout(config, settings)
        except SourceError as exc:
            problems.append(exc.problem)
        if settings.send.enabled:
            try:
                find_font("mincho")
            except OcrError as exc:
                problems.append(f"scenarios.deposit_inquiry.send: {exc}")
        return problems

    def read_data(self, item: WorkItem, ctx: RunContext, layouts: tuple[Layout, ...]
                  ) -> ItemResult:
        return read_reply_file(item, ctx, layouts)

    def finish(self, results: Sequence[ItemResult], ctx: RunContext, out_dir: Path
               ) -> list[Path]:
        return finish_run(results, ctx, out_dir)

    def generate_samples(self, out_dir: Path, *, count: int, seed: int,
                         today: date | None = None) -> list[Path]:
        from scenarios.deposit_inquiry.samples import SAMPLE_TODAY
        from scenarios.deposit_inquiry.samples_write import write_sample_set

        return write_sample_set(out_dir, count=count, seed=seed, today=today or SAMPLE_TODAY)


scenario = DepositInquiry()
