"""The report cannot mislead: per-form verdicts, three kinds of field, measured baselines, review
time where it was spent, and each scenario judged on its own work.

The run logs are those of ``report_fixtures.build_forms_log`` and ``build_work_log``; every
expected number is worked out by hand from the tables in their docstrings (the arithmetic is
written next to it), never by calling the code under test a second time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from report_fixtures import F1, F3, FORM_RUNS, WORK_RUNS, build_forms_log, build_work_log

from robots.config import Config, load_config
from robots.db.runlog import RunLog
from robots.report import build_report, write_report
from robots.report.figures import Criterion, Report, ScenarioFigures
from robots.report.review_time import nonneg_lstsq

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
X, Y, M, Z, U = (FORM_RUNS[k] for k in "XYMZU")


def _report(cfg: Config, **kw: object) -> Report:
    return build_report(cfg, now=NOW, tz=UTC, **kw)  # type: ignore[arg-type]


def _one(report: Report, name: str) -> ScenarioFigures:
    return next(s for s in report.scenarios if s.scenario == name)


def _by(s: ScenarioFigures) -> dict[tuple[str, str], Criterion]:
    return {(c.key, c.subject): c for c in s.verdict.criteria}


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> ScenarioFigures:
    return _one(_report(build_forms_log(tmp_path_factory.mktemp("forms"))), "intake")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return _report(build_work_log(tmp_path_factory.mktemp("work")))


# -- three kinds of field -----------------------------------------------------------------------


def test_keyed_and_proposed_fields_are_not_counted_as_ocr(forms: ScenarioFigures) -> None:
    q = forms.quality
    # F1 5 documents × 4 read fields; F3 4 documents × (2 read + 3 keyed or proposed)
    read, proposed, keyed = q.kinds["read"], q.kinds["proposed"], q.kinds["keyed"]
    assert (read.fields, proposed.fields, keyed.fields) == (28, 2, 10)
    # keyed: Y1 2, Y2 3, M2 2, Z2 3; proposed: the branch name of Y1 and M2
    assert (read.share(40).value, proposed.share(40).value, keyed.share(40).value) == (
        pytest.approx(0.7), pytest.approx(0.05), pytest.approx(0.25))
    # read and reviewed: all but U1's 4; flagged X 3 + Y 1 + M 2 + Z 3; changed Y1, Z2
    assert (read.reviewed, read.flagged, read.changed) == (24, 9, 2)
    # Y1's proposal confirmed as proposed, M2's changed to 中央支店 (4 characters)
    assert (proposed.reviewed, proposed.kept, proposed.changed, proposed.chars_final) == (
        2, 1, 1, 2 + 4)
    # what staff typed: 山田太郎 (4) + 美里町1番地 (6) on each of 4, 本店 (2) on Y2 and Z2
    assert (keyed.reviewed, keyed.flagged, keyed.chars_final) == (10, 10, 4 * (4 + 6) + 2 * 2)
    # OCR quality over read fields only: F1 16/16, F3 6/8 (Y1 bank code, Z2 account number)
    assert (q.overall.fields, q.overall.correct, q.overall.silent) == (24, 22, 0)
    assert (q.by_form[F1].fields, q.by_form[F1].correct) == (16, 16)
    assert (q.by_form[F3].fields, q.by_form[F3].correct) == (8, 6)
    # no keyed field makes a document straight-through: X1, X2, M1, Z1 are; no F3 document
    assert (q.documents_reviewed, q.documents_straight_through) == (8, 4)
    # volume per form, by kind
    v = forms.volume
    assert (v.by_form[F3].read, v.by_form[F3].proposed, v.by_form[F3].keyed) == (8, 2, 10)
    assert (v.by_form[F1].documents, v.share(F1), v.share(F3)) == (5, pytest.approx(5 / 9),
                                                                    pytest.approx(4 / 9))


# -- review time where it was spent ------------------------------------------------------------


def test_review_rates_are_measured_from_the_timed_runs(forms: ScenarioFigures) -> None:
    t = forms.time
    assert t.rates is not None
    # X: 3f = 3; Y: f + p + 5k = 11.5; M: 2f + p + 2k = 6.5 → f = 1, p = 0.5, k = 2
    assert (t.rates.source, t.rates.runs, t.rates.assumed) == ("fitted", (X, Y, M), ())
    assert t.rates.minutes == {"flagged": pytest.approx(1.0), "proposed": pytest.approx(0.5),
                               "keyed": pytest.approx(2.0)}
    assert (t.measured_runs, t.estimated_runs, t.unreviewed_runs) == ([X, Y, M], [Z], [U])
    # Z estimated: Z1 2 flags × 1 = 2, Z2 1 flag × 1 + 3 keyed × 2 = 7
    assert (t.measured_minutes, t.estimated_minutes) == (pytest.approx(21), pytest.approx(9))
    assert "1項目あたり" in t.estimate_method and "手入力の項目 120秒" in t.estimate_method


def test_review_time_goes_to_the_form_that_needed_it(forms: ScenarioFigures) -> None:
    f1, f3 = forms.time.by_form[F1], forms.time.by_form[F3]
    # F1: X 3 (its own run: measured), M1 1 of M's 6.5 (attributed), Z1 2 (estimated)
    assert (f1.documents, f1.review_minutes) == (4, pytest.approx(6.0))
    assert (f1.measured_minutes, f1.attributed_minutes, f1.estimated_minutes) == (
        pytest.approx(3), pytest.approx(1), pytest.approx(2))
    # F3: Y 11.5 (measured), M2 1 + 0.5 + 2 × 2 = 5.5 (attributed), Z2 7 (estimated)
    assert (f3.documents, f3.review_minutes) == (4, pytest.approx(24.0))
    assert (f3.measured_minutes, f3.attributed_minutes, f3.estimated_minutes) == (
        pytest.approx(11.5), pytest.approx(5.5), pytest.approx(7))
    assert f1.review_source == f3.review_source == "estimated"
    # the minutes of each kind of work: flagged 3 + 1 + 2 + 3, proposed 0.5 + 0.5, keyed
    # 10 + 4 + 6
    kinds = forms.quality.kinds
    assert (kinds["read"].minutes, kinds["proposed"].minutes, kinds["keyed"].minutes) == (
        pytest.approx(9), pytest.approx(1), pytest.approx(20))
    # against the baselines: F1 measured 35 min / 10 = 3.5, F3 assumed 8.0
    assert (f1.baseline.minutes, f1.baseline.source, f1.baseline.who) == (
        3.5, "measured", ("佐藤", "田中"))
    assert (f1.baseline.first, f1.baseline.last) == (dt.datetime(2026, 10, 20, 1, tzinfo=UTC),
                                                     dt.datetime(2026, 10, 21, 1, tzinfo=UTC))
    assert (f3.baseline.minutes, f3.baseline.source) == (8.0, "configured")
    assert f1.saved_share.value == pytest.approx((4 * 3.5 - 6) / 14)
    assert f3.saved_share.value == pytest.approx((4 * 8 - 24) / 32)
    assert f1.annual_hours_saved == pytest.approx((3.5 - 1.5) * 1000 / 60)


def test_nonneg_lstsq_keeps_rates_from_going_negative() -> None:
    # exactly determined
    assert nonneg_lstsq([[3, 0], [1, 2]], [3, 5]) == [pytest.approx(1), pytest.approx(2)]
    # a + b = 2, 2a + 3b = 3 solves to b = −1: held at 0, a fits (1·2 + 2·3) / (1 + 4) = 1.6
    # (residual 0.2, against 0.9 for b alone at (2 + 9) / (1 + 9) = 1.1)
    assert nonneg_lstsq([[1, 1], [2, 3]], [2, 3]) == [pytest.approx(1.6), pytest.approx(0)]
    # fewer runs than unknowns, or unknowns that always come together: cannot be told apart
    assert nonneg_lstsq([[1, 2]], [3]) is None
    assert nonneg_lstsq([[1, 2], [2, 4]], [3, 6]) is None


# -- per-form verdicts and baseline provenance -------------------------------------------------


def test_a_failing_form_inside_a_passing_total_is_named(forms: ScenarioFigures) -> None:
    by = _by(forms)
    # total 22/24 = 91.7 % ≥ 90 %, but F3 6/8 = 75 %
    assert forms.quality.overall.accuracy.value == pytest.approx(22 / 24)
    assert by["field_accuracy", F1].status == "pass"
    assert (by["field_accuracy", F3].status, by["field_accuracy", F3].shown) == ("fail",
                                                                                 "75.0 %")
    assert by["field_accuracy", F3].evidence == (Y, M, Z)
    # F3 carries 4 of 9 documents: more than 10 %, it decides like the whole
    assert by["field_accuracy", F3].major
    assert by["time_saved", F1].measured == pytest.approx(8 / 14)
    assert by["time_saved", F3].measured == pytest.approx(8 / 32)
    assert forms.verdict.decision == "conditional"
    conditions = forms.verdict.conditions
    assert any(c.startswith("「町税等口座振替依頼書」の項目正読率") and c.endswith("75.0 %")
               for c in conditions)
    assert any("仮定値です：町税等口座振替依頼書" in c for c in conditions)
    assert any("住民票" in c for c in conditions) is False  # F1 passes everything, measured


def test_measured_everything_is_go_and_an_assumed_baseline_blocks_it(tmp_path: Path) -> None:
    cfg = build_forms_log(tmp_path, accuracy=0.8)
    until = dt.date(2026, 11, 8)  # X, Y, M: all timed, M shared by the measured rates
    s = _one(_report(cfg, until=until), "intake")
    # F3 in X–M: Y1 1 wrong of Y1, Y2, M2's 6 read fields = 83.3 % ≥ 80 %
    assert _by(s)["field_accuracy", F3].measured == pytest.approx(5 / 6)
    assert s.verdict.decision == "conditional"
    assert s.verdict.conditions == ("手作業の基準時間が実測ではなく仮定値です：町税等口座振替"
                                    "依頼書。導入の判断には、職員が手作業でかかる時間の計測が"
                                    "必要です",)
    runlog = RunLog(cfg.resolve(cfg.paths.runlog))
    runlog.record_baseline(F3, documents=4, minutes=40.0, who="鈴木")
    runlog.close()
    s = _one(_report(cfg, until=until), "intake")
    f3 = s.time.by_form[F3]
    # Y 11.5 + M2 5.5 = 17 min over 3 documents; by hand 3 × 10 = 30
    assert (f3.baseline.source, f3.review_minutes) == ("measured", pytest.approx(17))
    assert f3.saved_share.value == pytest.approx(13 / 30)
    assert s.verdict.decision == "go", s.verdict.conditions


# -- each scenario judged on its own work ------------------------------------------------------


def test_deposit_inquiry_is_judged_on_its_replies(work: Report) -> None:
    s = _one(work, "deposit_inquiry")
    w = s.work
    assert w is not None
    counts = {m.name: m.value for m in w.measures}
    assert counts == {"replies": 20, "replies_linked_automatically": 15,
                      "replies_for_review": 5, "proposals_confirmed": 3,
                      "proposals_rejected": 1, "links_forced": 1, "links_refused": 1,
                      "wrong_links_found": 1}
    shares = [sh.ratio.value if sh.ratio else None for sh in w.shares]
    # 15 / 20; 3 / (3 + 1); 1 / (15 + 3 + 1)
    assert shares == [pytest.approx(0.75), pytest.approx(0.75), pytest.approx(1 / 19)]
    (task,) = w.tasks
    # by hand: (35 + 45) min / 20 replies = 4.0 (佐藤, 田中); a decision not timed: 4.0 too
    assert (task.manual.minutes, task.manual.source, task.manual.who) == (4.0, "measured",
                                                                          ("佐藤", "田中"))
    assert (task.decision.minutes, task.decision.source) == (4.0, "assumed_manual")
    # with the robot: 5 replies decided × 4.0 = 20 min for 20 replies, against 80 by hand
    assert (task.done, task.left, task.staff_per_unit) == (20, 5, pytest.approx(1.0))
    assert task.automated is not None and task.automated.value == pytest.approx(0.75)
    assert task.saved_share.value == pytest.approx(60 / 80)
    assert task.annual_hours_saved == pytest.approx((4.0 - 1.0) * 1200 / 60)
    # a link undone later is a no-go, whatever the rest
    by = _by(s)
    assert (by["work_errors", ""].status, by["work_errors", ""].evidence) == (
        "fail", (WORK_RUNS["D2"],))
    assert by["time_saved", "deposit_reply_check"].status == "pass"
    assert s.verdict.decision == "no_go"
    assert any("要確認の回答1件の判断" in c and "計測されていません" in c
               for c in s.verdict.conditions)
    # the data rows are rows, not OCR: 5 rows; the paper reply alone is the OCR part
    assert {f: (r.documents, r.pages) for f, r in s.volume.by_data.items()} == {
        "deposit_reply_data": (5, 5)}
    assert set(s.quality.by_form) == {"deposit_reply"} and s.quality.overall.fields == 2
    assert set(s.time.by_form) == {"deposit_reply"}


def test_a_measure_never_written_is_not_measured_not_zero(tmp_path: Path) -> None:
    cfg = build_work_log(tmp_path)
    runlog = RunLog(cfg.resolve(cfg.paths.runlog))
    runlog.record_baseline("deposit_reply_decision", documents=6, minutes=12.0, who="佐藤",
                           kind="task")
    runlog.close()
    s = _one(_report(cfg, until=dt.date(2026, 11, 8)), "deposit_inquiry")  # D1 only
    assert s.work is not None
    values = {m.name: m.value for m in s.work.measures}
    assert values["wrong_links_found"] is None and values["replies"] == 10
    assert s.work.shares[2].ratio is None  # wrong links: not measured, not 0 %
    (task,) = s.work.tasks
    # 3 decisions × 2.0 min (timed: 12 / 6) against 10 × 4.0 by hand
    assert task.staff_minutes == pytest.approx(6.0)
    assert task.saved_share.value == pytest.approx(34 / 40)
    errors = _by(s)["work_errors", ""]
    assert (errors.status, errors.shown) == ("pending", "—")
    assert s.verdict.decision == "conditional"
    assert any(c.startswith("後で誤りと分かった照合はまだ測れていません")
               for c in s.verdict.conditions)


def test_contracts_are_judged_on_applications_and_findings(work: Report) -> None:
    s = _one(work, "contracts")
    w = s.work
    assert w is not None
    shares = {sh.label: sh.ratio.value if sh.ratio else None for sh in w.shares}
    assert shares == {"名簿に載せた申請の割合": pytest.approx(0.5),
                      "判断済みの指摘の割合": pytest.approx(1.0),
                      "指摘の妥当率": pytest.approx(0.75)}
    apps, register = w.tasks
    # applications: 3.0 by hand is an assumption; 1 of 2 decided (3.0 assumed) → 50 %
    assert (apps.manual.source, apps.decision.source) == ("configured", "assumed_manual")
    assert (apps.done, apps.left, apps.saved_share.value) == (2, 1, pytest.approx(0.5))
    # register: 40 contracts, 1.5 by hand (20 in 30 min); 4 findings × 2.5 (4 in 10 min)
    assert (register.manual.minutes, register.decision.minutes) == (1.5, 2.5)
    assert register.measured_time
    assert register.staff_per_unit == pytest.approx(10 / 40)
    assert register.saved_share.value == pytest.approx(50 / 60)
    assert register.annual_hours_saved == pytest.approx((1.5 - 0.25) * 600 / 60)
    # no error measure declared for contracts: no such criterion
    assert ("work_errors", "") not in _by(s)
    assert s.verdict.decision == "conditional"
    # the paper form's baseline (6.0) and the applications' are both assumptions
    assert ("手作業の基準時間が実測ではなく仮定値です：入札参加資格審査申請書、入札参加資格"
            "申請1件の審査と名簿への記入。導入の判断には、職員が手作業でかかる時間の計測が必要"
            "です") in s.verdict.conditions
    # rows of the data inputs (行数), apart from the one scanned page
    assert {f: (r.documents, r.pages) for f, r in s.volume.by_data.items()} == {
        "bid_application_data": (2, 3), "suspension_list_data": (1, 5)}
    assert (s.volume.paper.documents, s.volume.paper.pages) == (1, 1)
    assert s.volume.total.documents == 4


def test_the_page_names_no_internal_names(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("page")
    cfg = build_work_log(root)
    page = write_report(cfg, out_dir=root / "r", now=NOW, tz=UTC).html.read_text(
        encoding="utf-8")
    page = page[:page.index("<style>")] + page[page.index("</style>"):]
    for internal in ("deposit_inquiry", "contracts", "bid_application_data",
                     "suspension_list_data", "deposit_reply_data", "deposit_reply_check",
                     "baseline_minutes", "review_seconds", "wrong_links_found",
                     "UnreadableInputError", "evaluation."):
        assert internal not in page, internal
    for shown in ("入札参加資格申請データ", "指名停止一覧", "照会回答データ", "行数",
                  "後で誤りと分かった照合", "実測（2026-10-15、佐藤・田中、2回・計20件）",
                  "未計測（手作業1件と同じとみなす）", "仮定値（実測ではありません）",
                  "判定：見送り", "業務の成果"):
        assert shown in page, shown


def test_runner_stores_the_scenarios_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    """``RunContext.counts`` set by ``finish`` reach the run log (not the file outcomes)."""
    from robots.run.runner import run_scenario
    from scenarios.deposit_inquiry import DepositInquiry

    def finish(self: object, results: object, ctx: object, out_dir: Path) -> list[Path]:
        ctx.counts.update({"replies": 3, "replies_linked_automatically": 2})  # type: ignore[attr-defined]
        return []

    monkeypatch.setattr(DepositInquiry, "finish", finish)
    monkeypatch.setattr(DepositInquiry, "check_sources", lambda *a: [])
    (tmp_path / "config.toml").write_text(
        '[inbox]\nsettle_seconds = 0.0\n[scenarios.deposit_inquiry]\nledger = "ledger.csv"\n',
        encoding="utf-8")
    cfg = load_config(tmp_path / "config.toml")
    summary = run_scenario("deposit_inquiry", cfg, jobs=1)
    runlog = RunLog(cfg.resolve(cfg.paths.runlog))
    try:
        assert runlog.work_counts(summary.run_id) == {"replies": 3,
                                                      "replies_linked_automatically": 2}
    finally:
        runlog.close()
