"""Export layouts: what a core system imports, described as data (one TOML file per layout).

Each layout names its form and its target system; a form may have several layouts (the
resident system and the tax system each want their own). The file says everything a vendor's
import specification says: file name, encoding, delimited or fixed-length records, header,
line ending, and per column its source and format. See the README (“Hand-off to the core
systems”) for an example and ``scenarios/*/exports/`` for the shipped ones.

A malformed layout stops the run naming the file and every problem
(:class:`ExportLayoutError`, exit code 3), like a malformed form template; ``rpa exports
check FILE.toml`` prints the same list.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ocr.templates import FieldType, FormTemplate
from robots.exports.charsets import Charset
from robots.exports.formats import ERA_CODES

__all__ = ["Column", "ExportLayout", "ExportLayoutError", "layout_problems", "load_layout",
           "load_layouts"]

_ID = r"^[a-z][a-z0-9_]*$"
_BAD_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
MetaSource = Literal["doc_id", "run_id", "source_file", "page", "handoff_date"]


class ExportLayoutError(Exception):
    """A layout file is malformed; names the file and every problem (a configuration error)."""

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"invalid export layout {self.path}:\n"
                         + "\n".join(f"  - {p}" for p in problems))


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Column(_Model):
    """One column (delimited) or item (fixed-length) of the record."""

    name: str = Field(min_length=1)  # the header text, and how the column is named to a clerk
    field: str | None = None  # the form's field
    value: str | None = None  # a constant
    meta: MetaSource | None = None  # the document's id, scan, page; the run; the hand-off day
    required: bool = False  # an empty value holds the row back (要対応)
    values: dict[str, str] | None = None  # value table: 普通 → 1, checkbox 1/0 → codes
    date: Literal["yyyymmdd", "iso", "slash", "wareki", "wareki_short", "era_code"] | None = None
    kana: Literal["full", "half", "zengin"] | None = None
    phone: Literal["digits", "hyphen"] | None = None
    postal: Literal["digits", "hyphen"] | None = None
    width: int | None = Field(default=None, ge=1, le=4096)  # in BYTES of the layout's encoding
    pad: Literal["space", "zero"] = "space"
    align: Literal["left", "right"] | None = None  # default: right when zero-padded, else left
    overflow: Literal["refuse", "cut"] = "refuse"  # longer than width: hold the row, or cut

    @model_validator(mode="after")
    def _consistent(self) -> Column:
        sources = [s for s in (self.field, self.value, self.meta) if s is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of field, value or meta")
        formats = [f for f in (self.values, self.date, self.kana, self.phone, self.postal)
                   if f is not None]
        if len(formats) > 1:
            raise ValueError("give at most one of values, date, kana, phone, postal")
        if self.pad == "zero" and self.align == "left":
            raise ValueError("zero padding goes on the left: align must be right")
        return self

    @property
    def right(self) -> bool:
        return self.align == "right" or (self.align is None and self.pad == "zero")


class _Head(_Model):
    id: str = Field(pattern=_ID)
    form: str = Field(pattern=_ID)
    target: str = Field(min_length=1)  # the core system, e.g. 住民記録システム
    title: str = Field(min_length=1)
    modelled_on: str = ""  # the import specification the layout follows
    file_name: str = Field(min_length=1)  # stem: <file_name>_確定_<run id>.<extension>
    extension: str = Field(default="csv", pattern=r"^[A-Za-z0-9]{1,5}$")
    encoding: Charset = "cp932"
    record: Literal["delimited", "fixed"] = "delimited"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quoting: Literal["minimal", "all", "none"] = "minimal"
    header: bool = True
    newline: Literal["crlf", "lf", "none"] = "crlf"
    formula_escape: bool = True  # delimited: a value a spreadsheet would run gets a leading '
    era_codes: dict[str, str] = Field(default_factory=lambda: dict(ERA_CODES))
    record_length: int | None = Field(default=None, ge=1)  # fixed: the widths must sum to it


class ExportLayout(_Model):
    """One export layout (see the module docstring)."""

    layout: _Head
    columns: tuple[Column, ...] = Field(min_length=1)
    source: str = ""

    @model_validator(mode="after")
    def _record(self) -> ExportLayout:
        head = self.layout
        if _BAD_NAME.search(head.file_name):
            raise ValueError(f"layout.file_name: {head.file_name!r} holds a character a file "
                             "name cannot have")
        if head.record == "fixed":
            if missing := [c.name for c in self.columns if c.width is None]:
                raise ValueError(f"columns: a fixed-length record needs a width for "
                                 f"{', '.join(missing)}")
            total = sum(c.width or 0 for c in self.columns)
            if head.record_length is not None and total != head.record_length:
                raise ValueError(f"columns: the widths add up to {total} bytes, not "
                                 f"layout.record_length {head.record_length}")
        elif head.delimiter in ('"', "\r", "\n"):
            raise ValueError("layout.delimiter: not a usable delimiter")
        if head.encoding == "utf-8-sig" and head.record == "fixed":
            raise ValueError("layout.encoding: a fixed-length file has no byte-order mark; "
                             "use utf-8")
        return self

    @property
    def id(self) -> str:
        return self.layout.id

    @property
    def form(self) -> str:
        return self.layout.form

    @property
    def target(self) -> str:
        return self.layout.target


def layout_problems(layout: ExportLayout, template: FormTemplate | None,
                    mynumber_targets: tuple[str, ...] = ()) -> list[str]:
    """What makes ``layout`` unusable with its form's template and this configuration."""
    if template is None:
        return [f"layout.form: unknown form {layout.form!r}"]
    out: list[str] = []
    for i, c in enumerate(layout.columns):
        where = f"columns.{i} ({c.name})"
        if c.field is None:
            continue
        spec = template.by_name.get(c.field)
        if spec is None:
            out.append(f"{where}.field: form {template.id} has no field {c.field!r}; one of "
                       f"{', '.join(f.name for f in template.fields)}")
            continue
        t = spec.type
        if c.date and t is not FieldType.DATE:
            out.append(f"{where}.date: field {c.field} is a {t.value}, not a date")
        if c.kana and t not in (FieldType.KANA, FieldType.TEXT):
            out.append(f"{where}.kana: field {c.field} is a {t.value}, not kana or text")
        if c.phone and t is not FieldType.PHONE:
            out.append(f"{where}.phone: field {c.field} is a {t.value}, not a phone number")
        if c.postal and t is not FieldType.POSTAL_CODE:
            out.append(f"{where}.postal: field {c.field} is a {t.value}, not a postal code")
        if c.values is not None and t is FieldType.CHOICE:
            missing = [o.label for o in spec.options if o.label not in c.values]
            if missing:
                out.append(f"{where}.values: no code for option(s) {', '.join(missing)} of "
                           f"field {c.field}")
        if c.values is not None and t is FieldType.CHECKBOX and set(c.values) != {"1", "0"}:
            out.append(f"{where}.values: a checkbox needs codes for exactly \"1\" (marked) and "
                       "\"0\" (empty)")
        if t is FieldType.MYNUMBER and layout.target not in mynumber_targets:
            out.append(f"{where}.field: {c.field} is a 個人番号 (My Number); target "
                       f"{layout.target!r} is not allowed to receive it ([exports] "
                       "mynumber_targets)")
    return out


def load_layout(path: Path) -> ExportLayout:
    """One layout file, validated on its own; :class:`ExportLayoutError` names every problem."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ExportLayoutError(path, [f"cannot read: {exc}"]) from None
    try:
        return ExportLayout.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        raise ExportLayoutError(path, [
            f"{'.'.join(str(p) for p in e['loc']) or 'layout'}: "
            f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]) from None


@functools.cache
def load_layouts(dirs: tuple[Path, ...]) -> tuple[ExportLayout, ...]:
    """Every layout in ``dirs`` (in order); two layouts with one id are an error."""
    layouts: list[ExportLayout] = []
    for d in dirs:
        if not d.is_dir():
            raise ExportLayoutError(d, ["folder does not exist"])
        layouts += [load_layout(p) for p in sorted(d.glob("*.toml"))]
    seen: dict[str, str] = {}
    problems = []
    for lay in layouts:
        if lay.id in seen:
            problems.append(f"layout id {lay.id!r} in {lay.source} and {seen[lay.id]}")
        seen[lay.id] = lay.source
    if problems:
        raise ExportLayoutError(", ".join(str(d) for d in dirs), problems)
    return tuple(layouts)
