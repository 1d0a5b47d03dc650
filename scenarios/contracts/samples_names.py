"""Fictitious vendors for the samples: invented names, valid corporate numbers no real firm has.

Sample sets put vendors on the suspension list (指名停止, 贈賄) and into findings; shown in the
office or to the council, a real firm's name there would say something false about it. So
every sample vendor is made up: a name composed from word lists (a fanciful two-kanji word,
sometimes a middle word, a trade word; the legal form in front or behind — 株式会社X and
X株式会社 are both drawn, as different companies) with its reading, and a corporate number
whose check digit is valid (:mod:`ocr.checkdigits`) drawn so that it is none of the real
numbers shipped in ``robots/samples/data/corporations_sabae.csv``, nor one of the real names.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import numpy as np

from ocr.checkdigits import corporate_number_check_digit
from robots.kit.companies import company_key
from robots.samples import sources
from robots.samples.sources import Corporation, corporations

__all__ = ["fictitious_vendors", "real_keys", "real_numbers"]

#: Fanciful first words (with readings); several carry a kanji that has an old form (高 崎 沢 浜
#: 国 広 桜 真 辺 恵), so that old-form spellings appear in the samples.
_FIRST = (
    ("青嶺", "アオミネ"), ("朝凪", "アサナギ"), ("白樫", "シラカシ"), ("翠峰", "スイホウ"),
    ("楓丘", "カエデオカ"), ("霧里", "キリサト"), ("星湊", "ホシミナト"), ("瑞雲", "ズイウン"),
    ("高嶺", "タカネ"), ("桜沢", "サクラザワ"), ("浜風", "ハマカゼ"), ("国見台", "クニミダイ"),
    ("真砂", "マサゴ"), ("岬辺", "ミサキベ"), ("広野原", "ヒロノハラ"), ("恵泉", "ケイセン"),
    ("崎森", "サキモリ"), ("藍川", "アイカワ"), ("銀杏台", "イチョウダイ"), ("若楠", "ワカクス"),
    ("蒼穹", "ソウキュウ"), ("千草", "チグサ"), ("緋山", "ヒヤマ"), ("琥珀", "コハク"),
    ("菫野", "スミレノ"), ("柊原", "ヒイラギハラ"), ("雲雀", "ヒバリ"), ("鶴翔", "カクショウ"),
    ("玉響", "タマユラ"), ("早蕨", "サワラビ"), ("山桜桃", "ユスラ"), ("夕凪", "ユウナギ"),
    ("東雲", "シノノメ"), ("月白", "ゲッパク"), ("紫苑", "シオン"), ("葵坂", "アオイザカ"),
    ("楠葉", "クスハ"), ("松籟", "ショウライ"), ("碧水", "ヘキスイ"), ("清澄", "キヨスミ"),
    ("萌黄", "モエギ"), ("常磐野", "トキワノ"), ("木犀", "モクセイ"), ("綾瀬野", "アヤセノ"),
    ("錦丘", "ニシキオカ"), ("澪標", "ミオツクシ"), ("杜若", "カキツバタ"),
    ("白鷺台", "シラサギダイ"),
)  # fmt: skip
_MIDDLE = (("", ""), ("総合", "ソウゴウ"), ("中央", "チュウオウ"), ("技術", "ギジュツ"),
           ("第一", "ダイイチ"), ("西部", "セイブ"), ("東部", "トウブ"), ("南部", "ナンブ"),
           ("北部", "ホクブ"), ("美装", "ビソウ"), ("緑化", "リョクカ"), ("興産", "コウサン"))
_TRADE = (
    ("建設", "ケンセツ"), ("土木", "ドボク"), ("工業", "コウギョウ"), ("舗装", "ホソウ"),
    ("道路", "ドウロ"), ("建工", "ケンコウ"), ("組", "グミ"), ("電設", "デンセツ"),
    ("設備", "セツビ"), ("測量設計", "ソクリョウセッケイ"), ("コンサルタント", "コンサルタント"),
    ("商事", "ショウジ"), ("物産", "ブッサン"), ("事務機", "ジムキ"), ("産業", "サンギョウ"),
    ("興業", "コウギョウ"), ("サービス", "サービス"), ("技研", "ギケン"), ("開発", "カイハツ"),
    ("環境", "カンキョウ"), ("造園", "ゾウエン"), ("リース", "リース"),
    ("警備保障", "ケイビホショウ"),
    ("管工", "カンコウ"), ("工務店", "コウムテン"), ("商会", "ショウカイ"), ("電機", "デンキ"),
    ("鉄工", "テッコウ"), ("運輸", "ウンユ"), ("住設", "ジュウセツ"),
)  # fmt: skip
#: (legal form, in front?, IMI kind code)
_FORMS = (("株式会社", True, "301"), ("株式会社", False, "301"), ("有限会社", True, "302"),
          ("有限会社", False, "302"), ("合同会社", True, "305"))


@functools.cache
def real_numbers() -> frozenset[str]:
    """Every corporate number of the real data shipped (all kinds, also those not used)."""
    path = Path(sources.__file__).parent / "data" / "corporations_sabae.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return frozenset(row["corporateID"] for row in csv.DictReader(fh))


@functools.cache
def real_keys() -> frozenset[str]:
    """The :func:`company_key` of every real corporation's name shipped."""
    return frozenset(company_key(c.name) for c in corporations())


def _number(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        body = "".join(str(int(d)) for d in rng.integers(0, 10, 12))
        number = f"{corporate_number_check_digit(body)}{body}"
        if number not in taken and number not in real_numbers():
            taken.add(number)
            return number


def fictitious_vendors(n: int, rng: np.random.Generator, *, twins: float = 0.03
                       ) -> list[Corporation]:
    """``n`` made-up corporations with unique names and numbers (see the module docstring).

    About ``twins`` of them come with a twin: the same words with the legal form on the other
    side (前株/後株), a different company with its own number — the pair no comparison of
    names may merge.
    """
    sizes = (len(_FIRST), len(_MIDDLE), len(_TRADE), len(_FORMS))
    capacity = int(np.prod(sizes))
    if n > capacity * 2 // 3:
        raise ValueError(f"at most {capacity * 2 // 3} fictitious vendors can be drawn")
    out: list[Corporation] = []
    names: set[str] = set()
    numbers: set[str] = set()

    def add(name: str, kana: str, kind: str) -> bool:
        key = company_key(name)
        if key in names or key in real_keys():
            return False
        names.add(key)
        out.append(Corporation(_number(rng, numbers), kind, name, kana, ""))
        return True

    # every combination at most once (drawn without replacement): no retries near capacity;
    # small sets (the demo's) keep most names without a middle word, large ones need them all
    skip = 0.95 if n < capacity // 8 else 0.0
    for index in rng.permutation(capacity):
        if len(out) >= n:
            break
        i, j, k, f = np.unravel_index(int(index), sizes)
        (first, fk), (middle, mk), (trade, tk) = _FIRST[i], _MIDDLE[j], _TRADE[k]
        if middle and rng.random() < skip:
            continue
        form, front, kind = _FORMS[f]
        core, kana = first + middle + trade, fk + mk + tk
        if not add(f"{form}{core}" if front else f"{core}{form}", kana, kind):
            continue
        if form != "合同会社" and len(out) < n and rng.random() < twins:
            add(f"{core}{form}" if front else f"{form}{core}", kana, kind)
    if len(out) < n:
        raise ValueError(f"only {len(out)} fictitious vendors could be drawn")
    return out
