"""Checks that involve two fields of a page: postal code and address, bank and branch, groups.

Each field is validated on its own first (:mod:`ocr.validators`); what is left to check is
whether the fields fit each other in the reference data (Japan Post, Zengin) and the
template's checkbox groups, and, where the engines disagreed on one of two fields tied by a
check, whether the other settles it (:func:`confirmed_by_reference`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence

from ocr import refdata
from ocr.reasons import Reason, reason
from ocr.templates import FormTemplate
from ocr.validators import validate_value

__all__ = ["check_groups", "confirmed_by_reference", "cross_check"]

log = logging.getLogger(__name__)

# Reasons after which a field's value cannot take part in a cross-field check.
_BLOCKING = frozenset(
    {
        "invalid_format",
        "invalid_date",
        "check_digit",
        "unknown_bank",
        "unknown_postal_code",
        "unexpected_characters",
        "kana_spelling",
        "not_allowed_value",
    }
)




def _usable(template: FormTemplate, values: Mapping[str, str], name: str) -> str | None:
    """The field's value when it is filled in and valid on its own, else ``None``."""
    value = values.get(name) or ""
    field = template.by_name.get(name)
    if not value or field is None:
        return None
    own = validate_value(field, value, today=dt.date.max)
    if any(r.code in _BLOCKING for r in own.reasons):
        return None
    return own.value


def confirmed_by_reference(template: FormTemplate, values: Mapping[str, str],
                           candidates: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Disagreements the other writings on the page settle: field name → the confirmed value.

    ``candidates``: for a field whose engines read it differently, each reading's value
    (valid on its own); ``values``: the page's unflagged values. The checks ``bank_name``
    and ``branch_name`` tie a written name to its codes, two writings read apart. Where
    the engines disagree on one side, and exactly one of its readings fits the other side
    (read without doubt) character for character in Zengin's data — the name the codes
    carry, or the one code whose name is the one written — that reading is what is
    written, and nobody need look: a misreading does not turn into the very name of the
    institution the codes designate, nor into the one code that carries the written name
    (九九八店 beside 九九作店 under ゆうちょ 9900-998; 0120 beside 93429 under 〇〇銀行).
    A fuzzy likeness is no proof: the cross check still judges such a value. Each side
    is settled only from a side that was certain on its own, never one from the other.
    """
    out: dict[str, str] = {}

    def options(name: str) -> list[str]:
        return list(dict.fromkeys(v for v in candidates.get(name, ()) if v))

    def settle(name: str, fits: Callable[[str], bool]) -> None:
        found = options(name)  # one, when the other engine's reading is not even valid
        hits = [v for v in found if fits(v)]
        if len(hits) == 1:
            out[name] = hits[0]

    for check in template.checks:
        if check.kind not in ("bank_name", "branch_name"):
            continue
        f = check.fields
        bank = _usable(template, values, f["bank"])
        written = _usable(template, values, f["name"])
        branch = _usable(template, values, f["branch"]) if "branch" in f else None
        try:
            if check.kind == "bank_name":
                if bank is not None:
                    settle(f["name"], lambda v, b=bank: refdata.written_as_zengin(v, b))
                if written is not None:
                    settle(f["bank"], lambda v, w=written: refdata.written_as_zengin(w, v))
            else:
                if bank is not None and branch is not None:
                    settle(f["name"], lambda v, b=bank, c=branch: refdata.written_as_zengin(
                        v, b, c))
                if bank is not None and written is not None:
                    settle(f["branch"], lambda v, b=bank, w=written: refdata.written_as_zengin(
                        w, b, v))
        except Exception as exc:  # a broken lookup must not lose the document
            log.warning("reference confirmation %s failed: %s", check.kind, type(exc).__name__)
    return out


def cross_check(template: FormTemplate, values: Mapping[str, str]) -> dict[str, list[Reason]]:
    """Reasons that involve two fields, per ``template.checks``: field name → extra reasons.

    ``values`` are the normalised values (``Validated.value``). A check is skipped when one
    of its fields is empty or invalid on its own (its own reason already asks for a look);
    fields without extra reasons are absent from the result.
    """
    out: dict[str, list[Reason]] = {}

    def add(field_name: str, code: str) -> None:
        reasons = out.setdefault(field_name, [])
        if all(r.code != code for r in reasons):
            reasons.append(reason(code))

    for check in template.checks:
        names = check.fields
        got = {role: _usable(template, values, fname) for role, fname in names.items()}
        if any(v is None for v in got.values()):
            continue
        try:
            if check.kind == "postal_address":
                if refdata.address_matches_postal(got["address"], got["postal"]) is False:
                    add(names["address"], "postal_address_mismatch")
                    add(names["postal"], "postal_address_mismatch")
            elif check.kind == "bank_branch":
                if refdata.branch_name(got["bank"], got["branch"]) is None:
                    add(names["branch"], "unknown_branch")
            elif check.kind == "bank_name":
                if not refdata.bank_names_match(got["bank"], got["name"]):
                    add(names["name"], "bank_name_mismatch")
            elif check.kind == "branch_name":
                known = refdata.branch_name(got["bank"], got["branch"]) is not None
                if known and not refdata.branch_names_match(
                    got["bank"], got["branch"], got["name"]
                ):
                    add(names["name"], "branch_name_mismatch")
        except Exception as exc:  # a broken check must not lose the document
            log.warning("cross check %s failed: %s", check.kind, type(exc).__name__)
    for name, extra in check_groups(template, values).items():
        for r in extra:
            add(name, r.code)
    return {k: v for k, v in out.items() if v}


def check_groups(template: FormTemplate, values: Mapping[str, str]) -> dict[str, list[Reason]]:
    """Checkbox groups whose rule the marks break: every member gets the reason.

    A group is judged only when each of its boxes has a value (a box already flagged on its
    own, e.g. an ambiguous mark, is absent from ``values``: its own reason asks for a look).
    ``exactly_one``: one box marked; ``at_most_one``: none or one; ``any``: one or more.
    """
    out: dict[str, list[Reason]] = {}
    for group, rule in template.groups.items():
        members = template.group_members(group)
        if any(m.name not in values for m in members):
            continue
        marked = sum(values[m.name] == "1" for m in members)
        code = None
        if marked > 1 and rule in ("exactly_one", "at_most_one"):
            code = "group_multiple"
        elif marked == 0 and rule in ("exactly_one", "any"):
            code = "group_empty"
        if code is not None:
            for m in members:
                out.setdefault(m.name, []).append(reason(code, group))
    return out
