"""Cut a field out of a registered page and leave only what was written in it.

The form's own printing (box edges, comb separators) is erased using the blank form;
specks of dust and noise far from the writing are painted out, so that neither recogniser
reads them as full stops; the crop is then cut tight around the writing with a margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr._stats import percentile_u8
from ocr.preprocess import crop_needs_cleaning, denoise_crop, estimate_noise

__all__ = ["Crop", "compact_comb", "crossing_lines", "cut_field", "inked_cells"]

_MIN_AREA = 10  # px at 300 dpi: smaller blobs are never writing
_BIG_AREA = 50  # px at 300 dpi: a blob at least this big is writing, not dust
_LINE_MAX = 10  # px at 300 dpi (0.85 mm): a crossing line thicker than this is left alone


@dataclass(slots=True)
class Crop:
    """A cleaned field crop: black ink on white, tight around the writing, padded."""

    image: np.ndarray
    has_ink: bool
    noise: float
    # How long the writing is, in line heights, not counting wide gaps (spaces between words);
    # None for comb fields, whose measure is the number of cells written in.
    text_em: float | None = None
    cells: int | None = None


def _writing(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Connected components of the ink that belong to the writing.

    Small blobs are kept only near big ones (dakuten, commas, the dot of a date); a small
    blob on its own is dust.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA] if n > 1 else np.zeros(0, int)
    big = [i for i in range(1, n) if areas[i - 1] >= _BIG_AREA]
    if not big:
        big = [i for i in range(1, n) if areas[i - 1] >= 2 * _MIN_AREA]
    if not big:
        return labels, stats, []
    heights = [int(stats[i, cv2.CC_STAT_HEIGHT]) for i in big]
    near = max(12, int(np.median(heights) * 0.6))
    boxes = np.array([[stats[i, 0] - near, stats[i, 1] - near,
                       stats[i, 0] + stats[i, 2] + near, stats[i, 1] + stats[i, 3] + near]
                      for i in big])
    keep = list(big)
    bigset = set(big)
    for i in range(1, n):
        if i in bigset or areas[i - 1] < _MIN_AREA:
            continue
        cx = stats[i, 0] + stats[i, 2] / 2
        cy = stats[i, 1] + stats[i, 3] / 2
        inside = ((boxes[:, 0] <= cx) & (cx <= boxes[:, 2]) & (boxes[:, 1] <= cy)
                  & (cy <= boxes[:, 3]))
        if inside.any():
            keep.append(i)
    return labels, stats, sorted(keep)


def cut_field(sub: np.ndarray, printed: np.ndarray, *, comb: int = 0,
              denoise: str = "auto", denoise_above: float = 9.0) -> Crop:
    """Clean ``sub`` (a copy of the field's box on the page); ``printed`` is the blank's ink."""
    if printed.any():
        # Erase the form's own printing with a margin for the registration error.
        sub[cv2.dilate(printed.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0] = 255
    noise = estimate_noise(sub)
    if denoise == "always" or (denoise == "auto"
                               and crop_needs_cleaning(noise, threshold=denoise_above)):
        sub = denoise_crop(sub)
    bg = percentile_u8(sub, 90)
    # Relative to the paper, never a fixed grey: faded print on a bright scan can be lighter
    # than 190, and a fixed cap once cut the last, faintest character off a name.
    ink = (sub < bg - max(40.0, 3.5 * noise)).astype(np.uint8)
    across = crossing_lines(ink)
    if across is not None:  # a fold or a stray rule across the box is not writing
        ink[across] = 0
        sub[across] = 255
    labels, stats, keep = _writing(ink)
    if not keep:
        return Crop(sub, False, noise)
    writing = np.isin(labels, keep)
    sub[(ink > 0) & ~writing] = 255  # dust and specks painted out
    xs = [stats[i, 0] for i in keep] + [stats[i, 0] + stats[i, 2] for i in keep]
    ys = [stats[i, 1] for i in keep] + [stats[i, 1] + stats[i, 3] for i in keep]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad = max(8, (y1 - y0) // 3)
    text_em = cells = None
    if comb > 1:
        tight = compact_comb(sub, stats, keep, comb, (y0, y1), gap=pad)
        cells = inked_cells(sub.shape[1], stats, keep, comb)
    else:
        tight = sub[y0:y1, x0:x1]
        text_em = _extent_em(stats, keep)
    tight = cv2.copyMakeBorder(tight, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    return Crop(tight, True, noise, text_em, cells)


def crossing_lines(ink: np.ndarray) -> np.ndarray | None:
    """Pixels of thin straight lines that run across most of a crop: not writing.

    The crease of a letter folded in three, or a box edge left by registration a few
    pixels off, crosses a field from side to side; read as writing it makes Tesseract read
    a row of dashes after the value and the crop's length check fail. A horizontal run of
    ink longer than a third of the box (and than any character's stroke) at most
    ``_LINE_MAX`` pixels thick is such a line; it is taken out, leaving a thin white slice
    in the characters it crossed, which both recognisers read through. None when there is none.
    """
    w = ink.shape[1]
    length = max(120, w // 3)
    if w < length + 1:
        return None
    long_runs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    if not long_runs.any():
        return None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(long_runs, connectivity=8)
    thin = [i for i in range(1, n) if stats[i, cv2.CC_STAT_HEIGHT] <= _LINE_MAX]
    if not thin:
        return None
    return cv2.dilate(np.isin(labels, thin).astype(np.uint8), np.ones((3, 1), np.uint8)) > 0


def _line_band(stats: np.ndarray, keep: list[int]) -> tuple[int, int] | None:
    """Top and bottom of the line the characters stand in, in pixels; None: no character.

    The extent of everything kept is too tall when a speck of dust near a character (kept
    as a possible dakuten or comma) or a leftover piece of the box's rule lies above or
    below the line: on a noisy page that doubled the height, halved the measured length
    in characters and flagged right readings as "longer than the writing". Characters are
    the blobs at least two fifths as tall as the tallest; specks and rules are not, nor is
    the box's upright edge (five times as tall as wide) left by a registration off by a hair.
    """
    heights = {i: int(stats[i, cv2.CC_STAT_HEIGHT]) for i in keep
               if stats[i, cv2.CC_STAT_AREA] >= _BIG_AREA
               and stats[i, cv2.CC_STAT_WIDTH] >= 0.2 * stats[i, cv2.CC_STAT_HEIGHT]}
    if not heights:
        return None
    tall = [i for i, h in heights.items() if h >= 0.4 * max(heights.values())]
    top = min(int(stats[i, cv2.CC_STAT_TOP]) for i in tall)
    bottom = max(int(stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT]) for i in tall)
    return top, bottom


def _extent_em(stats: np.ndarray, keep: list[int]) -> float:
    """Width of the writing in line heights, wide gaps (word spaces) left out.

    Japanese characters are about one line height wide, so this says roughly how many
    characters were written; a reading much shorter than that has lost some. Only what
    lies in the line's band counts (:func:`_line_band`): a rule's remnant under the
    writing is no character.
    """
    band = _line_band(stats, keep)
    if band is None:
        return 0.0
    top, bottom = band  # the characters that set the band lie in it: spans is never empty
    line_h = bottom - top
    spans = sorted((int(stats[i, 0]), int(stats[i, 0] + stats[i, 2])) for i in keep
                   if top <= stats[i, 1] + stats[i, 3] / 2 <= bottom)
    total, (a, b) = 0, spans[0]
    for lo, hi in spans[1:]:
        if lo - b > 0.6 * line_h:  # a space between words: not writing
            total += b - a
            a, b = lo, hi
        else:
            b = max(b, hi)
    total += b - a
    return total / line_h


def inked_cells(width: int, stats: np.ndarray, keep: list[int], cells: int) -> int:
    """How many cells of a comb field hold writing."""
    cell_w = width / cells
    return len({min(cells - 1, int((stats[i, 0] + stats[i, 2] / 2) // cell_w)) for i in keep})


def compact_comb(sub: np.ndarray, stats: np.ndarray, keep: list[int], cells: int,
                 band: tuple[int, int], *, gap: int) -> np.ndarray:
    """Close up a comb field: one glyph per cell, set side by side like ordinary text.

    Digits written one per box sit far apart; both recognisers read such lines badly (they
    drop or invent characters in the gaps), so each cell's ink is cut out and the cells are
    joined with a normal letter gap. Empty cells are left out.
    """
    y0, y1 = band
    cell_w = sub.shape[1] / cells
    pieces: list[np.ndarray] = []
    for c in range(cells):
        lo, hi = round(c * cell_w), round((c + 1) * cell_w)
        comps = [i for i in keep if lo <= stats[i, 0] + stats[i, 2] / 2 < hi]
        if not comps:
            continue
        a = min(stats[i, 0] for i in comps)
        b = max(stats[i, 0] + stats[i, 2] for i in comps)
        pieces.append(sub[y0:y1, a:b])
        pieces.append(np.full((y1 - y0, gap), 255, np.uint8))
    if not pieces:
        return sub[y0:y1]
    return np.hstack(pieces[:-1])
