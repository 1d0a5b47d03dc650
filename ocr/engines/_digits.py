"""Handwritten boxed digits: a small CNN (``ocr/models/digits.onnx``) run by onnxruntime.

Tesseract cannot read handwriting, and RapidOCR reads a box grid as a line of text; this
engine reads the grid as the template declares it: one digit per box (see :mod:`ocr.digits`
for how boxes are found and digits normalised, ``ocr/models/digits_card.json`` for the model,
its data and its accuracy). The model has an eleventh class, "not one clean digit", for a
struck-through digit, a scribble or two digits in one box: such a box is flagged, not read.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import ClassVar

import numpy as np

from ocr.digits import Cell, CellReading, DigitReading, find_cells, normalise_digit, views
from ocr.engines.base import ReadHints
from ocr.models import DIGITS_MODEL
from ocr.results import EngineReading

__all__ = ["DigitEngine"]

log = logging.getLogger(__name__)

REJECT = 10


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class DigitEngine:
    """One onnxruntime session per worker process, single-threaded like the other engines."""

    name: ClassVar[str] = "digits"

    @classmethod
    def is_available(cls) -> bool:
        return importlib.util.find_spec("onnxruntime") is not None and DIGITS_MODEL.is_file()

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(DIGITS_MODEL), sess_options=opts,
                                             providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def classify(self, digits: np.ndarray) -> np.ndarray:
        """Class probabilities [n, 11] for normalised digits [n, 28, 28] (ink 1.0)."""
        if len(digits) == 0:
            return np.zeros((0, REJECT + 1), np.float32)
        x = np.ascontiguousarray(digits[:, None].astype(np.float32))
        return _softmax(self._session.run(None, {self._input: x})[0])

    def read_cells(self, cells: list[Cell]) -> DigitReading:
        """Classify the non-empty boxes; an empty box reads "" (not 0).

        Each box's probabilities are the mean over :func:`ocr.digits.views` of its digit.
        """
        full = [c for c in cells if not c.empty]
        seen = [views(normalise_digit(c.image, c.mask)) for c in full]
        n = len(seen[0]) if seen else 1
        flat = self.classify(np.array([v for vs in seen for v in vs], np.float32))
        probs = flat.reshape(len(full), n, -1).mean(axis=1) if full else flat
        by_index = dict(zip((c.index for c in full), probs, strict=True))
        out = []
        for c in cells:
            p = by_index.get(c.index)
            if p is None:
                out.append(CellReading("", 1.0, 0.0, 0.0, True, False))
                continue
            order = np.argsort(p[:REJECT])[::-1]
            out.append(CellReading(str(int(order[0])), float(p[order[0]]),
                                   float(p[order[1]]), float(p[REJECT]), False, c.two_glyphs))
        return DigitReading(tuple(out))

    def read_field(self, region: np.ndarray, box_px: tuple[int, int, int, int], cells: int,
                   dpi: float = 300.0) -> DigitReading:
        """Read a comb field: ``region`` holds the box (``box_px`` inside it) with a margin."""
        return self.read_cells(find_cells(region, box_px, cells, dpi=dpi))

    def recognize(self, image: np.ndarray, hints: ReadHints) -> EngineReading:
        """The engine contract: ``image`` is the field's box, edge to edge, ``hints.comb`` cells.

        Without a grid (``comb`` 0 or 1) the whole crop is one box.
        """
        gray = image if image.ndim == 2 else image.mean(axis=2).astype(np.uint8)
        h, w = gray.shape
        reading = self.read_field(gray, (0, 0, w - 1, h - 1), max(1, hints.comb), hints.dpi)
        return EngineReading(self.name, reading.text, reading.confidence)
