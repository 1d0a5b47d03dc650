"""World two: forms nobody here designed, filled and scanned the way the reader never saw.

The reader is calibrated on world one (:mod:`robots.samples`: our own three forms, IPAex
fonts, their value styles and scan artefacts). A reader tuned on one world can be blind to
another, so this second world shares nothing with the first but the reference data: other
form designs drawn by their own code (:mod:`.designs`; templates in ``forms/`` written from
the rendered blanks alone), Noto Sans/Serif CJK JP at 10-13 pt, names and kana always with a
full-width space, 〒 before postal codes, surnames printed with 髙 﨑 齋 邉 櫻, full-width
digits in dates, letters folded in three with their creases and shadows and an uneven lamp
(:mod:`.paper`). **Nothing in ocr/ may be tuned on it**: it is for reporting only
(``bench/ocr_accuracy.py --world 2``).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ocr.japanese import normalize_kana, normalize_phone, normalize_text
from robots.samples.context import DocumentContext
from robots.samples.values import SAMPLE_TODAY
from robots.samples.world2.designs import DESIGNS, Cell, Design, font, render_design
from robots.samples.world2.paper import W2_LEVELS, age_page
from robots.samples.writers import EXTENSIONS, write_pages, write_truth

__all__ = ["FORMS_DIR", "W2_LEVELS", "blank_png", "fill", "generate_world2", "render_world2"]

FORMS_DIR = Path(__file__).resolve().parent / "forms"
# Surnames are printed with their variant form this often when they have one: 髙橋, 山﨑 …
VARIANT_RATE = 0.5
_VARIANTS = (("渡辺", "渡邉"), ("高", "髙"), ("崎", "﨑"), ("斎", "齋"), ("斉", "齋"),
             ("桜", "櫻"))
_FULL = str.maketrans("0123456789", "０１２３４５６７８９")
_ERAS = (("令和", dt.date(2019, 5, 1)), ("平成", dt.date(1989, 1, 8)),
         ("昭和", dt.date(1926, 12, 25)), ("大正", dt.date(1912, 7, 30)))


def _variant(surname: str, rng: np.random.Generator) -> str:
    for common, rare in _VARIANTS:
        if common in surname and rng.random() < VARIANT_RATE:
            return surname.replace(common, rare)
    return surname


def _date(d: dt.date, rng: np.random.Generator) -> str:
    """Dates as another town's clerks print them: era, full-width digits, spaced out."""
    era, start = next((e, s) for e, s in _ERAS if d >= s)
    year = d.year - start.year + 1
    y = "元" if year == 1 else str(year)
    if rng.random() < 0.7:
        return f"{era}{y}年{d.month}月{d.day}日".translate(_FULL)
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


class _World2Doc:
    """The values of one document (truth and print), drawn with world one's reference data."""

    def __init__(self, design: Design, rng: np.random.Generator) -> None:
        self.rng = rng
        self.ctx = DocumentContext(rng, SAMPLE_TODAY, corporate=False)
        self.other = DocumentContext(np.random.default_rng(rng.integers(2**32)), SAMPLE_TODAY,
                                     corporate=False)
        self.printed: dict[str, str] = {}
        self.truth: dict[str, str] = {}
        groups: dict[str, list[Cell]] = {}
        for c in design.cells:
            if c.hint.startswith(("pick:", "any:")):
                groups.setdefault(c.hint, []).append(c)
        ticked = set()
        for hint, members in sorted(groups.items()):
            if hint.startswith("pick:"):
                ticked.add(members[int(rng.integers(len(members)))].name)
            else:
                chosen = [m.name for m in members if rng.random() < 0.4]
                ticked |= set(chosen or [members[int(rng.integers(len(members)))].name])
        last = _variant(self.ctx.person.last, rng)
        self.name = f"{last}\u3000{self.ctx.person.first}"
        self.kana = f"{self.ctx.person.last_kana}\u3000{self.ctx.person.first_kana}"
        for c in design.cells:
            if c.kind == "tick":
                on = c.name in ticked if ":" in c.hint else bool(rng.random() < 0.5)
                self.printed[c.name] = self.truth[c.name] = "1" if on else "0"
        for c in design.cells:
            if c.kind != "tick":
                self.printed[c.name], self.truth[c.name] = self._value(c)

    def _value(self, c: Cell) -> tuple[str, str]:
        hint = c.hint
        if hint.startswith("when:"):
            _, box, inner = hint.split(":", 2)
            if self.truth.get(box) != "1":
                return "", ""
            hint = inner
        ctx = self.ctx
        if hint == "person.name":
            return self.name, normalize_text(self.name)
        if hint == "staff.name":
            s = ctx.staff
            v = f"{s.last}\u3000{s.first}"
            return v, normalize_text(v)
        if hint == "person.kana":
            return self.kana, normalize_kana(self.kana)
        if hint in ("date.request", "person.birth_date"):
            d = ctx.doc_date if hint == "date.request" else ctx.birth_date
            return _date(d, self.rng), d.isoformat()
        if hint in ("address.postal_code", "old.postal_code"):
            place = (ctx if hint.startswith("address") else self.other).place
            return f"〒{place.postal_code}", place.postal_code
        if hint in ("address.full", "old.full"):
            v = (ctx if hint.startswith("address") else self.other).address
            return v, normalize_text(v)
        if hint == "person.phone":
            v = ctx.person_phone
            if self.rng.random() < 0.3 and v.count("-") == 2:
                area, local, line = v.split("-")
                v = f"{area}({local}){line}"
            return v, normalize_phone(v) or v
        if hint == "bank.code":
            return ctx.bank.bank_code, ctx.bank.bank_code
        if hint == "branch.code":
            return ctx.bank.branch_code, ctx.bank.branch_code
        if hint == "bank.name":
            v = ctx.bank_name()
            return v, normalize_text(v)
        if hint == "branch.name":
            v = ctx.branch_name()
            return v, normalize_text(v)
        if hint == "account.number":
            v = "".join(str(int(self.rng.integers(10))) for _ in range(7))
            return v, v
        raise ValueError(f"world two: unknown hint {hint!r} of {c.name}")


def fill(design: Design, rng: np.random.Generator) -> tuple[dict[str, str], dict[str, str]]:
    """(printed, truth) of one document of ``design``."""
    doc = _World2Doc(design, rng)
    return doc.printed, doc.truth


def _tick(dr: ImageDraw.ImageDraw, box: tuple[float, float, float, float], k: float,
          rng: np.random.Generator, style: str) -> None:
    x, y, w, h = box

    def p(a: float, b: float) -> tuple[int, int]:
        return round(a * k), round(b * k)

    width = max(2, round(rng.uniform(0.35, 0.6) * k))
    if style == "cross":
        dr.line([p(x + 0.7, y + 0.7), p(x + w - 0.7, y + h - 0.7)], fill=20, width=width)
        dr.line([p(x + w - 0.7, y + 0.7), p(x + 0.7, y + h - 0.7)], fill=20, width=width)
    elif style == "dot":
        dr.ellipse([p(x + 1.0, y + 1.0), p(x + w - 1.0, y + h - 1.0)], fill=20)
    else:  # a check that overshoots the box, as people draw it
        dr.line([p(x + 0.6, y + h * 0.45), p(x + w * 0.4, y + h - 0.5)], fill=20, width=width)
        dr.line([p(x + w * 0.4, y + h - 0.5), p(x + w + 1.0, y - 1.2)], fill=20, width=width)


def render_world2(design: Design, printed: dict[str, str], rng: np.random.Generator,
                  level: int) -> tuple[np.ndarray, float]:
    """The filled form of ``design`` aged and scanned at ``level``: (gray image, dpi)."""
    p = W2_LEVELS[level]
    dpi = float(p.dpis[int(rng.integers(len(p.dpis)))])
    k = dpi / 25.4
    style = ("sans", "serif")[int(rng.integers(2))]
    img = render_design(design, dpi, style)
    dr = ImageDraw.Draw(img)
    size_mm = float(rng.uniform(10, 13)) * 0.3528  # 10-13 pt
    tick = ("check", "check", "cross", "dot")[int(rng.integers(4))]
    ink = int(rng.integers(0, 40))
    for c in design.cells:
        value = printed.get(c.name, "")
        x, y, w, h = c.box
        if c.kind == "tick":
            if value == "1":
                _tick(dr, c.box, k, rng, tick)
            continue
        if not value:
            continue
        s = min(size_mm, h * 0.7) * float(rng.uniform(0.97, 1.03))
        f = font(style, round(s * k))
        cy = y + h / 2 + float(rng.uniform(-0.4, 0.4))
        if c.kind == "cells":
            cell = w / c.cells
            for i, ch in enumerate(value[: c.cells]):
                dr.text((round((x + (i + 0.5) * cell) * k), round(cy * k)), ch, font=f,
                        fill=ink, anchor="mm")
            continue
        left = x + float(rng.uniform(1.5, 3.0))
        width = f.getlength(value) / k
        if width > w - (left - x) - 1.0:  # shrink a long value to its box, as a printer would
            f = font(style, max(8, math.floor(s * k * (w - (left - x) - 1.0) / width)))
        dr.text((round(left * k), round(cy * k)), value, font=f, fill=ink, anchor="lm")
    return age_page(np.asarray(img, dtype=np.uint8), dpi, level, rng), dpi


def generate_world2(form: str, *, count: int, seed: int, out_dir: str | Path, level: int = 0,
                    fmt: str = "pdf") -> list[Path]:
    """Write ``count`` scans of world-two form ``form`` with their truth; return the scans."""
    design = DESIGNS[form]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        rng = np.random.default_rng([seed, 2, i])
        printed, truth = fill(design, rng)
        page, dpi = render_world2(design, printed, rng, level)
        path = out / f"{form}-w2s{seed}-{i:04d}.{EXTENSIONS[fmt]}"
        write_pages(path, [(page, dpi)], fmt, jpeg_quality=W2_LEVELS[level].jpeg_quality)
        write_truth(path.with_suffix(".json"), {"form": form, "fields": truth,
                                                 "printed": printed, "seed": seed, "index": i,
                                                 "degrade": level, "dpi": dpi, "world": 2})
        paths.append(path)
    return paths


def blank_png(form: str, path: str | Path, dpi: float = 300.0) -> Path:
    """The blank of ``form`` as a clerk would scan it (sans-serif print), for its template."""
    img: Image.Image = render_design(DESIGNS[form], dpi, "sans")
    img.save(path, dpi=(dpi, dpi))
    return Path(path)
