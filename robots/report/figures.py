"""The figures of an evaluation report: plain dataclasses, no I/O, no formatting.

Every ratio keeps its numerator and denominator (:class:`Ratio`), so that a figure over
nothing is ``None`` — shown as "—" with a note — instead of a division by zero, and so that
the Excel report can show the counts a percentage was computed from. A count a scenario
never wrote is ``None`` ("not measured"), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from robots.report.base import BaselineFigure, Ratio
from robots.report.work import WorkFigures

__all__ = [
    "BaselineFigure",
    "Criterion",
    "FormTime",
    "KindFigures",
    "QualityFigures",
    "QualityGroup",
    "Ratio",
    "ReliabilityFigures",
    "Report",
    "ReviewRates",
    "ScenarioFigures",
    "TimeFigures",
    "Verdict",
    "VolumeFigures",
    "VolumeRow",
    "WorkFigures",
]


@dataclass(slots=True)
class VolumeRow:
    """Documents, pages (rows, for a data input) and fields of one form (or one week)."""

    documents: int = 0
    pages: int = 0  # scanned pages; for an input read from data files, its rows (行数)
    fields: int = 0
    read: int = 0  # fields read by the machine
    proposed: int = 0  # fields proposed from reference data for a person to confirm
    keyed: int = 0  # fields keyed by staff by design (handwritten words never read)


@dataclass
class VolumeFigures:
    """How much work went through: per form and data input, per week, in total."""

    by_form: dict[str, VolumeRow] = field(default_factory=dict)  # scanned forms
    by_data: dict[str, VolumeRow] = field(default_factory=dict)  # inputs read from data files
    by_week: dict[date, dict[str, VolumeRow]] = field(default_factory=dict)  # Monday → form
    total: VolumeRow = field(default_factory=VolumeRow)  # everything
    paper: VolumeRow = field(default_factory=VolumeRow)  # the scanned forms only
    documents_flagged: int = 0  # scanned documents with at least one field to review

    def share(self, form: str) -> float | None:
        """The form's share of the scanned documents (what a form's weight in the verdict is)."""
        row = self.by_form.get(form)
        return row.documents / self.paper.documents if row and self.paper.documents else None


@dataclass
class QualityGroup:
    """Counts over the *reviewed* fields of one group (overall, a form, a field type)."""

    fields: int = 0  # reviewed fields
    correct: int = 0  # OCR value = final value
    chars: int = 0  # Σ max(len read, len final)
    char_errors: int = 0  # Σ characters the reviewer changed (Levenshtein)
    flagged: int = 0
    flagged_wrong: int = 0  # flagged and corrected
    silent: int = 0  # corrected although not flagged

    @property
    def wrong(self) -> int:
        return self.fields - self.correct

    @property
    def accuracy(self) -> Ratio:
        return Ratio(self.correct, self.fields)

    @property
    def char_accuracy(self) -> Ratio:
        return Ratio(self.chars - self.char_errors, self.chars)

    @property
    def flag_precision(self) -> Ratio:
        return Ratio(self.flagged_wrong, self.flagged)

    @property
    def flag_recall(self) -> Ratio:
        return Ratio(self.flagged_wrong, self.wrong)

    @property
    def silent_error_rate(self) -> Ratio:
        return Ratio(self.silent, self.fields)


@dataclass
class KindFigures:
    """The fields of one kind (read, proposed, keyed) on scanned documents."""

    fields: int = 0
    reviewed: int = 0  # a final value is on record
    flagged: int = 0  # on the correction sheet
    changed: int = 0  # reviewed, and the final value is not the one the machine gave
    chars_final: int = 0  # Σ characters of the reviewed final values (what staff keyed)
    minutes: float = 0.0  # review time attributed to fields of this kind

    def share(self, total: int) -> Ratio:
        return Ratio(self.fields, total)

    @property
    def kept(self) -> int:
        """Reviewed and kept as given (a proposal confirmed as proposed)."""
        return self.reviewed - self.changed


@dataclass
class QualityFigures:
    """How right the OCR was, measured on what reviewers confirmed (read fields only)."""

    overall: QualityGroup = field(default_factory=QualityGroup)
    by_form: dict[str, QualityGroup] = field(default_factory=dict)
    by_type: dict[str, QualityGroup] = field(default_factory=dict)
    kinds: dict[str, KindFigures] = field(default_factory=dict)  # read / proposed / keyed
    fields_unreviewed: int = 0  # read fields without a final value
    documents_reviewed: int = 0  # every field of the document has a final value
    documents_unreviewed: int = 0
    documents_straight_through: int = 0  # reviewed, not one read field corrected
    simulated_runs: list[str] = field(default_factory=list)  # reviewed by the demo's simulation
    evidence_runs: list[str] = field(default_factory=list)  # runs with reviewed fields
    silent_runs: list[str] = field(default_factory=list)  # runs with silent errors
    evidence_by_form: dict[str, list[str]] = field(default_factory=dict)
    silent_by_form: dict[str, list[str]] = field(default_factory=dict)

    @property
    def straight_through(self) -> Ratio:
        return Ratio(self.documents_straight_through, self.documents_reviewed)


@dataclass
class FormTime:
    """Staff time of one form over its reviewed documents.

    ``review_minutes`` splits by where it comes from: recorded on the sheet of a run of this
    form alone (measured), a run's recorded time shared among its forms by what the reviewer
    had to do (attributed: an estimate), or estimated for a run without a recorded time.
    """

    documents: int = 0  # reviewed documents (their run had an import)
    review_minutes: float = 0.0
    baseline: BaselineFigure = field(default_factory=lambda: BaselineFigure(None, "missing"))
    annual_volume: int | None = None
    measured_minutes: float = 0.0
    attributed_minutes: float = 0.0
    estimated_minutes: float = 0.0
    runs: list[str] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)  # measured | attributed | estimated

    @property
    def review_source(self) -> str:
        """The weakest source its minutes come from: measured, attributed or estimated."""
        for source in ("estimated", "attributed", "measured"):
            if source in self.sources:
                return source
        return "estimated"

    @property
    def review_per_doc(self) -> float | None:
        return self.review_minutes / self.documents if self.documents else None

    @property
    def saved_per_doc(self) -> float | None:
        per_doc = self.review_per_doc
        if per_doc is None or self.baseline.minutes is None:
            return None
        return self.baseline.minutes - per_doc

    @property
    def saved_share(self) -> Ratio:
        if self.baseline.minutes is None:
            return Ratio(0, 0)
        manual = self.baseline.minutes * self.documents
        return Ratio(manual - self.review_minutes, manual)

    @property
    def annual_hours_saved(self) -> float | None:
        saved = self.saved_per_doc
        if saved is None or self.annual_volume is None:
            return None
        return saved * self.annual_volume / 60


@dataclass(frozen=True)
class ReviewRates:
    """Review minutes per field of each kind the reviewer had to work on.

    ``source``: "fitted" (least squares, non-negative, over the runs with a recorded review
    time), "scaled" (the configured proportions, scaled to the recorded total: too few runs
    to tell the kinds apart), or "configured" (no recorded time at all: an assumption).
    """

    minutes: dict[str, float]  # flagged | proposed | keyed → minutes per field
    source: str
    runs: tuple[str, ...] = ()  # the runs the rates were measured on
    assumed: tuple[str, ...] = ()  # kinds whose rate is the configured assumption


@dataclass
class TimeFigures:
    """Robot time, staff review time and the manual baseline."""

    robot_seconds: Ratio = field(default_factory=lambda: Ratio(0, 0))  # Σ stage s / timed docs
    elapsed_seconds: Ratio = field(default_factory=lambda: Ratio(0, 0))  # Σ run s / documents
    by_form: dict[str, FormTime] = field(default_factory=dict)
    measured_runs: list[str] = field(default_factory=list)  # review time recorded
    estimated_runs: list[str] = field(default_factory=list)  # reviewed, time not recorded
    unreviewed_runs: list[str] = field(default_factory=list)  # no import yet
    measured_minutes: float = 0.0
    estimated_minutes: float = 0.0
    estimate_minutes_per_flag: float | None = None
    estimate_method: str = ""  # Japanese, printed next to the figure
    rates: ReviewRates | None = None
    kinds_used: tuple[str, ...] = ()  # kinds of work on the sheets of the reviewed runs
    unattributed_minutes: float = 0.0  # recorded in runs where nothing was to be worked on

    @property
    def counted(self) -> dict[str, FormTime]:
        """Forms whose time saved can be computed (reviewed documents and a baseline)."""
        return {f: t for f, t in self.by_form.items()
                if t.documents and t.baseline.minutes is not None}

    @property
    def review_per_doc(self) -> Ratio:
        docs = sum(t.documents for t in self.by_form.values())
        return Ratio(sum(t.review_minutes for t in self.by_form.values()), docs)

    @property
    def baseline_per_doc(self) -> Ratio:
        c = self.counted.values()
        return Ratio(sum((t.baseline.minutes or 0.0) * t.documents for t in c),
                     sum(t.documents for t in c))

    @property
    def saved_minutes(self) -> float:
        return sum((t.baseline.minutes or 0.0) * t.documents - t.review_minutes
                   for t in self.counted.values())

    @property
    def saved_per_doc(self) -> Ratio:
        return Ratio(self.saved_minutes, sum(t.documents for t in self.counted.values()))

    @property
    def saved_share(self) -> Ratio:
        c = self.counted.values()
        return Ratio(self.saved_minutes, sum((t.baseline.minutes or 0.0) * t.documents
                                             for t in c))

    @property
    def annual_hours_saved(self) -> float | None:
        hours = [h for t in self.by_form.values()
                 if (h := t.annual_hours_saved) is not None]
        return sum(hours) if hours else None


@dataclass
class ReliabilityFigures:
    """Runs, failures, quarantined files, missed schedules, losses."""

    runs: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_trigger: dict[str, int] = field(default_factory=dict)
    failed_runs: list[str] = field(default_factory=list)  # failed, aborted or exit code 1
    files: int = 0
    quarantined: dict[str, list[str]] = field(default_factory=dict)  # reason → run ids
    missed_schedules: list[tuple[datetime, str]] = field(default_factory=list)
    failed_starts: list[tuple[datetime, str]] = field(default_factory=list)  # schedule_failed
    lost: list[tuple[str, str, str]] = field(default_factory=list)  # run, file, why (ja)
    warnings: int = 0

    @property
    def quarantined_files(self) -> int:
        return sum(len(v) for v in self.quarantined.values())


@dataclass(frozen=True, slots=True)
class Criterion:
    """One go / no-go criterion with its measured value and evidence.

    ``subject`` is the form id or task name a criterion is about ("" for the scenario), with
    ``subject_title`` its Japanese name; ``major`` is False for a form carrying no more than
    the configured share of the scanned documents (its failure is a condition, not a no-go).
    """

    key: str  # field_accuracy | silent_error_rate | time_saved | lost_documents | work_errors
    label: str  # Japanese
    threshold: str  # Japanese, e.g. "95.0 % 以上"
    measured: float | None
    shown: str  # the measured value as shown
    status: str  # pass | fail | pending
    evidence: tuple[str, ...] = ()  # run ids
    note: str = ""
    subject: str = ""
    subject_title: str = ""
    major: bool = True


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one scenario."""

    decision: str  # go | conditional | no_go | no_data
    criteria: tuple[Criterion, ...] = ()
    conditions: tuple[str, ...] = ()  # why not a plain "go" (Japanese)


@dataclass
class ScenarioFigures:
    """Every figure of one scenario."""

    scenario: str
    title: str
    run_ids: list[str] = field(default_factory=list)
    volume: VolumeFigures = field(default_factory=VolumeFigures)
    quality: QualityFigures = field(default_factory=QualityFigures)
    time: TimeFigures = field(default_factory=TimeFigures)
    reliability: ReliabilityFigures = field(default_factory=ReliabilityFigures)
    work: WorkFigures | None = None  # the scenario's own work, when it declares it
    verdict: Verdict = Verdict("no_data")


@dataclass
class Report:
    """The whole report over a period."""

    since: date | None
    until: date | None
    generated_at: datetime
    scenario_filter: str | None
    scenarios: list[ScenarioFigures] = field(default_factory=list)
    form_titles: dict[str, str] = field(default_factory=dict)  # forms and data inputs
    notes: list[str] = field(default_factory=list)  # Japanese, shown at the top

    @property
    def empty(self) -> bool:
        return not any(s.run_ids or s.reliability.missed_schedules or s.reliability.failed_starts
                       for s in self.scenarios)
