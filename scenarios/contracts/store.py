"""The scenario's own state: applications, the previous list, suspensions, list snapshots.

Business data (names, representatives, addresses), hence a separate SQLite file readable
by its owner only, never the run log (which keeps digests). Every write is an idempotent
upsert keyed by content: an application by its file's hash and its place in the file, a
previous-list line by (corporate number, category, start), a suspension by (vendor,
start) — so a run that dies after :meth:`ContractStore.upsert_application` and is redone by
the next one (the runner puts its files back in the inbox) updates the same rows instead of
adding a second copy, and the list derived from them is the same.

Each run stores the list it published (a *snapshot*); the next run compares its list with
the latest snapshot of a run whose outputs exist (a run that died before its outputs were
kept published nothing, so its snapshot is passed over and later removed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from robots.sqlitedb import SqliteDb, utcnow

__all__ = ["MIGRATIONS", "ContractStore", "StoredApplication", "signature"]

log = logging.getLogger(__name__)

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_initial", """
    CREATE TABLE applications (
        doc_key TEXT PRIMARY KEY,           -- <file sha256 prefix>:<a lines | p page>
        kind TEXT NOT NULL,                 -- data | paper
        layout TEXT NOT NULL,               -- mapping id, or the form id
        file_name TEXT NOT NULL,
        locator TEXT NOT NULL,
        doc_id TEXT NOT NULL,               -- run-log document of the run that last read it
        run_id TEXT NOT NULL,
        received TEXT NOT NULL,             -- ISO date of first reception
        arrival INTEGER NOT NULL,           -- order of first reception
        fields TEXT NOT NULL,               -- JSON: application values (paper: form fields)
        problems TEXT NOT NULL,             -- JSON: [[field, Japanese reason], ...]
        confirmed TEXT                      -- where reviewed values came from, once they did
    );
    CREATE INDEX applications_doc_id ON applications(doc_id);
    CREATE TABLE baseline (
        line_key TEXT PRIMARY KEY,          -- corporate number|category|valid_from
        line INTEGER NOT NULL,              -- order in the previous list
        fields TEXT NOT NULL,
        source TEXT NOT NULL
    );
    CREATE TABLE suspensions (
        sus_key TEXT PRIMARY KEY,           -- corporate number or name|from
        arrival INTEGER NOT NULL,
        fields TEXT NOT NULL,
        source TEXT NOT NULL
    );
    CREATE TABLE snapshot_runs (
        seq INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        as_of TEXT NOT NULL
    );
    CREATE TABLE snapshots (
        run_id TEXT NOT NULL,
        entry_key TEXT NOT NULL,            -- corporate number|category
        fields TEXT NOT NULL,
        PRIMARY KEY (run_id, entry_key)
    );
    CREATE TABLE seen_files (
        path TEXT PRIMARY KEY,              -- a previous list or a confirmed CSV taken in
        signature TEXT NOT NULL,
        applied_at TEXT NOT NULL
    );
    """),
]


@dataclass(slots=True)
class StoredApplication:
    """One application as stored (values of a paper one are the form's fields)."""

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


def _json(v: object) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


class ContractStore(SqliteDb):
    """The scenario database; used by the parent process only (in ``finish``)."""

    MIGRATIONS = MIGRATIONS

    # -- applications ------------------------------------------------------------------------

    def upsert_application(self, a: StoredApplication) -> None:
        """Insert, or refresh the one read before from the same file and place.

        Reviewed (confirmed) values are never overwritten by a re-read of the scan.
        """
        self.db.execute(
            "INSERT INTO applications (doc_key, kind, layout, file_name, locator, doc_id, "
            "run_id, received, arrival, fields, problems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
            "(SELECT COALESCE(MAX(arrival), 0) + 1 FROM applications), ?, ?) "
            "ON CONFLICT(doc_key) DO UPDATE SET doc_id = excluded.doc_id, "
            "run_id = excluded.run_id, fields = excluded.fields, problems = excluded.problems "
            "WHERE applications.confirmed IS NULL",
            (a.doc_key, a.kind, a.layout, a.file_name, a.locator, a.doc_id, a.run_id,
             a.received, _json(a.fields), json.dumps(a.problems, ensure_ascii=False)))

    def applications(self) -> list[StoredApplication]:
        """Every application, in order of first arrival."""
        return [StoredApplication(r["doc_key"], r["kind"], r["layout"], r["file_name"],
                                  r["locator"], r["doc_id"], r["run_id"], r["received"],
                                  json.loads(r["fields"]),
                                  [tuple(p) for p in json.loads(r["problems"])], r["arrival"],
                                  r["confirmed"] or "")
                for r in self.db.execute("SELECT * FROM applications ORDER BY arrival")]

    def confirm(self, doc_id: str, fields: Mapping[str, str], source: str) -> bool:
        """Reviewed values of a paper application (``rpa corrections import``)."""
        cur = self.db.execute(
            "UPDATE applications SET fields = ?, problems = '[]', confirmed = ? "
            "WHERE doc_id = ? AND kind = 'paper'", (_json(dict(fields)), source, doc_id))
        return cur.rowcount > 0

    # -- the previous list and suspensions ---------------------------------------------------

    def upsert_baseline(self, key: str, line: int, fields: Mapping[str, str], source: str
                        ) -> None:
        self.db.execute("INSERT INTO baseline VALUES (?, ?, ?, ?) ON CONFLICT(line_key) DO "
                        "UPDATE SET line = excluded.line, fields = excluded.fields, "
                        "source = excluded.source", (key, line, _json(dict(fields)), source))

    def baseline(self) -> list[tuple[dict[str, str], str]]:
        return [(json.loads(r["fields"]), r["source"])
                for r in self.db.execute("SELECT * FROM baseline ORDER BY line, line_key")]

    def upsert_suspension(self, key: str, fields: Mapping[str, str], source: str) -> None:
        self.db.execute(
            "INSERT INTO suspensions VALUES (?, (SELECT COALESCE(MAX(arrival), 0) + 1 FROM "
            "suspensions), ?, ?) ON CONFLICT(sus_key) DO UPDATE SET fields = excluded.fields, "
            "source = excluded.source", (key, _json(dict(fields)), source))

    def suspensions(self) -> list[tuple[dict[str, str], str]]:
        return [(json.loads(r["fields"]), r["source"])
                for r in self.db.execute("SELECT * FROM suspensions ORDER BY arrival")]

    # -- snapshots ---------------------------------------------------------------------------

    def save_snapshot(self, run_id: str, as_of: str, rows: Mapping[str, Mapping[str, str]]
                      ) -> None:
        self.db.execute("DELETE FROM snapshots WHERE run_id = ?", (run_id,))
        self.db.execute("INSERT OR REPLACE INTO snapshot_runs (run_id, as_of) VALUES (?, ?)",
                        (run_id, as_of))
        self.db.executemany("INSERT INTO snapshots VALUES (?, ?, ?)",
                            [(run_id, k, _json(dict(v))) for k, v in rows.items()])

    def latest_snapshot(self, published: set[str] | None = None, *, exclude: str = ""
                        ) -> tuple[str, dict[str, dict[str, str]]] | None:
        """(run id, rows) of the newest snapshot whose run is in ``published`` (all if None).

        Snapshots of runs that published nothing and are older than it are removed.
        """
        runs = [r["run_id"] for r in self.db.execute(
            "SELECT run_id FROM snapshot_runs ORDER BY seq DESC") if r["run_id"] != exclude]
        chosen = next((r for r in runs if published is None or r in published), None)
        if chosen is None:
            return None
        at = runs.index(chosen)
        stale = runs[at + 1:] + runs[:at]  # older ones, and newer ones that never published
        for r in stale:
            self.db.execute("DELETE FROM snapshots WHERE run_id = ?", (r,))
            self.db.execute("DELETE FROM snapshot_runs WHERE run_id = ?", (r,))
        rows = {r["entry_key"]: json.loads(r["fields"]) for r in self.db.execute(
            "SELECT entry_key, fields FROM snapshots WHERE run_id = ?", (chosen,))}
        return chosen, rows

    # -- files taken in once -----------------------------------------------------------------

    def seen(self, path: Path, signature: str) -> bool:
        row = self.db.execute("SELECT signature FROM seen_files WHERE path = ?",
                              (str(path),)).fetchone()
        return row is not None and row[0] == signature

    def mark_seen(self, path: Path, signature: str) -> None:
        self.db.execute("INSERT INTO seen_files VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE "
                        "SET signature = excluded.signature, applied_at = excluded.applied_at",
                        (str(path), signature, utcnow()))


def signature(path: Path) -> str:
    """Size and modification time: cheap, and changed by every save of the file."""
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


