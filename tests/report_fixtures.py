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

Two more logs, each described where it is built: :func:`build_forms_log` (a failing form
inside a passing total, the three kinds of field, review time shared among forms by measured
rates, a measured and an assumed baseline) and :func:`build_work_log` (the scenarios' own
work: deposit replies linked, a link undone later, contract findings judged, timed tasks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ocr.reasons import Reason, reason
from ocr.results import FieldResult
from robots.config import Config, load_config
from robots.db.runlog import RunLog

__all__ = ["F1", "F2", "F3", "FORM_RUNS", "RUNS", "WORK_RUNS", "LogBuilder", "build_forms_log",
           "build_known_log", "build_work_log", "write_config"]

F1, F2, F3 = "juminhyo_request", "bid_qualification", "koza_furikae"
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


def write_config(root: Path, extra: str = "", *, f2_minutes: float = 8.0,
                 base: str | None = None) -> Config:
    """A config.toml in ``root`` (its run log in root/var/) with CONFIG (or ``base``) plus
    ``extra``."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.toml"
    text = CONFIG.format(f2_minutes=f2_minutes) if base is None else base
    path.write_text(text + extra, encoding="utf-8")
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
            status: str = "completed", exit_code: int = 2, scenario: str = "intake") -> None:
        self.runlog.start_run(run_id, scenario, trigger=trigger, jobs=1, version="test")
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


# -- a failing form inside a passing total; three kinds of field; review time per form ---------

FORM_RUNS = {"X": "20261102-100000-xxxx", "Y": "20261103-100000-yyyy",
             "M": "20261104-100000-mmmm", "Z": "20261110-100000-zzzz",
             "U": "20261111-100000-uuuu"}
#: What a resident wrote on the handwritten form (keyed by staff: never read by the machine).
NAME, ADDRESS, BRANCH = "山田太郎", "美里町1番地", "本店"

FORMS_CONFIG = """
[evaluation]
review_seconds_per_flagged_field = 30.0
review_seconds_per_proposed_field = 30.0
review_seconds_per_keyed_field = 30.0

[evaluation.thresholds]
min_field_accuracy = {accuracy}
max_silent_error_rate = 0.05
min_time_saved = 0.2
min_reviewed_documents = 4

[evaluation.baseline_minutes]
juminhyo_request = 9.0          # replaced by the measured samples
koza_furikae = 8.0              # an assumption: never measured

[evaluation.annual_volume]
juminhyo_request = 1000
koza_furikae = 300
"""


def f3(*, proposal: bool, flags: set[str] = frozenset()) -> list[FieldResult]:
    """A handwritten 口座振替依頼書: 2 fields read (digits in boxes), 2 or 3 keyed by design,
    and the branch name proposed from the bank data when the branch code was read."""
    keyed = [FieldResult(n, n, "text", "", "", 0.0, [reason("manual_keying")])
             for n in ("name", "address", *(() if proposal else ("branch_name",)))]
    proposed = [FieldResult("branch_name", "支店名", "text", BRANCH, BRANCH, 1.0,
                            [Reason("proposed", "全銀データ")])] if proposal else []
    return [field("bank_code", "bank_code", "0001", flagged="bank_code" in flags),
            field("account_number", "account_number", "1234567",
                  flagged="account_number" in flags), *keyed, *proposed]


def _keyed(doc: str, *, branch: bool) -> list[tuple[str, str, str, str, str]]:
    out = [(doc, "name", "correction_sheet", "", NAME),
           (doc, "address", "correction_sheet", "", ADDRESS)]
    return out + ([(doc, "branch_name", "correction_sheet", "", BRANCH)] if branch else [])


def build_forms_log(root: Path, *, accuracy: float = 0.9) -> Config:
    """Intake with 住民票 requests (F1, printed) and handwritten 口座振替依頼書 (F3).

    An F3 document has 2 read fields (bank code, account number), the name and address keyed
    by design, and the branch name proposed from the bank data ("a") or, when no proposal
    could be made, keyed too ("b"). What the reviewer had to do per run (flagged read,
    proposed, keyed fields) and the minutes recorded:

    ===  ======  =====================================================  ==========  ========
    run  day     documents                                              units f,p,k minutes
    ===  ======  =====================================================  ==========  ========
    X    11-02   X1 F1 (birth_date, mynumber flagged), X2 F1 (name)     3, 0, 0     3
    Y    11-03   Y1 F3a (bank_code flagged, corrected), Y2 F3b          1, 1, 5     11.5
    M    11-04   M1 F1 (birth_date); M2 F3a (account_number flagged,    2, 1, 2     6.5
                 right; the proposal changed to 中央支店)
    Z    11-10   Z1 F1 (birth_date, name); Z2 F3b (account_number       3, 0, 3     none
                 flagged, corrected) — imported without a time
    U    11-11   U1 F1, nothing flagged, never imported                 —           —
    ===  ======  =====================================================  ==========  ========

    The three timed runs determine the rates exactly: f = 1, p = 0.5, k = 2 minutes per
    field. Baselines: F1 measured (佐藤 5 in 15 min on 10-20, 田中 5 in 20 min on 10-21 →
    3.5 min), F3 assumed in the configuration (8.0 min).
    """
    cfg = write_config(root, base=FORMS_CONFIG.format(accuracy=accuracy))
    runlog = RunLog(cfg.resolve(cfg.paths.runlog), key=cfg.resolve(cfg.paths.digest_key))
    b = LogBuilder(runlog, root)
    x, y, m, z, u = (FORM_RUNS[k] for k in "XYMZU")

    def start(day: int) -> dt.datetime:
        return dt.datetime(2026, 11, day, 1, 0, tzinfo=UTC)

    def imported(run: str, minutes: float | None, corrections: list) -> None:
        runlog.record_import(run, workbook_sha256=f"w{run}", who="clerk",
                             at=start(20).isoformat(), review_minutes=minutes,
                             corrections=corrections)
    try:
        b.run(x, trigger="schedule", start=start(2), seconds=60)
        fx = b.file(x, "x.pdf", pages=2)
        b.doc(x, fx, "X1", F1, "1", f1("山田太郎", "1985-04-12", "123456789018", "ヤマダ",
                                        flags={"birth_date", "mynumber"}))
        b.doc(x, fx, "X2", F1, "2", f1("佐藤", "1990-01-01", "111111111118", "サトウ",
                                        flags={"name"}))
        imported(x, 3.0, [])

        b.run(y, trigger="schedule", start=start(3), seconds=60)
        fy = b.file(y, "y.pdf", pages=2)
        b.doc(y, fy, "Y1", F3, "1", f3(proposal=True, flags={"bank_code"}))
        b.doc(y, fy, "Y2", F3, "2", f3(proposal=False))
        imported(y, 11.5, [("Y1", "bank_code", "correction_sheet", "0001", "0009"),
                           *_keyed("Y1", branch=False), *_keyed("Y2", branch=True)])

        b.run(m, trigger="schedule", start=start(4), seconds=60)
        fm = b.file(m, "m.pdf", pages=2)
        b.doc(m, fm, "M1", F1, "1", f1("田中", "1970-02-02", "222222222226", "タナカ",
                                        flags={"birth_date"}))
        b.doc(m, fm, "M2", F3, "2", f3(proposal=True, flags={"account_number"}))
        imported(m, 6.5, [("M2", "branch_name", "correction_sheet", BRANCH, "中央支店"),
                          *_keyed("M2", branch=False)])

        b.run(z, trigger="schedule", start=start(10), seconds=60)
        fz = b.file(z, "z.pdf", pages=2)
        b.doc(z, fz, "Z1", F1, "1", f1("鈴木", "2000-01-01", "111111111118", "スズキ",
                                        flags={"birth_date", "name"}))
        b.doc(z, fz, "Z2", F3, "2", f3(proposal=False, flags={"account_number"}))
        imported(z, None, [("Z2", "account_number", "correction_sheet", "1234567", "1234561"),
                           *_keyed("Z2", branch=True)])

        b.run(u, trigger="schedule", start=start(11), seconds=60)
        fu = b.file(u, "u.pdf", pages=1)
        b.doc(u, fu, "U1", F1, "1", f1("高橋", "1980-03-03", "111111111118", "タカハシ"))

        runlog.record_baseline(F1, documents=5, minutes=15.0, who="佐藤",
                               at="2026-10-20T01:00:00+00:00")
        runlog.record_baseline(F1, documents=5, minutes=20.0, who="田中",
                               at="2026-10-21T01:00:00+00:00")
    finally:
        runlog.close()
    return cfg


# -- the scenarios' own work: deposit replies linked, contract findings judged ---------------

WORK_RUNS = {"D1": "20261102-100000-dep1", "D2": "20261109-100000-dep2",
             "K1": "20261104-100000-con1"}

WORK_CONFIG = """
[evaluation.thresholds]
min_reviewed_documents = 1

[evaluation.baseline_minutes]
deposit_reply = 5.0
bid_qualification = 6.0
bid_application_check = 3.0       # an assumption: never measured

[evaluation.annual_volume]
deposit_reply_check = 1200
contract_register_check = 600
"""


def build_work_log(root: Path) -> Config:
    """Runs of deposit_inquiry and contracts with the counts their ``finish`` writes.

    ====  ==========  ===================================================================
    run   scenario    content
    ====  ==========  ===================================================================
    D1    deposit     paper reply P1 (2 read fields, 1 flagged, right; 2 min recorded);
          11-02       reply rows R1–R3 of the online service; counts: replies 10, linked
                      automatically 7, for review 3, proposals confirmed 2 / rejected 1,
                      forced 0, refused 1 (wrong_links_found not written)
    D2    deposit     reply rows R4, R5; counts: replies 10, linked automatically 8, for
          11-09       review 2, proposals confirmed 1 / rejected 0, forced 1, refused 0,
                      wrong_links_found 1; never imported
    K1    contracts   paper application B1 (2 read fields, nothing flagged, 0 min recorded);
          11-04       applications A1 (rows 2–3), A2 (row 4); suspension list S1 (rows 2–6);
                      counts: applications 2, listed 1, for review 1, contracts checked 40,
                      findings 4, valid 3, false 1
    ====  ==========  ===================================================================

    Timed tasks: deposit_reply_check 10 in 35 min (佐藤) and 10 in 45 min (田中) → 4.0 min;
    contract_register_check 20 in 30 min → 1.5; contract_finding_decision 4 in 10 min → 2.5;
    bid_application_check assumed 3.0 in the configuration; no decision timed for deposit
    replies or applications (taken as long as the manual unit).
    """
    cfg = write_config(root, base=WORK_CONFIG)
    runlog = RunLog(cfg.resolve(cfg.paths.runlog), key=cfg.resolve(cfg.paths.digest_key))
    b = LogBuilder(runlog, root)
    d1, d2, k1 = WORK_RUNS["D1"], WORK_RUNS["D2"], WORK_RUNS["K1"]
    row = [field("bank_code", "bank_code", "0001"), field("kana", "kana", "ヤマダ")]
    try:
        b.run(d1, trigger="schedule", start=dt.datetime(2026, 11, 2, 1, tzinfo=UTC), seconds=40,
              scenario="deposit_inquiry")
        fp = b.file(d1, "p1.pdf", pages=1)
        b.doc(d1, fp, "P1", "deposit_reply", "1",
              [field("bank_code", "bank_code", "0001", flagged=True),
               field("reply_date", "date", "2026-10-01")])
        fr = b.file(d1, "replies.csv", pages=0)
        for i in (1, 2, 3):
            b.doc(d1, fr, f"R{i}", "deposit_reply_data", str(i + 1), row)
        runlog.add_counts(d1, {"replies": 10, "replies_linked_automatically": 7,
                               "replies_for_review": 3, "proposals_confirmed": 2,
                               "proposals_rejected": 1, "links_forced": 0, "links_refused": 1})
        runlog.record_import(d1, workbook_sha256="wd1", who="clerk",
                             at="2026-11-03T01:00:00+00:00", review_minutes=2.0,
                             corrections=[], doc_ids=["P1"])

        b.run(d2, trigger="schedule", start=dt.datetime(2026, 11, 9, 1, tzinfo=UTC), seconds=20,
              scenario="deposit_inquiry")
        fr2 = b.file(d2, "replies2.csv", pages=0)
        for i in (4, 5):
            b.doc(d2, fr2, f"R{i}", "deposit_reply_data", str(i - 2), row)
        runlog.add_counts(d2, {"replies": 10, "replies_linked_automatically": 8,
                               "replies_for_review": 2, "proposals_confirmed": 1,
                               "proposals_rejected": 0, "links_forced": 1, "links_refused": 0,
                               "wrong_links_found": 1})

        b.run(k1, trigger="schedule", start=dt.datetime(2026, 11, 4, 1, tzinfo=UTC), seconds=30,
              scenario="contracts")
        fb = b.file(k1, "b1.pdf", pages=1)
        b.doc(k1, fb, "B1", F2, "1", [field("corporate_number", "corporate_number",
                                            "7123456789012"),
                                      field("company_name", "text", "株式会社")])
        fa = b.file(k1, "applications.csv", pages=0)
        b.doc(k1, fa, "A1", "bid_application_data", "2-3", row)
        b.doc(k1, fa, "A2", "bid_application_data", "4", row)
        fs = b.file(k1, "suspensions.csv", pages=0)
        b.doc(k1, fs, "S1", "suspension_list_data", "2-6", row)
        runlog.add_counts(k1, {"applications": 2, "applications_listed": 1,
                               "applications_for_review": 1, "contracts_checked": 40,
                               "findings": 4, "findings_valid": 3, "findings_false": 1})
        runlog.record_import(k1, workbook_sha256="wk1", who="clerk",
                             at="2026-11-05T01:00:00+00:00", review_minutes=0.0,
                             corrections=[], doc_ids=["B1"])

        for task, n, minutes, who in (("deposit_reply_check", 10, 35.0, "佐藤"),
                                      ("deposit_reply_check", 10, 45.0, "田中"),
                                      ("contract_register_check", 20, 30.0, "鈴木"),
                                      ("contract_finding_decision", 4, 10.0, "鈴木")):
            runlog.record_baseline(task, documents=n, minutes=minutes, who=who, kind="task",
                                   at="2026-10-15T01:00:00+00:00")
    finally:
        runlog.close()
    return cfg
