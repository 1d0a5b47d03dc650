"""The parent's part of a run: store this run's replies, reconcile everything, write outputs.

Order matters for crash safety (see :mod:`robots.run.runner`): everything here happens in one
transaction of the scenario database, committed only after the outputs are written into the
run's partial folder. If the run dies before the run log commits, the runner puts the input
files back and the next run reads them again: the replies then update the rows this run
stored (same keys), so nothing is counted twice.

Before reconciling, the human work done since the last run is taken in: confirmed values of
paper replies (``<form title>_確定.csv`` written by ``rpa corrections import``), the decisions
clerks wrote on earlier review sheets (``確認リスト``) and the 再照会 they asked for (``再照会``).
Each file is read once per version (its size and modification time are remembered). Then,
when ``[send] enabled``, the inquiries due go out (:mod:`scenarios.deposit_inquiry.send`)
in the same transaction, and the ledger is reconciled as sent.

What the evaluation counts is recorded as run-log events (counts only, no personal data):
``deposit_inquiry_sent`` (what this run sent, per channel, and what it held back),
``deposit_inquiry_decisions`` (the decisions taken in by this run and what became of
them) and ``deposit_inquiry_state`` (the totals of the whole reconciliation after it); and
every data-row document of the run gets ``match_status`` and ``match_method`` fields.
"""

from __future__ import annotations

import logging
import time
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
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
    DECIDED,
    FORCED,
    InquiryStatus,
    MatchOptions,
    Reconciliation,
    ReplyFinding,
    ReplyStatus,
    reconcile,
    replies_from_doc,
)
from scenarios.deposit_inquiry.records import Inquiry
from scenarios.deposit_inquiry.reminder import (
    RESEND_SHEET,
    read_resend_requests,
    write_reminder_csv,
    write_reminder_sheet,
)
from scenarios.deposit_inquiry.review import (
    FORCED_SHEET,
    REVIEW_SHEET,
    read_decisions,
    write_forced,
    write_review,
)
from scenarios.deposit_inquiry.send import (
    SENT_SHEET,
    SendOutcome,
    due,
    send,
    with_sends,
    write_sent,
)
from scenarios.deposit_inquiry.settings import (
    DepositInquirySettings,
    layouts_for,
    load_ledger,
    upload_layout,
)
from scenarios.deposit_inquiry.sheets import (
    INQUIRY_COLS,
    REPLY_COLS,
    REVIEW,
    inquiry_rows,
    reply_rows,
    write_accounts,
    write_people,
    write_summary,
    write_transactions,
)
from scenarios.deposit_inquiry.store import ReplyStore

__all__ = ["MATCH_FIELD", "METHOD_FIELD", "finish_run"]

log = logging.getLogger(__name__)

#: The fields added to each data-row document: its reconciliation status (flagged: 要確認,
#: 要再確認) and how it was linked (照会番号, 氏名・生年月日, 職員確認, 職員確認（強制）, "").
MATCH_FIELD = "match_status"
METHOD_FIELD = "match_method"


def _take_decisions(store: ReplyStore, out_root: Path, workbook_name: str) -> set[str]:
    """Decisions and 再照会 requests of earlier workbooks; returns the ids decided now."""
    decided: set[str] = set()
    for path in earlier_outputs(out_root, f"{workbook_name}_*.xlsx"):
        sig = signature(path)
        if store.seen(path, sig):
            continue
        try:
            decisions = read_decisions(path)
            resend = read_resend_requests(path)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            # open in Excel on a share, or saved in another format: try again next run
            log.warning("%s: decisions not read (%s); next run tries again", path.name,
                        type(exc).__name__)
            continue
        source = f"{path.parent.name}/{path.name}"
        for reply_id, decision in decisions.items():
            store.decide(reply_id, decision, source)
            decided.add(reply_id)
        for number in resend:
            store.request_resend(number, source)
        store.mark_seen(path, sig)
    return decided


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

    The run log then counts a 要確認 reply as a document a person must look at, and how it
    was linked (``match_method``: 照会番号 = without a person), which is what the evaluation
    report needs; paper replies keep their OCR fields only (their review workbook must match
    the run log field for field).
    """
    status = {f.reply.doc_id: f for f in rec.replies}
    for r in results:
        for d in r.documents:
            if d.form_id != DATA_FORM or d.doc_id not in status:
                continue
            f = status[d.doc_id]
            reasons = ([Reason("match_review")] if f.status in (ReplyStatus.REVIEW,
                                                                ReplyStatus.RECHECK) else [])
            d.fields.append(FieldResult(MATCH_FIELD, "照合結果", "text", f.status.value,
                                        f.status.value, 1.0, reasons))
            d.fields.append(FieldResult(METHOD_FIELD, "照合方法", "text", f.method, f.method,
                                        1.0))
            d.timings_ms["match"] = ms_per_reply


def _workbook(path: Path, rec: Reconciliation, ctx: RunContext, ledger: str,
              titles: dict[str, str], sent: SendOutcome | None) -> None:
    wb = Workbook()
    taken: set[str] = set()

    def sheet(title: str) -> Worksheet:
        return wb.create_sheet(sheet_title(title, taken))

    summary = wb.active
    summary.title = sheet_title("集計", taken)
    write_summary(summary, rec, run_id=ctx.run_id, ledger=ledger, created=datetime.now())
    write_review(sheet(REVIEW_SHEET), rec)
    write_reminder_sheet(sheet(RESEND_SHEET), rec, rec.today)
    if sent is not None:
        write_sent(sheet(SENT_SHEET), sent)
    write_forced(sheet(FORCED_SHEET), rec)
    for status in InquiryStatus:
        write_table(sheet(f"照会_{status.value}"), INQUIRY_COLS,
                    inquiry_rows(f for f in rec.inquiries if f.status is status))
    write_accounts(sheet("口座一覧"), rec)
    write_people(sheet("人別合計"), rec)
    write_table(sheet("回答一覧"), REPLY_COLS, reply_rows(rec.replies, titles), mark=0,
                mark_values=REVIEW)
    for rstatus in (ReplyStatus.NO_INQUIRY, ReplyStatus.DUPLICATE):
        write_table(sheet(f"回答_{rstatus.value}"), REPLY_COLS,
                    reply_rows((f for f in rec.replies if f.status is rstatus), titles))
    write_transactions(sheet, rec)
    save_workbook(wb, path, f"預貯金等照会 照合結果 {ctx.run_id}")


def _pairs(counts: Mapping[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in counts.items())


def _events(ctx: RunContext, rec: Reconciliation, decided_now: set[str],
            sent: SendOutcome | None) -> None:
    """Counts for the evaluation (see the module docstring); never personal data."""
    if sent is not None:
        c = sent.counts()
        ctx.events.append(("deposit_inquiry_sent", _pairs({
            k: c[k] for k in ("online", "letter", "online_resend", "letter_resend", "held",
                              "banks")})))
    mine = [f for f in rec.replies
            if f.reply.reply_id in decided_now or f.reply.group in decided_now]
    groups: dict[str, ReplyFinding] = {}
    for f in mine:
        groups.setdefault(f.reply.group or f.reply.reply_id, f)
    d: Counter[str] = Counter()
    for f in groups.values():
        if f.status is ReplyStatus.NO_INQUIRY:
            d["rejected"] += 1
        elif f.status is ReplyStatus.RECHECK:
            d["recheck"] += 1
        elif f.forced:
            d["forced"] += 1
        elif f.proposed is not None and f.inquiry is not None and (
                f.proposed.number == f.inquiry.number):
            d["confirmed"] += 1
        else:
            d["corrected"] += 1
    ctx.events.append(("deposit_inquiry_decisions", _pairs({
        k: d[k] for k in ("confirmed", "corrected", "rejected", "recheck", "forced")})))
    methods = Counter((f.status, f.method) for f in rec.replies)
    state = {
        "replies": len(rec.replies),
        "auto": methods[(ReplyStatus.MATCHED, "照会番号")],
        "decided": methods[(ReplyStatus.MATCHED, DECIDED)],
        "forced": methods[(ReplyStatus.MATCHED, FORCED)],
        "review": sum(1 for f in rec.replies if f.status is ReplyStatus.REVIEW),
        "recheck": sum(1 for f in rec.replies if f.status is ReplyStatus.RECHECK),
        "no_inquiry": sum(1 for f in rec.replies if f.status is ReplyStatus.NO_INQUIRY),
        "duplicate": sum(1 for f in rec.replies if f.status is ReplyStatus.DUPLICATE),
        "overdue": sum(1 for g in rec.inquiries if g.status is InquiryStatus.OVERDUE),
        "unsent": sum(1 for g in rec.inquiries if g.status is InquiryStatus.UNSENT),
    }
    ctx.events.append(("deposit_inquiry_state", _pairs(state)))
    # the run's own work, for the evaluation (scenarios.deposit_inquiry.evaluation): replies
    # that arrived in this run, and the decisions this run took in. Links undone later are
    # not tracked yet: ``wrong_links_found`` stays unmeasured rather than a false 0.
    new = [f for f in rec.replies if f.reply.doc_id.startswith(f"{ctx.run_id}-")]
    ctx.counts.update({
        "replies": len(new),
        "replies_linked_automatically": sum(
            1 for f in new if f.status is ReplyStatus.MATCHED and f.method == "照会番号"),
        "replies_for_review": sum(
            1 for f in new if f.status in (ReplyStatus.REVIEW, ReplyStatus.RECHECK)),
        "proposals_confirmed": d["confirmed"],
        "proposals_rejected": d["rejected"] + d["corrected"],
        "links_forced": d["forced"],
        "links_refused": d["recheck"],
    })


def _send(store: ReplyStore, settings: DepositInquirySettings, inquiries: list[Inquiry],
          ctx: RunContext, out_dir: Path, today: date) -> tuple[SendOutcome, list[Inquiry]]:
    """Send what is due (recorded as pending); the ledger with held rows' reasons added."""
    cfg = ctx.config
    store.settle_sends(ctx.out_dir.parent, ctx.run_id)
    layout = upload_layout(cfg, settings)
    outgoing, held = due(inquiries, store.sends(), store.resend_requests(), settings.send)
    sent = send(outgoing, settings=settings.send, layout=layout,
                folder=out_dir / settings.send.folder, run_id=ctx.run_id, today=today,
                closed=cfg.scheduler.closed)
    sent.held = held
    for s in sent.sent:
        store.add_send(s)
        if s.round > 1 or s.inquiry in store.resend_requests():
            store.resend_done(s.inquiry)
    why = {i.number: w for i, w in held}
    return sent, [replace(i, problems=(*i.problems, why[i.number])) if i.number in why
                  and not i.problems else i for i in inquiries]


def finish_run(results: Sequence[ItemResult], ctx: RunContext, out_dir: Path) -> list[Path]:
    """Store, send, reconcile, annotate and write (see the module docstring); the files."""
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
            sent = None
            if settings.send.enabled:
                sent, inquiries = _send(store, settings, inquiries, ctx, out_dir, today)
            sends = store.sends()
            t0 = time.perf_counter()
            decisions = store.decisions()
            replies = [r for doc in store.docs() for r in replies_from_doc(doc, decisions)]
            rec = reconcile(with_sends(inquiries, sends, reply_days=settings.send.reply_days,
                                       closed=cfg.scheduler.closed),
                            replies, today=today, options=MatchOptions(
                settings.match_threshold, settings.certain_score, settings.ambiguity_margin,
                settings.overdue_grace_days))
            rec.sends = sends
            ms = (time.perf_counter() - t0) * 1000 / max(1, len(replies))
            _annotate(results, rec, ms)
            files = [out_dir / f"{settings.workbook_name}_{ctx.run_id}.xlsx",
                     out_dir / f"{settings.reminder_name}_{ctx.run_id}.csv"]
            _workbook(files[0], rec, ctx, ledger_path.name, titles, sent)
            lost = write_reminder_csv(files[1], rec, cfg.csv)
            if sent is not None:
                files += sent.files
                lost += sent.lost_characters
            if lost:
                files.append(out_dir / f"{settings.reminder_name}_文字コード変換できない文字.csv")
                write_csv(files[-1], ["照会番号", "項目", "変換できない文字"],
                          [[p.row_key, p.column, p.characters] for p in lost])
            paper = [d for r in results for d in r.documents if d.form_id != DATA_FORM]
            if paper:  # the run's review workbook (correction sheet) comes first
                files[:0] = write_scan_outputs(paper, ctx, out_dir,
                                               workbook_name=settings.scan_workbook_name,
                                               scenario=ctx.scenario)
            _events(ctx, rec, decided, sent)
        log.info("reconciled %d inquiries and %d replies (%d confirmed values and %d decisions "
                 "taken in): inquiries %s; replies %s", len(rec.inquiries), len(rec.replies),
                 confirmed, len(decided), dict(rec.inquiry_counts()), dict(rec.reply_counts()))
        return files
    finally:
        store.close()
