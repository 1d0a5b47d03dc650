"""``[reference]``: the town's own reference data that handwritten words are proposed from.

The resident register extract (住民基本台帳の抽出) is personal data the town keeps in its own
systems; the product only reads it from where the town puts it, through a mapping file like
every other table from another system (:mod:`robots.kit.tables`). A register that is missing
or older than ``max_age_days`` is a warning, never a reason to stop a run: proposals are a
convenience, and without them the words are keyed as before.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ReferenceConfig"]


class ReferenceConfig(BaseModel):
    """Where the resident register extract is and how it is read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The extract (CSV or Excel), or the folder the core system exports into (newest taken);
    # unset: no proposals from residents (postal and Zengin proposals still come).
    resident_register: Path | None = None
    # The town's own layouts of the extract, besides robots/kit/mappings/ (format of
    # robots.kit.tables: [layout] kind = "residents", [columns] name = "氏名", ...).
    mappings_dirs: tuple[Path, ...] = ()
    # An extract older than this (by its file time) is reported as stale at every run.
    max_age_days: int = Field(default=31, ge=1)
