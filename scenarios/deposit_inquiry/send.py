"""Outgoing inquiries: the online service's upload file per bank, letters for the others.

Which inquiries go out (:func:`due`): a ledger row not sent by hand (no 照会日) and never sent
by the robot — only the rows marked 送付 when the ledger has that column — and every
再照会 a clerk asked for on the 再照会 sheet. A row the robot cannot send says why (a ledger
problem, a purpose without a configured legal basis) and waits; nothing is dropped.

Per bank (:func:`send`): a bank named in ``[send] online_banks`` gets one upload file in the
configured layout (``mappings/upload_service.toml``: what it follows is written there);
any other bank gets one PDF of letters (:mod:`scenarios.deposit_inquiry.letters`). Each
inquiry sent is recorded (:class:`~scenarios.deposit_inquiry.store.Send`: channel, bank,
branch, document number, day, deadline, file, and the facts as sent); the deadline is the
send day plus ``reply_days``, moved to the next open day when it falls on a weekend, a
public holiday or a closing day (民法第142条: a period ending on a day off ends on the next
day). The reconciliation then takes its 照会日 and 回答期限 from the latest send.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from openpyxl.worksheet.worksheet import Worksheet

from ocr.refdata import bank_full_name, branch_full_name
from robots.kit.tables import Layout, write_layout_csv
from robots.service.days_off import day_off
from robots.sheets.csvout import EncodingProblem
from robots.sheets.results import Col, write_table
from scenarios.deposit_inquiry.letters import Letter, write_letters
from scenarios.deposit_inquiry.records import Inquiry
from scenarios.deposit_inquiry.settings import SendSettings
from scenarios.deposit_inquiry.store import Send

__all__ = ["SENT_SHEET", "Outgoing", "SendOutcome", "deadline_after", "due", "send", "with_sends",
           "write_sent"]

log = logging.getLogger(__name__)

_DATES = ("sent_date", "deadline", "birth_date")
SENT_SHEET = "送付"


def deadline_after(sent: date, days: int, closed: Iterable[str] = ()) -> date:
    """``sent`` + ``days``, moved forward past weekends, holidays and closing days."""
    closed = tuple(closed)
    d = sent + timedelta(days=days)
    while d.weekday() >= 5 or day_off(d, closed):
        d += timedelta(days=1)
    return d


@dataclass(frozen=True)
class Outgoing:
    """An inquiry to send now, in ``round`` (1 first, 2+ 再照会)."""

    inquiry: Inquiry
    round: int
    previous: Send | None = None  # the latest earlier send, for a 再照会 letter


@dataclass
class SendOutcome:
    """What one run sent, and what it could not."""

    files: list[Path] = field(default_factory=list)
    sent: list[Send] = field(default_factory=list)
    held: list[tuple[Inquiry, str]] = field(default_factory=list)  # (inquiry, why, Japanese)
    lost_characters: list[EncodingProblem] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        c: Counter[str] = Counter()
        for s in self.sent:
            c[f"{s.channel}{'_resend' if s.round > 1 else ''}"] += 1
        c["held"] = len(self.held)
        c["banks"] = len({s.bank_code for s in self.sent})
        return c


def due(inquiries: Sequence[Inquiry], sends: Mapping[str, list[Send]], requests: set[str],
        settings: SendSettings) -> tuple[list[Outgoing], list[tuple[Inquiry, str]]]:
    """The inquiries to send now, and those held back with the reason (see the docstring)."""
    out: list[Outgoing] = []
    held: list[tuple[Inquiry, str]] = []
    for i in inquiries:
        mine = sends.get(i.number, [])
        by_hand = bool(i.sent_date or i.deadline)
        if i.number in requests and (mine or by_hand):  # 再照会 (asked on the sheet)
            why = _unsendable(i, settings)
            if why:
                held.append((i, why))
            else:
                rnd = (mine[-1].round if mine else 1) + 1  # a hand-sent first is round 1
                out.append(Outgoing(i, rnd, mine[-1] if mine else None))
            continue
        if mine or by_hand or i.marked is False:
            continue  # sent already (by the robot or by hand), or not marked to send
        why = _unsendable(i, settings)
        if why:
            held.append((i, why))
        else:
            out.append(Outgoing(i, 1))
    return out, held


def _unsendable(i: Inquiry, settings: SendSettings) -> str:
    if i.problems:
        return "台帳の内容に問題があるため送付しません（" + "／".join(i.problems) + "）"
    if i.purpose not in settings.legal_basis:
        return (f"照会目的「{i.purpose or '記載なし'}」の根拠法令が設定にありません"
                "（[scenarios.deposit_inquiry.send] legal_basis）")
    return ""


def _document_number(settings: SendSettings, i: Inquiry, rnd: int) -> str:
    number = settings.document_number.format(number=i.number, round=rnd)
    return number + (settings.resend_suffix.format(number=i.number, round=rnd) if rnd > 1
                     else "")


def _facts(i: Inquiry) -> dict[str, str]:
    return {"name": i.name, "kana": i.kana, "birth_date": i.birth_date, "address": i.address,
            "purpose": i.purpose}


def _safe(name: str) -> str:
    return "".join(ch for ch in name if ch not in '\\/:*?"<>|').strip() or "bank"


def send(outgoing: Sequence[Outgoing], *, settings: SendSettings, layout: Layout,
         folder: Path, run_id: str, today: date, closed: Iterable[str] = ()) -> SendOutcome:
    """Write the upload files and letters into ``folder``; the sends to record (pending)."""
    result = SendOutcome()
    if not outgoing:
        return result
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    deadline = deadline_after(today, settings.reply_days, closed)
    by_bank: dict[str, list[Outgoing]] = {}
    for o in outgoing:
        by_bank.setdefault(o.inquiry.bank_code, []).append(o)
    for bank, group in sorted(by_bank.items()):
        full = bank_full_name(bank) or bank
        online = bank in settings.online_banks
        kind = "照会データ" if online else "照会書"
        path = folder / f"{kind}_{bank}_{_safe(full)}_{run_id}.{'csv' if online else 'pdf'}"
        rows, letters = [], []
        for o in sorted(group, key=lambda o: o.inquiry.number):
            i = o.inquiry
            doc = _document_number(settings, i, o.round)
            branch = (branch_full_name(bank, i.branch_code) or "") if i.branch_code else ""
            basis = settings.legal_basis[i.purpose]
            if online:
                rows.append({
                    "request_kind": "再照会" if o.round > 1 else "新規",
                    "inquiry_number": i.number, "document_number": doc,
                    "sent_date": today.isoformat(), "deadline": deadline.isoformat(),
                    "purpose": i.purpose, "legal_basis": basis, "bank_code": bank,
                    "bank_name": full, "branch_code": i.branch_code, "branch_name": branch,
                    "name": i.name, "kana": i.kana, "birth_date": i.birth_date,
                    "address": i.address, "requester": settings.requester,
                    "contact": f"{settings.department}　{settings.contact}".strip()})
            else:
                prev = ""
                if o.previous is not None:
                    prev = (f"{_era_day(o.previous.sent_on)}付け{o.previous.document_number}")
                elif o.round > 1:
                    prev = f"{_era_day(i.sent_date)}付けの照会" if i.sent_date else "先に照会"
                letters.append(Letter(
                    doc, today, full, branch, settings.requester, settings.department,
                    settings.contact, basis, i.number, i.name, i.kana, i.birth_date, i.address,
                    deadline, o.round, prev))
            result.sent.append(Send(
                i.number, o.round, "online" if online else "letter", bank, i.branch_code, doc,
                today.isoformat(), deadline.isoformat(), f"{folder.name}/{path.name}", run_id,
                "pending", _facts(i)))
        if online:
            result.lost_characters += write_layout_csv(path, layout, rows, date_fields=_DATES)
        else:
            write_letters(path, letters, title=f"預貯金等の照会 {full}")
        path.chmod(0o600)
        result.files.append(path)
        log.info("sent %d inquiry(ies) to bank %s (%s)", len(group), bank,
                 "online upload file" if online else "letters")
    return result


def _era_day(iso: str) -> str:
    from ocr.japanese import format_era

    try:
        return format_era(date.fromisoformat(iso))
    except ValueError:
        return iso


def with_sends(inquiries: Sequence[Inquiry], sends: Mapping[str, list[Send]], *,
               reply_days: int, closed: Iterable[str] = ()) -> list[Inquiry]:
    """The ledger as sent: 照会日, 回答期限 and document number from the latest send.

    A row sent by hand with a 照会日 but no 回答期限 gets its deadline from that day, as a
    row the robot sends does.
    """
    out = []
    for i in inquiries:
        mine = sends.get(i.number)
        if not mine:
            if i.sent_date and not i.deadline:
                try:
                    sent = date.fromisoformat(i.sent_date)
                except ValueError:  # unreadable 照会日: the row is 要確認 for it already
                    sent = None
                if sent is not None:
                    i = replace(i, deadline=deadline_after(sent, reply_days, closed).isoformat())
            out.append(i)
            continue
        last = mine[-1]
        out.append(replace(i, sent_date=last.sent_on, deadline=last.deadline,
                           document_number=last.document_number,
                           resent=sum(1 for s in mine if s.round > 1)))
    return out


def write_sent(ws: Worksheet, outcome: SendOutcome) -> None:
    """送付: what this run sent (to whom, how, under which number) and what it held back."""
    cols = [Col("照会番号"), Col("区分"), Col("送付方法"), Col("金融機関"), Col("店舗"),
            Col("文書番号"), Col("照会日", "date"), Col("回答期限", "date"), Col("氏名"),
            Col("ファイル"), Col("送付しない理由")]
    rows = [[s.inquiry, "再照会" if s.round > 1 else "新規",
             "オンライン（アップロード）" if s.channel == "online" else "照会書（郵送）",
             f"{s.bank_code} {bank_full_name(s.bank_code) or ''}",
             (branch_full_name(s.bank_code, s.branch_code) or s.branch_code)
             if s.branch_code else "全店", s.document_number, s.sent_on, s.deadline,
             s.facts.get("name", ""), s.file, ""] for s in outcome.sent]
    rows += [[i.number, "", "", f"{i.bank_code} {bank_full_name(i.bank_code) or ''}", "", "",
              "", "", i.name, "", why] for i, why in outcome.held]
    write_table(ws, cols, rows, wrap=True)
