"""What reading produces: per-field, per-page and per-document results.

These are plain dataclasses (pickle-able, so worker processes can return them) with one
``to_dict`` each; the dict is the documented JSON of ``rpa ocr --json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocr.reasons import Reason

__all__ = ["CharScore", "DocumentResult", "EngineReading", "FieldResult", "PageResult"]


# One recognised character: the character, its probability, and the likeliest characters
# at its place with theirs (the recogniser's own scores; what arbitration and the
# variant-kanji check look at).
CharScore = tuple[str, float, tuple[tuple[str, float], ...]]


@dataclass(frozen=True, slots=True)
class EngineReading:
    """What one recogniser returned for one crop. ``confidence`` is in 0..1.

    ``chars`` holds per-character scores when the recogniser exposes them (RapidOCR), one
    :data:`CharScore` per character of ``text``; empty otherwise.
    """

    engine: str
    text: str
    confidence: float
    chars: tuple[CharScore, ...] = ()


@dataclass(slots=True)
class FieldResult:
    """One field of one page after recognition, normalisation and validation."""

    name: str
    label: str
    type: str
    raw: str
    value: str
    confidence: float
    reasons: list[Reason] = field(default_factory=list)
    readings: list[EngineReading] = field(default_factory=list)
    box_px: tuple[int, int, int, int] = (0, 0, 0, 0)  # x, y, w, h on the registered page
    crop_png: bytes | None = None  # the field as scanned, kept for fields a reviewer must see
    crop_file: str | None = None  # where a caller moved crop_png to keep it out of memory
    signals: Any = None  # what the flag decision saw (ocr.decide), kept only for calibration
    # A proposal (reason ``proposed``): the template's source it came from, and when it could
    # be one of several values, each of them to pick from (ocr.propose)
    proposed_from: str = ""
    candidates: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)

    def crop(self) -> bytes | None:
        """The crop's PNG, wherever it is kept; raises OSError when its file is unreadable."""
        if self.crop_png is not None:
            return self.crop_png
        return Path(self.crop_file).read_bytes() if self.crop_file else None

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"proposed_from": self.proposed_from} if self.proposed_from else {}
        if self.candidates:
            extra["candidates"] = list(self.candidates)
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "raw": self.raw,
            "value": self.value,
            "confidence": round(self.confidence, 4),
            "flagged": self.flagged,
            "reasons": [r.code for r in self.reasons],
            "reason_texts": [r.message for r in self.reasons],
            "engines": {r.engine: {"text": r.text, "confidence": round(r.confidence, 4)}
                        for r in self.readings},
            **extra,
        }


@dataclass(slots=True)
class PageResult:
    """One page: the form it was identified as, how well it registered, and its fields."""

    page: int
    form: str | None
    registration_score: float
    fields: list[FieldResult] = field(default_factory=list)
    identified_by: str = ""  # "qr", "registration", "text_layer", "given"
    rotation: int = 0  # degrees the scan was turned to read it
    error: str = ""  # non-empty when the page could not be read (then form is None)
    error_ja: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "page": self.page,
            "form": self.form,
            "registration_score": round(self.registration_score, 4),
            "identified_by": self.identified_by,
            "rotation": self.rotation,
            "fields": [f.to_dict() for f in self.fields],
        }
        if self.error:
            d["error"] = self.error
            d["error_ja"] = self.error_ja
        return d


@dataclass(slots=True)
class DocumentResult:
    """A whole input file."""

    file: str
    pages: list[PageResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "pages": [p.to_dict() for p in self.pages]}
