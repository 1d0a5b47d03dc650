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

RuleId = Literal["not_qualified", "qualification_lapsed", "suspended", "keishin_expired",
                 "invalid_corporate_number", "name_mismatch", "name_reading", "duplicate_number",
                 "date_order", "negotiated_over_limit", "negotiated_over_estimate",
                 "negotiated_quotes", "split_order", "split_candidate", "bid_ratio",
                 "below_minimum_price", "low_bid_unsurveyed", "grade_mismatch",
                 "guarantee_missing", "advance_over_limit", "council_missing", "register_data"]
Severity = Literal["高", "中", "低"]
SEVERITIES: tuple[Severity, ...] = ("高", "中", "低")


@dataclass(frozen=True)
class Rule:
    """One rule: its id, its name on the sheet, its default severity, what it means, its basis."""

    id: str
    title: str
    severity: Severity
    description: str
    basis: str = ""  # the law, order or town rule it implements (Japanese)


_LIMIT = "地方自治法施行令第167条の2第1項第1号・別表第5（令和7年政令第94号、附則の経過措置）"
RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("not_qualified", "資格なし", "高",
         "契約の業種について、業者が入札参加資格者名簿に登録されたことがない",
         "地方自治法施行令第167条の5・第167条の11（競争入札参加資格）"),
    Rule("qualification_lapsed", "資格期間外", "高",
         "業種の資格はあるが、参加した日（入札・見積日、なければ契約日）がその有効期間外",
         "地方自治法施行令第167条の5・第167条の11"),
    Rule("suspended", "指名停止中", "高",
         "公告・指名・見積依頼日、入札・見積日または契約日が業者の指名停止期間中",
         "町の指名停止措置要領"),
    Rule("keishin_expired", "経審の有効期間外", "高",
         "経審の要る額の工事で、入札・見積日（なければ契約日）に、名簿にある業者の経営事項審査の"
         "審査基準日から1年7か月を過ぎている（記録がなければ判定しない）",
         "建設業法第27条の23第1項、同法施行規則第18条の2"),
    Rule("invalid_corporate_number", "法人番号の誤り", "中",
         "法人番号が13桁でない、またはチェックディジットが合わない",
         "番号法第39条、法人番号の指定等に関する省令（検査用数字）"),
    Rule("name_mismatch", "業者名の不一致", "中",
         "契約の業者名が、名簿のその法人番号の名称と一致しない（法人格とその前後の位置は名称の"
         "一部。全角半角・空白・旧字体の違いは同じとみなす）", "会社法第6条（商号）"),
    Rule("name_reading", "業者名の読取の揺れの可能性", "低",
         "法人番号は正しく、業者名が名簿の名称と法人格・位置が同じで、数文字だけ違う（読取・"
         "入力の誤りの可能性。業者の特定には使っていない）", "会社法第6条（商号）"),
    Rule("duplicate_number", "契約番号の重複", "高", "同じ契約番号が台帳に2件以上ある",
         "町の契約事務（台帳の一意性）"),
    Rule("date_order", "日付の前後", "中",
         "履行期間の終期が始期より前、または契約日が履行期間の終期より後", "町の契約事務"),
    Rule("negotiated_over_limit", "随意契約の限度額超過", "高",
         "少額随意契約の予定価格が、契約の申込みの誘引の日（なければ契約日）に効力のある限度額"
         "（町の規則で低い額を定めた場合はその額）を超える", _LIMIT),
    Rule("negotiated_over_estimate", "随意契約の予定価格超過", "高",
         "随意契約の契約金額が予定価格を超える",
         "町の契約規則（予定価格の制限の範囲内で契約する）、地方自治法施行令第167条の2第2項"),
    Rule("negotiated_quotes", "見積者数の不足", "中",
         "随意契約（少額）で見積書を徴した者が規則の人数より少ない（一者でよい額を除く）",
         "町の契約規則（2人以上の者から見積書を徴する）"),
    Rule("split_order", "分割発注の疑い", "中",
         "同じ業者・類似の件名の随意契約が一定期間内に複数あり、個々は限度額以下だが合計が"
         "限度額を超える", _LIMIT),
    Rule("split_candidate", "分割発注の可能性（複数業者）", "低",
         "同じ業種・同じ場所または類似の件名の随意契約が一定期間内に複数の業者とあり、合計が"
         "限度額を超える（人が判断するための候補）", _LIMIT),
    Rule("bid_ratio", "落札率の範囲外", "中",
         "契約金額 ÷ 予定価格 が契約種別ごとの範囲の外（上限を超えるものは予定価格超過）",
         "地方自治法施行令第167条の9・第167条の10（予定価格の制限の範囲内）、町の監視基準"),
    Rule("below_minimum_price", "最低制限価格未満", "高",
         "競争入札の契約金額が最低制限価格を下回る",
         "地方自治法施行令第167条の10第2項（第167条の13で指名競争入札に準用）"),
    Rule("low_bid_unsurveyed", "低入札価格調査の記録なし", "中",
         "契約金額が調査基準価格を下回るのに、低入札価格調査を行った日の記載がない",
         "地方自治法施行令第167条の10第1項"),
    Rule("grade_mismatch", "等級と発注標準の不一致", "中",
         "競争入札の予定価格が、業者のその業種の等級（町の格付）に対応する発注標準の金額の範囲"
         "の外", "地方自治法施行令第167条の5第1項・第167条の11第2項、町の発注標準"),
    Rule("guarantee_missing", "契約保証金の不足", "中",
         "契約保証金が契約金額に規則の率を乗じた額に満たず、免除の理由の記載もない",
         "地方自治法第234条の2第2項、同法施行令第167条の16、町の契約規則"),
    Rule("advance_over_limit", "前払金の限度超過", "中",
         "工事の前払金が契約金額の10分の4を超える",
         "地方自治法施行令附則第7条、同法施行規則附則第3条第1項"),
    Rule("council_missing", "議会の議決の記載なし", "高",
         "予定価格が議会の議決を要する額以上なのに議決日の記載がない、または議決日が契約日より後",
         "地方自治法第96条第1項第5号・第8号、同法施行令第121条の2・別表第3・別表第4、町の条例"),
    Rule("register_data", "台帳の記載不備", "低",
         "契約日・金額・契約方法・業種・業者などが読めないため、一部の確認ができない",
         "町の契約事務"),
)}
