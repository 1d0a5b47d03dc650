"""Tables from other systems (CSV in UTF-8 or CP932, or Excel), read through mapping files.

A town receives the same kind of table from several systems — an online application
service, the contract management system, a neighbouring department's Excel — each with its
own column names, encoding and codes, all of which change when a vendor updates its system.
So a *layout* is data, one TOML file per source, never code. Every scenario uses this one
format with its own *schemas* (the kinds of table it knows and the fields each may map):

.. code-block:: toml

    [layout]
    id = "register_cms"             # unique; recorded with every row read by it
    kind = "register"               # one of the scenario's schemas
    title = "契約管理システム 契約台帳"
    encodings = ["cp932", "utf-8-sig"]   # CSV: tried in order; the first is used to write
    delimiter = ","
    header_row = 1                  # 1-based row of the column names
    sheet = ""                      # Excel: the sheet (default: the first)
    extra_columns = ["備考"]        # present in the file, not mapped (readable as "@備考")
    date_format = "%Y/%m/%d"        # how dates are written when this layout is written
    [columns]                       # field = column name; written in this order
    contract_number = "契約番号"
    [values.method]                 # optional: raw value → value (after NFKC and trimming)
    "一般競争入札" = "general"
    [constants]                     # optional: a field every row has
    currency = "JPY"

A file is recognised when its header row holds exactly the mapped and extra columns (in any
order); a file no layout recognises raises :class:`LayoutNotRecognised` with a Japanese
reason naming the expected layouts. A malformed mapping raises :class:`MappingError` naming
the file and every problem, so the run stops before any file moves.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ocr.japanese import normalize_text
from robots.config import Config
from robots.sheets.csvout import EncodingProblem, write_csv

__all__ = [
    "DATA_SUFFIXES",
    "EXTRA_PREFIX",
    "Layout",
    "LayoutNotRecognised",
    "MappingError",
    "SourceError",
    "Table",
    "TableSchema",
    "load_layouts",
    "newest_export",
    "read_table",
    "write_layout_csv",
]

log = logging.getLogger(__name__)

DATA_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
#: Extra (unmapped) columns are in each row under this prefix + their normalised header.
EXTRA_PREFIX = "@"


@dataclass(frozen=True)
class TableSchema:
    """A kind of table a scenario reads: the fields a layout may map and those it must."""

    kind: str
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    title_ja: str = ""  # what the table is called, for the operator's reason text


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
    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    encodings: tuple[Literal["utf-8-sig", "utf-8", "cp932"], ...] = ("utf-8-sig", "cp932")
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header_row: int = Field(default=1, ge=1)
    sheet: str = ""
    extra_columns: tuple[str, ...] = ()
    date_format: str = "%Y-%m-%d"


class Layout(_Model):
    """One source layout (see the module docstring)."""

    layout: _LayoutHead
    columns: dict[str, str]
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    source: str = ""

    @model_validator(mode="after")
    def _columns_distinct(self) -> Layout:
        heads = [normalize_text(c) for c in (*self.columns.values(), *self.layout.extra_columns)]
        if len(set(heads)) != len(heads):
            raise ValueError("columns: two fields (or an extra column) use the same column")
        return self

    def problems(self, schema: TableSchema) -> list[str]:
        """What is wrong with this layout for ``schema`` (unknown or missing fields)."""
        known = schema.fields
        out = [f"columns.{k}: unknown field; one of {', '.join(known)}"
               for k in self.columns if k not in known]
        out += [f"constants.{k}: unknown field" for k in self.constants if k not in known]
        out += [f"values.{k}: unknown field" for k in self.values if k not in known]
        out += [f"columns: field {k!r} must be mapped (or set in [constants])"
                for k in schema.required if k not in self.columns and k not in self.constants]
        return out

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

    @functools.cached_property
    def _inverse(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for f, t in self.values.items():
            for raw, value in t.items():
                out.setdefault(f, {}).setdefault(value, raw)  # the first spelling is written
        return out

    def value(self, field: str, raw: str) -> str:
        """A cell as the field's value: NFKC-trimmed, then translated by ``[values]``."""
        text = _normalized(raw) if raw else ""
        table = self._tables.get(field)
        return table.get(text, text) if table else text

    def raw(self, field: str, value: str) -> str:
        """A value as this layout writes it (``[values]`` read backwards; dates formatted)."""
        return self._inverse.get(field, {}).get(value, value)

    def write_date(self, iso: str) -> str:
        """An ISO date in this layout's ``date_format`` ("" stays "")."""
        if not iso:
            return ""
        try:
            return date.fromisoformat(iso).strftime(self.layout.date_format)
        except ValueError:
            return iso


@dataclass(frozen=True)
class Table:
    """A file read with its layout: one dict of raw field values per data row."""

    layout: Layout
    encoding: str
    rows: list[tuple[int, dict[str, str]]]  # (line or row number in the file, field → raw)


class SourceError(Exception):
    """A configured export cannot be used; ``problem`` names the key and what to do."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def newest_export(config: Config, key: str, path: Path, *, what: str = "export") -> Path:
    """The file named, or the newest ``.csv``/``.xlsx`` export in the folder named.

    ``key`` is the dotted configuration key, quoted in the problem; a town's system writes
    dated exports into a folder and nobody renames anything.
    """
    p = config.resolve(path)
    if p.is_dir():
        exports = [f for f in p.iterdir() if f.is_file() and f.suffix.lower() in DATA_SUFFIXES
                   and not f.name.startswith((".", "~$"))]
        if not exports:
            raise SourceError(f"{key}: no .csv or .xlsx export in {p}")
        return max(exports, key=lambda f: (f.stat().st_mtime_ns, f.name))
    if not p.is_file():
        raise SourceError(f"{key}: file {p} does not exist (export the {what} there, or name "
                          "its folder)")
    return p


def _load(path: Path, schemas: Mapping[str, TableSchema]) -> Layout:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(path, [f"cannot read: {exc}"]) from None
    try:
        layout = Layout.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'layout'}: "
                    f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise MappingError(path, problems) from None
    schema = schemas.get(layout.kind)
    if schema is None:
        raise MappingError(path, [f"layout.kind: unknown kind {layout.kind!r}; one of "
                                  f"{', '.join(schemas)}"])
    if problems := layout.problems(schema):
        raise MappingError(path, problems)
    return layout


@functools.cache
def load_layouts(dirs: tuple[Path, ...], schemas: tuple[TableSchema, ...]
                 ) -> tuple[Layout, ...]:
    """Every layout in ``dirs`` (in order); duplicate ids or header sets are errors."""
    by_kind = {s.kind: s for s in schemas}
    layouts: list[Layout] = []
    for d in dirs:
        if not d.is_dir():
            raise MappingError(d, ["folder does not exist"])
        layouts += [_load(p, by_kind) for p in sorted(d.glob("*.toml"))]
    problems = []
    seen: dict[str, Layout] = {}
    for lay in layouts:
        if lay.id in seen:
            problems.append(f"layout id {lay.id!r} in {lay.source} and {seen[lay.id].source}")
        twin = next((o for o in seen.values() if o.header_set == lay.header_set), None)
        if twin is not None:
            problems.append(f"{lay.source} and {twin.source} have the same columns: a file "
                            "could not be told apart")
        seen[lay.id] = lay
    if problems:
        raise MappingError(", ".join(str(d) for d in dirs), problems)
    return tuple(layouts)


@functools.lru_cache(maxsize=262144)
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


def _fit(layout: Layout, rows: list[list[str]]) -> list[tuple[int, dict[str, str]]] | None:
    """The data rows as field dicts when the header row is the layout's, else None."""
    h = layout.layout.header_row
    if len(rows) < h:
        return None
    header = [_normalized(c) for c in rows[h - 1]]
    if frozenset(c for c in header if c) != layout.header_set:
        return None
    where = {f: header.index(normalize_text(c)) for f, c in layout.columns.items()}
    where.update({EXTRA_PREFIX + normalize_text(c): header.index(normalize_text(c))
                  for c in layout.layout.extra_columns})
    out = []
    for n, row in enumerate(rows[h:], start=h + 1):
        if not any(c.strip() for c in row):
            continue  # blank lines at the end of an export
        values = {f: (row[i] if i < len(row) else "") for f, i in where.items()}
        values.update(layout.constants)
        out.append((n, values))
    return out


def read_table(path: Path, layouts: Sequence[Layout], kinds: Sequence[str], *,
               what_ja: str = "ファイル") -> Table:
    """Read ``path`` with the first layout of one of ``kinds`` whose columns it has.

    Raises :class:`LayoutNotRecognised` (with the expected layouts in Japanese) when none fits.
    """
    candidates = [lay for lay in layouts if lay.kind in kinds]
    is_excel = path.suffix.lower() in (".xlsx", ".xlsm")
    data = b"" if is_excel else path.read_bytes()
    decoded: dict[tuple[str, str], list[list[str]] | None] = {}
    for lay in candidates:
        if is_excel:
            fitted = _fit(lay, _xlsx_rows(path, lay.layout.sheet))
            if fitted is not None:
                return Table(lay, "xlsx", fitted)
            continue
        for enc in lay.layout.encodings:
            key = (enc, lay.layout.delimiter)
            if key not in decoded:
                try:
                    text = data.decode(enc)
                except UnicodeDecodeError:
                    decoded[key] = None
                else:
                    decoded[key] = list(csv.reader(io.StringIO(text, newline=""),
                                                   delimiter=lay.layout.delimiter))
            rows = decoded[key]
            fitted = _fit(lay, rows) if rows is not None else None
            if fitted is not None:
                return Table(lay, enc, fitted)
    expected = "／".join(lay.describe_ja() for lay in candidates) or "（登録なし）"
    raise LayoutNotRecognised(
        f"{path.name}: the header row matches no {'/'.join(kinds)} layout "
        f"({', '.join(lay.id for lay in candidates)})",
        f"{what_ja}の列見出しが、登録されているどの形式とも一致しません。"
        f"想定している形式: {expected}。"
        "新しい形式のファイルであれば、システム担当者に対応表（mappings）の追加を依頼してください。")


def write_layout_csv(path: Path, layout: Layout, rows: Iterable[Mapping[str, str]], *,
                     encoding: str | None = None, newline: str = "crlf",
                     date_fields: Iterable[str] = (), formula_escape: bool = True
                     ) -> list[EncodingProblem]:
    """Write ``rows`` (field → value) as a CSV of ``layout``: its columns, codes and dates.

    The encoding is ``encoding`` or the layout's first; characters it cannot hold are
    written as 〓 and reported (:func:`robots.sheets.csvout.write_csv`).
    """
    dates = frozenset(date_fields)
    fields = list(layout.columns)
    extra = [""] * len(layout.layout.extra_columns)  # present, so the file is recognised
    out = [[*(layout.write_date(r.get(f, "")) if f in dates else layout.raw(f, r.get(f, ""))
              for f in fields), *extra] for r in rows]
    return write_csv(path, [*layout.columns.values(), *layout.layout.extra_columns], out,
                     encoding=encoding or layout.layout.encodings[0], newline=newline,
                     formula_escape=formula_escape)
