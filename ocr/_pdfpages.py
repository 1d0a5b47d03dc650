"""PDF files → page images, without a rasteriser (private to ocr.sources).

pypdf parses hostile input in pure Python, so this module is mostly about refusing early and
failing cleanly: a truncated, encrypted or page-less file is refused when it is opened; on
each page any pypdf or Pillow exception (including CCITT/JBIG2 filters this installation
cannot decode and pypdf's own output limits) becomes a domain error naming the page.

A page is a scan when its largest image covers most of it (or it has no text): that image is
decoded with pypdf's limits raised to what its checked dimensions need, then drawn where the
page draws it (flips, quarter turns, margins, skew) and turned by ``/Rotate``. Otherwise the
page is born-digital and yields its text layer, found by :mod:`ocr._pdflayout`.
"""

from __future__ import annotations

import io
import logging
import math
import struct
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pypdf
from PIL import Image
from pypdf import PasswordType
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

from ocr._page import MM_PER_INCH, PT_PER_INCH, PageImage, page_label, too_large, unreadable
from ocr._pdflayout import (
    Matrix,
    PageWalker,
    Placed,
    bbox_of,
    page_rotation,
    resolve,
    text_item,
)
from ocr._raster import PIL_ERRORS, to_array
from ocr.errors import (
    EmptyInputError,
    EncryptedInputError,
    InputError,
    TooLargeInputError,
    UnreadableInputError,
    UnsupportedInputError,
)

__all__ = ["SCAN_COVERAGE", "iter_pdf", "open_pdf"]

# Logged under the public module's name, as before the split, so log lines and filters agree.
log = logging.getLogger("ocr.sources")

#: A PDF page whose largest image covers at least this share of the page is a scan.
SCAN_COVERAGE = 0.5
# A complete PDF ends with "%%EOF" (possibly followed by a little padding).
_PDF_TAIL_WINDOW = 2048

# What pypdf raises on malformed files. It is a pure-Python parser of hostile input, so Python
# errors escape it too; they are re-raised as UnreadableInputError with the original chained.
_PDF_ERRORS: tuple[type[BaseException], ...] = (
    PyPdfError,
    OSError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    AssertionError,
    RecursionError,
    struct.error,
    zlib.error,
)


def open_pdf(path: Path) -> pypdf.PdfReader:
    """Open with pypdf, refusing truncated, encrypted and page-less files up front."""
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - _PDF_TAIL_WINDOW))
            tail = fh.read()
    except OSError as exc:
        raise unreadable(path, None, exc) from exc
    if b"%%EOF" not in tail:
        # pypdf would happily "repair" a half-copied file and return fewer pages.
        raise UnreadableInputError(f"{path.name}: PDF is truncated (no %%EOF at the end)")
    try:
        reader = pypdf.PdfReader(path, strict=False)
        if reader.is_encrypted:
            # pypdf already tried the empty user password; be explicit about it.
            if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise EncryptedInputError(f"{path.name}: PDF is encrypted with a user password")
            log.debug("PDF is encrypted with an empty user password; opened it")
        n_pages = len(reader.pages)
    except InputError:
        raise
    except DependencyError as exc:
        # AES needs the `cryptography` package even when the user password is empty.
        raise EncryptedInputError(
            f"{path.name}: PDF is encrypted in a way this installation cannot decrypt ({exc})",
            reason_ja="このPDFの暗号化方式には対応していません。パスワード（暗号化）なしで保存し直してください。",
        ) from exc
    except FileNotDecryptedError as exc:
        raise EncryptedInputError(f"{path.name}: PDF is encrypted ({exc})") from exc
    except _PDF_ERRORS as exc:
        raise unreadable(path, None, exc) from exc
    if n_pages == 0:
        raise EmptyInputError(f"{path.name}: PDF has no pages")
    return reader


def iter_pdf(path: Path, reader: pypdf.PdfReader, max_pixels: int) -> Iterator[PageImage]:
    """Build the pages of an opened PDF one at a time, mapping every failure to ours."""
    for i in range(len(reader.pages)):
        index = i + 1
        try:
            page = reader.pages[i]
            yield _pdf_page(path, page, index, max_pixels)
        except InputError:
            raise
        except (LimitReachedError, Image.DecompressionBombError) as exc:
            raise too_large(path, index, str(exc)) from exc
        except NotImplementedError as exc:  # a filter or colour space pypdf cannot decode
            raise UnsupportedInputError(
                f"{path.name}: page {index}: image encoding not supported ({exc})"
            ) from exc
        except DependencyError as exc:  # e.g. JBIG2 without jbig2dec
            raise UnsupportedInputError(
                f"{path.name}: page {index}: image encoding not supported here ({exc})",
                reason_ja="PDF内の画像の圧縮形式（JBIG2など）に対応していません。"
                "スキャナーの設定でTIFF/JPEG、または通常のPDFで保存し直してください。",
            ) from exc
        except (*_PDF_ERRORS, *PIL_ERRORS) as exc:
            raise unreadable(path, index, exc) from exc


def _pdf_page(path: Path, page: pypdf.PageObject, index: int, max_pixels: int) -> PageImage:
    """Classify the page (scan / born-digital) and build its PageImage."""
    walker = PageWalker(page)
    page.extract_text(
        visitor_operand_before=walker.before,
        visitor_operand_after=walker.after,
        visitor_text=walker.text,
    )
    box = bbox_of(
        [
            (float(page.cropbox.left), float(page.cropbox.bottom)),
            (float(page.cropbox.right), float(page.cropbox.top)),
        ]
    )
    page_w, page_h = box[2] - box[0], box[3] - box[1]
    if page_w <= 0 or page_h <= 0:
        raise UnreadableInputError(f"{path.name}: page {index} has an empty page box")
    rotate = page_rotation(page)
    words = tuple(text_item(text, corners, box, rotate) for text, corners in walker.words)

    best, coverage = None, 0.0
    for placed in walker.images:
        cov = _coverage(placed.bbox(), box)
        if best is None or (cov, placed.width * placed.height) > (
            coverage,
            best.width * best.height,
        ):
            best, coverage = placed, cov
    size_mm = (page_w / PT_PER_INCH * MM_PER_INCH, page_h / PT_PER_INCH * MM_PER_INCH)
    if rotate in (90, 270):
        size_mm = (size_mm[1], size_mm[0])
    if best is None or (coverage < SCAN_COVERAGE and words):
        if best is None and not words:
            if _declares_image(page):
                # pypdf's lenient parser hands back an empty content stream for a damaged
                # object; a scan page that draws nothing must not pass as a blank page.
                raise UnreadableInputError(
                    f"{page_label(path, index)}: page has an image but draws nothing "
                    "(content stream damaged)"
                )
            log.warning("page %d: no image and no text (blank or vector-only page)", index)
        log.debug(
            "page %d: pdf-text, %d text items, %d images", index, len(words), len(walker.images)
        )
        return PageImage(index, None, PT_PER_INCH, False, "pdf-text", size_mm, words)

    if best.width * best.height > max_pixels:
        raise too_large(path, index, f"{best.width}x{best.height} pixels > {max_pixels}")
    pil = _decode_pdf_image(page, best, max_pixels=max_pixels, where=page_label(path, index))
    arr, bilevel = to_array(pil)
    arr, dpi = _place_on_page(
        arr, best, box, bilevel=bilevel, max_pixels=max_pixels, where=page_label(path, index)
    )
    if rotate:
        arr = np.ascontiguousarray(np.rot90(arr, k=-(rotate // 90)))
    log.debug(
        "page %d: pdf-image %dx%d %s, dpi %.1f, coverage %.2f, rotate %d, %d text items",
        index,
        arr.shape[1],
        arr.shape[0],
        pil.mode,
        dpi,
        coverage,
        rotate,
        len(words),
    )
    return PageImage(index, arr, dpi, False, "pdf-image", size_mm, words)


def _plain_jpeg(xobj: object) -> bytes | None:
    """The JPEG file inside an image stream that needs nothing but JPEG decoding, else None.

    Scanners write exactly this (one DCTDecode stream, gray or RGB, no mask or decode
    array). pypdf would decode it and then re-encode it into a file of its own before
    handing over the picture — a third of a page's loading time — so such a stream goes to
    Pillow as it is; anything else takes pypdf's general path.
    """
    if xobj is None:
        return None
    obj = xobj.get_object()  # type: ignore[attr-defined]
    if obj.get("/Filter") not in ("/DCTDecode", ["/DCTDecode"]) or obj.get("/DecodeParms"):
        return None
    if obj.get("/ColorSpace") not in ("/DeviceGray", "/DeviceRGB"):
        return None
    if any(k in obj for k in ("/SMask", "/Mask", "/Decode", "/ImageMask")):
        return None
    data = obj.get_data()
    return data if isinstance(data, bytes) and data[:2] == b"\xff\xd8" else None


def _decode_pdf_image(
    page: pypdf.PageObject, placed: Placed, *, max_pixels: int, where: str
) -> Image.Image:
    """Decode one image with pypdf's limits raised to what its checked dimensions need.

    A JPEG stream carries its own size, which may disagree with the dictionary that was
    checked: it is checked again before Pillow decodes its pixels.
    """
    need = placed.width * placed.height * 4 * (2 if placed.bits > 8 else 1) + (1 << 20)
    limit = max(need, 75_000_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with pypdf.apply_configuration(
            zlib_maximum_output_length=limit,
            lzw_maximum_output_length=limit,
            run_length_maximum_output_length=limit,
            jbig2_maximum_output_length=limit,
            image_maximum_buffer_size=limit,
            stream_decoding_work_maximum_length=max(3 * limit, 300_000_000),
        ):
            plain_jpeg = _plain_jpeg(placed.xobj)
            if plain_jpeg is not None:
                pil = Image.open(io.BytesIO(plain_jpeg))
            elif placed.xobj is not None:
                pil = placed.xobj.decode_as_image()
            else:
                pil = page.images[f"~{placed.inline_index}~"].image
            if pil is None:
                raise OSError("pypdf could not decode the image")
            if pil.width * pil.height > max_pixels:
                raise TooLargeInputError(
                    f"{where}: image too large ({pil.width}x{pil.height} pixels > {max_pixels})"
                )
            pil.load()  # force a full decode: a truncated JPEG stream raises here
    return pil


def _place_on_page(
    arr: np.ndarray,
    placed: Placed,
    box: tuple[float, float, float, float],
    *,
    bilevel: bool,
    max_pixels: int,
    where: str,
) -> tuple[np.ndarray, float]:
    """Draw the image where the page draws it, at the image's own resolution.

    Returns the page raster before ``/Rotate`` and its dpi. A scan that fills the page (the
    usual case) is only flipped/rotated, never resampled; an image placed with margins is
    pasted on white paper of the page's size; a skewed placement is warped.
    """
    a, b, c, d, _, _ = placed.ctm
    h_px, w_px = arr.shape[:2]
    if w_px != placed.width or h_px != placed.height:
        log.debug(
            "%s: decoded %dx%d, dictionary says %dx%d",
            where,
            w_px,
            h_px,
            placed.width,
            placed.height,
        )
    len_x, len_y = math.hypot(a, b), math.hypot(c, d)
    if len_x == 0 or len_y == 0:
        raise UnreadableInputError(f"{where}: image drawn with zero size")
    dpi = round(max(w_px * PT_PER_INCH / len_x, h_px * PT_PER_INCH / len_y), 2)
    scale = dpi / PT_PER_INCH  # pixels per point
    x0, y0, x1, y1 = box
    canvas_w, canvas_h = round((x1 - x0) * scale), round((y1 - y0) * scale)
    if canvas_w * canvas_h > max_pixels:
        raise TooLargeInputError(
            f"{where}: image too large (page {canvas_w}x{canvas_h} pixels > {max_pixels})"
        )
    tol = 1e-3
    if abs(b) <= tol * len_x and abs(c) <= tol * len_y:  # axis-aligned, no swap
        if a < 0:
            arr = arr[:, ::-1]
        if d < 0:
            arr = arr[::-1]
    elif abs(a) <= tol * len_x and abs(d) <= tol * len_y:  # quarter turn: columns run along y
        arr = arr.swapaxes(0, 1)
        if b > 0:
            arr = arr[::-1]
        if c > 0:
            arr = arr[:, ::-1]
    else:
        warped = _warp_on_page(arr, placed.ctm, box, scale, (canvas_w, canvas_h), bilevel=bilevel)
        return warped, dpi
    bx0, by0, bx1, by1 = placed.bbox()
    left, top = round((bx0 - x0) * scale), round((y1 - by1) * scale)
    want_w, want_h = round((bx1 - bx0) * scale), round((by1 - by0) * scale)
    if (arr.shape[1], arr.shape[0]) != (want_w, want_h):
        interp = cv2.INTER_NEAREST if bilevel else cv2.INTER_LINEAR
        arr = cv2.resize(np.ascontiguousarray(arr), (want_w, want_h), interpolation=interp)
    if (
        abs(left) <= 1
        and abs(top) <= 1
        and abs(want_w - canvas_w) <= 2
        and (abs(want_h - canvas_h) <= 2)
    ):
        return np.ascontiguousarray(arr), dpi  # fills the page: keep every pixel as is
    canvas = np.full((canvas_h, canvas_w, *arr.shape[2:]), 255, dtype=np.uint8)
    sx0, sy0 = max(0, -left), max(0, -top)
    dx0, dy0 = max(0, left), max(0, top)
    w = min(arr.shape[1] - sx0, canvas_w - dx0)
    h = min(arr.shape[0] - sy0, canvas_h - dy0)
    if w > 0 and h > 0:
        canvas[dy0 : dy0 + h, dx0 : dx0 + w] = arr[sy0 : sy0 + h, sx0 : sx0 + w]
    return canvas, dpi


def _warp_on_page(
    arr: np.ndarray,
    ctm: Matrix,
    box: tuple[float, float, float, float],
    scale: float,
    canvas_size: tuple[int, int],
    *,
    bilevel: bool,
) -> np.ndarray:
    """General (skewed or rotated by an odd angle) placement, by one affine warp."""
    a, b, c, d, e, f = ctm
    h_px, w_px = arr.shape[:2]
    x0, _, _, y1 = box
    # pixel (col, row) → unit square (col/W, 1 - row/H) → user space → canvas pixels
    m = np.array(
        [
            [a * scale / w_px, -c * scale / h_px, (c + e - x0) * scale],
            [-b * scale / w_px, d * scale / h_px, (y1 - d - f) * scale],
        ],
        dtype=np.float64,
    )
    fill = (255, 255, 255) if arr.ndim == 3 else 255
    interp = cv2.INTER_NEAREST if bilevel else cv2.INTER_LINEAR
    return cv2.warpAffine(
        np.ascontiguousarray(arr),
        m,
        canvas_size,
        flags=interp,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill,
    )


def _coverage(bbox: tuple[float, float, float, float], box: tuple[float, ...]) -> float:
    w = min(bbox[2], box[2]) - max(bbox[0], box[0])
    h = min(bbox[3], box[3]) - max(bbox[1], box[1])
    if w <= 0 or h <= 0:
        return 0.0
    return (w * h) / ((box[2] - box[0]) * (box[3] - box[1]))


def _declares_image(page: pypdf.PageObject) -> bool:
    xobjects = resolve(resolve(page.get("/Resources", {})).get("/XObject", {}))
    try:
        return any(resolve(x).get("/Subtype") == "/Image" for x in xobjects.values())
    except AttributeError:
        return False
