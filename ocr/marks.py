"""Marks (checkboxes, circled options): ink the blank form lacks, measured inside each box.

Marks are never OCR'd. What counts is ink added to the blank in the box and a ring around
it, in strokes long enough to be a tick, cross, fill or circle; and — because a letter
folded in three brings its creases and their shadows across rows of boxes — not a straight
line or band that runs on past the box on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr._stats import percentile_u8
from ocr.calibration import MarkRule
from ocr.preprocess import EVEN_LIGHT_SPREAD

__all__ = ["MARK_BAND", "MARK_DARK", "box_rect", "mark_confidence", "mark_ratio", "mm_px"]

Box = tuple[float, float, float, float]

# Grey levels below the paper from which a pixel counts as a mark's ink (after smoothing).
MARK_DARK = 40.0
MARK_BAND = 11  # px masked around the blank's printing (its edges spread on blurred scans)
# Crossing lines and bands (creases, shadows): looked for this far around a mark's ring, up
# to this close to it (a tick may overshoot its box by a millimetre or so), dark over this
# share of a row on both sides; their two ends at most this far apart across the box (a
# skewed crease); a box this much covered by one is flagged, not decided.
CROSS_REACH_MM = 4.5
CROSS_GAP_MM = 1.0
CROSS_FILL = 0.6
CROSS_SLOPE_MM = 1.5
MARK_OBSCURED = 0.25



def mm_px(v: float, dpi: float) -> int:
    """Millimetres to pixels at ``dpi``."""
    return round(v / 25.4 * dpi)


def box_rect(box: Box, dpi: float, inset_mm: float,
             shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A box in mm, shrunk by ``inset_mm``, as (x, y, w, h) pixels clipped to ``shape``."""
    x, y, w, h = box
    x0, y0 = mm_px(x + inset_mm, dpi), mm_px(y + inset_mm, dpi)
    x1, y1 = mm_px(x + w - inset_mm, dpi), mm_px(y + h - inset_mm, dpi)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(shape[1], max(x1, x0 + 1)), min(shape[0], max(y1, y0 + 1))
    return x0, y0, x1 - x0, y1 - y0


def mark_ratio(box: Box, page: np.ndarray, blank: np.ndarray, dpi: float,
           ring_mm: float = 1.4) -> tuple[float, bool]:
    """Share of the box (and a ring just around it) covered by strokes the blank lacks.

    Only blobs that span a good part of the box count: a tick, a cross, a fill or a circle
    does; a speck of dust or toner does not, however dark it is. A circled printed word
    is measured with a wider ring (``ring_mm``): the ○ runs around the word, not in it.
    A straight line or shadow band that crosses the box *and its surroundings* (the
    crease of a letter folded in three, a ruler's shadow) is no mark: it is found on both
    sides of the box and left out. Returns the share and whether such a band hid so
    much of the box that an empty box and a mark cannot be told apart.
    """
    x, y, w, h = box
    r = ring_mm
    dy, dx = _local_offset(box, r, page, blank, dpi)
    rect = box_rect((x - r, y - r, w + 2 * r, h + 2 * r), dpi, 0.0, page.shape)
    rx, ry, rw, rh = rect
    sx, sy = min(max(rx + dx, 0), page.shape[1] - rw), min(max(ry + dy, 0), page.shape[0] - rh)
    # Smoothed first: on a noisy scan a faint pen circle falls apart into specks that
    # each span too little to count (measured on handwritten marks, bench/calibrate.py).
    sub = cv2.GaussianBlur(page[sy:sy + rh, sx:sx + rw], (0, 0), 1.0)
    # Ink is what is darker than this scan's paper, without a fixed grey cap: on a faded
    # scan a light pen circle stays above any cap (measured: 0.014 ink share with a cap
    # at grey 200, 0.048 without, against ≤ 0.011 for empty boxes).
    # One level for the ring and its surroundings, or, where a fold's shadow or a lamp
    # lights them unevenly, the paper's own level place by place.
    near = _surroundings(box, r, page, blank, dpi)
    paper_near: float | np.ndarray = percentile_u8(sub, 90)
    paper_ring: float | np.ndarray = paper_near
    level = _paper_around(near)
    ox, oy = sx - near.x, sy - near.y
    if (level is not None and ox >= 0 and oy >= 0 and oy + rh <= level.shape[0]
            and ox + rw <= level.shape[1]):
        paper_near, paper_ring = level, level[oy:oy + rh, ox:ox + rw]
    dark = sub < paper_ring - MARK_DARK
    printed = blank[ry:ry + rh, rx:rx + rw] < 200
    # A wide band around the printed box: on blurred, noisy scans its edges spread, and a
    # fragment of box edge spans the box like a stroke (11 px measured best, see docs).
    mask = cv2.dilate(printed.astype(np.uint8), np.ones((MARK_BAND,) * 2, np.uint8)) == 0
    band = _crossing_bands(box, r, (sx - rx, sy - ry), near, paper_near, dpi)
    inner = box_rect((x, y, w, h), dpi, 0.0, page.shape)
    obscured = False
    if band is not None:
        band = band[:rh, :rw]
        ix, iy = inner[0] - rx, inner[1] - ry
        box_band = band[iy:iy + inner[3], ix:ix + inner[2]]
        obscured = box_band.size > 0 and float(box_band.mean()) >= MARK_OBSCURED
        mask &= ~band
    ink = (dark & mask).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    span = 0.3 * mm_px(min(w, h), dpi)
    strokes = [i for i in range(1, n)
               if max(stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]) >= span]
    covered = int(stats[strokes, cv2.CC_STAT_AREA].sum()) if strokes else 0
    return covered / max(1, int(mask.sum())), obscured

@dataclass(frozen=True, slots=True)
class _Surroundings:
    """A box's ring and ``CROSS_REACH_MM`` around it, read once for both uses.

    ``area``: the scan, smoothed; ``free``: where the blank has no printing (its edges
    spread by ``MARK_BAND``); ``x``, ``y``: the origin on the page; ``reach``: how wide
    the strips beside the ring are, in pixels.
    """

    x: int
    y: int
    area: np.ndarray
    free: np.ndarray
    reach: int


def _surroundings(box: Box, ring: float, page: np.ndarray, blank: np.ndarray,
                  dpi: float) -> _Surroundings:
    x, y, w, h = box
    out = CROSS_REACH_MM
    bx, by, bw, bh = box_rect((x - ring - out, y - ring - out, w + 2 * (ring + out),
                               h + 2 * (ring + out)), dpi, 0.0, page.shape)
    area = cv2.GaussianBlur(page[by:by + bh, bx:bx + bw], (0, 0), 1.0)
    free = cv2.dilate((blank[by:by + bh, bx:bx + bw] < 200).astype(np.uint8),
                      np.ones((MARK_BAND,) * 2, np.uint8)) == 0
    return _Surroundings(bx, by, area, free, mm_px(out - CROSS_GAP_MM, dpi))


def _paper_around(near: _Surroundings) -> np.ndarray | None:
    """The paper's brightness over a box's surroundings, row by row and column by column.

    Under the shadow beside a fold half a box can lie 30-60 grey levels darker than the
    rest, and against one paper level for the whole ring that half was "ink" that spanned
    the box: an empty box read as ticked. The paper's level is taken from the paper
    *around* the box (rows from the strips left and right of it, columns from those above
    and below, the blank's printing left out), never from inside it, where a filled box
    must stay dark. None when the paper around is evenly lit (the level then is one number).
    """
    area, free, reach = near.area.astype(np.float32), near.free, near.reach
    bh, bw = area.shape
    if bw < 2 * reach + 4 or bh < 2 * reach + 4:
        return None
    rows = _level(np.hstack([area[:, :reach], area[:, -reach:]]),
                  np.hstack([free[:, :reach], free[:, -reach:]]))
    cols = _level(np.vstack([area[:reach], area[-reach:]]).T,
                  np.vstack([free[:reach], free[-reach:]]).T)
    if rows is None or cols is None or max(np.ptp(rows), np.ptp(cols)) <= EVEN_LIGHT_SPREAD:
        return None
    return np.minimum(rows[:, None], cols[None, :])


def _level(strips: np.ndarray, free: np.ndarray) -> np.ndarray | None:
    """Per row of ``strips``: the paper's grey, smoothed.

    The 90th percentile of its free pixels, as for the one level over the ring.
    """
    count = free.sum(axis=1)
    seen = count >= 4
    if seen.sum() < 4:
        return None
    # sorted with the printing first (as -1): a row's free pixels are its last ``count``
    ranked = np.sort(np.where(free, strips, -1.0), axis=1)
    at = strips.shape[1] - count + np.floor(0.9 * (count - 1)).astype(int)
    level = ranked[np.arange(strips.shape[0]), np.clip(at, 0, strips.shape[1] - 1)]
    idx = np.arange(level.size)
    level = np.interp(idx, idx[seen], level[seen]).astype(np.float32)
    return cv2.blur(level[None, :], (5, 1))[0]


def _crossing_bands(box: Box, ring: float, shift: tuple[int, int], near: _Surroundings,
                    paper: float | np.ndarray, dpi: float) -> np.ndarray | None:
    """Pixels of the ring rectangle under a line or band that runs on past the box.

    A mark stays inside its box (and the ring); a crease or a shadow runs across the page.
    So the surroundings are looked at on both sides — left and right of the box for a
    horizontal band, above and below for a vertical one — and a band dark on both
    sides, outside the blank's printing, is extended across the box along the straight
    line through its two ends. None when nothing crosses.
    """
    _, _, w, h = box
    out = CROSS_REACH_MM
    bh, bw = near.area.shape
    printed = ~near.free
    dark = (near.area < paper - MARK_DARK) & near.free
    reach = near.reach
    result = np.zeros((bh, bw), dtype=bool)
    found = False
    for axis in (0, 1):  # 0: horizontal bands (rows), 1: vertical bands (columns)
        d, free = (dark, ~printed) if axis == 0 else (dark.T, (~printed).T)
        if d.shape[1] < 2 * reach + 4:
            continue
        runs, unknown = [], []
        for sl in (np.s_[:, :reach], np.s_[:, -reach:]):
            n_free = free[sl].sum(axis=1)
            seen = n_free >= reach // 3  # a caption beside the box hides that side: unknown
            frac = np.where(seen, d[sl].sum(axis=1) / np.maximum(n_free, 1), 0.0)
            runs.append(_runs(frac >= CROSS_FILL))
            unknown.append(~seen)
        pairs = [(a, b) for a in runs[0] for b in runs[1]
                 if abs((a[0] + a[1]) - (b[0] + b[1])) / 2 <= mm_px(CROSS_SLOPE_MM, dpi)]
        # a band seen on one side runs straight on where the other side cannot be seen
        pairs += [(a, a) for a in runs[0] if unknown[1][a[0]:a[1] + 1].mean() > 0.5]
        pairs += [(b, b) for b in runs[1] if unknown[0][b[0]:b[1] + 1].mean() > 0.5]
        for (a0, a1), (b0, b1) in pairs:
            cols = np.arange(d.shape[1])
            t = (cols - reach / 2) / max(1, d.shape[1] - reach)
            lo = a0 + (b0 - a0) * t - 2
            hi = a1 + (b1 - a1) * t + 2
            rows = np.arange(d.shape[0])[:, None]
            hit = (rows >= lo[None, :]) & (rows <= hi[None, :])
            result |= hit if axis == 0 else hit.T
            found = True
    if not found:
        return None
    ox, oy = mm_px(out, dpi) + shift[0], mm_px(out, dpi) + shift[1]
    rh, rw = mm_px(h + 2 * ring, dpi) + 1, mm_px(w + 2 * ring, dpi) + 1
    return result[max(oy, 0):max(oy, 0) + rh, max(ox, 0):max(ox, 0) + rw]

def _local_offset(box: Box, ring: float, page: np.ndarray, blank: np.ndarray,
              dpi: float) -> tuple[int, int]:
    """Where the printed box really is on the scan, relative to the template (dy, dx px).

    A page registered a millimetre off at one spot (heavy skew, a 180° turn) would show
    its own box edges as strokes in an empty box and hide the mark beside them
    (measured: ink shares of 0.1-0.2 in empty boxes on such pages): the blank's printing
    is matched against the scan's dark pixels within ±1.5 mm.
    """
    reach = mm_px(1.5, dpi)
    x, y, w, h = box
    rx, ry, rw, rh = box_rect((x - ring, y - ring, w + 2 * ring, h + 2 * ring), dpi, 0.0,
                           page.shape)
    if ry < reach or rx < reach or ry + rh + reach > page.shape[0] \
            or rx + rw + reach > page.shape[1]:
        return 0, 0
    printed = (blank[ry:ry + rh, rx:rx + rw] < 200).astype(np.float32)
    if printed.sum() < 10:
        return 0, 0
    area = cv2.GaussianBlur(page[ry - reach:ry + rh + reach, rx - reach:rx + rw + reach],
                            (0, 0), 1.0)
    dark = (area < min(percentile_u8(area, 90) - 50.0, 180.0)).astype(np.float32)
    score = cv2.matchTemplate(dark, printed, cv2.TM_CCORR)
    iy, ix = np.unravel_index(int(np.argmax(score)), score.shape)
    if score[iy, ix] <= score[reach, reach] * 1.05:  # not clearly better: trust registration
        return 0, 0
    return int(iy) - reach, int(ix) - reach


def mark_confidence(ratio: float, th: MarkRule) -> float:
    """0.9 and up for a clear mark, 0.9-1 for a clear empty box, 0.5 in between."""
    if ratio >= th.on:
        return min(1.0, 0.9 + (ratio - th.on))
    if ratio <= th.off:
        return 1.0 - ratio / max(th.off, 1e-6) * 0.1
    return 0.5


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True in a 1-D boolean array."""
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]
