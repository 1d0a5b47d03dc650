"""Help for whoever writes a form template: warnings about keys that do nothing, and a picture.

A template a clerk writes from a paper form can be valid and still wrong: a box a few
millimetres off the printed line, a blank scanned at another size and stretched, a second
form with the same title, a key that is accepted but changes nothing. None of that stops a
run (the template is valid), so ``rpa forms check`` says it in words and, with
``--overlay``, draws what the reader will use over the blank: value boxes, comb cells,
options, label cells and the registration anchors.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from ocr.align import read_qr, registration_anchors
from ocr.render import blank_image
from ocr.templates import FieldType, FormTemplate

__all__ = ["BLANK_TOLERANCE", "draw_overlay", "library_warnings", "template_warnings"]

# How far (relative) a blank image's proportions or size may be from the page's before it
# is called stretched or of another resolution: a scanner's feed changes lengths by < 1 %.
BLANK_TOLERANCE = 0.02

_COLOURS = {  # BGR
    "box": (200, 90, 0),
    "comb": (230, 170, 60),
    "option": (0, 150, 0),
    "label": (0, 140, 255),
    "anchor": (0, 0, 230),
    "group": (170, 0, 170),
}


def _blank_warnings(t: FormTemplate) -> list[str]:
    path = t.blank_path
    if path is None:
        if t.form.blank_dpi is not None:
            return ["form.blank_dpi: does nothing without form.blank (the blank is rendered "
                    "from the template); remove it"]
        return []
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        return [f"form.blank: {path} is not an image OpenCV can read"]
    h, w = img.shape
    pw, ph = t.page_mm
    out = []
    ratio = (w / h) / (pw / ph)
    if abs(ratio - 1.0) > BLANK_TOLERANCE:
        out.append(f"form.blank: {path.name} is {w}x{h} px, proportions {w / h:.3f}; the "
                   f"{t.form.page}{' landscape' if t.form.landscape else ''} page is "
                   f"{pw / ph:.3f} ({pw:g} x {ph:g} mm): the image would be stretched by "
                   f"{abs(ratio - 1.0):.1%} and every box land off its printed line. Scan the "
                   "whole page without margins cut, or set form.page/landscape right")
    if t.form.blank_dpi is not None:
        ew, eh = t.page_px(t.form.blank_dpi)
        if abs(w / ew - 1.0) > BLANK_TOLERANCE or abs(h / eh - 1.0) > BLANK_TOLERANCE:
            out.append(f"form.blank_dpi: {path.name} is {w}x{h} px, but a {t.form.page} page "
                       f"at {t.form.blank_dpi} dpi is {ew}x{eh} px: the blank was scanned at "
                       f"about {w / (pw / 25.4):.0f} dpi, or cut; fix blank_dpi or rescan")
    if t.form.qr and read_qr(img, w / (pw / 25.4)) is None:
        out.append("form.qr: the blank image carries no QR code, so pages are identified by "
                   "registration; set qr = false to say so")
    return out


def template_warnings(t: FormTemplate) -> list[str]:
    """What is valid but probably not meant: keys that do nothing, a stretched blank."""
    out = _blank_warnings(t)
    for i, f in enumerate(t.fields):
        where = f"fields[{i}] ({f.name})"
        if f.type is FieldType.CHECKBOX and "label_width" in f.model_fields_set:
            out.append(f"{where}.label_width: a checkbox has no label cell (its caption is "
                       "printed after the box); the key does nothing")
        if f.min_confidence is not None and (f.is_mark or f.hand_digits or f.manual):
            out.append(f"{where}.min_confidence: only printed fields read by OCR engines use "
                       "it; marks and handwritten fields follow ocr/calibration.toml")
        if f.review == "double_entry" and f.manual:
            out.append(f"{where}.review: handwritten words are keyed by staff anyway; "
                       "double entry does nothing here")
        if f.header and f.header == f.label:
            out.append(f"{where}.header: same as the label; the key does nothing")
        if f.comb == 1:
            out.append(f"{where}.comb: one cell is no comb; the key does nothing")
        if f.type is not FieldType.CHECKBOX and "caption" in f.model_fields_set:
            out.append(f"{where}.caption: only checkboxes print a caption")
    for i, d in enumerate(t.decor):
        if d.kind in ("line", "rect") and d.to is None:
            out.append(f"decor[{i}]: a {d.kind} needs `to`; nothing is drawn")
    return out


def library_warnings(templates: Iterable[FormTemplate]) -> list[str]:
    """Two templates with the same id or title, wherever they are (ids also fail at load)."""
    out: list[str] = []
    seen_id: dict[str, Path | None] = {}
    seen_title: dict[str, tuple[str, Path | None]] = {}
    for t in templates:
        if t.id in seen_id and seen_id[t.id] != t.source:
            out.append(f"form.id: {t.id!r} is defined in {seen_id[t.id]} and in {t.source}: "
                       "a library refuses two forms with one id")
        seen_id.setdefault(t.id, t.source)
        key = "".join(t.title.split())
        if key in seen_title and seen_title[key][1] != t.source:
            other_id, other = seen_title[key]
            out.append(f"form.title: {t.title!r} ({t.id}, {t.source}) is also the title of "
                       f"{other_id} ({other}): staff cannot tell the two apart in the workbook, "
                       "and a text PDF is identified by its title; give one a distinct title")
        seen_title.setdefault(key, (t.id, t.source))
    return out


def _mm_rect(img: np.ndarray, box: tuple[float, float, float, float], k: float,
             colour: tuple[int, int, int], width: int) -> None:
    x, y, w, h = box
    cv2.rectangle(img, (round(x * k), round(y * k)), (round((x + w) * k), round((y + h) * k)),
                  colour, width)


def draw_overlay(t: FormTemplate, dpi: float = 150.0) -> np.ndarray:
    """The blank form (BGR) with what the reader uses drawn over it, for a person to check.

    Value boxes blue with the field name, comb cells light blue, options green, label cells
    orange, checkbox groups purple, registration anchors red circles. A box that does not
    sit on its printed frame is visible at a glance.
    """
    img = cv2.cvtColor(blank_image(t, dpi), cv2.COLOR_GRAY2BGR)
    img = cv2.addWeighted(img, 0.55, np.full_like(img, 255), 0.45, 0)  # blank faded
    k = dpi / 25.4
    line = max(1, round(dpi / 100))
    for f in t.fields:
        x, y, w, h = f.box
        if f.type is not FieldType.CHECKBOX and f.label_width > 0:
            _mm_rect(img, (x - f.label_width, y, f.label_width, h), k, _COLOURS["label"], line)
        colour = _COLOURS["group"] if f.group else _COLOURS["box"]
        _mm_rect(img, f.box, k, colour, line + 1)
        for c in range(1, f.comb):
            cx = round((x + c * w / f.comb) * k)
            cv2.line(img, (cx, round(y * k)), (cx, round((y + h) * k)), _COLOURS["comb"], line)
        for o in f.options:
            _mm_rect(img, o.box, k, _COLOURS["option"], line + 1)
        tag = f.name + (f" [{f.group}]" if f.group else "")
        at = ((round(x * k) + 2, round(y * k) + round(2.4 * k)) if f.type is not FieldType.CHECKBOX
              else (round(x * k), round((y - 0.6) * k)))  # a checkbox is too small to hold it
        cv2.putText(img, tag, at, cv2.FONT_HERSHEY_SIMPLEX, dpi / 400, colour, 1, cv2.LINE_AA)
    for ax, ay in registration_anchors(t):
        cv2.circle(img, (round(ax * k), round(ay * k)), max(3, round(1.2 * k)),
                   _COLOURS["anchor"], line)
    _legend(img, dpi)
    return img


def _legend(img: np.ndarray, dpi: float) -> None:
    k = dpi / 25.4
    x, y = round(6 * k), img.shape[0] - round(14 * k)
    items = [("value box", "box"), ("comb cell", "comb"), ("option", "option"),
             ("label cell", "label"), ("checkbox group", "group"), ("anchor", "anchor")]
    for i, (text, key) in enumerate(items):
        xx = x + i * round(33 * k)
        cv2.rectangle(img, (xx, y), (xx + round(4 * k), y + round(3 * k)), _COLOURS[key], -1)
        cv2.putText(img, text, (xx + round(5 * k), y + round(2.8 * k)), cv2.FONT_HERSHEY_SIMPLEX,
                    dpi / 300, (40, 40, 40), 1, cv2.LINE_AA)
