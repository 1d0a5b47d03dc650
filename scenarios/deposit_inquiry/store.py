"""The scenario's own state: every reply received so far, with its values.

Replies arrive over weeks, and each run reconciles the ledger against *all* of them, so they
are kept here — business data like the outputs (names, birth dates, balances), hence a
separate SQLite file readable by its owner only, never the run log (which keeps digests).

Writes are idempotent: a reply document is keyed by the content hash of its file and its
place in the file, so a run that dies after :meth:`ReplyStore.upsert` and is redone by the
next run (the runner puts the files back in the inbox) updates the same rows instead of
adding a second copy. Its order of first arrival is kept, so "the same reply twice" (重複)
always names the later one. Clerks' decisions on proposed links and the confirmed values of
reviewed paper replies are stored here too, keyed the same way.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from robots.sqlitedb import SqliteDb, utcnow

__all__ = ["MIGRATIONS", "Decision", "ReplyStore", "StoredDoc", "signature"]

log = logging.getLogger(__name__)

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_initial", """
    CREATE TABLE reply_docs (
        doc_key TEXT PRIMARY KEY,           -- <file sha256 prefix>:<r row | p page>
        kind TEXT NOT NULL,                 -- data | paper
        layout TEXT NOT NULL,               -- mapping id, or the form id of a paper reply
        file_name TEXT NOT NULL,
        locator TEXT NOT NULL,              -- row or page in the file
        doc_id TEXT NOT NULL,               -- run-log document of the run that last read it
        run_id TEXT NOT NULL,
        first_run TEXT NOT NULL,
        received TEXT NOT NULL,             -- ISO date of first reception
        arrival INTEGER NOT NULL,           -- order of first reception
        fields TEXT NOT NULL,               -- JSON: field → normalised value
        problems TEXT NOT NULL,             -- JSON: [[field, Japanese reason], ...]
        confirmed TEXT                      -- where reviewed values came from, once they did
    );
    CREATE INDEX reply_docs_doc_id ON reply_docs(doc_id);
    CREATE TABLE decisions (
        reply_id TEXT PRIMARY KEY,
        action TEXT NOT NULL,               -- link | reject
        inquiry TEXT NOT NULL,              -- the inquiry number to link to ('' = as proposed)
        source TEXT NOT NULL,               -- the workbook the decision was read from
        decided_at TEXT NOT NULL
    );
    CREATE TABLE seen_files (
        path TEXT PRIMARY KEY,              -- a confirmed CSV or reviewed workbook
        signature TEXT NOT NULL,            -- size and modification time when it was read
        applied_at TEXT NOT NULL
    );
    """),
]


@dataclass(slots=True)
class StoredDoc:
    """One reply document: a data-file row, or one paper form (up to three accounts)."""

    doc_key: str
    kind: str
    layout: str
    file_name: str
    locator: str
    doc_id: str
    run_id: str
    received: str
    fields: dict[str, str]
    problems: list[tuple[str, str]] = field(default_factory=list)
    arrival: int = 0
    confirmed: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """What a clerk decided about a proposed link: ``link`` (to ``inquiry``) or ``reject``."""

    action: str
    inquiry: str


class ReplyStore(SqliteDb):
    """The scenario database; used by the parent process only (in ``finish``)."""

    MIGRATIONS = MIGRATIONS

    def upsert(self, doc: StoredDoc) -> None:
        """Insert a reply document, or refresh the one read before from the same file and place.

        Reviewed (confirmed) values are never overwritten by a re-read of the scan.
        """
        self.db.execute(
            "INSERT INTO reply_docs (doc_key, kind, layout, file_name, locator, doc_id, run_id, "
            "first_run, received, arrival, fields, problems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "(SELECT COALESCE(MAX(arrival), 0) + 1 FROM reply_docs), ?, ?) "
            "ON CONFLICT(doc_key) DO UPDATE SET doc_id = excluded.doc_id, "
            "run_id = excluded.run_id, fields = excluded.fields, problems = excluded.problems "
            "WHERE reply_docs.confirmed IS NULL",
            (doc.doc_key, doc.kind, doc.layout, doc.file_name, doc.locator, doc.doc_id,
             doc.run_id, doc.run_id, doc.received,
             json.dumps(doc.fields, ensure_ascii=False, sort_keys=True),
             json.dumps(doc.problems, ensure_ascii=False)))

    def docs(self) -> list[StoredDoc]:
        """Every reply document, in order of first arrival."""
        return [StoredDoc(r["doc_key"], r["kind"], r["layout"], r["file_name"], r["locator"],
                          r["doc_id"], r["run_id"], r["received"], json.loads(r["fields"]),
                          [tuple(p) for p in json.loads(r["problems"])], r["arrival"],
                          r["confirmed"] or "")
                for r in self.db.execute("SELECT * FROM reply_docs ORDER BY arrival")]

    def confirm(self, doc_id: str, fields: dict[str, str], source: str) -> bool:
        """Reviewed values of a paper reply (from ``rpa corrections import``): no problems left."""
        cur = self.db.execute(
            "UPDATE reply_docs SET fields = ?, problems = '[]', confirmed = ? "
            "WHERE doc_id = ? AND kind = 'paper'",
            (json.dumps(fields, ensure_ascii=False, sort_keys=True), source, doc_id))
        return cur.rowcount > 0

    def seen(self, path: Path, signature: str) -> bool:
        """Whether this version of a file (see :func:`signature`) was taken in already."""
        row = self.db.execute("SELECT signature FROM seen_files WHERE path = ?",
                              (str(path),)).fetchone()
        return row is not None and row[0] == signature

    def mark_seen(self, path: Path, signature: str) -> None:
        self.db.execute("INSERT INTO seen_files VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE "
                        "SET signature = excluded.signature, applied_at = excluded.applied_at",
                        (str(path), signature, utcnow()))

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


def signature(path: Path) -> str:
    """Size and modification time: cheap, and changed by every save of the file.

    A year of daily workbooks is read back at every run; hashing them all would cost more
    than the reconciliation itself.
    """
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


