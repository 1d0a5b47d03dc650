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
from ocr.preprocess import crop_needs_cleaning, denoise_crop, estimate_noise, even_light

__all__ = ["Crop", "CrossingLine", "compact_comb", "crossing_lines", "cut_field", "inked_cells"]

_MIN_AREA = 10  # px at 300 dpi: smaller blobs are never writing
_BIG_AREA = 50  # px at 300 dpi: a blob at least this big is writing, not dust
_LINE_MAX = 10  # px at 300 dpi (0.85 mm): how far a line strays from straight; its tallest piece
# px at 300 dpi (1.35 mm): a fold with its shadow is thicker than a rule but no thicker
_FOLD_MAX = 16
_RUN = 60  # px at 300 dpi (5 mm): a straight run of ink this long is no stroke of a value
_GREYER = 40  # grey levels: a crease this much lighter than the print is a shadow, not ink
_REACH = 6  # px at 300 dpi: how far beside its path a line's shadow and frayed edge reach
_STAND_MARGIN = 4  # px at 300 dpi: beside a character's strokes, still the character
_LINE_SPAN = 120  # px at 300 dpi (10 mm): the least a crossing line spans, pieces together


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
    # The same writing with the line that crosses it treated the other way (left in where
    # ``image`` has it taken out, or out where it is left in): None when no line touches a
    # character. A reading that changes between the two cannot be trusted (see fields).
    other: np.ndarray | None = None
    # The same writing with the line painted over from what lies above and below it
    # (cv2.inpaint): a stroke that crosses the line is carried over it, the line between
    # strokes becomes paper. Neither view alone, but a third reading to choose the value
    # from when the two views disagree (fields). None when ``other`` is None.
    mended: np.ndarray | None = None


@dataclass(slots=True)
class CrossingLine:
    """What to take out of a crop for a line across it, in two views of the characters."""

    erase: np.ndarray  # the crop's view
    other: np.ndarray | None  # the other view; None when the line touches no character


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
    sub = even_light(sub)
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
    across = crossing_lines(ink, sub)
    other = mended = None
    if across is not None:  # a fold or a stray rule across the box is not writing
        if across.other is not None and comb <= 1:
            other = sub.copy()
            other[across.other] = 255
            mended = cv2.inpaint(sub, (across.erase | across.other).astype(np.uint8), 3,
                                 cv2.INPAINT_TELEA)
        ink[across.erase] = 0
        sub[across.erase] = 255
    labels, stats, keep = _writing(ink)
    if not keep:
        return Crop(sub, False, noise)
    writing = np.isin(labels, keep)
    dust = (ink > 0) & ~writing
    sub[dust] = 255  # dust and specks painted out
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
        if other is not None and mended is not None:
            other[dust] = 255
            mended[dust] = 255
            other, mended = (cv2.copyMakeBorder(v[y0:y1, x0:x1], pad, pad, pad, pad,
                                                cv2.BORDER_CONSTANT, value=255)
                             for v in (other, mended))
    tight = cv2.copyMakeBorder(tight, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    return Crop(tight, True, noise, text_em, cells, other, mended)


def crossing_lines(ink: np.ndarray, gray: np.ndarray) -> CrossingLine | None:
    """Pixels of thin straight lines that run across most of a crop: not writing.

    The crease of a letter folded in three, or a box edge left by registration a few
    pixels off, crosses a field from side to side; read as writing it makes Tesseract read
    a row of dashes after the value, keeps the crop as wide as the box (RapidOCR then reads
    a name at a third of its size and drops characters) and fails the length check.

    A crease is seldom level with the box nor drawn in one piece: a tilt of half a degree
    lifts it 15 px across a 170 mm box, and where the fold's shadow is faint it breaks into
    dashes. So lines are found from their pieces: runs of ink longer than any stroke of a
    character (``_RUN`` px), bridged over short gaps, that together span more than a third
    of the box (and ``_LINE_SPAN``), lie on one straight path and are at most ``_FOLD_MAX``
    thick with the fold's shadow. The path is followed from edge to edge; what is done on
    and beside it is told below. None when there is no such line.
    """
    h, w = ink.shape
    span = max(_LINE_SPAN, w // 3)
    if w < span + 1:
        return None
    runs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, _RUN), np.uint8))
    if not runs.any():
        return None
    bridged = cv2.morphologyEx(runs, cv2.MORPH_CLOSE, np.ones((1, _RUN), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bridged, connectivity=8)
    out = np.zeros(ink.shape, bool)
    near = np.zeros(ink.shape, bool)
    cols = np.arange(w)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_WIDTH] < span:
            continue
        ys, xs = np.nonzero((labels == i) & (runs > 0))
        covered = np.unique(xs).size
        thick = ys.size / max(covered, 1)
        if thick > _FOLD_MAX or covered < span // 2:
            continue
        slope, icpt = np.polyfit(xs, ys, 1)
        if np.abs(ys - (slope * xs + icpt)).max() > _LINE_MAX:  # not one straight path
            continue
        half = thick / 2 + 1.5
        dist = np.abs(np.arange(h)[:, None] - (slope * cols + icpt)[None, :])
        out |= dist <= half
        near |= dist <= half + _REACH
    if not out.any():
        return None
    # Off the characters the line goes — what keeps the crop as narrow as the writing —
    # with whatever in its reach is lighter than print (its shadow, widening on a noisy
    # page). Of a crease greyer than print, what is as dark as print stays (a ー lying on
    # it); a line as dark as print goes whole, with the flat blobs along it longer than a
    # character is wide.
    standing = _standing_columns(ink, near)
    alone = (runs > 0) & ~standing[None, :]  # the line where no character touches it
    ink_grey = float(np.percentile(gray[ink > 0], 5))
    printlike = (gray <= ink_grey + _GREYER) & (ink > 0)
    line_core = float(np.percentile(gray[alone] if alone.any() else gray[runs > 0], 10))
    shadow = line_core > ink_grey + _GREYER  # even its darkest core is greyer than print
    band = out
    if shadow:
        out = (band | near) & (ink > 0) & ~printlike
    else:
        out = band | (near & (ink > 0) & ~printlike)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(ink & ~out, connectivity=8)
        for i in range(1, n):
            x, y, cw, ch = (int(v) for v in stats[i, :4])
            if ch > _LINE_MAX or cw < _RUN or standing[x:x + cw].any():
                continue
            win = np.s_[y:y + ch, x:x + cw]
            blob = labels[win] == i
            if near[win][blob].all():
                out[win] |= blob
    # On a character there is no safe choice: taken out, the line cuts it (ユ with its
    # foot on a fold read コ, シ with its dots on it ン, a faded ラ フ); left in, it adds a
    # stroke (ノ under a line read フ). The crop takes out a crease's grey and leaves a
    # black rule in; the other view does the opposite, and a reading that differs between
    # the two is flagged (fields.FieldReader).
    off = out & ~standing[None, :]
    on = band & standing[None, :] & (ink > 0)
    if shadow:
        on &= ~printlike
    if not on.any():
        return CrossingLine(off, None)
    return CrossingLine(off | on, off) if shadow else CrossingLine(off, off | on)


def _standing_columns(ink: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Columns where a character stands on a line: ink that reaches out of the line's reach."""
    _, lab, st, _ = cv2.connectedComponentsWithStats(ink & ~near, connectivity=8)
    edge = cv2.dilate(near.astype(np.uint8), np.ones((3, 1), np.uint8)).astype(bool) & ~near
    strokes = [i for i in np.unique(lab[edge]) if i and st[i, cv2.CC_STAT_AREA] >= _BIG_AREA]
    if not strokes:
        return np.zeros(ink.shape[1], bool)
    cols = np.isin(lab, strokes).any(axis=0).astype(np.uint8)[None, :]
    return cv2.dilate(cols, np.ones((1, 2 * _STAND_MARGIN + 1), np.uint8))[0].astype(bool)


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
