"""Reply files from the online inquiry service and banks: one work item, one document per row.

Each row becomes a :class:`~robots.records.DocumentRecord` of form :data:`DATA_FORM` whose
fields are the reply's normalised values, flagged where a check failed; the run log so counts
replies (not files) and the evaluation compares like with like. The records carry the values
to the parent's ``finish`` (they are never written in clear to the run log: it keeps digests).

A layout with transaction columns (取引明細) gives one row per transaction: the rows of one
account (same inquiry, bank, branch, account and holder) become one document whose
``transactions`` field lists them (JSON), so a reply still counts once.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date

from ocr.japanese import normalize_text
from ocr.reasons import Reason
from ocr.results import FieldResult
from robots.kit.tables import Layout
from robots.kit.tabular import data_result, read_data_table
from robots.records import DocumentRecord
from robots.scenario import ItemResult, RunContext, WorkItem
from scenarios.deposit_inquiry.records import FIELD_LABELS, check_reply
from scenarios.deposit_inquiry.schemas import REPLY, TX_FIELDS

__all__ = ["DATA_FORM", "LAYOUT_FIELD", "RECORDED_FIELDS", "read_reply_file", "record_values",
           "reply_rows"]

log = logging.getLogger(__name__)

#: Form id of reply rows read from data files, in the run log and the evaluation report.
DATA_FORM = "deposit_reply_data"
#: Field holding the id of the layout a row was read with (not personal data).
LAYOUT_FIELD = "source_layout"
RECORDED_FIELDS: dict[str, str] = {
    "inquiry_number": "digits", "bank_code": "bank_code", "branch_code": "branch_code",
    "kana": "kana", "name": "text", "birth_date": "date", "account_type": "text",
    "account_number": "account_number", "balance": "amount", "balance_date": "date",
    "no_account": "checkbox", "reply_date": "date", "registered_address": "text",
    "transactions": "text",
}  # fmt: skip
# the rows of one account's transactions repeat these (a different balance is another reply)
_ACCOUNT = ("inquiry_number", "bank_code", "branch_code", "account_type", "account_number",
            "kana", "birth_date", "balance", "balance_date")


def _reason(why: str) -> Reason:
    code = ("unknown_branch" if "この金融機関の店舗にない" in why
            else "unknown_bank" if "全銀データにない" in why
            else "empty_required" if why.endswith("空欄") else "invalid_format")
    return Reason(code, why)


def _fields(layout: Layout, raw: dict[str, str], values: dict[str, str],
            problems: list[tuple[str, str]]) -> list[FieldResult]:
    out = [FieldResult(LAYOUT_FIELD, "回答データの形式", "text", layout.id, layout.id, 1.0)]
    for name, ftype in RECORDED_FIELDS.items():
        reasons = [_reason(why) for f, why in problems if f == name]
        if name == "account_number":  # a ゆうちょ 記号・番号 problem is about the account
            reasons += [_reason(why) for f, why in problems if f == "yucho_number"]
        if name == "transactions":
            reasons += [_reason(why) for f, why in problems if f.startswith("tx_")]
        out.append(FieldResult(name, FIELD_LABELS[name], ftype, normalize_text(raw.get(name, "")),
                               values.get(name, ""), 1.0, reasons))
    return out


def record_values(rec: DocumentRecord) -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    """(layout id, values, problems) of a data-row record, as :func:`read_reply_file` made it."""
    layout = ""
    values: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for f in rec.fields:
        if f.name == LAYOUT_FIELD:
            layout = f.value
        elif f.name in RECORDED_FIELDS:
            values[f.name] = f.value
            problems += [(f.name, r.detail or r.message) for r in f.reasons]
    return layout, values, problems


def reply_rows(layout: Layout, rows: list[tuple[int, dict[str, str]]], today: date
               ) -> list[tuple[int, dict[str, str], dict[str, str], list[tuple[str, str]]]]:
    """(first row, raw, values, problems) per reply: a row, or one account's transactions."""
    out: list[tuple[int, dict[str, str], dict[str, str], list[tuple[str, str]]]] = []
    accounts: dict[tuple[str, ...], int] = {}
    for row, raw in rows:
        values, problems = check_reply(layout, raw, today)
        tx = [values.pop(f, "") for f in TX_FIELDS]
        key = tuple(values.get(f, "") for f in _ACCOUNT)
        if any(tx) and key in accounts:  # one more transaction of an account already read
            _, _, first, seen = out[accounts[key]]
            first["transactions"] = json.dumps([*json.loads(first["transactions"]), tx],
                                               ensure_ascii=False)
            seen += [p for p in problems if p not in seen]
            continue
        if any(tx):
            values["transactions"] = json.dumps([tx], ensure_ascii=False)
            accounts[key] = len(out)
        out.append((row, raw, values, problems))
    return out


def read_reply_file(item: WorkItem, ctx: RunContext, layouts: tuple[Layout, ...]) -> ItemResult:
    """Read one reply file: each row a document, or the file quarantined with the reason."""
    t0 = time.perf_counter()
    table = read_data_table(item, layouts, (REPLY.kind,), what_ja=REPLY.title_ja)
    if isinstance(table, ItemResult):
        return table
    docs = []
    for row, raw, values, problems in reply_rows(table.layout, table.rows, ctx.today):
        docs.append(DocumentRecord(
            doc_id=f"{ctx.run_id}-{item.seq:03d}-r{row:05d}", form_id=DATA_FORM,
            source_file=item.name, page=str(row),
            fields=_fields(table.layout, raw, values, problems)))
    log.info("%s: %d reply row(s), layout %s (%s)", item.name, len(docs), table.layout.id,
             table.encoding)
    return data_result(item, docs, t0, f"layout {table.layout.id}, {len(docs)} rows")
