"""The engine contract: what an engine is given (:class:`ReadHints`) and must provide.

Kept apart from the registry in :mod:`ocr.engines` so that the built-in engines, which
implement it, import it without importing the registry that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from ocr.results import EngineReading
from ocr.templates import FieldType

__all__ = ["Engine", "EngineUnavailableError", "ReadHints"]


class EngineUnavailableError(RuntimeError):
    """The named engine is unknown or its back-end is not installed."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class ReadHints:
    """What the reader knows about a crop; engines use what they can."""

    field_type: FieldType = FieldType.TEXT
    vertical: bool = False
    charset: str | None = None  # characters the field can hold, when the type restricts them
    dpi: float = 300.0
    comb: int = 0  # boxes, one character each (the digit engine reads them one by one)
    # Characters the value may be written with, for a recogniser that can restrict its own
    # decoding to them (RapidOCR); unlike ``charset`` it is no whitelist given to Tesseract,
    # whose standard model breaks under one (docs/engines.md). None: any character.
    allowed: str | None = None
    # Groups of look-alike characters (variant kanji: 高髙, 崎﨑嵜): when the recogniser reads
    # one, it reports its scores for the others it knows, whether or not they are among its
    # likeliest (a name's 髙 read as 高 leaves 髙 only a percent).
    watch: tuple[str, ...] = ()


@runtime_checkable
class Engine(Protocol):
    """The contract: ``recognize`` takes a grayscale uint8 crop, black ink on white."""

    name: ClassVar[str]

    @classmethod
    def is_available(cls) -> bool: ...

    def recognize(self, image: np.ndarray, hints: ReadHints) -> EngineReading: ...
