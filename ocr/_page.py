"""What every input reader produces and how it reports a bad file (private to ocr.sources).

:class:`PageImage` and :class:`TextItem` are the contract of :mod:`ocr.sources`; they live
here, below both the raster and the PDF readers, so that the readers can build them and the
public module can import the readers without an import cycle. The error helpers give every
reader the same one-line message shape (file, page, the library's complaint, no traceback).
Import these names from :mod:`ocr.sources`, never from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocr.errors import TooLargeInputError, UnreadableInputError

__all__ = [
    "MM_PER_INCH",
    "PT_PER_INCH",
    "PageImage",
    "TextItem",
    "page_label",
    "too_large",
    "unreadable",
]

MM_PER_INCH = 25.4
PT_PER_INCH = 72.0


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


def page_label(path: Path, index: int | None) -> str:
    """``file`` or ``file: page N``: the prefix of every error message."""
    return f"{path.name}: page {index}" if index is not None else path.name


def unreadable(path: Path, index: int | None, exc: BaseException) -> UnreadableInputError:
    """A one-line message naming the file, page and the library's complaint (no traceback)."""
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return UnreadableInputError(
        f"{page_label(path, index)}: damaged or truncated ({type(exc).__name__}: {detail})"
    )


def too_large(path: Path, index: int | None, detail: str) -> TooLargeInputError:
    """The error for a page over the pixel limit (``detail`` says by how much)."""
    return TooLargeInputError(f"{page_label(path, index)}: image too large ({detail})")
