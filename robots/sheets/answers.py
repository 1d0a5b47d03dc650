"""What 修正後の値 on 確認シート accepts, per row: the cell's data validation.

Lists stop wrong input where the choices are known (checkbox marks, options, allowed values,
a proposal's candidates — these only advise: another value may be right); type checks only
warn, so that ``空欄`` or a value the clerk is sure of can still be entered. Each rule comes
with a key, so that rows sharing one rule share one validation range.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocr.results import FieldResult
from ocr.templates import FieldSpec, FieldType
from robots.sheets.common import CHECK_MARK, CHECK_NONE, CLEAR_TOKEN

__all__ = ["answer_rule", "candidates_rule", "list_formula"]

_TEXT_LENGTH: dict[str, tuple[str, str, str | None, str]] = {
    FieldType.MYNUMBER: ("equal", "12", None, "12桁の数字"),
    FieldType.CORPORATE_NUMBER: ("equal", "13", None, "13桁の数字"),
    FieldType.BANK_CODE: ("equal", "4", None, "4桁の数字"),
    FieldType.BRANCH_CODE: ("equal", "3", None, "3桁の数字"),
    FieldType.ACCOUNT_NUMBER: ("equal", "7", None, "7桁の数字"),
    FieldType.POSTAL_CODE: ("between", "7", "8", "例: 861-4401"),
    FieldType.PHONE: ("between", "10", "13", "例: 0964-47-1111"),
}


def list_formula(items: Sequence[str]) -> str | None:
    """An inline list for a list validation, or None when Excel cannot hold it inline."""
    if any("," in i or '"' in i for i in items):
        return None
    formula = '"' + ",".join(items) + '"'
    return formula if len(formula) <= 255 else None


def answer_rule(spec: FieldSpec) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """What 修正後の値 accepts for this field: a key (to share one rule) and its arguments.

    Lists stop wrong input (the caller would reject it anyway); type checks only warn, so that
    ``空欄`` or a value the clerk is sure of can still be entered.
    """
    warn = {"errorStyle": "warning", "errorTitle": "入力の確認",
            "promptTitle": "修正後の値", "showInputMessage": True}
    if spec.type is FieldType.DATE:
        return ("date",), {**warn, "type": "date", "operator": "between", "formula1": "1",
                           "formula2": "73415", "prompt": "例: 2025/6/1",
                           "error": "日付を 2025/6/1 のように入力してください。"}
    if spec.type is FieldType.AMOUNT:
        return ("amount",), {**warn, "type": "whole", "operator": "greaterThanOrEqual",
                             "formula1": "0", "prompt": "金額（円）を数字で入力",
                             "error": "金額は0以上の整数で入力してください。"}
    if spec.type in _TEXT_LENGTH:
        op, f1, f2, hint = _TEXT_LENGTH[spec.type]
        return ("len", spec.type.value), {**warn, "type": "textLength", "operator": op,
                                          "formula1": f1, "formula2": f2, "prompt": hint,
                                          "error": f"桁数が違います（{hint}）。"}
    items: list[str] = []
    if spec.type is FieldType.CHECKBOX:
        items = [CHECK_MARK, CHECK_NONE]
    elif spec.type is FieldType.CHOICE:
        items = [o.label for o in spec.options] + [CLEAR_TOKEN]
    elif spec.type is FieldType.TEXT and spec.allowed:
        items = [*spec.allowed, CLEAR_TOKEN]
    formula = list_formula(items) if items else None
    if formula is None:
        return None
    return ("list", formula), {"type": "list", "formula1": formula, "errorStyle": "stop",
                               "errorTitle": "入力の確認", "error": "一覧から選んでください。"}


def candidates_rule(fr: FieldResult) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """A drop-down of a proposal's candidates in 修正後の値 (other values still allowed)."""
    formula = list_formula(list(fr.candidates)) if fr.candidates else None
    if formula is None:
        return None
    return ("candidates", formula), {
        "type": "list", "formula1": formula, "errorStyle": "information", "errorTitle": "候補",
        "error": "候補にない値です。画像と同じならそのまま確定します。", "showErrorMessage": True}
