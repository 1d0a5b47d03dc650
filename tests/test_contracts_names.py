"""Vendor identity by name: the legal form and its place count, old kanji forms by a vetted table.

The cases of the issue that found the old comparison merging companies (株式会社X = X株式会社,
田中 = 佃中 through a general variant table, 事業協同組合 = 協同組合), on made-up names and on
the real corporate names shipped with the samples (used only as neutral look-alikes).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocr.checkdigits import is_valid_corporate_number
from ocr.japanese import nfkc
from robots.kit.companies import company_key, company_name, reading_variant, same_company
from robots.kit.kanji import kanji_equivalent, new_form
from robots.samples.sources import corporations
from scenarios.contracts.samples_names import fictitious_vendors, real_keys, real_numbers


@pytest.mark.parametrize("written", [
    "株式会社髙橋建設", "(株)高橋建設", "㈱高橋建設", "（株）髙橋建設", "株式會社高橋建設",
    "株式会社　高橋建設", "ｶﾌﾞｼｷｶﾞｲｼｬ髙橋建設", " 株式会社 高橋 建設 ", "ｶ)ﾀｶﾊｼｹﾝｾﾂ",
])
def test_spellings_of_one_name_are_one_name(written: str) -> None:
    target = "カ)タカハシケンセツ" if "ｶ)" in written else "株式会社高橋建設"
    assert same_company(written, target)
    assert company_key(written) == company_key(target)


@pytest.mark.parametrize(("a", "b"), [
    ("株式会社高橋建設", "高橋建設株式会社"),      # 前株 / 後株: two names in law
    ("㈱高橋建設", "高橋建設㈱"),
    ("ｶ)ﾀｶﾊｼｹﾝｾﾂ", "ﾀｶﾊｼｹﾝｾﾂ(ｶ"),
    ("有限会社高橋建設", "株式会社高橋建設"),      # another legal form
    ("美里事業協同組合", "美里協同組合"),
    ("医療法人社団美里会", "医療法人美里会"),
    ("医療法人社団美里会", "医療法人財団美里会"),
    ("(医)美里会", "医療法人社団美里会"),          # (医) is 医療法人 only
    ("株式会社田中建設", "株式会社佃中建設"),      # ja-itaiji called these variants
    ("大阪商事株式会社", "大坂商事株式会社"),
    ("株式会社川崎工業", "株式会社川埼工業"),
    ("株式会社美里製作所", "株式会社美里制作所"),
    ("株式会社島田建設", "株式会社嶋田建設"),      # 嶋 is a character of its own
    ("株式会社高橋", "株式会社高橋建設"),
])
def test_different_names_stay_apart(a: str, b: str) -> None:
    assert not same_company(a, b)
    assert company_key(a) != company_key(b)


def test_kanji_table_folds_old_forms_only() -> None:
    assert new_form("株式會社") == "株式会社"
    assert new_form("髙﨑國澤濱邊齋廣櫻眞惠") == "高崎国沢浜辺斎広桜真恵"
    assert kanji_equivalent("渡邊　太郎", "渡辺太郎") is True
    assert kanji_equivalent("田中", "佃中") is False
    assert kanji_equivalent("島田", "嶋田") is False
    assert kanji_equivalent("", "田中") is None


def test_legal_form_and_place_are_read() -> None:
    assert company_name("株式会社ＡＢＣ　ｼｽﾃﾑ") == ("ABCシステム", (("株式会社", "前"),))
    assert company_name("美里物産有限会社").forms == (("有限会社", "後"),)
    assert company_name("ﾀｶﾊｼｹﾝｾﾂ(ｶ").forms == (("株式会社", "後"),)
    assert company_name("美里設計").form_ja() == "法人格なし"
    assert company_name("株式会社美里").form_ja() == "株式会社（前）"


def test_reading_variant_is_close_names_of_one_form_and_place() -> None:
    assert reading_variant("株式会社朝凪建設", "株式会社朝風建設", 70) is not None  # one misread
    assert reading_variant("株式会社朝凪建設", "朝凪建設株式会社", 70) is None      # 前株/後株
    assert reading_variant("株式会社朝凪建設", "有限会社朝凪建設", 70) is None
    assert reading_variant("株式会社朝凪建設", "株式会社朝凪建設", 70) is None      # the same
    assert reading_variant("株式会社朝凪建設", "株式会社白樫商事", 70) is None


@given(st.text(min_size=1, max_size=12))
def test_key_is_stable_under_nfkc(name: str) -> None:
    assert company_key(nfkc(name)) == company_key(name)


def test_real_names_are_never_merged_and_their_forms_are_kept() -> None:
    """On the real corporate names shipped: distinct names never share a key, and each name
    with its legal form moved to the other side is another name."""
    by_key: dict[str, set[str]] = defaultdict(set)
    for c in corporations():
        by_key[company_key(c.name)].add(new_form(nfkc(c.name)).replace(" ", ""))
        core, forms = company_name(c.name)
        if len(forms) == 1 and forms[0][0] in ("株式会社", "有限会社", "合同会社"):
            form, place = forms[0]
            other = f"{core}{form}" if place == "前" else f"{form}{core}"
            assert not same_company(c.name, other), c.name
            short = {"株式会社": "(株)", "有限会社": "(有)", "合同会社": "(同)"}[form]
            assert same_company(c.name, c.name.replace(form, short))
    merged = {k: v for k, v in by_key.items() if len(v) > 1}
    assert not merged


def test_fictitious_vendors_are_valid_and_not_real() -> None:
    vendors = fictitious_vendors(400, np.random.default_rng(3), twins=0.2)
    assert len({c.number for c in vendors}) == len({company_key(c.name) for c in vendors}) == 400
    assert all(is_valid_corporate_number(c.number) for c in vendors)
    assert not {c.number for c in vendors} & real_numbers()
    assert not {company_key(c.name) for c in vendors} & real_keys()
    twins = [c for c in vendors if company_name(c.name).core in
             {company_name(o.name).core for o in vendors if o is not c}]
    assert twins  # 株式会社X and X株式会社, both there, different companies
