"""What the evaluation report judges contract administration on, besides OCR.

The work is twofold: applications examined and entered in the qualified-vendor list, and
contracts of the register checked against the list, the suspensions and the rules. The counts
are written by the scenario's ``finish`` into ``RunContext.counts`` under these names (the
contract with the run log's ``work_counts``); a measure no run wrote is "not measured" in the
report, never 0. Findings are judged 妥当 / 誤検知 by a clerk on the findings workbook.
"""

from __future__ import annotations

from robots.scenario import WorkMeasure, WorkShare, WorkSpec, WorkTask
from scenarios.contracts.datafiles import APPLICATION_FORM, REGISTER_FORM, SUSPENSIONS_FORM
from scenarios.contracts.schemas import APPLICATION, REGISTER, SUSPENSIONS

__all__ = ["DATA_INPUTS", "WORK"]

#: Inputs read from other systems' files, counted in rows, not pages.
DATA_INPUTS = {APPLICATION_FORM: APPLICATION.title_ja, REGISTER_FORM: REGISTER.title_ja,
               SUSPENSIONS_FORM: SUSPENSIONS.title_ja}

WORK = WorkSpec(
    measures=(
        WorkMeasure("applications", "処理した申請"),
        WorkMeasure("applications_listed", "名簿に載せた申請"),
        WorkMeasure("applications_for_review", "要確認になった申請"),
        WorkMeasure("contracts_checked", "点検した契約"),
        WorkMeasure("findings", "指摘"),
        WorkMeasure("findings_valid", "職員が妥当とした指摘"),
        WorkMeasure("findings_false", "職員が誤検知とした指摘"),
    ),
    shares=(
        WorkShare("名簿に載せた申請の割合", ("applications_listed",), ("applications",),
                  "名簿に載せた申請 ÷ 処理した申請"),
        WorkShare("判断済みの指摘の割合", ("findings_valid", "findings_false"), ("findings",),
                  "（妥当 ＋ 誤検知とされた指摘）÷ 指摘"),
        WorkShare("指摘の妥当率", ("findings_valid",), ("findings_valid", "findings_false"),
                  "妥当とされた指摘 ÷（妥当 ＋ 誤検知とされた指摘）"),
    ),
    tasks=(
        WorkTask("bid_application_check", "入札参加資格申請1件の審査と名簿への記入", "申請",
                 done="applications", left=("applications_for_review",),
                 decision_id="bid_application_decision", decision_ja="要確認の申請1件の判断"),
        WorkTask("contract_register_check", "契約1件の台帳点検", "契約",
                 done="contracts_checked", left=("findings",),
                 decision_id="contract_finding_decision",
                 decision_ja="指摘1件の判断（妥当・誤検知）"),
    ),
)
