"""The scenario's own state: applications, the previous list, suspensions, list snapshots.

Business data (names, representatives, addresses), hence a separate SQLite file readable
by its owner only, never the run log (which keeps digests). Every write is an idempotent
upsert keyed by content: an application by its file's hash and its place in the file, a
previous-list line by (corporate number, category, start), a suspension by (vendor,
start) — so a run that dies after :meth:`ContractStore.upsert_doc` and is redone by
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

from robots.kit.state import DocumentState

__all__ = ["MIGRATIONS", "ContractStore"]

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
    # the documents table of robots.kit.state, shared with the other table-or-scan scenario
    ("0002_first_run", "ALTER TABLE applications ADD COLUMN first_run TEXT NOT NULL DEFAULT ''"),
    # a clerk's 妥当 / 誤検知 on a finding, read back from the findings workbook
    ("0003_verdicts", """
    CREATE TABLE verdicts (
        finding_id TEXT PRIMARY KEY,        -- rule:contract number[:row]
        verdict TEXT NOT NULL,              -- 妥当 | 誤検知
        note TEXT NOT NULL,
        source TEXT NOT NULL                -- <run id>/<workbook> it was read from
    );
    """),
]


def _json(v: object) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


class ContractStore(DocumentState):
    """The scenario database; used by the parent process only (in ``finish``)."""

    MIGRATIONS = MIGRATIONS
    DOCS_TABLE = "applications"

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

    # -- clerks' verdicts on findings ---------------------------------------------------------

    def upsert_verdict(self, finding_id: str, verdict: str, note: str, source: str) -> None:
        self.db.execute("INSERT INTO verdicts VALUES (?, ?, ?, ?) ON CONFLICT(finding_id) DO "
                        "UPDATE SET verdict = excluded.verdict, note = excluded.note, "
                        "source = excluded.source", (finding_id, verdict, note, source))

    def verdicts(self) -> dict[str, tuple[str, str]]:
        return {r["finding_id"]: (r["verdict"], r["note"])
                for r in self.db.execute("SELECT * FROM verdicts")}

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
