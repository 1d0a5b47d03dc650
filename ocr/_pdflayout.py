"""What a PDF page draws and where: placed images and its positioned text layer (private).

One pass of pypdf's text extraction, watched by :class:`PageWalker`, yields both the images
a page draws (with the matrix that places each one) and the text runs it shows (with their
corners in user space). This module owns that walk and the page geometry around it: PDF
matrix algebra, following form XObjects, ``/Rotate``, and turning text corners into
:class:`~ocr.sources.TextItem` boxes in millimetres on the page as displayed. It decodes no
pixels; choosing and decoding the page image is :mod:`ocr._pdfpages`' job.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from typing import Any

import pypdf

from ocr._page import MM_PER_INCH, PT_PER_INCH, TextItem

__all__ = [
    "Matrix",
    "PageWalker",
    "Placed",
    "bbox_of",
    "page_rotation",
    "resolve",
    "text_item",
]

# Logged under the public module's name, as before the split, so log lines and filters agree.
log = logging.getLogger("ocr.sources")

# Text boxes: IPAex/most CJK fonts have ascent 0.88 em and descent 0.12 em.
_ASCENT_EM = 0.88
_DESCENT_EM = 0.12
_LINE_EM = 1.2

Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Placed:
    """An image drawn on a PDF page: the matrix maps its unit square to page user space."""

    ctm: Matrix
    width: int
    height: int
    bits: int
    xobj: Any | None  # image stream; None for an inline image
    inline_index: int | None

    def bbox(self) -> tuple[float, float, float, float]:
        return bbox_of([_apply(self.ctm, u, v) for u in (0, 1) for v in (0, 1)])


@dataclass
class _Frame:
    matrix: Matrix
    resources: Any


class PageWalker:
    """Collect placed images and positioned text from one pass of pypdf's text extraction.

    pypdf reports the graphics state (cm) relative to the innermost form XObject and starts
    each form at identity, ignoring its /Matrix and the outer CTM. A stack of frames restores
    the full transform: a form's frame is pushed when its first operator is seen (text flushed
    by pypdf between ``Do`` and that moment still belongs to the outer content) and popped at
    the ``Do``'s after-visit.
    """

    def __init__(self, page: pypdf.PageObject) -> None:
        self.frames = [_Frame(_IDENTITY, resolve(page.get("/Resources")))]
        self.do_stack: list[_Frame | bool | None] = []  # pending frame / True once pushed
        self.images: list[Placed] = []
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
                self.do_stack.append(_Frame(_mul(matrix, ctm), resolve(xobj.get("/Resources"))))
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

    def _add_image(self, ctm: Matrix, d: Any, inline_index: int | None) -> None:
        try:
            width = int(resolve(d.get("/Width", d.get("/W", 0))))
            height = int(resolve(d.get("/Height", d.get("/H", 0))))
            bits = int(resolve(d.get("/BitsPerComponent", d.get("/BPC", 8))) or 8)
        except (TypeError, ValueError):
            return
        if width > 0 and height > 0:
            xobj = d if inline_index is None else None
            self.images.append(Placed(ctm, width, height, bits, xobj, inline_index))

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


def text_item(
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
    bx0, by0, bx1, by1 = bbox_of(pts)
    return TextItem(text, round(bx0, 2), round(by0, 2), round(bx1 - bx0, 2), round(by1 - by0, 2))


def page_rotation(page: pypdf.PageObject) -> int:
    """The page's ``/Rotate`` as 0, 90, 180 or 270 (clockwise, as displayed)."""
    try:
        rot = int(resolve(page.rotation))
    except (TypeError, ValueError):
        return 0
    rot %= 360
    if rot % 90:
        log.warning("/Rotate %d is not a multiple of 90; rounded", rot)
        rot = (round(rot / 90) * 90) % 360
    return rot


def _em_width(text: str) -> float:
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in text)


def resolve(obj: Any) -> Any:
    """The object an indirect reference points to (anything else as is)."""
    return obj.get_object() if hasattr(obj, "get_object") else obj


def _lookup_xobject(resources: Any, name: Any) -> Any:
    try:
        xobjects = resolve(resources.get("/XObject"))
        xobj = resolve(xobjects[name]) if xobjects is not None else None
    except (AttributeError, KeyError, TypeError):
        return None
    return xobj if hasattr(xobj, "get") else None


def _matrix(value: Any) -> Matrix:
    try:
        m = tuple(float(resolve(v)) for v in resolve(value))
    except (TypeError, ValueError):
        return _IDENTITY
    return m if len(m) == 6 else _IDENTITY  # type: ignore[return-value]


def _mul(m: Matrix, n: Matrix) -> Matrix:
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


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def bbox_of(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """Axis-aligned bounds ``(x0, y0, x1, y1)`` of some points."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)
