"""The contract register and the suspension list, read and normalised for the checks.

A register row becomes a :class:`Contract`: dates ISO (和暦 or western), amounts integer
yen, the method and category as the scenario's codes (translated by the mapping's
``[values]``), the corporate number as ASCII digits. What cannot be read is kept as written
with a Japanese problem, which the ``register_data`` rule reports; the other rules then skip
what they cannot decide rather than guess.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date

from ocr.japanese import digits_only, normalize_text, parse_amount, parse_date
from robots.kit.reconcile import normalize_ref
from robots.kit.tables import EXTRA_PREFIX, Layout, Table
from scenarios.contracts.settings import METHODS, ContractsSettings

__all__ = ["Contract", "Suspension", "parse_contracts", "parse_suspensions"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Contract:
    """One register row, normalised (``problems`` in Japanese, for ``register_data``)."""

    file_name: str
    line: int
    number: str  # as written (NFKC)
    key: str  # the number compared: separators and widths ignored
    day: date | None
    subject: str
    method: str  # one of settings.METHODS, or as written when unknown
    category: str
    vendor_name: str
    corporate_number: str  # ASCII digits as written ("" when none)
    amount: int | None
    estimated_price: int | None
    period_from: date | None
    period_to: date | None
    department: str
    problems: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.file_name} {self.line}行目"


@dataclass(frozen=True, slots=True)
class Suspension:
    """One designation suspension (指名停止) of a vendor, from and to inclusive."""

    corporate_number: str
    vendor_name: str
    start: date
    end: date
    reason: str = ""
    source: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@functools.lru_cache(maxsize=65536)
def _day(text: str) -> date | None:
    return parse_date(text) if text else None


@functools.lru_cache(maxsize=65536)
def _amount(text: str) -> int | None:
    return parse_amount(text) if text else None


def _department(layout: Layout, raw: dict[str, str], column: str) -> str:
    if not column:
        return raw.get("department", "")
    want = normalize_text(column)
    for field, header in layout.columns.items():
        if normalize_text(header) == want:
            return raw.get(field, "")
    return raw.get(EXTRA_PREFIX + want, "")


def parse_contracts(table: Table, file_name: str, settings: ContractsSettings
                    ) -> list[Contract]:
    """Every register row of ``table`` as a :class:`Contract` (never raises)."""
    lay = table.layout
    out = []
    for line, raw in table.rows:
        v = {k: lay.value(k, s) for k, s in raw.items()}
        problems = []
        number = v.get("contract_number", "")
        if not number:
            problems.append("契約番号が空欄")
        day = _day(v.get("contract_date", ""))
        if day is None:
            problems.append(f"契約日が読めない（{v.get('contract_date', '') or '空欄'}）")
        method = v.get("method", "")
        if method not in METHODS:
            problems.append(f"契約方法が不明（{method or '空欄'}）")
        category = v.get("category", "")
        if category not in settings.categories:
            problems.append(f"業種が不明（{category or '空欄'}）")
        amount = _amount(v.get("amount", ""))
        if amount is None:
            problems.append(f"契約金額が読めない（{v.get('amount', '') or '空欄'}）")
        est_text = v.get("estimated_price", "")
        estimated = _amount(est_text)
        if est_text and estimated is None:
            problems.append(f"予定価格が読めない（{est_text}）")
        vendor = v.get("vendor_name", "")
        corp = digits_only(v.get("corporate_number", "")).replace("-", "")
        if not vendor and not corp:
            problems.append("業者名も法人番号も空欄")
        periods = []
        for f, label in (("period_from", "履行期間（自）"), ("period_to", "履行期間（至）")):
            d = _day(v.get(f, ""))
            if v.get(f) and d is None:
                problems.append(f"{label}が読めない（{v[f]}）")
            periods.append(d)
        out.append(Contract(
            file_name=file_name, line=line, number=number, key=normalize_ref(number), day=day,
            subject=v.get("subject", ""), method=method, category=category, vendor_name=vendor,
            corporate_number=corp, amount=amount, estimated_price=estimated,
            period_from=periods[0], period_to=periods[1],
            department=_department(lay, v, settings.department_column) or "（記載なし）",
            problems=tuple(problems)))
    return out


def parse_suspensions(table: Table, file_name: str) -> tuple[list[Suspension], list[str]]:
    """The suspensions of ``table`` and the rows that could not be used (Japanese)."""
    lay = table.layout
    out, problems = [], []
    for line, raw in table.rows:
        v = {k: lay.value(k, s) for k, s in raw.items()}
        start, end = _day(v.get("suspended_from", "")), _day(v.get("suspended_to", ""))
        if start is None or end is None or end < start:
            problems.append(f"{file_name} {line}行目: 停止期間が読めない、"
                            "または終わりが始まりより前")
            continue
        out.append(Suspension(digits_only(v.get("corporate_number", "")).replace("-", ""),
                              v.get("vendor_name", ""), start, end, v.get("reason", ""),
                              f"{file_name} {line}行目"))
    return out, problems

