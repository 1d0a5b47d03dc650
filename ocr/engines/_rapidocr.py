"""RapidOCR's PP-OCRv6 recogniser, used on field crops only (no detection, no classifier).

The models ship inside the pinned ``rapidocr`` wheel; nothing is downloaded. The text
detector is skipped because the template already says where each field is: one crop, one line.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from typing import ClassVar

import cv2
import numpy as np

from ocr.engines.base import ReadHints
from ocr.results import EngineReading

__all__ = ["RapidOcrEngine"]

log = logging.getLogger(__name__)


class RapidOcrEngine:
    """PP-OCRv6 small recogniser through onnxruntime, one thread per worker process."""

    name: ClassVar[str] = "rapidocr"

    @classmethod
    def is_available(cls) -> bool:
        return (importlib.util.find_spec("rapidocr") is not None
                and importlib.util.find_spec("onnxruntime") is not None)

    def __init__(self, threads: int = 1) -> None:
        # Imported here: loading onnxruntime costs ~0.3 s, paid only where the engine is used.
        from rapidocr import RapidOCR
        from rapidocr.ch_ppocr_rec import TextRecInput

        self._input = TextRecInput
        params = {
            "Global.use_det": False,
            "Global.use_cls": False,
            "Global.log_level": "error",
            "Rec.lang_type": "japan",
            "EngineConfig.onnxruntime.intra_op_num_threads": int(threads),
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        # RapidOCR writes a cache next to the working folder only for downloads; models are local.
        os.environ.setdefault("RAPIDOCR_LOG_LEVEL", "error")
        engine = RapidOCR(params=params)
        self._rec = engine._load_rec_model()  # loaded now: a worker pays once, up front
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)

    def recognize(self, image: np.ndarray, hints: ReadHints) -> EngineReading:
        return self.recognize_batch([image], [hints])[0]

    def recognize_batch(self, images: list[np.ndarray],
                        hints: list[ReadHints]) -> list[EngineReading]:
        """Read several crops in one inference call (the model batches them)."""
        prepared = [self._prepare(img, h) for img, h in zip(images, hints, strict=True)]
        out = self._rec(self._input(img=prepared))
        return [EngineReading(self.name, str(t), float(s))
                for t, s in zip(out.txts, out.scores, strict=True)]

    @staticmethod
    def _prepare(image: np.ndarray, hints: ReadHints) -> np.ndarray:
        if hints.vertical:
            image = _vertical_to_horizontal(image)
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        return image


def _vertical_to_horizontal(image: np.ndarray) -> np.ndarray:
    """Re-lay a vertical line of Japanese as a horizontal one, character by character.

    The recogniser reads horizontal lines only; rotating the crop would turn every character
    on its side, so the characters are cut apart along the blank rows between them instead.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    ink = (gray < 128).sum(axis=1)
    rows = np.flatnonzero(ink > 0)
    if rows.size == 0:
        return gray
    pieces: list[tuple[int, int]] = []
    start = prev = int(rows[0])
    for r in rows[1:]:
        if r - prev > max(2, gray.shape[1] // 12):
            pieces.append((start, prev + 1))
            start = int(r)
        prev = int(r)
    pieces.append((start, prev + 1))
    w = gray.shape[1]
    cells = [gray[a:b] for a, b in pieces]
    height = max(c.shape[0] for c in cells)
    padded = [cv2.copyMakeBorder(c, 0, height - c.shape[0], 0, w // 6, cv2.BORDER_CONSTANT,
                                 value=255) for c in cells]
    return np.hstack(padded)
