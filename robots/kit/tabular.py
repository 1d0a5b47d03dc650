"""The base of scenarios that take the same information as data files *and* as paper scans.

Deposit-inquiry replies come as the online service's CSV and as a bank's paper reply form;
bid-qualification applications as the application service's CSV and as the paper form. Such
a scenario differs from its twins only in its schemas, rules and sheets; what it shares is
here:

- :class:`TableOrScanScenario` — ``process`` sends a data file to the scenario's
  :meth:`~TableOrScanScenario.read_data`, a scan to the shared OCR step
  (:mod:`robots.kit.scans`, the OCR engines loaded on the first scan only), and refuses
  anything else with the scenario's Japanese reason; ``settings`` checks the mapping files,
  the scenario's configured sources and the OCR set-up before any file moves;
- :func:`read_data_table` — a data file recognised by one of the scenario's layouts, or the
  REJECTED result that quarantines it with a reason for the operator;
- :func:`data_result` — the documents of one data file as an item result (per-document
  parse time, outcome);
- :func:`newest_export` — a configured export: the file named, or the newest in its folder
  (from :mod:`robots.kit.tables`, where the resident register reader finds it too).

A third such scenario is a folder with its schemas (:class:`robots.kit.tables.TableSchema`),
its rules and its sheets; see docs/architecture.md for a worked example.
"""

from __future__ import annotations

import logging
import time
import zipfile
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from ocr.pipeline import Reader
from robots.config import Config
from robots.errors import ConfigError
from robots.kit.scans import check_ocr_config, read_scan, reader_for
from robots.kit.tables import (
    DATA_SUFFIXES,
    Layout,
    LayoutNotRecognised,
    MappingError,
    SourceError,
    Table,
    newest_export,
    read_table,
)
from robots.records import DocumentRecord
from robots.scenario import ItemResult, Outcome, RunContext, Scenario, WorkItem

__all__ = ["SCAN_SUFFIXES", "SourceError", "TableOrScanScenario", "data_result",
           "newest_export", "read_data_table"]

log = logging.getLogger(__name__)

SCAN_SUFFIXES = (".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg")
_UNREADABLE_JA = ("ファイルを読み込めませんでした（壊れているか、CSV・Excel形式ではありません）。"
                  "元のデータを確認してください。")


def read_data_table(item: WorkItem, layouts: Sequence[Layout], kinds: Sequence[str], *,
                    what_ja: str) -> Table | ItemResult:
    """The file read with the first layout of ``kinds`` that fits, or its REJECTED result."""
    try:
        return read_table(item.path, layouts, kinds, what_ja=what_ja)
    except LayoutNotRecognised as exc:
        return ItemResult(item, Outcome.REJECTED, reason_code="unknown_layout",
                          reason_ja=exc.reason_ja, detail=str(exc))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        return ItemResult(item, Outcome.REJECTED, reason_code="unreadable",
                          reason_ja=_UNREADABLE_JA, detail=f"{type(exc).__name__}")


def data_result(item: WorkItem, docs: list[DocumentRecord], started: float, detail: str
                ) -> ItemResult:
    """The documents read from one data file, each with its share of the parse time."""
    per_doc = (time.perf_counter() - started) * 1000 / max(1, len(docs))
    for d in docs:
        d.timings_ms["parse"] = per_doc
    outcome = Outcome.NEEDS_REVIEW if any(d.needs_review for d in docs) else Outcome.OK
    return ItemResult(item, outcome, docs, detail=detail)


class TableOrScanScenario(Scenario):
    """A scenario whose inputs are data files of known layouts and scans of paper forms.

    Its settings model has ``forms`` (the paper forms accepted) and ``mappings_dirs``.
    Subclasses give :attr:`unsupported_ja` and implement :meth:`layouts` and
    :meth:`read_data`; :meth:`check_sources` checks what the configuration names besides
    the inbox (a ledger, a register export).
    """

    #: Why a file that is neither data nor a scan is refused, for the operator.
    unsupported_ja: ClassVar[str]

    def __init__(self) -> None:
        self._reader: Reader | None = None

    @abstractmethod
    def layouts(self, config: Config, settings: Any) -> tuple[Layout, ...]:
        """The packaged layouts, then the town's own (raises ``MappingError``)."""

    @abstractmethod
    def read_data(self, item: WorkItem, ctx: RunContext, layouts: tuple[Layout, ...]
                  ) -> ItemResult:
        """One data file of the inbox: each row (or group of rows) a document."""

    def check_sources(self, config: Config, settings: Any) -> list[str]:
        """Problems with the configured sources besides the inbox (none by default)."""
        return []

    def settings(self, config: Config) -> BaseModel:
        """The section, the mappings, the configured sources and the OCR set-up, checked."""
        settings: Any = super().settings(config)
        section = f"scenarios.{self.name}"
        problems: list[str] = []
        try:
            self.layouts(config, settings)
            problems += self.check_sources(config, settings)
        except MappingError as exc:
            problems += [f"{section}.mappings_dirs: {exc.path}: {p}" for p in exc.problems]
        problems += [p if p.startswith(("ocr.", "reference.")) else f"{section}.forms: {p}"
                     for p in check_ocr_config(config, settings.forms)]
        if problems:
            raise ConfigError(config.source or "config.toml", problems)
        return settings  # type: ignore[no-any-return]

    def process(self, item: WorkItem, ctx: RunContext) -> ItemResult:
        suffix = item.path.suffix.lower()
        if suffix in DATA_SUFFIXES:
            return self.read_data(item, ctx, self.layouts(ctx.config, ctx.settings))
        if suffix in SCAN_SUFFIXES:
            if self._reader is None:  # OCR engines load only when a paper form comes in
                self._reader = reader_for(ctx)
            return read_scan(self._reader, item, ctx, ctx.settings.forms)
        return ItemResult(item, Outcome.REJECTED, reason_code="unsupported_file",
                          reason_ja=self.unsupported_ja,
                          detail=f"unsupported file type {suffix or '(none)'}")
