"""Handwritten boxed digits: find the boxes, take each box's inside, normalise it like MNIST.

One digit per box is how residents write numbers a machine must read (account numbers, codes,
amounts, dates). The template gives the grid; the scan gives where the printed box lines
really are (registration leaves a pixel or two of error, and a box line read as a stroke
turns a 1 into a 4). Each cell's inside is then normalised exactly as the classifier's
training data was (:func:`normalise_digit` is used by ``ocr/models/train_digits.py`` too):
the ink's bounding box scaled to fit 20 x 20 pixels, placed in 28 x 28 by its centre of mass.

Nothing here classifies; :mod:`ocr.engines._digits` does. What is measured here is what a
classifier cannot say by itself: whether a box is empty (an empty box is no digit, never a
zero) and whether its ink looks like two digits side by side.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from ocr._stats import percentile_u8
from ocr.preprocess import estimate_noise

__all__ = [
    "DIGIT_SIZE",
    "Cell",
    "CellReading",
    "DigitReading",
    "find_cells",
    "ink_mask",
    "normalise_digit",
    "views",
]

DIGIT_SIZE = 28  # the classifier's input: MNIST's 28 x 28
_BOX = 20  # the digit's bounding box is scaled to fit this square (MNIST)
_LINE_SEARCH_MM = 1.6  # how far a box line may sit from where the template puts it
_LINE_MIN_SHARE = 0.45  # a column (row) darker than this share over the box is a line
_MIN_INK_MM2 = 0.6  # less ink than this in a cell is dust, not writing
_MM = 1 / 25.4


@dataclass(frozen=True, slots=True)
class Cell:
    """One box of a comb field: its inside on the page and the ink found there."""

    index: int
    rect: tuple[int, int, int, int]  # x, y, w, h on the crop given to find_cells
    image: np.ndarray  # the inside of the box, grayscale, ink dark
    mask: np.ndarray  # writing (bool), dust removed
    empty: bool
    two_glyphs: bool  # two tall blobs side by side: two digits in one box


def ink_mask(gray: np.ndarray, *, dpi: float = 300.0) -> np.ndarray:
    """Writing in ``gray`` (ink dark on paper) as a bool mask, specks of dust removed.

    The threshold follows the paper and the noise of this very cell: faint ink on a clean
    scan and dark ink on a noisy one both survive, speckle does not.
    """
    if gray.size == 0:
        return np.zeros(gray.shape, bool)
    noise = estimate_noise(gray)
    smooth = cv2.medianBlur(gray, 3) if noise >= 9.0 else gray
    bg = percentile_u8(smooth, 90)
    ink = (smooth < min(bg - max(45.0, 3.5 * noise), 200.0)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    min_area = _MIN_INK_MM2 * (dpi * _MM) ** 2 / 4
    keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    return np.isin(labels, keep) if keep else np.zeros(gray.shape, bool)


def _two_glyphs(mask: np.ndarray) -> bool:
    """Two tall blobs with no horizontal overlap: two digits written in one box."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n < 3:
        return False
    ys = np.flatnonzero(mask.any(axis=1))
    height = ys[-1] - ys[0] + 1
    tall = sorted((stats[i, cv2.CC_STAT_LEFT], stats[i, cv2.CC_STAT_LEFT] + stats[i, 2])
                  for i in range(1, n) if stats[i, cv2.CC_STAT_HEIGHT] >= 0.6 * height
                  and stats[i, cv2.CC_STAT_AREA] >= 0.15 * mask.sum())
    return any(b[0] >= a[1] - 1 for a, b in itertools.pairwise(tall))


def normalise_digit(gray: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """A digit image as the classifier sees it: float32 28 x 28, ink 1.0 on 0.0.

    ``gray`` has dark ink on light paper; ``mask`` (default: :func:`ink_mask`) says which
    pixels are writing. Ink darkness is kept (strokes have soft edges in MNIST too), scaled
    so the darkest stroke is 1. The bounding box of the writing is scaled to fit 20 x 20
    with its aspect kept, then moved so its centre of mass is the image's centre.
    """
    if mask is None:
        mask = ink_mask(gray)
    out = np.zeros((DIGIT_SIZE, DIGIT_SIZE), np.float32)
    if not mask.any():
        return out
    ys, xs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    y0, y1, x0, x1 = ys[0], ys[-1] + 1, xs[0], xs[-1] + 1
    keep = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8))[y0:y1, x0:x1] > 0
    sub = gray[y0:y1, x0:x1].astype(np.float32)
    bg = percentile_u8(gray, 90)
    dark = percentile_u8(sub[mask[y0:y1, x0:x1]], 10)
    ink = np.clip((bg - sub) / max(bg - dark, 1.0), 0.0, 1.0) * keep
    h, w = ink.shape
    f = _BOX / max(h, w)
    nh, nw = max(1, round(h * f)), max(1, round(w * f))
    small = cv2.resize(ink, (nw, nh), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    total = float(small.sum())
    if total <= 0:
        return out
    cy = float((small.sum(axis=1) * np.arange(nh)).sum() / total)
    cx = float((small.sum(axis=0) * np.arange(nw)).sum() / total)
    top = round(DIGIT_SIZE / 2 - 0.5 - cy)
    left = round(DIGIT_SIZE / 2 - 0.5 - cx)
    top = min(max(top, 0), DIGIT_SIZE - nh)
    left = min(max(left, 0), DIGIT_SIZE - nw)
    out[top:top + nh, left:left + nw] = small
    return np.clip(out, 0.0, 1.0)


def views(digit: np.ndarray) -> list[np.ndarray]:
    """The normalised digit and ten slight variations of it, for the classifier to average.

    One view of a handwritten 4 can look like a 9 with high confidence; shifted by a pixel,
    turned by 8°, scaled by 12 % or its strokes thickened or thinned, it rarely does in all.
    Averaging the classifier's probabilities over these views (test-time augmentation)
    measured 31.4 → 27.3 % handwritten digit fields flagged at the same silent error rate
    on the calibration set (bench/calibrate.py), and generalised to an unseen seed.
    """
    size = (DIGIT_SIZE, DIGIT_SIZE)
    centre = ((DIGIT_SIZE - 1) / 2, (DIGIT_SIZE - 1) / 2)
    out = [digit]
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        out.append(cv2.warpAffine(digit, np.float32([[1, 0, dx], [0, 1, dy]]), size))
    for angle, scale in ((-8, 1.0), (8, 1.0), (0, 0.88), (0, 1.12)):
        out.append(cv2.warpAffine(digit, cv2.getRotationMatrix2D(centre, angle, scale), size))
    pen = np.ones((2, 2), np.uint8)
    out += [cv2.dilate(digit, pen), cv2.erode(digit, pen)]
    return out


def _snap(profile: np.ndarray, expected: float, search: int) -> tuple[int, int] | None:
    """First and last index of the darkest line near ``expected`` in a 0..1 profile.

    A line is several pixels wide, more where two printed boxes share an edge or the scan
    is blurred: the whole run of dark columns (rows) is the line, not its darkest one.
    """
    lo, hi = max(0, int(expected) - search), min(len(profile), int(expected) + search + 1)
    if hi <= lo:
        return None
    i = lo + int(np.argmax(profile[lo:hi]))
    if profile[i] < _LINE_MIN_SHARE:
        return None
    edge = 0.4 * profile[i]
    a, b = i, i
    while a > 0 and profile[a - 1] >= edge:
        a -= 1
    while b < len(profile) - 1 and profile[b + 1] >= edge:
        b += 1
    return a, b


def find_cells(region: np.ndarray, box_px: tuple[int, int, int, int], cells: int, *,
               dpi: float = 300.0) -> list[Cell]:
    """The ``cells`` boxes of a comb field in ``region`` (grayscale, ink dark).

    ``box_px`` is where the template puts the field's outer box inside ``region`` (x, y, w, h
    in pixels); the region should extend a millimetre or two around it. Each line is looked
    for within ±1.6 mm of its expected place; a line that is not found (faint print, a
    stroke over it) stays where the template says.
    """
    x, y, w, h = box_px
    search = max(2, round(_LINE_SEARCH_MM * dpi * _MM))
    dark = region < min(percentile_u8(region, 90) - 60.0, 170.0)
    band = dark[max(0, y + h // 4):min(region.shape[0], y + h - h // 4)]
    cols = band.mean(axis=0) if band.size else np.zeros(region.shape[1])
    strip = dark[:, max(0, x):min(region.shape[1], x + w)]
    rows = strip.mean(axis=1) if strip.size else np.zeros(region.shape[0])
    half = max(2, round(0.2 * dpi * _MM))  # half a printed line where none is found
    gap = max(2, round(0.2 * dpi * _MM))  # kept clear of a line's edge (its blur)
    top = _snap(rows, y, search) or (y - half, y + half)
    bottom = _snap(rows, y + h, search) or (y + h - half, y + h + half)
    step = w / cells
    lines = [_snap(cols, x + i * step, search)
             or (round(x + i * step) - half, round(x + i * step) + half)
             for i in range(cells + 1)]
    out: list[Cell] = []
    for i in range(cells):
        a, b = lines[i][1] + 1 + gap, lines[i + 1][0] - gap
        t, u = top[1] + 1 + gap, bottom[0] - gap
        a, t = max(a, 0), max(t, 0)
        b, u = max(b, a + 1), max(u, t + 1)
        inside = region[t:u, a:b]
        mask = ink_mask(inside, dpi=dpi)
        empty = int(mask.sum()) < _MIN_INK_MM2 * (dpi * _MM) ** 2
        if empty:
            mask = np.zeros_like(mask)
        out.append(Cell(i, (a, t, b - a, u - t), inside, mask, empty,
                        (not empty) and _two_glyphs(mask)))
    return out


@dataclass(frozen=True, slots=True)
class CellReading:
    """One box: its digit ("" when empty), the top probability, the runner-up's, P(reject)."""

    digit: str
    prob: float
    second: float
    reject: float
    empty: bool
    two_glyphs: bool


@dataclass(frozen=True, slots=True)
class DigitReading:
    """All boxes of a field, left to right."""

    cells: tuple[CellReading, ...]

    @property
    def text(self) -> str:
        return "".join(c.digit for c in self.cells)

    @property
    def min_prob(self) -> float:
        """The least sure box's top probability (1.0 when every box is empty)."""
        return min((c.prob for c in self.cells if not c.empty), default=1.0)

    @property
    def confidence(self) -> float:
        """Probability that every box is right, if boxes err independently."""
        return float(np.prod([c.prob for c in self.cells if not c.empty]))
