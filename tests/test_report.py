"""The evaluation report's figures against hand computations on a run log of known truth.

The run log is the one described in ``report_fixtures``; every expected number below is
worked out by hand from that table (the arithmetic is written next to it), never by calling
the code under test a second time.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

import pytest
from report_fixtures import F1, F2, RUNS, build_known_log, write_config

from robots.cli import main
from robots.config import Config
from robots.db.runlog import MIGRATIONS, RunLog
from robots.errors import ConfigError
from robots.report import build_report
from robots.report.data import Period, ReportData, missed_schedule_scenario, page_count
from robots.report.figures import Criterion, Report, ScenarioFigures
from robots.report.metrics import compute_report, week_of

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
A, B, C, D = RUNS["A"], RUNS["B"], RUNS["C"], RUNS["D"]


def _report(cfg: Config, **kw: object) -> Report:
    return build_report(cfg, now=NOW, tz=UTC, **kw)  # type: ignore[arg-type]


def _intake(report: Report) -> ScenarioFigures:
    (s,) = report.scenarios
    assert s.scenario == "intake"
    return s


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return build_known_log(tmp_path_factory.mktemp("known"))


@pytest.fixture(scope="module")
def full(known: Config) -> ScenarioFigures:
    return _intake(_report(known))


def test_volume(full: ScenarioFigures) -> None:
    v = full.volume
    assert full.run_ids == [A, B, C, D]
    # F1: A1, A2, B1, C1 — 4 documents of 1 page and 4 fields; F2: A3, 2 fields
    assert (v.by_form[F1].documents, v.by_form[F1].pages, v.by_form[F1].fields) == (4, 4, 16)
    assert (v.by_form[F2].documents, v.by_form[F2].pages, v.by_form[F2].fields) == (1, 1, 2)
    assert (v.total.documents, v.total.pages, v.total.fields) == (5, 5, 18)
    # weeks start on Monday: A on Mon 11-02; B, C on Tue 11-10 and Wed 11-11 (week of 11-09)
    assert list(v.by_week) == [dt.date(2026, 11, 2), dt.date(2026, 11, 9)]
    w1, w2 = v.by_week.values()
    assert (w1[F1].documents, w1[F2].documents, w2[F1].documents) == (2, 1, 2)
    assert F2 not in w2
    assert v.documents_flagged == 4  # all but B1


def test_quality(full: ScenarioFigures) -> None:
    q = full.quality
    g = q.overall
    # reviewed: runs A (A1 4 + A2 4 + A3 2) and C (4) = 14 fields; B1's 4 are not reviewed
    assert (g.fields, q.fields_unreviewed, q.documents_unreviewed) == (14, 4, 1)
    # wrong: A1.birth_date, A1.name_kana, A3.corporate_number
    assert (g.correct, g.wrong) == (11, 3)
    assert g.accuracy.value == pytest.approx(11 / 14)
    # chars: A1 4+10+12+4 (ヤマダ→ヤマダタ: 4) = 30, A2 2+10+12+3 = 27, A3 13+4 = 17,
    # C1 4+10+12+3 = 29 → 103; one character changed in each of the three corrections
    assert (g.chars, g.char_errors) == (103, 3)
    assert g.char_accuracy.value == pytest.approx(100 / 103)
    # flagged: A1 birth_date, mynumber; A2 birth_date; A3 corporate_number; C1 name,
    # birth_date = 6, of which 2 were wrong; 3 wrong in all, so recall 2/3
    assert (g.flagged, g.flagged_wrong) == (6, 2)
    assert g.flag_precision.value == pytest.approx(2 / 6)
    assert g.flag_recall.value == pytest.approx(2 / 3)
    assert (g.silent, g.silent_error_rate.value) == (1, pytest.approx(1 / 14))
    # documents: A1, A2, A3, C1 reviewed; A2 and C1 without a correction
    assert (q.documents_reviewed, q.documents_straight_through) == (4, 2)
    # no proposed or keyed field here: every field is read by the machine
    assert {k: (x.fields, x.reviewed) for k, x in q.kinds.items()} == {
        "read": (18, 14), "proposed": (0, 0), "keyed": (0, 0)}
    assert q.evidence_by_form == {F1: [A, C], F2: [A]} and q.silent_by_form == {F1: [A]}
    assert q.straight_through.value == pytest.approx(0.5)
    assert q.evidence_runs == [A, C] and q.silent_runs == [A] and q.simulated_runs == []
    f1, f2 = q.by_form[F1], q.by_form[F2]
    assert (f1.fields, f1.correct, f2.fields, f2.correct) == (12, 10, 2, 1)
    types = {t: (x.fields, x.correct, x.flagged, x.silent) for t, x in q.by_type.items()}
    assert types == {"text": (4, 4, 1, 0), "date": (3, 2, 3, 0), "mynumber": (3, 3, 1, 0),
                     "kana": (3, 2, 0, 1), "corporate_number": (1, 0, 1, 0)}


def test_time(full: ScenarioFigures) -> None:
    t = full.time
    # stage timings: A1 1000 ms, A2 2000 ms, B1 3000 ms ("pages" is not a stage); A3, C1 none
    assert t.robot_seconds.value == pytest.approx(2.0)
    # wall clock of completed runs with documents: (120 + 60 + 30) s / 5 documents
    assert t.elapsed_seconds.value == pytest.approx(42.0)
    assert (t.measured_runs, t.estimated_runs, t.unreviewed_runs) == ([A], [C], [B])
    # the only timed run, A: 12 min over 4 flagged fields = 3 min per flag; C has 2 → 6 min
    assert t.rates is not None and t.rates.source == "fitted" and t.rates.runs == (A,)
    assert t.estimate_minutes_per_flag == pytest.approx(3.0)
    assert (t.measured_minutes, t.estimated_minutes) == (pytest.approx(12), pytest.approx(6))
    assert "記録がある1回の実行" in t.estimate_method and "要確認の項目 180秒" in t.estimate_method
    assert "手入力" not in t.estimate_method  # no keyed field in these runs
    f1, f2 = t.by_form[F1], t.by_form[F2]
    # A's 12 min by the flags of its documents: A1 2 → 6, A2 1 → 3, A3 1 → 3; C1 6 (estimated)
    assert (f1.documents, f1.review_minutes) == (3, pytest.approx(15.0))
    assert (f1.attributed_minutes, f1.estimated_minutes) == (pytest.approx(9), pytest.approx(6))
    assert (f2.documents, f2.review_minutes, f2.review_source) == (1, pytest.approx(3.0),
                                                                    "attributed")
    assert f1.review_source == "estimated"
    # F1 measured: (20 + 30) min / 10 documents; F2 configured
    assert (f1.baseline.minutes, f1.baseline.source, f1.baseline.samples,
            f1.baseline.sample_documents, f1.baseline.who) == (5.0, "measured", 2, 10, ("clerk",))
    assert (f2.baseline.minutes, f2.baseline.source) == (8.0, "configured")
    assert f1.saved_per_doc == pytest.approx(5 - 15 / 3)
    assert f1.saved_share.value == pytest.approx(0.0)
    assert f1.annual_hours_saved == pytest.approx(0.0)
    assert f2.saved_per_doc == pytest.approx(5.0)
    assert f2.annual_hours_saved == pytest.approx(50 * 5 / 60)
    # totals over the 4 reviewed documents: review 18 min, manual 3×5 + 8 = 23 min
    assert t.review_per_doc.value == pytest.approx(18 / 4)
    assert t.baseline_per_doc.value == pytest.approx(23 / 4)
    assert t.saved_minutes == pytest.approx(5.0)
    assert t.saved_per_doc.value == pytest.approx(5 / 4)
    assert t.saved_share.value == pytest.approx(5 / 23)
    assert t.annual_hours_saved == pytest.approx(250 / 60)
    # all of it on flagged read fields
    assert full.quality.kinds["read"].minutes == pytest.approx(18.0)


def test_reliability(full: ScenarioFigures) -> None:
    r = full.reliability
    assert r.runs == 4
    assert r.by_status == {"completed": 3, "aborted": 1}
    assert r.by_trigger == {"schedule": 1, "manual": 3}
    assert r.failed_runs == [D]
    assert r.files == 6
    assert r.quarantined == {"page_not_recognised": [A], "duplicate": [C]}
    assert r.quarantined_files == 2
    assert [m[:34] for _, m in r.missed_schedules] == ["intake missed its 2026-11-13 09:00"]
    assert [m for _, m in r.failed_starts] == [
        "intake run at 2026-11-14 09:00 failed: OutputError"]
    assert r.lost == []
    assert r.warnings == 2  # a3 quarantined, D aborted (the missed schedule has no run)


def _by(s: ScenarioFigures) -> dict[tuple[str, str], Criterion]:
    return {(c.key, c.subject): c for c in s.verdict.criteria}


def test_verdict_with_default_thresholds_is_no_go(full: ScenarioFigures) -> None:
    v = full.verdict
    by = _by(full)
    # criteria per form (F1 4 of 5 documents = 80 %, F2 20 %: both over 10 %), then the whole
    assert {k: c.status for k, c in by.items()} == {
        ("field_accuracy", F1): "fail", ("silent_error_rate", F1): "fail",
        ("time_saved", F1): "fail", ("field_accuracy", F2): "fail",
        ("silent_error_rate", F2): "pass", ("time_saved", F2): "pass",
        ("lost_documents", ""): "pass"}
    assert v.decision == "no_go"  # F1: 1/12 silent errors against 0.5 %
    # F1: A1 4 + A2 4 + C1 4 = 12 reviewed, 10 right; F2: A3 2, 1 right
    assert by["field_accuracy", F1].shown == "83.3 %" and by["field_accuracy", F2].shown == "50.0 %"
    assert by["silent_error_rate", F1].evidence == (A,)
    assert by["silent_error_rate", F1].shown == "8.33 %"
    assert by["time_saved", F1].evidence == (A, C) and by["time_saved", F1].shown == "0.0 %"
    assert by["time_saved", F2].shown == "62.5 %"  # (8 − 3) / 8
    assert by["lost_documents", ""].evidence == (A, B, C, D)
    assert all(c.major for c in v.criteria)
    assert any("「入札参加資格審査申請書」の項目正読率" in c for c in v.conditions)
    assert any("仮定値です：入札参加資格審査申請書" in c for c in v.conditions)
    assert any("推定値" in c for c in v.conditions)
    assert any("異常終了した実行が2回" in c for c in v.conditions)  # D and the failed start
    assert any("予定どおり" in c for c in v.conditions)


LOOSE = """
[evaluation.thresholds]
min_field_accuracy = 0.7
max_silent_error_rate = 0.15
min_time_saved = 0.2
min_reviewed_documents = 3
"""


def _loose(tmp_path: Path, f2_minutes: float = 8.0, extra: str = "") -> Config:
    build_known_log(tmp_path)
    return write_config(tmp_path, LOOSE + extra, f2_minutes=f2_minutes)


def test_a_failing_form_keeps_a_passing_total_from_go(tmp_path: Path) -> None:
    cfg = _loose(tmp_path)
    # run A alone: 7/10 right in total (≥ 70 %), but F2 1/2; F1 1/8 silent (≤ 15 %)
    s = _intake(_report(cfg, until=dt.date(2026, 11, 8)))
    assert s.quality.overall.accuracy.value == pytest.approx(0.7)
    by = _by(s)
    assert by["field_accuracy", F1].status == "pass"  # 6/8 = 75 %
    assert by["field_accuracy", F2].status == "fail"
    # F1: A's flags 2 + 1 of 4 → 9 of its 12 min; (2 × 5 − 9) / 10 = 10 % < 20 %
    assert by["time_saved", F1].measured == pytest.approx(0.1)
    assert s.verdict.decision == "conditional"
    assert any(c.startswith("「入札参加資格審査申請書」の項目正読率") for c in s.verdict.conditions)


def test_silent_errors_of_a_small_form_are_a_condition_not_a_no_go(tmp_path: Path) -> None:
    # F1 carries 80 % of the documents: under a share of 90 % it is a small form
    cfg = _loose(tmp_path, extra="min_form_share = 0.9\n")
    strict = write_config(tmp_path, LOOSE.replace("0.15\n", "0.05\n", 1)
                          + "min_form_share = 0.9\n")
    s = _intake(_report(strict))
    silent = _by(s)["silent_error_rate", F1]
    assert (silent.status, silent.major) == ("fail", False)  # 1/12 = 8.3 % > 5 %
    assert s.verdict.decision == "conditional"
    assert any("文書の少ない様式" in c for c in s.verdict.conditions)
    assert _intake(_report(cfg)).verdict.decision == "conditional"


def test_measured_time_that_grows_is_no_go(tmp_path: Path) -> None:
    # F2 timed by hand at 0.5 min: A3 took 3 of run A's 12 min (measured, shared by the
    # measured rate) — more than by hand, on a form with a third of the documents
    cfg = _loose(tmp_path)
    runlog = RunLog(cfg.resolve(cfg.paths.runlog))
    runlog.record_baseline(F2, documents=2, minutes=1.0, who="clerk")
    runlog.close()
    s = _intake(_report(cfg, until=dt.date(2026, 11, 8)))
    assert s.time.by_form[F2].saved_per_doc == pytest.approx(-2.5)
    assert s.verdict.decision == "no_go"


def test_assumed_time_that_grows_is_not_evidence_for_no_go(tmp_path: Path) -> None:
    # the same with 0.5 min only assumed in the configuration: a condition, not a no-go
    cfg = _loose(tmp_path, f2_minutes=0.5)
    s = _intake(_report(cfg, until=dt.date(2026, 11, 8)))
    assert _by(s)["time_saved", F2].status == "fail"
    assert s.verdict.decision == "conditional"


def test_missing_original_is_a_lost_document(tmp_path: Path) -> None:
    cfg = _loose(tmp_path)
    (tmp_path / "done" / "a2.pdf").unlink()
    s = _intake(_report(cfg))
    assert [(r, n) for r, n, _ in s.reliability.lost] == [(A, "a2.pdf")]
    lost = next(c for c in s.verdict.criteria if c.key == "lost_documents")
    assert (lost.status, lost.measured, lost.evidence) == ("fail", 1.0, (A,))
    assert s.verdict.decision == "no_go"


def test_pages_missing_from_documents_are_lost(tmp_path: Path) -> None:
    cfg = build_known_log(tmp_path)
    db = sqlite3.connect(cfg.resolve(cfg.paths.runlog))
    db.execute("UPDATE files SET pages = 3 WHERE source_name = 'a2.pdf'")
    db.commit()
    db.close()
    (lost,) = _intake(_report(cfg)).reliability.lost
    assert lost[:2] == (A, "a2.pdf") and "3ページ中2ページ" in lost[2]


def test_period_and_scenario_filters(known: Config) -> None:
    s = _intake(_report(known, since=dt.date(2026, 11, 10), until=dt.date(2026, 11, 11)))
    assert s.run_ids == [B, C]
    assert s.reliability.missed_schedules == []  # 11-13 is outside
    assert s.quality.overall.fields == 4  # C1 only; B1 unreviewed
    assert _report(known, scenario="other").scenarios == []


def test_empty_period_says_so_without_dividing_by_zero(known: Config) -> None:
    report = _report(known, since=dt.date(2030, 1, 1))
    assert report.empty and report.scenarios == []
    assert "ありません" in report.notes[0]
    # and a scenario with documents but nothing reviewed has no ratio at all
    empty = compute_report(ReportData(Period()), known.evaluation, generated_at=NOW)
    assert empty.empty


def test_unreviewed_run_is_pending_not_right(known: Config) -> None:
    s = _intake(_report(known, since=dt.date(2026, 11, 10), until=dt.date(2026, 11, 10)))
    q = s.quality
    assert (q.overall.fields, q.fields_unreviewed, q.overall.accuracy.value) == (0, 4, None)
    by = _by(s)
    assert by["field_accuracy", F1].status == "pending"
    assert by["field_accuracy", F1].shown == "—"
    assert by["time_saved", F1].status == "pending"
    assert s.time.unreviewed_runs == [B]
    assert s.verdict.decision == "conditional"


def test_estimate_falls_back_to_configured_seconds(known: Config) -> None:
    s = _intake(_report(known, since=dt.date(2026, 11, 11), until=dt.date(2026, 11, 11)))
    # no run with a recorded time in the period: 2 flagged fields × 45 s (config)
    assert s.time.estimated_minutes == pytest.approx(1.5)
    assert s.time.rates is not None and s.time.rates.source == "configured"
    assert "要確認の項目 45秒" in s.time.estimate_method
    assert "設定の仮定値" in s.time.estimate_method


def test_no_field_values_reach_the_report_data(known: Config) -> None:
    db = sqlite3.connect(known.resolve(known.paths.runlog))
    dumped = "\n".join(db.iterdump())
    db.close()
    for value in ("123456789018", "山田太郎", "ヤマダタ", "7123456789013"):
        assert value not in dumped


def test_helpers() -> None:
    assert week_of(dt.date(2026, 11, 15)) == dt.date(2026, 11, 9)  # Sunday → its Monday
    assert (page_count("2"), page_count("2-3"), page_count("x")) == (1, 2, 1)
    known = {"intake", "deposit_inquiry"}
    assert missed_schedule_scenario("scenario=deposit_inquiry at 09:00", known) == (
        "deposit_inquiry")
    assert missed_schedule_scenario("intake: missed 2026-11-13 09:00", known) == "intake"
    assert missed_schedule_scenario("something else", known) is None


def test_migration_is_named_and_applied(tmp_path: Path) -> None:
    names = [n for n, _ in MIGRATIONS]
    assert names[:2] == ["0001_initial", "0002_evaluation"] and len(set(names)) == len(names)
    assert "0014_baseline_tasks" in names
    runlog = RunLog(tmp_path / "r.sqlite")
    try:
        applied = {r[0] for r in runlog.db.execute("SELECT name FROM migrations")}
        cols = {r[1] for r in runlog.db.execute("PRAGMA table_info(imports)")}
        assert {"0001_initial", "0002_evaluation"} <= applied and "simulated" in cols
        cols = {r[1] for r in runlog.db.execute("PRAGMA table_info(baselines)")}
        assert "kind" in cols
        assert runlog.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        runlog.close()


def test_work_counts_are_kept_per_run(tmp_path: Path) -> None:
    runlog = RunLog(tmp_path / "r.sqlite")
    try:
        runlog.start_run("r1", "deposit_inquiry", trigger="manual", jobs=1, version="t")
        with runlog.atomic():
            runlog.add_counts("r1", {"replies": 7, "replies_linked_automatically": 5})
            runlog.add_counts("r1", {"replies": 8})  # counted again: replaced, not added
        assert runlog.work_counts("r1") == {"replies": 8, "replies_linked_automatically": 5}
        assert runlog.work_counts("r2") == {}
    finally:
        runlog.close()


def test_evaluation_config_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"evaluation\.thresholds\.min_field_acuracy"):
        write_config(tmp_path, "\n[evaluation.thresholds]\nmin_field_acuracy = 0.9\n")
    with pytest.raises(ConfigError, match="more than 0"):
        write_config(tmp_path / "b", f2_minutes=0)
    with pytest.raises(ConfigError, match="max_silent_error_rate"):
        write_config(tmp_path / "c", "\n[evaluation.thresholds]\nmax_silent_error_rate = 2\n")


# -- command line ------------------------------------------------------------------------------


def test_baseline_record_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    conf = str(cfg.source)
    assert main(["--config", conf, "baseline", "record", "--form", F1, "--documents", "5",
                 "--minutes", "23.5", "--who", "佐藤"]) == 0
    assert main(["--config", conf, "baseline", "record", "--form", F1, "--documents", "3",
                 "--minutes", "12"]) == 0
    out = capsys.readouterr().out
    assert "4.70 min per document" in out and "4.44 min per document" in out  # 35.5 / 8
    # a task that is not a form: checking deposit replies by hand, 12 in 42 minutes
    assert main(["--config", conf, "baseline", "record", "--task", "deposit_reply_check",
                 "--count", "12", "--minutes", "42", "--who", "田中"]) == 0
    assert "3.50 min per unit" in capsys.readouterr().out
    assert main(["--config", conf, "baseline", "list"]) == 0
    out = capsys.readouterr().out
    assert "measured (2 sample(s), 8 document(s), by 佐藤" in out
    assert "8.00 min/document  assumed" in out  # bid_qualification, from the configuration
    assert "task deposit_reply_check" in out and "1 sample(s), 12 unit(s), by 田中" in out
    assert "contract_register_check (契約1件の台帳点検)" in out  # not measured yet
    assert main(["--config", conf, "baseline", "record", "--task", "nope", "--count", "1",
                 "--minutes", "1"]) == 64
    assert main(["--config", conf, "baseline", "record", "--form", "nope", "--documents", "1",
                 "--minutes", "1"]) == 64
    assert main(["--config", conf, "baseline", "record", "--form", F1, "--documents", "0",
                 "--minutes", "1"]) == 64
    runlog = RunLog(cfg.resolve(cfg.paths.runlog))
    try:
        rows = runlog.baselines(F1)
    finally:
        runlog.close()
    assert [(r["documents"], r["minutes"], r["who"], r["kind"]) for r in rows] == [
        (5, 23.5, "佐藤", "form"), (3, 12.0, rows[1]["who"], "form")]
    report = _report(cfg)
    assert report.empty  # baselines alone are no runs


def test_report_command(known: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                        ) -> None:
    conf = str(known.source)
    out_dir = tmp_path / "rep"
    assert main(["--config", conf, "report", "--since", "2026-11-01", "--until", "2026/11/30",
                 "--scenario", "intake", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "intake: no_go (見送り); 4 run(s), 5 document(s)" in out
    assert "field_accuracy[bid_qualification]" in out
    assert len(list(out_dir.glob("評価報告_*.html"))) == 1
    assert len(list(out_dir.glob("評価報告_*.xlsx"))) == 1
    assert main(["--config", conf, "report", "--since", "2026-12-01", "--until",
                 "2026-11-01"]) == 64
    assert main(["--config", conf, "report", "--since", "yesterday"]) == 64
    empty = tmp_path / "empty"
    assert main(["--config", conf, "report", "--since", "2030-01-01", "--out", str(empty)]) == 0
    assert "no runs in this period" in capsys.readouterr().out
    html = next(empty.glob("*.html")).read_text(encoding="utf-8")
    assert "この期間には実行の記録がありません" in html
    assert "NaN" not in re.sub(r"data:[^\"')]+", "", html)  # base64 may hold any letters


def test_runs_show_lists_documents_and_problems(known: Config,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(known.source), "runs", "show", A]) == 0
    out = capsys.readouterr().out
    assert "a3.pdf: failed (page_not_recognised)" in out
    # each document with its flags, corrections and time; the import with its review time
    assert "A1 p1 juminhyo_request: needs_review — 4 field(s), 2 flagged, 2 corrected, " \
           "1000 ms (load 100, align 200, fields 700)" in out
    assert "import 1 by clerk at 2026-11-03T01:00:00+00:00: 3 correction(s), review 12 min" in out
    assert "B1" not in out
