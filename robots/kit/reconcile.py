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
folded (ヨーコ = ヨウコ, オーノ = オオノ). Kanji names are compared by
:func:`robots.kit.kanji.kanji_equivalent`, company names by :mod:`robots.kit.companies`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from ocr.japanese import kana_match_key, nfkc, normalize_kana

__all__ = [
    "Entity",
    "Link",
    "Matcher",
    "first_occurrences",
    "group_by",
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

    Full/half width, hiragana, spaces, small kana written large (Zengin), ヂ/ジ, ヅ/ズ, ヴ/ブ
    and long vowels (ー, ウ, オ) all fold; voiced marks are kept (ガ ≠ カ).
    """
    return kana_match_key(_fold_long_vowels(normalize_kana(kana)))


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
    """

    id: str
    ref: str = ""
    name: str = ""
    attrs: Mapping[str, str] = field(default_factory=dict)

    def get(self, attr: str) -> str:
        return self.name if attr == "name" else self.attrs.get(attr, "")


@dataclass(frozen=True, slots=True)
class Link:
    """Where one query record was linked, how, and why it is (not) certain.

    ``method`` is ``ref`` (by reference), ``fuzzy`` (blocking + name similarity) or ``none``.
    ``reasons`` are stable codes: ``ref_not_found``, ``ref_ambiguous``, ``name_differs``,
    ``differs:<attr>``, ``ref_conflict`` (the reference names a record the facts do not fit),
    ``no_ref``, ``ambiguous``. ``alternatives`` are other candidates, best first.
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
        return _Scored(t, name_score(q.name, t.name), differs)

    def candidates(self, q: Entity) -> list[_Scored]:
        """Targets sharing a block with ``q`` whose name scores at least the threshold."""
        seen: dict[str, _Scored] = {}
        for spec, index in zip(self.blocks, self._index, strict=True):
            key = tuple(q.get(a) for a in spec)
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
        if not hit.differs and hit.score >= self.certain_score:
            return Link(q.id, hit.entity.id, "ref", hit.score, True)
        if not hit.differs and hit.score >= self.threshold:
            return Link(q.id, hit.entity.id, "ref", hit.score, False, ("name_differs",))
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
