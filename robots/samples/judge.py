"""Is a proposal right? The samples' truth against a value derived from reference data.

A proposal need not be spelt as the applicant wrote: the register writes 熊本県下益城郡美里町
中小路5番地2 where the form says 美里町中小路5-2, zengin names 熊本信金 what the applicant
calls 熊本信用金庫, and an account holder's kana is proposed as the bank needs it (キヨウコ for
キョウコ). A reviewer confirms such a value; so do the demo's simulated reviewer
(:mod:`robots.samples.review`) and ``bench/proposals.py``, through :func:`judge_proposal`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ocr.addresses import address_rest, same_address
from ocr.japanese import normalize_kana, normalize_text, zengin_kana
from ocr.refdata import bank_names_match, branch_names_match
from ocr.templates import FieldSpec

__all__ = ["judge_proposal"]


def _text(s: str) -> str:
    return normalize_text(s).replace(" ", "")


def judge_proposal(spec: FieldSpec, value: str, truth: Mapping[str, str]
                   ) -> tuple[str, int]:
    """(``right`` | ``partial`` | ``wrong``, characters a reviewer still types) of ``value``.

    ``partial``: a postal area the address lies in (the 番地 and 方書 are typed); ``wrong``:
    the whole true value is typed. ``truth`` is the document's truth (codes are looked up
    for bank and branch names).
    """
    want = truth.get(spec.name, "")
    full = len(_text(want))
    if "zengin.bank_name" in spec.propose:
        ok = bank_names_match(truth.get("bank_code", ""), value) if spec.type.value == "text" \
            else zengin_kana(value) == zengin_kana(want)
    elif "zengin.branch_name" in spec.propose:
        ok = branch_names_match(truth.get("bank_code", ""), truth.get("branch_code", ""), value)
    elif "resident.holder_kana" in spec.propose:
        ok = zengin_kana(value) == zengin_kana(want)
    elif spec.type.value == "kana":
        ok = normalize_kana(value) == normalize_kana(want)
    elif any(p.endswith(".address") for p in spec.propose):
        if same_address(value, want):
            return "right", 0
        rest = address_rest(value, want)
        return ("partial", len(rest)) if rest is not None else ("wrong", full)
    else:
        ok = _text(value) == _text(want)
    return ("right", 0) if ok else ("wrong", full)
