"""A clerk's 照合する is checked against the facts before it is applied, through the real runner.

The case that started it: a reply about one person linked by hand to the inquiry about
another (another bank, another birth date) made the other person's account 照合済 without a
word. Now it comes back 要再確認 with both sets of facts; only a reason in 備考 forces it, and a
forced link is listed and counted (run-log events, counts only).
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from test_deposit_inquiry_run import SCENARIO, _read, _review_sheet, _run, _truth, _workspace

from robots.kit.reconcile import name_key
from scenarios.deposit_inquiry.samples import SAMPLE_TODAY
from scenarios.deposit_inquiry.samples_write import write_sample_set


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same generated set as test_deposit_inquiry_run's (count 90, seed 21)."""
    root = tmp_path_factory.mktemp("di-samples")
    write_sample_set(root, count=90, seed=21, today=SAMPLE_TODAY, paper=0)
    return root


def _ledger(root: Path) -> dict[str, dict[str, str]]:
    with (root / "data" / SCENARIO / "ledger.csv").open(encoding="utf-8-sig") as fh:
        return {r["照会番号"]: r for r in csv.DictReader(fh)}


def _events(root: Path, code: str) -> list[dict[str, int]]:
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    out = []
    for (message,) in db.execute("SELECT message FROM events WHERE code = ? ORDER BY rowid",
                                 (code,)):
        out.append({k: int(v) for k, v in (p.split("=") for p in message.split())})
    return out


def test_a_link_the_facts_contradict_is_not_applied_unless_a_reason_is_given(
        sample: Path, tmp_path: Path) -> None:
    truth = _truth(sample)
    ledger = _ledger(sample)
    cfg = _workspace(tmp_path, sample)
    first = _read(_run(cfg))
    wb, ws, col, head = _review_sheet(first.workbook)
    row = next(r for r in range(head + 1, ws.max_row + 1)
               if ws.cell(r, col["区分"]).value == "要確認"
               and ws.cell(r, col["照会番号（照合先）"]).value
               and "残高" not in (ws.cell(r, col["理由"]).value or ""))
    reply_bank = ws.cell(r := row, col["回答: 金融機関・店舗"]).value.split()[0]
    proposed = ws.cell(r, col["照会番号（照合先）"]).value
    # another person's inquiry, at another bank, born on another day: the wrong person
    wrong = next(n for n, q in ledger.items() if q["金融機関コード"] != reply_bank
                 and q["生年月日"] != ledger[proposed]["生年月日"]
                 and truth["inquiries"][n]["status"] == "未回答（期限超過）")
    ws.cell(r, col["照会番号（照合先）"]).value = wrong
    ws.cell(r, col["判断"]).value = "照合する"
    where = tuple(ws.cell(r, col["ファイル・位置"]).value.split("\n"))
    wb.save(first.workbook)

    second = _read(_run(cfg))
    got = second.replies[where]
    assert got["状態"] == "要再確認" and got["照合方法"] == "職員確認", got
    assert "金融機関が違う" in got["理由"] and "生年月日が違う" in got["理由"]
    assert second.inquiries[wrong] == "未回答（期限超過）"  # the other person is untouched
    wb, ws, col, head = _review_sheet(second.workbook)
    r = next(r for r in range(head + 1, ws.max_row + 1)
             if tuple(ws.cell(r, col["ファイル・位置"]).value.split("\n")) == where)
    assert ws.cell(r, col["区分"]).value == "要再確認"
    assert ws.cell(r, col["照会番号（照合先）"]).value == wrong  # both sets of facts, side by side
    kana = ledger[wrong]["氏名カナ"].replace("\u3000", "")
    assert ws.cell(r, col["台帳: 氏名・フリガナ"]).value.endswith(kana)
    assert ws.cell(r, col["台帳: 金融機関・店舗"]).value.startswith(ledger[wrong]["金融機関コード"])
    assert ws.cell(r, col["回答: 金融機関・店舗"]).value.startswith(reply_bank)
    assert ws.cell(r, col["台帳: 生年月日"]).value != ws.cell(r, col["回答: 生年月日"]).value
    assert _events(tmp_path, "deposit_inquiry_decisions")[-1]["recheck"] == 1

    ws.cell(r, col["判断"]).value = "照合する"  # the clerk insists, and says why
    ws.cell(r, col["備考"]).value = "窓口で本人の通帳を確認済（旧姓・生年月日の届出誤り）"
    wb.save(second.workbook)
    third = _read(_run(cfg))
    got = third.replies[where]
    assert got["状態"] == "照合済" and got["照合方法"] == "職員確認（強制）", got
    assert third.inquiries[wrong] != "未回答（期限超過）"
    forced = list(openpyxl.load_workbook(third.workbook)["強制照合"].iter_rows(values_only=True))
    assert len(forced) == 2 and forced[1][0] == wrong
    assert "窓口で本人の通帳" in forced[1][-2] and "生年月日が違う" in forced[1][-3]
    assert _events(tmp_path, "deposit_inquiry_decisions")[-1]["forced"] == 1
    assert _events(tmp_path, "deposit_inquiry_state")[-1]["forced"] == 1


def test_one_decision_covers_every_account_of_one_reply(sample: Path, tmp_path: Path) -> None:
    truth = _truth(sample)
    # an inquiry answered with several accounts in one file; its number is then blanked out,
    # so that every account is only a proposal
    counts: dict[tuple[str, str], list[str]] = {}
    for t in truth["replies"]:
        if t["status"] == "照合済" and t["file"].startswith("service_reply"):
            counts.setdefault((t["file"], t["inquiry"]), []).append(t["locator"])
    (file, number), locators = next((k, v) for k, v in counts.items() if len(v) >= 2)
    cfg = _workspace(tmp_path, sample)
    path = tmp_path / "inbox" / SCENARIO / file
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    for n in (int(loc.removesuffix("行目")) for loc in locators):
        assert name_key(rows[n - 1][3])  # the line of one of its accounts
        rows[n - 1][0] = ""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    first = _read(_run(cfg))
    assert {first.replies[(file, loc)]["状態"] for loc in locators} == {"要確認"}
    wb, ws, col, head = _review_sheet(first.workbook)
    mine = [r for r in range(head + 1, ws.max_row + 1)
            if ws.cell(r, col["ファイル・位置"]).value.startswith(file)
            and ws.cell(r, col["照会番号（照合先）"]).value == number]
    assert len(mine) == 1  # one row for the reply, however many accounts it reports
    assert ws.cell(mine[0], col["口座数"]).value == len(locators)
    ws.cell(mine[0], col["判断"]).value = "照合する"
    wb.save(first.workbook)
    after = _read(_run(cfg))
    assert [after.replies[(file, loc)]["状態"] for loc in locators] == ["照合済"] * len(locators)
    assert after.inquiries[number] == "回答済・口座あり"
