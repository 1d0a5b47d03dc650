"""Per-form CSV files of a run, with a report of characters the encoding could not hold."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from ocr.templates import FormTemplate
from robots.config import CsvConfig
from robots.records import DocumentRecord
from robots.sheets.csvout import EncodingProblem, write_csv

__all__ = ["ENCODING_REPORT", "csv_header", "csv_row", "write_form_csvs"]

log = logging.getLogger(__name__)

ENCODING_REPORT = "文字コード変換できない文字.csv"
_FIXED = ("文書ID", "元ファイル", "ページ", "要確認")


def csv_header(template: FormTemplate) -> list[str]:
    """Japanese column names: the fixed columns, then each field's label in form order."""
    return [*_FIXED, *(f.column for f in template.fields)]


def csv_row(record: DocumentRecord, template: FormTemplate,
            values: Mapping[str, str] | None = None) -> list[str]:
    """One record as CSV cells; ``values`` overrides field values (confirmed data)."""
    by_name = {f.name: f.value for f in record.fields}
    if values:
        by_name.update(values)
    return [record.doc_id, record.source_file, record.page,
            "要確認" if record.needs_review and values is None else "",
            *(by_name.get(f.name, "") for f in template.fields)]


def write_form_csvs(out_dir: Path, templates: Mapping[str, FormTemplate],
                    records: Sequence[DocumentRecord], cfg: CsvConfig, *, suffix: str = "",
                    values: Mapping[str, Mapping[str, str]] | None = None) -> list[Path]:
    """One CSV per form type (``<form_id><suffix>.csv``); returns the files written."""
    written: list[Path] = []
    problems: list[EncodingProblem] = []
    for form_id in sorted({r.form_id for r in records}):
        t = templates[form_id]
        rows = [csv_row(r, t, values.get(r.doc_id) if values is not None else None)
                for r in records if r.form_id == form_id]
        path = out_dir / f"{form_id}{suffix}.csv"
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
