"""Recognition engines behind one small contract, and the one registry that names them.

An engine reads one field crop (one line of text, already cut out of the registered page)
and returns text plus a confidence. Engines are expensive to start (model load) and cheap to
call, so :func:`get_engine` creates each once per process and hands out the same instance.
Third-party engines register through the ``misato_rpa.engines`` entry-point group.
"""

from __future__ import annotations

import functools
import logging
from importlib.metadata import entry_points

from ocr.engines.base import Engine, EngineUnavailableError, ReadHints

__all__ = [
    "Engine",
    "EngineUnavailableError",
    "ReadHints",
    "available_engines",
    "engine_classes",
    "get_engine",
]

log = logging.getLogger(__name__)


def _builtin() -> dict[str, type]:
    from ocr.engines._digits import DigitEngine
    from ocr.engines._rapidocr import RapidOcrEngine
    from ocr.engines._tesseract import PyTesseractEngine, TesseractEngine

    return {e.name: e for e in (TesseractEngine, PyTesseractEngine, RapidOcrEngine, DigitEngine)}


@functools.cache
def engine_classes() -> dict[str, type]:
    """Every known engine class by name: built-ins first, then entry points."""
    classes = _builtin()
    for ep in entry_points(group="misato_rpa.engines"):
        if ep.name in classes:
            log.warning("engine entry point %s shadows a built-in engine; ignored", ep.name)
            continue
        classes[ep.name] = ep.load()
    return classes


def available_engines() -> list[str]:
    """Names of engines whose back-end is installed here."""
    return [n for n, c in engine_classes().items() if c.is_available()]


@functools.cache
def _create(name: str, options: tuple[tuple[str, object], ...]) -> Engine:
    cls = engine_classes().get(name)
    if cls is None:
        known = ", ".join(sorted(engine_classes()))
        raise EngineUnavailableError(f"unknown OCR engine {name!r}; known engines: {known}")
    if not cls.is_available():
        raise EngineUnavailableError(
            f"OCR engine {name!r} is not installed here; run `make setup` (see README)"
        )
    log.debug("starting OCR engine %s %s", name, dict(options))
    return cls(**dict(options))


def get_engine(name: str, **options: object) -> Engine:
    """The process-wide instance of engine ``name`` configured with ``options``."""
    return _create(name, tuple(sorted(options.items())))
