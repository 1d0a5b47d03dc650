"""Normalisers of Japanese OCR text: table-driven examples and Hypothesis properties."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocr.japanese import (
    digits_only,
    format_era,
    kana_match_key,
    kanji_number,
    nfkc,
    normalize_kana,
    normalize_phone,
    normalize_postal,
    normalize_text,
    parse_amount,
    parse_date,
)
from ocr.spelling import kana_spelling_ok

D = dt.date
FULL_WIDTH = str.maketrans("0123456789/-.", "０１２３４５６７８９／－．")


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("山田 太郎", "山田太郎"),
        ("山田　太郎", "山田太郎"),  # ideographic space
        ("  熊本県 下益城郡  美里町 馬場 888 番地 ", "熊本県下益城郡美里町馬場 888 番地"),
        ("ＡＢＣ　１２３", "ABC 123"),
        ("Room   101 号", "Room 101 号"),
        ("ﾔﾏﾀﾞ", "ヤマダ"),
        ("①②③", "123"),
        ("㈱美里", "(株)美里"),
        ("1〜12線", "1~12線"),
        ("1～12", "1~12"),
        ("1−2−3", "1-2-3"),
        ("馬場1ー2ー3", "馬場1-2-3"),
        ("センター", "センター"),  # a long vowel between kana stays
        ("一二三", "一二三"),  # kanji are never "fixed"
        ("カ ゛", "ガ"),
        ("a\u200bb", "ab"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_nfkc() -> None:
    assert nfkc("ＡＢＣ１２３ｶﾞ") == "ABC123ガ"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_text_idempotent(s: str) -> None:
    once = normalize_text(s)
    assert normalize_text(once) == once


JAPANESE_ALPHABET = (
    "あいうえおかがきゃっアイウエオカガキャッｱｲｳｶﾞｷｬｯﾞﾟーｰ－−‐-—―一 　・漢字高﨑123１２３ABCａｂ〜～"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=JAPANESE_ALPHABET))
def test_normalize_text_idempotent_japanese(s: str) -> None:
    once = normalize_text(s)
    assert normalize_text(once) == once


# --- kana ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("やまだ たろう", "ヤマダタロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ"),
        ("ヤマダ　タロウ", "ヤマダタロウ"),
        ("コ－ヒ-", "コーヒー"),
        ("コ−ヒ‐", "コーヒー"),
        ("コ—ヒ―", "コーヒー"),
        ("ｺｰﾋｰ", "コーヒー"),
        ("スズキ一ロウ", "スズキーロウ"),  # kanji 一 between kana is a long vowel
        ("シャッチョウ", "シャッチョウ"),  # small kana stay small
        ("ジョン・スミス", "ジョン・スミス"),
        ("ゔぁいおりん", "ヴァイオリン"),
    ],
)
def test_normalize_kana(raw: str, expected: str) -> None:
    assert normalize_kana(raw) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("シャッチョウ", "シヤツチヨウ"),  # Zengin writes small kana full size
        ("ヂヅ", "ジズ"),
        ("ヴァイオリン", "バイオリン"),
        ("コーヒー", "コヒ"),
        ("ホウソウセンタ－", "ホウソウセンタ"),
        ("やまだ・たろう", "ヤマダタロウ"),
    ],
)
def test_kana_match_key_equal(a: str, b: str) -> None:
    assert kana_match_key(a) == kana_match_key(b)


def test_kana_match_key_keeps_voicing() -> None:
    assert kana_match_key("ガ") != kana_match_key("カ")


KANA_ALPHABET = "あいうえおがぱゃっゔアイウエオガパャッヴｱｲｳｶﾞｷｬｯﾞﾟーｰ－−‐-—―一 　・"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=KANA_ALPHABET))
def test_normalize_kana_idempotent(s: str) -> None:
    once = normalize_kana(s)
    assert normalize_kana(once) == once
    assert " " not in once


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalize_kana_idempotent_any_text(s: str) -> None:
    once = normalize_kana(s)
    assert normalize_kana(once) == once


# --- digits ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("１２３", "123"),
        ("①②③", "123"),
        ("1 2 3", "123"),
        ("O1l|I〇o", "0111100"),
        ("١٢٣", "123"),  # other Unicode decimal digits
        ("12-34", "12-34"),  # not a digit: left for the caller to flag
        ("12a", "12a"),
    ],
)
def test_digits_only(raw: str, expected: str) -> None:
    assert digits_only(raw) == expected


@given(st.integers(min_value=0, max_value=10**30))
def test_digits_only_keeps_ascii_numbers(n: int) -> None:
    assert digits_only(str(n)) == str(n)


@given(st.integers(min_value=0, max_value=10**12))
def test_digits_only_full_width(n: int) -> None:
    assert digits_only(str(n).translate(FULL_WIDTH)) == str(n)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("六十四", 64), ("十", 10), ("十二", 12), ("二十", 20), ("百二", 102), ("二〇二四", 2024),
     ("元", None), ("二三十", None), ("", None)],
)  # fmt: skip
def test_kanji_number(raw: str, expected: int | None) -> None:
    assert kanji_number(raw) == expected


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("昭和60年4月12日", D(1985, 4, 12)),
        ("昭和 60 年 4 月 12 日", D(1985, 4, 12)),
        ("昭和６０年４月１２日", D(1985, 4, 12)),
        ("昭和六十年四月十二日", D(1985, 4, 12)),
        ("S60.4.12", D(1985, 4, 12)),
        ("s60/4/12", D(1985, 4, 12)),
        ("昭60-4-12", D(1985, 4, 12)),
        ("H1.1.8", D(1989, 1, 8)),
        ("平成元年1月8日", D(1989, 1, 8)),
        ("㍻元年1月8日", D(1989, 1, 8)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("R1.5.1", D(2019, 5, 1)),
        ("令和6年2月29日", D(2024, 2, 29)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("昭和64年1月7日", D(1989, 1, 7)),
        ("大正15年12月24日", D(1926, 12, 24)),
        ("昭和元年12月25日", D(1926, 12, 25)),
        ("明治45年7月29日", D(1912, 7, 29)),
        ("M33.1.1", D(1900, 1, 1)),
        ("昭和60年4月12日生", D(1985, 4, 12)),
        ("令和6年4月1日(月)", D(2024, 4, 1)),
        ("1985年4月12日", D(1985, 4, 12)),
        ("1985/4/12", D(1985, 4, 12)),
        ("1985-04-12", D(1985, 4, 12)),
        ("1985.4.12", D(1985, 4, 12)),
        ("19850412", D(1985, 4, 12)),
        ("１９８５／０４／１２", D(1985, 4, 12)),
        ("西暦1985年4月12日", D(1985, 4, 12)),
        ("2024年2月29日", D(2024, 2, 29)),
        # not real dates, or outside their era
        ("平成31年5月1日", None),
        ("平成32年1月1日", None),
        ("昭和64年1月8日", None),
        ("令和元年4月30日", None),
        ("大正15年12月25日", None),
        ("令和6年2月30日", None),
        ("2023年2月29日", None),
        ("1985年13月1日", None),
        ("令和0年1月1日", None),
        # ambiguous or garbage
        ("60年4月12日", None),
        ("85/4/12", None),
        ("2月30日", None),
        ("昭和", None),
        ("abc", None),
        ("", None),
    ],
)
def test_parse_date(raw: str, expected: dt.date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (D(1985, 4, 12), "昭和60年4月12日"),
        (D(2019, 5, 1), "令和元年5月1日"),
        (D(2019, 4, 30), "平成31年4月30日"),
        (D(1989, 1, 7), "昭和64年1月7日"),
        (D(1989, 1, 8), "平成元年1月8日"),
        (D(1912, 7, 30), "大正元年7月30日"),
    ],
)
def test_format_era(d: dt.date, expected: str) -> None:
    assert format_era(d) == expected


def test_format_era_before_meiji() -> None:
    with pytest.raises(ValueError, match="Meiji"):
        format_era(D(1850, 1, 1))


DATES = st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31))


@settings(max_examples=300)
@given(DATES)
def test_era_round_trip(d: dt.date) -> None:
    assert parse_date(format_era(d)) == d


@settings(max_examples=150)
@given(DATES)
def test_era_round_trip_full_width_and_spaces(d: dt.date) -> None:
    written = " ".join(format_era(d)).translate(FULL_WIDTH)
    assert parse_date(written) == d


@settings(max_examples=150)
@given(DATES)
def test_iso_round_trip(d: dt.date) -> None:
    assert parse_date(d.isoformat()) == d
    assert parse_date(d.strftime("%Y%m%d")) == d
    assert parse_date(f"{d.year}年{d.month}月{d.day}日") == d


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_date_never_raises(s: str) -> None:
    assert parse_date(s) is None or isinstance(parse_date(s), dt.date)


# --- amounts, phone, postal -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,234,567円", 1234567),
        ("¥1,234,567", 1234567),
        ("￥1,234,567", 1234567),
        ("1, 234, 567 円", 1234567),
        ("1, 234, 567円", 1234567),
        ("金1,234,567円也", 1234567),
        ("１，２３４，５６７円", 1234567),
        ("¥10,000-", 10000),
        ("1234567", 1234567),
        ("0円", 0),
        ("12.500", 12500),
        ("1,23,456", None),
        ("1,234円5", None),
        ("１２３abc", None),
        ("-5", None),
        ("約1万円", None),
        ("円", None),
        ("", None),
        ("9" * 40, None),
    ],
)
def test_parse_amount(raw: str, expected: int | None) -> None:
    assert parse_amount(raw) == expected


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_amount_round_trip(n: int) -> None:
    assert parse_amount(f"{n:,}円") == n
    assert parse_amount(f"¥{n:,}".replace(",", ", ")) == n


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_amount_never_raises(s: str) -> None:
    result = parse_amount(s)
    assert result is None or result >= 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0964-47-1111", "0964-47-1111"),
        ("０９６４－４７－１１１１", "0964-47-1111"),
        ("0964−47−1111", "0964-47-1111"),
        ("0964ー47ー1111", "0964-47-1111"),
        ("(0964)47-1111", "0964-47-1111"),
        ("0964(47)1111", "0964-47-1111"),
        ("TEL 090-1234-5678", "090-1234-5678"),
        ("09012345678", "09012345678"),
        ("1234567890", None),  # does not start with 0
        ("0964-47-111", None),  # 9 digits
        ("0964--47-1111", None),
        ("0964-47-1111 内線3", None),
        ("", None),
    ],
)
def test_normalize_phone(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("〒861-4401", "861-4401"),
        ("8614401", "861-4401"),
        ("861ー4401", "861-4401"),
        ("８６１－４４０１", "861-4401"),
        ("〒 861 - 4401", "861-4401"),
        ("86144O1", "861-4401"),
        ("861-440", None),
        ("861-44012", None),
        ("熊本", None),
        ("", None),
    ],
)
def test_normalize_postal(raw: str, expected: str | None) -> None:
    assert normalize_postal(raw) == expected


@pytest.mark.parametrize("kana", ["オオャマケイ", "オオタニトシカッ", "ャシタユウキ", "サンョウ",
                                  "エイビーーツーリスト", "ーアベ", "ハッーリ", "ハッン"])
def test_kana_a_recogniser_made_is_no_spelling(kana: str) -> None:
    assert not kana_spelling_ok(kana)


@pytest.mark.parametrize("kana", [
    "キョウコ", "ハットリ", "ティーチャー", "フュージョン", "デュオ", "ヴュー", "ジョン・スミス",
    "ワァース", "ジィコア", "サイトウ　ジュンコ",
])
def test_kana_spelt_as_people_and_companies_spell_it(kana: str) -> None:
    assert kana_spelling_ok(kana)


def test_every_reading_in_published_data_is_a_spelling() -> None:
    """Readings nobody here wrote: gimei's names and the National Tax Agency's corporate data."""
    import csv

    from gimei import Gimei

    names = Gimei.NAMES
    readings = [r[2] for r in [*names["last_name"], *names["first_name"]["male"],
                               *names["first_name"]["female"]]]
    data = Path(__file__).resolve().parent.parent / "robots/samples/data/corporations_sabae.csv"
    with data.open(encoding="utf-8") as fh:
        readings += [row[3] for row in csv.reader(fh) if len(row) > 3 and row[3]]
    assert len(readings) > 10_000
    assert [k for k in readings if not kana_spelling_ok(normalize_kana(k))] == []
