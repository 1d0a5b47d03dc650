"""Deposit-inquiry reconciliation end to end, fast: data replies only, the real runner.

One generated sample set (ledger in three encodings, reply CSVs in three layouts, with the
noise the generator documents) is copied into each workspace; every inquiry's and reply's
status is compared with the generator's truth, which comes from the noise it put in — not
from the matcher. The paper path (OCR) is in ``test_deposit_inquiry_paper.py``.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from collections import Counter
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
from scenarios.deposit_inquiry.samples import SAMPLE_TODAY
from scenarios.deposit_inquiry.samples_write import write_sample_set

SCENARIO = "deposit_inquiry"
REVIEW_NOISE = {"no_number", "kana_typo", "kana_typo_no_number", "wrong_number", "birth_typo",
                "conflict"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("di-samples")
    write_sample_set(root, count=90, seed=21, today=SAMPLE_TODAY, paper=0)
    return root


def _truth(sample: Path) -> dict:
    return json.loads((sample / "data" / SCENARIO / "truth.json").read_text(encoding="utf-8"))


def _workspace(root: Path, sample: Path, *, ledger: str = "ledger.csv",
               files: list[str] | None = None, extra: str = "") -> Path:
    shutil.copytree(sample / "data", root / "data", dirs_exist_ok=True)
    inbox = root / "inbox" / SCENARIO
    inbox.mkdir(parents=True, exist_ok=True)
    for f in sorted((sample / "inbox" / SCENARIO).iterdir()):
        if files is None or f.name in files:
            shutil.copy2(f, inbox / f.name)
    return write_config(root, extra=f'[scenarios.{SCENARIO}]\n'
                                    f'ledger = "data/{SCENARIO}/{ledger}"\n{extra}')


def _run(cfg_path: Path, today: date = SAMPLE_TODAY) -> RunSummary:
    return run_scenario(SCENARIO, load_config(cfg_path), jobs=1, today=today)


@dataclass
class Outcome:
    """What a run's reconciliation workbook says."""

    inquiries: dict[str, str]  # number → status
    replies: dict[tuple[str, str], dict[str, str]]  # (file, place) → column → value
    workbook: Path


def _read(summary: RunSummary) -> Outcome:
    assert summary.out_dir is not None
    (path,) = summary.out_dir.glob("照合結果_*.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    inquiries: dict[str, str] = {}
    for name in wb.sheetnames:
        if name.startswith("照会_"):
            rows = list(wb[name].iter_rows(values_only=True))
            for r in rows[1:]:
                if r and r[0] is not None:
                    inquiries[r[0]] = dict(zip(rows[0], r, strict=True))["状態"]
    rows = list(wb["回答一覧"].iter_rows(values_only=True))
    replies = {}
    for r in rows[1:]:
        if not r or r[0] is None:
            continue
        d = {k: ("" if v is None else str(v)) for k, v in zip(rows[0], r, strict=True)}
        replies[(d["ファイル"], d["位置"])] = d
    wb.close()
    return Outcome(inquiries, replies, path)


def _assert_matches_truth(out: Outcome, truth: dict) -> None:
    wrong = []
    for number, t in truth["inquiries"].items():
        if out.inquiries.get(number) != t["status"]:
            wrong.append(f"inquiry {number} ({t['fate']} {t['kind']}): expected {t['status']}, "
                         f"got {out.inquiries.get(number)}")
    assert len(out.replies) == len(truth["replies"])
    for t in truth["replies"]:
        got = out.replies[(t["file"], t["locator"])]
        linked = got["照合先の照会番号"] or None
        if got["状態"] != t["status"] or (t["status"] in ("照合済", "要確認")
                                          and linked != t["inquiry"]):
            wrong.append(f"reply {t['file']} {t['locator']} {t['noise']}: expected "
                         f"{t['status']} → {t['inquiry']}, got {got['状態']} → {linked} "
                         f"({got['理由']})")
    assert not wrong, "\n".join(wrong)


# -- statuses --------------------------------------------------------------------------------

def test_every_status_matches_the_truth(sample: Path, tmp_path: Path) -> None:
    truth = _truth(sample)
    s = _run(_workspace(tmp_path, sample))
    assert s.exit_code == ExitCode.NEEDS_ATTENTION  # replies to review exist
    out = _read(s)
    _assert_matches_truth(out, truth)
    statuses = Counter(t["status"] for t in truth["inquiries"].values())
    assert set(statuses) == {"回答済・口座あり", "回答済・該当なし", "未回答（期限内）",
                             "未回答（期限超過）", "要確認", "未送付"}  # the sample covers them all
    noise = {n for t in truth["replies"] for n in t["noise"]}
    assert {"latin", "bank_style"} <= noise  # Latin-letter holders, ｳﾞｲ for ヴィ
    assert {t["status"] for t in truth["replies"]} == {"照合済", "要確認", "照会なし", "重複"}
    assert s.documents == len(truth["replies"])  # one run-log document per reply row
    assert count_files(tmp_path, SCENARIO)["failed"] == []
    # the run's own work, as the evaluation reads it: every reply this run, those linked by
    # their inquiry number without a person, and those a person must look at
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    work = dict(db.execute("SELECT measure, value FROM work_counts WHERE run_id = ?",
                           (s.run_id,)))
    db.close()
    replies = Counter(t["status"] for t in truth["replies"])
    assert work["replies"] == sum(replies.values())  # duplicates are reconciled too (重複)
    assert 0 < work["replies_linked_automatically"] <= replies["照合済"]
    assert work["replies_for_review"] == replies["要確認"]
    assert "wrong_links_found" not in work  # not measured yet: never a false 0


def test_no_link_without_a_fitting_number_is_ever_certain(sample: Path, tmp_path: Path) -> None:
    truth = _truth(sample)
    out = _read(_run(_workspace(tmp_path, sample)))
    noise = {(t["file"], t["locator"]): set(t["noise"]) for t in truth["replies"]}
    for key, r in out.replies.items():
        if r["照合方法"] == "氏名・生年月日":
            assert r["状態"] != "照合済", key
            assert r["類似度"], key  # the review sheet shows the score
        if r["状態"] == "照合済":
            assert r["照合方法"] == "照会番号" and not noise[key] & REVIEW_NOISE, key
    review = openpyxl.load_workbook(out.workbook, read_only=True)["確認リスト"]
    rows = list(review.iter_rows(values_only=True))
    fuzzy = [r for r in out.replies.values() if r["照合方法"] == "氏名・生年月日"]
    assert fuzzy and len(rows) - 1 >= len(fuzzy)


@pytest.mark.parametrize("ledger", ["ledger_cp932.csv", "ledger.xlsx"])
def test_cp932_and_excel_ledgers_give_the_same_statuses(sample: Path, tmp_path: Path,
                                                         ledger: str) -> None:
    raw = (sample / "data" / SCENARIO / "ledger_cp932.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really CP932 (half-width kana, S55.04.12, purpose codes)
    _assert_matches_truth(_read(_run(_workspace(tmp_path, sample, ledger=ledger))),
                          _truth(sample))


def test_overdue_follows_the_injected_today(sample: Path, tmp_path: Path) -> None:
    truth = _truth(sample)
    cfg = _workspace(tmp_path, sample)
    _run(cfg)
    silent = [n for n, t in truth["inquiries"].items() if t["fate"] == "silent"]
    later = _read(_run(cfg, SAMPLE_TODAY + timedelta(days=60)))  # nothing new came in
    assert [later.inquiries[n] for n in silent] == ["未回答（期限超過）"] * len(silent)
    earlier = _read(_run(cfg, SAMPLE_TODAY - timedelta(days=60)))
    assert [earlier.inquiries[n] for n in silent] == ["未回答（期限内）"] * len(silent)
    answered = [n for n, t in truth["inquiries"].items() if t["fate"] in ("account", "none")]
    assert all(earlier.inquiries[n] == truth["inquiries"][n]["status"] for n in answered)


def test_resend_list_names_banks_in_full_and_the_inquiry_as_sent(sample: Path,
                                                                 tmp_path: Path) -> None:
    truth = _truth(sample)
    s = _run(_workspace(tmp_path, sample))
    assert s.out_dir is not None
    (path,) = s.out_dir.glob("再照会対象_*.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    overdue = sorted(n for n, t in truth["inquiries"].items()
                     if t["status"] == "未回答（期限超過）")
    assert sorted(r["照会番号"] for r in rows) == overdue
    banks = [r["金融機関コード"] for r in rows]
    assert banks == sorted(banks)
    # zengin's short names (肥後, 熊本) written out as a letter addresses a bank
    assert all(r["金融機関名"].endswith(("銀行", "信用金庫", "信用組合", "農業協同組合", "金庫"))
               for r in rows), [r["金融機関名"] for r in rows]
    assert all(r["住所（照会時）"] and r["照会日"] and r["店舗"] for r in rows)
    assert all(int(r["超過日数"]) > 0 for r in rows)
    wb = openpyxl.load_workbook(_read(s).workbook)
    assert "督促対象" not in wb.sheetnames
    ws = wb["再照会"]
    assert "再照会" in ws["A1"].value and "督促" not in ws["A1"].value
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$2"
    assert ws.page_setup.fitToWidth == 1
    assert len(ws.row_breaks.brk) == len(set(banks)) - 1  # each bank starts a page
    titles = [c.value for c in ws["A"] if c.value and "御中" in str(c.value)]
    assert len(titles) == len(set(banks)) and all("再照会" in t for t in titles)
    head = [c.value for c in ws[2]]
    assert head[-1] == "再照会を依頼"  # the request column is not printed
    assert ws.print_area.endswith(f"${chr(ord('A') + len(head) - 2)}${ws.max_row}")
    assert (path.stat().st_mode & 0o777) == 0o600


# -- state across runs, crashes, idempotence -------------------------------------------------

def test_replies_accumulate_and_nothing_counts_twice(sample: Path, tmp_path: Path) -> None:
    truth = _truth(sample)
    names = sorted(p.name for p in (sample / "inbox" / SCENARIO).iterdir())
    first, second = names[: len(names) // 2], names[len(names) // 2:]
    cfg = _workspace(tmp_path, sample, files=first)
    _run(cfg)
    for n in second:
        shutil.copy2(sample / "inbox" / SCENARIO / n, tmp_path / "inbox" / SCENARIO / n)
    _assert_matches_truth(_read(_run(cfg)), truth)
    again = first[0]  # the same file dropped once more: the runner quarantines it
    shutil.copy2(sample / "inbox" / SCENARIO / again, tmp_path / "inbox" / SCENARIO / again)
    s = _run(cfg)
    assert s.counts == {"duplicate": 1}
    _assert_matches_truth(_read(s), truth)
    db = sqlite3.connect(tmp_path / "var" / "deposit_inquiry.sqlite")
    assert db.execute("SELECT count(*) FROM reply_docs").fetchone()[0] == len(truth["replies"])


def test_run_dying_after_finish_is_redone_without_double_counting(
        sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    truth = _truth(sample)
    cfg = _workspace(tmp_path, sample)

    def power_cut(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt  # finish() stored the replies; the run log never committed

    with monkeypatch.context() as m:
        m.setattr(robots.run.runner, "_commit", power_cut)
        with pytest.raises(KeyboardInterrupt):
            _run(cfg)
    db = sqlite3.connect(tmp_path / "var" / "deposit_inquiry.sqlite")
    stored = db.execute("SELECT count(*) FROM reply_docs").fetchone()[0]
    assert stored == len(truth["replies"])
    s = _run(cfg)  # puts the files back, reads them again
    assert s.recovered and s.documents == len(truth["replies"])
    assert db.execute("SELECT count(*) FROM reply_docs").fetchone()[0] == stored
    _assert_matches_truth(_read(s), truth)


# -- inputs that cannot be used ----------------------------------------------------------------

def test_unknown_layout_is_quarantined_naming_the_expected_ones(sample: Path,
                                                                 tmp_path: Path) -> None:
    cfg = _workspace(tmp_path, sample, files=["service_reply_01.csv"])
    (tmp_path / "inbox" / SCENARIO / "odd.csv").write_text("番号,名前,金額\n1,x,2\n",
                                                           encoding="utf-8")
    (tmp_path / "inbox" / SCENARIO / "memo.docx").write_bytes(b"PK\x03\x04")
    backdate(tmp_path / "inbox" / SCENARIO / "memo.docx")  # cut short: taken after waiting
    s = _run(cfg)
    assert s.counts == {"ok": 1, "rejected": 2} or s.counts == {"needs_review": 1, "rejected": 2}
    note = next((tmp_path / "failed" / SCENARIO).rglob("odd.csv.reason.txt"))
    text = note.read_text(encoding="utf-8-sig")
    assert "想定している形式" in text and "オンラインサービス" in text and "ゆうちょ銀行" in text
    assert "no reply layout" in text  # the English detail for the system administrator
    assert next((tmp_path / "failed" / SCENARIO).rglob("memo.docx.reason.txt"))


def test_missing_ledger_stops_before_anything_moves(sample: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _workspace(tmp_path, sample, ledger="gone.csv", files=["service_reply_01.csv"])
    assert run_cli(["--config", str(cfg), "run", SCENARIO]) == ExitCode.CONFIG
    assert "scenarios.deposit_inquiry.ledger" in capsys.readouterr().err
    assert count_files(tmp_path, SCENARIO)["inbox"] == ["service_reply_01.csv"]


def test_malformed_mapping_stops_naming_file_and_key(sample: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "bank_x.toml").write_text(
        '[layout]\nid = "bank_x"\nkind = "reply"\ntitle = "x"\n[columns]\nbank_code = "銀行"\n'
        'kana = "カナ"\nbalanse = "残高"\n', encoding="utf-8")
    cfg = _workspace(tmp_path, sample, files=[], extra='mappings_dirs = ["maps"]\n')
    assert run_cli(["--config", str(cfg), "run", SCENARIO]) == ExitCode.CONFIG
    err = capsys.readouterr().err
    assert "bank_x.toml" in err and "balanse" in err


def test_ledger_folder_takes_the_newest_export(sample: Path, tmp_path: Path) -> None:
    cfg = _workspace(tmp_path, sample, ledger="", files=[])
    folder = tmp_path / "data" / SCENARIO
    (folder / "ledger.xlsx").touch()  # the newest
    out = _read(_run(cfg))
    assert len(out.inquiries) == len(_truth(sample)["inquiries"])
    assert "ledger.xlsx" in str(openpyxl.load_workbook(out.workbook)["集計"]["B4"].value)


# -- what the run log keeps -------------------------------------------------------------------

def test_run_log_counts_replies_and_keeps_no_personal_data(sample: Path, tmp_path: Path) -> None:
    truth = _truth(sample)
    s = _run(_workspace(tmp_path, sample))
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    forms = Counter(r[0] for r in db.execute("SELECT form_id FROM documents"))
    assert forms == {"deposit_reply_data": len(truth["replies"])}
    review = db.execute("SELECT count(*) FROM fields WHERE name = 'match_status' AND flagged = 1"
                        ).fetchone()[0]
    assert review == sum(t["status"] == "要確認" for t in truth["replies"])
    assert s.documents_needing_review >= review
    dump = "\n".join(db.iterdump())
    with (sample / "data" / SCENARIO / "ledger.csv").open(encoding="utf-8-sig") as fh:
        ledger = list(csv.DictReader(fh))
    for row in ledger[:30]:
        for value in (row["氏名"], row["氏名カナ"].replace("\u3000", ""), row["生年月日"]):
            assert value not in dump
    store = tmp_path / "var" / "deposit_inquiry.sqlite"
    assert (store.stat().st_mode & 0o777) == 0o600


# -- people's work taken back in -----------------------------------------------------------------

def _review_sheet(path: Path) -> tuple[openpyxl.Workbook, object, dict[str, int], int]:
    """The saved workbook, its 確認リスト, column numbers by header, and the header row."""
    wb = openpyxl.load_workbook(path)
    ws = wb["確認リスト"]
    row = next(r for r in range(1, 20) if ws.cell(r, 1).value == "区分")
    head = [c.value for c in ws[row]]
    return wb, ws, {h: head.index(h) + 1 for h in head if h}, row


def test_clerk_decisions_are_checked_then_taken_by_the_next_run(sample: Path,
                                                                 tmp_path: Path) -> None:
    truth = _truth(sample)
    noise = {(t["file"], t["locator"]): set(t["noise"]) for t in truth["replies"]}
    cfg = _workspace(tmp_path, sample)
    out = _read(_run(cfg))
    wb, ws, col, head = _review_sheet(out.workbook)
    assert "記入のしかた" in ws["A1"].value and ws.print_title_rows == f"${head}:${head}"
    assert ws.page_setup.fitToWidth == 1
    decided: dict[tuple[str, str], str] = {}
    for r in range(head + 1, ws.max_row + 1):
        where = tuple((ws.cell(r, col["ファイル・位置"]).value or "\n").split("\n"))
        proposed = ws.cell(r, col["照会番号（照合先）"]).value
        reason = ws.cell(r, col["理由"]).value or ""
        if where in noise and proposed and "残高" not in reason:
            ws.cell(r, col["判断"]).value = "照合する" if len(decided) % 2 == 0 else "照合しない"
            decided[where] = ws.cell(r, col["判断"]).value
    wb.save(out.workbook)
    assert decided
    after = _read(_run(cfg))
    rechecked = 0
    for where, what in decided.items():
        r = after.replies[where]
        assert r["照合方法"] == "職員確認"
        if what == "照合しない":
            assert r["状態"] == "照会なし", r
        elif "birth_typo" in noise[where]:  # the facts contradict the link: not applied
            assert r["状態"] == "要再確認" and "生年月日が違う" in r["理由"], r
            rechecked += 1
        else:
            assert r["状態"] == "照合済", r
    assert rechecked or not any("birth_typo" in noise[w] for w, d in decided.items()
                                if d == "照合する")


def test_registered_address_and_transactions_are_kept_per_account(sample: Path,
                                                                   tmp_path: Path) -> None:
    detail = sample / "inbox" / SCENARIO / "service_detail_reply_01.csv"
    with detail.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    tx: Counter[tuple[str, str]] = Counter()  # (inquiry, account) → transactions sent
    for r in rows:
        if r["取引日"]:
            tx[(r["照会番号"].translate(str.maketrans("０１２３４５６７８９－", "0123456789-"))
                .replace("-", ""), r["口座番号"])] += 1
    assert tx  # the sample's detailed layout carries transactions
    out = _read(_run(_workspace(tmp_path, sample)))
    wb = openpyxl.load_workbook(out.workbook, read_only=True)
    accounts = list(wb["口座一覧"].iter_rows(values_only=True))
    head = accounts[0]
    by_account = {(r[head.index("照会番号")], r[head.index("口座番号")]): r for r in accounts[1:]}
    for (number, account), n in tx.items():
        if out.inquiries.get(number) not in ("回答済・口座あり", "要確認"):
            continue
        row = by_account[(number, account)]
        assert row[head.index("取引明細（件）")] == n and row[head.index("届出住所")]
        sheet = list(wb[f"取引_{number}"].iter_rows(values_only=True))
        start = next(i for i, r in enumerate(sheet) if r and r[0] == "状態")
        mine = [r for r in sheet[start + 1:] if r[4] == account]
        assert len(mine) == n and all(r[5] and r[9] is not None for r in mine)
