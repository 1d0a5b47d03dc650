"""Per-engine accuracy and speed on field crops, and how crop preparation changes them.

Generates forms, registers them and cuts every text field exactly as the reader does, then
reads the same crops with each engine under several preparations (as cut; rescaled to a
fixed text height; binarised). Prints exact-match accuracy after normalisation, character
error rate and ms per field, per engine, preparation and field type — the evidence for the
choices in ocr/engines (and the "bare limit" of recognition with nothing around it).

    .venv/bin/python bench/engine_crops.py --count 4 --levels 0,1,2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.align import FRAME_DPI, Aligner
from ocr.engines import ReadHints
from ocr.fields import FieldReader
from ocr.pipeline import make_engines
from ocr.preprocess import to_gray
from ocr.render import blank_image
from ocr.sources import load_pages
from ocr.templates import TemplateLibrary
from ocr.validators import validate_value
from robots.samples import SAMPLE_TODAY, generate

FORMS_DIRS = sorted(str(p) for p in Path("scenarios").glob("*/forms"))


def _height(target: int):
    def prep(img: np.ndarray) -> np.ndarray:
        ys = np.where((img < 128).any(axis=1))[0]
        if ys.size == 0:
            return img
        h = ys[-1] - ys[0] + 1
        f = target / h
        return cv2.resize(img, None, fx=f, fy=f,
                          interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    return prep


def _binarise(img: np.ndarray) -> np.ndarray:
    return cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]


PREPS = {
    "as-cut": lambda img: img,
    "h32": _height(32),
    "h40": _height(40),
    "otsu": _binarise,
    "h32+otsu": lambda img: _binarise(_height(32)(img)),
    "h24+otsu": lambda img: _binarise(_height(24)(img)),
    "h28+otsu": lambda img: _binarise(_height(28)(img)),
    "h36+otsu": lambda img: _binarise(_height(36)(img)),
}


def collect(count: int, levels: list[int], seed: int):
    library = TemplateLibrary.from_dirs(FORMS_DIRS)
    aligner = Aligner(library)
    cutter = FieldReader(make_engines(["tesseract"]))
    crops = []
    with tempfile.TemporaryDirectory() as tmp:
        for level in levels:
            for i, form in enumerate(library.ids):
                for p in generate(library.get(form), count=count, seed=seed + 10 * level + i,
                                  out_dir=Path(tmp), degrade=level, fmt="pdf"):
                    import json
                    truth = json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
                    page = load_pages(p)[0]
                    a = aligner.align(to_gray(page.image), page.dpi)
                    blank = blank_image(a.template, FRAME_DPI)
                    for f in a.template.fields:
                        if f.is_mark:
                            continue
                        crop, _ = cutter._crop(f, a.image, blank)
                        if crop.has_ink:
                            crops.append((level, f, crop.image, truth["fields"].get(f.name, "")))
    return crops


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--levels", default="0,1,2")
    ap.add_argument("--seed", type=int, default=500)
    ap.add_argument("--engines", default="tesseract:fast,tesseract:standard,rapidocr")
    ap.add_argument("--preps", default=",".join(PREPS))
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    crops = collect(args.count, levels, args.seed)
    print(f"{len(crops)} field crops from levels {levels}")
    print(f"{'engine':<20} {'prep':<10} {'type':<16} {'n':>5} {'exact':>7} {'CER':>7} {'ms':>6}")
    for spec in args.engines.split(","):
        name, _, model = spec.partition(":")
        engine = make_engines([name], tesseract_model=model or "fast")[0]
        for prep_name in args.preps.split(","):
            prep = PREPS[prep_name]
            stats: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0.0])
            for _level, f, img, want in crops:
                hints = ReadHints(field_type=f.type, vertical=f.vertical, dpi=FRAME_DPI)
                x = prep(img)
                t0 = time.perf_counter()
                r = engine.recognize(x, hints)
                dt = time.perf_counter() - t0
                got = validate_value(f, r.text, today=SAMPLE_TODAY).value
                for key in (f.type.value, "ALL"):
                    s = stats[key]
                    s[0] += 1
                    s[1] += got == want
                    s[2] += Levenshtein.distance(got, want)
                    s[3] += max(1, len(want))
                    s[4] += dt
            for key in sorted(stats, key=lambda k: (k == "ALL", k)):
                n, ok, ed, chars, secs = stats[key]
                if key == "ALL" or len(args.preps.split(",")) == 1:
                    print(f"{spec:<20} {prep_name:<10} {key:<16} {n:>5} {ok / n:>7.1%} "
                          f"{ed / chars:>7.2%} {secs / n * 1000:>6.1f}")


if __name__ == "__main__":
    main()
