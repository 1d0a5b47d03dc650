"""Put a sample document on paper and scan it: the filled page as the reader will receive it.

The blank form comes from :mod:`ocr.render` (the same millimetre boxes the reader uses), and
each value is written with :func:`ocr.render.draw_value`, varied per document the way real
fillers vary: typeface, size, a small offset inside the box, how a box is marked. Names get a
red seal (印影) at degradation level 2 and above, since that is where a reader meets one.

Fields a template marks ``handwritten`` are written by the ``"hand"`` writer of :data:`WRITERS`
(:mod:`robots.samples.handwriting`: real held-out handwritten digits in boxes, marks drawn as
pen strokes); every other field by the writer the :class:`PenStyle` names (``"print"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.render import (
    QR_MARGIN_MM,
    QR_SIZE_MM,
    Canvas,
    MarkStyle,
    blank_image,
    draw_value,
    find_font,
)
from ocr.templates import FieldSpec, FieldType, FormTemplate
from robots.samples.degrade import LEVELS, degrade_page, scan_dpi
from robots.samples.handwriting import write_hand
from robots.samples.sources import split_name
from robots.samples.values import SampleDocument, base_hint, field_hint

__all__ = ["MARK_KINDS", "WRITERS", "PenStyle", "choose_style", "render_sample"]

MARK_KINDS = ("tick", "tick", "cross", "fill", "circle")
_SEAL_HINTS = frozenset({"person.name", "staff.name"})
_PAD_MM = 1.2  # ocr.render.Canvas.fit_text's left padding

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PenStyle:
    """How one document is filled in (drawn once per document)."""

    hand: str = "print"  # key into WRITERS; "print" = typed with a font
    font: str = "mincho"  # mincho | gothic
    size_mm: float = 4.6
    ink: int = 0  # 0 black … 60 dark grey
    mark: str = "tick"  # tick | cross | fill | circle
    jitter_mm: float = 0.5  # largest offset of a value inside its box


def choose_style(rng: np.random.Generator) -> PenStyle:
    """A typist's habits: typeface, size, ink and mark, drawn from ``rng``."""
    return PenStyle(
        font=("mincho", "gothic")[int(rng.integers(2))],
        size_mm=float(rng.uniform(4.0, 5.0)),
        ink=int(rng.integers(0, 50)),
        mark=MARK_KINDS[int(rng.integers(len(MARK_KINDS)))],
        jitter_mm=float(rng.uniform(0.2, 0.7)),
    )


def _shift(box: Box, dx: float, dy: float) -> Box:
    x, y, w, h = box
    return (x + dx, y + dy, w, h)


def _write_printed(c: Canvas, f: FieldSpec, value: str, style: PenStyle,
                   rng: np.random.Generator) -> Box | None:
    """Type ``value`` into ``f``; return the mm box the text occupies (None if nothing)."""
    j = style.jitter_mm if not f.comb else min(style.jitter_mm, 0.3)
    dx, dy = float(rng.uniform(-0.3 * j, j)), float(rng.uniform(-0.6 * j, 0.6 * j))
    size = style.size_mm * float(rng.uniform(0.95, 1.05))
    moved = f.model_copy(update={
        "box": _shift(f.box, dx, dy),
        "options": tuple(o.model_copy(update={"box": _shift(o.box, dx, dy)}) for o in f.options),
    })
    font = find_font(style.font)
    draw_value(c, moved, value, font, size_mm=size, mark=MarkStyle(style.mark), ink=style.ink)
    if not value or f.is_mark or f.comb or f.vertical:
        return None
    x, y, w, h = moved.box
    s = min(size, h * 0.62)  # the size fit_text uses, then shrunk to the box's width
    width = min(c.text_width_mm(value, s, font), w - 2 * _PAD_MM)
    return (x + _PAD_MM, y, width, h)


def _write_by_hand(c: Canvas, f: FieldSpec, value: str, style: PenStyle,
                   rng: np.random.Generator) -> Box | None:
    """Digits in boxes and marks by hand (held-out real digits); words still typed.

    No handwritten kanji or kana ship in any package, and the reader does not OCR
    handwritten words anyway (staff key them), so they are typed in the document's font.
    """
    if write_hand(c, f, value, style, rng):
        return None
    return _write_printed(c, f, value, style, rng)


FieldWriter = Callable[[Canvas, FieldSpec, str, PenStyle, np.random.Generator], "Box | None"]
# The handwriting hook: a field the template marks ``handwritten`` is written by "hand";
# a ``PenStyle.hand`` names the writer of every other field.
WRITERS: dict[str, FieldWriter] = {"print": _write_printed, "hand": _write_by_hand}


def _seal_mask(text: str, diameter_px: int, font: Path, rng: np.random.Generator) -> np.ndarray:
    """Ink coverage (0..1) of a round personal seal with ``text`` (a surname) inside."""
    d = max(diameter_px, 16)
    img = Image.new("L", (d, d), 0)
    draw = ImageDraw.Draw(img)
    ring = max(2, round(d * 0.06))
    draw.ellipse([ring // 2, ring // 2, d - 1 - ring // 2, d - 1 - ring // 2], outline=255,
                 width=ring)
    chars = text[:3] or "印"
    n = len(chars)
    step = d * (0.56 if n == 1 else 0.74 / n)
    f = ImageFont.truetype(str(font), max(6, round(step * 0.95)))
    for i, ch in enumerate(chars):
        cy = d / 2 + (i - (n - 1) / 2) * step
        draw.text((d / 2, cy), ch, font=f, fill=255, anchor="mm",
                  stroke_width=max(1, d // 60), stroke_fill=255)
    img = img.rotate(float(rng.uniform(-15, 15)), resample=Image.Resampling.BILINEAR)
    mask = np.asarray(img, dtype=np.float32) / 255.0
    # Uneven ink: a coarse random field, upsampled, thins the impression in places.
    coarse = rng.uniform(0.45, 1.0, size=(6, 6)).astype(np.float32)
    texture = np.asarray(Image.fromarray(coarse).resize((d, d), Image.Resampling.BICUBIC))
    return np.clip(mask * np.clip(texture * 1.15, 0.0, 1.0), 0.0, 1.0)


def _seal_spot(f: FieldSpec, text_box: Box, diameter: float,
               rng: np.random.Generator) -> tuple[float, float] | None:
    """Centre (mm) of a seal for name field ``f``: after the name, or over the label cell."""
    x, y, w, h = f.box
    r = diameter / 2
    cy = y + h / 2 + float(rng.uniform(-1.0, 1.0))
    tx, _, tw, _ = text_box
    lo, hi = tx + tw + 1.0 + r, x + w + r * 0.3
    over_label = f.label_width >= 2 * r and rng.random() < 0.25
    if lo <= hi and not over_label:
        return float(rng.uniform(max(lo, hi - 8.0), hi)), cy
    if f.label_width >= 2 * r:  # partly over the printed label, clear of the value
        return float(rng.uniform(x - f.label_width + r * 0.6, x - r - 0.3)), cy
    return None


def _stamp(page: np.ndarray, mask: np.ndarray, centre_px: tuple[int, int],
           colour: np.ndarray) -> None:
    """Press a seal onto a BGR page in place: red ink darkens, never lightens, the paper."""
    d = mask.shape[0]
    x0, y0 = centre_px[0] - d // 2, centre_px[1] - d // 2
    ys = slice(max(y0, 0), min(y0 + d, page.shape[0]))
    xs = slice(max(x0, 0), min(x0 + d, page.shape[1]))
    a = mask[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0, None]
    region = page[ys, xs].astype(np.float32)
    inked = np.minimum(region, colour)
    page[ys, xs] = np.clip(region - a * (region - inked), 0, 255).astype(np.uint8)


def _keep_boxes(template: FormTemplate) -> list[Box]:
    boxes: list[Box] = []
    for f in template.fields:
        x, y, w, h = f.box
        left = x - (f.label_width if f.type is not FieldType.CHECKBOX else 0)
        right = x + w + (3.6 * len(f.caption or f.label) if f.type is FieldType.CHECKBOX else 0)
        boxes.append((left, y, right - left, h))
    if template.form.qr:
        pw, _ = template.page_mm
        boxes.append((pw - QR_MARGIN_MM - QR_SIZE_MM, QR_MARGIN_MM, QR_SIZE_MM, QR_SIZE_MM))
    return boxes


def render_sample(template: FormTemplate, doc: SampleDocument, rng: np.random.Generator, *,
                  degrade: int = 0, dpi: float | None = None) -> tuple[np.ndarray, float]:
    """The filled form as scanned at degradation ``degrade`` (0..3): (image, dpi).

    The image is uint8 grayscale, or BGR when the level adds colour (seals, paper tint).
    ``dpi`` forces the resolution (used to keep one resolution within a multi-page file);
    otherwise the level decides it.
    """
    if degrade not in LEVELS:
        raise ValueError(f"degrade must be one of {sorted(LEVELS)}, not {degrade!r}")
    level = LEVELS[degrade]
    dpi = float(dpi if dpi is not None else scan_dpi(degrade, rng))
    style = choose_style(rng)
    c = Canvas(template.page_mm, dpi)
    c.image.paste(Image.fromarray(blank_image(template, dpi)))
    written: dict[str, Box] = {}
    for f in template.fields:
        writer = WRITERS["hand" if f.handwritten else style.hand]
        box = writer(c, f, doc.printed.get(f.name, ""), style, rng)
        if box is not None:
            written[f.name] = box
    page = c.to_array()
    if level.seals:
        page = _add_seals(template, doc, page, dpi=dpi, written=written, rng=rng)
    return degrade_page(page, dpi, degrade, rng, keep=_keep_boxes(template)), dpi


def _add_seals(template: FormTemplate, doc: SampleDocument, page: np.ndarray, *, dpi: float,
               written: dict[str, Box], rng: np.random.Generator) -> np.ndarray:
    """Seal some name fields (after the name, or over its label): a colour page results."""
    page = np.repeat(page[:, :, None], 3, axis=2)
    font = find_font("mincho")
    for f in template.fields:
        if base_hint(field_hint(f)) not in _SEAL_HINTS or f.name not in written:
            continue
        if rng.random() < 0.2:  # not everyone seals
            continue
        diameter = min(f.box[3] + 0.5, float(rng.uniform(10.0, 12.0)))
        spot = _seal_spot(f, written[f.name], diameter, rng)
        if spot is None:
            continue
        surname = split_name(doc.printed[f.name])[0]
        mask = _seal_mask(surname, round(diameter / 25.4 * dpi), font, rng)
        colour = np.array([rng.uniform(30, 70), rng.uniform(25, 60), rng.uniform(175, 225)],
                          dtype=np.float32)
        centre = (round(spot[0] / 25.4 * dpi), round(spot[1] / 25.4 * dpi))
        _stamp(page, mask * float(rng.uniform(0.75, 0.95)), centre, colour)
    return page
