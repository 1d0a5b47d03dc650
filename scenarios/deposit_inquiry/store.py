"""The scenario's own state: every reply received so far, and clerks' decisions.

Replies arrive over weeks, and each run reconciles the ledger against *all* of them, so they
are kept here (:class:`robots.kit.state.DocumentState`: idempotent upserts keyed by file
hash and place, order of first arrival, confirmed values of reviewed paper replies, files
taken in once per version). Clerks' decisions on proposed links are stored here too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from robots.db.sqlite import utcnow
from robots.kit.state import DocumentState, documents_table

__all__ = ["MIGRATIONS", "Decision", "ReplyStore"]

log = logging.getLogger(__name__)

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_initial", documents_table("reply_docs") + """;
    CREATE TABLE decisions (
        reply_id TEXT PRIMARY KEY,
        action TEXT NOT NULL,               -- link | reject
        inquiry TEXT NOT NULL,              -- the inquiry number to link to ('' = as proposed)
        source TEXT NOT NULL,               -- the workbook the decision was read from
        decided_at TEXT NOT NULL
    );
    """),
]


@dataclass(frozen=True, slots=True)
class Decision:
    """What a clerk decided about a proposed link: ``link`` (to ``inquiry``) or ``reject``."""

    action: str
    inquiry: str


class ReplyStore(DocumentState):
    """The scenario database; used by the parent process only (in ``finish``)."""

    MIGRATIONS = MIGRATIONS
    DOCS_TABLE = "reply_docs"

    def decide(self, reply_id: str, decision: Decision, source: str) -> None:
        self.db.execute("INSERT INTO decisions VALUES (?, ?, ?, ?, ?) ON CONFLICT(reply_id) DO "
                        "UPDATE SET action = excluded.action, inquiry = excluded.inquiry, "
                        "source = excluded.source, decided_at = excluded.decided_at",
                        (reply_id, decision.action, decision.inquiry, source, utcnow()))

    def forget_decision(self, reply_id: str) -> None:
        self.db.execute("DELETE FROM decisions WHERE reply_id = ?", (reply_id,))

    def decisions(self) -> dict[str, Decision]:
        return {r["reply_id"]: Decision(r["action"], r["inquiry"])
                for r in self.db.execute("SELECT * FROM decisions")}
