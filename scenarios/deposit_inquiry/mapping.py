"""Column mappings: how each source's table (CSV or Excel) maps onto the scenario's fields.

The town's ledger export and every bank's or service's reply file have their own column
names, encodings and codes; they change when a vendor updates its system. So a layout is
data, one TOML file per source in ``mappings/`` (or a folder of the town's own, named in
``mappings_dirs``), never code:

.. code-block:: toml

    [layout]
    id = "reply_service_a"          # unique; recorded with every reply read by it
    kind = "reply"                  # "ledger" or "reply"
    title = "オンライン照会サービス 回答データ（標準形式）"
    encodings = ["utf-8-sig", "cp932"]   # CSV: tried in order
    delimiter = ","
    header_row = 1                  # 1-based row of the column names
    extra_columns = ["備考"]        # present in the file, not used
    [columns]                       # field = column name
    inquiry_number = "照会番号"
    [values.account_type]           # optional: raw value → value (after NFKC and trimming)
    "1" = "普通"
    [constants]                     # optional: a field every row has (a one-bank layout)
    bank_code = "9900"

A file is recognised when its header row holds exactly the mapped and extra columns (in any
order); a file no layout recognises is quarantined with a Japanese reason that names what
was expected. A malformed mapping stops the run before any file moves (``MappingError``).
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ocr.japanese import normalize_text

__all__ = [
    "DATA_SUFFIXES",
    "LEDGER_FIELDS",
    "PACKAGED_MAPPINGS",
    "REPLY_FIELDS",
    "Layout",
    "LayoutNotRecognised",
    "MappingError",
    "Table",
    "load_layouts",
    "read_table",
]

log = logging.getLogger(__name__)

PACKAGED_MAPPINGS = Path(__file__).parent / "mappings"
DATA_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")

#: Fields a ledger layout may map, and those it must.
LEDGER_FIELDS = ("inquiry_number", "purpose", "name", "kana", "birth_date", "address",
                 "bank_code", "branch_code", "sent_date", "deadline")
_LEDGER_REQUIRED = ("inquiry_number", "kana", "birth_date", "bank_code", "deadline")
#: Fields a reply layout may map. ``yucho_symbol``/``yucho_number`` are ゆうちょ銀行's 記号/番号,
#: converted to a Zengin branch code and account number.
REPLY_FIELDS = ("inquiry_number", "bank_code", "branch_code", "kana", "name", "birth_date",
                "account_type", "account_number", "balance", "balance_date", "no_account",
                "reply_date", "yucho_symbol", "yucho_number")
_REPLY_REQUIRED = ("bank_code", "kana")


class MappingError(Exception):
    """A mapping file is malformed; names the file and every problem (a configuration error)."""

    def __init__(self, path: object, problems: Sequence[str]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        super().__init__(f"invalid mapping {self.path}: " + "; ".join(self.problems))


class LayoutNotRecognised(Exception):
    """No layout fits a file; ``reason_ja`` tells the operator what was expected."""

    def __init__(self, message: str, reason_ja: str) -> None:
        super().__init__(message)
        self.reason_ja = reason_ja


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _LayoutHead(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["ledger", "reply"]
    title: str
    encodings: tuple[Literal["utf-8-sig", "utf-8", "cp932"], ...] = ("utf-8-sig", "cp932")
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header_row: int = Field(default=1, ge=1)
    sheet: str = ""  # Excel: the sheet to read (default: the first)
    extra_columns: tuple[str, ...] = ()


class Layout(_Model):
    """One source layout (see the module docstring)."""

    layout: _LayoutHead
    columns: dict[str, str]
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    source: str = ""

    @model_validator(mode="after")
    def _fields_known(self) -> Layout:
        known = LEDGER_FIELDS if self.layout.kind == "ledger" else REPLY_FIELDS
        required = _LEDGER_REQUIRED if self.layout.kind == "ledger" else _REPLY_REQUIRED
        problems = [f"columns.{k}: unknown field; one of {', '.join(known)}"
                    for k in self.columns if k not in known]
        problems += [f"constants.{k}: unknown field" for k in self.constants if k not in known]
        problems += [f"values.{k}: unknown field" for k in self.values if k not in known]
        problems += [f"columns: field {k!r} must be mapped (or set in [constants])"
                     for k in required if k not in self.columns and k not in self.constants]
        heads = [normalize_text(c) for c in self.columns.values()]
        if len(set(heads)) != len(heads):
            problems.append("columns: two fields map to the same column")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def id(self) -> str:
        return self.layout.id

    @property
    def kind(self) -> str:
        return self.layout.kind

    @functools.cached_property
    def header_set(self) -> frozenset[str]:
        return frozenset(normalize_text(c) for c in (*self.columns.values(),
                                                     *self.layout.extra_columns))

    def describe_ja(self) -> str:
        """The layout as an operator can compare it with a file's first line."""
        return f"{self.layout.title}（列: {'、'.join(self.columns.values())}）"

    @functools.cached_property
    def _tables(self) -> dict[str, dict[str, str]]:
        return {f: {normalize_text(k): v for k, v in t.items()} for f, t in self.values.items()}

    def value(self, field: str, raw: str) -> str:
        """A cell as the field's value: NFKC-trimmed, then translated by ``[values]``."""
        text = _normalized(raw) if raw else ""
        table = self._tables.get(field)
        return table.get(text, text) if table else text


@dataclass(frozen=True)
class Table:
    """A file read with its layout: one dict of raw field values per data row."""

    layout: Layout
    encoding: str
    rows: list[tuple[int, dict[str, str]]]  # (line or row number in the file, field → raw)


def _load(path: Path) -> Layout:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(path, [f"cannot read: {exc}"]) from None
    try:
        return Layout.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'layout'}: "
                    f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise MappingError(path, problems) from None


@functools.cache
def load_layouts(dirs: tuple[Path, ...]) -> tuple[Layout, ...]:
    """Every layout in ``dirs`` (packaged first); duplicate ids or header sets are errors."""
    layouts: list[Layout] = []
    for d in dirs:
        if not d.is_dir():
            raise MappingError(d, ["folder does not exist"])
        layouts += [_load(p) for p in sorted(d.glob("*.toml"))]
    problems = []
    seen: dict[str, Layout] = {}
    for lay in layouts:
        if lay.id in seen:
            problems.append(f"layout id {lay.id!r} in {lay.source} and {seen[lay.id].source}")
        twin = next((o for o in seen.values()
                     if o.kind == lay.kind and o.header_set == lay.header_set), None)
        if twin is not None:
            problems.append(f"{lay.source} and {twin.source} have the same columns: a file "
                            "could not be told apart")
        seen[lay.id] = lay
    if problems:
        raise MappingError(", ".join(str(d) for d in dirs), problems)
    return tuple(layouts)


@functools.lru_cache(maxsize=65536)
def _normalized(raw: str) -> str:
    """``normalize_text``, cached: exports repeat codes, dates and names thousands of times."""
    return normalize_text(raw)


def _cell(v: object) -> str:
    """An Excel cell as text: dates ISO, whole numbers without ``.0``."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _xlsx_rows(path: Path, sheet: str) -> list[list[str]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet] if sheet and sheet in wb.sheetnames else wb.worksheets[0]
        return [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _csv_rows(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _decoded(data: bytes, encodings: Iterable[str]) -> Iterable[tuple[str, str]]:
    for enc in encodings:
        try:
            yield enc, data.decode(enc)
        except UnicodeDecodeError:
            continue


def _fit(layout: Layout, rows: list[list[str]]) -> list[tuple[int, dict[str, str]]] | None:
    """The data rows as field dicts when the header row is the layout's, else None."""
    h = layout.layout.header_row
    if len(rows) < h:
        return None
    header = [normalize_text(c) for c in rows[h - 1]]
    if frozenset(c for c in header if c) != layout.header_set:
        return None
    where = {f: header.index(normalize_text(c)) for f, c in layout.columns.items()}
    out = []
    for n, row in enumerate(rows[h:], start=h + 1):
        if not any(c.strip() for c in row):
            continue  # blank lines at the end of an export
        values = {f: (row[i] if i < len(row) else "") for f, i in where.items()}
        values.update(layout.constants)
        out.append((n, values))
    return out


def read_table(path: Path, layouts: Sequence[Layout], kind: str) -> Table:
    """Read ``path`` with the first layout of ``kind`` whose columns it has.

    Raises :class:`LayoutNotRecognised` (with the expected layouts in Japanese) when none fits.
    """
    candidates = [lay for lay in layouts if lay.kind == kind]
    is_excel = path.suffix.lower() in (".xlsx", ".xlsm")
    data = b"" if is_excel else path.read_bytes()
    for lay in candidates:
        if is_excel:
            fitted = _fit(lay, _xlsx_rows(path, lay.layout.sheet))
            if fitted is not None:
                return Table(lay, "xlsx", fitted)
            continue
        for enc, text in _decoded(data, lay.layout.encodings):
            fitted = _fit(lay, _csv_rows(text, lay.layout.delimiter))
            if fitted is not None:
                return Table(lay, enc, fitted)
    expected = "／".join(lay.describe_ja() for lay in candidates) or "（登録なし）"
    what = "照会台帳" if kind == "ledger" else "回答データ"
    raise LayoutNotRecognised(
        f"{path.name}: the header row matches no {kind} layout "
        f"({', '.join(lay.id for lay in candidates)})",
        f"{what}の列見出しが、登録されているどの形式とも一致しません。"
        f"想定している形式: {expected}。"
        "新しい形式のファイルであれば、システム担当者に対応表（mappings）の追加を依頼してください。")
