"""Throughput of the intake scenario end to end, against the recognisers' bare limit.

Generates N scanned pages of the sample form (``juminhyo_request``: 25 fields, A4 at
300 dpi, one page per PDF, light scan degradation), then for each worker count runs
``rpa run intake`` as an operator would — a fresh process over a full inbox, Excel/CSV
written, run log committed, files put away — and prints pages per minute, milliseconds per
field, peak memory of the main process and of each worker, and the ratio to the **bare
limit** measured in the same invocation: the same field crops, cut by the pipeline, read by
the configured recognisers in as many processes, with nothing else around them (no file
decoding, registration, cropping, decisions, outputs).

    .venv/bin/python bench/throughput.py                         # 200 pages, 1 and 2 workers
    .venv/bin/python bench/throughput.py --pages 200,2000 --jobs 2   # memory flat with size?
    .venv/bin/python bench/throughput.py --profile               # where a worker's time goes

Run it on a quiet machine: other load on the cores shows up as lost throughput.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import multiprocessing as mp
import os
import pstats
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.align import FRAME_DPI
from ocr.engines import ReadHints
from ocr.pipeline import Reader
from ocr.preprocess import to_gray
from ocr.render import blank_image
from ocr.sources import iter_pages
from ocr.templates import FieldType, TemplateLibrary
from robots.config import forms_dirs, load_config
from robots.kit.scans import reader_for
from robots.samples import generate
from robots.scenario import RunContext

ROOT = Path(__file__).resolve().parent.parent
FORM = "juminhyo_request"
RPA = [str(Path(sys.executable).with_name("rpa"))]


@dataclass
class Row:
    pages: int
    jobs: int
    fields: int
    wall: float
    parent_mb: float
    worker_mb: float
    bare_ppm: float = 0.0

    @property
    def ppm(self) -> float:
        return self.pages / self.wall * 60


# -- sample scans ----------------------------------------------------------------------------
def _generate_chunk(args: tuple[str, int, int, int, str, str]) -> int:
    form, count, seed, degrade, fmt, out = args
    library = TemplateLibrary.from_dirs(sorted(str(p) for p in ROOT.glob("scenarios/*/forms")))
    paths = generate(library.get(form), count=count, seed=seed, out_dir=out, degrade=degrade,
                     fmt=fmt)
    for p in paths:
        p.with_suffix(".json").unlink(missing_ok=True)  # the truth stays out of the inbox
    return len(paths)


def generate_pages(n: int, out: Path, *, degrade: int, fmt: str, jobs: int) -> list[Path]:
    """N different scans (one page each), generated on every core."""
    chunks = max(1, min(jobs, n))
    sizes = [n // chunks + (i < n % chunks) for i in range(chunks)]
    tasks = [(FORM, size, 100 + i, degrade, fmt, str(out)) for i, size in enumerate(sizes)]
    with mp.get_context("spawn").Pool(chunks) as pool:
        pool.map(_generate_chunk, tasks)
    return sorted(p for p in out.iterdir() if p.suffix == f".{fmt}")


# -- end to end ------------------------------------------------------------------------------
class MemoryWatch(threading.Thread):
    """Peak resident memory of a process and, separately, of each of its worker processes."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.parent = 0
        self.workers: dict[int, int] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.parent = max(self.parent, self.proc.memory_info().rss)
                for child in self.proc.children(recursive=True):
                    try:
                        if "resource_tracker" in " ".join(child.cmdline()):
                            continue
                        rss = child.memory_info().rss
                    except psutil.Error:
                        continue
                    self.workers[child.pid] = max(self.workers.get(child.pid, 0), rss)
            except psutil.Error:
                break
            self.done.wait(0.1)


def run_intake(scans: list[Path], work: Path, jobs: int) -> Row:
    """One ``rpa run intake`` over a fresh inbox holding ``scans``."""
    if work.exists():
        shutil.rmtree(work)
    inbox = work / "inbox" / "intake"
    inbox.mkdir(parents=True)
    for p in scans:
        os.link(p, inbox / p.name) if _same_fs(p, inbox) else shutil.copy2(p, inbox / p.name)
    cfg = work / "config.toml"
    cfg.write_text(f"[inbox]\nsettle_seconds = 0\n\n[run]\njobs = {jobs}\n", encoding="utf-8")
    t0 = time.perf_counter()
    proc = subprocess.Popen([*RPA, "--config", str(cfg), "run", "intake"], cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    watch = MemoryWatch(proc.pid)
    watch.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    watch.done.set()
    watch.join()
    if proc.returncode not in (0, 2):
        raise SystemExit(f"rpa run intake failed ({proc.returncode}):\n{out}\n{err}")
    db = sqlite3.connect(work / "var" / "runlog.sqlite")
    docs, fields = db.execute(
        "SELECT COUNT(DISTINCT d.doc_id), COUNT(*) FROM documents d "
        "JOIN fields f ON f.doc_id = d.doc_id").fetchone()
    db.close()
    if docs != len(scans):
        raise SystemExit(f"{docs} documents read from {len(scans)} scans:\n{out}\n{err}")
    worker = max(watch.workers.values(), default=0) if jobs > 1 else watch.parent
    return Row(len(scans), jobs, fields, wall, watch.parent / 2**20, worker / 2**20)


def _same_fs(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


# -- bare limit ------------------------------------------------------------------------------
def _reader() -> Reader:
    """The reader `rpa run intake` builds in each worker, from the default configuration."""
    cfg = load_config(None)
    ctx = RunContext(run_id="bench", scenario="intake", config=cfg, settings=None,
                     out_dir=Path(), today=dt.date.today(), forms_dirs=tuple(forms_dirs(cfg)),
                     secret=b"")
    return reader_for(ctx)


def collect_crops(scans: list[Path], out: Path) -> tuple[int, int]:
    """Cut the recogniser inputs of ``scans`` as the pipeline does; save them for the workers."""
    reader = _reader()
    images, kinds = [], []
    for path in scans:
        for page in iter_pages(path):
            aligned = reader.aligner.align(to_gray(page.image), page.dpi)
            blank = blank_image(aligned.template, FRAME_DPI)
            for image, hints in reader.fields.recogniser_inputs(aligned.template, aligned.image,
                                                                 blank):
                images.append(image)
                kinds.append((hints.field_type.value, hints.vertical))
    np.savez(out, *images)
    (out.with_suffix(".kinds")).write_text(
        "\n".join(f"{t} {int(v)}" for t, v in kinds), encoding="utf-8")
    return len(scans), len(images)


def _bare_worker(args: tuple[str, Any]) -> float:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    path, barrier = args
    reader = _reader()
    data = np.load(path)
    images = [data[k] for k in data.files]
    kinds = Path(path).with_suffix(".kinds").read_text(encoding="utf-8").splitlines()
    hints = [ReadHints(field_type=FieldType(k.split()[0]), vertical=k.split()[1] == "1",
                       dpi=reader.fields.dpi) for k in kinds]
    engines = reader.fields.engines
    for e in engines:  # warm up: first calls allocate
        e.recognize(images[0], hints[0])
    barrier.wait()
    t0 = time.perf_counter()
    for image, h in zip(images, hints, strict=True):
        for e in engines:
            e.recognize(image, h)
    return time.perf_counter() - t0


def bare_limit(crops: Path, pages: int, jobs: int) -> float:
    """Pages per minute when ``jobs`` processes do nothing but recognise the crops."""
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(jobs)
        with ctx.Pool(jobs) as pool:
            times = pool.map(_bare_worker, [(str(crops), barrier)] * jobs)
    return sum(pages / t * 60 for t in times)


# -- profile ---------------------------------------------------------------------------------
def profile(scans: list[Path]) -> None:
    """Where one worker's time goes, by stage (cumulative), on the first scans."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    reader = _reader()
    reader.read_file(scans[0])
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for p in scans:
        reader.read_file(p)
    prof.disable()
    print(f"\nprofile: {len(scans)} pages read in one process, "
          f"{(time.perf_counter() - t0) / len(scans) * 1000:.0f} ms per page")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", default="200", help="batch sizes, comma-separated")
    ap.add_argument("--jobs", default="1,2", help="worker counts, comma-separated")
    ap.add_argument("--degrade", type=int, default=1, choices=[0, 1, 2, 3])
    ap.add_argument("--format", default="pdf", choices=["pdf", "png", "jpeg", "tiff"])
    ap.add_argument("--bare-pages", type=int, default=40,
                    help="pages whose crops are read for the bare limit")
    ap.add_argument("--profile", action="store_true", help="also profile one worker")
    args = ap.parse_args()
    sizes = [int(x) for x in args.pages.split(",")]
    jobs = [int(x) for x in args.jobs.split(",")]

    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        tmpdir = Path(tmp)
        t0 = time.perf_counter()
        scans = generate_pages(max(sizes), tmpdir / "scans", degrade=args.degrade,
                               fmt=args.format, jobs=os.cpu_count() or 1)
        print(f"generated {len(scans)} scans of {FORM} (degrade {args.degrade}, "
              f"{args.format}) in {time.perf_counter() - t0:.0f} s", flush=True)
        crops = tmpdir / "crops.npz"
        bare_pages, n_crops = collect_crops(scans[:args.bare_pages], crops)
        bare = {j: bare_limit(crops, bare_pages, j) for j in jobs}
        print(f"bare limit: {n_crops} crops of {bare_pages} pages, each read by every engine; "
              + ", ".join(f"{j} process(es) {bare[j]:.0f} pages/min" for j in jobs), flush=True)
        rows = []
        for n in sizes:
            for j in jobs:
                row = run_intake(scans[:n], tmpdir / f"run-{n}-{j}", j)
                row.bare_ppm = bare[j]
                rows.append(row)
                print(f"  {n} pages, {j} worker(s): {row.wall:.1f} s", flush=True)
        if args.profile:
            profile(scans[:20])

    one = {r.pages: r.ppm for r in rows if r.jobs == 1}
    print()
    print("| pages | workers | wall s | pages/min | ms/field (wall) | bare limit pages/min "
          "| × bare | × 1 worker | main MB | worker MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        speedup = f"{r.ppm / one[r.pages]:.2f}" if r.pages in one else "–"
        print(f"| {r.pages} | {r.jobs} | {r.wall:.1f} | {r.ppm:.0f} | "
              f"{r.wall / r.fields * 1000:.1f} | {r.bare_ppm:.0f} | {r.ppm / r.bare_ppm:.2f} | "
              f"{speedup} | {r.parent_mb:.0f} | {r.worker_mb:.0f} |")
    print("\nwall: `rpa run intake` from process start to exit (imports, engine loading, "
          "Excel/CSV, run log, files put away). With 1 worker the work runs in the main "
          "process, so worker MB = main MB.")


if __name__ == "__main__":
    main()
