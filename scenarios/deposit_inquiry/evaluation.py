"""What the evaluation report judges deposit-inquiry reconciliation on, besides OCR.

The work is linking each bank reply to the inquiry it answers. The counts are written by the
scenario's ``finish`` into ``RunContext.counts`` under these names (the contract with the
run log's ``work_counts``); a measure no run wrote is "not measured" in the report, never 0.
A link undone later (``wrong_links_found``) is the work's silent error: it could have put a
seizure on the wrong resident, so any is a no-go (``[evaluation.thresholds]
max_work_errors``).
"""

from __future__ import annotations

from robots.scenario import WorkMeasure, WorkShare, WorkSpec, WorkTask
from scenarios.deposit_inquiry.datafiles import DATA_FORM
from scenarios.deposit_inquiry.schemas import REPLY

__all__ = ["DATA_INPUTS", "WORK"]

#: Reply rows read from the online service's files, counted in rows, not pages.
DATA_INPUTS = {DATA_FORM: f"照会{REPLY.title_ja}"}

_LINKED = ("replies_linked_automatically", "proposals_confirmed", "links_forced")

WORK = WorkSpec(
    measures=(
        WorkMeasure("replies", "照合した回答"),
        WorkMeasure("replies_linked_automatically", "人手を介さずに照合できた回答"),
        WorkMeasure("replies_for_review", "要確認になった回答"),
        WorkMeasure("proposals_confirmed", "職員が採用した照合の提案"),
        WorkMeasure("proposals_rejected", "職員が退けた照合の提案"),
        WorkMeasure("links_forced", "職員が理由を付けて確定した照合"),
        WorkMeasure("links_refused", "再確認で適用しなかった職員の照合"),
        WorkMeasure("wrong_links_found", "後で取り消された照合（誤り）"),
    ),
    shares=(
        WorkShare("人手を介さずに照合できた回答の割合", ("replies_linked_automatically",),
                  ("replies",), "人手を介さずに照合できた回答 ÷ 照合した回答"),
        WorkShare("照合の提案の採用率", ("proposals_confirmed",),
                  ("proposals_confirmed", "proposals_rejected"),
                  "職員が採用した提案 ÷（採用した提案 ＋ 退けた提案）"),
        WorkShare("後で取り消された照合の割合", ("wrong_links_found",), _LINKED,
                  "後で取り消された照合 ÷（自動の照合 ＋ 採用した提案 ＋ 理由付きで確定した照合）"),
    ),
    tasks=(
        WorkTask("deposit_reply_check", "照会回答1件の照合（台帳との突合せ・消込）", "回答",
                 done="replies", left=("replies_for_review",),
                 decision_id="deposit_reply_decision",
                 decision_ja="要確認の回答1件の判断（確認リスト）"),
    ),
    errors=("wrong_links_found",),
    errors_ja="後で誤りと分かった照合",
)
