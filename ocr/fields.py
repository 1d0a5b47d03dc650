"""Read every field of a registered page: crop, clean, recognise twice, decide, validate.

The flag decision is the product: a field is left unflagged only when the value is valid for
its type and both independent recognisers agree on it (after normalisation) with enough
confidence. Where they disagree, or one is unsure, a human looks. Marks (checkboxes, circled
choices) are never OCR'd: they are measured as ink added to the blank form.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import cv2
import numpy as np

from ocr.arbitrate import allowed_chars
from ocr.calibration import Calibration, MarkRule, load_calibration
from ocr.crops import Crop, cut_field
from ocr.crosscheck import confirmed_by_reference, cross_check
from ocr.decide import decide_text, text_signals
from ocr.engines import Engine, ReadHints
from ocr.handwriting import HandReader, manual_result
from ocr.marks import box_rect, mark_confidence, mark_ratio
from ocr.propose import propose_reference
from ocr.reasons import Reason, reason
from ocr.results import EngineReading, FieldResult
from ocr.templates import FieldSpec, FieldType, FormTemplate
from ocr.validators import VARIANT_GROUPS, validate_value

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "FieldReader",
    "MarkThresholds",
    "ReadOptions",
    "crop_png",
]

log = logging.getLogger(__name__)

MM = 1 / 25.4
# Below these combined confidences a field is flagged even when the engines agree.
DEFAULT_MIN_CONFIDENCE: dict[str, float] = {
    "text": 0.80,
    "kana": 0.80,
    "default": 0.70,
}


MarkThresholds = MarkRule  # share of a mark box covered by added ink: ``on`` / ``off``


@dataclass(frozen=True)
class ReadOptions:
    """How fields are read; pickle-able so worker processes can receive it.

    ``calibration`` holds the calibrated thresholds (default: ``ocr/calibration.toml``);
    ``marks`` overrides its checkbox thresholds; ``double_entry`` names field types staff
    key in without seeing the OCR value (a template's ``review`` key decides per field).
    """

    min_confidence: Mapping[str, float] = field(default_factory=lambda: DEFAULT_MIN_CONFIDENCE)
    marks: MarkThresholds | None = None
    denoise: str = "never"  # auto | always | never (measured: cleaning hurt, docs/engines.md)
    denoise_above: float = 9.0  # noise sigma (grey levels) from which "auto" cleans a crop
    length_check: bool = True  # flag readings much shorter or longer than the writing
    keep_crops: str = "flagged"  # flagged | all | none
    today: date | None = None
    calibration: Calibration = field(default_factory=load_calibration)
    double_entry: frozenset[str] = frozenset()
    second_opinion: str = "auto"  # RapidOCR on handwritten digits: auto (= always) | never
    keep_signals: bool = False  # keep what the decision saw (bench/calibrate.py)

    @property
    def box_marks(self) -> MarkRule:
        return self.marks or self.calibration.box_marks

    def double_entered(self, f: FieldSpec) -> bool:
        if f.review != "auto":
            return f.review == "double_entry"
        return not f.is_mark and f.type.value in self.double_entry

    def threshold(self, f: FieldSpec) -> float:
        if f.min_confidence is not None:
            return f.min_confidence
        return self.min_confidence.get(f.type.value, self.min_confidence.get("default", 0.7))


Rect = tuple[int, int, int, int]


def crop_png(image: np.ndarray, rect: tuple[int, int, int, int], *, pad: int = 12,
             max_width: int = 900) -> bytes:
    """PNG of a field as scanned, for the reviewer: the box, narrowed to where the writing is.

    A long address box is mostly empty; shown whole and shrunk to fit a spreadsheet row, its
    writing would be too small to read, so the crop keeps only the written part (and the
    box's full height, so nothing written near an edge is cut).
    """
    x, y, w, h = rect
    region = image[y:y + h, x:x + w]
    if region.size:
        cols = np.where((region < 128).sum(axis=0) >= 2)[0]
        if cols.size:
            x, w = x + max(0, int(cols[0]) - 3 * pad), int(cols[-1] - cols[0]) + 6 * pad
    x0, y0 = max(0, x - pad), max(0, y - pad)
    sub = image[y0:y + h + pad, x0:min(image.shape[1], x + w + pad)]
    if sub.shape[1] > max_width:
        f = max_width / sub.shape[1]
        sub = cv2.resize(sub, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    # fast zlib level: a reviewer's crop is written once and read once; Pillow's optimize
    # pass cost five times as long for 10 % smaller files (measured)
    ok, png = cv2.imencode(".png", np.ascontiguousarray(sub), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ValueError("PNG encoding of a field crop failed")
    return png.tobytes()


class FieldReader:
    """Reads the fields of pages registered onto one frame (see :mod:`ocr.align`)."""

    def __init__(self, engines: Sequence[Engine], options: ReadOptions | None = None,
                 dpi: float = 300.0) -> None:
        if not engines:
            raise ValueError("at least one OCR engine is needed")
        self.engines = list(engines)
        self.options = options or ReadOptions()
        self.dpi = dpi
        self.hand = HandReader(self.engines, dpi, second_opinion=self.options.second_opinion,
                               keep_signals=self.options.keep_signals,
                               denoise=self.options.denoise)

    # -- public -----------------------------------------------------------------------------
    def read_page(self, template: FormTemplate, page: np.ndarray,
                  blank: np.ndarray) -> list[FieldResult]:
        """Every field of ``template`` on the registered ``page``; cross-checks applied."""
        results: list[FieldResult] = []
        cal, today = self.options.calibration, self.options.today
        for f in template.fields:
            if f.is_mark:
                results.append(self._read_mark(f, page, blank))
            elif f.manual:
                results.append(manual_result(f, box_rect(f.box, self.dpi, 0.45, page.shape)))
            elif f.hand_digits:
                results.append(self.hand.read_digits(
                    f, page, blank, box_rect(f.box, self.dpi, 0.45, page.shape),
                    cal.digit_rule(f.type.value), today))
            else:
                results.append(self._read_text(f, page, blank))
        self._cross_check(template, results)
        propose_reference(template, results)
        self._double_entry(template, results)
        self._attach_crops(results, page)
        return results

    def read_text_layer(self, template: FormTemplate,
                        words: Sequence[tuple[str, float, float, float, float]]
                        ) -> list[FieldResult]:
        """Fields from a born-digital PDF: text items (text, x, y, w, h in mm) per box.

        No OCR: a text item belongs to the field whose box holds its centre. Values are
        still normalised and validated, because the data a resident typed can be wrong too.
        """
        results = []
        for f in template.fields:
            x, y, w, h = f.box
            inside = [t for t in words
                      if x <= t[1] + t[3] / 2 <= x + w and y <= t[2] + t[4] / 2 <= y + h]
            inside.sort(key=lambda t: (round(t[2]), t[1]))
            raw = "".join(t[0] for t in inside).strip()
            if f.is_mark:
                raw = self._text_mark(f, raw)
            v = validate_value(f, raw, today=self.options.today)
            results.append(FieldResult(f.name, f.label, f.type.value, raw, v.value, 1.0,
                                       list(v.reasons)))
        self._cross_check(template, results)
        self._double_entry(template, results)
        return results

    def recogniser_inputs(self, template: FormTemplate, page: np.ndarray,
                          blank: np.ndarray) -> list[tuple[np.ndarray, ReadHints]]:
        """The crops and hints every engine is given for the printed-text fields of a page.

        ``bench/throughput.py`` times exactly these recogniser calls with nothing around
        them — the bare limit the whole pipeline is measured against.
        """
        inputs = []
        for f in template.fields:
            if f.is_mark or f.manual or f.hand_digits:
                continue
            crop, _ = self._crop(f, page, blank)
            if crop.has_ink:
                inputs.append((crop.image, self._hints(f)))
        return inputs

    # -- text fields -------------------------------------------------------------------------
    def _hints(self, f: FieldSpec) -> ReadHints:
        return ReadHints(field_type=f.type, vertical=f.vertical, dpi=self.dpi,
                         allowed=allowed_chars(f),
                         watch=VARIANT_GROUPS if f.type is FieldType.NAME else ())

    def _crop(self, f: FieldSpec, page: np.ndarray, blank: np.ndarray) -> tuple[Crop, Rect]:
        rect = box_rect(f.box, self.dpi, 0.45, page.shape)
        x, y, w, h = rect
        crop = cut_field(page[y:y + h, x:x + w].copy(), blank[y:y + h, x:x + w] < 200,
                         comb=f.comb, denoise=self.options.denoise,
                         denoise_above=self.options.denoise_above)
        return crop, rect

    def _read_text(self, f: FieldSpec, page: np.ndarray, blank: np.ndarray) -> FieldResult:
        crop, rect = self._crop(f, page, blank)
        if not crop.has_ink:
            v = validate_value(f, "", today=self.options.today)
            return FieldResult(f.name, f.label, f.type.value, "", v.value, 1.0, list(v.reasons),
                               [], rect)
        hints = self._hints(f)
        readings = [e.recognize(crop.image, hints) for e in self.engines]
        result = self._decide(f, readings, rect)
        if crop.other is not None and self._line_changes_reading(f, crop.other, hints,
                                                                 readings):
            result, doubt = self._with_mended_view(f, crop, hints, readings, result)
            if doubt:
                result.reasons = _unique([*result.reasons, reason("line_across_writing")])
        if self.options.length_check:
            mismatch = length_mismatch(f, result.raw, crop)
            if mismatch:
                result.reasons = _unique([*result.reasons, reason("length_mismatch", mismatch)])
        return result

    def _line_changes_reading(self, f: FieldSpec, other: np.ndarray, hints: ReadHints,
                              readings: list[EngineReading]) -> bool:
        """Whether an engine reads the other view of a crossed crop (:class:`Crop`) otherwise.

        A fold or rule across the characters can be taken for a stroke or cut one off, and
        neither view is safe on its own (ノ under a line reads フ; シ without its dots, ン);
        the engines agreeing with each other on one view proves nothing. Compared after
        normalisation, so a space read once as ー and once as a space does not count.
        """
        today = self.options.today
        for e, first in zip(self.engines, readings, strict=True):
            again = e.recognize(other, hints)
            if (validate_value(f, again.text, today=today).value
                    != validate_value(f, first.text, today=today).value):
                return True
        return False

    def _with_mended_view(self, f: FieldSpec, crop: Crop, hints: ReadHints,
                          readings: list[EngineReading], result: FieldResult
                          ) -> tuple[FieldResult, bool]:
        """A crossed field read once more, the line painted over: (result, still in doubt).

        The two views treat the line in opposite ways (left in, taken out) and an engine
        read them differently; the third (:attr:`Crop.mended`, painted over from above and
        below) keeps the strokes that cross the line and drops the line between them.

        - The engines agreed on the crop and each reads that value again there: a stroke
          the line added or cut would show in one of the two, so the line is no reason to
          look. ノゾミ read フワミ and シノ read シフ under a line read otherwise on the
          painted view and stay flagged (tests/test_crops.py).
        - They disagreed: the painted view's readings join the arbitration, which prefers
          what the field allows before the engine and its score (タカイ シンイチ read
          タチシンイチ and garbage on a fold along the feet of the characters). The field
          stays flagged; what changes is the value the reviewer is proposed.
        """
        if crop.mended is None:
            return result, True
        more = [e.recognize(crop.mended, hints) for e in self.engines]
        if all(r.code != "engines_disagree" for r in result.reasons):
            today = self.options.today
            again = {validate_value(f, m.text, today=today).value for m in more}
            return result, again != {result.value}
        chosen = self._decide(f, [*readings, *more], result.box_px)
        chosen.readings = result.readings  # one reading per engine: the crop's, as reported
        return chosen, True

    def _decide(self, f: FieldSpec, readings: list[EngineReading],
                rect: tuple[int, int, int, int]) -> FieldResult:
        """Combine the recognisers' readings into one value, confidence and reasons."""
        sig = text_signals(f, readings, self.options.today)
        rule = self.options.calibration.text_rule(f.type.value)
        d = decide_text(sig, rule, self.options.threshold(f))
        result = FieldResult(f.name, f.label, f.type.value, d.raw, d.value, d.confidence,
                             d.reasons, readings, rect)
        if self.options.keep_signals:
            result.signals = sig
        return result

    # -- marks -------------------------------------------------------------------------------
    def _read_mark(self, f: FieldSpec, page: np.ndarray, blank: np.ndarray) -> FieldResult:
        circled = f.options_style == "circle"
        th = self.options.calibration.circle_marks if circled else self.options.box_marks
        rect = box_rect(f.box, self.dpi, 0.0, page.shape)
        reasons: list[Reason] = []
        if f.type is FieldType.CHECKBOX:
            ratio, hidden = mark_ratio(f.box, page, blank, self.dpi)
            raw = "1" if ratio >= th.on else "0"
            if hidden and ratio < th.on:
                reasons.append(reason("mark_obscured"))
            elif th.off < ratio < th.on:
                reasons.append(reason("ambiguous_mark", f"{ratio:.3f}"))
            conf = mark_confidence(ratio, th) if not reasons else 0.5
        else:
            ring = 2.6 if circled else 1.4
            measured = [mark_ratio(o.box, page, blank, self.dpi, ring) for o in f.options]
            ratios = [m[0] for m in measured]
            marked = [o.label for o, r in zip(f.options, ratios, strict=True) if r >= th.on]
            unsure = [o.label for o, r in zip(f.options, ratios, strict=True) if th.off < r < th.on]
            hidden = [o.label for o, (r, hid) in zip(f.options, measured, strict=True)
                      if hid and r < th.on]
            raw = marked[0] if len(marked) == 1 else ""
            if len(marked) > 1:
                raw = f.options[int(np.argmax(ratios))].label
                reasons.append(reason("multiple_choices", "・".join(marked)))
            if hidden:
                reasons.append(reason("mark_obscured", "・".join(hidden)))
            if unsure:
                reasons.append(reason("ambiguous_mark", "・".join(unsure)))
            conf = min(mark_confidence(r, th) for r in ratios)
        v = validate_value(f, raw, today=self.options.today)
        reasons.extend(v.reasons)
        result = FieldResult(f.name, f.label, f.type.value, raw, v.value, conf,
                             _unique(reasons), [EngineReading("marks", raw, conf)], rect)
        if self.options.keep_signals:
            result.signals = ratios if f.type is FieldType.CHOICE else [ratio]
        return result

    @staticmethod
    def _text_mark(f: FieldSpec, raw: str) -> str:
        if f.type is FieldType.CHECKBOX:
            return "1" if raw.strip() else "0"
        for o in f.options:
            if o.label in raw:
                return o.label
        return ""

    # -- whole page ---------------------------------------------------------------------------
    def _cross_check(self, template: FormTemplate, results: list[FieldResult]) -> None:
        self._confirm_by_reference(template, results)
        values = {r.name: r.value for r in results if not r.reasons}
        for name, extra in cross_check(template, values).items():
            for r in results:
                if r.name == name:
                    r.reasons = _unique(r.reasons + list(extra))

    def _confirm_by_reference(self, template: FormTemplate, results: list[FieldResult]) -> None:
        """Settle a disagreement the page's other writings decide (:func:`confirmed_by_reference`).

        Only for a field whose one reason was the disagreement: anything else it was
        flagged for still stands, and so does the flag.
        """
        candidates: dict[str, list[str]] = {}
        readings: dict[str, dict[str, EngineReading]] = {}
        for r in results:
            if [x.code for x in r.reasons] != ["engines_disagree"] or len(r.readings) < 2:
                continue
            f = template.by_name[r.name]
            for e in r.readings:
                v = validate_value(f, e.text, today=self.options.today)
                if not v.reasons:
                    candidates.setdefault(r.name, []).append(v.value)
                    readings.setdefault(r.name, {}).setdefault(v.value, e)
        if not candidates:
            return
        values = {r.name: r.value for r in results if not r.reasons}
        for name, value in confirmed_by_reference(template, values, candidates).items():
            r = next(x for x in results if x.name == name)
            e = readings[name][value]
            r.raw, r.value, r.confidence, r.reasons = e.text, value, e.confidence, []
            log.debug("field %s: disagreement settled by reference data", name)

    def _double_entry(self, template: FormTemplate, results: list[FieldResult]) -> None:
        """Fields staff key in blind (ベリファイ): every one goes to the correction sheet."""
        for r in results:
            f = template.by_name[r.name]
            if self.options.double_entered(f) and not f.manual:
                r.reasons = _unique([*r.reasons, reason("double_entry")])

    def _attach_crops(self, results: list[FieldResult], page: np.ndarray) -> None:
        mode = self.options.keep_crops
        if mode == "none":
            return
        for r in results:
            if mode == "all" or r.flagged:
                r.crop_png = crop_png(page, r.box_px)


def _em(ch: str) -> float:
    """Printed width of a character in line heights (Japanese is full width, Latin about half)."""
    if unicodedata.east_asian_width(ch) in "WFA":
        return 1.0
    return 0.3 if ch in ".,:;'`-_" else 0.55


def length_mismatch(f: FieldSpec, raw: str, crop: Crop) -> str:
    """Why a reading cannot be the whole writing, or "" when its length is plausible.

    Both recognisers sometimes drop a faint last character *together*; agreement cannot
    catch that, but the writing's own length can: a comb field must have one character per
    cell written in, and a line of text about as many characters as it is line heights long.
    """
    text = "".join(raw.split())
    if not text:
        return ""
    if crop.cells is not None:
        n = sum(ch.isdigit() or unicodedata.category(ch).startswith("L") for ch in text)
        return "" if n == crop.cells else f"{crop.cells}マスに{n}文字"
    if crop.text_em is None or f.type in (FieldType.DATE, FieldType.AMOUNT, FieldType.PHONE):
        return ""  # numbers and punctuation vary too much in width to judge
    read = sum(_em(ch) for ch in text)
    if not any(_em(ch) == 1.0 for ch in text):
        # a line of digits and Latin letters only is as tall as a digit, not as a kanji
        # (about three quarters of it): measured in its own height each is wider
        read /= 0.75
    if read < 0.75 * crop.text_em - 0.6:
        return "読取結果が記入より短い"
    if read > 1.35 * crop.text_em + 1.0:
        return "読取結果が記入より長い"
    return ""


def _unique(reasons: list[Reason]) -> list[Reason]:
    seen: set[str] = set()
    out = []
    for r in reasons:
        if r.code not in seen:
            seen.add(r.code)
            out.append(r)
    return out
