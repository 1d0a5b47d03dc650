"""Contract rules on hand-made cases: names, check digits, limits by date, boundaries, splits.

Every case is built here, value by value, so that each assertion states the rule's wording:
an amount exactly at the limit is allowed (施行令: "超えない"), the limit is the one in force
on the contract date, a split order is a group within the window whose sum passes it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from ocr.checkdigits import corporate_number_check_digit
from scenarios.contracts.applications import check_application, fiscal_years, town_grades
from scenarios.contracts.checks import check_register
from scenarios.contracts.limits import LimitBook
from scenarios.contracts.register import Contract, Suspension
from scenarios.contracts.registry import QualifiedList, Source
from scenarios.contracts.settings import ContractsSettings
from scenarios.contracts.split import subject_key

SETTINGS = ContractsSettings()
A = "7123456789012"  # the GUIDE's valid corporate number
B = f"{corporate_number_check_digit('210001013440')}210001013440"


def _qlist() -> QualifiedList:
    q = QualifiedList()
    for number, name in ((A, "株式会社髙橋建設"), (B, "美里物産有限会社")):
        src = Source(f"s-{number}", "前回名簿", number, {"name": name})
        for cat in ("土木一式", "物品", "役務"):
            q.add_line(src, cat, "B", date(2023, 4, 1), date(2027, 3, 31))
    return q


def _c(n: str = "C-1", *, day: date = date(2025, 6, 2), method: str = "general",
       category: str = "土木一式", vendor: str = "(株)高橋建設", corp: str = A,
       amount: int | None = 9_000_000, est: int | None = 10_000_000, subject: str = "道路工事",
       period: tuple[date, date] | None = None) -> Contract:
    start, end = period or (day + timedelta(days=3), day + timedelta(days=90))
    return Contract("r.csv", 2, n, n, day, subject, method, category, vendor, corp, amount, est,
                    start, end, "建設課")


def _rules(contracts: list[Contract], susp: list[Suspension] | None = None,
           settings: ContractsSettings = SETTINGS) -> list[tuple[str, str]]:
    return sorted((f.rule, f.contract.number)
                  for f in check_register(contracts, _qlist(), susp or [], settings))


# -- applications: check digit and the rest ---------------------------------------------------

def _app(**kw: str) -> dict[str, str]:
    v = {"corporate_number": A, "name": "株式会社髙橋建設", "representative_name": "髙橋　一郎",
         "address": "熊本県下益城郡美里町馬場888", "phone": "0964-46-1111",
         "categories": "土木一式:A;物品:", "valid_from": "2025-04-01", "valid_to": "2027-03-31",
         "application_date": "2025-02-10", "permit_number": "熊本県知事許可(般-5)第1234号",
         "permit_expiry": "2028-05-31", "permit_trades": "土・ほ", "keishin_date": "2024-06-30",
         "keishin_points": "土木一式:812", "tax_certificate_date": "2025-01-20",
         "attachments": "納税証明書・誓約書・建設業許可通知書の写し・経営事項審査結果通知書の写し"}
    v.update(kw)
    return v


def test_a_clean_application_passes() -> None:
    assert check_application(_app(), SETTINGS, date(2026, 10, 1)) == []


@pytest.mark.parametrize(("change", "field", "why"), [
    ({"corporate_number": "8123456789012"}, "corporate_number", "チェックディジット"),
    ({"corporate_number": "712345678901"}, "corporate_number", "13桁"),
    ({"representative_name": ""}, "representative_name", "空欄"),
    ({"keishin_points": ""}, "keishin_points", "総合評定値がない"),
    ({"categories": "造園:"}, "categories", "不明な業種"),
    ({"valid_to": "2025-03-31"}, "valid_to", "始まりより前"),
    ({"phone": ""}, "phone", "メールアドレスもない"),
    ({"application_date": "2026-10-02", "keishin_date": "2025-06-30",
      "tax_certificate_date": "2026-09-20"}, "application_date", "未来"),
    ({"permit_number": ""}, "permit_number", "許可番号がない"),
    ({"permit_number": "熊本県許可第1234号"}, "permit_number", "の形ではない"),
    ({"permit_expiry": "2025-02-09"}, "permit_expiry", "満了"),  # the day before applying
    ({"permit_trades": "ほ"}, "permit_trades", "「土」がない"),
    ({"keishin_date": "2023-07-09"}, "keishin_date", "1年7か月"),  # 2025-02-09 was the last day
    ({"tax_certificate_date": "2024-11-11"}, "tax_certificate_date", "90日前"),  # 91 days
    ({"tax_certificate_date": "2025-02-11"}, "tax_certificate_date", "90日前"),  # after applying
    ({"attachments": "納税証明書・建設業許可通知書の写し・経営事項審査結果通知書の写し"},
     "attachments", "誓約書"),
])
def test_each_application_mistake_is_named(change: dict[str, str], field: str, why: str) -> None:
    problems = check_application(_app(**change), SETTINGS, date(2026, 10, 1))
    assert [f for f, _ in problems] == [field] and why in problems[0][1]


@pytest.mark.parametrize("change", [
    {"permit_expiry": "2025-02-10"},                  # expires on the day of the application
    {"keishin_date": "2023-07-10"},                   # 1 year 7 months end on 2025-02-10
    {"tax_certificate_date": "2024-11-12"},           # 90 days before
    {"tax_certificate_date": "2025-02-10"},
    {"permit_number": "国土交通大臣 許可（特－12）第123456号"},
])
def test_application_boundaries_that_pass(change: dict[str, str]) -> None:
    assert check_application(_app(**change), SETTINGS, date(2026, 10, 1)) == []


@pytest.mark.parametrize(("points", "grade"), [("800", "A"), ("799", "B"), ("700", "B"),
                                               ("699", "C"), ("600", "C"), ("599", "D")])
def test_the_town_grades_from_points_not_from_the_grade_asked(points: str, grade: str) -> None:
    values = _app(categories="土木一式:A;物品:", keishin_points=f"土木一式:{points}")
    assert town_grades(values, SETTINGS) == (("土木一式", grade), ("物品", ""))


def test_a_sole_proprietor_applies_without_any_number() -> None:
    sole = _app(applicant_type="個人", corporate_number="", name="美里　花子",
                trade_name="美里左官", representative_name="", categories="物品:",
                keishin_points="", attachments="納税証明書・誓約書")
    assert check_application(sole, SETTINGS, date(2026, 10, 1)) == []
    with_number = check_application({**sole, "corporate_number": "123456789018"}, SETTINGS,
                                    date(2026, 10, 1))
    assert [f for f, _ in with_number] == ["corporate_number"]
    assert "個人番号は収集しない" in with_number[0][1]


@pytest.mark.parametrize(("text", "period"), [
    ("令和7・8年度", ("2025-04-01", "2027-03-31")),
    ("R7-R8", ("2025-04-01", "2027-03-31")),
    ("2025・2026年度", ("2025-04-01", "2027-03-31")),
    ("令和８年度", ("2026-04-01", "2027-03-31")),
])
def test_fiscal_years_give_the_period(text: str, period: tuple[str, str]) -> None:
    assert fiscal_years(text) == period


# -- limits: the date of the revision, the boundary, the basis --------------------------------

@pytest.mark.parametrize(("cls", "before", "after"), [
    ("works", 1_300_000, 2_000_000), ("purchases", 800_000, 1_500_000),
    ("leases", 400_000, 800_000), ("sales", 300_000, 500_000), ("lending", 300_000, 300_000),
    ("others", 500_000, 1_000_000)])
def test_statutory_limits_change_on_2025_04_01(cls: str, before: int, after: int) -> None:
    book = LimitBook(SETTINGS)
    assert book.limit(cls, date(2025, 3, 31)).amount == before  # type: ignore[union-attr]
    assert book.limit(cls, date(2025, 4, 1)).amount == after  # type: ignore[union-attr]


@pytest.mark.parametrize(("day", "est", "found"), [
    (date(2025, 3, 31), 1_300_000, False),  # exactly at the limit: "does not exceed"
    (date(2025, 3, 31), 1_300_001, True),
    (date(2025, 3, 31), 1_500_000, True),
    (date(2025, 4, 1), 1_500_000, False),  # the same price is allowed from the revision on
    (date(2025, 4, 1), 2_000_000, False),
    (date(2025, 4, 1), 2_000_001, True),
])
def test_negotiated_limit_by_contract_date(day: date, est: int, found: bool) -> None:
    c = _c(day=day, method="negotiated", amount=est, est=est)
    assert (("negotiated_over_limit", "C-1") in _rules([c])) is found


def test_competitive_and_other_negotiated_contracts_have_no_limit() -> None:
    assert _rules([_c(method="general", amount=9_000_000, est=10_000_000),
                   _c("C-2", method="negotiated_other", amount=5_000_000, est=5_000_000)]) == []


def test_tax_basis_is_configurable() -> None:
    c = _c(day=date(2025, 6, 2), method="negotiated", amount=2_150_000, est=2_150_000)
    assert _rules([c]) == [("negotiated_over_limit", "C-1")]
    excluded = ContractsSettings(limit_tax="excluded")  # 2,150,000 / 1.1 = 1,954,545
    assert _rules([c], settings=excluded) == []


def test_town_limits_are_lower_from_their_own_date() -> None:
    town = ContractsSettings(limits=(*SETTINGS.limits, {
        "kind": "town", "title": "美里町契約規則", "from": date(2025, 10, 1), "works": 1_500_000}))
    c1 = _c(day=date(2025, 9, 30), method="negotiated", amount=1_800_000, est=1_800_000)
    c2 = _c("C-2", day=date(2025, 10, 1), method="negotiated", amount=1_800_000, est=1_800_000,
            subject="別の件名")
    assert _rules([c1, c2], settings=town) == [("negotiated_over_limit", "C-2")]
    with pytest.raises(ValidationError, match="above the statutory"):
        ContractsSettings(limits=(*SETTINGS.limits, {"kind": "town", "title": "x",
                                                     "from": date(2025, 10, 1),
                                                     "works": 2_500_000}))
    with pytest.raises(ValidationError, match="lacks"):
        ContractsSettings(limits=({"kind": "statutory", "title": "x", "works": 1},))


# -- split orders -----------------------------------------------------------------------------

def _pieces(days: list[int], amounts: list[int], subjects: list[str] | None = None
            ) -> list[Contract]:
    base = date(2025, 5, 1)
    subjects = subjects or [f"防災備蓄品購入（その{i}）" for i in range(1, len(days) + 1)]
    return [_c(f"S-{i}", day=base + timedelta(days=d), method="negotiated", category="物品",
               amount=a, est=a, subject=s)
            for i, (d, a, s) in enumerate(zip(days, amounts, subjects, strict=True))]


def test_split_order_within_the_window_is_one_finding() -> None:
    findings = check_register(_pieces([0, 10, 30], [700_000, 600_000, 500_000]), _qlist(), [],
                              SETTINGS)
    (f,) = findings
    assert (f.rule, f.contract.number, f.related) == ("split_order", "S-0", ("S-1", "S-2"))
    assert "1,800,000円" in f.evidence and "1,500,000円" in f.evidence


def test_split_order_needs_the_window_similarity_and_a_sum_above_the_limit() -> None:
    assert _rules(_pieces([0, 31], [900_000, 900_000])) == []  # 31 days apart
    assert _rules(_pieces([0, 5], [700_000, 700_000])) == []  # 1,400,000 ≤ 1,500,000
    assert _rules(_pieces([0, 5], [900_000, 900_000], ["防災備蓄品購入", "公用車購入"])) == []
    over = _pieces([0, 5], [1_600_000, 900_000])  # one piece alone is over: not a split
    assert _rules(over) == [("negotiated_over_limit", "S-0")]
    assert ContractsSettings(split_window_days=40) and _rules(
        _pieces([0, 31], [900_000, 900_000]), settings=ContractsSettings(split_window_days=40)
    ) == [("split_order", "S-0")]


def test_subject_key_ignores_series_numbers() -> None:
    assert subject_key("道路補修工事（その１）") == subject_key("道路補修工事 第2回")
    assert subject_key("道路補修工事 第2回") == "道路補修工事"


# -- the other rules, one line each -----------------------------------------------------------

@pytest.mark.parametrize(("category", "floor"), [("土木一式", 7_500_000),  # works: 75 %
                                                ("役務", 6_000_000),      # others: 60 %
                                                ("物品", 7_000_000)])     # bid_ratio_min
def test_bid_ratio_floor_per_class_and_bounds_are_inclusive(category: str, floor: int) -> None:
    """Bid-ratio floors per 契約種別; at the floor and at 100 % is clean."""
    assert _rules([_c(amount=floor, est=10_000_000, category=category),
                   _c("C-2", amount=10_000_000, est=10_000_000, category=category)]) == []
    got = check_register([_c(amount=floor - 1, est=10_000_000, category=category),
                          _c("C-2", amount=10_000_001, est=10_000_000, category=category)],
                         _qlist(), [], SETTINGS)
    assert [(f.rule, f.severity) for f in got] == [("bid_ratio", "中"), ("bid_ratio", "高")]


def test_qualification_suspension_numbers_names_dates_duplicates() -> None:
    other = f"{corporate_number_check_digit('210001013441')}210001013441"
    cases = [
        _c("Q-1", category="舗装"),  # qualified, but not for 舗装
        _c("Q-2", day=date(2027, 4, 1)),  # after the qualification lapsed
        _c("Q-3", corp=other, vendor="株式会社どこか"),  # never on the list
        _c("Q-4", corp="8123456789012"),  # check digit wrong, name finds the vendor
        _c("Q-5", vendor="美里物産(有)"),  # the name of another number
        _c("Q-6", day=date(2025, 7, 1)),  # first day of a suspension
        _c("Q-7", day=date(2025, 7, 31)),  # last day
        _c("Q-8", day=date(2025, 8, 1)),  # the day after: clean
        _c("Q-9", period=(date(2025, 9, 1), date(2025, 8, 1))),
        _c("Q-9"),
    ]
    susp = [Suspension("", "㈱髙橋建設", date(2025, 7, 1), date(2025, 7, 31), "談合", "x")]
    assert _rules(cases, susp) == sorted([
        ("not_qualified", "Q-1"), ("qualification_lapsed", "Q-2"), ("not_qualified", "Q-3"),
        ("invalid_corporate_number", "Q-4"), ("name_mismatch", "Q-5"), ("suspended", "Q-6"),
        ("suspended", "Q-7"), ("date_order", "Q-9"), ("duplicate_number", "Q-9"),
        ("duplicate_number", "Q-9")])


def test_unreadable_register_rows_are_reported_not_guessed() -> None:
    c = Contract("r.csv", 5, "X-1", "X1", None, "件名", "?", "その他", "", "", None, None, None,
                 None, "", ("契約日が読めない（空欄）",))
    (f,) = check_register([c], _qlist(), [], SETTINGS)
    assert f.rule == "register_data" and f.severity == "低" and "契約日" in f.evidence


def test_the_shipped_config_states_the_defaults() -> None:
    """config.toml documents every key with the values the code uses when it is absent."""
    from pathlib import Path

    from robots.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[1] / "config.toml")
    shipped = ContractsSettings.model_validate(cfg.scenarios["contracts"])
    assert shipped.model_dump(exclude={"contract_register"}) == SETTINGS.model_dump(
        exclude={"contract_register"})


def test_a_suspension_received_twice_counts_once() -> None:
    twice = [Suspension(A, "株式会社髙橋建設", date(2025, 7, 1), date(2025, 7, 31), "", "list"),
             Suspension(A, "(株)高橋建設", date(2025, 7, 1), date(2025, 7, 31), "", "inbox"),
             Suspension("", "ｶ)ﾀｶﾊｼｹﾝｾﾂ", date(2025, 7, 1), date(2025, 7, 31), "", "x")]
    assert _rules([_c(day=date(2025, 7, 10))], twice[:2]) == [("suspended", "C-1")]
    # a number that fails its check digit: the vendor is found by name, and so is the listing
    assert _rules([_c(day=date(2025, 7, 10), corp="8123456789012")], twice[:1]) == [
        ("invalid_corporate_number", "C-1"), ("suspended", "C-1")]
