"""A sample contract register with seeded violations of every rule, and its exact truth.

Clean contracts are made clean *by construction*, not by asking the checker: the vendor is
qualified for the category on the day it took part (入札・見積日) and not suspended on any
day of the contract (公告・指名・見積依頼, 入札・見積, 契約締結); estimated prices of negotiated
contracts are within the limit in force on the invitation day; competitive bids fall between
76 % and 98.5 % of the estimated price, at or above the minimum price (or surveyed when
below the survey price), within the band of the vendor's grade; guarantees, advances, quotes
and council resolutions are as the rules want; dates are in order; numbers are unique.
Split orders cannot happen by accident: negotiated contracts of one vendor and class, or of
one category and place, within the split window of each other never sum above the *lowest*
limit the class ever has (a contract may exceed that budget only when no other one of the
same key is within the window).

Each seeded violation starts from a clean contract and changes one thing, so it breaks its
rule only; the truth lists (rule, contract number[, the split group]). Boundary cases are
clean on purpose: an estimated price exactly at the limit (1,300,000 on 2025-03-31 and
2,000,000 on 2025-04-01 for works), bid ratios of exactly 70 % and 100 %, contracts the day
before and after a suspension. The truth holds for the default ``[scenarios.contracts]``.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from robots.samples.context import is_business_day
from robots.samples.sources import Corporation
from scenarios.contracts.limits import LimitBook
from scenarios.contracts.samples import SVendor, VendorWorld, name_variant
from scenarios.contracts.settings import ContractsSettings

__all__ = ["SEED_RATE", "Drawer", "RegisterWorld", "SContract", "SSuspension", "Seeded"]

START = dt.date(2024, 4, 1)  # the register runs from here to the day before the sample date
SEED_RATE = 0.006  # seeded violations per contract and rule
_PLACES = ("馬場", "砥用", "永富", "中郡", "早楠", "佐俣", "大井早", "畝野", "小筵", "石野", "萱野",
           "清水", "豊富", "原町")
_FACILITIES = ("役場本庁舎", "砥用庁舎", "中央公民館", "美里中学校", "砥用小学校",
               "文化交流センター", "町営住宅永富団地", "給食センター")
_SUBJECTS = {
    "土木一式": ("町道{p}線 {w}工事", ("道路改良", "側溝整備", "法面保護", "排水路改修",
                                       "橋梁補修")),
    "舗装": ("町道{p}線 舗装{w}工事", ("補修", "打換え", "新設")),
    "建築一式": ("{f} {w}工事", ("外壁改修", "屋上防水", "トイレ改修", "耐震補強")),
    "測量・建設コンサルタント": ("{p}地区 {w}業務委託",
                                 ("測量", "地質調査", "実施設計", "橋梁点検")),
    "物品": ("{w}購入", ("事務用パソコン", "公用車", "学校用机・椅子", "防災備蓄品", "除雪機",
                        "タブレット端末", "消防用ホース", "給食用食器")),
    "役務": ("{f} {w}業務", ("清掃", "警備", "草刈り", "設備保守点検", "植栽管理")),
    "賃貸借": ("{w}賃貸借", ("複合機", "公用車", "パソコン", "仮設トイレ")),
    "売払い": ("町有地（{p}地区）売払い", ("",)),
    "貸付け": ("{f}駐車場 貸付け", ("",)),
}
_DEPTS = {"土木一式": ("建設課", "農地整備課"), "舗装": ("建設課",), "建築一式": ("総務課",
          "教育委員会"), "測量・建設コンサルタント": ("建設課", "企画課"),
          "物品": ("総務課", "教育委員会", "健康福祉課"), "役務": ("総務課", "健康福祉課"),
          "賃貸借": ("総務課",), "売払い": ("財政課",), "貸付け": ("財政課",)}
_PRICE = {"土木一式": (3e6, 6e7), "舗装": (2e6, 3e7), "建築一式": (5e6, 8e7),
          "測量・建設コンサルタント": (2e6, 2e7), "物品": (1e6, 1.5e7), "役務": (1e6, 2e7),
          "賃貸借": (1e6, 1e7), "売払い": (1e6, 1e7), "貸付け": (1e6, 5e6)}
_NEGOTIATED = {"土木一式": 0.25, "舗装": 0.3, "建築一式": 0.15, "測量・建設コンサルタント": 0.45,
               "物品": 0.6, "役務": 0.55, "賃貸借": 0.6, "売払い": 0.5, "貸付け": 0.7}
#: Seeds about the vendor's standing set their own days (the others drop the invitation and bid
#: days when the vendor was not qualified or was suspended then).
_STANDING_RULES = ("not_qualified", "qualification_lapsed", "suspended")
_GRADE_BANDS = {"A": (30_000_000, 80_000_000), "B": (10_000_000, 29_999_000),
                "C": (3_000_000, 9_999_000), "D": (1_000_000, 2_999_000)}


@dataclass
class SContract:
    """One register row to be written, with what was done to it."""

    number: str
    day: dt.date
    subject: str
    method: str
    category: str
    vendor: str  # name as written
    corporate_number: str  # as written
    amount: int | str  # a str when written unreadable
    estimated: int | None
    period_from: dt.date
    period_to: dt.date
    department: str
    note: str = ""  # the seeded rule, or clean:<boundary>
    location: str = ""
    invited: dt.date | None = None
    bid_day: dt.date | None = None
    minimum_price: int | None = None
    survey_price: int | None = None
    surveyed: dt.date | None = None
    quotes: int | None = None
    guarantee: int | None = None
    guarantee_exemption: str = ""
    advance: int | None = None
    council: dt.date | None = None


@dataclass(frozen=True)
class Seeded:
    """One expected finding: its rule and contract number (the split group's first)."""

    rule: str
    number: str
    group: tuple[str, ...] = ()


@dataclass(frozen=True)
class SSuspension:
    """One suspension of the list to be written (``vendor``: who is suspended, truly)."""

    number: str  # "" when the list gives the name only
    name: str
    start: dt.date
    end: dt.date
    reason: str
    vendor: SVendor = field(compare=False, repr=False)


@dataclass
class RegisterWorld:
    """The register drawn, its truth and the suspension list."""

    contracts: list[SContract]
    truth: list[Seeded]
    suspensions: list[SSuspension]


class _Budget:
    """A vendor's negotiated contracts of one class: (day ordinal, compared amount)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.items: dict[tuple[str, ...], list[tuple[int, float]]] = {}

    def near(self, key: tuple[str, ...], day: dt.date) -> list[float]:
        items = self.items.get(key, [])
        lo = bisect.bisect_left(items, (day.toordinal() - self.window, -1.0))
        hi = bisect.bisect_right(items, (day.toordinal() + self.window, float("inf")))
        return [a for _d, a in items[lo:hi]]

    def fits(self, key: tuple[str, ...], day: dt.date, amount: float, lowest: int) -> bool:
        near = self.near(key, day)
        return not near or sum(near) + amount <= lowest

    def add(self, key: tuple[str, ...], day: dt.date, amount: float) -> None:
        bisect.insort(self.items.setdefault(key, []), (day.toordinal(), amount))


class Drawer:
    """Draws the register: clean contracts, and seeded ones through ``samples_seed``."""

    def __init__(self, world: VendorWorld, count: int, seed: int) -> None:
        self.rng = np.random.default_rng([seed, 702])
        self.world, self.count = world, count
        self.settings = ContractsSettings()
        self.limits = LimitBook(self.settings)
        self.budget = _Budget(self.settings.split_window_days)
        self.vendors = [v for v in world.vendors if v.quals and v.fate not in ("paper", "sole")]
        self.sole = [v for v in world.vendors if v.sole and v.quals]
        self.by_cat: dict[str, list[SVendor]] = {}
        for v in self.vendors:
            for c in {c for c, *_ in v.quals}:
                self.by_cat.setdefault(c, []).append(v)
        self.contracts: list[SContract] = []
        self.truth: list[Seeded] = []
        self.suspensions: list[SSuspension] = []
        self.seq = 0
        self.end = world.today - dt.timedelta(days=1)
        self.days = [d for d in (START + dt.timedelta(days=i)
                                 for i in range((self.end - START).days + 1))
                     if is_business_day(d)]

    # -- drawing helpers ---------------------------------------------------------------------

    def pick(self, seq: list | tuple):  # type: ignore[no-untyped-def]
        return seq[int(self.rng.integers(len(seq)))]

    def day(self, lo: dt.date = START, hi: dt.date | None = None) -> dt.date:
        hi = hi or self.end
        days = self.days[bisect.bisect_left(self.days, lo):bisect.bisect_right(self.days, hi)]
        return self.pick(days) if days else lo

    def suspended(self, v: SVendor, day: dt.date) -> bool:
        return any(s.vendor is v and s.start <= day <= s.end for s in self.suspensions)

    def vendor_for(self, category: str, day: dt.date) -> SVendor | None:
        pool = self.by_cat.get(category, [])
        for _ in range(40):
            if not pool:
                return None
            v = self.pick(pool)
            if (v.qualified(category, day) and not self.suspended(v, day)
                    and v.keishin_ok(category, day)):
                return v
        return None

    def number(self, day: dt.date) -> str:
        self.seq += 1
        return f"{day.year if day.month >= 4 else day.year - 1}-{self.seq:06d}"

    def subject(self, category: str) -> tuple[str, str]:
        """(subject, 工事・履行場所) of a new contract of ``category``."""
        pattern, works = _SUBJECTS[category]
        p, f = self.pick(_PLACES), self.pick(_FACILITIES)
        where = f"美里町{p}地内" if "{p}" in pattern else f  # goods: delivered to a facility
        return pattern.format(p=p, f=f, w=self.pick(works)), where

    def place_key(self, c: SContract) -> tuple[str, ...]:
        """The block of split candidates across vendors (every sample contract has a place)."""
        return ("place", c.category, c.location)

    def steps(self, day: dt.date, method: str) -> tuple[dt.date, dt.date]:
        """(公告・指名・見積依頼日, 入札・見積日) before ``day``."""
        if method in {"negotiated", "negotiated_other"}:
            invited = day - dt.timedelta(days=int(self.rng.integers(5, 20)))
            return invited, invited + dt.timedelta(days=int(self.rng.integers(2, 5)))
        invited = day - dt.timedelta(days=int(self.rng.integers(20, 45)))
        return invited, day - dt.timedelta(days=int(self.rng.integers(3, 10)))

    def grade(self, v: SVendor | Corporation, category: str, day: dt.date) -> str:
        if not isinstance(v, SVendor):
            return ""
        return next((g for c, g, s, e in v.quals if c == category and s <= day <= e), "")

    def price(self, category: str) -> int:
        lo, hi = _PRICE[category]
        return int(np.exp(self.rng.uniform(np.log(lo), np.log(hi))) // 1000 * 1000)

    def cls(self, category: str) -> str:
        return self.settings.categories[category]

    def make(self, day: dt.date, category: str, method: str, vendor: SVendor | Corporation,
             estimated: int, ratio: float, *, note: str = "", subject: str = "",
             invited: dt.date | None = None, steps: bool = True, location: str | None = None
             ) -> SContract:
        """One contract, clean in every way the other rules look at (see the module docstring).

        ``invited`` fixes the invitation day (the limit's day); ``steps=False`` leaves the
        invitation and bid days blank (the contract date is then the day of every rule).
        """
        corp = vendor.corp if isinstance(vendor, SVendor) else vendor
        name = name_variant(corp.name, self.rng) if self.rng.random() < 0.5 else corp.name
        number = "" if isinstance(vendor, SVendor) and vendor.sole else corp.number
        if number and self.rng.random() < 0.08:
            number = f"{number[0]}-{number[1:5]}-{number[5:9]}-{number[9:]}"
        start = day + dt.timedelta(days=int(self.rng.integers(1, 15)))
        amount = estimated if ratio >= 1 else int(estimated * ratio) // 1000 * 1000
        title, where = self.subject(category)
        c = SContract(self.number(day), day, subject or title, method, category,
                      name, number, amount, estimated, start,
                      start + dt.timedelta(days=int(self.rng.integers(10, 200))),
                      self.pick(_DEPTS[category]), note, where if location is None else location)
        if steps:
            c.invited, c.bid_day = self.steps(day, method)
            if invited is not None:
                c.invited = invited
                c.bid_day = max(c.bid_day, invited)  # type: ignore[type-var]
            if isinstance(vendor, SVendor) and note not in _STANDING_RULES and (
                    not vendor.qualified(category, c.bid_day)  # type: ignore[arg-type]
                    or any(self.suspended(vendor, x) for x in (c.invited, c.bid_day))):
                c.invited = c.bid_day = None
        self.money(c)
        self.contracts.append(c)
        return c

    def money(self, c: SContract) -> None:
        """Minimum / survey price, quotes, guarantee, advance, council as the amount wants.

        Called again by a seed that changed the amount.
        """
        cls, est, amount = self.cls(c.category), c.estimated, c.amount
        assert isinstance(amount, int) and est is not None
        c.minimum_price = c.survey_price = c.surveyed = c.quotes = c.guarantee = None
        c.advance, c.council, c.guarantee_exemption = None, None, ""
        if c.method in ("general", "designated"):
            c.guarantee = -(-amount // 10)
            if self.rng.random() < 0.2:
                c.guarantee, c.guarantee_exemption = None, "履行保証保険契約の締結"
            if cls == "works" and est >= 20_000_000:
                c.survey_price = est * 85 // 100
                if amount < c.survey_price:
                    c.surveyed = (c.bid_day or c.day) + dt.timedelta(days=2)
            elif cls == "works":
                c.minimum_price = min(amount, int(est * self.rng.uniform(0.75, 0.9)))
        elif c.method == "negotiated":
            small = est <= self.settings.single_quote_up_to
            c.quotes = 1 if small else int(self.rng.integers(2, 5))
        if cls == "works" and amount >= 1_300_000 and self.rng.random() < 0.5:
            c.advance = amount * 4 // 10 if self.rng.random() < 0.5 else amount * 3 // 10
        if any(cls in t.classes and est >= t.amount for t in self.settings.council):
            c.council = c.day - dt.timedelta(days=int(self.rng.integers(0, 10)))

    def competitive(self, day: dt.date, category: str, vendor: SVendor | Corporation, *,
                    note: str = "") -> SContract:
        method = "general" if self.rng.random() < 0.45 else "designated"
        grade = self.grade(vendor, category, day)
        steady = grade == self.grade(vendor, category, day - dt.timedelta(days=45))
        if grade in _GRADE_BANDS and category in self.settings.order_standard:
            lo, hi = _GRADE_BANDS[grade]
            price = int(self.rng.uniform(lo, hi)) // 1000 * 1000  # within the 発注標準
        else:
            price = self.price(category)
        return self.make(day, category, method, vendor, price,  # a grade changed: no steps
                         float(self.rng.uniform(0.76, 0.985)), note=note, steps=steady)

    def negotiated(self, day: dt.date, category: str, vendor: SVendor | Corporation,
                   estimated: int, *, note: str = "", invited: dt.date | None = None
                   ) -> SContract | None:
        """A negotiated contract within the budgets that keep split orders out, or None."""
        key = (vendor.number, self.cls(category))
        lowest = self.limits.lowest(key[1])
        if not self.budget.fits(key, day, estimated, lowest):
            return None
        c = self.make(day, category, "negotiated", vendor, estimated,
                      float(self.rng.uniform(0.85, 1.0)), note=note, invited=invited)
        place = self.place_key(c)
        if not self.budget.fits(place, day, estimated, lowest):
            self.contracts.pop()
            self.seq -= 1
            return None
        self.budget.add(key, day, estimated)
        self.budget.add(place, day, estimated)
        return c

    def clean(self) -> None:
        category = self.pick(list(_SUBJECTS))
        day = self.day()
        no_qual = category in self.settings.no_qualification
        vendor = (self.pick(self.world.outsiders or [v.corp for v in self.vendors]) if no_qual
                  else self.vendor_for(category, day))
        if vendor is None:
            return
        if self.rng.random() < _NEGOTIATED[category]:
            invited, _bid = self.steps(day, "negotiated")
            lim = self.limits.limit(self.cls(category), invited)
            top = lim.amount if lim else 0
            estimated = int(self.rng.uniform(0.05, 0.95) * top) // 1000 * 1000
            if estimated and self.negotiated(day, category, vendor, estimated, invited=invited):
                return
        if category == "役務" and self.rng.random() < 0.1:
            self.make(day, category, "negotiated_other", vendor, self.price(category), 1.0)
            return
        self.competitive(day, category, vendor)
