"""The flag decision, as pure functions of a field's signals and the calibrated thresholds.

Split in two on purpose: the *signals* of a field (each engine's text and confidence, what
each reading validates to, whether the engines agree, the digit model's probabilities) are
measured once; the *decision* turns them into a value and the reasons a human must look,
for given thresholds. The reader calls both; ``bench/calibrate.py`` records the signals of a
calibration set once and sweeps the thresholds through the very same decision, so the
calibrated figures are those of the code that runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ocr.arbitrate import mend_reading, preference, variant_reading
from ocr.calibration import DigitRule, TextRule
from ocr.digits import DigitReading
from ocr.japanese import digits_only
from ocr.reasons import Reason, reason
from ocr.results import EngineReading
from ocr.templates import FieldSpec, FieldType
from ocr.validators import Validated, validate_value

__all__ = [
    "SOLO_ENGINE",
    "Decision",
    "DigitSignals",
    "TextSignals",
    "decide_digits",
    "decide_text",
    "digit_signals",
    "text_signals",
    "unique",
]

SOLO_ENGINE = "rapidocr"  # the engine whose reading may stand alone (fewer errors measured)


@dataclass(frozen=True, slots=True)
class Decision:
    """What the reader reports for a field: raw text, value, confidence, reasons."""

    raw: str
    value: str
    confidence: float
    reasons: list[Reason]


@dataclass(frozen=True, slots=True)
class TextSignals:
    """Each engine's reading with what it validates to, and whether they agree.

    ``prefs``: per reading, how well what the field allows supports it
    (:func:`ocr.arbitrate.preference`, best highest); ``variant``: per reading, whether its
    value may hide a variant kanji (fields of type ``name`` only, else all False), and
    ``variant_value`` the value with the variant the scores point to (else the value).
    """

    checked: tuple[tuple[EngineReading, Validated], ...]
    agree: bool
    any_text: bool
    prefs: tuple[tuple[int, int, int, int, float], ...] = ()
    variant: tuple[bool, ...] = ()
    variant_value: tuple[str, ...] = ()


def text_signals(f: FieldSpec, readings: list[EngineReading],
                 today: dt.date | None) -> TextSignals:
    """Validate every engine's reading of ``f``; note whether they agree and what is likelier."""
    readings = [mend_reading(f, r, [o for o in readings if o is not r]) for r in readings]
    checked = tuple((r, validate_value(f, r.text, today=today)) for r in readings)
    values = {v.value for _, v in checked}
    prefs = tuple(preference(f, checked, SOLO_ENGINE))
    found = [variant_reading(v.value, readings) if f.type is FieldType.NAME else (False, v.value)
             for _, v in checked]
    return TextSignals(checked, len(checked) > 1 and len(values) == 1,
                       any(r.text.strip() for r in readings), prefs,
                       tuple(x[0] for x in found), tuple(x[1] for x in found))


def _clip(c: float) -> float:
    return min(max(c, 0.0), 1.0)


def _solo_index(checked: tuple[tuple[EngineReading, Validated], ...]) -> int | None:
    """Where the reading of the engine that may stand alone is, if it read the field."""
    return next((i for i, (r, _) in enumerate(checked) if r.engine == SOLO_ENGINE), None)


def decide_text(sig: TextSignals, rule: TextRule, floor: float) -> Decision:
    """Value and reasons of a printed field read by one or more engines.

    Unflagged only when the value validates and either both engines agree with the less
    confident one at ``rule.agree_min`` or more (or RapidOCR at ``rule.agree_solo_min``
    or more), or (engines disagreeing) RapidOCR alone
    validates with ``rule.solo_min`` or more; ``floor`` is the configured minimum combined
    confidence (``[ocr.min_confidence]``).
    """
    checked = sig.checked
    reasons: list[Reason] = []
    prefs = sig.prefs or tuple((0 if v.reasons else 1, 1, 0, 0, r.confidence)
                               for r, v in checked)
    if sig.agree:
        pick = len(checked) - 1
        r, v = checked[pick]
        miss = 1.0
        for rr, _ in checked:
            miss *= 1.0 - _clip(rr.confidence)
        conf = 1.0 - miss
        low = min(_clip(rr.confidence) for rr, _ in checked)
        solo = _solo_index(checked)
        solo_conf = 0.0 if solo is None else _clip(checked[solo][0].confidence)
        if low < rule.agree_min and solo_conf < rule.agree_solo_min:
            # the sheet must not show 100 % beside "low confidence": a flagged agreement is
            # worth what its weakest reading is worth
            conf = low
            reasons.append(reason("low_confidence", f"{low:.2f}"))
    else:
        # What the field allows decides (valid, no space read as ー, known to real lists),
        # then the engine with fewer errors, then confidence; the later engine in the list
        # wins ties (RapidOCR is listed last).
        pick = max(reversed(range(len(checked))), key=lambda i: prefs[i])
        r, v = checked[pick]
        conf = r.confidence if len(checked) == 1 else r.confidence * 0.5
        solo = _solo_index(checked)
        if len(checked) > 1 and solo is not None and not checked[solo][1].reasons \
                and checked[solo][0].text.strip() \
                and checked[solo][0].confidence >= rule.solo_min \
                and prefs[solo][:3] >= prefs[pick][:3]:
            pick = solo
            (r, v), conf = checked[solo], _clip(checked[solo][0].confidence)
        elif len(checked) > 1:
            reasons.append(reason("engines_disagree"))
    reasons.extend(v.reasons)
    value = v.value
    if sig.variant and sig.variant[pick]:
        reasons.append(reason("variant_kanji"))  # no detail: the character is part of a name
        value = sig.variant_value[pick] if sig.variant_value else value
    if not sig.any_text:
        reasons.append(reason("ink_not_read"))
    if conf < floor and not any(x.code in ("engines_disagree", "low_confidence")
                                for x in reasons):
        reasons.append(reason("low_confidence", f"{conf:.2f}"))
    return Decision(r.text, value, conf, unique(reasons))


@dataclass(frozen=True, slots=True)
class DigitSignals:
    """The digit model's reading of every box, what it validates to, RapidOCR's opinion."""

    reading: DigitReading
    validated: Validated
    second: str | None  # RapidOCR's digits for the whole field, None when not asked

    @property
    def agree(self) -> bool:
        return self.second is not None and self.second == self.reading.text

    def cell_agrees(self) -> list[bool | None]:
        """Per written box: RapidOCR reads the same digit there (True), another (False).

        Only when it read as many digits as there are written boxes, so that its i-th digit
        is the i-th box's; otherwise it has no opinion on any box (None).
        """
        digits = self.reading.text
        if self.second is None or len(self.second) != len(digits):
            return [None] * len(digits)
        return [a == b for a, b in zip(self.second, digits, strict=True)]


def digit_signals(f: FieldSpec, reading: DigitReading, second: EngineReading | None,
                  today: dt.date | None) -> DigitSignals:
    """The digit model's reading validated, with RapidOCR's digits (if asked) beside it."""
    other = None if second is None else digits_only(second.text).replace(" ", "")
    other = None if other is None else "".join(ch for ch in other if ch.isdigit())
    return DigitSignals(reading, validate_value(f, reading.text, today=today), other)


def decide_digits(sig: DigitSignals, rule: DigitRule) -> Decision:
    """Value and reasons of a handwritten boxed-digit field.

    An empty box is no digit; a box that holds a struck-through digit, a scribble or two
    digits, an empty box between written ones, or a box the model is unsure of is flagged.
    """
    cells = sig.reading.cells
    reasons: list[Reason] = []
    if any(not c.empty and (c.two_glyphs or c.reject > rule.reject_max) for c in cells):
        reasons.append(reason("digit_corrected"))
    filled = [i for i, c in enumerate(cells) if not c.empty]
    if filled and len(filled) != filled[-1] - filled[0] + 1:
        reasons.append(reason("digit_gap"))
    written = [c for c in cells if not c.empty]
    need = {True: rule.agree_cell_min, None: rule.cell_min, False: rule.disagree_cell_min}
    unsure = [c.prob for c, same in zip(written, sig.cell_agrees(), strict=True)
              if c.prob < need[same]]
    if unsure:  # a box RapidOCR confirms needs less certainty from the model than one alone
        reasons.append(reason("digit_unclear", f"{min(unsure):.2f}"))
    if sig.second is not None and len(sig.second) > len(written):
        # RapidOCR sees more digits than the boxes found written: a faint digit was taken
        # for an empty box (117000 read 11700); the model cannot see a box it never read
        reasons.append(reason("length_mismatch", f"{len(written)}桁と判定、別の読取では"
                                                 f"{len(sig.second)}桁"))
    reasons.extend(sig.validated.reasons)
    return Decision(sig.reading.text, sig.validated.value, sig.reading.confidence,
                    unique(reasons))


def unique(reasons: list[Reason]) -> list[Reason]:
    """``reasons`` without repeated codes, first occurrence kept."""
    seen: set[str] = set()
    out = []
    for r in reasons:
        if r.code not in seen:
            seen.add(r.code)
            out.append(r)
    return out
