"""Statuses: every inquiry and every reply ends in exactly one, for a stated reason.

Inquiries: 回答済・口座あり, 回答済・該当なし, 未回答（期限内）, 未回答（期限超過）, 要確認,
未送付 (neither sent by hand nor by the robot yet).
Replies: 照合済, 要確認, 要再確認 (a clerk's link the facts contradict), 照会なし (matches no
inquiry), 重複 (the same reply received twice).

A reply is 照合済 only when its inquiry number names an inquiry whose bank, birth date and
name (kana key; kanji up to old/variant forms when both are known) all agree, nothing in the
reply needs a look, and no other reply contradicts it — or when a clerk linked it on an
earlier review sheet and the facts do not contradict the link. A link found without the
number, or through the reading of a name in Latin letters, is a proposal with its score and
always 要確認, however high the score: it is never reported as certain.

A clerk's link is checked before it is applied (:func:`decision_conflicts`): a bank, a branch
(when both sides name one) or a birth date that differs, or a kana key below the proposal
threshold, keeps it from being applied — the reply comes back 要再確認 with both sets of facts
and why — unless the clerk wrote the reason in 備考: the link is then applied as *forced*,
listed in the workbook and counted in the run log. A decision is about one reply of a bank
(one person), so it covers every account that reply reports (:attr:`Reply.group`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from ocr.japanese import normalize_text
from robots.kit.kanji import kanji_equivalent
from robots.kit.reconcile import (
    Entity,
    Link,
    Matcher,
    first_occurrences,
    latin_readings,
    name_key,
    name_score,
    normalize_ref,
)
from robots.kit.state import StoredDoc
from scenarios.deposit_inquiry.records import Inquiry, Reply, account_type, holder_kana
from scenarios.deposit_inquiry.store import Decision, Send

__all__ = [
    "DECIDED",
    "FORCED",
    "InquiryFinding",
    "InquiryStatus",
    "MatchOptions",
    "Reconciliation",
    "ReplyFinding",
    "ReplyStatus",
    "decision_conflicts",
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
    UNSENT = "未送付"


class ReplyStatus(StrEnum):
    """Where a reply stands."""

    MATCHED = "照合済"
    REVIEW = "要確認"
    RECHECK = "要再確認"
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
    "name_read": "英字の名義をカナの読みに直して照合した候補（読みは推定）",
}
_PAPER_COMMON = {"inquiry_number": "inquiry_number", "bank_code": "bank_code",
                 "branch_code": "branch_code", "subject_name_kana": "kana",
                 "subject_name": "name", "birth_date": "birth_date",
                 "balance_date": "balance_date", "no_account": "no_account",
                 "reply_date": "reply_date", "bank_name": "", "branch_name": ""}
_PAPER_ROWS = 3
DECIDED, FORCED = "職員確認", "職員確認（強制）"


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
    method: str = ""  # 照会番号 / 氏名・生年月日 / 職員確認 / 職員確認（強制）
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    duplicate_of: str = ""
    #: what the machine proposed (or found) without the clerk's decision
    proposed: Inquiry | None = None
    #: why the facts contradict the clerk's link (要再確認, or forced with a 備考)
    conflicts: list[str] = field(default_factory=list)

    @property
    def forced(self) -> bool:
        return self.method == FORCED


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
    #: inquiry number → the robot's sends of it (facts as sent, document numbers)
    sends: Mapping[str, list[Send]] = field(default_factory=dict)

    def forced(self) -> list[ReplyFinding]:
        return [f for f in self.replies if f.forced]

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
    kana = holder_kana(v.get("kana", ""))
    inquiry = normalize_ref(v.get("inquiry_number", ""))
    if doc.kind == "paper":
        group = doc.doc_key
    else:  # the rows of one file about one person at one bank are one reply
        facts = "|".join((inquiry, v.get("bank_code", ""), v.get("birth_date", ""),
                          name_key(kana)))
        group = f"{doc.doc_key.split(':')[0]}:g{hashlib.sha256(facts.encode()).hexdigest()[:8]}"
    d = decisions.get(reply_id) or decisions.get(group)
    tx = v.get("transactions", "")
    return Reply(
        reply_id=reply_id, doc_key=doc.doc_key, doc_id=doc.doc_id,
        source="paper" if doc.kind == "paper" else doc.layout, file_name=doc.file_name,
        locator=doc.locator + (f" {suffix.lstrip('#')}口座目" if suffix.strip("#0") else ""),
        arrival=doc.arrival, received=doc.received,
        inquiry_number=inquiry,
        bank_code=v.get("bank_code", ""), branch_code=v.get("branch_code", ""),
        kana=kana, name=normalize_text(v.get("name", "")),
        birth_date=v.get("birth_date", ""), account_type=v.get("account_type", ""),
        account_number=v.get("account_number", ""), balance=v.get("balance", ""),
        balance_date=v.get("balance_date", ""), no_account=v.get("no_account") == "1",
        reply_date=v.get("reply_date", ""), problems=_problem_texts(problems),
        decided=f"{d.action}:{d.inquiry}" if d else "", decided_note=d.note if d else "",
        group=group, registered_address=v.get("registered_address", ""),
        transactions=tuple(tuple(t) for t in json.loads(tx)) if tx else ())


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


def _query(r: Reply) -> Entity:
    return Entity(r.reply_id, r.inquiry_number, name_key(r.kana),
                  {"bank": r.bank_code, "birth": r.birth_date}, latin_readings(r.kana))


def _machine_link(matcher: Matcher, r: Reply, keys: Mapping[str, Inquiry]) -> tuple[Link, str]:
    """The reply's link as the machine finds it; the method as staff read it."""
    link = matcher.link(_query(r))
    if link.certain and link.target is not None:
        same = kanji_equivalent(r.name, keys[link.target].name)
        if same is False:
            link = Link(link.query, link.target, link.method, link.score, False,
                        ("kanji_differs",))
    return link, {"ref": "照会番号", "fuzzy": "氏名・生年月日"}.get(link.method, "")


def decision_conflicts(r: Reply, i: Inquiry, threshold: float) -> list[str]:
    """Why the facts contradict linking reply ``r`` to inquiry ``i`` (Japanese); [] if none.

    What a clerk's 照合する is checked against before it is applied: the bank, the branch
    (when the inquiry names one and the reply gives one), the birth date, and the kana key
    (at least the proposal threshold, through a reading for a Latin-letter name).
    """
    why = []
    if r.bank_code != i.bank_code:
        why.append(f"金融機関が違う（回答 {r.bank_code} {r.bank_name}／照会 {i.bank_code} "
                   f"{i.bank_name}）")
    if r.branch_code and i.branch_code and r.branch_code != i.branch_code:
        why.append(f"店舗が違う（回答 {r.branch_code}／照会 {i.branch_code}）")
    if r.birth_date != i.birth_date:
        why.append(f"生年月日が違う（回答 {r.birth_date or '記載なし'}／照会 {i.birth_date}）")
    target = name_key(i.kana)
    score = max((name_score(k, target) for k in (name_key(r.kana), *latin_readings(r.kana))),
                default=0.0)
    if score < threshold:
        why.append(f"氏名カナの類似度が{score:.0f}で基準（{threshold:.0f}）に届かない")
    return why


def _apply_decision(f: ReplyFinding, i: Inquiry, threshold: float) -> None:
    """A clerk's link to ``i``: applied, forced (with the 備考), or back for a second look."""
    r = f.reply
    f.inquiry, f.conflicts = i, decision_conflicts(r, i, threshold)
    if not f.conflicts:
        f.status, f.method, f.score, f.reasons = ReplyStatus.MATCHED, DECIDED, 100.0, []
    elif r.decided_note:
        f.status, f.method = ReplyStatus.MATCHED, FORCED
        f.reasons = [f"職員が理由を記入して照合した（備考: {r.decided_note}）", *f.conflicts]
    else:
        f.status, f.method = ReplyStatus.RECHECK, DECIDED
        f.reasons = ["職員が照合するとした照会と事実が合わないため、反映していない: "
                     + "／".join(f.conflicts)
                     + "。照会番号を確認するか、それでも照合する理由を備考に記入してください"]


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
    if not i.sent_date and not i.deadline:
        return InquiryStatus.UNSENT, ["まだ送付していない"], 0
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
        link, method = _machine_link(matcher, r, keys)
        f = ReplyFinding(r, ReplyStatus.REVIEW, keys.get(link.target or ""), method, link.score,
                         proposed=keys.get(link.target or ""))
        f.reasons = [*r.problems, *(_LINK_REASONS.get(c, "") for c in link.reasons)]
        if "kanji_differs" in link.reasons:
            f.reasons.append("氏名（漢字）が台帳と一致しない")
        action, _, number = r.decided.partition(":")
        chosen = by_number.get(normalize_ref(number), []) if action == "link" else []
        if action == "reject":
            f.status, f.inquiry, f.method = ReplyStatus.NO_INQUIRY, None, DECIDED
            f.reasons = ["職員が照合しないと判断した"]
        elif len(chosen) == 1:
            _apply_decision(f, keys[chosen[0]], options.threshold)
        elif link.target is None:
            f.status = ReplyStatus.REVIEW if r.problems else ReplyStatus.NO_INQUIRY
            if not r.problems:
                f.reasons = ["照会番号・氏名・生年月日・金融機関のいずれでも台帳の照会に当たらない"]
        elif link.certain and not r.problems and action != "link":
            f.status = ReplyStatus.MATCHED
        if action == "link" and len(chosen) != 1:  # the number chosen names no single inquiry
            f.reasons.append(_LINK_REASONS["decision_unusable"])
        if link.method == "fuzzy" and f.method != DECIDED and f.status is ReplyStatus.REVIEW:
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
