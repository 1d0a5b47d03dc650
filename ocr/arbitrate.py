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

from collections.abc import Sequence

from ocr import refdata
from ocr.results import EngineReading
from ocr.templates import FieldSpec, FieldType
from ocr.validators import VARIANT_GROUPS, VARIANT_KANJI, Validated

__all__ = [
    "ALLOWED",
    "ODD_GLYPH_BELOW",
    "VARIANT_EVIDENCE",
    "allowed_chars",
    "lexicon_score",
    "preference",
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

# The recogniser's probability of a variant form (髙 for a 高 it read) from which the printed
# character is taken to be that variant: measured on world-one fonts (IPAex Mincho and
# Gothic): a printed 髙 read as 高 left 0.011 to 髙, a printed 高 under 0.0005.
VARIANT_EVIDENCE = 0.002
# Below this probability a common form with a variant (崎 read from a printed 﨑, which the
# recogniser's alphabet lacks) is an odd glyph worth a look: 0.972 for 﨑 in Mincho, 1.000 for
# an ordinary 崎 (world-one fonts).
ODD_GLYPH_BELOW = 0.98


def allowed_chars(f: FieldSpec) -> str | None:
    """The characters a printed value of ``f`` may be written with; None: any."""
    return ALLOWED.get(f.type)


def _group(ch: str) -> str:
    return next((g for g in VARIANT_GROUPS if ch in g), ch)


def variant_suspected(value: str, readings: Sequence[EngineReading]) -> bool:
    """Whether a character of ``value`` may be printed as another form of itself (髙/高, 邉/邊).

    Two recognisers agreeing cannot see it (neither has 﨑; both read 髙 as 高), but a
    recogniser's own scores can: a variant with more than :data:`VARIANT_EVIDENCE` at the
    character's place, an unsure common form, or a rare form read with less than certainty.
    Without per-character scores every character with a variant is suspect (the old rule).
    """
    prone = [ch for ch in value if ch in VARIANT_KANJI]
    if not prone:
        return False
    scored = next((r for r in readings if r.chars), None)
    if scored is None:
        return True
    places = {ch: (p, alts) for ch, p, alts in scored.chars}
    for ch in prone:
        if ch not in places:
            return True  # the scored reading has another character there: no evidence
        p, alts = places[ch]
        group = _group(ch)
        others = sum(q for a, q in alts if a != ch and a in group)
        common = ch == group[0]
        if others >= VARIANT_EVIDENCE or p < (ODD_GLYPH_BELOW if common else 0.99):
            return True
    return False


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
    return False


def preference(f: FieldSpec, checked: Sequence[tuple[EngineReading, Validated]],
               solo_engine: str) -> list[tuple[int, int, int, int, float]]:
    """A sort key per reading, best highest: what the field allows before who is surer.

    In order: the value passes its checks; it is no space misread as ー; real lists know it
    (:func:`lexicon_score`); it is the engine that makes fewer errors (``solo_engine``);
    the engine's confidence.
    """
    keys = []
    for i, (r, v) in enumerate(checked):
        rest = [c for j, c in enumerate(checked) if j != i]
        keys.append((0 if v.reasons else 1, 0 if _dash_for_space(f, (r, v), rest) else 1,
                     lexicon_score(f, v), 1 if r.engine == solo_engine else 0, r.confidence))
    return keys
