"""Whether a katakana reading is spelt as kana can be: evidence against a recogniser's slip.

A recogniser that half sees a large kana reads a small one, or reads noise as ッ or ー;
Japanese orthography says where small kana, ッ and ー can stand, so such a reading is no
name's and loses to one that is. The rules are kept loose where real names are free (proper
names, company readings such as ワァース): tested against every reading of gimei's names and
of the published corporate data.
"""

from __future__ import annotations

import re

__all__ = ["kana_spelling_ok"]

# Where a small kana may stand. Small ャュョ make a yōon with an i-row kana (キャ, ジュ, リョ)
# or, in loanwords, with テ デ フ ヴ (「外来語の表記」平成3年6月28日内閣告示第2号, 第1表
# デュ, 第2表 テュ フュ ヴュ); ッ stands between two kana, before a consonant. Small ァィゥェォ
# are left free: the notice lists its combinations but leaves proper names to usage, and
# real companies spell their readings ワァース or ジィコア (the sample vendors, from
# published corporate data).
_YOON_BEFORE = set("キギシジチヂニヒビピミリテデフヴ")
_NOT_AFTER_SOKUON = set("アイウエオンーッァィゥェォャュョヮ・")


def kana_spelling_ok(s: str) -> bool:
    """Whether a katakana reading is spelt as Japanese and its loanwords can be.

    A small kana at the start of a word or a small ャュョ after a kana it cannot follow
    (オオャマ, アベュウリ), ッ at the start or end of a word or before a vowel, ン or ー,
    and ー at the start of a word or doubled are what a recogniser makes of noise or of a
    large kana it half saw, never a name's reading.
    Words are the parts between ・ and spaces.
    """
    for word in re.split(r"[・\s]+", s):
        if not word:
            continue
        if word[0] in "ァィゥェォャュョッー" or word[-1] == "ッ" or "ーー" in word:
            return False
        for prev, ch, nxt in zip(" " + word[:-1], word, word[1:] + " ", strict=True):
            if ch in "ャュョ" and prev not in _YOON_BEFORE:
                return False
            if ch == "ッ" and (nxt in _NOT_AFTER_SOKUON or nxt == " "):
                return False
            if ch == "ー" and prev == "ッ":
                return False
    return True
