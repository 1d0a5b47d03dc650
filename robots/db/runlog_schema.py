"""The run log's schema, as the migrations that build it (applied in list order, once each).

Kept apart from :mod:`robots.db.runlog` so the schema reads as one history: a new column or
table is a new entry at the end, never an edit of an applied one (a town's run log was built
by the entries it has already seen). Names keep the number of the change that added them,
so they need not be in numeric order.
"""

from __future__ import annotations

from robots.db.handoffs import HANDOFFS_SQL

__all__ = ["MIGRATIONS"]

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_initial", """
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        scenario TEXT NOT NULL,
        trigger TEXT NOT NULL,              -- manual | schedule | watch | demo
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,               -- running | completed | failed | aborted
        exit_code INTEGER,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        version TEXT NOT NULL,
        jobs INTEGER NOT NULL,
        out_dir TEXT,
        secret BLOB NOT NULL,               -- signs this run's workbooks
        summary TEXT                        -- JSON counts, no personal data
    );
    CREATE TABLE files (
        file_id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        source_name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        pages INTEGER,
        outcome TEXT NOT NULL,              -- processed | failed | duplicate
        reason_code TEXT,
        final_path TEXT,
        duplicate_of TEXT,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX files_sha ON files(sha256, outcome);
    CREATE INDEX files_run ON files(run_id);
    CREATE TABLE documents (
        doc_id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        file_id INTEGER NOT NULL REFERENCES files(file_id),
        page TEXT NOT NULL,
        form_id TEXT,
        status TEXT NOT NULL,               -- ok | needs_review | rejected | error
        registration_score REAL,
        reason_code TEXT,
        timings TEXT,                       -- JSON, milliseconds per stage
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX documents_run ON documents(run_id);
    CREATE TABLE fields (
        doc_id TEXT NOT NULL REFERENCES documents(doc_id),
        name TEXT NOT NULL,
        form_id TEXT NOT NULL,
        type TEXT NOT NULL,
        ocr_digest TEXT NOT NULL,
        ocr_len INTEGER NOT NULL,
        confidence REAL NOT NULL,
        flagged INTEGER NOT NULL,
        reasons TEXT NOT NULL,              -- space-separated reason codes
        final_digest TEXT,
        final_len INTEGER,
        corrected INTEGER NOT NULL DEFAULT 0,
        char_errors INTEGER NOT NULL DEFAULT 0,
        confirmed_at TEXT,
        PRIMARY KEY (doc_id, name)
    );
    CREATE TABLE corrections (
        correction_id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        doc_id TEXT NOT NULL,
        field TEXT NOT NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL,
        source TEXT NOT NULL,               -- correction_sheet | data_sheet
        before_digest TEXT NOT NULL,
        after_digest TEXT NOT NULL,
        char_errors INTEGER NOT NULL,
        import_id INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX corrections_once ON corrections(doc_id, field, after_digest);
    CREATE TABLE imports (
        import_id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        workbook_sha256 TEXT NOT NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL,
        review_minutes REAL,
        corrections INTEGER NOT NULL
    );
    CREATE TABLE events (
        event_id INTEGER PRIMARY KEY,
        run_id TEXT,
        doc_id TEXT,
        at TEXT NOT NULL,
        level TEXT NOT NULL,
        code TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX events_run ON events(run_id);
    """),
    # Timed manual keying of sample documents (``rpa baseline record``): the measured side of
    # the proof-of-concept's time comparison. ``simulated`` marks imports made by the demo's
    # simulated reviewer, so that no report can pass them off as a person's review.
    ("0002_evaluation", """
    CREATE TABLE baselines (
        baseline_id INTEGER PRIMARY KEY,
        form_id TEXT NOT NULL,
        documents INTEGER NOT NULL CHECK (documents > 0),
        minutes REAL NOT NULL CHECK (minutes > 0),
        who TEXT NOT NULL,
        at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX baselines_form ON baselines(form_id);
    ALTER TABLE imports ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX IF NOT EXISTS events_code ON events(code, at)
    """),
    # What a scenario's own work came to in a run, as named counts (``RunContext.counts``):
    # replies linked without a person, proposals a clerk confirmed, findings judged 妥当 or
    # 誤検知, ... — the evaluation judges each scenario on them, not on OCR alone.
    ("0003_work_counts", """
    CREATE TABLE work_counts (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        measure TEXT NOT NULL,              -- e.g. replies_linked_automatically
        value INTEGER NOT NULL,
        PRIMARY KEY (run_id, measure)
    )
    """),
    # A file's name as the file system holds it, when that is not the name shown (not UTF-8:
    # Shift_JIS bytes from a Windows zip), so that recovery finds the file under it.
    ("0004_raw_names", """
    ALTER TABLE files ADD COLUMN source_raw BLOB
    """),
    # Files handed off to the core systems, once per document and layout (robots.db.handoffs).
    ("0016_handoffs", HANDOFFS_SQL),
    # A timed manual sample may be of a task that is not a form (checking one deposit reply,
    # one application, one register entry): ``kind`` says which, ``form_id`` holds its name.
    ("0014_baseline_tasks", """
    ALTER TABLE baselines ADD COLUMN kind TEXT NOT NULL DEFAULT 'form'
    """),
    # Proposals (reason ``proposed``: a handwritten word derived from reference data, not
    # read): which source of the template proposed it (``postal.address``,
    # ``zengin.bank_name``, ``resident.name`` ...; NULL for a field that is no proposal) and
    # how many candidates were listed (0: one value proposed; n: none chosen, n to pick
    # from). After review, ``corrected`` tells a proposal confirmed (0) from changed (1).
    ("0015_proposals", """
    ALTER TABLE fields ADD COLUMN proposed_from TEXT;
    ALTER TABLE fields ADD COLUMN candidates INTEGER NOT NULL DEFAULT 0
    """),
]
