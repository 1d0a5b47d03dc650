"""The SQLite plumbing every database of the project shares (run log, scenario stores).

One file per database, owner-only from the moment it exists, WAL journal, named migrations
applied once each in a transaction, and ``atomic()`` transactions that nest by joining the
outer one. Used by the main process only: workers never write a database.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

__all__ = ["SqliteDb", "utcnow"]

log = logging.getLogger(__name__)


def utcnow() -> str:
    """ISO-8601 UTC timestamp with seconds, the only time format stored."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class SqliteDb:
    """A connection to one database; subclasses name their ``MIGRATIONS``."""

    MIGRATIONS: ClassVar[Sequence[tuple[str, str]]] = ()
    FOREIGN_KEYS: ClassVar[bool] = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            self.path.touch(mode=0o600)  # never readable by others, not even for a moment
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.path.chmod(0o600)
        self.db.execute("PRAGMA journal_mode=WAL")
        if self.FOREIGN_KEYS:
            self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS migrations "
                        "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {r[0] for r in self.db.execute("SELECT name FROM migrations")}
        for name, sql in self.MIGRATIONS:
            if name in done:
                continue
            with self.atomic():
                for stmt in sql.split(";"):
                    if stmt.strip():
                        self.db.execute(stmt)
                self.db.execute("INSERT INTO migrations VALUES (?, ?)", (name, utcnow()))
            log.info("%s: applied migration %s", self.path.name, name)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it commits or none; a nested use joins the outer one."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()
