"""The run log: one SQLite file that records every run, file, document, field and correction.

It is what the proof-of-concept evaluation is computed from, so it is written only by the
runner in the parent process, inside transactions, with a versioned schema. It holds no
field values in clear: values are kept as keyed digests (HMAC-SHA256) plus their length and,
once reviewed, the number of characters a reviewer changed — enough to measure accuracy and
to tell a new correction from one imported before, without keeping My Numbers, account
numbers or birth dates in a second place.

The digest key is *not* kept beside the database (``[paths] digest_key``, by default
``keys/runlog.key`` in the workspace): a birth date or a postal code has so few possible
values that anyone holding the key could try them all, so a copy of ``var/`` alone must not
carry it. Only the writers of digests (the runner, ``rpa corrections import``) need the key;
readers (the report, ``rpa runs``) open the run log without it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import socket
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robots.db.handoffs import HandoffLog
from robots.db.runlog_schema import MIGRATIONS
from robots.db.sqlite import SqliteDb, utcnow

__all__ = ["MIGRATIONS", "FileRow", "RunLog", "edit_distance", "utcnow"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileRow:
    """One input file as recorded by a run."""

    file_id: int
    run_id: str
    source_name: str
    sha256: str
    outcome: str
    final_path: str | None


def _move_key(old: Path, new: Path) -> None:
    """Move the key (across volumes too): written in full at its new place before the old goes."""
    fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(old.read_bytes())
        fh.flush()
        os.fsync(fh.fileno())
    old.unlink()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance in characters: the characters a reviewer had to change."""
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(a, b))


class RunLog(HandoffLog, SqliteDb):
    """Access to the run-log database; one instance per process, used by the parent only."""

    MIGRATIONS = MIGRATIONS
    FOREIGN_KEYS = True

    def __init__(self, path: str | Path, *, key: str | Path | None = None) -> None:
        super().__init__(path)
        self.key_path = Path(key) if key is not None else None
        self._key: bytes | None = None

    # -- infrastructure -----------------------------------------------------------------------
    def _load_key(self) -> bytes:
        """The digest key: created once (owner-only, its folder too), never beside the database.

        A key left beside the database by an earlier version is moved to ``key_path``.
        """
        if self.key_path is None:
            raise RuntimeError("this run log was opened without its digest key")
        key_path = self.key_path
        if not key_path.exists():
            key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            old = self.path.with_suffix(".key")
            if old.exists():
                _move_key(old, key_path)
                log.info("run-log digest key moved out of %s", old.parent)
            else:
                fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(secrets.token_bytes(32))
        return key_path.read_bytes()

    def digest(self, value: str) -> str:
        """Keyed digest of a field value: equal values compare equal, nothing is readable."""
        if self._key is None:
            self._key = self._load_key()
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    # -- runs ---------------------------------------------------------------------------------
    def start_run(self, run_id: str, scenario: str, *, trigger: str, jobs: int,
                  version: str, out_dir: str | Path | None = None) -> bytes:
        """Record a new run as running; returns the run's workbook-signing secret."""
        secret = secrets.token_bytes(32)
        with self.atomic():
            self.db.execute(
                "INSERT INTO runs (run_id, scenario, trigger, started_at, status, host, pid, "
                "version, jobs, out_dir, secret) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                (run_id, scenario, trigger, utcnow(), socket.gethostname(), os.getpid(),
                 version, jobs, str(out_dir) if out_dir else None, secret))
        return secret

    def finish_run(self, run_id: str, *, status: str, exit_code: int,
                   summary: dict[str, Any]) -> None:
        with self.atomic():
            self.db.execute(
                "UPDATE runs SET status = ?, exit_code = ?, finished_at = ?, summary = ? "
                "WHERE run_id = ?",
                (status, exit_code, utcnow(), json.dumps(summary, ensure_ascii=False), run_id))

    def run(self, run_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()

    def runs(self, *, scenario: str | None = None, limit: int = 20) -> list[sqlite3.Row]:
        sql = "SELECT * FROM runs"
        args: list[Any] = []
        if scenario:
            sql += " WHERE scenario = ?"
            args.append(scenario)
        sql += " ORDER BY started_at DESC, run_id DESC LIMIT ?"
        return list(self.db.execute(sql, [*args, limit]))

    def unfinished_runs(self, scenario: str) -> list[sqlite3.Row]:
        return list(self.db.execute(
            "SELECT * FROM runs WHERE scenario = ? AND status = 'running' ORDER BY started_at",
            (scenario,)))

    def secret(self, run_id: str) -> bytes | None:
        row = self.db.execute("SELECT secret FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return bytes(row[0]) if row else None

    # -- files and documents ------------------------------------------------------------------
    def processed_file(self, sha256: str) -> FileRow | None:
        """The earlier *successful* processing of identical content, if any."""
        row = self.db.execute(
            "SELECT f.* FROM files f JOIN runs r USING (run_id) WHERE f.sha256 = ? "
            "AND f.outcome = 'processed' AND r.status = 'completed' ORDER BY f.file_id LIMIT 1",
            (sha256,)).fetchone()
        if row is None:
            return None
        return FileRow(row["file_id"], row["run_id"], row["source_name"], row["sha256"],
                       row["outcome"], row["final_path"])

    def add_file(self, run_id: str, *, source_name: str, sha256: str, size: int,
                 pages: int | None, outcome: str, reason_code: str | None = None,
                 final_path: str | None = None, duplicate_of: str | None = None,
                 source_raw: bytes | None = None) -> int:
        """A file of the run; ``source_raw`` only when the name on disk is not ``source_name``."""
        raw = source_raw if source_raw not in (None, source_name.encode("utf-8", "replace")) \
            else None
        cur = self.db.execute(
            "INSERT INTO files (run_id, source_name, sha256, size, pages, outcome, reason_code, "
            "final_path, duplicate_of, recorded_at, source_raw) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, source_name, sha256, size, pages, outcome, reason_code, final_path,
             duplicate_of, utcnow(), raw))
        return int(cur.lastrowid or 0)

    def set_file_path(self, file_id: int, final_path: str) -> None:
        self.db.execute("UPDATE files SET final_path = ? WHERE file_id = ?", (final_path, file_id))

    def add_document(self, run_id: str, file_id: int, *, doc_id: str, page: str,
                     form_id: str | None, status: str, registration_score: float | None,
                     reason_code: str | None, timings: dict[str, float],
                     fields: Sequence[Any] = ()) -> None:
        """A document and its fields (``ocr.results.FieldResult``-like objects)."""
        self.db.execute(
            "INSERT INTO documents (doc_id, run_id, file_id, page, form_id, status, "
            "registration_score, reason_code, timings, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc_id, run_id, file_id, page, form_id, status, registration_score, reason_code,
             json.dumps(timings), utcnow()))
        self.db.executemany(
            "INSERT INTO fields (doc_id, name, form_id, type, ocr_digest, ocr_len, confidence, "
            "flagged, reasons, proposed_from, candidates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(doc_id, f.name, form_id or "", f.type, self.digest(f.value), len(f.value),
              float(f.confidence), int(f.flagged), " ".join(r.code for r in f.reasons),
              getattr(f, "proposed_from", "") or None, len(getattr(f, "candidates", ())))
             for f in fields])

    def event(self, run_id: str | None, code: str, message: str, *, level: str = "info",
              doc_id: str | None = None) -> None:
        """An event worth keeping; ``message`` must not hold personal data.

        A message quoting a file name that is not UTF-8 keeps U+FFFD where its bytes were.
        """
        message = message.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        self.db.execute(
            "INSERT INTO events (run_id, doc_id, at, level, code, message) "
            "VALUES (?, ?, ?, ?, ?, ?)", (run_id, doc_id, utcnow(), level, code, message))

    def add_counts(self, run_id: str, counts: Mapping[str, int]) -> None:
        """The run's work counts (see ``RunContext.counts``); a measure counted again replaces."""
        self.db.executemany(
            "INSERT INTO work_counts (run_id, measure, value) VALUES (?, ?, ?) "
            "ON CONFLICT(run_id, measure) DO UPDATE SET value = excluded.value",
            [(run_id, k, int(v)) for k, v in counts.items()])

    def work_counts(self, run_id: str) -> dict[str, int]:
        return {r["measure"]: r["value"] for r in self.db.execute(
            "SELECT measure, value FROM work_counts WHERE run_id = ? ORDER BY measure",
            (run_id,))}

    def files(self, run_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM files WHERE run_id = ? ORDER BY file_id",
                                    (run_id,)))

    def documents(self, run_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute(
            "SELECT d.*, f.source_name FROM documents d JOIN files f USING (file_id) "
            "WHERE d.run_id = ? ORDER BY d.doc_id", (run_id,)))

    def events(self, run_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM events WHERE run_id = ? ORDER BY event_id",
                                    (run_id,)))

    # -- manual baseline ----------------------------------------------------------------------
    def record_baseline(self, form_id: str, *, documents: int, minutes: float, who: str,
                        at: str | None = None, note: str = "", kind: str = "form") -> int:
        """One timed sample of manual work: ``documents`` of ``form_id`` took ``minutes``.

        ``kind`` "task" records units of a scenario's task (``form_id`` is the task name).
        """
        with self.atomic():
            cur = self.db.execute(
                "INSERT INTO baselines (form_id, documents, minutes, who, at, note, kind) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", (form_id, documents, minutes, who,
                                                 at or utcnow(), note, kind))
        return int(cur.lastrowid or 0)

    def baselines(self, form_id: str | None = None) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM baselines", []
        if form_id:
            sql, args = sql + " WHERE form_id = ?", [form_id]
        return list(self.db.execute(sql + " ORDER BY baseline_id", args))

    def mark_simulated(self, import_id: int) -> None:
        """Flag an import as made by the demo's simulated reviewer, not by a person."""
        self.db.execute("UPDATE imports SET simulated = 1 WHERE import_id = ?", (import_id,))

    # -- reviews ------------------------------------------------------------------------------
    def fields(self, run_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute(
            "SELECT f.* FROM fields f JOIN documents d USING (doc_id) WHERE d.run_id = ? "
            "ORDER BY f.doc_id, f.name", (run_id,)))

    def imports(self, run_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM imports WHERE run_id = ? ORDER BY import_id",
                                    (run_id,)))

    def record_import(self, run_id: str, *, workbook_sha256: str, who: str, at: str,
                      review_minutes: float | None,
                      corrections: Sequence[tuple[str, str, str, str, str]],
                      doc_ids: Sequence[str] | None = None) -> tuple[int, int]:
        """Record one imported review workbook; returns (import id, fields confirmed as read).

        ``corrections`` are (doc_id, field, source, OCR value, corrected value) in clear, so
        that digesting stays in this module: only digests, lengths and edit distances are
        stored. Each corrected field gets its final value; every other field of the run not
        yet confirmed is confirmed as read. A correction back to a value an earlier import
        set is on record already (unique index) and only becomes the final value again.
        ``doc_ids`` limits the confirmation to the workbook's documents (a run may also hold
        rows read from data files, which no reviewer saw).
        """
        with self.atomic():
            import_id = int(self.db.execute(
                "INSERT INTO imports (run_id, workbook_sha256, who, at, review_minutes, "
                "corrections) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, workbook_sha256, who, at, review_minutes, len(corrections))
            ).lastrowid or 0)
            for doc_id, name, source, before, after in corrections:
                digest, errors = self.digest(after), edit_distance(before, after)
                self.db.execute(
                    "INSERT OR IGNORE INTO corrections (run_id, doc_id, field, who, at, source, "
                    "before_digest, after_digest, char_errors, import_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, doc_id, name, who, at, source, self.digest(before), digest,
                     errors, import_id))
                self.db.execute(
                    "UPDATE fields SET final_digest = ?, final_len = ?, corrected = ?, "
                    "char_errors = ?, confirmed_at = ? WHERE doc_id = ? AND name = ?",
                    (digest, len(after), int(after != before), errors, at, doc_id, name))
            only = "" if doc_ids is None else (
                f" AND doc_id IN ({', '.join('?' * len(doc_ids))})")
            confirmed = self.db.execute(
                "UPDATE fields SET final_digest = ocr_digest, final_len = ocr_len, "
                "confirmed_at = ? WHERE final_digest IS NULL AND doc_id IN "
                "(SELECT doc_id FROM documents WHERE run_id = ?)" + only,
                (at, run_id, *(doc_ids or ()))).rowcount
        return import_id, confirmed
