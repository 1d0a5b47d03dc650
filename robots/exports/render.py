"""Records of confirmed values → the bytes of a core system's import file, or what stops a row.

A row is written whole or not at all: a value that cannot be formatted, a character the
target's set does not hold (and no substitution covers), a required value missing, a value
longer than its fixed width (unless the column says ``overflow = "cut"``) — each is a
:class:`Problem` naming the document and the column, and the row is *held back* (要対応)
instead of leaving damaged. Fixed-length items are measured in bytes of the target encoding
and cut or padded between characters, never inside a 2-byte (or UTF-8 multi-byte) one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from ocr.templates import FieldType, FormTemplate
from robots.exports.charsets import Encoded, Substitution, Substitutions, encode
from robots.exports.formats import (
    FormatProblem,
    format_date,
    format_kana,
    format_phone,
    format_postal,
)
from robots.exports.layout import Column, ExportLayout

__all__ = ["Problem", "Rendered", "Row", "render"]

_NEWLINES = {"crlf": b"\r\n", "lf": b"\n", "none": b""}


@dataclass(frozen=True, slots=True)
class Row:
    """One confirmed document: its identity and its field values (normalised)."""

    doc_id: str
    source_file: str
    page: str
    values: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a row was held back (``blocking``) or what was done to it; for the 要対応 list."""

    doc_id: str
    source_file: str
    page: str
    column: str
    message_ja: str
    blocking: bool = True


@dataclass
class Rendered:
    """The file's bytes (header included) and what happened to each row."""

    data: bytes = b""
    written: list[str] = field(default_factory=list)  # doc ids, in file order
    held: list[str] = field(default_factory=list)  # doc ids held back (要対応)
    problems: list[Problem] = field(default_factory=list)
    substituted: list[tuple[str, str, Substitution]] = field(default_factory=list)


def _text(col: Column, row: Row, spec_type: FieldType | None, layout: ExportLayout,
          run_id: str, today: date) -> str:
    """The column's value as text, before encoding (raises FormatProblem)."""
    if col.value is not None:
        return col.value
    if col.meta is not None:
        return {"doc_id": row.doc_id, "run_id": run_id, "source_file": row.source_file,
                "page": row.page, "handoff_date": f"{today:%Y%m%d}"}[col.meta]
    v = row.values.get(col.field or "", "")
    if col.required and v == "":
        raise FormatProblem("必須の値が空欄です")
    if col.values is not None:
        if v in col.values:
            return col.values[v]
        if v == "" and spec_type is not FieldType.CHECKBOX:
            return ""
        raise FormatProblem(f"「{v}」に対応するコードが変換表にありません" if v else
                            "値が空欄です（チェックの有無が読み取れていません）")
    if col.date:
        return format_date(v, col.date, layout.layout.era_codes)
    if col.kana:
        return format_kana(v, col.kana)
    if col.phone:
        return format_phone(v, col.phone)
    if col.postal:
        return format_postal(v, col.postal)
    return v


def _fit(enc: Encoded, col: Column) -> tuple[bytes, bool]:
    """``enc`` padded to the column's width in bytes; (bytes, was cut). Never splits a char."""
    width = col.width or 0
    pieces = list(enc.pieces)
    cut = False
    while sum(map(len, pieces)) > width:
        pieces.pop()
        cut = True
    data = b"".join(pieces)
    pad = (b"0" if col.pad == "zero" else b" ") * (width - len(data))
    return (pad + data if col.right else data + pad), cut


def _quote(text: str, layout: ExportLayout) -> str:
    head = layout.layout
    if head.quoting == "none":
        return text
    special = any(ch in text for ch in (head.delimiter, '"', "\r", "\n"))
    if head.quoting == "all" or special:
        return '"' + text.replace('"', '""') + '"'
    return text


def render(layout: ExportLayout, template: FormTemplate, rows: Sequence[Row], *, run_id: str,
           today: date, substitutions: Substitutions | None = None,
           formula_guard: Callable[[str], bool] | None = None) -> Rendered:
    """Render ``rows`` in ``layout``; rows with a blocking problem are held back.

    ``formula_guard`` tells a value a spreadsheet would run (delimited files with
    ``formula_escape``; it gets a leading ``'``).
    """
    head = layout.layout
    charset = head.encoding
    newline = _NEWLINES[head.newline]
    types = {f.name: f.type for f in template.fields}
    out = Rendered()
    lines: list[bytes] = []
    if head.record == "delimited" and head.header:
        header = head.delimiter.join(_quote(c.name, layout) for c in layout.columns)
        enc = encode(header, charset, target=head.target, substitutions=substitutions)
        if enc.refused:
            raise ValueError(f"{layout.source}: a column name holds {enc.refused}, which "
                             f"{charset} cannot write")
        lines.append(enc.data)
    for row in rows:
        cells: list[bytes] = []
        problems: list[Problem] = []
        used: list[tuple[str, str, Substitution]] = []

        def problem(col: Column, message: str, blocking: bool = True, r: Row = row,
                    found: list[Problem] = problems) -> None:
            found.append(Problem(r.doc_id, r.source_file, r.page, col.name, message, blocking))

        for col in layout.columns:
            try:
                text = _text(col, row, types.get(col.field or ""), layout, run_id, today)
            except FormatProblem as exc:
                problem(col, exc.message_ja)
                continue
            if (head.record == "delimited" and head.formula_escape and formula_guard
                    and formula_guard(text)):
                text = "'" + text
            if head.record == "delimited":
                text = _quote(text, layout)
            enc = encode(text, charset, target=head.target, substitutions=substitutions)
            if enc.refused:
                problem(col, f"{charset}で書けない文字があります（{'・'.join(enc.refused)}）。"
                        "値を直すか、外字・代替文字の対応表に登録してください")
                continue
            used += [(row.doc_id, col.name, s) for s in enc.substituted]
            if head.record == "fixed":
                data, cut = _fit(enc, col)
                if cut and col.overflow == "refuse":
                    problem(col, f"{col.width}バイトに収まりません（{len(enc.data)}バイト）")
                    continue
                if cut:
                    problem(col, f"{col.width}バイトで切り詰めました（元は{len(enc.data)}バイト）",
                            blocking=False)
                cells.append(data)
            else:
                if col.width is not None and len(enc.data) > col.width:
                    problem(col, f"{col.width}バイトを超えています（{len(enc.data)}バイト）")
                    continue
                if col.width is not None and col.pad == "zero" and enc.data:
                    cells.append(_fit(enc, col)[0])  # zero-padded codes: 00012345
                    continue
                cells.append(enc.data)
        out.problems += problems
        if any(p.blocking for p in problems):
            out.held.append(row.doc_id)
            continue
        out.substituted += used
        sep = b"" if head.record == "fixed" else encode(head.delimiter, charset).data
        lines.append(sep.join(cells))
        out.written.append(row.doc_id)
    bom = b"\xef\xbb\xbf" if charset == "utf-8-sig" else b""
    out.data = bom + b"".join(line + newline for line in lines)
    return out
