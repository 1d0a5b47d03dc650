"""Page and crop clean-up with OpenCV, each step applied only where measurement says it helps.

Blanket preprocessing does not pay on this material (Otsu helps noisy crops and hurts clean
ones; upscaling already-large text hurts), so the functions here *measure* first and the
callers decide per page or per crop. Orientation (quarter turns, upside-down pages) and skew
are not separate steps: registration fits a homography that undoes any rotation together
with scale and shift (:mod:`ocr.align`); on generated scans turned up to ±8° or upside down
its error stayed around 1 px at 300 dpi, so a deskew step would add time and nothing else.
Binarisation for Tesseract happens per crop in its engine (:mod:`ocr.engines._tesseract`).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from ocr._stats import mad_sigma

__all__ = [
    "EVEN_LIGHT_SPREAD",
    "crop_needs_cleaning",
    "denoise_crop",
    "estimate_noise",
    "even_light",
    "to_gray",
]

log = logging.getLogger(__name__)


_LIGHT_WINDOW = 31  # px at 300 dpi (2.6 mm): wider than any stroke, narrower than a shadow
# grey levels between the paper's 5th and 95th percentile brightness in one crop: evenly
# lit paper in the calibration world stays within 6 even at noise σ 20 (measured on
# generated world-one crops, levels 0 and 3); more is a lamp or a shadow (text crops here,
# the paper around a checkbox in ocr.marks)
EVEN_LIGHT_SPREAD = 8


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grayscale for reading; red seals and red ruling drop out.

    In the red channel a red seal is nearly as light as the paper while black and blue ink stay
    dark, so for pages with red ink the red channel *is* the stamp-free page. JPEG's chroma
    blur leaves seal strokes mid-grey even there, so clearly red pixels (and their fringe) are
    painted white too; black ink over a seal is not red, so it stays.
    """
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    b, g, r = (image[..., i].astype(np.int16) for i in range(3))
    red = ((r - np.maximum(g, b)) > 40).astype(np.uint8)
    if red.mean() < 2e-5:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    gray = np.ascontiguousarray(image[..., 2])
    gray[cv2.dilate(red, np.ones((3, 3), np.uint8)) > 0] = 255
    return gray


def estimate_noise(gray: np.ndarray) -> float:
    """Standard deviation of the paper's noise: robust (MAD) spread of the crop's pixels.

    Most of a field crop is paper, so the median absolute deviation ignores the writing.
    A high-frequency estimator (Immerkær) was tried first and missed the smooth noise left
    when a 200-dpi scan is resampled to 300 dpi — exactly the scans that need cleaning.
    """
    if gray.size == 0:
        return 0.0
    if gray.shape[1] > 1000:
        f = 1000 / gray.shape[1]
        gray = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST)
    if gray.dtype != np.uint8:
        med = float(np.median(gray))
        return 1.4826 * float(np.median(np.abs(gray.astype(np.float32) - med)))
    return mad_sigma(gray)


def even_light(gray: np.ndarray) -> np.ndarray:
    """The crop as if lit evenly: each pixel divided by the paper's brightness around it.

    A lamp that lights one end of the glass more than the other, or the shadow along the
    fold of a letter, leaves paper 30–50 levels darker at one end of a long box than at the
    other. Ink was told from paper by one threshold for the whole crop, so the dark end
    became "writing": the crop stayed as wide as the box and RapidOCR read a name shrunk to
    a third, dropping characters. The paper's level is the brightest smoothed pixel within
    ``_LIGHT_WINDOW`` (wider than any stroke, narrower than a change of light), smoothed
    again so that it bends with the light and not with the characters. Evenly lit paper is
    left as it is: dividing by a local maximum of noise made heavily degraded scans of
    evenly lit pages read worse (calibration world, level 3).
    """
    if gray.size == 0:
        return gray
    k = _LIGHT_WINDOW
    paper = cv2.dilate(cv2.blur(gray, (5, 5)), np.ones((k, k), np.uint8))
    paper = cv2.blur(paper, (k, k)).astype(np.float32)
    lo, hi = np.percentile(paper, (5, 95))
    if hi - lo <= EVEN_LIGHT_SPREAD:
        return gray
    out = gray.astype(np.float32) * (255.0 / np.maximum(paper, 1.0))
    return np.clip(out, 0, 255).astype(np.uint8)


def crop_needs_cleaning(noise_sigma: float, *, threshold: float = 9.0) -> bool:
    """Whether a crop is noisy enough that denoising helps more than it blurs strokes."""
    return noise_sigma >= threshold


def denoise_crop(gray: np.ndarray) -> np.ndarray:
    """Median filter, then stretch contrast: removes speckle and lifts faint print."""
    out = cv2.medianBlur(gray, 3)
    lo, hi = np.percentile(out, (1, 99))
    if hi - lo > 10:
        out = np.clip((out.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
    return out
