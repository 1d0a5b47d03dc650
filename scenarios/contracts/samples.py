"""Sample vendors, applications and suspensions with known truth (tests, demo, benchmark).

A *world* is drawn from one seed. Vendors are fictitious (:mod:`.samples_names`: invented names,
valid check digits, no real firm's number or name — a sample set names vendors as suspended
and in findings); each gets a qualification history the town's previous list records —
令和5・6年度 (2023-04-01〜2025-03-31, marked 失効 there), 令和7・8年度 (2025-04-01〜2027-03-31),
some categories for 令和7年度 only — and a fate:

==========  ================================================================  ============
fate        what happens                                                      list change
==========  ================================================================  ============
both        qualified in both periods                                         none
old         令和5・6年度 only (contracts after 2025-03-31 lapse)               none
short       one category for 令和7年度 only                                     失効
new         applies online, valid from 2 months ago (or today, or next month)  新規
change      applies again (3 months ago): grade, representative, a category   変更/新規/失効
invalid     applies online with a seeded mistake                              要確認
corrected   applies with a mistake, then again correctly                      新規
paper       applies on the paper form                                         新規 (once read)
outsider    never qualified (a contract with it is 資格なし)                    —
==========  ================================================================  ============

Names are written as companies write them: 株式会社 / (株) / ㈱ in its place, spaces, widths,
old kanji forms; a change application in another spelling of the same name is not a change.
Vendor names are unique up to that folding, so a name identifies a vendor; a few vendors
have a twin with the legal form on the other side (株式会社X and X株式会社), another company.
The register with its seeded violations is drawn by :mod:`scenarios.contracts.samples_register`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np

from ocr.japanese import nfkc
from robots.kit.companies import company_name, same_company
from robots.samples.context import DocumentContext
from robots.samples.sources import Corporation
from scenarios.contracts.registry import sole_proprietor_id
from scenarios.contracts.samples_names import fictitious_vendors

__all__ = ["CATEGORY_WEIGHTS", "INVALID_KINDS", "KEISHIN", "P1", "P2", "P2A", "POINTS",
           "SAMPLE_TODAY", "STALE_KEISHIN", "WORKS_KINDS", "SApp", "SVendor", "VendorWorld",
           "build_vendors", "name_variant"]

SAMPLE_TODAY = dt.date(2026, 10, 1)
P1 = (dt.date(2023, 4, 1), dt.date(2025, 3, 31))  # 令和5・6年度
P2 = (dt.date(2025, 4, 1), dt.date(2027, 3, 31))  # 令和7・8年度
P2A = (dt.date(2025, 4, 1), dt.date(2026, 3, 31))  # 令和7年度 only
CATEGORY_WEIGHTS = {"土木一式": 0.22, "建築一式": 0.08, "舗装": 0.12,
                    "測量・建設コンサルタント": 0.1, "物品": 0.25, "役務": 0.16, "賃貸借": 0.07}
GRADED = ("土木一式", "建築一式", "舗装")
_TRADES = {"土木一式": "土", "建築一式": "建", "舗装": "ほ"}
FATES = {"sole": 0.01, "both": 0.45, "old": 0.08, "short": 0.08, "new": 0.12, "change": 0.12,
         "invalid": 0.05, "corrected": 0.02, "outsider": 0.07}
INVALID_KINDS = ("check_digit", "no_representative", "no_points", "unknown_category",
                 "period_order", "no_contact", "rows_disagree", "no_permit", "keishin_old",
                 "tax_old", "no_attachment")
#: Kinds about works (建設業許可, 経審): the application gets a works category if it has none.
WORKS_KINDS = ("no_points", "no_permit", "keishin_old")
#: 経審 総合評定値 drawn for a grade (the town's 格付 of the default [grading] gives it back).
POINTS = {"A": (800, 950), "B": (700, 799), "C": (600, 699), "D": (450, 599)}
#: 審査基準日 of the 経審 the previous list records: for 令和5・6年度 and 令和7・8年度 lines,
#: and the stale one of a few vendors (valid until 2025-10-31, 1 year 7 months) seeds use.
KEISHIN = {P1[0]: dt.date(2023, 9, 30), P2[0]: dt.date(2025, 3, 31)}
STALE_KEISHIN = dt.date(2024, 3, 31)
#: Old forms of the vetted table (robots.kit.kanji) that companies still write.
_VARIANT_KANJI = {"高": "髙", "崎": "﨑", "辺": "邊", "斎": "齋", "沢": "澤", "浜": "濱",
                  "国": "國", "桜": "櫻", "広": "廣", "恵": "惠", "真": "眞"}
_TYPE_FORMS = {"株式会社": ("株式会社", "(株)", "㈱", "（株）", "株式会社 "),
               "有限会社": ("有限会社", "(有)", "㈲", "（有）")}


@dataclass
class SApp:
    """One application to be written (CSV rows or a paper form), with its truth."""

    vendor: SVendor
    number: str  # 受付番号 ("" on paper)
    applied: dt.date
    start: dt.date
    end: dt.date
    categories: list[tuple[str, str]]
    name: str  # as written
    kind: str = ""  # the seeded mistake, "" when clean
    channel: str = "csv"
    file: str = ""
    locator: str = ""
    expected: str = "名簿登録"  # or 要確認
    open_review: bool = False


@dataclass
class SVendor:
    """One vendor of the world: a fictitious corporation, its profile and qualification history."""

    corp: Corporation
    fate: str
    rep_title: str
    rep_name: str
    postal: str
    address: str
    phone: str
    fax: str
    email: str
    lines: list[tuple[str, str, dt.date, dt.date, str]] = field(default_factory=list)
    quals: list[tuple[str, str, dt.date, dt.date]] = field(default_factory=list)  # final truth
    new_rep: str = ""
    permit: str = ""  # 建設業許可番号
    trades: str = ""  # 許可業種
    stale: bool = False  # its 経審 on the previous list runs out on 2025-10-31

    @property
    def sole(self) -> bool:
        """A 個人事業主: no corporate number; ``corp.number`` is its list key."""
        return self.corp.kind == "個人"

    def keishin_ok(self, category: str, day: dt.date) -> bool:
        """Whether a works contract on ``day`` (and 60 days before) has a 経審 in force."""
        return not (self.stale and category in GRADED and day > dt.date(2025, 8, 31))

    @property
    def number(self) -> str:
        return self.corp.number

    @property
    def name(self) -> str:
        return self.corp.name

    def qualified(self, category: str, day: dt.date) -> bool:
        return any(c == category and s <= day <= e for c, _g, s, e in self.quals)

    def ever(self, category: str) -> bool:
        return any(c == category for c, *_ in self.quals)


@dataclass
class VendorWorld:
    """Vendors, their applications and the expected list changes."""

    today: dt.date
    seed: int
    vendors: list[SVendor]
    apps: list[SApp]
    outsiders: list[Corporation]
    changes: dict[str, str]  # "number|category" → 新規 / 変更 / 失効


def _month_start(today: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (negative: before) ``today``'s."""
    n = today.year * 12 + today.month - 1 + months
    return dt.date(n // 12, n % 12 + 1, 1)


def name_variant(name: str, rng: np.random.Generator) -> str:
    """Another spelling of the same company name (equal under :func:`same_company`)."""
    out = name
    for full, forms in _TYPE_FORMS.items():
        if full in out:
            out = out.replace(full, forms[int(rng.integers(len(forms)))], 1)
    if rng.random() < 0.4:
        out = nfkc(out)  # full-width letters and digits as ASCII
    if rng.random() < 0.5:
        out = "".join(_VARIANT_KANJI.get(ch, ch) for ch in out)
    if rng.random() < 0.2 and "(株)" not in out:
        out = out.replace("株式会社", "株式会社\u3000", 1)
    assert same_company(out, name), (out, name)
    return out


def _grade(rng: np.random.Generator, category: str) -> str:
    return "ABCD"[int(rng.choice(4, p=[0.15, 0.35, 0.35, 0.15]))] if category in GRADED else ""


def _categories(rng: np.random.Generator, k: int) -> list[tuple[str, str]]:
    names = list(CATEGORY_WEIGHTS)
    p = np.array([CATEGORY_WEIGHTS[n] for n in names])
    picked = rng.choice(len(names), size=k, replace=False, p=p / p.sum())
    return [(names[int(i)], _grade(rng, names[int(i)])) for i in sorted(picked)]


def _vendor(corp: Corporation, fate: str, rng: np.random.Generator, today: dt.date) -> SVendor:
    ctx = DocumentContext(rng, today, corporate=True)
    ctx.__dict__["corp"] = corp
    rep = ctx.person
    return SVendor(corp, fate, ctx.corp_title(("代表取締役", "取締役社長", "取締役", "代表社員")),
                   f"{rep.last}\u3000{rep.first}", ctx.place.postal_code, ctx.address,
                   ctx.corp_phone, ctx.corp_fax,
                   f"info@{corp.number[-6:]}.example.jp" if rng.random() < 0.6 else "")


def _history(v: SVendor, rng: np.random.Generator) -> None:
    """The previous list's lines and the qualifications before this run's applications."""
    cats = _categories(rng, 1 + int(rng.choice(3, p=[0.5, 0.35, 0.15])))
    authority = "国土交通大臣" if rng.random() < 0.1 else "熊本県知事"
    kind = "特" if rng.random() < 0.15 else "般"
    year, serial = int(rng.integers(1, 8)), int(rng.integers(100, 99999))
    v.permit = f"{authority} 許可（{kind}-{year}）第{serial}号"
    v.trades = "・".join(dict.fromkeys(_TRADES[c] for c in GRADED))  # every works trade
    v.stale = v.fate == "both" and any(c in GRADED for c, _g in cats) and rng.random() < 0.08
    if v.fate in ("both", "old", "short", "change"):
        v.lines += [(c, g, *P1, "失効") for c, g in cats]
    if v.fate in ("both", "short", "change"):
        v.lines += [(c, g, *P2, "有効") for c, g in cats]
    extra = next((c for c in ("物品", "役務", "賃貸借") if c not in dict(cats)), None)
    if v.fate == "short" and extra is None:
        v.fate = "both"
    elif v.fate == "short":
        v.lines.append((extra, "", *P2A, "有効"))
    v.quals = [(c, g, s, e) for c, g, s, e, _st in v.lines]


def build_vendors(count: int, seed: int, *, today: dt.date = SAMPLE_TODAY, paper: int = 1
                  ) -> VendorWorld:
    """Draw ``count`` vendors (and outsiders) with their applications and expected changes."""
    if not dt.date(2025, 8, 1) <= today <= P2[1]:
        raise ValueError("sample sets are drawn for a day between 2025-08-01 and 2027-03-31 "
                         "(令和7・8年度, after the 2025 revision of the limits)")
    rng = np.random.default_rng([seed, 701])
    corps = fictitious_vendors(count + paper, np.random.default_rng([seed, 704]))
    vendors: list[SVendor] = []
    outsiders: list[Corporation] = []
    keys, p = list(FATES), np.array(list(FATES.values()))
    trades: set[str] = set()  # 屋号 of the sole proprietors drawn
    for n, corp in enumerate(corps):
        fate = "paper" if n < paper else keys[int(rng.choice(len(keys), p=p / p.sum()))]
        if n == paper and count > 8:
            fate = "corrected"  # every set shows a mistake settled by a corrected application
        elif paper < n <= paper + len(INVALID_KINDS) and count > 20:
            fate = "invalid"  # and every kind of mistake once
        elif n == paper + len(INVALID_KINDS) + 1 and count > 20:
            fate = "sole"  # and a 個人事業主
        if fate == "outsider":
            outsiders.append(corp)
            continue
        if fate == "sole" and company_name(corp.name).core in trades:
            fate = "new"  # a twin's words: one 個人事業主 per 屋号, a name identifies it
        v = _vendor(corp, fate, rng, today)
        if fate == "sole":  # the made-up words without a legal form are its 屋号
            trade = company_name(corp.name).core
            trades.add(trade)
            v.corp = replace(corp, kind="個人", name=trade,
                             number=sole_proprietor_id(trade, v.address))
        _history(v, rng)
        vendors.append(v)
    if count > 20 and not any(v.stale for v in vendors):  # every set has one stale 経審
        works = [v for v in vendors if v.fate == "both" and any(
            c in GRADED and g in ("A", "B") for c, g, *_ in v.lines)]
        if works:
            works[0].stale = True
    apps: list[SApp] = []
    changes: dict[str, str] = {}
    invalid = 0
    for v in vendors:
        apps += _applications(v, rng, today, changes, len(apps), invalid)
        invalid += v.fate == "invalid"
    for v in vendors:  # what the previous list says lapses by today
        for c, _g, _s, e, status in v.lines:
            if status == "有効" and e < today and v.fate != "change":
                changes[f"{v.number}|{c}"] = "失効"
    return VendorWorld(today, seed, vendors, apps, outsiders, changes)


def _applications(v: SVendor, rng: np.random.Generator, today: dt.date,
                  changes: dict[str, str], n: int, invalid: int) -> list[SApp]:
    number = f"R08-{n + 1:05d}"
    if v.fate in ("new", "corrected", "paper", "invalid", "sole"):
        start = (_month_start(today, -2), today, _month_start(today, 1))[
            int(rng.choice(3, p=[0.7, 0.15, 0.15]))]
        applied = min(start, today) - dt.timedelta(days=int(rng.integers(10, 40)))
        if v.fate in ("paper", "sole"):  # no works: the paper form carries no 経審 points
            cats = [(c, "") for c in ("物品", "役務", "測量・建設コンサルタント")
                    if rng.random() < 0.6] or [("役務", "")]
        else:
            cats = _categories(rng, 1 + int(rng.integers(3)))
        app = SApp(v, "" if v.fate == "paper" else number, applied, start, P2[1], cats,
                   name_variant(v.name, rng), channel="paper" if v.fate == "paper" else "csv")
        if v.fate == "invalid":
            app.kind = INVALID_KINDS[invalid % len(INVALID_KINDS)]
            if app.kind in WORKS_KINDS and not any(c in GRADED for c, _ in cats):
                app.categories = [("土木一式", "B"), *cats]
            app.expected, app.open_review = "要確認", True
            return [app]
        v.quals += [(c, g, start, P2[1]) for c, g in cats]
        for c, _g in cats:
            changes[f"{v.number}|{c}"] = "新規"
        if v.fate != "corrected":
            return [app]
        wrong = SApp(v, f"R08-{n + 1:05d}", applied - dt.timedelta(days=5), start, P2[1],
                     list(cats), app.name, kind="no_representative", expected="要確認")
        app.number = f"R08-{n + 1:05d}"  # the service keeps the receipt number of a resend
        return [wrong, app]
    if v.fate != "change":
        return []
    old = {c: g for c, g, s, _e, st in v.lines if st == "有効"}
    cats = dict(old)
    what = ("grade", "rep", "add", "drop")[int(rng.integers(4))]
    if what == "grade":
        c = next(iter(cats))
        cats[c] = "ABCD"[("ABCD".index(cats[c]) + 1) % 4] if cats[c] else cats[c]
        if not cats[c]:
            what = "rep"
    if what == "add":
        extra = next((c for c in CATEGORY_WEIGHTS if c not in cats), None)
        if extra is None:
            what = "rep"
        else:
            cats[extra] = _grade(rng, extra)
    if what == "drop" and len(cats) < 2:
        what = "rep"
    elif what == "drop":
        cats.pop(sorted(cats)[-1])
    if what == "rep":
        last, _, first = v.rep_name.partition("\u3000")
        v.new_rep = f"{last}\u3000{'一郎' if first != '一郎' else '次郎'}"
    change_from = max(_month_start(today, -3), dt.date(2025, 5, 1))
    applied = change_from - dt.timedelta(days=int(rng.integers(10, 30)))
    app = SApp(v, number, applied, change_from, P2[1], sorted(cats.items()),
               name_variant(v.name, rng), kind="")
    v.quals = [(c, g, s, min(e, change_from - dt.timedelta(days=1)) if s <= change_from <= e
                else e) for c, g, s, e in v.quals if s < change_from]
    v.quals += [(c, g, change_from, P2[1]) for c, g in cats.items()]
    for c in set(old) | set(cats):
        key = f"{v.number}|{c}"
        if c not in old:
            changes[key] = "新規"
        elif c not in cats:
            changes[key] = "失効"
        elif old[c] != cats[c] or v.new_rep:
            changes[key] = "変更"
    return [app]
