"""Scan artefacts, by level: what an office scanner does to a page between paper and file.

The reader is measured on these samples, so the artefacts are those a town hall's
multifunction printer produces, at four fixed levels (parameters in :data:`LEVELS`, documented
in ``docs/samples.md``): skew and offset from the feeder, sensor noise, optical blur, paper tint,
dust, faded ink, a page fed upside down, and JPEG compression when the file is saved. The page
always fills the frame at its own size in millimetres; when a skew would push printed fields
out of the frame, the page is reduced just enough to keep them (as a "fit to page" scan does),
so a sample never loses a field to cropping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["LEVELS", "Degradation", "degrade_page", "scan_dpi"]

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Degradation:
    """Parameters of one level. Angles in degrees, lengths in mm, sigmas in pixels."""

    dpis: tuple[int, ...] = (300,)
    rotation_deg: float = 0.0  # uniform in ±rotation_deg
    shift_mm: float = 0.0  # uniform in ±shift_mm on each axis
    noise_sigma: float = 0.0  # gaussian sensor noise
    blur_sigma: float = 0.0  # gaussian optical blur
    seals: bool = False  # red 印影 beside name fields (makes the page colour)
    tint: bool = False  # off-white paper colour (makes the page colour)
    speckles: int = 0  # dust dots on the page
    ink_contrast: tuple[float, float] = (1.0, 1.0)  # ink darkness kept, drawn in this range
    upside_down_p: float = 0.0  # probability that the page was fed turned by 180°
    jpeg_quality: int = 95  # when saved as JPEG (or inside a PDF)


LEVELS: dict[int, Degradation] = {
    0: Degradation(),
    1: Degradation(rotation_deg=1.0, shift_mm=2.0, noise_sigma=6.0, jpeg_quality=85),
    2: Degradation(dpis=(200, 300), rotation_deg=3.0, shift_mm=2.0, noise_sigma=12.0,
                   blur_sigma=0.6, seals=True, tint=True, jpeg_quality=60),
    3: Degradation(dpis=(200,), rotation_deg=8.0, shift_mm=3.0, noise_sigma=20.0, blur_sigma=1.0,
                   seals=True, tint=True, speckles=400, ink_contrast=(0.55, 0.75),
                   upside_down_p=0.2, jpeg_quality=40),
}
_FIT_MARGIN_MM = 1.5
_LID_WHITE = (250, 255)  # scanner lid seen around a skewed page


def scan_dpi(level: int, rng: np.random.Generator) -> int:
    """The resolution the page is scanned at for ``level``."""
    dpis = LEVELS[level].dpis
    return dpis[int(rng.integers(len(dpis)))] if len(dpis) > 1 else dpis[0]


def _paper_colour(rng: np.random.Generator) -> np.ndarray:
    # Recycled office paper: slightly warm (R > G > B), a few percent below white. BGR order.
    r = rng.uniform(240, 252)
    g = r - rng.uniform(2, 8)
    b = g - rng.uniform(3, 12)
    return np.array([b, g, r], dtype=np.float32)


def _geometry(keep: Iterable[Box], size_px: tuple[int, int], dpi: float, p: Degradation,
              rng: np.random.Generator) -> np.ndarray:
    """The 2x3 affine map of the feeder: skew about the centre, offset, reduction if needed."""
    w, h = size_px
    px = dpi / 25.4
    angle = float(rng.uniform(-p.rotation_deg, p.rotation_deg))
    want = rng.uniform(-p.shift_mm, p.shift_mm, size=2) * px
    centre = (w / 2.0, h / 2.0)
    corners = np.array([(x + dx, y + dy) for x, y, bw, bh in keep
                        for dx, dy in ((0, 0), (bw, 0), (0, bh), (bw, bh))],
                       dtype=np.float64) * px
    m = cv2.getRotationMatrix2D(centre, angle, 1.0)
    if len(corners):
        pts = corners @ m[:, :2].T + m[:, 2]
        margin = _FIT_MARGIN_MM * px
        span = pts.max(axis=0) - pts.min(axis=0)
        scale = min(1.0, (w - 2 * margin) / span[0], (h - 2 * margin) / span[1])
        m = cv2.getRotationMatrix2D(centre, angle, scale)
        pts = corners @ m[:, :2].T + m[:, 2]
        lo = margin - pts.min(axis=0)  # the offsets that keep every kept box inside
        hi = np.array([w, h]) - margin - pts.max(axis=0)
        want = np.clip(want, np.minimum(lo, hi), np.maximum(lo, hi))
    m[:, 2] += want
    return m


def degrade_page(page: np.ndarray, dpi: float, level: int, rng: np.random.Generator, *,
                 keep: Iterable[Box] = ()) -> np.ndarray:
    """Apply ``level``'s artefacts to a clean page (gray ``HxW`` or BGR ``HxWx3``, uint8).

    ``keep`` lists boxes in mm (fields, their labels, the QR code) that must stay inside the
    frame. The result is uint8, colour when the level tints the paper or the page has colour.
    """
    p = LEVELS[level]
    if level == 0:
        return page
    img = page.astype(np.float32)
    lo, hi = p.ink_contrast
    if hi < 1.0:
        contrast = float(rng.uniform(lo, hi))
        img = 255.0 - (255.0 - img) * contrast
    if p.tint:
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        img *= _paper_colour(rng) / 255.0
    h, w = img.shape[:2]
    m = _geometry(keep, (w, h), dpi, p, rng)
    lid = float(rng.uniform(*_LID_WHITE))
    border = (lid, lid, lid) if img.ndim == 3 else lid
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=border)
    if p.blur_sigma:
        img = cv2.GaussianBlur(img, (0, 0), p.blur_sigma)
    if p.noise_sigma:
        noise = rng.standard_normal((h, w), dtype=np.float32) * np.float32(p.noise_sigma)
        img += noise[:, :, None] if img.ndim == 3 else noise
    out = np.clip(img, 0, 255).astype(np.uint8)
    if p.speckles:
        n = int(rng.integers(p.speckles // 2, p.speckles + 1))
        xs = rng.integers(0, w, n)
        ys = rng.integers(0, h, n)
        radii = rng.integers(1, max(2, round(dpi / 100)) + 1, n)
        shades = rng.integers(0, 90, n)
        for x, y, r, s in zip(xs, ys, radii, shades, strict=True):
            colour = (int(s),) * 3 if out.ndim == 3 else int(s)
            cv2.circle(out, (int(x), int(y)), int(r), colour, -1, lineType=cv2.LINE_AA)
    if p.upside_down_p and rng.random() < p.upside_down_p:
        out = np.ascontiguousarray(out[::-1, ::-1])
    return out
