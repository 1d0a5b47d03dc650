"""The register rules a 契約担当 relies on, each at its boundary and one yen (or day) around it.

Cases are built value by value so each assertion states the text it implements: an offer
*at* the minimum price is valid (施行令第167条の10第2項), a price *at* the council threshold
needs the resolution ("下らない"), 4/10 of the amount is the most a works advance may be,
the limit of a negotiated contract follows the day the offer was invited (令和7年政令第94号
附則), a vendor's standing is judged on the day it took part.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from scenarios.contracts.checks import check_register
from scenarios.contracts.register import Contract, Suspension
from scenarios.contracts.registry import QualifiedList, Source, sole_proprietor_id
from scenarios.contracts.settings import ContractsSettings

S = ContractsSettings()
A = "7123456789012"  # the GUIDE's valid corporate number
B = "2210001013440"
SOLE = sole_proprietor_id("美里左官", "熊本県下益城郡美里町馬場1")


def _qlist() -> QualifiedList:
    q = QualifiedList()
    for number, name, grade in ((A, "株式会社朝凪建設", "B"), (B, "白樫商事有限会社", "C"),
                                (SOLE, "美里左官", "D")):
        src = Source(f"s-{number}", "前回名簿", number, {"name": name})
        for cat in ("土木一式", "物品", "役務"):
            q.add_line(src, cat, grade if cat == "土木一式" else "", date(2024, 4, 1),
                       date(2027, 3, 31))
    return q


def _c(n: str = "C-1", *, day: date = date(2025, 6, 2), method: str = "general",
       category: str = "土木一式", vendor: str = "株式会社朝凪建設", corp: str = A,
       amount: int | None = 9_000_000, est: int | None = 10_000_000, **more: object
       ) -> Contract:
    c = Contract("r.csv", 2, n, n, day, "町道馬場線 道路改良工事", method, category, vendor, corp,
                 amount, est, day + timedelta(days=3), day + timedelta(days=90), "建設課")
    return replace(c, **more)  # type: ignore[arg-type]


def _found(*contracts: Contract, susp: list[Suspension] | None = None,
           settings: ContractsSettings = S) -> list[tuple[str, str]]:
    return sorted((f.rule, f.contract.number)
                  for f in check_register(list(contracts), _qlist(), susp or [], settings))


def test_minimum_price_at_is_valid_below_is_not() -> None:
    assert _found(_c(minimum_price=9_000_000)) == []
    assert _found(_c(minimum_price=9_000_001)) == [("below_minimum_price", "C-1")]


def test_low_bid_needs_a_survey_below_the_survey_price() -> None:
    assert _found(_c(survey_price=9_000_000)) == []
    assert _found(_c(survey_price=9_000_001)) == [("low_bid_unsurveyed", "C-1")]
    assert _found(_c(survey_price=9_000_001, surveyed=date(2025, 5, 30))) == []


def test_negotiated_contract_within_its_estimated_price() -> None:
    small = {"method": "negotiated", "category": "物品", "corp": B, "vendor": "白樫商事(有)"}
    assert _found(_c(amount=500_000, est=500_000, **small)) == []
    assert _found(_c(amount=500_001, est=500_000, **small)) == [
        ("negotiated_over_estimate", "C-1")]


@pytest.mark.parametrize(("est", "quotes", "found"), [
    (100_000, 1, False),   # one quote is enough up to single_quote_up_to
    (100_001, 1, True),
    (100_001, 2, False),
    (100_001, None, False),  # the register does not say: not guessed
])
def test_quotes_of_small_negotiated_contracts(est: int, quotes: int | None, found: bool) -> None:
    c = _c(method="negotiated", category="物品", corp=B, vendor="白樫商事(有)", amount=est,
           est=est, quotes=quotes)
    assert _found(c) == ([("negotiated_quotes", "C-1")] if found else [])


def test_guarantee_rate_exemption_and_blank() -> None:
    given = frozenset({"guarantee", "guarantee_exemption"})
    assert _found(_c(guarantee=900_000, mapped=given)) == []
    assert _found(_c(amount=9_000_005, guarantee=900_001, mapped=given)) == []  # rounded up
    assert _found(_c(amount=9_000_005, guarantee=900_000, mapped=given)) == [
        ("guarantee_missing", "C-1")]
    assert _found(_c(guarantee=None, mapped=given)) == [("guarantee_missing", "C-1")]
    assert _found(_c(guarantee_exemption="履行保証保険", mapped=given)) == []
    assert _found(_c()) == []  # a register without the columns: the rule cannot be checked


def test_works_advance_at_most_four_tenths() -> None:
    assert _found(_c(advance=3_600_000)) == []
    assert _found(_c(advance=3_600_001)) == [("advance_over_limit", "C-1")]
    assert _found(_c(category="物品", corp=B, vendor="白樫商事(有)", advance=9_000_000)) == []


@pytest.mark.parametrize(("category", "est", "council", "found"), [
    ("土木一式", 49_999_999, None, False),
    ("土木一式", 50_000_000, None, True),            # 別表第3: "下らない" — at it needs one
    ("土木一式", 50_000_000, date(2025, 6, 2), False),
    ("土木一式", 50_000_000, date(2025, 6, 3), True),  # resolved after the contract
    ("物品", 6_999_999, None, False),
    ("物品", 7_000_000, None, True),                  # 別表第4 (動産の買入れ)
])
def test_council_resolution_thresholds(category: str, est: int, council: date | None,
                                       found: bool) -> None:
    c = _c(category=category, est=est, amount=est * 9 // 10, council=council,
           mapped=frozenset({"council_date"}), corp=B, vendor="白樫商事(有)")
    assert ("council_missing", "C-1") in _found(c) if found else \
        ("council_missing", "C-1") not in _found(c)


@pytest.mark.parametrize(("invited", "est", "found"), [
    (date(2025, 3, 31), 1_300_000, False),
    (date(2025, 3, 31), 1_300_001, True),   # invited under the old table, concluded under new
    (date(2025, 4, 1), 2_000_000, False),
    (None, 1_300_001, False),               # no invitation day: the contract day's table
])
def test_limit_follows_the_invitation_day(invited: date | None, est: int, found: bool) -> None:
    c = _c(day=date(2025, 4, 10), method="negotiated", amount=est, est=est, invited=invited,
           quotes=2)
    assert _found(c) == ([("negotiated_over_limit", "C-1")] if found else [])
    assert _found(c, settings=ContractsSettings(limit_date="contract")) == []


def test_suspension_and_qualification_on_the_days_that_matter() -> None:
    sus = [Suspension(A, "株式会社朝凪建設", date(2025, 5, 1), date(2025, 5, 31), "談合")]
    after = _c(day=date(2025, 6, 2))
    assert _found(after, susp=sus) == []
    assert _found(replace(after, bid_day=date(2025, 5, 31)), susp=sus) == [("suspended", "C-1")]
    assert _found(replace(after, invited=date(2025, 5, 1), bid_day=date(2025, 6, 1)),
                  susp=sus) == [("suspended", "C-1")]
    # took part before the qualification began, concluded after: judged on the bid day
    early = _c(day=date(2024, 4, 5), bid_day=date(2024, 3, 29))
    assert _found(early) == [("qualification_lapsed", "C-1")]


@pytest.mark.parametrize(("est", "found"), [(10_000_000, False), (9_999_999, True),
                                            (29_999_999, False), (30_000_000, True)])
def test_grade_and_order_standard(est: int, found: bool) -> None:
    c = _c(est=est, amount=est * 9 // 10)  # the vendor is grade B: 10,000,000 ≤ 予定価格 < 30M
    assert _found(c) == ([("grade_mismatch", "C-1")] if found else [])


def test_close_name_with_a_valid_number_is_a_reading_variant_not_a_mismatch() -> None:
    assert _found(_c(vendor="株式会社朝凪建没")) == [("name_reading", "C-1")]
    assert _found(_c(vendor="朝凪建設株式会社")) == [("name_mismatch", "C-1")]  # 後株
    assert _found(_c(vendor="白樫商事有限会社")) == [("name_mismatch", "C-1")]  # another's


def test_sole_proprietor_found_by_exact_name_without_a_number() -> None:
    assert _found(_c(corp="", vendor="美里左官", est=2_000_000, amount=1_800_000)) == []
    assert _found(_c(corp="", vendor="美里左宮", est=2_000_000, amount=1_800_000)) == [
        ("invalid_corporate_number", "C-1")]  # never found by a similar name


def test_split_across_vendors_is_a_candidate() -> None:
    def neg(n: str, day: date, corp: str, vendor: str, place: str = "美里町馬場地内") -> Contract:
        return _c(n, day=day, method="negotiated", amount=1_200_000, est=1_200_000, corp=corp,
                  vendor=vendor, location=place, quotes=2)

    a, b = neg("S-1", date(2025, 6, 2), A, "株式会社朝凪建設"), neg("S-2", date(2025, 7, 2), B,
                                                                  "白樫商事(有)")
    assert _found(a, b) == [("split_candidate", "S-1")]  # 30 days apart: within the window
    assert _found(a, replace(b, day=date(2025, 7, 3))) == []
    assert _found(a, replace(b, location="美里町砥用地内")) == []
    same = neg("S-2", date(2025, 6, 20), A, "株式会社朝凪建設")
    assert _found(a, same) == [("split_order", "S-1")]  # one vendor: the split-order rule
