"""Hundreds of bad files among good scans: every bad one quarantined with a reason, every
good one read, the documented exit code, and the process's peak memory bounded.

The run is a real ``rpa run`` subprocess (replay engine, so good scans are fast) started
through a tiny wrapper that reports the process's own peak RSS. The long variant is
``bench/fuzz_inbox.py``.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import backdate, install_fake_engine, uninstall_fake_engine
from fuzz_kit import EXPECTED, MAX_PAGES, bad_files, fuzz_name, write_all
from service_kit import (
    Pool,
    check_invariants,
    final_name,
    make_pool,
    service_config,
    subprocess_env,
    tag_png,
)

from robots.errors import ExitCode

resource = pytest.importorskip("resource")  # POSIX: peak RSS of the subprocess

PEAK_RSS_LIMIT_MB = 1024  # the pipeline holds one 300-dpi page at a time, not the bombs
ROOT = Path(__file__).resolve().parents[1]

_WRAPPER = """
import json, resource, sys
from robots.cli import main
code = main(sys.argv[2:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "peak_kib": max(peak, kids)}), file=open(sys.argv[1], "w"))
sys.exit(code)
"""


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    folder = tmp_path_factory.getbasetemp() / "service-pool"
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, folder / "entry-point-inproc", folder / "tape.json")
        yield make_pool(folder)
    uninstall_fake_engine()


def run_fuzz(root: Path, pool: Pool, *, bad: int, good: int, seed: int, jobs: int = 1
             ) -> tuple[dict, dict[str, bytes], set[str], list[tuple[str, bytes, str]]]:
    """Drop the files, run ``rpa run intake`` once; returns (report, dropped, good, bad)."""
    rng = random.Random(seed)
    cfg = service_config(root, inbox=f"max_pages_per_file = {MAX_PAGES}")
    inbox = root / "inbox" / "intake"
    bases = [p.read_bytes() for p in pool.scans]
    bases += [p.read_bytes() for p in sorted((ROOT / "samples" / "inbox" / "intake").iterdir())
              if p.suffix.lower() in (".pdf", ".tif", ".tiff", ".jpg", ".jpeg")]
    bads = bad_files(rng, bad, bases)
    goods = []
    for i in range(good):
        data = tag_png(rng.choice([p.read_bytes() for p in pool.scans]), f"fuzz-{seed}-{i}")
        # the extension may lie: the content decides (a PNG named .pdf is still a PNG)
        ext = rng.choice([".png", ".png", ".PNG", ".pdf", ".jpg"])
        goods.append((fuzz_name(rng, 5000 + i, ext), data, "good"))
    write_all(inbox, [*bads, *goods])
    fresh = {n for n, _, k in bads if k == "cut_recent"}  # a copy still going on right now
    backdate(*(p for p in inbox.iterdir() if p.name not in fresh))  # dropped during the day
    report = root / "report.json"
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(report), "--config", str(cfg), "run", "intake",
         "--jobs", str(jobs)], env=subprocess_env(pool), capture_output=True, text=True,
        timeout=900, check=False)
    result = json.loads(report.read_text()) if report.exists() else {}
    result["stdout"], result["stderr"], result["returncode"] = (proc.stdout, proc.stderr,
                                                                proc.returncode)
    dropped = {n: d for n, d, _ in [*bads, *goods]}
    return result, dropped, {n for n, _, _ in goods}, bads


def test_bad_files_among_good_ones(pool: Pool, tmp_path: Path) -> None:
    result, dropped, good, bads = run_fuzz(tmp_path, pool, bad=300, good=24, seed=5)
    assert result.get("code") == ExitCode.NEEDS_ATTENTION, result.get("stderr", "")[-3000:]
    assert result["returncode"] == ExitCode.NEEDS_ATTENTION
    inv = check_invariants(tmp_path, dropped, good)
    assert not inv.problems, "\n".join(inv.problems[:30])
    assert inv.lost == inv.duplicates == 0
    done = {p.name for p in (tmp_path / "done" / "intake").rglob("*") if p.is_file()}
    failed = tmp_path / "failed" / "intake"
    inbox = tmp_path / "inbox" / "intake"
    assert good <= done  # every good scan read, whatever its extension said
    for name, _, kind in bads:
        shown = final_name(tmp_path, name)
        if EXPECTED[kind] == "inbox":  # cut short a moment ago: waits for the rest
            assert (inbox / name).exists(), f"{kind} file {name!r} not left in the inbox"
            continue
        if EXPECTED[kind] == "done":  # read, its formulas flagged and kept as text
            assert shown in done, f"{kind} file {name!r} not read"
            continue
        (where,) = list(failed.rglob(shown)) or [None]
        assert where is not None, f"{kind} file {name!r} not quarantined"
        note = where.with_name(where.name + ".reason.txt").read_text(encoding="utf-8-sig")
        assert "理由: " in note and "読み取りできませんでした" in note, (kind, name, note)
    assert (inbox / "a folder dropped by mistake" / "inside.png").exists()  # never entered
    for book in (tmp_path / "out" / "intake").rglob("*.xlsx"):  # no formula ever runs
        with zipfile.ZipFile(book) as z:
            assert not any(b"<f>" in z.read(n) for n in z.namelist()
                           if n.startswith("xl/worksheets/")), book
    formulas = sum(k == "formula" for _, _, k in bads)
    assert inv.rows == len(good) + formulas  # one record per good one-page scan
    peak_mb = result["peak_kib"] / 1024
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"
    kinds = {k for _, _, k in bads}
    assert set(EXPECTED) <= kinds  # every class of hostile entry was tried
