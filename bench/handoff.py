"""Export layouts on generated documents: rows written, rows held back (要対応) and why, speed.

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/handoff.py [--count 2000] [--seed 5]

For each shipped layout, ``--count`` documents of its form are drawn by the sample generator
(real names from gimei, real addresses from Japan Post's data, real banks and branches from
zengin-code) and rendered as confirmed rows. The table shows how many rows a core system
would receive, how many are held back and for which reason (a character outside JIS X 0208,
a value too long for a fixed width, ...), and the rendering speed. No file is written.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

from ocr.templates import TemplateLibrary
from robots.config import Config, forms_dirs
from robots.exports import Row, render
from robots.samples.values import make_values
from robots.sheets.common import looks_like_formula
from robots.sheets.handoff import export_layouts


def _reason(message: str) -> str:
    """The kind of a problem, without the value it names."""
    return message.split("（", maxsplit=1)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    cfg = Config()
    library = TemplateLibrary.from_dirs(forms_dirs(cfg))
    print(f"{'layout':<28} {'encoding':<8} {'record':<9} {'rows':>6} {'held':>5} "
          f"{'rows/s':>8}  held back because")
    for lay in export_layouts(cfg):
        template = library.get(lay.form)
        rng = np.random.default_rng(args.seed)
        rows = [Row(f"D{i:05d}", "bench", "1", make_values(template, rng).truth)
                for i in range(args.count)]
        t0 = time.perf_counter()
        out = render(lay, template, rows, run_id="BENCH", today=np.datetime64("today").item(),
                     formula_guard=looks_like_formula)
        seconds = time.perf_counter() - t0
        why = Counter(f"{p.column}: {_reason(p.message_ja)}" for p in out.problems if p.blocking)
        reasons = "; ".join(f"{k} ×{v}" for k, v in why.most_common(3)) or "-"
        print(f"{lay.id:<28} {lay.layout.encoding:<8} {lay.layout.record:<9} "
              f"{len(out.written):>6} {len(out.held):>5} {len(rows) / seconds:>8.0f}  {reasons}")


if __name__ == "__main__":
    main()
