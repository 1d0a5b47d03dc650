"""TIFF, PNG and JPEG files → page images, and Pillow images → arrays (private to ocr.sources).

Everything that is about decoding pixels with Pillow is here: opening a file with the plugin
its magic bytes chose, the pixel-count check from the header before any pixel is decoded (a
decompression bomb costs nothing), EXIF orientation, stated resolution and whether to believe
it, non-square fax pixels, and the conversion of any Pillow mode to ``uint8`` gray or BGR.
The PDF reader uses :func:`to_array` and :data:`PIL_ERRORS` for the images embedded in a page,
so both routes give the same arrays and the same errors.
"""

from __future__ import annotations

import logging
import math
import struct
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

from ocr._page import MM_PER_INCH, PageImage, page_label, too_large, unreadable
from ocr.errors import InputError, TooLargeInputError

__all__ = [
    "ASSUMED_SHORT_SIDE_MM",
    "PIL_ERRORS",
    "PLAUSIBLE_SHORT_SIDE_MM",
    "count_raster",
    "iter_raster",
    "to_array",
]

# Logged under the public module's name, as before the split, so log lines and filters agree.
log = logging.getLogger("ocr.sources")

#: When a raster file does not state its resolution we assume an A4-ish page (short side 210 mm).
ASSUMED_SHORT_SIDE_MM = 210.0
#: A stated resolution is believed only if it makes the page's short side this long (mm);
#: 72 or 96 dpi written by default on a 300 dpi scan would make a page a metre wide.
PLAUSIBLE_SHORT_SIDE_MM = (20.0, 500.0)

_PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF"}

# What Pillow raises on corrupt or truncated data (UnidentifiedImageError is an OSError; a
# TIFF whose IFD lost its size tags raises TypeError "Missing dimensions").
PIL_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
    zlib.error,
)


def _open_image(path: Path, kind: str) -> Image.Image:
    """Open (header only) with the plugin the magic bytes chose; map Pillow errors to ours."""
    try:
        with warnings.catch_warnings():
            # We check the size ourselves against max_pixels; Pillow's warning is only noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path, formats=[_PIL_FORMAT[kind]])
    except Image.DecompressionBombError as exc:
        raise too_large(path, None, str(exc)) from exc
    except PIL_ERRORS as exc:
        raise unreadable(path, None, exc) from exc


def count_raster(path: Path, kind: str) -> int:
    """Pages in a ``tiff``/``png``/``jpeg`` file, from its headers only."""
    if kind != "tiff":  # PNG/JPEG: one page (APNG/MPO extra frames are not pages)
        with _open_image(path, kind):
            return 1
    with _open_image(path, kind) as im:
        try:
            return int(getattr(im, "n_frames", 1))
        except PIL_ERRORS as exc:
            raise unreadable(path, None, exc) from exc


def iter_raster(path: Path, kind: str, max_pixels: int) -> Iterator[PageImage]:
    """Decode the pages (TIFF frames) of a raster file one at a time."""
    with _open_image(path, kind) as im:
        try:
            n_frames = int(getattr(im, "n_frames", 1)) if kind == "tiff" else 1
        except PIL_ERRORS as exc:
            raise unreadable(path, None, exc) from exc
        for i in range(n_frames):
            yield _raster_page(path, im, i, kind, max_pixels)


def _raster_page(path: Path, im: Image.Image, i: int, kind: str, max_pixels: int) -> PageImage:
    index = i + 1
    try:
        if i:
            im.seek(i)
        width, height = im.size
        if width * height > max_pixels:  # header only: nothing decoded yet
            raise too_large(path, index, f"{width}x{height} pixels > {max_pixels}")
        im.load()  # full decode now, so truncation raises here (LOAD_TRUNCATED_IMAGES is False)
        orientation = im.getexif().get(0x0112, 1)
        frame = ImageOps.exif_transpose(im) if orientation in range(2, 9) else im
        dpi_xy = _stated_dpi(im.info)
        if dpi_xy is not None and orientation in (5, 6, 7, 8):  # axes swapped
            dpi_xy = (dpi_xy[1], dpi_xy[0])
        arr, bilevel = to_array(frame)
    except InputError:
        raise
    except Image.DecompressionBombError as exc:
        raise too_large(path, index, str(exc)) from exc
    except PIL_ERRORS as exc:
        raise unreadable(path, index, exc) from exc
    arr, dpi, estimated = _square_pixels(
        arr, dpi_xy, bilevel=bilevel, max_pixels=max_pixels, where=page_label(path, index)
    )
    h_px, w_px = arr.shape[:2]
    size_mm = (w_px / dpi * MM_PER_INCH, h_px / dpi * MM_PER_INCH)
    log.debug(
        "page %d: %s %dx%d %s, dpi %.1f%s, orientation %d",
        index,
        kind,
        w_px,
        h_px,
        "colour" if arr.ndim == 3 else "gray",
        dpi,
        " (estimated)" if estimated else "",
        orientation,
    )
    return PageImage(index, arr, dpi, estimated, kind, size_mm)


def _stated_dpi(info: dict[str, Any]) -> tuple[float, float] | None:
    """(x, y) dpi from Pillow's metadata (JFIF density, PNG pHYs, TIFF/EXIF resolution)."""
    dpi = info.get("dpi")
    try:
        x, y = float(dpi[0]), float(dpi[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return None
    if not (x > 0 and y > 0 and math.isfinite(x) and math.isfinite(y)):
        return None
    return x, y


def _square_pixels(
    arr: np.ndarray,
    dpi_xy: tuple[float, float] | None,
    *,
    bilevel: bool,
    max_pixels: int,
    where: str,
) -> tuple[np.ndarray, float, bool]:
    """Believe a stated resolution only if plausible; resample non-square pixels (fax 204x98).

    Returns the array, its dpi and whether the dpi was estimated.
    """
    h_px, w_px = arr.shape[:2]
    if dpi_xy is not None:
        short_mm = min(w_px / dpi_xy[0], h_px / dpi_xy[1]) * MM_PER_INCH
        lo, hi = PLAUSIBLE_SHORT_SIDE_MM
        if not lo <= short_mm <= hi:
            log.debug("%s: stated dpi %s ignored (short side %.0f mm)", where, dpi_xy, short_mm)
            dpi_xy = None
    if dpi_xy is None:
        return arr, min(w_px, h_px) / (ASSUMED_SHORT_SIDE_MM / MM_PER_INCH), True
    dpi_x, dpi_y = dpi_xy
    dpi = max(dpi_x, dpi_y)
    if abs(dpi_x - dpi_y) > 0.02 * dpi:
        new_w, new_h = round(w_px * dpi / dpi_x), round(h_px * dpi / dpi_y)
        if new_w * new_h > max_pixels:
            raise TooLargeInputError(
                f"{where}: image too large ({new_w}x{new_h} pixels after squaring > {max_pixels})"
            )
        interp = cv2.INTER_NEAREST if bilevel else cv2.INTER_LINEAR
        arr = cv2.resize(arr, (new_w, new_h), interpolation=interp)
    return arr, dpi, False


def to_array(im: Image.Image) -> tuple[np.ndarray, bool]:
    """Pillow image → (uint8 gray HxW or BGR HxWx3, came-from-bilevel).

    Transparency is composited on white (paper), palettes become gray when every used entry
    is gray, 16/32-bit samples are scaled to 8 bits, CMYK/YCbCr/LAB are converted to RGB.
    """
    mode = im.mode
    if mode == "1":
        return np.array(im.convert("L")), True
    if mode == "L":
        return np.array(im), False
    if mode == "P":
        if "transparency" in im.info:
            return _composite_on_white(im.convert("RGBA"), gray=_palette_is_gray(im)), False
        if _palette_is_gray(im):
            return np.array(im.convert("L")), False
        return _rgb_to_bgr(im.convert("RGB")), False
    if mode in ("LA", "La"):
        return _composite_on_white(im.convert("RGBA"), gray=True), False
    if mode in ("RGBA", "RGBa", "PA"):
        return _composite_on_white(im.convert("RGBA"), gray=False), False
    if mode.startswith("I;16") or mode in ("I", "F"):
        data = np.array(im)
        if data.dtype.kind == "f":
            scale = 255.0 if float(np.nanmax(data, initial=0.0)) <= 1.0 else 1.0
            return np.clip(np.nan_to_num(data) * scale, 0, 255).astype(np.uint8), False
        if mode.startswith("I;16") or int(data.max(initial=0)) > 255:
            return (np.clip(data, 0, 65535).astype(np.uint32) // 257).astype(np.uint8), False
        return np.clip(data, 0, 255).astype(np.uint8), False
    if mode != "RGB":
        im = im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX ...
    return _rgb_to_bgr(im), False


def _rgb_to_bgr(im: Image.Image) -> np.ndarray:
    return cv2.cvtColor(np.asarray(im), cv2.COLOR_RGB2BGR)


def _palette_is_gray(im: Image.Image) -> bool:
    palette = im.getpalette() or []
    colors = im.getcolors(256) or [(0, i) for i in range(len(palette) // 3)]
    for _, idx in colors:
        r, g, b = palette[3 * idx : 3 * idx + 3] or (0, 0, 0)
        if not r == g == b:
            return False
    return True


def _composite_on_white(rgba: Image.Image, *, gray: bool) -> np.ndarray:
    page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    page.alpha_composite(rgba)
    if gray:
        return np.array(page.convert("L"))
    return _rgb_to_bgr(page.convert("RGB"))
