"""Validation of read values: normalised value plus the reasons a human must look at a field.

A reason is only worth raising when a person can act on it, so each check here corresponds to
a mistake that happens on paper or in OCR: a wrong check digit, a date in the wrong era, a
branch that does not belong to the bank, a kanji whose variant OCR cannot see. Validation
never raises on garbage: the reader must always get a :class:`Validated` back, so that the
document reaches the correction sheet instead of failing the run.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from ocr import refdata
from ocr.checkdigits import is_valid_corporate_number, is_valid_mynumber
from ocr.japanese import (
    digits_only,
    normalize_kana,
    normalize_phone,
    normalize_postal,
    normalize_text,
    parse_amount,
    parse_date,
)
from ocr.reasons import Reason, reason
from ocr.spelling import kana_spelling_ok
from ocr.templates import FieldSpec, FieldType

__all__ = [
    "RECENT_YEARS",
    "VARIANT_GROUPS",
    "VARIANT_KANJI",
    "Validated",
    "trim_specks",
    "validate_value",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Validated:
    """A field's normalised value (see docs, "Normalised values"; "" when empty) and reasons.

    When a value cannot be normalised, ``value`` is the cleaned raw text (``normalize_text``)
    so that the reviewer sees what was read next to the reason.
    """

    value: str
    reasons: tuple[Reason, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing needs a human."""
        return not self.reasons


# Characters with a common variant (異体字) that OCR reads as the ordinary form (髙 → 高) or
# that people write either way; a name containing one must be checked on the original.
# U+F9DC is the compatibility 隆 that NFKC folds into 隆: flagging 隆 covers it.
VARIANT_GROUPS: tuple[str, ...] = (
    "高髙", "崎﨑嵜", "吉𠮷", "辺邊邉", "斉斎齊齋", "沢澤", "浜濱", "島嶋嶌", "国國", "徳德",
    "隆\uf9dc", "富冨", "桜櫻", "広廣", "恵惠", "槙槇", "条條", "曽曾", "真眞", "瀬瀨",
)  # fmt: skip
VARIANT_KANJI: frozenset[str] = frozenset("".join(VARIANT_GROUPS))

_AGE_LIMIT_YEARS = 120
_EARLIEST_PLAUSIBLE = dt.date(1868, 1, 1)  # no form of a town hall predates the Meiji era
# An application is read within weeks of being written: one dated years earlier is more likely
# a misread year (令和8 read 5) than a form kept in a drawer; a person looks.
RECENT_YEARS = 2
_KANA_OK = re.compile(r"[ァ-ヺー・]*")
_NUMBER_SEPARATORS = re.compile(r"[-‐‑–—―−ー]")


def _cp932_ok(value: str) -> bool:
    try:
        value.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


# Letters set apart one by one (株式会社 A G M): RapidOCR spaces out Latin capitals in a
# Japanese line; no name is spelt as single letters with spaces between them.
_SPACED_LETTERS = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9](?: [A-Za-z0-9](?![A-Za-z0-9]))+")
# A space between two digits of a house number (西畑6 92番): Tesseract's, never written.
_SPACE_IN_NUMBER = re.compile(r"(?<=[0-9]) (?=[0-9])")
# A space between a house number and the Japanese around it (花上 56番地, 石川 2 7 4番地):
# Tesseract sets digits apart in a Japanese line; an address is written without it (the two
# engines read the same address, and only this space made them disagree).
# After the number only before the words that count it (番地, 号, 丁目): a building's name
# after the house number keeps its space.
_SPACE_BY_NUMBER = re.compile(
    r"(?<=[0-9])[ \u3000]+(?=[番号丁条線区])|(?<=[^\x00-\x7f\s])[ \u3000]+(?=[0-9])")
_SPACED_DASH = re.compile(r"(?<=[0-9])[ \u3000]*-[ \u3000]*(?=[0-9])")


def _join_spaced(value: str) -> str:
    return _SPACED_LETTERS.sub(lambda m: m.group(0).replace(" ", ""), value)


def _text(field: FieldSpec, raw: str, name_field: bool) -> Validated:
    value = normalize_text(raw)
    if field.type is FieldType.NAME:
        value = _join_spaced(value)
    reasons: list[Reason] = []
    if field.allowed:
        allowed = {normalize_text(a): a for a in field.allowed}
        if value in allowed:
            value = normalize_text(allowed[value])
        else:
            reasons.append(reason("not_allowed_value"))
    # No detail: the character is part of a name, and reasons end up in the run log.
    if name_field and any(ch in VARIANT_KANJI for ch in value):
        reasons.append(reason("variant_kanji"))
    if not _cp932_ok(value):
        reasons.append(reason("not_encodable"))
    return Validated(value, tuple(reasons))


# A dash between two house numbers that an engine took for the kanji 一 (2908一3): no
# address writes a kanji numeral between two Arabic digits. normalize_text already makes
# ー, ― and the other dashes between digits a hyphen, for every text.
_KANJI_ONE_BETWEEN_DIGITS = re.compile(r"(?<=\d)一(?=\d)")


def _address(field: FieldSpec, raw: str) -> Validated:
    value = normalize_text(raw)
    value = _SPACE_BY_NUMBER.sub("", _SPACE_IN_NUMBER.sub("", value))
    value = _join_spaced(_SPACED_DASH.sub("-", _KANJI_ONE_BETWEEN_DIGITS.sub("-", value)))
    reasons: list[Reason] = []
    if refdata.address_known(value) is False:
        reasons.append(reason("unknown_address"))
    if not _cp932_ok(value):
        reasons.append(reason("not_encodable"))
    return Validated(value, tuple(reasons))


# Latin letters or digits far to the right of a kana name (タカハシ マユ   …   EE): what
# Tesseract reads in a fold's shadow at the empty end of the box. A kana value holds no
# Latin letter, and nobody leaves a gap of several characters inside a name.
_LATIN_AFTER_GAP = re.compile(r"[ \u3000]{3,}[A-Za-z0-9]{1,3}[ \u3000]*$")


def _kana(field: FieldSpec, raw: str) -> Validated:
    value = normalize_kana(_LATIN_AFTER_GAP.sub("", raw))
    reasons: list[Reason] = []
    if not _KANA_OK.fullmatch(value):
        reasons.append(reason("unexpected_characters"))
    elif not kana_spelling_ok(value):
        reasons.append(reason("kana_spelling"))
    if not _cp932_ok(value):
        reasons.append(reason("not_encodable"))
    return Validated(value, tuple(reasons))


def _id_digits(raw: str) -> str:
    # Numbers people write in groups (1234-5678-9018, 1234 5678 9018): separators are not data.
    return _NUMBER_SEPARATORS.sub("", digits_only(raw))


def _is_digits(s: str, length: int | None = None) -> bool:
    return s.isascii() and s.isdigit() and (length is None or len(s) == length)


def _digits(field: FieldSpec, raw: str) -> Validated:
    value = digits_only(raw)
    if not _is_digits(value):
        return Validated(value, (reason("invalid_format"),))
    return Validated(value)


def _years_before(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _boxed_date(field: FieldSpec, raw: str) -> str:
    """A boxed date's digits (``071001`` with era 令和) as a date people write; else ``raw``."""
    digits = digits_only(raw).replace(" ", "")
    if not field.comb or len(digits) != field.comb or not digits.isdigit():
        return raw
    y, md = (digits[:2], digits[2:]) if field.era else (digits[:4], digits[4:])
    return f"{field.era}{y}年{md[:2]}月{md[2:]}日"


def _date(field: FieldSpec, raw: str, today: dt.date) -> Validated:
    d = parse_date(_boxed_date(field, raw))
    if d is None:
        return Validated(normalize_text(raw), (reason("invalid_date"),))
    reasons: list[Reason] = []
    if d > today and field.date_range in ("past", "recent"):
        reasons.append(reason("future_date"))
    if field.date_range == "recent" and d < _years_before(today, RECENT_YEARS):
        reasons.append(reason("implausible_date", f"{RECENT_YEARS}年以上前"))
    if "birth" in field.name and d < _years_before(today, _AGE_LIMIT_YEARS):
        reasons.append(reason("implausible_date", f"{_AGE_LIMIT_YEARS}歳超"))
    elif d < _EARLIEST_PLAUSIBLE:
        reasons.append(reason("implausible_date"))
    return Validated(d.isoformat(), tuple(reasons))


def _postal(field: FieldSpec, raw: str) -> Validated:
    value = normalize_postal(raw)
    if value is None:
        return Validated(normalize_text(raw), (reason("invalid_format"),))
    if refdata.postal_lookup(value) is None:
        return Validated(value, (reason("unknown_postal_code"),))
    return Validated(value)


def _phone(field: FieldSpec, raw: str) -> Validated:
    value = normalize_phone(raw)
    if value is None:
        return Validated(normalize_text(raw), (reason("invalid_format"),))
    return Validated(value)


def _amount(field: FieldSpec, raw: str) -> Validated:
    amount = parse_amount(raw)
    if amount is None:
        return Validated(normalize_text(raw), (reason("invalid_format"),))
    return Validated(str(amount))


def _fixed_digits(
    length: int, check: Callable[[str], bool] | None = None, detail: str = ""
) -> Callable[[FieldSpec, str], Validated]:
    def validate(field: FieldSpec, raw: str) -> Validated:
        value = _id_digits(raw)
        if not _is_digits(value, length):
            return Validated(value, (reason("invalid_format", detail),))
        if check is not None and not check(value):
            return Validated(value, (reason("check_digit"),))
        return Validated(value)

    return validate


def _bank_code(field: FieldSpec, raw: str) -> Validated:
    result = _fixed_digits(4, detail="4桁")(field, raw)
    if result.ok and refdata.bank_name(result.value) is None:
        return Validated(result.value, (reason("unknown_bank"),))
    return result


def _checkbox(field: FieldSpec, raw: str) -> Validated:
    value = normalize_text(raw)
    if value not in ("0", "1"):
        return Validated(value, (reason("invalid_format"),))
    if value == "0" and field.required:
        return Validated(value, (reason("empty_required"),))
    return Validated(value)


def _choice(field: FieldSpec, raw: str) -> Validated:
    value = normalize_text(raw)
    labels = {normalize_text(o.label): o.label for o in field.options}
    if value not in labels:
        return Validated(value, (reason("not_allowed_value"),))
    return Validated(normalize_text(labels[value]))


_SIMPLE: dict[FieldType, Callable[[FieldSpec, str], Validated]] = {
    FieldType.KANA: _kana,
    FieldType.DIGITS: _digits,
    FieldType.POSTAL_CODE: _postal,
    FieldType.PHONE: _phone,
    FieldType.AMOUNT: _amount,
    FieldType.MYNUMBER: _fixed_digits(12, is_valid_mynumber, "12桁"),
    FieldType.CORPORATE_NUMBER: _fixed_digits(13, is_valid_corporate_number, "13桁"),
    FieldType.BANK_CODE: _bank_code,
    FieldType.BRANCH_CODE: _fixed_digits(3, detail="3桁"),
    FieldType.ACCOUNT_NUMBER: _fixed_digits(7, detail="7桁"),
    FieldType.CHECKBOX: _checkbox,
    FieldType.CHOICE: _choice,
    FieldType.ADDRESS: _address,
}


# Dots and ticks that dust and scanner noise become at the ends of a line; no field value
# begins or ends with one, so they are trimmed rather than sent to review.
_EDGE_SPECKS = " \u3000.,。、・･:;'\"`´‘’“”·•°º^~_|"


# What Tesseract reads in the empty rest of a box on a noisy page: after a gap, a few
# dashes, dots or brackets (ツカモト トモユキ      -, 析清納      ーー). No value ends with a
# word made only of such marks (a word cannot start with ー), so they are dust too.
_NOISE_TAIL = re.compile(r"(?:[ \u3000]+(?:[^\w\s]|[ー一_]){1,3})+[ \u3000]*$")


def trim_specks(raw: str) -> str:
    """``raw`` without the specks of dust an engine read as punctuation at either end."""
    return _NOISE_TAIL.sub("", raw.strip(_EDGE_SPECKS)).strip(_EDGE_SPECKS)


#: What a spreadsheet would run as a formula when the value lands in a cell or a CSV field
#: (OWASP "CSV Injection"): the outputs keep such values as text, and the field is flagged,
#: because no name, address or purpose on a paper form starts like that.
_FORMULA_START = re.compile(r"^[=+\-@\t\r](?![0-9]+(?:\.[0-9]+)?$)")
_FREE_TEXT = frozenset({FieldType.TEXT, FieldType.KANA, FieldType.NAME, FieldType.ADDRESS})


def validate_value(
    field: FieldSpec,
    raw: str,
    *,
    today: dt.date | None = None,
    name_field: bool | None = None,
) -> Validated:
    """Normalise ``raw`` for ``field`` and list the reasons a human must look at it.

    A text value that starts like a spreadsheet formula (``=HYPERLINK(...)``, ``+A1``,
    ``@SUM``) is flagged ``formula_like`` whatever else is true of it.
    """
    v = _validate_value(field, raw, today=today, name_field=name_field)
    if field.type in _FREE_TEXT and _FORMULA_START.match(v.value):
        return Validated(v.value, (*v.reasons, reason("formula_like")))
    return v


def _validate_value(
    field: FieldSpec,
    raw: str,
    *,
    today: dt.date | None = None,
    name_field: bool | None = None,
) -> Validated:
    """Normalise ``raw`` for ``field`` and list the reasons a human must look at it.

    ``today`` fixes the clock for future and age checks (default: the system date).
    ``name_field=True`` flags any character with a common variant (髙/高 …) in a text or name
    value. By default nothing does: whether 高 was printed 髙 is a question about the scan,
    not the value, and the reader answers it from the recogniser's evidence
    (:func:`ocr.arbitrate.variant_suspected`) for fields of type ``name``.
    An empty value gives ``""`` and ``empty_required`` when the field is required.
    """
    raw = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    if field.type not in (FieldType.CHECKBOX, FieldType.CHOICE):
        raw = trim_specks(raw)
    if not normalize_text(raw):
        return Validated("", (reason("empty_required"),) if field.required else ())
    try:
        if field.type in (FieldType.TEXT, FieldType.NAME):
            return _text(field, raw, bool(name_field))
        if field.type is FieldType.DATE:
            return _date(field, raw, today or dt.date.today())
        return _SIMPLE[field.type](field, raw)
    except Exception as exc:  # never let one odd value stop a document
        # No value in the log: it may be personal data.
        log.warning(
            "validation of field %s (%s) failed: %s",
            field.name,
            field.type.value,
            type(exc).__name__,
        )
        return Validated(normalize_text(raw), (reason("invalid_format"),))
