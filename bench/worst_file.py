"""Peak memory of a worker on the worst file the limits still let in.

    .venv/bin/python bench/worst_file.py [--pages 500] [--megapixels 120]

``[inbox] max_megapixels_per_page`` and ``max_pages_per_file`` bound what one file can cost a
worker. This makes the worst allowed files — a colour page just under the pixel limit (a JPEG
of ~120 MP, 3 bytes a pixel once decoded), the same in grey (PNG), and a TIFF with exactly
the page limit of A4 pages at 200 dpi — and reads each in a real ``rpa run intake`` (real
engines, one worker process), printing the run's outcome, its time and the peak resident
memory of its worker process.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
_WRAPPER = """
import json, resource, sys
from robots.cli import main
code = main(sys.argv[2:])
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB: the largest worker
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "worker_kib": kids, "main_kib": own}), file=open(sys.argv[1], "w"))
"""


def _page(side: int, colour: bool) -> Image.Image:
    """A page of ``side`` × ``side`` pixels with some texture (so it does not compress away)."""
    rng = np.random.default_rng(1)
    base = rng.integers(200, 256, (side // 8, side // 8), dtype=np.uint8)
    img = Image.fromarray(base).resize((side, side), Image.NEAREST)
    return img.convert("RGB") if colour else img


def _files(folder: Path, pages: int, megapixels: float) -> dict[str, Path]:
    side = int(math.sqrt(megapixels * 1e6 * 0.99))
    out = {}
    jpg = folder / "colour_page_at_the_limit.jpg"
    _page(side, True).save(jpg, quality=80, dpi=(300, 300))
    out[f"colour JPEG, {side} x {side} px"] = jpg
    png = folder / "grey_page_at_the_limit.png"
    _page(side, False).save(png, dpi=(300, 300))
    out[f"grey PNG, {side} x {side} px"] = png
    tif = folder / "pages_at_the_limit.tif"
    a4 = Image.fromarray(np.full((2339, 1654), 255, np.uint8)).convert("1")
    a4.save(tif, save_all=True, append_images=[a4] * (pages - 1), compression="group4",
            dpi=(200, 200))
    out[f"TIFF, {pages} A4 pages at 200 dpi"] = tif
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=500, help="[inbox] max_pages_per_file")
    ap.add_argument("--megapixels", type=float, default=120.0,
                    help="[inbox] max_megapixels_per_page")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="worst-file-"))
    made = work / "made"
    made.mkdir()
    files = _files(made, args.pages, args.megapixels)
    print("| file | outcome | seconds | worker peak RSS | main process peak RSS |")
    print("| --- | --- | --- | --- | --- |")
    for label, path in files.items():
        ws = work / path.stem
        (ws / "inbox" / "intake").mkdir(parents=True)
        path.rename(ws / "inbox" / "intake" / path.name)
        (ws / "config.toml").write_text(
            "[inbox]\nsettle_seconds = 0\n"
            f"max_pages_per_file = {args.pages}\nmax_megapixels_per_page = {args.megapixels}\n"
            "[run]\njobs = 1\n", encoding="utf-8")
        report = ws / "report.json"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", _WRAPPER, str(report), "--config",
                        str(ws / "config.toml"), "run", "intake"], cwd=ROOT, check=False,
                       capture_output=True)
        seconds = time.perf_counter() - t0
        r = json.loads(report.read_text())
        outcome = ("read" if any((ws / "done").rglob(path.name)) else
                   "quarantined" if any((ws / "failed").rglob(path.name + ".reason.txt"))
                   else "?")
        print(f"| {label} | {outcome} | {seconds:.0f} | {r['worker_kib'] / 1024:.0f} MB | "
              f"{r['main_kib'] / 1024:.0f} MB |", flush=True)
    print(f"workspaces: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
