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
from typing import Any

from robots.config import Config
from robots.errors import ScenarioError
from robots.kit.tables import Layout, LayoutNotRecognised, read_table
from robots.kit.tabular import SourceError, TableOrScanScenario, newest_export
from robots.scenario import ItemResult, RunContext, WorkItem
from scenarios.contracts.datafiles import APPLICATION_FORM, read_data_file
from scenarios.contracts.evaluation import DATA_INPUTS, WORK
from scenarios.contracts.schemas import REGISTER, SUSPENSIONS, VENDOR_LIST
from scenarios.contracts.settings import ContractsSettings, layouts_for

__all__ = ["APPLICATION_FORM", "Contracts", "ContractsSettings", "scenario"]

log = logging.getLogger(__name__)

#: Exports the configuration may name: (settings key, the kind of table it must be).
_SOURCES = (("contract_register", REGISTER), ("suspensions", SUSPENSIONS),
            ("previous_list", VENDOR_LIST))


class Contracts(TableOrScanScenario):
    """Bid-qualification applications → qualified-vendor list; contract registrations checked."""

    name = "contracts"
    title_ja = "契約事務（入札参加資格・契約チェック）"
    settings_model = ContractsSettings
    finish_without_items = True  # qualifications lapse with the date; the register is re-exported
    data_inputs = DATA_INPUTS
    work = WORK
    unsupported_ja = ("この業務で扱うファイルではありません。申請データ・契約台帳・指名停止一覧"
                      "（CSV・Excel）か、入札参加資格審査申請書のスキャン（PDF・TIFF・PNG・"
                      "JPEG）を入れてください。")

    def layouts(self, config: Config, settings: Any) -> tuple[Layout, ...]:
        return layouts_for(config, settings)

    def check_sources(self, config: Config, settings: Any) -> list[str]:
        """Configured exports that are missing, or whose columns no layout knows."""
        problems = []
        layouts = layouts_for(config, settings)
        if not any(lay.id == settings.export_layout and lay.kind == VENDOR_LIST.kind
                   for lay in layouts):
            problems.append(f"scenarios.contracts.export_layout: no vendor_list layout "
                            f"{settings.export_layout!r} in the mappings")
        for key, schema in _SOURCES:
            path = getattr(settings, key)
            if path is None:
                continue
            try:
                read_table(newest_export(config, f"scenarios.contracts.{key}", path),
                           layouts, (schema.kind,), what_ja=schema.title_ja)
            except SourceError as exc:
                problems.append(exc.problem)
            except LayoutNotRecognised as exc:
                problems.append(f"scenarios.contracts.{key}: {exc}")
            except (OSError, ValueError) as exc:
                problems.append(f"scenarios.contracts.{key}: cannot read: {type(exc).__name__}")
        return problems

    def read_data(self, item: WorkItem, ctx: RunContext, layouts: tuple[Layout, ...]
                  ) -> ItemResult:
        return read_data_file(item, ctx, layouts)

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
