"""Possible split orders (分割発注): small negotiated contracts that together pass the limit.

A purchase or work split into pieces each under the negotiated-contract limit avoids the
competitive procedure the whole would need. The signal looked for: contracts of the **same
vendor** (blocked by corporate number, so 50,000 contracts compare in a second) and the same
limit class, **negotiated** under the small-amount item, each within the limit in force on
its date, with **similar subjects** (rapidfuzz ratio of normalised subjects at or above
``split_similarity``), all within ``split_window_days`` of the first — whose amounts
*together* exceed the limit. The limit compared is the highest in force on the members'
dates (the lenient reading: a group straddling a revision is judged by the new limit).

Subjects are compared without what numbers a series: digits, kanji numerals, brackets and
その／第／期／回／号, so 道路補修工事（その１） and 道路補修工事（その２） are the same subject.
Each maximal group is reported once (a group inside a reported one is not reported again);
the same contract number twice in the register counts once.

A work can also be split *across vendors*. :func:`find_split_candidates` lists, as candidates
for a person to judge, small negotiated contracts of the same category at the same place
(工事・履行場所; without one, with similar subjects) with two vendors or more, within the window,
together above the limit. The limit of each contract is the one of its decision day
(:meth:`LimitBook.decision_day`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from rapidfuzz import fuzz

from ocr.japanese import nfkc
from scenarios.contracts.limits import Limit, LimitBook
from scenarios.contracts.register import Contract
from scenarios.contracts.settings import ContractsSettings

__all__ = ["SplitGroup", "find_split_orders", "subject_key"]

_SUBJECT_NOISE = re.compile(r"[\s0-9一二三四五六七八九十〇()\[\]{}<>「」『』【】・、。,.\-ー―~]"
                            r"|その|第|期|回|号|次")


@functools.lru_cache(maxsize=65536)
def subject_key(subject: str) -> str:
    """A subject without the words that number a series (see the module docstring)."""
    return _SUBJECT_NOISE.sub("", nfkc(subject or "").upper())


@dataclass(frozen=True, slots=True)
class SplitGroup:
    """Contracts that look like one order split, with their combined amount and the limit."""

    vendor: str
    members: tuple[Contract, ...]
    amounts: tuple[int, ...]
    total: int
    limit: Limit


_Item = tuple[Contract, int, Limit]


def _small_negotiated(contracts: Sequence[Contract], settings: ContractsSettings,
                      limits: LimitBook) -> list[tuple[Contract, str, _Item]]:
    """(contract, class, item) of each negotiated contract within its limit, once per number."""
    out = []
    seen: set[str] = set()
    for c in contracts:
        if c.key in seen or not c.key:
            continue
        seen.add(c.key)
        cls = settings.categories.get(c.category)
        day = limits.decision_day(c)
        if c.method != "negotiated" or c.day is None or day is None or cls is None:
            continue
        amount = limits.compared(c.amount, c.estimated_price)
        lim = limits.limit(cls, day)
        if amount is None or lim is None or amount > lim.amount:
            continue
        out.append((c, cls, (c, amount, lim)))
    return out


def _groups(label: str, items: list[_Item], window: timedelta, similar: Callable[
        [Contract, Contract], bool], enough: Callable[[list[_Item]], bool]) -> list[SplitGroup]:
    """Maximal groups of ``items`` (one block) starting at each member, within the window."""
    items.sort(key=lambda t: (t[0].day, t[0].key))
    found: list[frozenset[int]] = []
    for i, (first, _a, _l) in enumerate(items):
        members = [i]
        for j in range(i + 1, len(items)):
            other = items[j][0]
            if other.day - first.day > window:  # type: ignore[operator]
                break
            if similar(first, other):
                members.append(j)
        chosen = [items[m] for m in members]
        if len(members) < 2 or not enough(chosen):
            continue
        total = sum(a for _c, a, _l in chosen)
        if total > max(lim.amount for _c, _a, lim in chosen):
            found.append(frozenset(members))
    out = []
    for g in found:
        if any(g < other for other in found):
            continue
        chosen = [items[m] for m in sorted(g)]
        out.append(SplitGroup(label, tuple(c for c, _a, _l in chosen),
                              tuple(a for _c, a, _l in chosen), sum(a for _c, a, _l in chosen),
                              max((lim for _c, _a, lim in chosen), key=lambda lim: lim.amount)))
    return out


def _similar_subjects(settings: ContractsSettings) -> Callable[[Contract, Contract], bool]:
    def similar(a: Contract, b: Contract) -> bool:
        ka = subject_key(a.subject)
        return bool(ka) and fuzz.ratio(ka, subject_key(b.subject)) >= settings.split_similarity

    return similar


def find_split_candidates(contracts: Sequence[Contract], settings: ContractsSettings,
                          limits: LimitBook, vendor_of: Callable[[Contract], str]
                          ) -> list[SplitGroup]:
    """Groups across vendors (see the module docstring); ``vendor`` holds what joins them."""
    window = timedelta(days=settings.split_window_days)
    blocks: dict[tuple[str, str, str], list[_Item]] = {}
    for c, cls, item in _small_negotiated(contracts, settings, limits):
        blocks.setdefault((cls, c.category, nfkc(c.location).replace(" ", "")), []).append(item)

    def vendors(chosen: list[_Item]) -> bool:
        return len({vendor_of(c) for c, _a, _l in chosen}) > 1

    out: list[SplitGroup] = []
    for (_cls, _cat, place), items in blocks.items():
        if len(items) > 1:
            label = f"工事・履行場所「{place}」" if place else "類似した件名"
            out += _groups(label, items, window,
                           (lambda a, b: True) if place else _similar_subjects(settings), vendors)
    return out


def find_split_orders(contracts: Sequence[Contract], settings: ContractsSettings,
                      limits: LimitBook, vendor_of: Callable[[Contract], str]
                      ) -> list[SplitGroup]:
    """Every maximal split-order group of ``contracts`` (see the module docstring)."""
    window = timedelta(days=settings.split_window_days)
    blocks: dict[tuple[str, str], list[tuple[Contract, int, Limit]]] = {}
    for c, cls, item in _small_negotiated(contracts, settings, limits):
        vendor = vendor_of(c)
        if vendor:
            blocks.setdefault((vendor, cls), []).append(item)
    groups: list[SplitGroup] = []
    for (vendor, _cls), items in blocks.items():
        if len(items) > 1:
            groups += _groups(vendor, items, window, _similar_subjects(settings),
                              lambda chosen: True)
    return groups
