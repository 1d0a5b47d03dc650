r"""How one normalised value is written for a core system: dates, kana, phone, postal code, codes.

Values arrive normalised (``docs/architecture.md``: ISO dates, full-width katakana, phone
numbers as written with ``-``, ``NNN-NNNN``, ``1``/``0`` for checkboxes, option labels for
choices). Each function returns the text to write, or raises :class:`FormatProblem` with a
Japanese message a clerk can act on — a value is never bent into a shape it does not have.

Sources of the rules:

- 和暦: era boundaries from japanera (via :func:`ocr.japanese.era_of`). ``era_code`` writes
  the era as one digit, 1 明治 2 大正 3 昭和 4 平成 5 令和 — the 元号コード of 住民基本台帳
  records and of most municipal packages — then YYMMDD; a layout may give its own codes.
- Zengin kana (全銀協 file formats, "C" items): half-width katakana, upper-case letters,
  digits, space and ``( ) . , - / \\ ｢ ｣`` only; small kana written large (ｷﾖｳ for キョウ);
  the long-vowel mark written ``-``. Anything else is refused, not dropped.
- Phone numbers: hyphens placed by the Japanese numbering plan's area codes (Google's
  libphonenumber data, the ``phonenumbers`` package), so 08017646141 and 080-1764-6141 are
  written alike.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import jaconv
import phonenumbers

from ocr.japanese import era_of, format_era

__all__ = [
    "DATE_STYLES",
    "ERA_CODES",
    "ZENGIN_ALLOWED",
    "FormatProblem",
    "format_date",
    "format_kana",
    "format_phone",
    "format_postal",
    "zengin_kana",
]

#: 元号コード of 住民基本台帳 records (and most municipal packages): one digit per era.
ERA_CODES: dict[str, str] = {"明治": "1", "大正": "2", "昭和": "3", "平成": "4", "令和": "5"}
DATE_STYLES = ("yyyymmdd", "iso", "slash", "wareki", "wareki_short", "era_code")

# Zengin "C" items: what a bank's system accepts in a kana name (half-width).
ZENGIN_ALLOWED = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ().,-/\\｢｣ﾞﾟ"
                           "ｦｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ")
# small kana are written large; ヰヱ are old kana a bank no longer takes
_ZENGIN_LARGE = str.maketrans("ァィゥェォッャュョヮヵヶヰヱー・", "アイウエオツヤユヨワカケイエ-.")
_SPACES = re.compile(r"\s+")


class FormatProblem(ValueError):
    """A value cannot be written in the column's format; the message is for a clerk."""

    def __init__(self, message_ja: str) -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja


def format_date(value: str, style: str, era_codes: Mapping[str, str] | None = None) -> str:
    """An ISO date in ``style`` (see :data:`DATE_STYLES`); "" stays "".

    ``wareki`` is 令和7年11月26日 (元年 for the first year), ``wareki_short`` R07.11.26,
    ``era_code`` 5071126 (era code + YYMMDD).
    """
    if not value:
        return ""
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        raise FormatProblem(f"日付として読めません（{value}）") from None
    if style == "yyyymmdd":
        return f"{d:%Y%m%d}"
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d:%Y/%m/%d}"
    try:
        era = era_of(d)
    except ValueError:
        raise FormatProblem("明治より前の日付は和暦で書けません") from None
    if style == "wareki":
        return format_era(d)
    if style == "wareki_short":
        return f"{era.letter}{era.year:02d}.{d.month:02d}.{d.day:02d}"
    if style == "era_code":
        code = (era_codes or ERA_CODES).get(era.kanji)
        if code is None:
            raise FormatProblem(f"元号コード表に{era.kanji}がありません")
        return f"{code}{era.year:02d}{d.month:02d}{d.day:02d}"
    raise ValueError(f"unknown date style {style!r}")


def zengin_kana(value: str) -> str:
    """Kana as a bank's system takes it: half-width, small kana large, ``ー`` as ``-``.

    Raises :class:`FormatProblem` naming the characters Zengin does not allow (kanji,
    hiragana left over, lower-case letters, symbols).
    """
    full = jaconv.hira2kata(_SPACES.sub(" ", value.strip())).translate(_ZENGIN_LARGE)
    half = jaconv.z2h(full, kana=True, ascii=True, digit=True).upper()
    bad = sorted({ch for ch in half if ch not in ZENGIN_ALLOWED})
    if bad:
        raise FormatProblem(f"全銀協の規定で使えない文字があります（{'・'.join(bad)}）")
    return half


def format_kana(value: str, style: str) -> str:
    """Kana ``full`` (full-width, as normalised), ``half`` (half-width) or ``zengin``."""
    if style == "full":
        return jaconv.h2z(value, kana=True, ascii=False, digit=False)
    if style == "half":
        return jaconv.z2h(value, kana=True, ascii=True, digit=True)
    if style == "zengin":
        return zengin_kana(value)
    raise ValueError(f"unknown kana style {style!r}")


def format_phone(value: str, style: str) -> str:
    """A phone number as ``digits`` (0964471111) or ``hyphen`` (0964-47-1111).

    A number written without hyphens gets them by its area code; one written in three
    groups is kept as written. One that fits no area code is refused, not guessed.
    """
    digits = value.replace("-", "")
    if not digits:
        return ""
    if not digits.isascii() or not digits.isdigit():
        raise FormatProblem(f"電話番号に数字以外があります（{value}）")
    if style == "digits":
        return digits
    if value.count("-") == 2:
        return value  # grouped as written: the caller's own hyphens are kept
    number = phonenumbers.parse(digits, "JP")
    if not phonenumbers.is_valid_number(number):
        raise FormatProblem(f"市外局番から区切りを決められない電話番号です（{value}）")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def format_postal(value: str, style: str) -> str:
    """A postal code as ``digits`` (8614401) or ``hyphen`` (861-4401)."""
    digits = value.replace("-", "")
    if not digits:
        return ""
    if len(digits) != 7 or not digits.isascii() or not digits.isdigit():
        raise FormatProblem(f"郵便番号は7桁の数字です（{value}）")
    return digits if style == "digits" else f"{digits[:3]}-{digits[3:]}"
