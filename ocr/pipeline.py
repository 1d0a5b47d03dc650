"""File in, fields out: the whole OCR flow for one document.

A :class:`Reader` holds what is expensive to build — the template library, registration
models, loaded recognisers — and is meant to live as long as its process.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ocr.align import FRAME_DPI, Aligner
from ocr.engines import Engine, get_engine
from ocr.errors import RegistrationError
from ocr.fields import FieldReader, ReadOptions
from ocr.preprocess import to_gray
from ocr.render import blank_image
from ocr.results import DocumentResult, PageResult
from ocr.sources import DEFAULT_MAX_PIXELS, PageImage, iter_pages
from ocr.templates import FormTemplate, TemplateLibrary

__all__ = ["DEFAULT_ENGINES", "PipelineOptions", "Reader", "make_engines", "read_document"]

log = logging.getLogger(__name__)

# Tesseract first, RapidOCR last: on a disagreement with equal standing the last one wins.
DEFAULT_ENGINES: tuple[str, ...] = ("tesseract", "rapidocr")


@dataclass(frozen=True)
class PipelineOptions:
    """Everything a worker needs to read documents the same way as its parent."""

    engines: tuple[str, ...] = DEFAULT_ENGINES
    tesseract_model: str = "fast"
    read: ReadOptions = field(default_factory=ReadOptions)
    form: str | None = None  # read every page as this form instead of identifying it
    max_pixels: int = DEFAULT_MAX_PIXELS  # per page, decoded and as declared (see ocr.sources)
    max_pages: int = 0  # per file; 0 = no limit


def make_engines(names: Iterable[str], *, tesseract_model: str = "fast") -> list[Engine]:
    """The process-wide engine instances for ``names``."""
    engines = []
    for n in names:
        opts: dict[str, object] = {}
        if n in {"tesseract", "pytesseract"}:
            opts["model"] = tesseract_model
        engines.append(get_engine(n, **opts))
    return engines


class Reader:
    """Reads documents against a template library."""

    def __init__(self, library: TemplateLibrary, options: PipelineOptions | None = None) -> None:
        self.library = library
        self.options = options or PipelineOptions()
        self.aligner = Aligner(library)
        self.fields = FieldReader(
            make_engines(self.options.engines, tesseract_model=self.options.tesseract_model),
            self.options.read, FRAME_DPI)

    def read_file(self, path: str | Path) -> DocumentResult:
        """All pages of one file.

        Raises :class:`ocr.errors.InputError` for unreadable input; a page that matches no
        form is returned with its error and the other pages are still read.
        """
        path = Path(path)
        doc = DocumentResult(file=str(path))
        t0 = time.perf_counter()
        for page in iter_pages(path, max_pixels=self.options.max_pixels,
                               max_pages=self.options.max_pages):
            load_ms = (time.perf_counter() - t0) * 1000
            result = self.read_page(page)
            result.timings_ms["load"] = round(load_ms, 1)
            doc.pages.append(result)
            t0 = time.perf_counter()
        return doc

    def read_page(self, page: PageImage) -> PageResult:
        """One page: identified, registered and read; errors are kept on the result."""
        if page.image is None:
            return self._read_text_page(page)
        t0 = time.perf_counter()
        gray = to_gray(page.image)
        try:
            aligned = self.aligner.align(gray, page.dpi, form=self.options.form)
        except RegistrationError as exc:
            log.info("page %d: %s", page.index, exc)
            return PageResult(page.index, None, 0.0, error=str(exc), error_ja=exc.reason_ja,
                              timings_ms={"align": _ms(t0)})
        t1 = time.perf_counter()
        template = aligned.template
        fields = self.fields.read_page(template, aligned.image, blank_image(template, FRAME_DPI))
        return PageResult(page.index, template.id, aligned.score, fields,
                          identified_by=aligned.identified_by, rotation=aligned.rotation,
                          timings_ms={"align": _ms(t0, t1), "fields": _ms(t1)})

    def _read_text_page(self, page: PageImage) -> PageResult:
        template = self._identify_text(page)
        if template is None:
            err = RegistrationError("text-only PDF page whose title matches no form template")
            return PageResult(page.index, None, 0.0, error=str(err), error_ja=err.reason_ja)
        words = [(w.text, w.x_mm, w.y_mm, w.w_mm, w.h_mm) for w in page.words]
        fields = self.fields.read_text_layer(template, words)
        return PageResult(page.index, template.id, 1.0, fields, identified_by="text_layer")

    def _identify_text(self, page: PageImage) -> FormTemplate | None:
        if self.options.form:
            return self.library.get(self.options.form)
        text = _squash("".join(w.text for w in page.words))
        hits = [t for t in self.library if _squash(t.title) in text]
        return max(hits, key=lambda t: len(t.title)) if hits else None


def _squash(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).split())


def _ms(t0: float, t1: float | None = None) -> float:
    return round(((t1 if t1 is not None else time.perf_counter()) - t0) * 1000, 1)


def read_document(path: str | Path, library: TemplateLibrary,
                  options: PipelineOptions | None = None) -> DocumentResult:
    """Convenience for notebooks and scripts: build a :class:`Reader` and read one file."""
    return Reader(library, options).read_file(path)
