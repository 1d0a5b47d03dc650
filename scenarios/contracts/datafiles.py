"""Data files dropped in ``inbox/contracts/``: recognised by their columns, read in a worker.

- an application CSV (or Excel) of the online service: one run-log document per application
  (form :data:`APPLICATION_FORM`), its fields the normalised values, flagged where a check
  failed — the values travel to the parent's ``finish`` inside the document (the run log
  keeps only digests);
- a contract register or a suspension list: recognised and counted here (one document per
  file, forms :data:`REGISTER_FORM` / :data:`SUSPENSIONS_FORM`); ``finish`` reads the file
  itself from ``processing/`` — 50,000 contracts need not travel through a pipe twice.

A file of no known layout is quarantined with a Japanese reason naming the layouts expected.
"""

from __future__ import annotations

import logging
import time

from ocr.reasons import Reason
from ocr.results import FieldResult
from robots.kit.tables import Layout
from robots.kit.tabular import data_result, read_data_table
from robots.records import DocumentRecord
from robots.scenario import ItemResult, RunContext, WorkItem
from scenarios.contracts.applications import (
    APPLICATION_FIELDS,
    FIELD_LABELS,
    check_application,
    group_rows,
)
from scenarios.contracts.schemas import DATA_KINDS

__all__ = ["APPLICATION_FORM", "LAYOUT_FIELD", "REGISTER_FORM", "ROWS_CODE", "SUSPENSIONS_FORM",
           "application_values", "read_data_file"]

log = logging.getLogger(__name__)

APPLICATION_FORM = "bid_application_data"
REGISTER_FORM = "contract_register_data"
SUSPENSIONS_FORM = "suspension_list_data"
#: Field holding the id of the layout a document was read with (not personal data).
LAYOUT_FIELD = "source_layout"
_WHAT_JA = "申請データ・契約台帳・指名停止一覧"


#: Reason code of a problem of the file itself (rows of one application disagree, a fiscal
#: year unreadable): kept with the stored application, while the checks are redone each run.
ROWS_CODE = "rows_disagree"


def _reason(why: str, intrinsic: bool) -> Reason:
    code = (ROWS_CODE if intrinsic else "check_digit" if "チェックディジット" in why
            else "empty_required" if why.endswith("空欄") else "invalid_format")
    return Reason(code, why.split(": ", 1)[-1])


def _application_doc(item: WorkItem, ctx: RunContext, layout: Layout, lines: list[int],
                     values: dict[str, str], intrinsic: list[tuple[str, str]],
                     checked: list[tuple[str, str]]) -> DocumentRecord:
    fields = [FieldResult(LAYOUT_FIELD, "申請データの形式", "text", layout.id, layout.id, 1.0)]
    for name, ftype in APPLICATION_FIELDS.items():
        reasons = [_reason(why, True) for f, why in intrinsic if f == name]
        reasons += [_reason(why, False) for f, why in checked if f == name]
        fields.append(FieldResult(name, FIELD_LABELS[name], ftype, values.get(name, ""),
                                  values.get(name, ""), 1.0, reasons))
    page = str(lines[0]) if len(lines) == 1 else f"{lines[0]}-{lines[-1]}"
    return DocumentRecord(doc_id=f"{ctx.run_id}-{item.seq:03d}-a{lines[0]:05d}",
                          form_id=APPLICATION_FORM, source_file=item.name, page=page,
                          fields=fields)


def application_values(rec: DocumentRecord) -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    """(layout id, values, problems of the file itself) of an application document."""
    layout, values, problems = "", {}, []
    for f in rec.fields:
        if f.name == LAYOUT_FIELD:
            layout = f.value
        elif f.name in APPLICATION_FIELDS:
            values[f.name] = f.value
            problems += [(f.name, f"{FIELD_LABELS[f.name]}: {r.detail}")
                         for r in f.reasons if r.code == ROWS_CODE]
    return layout, values, problems


def _file_doc(item: WorkItem, ctx: RunContext, form: str, layout: Layout, lines: list[int]
              ) -> DocumentRecord:
    """One document for a whole list, whose ``page`` is the span of its data lines.

    As an application's: the evaluation counts the list's rows (行数) from it.
    """
    rows = len(lines)
    page = "1" if not lines else str(lines[0]) if rows == 1 else f"{lines[0]}-{lines[-1]}"
    return DocumentRecord(
        doc_id=f"{ctx.run_id}-{item.seq:03d}-f", form_id=form, source_file=item.name, page=page,
        fields=[FieldResult(LAYOUT_FIELD, "データの形式", "text", layout.id, layout.id, 1.0),
                FieldResult("rows", "行数", "digits", str(rows), str(rows), 1.0)])


def read_data_file(item: WorkItem, ctx: RunContext, layouts: tuple[Layout, ...]) -> ItemResult:
    """Read one data file of the inbox (see the module docstring)."""
    t0 = time.perf_counter()
    table = read_data_table(item, layouts, DATA_KINDS, what_ja=_WHAT_JA)
    if isinstance(table, ItemResult):
        return table
    kind = table.layout.kind
    if kind == "register":
        docs = [_file_doc(item, ctx, REGISTER_FORM, table.layout, [n for n, _ in table.rows])]
    elif kind == "suspensions":
        docs = [_file_doc(item, ctx, SUSPENSIONS_FORM, table.layout,
                          [n for n, _ in table.rows])]
    else:
        docs = []
        for lines, values, problems in group_rows(table.layout, table.rows):
            checked = check_application(values, ctx.settings, ctx.settings.as_of or ctx.today)
            docs.append(_application_doc(item, ctx, table.layout, lines, values, problems,
                                         checked))
    log.info("%s: %s, %d row(s), layout %s (%s)", item.name, kind, len(table.rows),
             table.layout.id, table.encoding)
    return data_result(item, docs, t0, f"{kind} layout {table.layout.id}, {len(table.rows)} rows")
