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


def find_split_orders(contracts: Sequence[Contract], settings: ContractsSettings,
                      limits: LimitBook, vendor_of: Callable[[Contract], str]
                      ) -> list[SplitGroup]:
    """Every maximal split-order group of ``contracts`` (see the module docstring)."""
    window = timedelta(days=settings.split_window_days)
    blocks: dict[tuple[str, str], list[tuple[Contract, int, Limit]]] = {}
    seen: set[str] = set()
    for c in contracts:
        if c.key in seen or not c.key:
            continue
        seen.add(c.key)
        cls = settings.categories.get(c.category)
        if c.method != "negotiated" or c.day is None or cls is None:
            continue
        amount = limits.compared(c.amount, c.estimated_price)
        lim = limits.limit(cls, c.day)
        vendor = vendor_of(c)
        if amount is None or lim is None or amount > lim.amount or not vendor:
            continue
        blocks.setdefault((vendor, cls), []).append((c, amount, lim))
    groups: list[SplitGroup] = []
    for (vendor, _cls), items in blocks.items():
        if len(items) < 2:
            continue
        items.sort(key=lambda t: (t[0].day, t[0].key))
        found: list[frozenset[int]] = []
        for i, (first, _a, _l) in enumerate(items):
            key = subject_key(first.subject)
            if not key:
                continue
            members = [i]
            for j in range(i + 1, len(items)):
                other = items[j][0]
                if other.day - first.day > window:  # type: ignore[operator]
                    break
                if fuzz.ratio(key, subject_key(other.subject)) >= settings.split_similarity:
                    members.append(j)
            if len(members) < 2:
                continue
            total = sum(items[m][1] for m in members)
            limit = max((items[m][2] for m in members), key=lambda lim: lim.amount)
            if total > limit.amount:
                found.append(frozenset(members))
        for g in found:
            if any(g < other for other in found):
                continue
            chosen = sorted(g)
            groups.append(SplitGroup(
                vendor, tuple(items[m][0] for m in chosen), tuple(items[m][1] for m in chosen),
                sum(items[m][1] for m in chosen),
                max((items[m][2] for m in chosen), key=lambda lim: lim.amount)))
    return groups
