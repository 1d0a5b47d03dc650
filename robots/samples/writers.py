"""Scan files as offices make them, each with its ground truth beside it.

Formats are those that reach the town's inbox: PNG and JPEG from desktop scanners, scanned PDF
(one embedded image per page, page size from the image's resolution) and bilevel CCITT Group 4
TIFF from multifunction printers. Several documents can share one PDF or TIFF, as a batch fed
through the document feeder does. The truth JSON (``<scan stem>.json``) holds the normalised
values the reader must produce, and what was printed, so a test can tell a reading error from
a normalisation error.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from ocr.templates import FormTemplate
from robots.samples.degrade import LEVELS, scan_dpi
from robots.samples.draw import render_sample
from robots.samples.town import SampleTown
from robots.samples.values import SAMPLE_TODAY, SampleDocument, make_values

__all__ = ["EXTENSIONS", "TIFF_THRESHOLD", "generate", "town_for", "write_pages", "write_truth"]

log = logging.getLogger(__name__)

EXTENSIONS = {"png": "png", "jpeg": "jpg", "pdf": "pdf", "tiff": "tif"}
MULTIPAGE = frozenset({"pdf", "tiff"})
# Gray level below which a pixel is black in a bilevel TIFF: a little above the middle, as
# MFPs set it, so faded ink survives while paper tint and noise stay white.
TIFF_THRESHOLD = 160
# Fixed PDF dates: a PDF with the time of writing in it would differ on every run.
_PDF_DATE = time.struct_time((2026, 10, 1, 0, 0, 0, 3, 274, 0))


def _to_pil(image: np.ndarray) -> Image.Image:
    if image.ndim == 3:
        return Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), "RGB")
    return Image.fromarray(image, "L")


def _bilevel(image: np.ndarray) -> Image.Image:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return Image.fromarray(np.where(gray >= TIFF_THRESHOLD, 255, 0).astype(np.uint8), "L").convert(
        "1", dither=Image.Dither.NONE
    )


def write_pages(path: Path, pages: Sequence[tuple[np.ndarray, float]], fmt: str, *,
                jpeg_quality: int = 95) -> None:
    """Write ``pages`` ((image, dpi) pairs) as one file of format ``fmt``.

    PNG and JPEG take exactly one page. All pages of a PDF or TIFF share the first page's dpi
    (the caller renders them at one resolution).
    """
    if fmt not in EXTENSIONS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(EXTENSIONS)}")
    if len(pages) != 1 and fmt not in MULTIPAGE:
        raise ValueError(f"{fmt} holds one page, got {len(pages)}")
    dpi = float(pages[0][1])
    if fmt == "png":
        _to_pil(pages[0][0]).save(path, "PNG", dpi=(dpi, dpi))
    elif fmt == "jpeg":
        _to_pil(pages[0][0]).save(path, "JPEG", quality=jpeg_quality, dpi=(round(dpi), round(dpi)))
    elif fmt == "pdf":
        ims = [_to_pil(img) for img, _ in pages]
        ims[0].save(path, "PDF", save_all=True, append_images=ims[1:], resolution=dpi,
                    quality=jpeg_quality, creationDate=_PDF_DATE, modDate=_PDF_DATE,
                    producer="misato-rpa sample generator")
    else:
        ims = [_bilevel(img) for img, _ in pages]
        ims[0].save(path, "TIFF", save_all=True, append_images=ims[1:], compression="group4",
                    dpi=(dpi, dpi))


def write_truth(path: Path, payload: dict[str, Any]) -> None:
    """The truth JSON: UTF-8, Japanese kept readable, one-space indent."""
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _page_truth(doc: SampleDocument, index: int, case: str = "") -> dict[str, Any]:
    return {"form": doc.form, "fields": doc.truth, "printed": doc.printed, "index": index,
            **({"case": case} if case else {})}


def town_for(template: FormTemplate, seed: int, today: dt.date) -> SampleTown | None:
    """The sample town whose residents fill a form that proposes from the register, else None."""
    if any(p.startswith("resident.") for f in template.fields for p in f.propose):
        return SampleTown(seed, today=today)
    return None


def generate(template: FormTemplate, *, count: int, seed: int, out_dir: str | Path,
             degrade: int = 0, fmt: str = "png", pages_per_file: int = 1,
             today: dt.date = SAMPLE_TODAY, register: Path | None = None) -> list[Path]:
    """Write ``count`` filled, scanned documents of ``template`` and their truth; return the scans.

    Document ``i`` is drawn from its own generator seeded by ``(seed, i)``, so it is the same
    whatever ``count`` is, and independent of the process's global random state. Files are
    named ``{form id}-s{seed}-{n:04d}.{ext}``; with ``pages_per_file`` > 1 (PDF and TIFF only)
    consecutive documents share a file, rendered at one resolution.

    A form that proposes from the resident register is filled by residents of a sample town
    (:mod:`robots.samples.town`); each truth then names the document's ``case``, and with
    ``register`` the town's register extract is written there (never into ``out_dir``
    unasked: an inbox must hold scans only).
    """
    if fmt not in EXTENSIONS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(EXTENSIONS)}")
    if degrade not in LEVELS:
        raise ValueError(f"degrade must be one of {sorted(LEVELS)}, not {degrade!r}")
    if count < 0 or seed < 0 or pages_per_file < 1:
        raise ValueError("count and seed must be >= 0 and pages_per_file >= 1")
    if pages_per_file > 1 and fmt not in MULTIPAGE:
        raise ValueError(f"{fmt} holds one page; several pages per file need pdf or tiff")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    town = town_for(template, seed, today)
    written: list[Path] = []
    for n in range(math.ceil(count / pages_per_file)):
        first = n * pages_per_file
        indices = range(first, min(first + pages_per_file, count))
        dpi = None
        if pages_per_file > 1:
            dpi = scan_dpi(degrade, np.random.default_rng([seed, 1, n]))
        pages, docs = [], []
        for i in indices:
            rng = np.random.default_rng([seed, 0, i])
            person = town.person_for(i) if town is not None else None
            doc = make_values(template, rng, today=today, person=person)
            pages.append(render_sample(template, doc, rng, degrade=degrade, dpi=dpi))
            docs.append((doc, i, person.case if person else ""))
        path = out / f"{template.id}-s{seed}-{n:04d}.{EXTENSIONS[fmt]}"
        write_pages(path, pages, fmt, jpeg_quality=LEVELS[degrade].jpeg_quality)
        meta = {"seed": seed, "degrade": degrade, "dpi": pages[0][1]}
        if pages_per_file == 1:
            doc, i, case = docs[0]
            payload = {"form": doc.form, "fields": doc.truth, "printed": doc.printed,
                       "seed": seed, "index": i, "degrade": degrade, "dpi": meta["dpi"],
                       **({"case": case} if case else {})}
        else:
            payload = {"pages": [_page_truth(d, i, case) for d, i, case in docs], **meta}
        write_truth(path.with_suffix(".json"), payload)
        log.debug("wrote sample %s (%d page(s))", path, len(pages))
        written.append(path)
    if register is not None and town is not None:
        town.write_register(register)
        log.info("wrote the sample town's resident register %s", register)
    return written
