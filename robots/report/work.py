"""A scenario's own work over a period: its counts, shares and timed tasks, from the run log.

A reconciling scenario is not judged on OCR alone: deposit inquiries on replies linked
without a person and links found wrong later, contracts on applications examined and
findings a clerk judged. The scenario declares what to count (``Scenario.work``, a
:class:`robots.scenario.WorkSpec`); its ``finish`` writes the counts of each run
(``RunContext.counts`` → the run log's ``work_counts``); :func:`compute_work` sums them over
the period's runs. A count that no run wrote is ``None`` — not measured — never 0, so a
scenario that does not report its work yet cannot look perfect.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from robots.report.base import BaselineFigure, Ratio, baseline
from robots.report.data import BaselineSample, WorkCount
from robots.scenario import WorkSpec

__all__ = ["MeasureFigure", "ShareFigure", "TaskFigure", "WorkFigures", "compute_work"]


@dataclass(frozen=True, slots=True)
class MeasureFigure:
    """One count of a scenario's own work over the period; None when no run wrote it."""

    name: str
    label: str
    value: int | None
    runs: tuple[str, ...] = ()  # the runs that wrote it


@dataclass(frozen=True, slots=True)
class ShareFigure:
    """A share of the scenario's own work; ``ratio`` None when a count was not measured."""

    label: str
    definition: str
    ratio: Ratio | None


@dataclass(frozen=True)
class TaskFigure:
    """A task of the scenario's own work: units handled, units left to a person, and time.

    Staff time with the robot is the units left to a person × the time of one decision;
    by hand, every unit × the manual time. Both are per unit of the task.
    """

    task: str
    title: str
    unit: str
    done: int | None
    left: int | None
    manual: BaselineFigure
    decision: BaselineFigure
    decision_title: str = ""
    decision_task: str = ""
    annual_volume: int | None = None
    runs: tuple[str, ...] = ()

    @property
    def automated(self) -> Ratio | None:
        """Units that needed no person, as a share of the units handled."""
        if self.done is None or self.left is None:
            return None
        return Ratio(self.done - self.left, self.done)

    @property
    def staff_minutes(self) -> float | None:
        if self.left is None or self.decision.minutes is None:
            return None
        return self.left * self.decision.minutes

    @property
    def staff_per_unit(self) -> float | None:
        staff = self.staff_minutes
        return staff / self.done if staff is not None and self.done else None

    @property
    def saved_share(self) -> Ratio:
        staff = self.staff_minutes
        if staff is None or self.done is None or self.manual.minutes is None:
            return Ratio(0, 0)
        manual = self.done * self.manual.minutes
        return Ratio(manual - staff, manual)

    @property
    def annual_hours_saved(self) -> float | None:
        per = self.staff_per_unit
        if per is None or self.manual.minutes is None or self.annual_volume is None:
            return None
        return (self.manual.minutes - per) * self.annual_volume / 60

    @property
    def measured_time(self) -> bool:
        """Both the manual time and the decision time come from timed samples."""
        return self.manual.measured and self.decision.measured


@dataclass
class WorkFigures:
    """A scenario's own work over the period: its counts, shares, tasks and errors."""

    measures: list[MeasureFigure] = field(default_factory=list)
    shares: list[ShareFigure] = field(default_factory=list)
    tasks: list[TaskFigure] = field(default_factory=list)
    errors: int | None = None  # results found wrong later; None when not measured
    errors_label: str = ""
    errors_declared: bool = False
    error_runs: tuple[str, ...] = ()


def compute_work(spec: WorkSpec, counts: Iterable[WorkCount], run_ids: set[str],
                 samples: Iterable[BaselineSample], baseline_minutes: Mapping[str, float],
                 annual_volume: Mapping[str, int]) -> WorkFigures:
    """The figures of ``spec`` over the counts of ``run_ids`` (pure: tests hand-compute them)."""
    written: dict[str, int] = {}
    runs_of: dict[str, set[str]] = defaultdict(set)
    for c in counts:
        if c.run_id in run_ids:
            written[c.measure] = written.get(c.measure, 0) + c.value
            runs_of[c.measure].add(c.run_id)
    samples = list(samples)

    def total(names: Iterable[str]) -> int | None:
        names = tuple(names)
        return None if any(n not in written for n in names) else sum(written[n] for n in names)

    w = WorkFigures(errors_label=spec.errors_ja, errors_declared=bool(spec.errors))
    w.measures = [MeasureFigure(m.name, m.label_ja, written.get(m.name),
                                tuple(sorted(runs_of[m.name]))) for m in spec.measures]
    for sh in spec.shares:
        num, den = total(sh.num), total(sh.den)
        w.shares.append(ShareFigure(sh.label_ja, sh.definition_ja,
                                    None if num is None or den is None else Ratio(num, den)))
    for t in spec.tasks:
        manual = baseline(t.id, "task", samples, baseline_minutes.get(t.id))
        decision = (baseline(t.decision_id, "task", samples, baseline_minutes.get(t.decision_id))
                    if t.decision_id else BaselineFigure(None, "missing"))
        if decision.minutes is None:  # not timed yet: as long as doing the unit by hand
            decision = BaselineFigure(manual.minutes, "assumed_manual")
        w.tasks.append(TaskFigure(
            t.id, t.title_ja, t.unit_ja, total((t.done,)), total(t.left), manual, decision,
            t.decision_ja, t.decision_id, annual_volume.get(t.id),
            tuple(sorted(runs_of[t.done]))))
    if spec.errors:
        w.errors = total(spec.errors)
        w.error_runs = tuple(sorted({r for m in spec.errors for r in runs_of[m]}))
    return w
