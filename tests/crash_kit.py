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

Besides the main process, a round may kill one *worker* of a ``--jobs 2`` run at a random
instant (the run must still end, within ``hang_timeout``, and lose nothing) and a
``rpa corrections import`` of the round's workbook (the next import must do it once, leave
no staging folder, and the confirmed outputs must be whole). After every kill of a main
process its workers must be gone within seconds (no orphans), and the subprocesses' own
temporary folder (``TMPDIR``) must stay empty: no sheet of names left outside the workspace.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import psutil
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
    worker_kills: int = 0  # SIGKILLs of a worker process of a live run
    import_kills: int = 0  # SIGKILLs that hit a live `rpa corrections import`
    hung: int = 0  # runs that did not end within hang_timeout after a worker was killed
    orphans: int = 0  # workers still alive seconds after their main process was killed
    temp_left: int = 0  # files left in the subprocesses' TMPDIR (outside the workspace)
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
                delay: float) -> tuple[bool, str, int]:
    """One ``rpa run`` killed at a random instant: (was it alive, step it died in, orphans).

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
    workers = _workers_of(proc.pid)
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    orphans = _survivors(workers)
    steps = [m.group(1) for line in log_file.read_text(encoding="utf-8", errors="replace")
             .splitlines() if (m := _STEP.search(line))]
    return alive, (steps[-1] if steps else "before first step") if alive else "finished", \
        orphans


def _workers_of(pid: int) -> list[psutil.Process]:
    """The worker processes (spawned Pythons) of process ``pid``, as they are now."""
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    out = []
    for k in kids:
        try:
            if any("spawn_main" in part for part in k.cmdline()):
                out.append(k)
        except psutil.Error:
            continue
    return out


def _survivors(workers: list[psutil.Process], grace: float = 5.0) -> int:
    """How many of ``workers`` are still alive after ``grace`` seconds (they are then killed)."""
    _gone, alive = psutil.wait_procs(workers, timeout=grace)
    for w in alive:
        with contextlib.suppress(psutil.Error):
            w.kill()
    return len(alive)


def _worker_killed_run(root: Path, cfg: Path, env: dict[str, str], rng: random.Random,
                       window: float, hang_timeout: float) -> tuple[bool, bool]:
    """``rpa run --jobs 2`` with one worker killed at a random instant: (killed, hung)."""
    proc = subprocess.Popen([*rpa_command(), "--config", str(cfg), "run", "intake", "--jobs",
                             "2"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=root)
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and proc.poll() is None and not workers:
        workers = _workers_of(proc.pid)
        time.sleep(0.02)
    killed = False
    if workers:
        time.sleep(rng.uniform(0, window))
        victims = _workers_of(proc.pid)
        if victims and proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                rng.choice(victims).kill()
                killed = True
    try:
        proc.wait(timeout=hang_timeout)
    except subprocess.TimeoutExpired:
        rest = _workers_of(proc.pid)
        proc.kill()
        proc.wait(timeout=30)
        _survivors(rest, 0)
        return killed, True
    return killed, False


def _import_killed(root: Path, env: dict[str, str], rng: random.Random, workbook: Path,
                   window: float) -> bool:
    """``rpa corrections import`` of ``workbook`` killed at a random instant: was it alive."""
    cfg = root / "config.toml"
    proc = subprocess.Popen([*rpa_command(), "--config", str(cfg), "corrections", "import",
                             str(workbook), "--who", "crash-test"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root)
    time.sleep(rng.uniform(0.2, window))
    alive = proc.poll() is None
    if alive:
        proc.kill()
    proc.wait(timeout=30)
    return alive


def _new_workbooks(root: Path, seen: set[Path]) -> list[Path]:
    """Review workbooks of completed runs not seen before (``seen`` is updated)."""
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    try:
        done = {r for (r,) in db.execute("SELECT run_id FROM runs WHERE status = 'completed'")}
    finally:
        db.close()
    books = [b for b in sorted((root / "out").glob("intake/*/申請データ_*.xlsx"))
             if b not in seen and b.parent.name in done]
    seen.update(books)
    return books


def _check_import(root: Path, workbook: Path) -> list[str]:
    """After an import killed and done again: once in the run log, whole outputs, no staging."""
    from robots.cli import main

    problems = []
    code = main(["--config", str(root / "config.toml"), "corrections", "import", str(workbook),
                 "--who", "crash-test"])
    if code not in (0, 2):
        problems.append(f"{workbook.name}: import exit code {code}")
    out = workbook.parent
    if list(out.glob(".confirm-*")):
        problems.append(f"{out.name}: staging folder left after a complete import")
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    sha = hashlib.sha256(workbook.read_bytes()).hexdigest()
    n = db.execute("SELECT count(*) FROM imports WHERE workbook_sha256 = ?", (sha,)).fetchone()[0]
    db.close()
    if n != 1:
        problems.append(f"{workbook.name}: imported {n} times")
    for book in out.glob("確定データ_*.xlsx"):
        try:
            openpyxl.load_workbook(book, read_only=True).close()
        except Exception as exc:  # a half-written confirmed workbook
            problems.append(f"{book.name}: not a whole workbook ({type(exc).__name__})")
    return problems


def crash_rounds(root: Path, pool: Pool, *, rounds: int, seed: int, delay: float = 0.05,
                 window: float = 1.2, jobs_choices: tuple[int, ...] = (1,),
                 files_per_round: int = 3, worker_kills: float = 0.0,
                 import_kills: float = 0.0, hang_timeout: float = 180.0,
                 progress: Callable[[int, CrashFigures], None] | None = None) -> CrashFigures:
    """Run ``rounds`` kill rounds in the workspace ``root``; returns the figures.

    ``worker_kills`` and ``import_kills`` are the share of rounds that also kill a worker of
    a ``--jobs 2`` run and a ``rpa corrections import``.
    """
    rng = random.Random(seed)
    cfg_path = service_config(root)
    cfg = load_config(cfg_path)
    inbox = root / "inbox" / "intake"
    inbox.mkdir(parents=True, exist_ok=True)
    sys_tmp = root.parent / f"{root.name}-tmpdir"  # the subprocesses' /tmp, watched
    sys_tmp.mkdir(exist_ok=True)
    env = subprocess_env(pool, **{"MISATO_RPA_STEP_DELAY": str(delay), "TMPDIR": str(sys_tmp)})
    dropped: dict[str, bytes] = {}
    good: set[str] = set()
    figures = CrashFigures()
    unimported: list[Path] = []
    seen_books: set[Path] = set()
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
            alive, where, orphans = _killed_run(root, cfg_path, env, rng,
                                                rng.choice(jobs_choices), window,
                                                root / "kill.log", 3 * waiting + 3, delay)
            figures.orphans += orphans
            figures.runs += 1
            figures.kills += alive
            figures.late += not alive
            figures.steps[where] += 1
        if rng.random() < worker_kills:
            killed, hung = _worker_killed_run(root, cfg_path, {**env, "MISATO_RPA_STEP_DELAY":
                                                               "0"}, rng, window, hang_timeout)
            figures.runs += 1
            figures.worker_kills += killed
            figures.hung += hung
        if rng.random() < 0.8 or r == rounds - 1:
            run_scenario("intake", cfg, jobs=1)
            figures.runs += 1
            inv: Invariants = check_invariants(root, dropped, good, open_workbooks=False)
            figures.problems += [f"round {r}: {p}" for p in inv.problems]
            # the workbooks of every completed run wait for their import (this run read
            # nothing when the killed runs had read it all), so how many imports are killed
            # does not hang on the timing of the other kills
            unimported += _new_workbooks(root, seen_books)
            if unimported and rng.random() < import_kills:
                book = unimported.pop(0)
                figures.import_kills += _import_killed(root, env, rng, book, window)
                figures.problems += [f"round {r}: {p}" for p in _check_import(root, book)]
        if progress is not None:
            progress(r, figures)
    inv = check_invariants(root, dropped, good)
    figures.problems += [f"final: {p}" for p in inv.problems]
    left = [p for p in sys_tmp.rglob("*") if p.is_file()]
    figures.temp_left = len(left)
    figures.problems += [f"left outside the workspace: {p}" for p in left[:20]]
    figures.files, figures.good = len(dropped), len(good)
    figures.documents_lost, figures.duplicates = inv.lost, inv.duplicates
    figures.aborted_runs = inv.aborted_runs
    return figures
