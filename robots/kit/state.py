"""A scenario's own state: the documents it received so far, and the files it took in once.

Scenarios that reconcile (deposit replies against the ledger, applications into the vendor
list) decide on *everything received so far*, not on one run's inbox, so they keep what
they read: business data (names, birth dates, balances), hence a SQLite file of its own,
readable by its owner only, never the run log (which keeps digests).

Writes are idempotent: a document is keyed by the content hash of its file and its place in
the file, so a run that dies after :meth:`DocumentState.upsert_doc` and is redone by the
next run (the runner puts the files back in the inbox) updates the same rows instead of
adding a second copy. The order of first arrival is kept, so "the same document twice"
(重複) always names the later one. Reviewed values of paper documents replace the read ones
once (:meth:`DocumentState.confirm`) and are never overwritten by a re-read.

Files read back from earlier runs (confirmed CSVs, clerks' decision sheets, a previous list)
are taken in once per version (:func:`signature`: size and modification time).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, TypeVar

from ocr.templates import TemplateLibrary
from robots.db.sqlite import SqliteDb, utcnow
from robots.records import DocumentRecord
from robots.scenario import ItemResult, RunContext
from robots.sheets.corrections import CONFIRMED_SUFFIX
from robots.sheets.outputs import csv_header, data_csv_name

__all__ = ["DocumentState", "StoredDoc", "documents_table", "earlier_outputs", "paper_doc",
           "read_new_outputs", "signature", "take_confirmed"]

log = logging.getLogger(__name__)

_SEEN_FILES = """
    CREATE TABLE seen_files (
        path TEXT PRIMARY KEY,              -- a file of an earlier run taken in
        signature TEXT NOT NULL,            -- size and modification time when it was read
        applied_at TEXT NOT NULL
    )"""


def documents_table(table: str) -> str:
    """The SQL of a scenario's documents table (and its ``seen_files``), for its migrations."""
    return f"""
    CREATE TABLE {table} (
        doc_key TEXT PRIMARY KEY,           -- <file sha256 prefix>:<r row | a lines | p page>
        kind TEXT NOT NULL,                 -- data | paper
        layout TEXT NOT NULL,               -- mapping id, or the form id of a paper document
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
    CREATE INDEX {table}_doc_id ON {table}(doc_id);
    {_SEEN_FILES}"""


@dataclass(slots=True)
class StoredDoc:
    """One stored document: a data-file row (or rows), or one paper form."""

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


class DocumentState(SqliteDb):
    """The scenario database; used by the parent process only (in ``finish``).

    Subclasses name their ``MIGRATIONS`` (starting with :func:`documents_table`) and their
    ``DOCS_TABLE``, and add tables of their own.
    """

    DOCS_TABLE: ClassVar[str]

    def upsert_doc(self, doc: StoredDoc) -> None:
        """Insert a document, or refresh the one read before from the same file and place.

        Reviewed (confirmed) values are never overwritten by a re-read of the scan.
        """
        t = self.DOCS_TABLE
        self.db.execute(
            f"INSERT INTO {t} (doc_key, kind, layout, file_name, locator, doc_id, run_id, "
            "first_run, received, arrival, fields, problems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
            f"(SELECT COALESCE(MAX(arrival), 0) + 1 FROM {t}), ?, ?) "
            "ON CONFLICT(doc_key) DO UPDATE SET doc_id = excluded.doc_id, "
            "run_id = excluded.run_id, fields = excluded.fields, problems = excluded.problems "
            f"WHERE {t}.confirmed IS NULL",
            (doc.doc_key, doc.kind, doc.layout, doc.file_name, doc.locator, doc.doc_id,
             doc.run_id, doc.run_id, doc.received, _json(doc.fields),
             json.dumps(doc.problems, ensure_ascii=False)))

    def docs(self) -> list[StoredDoc]:
        """Every document, in order of first arrival."""
        return [StoredDoc(r["doc_key"], r["kind"], r["layout"], r["file_name"], r["locator"],
                          r["doc_id"], r["run_id"], r["received"], json.loads(r["fields"]),
                          [tuple(p) for p in json.loads(r["problems"])], r["arrival"],
                          r["confirmed"] or "")
                for r in self.db.execute(f"SELECT * FROM {self.DOCS_TABLE} ORDER BY arrival")]

    def confirm(self, doc_id: str, fields: Mapping[str, str], source: str) -> bool:
        """Reviewed values of a paper document (``rpa corrections import``): no problems left."""
        cur = self.db.execute(
            f"UPDATE {self.DOCS_TABLE} SET fields = ?, problems = '[]', confirmed = ? "
            "WHERE doc_id = ? AND kind = 'paper'", (_json(dict(fields)), source, doc_id))
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


def signature(path: Path) -> str:
    """Size and modification time: cheap, and changed by every save of the file.

    A year of daily workbooks is read back at every run; hashing them all would cost more
    than the reconciliation itself.
    """
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def earlier_outputs(out_root: Path, pattern: str) -> list[Path]:
    """Files of earlier runs' output folders (never a half-written ``.partial`` one)."""
    return sorted(p for p in out_root.glob(f"*/{pattern}")
                  if not p.parent.name.endswith(".partial") and not p.name.startswith("."))


_T = TypeVar("_T")


def read_new_outputs(state: DocumentState, out_root: Path, pattern: str,
                     read: Callable[[Path], _T]) -> Iterator[tuple[Path, _T]]:
    """Each earlier output not taken in in this version, read by ``read``, as (path, result).

    A file is marked seen once the caller has taken its result; one that cannot be read now
    (open in Excel on a share, saved in another format) is left for the next run.
    """
    for path in earlier_outputs(out_root, pattern):
        sig = signature(path)
        if state.seen(path, sig):
            continue
        try:
            result = read(path)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            log.warning("%s: not read (%s); next run tries again", path.name,
                        type(exc).__name__)
            continue
        yield path, result
        state.mark_seen(path, sig)


def paper_doc(result: ItemResult, doc: DocumentRecord, ctx: RunContext) -> StoredDoc:
    """A paper document read by OCR, as stored: its field values, its flagged fields' reasons."""
    problems = [(f.name, f"{f.label}: {'／'.join(x.message for x in f.reasons)}")
                for f in doc.fields if f.flagged]
    return StoredDoc(f"{result.item.sha256[:16]}:p{doc.page}", "paper", doc.form_id,
                     result.item.name, f"{doc.page}ページ", doc.doc_id, ctx.run_id,
                     ctx.today.isoformat(), {f.name: f.value for f in doc.fields}, problems)


def _csv_rows(data: bytes, encodings: Sequence[str]) -> list[list[str]]:
    for enc in dict.fromkeys(encodings):
        try:
            return list(csv.reader(io.StringIO(data.decode(enc), newline="")))
        except UnicodeDecodeError:
            continue
    return []


def take_confirmed(store: DocumentState, out_root: Path, ctx: RunContext,
                   forms: Sequence[str]) -> int:
    """Apply the confirmed CSVs of earlier runs to the stored paper documents; returns how many.

    ``<form title>_確定.csv``, and ``<form id>_確定.csv`` as versions before 0016 named them.

    A file that cannot be read now (open in Excel on a share) is tried again next run.
    """
    library = TemplateLibrary.from_dirs(ctx.forms_dirs)
    n = 0
    for form in (f for f in forms if f in library):
        t = library.get(form)
        header, names = csv_header(t), [f.name for f in t.fields]
        for path in sorted({*earlier_outputs(out_root, data_csv_name(t, confirmed=True)),
                            *earlier_outputs(out_root, f"{form}{CONFIRMED_SUFFIX}.csv")}):
            sig = signature(path)
            if store.seen(path, sig):
                continue
            try:
                data = path.read_bytes()
            except OSError as exc:
                log.warning("%s: not read (%s); next run tries again", path.name,
                            type(exc).__name__)
                continue
            rows = _csv_rows(data, (ctx.config.csv.encoding, "utf-8-sig", "cp932"))
            if not rows or rows[0] != header:
                log.warning("%s: not a confirmed CSV of form %s; skipped", path.name, form)
                continue
            for row in rows[1:]:
                if len(row) == len(header):
                    n += store.confirm(row[0], dict(zip(names, row[4:], strict=True)),
                                       f"{path.parent.name}/{path.name}")
            store.mark_seen(path, sig)
    return n
