"""Handwriting for sample forms: real handwritten digits in boxes, and marks drawn by hand.

Digits come from ``data/handwritten_digits_test.npz``: the 1,000 MNIST digits that
``ocr/models/train_digits.py`` held out of training (images and labels), so a benchmark on
generated forms never shows the classifier a digit it learnt from. Each digit is scaled to
the box, turned and moved a little, drawn with the writer's stroke width and ink, the way a
resident fills boxes with a ballpoint pen. Marks (ticks, crosses, fills, circles) are drawn as
wobbly pen strokes, never as perfect geometry; a circled choice is a ○ around the printed
word. A few boxes carry a correction (a digit struck through, the right one squeezed in
beside it): the truth is the intended digit, and the reader must flag that field.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ocr.render import Canvas
from ocr.templates import FieldSpec, FieldType

__all__ = ["CORRECTION_RATE", "TEST_DIGITS", "test_digits", "write_hand"]

TEST_DIGITS = Path(__file__).resolve().parent / "data" / "handwritten_digits_test.npz"
CORRECTION_RATE = 0.02  # share of handwritten digit fields with one corrected box
Box = tuple[float, float, float, float]


@functools.cache
def test_digits() -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """(images uint8 [n, 28, 28] ink bright, label → indices), from the held-out split."""
    with np.load(TEST_DIGITS) as data:
        images, labels = data["images"], data["labels"].astype(int)
    return images, {d: np.flatnonzero(labels == d) for d in range(10)}


def _digit_ink(digit: int, rng: np.random.Generator, height_px: int, stroke: int,
               width_px: int | None = None) -> np.ndarray:
    """Ink coverage 0..1 of one held-out handwritten ``digit``.

    About ``height_px`` tall and at most ``width_px`` wide: a writer keeps a digit in its box.
    """
    images, by_label = test_digits()
    img = images[int(rng.choice(by_label[digit]))].astype(np.float32) / 255.0
    ys, xs = np.nonzero(img > 0.1)
    img = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    f = height_px / img.shape[0]
    if width_px is not None:
        f = min(f, width_px / img.shape[1])
    big = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC).clip(0, 1)
    pad = max(4, height_px // 6)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    h, w = big.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-8, 8)), 1.0)
    big = cv2.warpAffine(big, m, (w, h), borderValue=0)
    if stroke:  # a thinner or broader pen than the digit was written with
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(stroke) + 1,) * 2)
        big = (cv2.dilate if stroke > 0 else cv2.erode)(big, k)
    return np.clip((big - 0.15) / 0.6, 0, 1)


def _press(c: Canvas, ink: np.ndarray, centre: tuple[int, int], darkness: int) -> None:
    """Darken the canvas by ``ink`` (0..1) centred at ``centre`` (px): pen on paper."""
    h, w = ink.shape
    x0, y0 = centre[0] - w // 2, centre[1] - h // 2
    region = np.asarray(c.image.crop((x0, y0, x0 + w, y0 + h)), dtype=np.float32)
    inked = region - ink * (region - darkness)
    c.image.paste(Image.fromarray(np.minimum(region, inked).astype(np.uint8)), (x0, y0))


def _write_digits(c: Canvas, f: FieldSpec, value: str, style: Any,
                  rng: np.random.Generator) -> None:
    x, y, w, h = f.box
    cell = w / f.comb
    start = f.comb - len(value) if f.type is FieldType.AMOUNT else 0
    # one writer, one pen for the field: MNIST strokes scaled up are ~0.8 mm, a felt pen;
    # thinned by up to 3 px at 300 dpi they are a ballpoint's 0.4 mm
    stroke = round(int(rng.integers(-2, 2)) * c.dpi / 300)
    darkness = int(style.ink)
    fix = int(rng.integers(len(value))) if value and rng.random() < CORRECTION_RATE else -1
    for i, ch in enumerate(value):
        if not ch.isdigit():
            continue
        cx = c.px(x + (start + i + 0.5) * cell + float(rng.uniform(-0.12, 0.12)) * cell)
        cy = c.px(y + h / 2 + float(rng.uniform(-0.08, 0.08)) * h)
        height = c.px(h * float(rng.uniform(0.5, 0.72)))
        width = c.px(cell * float(rng.uniform(0.6, 0.8)))
        if i == fix:  # a wrong digit struck through twice, the right one squeezed beside it
            wrong = (int(ch) + int(rng.integers(1, 10))) % 10
            ink = _digit_ink(wrong, rng, height, stroke)
            _strike(ink, rng)
            _press(c, ink, (cx - c.px(cell * 0.15), cy), darkness)
            small = _digit_ink(int(ch), rng, height // 2, 0)
            _press(c, small, (cx + c.px(cell * 0.28), cy - height // 4), darkness)
            continue
        _press(c, _digit_ink(int(ch), rng, height, stroke, width), (cx, cy), darkness)


def _strike(ink: np.ndarray, rng: np.random.Generator) -> None:
    h, w = ink.shape
    width = max(2, h // 14)
    for dy in (-0.08, 0.08):
        y0 = int(h * (0.5 + dy + float(rng.uniform(-0.05, 0.05))))
        y1 = int(h * (0.5 + dy + float(rng.uniform(-0.1, 0.1))))
        cv2.line(ink, (int(w * 0.05), y0), (int(w * 0.95), y1), 1.0, width)


def _stroke(draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], width: int, ink: int,
            rng: np.random.Generator, wobble: float) -> None:
    """A pen stroke through ``pts`` (px), bent a little between them."""
    path: list[tuple[float, float]] = []
    for (xa, ya), (xb, yb) in itertools.pairwise(pts):
        bend = rng.normal(0, wobble, 2)
        for t in np.linspace(0, 1, 12):
            k = 4 * t * (1 - t)
            path.append((xa + (xb - xa) * t + bend[0] * k, ya + (yb - ya) * t + bend[1] * k))
    draw.line(path, fill=ink, width=width, joint="curve")


def _mark(c: Canvas, box: Box, kind: str, style: Any, rng: np.random.Generator) -> None:
    """A hand-drawn tick, cross, fill or circle on ``box`` (mm)."""
    x, y, w, h = (c.px(v) for v in box)
    j = max(1.0, 0.08 * w)
    width = max(2, c.px(float(rng.uniform(0.3, 0.6))))
    ink = int(style.ink)
    d = c.draw

    def p(fx: float, fy: float) -> tuple[float, float]:
        return (x + fx * w + float(rng.normal(0, j)), y + fy * h + float(rng.normal(0, j)))

    if kind == "cross":
        _stroke(d, [p(0.1, 0.1), p(0.9, 0.9)], width, ink, rng, j)
        _stroke(d, [p(0.9, 0.1), p(0.1, 0.9)], width, ink, rng, j)
    elif kind == "fill":
        for t in np.linspace(0.15, 0.85, max(4, round(h / width * 0.7))):
            _stroke(d, [p(0.12, t), p(0.88, t + float(rng.uniform(-0.05, 0.05)))], width + 1,
                    ink, rng, j * 0.5)
    elif kind == "circle":
        cx, cy = x + w / 2, y + h / 2
        rx, ry = w / 2 + c.px(0.8), h / 2 + c.px(0.8)
        a0 = float(rng.uniform(0, 2 * np.pi))
        sweep = float(rng.uniform(2.0 * np.pi * 0.93, 2.0 * np.pi * 1.12))  # gap or overshoot
        ts = a0 + np.linspace(0, sweep, 40)
        r = 1 + rng.normal(0, 0.03, 1) + 0.04 * np.sin(ts * 2 + float(rng.uniform(0, 6)))
        d.line([(cx + rx * rr * np.cos(t), cy + ry * rr * np.sin(t)) for rr, t in zip(r, ts,
                strict=True)], fill=ink, width=width, joint="curve")
    else:  # a tick, often leaving the box at the top right
        size = float(rng.uniform(0.75, 1.15))
        _stroke(d, [p(0.12, 0.5), p(0.42, 0.9), p(0.42 + 0.6 * size, 0.9 - 1.0 * size)],
                width, ink, rng, j * 0.6)


def write_hand(c: Canvas, f: FieldSpec, value: str, style: Any,
               rng: np.random.Generator) -> bool:
    """Write ``value`` by hand if this writer can (digits in boxes, marks); else False."""
    if f.type is FieldType.CHECKBOX:
        if value == "1":
            _mark(c, f.box, style.mark, style, rng)
        return True
    if f.type is FieldType.CHOICE:
        for o in f.options:
            if o.label == value:
                kind = "circle" if f.options_style == "circle" else style.mark
                _mark(c, o.box, kind, style, rng)
        return True
    if f.hand_digits and f.comb:
        _write_digits(c, f, value, style, rng)
        return True
    return False
