"""Statuses: every inquiry and every reply ends in exactly one, for a stated reason.

Inquiries: 回答済・口座あり, 回答済・該当なし, 未回答（期限内）, 未回答（期限超過）, 要確認.
Replies: 照合済, 要確認, 照会なし (matches no inquiry), 重複 (the same reply received twice).

A reply is 照合済 only when its inquiry number names an inquiry whose bank, birth date and
name (kana key; kanji up to old/variant forms when both are known) all agree, nothing in the
reply needs a look, and no other reply contradicts it — or when a clerk linked it on an
earlier review sheet. A link found without the number is a proposal with its score and
always 要確認, however high the score: it is never reported as certain.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from ocr.japanese import normalize_kana, normalize_text
from robots.kit.kanji import kanji_equivalent
from robots.kit.reconcile import (
    Entity,
    Link,
    Matcher,
    first_occurrences,
    name_key,
    normalize_ref,
)
from robots.kit.state import StoredDoc
from scenarios.deposit_inquiry.records import Inquiry, Reply, account_type
from scenarios.deposit_inquiry.store import Decision

__all__ = [
    "InquiryFinding",
    "InquiryStatus",
    "MatchOptions",
    "Reconciliation",
    "ReplyFinding",
    "ReplyStatus",
    "reconcile",
    "replies_from_doc",
]

log = logging.getLogger(__name__)


class InquiryStatus(StrEnum):
    """Where an inquiry stands."""

    ACCOUNT = "回答済・口座あり"
    NONE = "回答済・該当なし"
    PENDING = "未回答（期限内）"
    OVERDUE = "未回答（期限超過）"
    REVIEW = "要確認"


class ReplyStatus(StrEnum):
    """Where a reply stands."""

    MATCHED = "照合済"
    REVIEW = "要確認"
    NO_INQUIRY = "照会なし"
    DUPLICATE = "重複"


_LINK_REASONS = {
    "no_ref": "照会番号の記載がない（氏名・生年月日・金融機関で照合した候補）",
    "ref_not_found": "照会番号が台帳にない（氏名・生年月日・金融機関で照合した候補）",
    "ref_ambiguous": "照会番号が台帳に複数ある",
    "ref_conflict": "照会番号の照会と氏名・生年月日が合わない（番号の誤りの可能性）",
    "name_differs": "氏名カナが台帳と一致しない",
    "differs:birth": "生年月日が台帳と一致しない",
    "differs:bank": "金融機関が台帳の照会先と異なる",
    "ambiguous": "同程度に一致する照会が他にもある",
    "decision_unusable": "確認リストで選んだ照会番号が台帳に1件だけ存在しない",
}
_PAPER_COMMON = {"inquiry_number": "inquiry_number", "bank_code": "bank_code",
                 "branch_code": "branch_code", "subject_name_kana": "kana",
                 "subject_name": "name", "birth_date": "birth_date",
                 "balance_date": "balance_date", "no_account": "no_account",
                 "reply_date": "reply_date", "bank_name": "", "branch_name": ""}
_PAPER_ROWS = 3


@dataclass(frozen=True)
class MatchOptions:
    """The thresholds from ``[scenarios.deposit_inquiry]``."""

    threshold: float = 75.0
    certain_score: float = 100.0
    margin: float = 3.0
    grace_days: int = 0


@dataclass
class ReplyFinding:
    """A reply, its status, the inquiry it belongs to (or is proposed for) and why."""

    reply: Reply
    status: ReplyStatus
    inquiry: Inquiry | None = None
    method: str = ""  # 照会番号 / 氏名・生年月日 / 職員確認
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    duplicate_of: str = ""


@dataclass
class InquiryFinding:
    """An inquiry, its status, its replies and why."""

    inquiry: Inquiry
    status: InquiryStatus
    replies: list[ReplyFinding] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    overdue_days: int = 0

    @property
    def accounts(self) -> list[ReplyFinding]:
        return [r for r in self.replies if not r.reply.no_account]


@dataclass
class Reconciliation:
    """The whole picture on ``today``."""

    today: date
    inquiries: list[InquiryFinding]
    replies: list[ReplyFinding]

    def inquiry_counts(self) -> Counter[str]:
        return Counter(f.status.value for f in self.inquiries)

    def reply_counts(self) -> Counter[str]:
        return Counter(f.status.value for f in self.replies)


def _problem_texts(problems: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """Problems as staff read them; each already names its field (``残高: 空欄``)."""
    return tuple(dict.fromkeys(why for _, why in problems if why))


def _reply(doc: StoredDoc, suffix: str, v: Mapping[str, str], problems: Sequence[tuple[str, str]],
           decisions: Mapping[str, Decision]) -> Reply:
    reply_id = doc.doc_key + suffix
    d = decisions.get(reply_id)
    return Reply(
        reply_id=reply_id, doc_key=doc.doc_key, doc_id=doc.doc_id,
        source="paper" if doc.kind == "paper" else doc.layout, file_name=doc.file_name,
        locator=doc.locator + (f" {suffix.lstrip('#')}口座目" if suffix.strip("#0") else ""),
        arrival=doc.arrival, received=doc.received,
        inquiry_number=normalize_ref(v.get("inquiry_number", "")),
        bank_code=v.get("bank_code", ""), branch_code=v.get("branch_code", ""),
        kana=normalize_kana(v.get("kana", "")), name=normalize_text(v.get("name", "")),
        birth_date=v.get("birth_date", ""), account_type=v.get("account_type", ""),
        account_number=v.get("account_number", ""), balance=v.get("balance", ""),
        balance_date=v.get("balance_date", ""), no_account=v.get("no_account") == "1",
        reply_date=v.get("reply_date", ""), problems=_problem_texts(problems),
        decided=f"{d.action}:{d.inquiry}" if d else "")


def replies_from_doc(doc: StoredDoc, decisions: Mapping[str, Decision]) -> list[Reply]:
    """The replies a stored document holds: one per data row; one per account on a form."""
    if doc.kind != "paper":
        return [_reply(doc, "", doc.fields, doc.problems, decisions)]
    f = doc.fields
    common = {canon: f.get(name, "") for name, canon in _PAPER_COMMON.items() if canon}
    shared = [(n, why) for n, why in doc.problems if n in _PAPER_COMMON and n != "reply_date"]
    rows = [n for n in range(1, _PAPER_ROWS + 1)
            if any(f.get(f"{k}_{n}") for k in ("account_type", "account_number", "balance"))]
    no_account = f.get("no_account") == "1"
    if no_account and rows:
        shared.append(("no_account", "該当なし: 「該当なし」と口座の記載の両方がある"))
    if not rows:
        if not no_account:
            shared.append(("no_account", "該当なし: 口座の記載も「該当なし」の印もない"))
        return [_reply(doc, "#0", common, shared, decisions)]
    out = []
    for n in rows:
        own = [(name, why) for name, why in doc.problems if name.endswith(f"_{n}")]
        v = {**common, "account_type": account_type(f.get(f"account_type_{n}", "")),
             "account_number": f.get(f"account_number_{n}", ""),
             "balance": f.get(f"balance_{n}", ""), "no_account": "0"}
        out.append(_reply(doc, f"#{n}", v, [*shared, *own], decisions))
    return out


def _entity(i: Inquiry, key: str) -> Entity:
    return Entity(key, i.number, name_key(i.kana), {"bank": i.bank_code, "birth": i.birth_date})


def _link(matcher: Matcher, r: Reply, keys: Mapping[str, Inquiry],
          by_number: Mapping[str, list[str]]) -> tuple[Link, str]:
    """The reply's link, after a clerk's decision; the method as staff read it."""
    action, _, number = r.decided.partition(":")
    targets = by_number.get(normalize_ref(number), [])
    if action == "link" and len(targets) == 1:
        return Link(r.reply_id, targets[0], "decided", 100.0, True), "職員確認"
    if action == "reject":
        return Link(r.reply_id, None, "decided", 0.0, False, ("rejected",)), "職員確認"
    q = Entity(r.reply_id, r.inquiry_number, name_key(r.kana),
               {"bank": r.bank_code, "birth": r.birth_date})
    link = matcher.link(q)
    if action == "link":  # the number the clerk chose names no single inquiry
        link = replace(link, certain=False, reasons=(*link.reasons, "decision_unusable"))
    if link.certain and link.target is not None:
        same = kanji_equivalent(r.name, keys[link.target].name)
        if same is False:
            link = Link(link.query, link.target, link.method, link.score, False,
                        ("kanji_differs",))
    return link, {"ref": "照会番号", "fuzzy": "氏名・生年月日"}.get(link.method, "")


def _conflicts(linked: Sequence[ReplyFinding]) -> dict[str, str]:
    """Replies that contradict another reply to the same inquiry → the reason."""
    out: dict[str, str] = {}
    accounts: dict[tuple[str, ...], list[ReplyFinding]] = {}
    branches: dict[tuple[str, ...], list[ReplyFinding]] = {}
    for f in linked:
        assert f.inquiry is not None
        r = f.reply
        if not r.no_account and r.account_number:
            accounts.setdefault((str(f.inquiry.row), *r.account_key), []).append(f)
        if r.branch_code:
            branches.setdefault((str(f.inquiry.row), r.bank_code, r.branch_code), []).append(f)
    for group in accounts.values():
        if len({g.reply.balance for g in group}) > 1:
            for g in group:
                out[g.reply.reply_id] = "同じ口座に異なる残高の回答がある"
    for group in branches.values():
        if len({g.reply.no_account for g in group}) > 1:
            for g in group:
                out.setdefault(g.reply.reply_id, "同じ店舗から「該当なし」と口座ありの回答がある")
    return out


def _inquiry_status(i: Inquiry, replies: list[ReplyFinding], today: date, grace: int
                    ) -> tuple[InquiryStatus, list[str], int]:
    reasons = list(i.problems)
    review = [r for r in replies if r.status is ReplyStatus.REVIEW]
    if review:
        reasons.append(f"確認が必要な回答が{len(review)}件ある")
    if reasons:
        return InquiryStatus.REVIEW, reasons, 0
    if replies:
        found = any(not r.reply.no_account for r in replies)
        return (InquiryStatus.ACCOUNT if found else InquiryStatus.NONE), [], 0
    late = (today - date.fromisoformat(i.deadline)).days
    if late > grace:
        return InquiryStatus.OVERDUE, [], late
    return InquiryStatus.PENDING, [], 0


def reconcile(inquiries: Sequence[Inquiry], replies: Sequence[Reply], *, today: date,
              options: MatchOptions = MatchOptions()) -> Reconciliation:
    """Statuses of every inquiry and reply (see the module docstring)."""
    numbers = Counter(i.number for i in inquiries if i.number)
    inquiries = [i if numbers[i.number] < 2 else replace(
        i, problems=(*i.problems, "照会番号: 台帳に同じ番号が複数ある")) for i in inquiries]
    keys = {f"i{n}": i for n, i in enumerate(inquiries)}
    by_number: dict[str, list[str]] = {}
    for k, i in keys.items():
        by_number.setdefault(i.number, []).append(k)
    matcher = Matcher([_entity(i, k) for k, i in keys.items()],
                      blocks=[("bank", "birth"), ("bank", "name")], verify=("bank", "birth"),
                      threshold=options.threshold, certain_score=options.certain_score,
                      margin=options.margin)
    ordered = sorted(replies, key=lambda r: (r.arrival, r.reply_id))
    dupes = first_occurrences((r.reply_id, r.content_key()) for r in ordered)
    findings: list[ReplyFinding] = []
    for r in ordered:
        if r.reply_id in dupes:
            findings.append(ReplyFinding(r, ReplyStatus.DUPLICATE, duplicate_of=dupes[r.reply_id],
                                         reasons=["同じ内容の回答を既に受け付けている"]))
            continue
        link, method = _link(matcher, r, keys, by_number)
        f = ReplyFinding(r, ReplyStatus.REVIEW, keys.get(link.target or ""), method, link.score)
        f.reasons = [*r.problems, *(_LINK_REASONS.get(c, "") for c in link.reasons)]
        if "kanji_differs" in link.reasons:
            f.reasons.append("氏名（漢字）が台帳と一致しない")
        if "rejected" in link.reasons:
            f.status, f.reasons = ReplyStatus.NO_INQUIRY, ["職員が照合しないと判断した"]
        elif link.target is None:
            f.status = ReplyStatus.REVIEW if r.problems else ReplyStatus.NO_INQUIRY
            if not r.problems:
                f.reasons = ["照会番号・氏名・生年月日・金融機関のいずれでも台帳の照会に当たらない"]
        elif link.certain and (not r.problems or link.method == "decided"):
            f.status = ReplyStatus.MATCHED
        if link.method == "fuzzy":
            f.reasons.append(f"類似度 {link.score:.0f}")
        f.reasons = [x for x in f.reasons if x]
        findings.append(f)
    linked = [f for f in findings if f.inquiry is not None and f.status in (
        ReplyStatus.MATCHED, ReplyStatus.REVIEW)]
    conflicts = _conflicts(linked)
    for f in linked:
        if (why := conflicts.get(f.reply.reply_id)) is not None:
            f.status = ReplyStatus.REVIEW
            f.reasons.append(why)
    per_inquiry: dict[int, list[ReplyFinding]] = {}
    for f in linked:
        assert f.inquiry is not None
        per_inquiry.setdefault(f.inquiry.row, []).append(f)
    out = []
    for i in inquiries:
        mine = per_inquiry.get(i.row, [])
        status, reasons, late = _inquiry_status(i, mine, today, options.grace_days)
        out.append(InquiryFinding(i, status, mine, reasons, late))
    return Reconciliation(today, out, findings)
