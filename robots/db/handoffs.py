"""The run log's record of hand-offs to the core systems (mixed into :class:`RunLog`).

Files are written to a hidden part file, recorded as 'staged' in the transaction that
confirms the data, renamed into place after that commit and marked 'delivered'
(:mod:`robots.sheets.handoff`). ``handoff_docs`` makes "the same document never leaves
twice" a constraint of the database: one row per (document, layout). Paths are relative to
the workspace, like ``runs.out_dir`` and ``files.final_path``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from robots.db.sqlite import SqliteDb, utcnow

__all__ = ["HANDOFFS_SQL", "HandoffLog"]

HANDOFFS_SQL = """
    CREATE TABLE handoffs (
        handoff_id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        layout_id TEXT NOT NULL,
        target TEXT NOT NULL,
        path TEXT NOT NULL,                 -- relative to the workspace when inside it
        rows INTEGER NOT NULL,
        held INTEGER NOT NULL,              -- rows held back (要対応) at this hand-off
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        import_id INTEGER,                  -- NULL: at the end of a run with nothing to review
        status TEXT NOT NULL,               -- staged | delivered
        at TEXT NOT NULL,
        delivered_at TEXT
    );
    CREATE INDEX handoffs_run ON handoffs(run_id);
    CREATE TABLE handoff_docs (
        doc_id TEXT NOT NULL,
        layout_id TEXT NOT NULL,
        handoff_id INTEGER NOT NULL REFERENCES handoffs(handoff_id),
        PRIMARY KEY (doc_id, layout_id)
    )
    """


class HandoffLog(SqliteDb):
    """Hand-off records; the run log's schema (migration ``0016_handoffs``) holds the tables."""

    def handed_off(self, layout_id: str, doc_ids: Sequence[str]) -> dict[str, int]:
        """Which of ``doc_ids`` left already in ``layout_id``: doc id → hand-off id."""
        if not doc_ids:
            return {}
        marks = ", ".join("?" * len(doc_ids))
        return {r["doc_id"]: r["handoff_id"] for r in self.db.execute(
            f"SELECT doc_id, handoff_id FROM handoff_docs WHERE layout_id = ? "
            f"AND doc_id IN ({marks})", (layout_id, *doc_ids))}

    def add_handoff(self, run_id: str, *, layout_id: str, target: str, path: str, rows: int,
                    held: int, size: int, sha256: str, import_id: int | None,
                    doc_ids: Sequence[str]) -> int:
        """Record a staged hand-off and its documents (a document leaving twice raises)."""
        with self.atomic():
            handoff_id = int(self.db.execute(
                "INSERT INTO handoffs (run_id, layout_id, target, path, rows, held, bytes, "
                "sha256, import_id, status, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'staged', ?)",
                (run_id, layout_id, target, path, rows, held, size, sha256, import_id, utcnow())
            ).lastrowid or 0)
            self.db.executemany(
                "INSERT INTO handoff_docs (doc_id, layout_id, handoff_id) VALUES (?, ?, ?)",
                [(d, layout_id, handoff_id) for d in doc_ids])
        return handoff_id

    def delivered(self, handoff_id: int) -> None:
        with self.atomic():
            self.db.execute("UPDATE handoffs SET status = 'delivered', delivered_at = ? "
                            "WHERE handoff_id = ?", (utcnow(), handoff_id))

    def handoffs(self, run_id: str | None = None, *, status: str | None = None
                 ) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM handoffs WHERE 1 = 1", []
        if run_id is not None:
            sql, args = sql + " AND run_id = ?", [*args, run_id]
        if status is not None:
            sql, args = sql + " AND status = ?", [*args, status]
        return list(self.db.execute(sql + " ORDER BY handoff_id", args))
