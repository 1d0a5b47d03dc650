"""The parent's part of a run: store this run's replies, reconcile everything, write outputs.

Order matters for crash safety (see :mod:`robots.run.runner`): everything here happens in one
transaction of the scenario database, committed only after the outputs are written into the
run's partial folder. If the run dies before the run log commits, the runner puts the input
files back and the next run reads them again: the replies then update the rows this run
stored (same keys), so nothing is counted twice.

Before reconciling, two kinds of human work done since the last run are taken in: confirmed
values of paper replies (``<form title>_確定.csv`` written by ``rpa corrections import``) and the
decisions clerks wrote on earlier review sheets (``確認リスト``). Each file is read once per
version (its size and modification time are remembered).
"""

from __future__ import annotations

import logging
import time
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ocr.reasons import Reason
from ocr.results import FieldResult
from robots.kit.scans import write_scan_outputs
from robots.kit.state import StoredDoc, earlier_outputs, paper_doc, signature, take_confirmed
from robots.scenario import ItemResult, RunContext
from robots.sheets.csvout import write_csv
from robots.sheets.results import save_workbook, write_table
from robots.sheets.write import sheet_title
from scenarios.deposit_inquiry.datafiles import DATA_FORM, record_values
from scenarios.deposit_inquiry.matching import (
    InquiryStatus,
    MatchOptions,
    Reconciliation,
    ReplyStatus,
    reconcile,
    replies_from_doc,
)
from scenarios.deposit_inquiry.reminder import write_reminder_csv, write_reminder_sheet
from scenarios.deposit_inquiry.review import REVIEW_SHEET, read_decisions, write_review
from scenarios.deposit_inquiry.settings import DepositInquirySettings, layouts_for, load_ledger
from scenarios.deposit_inquiry.sheets import (
    INQUIRY_COLS,
    REPLY_COLS,
    REVIEW,
    inquiry_rows,
    reply_rows,
    write_accounts,
    write_people,
    write_summary,
)
from scenarios.deposit_inquiry.store import ReplyStore

__all__ = ["MATCH_FIELD", "finish_run"]

log = logging.getLogger(__name__)

#: The field added to each data-row document: its reconciliation status (flagged: 要確認).
MATCH_FIELD = "match_status"


def _take_decisions(store: ReplyStore, out_root: Path, workbook_name: str) -> int:
    n = 0
    for path in earlier_outputs(out_root, f"{workbook_name}_*.xlsx"):
        sig = signature(path)
        if store.seen(path, sig):
            continue
        try:
            decisions = read_decisions(path)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            # open in Excel on a share, or saved in another format: try again next run
            log.warning("%s: decisions not read (%s); next run tries again", path.name,
                        type(exc).__name__)
            continue
        for reply_id, decision in decisions.items():
            store.decide(reply_id, decision, f"{path.parent.name}/{path.name}")
            n += 1
        store.mark_seen(path, sig)
    return n


def _stored(results: Sequence[ItemResult], ctx: RunContext) -> list[StoredDoc]:
    docs = []
    for r in results:
        key = r.item.sha256[:16]
        for d in r.documents:
            if d.form_id == DATA_FORM:
                layout, values, problems = record_values(d)
                docs.append(StoredDoc(f"{key}:r{d.page}", "data", layout, r.item.name,
                                      f"{d.page}行目", d.doc_id, ctx.run_id,
                                      ctx.today.isoformat(), values, problems))
            else:
                docs.append(paper_doc(r, d, ctx))
    return docs


def _annotate(results: Sequence[ItemResult], rec: Reconciliation, ms_per_reply: float) -> None:
    """Give each data-row document of this run its reconciliation status before it is logged.

    The run log then counts a 要確認 reply as a document a person must look at, which is what
    the evaluation report needs; paper replies keep their OCR fields only (their review
    workbook must match the run log field for field).
    """
    status = {f.reply.doc_id: f for f in rec.replies}
    for r in results:
        for d in r.documents:
            if d.form_id != DATA_FORM or d.doc_id not in status:
                continue
            f = status[d.doc_id]
            reasons = [Reason("match_review")] if f.status is ReplyStatus.REVIEW else []
            d.fields.append(FieldResult(MATCH_FIELD, "照合結果", "text", f.status.value,
                                        f.status.value, 1.0, reasons))
            d.timings_ms["match"] = ms_per_reply


def _workbook(path: Path, rec: Reconciliation, ctx: RunContext, ledger: str,
              titles: dict[str, str]) -> None:
    wb = Workbook()
    taken: set[str] = set()

    def sheet(title: str) -> Worksheet:
        return wb.create_sheet(sheet_title(title, taken))

    summary = wb.active
    summary.title = sheet_title("集計", taken)
    write_summary(summary, rec, run_id=ctx.run_id, ledger=ledger, created=datetime.now())
    write_review(sheet(REVIEW_SHEET), rec)
    for status in InquiryStatus:
        write_table(sheet(f"照会_{status.value}"), INQUIRY_COLS,
                    inquiry_rows(f for f in rec.inquiries if f.status is status))
    write_accounts(sheet("口座一覧"), rec)
    write_people(sheet("人別合計"), rec)
    write_table(sheet("回答一覧"), REPLY_COLS, reply_rows(rec.replies, titles), mark=0,
                mark_values=REVIEW)
    for status in (ReplyStatus.NO_INQUIRY, ReplyStatus.DUPLICATE):
        write_table(sheet(f"回答_{status.value}"), REPLY_COLS,
                    reply_rows((f for f in rec.replies if f.status is status), titles))
    write_reminder_sheet(sheet("督促対象"), rec, rec.today)
    save_workbook(wb, path, f"預貯金等照会 照合結果 {ctx.run_id}")


def finish_run(results: Sequence[ItemResult], ctx: RunContext, out_dir: Path) -> list[Path]:
    """Store, reconcile, annotate and write (see the module docstring); returns the files."""
    settings: DepositInquirySettings = ctx.settings
    cfg = ctx.config
    ledger_path, _table, inquiries = load_ledger(cfg, settings)
    titles = {lay.id: lay.layout.title for lay in layouts_for(cfg, settings)}
    titles["paper"] = "紙の回答書（OCR）"
    out_root = ctx.out_dir.parent
    today = settings.as_of or ctx.today
    store = ReplyStore(cfg.resolve(settings.state_db))
    try:
        with store.atomic():
            confirmed = take_confirmed(store, out_root, ctx, settings.forms)
            decided = _take_decisions(store, out_root, settings.workbook_name)
            for doc in _stored(results, ctx):
                store.upsert_doc(doc)
            t0 = time.perf_counter()
            decisions = store.decisions()
            replies = [r for doc in store.docs() for r in replies_from_doc(doc, decisions)]
            rec = reconcile(inquiries, replies, today=today, options=MatchOptions(
                settings.match_threshold, settings.certain_score, settings.ambiguity_margin,
                settings.overdue_grace_days))
            ms = (time.perf_counter() - t0) * 1000 / max(1, len(replies))
            _annotate(results, rec, ms)
            files = [out_dir / f"{settings.workbook_name}_{ctx.run_id}.xlsx",
                     out_dir / f"{settings.reminder_name}_{ctx.run_id}.csv"]
            _workbook(files[0], rec, ctx, ledger_path.name, titles)
            lost = write_reminder_csv(files[1], rec, cfg.csv)
            if lost:
                files.append(out_dir / f"{settings.reminder_name}_文字コード変換できない文字.csv")
                write_csv(files[-1], ["照会番号", "項目", "変換できない文字"],
                          [[p.row_key, p.column, p.characters] for p in lost])
            paper = [d for r in results for d in r.documents if d.form_id != DATA_FORM]
            if paper:  # the run's review workbook (correction sheet) comes first
                files[:0] = write_scan_outputs(paper, ctx, out_dir,
                                               workbook_name=settings.scan_workbook_name,
                                               scenario=ctx.scenario)
        log.info("reconciled %d inquiries and %d replies (%d confirmed values and %d decisions "
                 "taken in): inquiries %s; replies %s", len(rec.inquiries), len(rec.replies),
                 confirmed, decided, dict(rec.inquiry_counts()), dict(rec.reply_counts()))
        return files
    finally:
        store.close()
