"""``[scenarios.contracts]``: where the exports and the state are, the limits and the bounds.

The contract register and the suspension list are the contract management system's exports:
``contract_register`` and ``suspensions`` name a file, or a folder whose newest export (``.csv`` /
``.xlsx``, by modification time) is taken, and every run reads them afresh. The same files
may also be dropped into ``inbox/contracts/`` by hand: they are recognised by their columns
(a register there is checked instead of the configured one in that run; a suspension list
there is kept, see :mod:`scenarios.contracts.store`). ``previous_list`` is the vendor list
the town kept before this robot (in the import layout): taken in once, as the starting point.

Negotiated-contract limits are configuration, not code: ``limits`` is a list of tables, each
in force from its ``from`` date until the next table of the same kind. ``kind = "statutory"``
tables (地方自治法施行令 別表第5) must give all six classes; ``kind = "town"`` tables (the
town's own, lower limits) may give some, and may not exceed the statutory limit in force on
their date. The limit in force for a contract is the lower of the two on its date.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from robots.config import Config
from robots.kit.tables import Layout, load_layouts
from scenarios.contracts.rules import RuleId, Severity
from scenarios.contracts.schemas import PACKAGED_MAPPINGS, SCHEMAS

__all__ = [
    "CLASS_JA",
    "LIMIT_CLASSES",
    "METHODS",
    "METHOD_JA",
    "ContractsSettings",
    "CouncilThreshold",
    "LimitTable",
    "layouts_for",
]

log = logging.getLogger(__name__)

LimitClass = Literal["works", "purchases", "leases", "sales", "lending", "others"]
LIMIT_CLASSES: tuple[str, ...] = ("works", "purchases", "leases", "sales", "lending", "others")
#: The classes of 別表第5 as the Enforcement Order names them.
CLASS_JA = {"works": "工事又は製造の請負", "purchases": "財産の買入れ", "leases": "物件の借入れ",
            "sales": "財産の売払い", "lending": "物件の貸付け", "others": "その他のもの"}
Method = Literal["general", "designated", "negotiated", "negotiated_other"]
METHODS: tuple[str, ...] = ("general", "designated", "negotiated", "negotiated_other")
#: negotiated = 少額随意契約 (art. 167-2 (1) item 1, the limits apply); negotiated_other = a
#: negotiated contract under another item (no amount limit).
METHOD_JA = {"general": "一般競争入札", "designated": "指名競争入札",
             "negotiated": "随意契約（少額）", "negotiated_other": "随意契約（少額以外）"}
_STATUTORY = (
    {"kind": "statutory", "title": "地方自治法施行令 別表第5（令和7年改正前）",
     "works": 1_300_000, "purchases": 800_000, "leases": 400_000, "sales": 300_000,
     "lending": 300_000, "others": 500_000},
    {"kind": "statutory", "title": "地方自治法施行令 別表第5（令和7年政令第94号）",
     "from": date(2025, 4, 1), "works": 2_000_000, "purchases": 1_500_000, "leases": 800_000,
     "sales": 500_000, "lending": 300_000, "others": 1_000_000},
)
_CATEGORIES: dict[str, LimitClass] = {
    "土木一式": "works", "建築一式": "works", "舗装": "works", "電気": "works", "管": "works",
    "測量・建設コンサルタント": "others", "物品": "purchases", "賃貸借": "leases",
    "役務": "others", "売払い": "sales", "貸付け": "lending",
}  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class LimitTable(_Model):
    """One table of upper limits (yen) of negotiated contracts, in force from ``from``."""

    kind: Literal["statutory", "town"] = "statutory"
    title: str = Field(min_length=1)
    since: date | None = Field(default=None, alias="from")  # None: in force before the others
    works: int | None = Field(default=None, ge=0)
    purchases: int | None = Field(default=None, ge=0)
    leases: int | None = Field(default=None, ge=0)
    sales: int | None = Field(default=None, ge=0)
    lending: int | None = Field(default=None, ge=0)
    others: int | None = Field(default=None, ge=0)

    def amount(self, cls: str) -> int | None:
        return getattr(self, cls)


class CouncilThreshold(_Model):
    """Contracts that need the council's resolution (議会の議決) from an estimated price on.

    地方自治法第96条第1項第5号・第8号; 施行令第121条の2 — 別表第3 (契約: 町村の工事又は製造の
    請負 5,000万円) and 別表第4 (財産の取得又は処分: 町村 700万円; 土地は1件5,000㎡以上に限る),
    as the town's ordinance (条例) sets them: "予定価格の金額が…を下らない" — at or above.
    """

    title: str = Field(min_length=1)
    classes: tuple[LimitClass, ...] = Field(min_length=1)
    amount: int = Field(gt=0)


_COUNCIL = (
    {"title": "地方自治法施行令 別表第3（町村: 工事又は製造の請負）", "classes": ("works",),
     "amount": 50_000_000},
    {"title": "地方自治法施行令 別表第4（町村: 財産の取得又は処分）",
     "classes": ("purchases", "sales"), "amount": 7_000_000},
)
#: 発注標準: the lowest estimated price (税込) each grade takes, per graded category; a grade's
#: band ends where the next higher grade's begins. Illustrative amounts: the town sets its own.
_ORDER_STANDARD = {c: {"A": 30_000_000, "B": 10_000_000, "C": 3_000_000, "D": 0}
                   for c in ("土木一式", "建築一式", "舗装", "電気", "管")}


#: 格付: the least 経審 総合評定値 (P点) of each grade, per graded category (illustrative: the
#: town's 格付基準 sets its own; 地方自治法施行令第167条の5第1項・第167条の11第2項).
_GRADING = {c: {"A": 800, "B": 700, "C": 600, "D": 0}
            for c in ("土木一式", "建築一式", "舗装", "電気", "管")}
#: The 建設業法 trade (別表第一, as permits abbreviate it) each works category needs.
_PERMIT_TRADES = {"土木一式": "土", "建築一式": "建", "舗装": "ほ", "電気": "電", "管": "管"}


class ContractsSettings(_Model):
    """``[scenarios.contracts]`` in config.toml (paths relative to the config file)."""

    contract_register: Path | None = None  # the register export, or its folder (newest)
    suspensions: Path | None = None  # 指名停止 list export, or its folder
    previous_list: Path | None = None  # the vendor list before this robot (import layout)
    state_db: Path = Path("var/contracts.sqlite")
    mappings_dirs: tuple[Path, ...] = ()
    forms: tuple[str, ...] = ("bid_qualification",)
    export_layout: str = "vendor_list_cms"  # layout of the import CSV (and previous list)
    as_of: date | None = None  # the list's date; unset = the day of the run
    categories: dict[str, LimitClass] = Field(default_factory=lambda: dict(_CATEGORIES))
    graded_classes: tuple[LimitClass, ...] = ("works",)  # their categories need a grade
    grades: tuple[str, ...] = ("A", "B", "C", "D")
    no_qualification: tuple[str, ...] = ("売払い", "貸付け")
    qualification_methods: tuple[Method, ...] = METHODS  # type: ignore[assignment]
    limits: tuple[LimitTable, ...] = Field(
        default_factory=lambda: tuple(LimitTable.model_validate(t) for t in _STATUTORY))
    limit_amount: Literal["estimated_price", "contract_amount"] = "estimated_price"
    limit_tax: Literal["included", "excluded"] = "included"
    tax_rate_percent: int = Field(default=10, ge=0, le=100)
    split_window_days: int = Field(default=30, ge=0)
    split_similarity: float = Field(default=80.0, ge=0, le=100)
    bid_ratio_min: float = Field(default=0.70, ge=0)
    bid_ratio_max: float = Field(default=1.00, gt=0)
    bid_ratio_methods: tuple[Method, ...] = ("general", "designated")
    # 落札率の下限 per class (契約種別): a monitoring floor the town chooses, e.g. works at the
    # lowest 最低制限価格 of the 中央公契連モデル (75 %); classes not named use bid_ratio_min
    bid_ratio_floors: dict[LimitClass, float] = Field(
        default_factory=lambda: {"works": 0.75, "others": 0.60})
    # 施行令第167条の2第1項第1号 by the date of the 契約の申込みの誘引 (令和7年政令第94号 附則):
    # "invitation" = the register's 公告・指名・見積依頼日 when given, else 契約締結日
    limit_date: Literal["invitation", "contract"] = "invitation"
    min_quotes: int = Field(default=2, ge=1)  # 随意契約: quotes needed (the town's 契約規則)
    single_quote_up_to: int = Field(default=100_000, ge=0)  # ... one enough up to this 予定価格
    guarantee_rate: float = Field(default=0.10, ge=0, le=1)  # 契約保証金 (施行令第167条の16)
    guarantee_methods: tuple[Method, ...] = ("general", "designated")
    advance_max_ratio: float = Field(default=0.40, ge=0, le=1)  # 前払金 (施行規則附則第3条)
    advance_classes: tuple[LimitClass, ...] = ("works",)
    council: tuple[CouncilThreshold, ...] = Field(
        default_factory=lambda: tuple(CouncilThreshold.model_validate(t) for t in _COUNCIL))
    order_standard: dict[str, dict[str, int]] = Field(
        default_factory=lambda: {c: dict(g) for c, g in _ORDER_STANDARD.items()})
    order_standard_methods: tuple[Method, ...] = ("general", "designated")
    grading: dict[str, dict[str, int]] = Field(
        default_factory=lambda: {c: dict(g) for c, g in _GRADING.items()})
    permit_trades: dict[str, str] = Field(default_factory=lambda: dict(_PERMIT_TRADES))
    # 経審: the 審査基準日 covers contracts for 1 year 7 months (建設業法施行規則第18条の2)
    keishin_valid_months: int = Field(default=19, ge=1)
    # ... needed for works from these contract amounts (建設業法施行令第27条の13: 500万円,
    # 建築一式工事 1,500万円)
    keishin_from: dict[str, int] = Field(default_factory=lambda: {
        "土木一式": 5_000_000, "建築一式": 15_000_000, "舗装": 5_000_000, "電気": 5_000_000,
        "管": 5_000_000})
    tax_certificate_max_days: int = Field(default=90, ge=0)  # 納税証明書: issued within (規則)
    required_attachments: dict[str, tuple[str, ...]] = Field(default_factory=lambda: {
        "all": ("納税証明書", "誓約書"),
        "works": ("建設業許可通知書の写し", "経営事項審査結果通知書の写し")})
    name_reading_similarity: float = Field(default=70.0, ge=0, le=100)
    split_across_vendors: bool = True  # also list groups of several vendors (candidates)
    department_column: str = ""  # register column summarised per department (default: mapped)
    severity: dict[RuleId, Severity] = Field(default_factory=dict)
    list_workbook_name: str = Field(default="資格者名簿", min_length=1)
    import_csv_name: str = Field(default="資格者名簿_取込用", min_length=1)
    check_workbook_name: str = Field(default="契約チェック結果", min_length=1)
    scan_workbook_name: str = Field(default="申請書読取", min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ContractsSettings:
        problems = []
        if self.bid_ratio_min > self.bid_ratio_max or any(
                f > self.bid_ratio_max for f in self.bid_ratio_floors.values()):
            problems.append("bid_ratio_min and bid_ratio_floors must not be above bid_ratio_max")
        statutory = sorted((t for t in self.limits if t.kind == "statutory"),
                           key=lambda t: t.since or date.min)
        if not statutory:
            problems.append("limits: give at least one statutory table")
        for kind in ("statutory", "town"):
            dates = [t.since for t in self.limits if t.kind == kind]
            if len(set(dates)) != len(dates):
                problems.append(f"limits: two {kind} tables from the same date")
        for t in statutory:
            missing = [c for c in LIMIT_CLASSES if t.amount(c) is None]
            if missing:
                problems.append(f"limits: statutory table {t.title!r} lacks {', '.join(missing)}")
        for t in (t for t in self.limits if t.kind == "town"):
            ref = [s for s in statutory if (s.since or date.min) <= (t.since or date.min)]
            law = ref[-1] if ref else (statutory[0] if statutory else None)
            for c in LIMIT_CLASSES:
                own, top = t.amount(c), law.amount(c) if law else None
                if own is not None and top is not None and own > top:
                    problems.append(f"limits: town table {t.title!r} sets {c} {own:,} above the "
                                    f"statutory {top:,} of {law.title!r}")  # type: ignore[union-attr]
        for cat, bands in self.order_standard.items():
            if cat not in self.categories:
                problems.append(f"order_standard: unknown category {cat!r}")
            odd = [g for g in bands if g not in self.grades]
            if odd:
                problems.append(f"order_standard.{cat}: unknown grades {', '.join(odd)}")
        for cat, bands in self.grading.items():
            if cat not in self.categories or any(g not in self.grades for g in bands):
                problems.append(f"grading.{cat}: unknown category or grade")
        odd = [k for k in self.required_attachments if k != "all" and k not in LIMIT_CLASSES]
        if odd:
            problems.append(f"required_attachments: keys are 'all' or a class, not {odd}")
        unknown = [c for c in self.no_qualification if c not in self.categories]
        if unknown:
            problems.append(f"no_qualification: unknown categories {', '.join(unknown)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def layouts_for(config: Config, settings: ContractsSettings) -> tuple[Layout, ...]:
    """The packaged layouts, then the town's own (raises ``MappingError``)."""
    dirs = (PACKAGED_MAPPINGS, *(config.resolve(d) for d in settings.mappings_dirs))
    return load_layouts(tuple(dirs), SCHEMAS)
