"""What happens to world two's pages between the printer and the scan: a letter's life.

The form was printed, filled in, folded in three to fit an envelope (two creases across the
page, each a thin dark line with a shadow on one side and a lighter strip on the other), then
scanned on a flatbed whose lamp lights the page unevenly. Levels 0-3 add scanner artefacts
on top (skew, noise, blur, JPEG), comparable to world one's levels 0-2 and milder than its
level 3 (which turns pages 8° and drowns them in dust); the fold and the light are there at
every level, because every letter is folded.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["W2_LEVELS", "PaperLevel", "age_page"]


@dataclass(frozen=True)
class PaperLevel:
    """One level. Shadow depth and light falloff in grey levels; angles in degrees."""

    dpis: tuple[int, ...] = (300,)
    crease_depth: tuple[float, float] = (25.0, 45.0)  # darkest of the shadow beside a crease
    shadow_mm: tuple[float, float] = (1.5, 4.0)  # how far the shadow reaches
    light_falloff: float = 0.06  # share of brightness lost at the far side of the lamp
    skew_deg: float = 0.3
    noise_sigma: float = 3.0
    blur_sigma: float = 0.0
    jpeg_quality: int = 90
    ink: tuple[float, float] = (1.0, 1.0)  # ink darkness kept


W2_LEVELS: dict[int, PaperLevel] = {
    0: PaperLevel(),
    1: PaperLevel(crease_depth=(30, 55), light_falloff=0.12, skew_deg=1.0, noise_sigma=6.0,
                  jpeg_quality=80),
    2: PaperLevel(dpis=(200, 300), crease_depth=(40, 70), shadow_mm=(2.0, 6.0),
                  light_falloff=0.2, skew_deg=2.0, noise_sigma=10.0, blur_sigma=0.5,
                  jpeg_quality=60),
    3: PaperLevel(dpis=(200,), crease_depth=(50, 85), shadow_mm=(3.0, 8.0), light_falloff=0.28,
                  skew_deg=3.0, noise_sigma=14.0, blur_sigma=0.8, jpeg_quality=50,
                  ink=(0.7, 0.9)),
}


def _creases(h: int, w: int, dpi: float, p: PaperLevel, rng: np.random.Generator
             ) -> np.ndarray:
    """Darkening (grey levels to subtract, may be negative for the lit side) of two folds.

    Computed only in a band around each crease: a shadow a few millimetres deep has faded
    to nothing 20 mm away.
    """
    k = dpi / 25.4
    out = np.zeros((h, w), np.float32)
    xx = np.arange(w, dtype=np.float32)[None, :]
    for third in (1, 2):
        y0 = (297.0 * third / 3 + rng.uniform(-3.0, 3.0)) * k
        slope = np.tan(np.radians(rng.uniform(-0.6, 0.6)))
        side = 1.0 if rng.random() < 0.5 else -1.0  # which side the shadow falls on
        depth = rng.uniform(*p.crease_depth)
        reach = rng.uniform(*p.shadow_mm) * k
        phase, waves = rng.uniform(0, 6), rng.uniform(1, 3)
        half = int(20 * k + abs(slope) * w)
        top, bottom = max(0, int(y0) - half), min(h, int(y0) + half)
        yy = np.arange(top, bottom, dtype=np.float32)[:, None]
        d = yy - (y0 + (xx - w / 2) * slope)  # signed distance (px) below the crease
        sd = side * d
        shadow = depth * np.exp(-np.clip(sd, 0, None) / (reach / 2.5)) * (sd >= 0)
        lit = -0.25 * depth * np.exp(-np.clip(-sd, 0, None) / (reach / 3)) * (sd < 0)
        line = (0.8 * depth + 30) * np.exp(-(d / max(1.0, 0.25 * k)) ** 2)
        along = 0.75 + 0.25 * np.sin(xx / w * np.pi * waves + phase)
        out[top:bottom] += (shadow + lit + line) * along
    return out


def _light(h: int, w: int, p: PaperLevel, rng: np.random.Generator) -> np.ndarray:
    """Brightness factor of an uneven lamp: a tilted plane and a soft vignette."""
    yy = np.arange(h, dtype=np.float32)[:, None] / h - 0.5
    xx = np.arange(w, dtype=np.float32)[None, :] / w - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (xx * np.cos(angle) + yy * np.sin(angle)) + 0.5
    r2 = (xx ** 2 + yy ** 2) * 2
    return (1.0 - p.light_falloff * (0.7 * ramp + 0.3 * r2)).astype(np.float32)


def age_page(page: np.ndarray, dpi: float, level: int, rng: np.random.Generator) -> np.ndarray:
    """Fold, light and scan a clean grayscale page (uint8) at ``level``; returns uint8 gray."""
    p = W2_LEVELS[level]
    img = page.astype(np.float32)
    lo, hi = p.ink
    if hi < 1.0:
        img = 255.0 - (255.0 - img) * float(rng.uniform(lo, hi))
    h, w = img.shape
    img = img - _creases(h, w, dpi, p, rng)
    img = img * _light(h, w, p, rng)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-p.skew_deg, p.skew_deg)),
                                1.0)
    m[:, 2] += rng.uniform(-1.5, 1.5, 2) * dpi / 25.4
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=float(rng.uniform(235, 250)))
    if p.blur_sigma:
        img = cv2.GaussianBlur(img, (0, 0), p.blur_sigma)
    if p.noise_sigma:
        img += rng.standard_normal((h, w), dtype=np.float32) * np.float32(p.noise_sigma)
    return np.clip(img, 0, 255).astype(np.uint8)
