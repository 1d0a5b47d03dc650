"""Render a form template as a printed page (blank or filled) at any resolution.

Rendering from the template is what keeps the blank image, the sample generator and the
reader in agreement: the same millimetre boxes drive all three. Pillow draws the page; a
Japanese TrueType font must be installed (Debian: ``fonts-ipaexfont``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.errors import OcrError
from ocr.templates import FieldSpec, FieldType, FormTemplate

__all__ = [
    "FONT_PATHS",
    "Canvas",
    "MarkStyle",
    "blank_image",
    "find_font",
    "render_blank",
    "render_filled",
]

log = logging.getLogger(__name__)

# IPAex fonts (Debian fonts-ipaexfont) first; Noto CJK as an alternative install.
FONT_PATHS: dict[str, tuple[str, ...]] = {
    "gothic": (
        "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
        "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "C:/Windows/Fonts/msgothic.ttc",
    ),
    "mincho": (
        "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
        "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "C:/Windows/Fonts/msmincho.ttc",
    ),
}

QR_SIZE_MM = 18.0
QR_MARGIN_MM = 8.0
LINE_MM = 0.3
THIN_MM = 0.15


@functools.cache
def find_font(kind: str = "gothic") -> Path:
    """Path of an installed Japanese font of ``kind`` ('gothic' or 'mincho')."""
    for p in FONT_PATHS.get(kind, ()):
        if Path(p).is_file():
            return Path(p)
    raise OcrError(
        f"no Japanese {kind} font found (looked at {', '.join(FONT_PATHS.get(kind, ()))}); "
        "install one: apt-get install -y fonts-ipaexfont",
        reason_ja="日本語フォントがインストールされていません。",
    )


@functools.cache
def _font(path: Path, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), max(px, 4))


class Canvas:
    """A grayscale page addressed in millimetres."""

    def __init__(self, size_mm: tuple[float, float], dpi: float) -> None:
        self.dpi = dpi
        w, h = size_mm
        self.image = Image.new("L", (round(w / 25.4 * dpi), round(h / 25.4 * dpi)), 255)
        self.draw = ImageDraw.Draw(self.image)

    def px(self, mm: float) -> int:
        return round(mm / 25.4 * self.dpi)

    def rect(self, box: tuple[float, float, float, float], width_mm: float = LINE_MM,
             fill: int | None = None) -> None:
        x, y, w, h = box
        self.draw.rectangle(
            [self.px(x), self.px(y), self.px(x + w), self.px(y + h)],
            outline=0,
            width=max(1, self.px(width_mm)),
            fill=fill,
        )

    def line(self, a: tuple[float, float], b: tuple[float, float], width_mm: float = LINE_MM,
             ink: int = 0) -> None:
        self.draw.line(
            [self.px(a[0]), self.px(a[1]), self.px(b[0]), self.px(b[1])],
            fill=ink,
            width=max(1, self.px(width_mm)),
        )

    def text_width_mm(self, text: str, size_mm: float, font: Path) -> float:
        f = _font(font, self.px(size_mm))
        return self.draw.textlength(text, font=f) / self.dpi * 25.4

    def text(self, at: tuple[float, float], text: str, size_mm: float, font: Path, *,
             anchor: str = "lt", ink: int = 0, bold: bool = False) -> None:
        f = _font(font, self.px(size_mm))
        stroke = max(1, self.px(size_mm) // 30) if bold else 0
        self.draw.text(
            (self.px(at[0]), self.px(at[1])), text, font=f, fill=ink, anchor=anchor,
            stroke_width=stroke, stroke_fill=ink,
        )

    def fit_text(self, box: tuple[float, float, float, float], text: str, font: Path, *,
                 size_mm: float, pad_mm: float = 1.2, align: str = "left", ink: int = 0) -> None:
        """Draw ``text`` inside ``box``, shrinking it until it fits; vertically centred."""
        x, y, w, h = box
        size = min(size_mm, h * 0.62)
        avail = w - 2 * pad_mm
        width = self.text_width_mm(text, size, font)
        if width > avail > 0:
            size *= avail / width
            width = avail
        cy = y + h / 2
        if align == "center":
            self.text((x + w / 2, cy), text, size, font, anchor="mm", ink=ink)
        else:
            self.text((x + pad_mm, cy), text, size, font, anchor="lm", ink=ink)

    def paste_array(self, array: np.ndarray, at_mm: tuple[float, float]) -> None:
        self.image.paste(Image.fromarray(array), (self.px(at_mm[0]), self.px(at_mm[1])))

    def to_array(self) -> np.ndarray:
        return np.asarray(self.image, dtype=np.uint8).copy()


def _label_box(f: FieldSpec) -> tuple[float, float, float, float] | None:
    if f.type is FieldType.CHECKBOX or f.label_width <= 0:
        return None
    x, y, _, h = f.box
    return (x - f.label_width, y, f.label_width, h)


def _qr_image(payload: str, size_px: int) -> np.ndarray:
    qr = cv2.QRCodeEncoder.create().encode(payload)
    return cv2.resize(qr, (size_px, size_px), interpolation=cv2.INTER_NEAREST)


def _draw_skeleton(c: Canvas, template: FormTemplate) -> None:
    gothic = find_font("gothic")
    pw, _ = template.page_mm
    c.text((pw / 2, 16.0), template.title, 6.5, gothic, anchor="mm", bold=True)
    if template.form.qr:
        size = c.px(QR_SIZE_MM)
        c.paste_array(_qr_image(template.qr_payload, size), (pw - QR_MARGIN_MM - QR_SIZE_MM,
                                                            QR_MARGIN_MM))
    _, ph = template.page_mm
    c.text((12.0, ph - 8.0), f"様式ID: {template.id} 第{template.form.version}版", 2.4, gothic,
           anchor="lm")
    for d in template.decor:
        if d.kind == "text":
            c.text(d.at, d.text, d.size, gothic, bold=d.bold)
        elif d.kind == "line" and d.to is not None:
            c.line(d.at, d.to)
        elif d.kind == "rect" and d.to is not None:
            c.rect((d.at[0], d.at[1], d.to[0] - d.at[0], d.to[1] - d.at[1]))
    for f in template.fields:
        _draw_field_frame(c, f, gothic)


def _draw_field_frame(c: Canvas, f: FieldSpec, font: Path) -> None:
    lb = _label_box(f)
    if lb is not None:
        c.rect(lb)
        c.fit_text(lb, f.label, font, size_mm=3.4)
    if f.type is FieldType.CHECKBOX:
        c.rect(f.box)
        x, y, w, h = f.box
        c.text((x + w + 1.5, y + h / 2), f.caption or f.label, 3.4, font, anchor="lm")
        return
    c.rect(f.box)
    if f.type is FieldType.CHOICE:
        for o in f.options:
            x, y, w, h = o.box
            if f.options_style == "circle":  # a printed word the filler circles
                c.text((x + w / 2, y + h / 2), o.label, 3.6, font, anchor="mm")
                continue
            c.rect(o.box)
            c.text((x + w + 1.0, y + h / 2), o.label, 3.2, font, anchor="lm")
        return
    if f.comb > 1:
        x, y, w, h = f.box
        cell = w / f.comb
        # boxes for handwriting are closed (one digit each); typed combs only tick the gaps
        top, width = (y, LINE_MM) if f.handwritten else (y + h * 0.25, THIN_MM)
        for i in range(1, f.comb):
            c.line((x + i * cell, top), (x + i * cell, y + h), width)


def render_blank(template: FormTemplate, dpi: float = 300) -> np.ndarray:
    """The empty printed form as a grayscale image (white 255, ink 0)."""
    c = Canvas(template.page_mm, dpi)
    _draw_skeleton(c, template)
    return c.to_array()


@functools.lru_cache(maxsize=32)
def _blank_cached(template: FormTemplate, dpi: float) -> np.ndarray:
    path = template.blank_path
    if path is None:
        img = render_blank(template, dpi)
    else:
        raw = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if raw is None:
            raise OcrError(f"blank form image {path} cannot be read")
        img = cv2.resize(raw, template.page_px(dpi), interpolation=cv2.INTER_AREA)
    img.setflags(write=False)
    return img


def blank_image(template: FormTemplate, dpi: float = 300) -> np.ndarray:
    """The blank form at ``dpi`` (read-only): the template's image if it names one, else rendered.

    A scanned blank form of any resolution is resampled to the page size, which is why boxes
    stay in millimetres whatever the image's own dpi.
    """
    return _blank_cached(template, float(dpi))


@dataclass(frozen=True)
class MarkStyle:
    """How a mark is drawn by the sample generator: a tick, a cross, a fill or a circle."""

    kind: str = "tick"  # tick | cross | fill | circle


def _draw_mark(c: Canvas, box: tuple[float, float, float, float], style: MarkStyle,
               ink: int = 0) -> None:
    x, y, w, h = box
    lw = 0.45
    if style.kind == "cross":
        c.line((x + 0.8, y + 0.8), (x + w - 0.8, y + h - 0.8), lw, ink)
        c.line((x + w - 0.8, y + 0.8), (x + 0.8, y + h - 0.8), lw, ink)
    elif style.kind == "fill":
        c.draw.rectangle([c.px(x + 0.6), c.px(y + 0.6), c.px(x + w - 0.6), c.px(y + h - 0.6)],
                         fill=ink)
    elif style.kind == "circle":
        c.draw.ellipse([c.px(x - 0.8), c.px(y - 0.8), c.px(x + w + 0.8), c.px(y + h + 0.8)],
                       outline=ink, width=c.px(lw))
    else:
        c.line((x + 0.8, y + h * 0.55), (x + w * 0.42, y + h - 0.8), lw, ink)
        c.line((x + w * 0.42, y + h - 0.8), (x + w + 0.6, y - 0.6), lw, ink)


def draw_value(c: Canvas, f: FieldSpec, value: str, font: Path, *, size_mm: float = 4.6,
               mark: MarkStyle = MarkStyle(), ink: int = 0) -> None:
    """Write ``value`` into ``f`` as a filler would: left-aligned, one char per comb cell."""
    if f.type is FieldType.CHECKBOX:
        if value in {"1", "true", "True"}:
            _draw_mark(c, f.box, mark, ink)
        return
    if f.type is FieldType.CHOICE:
        for o in f.options:
            if o.label == value:
                style = MarkStyle("circle") if f.options_style == "circle" else mark
                _draw_mark(c, o.box, style, ink)
        return
    if not value:
        return
    x, y, w, h = f.box
    if f.comb > 1 and len(value) <= f.comb:
        cell = w / f.comb
        start = f.comb - len(value) if f.type is FieldType.AMOUNT else 0
        for i, ch in enumerate(value):
            c.fit_text((x + (start + i) * cell, y, cell, h), ch, font, size_mm=size_mm,
                       pad_mm=0.3, align="center", ink=ink)
        return
    if f.vertical:
        size = min(size_mm, w * 0.7)
        step = size * 1.08
        n = max(1, len(value))
        if n * step > h - 2:
            step = (h - 2) / n
            size = min(size, step / 1.08)
        for i, ch in enumerate(value):
            c.text((x + w / 2, y + 1 + step * (i + 0.5)), ch, size, font, anchor="mm", ink=ink)
        return
    c.fit_text(f.box, value, font, size_mm=size_mm, ink=ink)


def render_filled(template: FormTemplate, values: Mapping[str, str], *, dpi: float = 300,
                  font: Path | None = None, size_mm: float = 4.6,
                  mark: MarkStyle = MarkStyle()) -> np.ndarray:
    """The form with ``values`` written in, as a clean grayscale page (no scan artefacts)."""
    c = Canvas(template.page_mm, dpi)
    _draw_skeleton(c, template)
    font = font or find_font("mincho")
    for f in template.fields:
        v = values.get(f.name, "")
        draw_value(c, f, str(v) if v is not None else "", font, size_mm=size_mm, mark=mark)
    return c.to_array()
