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
from ocr.errors import EmptyInputError, UnreadableInputError, UnsupportedInputError

__all__ = [
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


def iter_pages(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Iterator[PageImage]:
    """Yield the pages of ``path`` one at a time, so a 200-page TIFF is never all in memory.

    The file is checked eagerly (type, emptiness, encryption, page count), so those errors are
    raised by this call itself; a page that turns out to be corrupt or too large raises when
    it is reached, after the pages before it were yielded.
    """
    path = Path(path)
    kind = sniff_kind(path)
    if kind == "pdf":
        reader = open_pdf(path)
        return iter_pdf(path, reader, max_pixels)
    count_raster(path, kind)
    return iter_raster(path, kind, max_pixels)


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
        return len(open_pdf(path).pages)
    return count_raster(path, kind)
