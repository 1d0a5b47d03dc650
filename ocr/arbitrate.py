"""What a field allows, used to keep the right reading when the two engines disagree.

Disagreement is where most wrong values come from, and in most of them one engine had it
right (the issue that asked for this counted two thirds). Choosing by confidence alone
loses that reading; the field itself knows better: the characters its type may hold (a kana
field holds katakana, ー and the space between family and given name), the checks its value
must pass, and the names and places real lists hold (gimei's surnames and given names,
Japan Post's towns). This module holds those pieces as pure functions; :mod:`ocr.decide`
applies them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ocr import refdata
from ocr.results import EngineReading
from ocr.templates import FieldSpec, FieldType
from ocr.validators import VARIANT_GROUPS, VARIANT_KANJI, Validated

__all__ = [
    "ALLOWED",
    "DASH_UNSURE",
    "ODD_GLYPH_BELOW",
    "SPACE_EVIDENCE",
    "UNSURE",
    "VARIANT_EVIDENCE",
    "allowed_chars",
    "lexicon_score",
    "mend_reading",
    "preference",
    "variant_reading",
    "variant_suspected",
]

_DIGITS = "0123456789０１２３４５６７８９"
_SPACES = " \u3000"
_DASHES = "-‐－ー―−"
_KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30FB)) + "ーヽヾ・"
_HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097)) + "ゝゞ"

# Characters a printed value of each type is written with (what the recogniser may choose
# from). Names, addresses and free text are unrestricted: any kanji may occur.
ALLOWED: dict[FieldType, str] = {
    FieldType.KANA: _KATAKANA + _HIRAGANA + _SPACES,
    FieldType.DIGITS: _DIGITS + _SPACES,
    FieldType.MYNUMBER: _DIGITS + _SPACES + _DASHES,
    FieldType.CORPORATE_NUMBER: _DIGITS + _SPACES + _DASHES,
    FieldType.BANK_CODE: _DIGITS + _SPACES,
    FieldType.BRANCH_CODE: _DIGITS + _SPACES,
    FieldType.ACCOUNT_NUMBER: _DIGITS + _SPACES,
    FieldType.POSTAL_CODE: _DIGITS + _SPACES + _DASHES + "〒",
    FieldType.PHONE: _DIGITS + _SPACES + _DASHES + "()（）",
    FieldType.AMOUNT: _DIGITS + _SPACES + ",，.¥￥円金也" + _DASHES,
    FieldType.DATE: _DIGITS + _SPACES + "年月日元令和平成昭大正明治西暦/.／．-－()（）"
                    "月火水木金土曜生",
}

# Variant kanji, measured on world-one fonts (IPAex Mincho and Gothic, 3.5-5 mm, RapidOCR):
# a printed 髙 read as 高 left 0.0022-0.056 to 髙 (120 names), so from VARIANT_EVIDENCE on the
# character may be the variant, and the variant is proposed (still flagged). How much a
# genuine common form leaves to its variant differs by pair (24 names each, the largest
# seen below); a variant must reach three times that. Pairs the recogniser cannot tell apart
# at all (徳/德, 恵/惠, 曽/曾: half and half on a genuine 徳) never reach it: their variants go
# unflagged, a limit of this evidence. A variant the alphabet lacks (﨑, 𠮷) leaves only an
# unsure common form: a printed 﨑 read 崎 with 0.982-0.9996 (median 0.9991), a printed 崎
# 0.9994-1.0 (tenth percentile 0.9999): below ODD_GLYPH_BELOW it is suspect, not replaced.
# A rare form read with less than UNSURE is suspect too (邉 read 0.68 beside 邊).
VARIANT_EVIDENCE = 0.0015
_GENUINE_LEAVES = {"髙": 0.00073, "斎": 0.00036, "國": 0.00013, "德": 0.47449, "冨": 0.0026,
                   "櫻": 0.00002, "惠": 0.39539, "槇": 0.01234, "條": 0.00043, "曾": 0.49636,
                   "眞": 0.00086, "瀨": 0.01964}
ODD_GLYPH_BELOW = 0.9995
UNSURE = 0.99
# A long-vowel mark with at least this much probability on a space at its place is the space
# between family and given name (サイトウ　ジュンコ): measured on world-one fonts (IPAex, 3.5-4.6
# mm, 120 names), a space read as ー left 0.04-0.23 to the space and 0.40-0.78 to ー; 47
# real ー in company names 0.997 or more to ー and nothing to a space.
SPACE_EVIDENCE = 0.01
# A ー the recogniser is less sure of than this may be the word space, if another engine
# read the space there: a real ー scored 0.998 or more on pages of levels 0-2 (world one,
# 25 company names in kana), and no engine read a space where a real one stood (levels 0-3).
DASH_UNSURE = 0.99


def mend_reading(f: FieldSpec, r: EngineReading,
                 others: Sequence[EngineReading] = ()) -> EngineReading:
    """A kana reading with each ー that stands for the word space made that space.

    A ー is the space when the recogniser half saw a space there (:data:`SPACE_EVIDENCE`),
    or when it is unsure of the ー (below :data:`DASH_UNSURE`) and another engine read
    the word space right there, after the same characters (ミヤザキーリンタロウ beside
    ミヤザキ リンタロウ). The score is then that of the characters again, the space left out
    as it is by the engine (:mod:`ocr.engines._rapidocr`): the ー it no longer holds
    must not pull it down. Without per-character scores the reading is returned as it
    is; the arbitration rule against a space read as ー (:func:`preference`) still compares
    it with the other engine.
    """
    if f.type is not FieldType.KANA or not r.chars or "ー" not in r.text:
        return r
    spaces_after = {"".join(words[:k]) for words in (o.text.split() for o in others)
                    for k in range(1, len(words))}
    chars = []
    changed = False
    read = ""
    for ch, p, alts in r.chars:
        space = max((q for a, q in alts if a in _SPACES), default=0.0)
        if ch == "ー" and (space >= SPACE_EVIDENCE
                          or (p < DASH_UNSURE and read and read in spaces_after)):
            ch, changed = "\u3000", True
        if ch not in _SPACES:
            read += ch
        chars.append((ch, p, alts))
    if not changed:
        return r
    written = [p for c, p, _ in chars if c not in _SPACES]
    conf = round(sum(written) / len(written), 5) if written else 0.0
    return EngineReading(r.engine, "".join(c for c, _, _ in chars), conf, tuple(chars))


def allowed_chars(f: FieldSpec) -> str | None:
    """The characters a printed value of ``f`` may be written with; None: any."""
    return ALLOWED.get(f.type)


def _group(ch: str) -> str:
    return next((g for g in VARIANT_GROUPS if ch in g), ch)


def _variant_evidence(ch: str, p: float, alts: tuple[tuple[str, float], ...]
                      ) -> tuple[bool, str]:
    """(suspect, the likeliest other form when the scores point to it, else "")."""
    group = _group(ch)
    listed = dict(alts)
    others = {m: listed[m] for m in group if m != ch and m in listed}
    # not in the alphabet (so never reported), and not folded into ch by NFKC (隆 U+F9DC)
    lacking = [m for m in group if m != ch and m not in listed
               and unicodedata.normalize("NFKC", m) == m]
    strong = {m: q for m, q in others.items()
              if q >= max(VARIANT_EVIDENCE, 3 * _GENUINE_LEAVES.get(m, 0.0))}
    if ch != group[0]:  # a rare form read: it stands when read with certainty
        return p < UNSURE or bool(strong), ""
    if strong:
        return True, max(strong, key=strong.__getitem__)
    return bool(lacking) and p < ODD_GLYPH_BELOW, ""


def variant_suspected(value: str, readings: Sequence[EngineReading]) -> bool:
    """Whether a character of ``value`` may be printed as another form of itself (髙/高, 邉/邊).

    Two recognisers agreeing cannot see it (neither has 﨑; both read 髙 as 高), but a
    recogniser's own scores can (see :data:`VARIANT_EVIDENCE`). Without per-character scores
    every character with a variant is suspect (the old rule).
    """
    return variant_reading(value, readings)[0]


def variant_reading(value: str, readings: Sequence[EngineReading]) -> tuple[bool, str]:
    """(suspect, the value with the variant the scores point to put in, or ``value``)."""
    prone = [ch for ch in value if ch in VARIANT_KANJI]
    if not prone:
        return False, value
    scored = next((r for r in readings if r.chars), None)
    if scored is None:
        return True, value
    places = {ch: (p, alts) for ch, p, alts in scored.chars}
    suspect, proposed = False, value
    for ch in dict.fromkeys(prone):
        if ch not in places:
            suspect = True  # the scored reading has another character there: no evidence
            continue
        hit, other = _variant_evidence(ch, *places[ch])
        suspect |= hit
        if other:
            proposed = proposed.replace(ch, other)
    return suspect, proposed


def lexicon_score(f: FieldSpec, v: Validated) -> int:
    """How far real lists recognise a reading's value: higher is likelier right.

    Names and kana: 1 when the value is a surname then a given name of gimei's data (most
    residents' are not: a miss says nothing). Addresses: characters of the value Japan
    Post's data knows from its start (prefecture, city, town area).
    """
    if not v.value:
        return 0
    if f.type is FieldType.NAME:
        return int(refdata.known_person_name(v.value))
    if f.type is FieldType.KANA:
        return int(refdata.known_kana_name(v.value))
    if f.type is FieldType.ADDRESS:
        return refdata.address_known_length(v.value)
    return 0


def _dash_for_space(f: FieldSpec, mine: tuple[EngineReading, Validated],
                    others: Sequence[tuple[EngineReading, Validated]]) -> bool:
    """A kana reading with a ー where another reading had the space between two words."""
    if f.type is not FieldType.KANA:
        return False
    value = mine[1].value
    for r, v in others:
        if (v.value != value and v.value.replace("ー", "") == value.replace("ー", "")
                and value.count("ー") > v.value.count("ー") and any(c in r.text for c in _SPACES)):
            return True
        # the other reading may differ elsewhere (ナイトウ カツトンシ against ナイトウーカツトシ):
        # a ー right after the words it read before its space is that space
        words = r.text.split()
        for k in range(1, len(words)):
            before = "".join(words[:k])
            if before and value.startswith(before + "ー") and not before.endswith("ー"):
                return True
    return False


def _collapsed_double(f: FieldSpec, mine: tuple[EngineReading, Validated],
                      others: Sequence[tuple[EngineReading, Validated]]) -> bool:
    """A reading that lost one of two identical characters at the word space (ツカモトモユキ).

    CTC decoding merges two identical characters unless it sees a gap between them; at the
    space between family and given name (ツカモト トモユキ) a recogniser that drops the
    space drops the gap too, and one ト with it. Only a double that another engine read
    with the space between its two halves counts: a double inside a word (ムラタ カカハネ
    for ムラタカハネ) is as likely that engine's stutter as this one's merge.
    """
    if f.type not in (FieldType.KANA, FieldType.NAME):
        return False
    value = mine[1].value
    for r, v in others:
        other = v.value
        if len(other) != len(value) + 1:
            continue
        for i in range(len(other) - 1):
            ch = other[i]
            if (ch == other[i + 1] and other[:i] + other[i + 1:] == value
                    and re.search(f"{re.escape(ch)}[ \u3000]+{re.escape(ch)}", r.text)):
                return True
    return False


def preference(f: FieldSpec, checked: Sequence[tuple[EngineReading, Validated]],
               solo_engine: str) -> list[tuple[int, int, int, int, float]]:
    """A sort key per reading, best highest: what the field allows before who is surer.

    In order: the value passes its checks; it is no space misread as ー nor a double at
    the word space read once (:func:`_collapsed_double`); real lists know it
    (:func:`lexicon_score`); it is the engine that makes fewer errors (``solo_engine``);
    the engine's confidence.
    """
    keys = []
    for i, (r, v) in enumerate(checked):
        rest = [c for j, c in enumerate(checked) if j != i]
        misread = _dash_for_space(f, (r, v), rest) or _collapsed_double(f, (r, v), rest)
        keys.append((0 if v.reasons else 1, 0 if misread else 1,
                     lexicon_score(f, v), 1 if r.engine == solo_engine else 0, r.confidence))
    return keys
