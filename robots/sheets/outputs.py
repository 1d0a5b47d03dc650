"""Per-form CSV files of a run, with a report of characters the encoding could not hold.

These are the staff's data files, not the core systems' imports (those are written from
export layouts by :mod:`robots.sheets.handoff`). Their names say what they are, in Japanese:
``<form title>_未確定.csv`` as read by OCR, ``<form title>_確定.csv`` after review; a 個人番号
is never in them (masked, see :mod:`robots.sheets.personal`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from ocr.templates import FieldType, FormTemplate
from robots.config import CsvConfig
from robots.records import DocumentRecord
from robots.sheets.csvout import EncodingProblem, write_csv
from robots.sheets.personal import mask_mynumber

__all__ = ["CONFIRMED_MARK", "ENCODING_REPORT", "UNCONFIRMED_MARK", "csv_header", "csv_row",
           "data_csv_name", "write_form_csvs"]

log = logging.getLogger(__name__)

ENCODING_REPORT = "文字コード変換できない文字.csv"
_FIXED = ("文書ID", "元ファイル", "ページ", "要確認")
CONFIRMED_MARK = "確定"
UNCONFIRMED_MARK = "未確定"
_NOT_IN_NAMES = str.maketrans({c: "＿" for c in '\\/:*?"<>|'})


def data_csv_name(template: FormTemplate, *, confirmed: bool) -> str:
    """``<form title>_未確定.csv`` / ``<form title>_確定.csv``: nobody takes one for the other."""
    title = template.title.translate(_NOT_IN_NAMES).strip(". ") or template.id
    return f"{title}_{CONFIRMED_MARK if confirmed else UNCONFIRMED_MARK}.csv"


def csv_header(template: FormTemplate) -> list[str]:
    """Japanese column names: the fixed columns, then each field's label in form order."""
    return [*_FIXED, *(f.column for f in template.fields)]


def csv_row(record: DocumentRecord, template: FormTemplate,
            values: Mapping[str, str] | None = None) -> list[str]:
    """One record as CSV cells; ``values`` overrides field values (confirmed data)."""
    by_name = {f.name: f.value for f in record.fields}
    if values:
        by_name.update(values)
    for f in template.fields:
        if f.type is FieldType.MYNUMBER and f.name in by_name:
            by_name[f.name] = mask_mynumber(by_name[f.name])
    return [record.doc_id, record.source_file, record.page,
            "要確認" if record.needs_review and values is None else "",
            *(by_name.get(f.name, "") for f in template.fields)]


def write_form_csvs(out_dir: Path, templates: Mapping[str, FormTemplate],
                    records: Sequence[DocumentRecord], cfg: CsvConfig, *,
                    values: Mapping[str, Mapping[str, str]] | None = None) -> list[Path]:
    """One CSV per form type (:func:`data_csv_name`: confirmed when ``values`` are given)."""
    written: list[Path] = []
    problems: list[EncodingProblem] = []
    for form_id in sorted({r.form_id for r in records}):
        t = templates[form_id]
        rows = [csv_row(r, t, values.get(r.doc_id) if values is not None else None)
                for r in records if r.form_id == form_id]
        path = out_dir / data_csv_name(t, confirmed=values is not None)
        problems += write_csv(path, csv_header(t), rows, encoding=cfg.encoding,
                              newline=cfg.newline, formula_escape=cfg.formula_escape == "quote")
        written.append(path)
    if problems:
        report = out_dir / ENCODING_REPORT
        write_csv(report, ["文書ID", "項目", "変換できない文字"],
                  [[p.row_key, p.column, p.characters] for p in problems], encoding="utf-8-sig")
        written.append(report)
        log.warning("%d CSV value(s) hold characters %s cannot encode; see %s", len(problems),
                    cfg.encoding, report.name)
    return written
