"""The scenario's own state: every reply received so far, clerks' decisions, what was sent.

Replies arrive over weeks, and each run reconciles the ledger against *all* of them, so they
are kept here (:class:`robots.kit.state.DocumentState`: idempotent upserts keyed by file
hash and place, order of first arrival, confirmed values of reviewed paper replies, files
taken in once per version). Clerks' decisions on proposed links are stored here too, with
the 備考 a clerk wrote (a forced link needs one).

Sends: every inquiry the robot sent — to whom (bank, branch, online or letter), when, under
which document number, in which file, and the facts as sent (name, kana, birth date,
address). A send is written in the same transaction as the run's reconciliation, before
the run log commits; if the run then dies, its output folder never appears and the files
sent with it are lost, so a send counts only once its run's folder exists (checked by the
next run: :meth:`ReplyStore.settle_sends`). An inquiry with a settled or pending send is
never sent again, except for a 再照会 a clerk asked for (:meth:`ReplyStore.request_resend`),
which is consumed by the send that carries it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from robots.db.sqlite import utcnow
from robots.kit.state import DocumentState, documents_table

__all__ = ["MIGRATIONS", "Decision", "ReplyStore", "Send"]

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
    ("0002_sends_and_checked_decisions", """
    ALTER TABLE decisions ADD COLUMN note TEXT NOT NULL DEFAULT '';  -- the clerk's 備考
    CREATE TABLE sends (
        inquiry TEXT NOT NULL,              -- the inquiry number
        round INTEGER NOT NULL,             -- 1: first send, 2 and on: 再照会
        channel TEXT NOT NULL,              -- online | letter
        bank_code TEXT NOT NULL,
        branch_code TEXT NOT NULL,
        document_number TEXT NOT NULL,
        sent_on TEXT NOT NULL,              -- ISO date
        deadline TEXT NOT NULL,             -- ISO date
        file TEXT NOT NULL,                 -- the upload file or letter, in the run's folder
        run_id TEXT NOT NULL,
        state TEXT NOT NULL,                -- pending (its run not yet seen) | sent | void
        facts TEXT NOT NULL,                -- JSON: name, kana, birth date, address as sent
        created_at TEXT NOT NULL,
        PRIMARY KEY (inquiry, round)
    );
    CREATE TABLE resend_requests (
        inquiry TEXT PRIMARY KEY,           -- a 再照会 a clerk asked for, not yet sent
        source TEXT NOT NULL,
        requested_at TEXT NOT NULL
    );
    """),
]


@dataclass(frozen=True, slots=True)
class Decision:
    """What a clerk decided about a proposed link: ``link`` (to ``inquiry``) or ``reject``.

    ``note`` is the 備考 written with it: a link the facts contradict is applied only when
    the clerk wrote why (a forced link).
    """

    action: str
    inquiry: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Send:
    """One inquiry sent (or a 再照会 of it)."""

    inquiry: str
    round: int
    channel: str
    bank_code: str
    branch_code: str
    document_number: str
    sent_on: str
    deadline: str
    file: str
    run_id: str
    state: str
    facts: dict[str, str]


class ReplyStore(DocumentState):
    """The scenario database; used by the parent process only (in ``finish``)."""

    MIGRATIONS = MIGRATIONS
    DOCS_TABLE = "reply_docs"

    def decide(self, reply_id: str, decision: Decision, source: str) -> None:
        self.db.execute("INSERT INTO decisions (reply_id, action, inquiry, source, decided_at, "
                        "note) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(reply_id) DO UPDATE SET "
                        "action = excluded.action, inquiry = excluded.inquiry, "
                        "source = excluded.source, decided_at = excluded.decided_at, "
                        "note = excluded.note",
                        (reply_id, decision.action, decision.inquiry, source, utcnow(),
                         decision.note))

    def forget_decision(self, reply_id: str) -> None:
        self.db.execute("DELETE FROM decisions WHERE reply_id = ?", (reply_id,))

    def decisions(self) -> dict[str, Decision]:
        return {r["reply_id"]: Decision(r["action"], r["inquiry"], r["note"])
                for r in self.db.execute("SELECT * FROM decisions")}

    # -- sends ---------------------------------------------------------------------------

    def settle_sends(self, out_root: Path, current_run: str) -> tuple[int, int]:
        """Pending sends of earlier runs: ``sent`` if the run's folder exists, else ``void``.

        Returns (settled, voided). A voided send's inquiry is sent again by this run.
        """
        settled = voided = 0
        for r in self.db.execute("SELECT DISTINCT run_id FROM sends WHERE state = 'pending' "
                                 "AND run_id != ?", (current_run,)).fetchall():
            done = (out_root / r["run_id"]).is_dir()
            cur = self.db.execute("UPDATE sends SET state = ? WHERE run_id = ? AND "
                                  "state = 'pending'", ("sent" if done else "void", r["run_id"]))
            if done:
                settled += cur.rowcount
            else:
                voided += cur.rowcount
                log.warning("run %s did not finish: its %d send(s) are void and go out again",
                            r["run_id"], cur.rowcount)
        return settled, voided

    def add_send(self, send: Send) -> None:
        self.db.execute(
            "INSERT INTO sends VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(inquiry, round) DO UPDATE SET channel = excluded.channel, "
            "bank_code = excluded.bank_code, branch_code = excluded.branch_code, "
            "document_number = excluded.document_number, sent_on = excluded.sent_on, "
            "deadline = excluded.deadline, file = excluded.file, run_id = excluded.run_id, "
            "state = excluded.state, facts = excluded.facts, created_at = excluded.created_at "
            "WHERE sends.state = 'void'",
            (send.inquiry, send.round, send.channel, send.bank_code, send.branch_code,
             send.document_number, send.sent_on, send.deadline, send.file, send.run_id,
             send.state, json.dumps(send.facts, ensure_ascii=False, sort_keys=True), utcnow()))

    def sends(self) -> dict[str, list[Send]]:
        """Inquiry number → its sends that count (pending or sent), in order of round."""
        out: dict[str, list[Send]] = {}
        for r in self.db.execute("SELECT * FROM sends WHERE state != 'void' "
                                 "ORDER BY inquiry, round"):
            out.setdefault(r["inquiry"], []).append(Send(
                r["inquiry"], r["round"], r["channel"], r["bank_code"], r["branch_code"],
                r["document_number"], r["sent_on"], r["deadline"], r["file"], r["run_id"],
                r["state"], json.loads(r["facts"])))
        return out

    def request_resend(self, inquiry: str, source: str) -> None:
        self.db.execute("INSERT INTO resend_requests VALUES (?, ?, ?) ON CONFLICT(inquiry) "
                        "DO NOTHING", (inquiry, source, utcnow()))

    def resend_requests(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT inquiry FROM resend_requests")}

    def resend_done(self, inquiry: str) -> None:
        self.db.execute("DELETE FROM resend_requests WHERE inquiry = ?", (inquiry,))
