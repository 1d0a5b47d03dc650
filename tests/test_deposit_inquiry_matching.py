"""robots.kit.reconcile: name keys, kanji variants, and when a link may be certain."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robots.kit.kanji import kanji_equivalent
from robots.kit.reconcile import (
    Entity,
    Matcher,
    first_occurrences,
    latin_readings,
    name_key,
    name_score,
    normalize_ref,
)
from robots.samples.sources import pick_name
from scenarios.deposit_inquiry.samples import KANJI_VARIANTS, kana_variant


@pytest.mark.parametrize(("a", "b"), [
    ("ヤマダ　タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),          # width, spaces
    ("キョウコ", "キヨウコ"),                # small kana written large (Zengin)
    ("ヨウコ", "ヨーコ"),                    # long vowel
    ("オオノ", "オーノ"),
    ("サトウ　ケイコ", "さとう けーこ"),      # hiragana, long vowel after e
    ("チヅル", "チズル"),                    # ヅ/ズ
    ("ハナヂ", "ハナジ"),                    # ヂ/ジ
])
def test_name_key_folds_spellings_of_one_reading(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)
    assert name_score(name_key(a), name_key(b)) == 100.0


@pytest.mark.parametrize(("a", "b"),
                         [("カトウ", "ガトウ"), ("ヨウコ", "ヨシコ"), ("オノ", "オオノ")])
def test_name_key_keeps_different_names_apart(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)
    assert name_score(name_key(a), name_key(b)) < 100.0


def test_kanji_old_and_variant_forms_are_equivalent() -> None:
    assert kanji_equivalent("髙橋　太郎", "高橋太郎") is True
    assert kanji_equivalent("渡邊", "渡辺") is True
    assert kanji_equivalent("齋藤", "斎藤") is True
    assert kanji_equivalent("佐藤", "加藤") is False
    assert kanji_equivalent("", "佐藤") is None
    for new, old in KANJI_VARIANTS.items():  # what the sample generator writes
        assert kanji_equivalent(new, old), (new, old)


def test_reference_numbers_ignore_separators_and_width() -> None:
    assert normalize_ref("２６－０００１２３") == normalize_ref("26 000123") == "26000123"
    assert normalize_ref("ab-12") == "AB12"


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_generator_variants_keep_the_name_key(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = pick_name(rng)
    kana = f"{p.last_kana}\u3000{p.first_kana}"
    variant, _how = kana_variant(kana, rng)
    assert name_key(variant) == name_key(kana)


def _targets() -> list[Entity]:
    return [
        Entity("a", "100", name_key("ヤマダ タロウ"), {"bank": "0001", "birth": "1980-01-02"}),
        Entity("b", "101", name_key("スズキ ハナコ"), {"bank": "0001", "birth": "1975-05-05"}),
        Entity("c", "102", name_key("ヤマダ ジロウ"), {"bank": "0001", "birth": "1980-01-02"}),
    ]


def _matcher(**kw: float) -> Matcher:
    return Matcher(_targets(), blocks=[("bank", "birth"), ("bank", "name")],
                   verify=("bank", "birth"), threshold=kw.get("threshold", 75.0),
                   margin=kw.get("margin", 3.0))


def _q(ref: str, kana: str, bank: str = "0001", birth: str = "1980-01-02") -> Entity:
    return Entity("q", ref, name_key(kana), {"bank": bank, "birth": birth})


def test_reference_with_agreeing_facts_is_certain() -> None:
    link = _matcher().link(_q("100", "ﾔﾏﾀﾞ ﾀﾛｰ"))
    assert (link.target, link.method, link.certain) == ("a", "ref", True)


def test_reference_with_a_misspelt_name_is_not_certain() -> None:
    link = _matcher().link(_q("100", "ヤマダ ダロウ"))
    assert link.target == "a" and not link.certain and "name_differs" in link.reasons


def test_mistyped_reference_of_another_person_is_never_taken() -> None:
    link = _matcher().link(_q("101", "ヤマダ タロウ"))  # the number is Suzuki's
    assert link.target == "a" and link.method == "fuzzy" and not link.certain
    assert "ref_conflict" in link.reasons
    assert ("b", pytest.approx(link.alternatives[0][1])) == link.alternatives[0]


def test_link_without_reference_is_never_certain_however_exact() -> None:
    for ref in ("", "999"):
        link = _matcher().link(_q(ref, "ヤマダ タロウ"))
        assert link.target == "a" and link.score == 100.0 and not link.certain
        assert link.reasons[0] in ("no_ref", "ref_not_found")


def test_birth_date_differs_is_reported() -> None:
    link = _matcher().link(_q("", "ヤマダ タロウ", birth="1980-01-03"))  # found by name block
    assert link.target == "a" and "differs:birth" in link.reasons and not link.certain


def test_below_threshold_or_outside_the_blocks_there_is_no_link() -> None:
    assert _matcher().link(_q("", "タナカ イチロウ")).target is None
    assert _matcher().link(_q("", "ヤマダ タロウ", bank="0005")).target is None


def test_close_candidates_are_ambiguous() -> None:
    link = _matcher(margin=20.0).link(_q("", "ヤマダ ザロウ"))
    assert "ambiguous" in link.reasons and link.alternatives


def test_first_occurrences_names_the_later_copies() -> None:
    assert first_occurrences([("1", "x"), ("2", "y"), ("3", "x"), ("4", ""), ("5", "")]) == {
        "3": "1"}


def test_blocking_keeps_ten_thousand_fast() -> None:
    rng = np.random.default_rng(4)
    targets = []
    for n in range(10_000):
        p = pick_name(rng)
        targets.append(Entity(str(n), f"{n:08d}", name_key(p.last_kana + p.first_kana),
                              {"bank": f"{n % 120:04d}", "birth": f"19{50 + n % 50}-01-01"}))
    m = Matcher(targets, blocks=[("bank", "birth"), ("bank", "name")], verify=("bank", "birth"),
                threshold=75.0)
    t0 = time.perf_counter()
    for t in targets:
        m.link(Entity("q" + t.id, "", t.name, t.attrs))
    assert time.perf_counter() - t0 < 10.0


@pytest.mark.parametrize(("a", "b"), [
    ("ヴィクトリア", "ｳﾞｲｸﾄﾘｱ"),             # bank style: Zengin kana has no small ィ
    ("ヴァイオレット", "ｳﾞｱｲｵﾚｯﾄ"),
    ("ヴェロニカ", "ｳﾞｴﾛﾆｶ"),
    ("カヲル", "カオル"),                    # old kana in names
])
def test_bank_style_spellings_fold_to_one_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_bank_style_names_link_by_number_as_any_name() -> None:
    m = Matcher([Entity("v", "200", name_key("ヴィクトリア　スミス"),
                        {"bank": "0182", "birth": "1990-03-03"})],
                blocks=[("bank", "birth"), ("bank", "name")], verify=("bank", "birth"),
                threshold=75.0)
    q = Entity("q", "200", name_key("ｳﾞｲｸﾄﾘｱ ｽﾐｽ"), {"bank": "0182", "birth": "1990-03-03"})
    assert m.link(q).certain  # the same reading: the number, bank and birth date decide
    q = Entity("q", "", name_key("ｳﾞｲｸﾄﾘｱ ｽﾐｽ"), {"bank": "0182", "birth": "1990-03-03"})
    link = m.link(q)
    assert link.target == "v" and link.score == 100.0 and not link.certain


@pytest.mark.parametrize(("latin", "kana"), [
    ("SMITH JOHN", "スミス　ジョン"),         # English, read by e2k
    ("VICTORIA", "ビクトリア"),
    ("TANAKA TARO", "タナカ　タロウ"),        # passport romaji, read by jaconv
    ("OHNO JUNKO", "オオノ　ジュンコ"),       # OH for a long o
    ("JOHN SMITH", "スミス　ジョン"),         # the other order of family and given name
])
def test_latin_names_are_proposed_through_their_reading_never_certain(latin: str,
                                                                       kana: str) -> None:
    assert latin_readings(latin)
    assert name_score(name_key(latin), name_key(kana)) < 75.0  # as spelt, never met
    m = Matcher([Entity("k", "300", name_key(kana), {"bank": "0182", "birth": "1985-01-01"})],
                blocks=[("bank", "birth"), ("bank", "name")], verify=("bank", "birth"),
                threshold=75.0)
    for ref in ("300", ""):
        q = Entity("q", ref, name_key(latin), {"bank": "0182", "birth": "1985-01-01"},
                   latin_readings(latin))
        link = m.link(q)
        assert link.target == "k" and not link.certain and "name_read" in link.reasons, link


def test_kana_names_have_no_latin_reading() -> None:
    assert latin_readings("ヤマダ　タロウ") == ()
    assert latin_readings("") == ()
