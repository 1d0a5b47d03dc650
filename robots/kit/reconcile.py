"""Reconciliation: link the records of one side (replies) to those of another (what was sent).

A town reconciles the same way in several scenarios — replies to deposit inquiries against the
inquiry ledger, bid applications against contracts — so the machinery is here, free of any
scenario's vocabulary:

1. a *reference* (inquiry number, contract number) is looked up first; a hit is *certain*
   only when the record's other facts agree with it (a mistyped number that happens to exist
   must not pass silently);
2. without a usable reference, candidates are *blocked* on exact keys (for example bank code
   + birth date, or bank code + name key) so that 10,000 × 10,000 records compare in seconds,
   and ranked by name similarity (rapidfuzz); such a link is **never certain**: it is a
   proposal with its score, for a person to confirm.

Names are compared by :func:`name_key`: the Zengin-style kana key of
:func:`ocr.japanese.kana_match_key` (width, small kana, ヂ/ジ, ヅ/ズ, spaces) with long vowels
folded (ヨーコ = ヨウコ, オーノ = オオノ) and the spellings bank systems use for sounds Zengin
kana cannot write small (ｳﾞｲｸﾄﾘｱ = ヴィクトリア, ｶｦﾙ = カオル). A name written in Latin
letters (an account opened with the name on a residence card) has no kana to compare:
:func:`latin_readings` gives its possible kana readings (romaji read back by ``jaconv``,
English read by ``e2k``), and a link found through a reading is never certain. Kanji names
are compared by :func:`robots.kit.kanji.kanji_equivalent`, company names by
:mod:`robots.kit.companies`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import jaconv
from rapidfuzz import fuzz

from ocr.japanese import kana_match_key, nfkc, normalize_kana

__all__ = [
    "Entity",
    "Link",
    "Matcher",
    "first_occurrences",
    "group_by",
    "latin_readings",
    "name_key",
    "name_score",
    "normalize_ref",
]

log = logging.getLogger(__name__)

# Separators people and systems put into reference numbers: never part of the number.
_REF_NOISE = re.compile(r"[\s\-‐‑–—―−ー─ｰ_/・.]")
# The vowel of each katakana (small ones included), to read a long-vowel mark as a vowel.
_ROWS = {
    "ア": "アカガサザタダナハバパマヤラワァャヮヵ",
    "イ": "イキギシジチヂニヒビピミリィヰ",
    "ウ": "ウクグスズツヅヌフブプムユルゥュッヴ",
    "エ": "エケゲセゼテデネヘベペメレェヱヶ",
    "オ": "オコゴソゾトドノホボポモヨロヲォョ",
}
_VOWEL = {ch: v for v, chars in _ROWS.items() for ch in chars}
# Bank-style spellings: Zengin kana has no small ァィゥェォ, so ヴィ is written ｳﾞｲ (ヴイ); and
# the old kana ヰ, ヱ, ヲ of names (カヲル) are read イ, エ, オ. Folded to the modern spelling
# before the Zengin key (which then folds ヴィ to ビ on both sides).
_BANK_STYLE = (("ヴア", "ヴァ"), ("ヴイ", "ヴィ"), ("ヴエ", "ヴェ"), ("ヴオ", "ヴォ"),
               ("ヴユ", "ヴュ"))
_OLD_KANA = str.maketrans({"ヰ": "イ", "ヱ": "エ", "ヲ": "オ"})
_LATIN = re.compile(r"[A-Za-z]+")


def normalize_ref(s: str) -> str:
    """A reference number however it was typed: NFKC, no separators, upper case.

    ``２６－０００１２３`` and ``26000123`` are the same inquiry number.
    """
    return _REF_NOISE.sub("", nfkc(s or "")).upper()


def _fold_long_vowels(k: str) -> str:
    """ー as the vowel it lengthens, and オ/エ after their own row as ウ/イ (how kana is typed).

    ヨーコ, ヨウコ and ヨオコ all become ヨウコ; ケーコ and ケイコ become ケイコ. ー after ン
    or at the start is dropped. Applied before the Zengin key, which drops ー.
    """
    out: list[str] = []
    for ch in k:
        prev = out[-1] if out else ""
        vowel = _VOWEL.get(prev, "")
        if ch == "ー":
            if vowel:
                out.append({"オ": "ウ", "エ": "イ"}.get(vowel, vowel))
            continue
        if (ch == "オ" and vowel == "オ") or (ch == "エ" and vowel == "エ"):
            ch = "ウ" if ch == "オ" else "イ"
        out.append(ch)
    return "".join(out)


@functools.lru_cache(maxsize=65536)
def name_key(kana: str) -> str:
    """The comparison key of a name in kana: equal for every spelling of the same reading.

    Full/half width, hiragana, spaces, small kana written large (Zengin), ヂ/ジ, ヅ/ズ, ヴ/ブ,
    bank-style ヴイ for ヴィ, old kana (ヲ/オ) and long vowels (ー, ウ, オ) all fold; voiced
    marks are kept (ガ ≠ カ).
    """
    k = normalize_kana(kana).translate(_OLD_KANA)
    for bank_style, modern in _BANK_STYLE:
        k = k.replace(bank_style, modern)
    return kana_match_key(_fold_long_vowels(k))


@functools.cache
def _english_reader() -> Callable[[str], str] | None:
    try:
        from e2k import C2K  # numpy-only RNN, models inside the wheel: loaded on first use
    except ImportError:  # pragma: no cover - a pinned dependency
        return None
    # the distilled model: the same readings of names here, six times faster than the default
    return C2K(model="turbo")  # type: ignore[no-any-return]


def _romaji(word: str) -> str:
    """A word in romaji read back as katakana by jaconv; "" when letters are left over.

    Passport spelling writes a long o as ``oh`` (OHNO = オオノ): read as ``ou``.
    """
    w = re.sub(r"oh(?=[^aiueo]|$)", "ou", word.lower())
    kana = jaconv.hira2kata(jaconv.alphabet2kana(w))
    return "" if _LATIN.search(kana) else kana


@functools.lru_cache(maxsize=16384)
def latin_readings(name: str) -> tuple[str, ...]:
    """Name keys of the kana readings of a name written in Latin letters; () when it has none.

    Each word is read as romaji (``jaconv``: TANAKA TARO → タナカタロ) and as English
    (``e2k``'s distilled "turbo" character model: SMITH → スミス); both orders of a
    two-word name are given, since registers and banks order family and given names
    differently. A reading is a
    guess: a link found through one is a proposal for a person to confirm, never certain.
    """
    words = _LATIN.findall(nfkc(name or ""))
    if not words:
        return ()
    english = _english_reader()
    readings: list[list[str]] = [[_romaji(w) for w in words]]
    if english is not None:
        readings.append([english(w.lower()) for w in words])
    keys: list[str] = []
    for parts in readings:
        if not all(parts):
            continue
        orders = [parts, parts[::-1]] if len(parts) == 2 else [parts]
        keys += [name_key("".join(o)) for o in orders]
    return tuple(k for k in dict.fromkeys(keys) if k)


def name_score(a: str, b: str) -> float:
    """Similarity 0–100 of two name keys (rapidfuzz ratio); 100 only for equal keys."""
    if not a or not b:
        return 0.0
    return 100.0 if a == b else float(fuzz.ratio(a, b))


@dataclass(frozen=True, slots=True)
class Entity:
    """One record as the matcher sees it: an id, a reference, a name key and exact facts.

    ``name`` must already be a key (:func:`name_key`); ``attrs`` hold the facts that block
    and verify (e.g. ``{"bank": "0182", "birth": "1980-04-12"}``), ``""`` when unknown.
    ``readings`` are keys of guessed readings of the name (:func:`latin_readings`): they
    score like the name, but a link they win is never certain.
    """

    id: str
    ref: str = ""
    name: str = ""
    attrs: Mapping[str, str] = field(default_factory=dict)
    readings: tuple[str, ...] = ()

    def get(self, attr: str) -> str:
        return self.name if attr == "name" else self.attrs.get(attr, "")


@dataclass(frozen=True, slots=True)
class Link:
    """Where one query record was linked, how, and why it is (not) certain.

    ``method`` is ``ref`` (by reference), ``fuzzy`` (blocking + name similarity) or ``none``.
    ``reasons`` are stable codes: ``ref_not_found``, ``ref_ambiguous``, ``name_differs``,
    ``differs:<attr>``, ``ref_conflict`` (the reference names a record the facts do not fit),
    ``no_ref``, ``ambiguous``, ``name_read`` (the name matched only through a reading).
    ``alternatives`` are other candidates, best first.
    """

    query: str
    target: str | None
    method: str
    score: float
    certain: bool
    reasons: tuple[str, ...] = ()
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(slots=True)
class _Scored:
    entity: Entity
    score: float
    differs: tuple[str, ...]
    read: bool = False  # the score is that of a guessed reading, not of the name

    def rank(self) -> tuple[bool, float, int]:
        return (not self.differs, self.score, -len(self.differs))


class Matcher:
    """Links queries to targets; build once per reconciliation, then call :meth:`link`.

    ``blocks`` lists the attribute tuples candidates must share exactly (``"name"`` is the
    name key); ``verify`` the attributes a reference hit must agree on to be certain.
    ``threshold`` is the least name score of any link; ``certain_score`` the least score of a
    certain one (a reference hit: 100 means the name keys must be equal). ``margin``: two
    candidates this close in score are reported ambiguous.
    """

    def __init__(self, targets: Iterable[Entity], *, blocks: Sequence[Sequence[str]],
                 verify: Sequence[str], threshold: float, certain_score: float = 100.0,
                 margin: float = 0.0) -> None:
        if not 0 <= threshold <= certain_score <= 100:
            raise ValueError("need 0 <= threshold <= certain_score <= 100")
        self.blocks = [tuple(b) for b in blocks]
        self.verify = tuple(verify)
        self.threshold = threshold
        self.certain_score = certain_score
        self.margin = margin
        self._by_ref: dict[str, list[Entity]] = {}
        self._index: list[dict[tuple[str, ...], list[Entity]]] = [{} for _ in self.blocks]
        self._by_id: dict[str, Entity] = {}
        for t in targets:
            self._by_id[t.id] = t
            if t.ref:
                self._by_ref.setdefault(t.ref, []).append(t)
            for spec, index in zip(self.blocks, self._index, strict=True):
                key = tuple(t.get(a) for a in spec)
                if all(key):
                    index.setdefault(key, []).append(t)

    def target(self, target_id: str) -> Entity:
        return self._by_id[target_id]

    def _score(self, q: Entity, t: Entity) -> _Scored:
        differs = tuple(a for a in self.verify if not q.get(a) or q.get(a) != t.get(a))
        score, read = name_score(q.name, t.name), False
        for reading in q.readings:
            if (s := name_score(reading, t.name)) > score:
                score, read = s, True
        return _Scored(t, score, differs, read)

    def candidates(self, q: Entity) -> list[_Scored]:
        """Targets sharing a block with ``q`` whose name scores at least the threshold."""
        seen: dict[str, _Scored] = {}
        for spec, index in zip(self.blocks, self._index, strict=True):
            names = (q.name, *q.readings) if "name" in spec else (q.name,)
            for name in names:
                key = tuple(name if a == "name" else q.get(a) for a in spec)
                if not all(key):
                    continue
                for t in index.get(key, ()):
                    if t.id not in seen:
                        seen[t.id] = self._score(q, t)
        found = [s for s in seen.values() if s.score >= self.threshold]
        return sorted(found, key=lambda s: (s.rank(), s.entity.id), reverse=True)

    def _fuzzy(self, q: Entity, reasons: tuple[str, ...]) -> Link:
        found = self.candidates(q)
        if not found:
            return Link(q.id, None, "none", 0.0, False, reasons)
        best, rest = found[0], found[1:]
        why = [*reasons, *(f"differs:{a}" for a in best.differs)]
        if best.read:
            why.append("name_read")
        if rest and rest[0].rank()[0] == best.rank()[0] and (
                best.score - rest[0].score <= self.margin):
            why.append("ambiguous")
        alts = tuple((s.entity.id, s.score) for s in rest[:3])
        return Link(q.id, best.entity.id, "fuzzy", best.score, False, tuple(why), alts)

    def link(self, q: Entity) -> Link:
        """The best target for ``q`` (see the module docstring for when it is certain)."""
        if not q.ref:
            return self._fuzzy(q, ("no_ref",))
        hits = self._by_ref.get(q.ref, [])
        if not hits:
            return self._fuzzy(q, ("ref_not_found",))
        if len(hits) > 1:
            return self._fuzzy(q, ("ref_ambiguous",))
        hit = self._score(q, hits[0])
        if not hit.differs and hit.score >= self.certain_score and not hit.read:
            return Link(q.id, hit.entity.id, "ref", hit.score, True)
        if not hit.differs and hit.score >= self.threshold:
            why = ("name_read",) if hit.read else ("name_differs",)
            return Link(q.id, hit.entity.id, "ref", hit.score, False, why)
        # The number names someone the facts do not fit: a mistyped number, or a wrong reply.
        other = self._fuzzy(q, ("ref_conflict",))
        if (other.target is not None and other.target != hit.entity.id
                and self._score(q, self.target(other.target)).rank() > hit.rank()):
            return Link(q.id, other.target, "fuzzy", other.score, False, other.reasons,
                        ((hit.entity.id, hit.score), *other.alternatives))
        why = ["ref_conflict", *(f"differs:{a}" for a in hit.differs)]
        if hit.score < self.certain_score:
            why.append("name_differs")
        return Link(q.id, hit.entity.id, "ref", hit.score, False, tuple(why))


def first_occurrences(items: Iterable[tuple[str, Hashable]]) -> dict[str, str]:
    """For ``(id, content key)`` pairs in order of arrival: each later id → the first id.

    The same content twice is one fact received twice (重複), counted once; an empty key
    never makes a duplicate.
    """
    first: dict[Hashable, str] = {}
    dupes: dict[str, str] = {}
    for item_id, key in items:
        if not key:
            continue
        if key in first:
            dupes[item_id] = first[key]
        else:
            first[key] = item_id
    return dupes


def group_by(items: Iterable[str], key: Callable[[str], Hashable]) -> dict[Hashable, list[str]]:
    """Ids grouped by ``key`` in order (helper for conflict checks)."""
    out: dict[Hashable, list[str]] = {}
    for i in items:
        out.setdefault(key(i), []).append(i)
    return out
