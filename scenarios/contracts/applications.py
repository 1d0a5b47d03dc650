"""Bid-qualification applications: rows of the online service's CSV and paper forms, checked.

Both channels become the same normalised values (:data:`APPLICATION_FIELDS`), then the same
checks decide whether the application may enter the qualified-vendor list or goes to review
(要確認): the corporate number's check digit (:mod:`ocr.checkdigits`), the name,
representative and address, a way to reach the company, known business categories with a
valid grade where the category's class is graded (工事: A–D), and a validity period that
ends after it starts. A value that cannot be trusted never stops anything: it is kept as
read, with a Japanese reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from ocr.checkdigits import is_valid_corporate_number
from ocr.japanese import (
    digits_only,
    nfkc,
    normalize_kana,
    normalize_phone,
    normalize_postal,
    normalize_text,
    parse_date,
)
from robots.kit.reconcile import normalize_ref
from robots.kit.tables import Layout
from scenarios.contracts.settings import ContractsSettings

__all__ = [
    "APPLICATION_FIELDS",
    "FIELD_LABELS",
    "PAPER",
    "PAPER_CATEGORIES",
    "PERMIT",
    "SOLE",
    "Application",
    "add_months",
    "categories_ja",
    "check_application",
    "decode_categories",
    "encode_categories",
    "fiscal_years",
    "group_rows",
    "paper_values",
    "town_grades",
]

log = logging.getLogger(__name__)

FIELD_LABELS = {
    "application_number": "受付番号", "application_date": "申請日",
    "corporate_number": "法人番号", "name": "商号又は名称", "kana": "フリガナ",
    "representative_title": "代表者役職", "representative_name": "代表者氏名",
    "postal_code": "郵便番号", "address": "所在地", "phone": "電話番号", "fax": "FAX番号",
    "email": "メールアドレス", "categories": "業種・等級", "valid_from": "有効期間（自）",
    "valid_to": "有効期間（至）", "applicant_type": "申請者の区分", "trade_name": "屋号",
    "permit_number": "建設業許可番号", "permit_expiry": "建設業許可の有効期間（至）",
    "permit_trades": "許可業種", "keishin_date": "経審の審査基準日",
    "keishin_points": "経審の総合評定値", "tax_certificate_date": "納税証明書の発行日",
    "attachments": "添付書類",
}  # fmt: skip
#: The normalised values of an application, in this order, with their run-log field type.
APPLICATION_FIELDS: dict[str, str] = {
    "application_number": "text", "application_date": "date",
    "corporate_number": "corporate_number", "name": "text", "kana": "kana",
    "representative_title": "text", "representative_name": "text",
    "postal_code": "postal_code", "address": "text", "phone": "phone", "fax": "phone",
    "email": "text", "categories": "text", "valid_from": "date", "valid_to": "date",
    "applicant_type": "text", "trade_name": "text", "permit_number": "text",
    "permit_expiry": "date", "permit_trades": "text", "keishin_date": "date",
    "keishin_points": "text", "tax_certificate_date": "date", "attachments": "text",
}  # fmt: skip
#: The paper form's category boxes (bid_qualification.toml): checkbox, grade field, category.
PAPER_CATEGORIES = (("cat_doboku", "grade_doboku", "土木一式"),
                    ("cat_kenchiku", "grade_kenchiku", "建築一式"),
                    ("cat_hoso", "grade_hoso", "舗装"),
                    ("cat_consultant", "", "測量・建設コンサルタント"),
                    ("cat_goods", "", "物品"), ("cat_services", "", "役務"))
_PAPER_FIELDS = {"corporate_number": "corporate_number", "company_name": "name",
                 "company_kana": "kana", "representative_title": "representative_title",
                 "representative_name": "representative_name", "postal_code": "postal_code",
                 "address": "address", "phone": "phone", "fax": "fax",
                 "application_date": "application_date", "valid_from": "valid_from",
                 "valid_to": "valid_to"}
_COMMON = ("application_number", "application_date", "corporate_number", "name", "kana",
           "representative_title", "representative_name", "postal_code", "address", "phone",
           "fax", "email", "valid_from", "valid_to", "fiscal_years", "applicant_type",
           "trade_name", "permit_number", "permit_expiry", "permit_trades", "keishin_date",
           "tax_certificate_date", "attachments")
_DATES = ("application_date", "valid_from", "valid_to", "permit_expiry", "keishin_date",
          "tax_certificate_date")
#: 建設業許可番号 as the permit states it: 国土交通大臣 許可（特-6）第12345号 /
#: 熊本県知事 許可（般-5）第6789号 (建設業法第3条: 大臣 or 知事, 一般 or 特定, year, number).
PERMIT = re.compile(r"^(国土交通大臣|\S{2,4}[都道府県]知事)許可[(（](般|特)[-‐－ー―]"
                    r"(\d{1,2})[)）]第(\d{1,6})号$")
PAPER = "paper"  # values["channel"] of a paper application (paper_values)
SOLE = "個人"  # applicant_type of a 個人事業主 (identified by name, address and 屋号)
_ERA_BASE = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988}
_YEARS = re.compile(r"(令和|平成|R|H)?\s*(元|\d{1,4})")


@dataclass(frozen=True, slots=True)
class Application:
    """One application, normalised, with where it came from and what is wrong with it."""

    key: str  # stable across runs: file hash + row / page
    source: str  # layout id, or "paper"
    file_name: str
    locator: str  # 12行目 / 1ページ
    arrival: int
    values: Mapping[str, str]
    problems: tuple[str, ...] = ()

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def categories(self) -> tuple[tuple[str, str], ...]:
        return decode_categories(self.get("categories"))

    @property
    def accepted(self) -> bool:
        return not self.problems


def encode_categories(pairs: Iterable[tuple[str, str]]) -> str:
    """``土木一式:A;物品:`` — categories with their grade, as one value (run log, state)."""
    return ";".join(f"{c}:{g}" for c, g in pairs)


def categories_ja(value: str) -> str:
    """``土木一式（A）、物品`` — the encoded categories as people read them."""
    return "、".join(f"{c}（{g}）" if g else c for c, g in decode_categories(value))


def decode_categories(value: str) -> tuple[tuple[str, str], ...]:
    """The (category, grade) pairs of :func:`encode_categories`."""
    out = []
    for part in (value or "").split(";"):
        if part:
            c, _, g = part.partition(":")
            out.append((c, g))
    return tuple(out)


def fiscal_years(text: str) -> tuple[str, str] | None:
    """``令和7・8年度`` / ``R7-R8`` / ``2025・2026年度`` → (first 1 April, last 31 March)."""
    found = _YEARS.findall(nfkc(text))
    years: list[int] = []
    era = ""
    for head, num in found:
        era = head or era
        n = 1 if num == "元" else int(num)
        years.append(n + _ERA_BASE[era] if era and n < 100 else n)
    if not years or not all(1900 < y < 2200 for y in years):
        return None
    return f"{min(years)}-04-01", f"{max(years) + 1}-03-31"


def _date(raw: str) -> str:
    d = parse_date(normalize_text(raw)) if raw else None
    return d.isoformat() if d else normalize_text(raw)


def _normalise(field: str, raw: str) -> str:
    if field in _DATES:
        return _date(raw)
    if field == "permit_number":
        return normalize_text(raw).replace(" ", "")
    if field in ("permit_trades", "attachments"):
        return "・".join(p for p in re.split(r"[・、,，/／\s]+", nfkc(raw)) if p)
    if field == "corporate_number":
        return digits_only(normalize_text(raw)).replace("-", "")
    if field == "kana":
        return normalize_kana(raw)
    if field == "postal_code":
        return normalize_postal(raw) or normalize_text(raw)
    if field in ("phone", "fax"):
        return normalize_phone(raw) or normalize_text(raw)
    return normalize_text(raw)


def group_rows(layout: Layout, rows: Iterable[tuple[int, dict[str, str]]]
               ) -> list[tuple[list[int], dict[str, str], list[tuple[str, str]]]]:
    """Rows of one application together: (line numbers, values, problems) per application.

    Rows belong together when they share the receipt number (or, without one, the corporate
    number and application date); their common values must agree.
    """
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, str]]]] = {}
    for line, raw in rows:
        v = {k: layout.value(k, s) for k, s in raw.items()}
        number = normalize_ref(v.get("application_number", ""))
        key = ("n", number) if number else (
            "c", _normalise("corporate_number", v.get("corporate_number", "")),
            _date(v.get("application_date", "")))
        groups.setdefault(key, []).append((line, v))
    out = []
    for members in groups.values():
        values: dict[str, str] = {}
        problems: list[tuple[str, str]] = []
        for f in _COMMON:
            seen = {_normalise(f, v.get(f, "")) for _, v in members}
            if len(seen) > 1:
                problems.append((f if f in FIELD_LABELS else "valid_from",
                                 f"{FIELD_LABELS.get(f, '有効年度')}: 行によって値が違う"))
            values[f] = _normalise(f, members[0][1].get(f, ""))
        if values.pop("fiscal_years", "") and not (values["valid_from"] or values["valid_to"]):
            years = fiscal_years(members[0][1].get("fiscal_years", ""))
            if years is None:
                problems.append(("valid_from", "有効年度: 年度として読めない"))
            else:
                values["valid_from"], values["valid_to"] = years
        pairs = [(normalize_text(v.get("category", "")), nfkc(v.get("grade", "")).strip().upper())
                 for _, v in members]
        values["categories"] = encode_categories(pairs)
        values["keishin_points"] = encode_categories(
            (c, digits_only(nfkc(v.get("keishin_points", ""))))
            for (c, _g), (_, v) in zip(pairs, members, strict=True)
            if v.get("keishin_points", "").strip())
        out.append(([line for line, _ in members], values, problems))
    return out


def paper_values(fields: Mapping[str, str]) -> dict[str, str]:
    """The values of a paper application (bid_qualification form fields) as an application."""
    values = {name: _normalise(name, fields.get(src, "")) for src, name in _PAPER_FIELDS.items()}
    values.update(application_number="", email="")
    pairs = [(cat, nfkc(fields.get(grade, "")).strip().upper() if grade else "")
             for box, grade, cat in PAPER_CATEGORIES if fields.get(box, "") == "1"]
    values["categories"] = encode_categories(pairs)
    values["channel"] = PAPER
    return values


def add_months(day: date, months: int) -> date:
    """``day`` ``months`` later, on the same day of the month or the month's last day."""
    n = day.year * 12 + day.month - 1 + months
    year, month = divmod(n, 12)
    for d in range(day.day, 27, -1):
        try:
            return date(year, month + 1, d)
        except ValueError:
            continue
    return date(year, month + 1, min(day.day, 28))


def town_grades(values: Mapping[str, str], settings: ContractsSettings
                ) -> tuple[tuple[str, str], ...]:
    """The categories with the town's 格付 (from the 経審 points) instead of the grade asked.

    A graded category without points keeps no grade (the application is then 要確認). The
    paper form has no points: its grade boxes are the 格付 the clerk writes from the attached
    経審 result, taken as they are.
    """
    if values.get("channel") == PAPER:
        return decode_categories(values.get("categories", ""))
    points = dict(decode_categories(values.get("keishin_points", "")))
    out = []
    for cat, asked in decode_categories(values.get("categories", "")):
        bands = settings.grading.get(cat)
        if bands is None:
            out.append((cat, asked))
            continue
        p = int(points[cat]) if points.get(cat, "").isdigit() else None
        out.append((cat, "" if p is None else max((g for g, low in bands.items() if p >= low),
                                                  key=lambda g: bands[g], default="")))
    return tuple(out)


def _dates(values: Mapping[str, str], problem: Callable[[str, str], None]) -> dict[str, date]:
    dates = {}
    for f in _DATES:
        v = values.get(f, "")
        if not v:
            if f in ("valid_from", "valid_to"):
                problem(f, "空欄")
            continue
        try:
            dates[f] = date.fromisoformat(v)
        except ValueError:
            problem(f, "日付として読めない")
    return dates


def _works(values: Mapping[str, str], settings: ContractsSettings, works: list[str],
           when: date, problem: Callable[[str, str], None], dates: Mapping[str, date]) -> None:
    """建設業許可 and 経審 of an application for works categories (建設業法第3条・第27条の23)."""
    permit = values.get("permit_number", "")
    m = PERMIT.match(normalize_text(permit).replace(" ", ""))
    if not permit:
        problem("permit_number", "工事の業種の申請に建設業許可番号がない")
    elif m is None:
        problem("permit_number", f"「{permit}」は「○○知事 許可（般-5）第1234号」の形ではない")
    if "permit_expiry" not in dates:
        if permit:
            problem("permit_expiry", "建設業許可の有効期間（至）がない")
    elif dates["permit_expiry"] < when:
        problem("permit_expiry", f"建設業許可が {dates['permit_expiry']:%Y-%m-%d} に満了している")
    trades = set(values.get("permit_trades", "").split("・")) - {""}
    for cat in works if permit else ():  # without a permit, its trades are not asked about
        need = settings.permit_trades.get(cat)
        if need and need not in trades:
            problem("permit_trades", f"{cat}に要る許可業種「{need}」がない")
    if "keishin_date" not in dates:
        problem("keishin_date", "経審の審査基準日がない")
    elif add_months(dates["keishin_date"], settings.keishin_valid_months) < when:
        problem("keishin_date", f"審査基準日 {dates['keishin_date']:%Y-%m-%d} から1年7か月を"
                                "過ぎている")
    points = dict(decode_categories(values.get("keishin_points", "")))
    for cat in works:
        if cat in settings.grading and not points.get(cat, "").isdigit():
            problem("keishin_points", f"{cat}の総合評定値がない（格付できない）")


def check_application(values: Mapping[str, str], settings: ContractsSettings, today: date
                      ) -> list[tuple[str, str]]:
    """What keeps an application out of the list, as (field, Japanese reason)."""
    problems: list[tuple[str, str]] = []

    def problem(f: str, why: str) -> None:
        problems.append((f, f"{FIELD_LABELS[f]}: {why}"))

    number = values.get("corporate_number", "")
    sole = values.get("applicant_type", "") == SOLE
    paper = values.get("channel") == PAPER
    if sole and number:  # a sole proprietor has no corporate number; a personal one is not asked
        problem("corporate_number", "個人事業主の申請に番号が書かれている（個人番号は収集しない）")
    elif sole:
        if not values.get("trade_name") and not values.get("name"):
            problem("name", "個人事業主の氏名も屋号もない")
    elif not number:
        problem("corporate_number", "空欄")
    elif len(number) != 13 or not number.isdigit():
        problem("corporate_number", "13桁の数字ではない")
    elif not is_valid_corporate_number(number):
        problem("corporate_number", "チェックディジットが合わない")
    for f in ("name", "representative_name", "address"):
        if not values.get(f) and not (sole and f == "representative_name"):
            problem(f, "空欄")
    if values.get("postal_code") and normalize_postal(values["postal_code"]) is None:
        problem("postal_code", "形式が正しくない")
    for f in ("phone", "fax"):
        if values.get(f) and normalize_phone(values[f]) is None:
            problem(f, "電話番号として正しくない")
    if not values.get("phone") and not values.get("email"):
        problem("phone", "電話番号もメールアドレスもない")
    pairs = decode_categories(values.get("categories", ""))
    if not pairs:
        problem("categories", "希望業種がない")
    seen: dict[str, str] = {}
    for cat, grade in pairs:
        cls = settings.categories.get(cat)
        if cls is None or cat in settings.no_qualification:
            problem("categories", f"不明な業種（{cat or '空欄'}）")
        elif (cls in settings.graded_classes and grade not in settings.grades
              and (cat not in settings.grading or paper)):
            problem("categories", f"{cat}の等級が{'空欄' if not grade else f'不正（{grade}）'}")
        if cat in seen and seen[cat] != grade:
            problem("categories", f"{cat}が2回、違う等級で申請されている")
        seen[cat] = grade
    dates = _dates(values, problem)
    if "valid_from" in dates and "valid_to" in dates and dates["valid_to"] < dates["valid_from"]:
        problem("valid_to", "有効期間の終わりが始まりより前")
    applied = dates.get("application_date")
    if applied is not None and applied > today:
        problem("application_date", "未来の日付")
    when = min(applied or dates.get("valid_from") or today, today)
    works = [c for c, _g in pairs if settings.categories.get(c) in settings.graded_classes]
    if not paper:  # the paper form carries its permit and papers physically: a clerk checks
        if works:
            _works(values, settings, works, when, problem, dates)
        _papers(values, settings, pairs, when, problem, dates)
    return problems


def _papers(values: Mapping[str, str], settings: ContractsSettings,
            pairs: tuple[tuple[str, str], ...], when: date,
            problem: Callable[[str, str], None], dates: Mapping[str, date]) -> None:
    """納税証明書 within its age, and the attachments the town requires (its 規則)."""
    issued = dates.get("tax_certificate_date")
    if issued is None:
        problem("tax_certificate_date", "納税証明書の発行日がない")
    elif issued > when or (when - issued).days > settings.tax_certificate_max_days:
        problem("tax_certificate_date", f"発行日 {issued:%Y-%m-%d} が申請日の"
                f"{settings.tax_certificate_max_days}日前から申請日までの間にない")
    given = set(values.get("attachments", "").split("・"))
    classes = {settings.categories.get(c) for c, _g in pairs}
    for key, names in settings.required_attachments.items():
        if key == "all" or key in classes:
            for name in names:
                if name not in given:
                    problem("attachments", f"「{name}」がない")
