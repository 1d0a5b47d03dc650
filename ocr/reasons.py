"""Why a human must look at a field: stable codes for tools, Japanese text for staff.

Codes are part of the JSON interface of ``rpa ocr`` and of the run log, so they never change
meaning; the Japanese messages are what the correction sheet shows a reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REASON_MESSAGES", "Reason", "reason"]

REASON_MESSAGES: dict[str, str] = {
    "empty_required": "必須項目が空欄です",
    "low_confidence": "読取信頼度が低い",
    "engines_disagree": "2つのOCRエンジンの読取結果が一致しない",
    "single_engine": "OCRエンジン1つだけの読取結果",
    "ink_not_read": "記入はあるが文字として読み取れない",
    "invalid_format": "形式が正しくない",
    "invalid_date": "日付として正しくない",
    "future_date": "未来の日付になっている",
    "implausible_date": "ありえない日付（年齢・期間を確認）",
    "check_digit": "チェックディジット不一致",
    "unknown_bank": "金融機関コードが存在しない",
    "unknown_branch": "店番（支店コード）が存在しない",
    "bank_name_mismatch": "金融機関名とコードが一致しない",
    "branch_name_mismatch": "支店名と店番が一致しない",
    "unknown_postal_code": "郵便番号が存在しない",
    "postal_address_mismatch": "郵便番号と住所が不一致",
    "ambiguous_mark": "チェック欄の判定があいまい",
    "multiple_choices": "複数の選択肢に印がある",
    "not_allowed_value": "選択肢にない値",
    "unexpected_characters": "この項目に使えない文字がある",
    "kana_spelling": "カナの並びが表記としてありえない（小さい字・ッ・ーの位置を確認）",
    "length_mismatch": "読取結果の文字数が記入と合わない",
    "variant_kanji": "異体字の可能性（髙・﨑など、原本で字形を確認）",
    "not_encodable": "CP932（シフトJIS）で表せない文字がある",
    "text_layer": "PDFの文字情報から取得（OCRなし）",
    "manual_keying": "手書きの文字のため手入力してください",
    # a value the machine did not read but derived from reference data (Japan Post, Zengin,
    # the town's resident register); the detail names the source. Always flagged.
    "proposed": "参照データからの提案（確認してください）",
    "digit_unclear": "手書き数字の判読に自信がない枠がある",
    "digit_corrected": "訂正・二重記入の可能性がある枠がある（原本で確認）",
    "digit_gap": "記入された数字の間に空欄の枠がある",
    "double_entry": "ベリファイ入力の対象（画像を見て値を入力してください）",
    "formula_like": "表計算ソフトの数式のような値（原本を確認。出力では文字として扱います）",
    "unknown_address": "住所の都道府県・市区町村が日本郵便のデータにない",
    "group_multiple": "1つだけ選ぶチェック欄に複数の印がある",
    "group_empty": "いずれかに印が必要なチェック欄がすべて空欄",
    "line_across_writing": "折り目や線が文字に重なり、読み方で結果が変わる（原本で確認）",
    "mark_obscured": "折り目・影・線がチェック欄にかかり印の有無を判定できない（原本で確認）",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason to review a field. ``detail`` is optional context (never personal data)."""

    code: str
    detail: str = ""

    @property
    def message(self) -> str:
        """The Japanese text shown to staff; the detail, when present, in brackets."""
        base = REASON_MESSAGES.get(self.code, self.code)
        return f"{base}（{self.detail}）" if self.detail else base


def reason(code: str, detail: str = "") -> Reason:
    """Build a :class:`Reason`, refusing codes that have no Japanese message."""
    if code not in REASON_MESSAGES:
        raise KeyError(f"unknown reason code {code!r}")
    return Reason(code, detail)
