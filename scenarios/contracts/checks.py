"""Every contract of the register checked against the qualified-vendor list and the rules.

One function per rule (ids in :mod:`scenarios.contracts.rules`); each finding carries the
rule, its severity and the evidence in Japanese — the values compared and where they come
from — so a clerk can confirm it without opening anything else. The vendor of a contract
is its corporate number when the number is valid; a number that fails its check digit is
reported, and the vendor is then looked up by name (up to company-type words, widths and
old/new kanji) so that the other rules can still be decided; when the name does not settle
it, the rules that need the vendor are skipped, never guessed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ocr.checkdigits import corporate_number_check_digit, is_valid_corporate_number
from robots.kit.companies import company_key, same_company
from scenarios.contracts.limits import LimitBook
from scenarios.contracts.register import Contract, Suspension
from scenarios.contracts.registry import QualifiedList
from scenarios.contracts.rules import RULES
from scenarios.contracts.settings import METHOD_JA, ContractsSettings
from scenarios.contracts.split import find_split_orders

__all__ = ["Finding", "check_register"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule a contract breaks, with the evidence (Japanese) and the severity."""

    rule: str
    severity: str
    contract: Contract
    evidence: str
    related: tuple[str, ...] = ()  # other contract numbers involved (split group, duplicates)


def _yen(n: int | None) -> str:
    return "（不明）" if n is None else f"{n:,}円"


class _Checker:
    def __init__(self, settings: ContractsSettings, qlist: QualifiedList,
                 suspensions: Sequence[Suspension], limits: LimitBook) -> None:
        self.s, self.q, self.limits = settings, qlist, limits
        self.findings: list[Finding] = []
        self.by_number: dict[str, list[Suspension]] = defaultdict(list)
        self.by_name: list[Suspension] = []
        self.all_suspensions = list(suspensions)
        for sus in suspensions:
            if is_valid_corporate_number(sus.corporate_number):
                self.by_number[sus.corporate_number].append(sus)
            else:
                self.by_name.append(sus)
        self._resolved: dict[int, str | None] = {}

    def add(self, rule: str, c: Contract, evidence: str, related: Iterable[str] = (), *,
            severity: str | None = None) -> None:
        sev = self.s.severity.get(rule) or severity or RULES[rule].severity  # type: ignore[call-overload]
        self.findings.append(Finding(rule, sev, c, evidence, tuple(related)))

    # -- the vendor --------------------------------------------------------------------------

    def vendor(self, c: Contract) -> str | None:
        """The corporate number the contract is with, or None when it cannot be told."""
        k = id(c)
        if k not in self._resolved:
            if is_valid_corporate_number(c.corporate_number):
                self._resolved[k] = c.corporate_number
            else:
                found = self.q.by_name(c.vendor_name) if c.vendor_name else []
                self._resolved[k] = found[0] if len(found) == 1 else None
        return self._resolved[k]

    def vendor_key(self, c: Contract) -> str:
        """Block key of split orders: the vendor, else the number or name as written."""
        return self.vendor(c) or c.corporate_number or company_key(c.vendor_name)

    def number_and_name(self, c: Contract) -> str | None:
        """invalid_corporate_number and name_mismatch; returns the vendor (or None)."""
        n = c.corporate_number
        if not is_valid_corporate_number(n):
            if not n:
                why = "法人番号が空欄"
            elif len(n) != 13 or not n.isdigit():
                why = f"法人番号「{n}」は13桁の数字ではない"
            else:
                why = (f"法人番号「{n}」のチェックディジットが合わない（残り12桁からは先頭が "
                       f"{corporate_number_check_digit(n[1:])} になる）")
            number = self.vendor(c)
            tail = (f"。名称「{c.vendor_name}」から名簿の法人番号 {number} の業者として確認した"
                    if number else "。名称からも名簿の業者を特定できないため、資格の確認を"
                                   "していない")
            self.add("invalid_corporate_number", c, why + tail)
            return number
        if self.q.known(n) and c.vendor_name:
            names = self.q.names(n)
            if not any(same_company(c.vendor_name, m) for m in names):
                others = [o for o in self.q.by_name(c.vendor_name) if o != n]
                hint = f"。この名称は名簿では法人番号 {others[0]} の業者" if others else ""
                self.add("name_mismatch", c, f"契約の業者名「{c.vendor_name}」が、名簿の法人番号 "
                         f"{n} の名称「{'」「'.join(names)}」と一致しない{hint}")
        return n

    # -- the rules per contract --------------------------------------------------------------

    def qualification(self, c: Contract, number: str | None) -> None:
        s = self.s
        if (c.day is None or number is None or c.method not in s.qualification_methods
                or c.category not in s.categories or c.category in s.no_qualification):
            return
        if not self.q.known(number):
            self.add("not_qualified", c, f"法人番号 {number}（{c.vendor_name}）の業者は入札参加"
                     f"資格者名簿に登録されたことがない（業種「{c.category}」、契約日 "
                     f"{c.day:%Y-%m-%d}）")
            return
        if self.q.entry_on(number, c.category, c.day) is not None:
            return
        past = self.q.entries(number, c.category)
        if not past:
            held = sorted({e.category for e in self.q.entries(number)})
            self.add("not_qualified", c, f"名簿の業者（法人番号 {number}）に業種「{c.category}」"
                     f"の資格がない（資格のある業種: {'、'.join(held) or 'なし'}）")
            return
        periods = "、".join(f"{e.start:%Y-%m-%d}〜{e.end:%Y-%m-%d}（{e.source.label}）"
                           for e in past)
        when = "失効後" if all(e.end < c.day for e in past) else (
            "有効期間前" if all(e.start > c.day for e in past) else "有効期間の間")
        self.add("qualification_lapsed", c, f"契約日 {c.day:%Y-%m-%d} は業種「{c.category}」"
                 f"の資格の有効期間外（{when}）。有効期間: {periods}")

    def suspended(self, c: Contract, number: str | None) -> None:
        if c.day is None:
            return
        hits = [x for x in self.by_number.get(number, ()) if x.covers(c.day)] if number else []
        by_name = self.by_name if number else self.all_suspensions  # vendor unknown: by name
        if by_name:
            names = [n for n in (c.vendor_name, *(self.q.names(number) if number else [])) if n]
            hits += [x for x in by_name if x.covers(c.day)
                     and any(same_company(x.vendor_name, n) for n in names)]
        once = {(x.start, x.end, x.corporate_number or company_key(x.vendor_name)): x
                for x in hits}  # the same suspension from two lists counts once
        for x in once.values():
            why = f"、理由: {x.reason}" if x.reason else ""
            self.add("suspended", c, f"契約日 {c.day:%Y-%m-%d} は指名停止期間 "
                     f"{x.start:%Y-%m-%d}〜{x.end:%Y-%m-%d} の中（{x.vendor_name}{why}；"
                     f"{x.source}）")

    def dates(self, c: Contract) -> None:
        if c.period_from and c.period_to and c.period_to < c.period_from:
            self.add("date_order", c, f"履行期間の終期 {c.period_to:%Y-%m-%d} が始期 "
                     f"{c.period_from:%Y-%m-%d} より前")
        elif c.day and c.period_to and c.day > c.period_to:
            self.add("date_order", c, f"契約日 {c.day:%Y-%m-%d} が履行期間の終期 "
                     f"{c.period_to:%Y-%m-%d} より後")

    def limit(self, c: Contract) -> None:
        cls = self.s.categories.get(c.category)
        if c.method != "negotiated" or c.day is None or cls is None:
            return
        amount = self.limits.compared(c.amount, c.estimated_price)
        lim = self.limits.limit(cls, c.day)
        if amount is None or lim is None or amount <= lim.amount:
            return
        basis = (self.limits.basis_ja() if c.estimated_price or
                 self.s.limit_amount == "contract_amount" else "契約金額（予定価格の記載なし）")
        self.add("negotiated_over_limit", c, f"{METHOD_JA['negotiated']}の{basis} "
                 f"{amount:,}円 が、契約日 {c.day:%Y-%m-%d} の{lim.describe_ja()}を "
                 f"{amount - lim.amount:,}円 超える")

    def bid_ratio(self, c: Contract) -> None:
        if c.method not in self.s.bid_ratio_methods or not c.amount or not c.estimated_price:
            return
        ratio = Fraction(c.amount, c.estimated_price)
        low, high = Fraction(str(self.s.bid_ratio_min)), Fraction(str(self.s.bid_ratio_max))
        if low <= ratio <= high:
            return
        over = ratio > high
        self.add("bid_ratio", c, f"契約金額 {_yen(c.amount)} ÷ 予定価格 "
                 f"{_yen(c.estimated_price)} = {float(ratio):.1%}（範囲 "
                 f"{float(low):.1%}〜{float(high):.1%}）"
                 + ("：予定価格を超えている" if ratio > 1 else ""),
                 severity="高" if over else None)

    def duplicates(self, contracts: Sequence[Contract]) -> None:
        groups: dict[str, list[Contract]] = defaultdict(list)
        for c in contracts:
            if c.key:
                groups[c.key].append(c)
        for rows in groups.values():
            if len(rows) < 2:
                continue
            for c in rows:
                others = [o for o in rows if o is not c]
                self.add("duplicate_number", c, f"契約番号「{c.number}」が台帳に {len(rows)} 件"
                         f"（ほかに {'、'.join(o.where for o in others)}）",
                         [o.where for o in others])

    def splits(self, contracts: Sequence[Contract]) -> None:
        for g in find_split_orders(contracts, self.s, self.limits, self.vendor_key):
            first, last = g.members[0], g.members[-1]
            parts = "、".join(f"{m.number}（{m.day:%m/%d} {a:,}円）"
                              for m, a in zip(g.members, g.amounts, strict=True))
            self.add("split_order", first, f"同じ業者（{first.vendor_name}、法人番号 {g.vendor}）"
                     f"の類似した件名の随意契約 {len(g.members)} 件（{first.day:%Y-%m-%d}〜"
                     f"{last.day:%Y-%m-%d}、{self.s.split_window_days}日以内）は、個々には限度額"
                     f"以下だが合計 {g.total:,}円 が{g.limit.describe_ja()}を超える："
                     f"{parts}", [m.number for m in g.members[1:]])


def check_register(contracts: Sequence[Contract], qlist: QualifiedList,
                   suspensions: Sequence[Suspension], settings: ContractsSettings,
                   limits: LimitBook | None = None) -> list[Finding]:
    """Every finding of every rule on ``contracts``, in register order within each rule."""
    ck = _Checker(settings, qlist, suspensions, limits or LimitBook(settings))
    for c in contracts:
        if c.problems:
            ck.add("register_data", c, "／".join(c.problems))
        number = ck.number_and_name(c) if (c.corporate_number or c.vendor_name) else None
        ck.qualification(c, number)
        ck.suspended(c, number)
        ck.dates(c)
        ck.limit(c)
        ck.bid_ratio(c)
    ck.duplicates(contracts)
    ck.splits(contracts)
    order = {r: i for i, r in enumerate(RULES)}
    return sorted(ck.findings, key=lambda f: order[f.rule])
