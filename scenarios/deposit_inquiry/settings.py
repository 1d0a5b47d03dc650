"""``[scenarios.deposit_inquiry]``: where the ledger and the state are, and the thresholds.

The ledger is not an inbox item: it is the town's own export, named here, and read afresh by
every run (a new export simply replaces the old one). ``ledger`` may name a file, or a folder
whose newest export (``.csv``/``.xlsx``, by modification time) is taken — the town's system
then writes dated exports there and nobody renames anything. A missing or unreadable ledger,
or one whose columns no mapping knows, is a configuration error: nothing runs.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from robots.config import Config
from robots.kit.tables import Layout, LayoutNotRecognised, Table, load_layouts, read_table
from robots.kit.tabular import SourceError, newest_export
from scenarios.deposit_inquiry.records import Inquiry, parse_inquiry
from scenarios.deposit_inquiry.schemas import LEDGER, PACKAGED_MAPPINGS, SCHEMAS

__all__ = ["DepositInquirySettings", "layouts_for", "load_ledger"]

log = logging.getLogger(__name__)

_KEY = "scenarios.deposit_inquiry.ledger"


class DepositInquirySettings(BaseModel):
    """``[scenarios.deposit_inquiry]`` in config.toml (paths relative to the config file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ledger: Path  # the inquiry ledger export, or a folder of exports (the newest is taken)
    state_db: Path = Path("var/deposit_inquiry.sqlite")  # every reply received so far
    mappings_dirs: tuple[Path, ...] = ()  # the town's own layouts, besides the packaged ones
    forms: tuple[str, ...] = ("deposit_reply",)  # paper reply forms accepted
    # name similarity (0-100) of the least link proposed without a matching inquiry number
    match_threshold: float = Field(default=75.0, ge=0, le=100)
    # similarity an inquiry-number match needs to be certain (100: equal kana keys)
    certain_score: float = Field(default=100.0, ge=0, le=100)
    # two proposals this close in similarity are reported as ambiguous
    ambiguity_margin: float = Field(default=3.0, ge=0, le=100)
    # days after the reply deadline before an unanswered inquiry is overdue
    overdue_grace_days: int = Field(default=0, ge=0)
    # the day deadlines are judged on; unset = the day of the run. Only to reproduce a past
    # reconciliation, or for the demo, whose sample deadlines are fixed.
    as_of: date | None = None
    workbook_name: str = Field(default="照合結果", min_length=1)
    reminder_name: str = Field(default="督促対象", min_length=1)
    scan_workbook_name: str = Field(default="回答書読取", min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> DepositInquirySettings:
        if self.match_threshold > self.certain_score:
            raise ValueError("match_threshold must not be above certain_score")
        return self


def layouts_for(config: Config, settings: DepositInquirySettings) -> tuple[Layout, ...]:
    """The packaged layouts, then the town's own (raises :class:`MappingError`)."""
    dirs = (PACKAGED_MAPPINGS, *(config.resolve(d) for d in settings.mappings_dirs))
    return load_layouts(tuple(dirs), SCHEMAS)


def load_ledger(config: Config, settings: DepositInquirySettings
                ) -> tuple[Path, Table, list[Inquiry]]:
    """Read and normalise the ledger; raises :class:`SourceError` or ``MappingError``."""
    path = newest_export(config, _KEY, settings.ledger, what="inquiry ledger")
    try:
        table = read_table(path, layouts_for(config, settings), (LEDGER.kind,),
                           what_ja=LEDGER.title_ja)
    except LayoutNotRecognised as exc:
        raise SourceError(f"{_KEY}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise SourceError(f"{_KEY}: cannot read {path.name}: "
                          f"{type(exc).__name__}: {exc}") from None
    inquiries = [parse_inquiry(table.layout, row, raw) for row, raw in table.rows]
    if not inquiries:
        raise SourceError(f"{_KEY}: {path.name} holds no inquiry")
    log.info("ledger %s (%s, %s): %d inquiries", path.name, table.layout.id, table.encoding,
             len(inquiries))
    return path, table, inquiries
