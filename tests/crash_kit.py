"""SIGKILL at random points of real ``rpa run`` processes, then check nothing was lost.

Each round drops a few new files (unique good scans, now and then an exact duplicate of an
earlier one and a broken file), starts ``rpa run intake`` as a subprocess, waits until the
run has begun, kills it with SIGKILL after a random delay (seeded), and — most rounds — runs
the scenario again in this process, unkilled, and checks the invariants of
:func:`service_kit.check_invariants`. Some rounds are killed twice before the clean run, so
that kills also land inside the recovery of the previous killed run.

``MISATO_RPA_STEP_DELAY`` makes the runner pause at every step boundary (claim, each item,
outputs written, commit, rename, each file put away) so that a uniform random delay lands in
every step; the log file says in which step each kill landed.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from service_kit import (
    Invariants,
    Pool,
    check_invariants,
    rpa_command,
    service_config,
    subprocess_env,
    tag_png,
)

from robots.config import load_config
from robots.run.runner import run_scenario

__all__ = ["CrashFigures", "crash_rounds"]

_STEP = re.compile(r"robots\.run\.shutdown: step (.+)$")
_STARTED = re.compile(r"robots\.run\.runner: run \S+ of intake:")
_STEP_LINE = re.compile(r"robots\.run\.shutdown: step ")


@dataclass
class CrashFigures:
    """The figures of a crash campaign (printed by bench/crash_kills.py)."""

    kills: int = 0  # SIGKILLs that hit a live run
    late: int = 0  # the run had already finished when the kill came
    runs: int = 0  # killed runs + clean runs
    files: int = 0
    good: int = 0
    documents_lost: int = 0
    duplicates: int = 0
    aborted_runs: int = 0
    steps: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def _killed_run(root: Path, cfg: Path, env: dict[str, str], rng: random.Random, jobs: int,
                window: float, log_file: Path, steps_expected: int,
                delay: float) -> tuple[bool, str]:
    """One ``rpa run`` killed at a random instant; returns (was it alive, step it died in).

    Six kills in ten wait for a random step boundary (so the short late steps — commit,
    rename, put-away — are hit as often as the long ones) and land up to 1.5 step delays
    after it, inside the next step's work; the others land uniformly in ``window`` seconds
    after the run began.
    """
    log_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [*rpa_command(), "-vv", "--log-file", str(log_file), "--config", str(cfg), "run",
         "intake", "--jobs", str(jobs)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root)
    target = rng.randint(1, steps_expected) if rng.random() < 0.6 else 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:  # wait for the run to begin
        text = log_file.read_text(encoding="utf-8", errors="replace") \
            if log_file.exists() else ""
        if target and len(_STEP_LINE.findall(text)) >= target:
            break
        if not target and (_STARTED.search(text) or "aborted" in text):
            break
        time.sleep(0.005)
    time.sleep(rng.uniform(0, delay * 1.5) if target else rng.uniform(0, window))
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    steps = [m.group(1) for line in log_file.read_text(encoding="utf-8", errors="replace")
             .splitlines() if (m := _STEP.search(line))]
    return alive, (steps[-1] if steps else "before first step") if alive else "finished"


def crash_rounds(root: Path, pool: Pool, *, rounds: int, seed: int, delay: float = 0.05,
                 window: float = 1.2, jobs_choices: tuple[int, ...] = (1,),
                 files_per_round: int = 3,
                 progress: Callable[[int, CrashFigures], None] | None = None) -> CrashFigures:
    """Run ``rounds`` kill rounds in the workspace ``root``; returns the figures."""
    rng = random.Random(seed)
    cfg_path = service_config(root)
    cfg = load_config(cfg_path)
    inbox = root / "inbox" / "intake"
    inbox.mkdir(parents=True, exist_ok=True)
    env = subprocess_env(pool, **{"MISATO_RPA_STEP_DELAY": str(delay)})
    dropped: dict[str, bytes] = {}
    good: set[str] = set()
    figures = CrashFigures()
    base = [p.read_bytes() for p in pool.scans]
    n = 0
    for r in range(rounds):
        for _ in range(files_per_round):
            n += 1
            name = f"r{r:04d}-{n:05d}-申請 書.png"
            data = tag_png(rng.choice(base), f"crash-{seed}-{n}")
            (inbox / name).write_bytes(data)
            dropped[name], _ = data, good.add(name)
        if r and rng.random() < 0.3:  # the same content again, under a later name
            twin = rng.choice(sorted(good))
            name = f"r{r:04d}-zz-dup.png"
            (inbox / name).write_bytes(dropped[twin])
            dropped[name], _ = dropped[twin], good.add(name)
        if rng.random() < 0.3:
            name = f"r{r:04d}-broken.pdf"
            data = b"%PDF-1.4\n" + rng.randbytes(rng.randint(10, 400))
            (inbox / name).write_bytes(data)
            dropped[name] = data
        for _ in range(2 if rng.random() < 0.25 else 1):
            waiting = sum(1 for p in inbox.iterdir() if p.is_file())
            alive, where = _killed_run(root, cfg_path, env, rng, rng.choice(jobs_choices),
                                       window, root / "kill.log", 3 * waiting + 3, delay)
            figures.runs += 1
            figures.kills += alive
            figures.late += not alive
            figures.steps[where] += 1
        if rng.random() < 0.8 or r == rounds - 1:
            run_scenario("intake", cfg, jobs=1)
            figures.runs += 1
            inv: Invariants = check_invariants(root, dropped, good, open_workbooks=False)
            figures.problems += [f"round {r}: {p}" for p in inv.problems]
        if progress is not None:
            progress(r, figures)
    inv = check_invariants(root, dropped, good)
    figures.problems += [f"final: {p}" for p in inv.problems]
    figures.files, figures.good = len(dropped), len(good)
    figures.documents_lost, figures.duplicates = inv.lost, inv.duplicates
    figures.aborted_runs = inv.aborted_runs
    return figures
