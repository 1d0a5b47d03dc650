"""``[scenarios.deposit_inquiry]``: where the ledger and the state are, and the thresholds.

The ledger is not an inbox item: it is the town's own export, named here, and read afresh by
every run (a new export simply replaces the old one). ``ledger`` may name a file, or a folder
whose newest export (``.csv``/``.xlsx``, by modification time) is taken — the town's system
then writes dated exports there and nobody renames anything. A missing or unreadable ledger,
or one whose columns no mapping knows, is a configuration error: nothing runs.

``[scenarios.deposit_inquiry.send]`` says how inquiries go out (see
:mod:`scenarios.deposit_inquiry.send`): which banks take the online service's upload file,
the legal basis quoted per purpose, who asks, and how many days a bank has to reply.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from robots.config import Config
from robots.kit.tables import Layout, LayoutNotRecognised, Table, load_layouts, read_table
from robots.kit.tabular import SourceError, newest_export
from scenarios.deposit_inquiry.records import Inquiry, parse_inquiry
from scenarios.deposit_inquiry.schemas import LEDGER, PACKAGED_MAPPINGS, SCHEMAS, UPLOAD

__all__ = ["DepositInquirySettings", "SendSettings", "layouts_for", "load_ledger",
           "upload_layout"]

log = logging.getLogger(__name__)

_KEY = "scenarios.deposit_inquiry.ledger"


#: The legal basis quoted on an inquiry, per purpose (照会目的). Tax collection: 国税徴収法
#: 第141条, which 地方税法 applies to municipal taxes (e.g. 第331条第6項: 滞納処分は国税徴収法
#: に規定する滞納処分の例による); assessment: 地方税法第20条の11 (官公署等への協力要請);
#: public assistance: 生活保護法第29条第1項 (資料の提供等).
DEFAULT_LEGAL_BASIS = {
    "税務": "地方税法第331条第6項等において例によることとされる国税徴収法第141条",
    "課税": "地方税法第20条の11",
    "福祉": "生活保護法第29条第1項",
}


class SendSettings(BaseModel):
    """``[scenarios.deposit_inquiry.send]``: outgoing inquiries (off unless ``enabled``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    # banks (Zengin codes) that take the online service's upload file; the others get letters
    online_banks: tuple[str, ...] = ()
    upload_layout: str = Field(default="upload_service", min_length=1)  # a kind = "upload" id
    # days a bank has to reply, from the day sent; a deadline on a day off moves to the next
    # open day (民法第142条)
    reply_days: int = Field(default=30, ge=1, le=365)
    legal_basis: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_LEGAL_BASIS))
    # {number}: the inquiry number; {round}: 1 for the first send, 2 for the first 再照会 …
    document_number: str = Field(default="美里町照第{number}号", min_length=1)
    resend_suffix: str = "の{round}"  # appended to the document number of a 再照会
    requester: str = Field(default="熊本県下益城郡美里町長", min_length=1)
    department: str = "税務住民課 収納係"
    contact: str = "〒861-4492 熊本県下益城郡美里町馬場1400番地　電話 0964-47-1111"
    folder: str = Field(default="照会送付", min_length=1)  # inside the run's output folder

    @field_validator("online_banks")
    @classmethod
    def _codes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in v if not (len(c) == 4 and c.isascii() and c.isdigit())]
        if bad:
            raise ValueError(f"bank codes are 4 digits: {', '.join(bad)}")
        return v

    @field_validator("document_number", "resend_suffix")
    @classmethod
    def _format(cls, v: str) -> str:
        try:
            v.format(number="1", round=2)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{number}} and {{round}} may be used ({exc})") from None
        return v


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
    reminder_name: str = Field(default="再照会対象", min_length=1)
    scan_workbook_name: str = Field(default="回答書読取", min_length=1)
    send: SendSettings = SendSettings()

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


def upload_layout(config: Config, settings: DepositInquirySettings) -> Layout:
    """The layout the upload files are written in; raises :class:`SourceError` if unknown."""
    for lay in layouts_for(config, settings):
        if lay.kind == UPLOAD.kind and lay.id == settings.send.upload_layout:
            return lay
    known = [lay.id for lay in layouts_for(config, settings) if lay.kind == UPLOAD.kind]
    raise SourceError(f"scenarios.deposit_inquiry.send.upload_layout: no upload layout "
                      f"{settings.send.upload_layout!r}; known: {', '.join(known) or 'none'}")
