"""Page and crop clean-up with OpenCV, each step applied only where measurement says it helps.

Blanket preprocessing does not pay on this material (Otsu helps noisy crops and hurts clean
ones; upscaling already-large text hurts), so the functions here *measure* first —
noise level, colour, skew — and the callers decide per page or per crop.
"""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np

__all__ = [
    "binarize",
    "crop_needs_cleaning",
    "denoise_crop",
    "estimate_noise",
    "estimate_skew",
    "rotate",
    "rotate_quarter",
    "to_gray",
]

log = logging.getLogger(__name__)


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
    """Standard deviation of additive noise (Immerkær 1996), on a ≤1000-px-wide sample.

    Text edges inflate the estimate slightly; that is fine, it is used only to decide whether
    a crop gets denoised.
    """
    if gray.shape[1] > 1000:
        f = 1000 / gray.shape[1]
        gray = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    conv = cv2.filter2D(gray.astype(np.float32), -1, kernel)
    h, w = gray.shape
    if h < 3 or w < 3:
        return 0.0
    return float(math.sqrt(math.pi / 2) * np.abs(conv[1:-1, 1:-1]).sum() / (6 * (w - 2) * (h - 2)))


def estimate_skew(gray: np.ndarray, dpi: float, *, max_angle: float = 10.0) -> float:
    """Skew in degrees (positive = page turned counter-clockwise), from long ruled lines.

    Forms carry many long horizontal rules, so the median angle of long Hough segments is a
    robust estimate; text-only pages fall back to 0 and are left to registration.
    """
    scale = min(1.0, 100.0 / dpi)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, bw = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    min_len = small.shape[1] // 5
    segs = cv2.HoughLinesP(bw, 1, np.pi / 1800, threshold=min_len // 2, minLineLength=min_len,
                           maxLineGap=6)
    if segs is None:
        return 0.0
    angles = []
    for x1, y1, x2, y2 in segs[:, 0]:
        a = math.degrees(math.atan2(y2 - y1, x2 - x1))
        if abs(a) <= max_angle:
            angles.append(a)
    if len(angles) < 3:
        return 0.0
    return -float(np.median(angles))


def rotate(gray: np.ndarray, angle: float, *, border: int = 255) -> np.ndarray:
    """Rotate counter-clockwise by ``angle`` degrees about the centre, keeping the size."""
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def rotate_quarter(image: np.ndarray, degrees: int) -> np.ndarray:
    """Rotate by a multiple of 90° clockwise without resampling."""
    k = (degrees // 90) % 4
    codes = {1: cv2.ROTATE_90_CLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return image if k == 0 else cv2.rotate(image, codes[k])


def binarize(gray: np.ndarray) -> np.ndarray:
    """Otsu threshold: ink 0, paper 255."""
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return bw


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
