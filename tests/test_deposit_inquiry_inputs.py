"""Deposit-inquiry inputs: layouts recognised by their columns, values normalised and checked."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from robots.kit.tables import LayoutNotRecognised, MappingError, load_layouts, read_table
from scenarios.deposit_inquiry.records import check_reply, parse_inquiry, yucho_to_zengin
from scenarios.deposit_inquiry.samples import SAMPLE_TODAY
from scenarios.deposit_inquiry.samples_write import write_sample_set
from scenarios.deposit_inquiry.schemas import PACKAGED_MAPPINGS, SCHEMAS

LAYOUTS = load_layouts((PACKAGED_MAPPINGS,), SCHEMAS)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("di-inputs")
    write_sample_set(root, count=60, seed=5, today=SAMPLE_TODAY, paper=0)
    return root


def test_each_generated_file_is_read_with_its_own_layout(files: Path) -> None:
    expected = {"service_reply": "reply_service", "bank_reply": "reply_bank_legacy",
                "yucho_reply": "reply_yucho", "service_detail_reply": "reply_service_detail"}
    seen = set()
    for f in sorted((files / "inbox" / "deposit_inquiry").glob("*.csv")):
        table = read_table(f, LAYOUTS, ("reply",))
        want = next(v for k, v in expected.items() if f.name.startswith(k))
        assert table.layout.id == want, f.name
        assert table.encoding == ("utf-8-sig" if want.startswith("reply_service") else "cp932")
        seen.add(want)
    assert seen == set(expected.values())
    for name, enc in (("ledger.csv", "utf-8-sig"), ("ledger_cp932.csv", "cp932"),
                      ("ledger.xlsx", "xlsx")):
        t = read_table(files / "data" / "deposit_inquiry" / name, LAYOUTS, ("ledger",))
        truth = json.loads((files / "data" / "deposit_inquiry" / "truth.json").read_text(
            encoding="utf-8"))
        assert (t.layout.id, t.encoding, len(t.rows)) == ("ledger_town", enc,
                                                          len(truth["inquiries"]))


def test_the_three_ledgers_normalise_to_the_same_inquiries(files: Path) -> None:
    folder = files / "data" / "deposit_inquiry"
    parsed = []
    for name in ("ledger.csv", "ledger_cp932.csv", "ledger.xlsx"):
        t = read_table(folder / name, LAYOUTS, ("ledger",))
        parsed.append([parse_inquiry(t.layout, row, raw) for row, raw in t.rows])
    assert parsed[0] == parsed[1] == parsed[2]
    assert not any(i.problems for i in parsed[0])
    assert {i.purpose for i in parsed[1]} <= {"税務", "福祉"}  # codes 1/2 translated


def test_a_file_of_no_known_layout_names_the_expected_ones(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("照会番号,氏名\n1,山田\n", encoding="utf-8")
    with pytest.raises(LayoutNotRecognised) as err:
        read_table(f, LAYOUTS, ("reply",))
    assert "想定している形式" in err.value.reason_ja
    assert "預金種目コード" in err.value.reason_ja  # the columns a clerk can compare


def test_the_towns_own_layout_is_used(tmp_path: Path) -> None:
    (tmp_path / "tab.toml").write_text("""
[layout]
id = "bank_tab"
kind = "reply"
title = "タブ区切りの回答"
delimiter = "\\t"
encodings = ["utf-8"]
[columns]
inquiry_number = "No"
bank_code = "BK"
kana = "KANA"
birth_date = "DOB"
account_number = "ACCT"
balance = "BAL"
[constants]
account_type = "普通"
""", encoding="utf-8")
    layouts = load_layouts((PACKAGED_MAPPINGS, tmp_path), SCHEMAS)
    f = tmp_path / "r.tsv"
    f.write_text("No\tBK\tKANA\tDOB\tACCT\tBAL\n"
                 "26-000001\t0005\tﾔﾏﾀﾞ ﾀﾛｳ\t1980/4/1\t12345\t1,000円\n", encoding="utf-8")
    t = read_table(f, layouts, ("reply",))
    values, problems = check_reply(t.layout, t.rows[0][1], date(2026, 10, 1))
    assert t.layout.id == "bank_tab"
    assert values["inquiry_number"] == "26000001" and values["kana"] == "ヤマダタロウ"
    assert values["account_number"] == "0012345" and values["balance"] == "1000"
    assert values["birth_date"] == "1980-04-01" and values["account_type"] == "普通"
    assert [f for f, _ in problems] == ["branch_code"]  # an account needs its branch


@pytest.mark.parametrize(("toml", "needle"), [
    ('[layout]\nid = "a"\nkind = "reply"\ntitle = "t"\n[columns]\nkana = "k"\n', "bank_code"),
    ('[layout]\nid = "a"\nkind = "reply"\ntitle = "t"\n[columns]\nbank_code = "b"\nkana = "k"\n'
     'colour = "c"\n', "colour"),
    ('[layout]\nid = "A b"\nkind = "reply"\ntitle = "t"\n', "layout.id"),
    ("not toml = = 1", "cannot read"),
])
def test_malformed_mappings_are_named(tmp_path: Path, toml: str, needle: str) -> None:
    (tmp_path / "bad.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(MappingError) as err:
        load_layouts((tmp_path,), SCHEMAS)
    assert needle in str(err.value) and "bad.toml" in str(err.value)


def test_yucho_symbol_and_number_become_zengin_codes() -> None:
    assert yucho_to_zengin("12340", "12345671") == ("238", "普通", "1234567")
    assert yucho_to_zengin("１２３４０", "1234561") == ("238", "普通", "0123456")
    assert yucho_to_zengin("01230", "4567") == ("129", "当座", "0004567")
    assert yucho_to_zengin("12340", "12345670") is None  # 通常貯金 numbers end in 1
    assert yucho_to_zengin("1234", "12345671") is None


def test_reply_problems_are_named_in_japanese() -> None:
    layout = next(lay for lay in LAYOUTS if lay.id == "reply_service")
    raw = {"inquiry_number": "26000001", "bank_code": "9999", "branch_code": "001",
           "kana": "山田たろう", "birth_date": "昭和99年1月1日", "no_account": "該当あり",
           "account_type": "07", "account_number": "12", "balance": "abc",
           "balance_date": "", "reply_date": ""}
    _values, problems = check_reply(layout, raw, date(2026, 10, 1))
    fields = {f for f, _ in problems}
    assert {"bank_code", "kana", "birth_date", "account_type", "balance"} <= fields
    assert all(why.split(":")[0] for _, why in problems)
    # a holder in Latin letters is no error of the reply: it is compared through its reading
    values, problems = check_reply(layout, {**raw, "kana": "Smith  John"}, date(2026, 10, 1))
    assert values["kana"] == "SMITH JOHN" and "kana" not in {f for f, _ in problems}
