"""Seeded violations of the rules on amounts, grades, names and the vendor's papers.

The seeds of :mod:`scenarios.contracts.samples_seed` for the rules a 契約担当 added (最低制限
価格, 低入札価格調査, 随意契約 within 予定価格 and its quotes, 契約保証金, 前払金, 議会の議決,
発注標準, 経審, a misread name, split candidates across vendors), each with the clean case
at its boundary, and the clean contracts of the sample 個人事業主. Like the others, each seed
starts from a clean contract and changes one thing.
"""

from __future__ import annotations

import datetime as dt

from scenarios.contracts.applications import add_months
from scenarios.contracts.samples import STALE_KEISHIN, SVendor
from scenarios.contracts.samples_register import START, Drawer, SContract, Seeded

__all__ = ["AMOUNT_SEEDS", "clean_base", "qualified_vendor", "seed_sole"]

_REVISION = dt.date(2025, 4, 1)


def qualified_vendor(d: Drawer, category: str, day: dt.date, *, exclude: object = None
                     ) -> SVendor | None:
    """A vendor qualified for ``category`` on ``day`` (not suspended, 経審 in force), or None."""
    for _ in range(10):
        v = d.vendor_for(category, day)
        if v is not None and v is not exclude:
            return v
    return None


def clean_base(d: Drawer, note: str, lo: dt.date = START, hi: dt.date | None = None,
               categories: tuple[str, ...] = ("土木一式", "舗装", "物品", "役務",
                                              "測量・建設コンサルタント")
               ) -> tuple[SContract, SVendor]:
    """A clean competitive contract of a qualified vendor (the start of most seeds)."""
    for _ in range(50):
        category = d.pick(categories)
        day = d.day(lo, hi)
        v = qualified_vendor(d, category, day)
        if v is not None:
            return d.competitive(day, category, v, note=note), v
    raise RuntimeError("no qualified vendor found for a seeded contract")


_WORKS = ("土木一式", "舗装")
#: Characters an OCR engine or a hurried typist puts for another (all in CP932).
_MISREAD = dict(zip("建設工業産商物技開環造園組電備測量興会土木道路舗装通",
                    "達説エ築彦高吻枝閑還遣圏細雷傭側暈輿合士本導略捕奨桶", strict=True))


def _below_minimum(d: Drawer, n: int) -> None:
    c, _v = clean_base(d, "below_minimum_price", categories=_WORKS)
    c.survey_price = c.surveyed = None
    c.minimum_price = c.amount + (1 if n == 0 else int(d.rng.integers(1, 50)) * 1000)  # type: ignore[operator]
    d.truth.append(Seeded("below_minimum_price", c.number))
    if n == 0:  # exactly at the minimum price: clean
        edge, _ = clean_base(d, "clean:minimum_price_edge", categories=_WORKS)
        edge.survey_price = edge.surveyed = None
        edge.minimum_price = edge.amount  # type: ignore[assignment]


def _unsurveyed(d: Drawer, n: int) -> None:
    c, _v = clean_base(d, "low_bid_unsurveyed", categories=_WORKS)
    c.minimum_price = c.surveyed = None
    c.survey_price = c.amount + (1 if n == 0 else int(d.rng.integers(1, 50)) * 1000)  # type: ignore[operator]
    d.truth.append(Seeded("low_bid_unsurveyed", c.number))
    if n == 0:  # exactly at the survey price, not surveyed: clean
        edge, _ = clean_base(d, "clean:survey_price_edge", categories=_WORKS)
        edge.minimum_price = edge.surveyed = None
        edge.survey_price = edge.amount  # type: ignore[assignment]


def _negotiated_seed(d: Drawer, note: str, low: int = 120_000) -> SContract | None:
    """A clean small negotiated contract (estimated above ``low``) to break one rule on."""
    for _ in range(200):
        category = d.pick(("物品", "役務", "土木一式"))
        day = d.day()
        invited, _bid = d.steps(day, "negotiated")
        v = qualified_vendor(d, category, day)
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
            v = qualified_vendor(d, "物品", day := d.day(_REVISION))
            if v is not None and d.negotiated(day, "物品", v, d.settings.single_quote_up_to,
                                              note="clean:single_quote_edge"):
                break


def _guarantee(d: Drawer, n: int) -> None:
    c, _v = clean_base(d, "guarantee_missing")
    need = -(-c.amount // 10)  # type: ignore[operator]
    c.guarantee_exemption = ""
    c.guarantee = None if n % 2 else need - 1
    d.truth.append(Seeded("guarantee_missing", c.number))


def _advance(d: Drawer, n: int) -> None:
    c, _v = clean_base(d, "advance_over_limit", categories=_WORKS)
    c.advance = c.amount * 4 // 10 + (1 if n == 0 else 1000)  # type: ignore[operator]
    d.truth.append(Seeded("advance_over_limit", c.number))


def _graded(d: Drawer, category: str, want: str | None, note: str
            ) -> tuple[dt.date, SVendor, str] | None:
    """A day and a vendor of ``category`` with grade ``want`` (any when None)."""
    for _ in range(300):
        day = d.day()
        v = qualified_vendor(d, category, day)
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
        c, v = clean_base(d, "name_reading")
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
        vendors = {id(v): v for v in (qualified_vendor(d, category, first) for _ in range(size * 3))
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
        works = [(c, g) for c, g, s, e in v.quals if s <= day <= e and c in d.settings.keishin_from
                 and g in (("A",) if c == "建築一式" else ("A", "B"))]  # amounts the 経審 needs
        if not works or d.suspended(v, day):
            continue
        category = works[0][0]
        c = d.competitive(day, category, v, note="keishin_expired")
        c.invited = c.bid_day = None if n == 0 else c.bid_day  # n == 0: the first day after
        if c.bid_day is not None and c.bid_day <= until:
            c.invited = c.bid_day = None
        d.truth.append(Seeded("keishin_expired", c.number))
        return


def seed_sole(d: Drawer) -> None:
    """Clean contracts with the 個人事業主 of the list (no corporate number, by 屋号)."""
    for v in d.sole:
        for category, _g, start, end in v.quals:
            for _ in range(2):
                day = d.day(max(start, START), min(end, d.end))
                if start <= day <= end:
                    d.competitive(day, category, v, note="clean:sole_proprietor")


#: The seeds of this module, each called with (drawer, n) for n in range(k).
AMOUNT_SEEDS = (_name_reading, _split_candidate, _below_minimum, _unsurveyed, _over_estimate,
                _quotes, _guarantee, _advance, _council, _grade_mismatch, _keishin)

