"""The calibrated thresholds of the flag decision, per field type, loaded from TOML.

What makes OCR save time is that staff need not look at unflagged fields, so the thresholds
that decide "unflagged" are measured, not guessed: ``bench/calibrate.py`` reads a calibration
set of generated forms (printed and handwritten, degradation levels 0-3, seeds disjoint from
the benchmark's), records every signal of every field, and per field type picks the
thresholds that keep the silent error rate (wrong and unflagged) under the configured target
with the fewest flagged fields. It writes ``ocr/calibration.toml``, which
:class:`ocr.fields.ReadOptions` loads by default; ``[ocr] calibration`` in config names
another file. A malformed file stops the caller with the file and the key named.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ocr.errors import OcrError

__all__ = [
    "DEFAULT_CALIBRATION",
    "Calibration",
    "CalibrationError",
    "DigitRule",
    "MarkRule",
    "TextRule",
    "load_calibration",
    "parse_calibration",
]

DEFAULT_CALIBRATION = Path(__file__).resolve().parent / "calibration.toml"
NEVER = 1.01  # a confidence threshold no reading reaches


class CalibrationError(OcrError):
    """The calibration file is missing or malformed; nothing was read with it."""

    exit_code = 3
    reason_ja = "読取しきい値の設定ファイル（calibration.toml）が正しくありません。"


@dataclass(frozen=True, slots=True)
class TextRule:
    """Printed fields, read by two engines.

    ``agree_min``: when both engines agree after normalisation, the less confident one's
    confidence must reach this, unless RapidOCR's reaches ``agree_solo_min`` (``> 1``:
    never): Tesseract's fast model gives a name with a space between family and given name
    a confidence near 0 however clear the print, and then only RapidOCR's says anything.
    ``solo_min``: when they disagree, RapidOCR's reading stands alone if it validates and
    its confidence reaches this (``> 1``: never).
    """

    agree_min: float = 0.0
    solo_min: float = NEVER
    agree_solo_min: float = NEVER


@dataclass(frozen=True, slots=True)
class DigitRule:
    """Handwritten digits in boxes, read by the digit model (RapidOCR as a second opinion).

    ``cell_min``: every box's top probability must reach this; ``agree_cell_min`` replaces
    it for a box where RapidOCR reads the same digit (equal to ``cell_min``: not asked), and
    ``disagree_cell_min`` for a box where it reads another digit (``> 1``: always flagged);
    ``reject_max``: a box more likely than this to be "not one clean digit" is flagged.
    """

    cell_min: float = 0.99
    agree_cell_min: float = 0.99
    reject_max: float = 0.5
    disagree_cell_min: float = NEVER


@dataclass(frozen=True, slots=True)
class MarkRule:
    """Share of a mark's area covered by added ink.

    At least ``on``: marked; at most ``off``: empty; in between: flagged as ambiguous.
    """

    on: float = 0.03
    off: float = 0.01


@dataclass(frozen=True)
class Calibration:
    """Every threshold of the flag decision.

    ``printed``/``handwritten`` are by field type, with a ``default`` entry for the types
    the calibration set did not hold.
    """

    printed: Mapping[str, TextRule] = field(default_factory=lambda: {"default": TextRule()})
    handwritten: Mapping[str, DigitRule] = field(
        default_factory=lambda: {"default": DigitRule()})
    box_marks: MarkRule = MarkRule()
    circle_marks: MarkRule = MarkRule(on=0.02, off=0.006)
    source: str = ""
    target: float = 0.005

    def text_rule(self, field_type: str) -> TextRule:
        # names and addresses are text with more checks: a calibration made before they
        # were types of their own holds them under "text"
        fallback = self.printed.get("text") if field_type in ("name", "address") else None
        return (self.printed.get(field_type) or fallback or self.printed.get("default")
                or TextRule())

    def digit_rule(self, field_type: str) -> DigitRule:
        return self.handwritten.get(field_type) or self.handwritten.get("default") or DigitRule()


def _rule(cls: type, data: Any, key: str, problems: list[str]) -> Any:
    if not isinstance(data, dict):
        problems.append(f"{key}: expected a table")
        return cls()
    names = {f.name for f in fields(cls)}
    for k in sorted(set(data) - names):
        problems.append(f"{key}.{k}: unknown key")
    values: dict[str, float] = {}
    for k in sorted(names & set(data)):
        v = data[k]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= NEVER:
            problems.append(f"{key}.{k}: must be a number from 0 to {NEVER}")
        else:
            values[k] = float(v)
    rule = cls(**values)
    if isinstance(rule, MarkRule) and not rule.off < rule.on:
        problems.append(f"{key}: off must be below on")
    return rule


def parse_calibration(data: Mapping[str, Any], source: str = "") -> Calibration:
    """A :class:`Calibration` from parsed TOML; raise :class:`CalibrationError` naming keys."""
    problems: list[str] = []
    known = {"meta", "printed", "handwritten", "marks"}
    problems += [f"{k}: unknown section" for k in sorted(set(data) - known)]
    tables: dict[str, dict[str, Any]] = {}
    for section, cls in (("printed", TextRule), ("handwritten", DigitRule)):
        raw = data.get(section, {})
        if not isinstance(raw, dict):
            problems.append(f"{section}: expected a table of field types")
            raw = {}
        tables[section] = {t: _rule(cls, v, f"{section}.{t}", problems) for t, v in raw.items()}
        tables[section].setdefault("default", cls())
    marks = data.get("marks", {})
    if not isinstance(marks, dict):
        problems.append("marks: expected a table")
        marks = {}
    problems += [f"marks.{k}: unknown key" for k in sorted(set(marks) - {"box", "circle"})]
    box = _rule(MarkRule, marks.get("box", {}), "marks.box", problems)
    circle = _rule(MarkRule, marks.get("circle", {"on": 0.02, "off": 0.006}), "marks.circle",
                   problems)
    meta = data.get("meta", {})
    target = meta.get("silent_error_target", 0.005) if isinstance(meta, dict) else 0.005
    if problems:
        raise CalibrationError(f"invalid calibration file {source}:\n  - "
                               + "\n  - ".join(problems))
    return Calibration(tables["printed"], tables["handwritten"], box, circle, source,
                       float(target))


@functools.cache
def load_calibration(path: str | Path | None = None) -> Calibration:
    """The calibration in ``path`` (default: the one shipped, ``ocr/calibration.toml``)."""
    p = Path(path) if path is not None else DEFAULT_CALIBRATION
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalibrationError(f"calibration file {p} not found") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CalibrationError(f"calibration file {p} is not valid TOML: {exc}") from None
    return parse_calibration(data, str(p))
