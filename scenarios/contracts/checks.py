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
from datetime import date

from ocr.checkdigits import corporate_number_check_digit, is_valid_corporate_number
from robots.kit.companies import company_key, reading_variant, same_company
from scenarios.contracts.applications import add_months
from scenarios.contracts.limits import LimitBook
from scenarios.contracts.money import money_findings
from scenarios.contracts.register import Contract, Suspension
from scenarios.contracts.registry import QualifiedList, is_sole_proprietor
from scenarios.contracts.rules import RULES
from scenarios.contracts.settings import METHOD_JA, ContractsSettings
from scenarios.contracts.split import find_split_candidates, find_split_orders

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


def _on(c: Contract) -> str:
    """The day a vendor's standing is judged on, named (see ``Contract.participation_day``)."""
    label = "入札・見積日" if c.bid_day else "公告・指名・見積依頼日" if c.invited else "契約日"
    return f"{label} {c.participation_day:%Y-%m-%d}"


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
        if not n and is_sole_proprietor(self.vendor(c) or ""):
            return self.vendor(c)  # a 個人事業主 of the list: no corporate number, found by name
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
                close = [(score, m) for m in names if (score := reading_variant(
                    c.vendor_name, m, self.s.name_reading_similarity)) is not None]
                if close and not self.q.by_name(c.vendor_name):
                    score, m = max(close)
                    self.add("name_reading", c, f"契約の業者名「{c.vendor_name}」と名簿の法人番号 "
                             f"{n} の名称「{m}」は法人格とその位置が同じで類似度 {score:.0f}"
                             "（読取・入力の揺れの可能性。業者は法人番号で特定した）")
                    return n
                others = [o for o in self.q.by_name(c.vendor_name) if o != n]
                hint = f"。この名称は名簿では法人番号 {others[0]} の業者" if others else ""
                self.add("name_mismatch", c, f"契約の業者名「{c.vendor_name}」が、名簿の法人番号 "
                         f"{n} の名称「{'」「'.join(names)}」と一致しない{hint}")
        return n

    # -- the rules per contract --------------------------------------------------------------

    def qualification(self, c: Contract, number: str | None) -> None:
        s = self.s
        day = c.participation_day
        if (day is None or number is None or c.method not in s.qualification_methods
                or c.category not in s.categories or c.category in s.no_qualification):
            return
        if not self.q.known(number):
            self.add("not_qualified", c, f"法人番号 {number}（{c.vendor_name}）の業者は入札参加"
                     f"資格者名簿に登録されたことがない（業種「{c.category}」、{_on(c)}）")
            return
        entry = self.q.entry_on(number, c.category, day)
        if entry is not None:
            self.grade(c, entry.grade)
            self.keishin(c, number, day)
            return
        past = self.q.entries(number, c.category)
        if not past:
            held = sorted({e.category for e in self.q.entries(number)})
            self.add("not_qualified", c, f"名簿の業者（法人番号 {number}）に業種「{c.category}」"
                     f"の資格がない（資格のある業種: {'、'.join(held) or 'なし'}）")
            return
        periods = "、".join(f"{e.start:%Y-%m-%d}〜{e.end:%Y-%m-%d}（{e.source.label}）"
                           for e in past)
        when = "失効後" if all(e.end < day for e in past) else (
            "有効期間前" if all(e.start > day for e in past) else "有効期間の間")
        self.add("qualification_lapsed", c, f"{_on(c)} は業種「{c.category}」"
                 f"の資格の有効期間外（{when}）。有効期間: {periods}")

    def keishin(self, c: Contract, number: str, day: date) -> None:
        """keishin_expired: the 経審 on record older than 1 year 7 months on the day used."""
        least = self.s.keishin_from.get(c.category)
        if least is None or c.amount is None or c.amount < least:
            return
        base = self.q.keishin(number, day)
        if base is None:
            return  # no 経審 on record: not guessed
        until = add_months(base, self.s.keishin_valid_months)
        if day > until:
            self.add("keishin_expired", c, f"{_on(c)} は経審の審査基準日 {base:%Y-%m-%d} から"
                     f"1年7か月（{until:%Y-%m-%d}まで）を過ぎている（契約金額 {c.amount:,}円 の"
                     "工事には有効な経審が要る）")

    def grade(self, c: Contract, grade: str) -> None:
        """grade_mismatch: the estimated price outside the band of the vendor's grade."""
        bands = self.s.order_standard.get(c.category)
        price = c.estimated_price or c.amount
        if (not bands or grade not in bands or price is None
                or c.method not in self.s.order_standard_methods):
            return
        low = bands[grade]
        higher = [a for g, a in bands.items() if a > low]
        high = min(higher) if higher else None
        if price < low or (high is not None and price >= high):
            band = f"{low:,}円以上" + (f"{high:,}円未満" if high is not None else "")
            self.add("grade_mismatch", c, f"予定価格 {price:,}円 は業者の「{c.category}」の等級 "
                     f"{grade} の発注標準（{band}）の外")

    def suspended(self, c: Contract, number: str | None) -> None:
        days = c.days_that_matter
        if not days:
            return
        mine = list(self.by_number.get(number, ())) if number else []
        by_name = self.by_name if number else self.all_suspensions  # vendor unknown: by name
        if by_name:
            names = [n for n in (c.vendor_name, *(self.q.names(number) if number else [])) if n]
            mine += [x for x in by_name if any(same_company(x.vendor_name, n) for n in names)]
        once = {(x.start, x.end, x.corporate_number or company_key(x.vendor_name)): x
                for x in mine}  # the same suspension from two lists counts once
        for x in once.values():
            inside = [f"{label} {d:%Y-%m-%d}" for label, d in days if x.covers(d)]
            if not inside:
                continue
            why = f"、理由: {x.reason}" if x.reason else ""
            self.add("suspended", c, f"{'・'.join(inside)} が指名停止期間 "
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
        day = self.limits.decision_day(c)
        if c.method != "negotiated" or day is None or cls is None:
            return
        amount = self.limits.compared(c.amount, c.estimated_price)
        lim = self.limits.limit(cls, day)
        if amount is None or lim is None or amount <= lim.amount:
            return
        basis = (self.limits.basis_ja() if c.estimated_price or
                 self.s.limit_amount == "contract_amount" else "契約金額（予定価格の記載なし）")
        self.add("negotiated_over_limit", c, f"{METHOD_JA['negotiated']}の{basis} "
                 f"{amount:,}円 が、{self.limits.decision_ja(c)} {day:%Y-%m-%d} の"
                 f"{lim.describe_ja()}を {amount - lim.amount:,}円 超える")

    def money(self, c: Contract) -> None:
        for rule, evidence, severity in money_findings(c, self.s):
            self.add(rule, c, evidence, severity=severity)

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
        groups = [("split_order", g) for g in find_split_orders(
            contracts, self.s, self.limits, self.vendor_key)]
        if self.s.split_across_vendors:
            groups += [("split_candidate", g) for g in find_split_candidates(
                contracts, self.s, self.limits, self.vendor_key)]
        for rule, g in groups:
            first, last, n = g.members[0], g.members[-1], len(g.members)
            across = rule == "split_candidate"
            parts = "、".join(f"{m.number}（{m.day:%m/%d} {m.vendor_name + ' ' if across else ''}"
                              f"{a:,}円）" for m, a in zip(g.members, g.amounts, strict=True))
            span = (f"{first.day:%Y-%m-%d}〜{last.day:%Y-%m-%d}、{self.s.split_window_days}日"
                    "以内")
            who = (f"業種「{first.category}」・{g.vendor}の随意契約 {n} 件が"
                   f"{len({self.vendor_key(m) for m in g.members})}者と（{span}）、" if across
                   else f"同じ業者（{first.vendor_name}、法人番号 {g.vendor}）の類似した件名の"
                        f"随意契約 {n} 件（{span}）は、個々には限度額以下だが")
            ask = "（一つの発注を分けたものか確認してください）" if across else ""
            self.add(rule, first, f"{who}合計 {g.total:,}円 が{g.limit.describe_ja()}を超える"
                     f"{ask}：{parts}", [m.number for m in g.members[1:]])


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
        ck.money(c)
    ck.duplicates(contracts)
    ck.splits(contracts)
    order = {r: i for i, r in enumerate(RULES)}
    return sorted(ck.findings, key=lambda f: order[f.rule])
