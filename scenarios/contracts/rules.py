"""The contract-check rules: stable ids, Japanese names, default severities, what they check.

Ids are part of the outputs (one workbook sheet per rule), of the run log (event counts) and
of the sample truth, so they never change meaning. Severities: 高 — the contract should not
have been made this way (a legal limit, an unqualified or suspended vendor); 中 — something
to explain or correct (a wrong corporate number, a possible split order); 低 — the register
itself is incomplete. A town may change a rule's severity in ``[scenarios.contracts.severity]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["RULES", "SEVERITIES", "Rule", "RuleId", "Severity"]

RuleId = Literal["not_qualified", "qualification_lapsed", "suspended",
                 "invalid_corporate_number", "name_mismatch", "duplicate_number", "date_order",
                 "negotiated_over_limit", "split_order", "bid_ratio", "register_data"]
Severity = Literal["高", "中", "低"]
SEVERITIES: tuple[Severity, ...] = ("高", "中", "低")


@dataclass(frozen=True)
class Rule:
    """One rule: its id, its name on the sheet, its default severity and what it means."""

    id: str
    title: str
    severity: Severity
    description: str


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("not_qualified", "資格なし", "高",
         "契約の業種について、業者が入札参加資格者名簿に登録されたことがない"),
    Rule("qualification_lapsed", "資格期間外", "高",
         "業種の資格はあるが、契約日がその有効期間外（失効後または有効期間前）"),
    Rule("suspended", "指名停止中", "高", "契約日が業者の指名停止期間中"),
    Rule("invalid_corporate_number", "法人番号の誤り", "中",
         "法人番号が13桁でない、またはチェックディジットが合わない"),
    Rule("name_mismatch", "業者名の不一致", "中",
         "契約の業者名が、名簿のその法人番号の名称と一致しない（法人の種類の表記・全角半角・"
         "空白・旧字体の違いは同じとみなす）"),
    Rule("duplicate_number", "契約番号の重複", "高", "同じ契約番号が台帳に2件以上ある"),
    Rule("date_order", "日付の前後", "中",
         "履行期間の終期が始期より前、または契約日が履行期間の終期より後"),
    Rule("negotiated_over_limit", "随意契約の限度額超過", "高",
         "少額随意契約の予定価格が、契約日に効力のある限度額（地方自治法施行令第167条の2"
         "第1項第1号・別表第5、町の規則）を超える"),
    Rule("split_order", "分割発注の疑い", "中",
         "同じ業者・類似の件名の随意契約が一定期間内に複数あり、個々は限度額以下だが合計が"
         "限度額を超える"),
    Rule("bid_ratio", "落札率の範囲外", "中",
         "契約金額 ÷ 予定価格 が設定した範囲の外（上限を超えるものは予定価格超過）"),
    Rule("register_data", "台帳の記載不備", "低",
         "契約日・金額・契約方法・業種・業者が読めないため、一部の確認ができない"),
)}
