"""OCR accuracy benchmark: generated scans with known truth, read by the real pipeline.

Prints, per degradation level, per group (printed, handwritten digits, marks, and the
handwritten words keyed by staff) and per field type: fields, exact-match accuracy after
normalisation, character error rate, flag rate (share a human must look at) and the
**silent error rate** (wrong and not flagged — the number that decides whether a town can
trust unflagged fields), plus ms per field and pages per minute.

    .venv/bin/python bench/ocr_accuracy.py --count 20 --levels 0,1,2,3
    .venv/bin/python bench/ocr_accuracy.py --engines tesseract --tesseract-model standard
    .venv/bin/python bench/ocr_accuracy.py --world 2 --count 40   # forms nobody here designed

World 1 is the sample generator the reader is calibrated on (robots/samples); world 2
(robots/samples/world2) is another town's forms, fonts, value styles and folded letters,
which nothing in ocr/ is tuned on: report on it, never tune on it. Also printed: flag
precision (share of flagged fields that were wrong) and what became of the fields where the
two engines disagreed (right, wrong and flagged, wrong and silent).

A page that cannot be registered counts all its fields as flagged (it goes to a human whole).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.calibration import load_calibration
from ocr.fields import ReadOptions
from ocr.pipeline import PipelineOptions, Reader
from ocr.templates import FieldSpec, TemplateLibrary
from ocr.validators import validate_value
from robots.samples import SAMPLE_TODAY, generate
from robots.samples.world2 import FORMS_DIR as W2_FORMS
from robots.samples.world2 import generate_world2
from robots.samples.world2.designs import DESIGNS as W2_DESIGNS

FORMS_DIRS = sorted(str(p) for p in Path("scenarios").glob("*/forms"))
ALL_FORMS_DIRS = [*FORMS_DIRS, str(W2_FORMS)]  # the reader meets both worlds' forms
_READER: dict[str, Reader] = {}


@dataclass
class Tally:
    fields: int = 0
    correct: int = 0
    flagged: int = 0
    silent: int = 0  # wrong and not flagged
    wrong_flagged: int = 0
    chars: int = 0
    char_errors: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, truth: str, value: str, flagged: bool, label: str) -> None:
        self.fields += 1
        ok = truth == value
        self.correct += ok
        self.flagged += flagged
        self.silent += (not ok) and (not flagged)
        self.wrong_flagged += (not ok) and flagged
        self.chars += max(1, len(truth))
        self.char_errors += Levenshtein.distance(truth, value)
        if not ok and not flagged and len(self.examples) < 8:
            self.examples.append(f"{label}: truth {truth!r} read {value!r}")

    def merge(self, other: Tally) -> None:
        for k in ("fields", "correct", "flagged", "silent", "wrong_flagged", "chars",
                  "char_errors"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.examples += other.examples[: max(0, 8 - len(self.examples))]


def _init(engines: tuple[str, ...], model: str, denoise: str, denoise_above: float,
          length_check: bool) -> None:
    options = PipelineOptions(engines=engines, tesseract_model=model,
                              read=ReadOptions(denoise=denoise, denoise_above=denoise_above,
                                               length_check=length_check, keep_crops="none",
                                               today=SAMPLE_TODAY))
    _READER["r"] = Reader(TemplateLibrary.from_dirs(ALL_FORMS_DIRS), options)


def _group(spec: FieldSpec) -> str:
    """Fields are reported apart by how they are read: their error rates differ in kind."""
    if spec.is_mark:
        return "mark"
    if spec.manual:
        return "manual"  # handwritten words: keyed by staff, never OCR'd (always flagged)
    return "hand" if spec.hand_digits else "printed"


def _read(task: tuple[str, str, int]) -> tuple[int, dict[str, Tally], float, int, int]:
    scan, truth_path, level = task
    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    pages_truth = truth.get("pages", [truth])
    reader = _READER["r"]
    t0 = time.perf_counter()
    try:
        doc = reader.read_file(scan)
    except Exception as exc:  # a crash is a finding, not the end of the benchmark
        print(f"ERROR reading {Path(scan).name}: {type(exc).__name__}: {exc}", flush=True)
        doc = None
    dt = time.perf_counter() - t0
    tallies: dict[str, Tally] = defaultdict(Tally)
    n_fields = 0
    unregistered = 0
    pages = doc.pages if doc is not None else [None] * len(pages_truth)
    for page, pt in zip(pages, pages_truth, strict=True):
        template = reader.library.get(pt["form"])
        got = ({f.name: f for f in page.fields}
               if page is not None and page.form == pt["form"] else {})
        if not got:
            unregistered += 1
        for spec in template.fields:
            want = str(pt["fields"].get(spec.name, ""))
            f = got.get(spec.name)
            value, flagged = (f.value, f.flagged) if f else ("", True)
            group = _group(spec)
            label = f"{Path(scan).name}:{spec.name}"
            for key in (f"{group}:{spec.type.value}", f"{group}:ALL"):
                tallies[key].add(want, value, flagged, label)
            if f is not None and group == "printed" and len(f.readings) > 1 and len(
                    {validate_value(spec, r.text, today=SAMPLE_TODAY).value
                     for r in f.readings}) > 1:
                tallies["DISAGREE"].add(want, value, flagged, label)
            n_fields += 1
    return level, dict(tallies), dt, n_fields, unregistered


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10, help="scans per form and level")
    ap.add_argument("--levels", default="0,1,2,3")
    ap.add_argument("--forms", default="", help="comma-separated form ids (default all)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--format", default="pdf", choices=["png", "jpeg", "pdf", "tiff"])
    ap.add_argument("--engines", default="tesseract,rapidocr")
    ap.add_argument("--tesseract-model", default="fast", choices=["fast", "standard"])
    ap.add_argument("--denoise", default="never", choices=["auto", "always", "never"])
    ap.add_argument("--denoise-above", type=float, default=9.0)
    ap.add_argument("--no-length-check", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--examples", action="store_true", help="print silent errors")
    ap.add_argument("--world", type=int, default=1, choices=[1, 2],
                    help="1: our forms (calibration world); 2: forms nobody here designed")
    args = ap.parse_args()

    library = TemplateLibrary.from_dirs(ALL_FORMS_DIRS)
    world_ids = sorted(W2_DESIGNS) if args.world == 2 else TemplateLibrary.from_dirs(
        FORMS_DIRS).ids
    forms = args.forms.split(",") if args.forms else world_ids
    levels = [int(x) for x in args.levels.split(",")]
    engines = tuple(args.engines.split(","))
    tasks: list[tuple[str, str, int]] = []
    with tempfile.TemporaryDirectory(prefix="ocrbench-") as tmp:
        for level in levels:
            for i, form in enumerate(forms):
                out = Path(tmp) / f"l{level}"
                out.mkdir(exist_ok=True)
                seed = args.seed * 1000 + level * 10 + i
                if args.world == 2:
                    paths = generate_world2(form, count=args.count, seed=seed, out_dir=out,
                                            level=level, fmt=args.format)
                else:
                    paths = generate(library.get(form), count=args.count, seed=seed,
                                     out_dir=out, degrade=level, fmt=args.format)
                tasks += [(str(p), str(p.with_suffix(".json")), level) for p in paths]
        t0 = time.perf_counter()
        ctx = mp.get_context("spawn")
        with ctx.Pool(args.jobs, initializer=_init,
                      initargs=(engines, args.tesseract_model, args.denoise,
                                args.denoise_above, not args.no_length_check)) as pool:
            results = pool.map(_read, tasks, chunksize=1)
        wall = time.perf_counter() - t0

    per_level: dict[int, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    busy = 0.0
    n_fields = 0
    unregistered = defaultdict(int)
    for level, tallies, dt, nf, unreg in results:
        busy += dt
        n_fields += nf
        unregistered[level] += unreg
        for t, tally in tallies.items():
            per_level[level][t].merge(tally)
            if t.endswith(":ALL") and not t.startswith("manual"):
                per_level[level]["ALL"].merge(tally)

    print(f"engines {','.join(engines)} (tesseract model {args.tesseract_model}), denoise "
          f"{args.denoise}, {args.count} scan(s) per form per level, forms: {', '.join(forms)}, "
          f"format {args.format}")
    cal = load_calibration()
    print(f"flag thresholds: {cal.source} (calibrated by bench/calibrate.py for a silent error "
          f"target of {cal.target:.1%}; its curves show the trade-off)")
    print("groups: printed = typed fields (two engines); hand = handwritten digits in boxes "
          "(digit model); mark = checkboxes and circled choices (ink); manual = handwritten "
          "words keyed by staff (not in ALL)")
    head = (f"{'level':>5} {'type':<24} {'fields':>6} {'accuracy':>8} {'CER':>7} {'flagged':>8} "
            f"{'silent':>7} {'silent%':>8} {'flag prec':>9}")
    print(head)
    print("-" * len(head))
    figures: dict[str, object] = {}
    for level in levels:
        rows = per_level[level]
        for t in sorted((k for k in rows if k != "DISAGREE"),
                        key=lambda k: (k == "ALL", k.split(":")[0], k.endswith(":ALL"), k)):
            r = rows[t]
            acc = r.correct / r.fields if r.fields else 0.0
            cer = r.char_errors / r.chars if r.chars else 0.0
            fr = r.flagged / r.fields if r.fields else 0.0
            sr = r.silent / r.fields if r.fields else 0.0
            prec = f"{r.wrong_flagged / r.flagged:>9.1%}" if r.flagged else f"{'-':>9}"
            print(f"{level:>5} {t:<24} {r.fields:>6} {acc:>8.1%} {cer:>7.2%} {fr:>8.1%} "
                  f"{r.silent:>7} {sr:>8.2%} {prec}")
            figures[f"{level}/{t}"] = {"fields": r.fields, "accuracy": acc, "cer": cer,
                                       "flag_rate": fr, "silent": r.silent, "silent_rate": sr,
                                       "flagged": r.flagged, "wrong_flagged": r.wrong_flagged}
        d = rows.get("DISAGREE")
        if d is not None and d.fields:
            print(f"{'':>5} engines disagreed on {d.fields} printed field(s): right {d.correct}, "
                  f"wrong and flagged {d.wrong_flagged}, wrong and silent {d.silent}")
            figures[f"{level}/DISAGREE"] = {"fields": d.fields, "right": d.correct,
                                            "wrong_flagged": d.wrong_flagged,
                                            "silent": d.silent}
        print(f"{'':>5} pages not registered: {unregistered[level]}")
        if args.examples and rows["ALL"].examples:
            for e in rows["ALL"].examples:
                print(f"{'':>7}silent: {e}")
    _summary(per_level, levels)
    pages = len(results)
    print(f"\n{pages} pages, {n_fields} fields in {wall:.1f} s wall with {args.jobs} process(es): "
          f"{pages / wall * 60:.0f} pages/min, {busy / n_fields * 1000:.1f} ms per field "
          f"(per process, incl. load and registration)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")


def _summary(per_level: dict[int, dict[str, Tally]], levels: list[int]) -> None:
    """The figures the issue's targets are stated in, over every level together."""
    total: dict[str, Tally] = defaultdict(Tally)
    for level in levels:
        for k, t in per_level[level].items():
            total[k].merge(t)
    names = Tally()
    for k in ("printed:kana", "printed:name"):
        if k in total:
            names.merge(total[k])
    print("\nall levels together:")
    for label, t in (("printed fields", total.get("printed:ALL")), ("kana and names", names),
                     ("checkboxes", total.get("mark:checkbox")),
                     ("disagreements", total.get("DISAGREE"))):
        if t is None or not t.fields:
            continue
        prec = t.wrong_flagged / t.flagged if t.flagged else 0.0
        print(f"  {label:<16} {t.fields:>6} exact {t.correct / t.fields:7.2%}  flagged "
              f"{t.flagged / t.fields:6.1%}  silent {t.silent:>3} ({t.silent / t.fields:.2%})  "
              f"flag precision {prec:6.1%}")
    print("  flag precision per printed type: " + ", ".join(
        f"{k.split(':')[1]} {t.wrong_flagged}/{t.flagged}" for k, t in sorted(total.items())
        if k.startswith("printed:") and not k.endswith("ALL") and t.flagged))


if __name__ == "__main__":
    main()
