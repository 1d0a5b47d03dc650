"""A run log with known truth, built by hand through the RunLog API (no OCR), for the report tests.

The figures each report test expects are computed by hand from the table in
:data:`EXPECTED_NOTES`; keep the two in step when changing the data.

Scenario ``intake``, forms F1 = juminhyo_request (4 fields) and F2 = bid_qualification
(2 fields):

======  ==========  =========  ===========================================================
run     started     trigger    content
======  ==========  =========  ===========================================================
A       2026-11-02  schedule   a1 → A1 (F1), a2 (2 pages) → A2 (F1) + A3 (F2), a3 rejected;
                               import with 12 review minutes: A1.birth_date and
                               A3.corporate_number corrected (flagged), A1.name_kana
                               corrected although unflagged (a silent error); 120 s
B       2026-11-10  manual     b1 → B1 (F1), nothing flagged, never imported; 60 s
C       2026-11-11  manual     c1 → C1 (F1), c2 duplicate; imported without review time; 30 s
D       2026-11-12  manual     aborted, no files
(none)  2026-11-13  —          schedule_missed event for intake (11-14 schedule_failed,
                               11-15 schedule_skipped_holiday: a decision, not a miss)
======  ==========  =========  ===========================================================

Baseline: F1 measured twice (5 documents in 20 min, 5 in 30 min → 5.0 min/document); F2
configured at 8.0 min/document. Annual volume: F1 1000, F2 50.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ocr.reasons import reason
from ocr.results import FieldResult
from robots.config import Config, load_config
from robots.db.runlog import RunLog

__all__ = ["F1", "F2", "RUNS", "LogBuilder", "build_known_log", "write_config"]

F1, F2 = "juminhyo_request", "bid_qualification"
RUNS = {"A": "20261102-100000-aaaa", "B": "20261110-100000-bbbb",
        "C": "20261111-100000-cccc", "D": "20261112-100000-dddd"}
UTC = dt.UTC

CONFIG = """
[evaluation]
review_seconds_per_flagged_field = 45.0

[evaluation.baseline_minutes]
juminhyo_request = 4.0          # replaced by the measured samples
bid_qualification = {f2_minutes}

[evaluation.annual_volume]
juminhyo_request = 1000
bid_qualification = 50
"""


def write_config(root: Path, extra: str = "", *, f2_minutes: float = 8.0) -> Config:
    """A config.toml in ``root`` (its run log in root/var/) with CONFIG plus ``extra``."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.toml"
    path.write_text(CONFIG.format(f2_minutes=f2_minutes) + extra, encoding="utf-8")
    return load_config(path)


def field(name: str, ftype: str, value: str, *, flagged: bool = False) -> FieldResult:
    return FieldResult(name=name, label=name, type=ftype, raw=value, value=value,
                       confidence=0.5 if flagged else 0.99,
                       reasons=[reason("low_confidence")] if flagged else [])


def f1(name: str, date: str, mynumber: str, kana: str, *, flags: set[str] = frozenset()
       ) -> list[FieldResult]:
    return [field("name", "text", name, flagged="name" in flags),
            field("birth_date", "date", date, flagged="birth_date" in flags),
            field("mynumber", "mynumber", mynumber, flagged="mynumber" in flags),
            field("name_kana", "kana", kana, flagged="name_kana" in flags)]


@dataclass
class LogBuilder:
    """Writes runs into a run log the way the runner does, with chosen timestamps."""

    runlog: RunLog
    root: Path

    def run(self, run_id: str, *, trigger: str, start: dt.datetime, seconds: float,
            status: str = "completed", exit_code: int = 2) -> None:
        self.runlog.start_run(run_id, "intake", trigger=trigger, jobs=1, version="test")
        self.runlog.finish_run(run_id, status=status, exit_code=exit_code, summary={})
        end = start + dt.timedelta(seconds=seconds)
        self.runlog.db.execute("UPDATE runs SET started_at = ?, finished_at = ? WHERE run_id = ?",
                               (start.isoformat(), end.isoformat(), run_id))

    def file(self, run_id: str, name: str, *, pages: int, outcome: str = "processed",
             reason_code: str | None = None, on_disk: bool = True) -> int:
        final = self.root / ("done" if outcome == "processed" else "failed") / name
        if on_disk:
            final.parent.mkdir(parents=True, exist_ok=True)
            final.write_bytes(b"scan")
        return self.runlog.add_file(run_id, source_name=name, sha256=f"{run_id}-{name}",
                                    size=4, pages=pages, outcome=outcome,
                                    reason_code=reason_code, final_path=str(final))

    def doc(self, run_id: str, file_id: int, doc_id: str, form: str, page: str,
            fields: list[FieldResult], timings: dict[str, float] | None = None) -> None:
        self.runlog.add_document(run_id, file_id, doc_id=doc_id, page=page, form_id=form,
                                 status="needs_review" if any(f.flagged for f in fields)
                                 else "ok", registration_score=0.9, reason_code=None,
                                 timings=timings or {}, fields=fields)


def build_known_log(root: Path) -> Config:
    """The run log of the module docstring, in ``root`` (config.toml beside it)."""
    cfg = write_config(root)
    runlog = RunLog(cfg.resolve(cfg.paths.runlog), key=cfg.resolve(cfg.paths.digest_key))
    b = LogBuilder(runlog, root)
    a, bb, c, d = RUNS["A"], RUNS["B"], RUNS["C"], RUNS["D"]
    try:
        b.run(a, trigger="schedule", start=dt.datetime(2026, 11, 2, 1, 0, tzinfo=UTC),
              seconds=120)
        fa1 = b.file(a, "a1.pdf", pages=1)
        b.doc(a, fa1, "A1", F1, "1", f1("山田太郎", "1985-04-12", "123456789018", "ヤマダ",
                                          flags={"birth_date", "mynumber"}),
              {"load": 100.0, "align": 200.0, "fields": 700.0})
        fa2 = b.file(a, "a2.pdf", pages=2)
        b.doc(a, fa2, "A2", F1, "1", f1("佐藤", "1990-01-01", "111111111118", "サトウ",
                                          flags={"birth_date"}),
              {"load": 0.0, "align": 500.0, "fields": 1500.0})
        b.doc(a, fa2, "A3", F2, "2", [field("corporate_number", "corporate_number",
                                            "7123456789012", flagged=True),
                                      field("company_name", "text", "株式会社")])
        b.file(a, "a3.pdf", pages=1, outcome="failed", reason_code="page_not_recognised")
        runlog.event(a, "page_not_recognised", "a3.pdf: 1 page(s) not recognised",
                     level="warning")
        runlog.record_import(a, workbook_sha256="wa", who="clerk", at="2026-11-03T01:00:00+00:00",
                             review_minutes=12.0, corrections=[
                                 ("A1", "birth_date", "correction_sheet", "1985-04-12",
                                  "1985-04-13"),
                                 ("A1", "name_kana", "data_sheet", "ヤマダ", "ヤマダタ"),
                                 ("A3", "corporate_number", "correction_sheet", "7123456789012",
                                  "7123456789013")])

        b.run(bb, trigger="manual", start=dt.datetime(2026, 11, 10, 1, 0, tzinfo=UTC),
              seconds=60)
        fb1 = b.file(bb, "b1.png", pages=1)
        b.doc(bb, fb1, "B1", F1, "1", f1("田中", "1970-02-02", "222222222226", "タナカ"),
              {"fields": 3000.0, "pages": 1.0})

        b.run(c, trigger="manual", start=dt.datetime(2026, 11, 11, 1, 0, tzinfo=UTC),
              seconds=30)
        fc1 = b.file(c, "c1.tif", pages=1)
        b.doc(c, fc1, "C1", F1, "1", f1("鈴木一郎", "2000-01-01", "111111111118", "スズキ",
                                          flags={"name", "birth_date"}))
        b.file(c, "c2.tif", pages=1, outcome="duplicate", reason_code="duplicate")
        runlog.record_import(c, workbook_sha256="wc", who="clerk", at="2026-11-12T01:00:00+00:00",
                             review_minutes=None, corrections=[])

        b.run(d, trigger="manual", start=dt.datetime(2026, 11, 12, 1, 0, tzinfo=UTC),
              seconds=5, status="aborted", exit_code=1)
        runlog.event(d, "run_aborted", "run did not finish; 0 file(s) put back in the inbox",
                     level="warning")
        # as robots.service.scheduler writes them (run_id NULL, the scenario first)
        runlog.event(None, "schedule_missed", "intake missed its 2026-11-13 09:00 run: the "
                     "scheduler was not running within 600 s of that time (misfire)",
                     level="warning")
        runlog.event(None, "schedule_failed",
                     "intake run at 2026-11-14 09:00 failed: OutputError", level="warning")
        runlog.event(None, "schedule_skipped_holiday", "intake skipped its 2026-11-15 09:00 "
                     "run: 日曜日", level="info")
        for code, day in (("schedule_missed", 13), ("schedule_failed", 14),
                          ("schedule_skipped_holiday", 15)):
            runlog.db.execute("UPDATE events SET at = ? WHERE code = ?",
                              (f"2026-11-{day}T00:00:00+00:00", code))
        runlog.record_baseline(F1, documents=5, minutes=20.0, who="clerk")
        runlog.record_baseline(F1, documents=5, minutes=30.0, who="clerk")
    finally:
        runlog.close()
    return cfg
