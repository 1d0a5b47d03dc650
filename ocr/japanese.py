"""Normalisation of Japanese text read by OCR.

OCR engines return the same writing in many code-point spellings: full-width digits, half-width
kana, circled digits (Tesseract's standard model), spaces between kanji, a dozen dash and tilde
look-alikes. Every comparison downstream (truth vs. read, two engines, reference data) only
works on one spelling, so this module decides that spelling once; the forms are listed in
``docs/architecture.md`` ("Normalised values"). Functions here are pure and never raise on
garbage: a parser that cannot make sense of its input returns ``None``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import jaconv

__all__ = [
    "EraParts",
    "digits_only",
    "era_of",
    "format_era",
    "kana_match_key",
    "kanji_number",
    "nfkc",
    "normalize_kana",
    "normalize_phone",
    "normalize_postal",
    "normalize_text",
    "parse_amount",
    "parse_date",
    "zengin_kana",
]

# --------------------------------------------------------------------------------------------
# text

# Look-alikes NFKC leaves alone. Only characters that cannot mean anything else in a form field
# are mapped; kanji are never touched (一 may be a dash, but it is also a digit and a name).
_TEXT_LOOKALIKES = str.maketrans(
    {
        "\u301c": "~",  # 〜 WAVE DASH (not in cp932); NFKC already maps ～ (U+FF5E) to ~
        "\u223c": "~",  # ∼ TILDE OPERATOR
        "\u2053": "~",  # ⁓ SWUNG DASH
        "\u2212": "-",  # − MINUS SIGN (not in cp932)
        "\u2010": "-",  # ‐ HYPHEN
        "\u2011": "-",  # ‑ NON-BREAKING HYPHEN
        "\u2013": "-",  # – EN DASH
        "\ufe63": "-",  # ﹣ SMALL HYPHEN-MINUS
        "\u200b": None,  # zero-width characters some PDF text layers carry
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
    }
)
# A long-vowel mark or dash between two digits is a hyphen ("1ー2ー3" in an address).
_DASH_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])[ー―—](?=[0-9])")
_SPACE_RUN = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def nfkc(s: str) -> str:
    """Unicode NFKC: full-width ASCII → ASCII, half-width kana → full-width, ① → 1, ㈱ → (株).

    The one canonical spelling every other normaliser starts from.
    """
    return unicodedata.normalize("NFKC", s or "")


def _collapse_spaces(s: str) -> str:
    # Japanese is written without spaces, so a gap between two non-ASCII characters is an OCR
    # artefact (the standard model puts one between kanji); in mixed text one space is kept.
    def repl(m: re.Match[str]) -> str:
        start, end = m.span()
        before = s[start - 1] if start > 0 else ""
        after = s[end] if end < len(s) else ""
        if before and after and not before.isascii() and not after.isascii():
            return ""
        return " "

    return _SPACE_RUN.sub(repl, s).strip()


def _text_once(s: str) -> str:
    s = nfkc(s).translate(_TEXT_LOOKALIKES)
    s = _CONTROL.sub("", s)
    s = _collapse_spaces(s)
    s = _DASH_BETWEEN_DIGITS.sub("-", s)
    # Removing a space can bring a combining mark next to its base (カ ゙ → ガ): compose again.
    return nfkc(s)


def normalize_text(s: str) -> str:
    """Normalise free text the way the docs table says: NFKC, spaces between non-ASCII removed.

    Other whitespace runs become one space; safe OCR look-alikes (wave dash, minus sign, a long
    vowel mark between digits) are mapped. Repeated until stable so the result is idempotent.
    """
    out = s or ""
    for _ in range(4):
        nxt = _text_once(out)
        if nxt == out:
            break
        out = nxt
    return out


# --------------------------------------------------------------------------------------------
# kana

_KATAKANA = "ァ-ヺ"
_LONG_VOWEL_LOOKALIKES = re.compile(r"[\-‐‑–—―−─━﹣]")
_ONE_AS_LONG_VOWEL = re.compile(rf"(?<=[{_KATAKANA}ー])一(?=[{_KATAKANA}ー]|$)")
_SMALL_TO_LARGE = str.maketrans(
    "ァィゥェォッャュョヮヵヶヂヅヲヰヱ", "アイウエオツヤユヨワカケジズオイエ"
)
_VU = (
    ("ヴァ", "バ"),
    ("ヴィ", "ビ"),
    ("ヴェ", "ベ"),
    ("ヴォ", "ボ"),
    ("ヴュ", "ビュ"),
    ("ヴ", "ブ"),
)


def _kana_once(s: str) -> str:
    s = nfkc(s)  # half-width → full-width, ｶﾞ → ガ
    s = jaconv.hira2kata(s).replace("ゝ", "ヽ").replace("ゞ", "ヾ")
    s = _SPACE_RUN.sub("", s)
    s = _LONG_VOWEL_LOOKALIKES.sub("ー", s)
    s = _ONE_AS_LONG_VOWEL.sub("ー", s)
    return nfkc(s)


def normalize_kana(s: str) -> str:
    """Normalise a furigana field: full-width katakana, no spaces, one long-vowel mark ``ー``.

    Hiragana is converted because forms ask for フリガナ but people write ふりがな; dashes, and
    the kanji 一 when it follows katakana, are long-vowel marks misread. Small kana stay small.
    """
    out = s or ""
    for _ in range(4):
        nxt = _kana_once(out)
        if nxt == out:
            break
        out = nxt
    return out


_ZENGIN_LARGE = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")


def zengin_kana(s: str) -> str:
    """A kana name as a bank account holder's name is written: small kana full size.

    The Zengin system's character set for account names has no small kana (拗音・促音 are
    written large: キョウコ → キヨウコ, ハットリ → ハツトリ; 全銀協「全銀システムで使用可能な
    文字」), which is why passbooks print them so. Voiced marks, ヲ and ー are kept.
    """
    return normalize_kana(s).translate(_ZENGIN_LARGE)


def kana_match_key(s: str) -> str:
    """A key under which two spellings of the same kana name compare equal.

    Zengin-style kana writes small kana full size (キヨウ for キョウ) and ヂ/ヅ, ヴ and ー are
    spelt inconsistently, so the key makes small kana large, ヂ→ジ, ヅ→ズ, ヴ→ブ, drops ー, ・
    and spaces, and keeps voiced marks (ガ and カ are different names).
    """
    k = normalize_kana(s)
    for a, b in _VU:
        k = k.replace(a, b)
    k = k.translate(_SMALL_TO_LARGE)
    return k.replace("ー", "").replace("・", "")


# --------------------------------------------------------------------------------------------
# digits

# Confusions inside a field that can only hold digits: letters O/l/I and the bar, kanji zero.
_DIGIT_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "〇": "0", "l": "1", "I": "1", "|": "1"})


def digits_only(s: str) -> str:
    """Map every digit spelling to ASCII in a field known to hold digits; drop whitespace.

    Handles full-width, circled (①, which Tesseract's standard model emits) and other Unicode
    digits and the letter look-alikes O/o/〇 → 0, l/I/| → 1. Any other character is left in
    place so that the caller can see the value is not all digits.
    """
    s = _SPACE_RUN.sub("", nfkc(s))
    out = []
    for ch in s:
        if not ch.isascii():
            d = unicodedata.digit(ch, None)
            if d is not None:
                out.append(str(d))
                continue
        out.append(ch)
    return "".join(out).translate(_DIGIT_CONFUSIONS)


_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
                 "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}


def kanji_number(s: str) -> int | None:
    """Value of a kanji numeral: positional (六十四, 百二) or digit by digit (二〇二四).

    Dates and 丁目 are sometimes written in kanji; ``None`` when ``s`` is not such a numeral.
    """
    if not s or any(ch not in _KANJI_DIGITS and ch not in _KANJI_UNITS for ch in s):
        return None
    if not any(ch in _KANJI_UNITS for ch in s):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in s))
    total, digit = 0, None
    for ch in s:
        if ch in _KANJI_DIGITS:
            if digit is not None:
                return None  # 二三十 is not a numeral
            digit = _KANJI_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _KANJI_UNITS[ch]
            digit = None
    return total + (digit or 0)


# --------------------------------------------------------------------------------------------
# dates


class _Era(NamedTuple):
    kanji: str
    since: dt.date
    until: dt.date | None  # first day of the next era (exclusive), None for the current one
    names: tuple[str, ...]  # every spelling: 昭和, 昭, S, s


_MODERN_ERAS = ("明治", "大正", "昭和", "平成", "令和")


@lru_cache(maxsize=1)
def _eras() -> tuple[_Era, ...]:
    # Era names and boundaries come from japanera's data rather than being typed here.
    from japanera import ERA_DATA_GENERAL

    eras = []
    for era in ERA_DATA_GENERAL:
        if era.kanji in _MODERN_ERAS:
            head = era.english_head.upper()
            names = (era.kanji, era.kanji[0], head, head.lower())
            eras.append(_Era(era.kanji, era.since, era.until, names))
    return tuple(sorted(eras, key=lambda e: e.since))


@lru_cache(maxsize=1)
def _era_by_name() -> dict[str, _Era]:
    return {name: era for era in _eras() for name in era.names}


_D = r"[0-9OoIl|]"  # a digit position, digit confusions allowed
_SEP_Y = r"(?:年|[./-])"
_SEP_M = r"(?:月|[./-])"


@lru_cache(maxsize=1)
def _era_date_re() -> re.Pattern[str]:
    names = sorted(_era_by_name(), key=len, reverse=True)
    alt = "|".join(re.escape(n) for n in names)
    return re.compile(
        rf"(?P<era>{alt})(?P<y>元|{_D}{{1,2}}){_SEP_Y}(?P<m>{_D}{{1,2}}){_SEP_M}(?P<d>{_D}{{1,2}})日?"
    )


_WESTERN_DATE = re.compile(
    rf"(?:西暦)?(?P<y>{_D}{{4}}){_SEP_Y}(?P<m>{_D}{{1,2}}){_SEP_M}(?P<d>{_D}{{1,2}})日?"
)
_COMPACT_DATE = re.compile(rf"(?P<y>{_D}{{4}})(?P<m>{_D}{{2}})(?P<d>{_D}{{2}})")
_DATE_DASHES = re.compile(r"[‐‑–—―−ー─]")
_KANJI_NUMERAL_IN_DATE = re.compile(r"([〇零一二三四五六七八九十百千]+)(?=[年月日])")
_DATE_TAIL = re.compile(r"(?:\([月火水木金土日](?:曜日?)?\)|生まれ|生)$")


def _date_or_none(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _kanji_numeral_sub(m: re.Match[str]) -> str:
    n = kanji_number(m.group(1))
    return m.group(1) if n is None else str(n)


def parse_date(s: str) -> dt.date | None:
    """Parse a date as written on a Japanese form; ``None`` when it is not a real date.

    Accepts era dates (明治/大正/昭和/平成/令和, 明/大/昭/平/令, M/T/S/H/R, 元年; ``年月日`` or
    ``. / -``) and western ones (1985年4月12日, 1985/4/12, 1985-04-12, 19850412), with full-width
    digits and spaces anywhere, a trailing weekday ``(金)`` or ``生``. An era date must fall
    inside its era (boundaries from japanera, the last day of an era being the day before the
    next began): 平成31年5月1日 and 平成32年 are ``None``, never silently moved to 令和, because
    a wrong era on a form is something a person must look at. A year without era or century
    (``60年4月12日``, ``85/4/12``) is ambiguous and gives ``None``. Meiji dates before 1873
    (lunisolar calendar) are converted as if Gregorian.
    """
    t = nfkc(s)
    t = _SPACE_RUN.sub("", t)
    t = _DATE_DASHES.sub("-", t)
    t = _KANJI_NUMERAL_IN_DATE.sub(_kanji_numeral_sub, t)
    t = _DATE_TAIL.sub("", t)
    if not t:
        return None
    if m := _era_date_re().fullmatch(t):
        era = _era_by_name()[m["era"]]
        y_text = m["y"]
        rel = 1 if y_text == "元" else int(y_text.translate(_DIGIT_CONFUSIONS))
        if rel < 1:
            return None
        month, day = (int(m[k].translate(_DIGIT_CONFUSIONS)) for k in ("m", "d"))
        d = _date_or_none(era.since.year + rel - 1, month, day)
        if d is None or d < era.since or (era.until is not None and d >= era.until):
            return None
        return d
    m = _WESTERN_DATE.fullmatch(t) or _COMPACT_DATE.fullmatch(t)
    if m:
        y, month, day = (int(m[k].translate(_DIGIT_CONFUSIONS)) for k in ("y", "m", "d"))
        return _date_or_none(y, month, day) if y >= 1 else None
    return None


class EraParts(NamedTuple):
    """A date's era: its kanji (令和), the letter of its romanisation (R) and the year in it."""

    kanji: str
    letter: str
    year: int


def era_of(d: dt.date) -> EraParts:
    """The modern era ``d`` falls in (boundaries from japanera); ``ValueError`` before 明治."""
    for era in reversed(_eras()):
        if d >= era.since and (era.until is None or d < era.until):
            return EraParts(era.kanji, era.names[2], d.year - era.since.year + 1)
    raise ValueError("date before the Meiji era has no modern era name")


def format_era(d: dt.date) -> str:
    """Write ``d`` as an era date, ``昭和60年4月12日`` (``令和元年5月1日`` for year 1).

    Used by the sample generator to fill forms the way people do. Raises ``ValueError`` for a
    date before 明治.
    """
    era = era_of(d)
    year = "元" if era.year == 1 else str(era.year)
    return f"{era.kanji}{year}年{d.month}月{d.day}日"


# --------------------------------------------------------------------------------------------
# amounts, phone numbers, postal codes

_AMOUNT_PREFIX = re.compile(r"^(?:金)?[¥\\]?")
_AMOUNT_SUFFIX = re.compile(r"(?:円也|円|也)?(?:\.?[-―ー—])?$")
_GROUPED_COMMA = re.compile(r"\d{1,3}(?:,\d{3})+")
_GROUPED_DOT = re.compile(r"\d{1,3}(?:\.\d{3})+")
_MAX_AMOUNT_CHARS = 20  # 10^15 yen is far beyond any form; also keeps int() cheap


def parse_amount(s: str) -> int | None:
    """Parse a yen amount: ``1,234,567円``, ``¥1,234,567``, ``金1,234,567円也``, ``1, 234, 567 円``.

    Spaces anywhere are dropped (Tesseract emits ``1, 234, 567``). Separators must group by
    three (a dot is taken as a misread comma, yen having no decimals). Negative amounts, 万
    units and mixed text give ``None``: a reviewer reads them better than a guess.
    """
    t = _SPACE_RUN.sub("", nfkc(s))
    t = _AMOUNT_PREFIX.sub("", t, count=1)
    t = _AMOUNT_SUFFIX.sub("", t, count=1)
    t = digits_only(t)
    if not t or len(t) > _MAX_AMOUNT_CHARS:
        return None
    if t.isascii() and t.isdigit():
        return int(t)
    if _GROUPED_COMMA.fullmatch(t):
        return int(t.replace(",", ""))
    if _GROUPED_DOT.fullmatch(t):
        return int(t.replace(".", ""))
    return None


_PHONE_DASHES = re.compile(r"[‐‑–—―−ー─ｰ]")
_PHONE_PREFIX = re.compile(r"^(?:tel|電話|☎|℡)[.:]?", re.IGNORECASE)
_PHONE_AREA_PAREN = re.compile(r"^\((\d+)\)")  # (0964)47-1111
_PHONE_LOCAL_PAREN = re.compile(r"^(\d+)\((\d+)\)")  # 0964(47)1111
_PHONE = re.compile(r"\d+(?:-\d+)*")


def normalize_phone(s: str) -> str | None:
    """Phone number as written, with ASCII digits and ``-`` only; ``None`` when not a number.

    Dash variants become ``-`` and the parenthesised forms ``(0964)47-1111`` and
    ``0964(47)1111`` become hyphens. Japanese numbers start with 0 and have 10 digits (fixed
    lines, 0120) or 11 (mobile, 050, 0570 is 10) — anything else is rejected.
    """
    t = _SPACE_RUN.sub("", nfkc(s))
    t = _PHONE_PREFIX.sub("", t)
    t = _PHONE_DASHES.sub("-", t)
    t = digits_only(t)
    t = _PHONE_AREA_PAREN.sub(r"\1-", t)
    t = _PHONE_LOCAL_PAREN.sub(r"\1-\2-", t)
    if not _PHONE.fullmatch(t):
        return None
    digits = t.replace("-", "")
    if not digits.startswith("0") or len(digits) not in (10, 11):
        return None
    return t


_POSTAL = re.compile(r"(\d{3})-?(\d{4})")
_POSTAL_MARK = re.compile(r"^[^\d]{1,2}(?=\d{3}-?\d{4}$)")


def normalize_postal(s: str) -> str | None:
    """Postal code as ``NNN-NNNN`` from ``〒861-4401``, ``8614401`` or ``861ー4401``.

    ``None`` when it is not seven digits: the caller flags the field instead of guessing.
    """
    t = _SPACE_RUN.sub("", nfkc(s))
    t = t.removeprefix("〒")
    t = _PHONE_DASHES.sub("-", t)
    t = digits_only(t)
    # 〒 printed before the code and read as a letter or kanji (T, 干, 〶): not data
    t = _POSTAL_MARK.sub("", t)
    m = _POSTAL.fullmatch(t)
    return f"{m[1]}-{m[2]}" if m else None
