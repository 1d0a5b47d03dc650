"""Turn an input file (PDF, TIFF, PNG, JPEG) into page images, or raise a clear domain error.

This is the only place where the OCR library touches file formats, so it is also where a bad
file must stop: everything a scanner, a mail attachment or a half-copied file can throw at us
ends here as a subclass of :class:`ocr.errors.InputError` with a Japanese ``reason_ja`` a clerk
can act on, never as a raw Pillow or pypdf traceback.

Rules worth knowing:

* The type is decided by the first bytes of the file, never by its name, because files are
  renamed by people and scanners alike.
* Pixel counts are checked from headers (image header, PDF image dictionary) *before* any pixel
  is decoded, so a decompression bomb costs nothing.
* Colour is kept when the source has colour (red seals are removed later by colour); everything
  else becomes ``uint8`` grayscale. Images come out upright as a person would see them (JPEG/TIFF
  EXIF orientation, PDF ``/Rotate`` and image placement are applied).
* PDF pages are *not* rendered (no rasteriser is a dependency): a scanned page yields its page
  image, a born-digital page yields its positioned text (``words``) and ``image=None``.
"""

from __future__ import annotations

import logging
import math
import struct
import unicodedata
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdf
from PIL import Image, ImageOps
from pypdf import PasswordType
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

from ocr.errors import (
    EmptyInputError,
    EncryptedInputError,
    InputError,
    TooLargeInputError,
    UnreadableInputError,
    UnsupportedInputError,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "PageImage",
    "TextItem",
    "count_pages",
    "iter_pages",
    "load_pages",
    "sniff_kind",
]

log = logging.getLogger(__name__)

#: Per-page pixel limit: A3 at 600 dpi is ~70 MP, so 120 MP leaves room without letting a
#: malicious header make us allocate gigabytes.
DEFAULT_MAX_PIXELS = 120_000_000

MM_PER_INCH = 25.4
PT_PER_INCH = 72.0
#: When a raster file does not state its resolution we assume an A4-ish page (short side 210 mm).
ASSUMED_SHORT_SIDE_MM = 210.0
#: A stated resolution is believed only if it makes the page's short side this long (mm);
#: 72 or 96 dpi written by default on a 300 dpi scan would make a page a metre wide.
PLAUSIBLE_SHORT_SIDE_MM = (20.0, 500.0)
#: A PDF page whose largest image covers at least this share of the page is a scan.
SCAN_COVERAGE = 0.5
# Text boxes: IPAex/most CJK fonts have ascent 0.88 em and descent 0.12 em.
_ASCENT_EM = 0.88
_DESCENT_EM = 0.12
_LINE_EM = 1.2

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
)
_PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF"}
# Acrobat accepts "%PDF-" anywhere in the first KiB, so do we.
_PDF_HEADER_WINDOW = 1024
# A complete PDF ends with "%%EOF" (possibly followed by a little padding).
_PDF_TAIL_WINDOW = 2048

# What Pillow raises on corrupt or truncated data (UnidentifiedImageError is an OSError; a
# TIFF whose IFD lost its size tags raises TypeError "Missing dimensions").
_PIL_ERRORS: tuple[type[BaseException], ...] = (
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

_Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class TextItem:
    """A run of text from a PDF text layer, positioned on the page as displayed.

    Coordinates are millimetres from the page's top-left corner (after ``/Rotate``), like form
    template boxes, so a text item can be matched to a field box directly. The box spans from
    0.12 em below the baseline to 0.88 em above it; its width is estimated (1 em per full-width
    character, 0.5 em otherwise) because glyph widths are not worth decoding for matching.
    """

    text: str
    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float


@dataclass(frozen=True)
class PageImage:
    """One page of an input file, ready for preprocessing.

    ``image`` is ``uint8`` grayscale ``HxW`` or BGR ``HxWx3`` (colour is kept when the source
    has it), upright as displayed; it is ``None`` for a born-digital PDF page, which carries
    ``words`` instead. ``dpi`` comes from the file when it says (PDF: image pixels over the
    size the image is drawn at; TIFF/PNG/JPEG: resolution metadata, if plausible); otherwise
    ``dpi_estimated`` is True and ``dpi = short side in pixels / (210 mm / 25.4)``, i.e. the
    page is assumed to be A4-ish. ``pdf-text`` pages have ``dpi = 72`` (PDF points) and no
    image. ``kind`` is ``pdf-image``, ``pdf-text``, ``tiff``, ``png`` or ``jpeg``.
    """

    index: int
    image: np.ndarray | None
    dpi: float
    dpi_estimated: bool
    kind: str
    page_size_mm: tuple[float, float]
    words: tuple[TextItem, ...] = ()


# --------------------------------------------------------------------------------------------
# Public API


def sniff_kind(path: str | Path) -> str:
    """Return ``"pdf"``, ``"tiff"``, ``"png"`` or ``"jpeg"`` from the file's magic bytes.

    The extension is ignored on purpose: a text file renamed ``.pdf`` must be refused as what
    it is. Raises EmptyInputError for a 0-byte file, UnsupportedInputError for anything else.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(_PDF_HEADER_WINDOW)
    except OSError as exc:
        raise UnreadableInputError(
            f"{path.name}: cannot open file ({exc.strerror or type(exc).__name__})",
            reason_ja="ファイルを開けませんでした（見つからない、またはアクセス権がありません）。",
        ) from exc
    if not head:
        raise EmptyInputError(f"{path.name}: file is empty (0 bytes)")
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"%PDF-" in head:
        return "pdf"
    raise UnsupportedInputError(
        f"{path.name}: not a PDF, TIFF, PNG or JPEG file (content not recognised; "
        "the file name extension is not trusted)"
    )


def iter_pages(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Iterator[PageImage]:
    """Yield the pages of ``path`` one at a time, so a 200-page TIFF is never all in memory.

    The file is checked eagerly (type, emptiness, encryption, page count), so those errors are
    raised by this call itself; a page that turns out to be corrupt or too large raises when
    it is reached, after the pages before it were yielded.
    """
    path = Path(path)
    kind = sniff_kind(path)
    if kind == "pdf":
        reader = _open_pdf(path)
        return _iter_pdf(path, reader, max_pixels)
    _count_raster(path, kind)
    return _iter_raster(path, kind, max_pixels)


def load_pages(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[PageImage]:
    """All pages of ``path`` as a list (see :func:`iter_pages`)."""
    return list(iter_pages(path, max_pixels=max_pixels))


def count_pages(path: str | Path) -> int:
    """Number of pages in ``path`` without decoding any pixels.

    Raises the same errors as :func:`iter_pages` would for the whole file (a PDF with zero
    pages is an EmptyInputError, not 0), so a caller can vet a file cheaply.
    """
    path = Path(path)
    kind = sniff_kind(path)
    if kind == "pdf":
        return len(_open_pdf(path).pages)
    return _count_raster(path, kind)


# --------------------------------------------------------------------------------------------
# Raster files (TIFF, PNG, JPEG)


def _open_image(path: Path, kind: str) -> Image.Image:
    """Open (header only) with the plugin the magic bytes chose; map Pillow errors to ours."""
    try:
        with warnings.catch_warnings():
            # We check the size ourselves against max_pixels; Pillow's warning is only noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path, formats=[_PIL_FORMAT[kind]])
    except Image.DecompressionBombError as exc:
        raise _too_large(path, None, str(exc)) from exc
    except _PIL_ERRORS as exc:
        raise _unreadable(path, None, exc) from exc


def _count_raster(path: Path, kind: str) -> int:
    if kind != "tiff":  # PNG/JPEG: one page (APNG/MPO extra frames are not pages)
        with _open_image(path, kind):
            return 1
    with _open_image(path, kind) as im:
        try:
            return int(getattr(im, "n_frames", 1))
        except _PIL_ERRORS as exc:
            raise _unreadable(path, None, exc) from exc


def _iter_raster(path: Path, kind: str, max_pixels: int) -> Iterator[PageImage]:
    with _open_image(path, kind) as im:
        try:
            n_frames = int(getattr(im, "n_frames", 1)) if kind == "tiff" else 1
        except _PIL_ERRORS as exc:
            raise _unreadable(path, None, exc) from exc
        for i in range(n_frames):
            yield _raster_page(path, im, i, kind, max_pixels)


def _raster_page(path: Path, im: Image.Image, i: int, kind: str, max_pixels: int) -> PageImage:
    index = i + 1
    try:
        if i:
            im.seek(i)
        width, height = im.size
        if width * height > max_pixels:  # header only: nothing decoded yet
            raise _too_large(path, index, f"{width}x{height} pixels > {max_pixels}")
        im.load()  # full decode now, so truncation raises here (LOAD_TRUNCATED_IMAGES is False)
        orientation = im.getexif().get(0x0112, 1)
        frame = ImageOps.exif_transpose(im) if orientation in range(2, 9) else im
        dpi_xy = _stated_dpi(im.info)
        if dpi_xy is not None and orientation in (5, 6, 7, 8):  # axes swapped
            dpi_xy = (dpi_xy[1], dpi_xy[0])
        arr, bilevel = _to_array(frame)
    except InputError:
        raise
    except Image.DecompressionBombError as exc:
        raise _too_large(path, index, str(exc)) from exc
    except _PIL_ERRORS as exc:
        raise _unreadable(path, index, exc) from exc
    arr, dpi, estimated = _square_pixels(
        arr, dpi_xy, bilevel=bilevel, max_pixels=max_pixels, where=_where(path, index)
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


def _to_array(im: Image.Image) -> tuple[np.ndarray, bool]:
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


# --------------------------------------------------------------------------------------------
# PDF


def _open_pdf(path: Path) -> pypdf.PdfReader:
    """Open with pypdf, refusing truncated, encrypted and page-less files up front."""
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - _PDF_TAIL_WINDOW))
            tail = fh.read()
    except OSError as exc:
        raise _unreadable(path, None, exc) from exc
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
        raise _unreadable(path, None, exc) from exc
    if n_pages == 0:
        raise EmptyInputError(f"{path.name}: PDF has no pages")
    return reader


def _iter_pdf(path: Path, reader: pypdf.PdfReader, max_pixels: int) -> Iterator[PageImage]:
    for i in range(len(reader.pages)):
        index = i + 1
        try:
            page = reader.pages[i]
            yield _pdf_page(path, page, index, max_pixels)
        except InputError:
            raise
        except (LimitReachedError, Image.DecompressionBombError) as exc:
            raise _too_large(path, index, str(exc)) from exc
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
        except (*_PDF_ERRORS, *_PIL_ERRORS) as exc:
            raise _unreadable(path, index, exc) from exc


@dataclass(frozen=True)
class _Placed:
    """An image drawn on a PDF page: the matrix maps its unit square to page user space."""

    ctm: _Matrix
    width: int
    height: int
    bits: int
    xobj: Any | None  # image stream; None for an inline image
    inline_index: int | None

    def bbox(self) -> tuple[float, float, float, float]:
        return _bbox([_apply(self.ctm, u, v) for u in (0, 1) for v in (0, 1)])


@dataclass
class _Frame:
    matrix: _Matrix
    resources: Any


class _PageWalker:
    """Collect placed images and positioned text from one pass of pypdf's text extraction.

    pypdf reports the graphics state (cm) relative to the innermost form XObject and starts
    each form at identity, ignoring its /Matrix and the outer CTM. A stack of frames restores
    the full transform: a form's frame is pushed when its first operator is seen (text flushed
    by pypdf between ``Do`` and that moment still belongs to the outer content) and popped at
    the ``Do``'s after-visit.
    """

    def __init__(self, page: pypdf.PageObject) -> None:
        self.frames = [_Frame(_IDENTITY, _resolve(page.get("/Resources")))]
        self.do_stack: list[_Frame | bool | None] = []  # pending frame / True once pushed
        self.images: list[_Placed] = []
        self.words: list[tuple[str, list[tuple[float, float]]]] = []
        self.inline_count = 0

    def _activate(self) -> None:
        if self.do_stack and isinstance(self.do_stack[-1], _Frame):
            self.frames.append(self.do_stack[-1])
            self.do_stack[-1] = True

    def before(self, op: bytes, operands: Any, cm: list[float], _tm: Any) -> None:
        self._activate()
        if op not in (b"Do", b"INLINE IMAGE") or not operands:
            return
        frame = self.frames[-1]
        ctm = _mul(tuple(cm), frame.matrix)  # type: ignore[arg-type]
        if op == b"Do":
            xobj = _lookup_xobject(frame.resources, operands[0])
            subtype = xobj.get("/Subtype") if xobj is not None else None
            if subtype == "/Form":
                matrix = _matrix(xobj.get("/Matrix"))
                self.do_stack.append(_Frame(_mul(matrix, ctm), _resolve(xobj.get("/Resources"))))
                return
            if subtype == "/Image":
                self._add_image(ctm, xobj, None)
            self.do_stack.append(None)
        elif isinstance(operands, dict) and len(self.frames) == 1:
            # inline image: pypdf can decode the page's own (top-level) ones only
            self._add_image(ctm, operands.get("settings", {}), self.inline_count)
            self.inline_count += 1

    def after(self, op: bytes, operands: Any, _cm: Any, _tm: Any) -> None:
        if op == b"Do" and operands and self.do_stack and self.do_stack.pop() is True:
            self.frames.pop()

    def _add_image(self, ctm: _Matrix, d: Any, inline_index: int | None) -> None:
        try:
            width = int(_resolve(d.get("/Width", d.get("/W", 0))))
            height = int(_resolve(d.get("/Height", d.get("/H", 0))))
            bits = int(_resolve(d.get("/BitsPerComponent", d.get("/BPC", 8))) or 8)
        except (TypeError, ValueError):
            return
        if width > 0 and height > 0:
            xobj = d if inline_index is None else None
            self.images.append(_Placed(ctm, width, height, bits, xobj, inline_index))

    def text(self, text: str, cm: list[float], tm: list[float], _font: Any, size: Any) -> None:
        if not text or text.isspace():
            return
        m = _mul(_mul(tuple(tm), tuple(cm)), self.frames[-1].matrix)  # type: ignore[arg-type]
        em = float(size or 1.0)
        for k, line in enumerate(text.split("\n")):
            stripped = line.strip()
            if not stripped:
                continue
            x0 = _em_width(line[: len(line) - len(line.lstrip())]) * em
            x1 = x0 + _em_width(stripped) * em
            base = -k * _LINE_EM * em
            y0, y1 = base - _DESCENT_EM * em, base + _ASCENT_EM * em
            corners = [_apply(m, x, y) for x in (x0, x1) for y in (y0, y1)]
            self.words.append((stripped, corners))


def _pdf_page(path: Path, page: pypdf.PageObject, index: int, max_pixels: int) -> PageImage:
    """Classify the page (scan / born-digital) and build its PageImage."""
    walker = _PageWalker(page)
    page.extract_text(
        visitor_operand_before=walker.before,
        visitor_operand_after=walker.after,
        visitor_text=walker.text,
    )
    box = _bbox(
        [
            (float(page.cropbox.left), float(page.cropbox.bottom)),
            (float(page.cropbox.right), float(page.cropbox.top)),
        ]
    )
    page_w, page_h = box[2] - box[0], box[3] - box[1]
    if page_w <= 0 or page_h <= 0:
        raise UnreadableInputError(f"{path.name}: page {index} has an empty page box")
    rotate = _rotation(page)
    words = tuple(_text_item(text, corners, box, rotate) for text, corners in walker.words)

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
                    f"{_where(path, index)}: page has an image but draws nothing "
                    "(content stream damaged)"
                )
            log.warning("page %d: no image and no text (blank or vector-only page)", index)
        log.debug(
            "page %d: pdf-text, %d text items, %d images", index, len(words), len(walker.images)
        )
        return PageImage(index, None, PT_PER_INCH, False, "pdf-text", size_mm, words)

    if best.width * best.height > max_pixels:
        raise _too_large(path, index, f"{best.width}x{best.height} pixels > {max_pixels}")
    pil = _decode_pdf_image(page, best, max_pixels=max_pixels, where=_where(path, index))
    arr, bilevel = _to_array(pil)
    arr, dpi = _place_on_page(
        arr, best, box, bilevel=bilevel, max_pixels=max_pixels, where=_where(path, index)
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


def _decode_pdf_image(
    page: pypdf.PageObject, placed: _Placed, *, max_pixels: int, where: str
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
            if placed.xobj is not None:
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
    placed: _Placed,
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
    ctm: _Matrix,
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


def _text_item(
    text: str,
    corners: list[tuple[float, float]],
    box: tuple[float, float, float, float],
    rotate: int,
) -> TextItem:
    """User-space corners → box in mm from the displayed page's top-left."""
    x0, y0, x1, y1 = box
    width_mm = (x1 - x0) / PT_PER_INCH * MM_PER_INCH
    height_mm = (y1 - y0) / PT_PER_INCH * MM_PER_INCH
    pts = []
    for x, y in corners:
        u = (x - x0) / PT_PER_INCH * MM_PER_INCH  # from the left
        v = (y1 - y) / PT_PER_INCH * MM_PER_INCH  # from the top
        if rotate == 90:
            u, v = height_mm - v, u
        elif rotate == 180:
            u, v = width_mm - u, height_mm - v
        elif rotate == 270:
            u, v = v, width_mm - u
        pts.append((u, v))
    bx0, by0, bx1, by1 = _bbox(pts)
    return TextItem(text, round(bx0, 2), round(by0, 2), round(bx1 - bx0, 2), round(by1 - by0, 2))


def _rotation(page: pypdf.PageObject) -> int:
    try:
        rot = int(_resolve(page.rotation))
    except (TypeError, ValueError):
        return 0
    rot %= 360
    if rot % 90:
        log.warning("/Rotate %d is not a multiple of 90; rounded", rot)
        rot = (round(rot / 90) * 90) % 360
    return rot


def _em_width(text: str) -> float:
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in text)


def _coverage(bbox: tuple[float, float, float, float], box: tuple[float, ...]) -> float:
    w = min(bbox[2], box[2]) - max(bbox[0], box[0])
    h = min(bbox[3], box[3]) - max(bbox[1], box[1])
    if w <= 0 or h <= 0:
        return 0.0
    return (w * h) / ((box[2] - box[0]) * (box[3] - box[1]))


def _declares_image(page: pypdf.PageObject) -> bool:
    xobjects = _resolve(_resolve(page.get("/Resources", {})).get("/XObject", {}))
    try:
        return any(_resolve(x).get("/Subtype") == "/Image" for x in xobjects.values())
    except AttributeError:
        return False


def _resolve(obj: Any) -> Any:
    return obj.get_object() if hasattr(obj, "get_object") else obj


def _lookup_xobject(resources: Any, name: Any) -> Any:
    try:
        xobjects = _resolve(resources.get("/XObject"))
        xobj = _resolve(xobjects[name]) if xobjects is not None else None
    except (AttributeError, KeyError, TypeError):
        return None
    return xobj if hasattr(xobj, "get") else None


def _matrix(value: Any) -> _Matrix:
    try:
        m = tuple(float(_resolve(v)) for v in _resolve(value))
    except (TypeError, ValueError):
        return _IDENTITY
    return m if len(m) == 6 else _IDENTITY  # type: ignore[return-value]


def _mul(m: _Matrix, n: _Matrix) -> _Matrix:
    """PDF matrix product m × n (apply m first, then n; row-vector convention)."""
    a, b, c, d, e, f = (float(v) for v in m)
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _apply(m: _Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def _bbox(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


# --------------------------------------------------------------------------------------------
# Errors


def _where(path: Path, index: int | None) -> str:
    return f"{path.name}: page {index}" if index is not None else path.name


def _unreadable(path: Path, index: int | None, exc: BaseException) -> UnreadableInputError:
    """A one-line message naming the file, page and the library's complaint (no traceback)."""
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return UnreadableInputError(
        f"{_where(path, index)}: damaged or truncated ({type(exc).__name__}: {detail})"
    )


def _too_large(path: Path, index: int | None, detail: str) -> TooLargeInputError:
    return TooLargeInputError(f"{_where(path, index)}: image too large ({detail})")
