"""Contracts end to end, fast: data files only, the real runner, outputs compared with truth.

One generated set (the town's previous list, a register with seeded violations of every rule
and clean boundary cases, online applications, a suspension list) is copied into each
workspace. Findings, list changes and applications to review are read back from the
workbooks and compared with the generator's truth *exactly*: every seeded violation found,
no finding on a clean contract. The paper path is in ``test_contracts_paper.py``.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from fakes import backdate, count_files, run_cli, write_config

import robots.run.runner
from robots.config import load_config
from robots.errors import ExitCode
from robots.run.runner import RunSummary, run_scenario
from scenarios.contracts.rules import RULES
from scenarios.contracts.samples import SAMPLE_TODAY
from scenarios.contracts.samples_write import write_sample_set

SCENARIO = "contracts"
CONFIGURED = ('contract_register = "data/contracts/register"\n'
              'previous_list = "data/contracts/previous_list.csv"\n')


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ct-samples")
    write_sample_set(root, count=300, seed=21, today=SAMPLE_TODAY, paper=0)
    return root


def _truth(sample: Path) -> dict:
    return json.loads((sample / "data" / SCENARIO / "truth.json").read_text(encoding="utf-8"))


def _workspace(root: Path, sample: Path, *, files: list[str] | None = None,
               section: str = CONFIGURED) -> Path:
    shutil.copytree(sample / "data", root / "data", dirs_exist_ok=True)
    inbox = root / "inbox" / SCENARIO
    inbox.mkdir(parents=True, exist_ok=True)
    for f in sorted((sample / "inbox" / SCENARIO).iterdir()):
        if f.suffix == ".csv" and (files is None or f.name in files):
            shutil.copy2(f, inbox / f.name)
    return write_config(root, extra=f"[scenarios.{SCENARIO}]\n{section}")


def _run(cfg_path: Path, today: date = SAMPLE_TODAY) -> RunSummary:
    return run_scenario(SCENARIO, load_config(cfg_path), jobs=1, today=today)


def _rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[1], r, strict=True)) for r in rows[2:] if any(v is not None for v in r)]


@dataclass
class Outcome:
    findings: set[tuple[str, str, tuple[str, ...]]]
    changes: dict[str, str]
    reviews: set[tuple[str, str]]
    listed: int


def _read(s: RunSummary) -> Outcome:
    assert s.out_dir is not None
    findings: set[tuple[str, str, tuple[str, ...]]] = set()
    books = list(s.out_dir.glob("契約チェック結果_*.xlsx"))
    if books:
        wb = openpyxl.load_workbook(books[0], read_only=True)
        for rid, rule in RULES.items():
            for r in _rows(wb[rule.title]):
                related = tuple((r["関連する契約"] or "").split("、")) \
                    if rid in ("split_order", "split_candidate") \
                    else ()
                findings.add((rid, r["契約番号"], related))
    (book,) = s.out_dir.glob("資格者名簿_2*.xlsx")
    wb = openpyxl.load_workbook(book, read_only=True)
    changes = {f"{r['法人番号']}|{r['業種']}": r["区分"] for r in _rows(wb["変更点"])}
    reviews = {(r["ファイル"], r["位置"]) for r in _rows(wb["要確認"])}
    return Outcome(findings, changes, reviews, len(_rows(wb["名簿"])))


def _expected(truth: dict) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(f["rule"], f["contract"], tuple(f["group"][1:])) for f in truth["findings"]}


def test_every_seeded_violation_is_found_and_no_clean_contract_is(sample: Path,
                                                                  tmp_path: Path) -> None:
    truth = _truth(sample)
    assert {f["rule"] for f in truth["findings"]} == set(RULES)  # every rule is seeded
    s = _run(_workspace(tmp_path, sample))
    assert s.exit_code == ExitCode.NEEDS_ATTENTION  # applications to review exist
    out = _read(s)
    expected = _expected(truth)
    assert out.findings - expected == set(), "findings on clean contracts"
    assert expected - out.findings == set(), "seeded violations missed"
    # both sides of the 2025-04-01 revision, and the exact limit, are among the clean cases
    assert len(truth["boundaries"]) >= 7
    assert count_files(tmp_path, SCENARIO)["failed"] == []
    # the run's own work, as the evaluation reads it (counts, never names or amounts)
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    work = dict(db.execute("SELECT measure, value FROM work_counts WHERE run_id = ?",
                           (s.run_id,)))
    db.close()
    assert work["findings"] >= len(out.findings) > 0 and work["contracts_checked"] > 0
    assert work["applications"] == work["applications_listed"] + work["applications_for_review"]
    assert work["findings_valid"] == work["findings_false"] == 0  # no clerk verdict yet


def test_list_changes_and_reviews_match_the_truth(sample: Path, tmp_path: Path) -> None:
    truth = _truth(sample)
    s = _run(_workspace(tmp_path, sample))
    out = _read(s)
    assert out.changes == truth["changes"]
    assert {"新規", "変更", "失効"} <= set(out.changes.values())
    assert out.reviews == {(a["file"], a["locator"]) for a in truth["applications"] if a["open"]}
    assert s.out_dir is not None
    (imp,) = s.out_dir.glob("資格者名簿_取込用_*.csv")
    raw = imp.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # CP932, as the contract management system imports it
    rows = list(csv.DictReader(raw.decode("cp932").splitlines()))
    assert len(rows) == out.listed and {r["状態"] for r in rows} <= {"1", "2"}
    assert all(len(r["法人番号"]) in (0, 13) and r["業種コード"].isdigit() for r in rows)
    assert any(not r["法人番号"] for r in rows)  # the 個人事業主: listed by 屋号, no number
    for p in (imp, *s.out_dir.glob("*.xlsx"), tmp_path / "var" / "contracts.sqlite"):
        assert (p.stat().st_mode & 0o777) == 0o600, p
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    events = dict(db.execute("SELECT code, message FROM events WHERE run_id = ?", (s.run_id,)))
    assert "not_qualified=2" in events["contracts_check"]
    assert "new" in events["contracts_vendor_list"]
    names = {r["商号又は名称"] for r in rows}
    assert not any(n in m for n in names for m in events.values())  # counts, no names
    statuses = dict(db.execute("SELECT d.doc_id, d.status FROM documents d WHERE run_id = ?",
                               (s.run_id,)))
    assert len(statuses) == len(truth["applications"]) + 1  # applications + the suspensions


def test_a_run_redone_after_a_crash_counts_nothing_twice(sample: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    truth = _truth(sample)
    cfg = _workspace(tmp_path, sample)

    def power_cut(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt  # finish() stored everything; the run log never committed

    with monkeypatch.context() as m:
        m.setattr(robots.run.runner, "_commit", power_cut)
        with pytest.raises(KeyboardInterrupt):
            _run(cfg)
    db = sqlite3.connect(tmp_path / "var" / "contracts.sqlite")
    counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("applications", "baseline", "suspensions")]
    s = _run(cfg)  # puts the files back, reads them again
    assert s.recovered
    assert [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("applications", "baseline", "suspensions")] == counts
    out = _read(s)  # compared with the previous list, not with the dead run's snapshot
    assert out.changes == truth["changes"] and out.findings == _expected(truth)


def test_later_runs_compare_with_the_last_list_and_follow_the_date(sample: Path,
                                                                   tmp_path: Path) -> None:
    cfg = _workspace(tmp_path, sample)
    first = _read(_run(cfg))
    again = _read(_run(cfg))  # nothing new, same day: nothing changed
    assert again.changes == {} and again.listed == first.listed
    assert again.findings == first.findings
    later = _read(_run(cfg, date(2027, 4, 1)))  # 令和7・8年度 is over
    assert later.listed == 0 and set(later.changes.values()) == {"失効"}
    assert len(later.changes) == first.listed
    earlier = _read(_run(cfg, date(2026, 7, 15)))  # the clock goes back: changes come back
    assert "新規" in earlier.changes.values()


def test_a_register_dropped_in_the_inbox_is_checked(sample: Path, tmp_path: Path) -> None:
    truth = _truth(sample)
    cfg = _workspace(tmp_path, sample,
                     section='previous_list = "data/contracts/previous_list.csv"\n')
    (reg,) = (tmp_path / "data" / SCENARIO / "register").glob("*.csv")
    shutil.copy2(reg, tmp_path / "inbox" / SCENARIO / reg.name)
    s = _run(cfg)
    assert _read(s).findings == _expected(truth)
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    flagged = dict(db.execute(
        "SELECT f.name, f.flagged FROM fields f JOIN documents d USING (doc_id) "
        "WHERE d.form_id = 'contract_register_data' AND d.run_id = ?", (s.run_id,)))
    assert all(flagged[f"rule_{r}"] == 1 for r in RULES)
    nothing = _run(cfg)  # next run: no register configured, none in the inbox → no check
    assert nothing.out_dir is not None and not list(nothing.out_dir.glob("契約チェック結果_*"))


def test_files_of_no_known_layout_are_quarantined(sample: Path, tmp_path: Path) -> None:
    cfg = _workspace(tmp_path, sample, files=["suspensions.csv"])
    inbox = tmp_path / "inbox" / SCENARIO
    (inbox / "odd.csv").write_text("番号,名前,金額\n1,x,2\n", encoding="utf-8")
    (inbox / "memo.docx").write_bytes(b"PK\x03\x04")
    backdate(inbox / "memo.docx")  # a zip cut short: taken once it has waited long enough
    s = _run(cfg)
    assert s.counts == {"ok": 1, "rejected": 2}
    note = next((tmp_path / "failed" / SCENARIO).rglob("odd.csv.reason.txt"))
    text = note.read_text(encoding="utf-8-sig")
    assert "想定している形式" in text and "電子申請" in text and "契約台帳" in text


def test_configuration_mistakes_stop_before_anything_moves(sample: Path, tmp_path: Path) -> None:
    cfg = _workspace(tmp_path, sample, section='contract_register = "data/nowhere.csv"\n')
    assert run_cli(["--config", str(cfg), "run", SCENARIO]) == ExitCode.CONFIG
    assert count_files(tmp_path, SCENARIO)["inbox"]  # nothing was taken
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'contract_register = "data/nowhere.csv"',
        "split_window_dayz = 3\n[[scenarios.contracts.limits]]\nkind = \"town\"\n"
        "title = \"x\"\nworks = 9000000"), encoding="utf-8")
    assert run_cli(["--config", str(cfg), "run", SCENARIO]) == ExitCode.CONFIG


def test_the_check_is_the_same_a_day_later(sample: Path, tmp_path: Path) -> None:
    """Contract checks depend on each contract's date, never on the day of the run."""
    cfg = _workspace(tmp_path, sample)
    assert _read(_run(cfg, SAMPLE_TODAY + timedelta(days=1))).findings == _expected(
        _truth(sample))


def test_samples_follow_the_injected_day(tmp_path: Path) -> None:
    """Another sample day moves applications, lapses and the register's end with it."""
    day = date(2025, 10, 15)
    gen = tmp_path / "gen"
    write_sample_set(gen, count=150, seed=5, today=day, paper=0)
    truth = _truth(gen)
    cfg = _workspace(tmp_path / "ws", gen)
    out = _read(_run(cfg, day))
    assert out.findings == _expected(truth) and out.changes == truth["changes"]
