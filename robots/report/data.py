"""The rows of the run log a report covers, read once into plain, value-free records.

Reading is kept apart from computing so that :mod:`robots.report.metrics` is a pure function
of these records (tests hand-compute its figures). Nothing here holds a field value: the run
log has digests only, and what the evaluation needs from them — was the OCR value the final
value — is decided in SQL and carried as a boolean.

Each field is of one of three kinds (:data:`FIELD_KINDS`), told by its reason codes: *read*
by the machine, *proposed* from reference data for a person to confirm (reason
``proposed``), or *keyed* by design — a handwritten word the product never reads (reason
``manual_keying``). Only read fields measure the OCR.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path

__all__ = [
    "FAILED_SCHEDULE_EVENT",
    "FIELD_KINDS",
    "KEYED_REASON",
    "MISSED_SCHEDULE_EVENT",
    "PROPOSED_REASON",
    "BaselineSample",
    "DocRow",
    "EventRow",
    "FieldRow",
    "FileRecord",
    "ImportRow",
    "Period",
    "ReportData",
    "RunRow",
    "WorkCount",
    "field_kind",
    "load_report_data",
    "local_date",
    "missed_schedule_scenario",
]

log = logging.getLogger(__name__)

#: The event the scheduler writes (run_id NULL) when a scheduled run did not happen; its
#: message names the scenario and the missed time (contract with robots.service.scheduler).
MISSED_SCHEDULE_EVENT = "schedule_missed"
#: The scheduler's event (run_id NULL) for a scheduled run that raised before it was logged.
FAILED_SCHEDULE_EVENT = "schedule_failed"
#: Reason code of a handwritten word the product never reads: staff key it (ocr.reasons).
KEYED_REASON = "manual_keying"
#: Reason code of a value proposed from reference data for a person to confirm (issue #15).
PROPOSED_REASON = "proposed"
#: The kinds of field the report counts apart: read by the machine, proposed, keyed by design.
FIELD_KINDS = ("read", "proposed", "keyed")


def field_kind(reasons: str) -> str:
    """The kind of a field from its space-separated reason codes (a proposal wins)."""
    codes = reasons.split()
    if PROPOSED_REASON in codes:
        return "proposed"
    return "keyed" if KEYED_REASON in codes else "read"


@dataclass(frozen=True, slots=True)
class Period:
    """Local calendar dates, both inclusive; None means open-ended."""

    since: date | None = None
    until: date | None = None

    def __contains__(self, day: date) -> bool:
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until)


@dataclass(frozen=True, slots=True)
class RunRow:
    """A run started in the period."""

    run_id: str
    scenario: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    exit_code: int | None
    day: date  # local date the run started


@dataclass(frozen=True, slots=True)
class FileRecord:
    """An input file a run took (processed, failed or duplicate)."""

    file_id: int
    run_id: str
    source_name: str
    pages: int | None
    outcome: str  # processed | failed | duplicate
    reason_code: str | None
    final_path: str | None


@dataclass(frozen=True, slots=True)
class DocRow:
    """A document (one application) read from a file."""

    doc_id: str
    run_id: str
    file_id: int
    form_id: str
    pages: int
    status: str
    stage_ms: float | None  # sum of the per-stage timings; None when none were recorded


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One field of a document: flags and review outcome, never its value."""

    doc_id: str
    form_id: str
    type: str
    flagged: bool
    reviewed: bool  # a final value is on record (an import confirmed or corrected it)
    correct: bool  # reviewed and the final value is the OCR value
    ocr_len: int
    final_len: int
    char_errors: int
    kind: str = "read"  # read | proposed | keyed (FIELD_KINDS)
    changed: bool = False  # an import recorded a value different from the one first given


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One imported review workbook of a run."""

    run_id: str
    review_minutes: float | None
    simulated: bool


@dataclass(frozen=True, slots=True)
class EventRow:
    """A warning, an error or a missed schedule."""

    run_id: str | None
    at: datetime
    level: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class BaselineSample:
    """One timed sample of manual work (`rpa baseline record`): a form keyed, or a task."""

    form_id: str  # the form id, or the task name when ``kind`` is "task"
    documents: int  # documents keyed, or units of the task done
    minutes: float
    who: str = ""
    at: datetime | None = None
    kind: str = "form"  # form | task


@dataclass(frozen=True, slots=True)
class WorkCount:
    """One named count of a scenario's own work in one run (``RunContext.counts``)."""

    run_id: str
    measure: str
    value: int


@dataclass
class ReportData:
    """Everything one report is computed from."""

    period: Period
    runs: list[RunRow] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    documents: list[DocRow] = field(default_factory=list)
    fields: list[FieldRow] = field(default_factory=list)
    imports: list[ImportRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    baselines: list[BaselineSample] = field(default_factory=list)
    work_counts: list[WorkCount] = field(default_factory=list)
    originals_missing: set[int] = field(default_factory=set)  # file ids


def _ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def local_date(ts: datetime, tz: tzinfo | None) -> date:
    """The calendar date of a stored UTC timestamp where the town is (``tz`` None: local)."""
    return ts.astimezone(tz).date()


def page_count(page: str) -> int:
    """Pages of a document from its ``page`` field: ``"2"`` is one, ``"2-3"`` two."""
    first, _, last = page.partition("-")
    try:
        return int(last) - int(first) + 1 if last else 1
    except ValueError:
        return 1


def _stage_ms(timings: str | None) -> float | None:
    """Milliseconds spent on a document: the sum of its stages (load, align, fields, …)."""
    data = json.loads(timings) if timings else {}
    values = [float(v) for k, v in data.items() if k != "pages" and isinstance(v, int | float)]
    return sum(values) if values else None


def missed_schedule_scenario(message: str, scenarios: set[str]) -> str | None:
    """The scenario a ``schedule_missed`` message names (``scenario=NAME`` or the bare name)."""
    words = message.replace(":", " ").replace(",", " ").replace("=", " ").split()
    for w in words:
        if w in scenarios:
            return w
    return None


def load_report_data(db: sqlite3.Connection, period: Period, *, scenario: str | None = None,
                     tz: tzinfo | None = None, check_originals: bool = True,
                     workspace: Path | None = None) -> ReportData:
    """The rows of runs started in ``period`` (local dates) of ``scenario`` (None: all).

    ``check_originals`` looks on disk for each recorded original (``done/`` or ``failed/``):
    a missing one counts as a lost document in the report. Recorded paths are relative to
    ``workspace`` (the configuration's folder; older run logs hold absolute ones).
    """
    data = ReportData(period)
    sql = "SELECT * FROM runs" + (" WHERE scenario = ?" if scenario else "")
    for r in db.execute(sql + " ORDER BY started_at, run_id", [scenario] if scenario else []):
        started = _ts(r["started_at"])
        assert started is not None
        day = local_date(started, tz)
        if day in period:
            data.runs.append(RunRow(r["run_id"], r["scenario"], r["trigger"], started,
                                    _ts(r["finished_at"]), r["status"], r["exit_code"], day))
    ids = {r.run_id for r in data.runs}
    for r in db.execute("SELECT * FROM files ORDER BY file_id"):
        if r["run_id"] in ids:
            data.files.append(FileRecord(r["file_id"], r["run_id"], r["source_name"],
                                         r["pages"], r["outcome"], r["reason_code"],
                                         r["final_path"]))
    for r in db.execute("SELECT * FROM documents ORDER BY doc_id"):
        if r["run_id"] in ids:
            data.documents.append(DocRow(r["doc_id"], r["run_id"], r["file_id"],
                                         r["form_id"] or "", page_count(r["page"]), r["status"],
                                         _stage_ms(r["timings"])))
    docs = {d.doc_id for d in data.documents}
    for r in db.execute(
            "SELECT doc_id, form_id, type, flagged, final_digest IS NOT NULL AS reviewed, "
            "final_digest IS NOT NULL AND final_digest = ocr_digest AS correct, ocr_len, "
            "COALESCE(final_len, ocr_len) AS final_len, char_errors, reasons, corrected "
            "FROM fields ORDER BY doc_id, name"):
        if r["doc_id"] in docs:
            data.fields.append(FieldRow(r["doc_id"], r["form_id"], r["type"], bool(r["flagged"]),
                                        bool(r["reviewed"]), bool(r["correct"]), r["ocr_len"],
                                        r["final_len"], r["char_errors"] if r["reviewed"] else 0,
                                        field_kind(r["reasons"]),
                                        bool(r["reviewed"] and r["corrected"])))
    for r in db.execute("SELECT run_id, review_minutes, simulated FROM imports "
                        "ORDER BY import_id"):
        if r["run_id"] in ids:
            data.imports.append(ImportRow(r["run_id"], r["review_minutes"], bool(r["simulated"])))
    for r in db.execute("SELECT * FROM events ORDER BY event_id"):
        at = _ts(r["at"])
        assert at is not None
        if r["run_id"] in ids or (r["run_id"] is None
                                  and r["code"] in (MISSED_SCHEDULE_EVENT, FAILED_SCHEDULE_EVENT)
                                  and local_date(at, tz) in period):
            data.events.append(EventRow(r["run_id"], at, r["level"], r["code"], r["message"]))
    data.baselines = [BaselineSample(r["form_id"], r["documents"], r["minutes"], r["who"],
                                     _ts(r["at"]), r["kind"])
                      for r in db.execute("SELECT * FROM baselines ORDER BY baseline_id")]
    data.work_counts = [WorkCount(r["run_id"], r["measure"], r["value"]) for r in db.execute(
        "SELECT * FROM work_counts ORDER BY run_id, measure") if r["run_id"] in ids]
    if check_originals:
        data.originals_missing = {f.file_id for f in data.files
                                  if f.final_path
                                  and not ((workspace or Path.cwd()) / f.final_path).exists()}
    return data
