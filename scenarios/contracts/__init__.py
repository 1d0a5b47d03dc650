"""Contract administration (契約事務): bid-qualification applications in, contracts checked.

Part 1 — applications for bid qualification (入札参加資格審査申請) arrive in
``inbox/contracts/`` as CSV exports of the online application service (``mappings/``) and as
scans of the paper form (``forms/bid_qualification.toml``, read by the same OCR step and
correction sheet as intake). Accepted applications update the qualified-vendor list kept in
the scenario's state; each run writes the list (資格者名簿), its changes (新規・変更・失効),
the applications to review, and the import CSV of the contract management system.

Part 2 — the contract register exported by that system (named in the configuration, or
dropped in the inbox) is checked, contract by contract, against the list valid on each
contract's date, the suspension list (指名停止) and the rules (``rules.py``): qualification,
suspension, corporate number and name, duplicate numbers, dates, negotiated-contract limits
in force on the contract date (``limits.py``), possible split orders, bid ratio.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pydantic import BaseModel

from ocr.pipeline import Reader
from robots.config import Config
from robots.errors import ConfigError, ScenarioError
from robots.reading import check_ocr_config, read_scan, reader_for
from robots.scenario import ItemResult, Outcome, RunContext, Scenario, WorkItem
from robots.tables import DATA_SUFFIXES, LayoutNotRecognised, MappingError, read_table
from scenarios.contracts.datafiles import APPLICATION_FORM, read_data_file
from scenarios.contracts.settings import (
    ContractsSettings,
    SourceError,
    layouts_for,
    newest_export,
)

__all__ = ["APPLICATION_FORM", "Contracts", "ContractsSettings", "scenario"]

log = logging.getLogger(__name__)

SCAN_SUFFIXES = (".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg")
_SOURCES = (("contract_register", "register", "契約台帳"),
            ("suspensions", "suspensions", "指名停止一覧"),
            ("previous_list", "vendor_list", "資格者名簿"))


def _check_sources(config: Config, settings: ContractsSettings) -> list[str]:
    """Configured exports that are missing, or whose columns no layout knows."""
    problems = []
    layouts = layouts_for(config, settings)
    if not any(lay.id == settings.export_layout and lay.kind == "vendor_list"
               for lay in layouts):
        problems.append(f"scenarios.contracts.export_layout: no vendor_list layout "
                        f"{settings.export_layout!r} in the mappings")
    for key, kind, what in _SOURCES:
        path = getattr(settings, key)
        if path is None:
            continue
        try:
            read_table(newest_export(config, key, path), layouts, (kind,), what_ja=what)
        except SourceError as exc:
            problems.append(exc.problem)
        except LayoutNotRecognised as exc:
            problems.append(f"scenarios.contracts.{key}: {exc}")
        except (OSError, ValueError) as exc:
            problems.append(f"scenarios.contracts.{key}: cannot read: {type(exc).__name__}")
    return problems


class Contracts(Scenario):
    """Bid-qualification applications → qualified-vendor list; contract registrations checked."""

    name = "contracts"
    title_ja = "契約事務（入札参加資格・契約チェック）"
    settings_model = ContractsSettings
    finish_without_items = True  # qualifications lapse with the date; the register is re-exported

    def __init__(self) -> None:
        self._reader: Reader | None = None

    def settings(self, config: Config) -> BaseModel:
        """The section, the mappings, the configured exports and the OCR set-up, checked."""
        settings: ContractsSettings = super().settings(config)  # type: ignore[assignment]
        problems: list[str] = []
        try:
            problems += _check_sources(config, settings)
        except MappingError as exc:
            problems += [f"scenarios.contracts.mappings_dirs: {exc.path}: {p}"
                         for p in exc.problems]
        problems += [p if p.startswith("ocr.") else f"scenarios.contracts.forms: {p}"
                     for p in check_ocr_config(config, settings.forms)]
        if problems:
            raise ConfigError(config.source or "config.toml", problems)
        return settings

    def process(self, item: WorkItem, ctx: RunContext) -> ItemResult:
        settings: ContractsSettings = ctx.settings
        suffix = item.path.suffix.lower()
        if suffix in DATA_SUFFIXES:
            return read_data_file(item, ctx, layouts_for(ctx.config, settings))
        if suffix in SCAN_SUFFIXES:
            if self._reader is None:  # OCR engines load only when a paper form comes in
                self._reader = reader_for(ctx)
            return read_scan(self._reader, item, ctx, settings.forms)
        return ItemResult(
            item, Outcome.REJECTED, reason_code="unsupported_file",
            reason_ja=("この業務で扱うファイルではありません。申請データ・契約台帳・指名停止一覧"
                       "（CSV・Excel）か、入札参加資格審査申請書のスキャン（PDF・TIFF・PNG・"
                       "JPEG）を入れてください。"),
            detail=f"unsupported file type {suffix or '(none)'}")

    def finish(self, results: Sequence[ItemResult], ctx: RunContext, out_dir: Path
               ) -> list[Path]:
        from scenarios.contracts.finish import finish_run

        return finish_run(results, ctx, out_dir)

    def generate_samples(self, out_dir: Path, *, count: int, seed: int,
                         today: date | None = None) -> list[Path]:
        from scenarios.contracts.samples import SAMPLE_TODAY
        from scenarios.contracts.samples_write import write_sample_set

        try:
            return write_sample_set(out_dir, count=count, seed=seed, today=today or SAMPLE_TODAY)
        except ValueError as exc:  # a --today the sample periods do not cover
            raise ScenarioError(str(exc)) from None


scenario = Contracts()
