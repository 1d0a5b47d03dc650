"""The scenario contract and the registry that finds scenarios without naming them.

A scenario is the town's business (intake of applications, deposit inquiries, contracts);
the runtime owns timing, per-item error isolation, inbox moves, the run log and exit codes,
so no scenario re-implements them. Scenarios are found through the ``misato_rpa.scenarios``
entry-point group: adding one is adding a package and one line of packaging metadata.
"""

from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from robots.config import Config
from robots.errors import ConfigError, ScenarioError
from robots.records import DocumentRecord
from robots.registry import ENTRY_POINT_GROUP

__all__ = [
    "ItemResult",
    "NoSettings",
    "Outcome",
    "RunContext",
    "Scenario",
    "WorkItem",
    "WorkMeasure",
    "WorkShare",
    "WorkSpec",
    "WorkTask",
    "all_scenarios",
    "get_scenario",
]

log = logging.getLogger(__name__)

class Outcome(StrEnum):
    """Every input file ends in exactly one of these, recorded in the run log."""

    OK = "ok"  # read, nothing for a human to check
    NEEDS_REVIEW = "needs_review"  # read, some fields on the correction sheet
    REJECTED = "rejected"  # bad input: quarantined with a reason for the operator
    ERROR = "error"  # the robot failed on it (a bug): quarantined, see the log
    DUPLICATE = "duplicate"  # the same content was processed before


class NoSettings(BaseModel):
    """Settings model of a scenario that has none: any key in its section is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One claimed input file, as handed to a worker (pickle-able)."""

    seq: int  # position in this run, used to make document ids
    path: Path  # in processing/
    name: str  # as dropped
    sha256: str
    size: int


@dataclass(frozen=True)
class RunContext:
    """What a worker needs to process items the same way as its parent (pickle-able)."""

    run_id: str
    scenario: str
    config: Config
    settings: Any
    out_dir: Path
    today: date
    forms_dirs: tuple[Path, ...] = ()
    secret: bytes = b""  # signs the run's workbooks so reviewed ones can be trusted back
    #: ``(code, message)`` events ``finish`` wants recorded with the run (counts and ids,
    #: never personal data): the runner writes them in the run log's commit transaction.
    events: list[tuple[str, str]] = field(default_factory=list, compare=False)
    #: Named counts of the scenario's own work in this run (replies linked without a person,
    #: proposals a clerk confirmed, findings judged 妥当 / 誤検知, ...): ``finish`` sets them,
    #: the runner stores them with the run, the evaluation report judges the scenario on them.
    counts: dict[str, int] = field(default_factory=dict, compare=False)


@dataclass
class ItemResult:
    """What processing one input file produced."""

    item: WorkItem
    outcome: Outcome
    documents: list[DocumentRecord] = field(default_factory=list)
    pages: int = 0
    reason_code: str = ""
    reason_ja: str = ""
    detail: str = ""  # English, for the log; never personal data
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkMeasure:
    """A count of the scenario's own work (a key of ``RunContext.counts``) and its name."""

    name: str  # e.g. replies_linked_automatically
    label_ja: str  # what the report calls it


@dataclass(frozen=True)
class WorkShare:
    """A share the evaluation report shows: the sum of ``num`` over the sum of ``den``."""

    label_ja: str
    num: tuple[str, ...]
    den: tuple[str, ...]
    definition_ja: str = ""  # how it is computed, in words, printed with the figure


@dataclass(frozen=True)
class WorkTask:
    """A piece of the work a clerk did by hand, whose manual time can be measured.

    ``rpa baseline record --task ID`` times it by hand (minutes per unit); ``done`` counts the
    units the runs handled and ``left`` those a person still had to decide, each timed as
    ``decision_id`` (one decision; the manual time is assumed while it is not measured).
    """

    id: str  # a task name, unique among tasks and form ids, e.g. deposit_reply_check
    title_ja: str  # e.g. 照会回答1件の照合（台帳との突合せ）
    unit_ja: str  # what one unit is called: 回答, 申請, 契約
    done: str  # measure: units handled
    left: tuple[str, ...] = ()  # measures: units a person still decided
    decision_id: str = ""  # task name of one such decision, e.g. deposit_reply_decision
    decision_ja: str = ""  # e.g. 確認リストの1件の判断


@dataclass(frozen=True)
class WorkSpec:
    """What a scenario's own work is judged on, besides the OCR of its paper part."""

    measures: tuple[WorkMeasure, ...]
    shares: tuple[WorkShare, ...] = ()
    tasks: tuple[WorkTask, ...] = ()
    #: measures counting results found wrong later (a link undone): the work's silent errors
    errors: tuple[str, ...] = ()
    errors_ja: str = ""  # the criterion's name


class Scenario(ABC):
    """Base class of scenarios. Subclasses live in ``scenarios/<name>/``."""

    name: ClassVar[str]
    title_ja: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]] = NoSettings
    #: Call ``finish`` even when no file came in: for a scenario whose outputs depend on the
    #: date or on state kept between runs (a reminder list of overdue inquiries).
    finish_without_items: ClassVar[bool] = False
    #: Form ids of the documents read from data files (no form template) and what the town
    #: calls those inputs; the evaluation counts their rows apart from scanned pages.
    data_inputs: ClassVar[Mapping[str, str]] = {}
    #: The measures, shares and timed tasks the evaluation judges the scenario's own work on.
    work: ClassVar[WorkSpec | None] = None

    def settings(self, config: Config) -> BaseModel:
        """The scenario's section of the configuration, validated."""
        raw = config.scenarios.get(self.name, {})
        try:
            return self.settings_model.model_validate(raw)
        except ValidationError as exc:
            problems = [f"scenarios.{self.name}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                        for e in exc.errors()]
            raise ConfigError(config.source or "config.toml", problems) from None

    def worker_init(self, ctx: RunContext) -> None:  # noqa: B027 - optional hook
        """Build per-process state (loaded OCR engines) once per worker."""

    @abstractmethod
    def process(self, item: WorkItem, ctx: RunContext) -> ItemResult:
        """Process one file. Runs in a worker; must not write shared state or outputs."""

    @abstractmethod
    def finish(self, results: Sequence[ItemResult], ctx: RunContext, out_dir: Path
               ) -> list[Path]:
        """Write the run's outputs into ``out_dir`` (runs in the parent); return the files.

        The documents of ``results`` are logged after this returns, so ``finish`` may add a
        field to a document it alone can judge (a reconciliation status) before they are.
        """

    def generate_samples(self, out_dir: Path, *, count: int, seed: int,
                         today: date | None = None) -> list[Path]:
        """Write sample inputs (and their truth) under ``out_dir``; ``rpa samples scenario``.

        Optional: a scenario whose inputs are more than scans of one form offers its own.
        """
        raise ScenarioError(f"scenario {self.name} has no sample generator")


@functools.cache
def all_scenarios() -> dict[str, Scenario]:
    """Every installed scenario by name."""
    found: dict[str, Scenario] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        scenario = obj() if isinstance(obj, type) else obj
        if not isinstance(scenario, Scenario):
            raise ScenarioError(f"entry point {ep.name} ({ep.value}) is not a Scenario")
        found[scenario.name] = scenario
    return found


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``, or a :class:`ScenarioError` listing the known ones."""
    scenarios = all_scenarios()
    if name not in scenarios:
        known = ", ".join(sorted(scenarios)) or "none installed"
        raise ScenarioError(f"unknown scenario {name!r}; known scenarios: {known}")
    return scenarios[name]
