"""The rules on a contract's amounts: each a pure function of one register row and the settings.

Every function returns ``(rule, evidence, severity or None)`` tuples — none when the row is
fine or the register does not give what the rule needs (a rule never guesses a missing
value, except where the law makes the blank itself the finding: a contract that needs the
council's resolution with no 議決日, a guarantee column left empty). Amounts are integer yen
and compared exactly; each boundary is the one the text states:

- 最低制限価格 (施行令第167条の10第2項): an offer *at* the minimum price is valid, below it not;
- 調査基準価格 (第167条の10第1項): below it, a 低入札価格調査 must be on record;
- 随意契約 within the 予定価格 (第167条の2第2項, the town's 契約規則): above it, a finding;
- quotes (the town's 契約規則): at least ``min_quotes`` unless the 予定価格 is at or below
  ``single_quote_up_to``;
- 契約保証金 (第167条の16, 規則): at least ``guarantee_rate`` of the contract amount, rounded
  up to the yen, or an exemption reason;
- 前払金 (施行規則附則第3条第1項): at most 4/10 of the contract amount of works;
- 議会の議決 (地方自治法第96条第1項第5号・第8号, 施行令第121条の2, 別表第3・第4): an estimated
  price at or above the threshold ("下らない") needs a 議決日, on or before 契約締結日;
- 落札率 (``bid_ratio``): inside [floor of the class, ``bid_ratio_max``], both ends allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from scenarios.contracts.register import Contract
from scenarios.contracts.settings import CLASS_JA, ContractsSettings

__all__ = ["MoneyFinding", "money_findings"]

MoneyFinding = tuple[str, str, str | None]


def _yen(n: int | None) -> str:
    return "（不明）" if n is None else f"{n:,}円"


def _ratio(s: ContractsSettings, c: Contract, cls: str | None) -> Iterator[MoneyFinding]:
    if c.method not in s.bid_ratio_methods or not c.amount or not c.estimated_price:
        return
    ratio = Fraction(c.amount, c.estimated_price)
    floor = s.bid_ratio_floors.get(cls, s.bid_ratio_min) if cls else s.bid_ratio_min
    low, high = Fraction(str(floor)), Fraction(str(s.bid_ratio_max))
    if low <= ratio <= high:
        return
    kind = f"{CLASS_JA[cls]}の" if cls in s.bid_ratio_floors else ""
    yield ("bid_ratio", f"契約金額 {_yen(c.amount)} ÷ 予定価格 {_yen(c.estimated_price)} = "
           f"{float(ratio):.1%}（{kind}範囲 {float(low):.1%}〜{float(high):.1%}）"
           + ("：予定価格を超えている" if ratio > 1 else ""), "高" if ratio > high else None)


def _low_bids(c: Contract) -> Iterator[MoneyFinding]:
    if c.method not in ("general", "designated") or c.amount is None:
        return
    if c.minimum_price is not None and c.amount < c.minimum_price:
        yield ("below_minimum_price", f"契約金額 {_yen(c.amount)} が最低制限価格 "
               f"{_yen(c.minimum_price)} を {c.minimum_price - c.amount:,}円 下回る", None)
    elif c.survey_price is not None and c.amount < c.survey_price and c.surveyed is None:
        yield ("low_bid_unsurveyed", f"契約金額 {_yen(c.amount)} が調査基準価格 "
               f"{_yen(c.survey_price)} を下回るが、低入札価格調査を行った日の記載がない", None)


def _negotiated(s: ContractsSettings, c: Contract) -> Iterator[MoneyFinding]:
    if c.method not in ("negotiated", "negotiated_other"):
        return
    if c.amount is not None and c.estimated_price and c.amount > c.estimated_price:
        yield ("negotiated_over_estimate", f"随意契約の契約金額 {_yen(c.amount)} が予定価格 "
               f"{_yen(c.estimated_price)} を {c.amount - c.estimated_price:,}円 超える", None)
    base = c.estimated_price or c.amount
    if (c.method == "negotiated" and c.quotes is not None and c.quotes < s.min_quotes
            and base is not None and base > s.single_quote_up_to):
        yield ("negotiated_quotes", f"見積書を徴した者 {c.quotes}者（規則では {s.min_quotes}者"
               f"以上。予定価格 {_yen(base)} は一者でよい額 {_yen(s.single_quote_up_to)} "
               "を超える）", None)


def _guarantee(s: ContractsSettings, c: Contract) -> Iterator[MoneyFinding]:
    if (c.method not in s.guarantee_methods or c.amount is None or c.guarantee_exemption
            or not {"guarantee", "guarantee_exemption"} & c.mapped):
        return
    need = -(-Fraction(c.amount) * Fraction(str(s.guarantee_rate)) // 1)  # rounded up
    if c.guarantee is None:
        yield ("guarantee_missing", f"契約保証金も免除の理由も記載がない（契約金額 "
               f"{_yen(c.amount)} の {s.guarantee_rate:.0%} は {int(need):,}円）", None)
    elif c.guarantee < need:
        yield ("guarantee_missing", f"契約保証金 {_yen(c.guarantee)} が契約金額 {_yen(c.amount)} "
               f"の {s.guarantee_rate:.0%}（{int(need):,}円）に満たず、免除の理由の記載もない",
               None)


def _advance(s: ContractsSettings, c: Contract, cls: str | None) -> Iterator[MoneyFinding]:
    if cls not in s.advance_classes or c.advance is None or not c.amount:
        return
    if Fraction(c.advance, c.amount) > Fraction(str(s.advance_max_ratio)):
        top = int(Fraction(c.amount) * Fraction(str(s.advance_max_ratio)))
        yield ("advance_over_limit", f"前払金 {_yen(c.advance)} が契約金額 {_yen(c.amount)} の "
               f"{s.advance_max_ratio:.0%}（{top:,}円）を超える", None)


def _council(s: ContractsSettings, c: Contract, cls: str | None) -> Iterator[MoneyFinding]:
    if "council_date" not in c.mapped or cls is None:
        return
    price = c.estimated_price or c.amount
    for t in s.council:
        if cls not in t.classes or price is None or price < t.amount:
            continue
        if c.council is None:
            yield ("council_missing", f"予定価格 {_yen(price)} は{t.title}の {t.amount:,}円 以上"
                   "で議会の議決が必要だが、議決日の記載がない", None)
        elif c.day is not None and c.council > c.day:
            yield ("council_missing", f"議決日 {c.council:%Y-%m-%d} が契約締結日 "
                   f"{c.day:%Y-%m-%d} より後（予定価格 {_yen(price)}、{t.title}）", None)
        return


def money_findings(c: Contract, s: ContractsSettings) -> list[MoneyFinding]:
    """Every amount rule ``c`` breaks (see the module docstring)."""
    cls = s.categories.get(c.category)
    return [*_ratio(s, c, cls), *_low_bids(c), *_negotiated(s, c), *_guarantee(s, c),
            *_advance(s, c, cls), *_council(s, c, cls)]
