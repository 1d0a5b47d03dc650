"""Handwritten fields of a registered page: digits box by box, words to staff.

Tesseract cannot read handwriting at all and RapidOCR reads handwritten kanji names too
badly to leave unchecked, so the reader does only what it can do well: digits written one
per box go to the digit model (:mod:`ocr.engines._digits`), RapidOCR reading the same
boxes closed up as a second opinion (its digits lower the certainty a box needs where they
agree, and more of them than boxes found written flag a missed box); handwritten words
(names, kana, addresses) are not OCR'd at all: they go to the correction sheet, proposed
from reference data where the template says so (:mod:`ocr.propose`), else for keying.
"""

from __future__ import annotations

import logging

import numpy as np

from ocr.calibration import DigitRule
from ocr.crops import cut_field
from ocr.decide import decide_digits, digit_signals
from ocr.engines import Engine, ReadHints, get_engine
from ocr.reasons import reason
from ocr.results import EngineReading, FieldResult
from ocr.templates import FieldSpec

__all__ = ["MARGIN_MM", "HandReader", "manual_result"]

log = logging.getLogger(__name__)

MARGIN_MM = 2.0  # around a boxed field, where its box lines are looked for


def manual_result(f: FieldSpec, rect: tuple[int, int, int, int]) -> FieldResult:
    """A handwritten word: no OCR, an empty value, flagged for keying (crop kept)."""
    return FieldResult(f.name, f.label, f.type.value, "", "", 0.0, [reason("manual_keying")],
                       [], rect)


class HandReader:
    """Reads handwritten digit fields; the digit engine is started on first use."""

    def __init__(self, engines: list[Engine], dpi: float, *, second_opinion: str = "auto",
                 keep_signals: bool = False, denoise: str = "never") -> None:
        self.dpi = dpi
        self.denoise = denoise
        self.second_opinion = second_opinion
        self.keep_signals = keep_signals
        self._second = next((e for e in engines if e.name == "rapidocr"), None)
        self._digits: Engine | None = None

    @property
    def digits(self) -> Engine:
        if self._digits is None:
            self._digits = get_engine("digits")
        return self._digits

    def _second_reading(self, f: FieldSpec, page: np.ndarray, blank: np.ndarray,
                        rect: tuple[int, int, int, int]) -> EngineReading | None:
        x, y, w, h = rect
        crop = cut_field(page[y:y + h, x:x + w].copy(), blank[y:y + h, x:x + w] < 200,
                         comb=f.comb, denoise=self.denoise)
        if not crop.has_ink or self._second is None:
            return None
        return self._second.recognize(crop.image, ReadHints(field_type=f.type, dpi=self.dpi,
                                                            comb=f.comb))

    def read_digits(self, f: FieldSpec, page: np.ndarray, blank: np.ndarray,
                    rect: tuple[int, int, int, int], rule: DigitRule,
                    today: object) -> FieldResult:
        """One boxed field; ``rect`` is its box inset a little (for the reviewer's crop)."""
        mm = self.dpi / 25.4
        bx, by = round(f.box[0] * mm), round(f.box[1] * mm)
        bw, bh = round(f.box[2] * mm), round(f.box[3] * mm)
        m = round(MARGIN_MM * mm)
        x0, y0 = max(0, bx - m), max(0, by - m)
        region = page[y0:min(page.shape[0], by + bh + m), x0:min(page.shape[1], bx + bw + m)]
        reading = self.digits.read_field(region, (bx - x0, by - y0, bw, bh), f.comb, self.dpi)
        # asked for every field ("auto" as "always"): where it agrees a box needs less
        # certainty, and where it reads more digits than boxes found written, one was missed
        ask = self.second_opinion != "never"
        second = self._second_reading(f, page, blank, rect) if ask else None
        sig = digit_signals(f, reading, second, today)  # type: ignore[arg-type]
        d = decide_digits(sig, rule)
        readings = [EngineReading("digits", reading.text, reading.confidence)]
        if second is not None:
            readings.append(second)
        result = FieldResult(f.name, f.label, f.type.value, d.raw, d.value, d.confidence,
                             d.reasons, readings, rect)
        if self.keep_signals:
            result.signals = sig
        return result
