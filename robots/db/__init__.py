"""SQLite files: the shared plumbing (:mod:`.sqlite`) and the run log built on it (:mod:`.runlog`).

:class:`~robots.db.sqlite.SqliteDb` gives every database of the project the same owner-only
file, WAL, named migrations and nested ``atomic()`` transactions; the run log and the
scenarios' state stores (:mod:`robots.kit.state`) are subclasses. Imports nothing of robots
but the errors: everything else may build on it.
"""

from __future__ import annotations

__all__: list[str] = []
