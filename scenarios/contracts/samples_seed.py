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
from scenarios.contracts.applications import add_months
from scenarios.contracts.samples import STALE_KEISHIN, SVendor, VendorWorld, name_variant
from scenarios.contracts.samples_register import (
    SEED_RATE,
    START,
    Drawer,
    RegisterWorld,
    SContract,
    Seeded,
    SSuspension,
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


def _qualified(d: Drawer, category: str, day: dt.date, *, exclude: object = None
               ) -> SVendor | None:
    for _ in range(10):
        v = d.vendor_for(category, day)
        if v is not None and v is not exclude:
            return v
    return None


def _base(d: Drawer, note: str, lo: dt.date = START, hi: dt.date | None = None,
          categories: tuple[str, ...] = ("土木一式", "舗装", "物品", "役務",
                                         "測量・建設コンサルタント")
          ) -> tuple[SContract, SVendor]:
    """A clean competitive contract of a qualified vendor (the start of most seeds)."""
    for _ in range(50):
        category = d.pick(categories)
        day = d.day(lo, hi)
        v = _qualified(d, category, day)
        if v is not None:
            return d.competitive(day, category, v, note=note), v
    raise RuntimeError("no qualified vendor found for a seeded contract")


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
    c, v = _base(d, "invalid_corporate_number")
    digits = v.number
    if n % 3 == 2:
        c.corporate_number = digits[1:]  # 12 digits
    else:
        right = corporate_number_check_digit(digits[1:])
        c.corporate_number = f"{(right + 1 + n % 8) % 10}{digits[1:]}"
    d.truth.append(Seeded("invalid_corporate_number", c.number))


def _name_mismatch(d: Drawer, n: int) -> None:
    c, v = _base(d, "name_mismatch")
    other = d.pick([o for o in d.vendors if o is not v])
    c.vendor = other.name
    c.corporate_number = v.number
    d.truth.append(Seeded("name_mismatch", c.number))


def _duplicate(d: Drawer, n: int) -> None:
    c, _v = _base(d, "duplicate_number")
    if n % 2 == 0:
        d.contracts.append(replace(c))  # the same row exported twice
    else:
        other, _ = _base(d, "duplicate_number")
        other.number = c.number  # two contracts under one number
    d.truth.append(Seeded("duplicate_number", c.number))


def _date_order(d: Drawer, n: int) -> None:
    c, _v = _base(d, "date_order")
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
    v = _qualified(d, category, day)
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
            v = _qualified(d, category, day)
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
        v = _qualified(d, category, first)
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
    c, _v = _base(d, "bid_ratio")
    floor = float(_floor(d, c.category))
    ratio = floor * d.rng.uniform(0.7, 0.97) if n % 2 == 0 else d.rng.uniform(1.02, 1.1)
    c.amount = int(c.estimated * ratio)  # type: ignore[operator]
    d.money(c)
    d.truth.append(Seeded("bid_ratio", c.number))
    if n < 2:  # exactly at the floor of the class, and at 100 %: clean
        edge, _ = _base(d, "clean:bid_ratio_edge")
        edge.estimated = edge.estimated // 100 * 100  # type: ignore[operator]
        edge.amount = (int(edge.estimated * _floor(d, edge.category)) if n == 0  # type: ignore[operator]
                       else edge.estimated)
        d.money(edge)


def _register_data(d: Drawer, n: int) -> None:
    c, _v = _base(d, "register_data")
    if n % 2 == 0:
        c.category = "その他工事"
    else:
        c.amount = "未定"
    d.truth.append(Seeded("register_data", c.number))


_WORKS = ("土木一式", "舗装")
#: Characters an OCR engine or a hurried typist puts for another (all in CP932).
_MISREAD = dict(zip("建設工業産商物技開環造園組電備測量興会土木道路舗装通",
                    "達説エ築彦高吻枝閑還遣圏細雷傭側暈輿合士本導略捕奨桶", strict=True))


def _below_minimum(d: Drawer, n: int) -> None:
    c, _v = _base(d, "below_minimum_price", categories=_WORKS)
    c.survey_price = c.surveyed = None
    c.minimum_price = c.amount + (1 if n == 0 else int(d.rng.integers(1, 50)) * 1000)  # type: ignore[operator]
    d.truth.append(Seeded("below_minimum_price", c.number))
    if n == 0:  # exactly at the minimum price: clean
        edge, _ = _base(d, "clean:minimum_price_edge", categories=_WORKS)
        edge.survey_price = edge.surveyed = None
        edge.minimum_price = edge.amount  # type: ignore[assignment]


def _unsurveyed(d: Drawer, n: int) -> None:
    c, _v = _base(d, "low_bid_unsurveyed", categories=_WORKS)
    c.minimum_price = c.surveyed = None
    c.survey_price = c.amount + (1 if n == 0 else int(d.rng.integers(1, 50)) * 1000)  # type: ignore[operator]
    d.truth.append(Seeded("low_bid_unsurveyed", c.number))
    if n == 0:  # exactly at the survey price, not surveyed: clean
        edge, _ = _base(d, "clean:survey_price_edge", categories=_WORKS)
        edge.minimum_price = edge.surveyed = None
        edge.survey_price = edge.amount  # type: ignore[assignment]


def _negotiated_seed(d: Drawer, note: str, low: int = 120_000) -> SContract | None:
    """A clean small negotiated contract (estimated above ``low``) to break one rule on."""
    for _ in range(200):
        category = d.pick(("物品", "役務", "土木一式"))
        day = d.day()
        invited, _bid = d.steps(day, "negotiated")
        v = _qualified(d, category, day)
        lim = d.limits.limit(d.cls(category), invited)
        if v is None or lim is None or lim.amount // 2 <= low:
            continue
        est = int(d.rng.uniform(low, lim.amount // 2)) // 1000 * 1000
        c = d.negotiated(day, category, v, est, note=note, invited=invited)
        if c is not None:
            return c
    return None


def _over_estimate(d: Drawer, n: int) -> None:
    c = _negotiated_seed(d, "negotiated_over_estimate")
    if c is not None:
        c.amount = c.estimated + (1 if n == 0 else int(d.rng.integers(1, 30)) * 1000)  # type: ignore[operator]
        d.money(c)
        d.truth.append(Seeded("negotiated_over_estimate", c.number))


def _quotes(d: Drawer, n: int) -> None:
    c = _negotiated_seed(d, "negotiated_quotes")
    if c is not None:
        c.quotes = 1
        d.truth.append(Seeded("negotiated_quotes", c.number))
    if n == 0:  # one quote at exactly the amount where one is enough: clean
        for _ in range(50):
            v = _qualified(d, "物品", day := d.day(_REVISION))
            if v is not None and d.negotiated(day, "物品", v, d.settings.single_quote_up_to,
                                              note="clean:single_quote_edge"):
                break


def _guarantee(d: Drawer, n: int) -> None:
    c, _v = _base(d, "guarantee_missing")
    need = -(-c.amount // 10)  # type: ignore[operator]
    c.guarantee_exemption = ""
    c.guarantee = None if n % 2 else need - 1
    d.truth.append(Seeded("guarantee_missing", c.number))


def _advance(d: Drawer, n: int) -> None:
    c, _v = _base(d, "advance_over_limit", categories=_WORKS)
    c.advance = c.amount * 4 // 10 + (1 if n == 0 else 1000)  # type: ignore[operator]
    d.truth.append(Seeded("advance_over_limit", c.number))


def _graded(d: Drawer, category: str, want: str | None, note: str
            ) -> tuple[dt.date, SVendor, str] | None:
    """A day and a vendor of ``category`` with grade ``want`` (any when None)."""
    for _ in range(300):
        day = d.day()
        v = _qualified(d, category, day)
        g = d.grade(v, category, day) if v is not None else ""
        if v is not None and g and (want is None or g == want):
            return day, v, g
    return None


def _council(d: Drawer, n: int) -> None:
    found = _graded(d, "土木一式", "A", "council_missing")
    if found is None:
        return
    day, v, _g = found
    est = 50_000_000 if n % 2 == 0 else int(d.rng.uniform(50e6, 79e6)) // 1000 * 1000
    c = d.make(day, "土木一式", "general", v, est, float(d.rng.uniform(0.8, 0.95)),
               note="council_missing")
    c.council = None if n % 2 == 0 else day + dt.timedelta(days=3)
    d.truth.append(Seeded("council_missing", c.number))
    if n == 0:  # just below the threshold without a resolution; at it with one: clean
        for est, council in ((49_999_000, False), (50_000_000, True)):
            c = d.make(day, "土木一式", "general", v, est, 0.9, note="clean:council_edge")
            c.council = day if council else None


def _grade_mismatch(d: Drawer, n: int) -> None:
    found = _graded(d, d.pick(("土木一式", "舗装")), None, "grade_mismatch")
    if found is None:
        return
    day, v, g = found
    category = next(c for c, gg, s, e in v.quals if gg == g and s <= day <= e)
    bands = d.settings.order_standard[category]
    low = bands[g]
    higher = sorted(a for a in bands.values() if a > low)
    est = higher[0] if higher else low - 1000  # the first yen of the next band, or just below
    c = d.make(day, category, "designated", v, est, float(d.rng.uniform(0.8, 0.95)),
               note="grade_mismatch")
    d.truth.append(Seeded("grade_mismatch", c.number))
    if n == 0 and low > 0:  # the lowest price of the vendor's own band: clean
        d.make(day, category, "designated", v, low, 0.9, note="clean:grade_edge")


def _name_reading(d: Drawer, n: int) -> None:
    from robots.kit.companies import company_key, company_name, reading_variant

    listed = {company_key(v.name) for v in d.vendors}
    for _ in range(100):
        c, v = _base(d, "name_reading")
        core = company_name(v.name).core
        spots = [i for i, ch in enumerate(core) if ch in _MISREAD]
        if len(core) >= 4 and spots:
            i = spots[int(d.rng.integers(len(spots)))]
            wrong = v.name.replace(core, core[:i] + _MISREAD[core[i]] + core[i + 1:], 1)
            if (company_key(wrong) not in listed and reading_variant(
                    wrong, v.name, d.settings.name_reading_similarity) is not None):
                c.vendor = wrong
                d.truth.append(Seeded("name_reading", c.number))
                return
        d.contracts.remove(c)  # no name to misread: drop it, try another


def _split_candidate(d: Drawer, n: int) -> None:
    window = d.settings.split_window_days
    for _ in range(200):
        category = d.pick(("土木一式", "物品", "役務", "舗装"))
        first = d.day(START, d.end - dt.timedelta(days=40))
        last_day = first + dt.timedelta(days=window)
        if (first < _REVISION) != (last_day < _REVISION):
            continue
        _title, where = d.subject(category)
        place = ("place", category, where)
        size = 2 + n % 2
        vendors = {id(v): v for v in (_qualified(d, category, first) for _ in range(size * 3))
                   if v is not None and all(v.qualified(category, first + dt.timedelta(days=i))
                                            and not d.suspended(v, first + dt.timedelta(days=i))
                                            for i in range(window + 1))}
        chosen = list(vendors.values())[:size]
        keys = [(v.number, d.cls(category)) for v in chosen]
        if len(chosen) < size or any(d.budget.near(k, x) for k in (*keys, place)
                                     for x in (first, last_day)):
            continue
        lim = d.limits.limit(d.cls(category), first).amount  # type: ignore[union-attr]
        amounts = [int(x * lim) // 1000 * 1000 for x in d.rng.uniform(0.55, 0.9, size)]
        offsets = sorted(int(x) for x in d.rng.choice(window + 1, size, replace=False))
        group = []
        for v, key, off, amount in zip(chosen, keys, offsets, amounts, strict=True):
            day = first + dt.timedelta(days=off)
            for k in (key, place):
                d.budget.add(k, day, float("inf"))
            group.append(d.make(day, category, "negotiated", v, amount, 0.95,
                                note="split_candidate", steps=False, location=where))
        group.sort(key=lambda c: (c.day, c.number))
        d.truth.append(Seeded("split_candidate", group[0].number,
                              tuple(c.number for c in group)))
        return


def _keishin(d: Drawer, n: int) -> None:
    """A works contract of a vendor whose 経審 on the list ran out (2025-10-31)."""
    until = add_months(STALE_KEISHIN, d.settings.keishin_valid_months)
    pool = [v for v in d.vendors if v.stale]
    for _ in range(100 if pool else 0):
        v = d.pick(pool)
        day = d.day(until + dt.timedelta(days=30 if n else 1), d.end)
        works = [(c, g) for c, g, s, e in v.quals if s <= day <= e and g in ("A", "B")
                 and c in d.settings.keishin_from]
        if not works or d.suspended(v, day):
            continue
        category = works[0][0]
        c = d.competitive(day, category, v, note="keishin_expired")
        c.invited = c.bid_day = None if n == 0 else c.bid_day  # n == 0: the first day after
        if c.bid_day is not None and c.bid_day <= until:
            c.invited = c.bid_day = None
        d.truth.append(Seeded("keishin_expired", c.number))
        return


def _sole(d: Drawer) -> None:
    """Clean contracts with the 個人事業主 of the list (no corporate number, by 屋号)."""
    for v in d.sole:
        for category, _g, start, end in v.quals:
            for _ in range(2):
                day = d.day(max(start, START), min(end, d.end))
                if start <= day <= end:
                    d.competitive(day, category, v, note="clean:sole_proprietor")


def seed_violations(d: Drawer, k: int) -> None:
    """``k`` seeded violations per rule (more for the limit, whose boundaries all appear)."""
    _suspensions(d, max(2, k // 2 + 1))
    _limit_edges(d)
    for n in range(max(k, sum(1 for c in _LIMIT_CASES if c[4]))):
        _over_limit(d, n, k)
    for n, fn in itertools.product(range(k), (
            _not_qualified, _lapsed, _invalid_number, _name_mismatch, _name_reading, _duplicate,
            _date_order, _split, _split_candidate, _bid_ratio, _below_minimum, _unsurveyed,
            _over_estimate, _quotes, _guarantee, _advance, _council, _grade_mismatch, _keishin,
            _register_data)):
        fn(d, n)
    _sole(d)
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
