"""Proposals from the town's resident register: found by keys, listed when several, warned
when the register is missing or stale, never silent, never in the logs.

The register here is written by hand for the behaviour (collisions need exact control); the
sample town's generated register is checked against its own documents, and one real intake
run reads generated handwritten forms with the generated register end to end.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import sqlite3
import time
from pathlib import Path

import openpyxl
import pytest
from fakes import forms_library, hand_page, write_config

from ocr.reasons import reason
from ocr.results import FieldResult
from robots.config import load_config
from robots.kit.residents import check_reference, load_register, propose_residents
from robots.records import DocumentRecord
from robots.run.runner import run_scenario
from robots.samples import SAMPLE_TODAY, generate
from robots.samples.town import SampleTown
from robots.sheets import REVIEW_SHEET
from robots.sheets.common import DONE_MARK, REVIEW_HEADERS
from robots.sheets.corrections import ImportStatus, import_corrections
from robots.sheets.review import REVIEW_FIRST_ROW

KOZA = forms_library().get("koza_furikae")
HEADER = ["宛名番号", "世帯番号", "氏名", "氏名カナ", "生年月日", "性別", "郵便番号", "住所",
          "方書"]
ROWS = [
    # a resident alone in her postal area and birth date
    ["10000001", "500001", "山田　花子", "ヤマダ　ハナコ", "1980-04-01", "女", "861-4406",
     "熊本県下益城郡美里町馬場100番地", ""],
    # twins: same household, birth date and address
    ["10000002", "500002", "佐藤　一郎", "サトウ　イチロウ", "1990-07-07", "男", "861-4407",
     "熊本県下益城郡美里町中小路5番地2", "コーポ美里101"],
    ["10000003", "500002", "佐藤　次郎", "サトウ　ジロウ", "1990-07-07", "男", "861-4407",
     "熊本県下益城郡美里町中小路5番地2", "コーポ美里101"],
    # two strangers born the same day in one postal area
    ["10000004", "500004", "田中　恭子", "タナカ　キョウコ", "昭和55年1月2日", "女", "8614401",
     "熊本県下益城郡美里町大沢水7番地", ""],
    ["10000005", "500005", "鈴木　明", "スズキ　アキラ", "1980/1/2", "男", "861-4401",
     "熊本県下益城郡美里町大沢水300番地", ""],
    # a row the register cannot use (no birth date): counted, never matched
    ["10000006", "500006", "高橋　誠", "タカハシ　マコト", "", "男", "861-4402", "熊本県", ""],
]


def _register(path: Path, rows: list[list[str]] = ROWS, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def _config(root: Path, register: Path | None, extra: str = "") -> object:
    ref = f'[reference]\nresident_register = "{register}"\n' if register else ""
    return load_config(write_config(root, extra=ref + extra))


def _doc(values: dict[str, str], flagged: frozenset[str] = frozenset()) -> DocumentRecord:
    return DocumentRecord("d1", KOZA.id, "scan.pdf", "1", hand_page(KOZA, values, flagged))


def _propose(tmp_path: Path, values: dict[str, str], flagged: frozenset[str] = frozenset()
             ) -> dict[str, FieldResult]:
    loaded = load_register(_config(tmp_path, _register(tmp_path / "reg.csv")),
                           today=SAMPLE_TODAY)
    assert loaded.register is not None
    doc = _doc(values, flagged)
    propose_residents([doc], {KOZA.id: KOZA}, loaded.register)
    return {f.name: f for f in doc.fields}


def _codes(f: FieldResult) -> list[str]:
    return [r.code for r in f.reasons]


def test_birth_date_and_postal_code_find_one_resident(tmp_path: Path) -> None:
    got = _propose(tmp_path, {"birth_date": "1980-04-01", "postal_code": "861-4406"})
    assert got["name"].value == "山田花子" and got["name_kana"].value == "ヤマダハナコ"
    assert got["holder_name"].value == "山田花子" and got["holder_kana"].value == "ヤマダハナコ"
    assert got["address"].value == "熊本県下益城郡美里町馬場100番地"
    for name in ("name", "name_kana", "address", "holder_name", "holder_kana"):
        assert _codes(got[name]) == ["proposed"] and got[name].flagged
        assert "住民記録" in got[name].reasons[0].message
        assert got[name].proposed_from.startswith("resident.")


def test_the_number_finds_the_resident_and_the_holder_kana_is_zengin_style(tmp_path: Path
                                                                           ) -> None:
    got = _propose(tmp_path, {"payer_number": "10000004"})
    assert got["name"].value == "田中恭子"
    assert got["name_kana"].value == "タナカキョウコ"  # the register's spelling
    assert got["holder_kana"].value == "タナカキヨウコ"  # as the bank writes it
    assert "宛名番号で一致" in got["name"].reasons[0].message


def test_a_number_contradicted_by_birth_date_and_postal_code_lists_both(tmp_path: Path
                                                                          ) -> None:
    got = _propose(tmp_path, {"payer_number": "10000001", "birth_date": "1990-07-07",
                              "postal_code": "861-4407"})
    assert got["name"].value == ""
    assert got["name"].candidates == ("山田花子", "佐藤一郎", "佐藤次郎")
    assert "宛名番号と生年月日と郵便番号で別の人" in got["name"].reasons[0].message
    assert "候補3人から選択" in got["name"].reasons[0].message


def test_twins_are_listed_and_their_shared_address_proposed(tmp_path: Path) -> None:
    got = _propose(tmp_path, {"birth_date": "1990-07-07", "postal_code": "861-4407"})
    name = got["name"]
    assert name.value == "" and name.candidates == ("佐藤一郎", "佐藤次郎") and name.flagged
    assert "候補2人から選択" in name.reasons[0].message
    assert got["address"].value == "熊本県下益城郡美里町中小路5番地2 コーポ美里101"
    assert got["address"].candidates == ()


def test_strangers_born_the_same_day_are_both_listed(tmp_path: Path) -> None:
    got = _propose(tmp_path, {"birth_date": "1980-01-02", "postal_code": "861-4401"})
    assert set(got["name"].candidates) == {"田中恭子", "鈴木明"}
    assert got["address"].value == "" and len(got["address"].candidates) == 2


def test_no_resident_is_no_error_and_says_so(tmp_path: Path) -> None:
    got = _propose(tmp_path, {"birth_date": "1970-01-01", "postal_code": "861-4406"})
    assert got["name"].value == "" and _codes(got["name"]) == ["manual_keying"]
    assert "住民記録に該当なし" in got["name"].reasons[0].message


def test_unreadable_keys_search_nothing(tmp_path: Path) -> None:
    got = _propose(tmp_path, {"postal_code": "861-4406"})  # no birth date read
    assert _codes(got["name"]) == ["manual_keying"]
    assert "未照合" in got["name"].reasons[0].message


def test_a_doubtful_key_is_used_and_the_proposal_says_so(tmp_path: Path) -> None:
    got = _propose(tmp_path, {"birth_date": "1980-04-01", "postal_code": "861-4406"},
                   flagged=frozenset({"birth_date"}))
    assert got["name"].value == "山田花子"
    assert "照合に使った生年月日が要確認" in got["name"].reasons[0].message


def test_a_resident_who_moved_keeps_the_address_of_the_form(tmp_path: Path) -> None:
    # found by number; the form's postal code is not the register's: the postal area stays
    doc_values = {"payer_number": "10000001", "postal_code": "861-4407"}
    loaded = load_register(_config(tmp_path, _register(tmp_path / "reg.csv")),
                           today=SAMPLE_TODAY)
    doc = _doc(doc_values)
    addr = next(f for f in doc.fields if f.name == "address")
    addr.value, addr.proposed_from = "熊本県下益城郡美里町中小路", "postal.address"
    addr.reasons = [reason("proposed", "郵便番号")]
    assert loaded.register is not None
    propose_residents([doc], {KOZA.id: KOZA}, loaded.register)
    got = {f.name: f for f in doc.fields}
    assert got["name"].value == "山田花子"
    assert "郵便番号が異なる" in got["name"].reasons[0].message
    assert got["address"].proposed_from == "postal.address"


def test_register_in_cp932_and_excel_is_read_with_the_packaged_layout(tmp_path: Path) -> None:
    cp932 = _register(tmp_path / "reg_sjis.csv", encoding="cp932")
    loaded = load_register(_config(tmp_path / "a", cp932), today=SAMPLE_TODAY)
    assert loaded.register is not None and len(loaded.register) == 5
    assert [w[0] for w in loaded.warnings] == ["reference_register_rows"]
    book = openpyxl.Workbook()
    for row in [HEADER, *ROWS]:
        book.active.append(row)
    book.save(tmp_path / "reg.xlsx")
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy2(tmp_path / "reg.xlsx", folder / "old.xlsx")
    os.utime(folder / "old.xlsx", (time.time() - 100, time.time() - 100))
    _register(folder / "new.csv", ROWS[:2])
    loaded = load_register(_config(tmp_path / "b", folder), today=SAMPLE_TODAY)
    assert loaded.register is not None and len(loaded.register) == 2  # the newest export
    loaded = load_register(_config(tmp_path / "c", tmp_path / "reg.xlsx"), today=SAMPLE_TODAY)
    assert loaded.register is not None and len(loaded.register) == 5


def test_missing_stale_or_unknown_register_is_a_warning(tmp_path: Path) -> None:
    missing = load_register(_config(tmp_path / "a", tmp_path / "none.csv"))
    assert missing.register is None
    assert [w[0] for w in missing.warnings] == ["reference_register_missing"]
    assert "見つからない" in missing.warnings[0][2]
    old = _register(tmp_path / "old.csv")
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    stale = load_register(_config(tmp_path / "b", old))
    assert stale.register is not None and "reference_register_stale" in [w[0] for w in
                                                                          stale.warnings]
    other = tmp_path / "other.csv"
    other.write_text("番号,名前\n1,x\n", encoding="utf-8")
    unknown = load_register(_config(tmp_path / "c", other))
    assert unknown.register is None
    assert [w[0] for w in unknown.warnings] == ["reference_register_unreadable"]
    assert "想定している形式" in unknown.warnings[0][2]
    assert load_register(_config(tmp_path / "d", None)).warnings == []  # not configured


def test_a_malformed_mapping_stops_the_run_with_its_key(tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "ours.toml").write_text('[layout]\nid = "ours"\nkind = "residents"\ntitle = "x"\n'
                                    '[columns]\nname = "氏名"\nnickname = "愛称"\n',
                                    encoding="utf-8")
    cfg = _config(tmp_path, None, f'[reference]\nmappings_dirs = ["{maps}"]\n')
    problems = check_reference(cfg)  # type: ignore[arg-type]
    assert any("reference.mappings_dirs" in p and "nickname" in p for p in problems)
    assert any("must be mapped" in p for p in problems)


def test_sample_town_register_holds_the_documents_residents() -> None:
    town = SampleTown(5, size=300)
    people = [town.person_for(i) for i in range(60)]
    register = town.register()
    numbers = {r.resident_number: r for r in register}
    assert len(numbers) == len(register)  # numbers are unique
    cases = {p.case for p in people}
    assert cases == {"registered", "same_day", "twin", "household", "moved", "outsider"}
    for p in people:
        if p.number:
            r = numbers[p.number]
            assert (r.name, r.birth_date) == (p.name, p.birth_date)
        same = [r for r in register if r.birth_date == p.birth_date
                and r.place.postal_code == p.place.postal_code]
        if p.case == "outsider":
            assert same == []
        elif p.case in ("same_day", "twin"):
            assert len(same) >= 2
        elif p.case == "moved":
            assert not any(r.name == p.name for r in same)
    again = SampleTown(5, size=300)
    assert [again.person_for(i) for i in range(60)] == people  # the seed decides everything


def test_intake_run_proposes_from_the_register_and_import_needs_every_confirmation(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "ws"
    register = root / "data" / "residents.csv"
    scans = generate(KOZA, count=2, seed=23, out_dir=root / "inbox" / "intake", degrade=0,
                     fmt="png", register=register)
    truths = [json.loads(p.with_suffix(".json").read_text(encoding="utf-8")) for p in scans]
    for p in scans:
        p.with_suffix(".json").unlink()
    log_file = tmp_path / "run.log"
    cfg = _config(root, register.relative_to(root))
    handler = logging.FileHandler(log_file, encoding="utf-8")
    logging.getLogger().addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        summary = run_scenario("intake", cfg, today=SAMPLE_TODAY)  # type: ignore[arg-type]
    finally:
        logging.getLogger().removeHandler(handler)
    book = next(summary.out_dir.glob("申請データ_*.xlsx"))  # type: ignore[union-attr]
    ws = openpyxl.load_workbook(book)[REVIEW_SHEET]
    col = {h: i for i, h in enumerate(REVIEW_HEADERS, start=1)}
    proposals = [r for r in range(REVIEW_FIRST_ROW, ws.max_row + 1)
                 if "参照データからの提案" in str(ws.cell(r, col["確認理由"]).value or "")]
    assert proposals, "the generated forms' words are proposed"
    for r in proposals:  # prefilled, no confidence shown
        assert ws.cell(r, col["信頼度"]).value is None
        shown = ws.cell(r, col["読取結果"]).value
        assert ws.cell(r, col["修正後の値"]).value == shown
    # the register's people appear nowhere but in the outputs
    names = [row[2].replace("\u3000", "") for row in csv.reader(
        register.open(encoding="utf-8-sig"))][1:]
    logged = log_file.read_text(encoding="utf-8") + caplog.text
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    dumped = "\n".join(db.iterdump())
    rows = db.execute("SELECT proposed_from, candidates, flagged FROM fields WHERE reasons "
                      "LIKE '%proposed%'").fetchall()
    db.close()
    assert not [n for n in names if n and (n in logged or n in dumped)]
    assert rows and all(src and flagged == 1 for src, _, flagged in rows)
    # an import leaving proposals unconfirmed is refused, naming their rows
    wb = openpyxl.load_workbook(book)
    wb[REVIEW_SHEET].cell(proposals[0], col["確認済"]).value = DONE_MARK
    partial = book.with_name("partial.xlsx")
    wb.save(partial)
    refused = import_corrections(partial, cfg)  # type: ignore[arg-type]
    assert refused.status is ImportStatus.REJECTED
    assert {r.row for r in refused.rejected} == set(proposals[1:])
    # every proposal confirmed: each is logged as confirmed (0) or, typed over, changed (1)
    wb = openpyxl.load_workbook(book)
    sheet = wb[REVIEW_SHEET]
    for r in range(REVIEW_FIRST_ROW, sheet.max_row + 1):
        if sheet.cell(r, col["文書ID"]).value:
            sheet.cell(r, col["確認済"]).value = DONE_MARK
    typed_over = next(r for r in proposals if sheet.cell(r, col["項目"]).value == "氏名"
                      and sheet.cell(r, col["読取結果"]).value)
    sheet.cell(typed_over, col["修正後の値"]).value = "別野値子"
    done = book.with_name("done.xlsx")
    wb.save(done)
    assert import_corrections(done, cfg).status is ImportStatus.IMPORTED  # type: ignore[arg-type]
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    corrected = sorted(c for (c,) in db.execute(
        "SELECT corrected FROM fields WHERE proposed_from IS NOT NULL AND ocr_len > 0"))
    db.close()
    assert corrected[-1] == 1 and corrected.count(1) == 1
    assert truths  # (kept for the reader of this test: the scans' truth was removed)
