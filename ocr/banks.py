"""Banks and branches from zengin-code: names by code, and whether a name read matches a code.

Loaded on first use and cached per process (see :mod:`ocr.refdata`, which re-exports these
functions beside the postal-code ones).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz

from ocr.japanese import kana_match_key, normalize_kana, normalize_text

__all__ = [
    "NAME_MATCH_THRESHOLD",
    "bank_full_name",
    "bank_kana",
    "bank_name",
    "bank_names_match",
    "branch_full_name",
    "branch_kana",
    "branch_name",
    "branch_names_match",
    "written_as_zengin",
]

# rapidfuzz ratio (0-100) two normalised names need to be taken as the same institution: one
# wrong character in a ten-character name, none in a short one.
NAME_MATCH_THRESHOLD = 90.0


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
        base = _written(name)
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


def bank_full_name(code: str) -> str | None:
    """The institution's name as a letter is addressed: 肥後 → 肥後銀行, 長野信金 → 長野信用金庫.

    Zengin keeps short forms only; the type word it abbreviates (the long forms above, read
    backwards) is written out, and a bank (codes below 1000, and ゆうちょ) gets 銀行.
    """
    short = bank_name(code)
    if short is None:
        return None
    for long, abbr in _BANK_LONG_FORMS:
        if abbr and short.endswith(abbr):
            return short[: -len(abbr)] + long
    if int(_code(code, 4)) < 1000 or code == "9900":
        return short + "銀行"
    return short


def branch_full_name(bank_code: str, branch_code: str) -> str | None:
    """The branch as a letter names it: zengin's 砥用 → 砥用支店; 本店営業部, 本所 stay as they are.

    ゆうちょ銀行's branches are named by number (〇一八) and written 〇一八店.
    """
    name = branch_name(bank_code, branch_code)
    if name is None:
        return None
    if name.endswith(_BRANCH_SUFFIXES):
        return name
    return name + ("店" if _code(bank_code, 4) == "9900" else "支店")


def _written(s: str) -> str:
    return normalize_kana(normalize_text(s)).replace(" ", "")


def written_as_zengin(read_name: str, bank_code: str, branch_code: str | None = None) -> bool:
    """Whether ``read_name`` is, letter for letter, how an institution or branch is written.

    That is Zengin's name, its full form (肥後銀行, 砥用支店, 〇一八店) or Zengin's kana.
    Stricter than :func:`bank_names_match` and :func:`branch_names_match`, which let a
    reader's 支 or 店 go missing (a reading 狭山西店 of 狭山西支店 matches Zengin's 狭山西):
    this is what may settle which of two readings was written, so nothing may be missing.
    """
    read = _written(read_name)
    if not read:
        return False
    if branch_code is None:
        forms = (bank_name(bank_code), bank_full_name(bank_code), bank_kana(bank_code))
    else:
        forms = (branch_name(bank_code, branch_code), branch_full_name(bank_code, branch_code),
                 branch_kana(bank_code, branch_code))
    return any(f is not None and _written(f) == read for f in forms)
