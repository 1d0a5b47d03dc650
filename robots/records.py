"""Records the runtime passes between reading, the workbook and the run log.

A record is one document of a run after OCR: which scan it came from, which form it is, and
its field results. Plain dataclasses so that worker processes can return them (pickle) and the
parent can merge them without knowing how they were produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ocr.results import FieldResult

__all__ = ["DocumentRecord"]


@dataclass(slots=True)
class DocumentRecord:
    """One document of a run, as the workbook and the run log see it.

    ``doc_id`` is unique per document of a run (e.g. ``"20261126-0930-ab12-0003"``) and is the
    key the review workbook uses to bring corrections back, so it must never be reused within a
    run. ``source_file`` is the scan's file name as received (no folders: folder names can carry
    personal data and differ between machines). ``page`` is ``"1"`` or a range like ``"2-3"``.
    """

    doc_id: str
    form_id: str
    source_file: str
    page: str
    fields: list[FieldResult] = field(default_factory=list)
    registration_score: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The document's outcome as the run log stores it."""
        return "needs_review" if self.needs_review else "ok"

    @property
    def needs_review(self) -> bool:
        """True when any field carries a reason for a human to look at it."""
        return any(f.flagged for f in self.fields)
