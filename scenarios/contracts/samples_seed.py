"""Seeded violations of every contract rule, and the clean boundary cases beside them.

Each seeding function makes ``k`` contracts that break exactly one rule (see
:mod:`scenarios.contracts.samples_register`) and records them in the truth. Seeded
contracts use competitive methods unless the rule is about negotiated contracts, so that
they never take part in a split order by accident.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from fractions import Fraction

from ocr.checkdigits import corporate_number_check_digit
from scenarios.contracts.samples import VendorWorld, name_variant
from scenarios.contracts.samples_register import (
    SEED_RATE,
    START,
    Drawer,
    RegisterWorld,
    Seeded,
    SSuspension,
)
from scenarios.contracts.samples_seed_more import (
    AMOUNT_SEEDS,
    clean_base,
    qualified_vendor,
    seed_sole,
)

__all__ = ["build_register", "seed_violations"]

_DAY = dt.timedelta(days=1)
_REVISION = dt.date(2025, 4, 1)
_MAR31, _APR1, _APR10 = dt.date(2025, 3, 31), dt.date(2025, 4, 1), dt.date(2025, 4, 10)
#: (category, contract day, invitation day, estimated price, violation?) — both sides of
#: 2025-04-01, and the transitional provision: invited before it, concluded after → old table.
_LIMIT_CASES = (
    ("土木一式", _MAR31, _MAR31, 1_300_000, False),
    ("土木一式", _MAR31, _MAR31, 1_300_001, True),
    ("土木一式", _MAR31, _MAR31, 1_500_000, True),
    ("土木一式", _APR1, _APR1, 1_500_000, False),
    ("土木一式", _APR1, _APR1, 2_000_000, False),
    ("土木一式", _APR1, _APR1, 2_000_001, True),
    ("物品", _MAR31, _MAR31, 800_000, False),
    ("物品", _MAR31, _MAR31, 800_001, True),
    ("物品", _APR1, _APR1, 1_500_000, False),
    ("物品", _APR1, _APR1, 1_500_001, True),
    ("土木一式", _APR10, _MAR31, 1_300_001, True),   # invited under the old table
    ("土木一式", _APR10, _MAR31, 1_300_000, False),
    ("物品", _APR10, _APR1, 1_500_000, False),        # invited under the new one
)


def _suspensions(d: Drawer, k: int) -> None:
    pool = [v for v in d.vendors if v.fate == "both" and not v.stale]
    for n in range(min(k, len(pool))):
        v = pool[int(d.rng.integers(len(pool)))]
        if any(s.vendor is v for s in d.suspensions):
            continue
        start = d.day(dt.date(2024, 6, 1), d.end - dt.timedelta(days=125))
        end = start + dt.timedelta(days=int(d.rng.integers(30, 120)))
        by_name = n == 1  # one list row gives the name only
        d.suspensions.append(SSuspension("" if by_name else v.number,
                                         name_variant(v.name, d.rng) if by_name else v.name,
                                         start, end, d.pick(("贈賄", "安全管理措置の不適切",
                                                             "談合", "工事事故")), v))


def _not_qualified(d: Drawer, n: int) -> None:
    if n % 2 == 0 and d.world.outsiders:
        corp = d.pick(d.world.outsiders)
        c = d.competitive(d.day(), d.pick(("土木一式", "物品", "役務")), corp,
                          note="not_qualified")
    else:
        while True:
            v = d.pick(d.vendors)
            missing = [c for c in ("土木一式", "建築一式", "舗装", "物品", "役務") if not v.ever(c)]
            day = d.day()
            if missing and not d.suspended(v, day):
                c = d.competitive(day, d.pick(missing), v, note="not_qualified")
                break
    d.truth.append(Seeded("not_qualified", c.number))


def _lapsed(d: Drawer, n: int) -> None:
    for _ in range(200):
        v = d.pick(d.vendors)
        cats = sorted({c for c, *_ in v.quals})
        category = d.pick(cats)
        lo = _REVISION if v.fate == "old" else START
        day = d.day(lo, d.end)
        if v.fate in ("new", "corrected"):  # before its validity starts
            first = min(s for c, _g, s, _e in v.quals if c == category)
            day = d.day(first - dt.timedelta(days=60), first - _DAY)
        if not v.qualified(category, day) and not d.suspended(v, day) and day <= d.end:
            c = d.competitive(day, category, v, note="qualification_lapsed")
            steps = [x for x in (c.invited, c.bid_day) if x is not None]
            if any(v.qualified(category, x) or d.suspended(v, x) for x in steps):
                c.invited = c.bid_day = None  # judged on the contract day, unqualified
            d.truth.append(Seeded("qualification_lapsed", c.number))
            return


def _suspended(d: Drawer, n: int) -> None:
    s = d.suspensions[n % len(d.suspensions)]
    v = s.vendor
    category = d.pick(sorted({c for c, *_ in v.quals}))
    edge = n // len(d.suspensions)
    day = (s.start, s.end)[edge] if edge < 2 else d.day(s.start, s.end)
    if not v.qualified(category, day):
        return
    c = d.competitive(day, category, v, note="suspended")
    d.truth.append(Seeded("suspended", c.number))
    if edge < 2:  # the day outside the period is clean
        out = s.start - _DAY if edge == 0 else s.end + _DAY
        if v.qualified(category, out) and not d.suspended(v, out):
            d.competitive(out, category, v, note="clean:suspension_edge")


def _invalid_number(d: Drawer, n: int) -> None:
    c, v = clean_base(d, "invalid_corporate_number")
    digits = v.number
    if n % 3 == 2:
        c.corporate_number = digits[1:]  # 12 digits
    else:
        right = corporate_number_check_digit(digits[1:])
        c.corporate_number = f"{(right + 1 + n % 8) % 10}{digits[1:]}"
    d.truth.append(Seeded("invalid_corporate_number", c.number))


def _name_mismatch(d: Drawer, n: int) -> None:
    c, v = clean_base(d, "name_mismatch")
    other = d.pick([o for o in d.vendors if o is not v])
    c.vendor = other.name
    c.corporate_number = v.number
    d.truth.append(Seeded("name_mismatch", c.number))


def _duplicate(d: Drawer, n: int) -> None:
    c, _v = clean_base(d, "duplicate_number")
    if n % 2 == 0:
        d.contracts.append(replace(c))  # the same row exported twice
    else:
        other, _ = clean_base(d, "duplicate_number")
        other.number = c.number  # two contracts under one number
    d.truth.append(Seeded("duplicate_number", c.number))


def _date_order(d: Drawer, n: int) -> None:
    c, _v = clean_base(d, "date_order")
    if n % 2 == 0:
        c.period_from, c.period_to = c.period_to, c.period_from
    else:
        c.period_from = c.day - dt.timedelta(days=120)
        c.period_to = c.day - dt.timedelta(days=int(d.rng.integers(1, 60)))
    d.truth.append(Seeded("date_order", c.number))


def _over_limit(d: Drawer, n: int, k: int) -> None:
    cases = [case for case in _LIMIT_CASES if case[4]]
    if n < len(cases):
        category, day, invited, estimated, _ = cases[n]
    else:
        category = d.pick(("土木一式", "物品", "役務", "測量・建設コンサルタント"))
        day = d.day()
        invited, _bid = d.steps(day, "negotiated")
        lim = d.limits.limit(d.cls(category), invited)
        estimated = int(lim.amount * d.rng.uniform(1.05, 3.0)) // 1000 * 1000  # type: ignore[union-attr]
    v = qualified_vendor(d, category, day)
    if v is None or not v.qualified(category, invited):
        return
    c = d.make(day, category, "negotiated", v, estimated, float(d.rng.uniform(0.9, 1.0)),
               note="negotiated_over_limit", invited=invited)
    c.bid_day = invited
    d.truth.append(Seeded("negotiated_over_limit", c.number))


def _limit_edges(d: Drawer) -> None:
    for category, day, invited, estimated, bad in _LIMIT_CASES:
        if bad:
            continue
        for _ in range(20):
            v = qualified_vendor(d, category, day)
            if v is None or not v.qualified(category, invited):
                continue
            c = d.negotiated(day, category, v, estimated, note="clean:limit_edge",
                             invited=invited)
            if c is not None:
                c.bid_day = invited
                break


def _split(d: Drawer, n: int) -> None:
    for _ in range(100):
        category = d.pick(("土木一式", "物品", "役務", "舗装"))
        first = d.day(START, d.end - dt.timedelta(days=40))
        last_day = first + dt.timedelta(days=d.settings.split_window_days)
        if (first < _REVISION) != (last_day < _REVISION):
            continue  # a group straddling the revision would be judged by the new limit
        v = qualified_vendor(d, category, first)
        window = d.settings.split_window_days
        if v is None or any(not v.qualified(category, first + dt.timedelta(days=i))
                            or d.suspended(v, first + dt.timedelta(days=i))
                            for i in range(window + 1)):
            continue
        key = (v.number, d.cls(category))
        _title, where = d.subject(category)
        place = ("place", category, where)
        if any(d.budget.near(k, x) for k in (key, place) for x in (first, last_day)):
            continue
        lim = d.limits.limit(key[1], first).amount  # type: ignore[union-attr]
        size = 2 + n % 3
        shares = d.rng.uniform(0.45, 0.9, size) if size == 2 else d.rng.uniform(0.4, 0.8, size)
        amounts = [int(s * lim) // 1000 * 1000 for s in shares]
        if sum(amounts) <= lim:
            continue
        offsets = sorted(int(x) for x in d.rng.choice(d.settings.split_window_days + 1, size,
                                                       replace=False))
        base = d.subject(category)
        style = n % 3
        group = []
        for i, (off, amount) in enumerate(zip(offsets, amounts, strict=True), start=1):
            day = first + dt.timedelta(days=off)
            subject = (f"{base}（その{i}）", f"{base} 第{i}回", f"{base}（{day.month}月{i}期分）"
                       )[style]
            d.budget.add(key, day, float("inf"))  # nothing else of the vendor near the group
            group.append(d.make(day, category, "negotiated", v, amount,
                                float(d.rng.uniform(0.9, 1.0)), note="split_order",
                                subject=subject, steps=False, location=where))
            d.budget.add(place, day, float("inf"))  # nor of the place
        group.sort(key=lambda c: (c.day, c.number))
        d.truth.append(Seeded("split_order", group[0].number,
                              tuple(c.number for c in group)))
        return


def _floor(d: Drawer, category: str) -> Fraction:
    s = d.settings
    return Fraction(str(s.bid_ratio_floors.get(d.cls(category), s.bid_ratio_min)))  # type: ignore[call-overload]


def _bid_ratio(d: Drawer, n: int) -> None:
    c, _v = clean_base(d, "bid_ratio")
    floor = float(_floor(d, c.category))
    ratio = floor * d.rng.uniform(0.7, 0.97) if n % 2 == 0 else d.rng.uniform(1.02, 1.1)
    c.amount = int(c.estimated * ratio)  # type: ignore[operator]
    d.money(c)
    d.truth.append(Seeded("bid_ratio", c.number))
    if n < 2:  # exactly at the floor of the class, and at 100 %: clean
        edge, _ = clean_base(d, "clean:bid_ratio_edge")
        edge.estimated = edge.estimated // 100 * 100  # type: ignore[operator]
        edge.amount = (int(edge.estimated * _floor(d, edge.category)) if n == 0  # type: ignore[operator]
                       else edge.estimated)
        d.money(edge)


def _register_data(d: Drawer, n: int) -> None:
    c, _v = clean_base(d, "register_data")
    if n % 2 == 0:
        c.category = "その他工事"
    else:
        c.amount = "未定"
    d.truth.append(Seeded("register_data", c.number))


def seed_violations(d: Drawer, k: int) -> None:
    """``k`` seeded violations per rule (more for the limit, whose boundaries all appear)."""
    _suspensions(d, max(2, k // 2 + 1))
    _limit_edges(d)
    for n in range(max(k, sum(1 for c in _LIMIT_CASES if c[4]))):
        _over_limit(d, n, k)
    for n, fn in itertools.product(range(k), (
            _not_qualified, _lapsed, _invalid_number, _name_mismatch, _duplicate, _date_order,
            _split, _bid_ratio, _register_data, *AMOUNT_SEEDS)):
        fn(d, n)
    seed_sole(d)
    for n in range(max(k, 2 * len(d.suspensions))):
        _suspended(d, n)


def build_register(world: VendorWorld, count: int, seed: int) -> RegisterWorld:
    """Draw about ``count`` contracts with seeded violations (see the module docstring)."""
    d = Drawer(world, count, seed)
    seed_violations(d, max(2, round(count * SEED_RATE)))
    while len(d.contracts) < count:
        d.clean()
    order = d.rng.permutation(len(d.contracts))
    contracts = [d.contracts[int(i)] for i in order]
    return RegisterWorld(contracts, d.truth, d.suspensions)
