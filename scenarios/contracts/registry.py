"""The qualified-vendor list: who is qualified for which category on which day, and changes.

The list is *derived* every run from everything known — the town's previous list (taken in
once) and every accepted application received so far — never edited in place, so a run redone
after a crash gives the same list. History is kept: a qualification that lapsed is still
known, because a contract is checked against the list valid on *its* date.

Precedence: previous-list lines are independent of each other (one per vendor and
category); an application restates the vendor's whole qualification for its period, so on
that period it replaces everything earlier (an application dated later, or received later,
wins) — a category it leaves out is withdrawn from its first day. What was replaced is
remembered (``cut_by``) so that the change sheet can say why a qualification ended.

"On the list" on a day means not lapsed: valid that day or later. Changes are per vendor and
category between the previous list and this one: 新規 (now listed, not before), 失効 (listed
before, not now), 変更 (grade, end of validity, name, kana, representative, address or
contact differ; names compared up to company-type words, widths and old/new kanji).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from ocr.japanese import normalize_text
from robots.kit.companies import company_key, same_company
from scenarios.contracts.applications import SOLE, Application

__all__ = ["ATTRS", "SOLE_PREFIX", "Change", "Entry", "QualifiedList", "Source",
           "applications_into", "diff_lists", "is_sole_proprietor", "listed_row",
           "sole_proprietor_id"]

log = logging.getLogger(__name__)

#: Vendor attributes a source carries (and the list shows).
ATTRS = ("name", "kana", "representative_title", "representative_name", "postal_code",
         "address", "phone", "fax", "email", "keishin_date")
_COMPARED = (("grade", "等級"), ("valid_to", "有効期間（至）"), ("name", "商号又は名称"),
             ("kana", "フリガナ"), ("representative", "代表者"), ("postal_code", "郵便番号"),
             ("address", "所在地"), ("phone", "電話番号"), ("fax", "FAX番号"))
_DAY = timedelta(days=1)
#: The list's key of a 個人事業主 (no corporate number, and no personal number is collected):
#: 個人- and a digest of the name (屋号, else 氏名) and address, as normalised.
SOLE_PREFIX = "個人-"


def sole_proprietor_id(name: str, address: str) -> str:
    """The stable key of a sole proprietor on the list (see :data:`SOLE_PREFIX`)."""
    text = f"{company_key(name)}|{normalize_text(address).replace(' ', '')}"
    return SOLE_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10].upper()


def is_sole_proprietor(vendor: str) -> bool:
    """Whether a list key is a sole proprietor's (:func:`sole_proprietor_id`)."""
    return vendor.startswith(SOLE_PREFIX)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a qualification comes from: an application, or a line of the previous list."""

    key: str
    label: str  # for people: 申請（受付番号 …、file 3行目） / 前回名簿 12行目
    number: str
    attrs: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Entry:
    """One vendor's qualification for one category over [start, end]."""

    number: str
    category: str
    grade: str
    start: date
    end: date
    source: Source
    cut_by: str = ""  # label of the application that ended it early

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(slots=True)
class _Vendor:
    entries: list[Entry] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    def clear(self, start: date, end: date, by: str, category: str | None = None) -> None:
        kept: list[Entry] = []
        for e in self.entries:
            if (category is not None and e.category != category) or e.end < start or \
                    e.start > end:
                kept.append(e)
                continue
            if e.start < start:
                kept.append(replace(e, end=start - _DAY, cut_by=by))
            if e.end > end:
                kept.append(replace(e, start=end + _DAY))
        self.entries = kept


class QualifiedList:
    """Every qualification known, by corporate number; see the module docstring."""

    def __init__(self) -> None:
        self._vendors: dict[str, _Vendor] = {}
        self._by_key: dict[str, set[str]] = {}

    def _vendor(self, number: str, source: Source) -> _Vendor:
        v = self._vendors.setdefault(number, _Vendor())
        v.sources.append(source)
        name = source.attrs.get("name", "")
        if name:
            self._by_key.setdefault(company_key(name), set()).add(number)
        return v

    def add_line(self, source: Source, category: str, grade: str, start: date, end: date
                 ) -> None:
        """A line of the previous list: replaces earlier lines of its category on its period."""
        v = self._vendor(source.number, source)
        v.clear(start, end, source.label, category)
        v.entries.append(Entry(source.number, category, grade, start, end, source))

    def add_application(self, source: Source, categories: Iterable[tuple[str, str]],
                        start: date, end: date) -> None:
        """An accepted application: replaces everything earlier of the vendor on its period."""
        v = self._vendor(source.number, source)
        v.clear(start, end, source.label)
        v.entries += [Entry(source.number, c, g, start, end, source) for c, g in categories]

    # -- queries -----------------------------------------------------------------------------

    def known(self, number: str) -> bool:
        return number in self._vendors

    def entries(self, number: str, category: str | None = None) -> list[Entry]:
        v = self._vendors.get(number)
        if v is None:
            return []
        return sorted((e for e in v.entries if category is None or e.category == category),
                      key=lambda e: e.start)

    def entry_on(self, number: str, category: str, day: date) -> Entry | None:
        return next((e for e in self.entries(number, category) if e.covers(day)), None)

    def names(self, number: str) -> list[str]:
        v = self._vendors.get(number)
        return list(dict.fromkeys(s.attrs.get("name", "") for s in v.sources
                                  if s.attrs.get("name"))) if v else []

    def keishin(self, number: str, day: date) -> date | None:
        """The latest 経審 審査基準日 the vendor's sources give on or before ``day``."""
        v = self._vendors.get(number)
        found = [d for s in (v.sources if v else ()) if (d := _iso(s.attrs.get("keishin_date")))
                 and d <= day]
        return max(found, default=None)

    def latest_name(self, number: str) -> str:
        names = self.names(number)
        return names[-1] if names else ""

    def by_name(self, name: str) -> list[str]:
        """Vendors whose names are ``name`` (:func:`same_company`: never a similar name)."""
        return sorted(self._by_key.get(company_key(name), ()))

    def listed(self, today: date) -> dict[tuple[str, str], Entry]:
        """(number, category) → the qualification valid today, else the next one to start."""
        out: dict[tuple[str, str], Entry] = {}
        for number, v in self._vendors.items():
            for e in sorted(v.entries, key=lambda e: e.start):
                if e.end < today:
                    continue
                k = (number, e.category)
                if k not in out or (not out[k].covers(today) and e.covers(today)):
                    out[k] = e
        return out

    def rows(self, today: date) -> list[Entry]:
        """Every qualification not lapsed on ``today`` (current and upcoming), sorted."""
        return sorted((e for v in self._vendors.values() for e in v.entries if e.end >= today),
                      key=lambda e: (e.number, e.category, e.start))

    def lapse_reason(self, number: str, category: str, today: date) -> str:
        """Why (number, category) is no longer listed, in Japanese."""
        past = self.entries(number, category)
        if not past:
            return "名簿から削除された"
        last = past[-1]
        if last.cut_by and last.end < today:
            return f"{last.cut_by}にこの業種がない（{last.end:%Y-%m-%d}まで）"
        return f"有効期間満了（至 {last.end:%Y-%m-%d}）"


def _iso(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def listed_row(e: Entry) -> dict[str, str]:
    """What the list says about one qualification (snapshot rows, change comparison)."""
    a = e.source.attrs
    row = {k: a.get(k, "") for k in ATTRS}
    row.update(number=e.number, category=e.category, grade=e.grade,
               valid_from=e.start.isoformat(), valid_to=e.end.isoformat(),
               representative=f"{a.get('representative_title', '')} "
                              f"{a.get('representative_name', '')}".strip(),
               source=e.source.label)
    return row


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between the previous list and this one, for one vendor and category."""

    kind: str  # 新規 | 変更 | 失効
    number: str
    category: str
    before: Mapping[str, str] | None
    after: Mapping[str, str] | None
    details: tuple[str, ...] = ()


def _differences(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    out = []
    for key, label in _COMPARED:
        x, y = a.get(key, ""), b.get(key, "")
        same = same_company(x, y) if key == "name" and x and y else x == y
        if not same:
            out.append(f"{label}: {x or '（なし）'} → {y or '（なし）'}")
    return out


def diff_lists(before: Mapping[str, Mapping[str, str]], after: Mapping[str, Mapping[str, str]],
               lapse: Mapping[str, str]) -> list[Change]:
    """Changes between two lists keyed ``number|category``; ``lapse`` gives 失効 reasons."""
    changes = []
    for key in sorted(set(before) | set(after)):
        number, _, category = key.partition("|")
        a, b = before.get(key), after.get(key)
        if a is None and b is not None:
            changes.append(Change("新規", number, category, None, b, (b.get("source", ""),)))
        elif b is None and a is not None:
            changes.append(Change("失効", number, category, a, None,
                                  (lapse.get(key, "名簿から外れた"),)))
        elif a is not None and b is not None and (d := _differences(a, b)):
            changes.append(Change("変更", number, category, a, b, tuple(d)))
    return changes


def applications_into(qlist: QualifiedList, apps: Iterable[Application]) -> None:
    """Add accepted applications in order of precedence (application date, then arrival)."""
    for app in sorted((a for a in apps if a.accepted),
                      key=lambda a: (a.get("application_date"), a.arrival)):
        number = app.get("application_number")
        label = (f"申請（受付番号 {number}）" if number else
                 f"申請（{app.file_name} {app.locator}）")
        attrs = {k: app.get(k) for k in ATTRS}
        vendor = app.get("corporate_number")
        if app.get("applicant_type") == SOLE:  # 個人事業主: known by 屋号 (else 氏名) and address
            attrs["name"] = app.get("trade_name") or app.get("name")
            attrs["representative_name"] = app.get("name")
            vendor = sole_proprietor_id(attrs["name"], app.get("address"))
        qlist.add_application(Source(app.key, label, vendor, attrs),
                              app.categories, date.fromisoformat(app.get("valid_from")),
                              date.fromisoformat(app.get("valid_to")))
