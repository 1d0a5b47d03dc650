"""Long crash campaign: hundreds of SIGKILLs at random points of real ``rpa run`` processes.

    .venv/bin/python bench/crash_kills.py [--rounds 200] [--seed 7] [--jobs 1,2]
                                          [--worker-kills 0.5] [--import-kills 0.4]

Each round drops new scans (and now and then a duplicate and a broken file), kills a run
with SIGKILL at a random step (seeded), usually runs again unkilled and checks that every
input is in exactly one of done/, failed/ or the inbox, every document is in the outputs
exactly once, the run log is consistent and no partial or half-written output is left (see
tests/crash_kit.py and tests/service_kit.py). Rounds also kill a worker of a ``--jobs 2``
run and a ``rpa corrections import`` at random instants; hung runs, orphaned workers and
files left in the system's temporary folder are counted. Prints the figures table at the
end; the fast variant of the same campaign runs in ``make test`` (tests/test_crash_kills.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import pytest
from crash_kit import CrashFigures, crash_rounds
from fakes import install_fake_engine
from service_kit import make_pool


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", default="1,2", help="worker counts to choose from per killed run")
    ap.add_argument("--delay", type=float, default=0.05, help="pause at each step boundary (s)")
    ap.add_argument("--workdir", type=Path, help="keep the workspace here (default: temporary)")
    ap.add_argument("--worker-kills", type=float, default=0.5,
                    help="share of rounds that also kill a worker of a --jobs 2 run")
    ap.add_argument("--import-kills", type=float, default=0.4,
                    help="share of rounds that also kill a corrections import")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="crash-kills-"))
    t0 = time.perf_counter()
    with pytest.MonkeyPatch.context() as mp:
        folder = work / "pool"
        install_fake_engine(mp, folder / "entry-point-inproc", folder / "tape.json")
        pool = make_pool(folder)

        def progress(r: int, f: CrashFigures) -> None:
            if (r + 1) % 10 == 0:
                print(f"  round {r + 1}/{args.rounds}: {f.kills} main, {f.worker_kills} "
                      f"worker, {f.import_kills} import kills, "
                      f"{len(f.problems)} problem(s), {time.perf_counter() - t0:.0f} s",
                      flush=True)

        f = crash_rounds(work / "ws", pool, rounds=args.rounds, seed=args.seed,
                         delay=args.delay,
                         jobs_choices=tuple(int(j) for j in args.jobs.split(",")),
                         worker_kills=args.worker_kills, import_kills=args.import_kills,
                         progress=progress)
    print()
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| kills of a main process (SIGKILL hit a live run) | {f.kills} |")
    print(f"| kills of a worker process | {f.worker_kills} |")
    print(f"| kills of a corrections import | {f.import_kills} |")
    print(f"| all kills | {f.kills + f.worker_kills + f.import_kills} |")
    print(f"| kills that came after the run had finished | {f.late} |")
    print(f"| runs (killed + clean) | {f.runs} |")
    print(f"| runs marked aborted by recovery | {f.aborted_runs} |")
    print(f"| files dropped | {f.files} (good {f.good}) |")
    print(f"| documents lost | {f.documents_lost} |")
    print(f"| duplicates produced | {f.duplicates} |")
    print(f"| runs that did not end after a worker was killed | {f.hung} |")
    print(f"| workers alive 5 s after their main process was killed | {f.orphans} |")
    print(f"| files left in the system's TMPDIR | {f.temp_left} |")
    print(f"| invariant violations | {len(f.problems)} |")
    print(f"| seconds | {time.perf_counter() - t0:.0f} |")
    print()
    print("kills by the last step the run had reached:")
    for step, n in f.steps.most_common():
        print(f"  {step:<20} {n}")
    for p in f.problems[:50]:
        print("PROBLEM", p)
    print(f"workspace: {work}")
    return 1 if (f.problems or f.documents_lost or f.duplicates or f.hung or f.orphans
                 or f.temp_left) else 0


if __name__ == "__main__":
    sys.exit(main())
