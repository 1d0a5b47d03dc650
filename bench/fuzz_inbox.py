"""Long inbox fuzz: thousands of bad files among good scans in one ``rpa run``.

    .venv/bin/python bench/fuzz_inbox.py [--bad 2000] [--good 100] [--seed 9] [--jobs 2]

Prints, per kind of hostile entry, how many were tried and how many ended where they must
(quarantined with a reason, read with formulas kept as text, or left for a copy still
going on), how many good ones were read, documents lost, duplicates, the exit code and the
peak memory of the run. The fast variant runs in ``make test`` (tests/test_fuzz_inbox.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import pytest
from fakes import install_fake_engine
from fuzz_kit import EXPECTED
from service_kit import check_invariants, final_name, make_pool
from test_fuzz_inbox import run_fuzz


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bad", type=int, default=2000)
    ap.add_argument("--good", type=int, default=100)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fuzz-inbox-"))
    t0 = time.perf_counter()
    with pytest.MonkeyPatch.context() as mp:
        folder = work / "pool"
        install_fake_engine(mp, folder / "entry-point-inproc", folder / "tape.json")
        pool = make_pool(folder)
        result, dropped, good, bads = run_fuzz(work / "ws", pool, bad=args.bad, good=args.good,
                                               seed=args.seed, jobs=args.jobs)
    inv = check_invariants(work / "ws", dropped, good)
    ws = work / "ws"
    right: Counter[str] = Counter()
    for name, _, kind in bads:
        shown = final_name(ws, name)
        where = EXPECTED[kind]
        if where == "failed":
            ok = any(p.with_name(p.name + ".reason.txt").exists()
                     for p in (ws / "failed" / "intake").rglob(shown))
        elif where == "done":
            ok = any((ws / "done" / "intake").rglob(shown))
        else:
            ok = (ws / "inbox" / "intake" / name).exists()
        right[kind] += ok
    kinds = Counter(k for _, _, k in bads)
    print("| kind of entry | tried | expected outcome | with that outcome |")
    print("| --- | --- | --- | --- |")
    for k in EXPECTED:
        print(f"| {k} | {kinds[k]} | {EXPECTED[k]} | {right[k]} |")
    print()
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| hostile entries | {len(bads)}, {sum(right.values())} with the right outcome |")
    print(f"| good scans | {len(good)}, output rows {inv.rows} |")
    print(f"| documents lost | {inv.lost} |")
    print(f"| duplicates produced | {inv.duplicates} |")
    print(f"| exit code | {result.get('code')} |")
    print(f"| peak RSS (main process, or its largest worker) | "
          f"{result.get('peak_kib', 0) / 1024:.0f} MB |")
    print(f"| seconds | {time.perf_counter() - t0:.0f} |")
    for p in inv.problems[:30]:
        print("PROBLEM", p)
    ok = not inv.problems and sum(right.values()) == len(bads) and result.get("code") == 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
