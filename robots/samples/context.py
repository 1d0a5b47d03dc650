"""One sample document's world: the person, place, company and bank it is about.

Values on a real form agree with each other: the kana reads the name, the postal code is the
address's, the branch belongs to the bank, the request date is a day the town hall was open.
A :class:`DocumentContext` draws each of these once, lazily, from the real data in
:mod:`robots.samples.sources`, and every field of the document reads from it. It also fixes the
writer's habits for the document (era or western dates, ``円`` after amounts, a space in
names, full-width digits in addresses), because one person fills a whole form the same way.
"""

from __future__ import annotations

import datetime as dt
import functools

import jpholiday
import numpy as np

from ocr.checkdigits import mynumber_check_digit
from robots.samples.sources import (
    MISATO_CITY,
    BankBranch,
    Corporation,
    PersonName,
    Place,
    pick_branch,
    pick_corporation,
    pick_koaza,
    pick_name,
    pick_place,
    place_for_address,
)
from robots.samples.town import FormPerson

__all__ = ["CORPORATE_TITLES", "PURPOSES", "DocumentContext", "is_business_day"]

# Why a resident asks for a certificate: the usual answers on Misato's request forms.
PURPOSES = (
    "児童手当の申請", "年金の手続き", "運転免許証の更新", "パスポートの申請", "相続手続き",
    "不動産登記", "自動車の登録", "銀行口座の開設", "就職先への提出", "保険金の請求",
    "扶養の手続き", "学校への提出", "公営住宅の申込み", "後期高齢者医療の手続き",
)  # fmt: skip
# Titles of a corporation's representative by IMI corporate kind (株式会社, 有限会社, 持分会社,
# other corporations such as 一般社団法人 and 社会福祉法人).
CORPORATE_TITLES: dict[str, tuple[str, ...]] = {
    "301": ("代表取締役", "取締役社長"),
    "302": ("取締役", "代表取締役"),
    "303": ("代表社員",),
    "304": ("代表社員",),
    "305": ("代表社員",),
    "399": ("理事長", "代表理事"),
}
# Area codes of the places samples come from most (Misato's own exchanges are 46 and 47);
# elsewhere in Kumamoto one of the prefecture's codes, elsewhere in Japan a drawn one.
_AREA_CODES: dict[str, tuple[str, tuple[str, ...]]] = {
    "下益城郡美里町": ("0964", ("46", "47")),
    "熊本市": ("096", ()),
    "鯖江市": ("0778", ()),
}
_KUMAMOTO_AREAS = ("0964", "0965", "0966", "0967", "0968", "0969")
_MOBILE_PREFIXES = ("090", "080", "070")
# Zengin short names and the long forms people write on a form.
_BANK_LONG_FORMS = (("信金", "信用金庫"), ("信組", "信用組合"), ("労金", "労働金庫"),
                    ("農協", "農業協同組合"), ("漁協", "漁業協同組合"))  # fmt: skip
_BRANCH_SUFFIXES = ("店", "部", "所", "センター")
_JP_BANK = "9900"
_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def is_business_day(d: dt.date) -> bool:
    """A day the town hall (and a bank) is open: weekdays except holidays and 12/29-1/3."""
    if d.weekday() >= 5 or jpholiday.is_holiday(d):
        return False
    return not ((d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3))


def _business_day_on_or_before(d: dt.date) -> dt.date:
    while not is_business_day(d):
        d -= dt.timedelta(days=1)
    return d


def _digits(rng: np.random.Generator, n: int, *, lead_nonzero: bool = False) -> str:
    out = [str(int(rng.integers(10))) for _ in range(n)]
    if lead_nonzero and n:
        out[0] = str(int(rng.integers(1, 10)))
    return "".join(out)


class DocumentContext:
    """Lazily drawn facts shared by the fields of one document (see module docstring)."""

    def __init__(self, rng: np.random.Generator, today: dt.date, *, corporate: bool,
                 given: FormPerson | None = None) -> None:
        self.rng = rng
        self.today = today
        self.corporate = corporate  # the form is a company's: its address is the company's
        self.given = given  # a resident of the sample town (robots.samples.town) fills it
        # The writer's habits for this document.
        self.era_dates = bool(rng.random() < 0.8)
        self.yen_style = ("{n}円", "{n}円", "{n}円", "{n}", "¥{n}")[int(rng.integers(5))]
        self.name_space = (" ", "\u3000", "\u3000", "")[int(rng.integers(4))]
        self.fullwidth_digits = bool(rng.random() < 0.35)

    # ----------------------------------------------------------------- people

    @functools.cached_property
    def person(self) -> PersonName:
        return self.given.name if self.given else pick_name(self.rng)

    @property
    def holder(self) -> PersonName:
        """The holder of the document's bank account: the person, or a household member."""
        return self.given.holder if self.given else self.person

    @functools.cached_property
    def payer_number(self) -> str:
        """The person's number with the town (宛名番号 / 納付者番号): "" when not known."""
        return self.given.number if self.given else _digits(self.rng, 8, lead_nonzero=True)

    @functools.cached_property
    def staff(self) -> PersonName:
        """Someone answering for an organisation (a bank clerk): never the document's person."""
        while True:
            name = pick_name(self.rng)
            if (name.last, name.first) != (self.person.last, self.person.first):
                return name

    def name(self, who: PersonName) -> str:
        return f"{who.last}{self.name_space}{who.first}"

    def kana(self, who: PersonName) -> str:
        space = " " if self.name_space == " " else ("\u3000" if self.name_space else "")
        return f"{who.last_kana}{space}{who.first_kana}"

    @functools.cached_property
    def birth_date(self) -> dt.date:
        if self.given:
            return self.given.birth_date
        age_days = int(self.rng.integers(18 * 365, 90 * 365))
        return self.doc_date - dt.timedelta(days=age_days)

    @functools.cached_property
    def mynumber(self) -> str:
        first = _digits(self.rng, 11)
        return first + str(mynumber_check_digit(first))

    @functools.cached_property
    def person_phone(self) -> str:
        if self.rng.random() < 0.55:
            return self.mobile()
        return self.landline(self.place)

    @functools.cached_property
    def staff_phone(self) -> str:
        return self.landline(pick_place(self.rng))

    def mobile(self) -> str:
        head = _MOBILE_PREFIXES[int(self.rng.integers(len(_MOBILE_PREFIXES)))]
        return f"{head}-{_digits(self.rng, 4, lead_nonzero=True)}-{_digits(self.rng, 4)}"

    def landline(self, place: Place) -> str:
        """A fixed-line number of ``place``'s area: 10 digits, area code first."""
        known = [v for city, v in _AREA_CODES.items() if place.city.startswith(city)]
        if known:
            area, exchanges = known[0]
        elif place.prefecture == MISATO_CITY[0]:
            area, exchanges = _KUMAMOTO_AREAS[int(self.rng.integers(len(_KUMAMOTO_AREAS)))], ()
        else:
            area, exchanges = "0" + _digits(self.rng, 3, lead_nonzero=True), ()
        local_len = 10 - len(area) - 4
        if exchanges:
            local = exchanges[int(self.rng.integers(len(exchanges)))]
        else:
            local = _digits(self.rng, local_len, lead_nonzero=True)
        return f"{area}-{local}-{_digits(self.rng, 4)}"

    # ----------------------------------------------------------------- places

    @functools.cached_property
    def _located(self) -> tuple[Place, str]:
        """The party's postal area and full address as written."""
        if self.given:
            return self.given.place, self.given.written_address(self.rng, self.fullwidth_digits)
        if self.corporate and self.rng.random() < 0.3:
            place = place_for_address(self.corp.location)
            if place is not None:  # the published address, exactly as the NTA prints it
                return place, self.corp.location
        place = pick_place(self.rng)
        return place, self._write_address(place)

    @property
    def place(self) -> Place:
        return self._located[0]

    @property
    def address(self) -> str:
        return self._located[1]

    def _write_address(self, place: Place) -> str:
        rng = self.rng
        n = int(rng.integers(1, 3000)) if rng.random() < 0.6 else int(rng.integers(1, 200))
        sub = int(rng.integers(1, 30))
        if place.chome:
            chome, ban, go = int(rng.integers(1, 6)), int(rng.integers(1, 40)), sub
            house = (f"{chome}丁目{ban}番{go}号", f"{chome}-{ban}-{go}",
                     f"{chome}丁目{ban}-{go}")[int(rng.integers(3))]  # fmt: skip
        elif place.koaza and rng.random() < 0.6:
            house = f"字{pick_koaza(rng, place)}{n}" + ("番地" if rng.random() < 0.5 else "")
        elif place.city.endswith(("町", "村")):
            house = (f"{n}番地", f"{n}番地{sub}", f"{n}-{sub}", f"{n}")[int(rng.integers(4))]
        else:
            house = (f"{n}番{sub}号", f"{n}-{sub}", f"{n}番地")[int(rng.integers(3))]
        if self.fullwidth_digits:
            house = house.translate(_FULLWIDTH)
        head = place.prefecture + place.city
        if place.prefecture == MISATO_CITY[0]:
            r = rng.random()  # people in the prefecture often leave it (and the 郡) out
            if r < 0.2:
                head = place.city
            elif r < 0.3 and "郡" in place.city:
                head = place.city.split("郡", 1)[1]
        return head + place.neighborhood + house

    # ----------------------------------------------------------------- organisations

    @functools.cached_property
    def corp(self) -> Corporation:
        return pick_corporation(self.rng)

    def corp_title(self, allowed: tuple[str, ...]) -> str:
        """A representative's title the corporation's kind uses, among those the form allows."""
        preferred = [t for t in allowed if t in CORPORATE_TITLES.get(self.corp.kind, ())]
        pool = preferred or list(allowed) or list(CORPORATE_TITLES[self.corp.kind])
        return pool[int(self.rng.integers(len(pool)))]

    @functools.cached_property
    def corp_phone(self) -> str:
        return self.landline(self.place)

    @functools.cached_property
    def corp_fax(self) -> str:
        """Same area and exchange as the phone; the last digits differ (often by one)."""
        head, last = self.corp_phone.rsplit("-", 1)
        if self.rng.random() < 0.5:
            return f"{head}-{(int(last) + 1) % 10000:04d}"
        return f"{head}-{_digits(self.rng, 4)}"

    @functools.cached_property
    def bank(self) -> BankBranch:
        return pick_branch(self.rng)

    def bank_name(self) -> str:
        """The bank's name as a clerk writes it: みずほ銀行, 熊本信用金庫, JA熊本宇城 ..."""
        b = self.bank
        for short, long in _BANK_LONG_FORMS:
            if b.bank_name.endswith(short):
                if self.rng.random() < 0.6:
                    return b.bank_name[: -len(short)] + long
                return b.bank_name
        if int(b.bank_code) < 1000 or b.bank_code == _JP_BANK:
            return b.bank_name if b.bank_name.endswith("銀行") else b.bank_name + "銀行"
        return b.bank_name

    def branch_name(self) -> str:
        """The branch name with the suffix people write: 砥用支店, 本店営業部, 〇一八店."""
        name = self.bank.branch_name
        if self.bank.bank_code == _JP_BANK:
            return name + "店"
        if name.endswith(_BRANCH_SUFFIXES):
            return name
        return name + "支店"

    # ----------------------------------------------------------------- dates

    @functools.cached_property
    def doc_date(self) -> dt.date:
        """The day the document was written: a business day in the year before today."""
        back = int(self.rng.integers(0, 366))
        return _business_day_on_or_before(self.today - dt.timedelta(days=back))

    def recent_date(self) -> dt.date:
        """A business day up to three weeks before the document date (a balance date)."""
        back = int(self.rng.integers(0, 21))
        return _business_day_on_or_before(self.doc_date - dt.timedelta(days=back))

    def future_date(self) -> dt.date:
        return self.doc_date + dt.timedelta(days=int(self.rng.integers(180, 1096)))

    @property
    def next_fiscal_year(self) -> int:
        d = self.doc_date
        return (d.year if d.month >= 4 else d.year - 1) + 1

    def format_date(self, d: dt.date) -> str:
        from ocr.japanese import format_era  # japanera's data, on first use only

        return format_era(d) if self.era_dates else f"{d.year}年{d.month}月{d.day}日"

    def format_amount(self, n: int) -> str:
        return self.yen_style.format(n=f"{n:,}")
