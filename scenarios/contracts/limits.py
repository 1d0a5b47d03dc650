"""The negotiated-contract limit in force on a date, and the amount compared with it.

Art. 167-2 (1) item 1 of the Local Autonomy Act Enforcement Order allows a negotiated
contract when its *estimated price* (予定価格) "does not exceed" (超えない) the amount of
table 5 for its class, within which the town's own rules may set lower amounts. So:

- the limit is chosen by the day the contract was decided upon: the statutory table in force
  on that day, lowered by the town's table in force on that day where it sets the class.
  Which day: the 2025 revision (令和7年政令第94号, 別表第5 in force from 2025-04-01) is applied
  through its transitional provision (附則) to contracts whose 契約の申込みの誘引 — the
  入札公告, 指名 or 見積依頼 — is on or after that day, the old table staying for those invited
  before it (as municipalities apply it: "令和7年4月1日以降に入札公告等を行う案件から適用",
  北上市). So with ``limit_date = "invitation"`` (the default) the register's 公告・指名・
  見積依頼日 chooses the table, and the contract date only when the register does not give it;
  ``limit_date = "contract"`` always uses the contract date;
- an amount exactly at the limit is allowed; one yen more is not;
- by default the estimated price is compared, tax included (as municipal rules state
  予定価格（消費税及び地方消費税を含む。）); ``limit_amount`` and ``limit_tax`` choose another
  basis (the contract amount, or amounts without tax at ``tax_rate_percent``, rounded down).
  A register row without an estimated price is compared by its contract amount.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date

from scenarios.contracts.register import Contract
from scenarios.contracts.settings import CLASS_JA, ContractsSettings, LimitTable

__all__ = ["Limit", "LimitBook"]


@dataclass(frozen=True, slots=True)
class Limit:
    """The limit for one class on one day, and where it comes from (for the evidence)."""

    amount: int
    cls: str
    source: str  # the table's title
    since: date | None

    def describe_ja(self) -> str:
        since = f"{self.since:%Y-%m-%d}以降" if self.since else ""
        return f"{CLASS_JA[self.cls]}の限度額 {self.amount:,}円（{self.source}{since}）"


class _Timeline:
    def __init__(self, tables: list[LimitTable]) -> None:
        self.tables = sorted(tables, key=lambda t: t.since or date.min)
        self.starts = [t.since or date.min for t in self.tables]

    def on(self, day: date) -> LimitTable | None:
        i = bisect.bisect_right(self.starts, day) - 1
        return self.tables[i] if i >= 0 else None


class LimitBook:
    """Limits by class and date, from ``[scenarios.contracts] limits``."""

    def __init__(self, settings: ContractsSettings) -> None:
        self.statutory = _Timeline([t for t in settings.limits if t.kind == "statutory"])
        self.town = _Timeline([t for t in settings.limits if t.kind == "town"])
        self.basis = settings.limit_amount
        self.tax = settings.limit_tax
        self.rate = settings.tax_rate_percent
        self.by_invitation = settings.limit_date == "invitation"
        self._cache: dict[tuple[str, date], Limit | None] = {}

    def limit(self, cls: str, day: date) -> Limit | None:
        """The limit in force for ``cls`` on ``day`` (None before any table)."""
        key = (cls, day)
        if key not in self._cache:
            found: Limit | None = None
            for t in (self.statutory.on(day), self.town.on(day)):
                amount = t.amount(cls) if t is not None else None
                if t is not None and amount is not None and (found is None
                                                             or amount < found.amount):
                    found = Limit(amount, cls, t.title, t.since)
            self._cache[key] = found
        return self._cache[key]

    def decision_day(self, c: Contract) -> date | None:
        """The day whose limit applies to ``c`` (see the module docstring)."""
        return (c.invited if self.by_invitation and c.invited else None) or c.day

    def decision_ja(self, c: Contract) -> str:
        return ("契約の申込みの誘引の日（公告・指名・見積依頼日）"
                if self.by_invitation and c.invited else "契約日")

    def lowest(self, cls: str) -> int:
        """The lowest limit the class ever has (for generators keeping clean cases clean)."""
        amounts = [a for t in (*self.statutory.tables, *self.town.tables)
                   if (a := t.amount(cls)) is not None]
        return min(amounts)

    def compared(self, amount: int | None, estimated: int | None) -> int | None:
        """The amount the rule compares with the limit (see the module docstring)."""
        base = estimated if self.basis == "estimated_price" and estimated else amount
        if base is None:
            return None
        return base if self.tax == "included" else base * 100 // (100 + self.rate)

    def basis_ja(self) -> str:
        what = "予定価格" if self.basis == "estimated_price" else "契約金額"
        return f"{what}（{'税込' if self.tax == 'included' else '税抜'}）"
