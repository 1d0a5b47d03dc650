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
    invited: date | None = None  # 契約の申込みの誘引: 入札公告日・指名日・見積依頼日
    bid_day: date | None = None  # 入札日・見積日
    minimum_price: int | None = None  # 最低制限価格
    survey_price: int | None = None  # 低入札価格調査の基準価格
    surveyed: date | None = None  # 低入札価格調査を行った日
    quotes: int | None = None  # 見積書を徴した者の数
    guarantee: int | None = None  # 契約保証金
    guarantee_exemption: str = ""  # 契約保証金を免除した理由
    advance: int | None = None  # 前払金
    council: date | None = None  # 議会の議決の日
    location: str = ""  # 工事場所・履行場所
    mapped: frozenset[str] = frozenset()  # the register fields the file's layout gives

    @property
    def where(self) -> str:
        return f"{self.file_name} {self.line}行目"

    @property
    def participation_day(self) -> date | None:
        """The day the vendor took part: 入札日・見積日, else the invitation, else 契約締結日."""
        return self.bid_day or self.invited or self.day

    @property
    def days_that_matter(self) -> tuple[tuple[str, date], ...]:
        """Every dated step the register gives (指名・見積依頼, 入札・見積, 契約締結)."""
        return tuple((label, d) for label, d in (("公告・指名・見積依頼日", self.invited),
                                                 ("入札・見積日", self.bid_day),
                                                 ("契約締結日", self.day)) if d is not None)


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


_MONEY = (("minimum_price", "最低制限価格"), ("survey_price", "調査基準価格"),
          ("quotes", "見積者数"), ("guarantee", "契約保証金"), ("advance_payment", "前払金"))


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
    mapped = frozenset((*lay.columns, *lay.constants))
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
        for f, label in (("period_from", "履行期間（自）"), ("period_to", "履行期間（至）"),
                         ("invitation_date", "公告・指名・見積依頼日"),
                         ("bid_date", "入札・見積日"), ("survey_date", "低入札価格調査日"),
                         ("council_date", "議決日")):
            d = _day(v.get(f, ""))
            if v.get(f) and d is None:
                problems.append(f"{label}が読めない（{v[f]}）")
            periods.append(d)
        money: dict[str, int | None] = {}
        for f, label in _MONEY:
            money[f] = _amount(v.get(f, ""))
            if v.get(f) and money[f] is None:
                problems.append(f"{label}が読めない（{v[f]}）")
        out.append(Contract(
            file_name=file_name, line=line, number=number, key=normalize_ref(number), day=day,
            subject=v.get("subject", ""), method=method, category=category, vendor_name=vendor,
            corporate_number=corp, amount=amount, estimated_price=estimated,
            period_from=periods[0], period_to=periods[1],
            department=_department(lay, v, settings.department_column) or "（記載なし）",
            problems=tuple(problems), invited=periods[2], bid_day=periods[3],
            minimum_price=money["minimum_price"], survey_price=money["survey_price"],
            surveyed=periods[4], quotes=money["quotes"], guarantee=money["guarantee"],
            guarantee_exemption=v.get("guarantee_exemption", ""),
            advance=money["advance_payment"], council=periods[5],
            location=v.get("location", ""), mapped=mapped))
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

