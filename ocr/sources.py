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

This module is the public face: the contract (:class:`PageImage`, :class:`TextItem`), the
type sniffing and the dispatch. The readers behind it are private, one concern each, and are
imported from nowhere else: ``ocr._page`` (the page types and error messages they share),
``ocr._raster`` (TIFF/PNG/JPEG decoding: EXIF, DPI, decompression-bomb checks),
``ocr._pdfpages`` (opening a PDF, choosing, decoding and placing a page's image) and
``ocr._pdflayout`` (what a PDF page draws and where: image placements and the text layer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ocr._page import PageImage, TextItem
from ocr._pdfpages import iter_pdf, open_pdf
from ocr._raster import count_raster, iter_raster
from ocr.errors import (
    EmptyInputError,
    TooLargeInputError,
    TooManyPagesError,
    UnreadableInputError,
    UnsupportedInputError,
)

__all__ = [
    "ANALYSIS_DPI",
    "DEFAULT_MAX_PIXELS",
    "PageImage",
    "TextItem",
    "count_pages",
    "iter_pages",
    "load_pages",
    "sniff_kind",
]

#: Per-page pixel limit: A3 at 600 dpi is ~70 MP, so 120 MP leaves room without letting a
#: malicious header make us allocate gigabytes.
DEFAULT_MAX_PIXELS = 120_000_000
#: The resolution a page is brought to for registration and reading (``ocr.render.FRAME_DPI``):
#: a page's *declared* size at this resolution is what it will cost, whatever its pixels.
ANALYSIS_DPI = 300
_MM_PER_INCH = 25.4

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
)
# Acrobat accepts "%PDF-" anywhere in the first KiB, so do we.
_PDF_HEADER_WINDOW = 1024


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


def iter_pages(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               max_pages: int = 0) -> Iterator[PageImage]:
    """Yield the pages of ``path`` one at a time, so a 200-page TIFF is never all in memory.

    The file is checked eagerly (type, emptiness, encryption, page count against
    ``max_pages``; 0 = no limit), so those errors are raised by this call itself; a page that
    turns out to be corrupt or too large raises when it is reached, after the pages before it
    were yielded. "Too large" is judged on pixels decoded *and* on the page's declared size
    at :data:`ANALYSIS_DPI`: a 14,400-point PDF page with a tiny image decodes to nothing,
    but registration would scale it to gigabytes.
    """
    path = Path(path)
    kind = sniff_kind(path)
    if kind == "pdf":
        reader = open_pdf(path)
        _check_count(path, len(reader.pages), max_pages)
        return _sized(path, iter_pdf(path, reader, max_pixels), max_pixels)
    _check_count(path, count_raster(path, kind), max_pages)
    return _sized(path, iter_raster(path, kind, max_pixels), max_pixels)


def _check_count(path: Path, n: int, max_pages: int) -> None:
    if max_pages and n > max_pages:
        raise TooManyPagesError(
            f"{path.name}: {n} pages > {max_pages} (max_pages_per_file)",
            reason_ja=(f"ページ数が上限を超えています（{n}ページ、上限は{max_pages}ページ）。"
                       "ファイルを分けてスキャンし、受付フォルダに入れ直してください。"))


def _sized(path: Path, pages: Iterator[PageImage], max_pixels: int) -> Iterator[PageImage]:
    for page in pages:
        w_mm, h_mm = page.page_size_mm
        px = (w_mm / _MM_PER_INCH * ANALYSIS_DPI) * (h_mm / _MM_PER_INCH * ANALYSIS_DPI)
        if page.image is not None and px > max_pixels:
            mp, limit = px / 1e6, max_pixels / 1e6
            raise TooLargeInputError(
                f"{path.name}: page {page.index} declares {w_mm:.0f} x {h_mm:.0f} mm "
                f"({mp:.0f} MP at {ANALYSIS_DPI} dpi > {limit:.0f} MP)",
                reason_ja=(f"{page.index}ページ目の用紙サイズが大きすぎます（{w_mm:.0f}×"
                           f"{h_mm:.0f}mm、約{mp:.0f}メガピクセル、上限は{limit:.0f}メガピクセル）。"
                           "A4またはA3の用紙としてスキャンし直してください。"))
        yield page


def load_pages(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               max_pages: int = 0) -> list[PageImage]:
    """All pages of ``path`` as a list (see :func:`iter_pages`)."""
    return list(iter_pages(path, max_pixels=max_pixels, max_pages=max_pages))


def count_pages(path: str | Path) -> int:
    """Number of pages in ``path`` without decoding any pixels.

    Raises the same errors as :func:`iter_pages` would for the whole file (a PDF with zero
    pages is an EmptyInputError, not 0), so a caller can vet a file cheaply.
    """
    path = Path(path)
    kind = sniff_kind(path)
    if kind == "pdf":
        return len(open_pdf(path).pages)
    return count_raster(path, kind)
