"""How few flags could world two have? Flag precision with thresholds set by hindsight.

Issue #13 asks, on world two, for flag precision (share of flagged fields that were wrong)
of 50 % with no more than 0.2 % silent errors. Thresholds are calibrated on world one; this
script asks what *any* thresholds could do on world two: it reads world two once, keeps each
field's signals (as ``bench/calibrate.py`` does) and replays the very decision of the reader
(:func:`ocr.decide.decide_text`, the page's cross checks) under

- the thresholds in ``ocr/calibration.toml`` (what the reader does),
- names at their loosest (a disagreement or a low score never flags a name),
- every printed type at its loosest (only what thresholds do not decide is left: a line
  across the writing, a length that does not fit, a variant kanji, invalid values).

Nothing here changes the reader: choosing thresholds by looking at world two's truth is the
tuning world two must never get. With ``--world1 PICKLE`` (signals saved by
``bench/calibrate.py --dump``) each setting is also replayed on world one, to show what it
would cost there::

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/flag_floor.py --count 10 --jobs 2
    OMP_THREAD_LIMIT=1 .venv/bin/python bench/calibrate.py --count 25 --count-hand 150 \
        --dump /tmp/cal.pkl --out /tmp/calibration.toml   # world one's signals, once
    OMP_THREAD_LIMIT=1 .venv/bin/python bench/flag_floor.py --world1 /tmp/cal.pkl
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import pickle
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import calibrate as cal  # bench/calibrate.py: the same reading of signals and the same sweep

from ocr.calibration import TextRule, load_calibration
from ocr.decide import decide_text
from ocr.fields import ReadOptions
from ocr.pipeline import PipelineOptions, Reader
from ocr.templates import TemplateLibrary
from robots.samples import SAMPLE_TODAY
from robots.samples.world2 import FORMS_DIR as W2_FORMS
from robots.samples.world2 import generate_world2
from robots.samples.world2.designs import DESIGNS as W2_DESIGNS

LOOSEST = TextRule(agree_min=0.0, agree_solo_min=0.0, solo_min=0.0)


def _init() -> None:
    opts = ReadOptions(today=SAMPLE_TODAY, keep_crops="none", keep_signals=True,
                       second_opinion="always", denoise="never")
    cal._READER["r"] = Reader(TemplateLibrary.from_dirs([str(W2_FORMS)]),
                              PipelineOptions(engines=("tesseract", "rapidocr"), read=opts))


def _world_two(args: argparse.Namespace) -> list[cal.Rec]:
    levels = [int(x) for x in args.levels.split(",")]
    tasks: list[tuple[int, str, int]] = []
    with tempfile.TemporaryDirectory(prefix="floor-") as tmp:
        for level in levels:
            for i, form in enumerate(sorted(W2_DESIGNS)):
                out = Path(tmp) / f"l{level}"
                out.mkdir(exist_ok=True)
                for p in generate_world2(form, count=args.count,
                                         seed=args.seed * 1000 + level * 10 + i,
                                         out_dir=out, level=level, fmt="pdf"):
                    tasks.append((len(tasks), str(p), level))
        with mp.get_context("spawn").Pool(args.jobs, initializer=_init) as pool:
            return [r for b in pool.map(cal._read, tasks, chunksize=1) for r in b]


def _tally(sweep: cal.Sweep) -> tuple[int, int, int, int]:
    """(printed fields, flagged, wrong and flagged, wrong and silent)."""
    out = [o for o in sweep.outcomes() if o[0].kind == "printed"]
    return (len(out), sum(f for _, _, f in out), sum(1 for _, ok, f in out if f and not ok),
            sum(1 for _, ok, f in out if not ok and not f))


def _settings(types: set[str]) -> list[tuple[str, dict[str, TextRule]]]:
    rules = load_calibration()
    base = {t: rules.text_rule(t) for t in types}
    return [("calibrated (ocr/calibration.toml)", base),
            ("names at their loosest", {**base, "name": LOOSEST}),
            ("names and kana at their loosest", {**base, "name": LOOSEST, "kana": LOOSEST}),
            ("every printed type at its loosest", dict.fromkeys(types, LOOSEST))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10, help="scans per world-two form and level")
    ap.add_argument("--levels", default="0,1,2,3")
    ap.add_argument("--seed", type=int, default=7, help="ocr_accuracy.py's seed: same scans")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--world1", type=Path, help="world-one signals from calibrate.py --dump")
    args = ap.parse_args()
    target = {"printed": 0.005, "hand": 0.01, "margin": 0.5, "levels": (0, 1, 2),
              "level_margin": 1.0, "hand_levels": (0, 1, 2, 3), "hand_level_margin": 0.75,
              "hand_margin": 0.4}  # unused by the tally; Sweep wants one
    one = None
    if args.world1:  # loaded first: a wrong file fails before minutes of reading
        # calibrate.py pickles its records as its own __main__'s Rec
        sys.modules["__main__"].Rec = cal.Rec  # type: ignore[attr-defined]
        _, one = pickle.loads(args.world1.read_bytes())
    worlds = {"world two": cal.Sweep(_world_two(args), TemplateLibrary.from_dirs(
        [str(W2_FORMS)]), target)}
    if one is not None:
        worlds["world one"] = cal.Sweep(one, TemplateLibrary.from_dirs(cal.FORMS_DIRS), target)
    types = {r.type for s in worlds.values() for r in s.recs if r.kind == "printed"}
    print(f"printed fields; world two seed {args.seed}, {args.count} scans per form and level, "
          f"levels {args.levels}")
    print(f"{'setting':<36} {'world':<10} {'fields':>6} {'flagged':>8} {'wrong+flag':>10} "
          f"{'silent':>7} {'precision':>9}")
    for label, rules in _settings(types):
        for name, sweep in worlds.items():
            sweep.text = dict(rules)
            n, flagged, wrong_flagged, silent = _tally(sweep)
            print(f"{label:<36} {name:<10} {n:>6} {flagged:>8} {wrong_flagged:>10} "
                  f"{silent:>7} {wrong_flagged / max(flagged, 1):>9.1%}")
    sweep = worlds["world two"]
    sweep.text = dict(_settings(types)[-1][1])
    left: Counter[tuple[str, str, str]] = Counter()
    for r, ok, flagged in sweep.outcomes():
        if r.kind == "printed" and flagged:
            left[(r.type, "right" if ok else "wrong", _reasons(sweep, r))] += 1
    print("\nworld two, every type at its loosest: what still flags (type, value, reasons)")
    for (ftype, ok, codes), k in sorted(left.items(), key=lambda kv: -kv[1]):
        print(f"  {k:>4}  {ftype:<12} {ok:<6} {codes}")


def _reasons(sweep: cal.Sweep, r: cal.Rec) -> str:
    """The reasons of the replayed decision, with those no threshold decides."""
    floor = cal.DEFAULT_MIN_CONFIDENCE.get(r.type, cal.DEFAULT_MIN_CONFIDENCE["default"])
    codes = {x.code for x in decide_text(r.signals, sweep.text.get(r.type, TextRule()),
                                          floor).reasons}
    if r.fixed:
        codes.add("line_across_writing/length_mismatch")
    return "+".join(sorted(codes)) or "a cross check"


if __name__ == "__main__":
    main()
