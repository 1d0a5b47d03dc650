"""``rpa watch`` and stop signals, as real subprocesses of ``rpa`` with the replay engine.

- a watch session takes N files dropped over time exactly once each (a file still being
  written is not taken half-way), never re-processes its own moves (OCRmyPDF issue #484),
  and exits 0 on SIGTERM and on SIGINT;
- polling mode (network shares) with ``--max-runs``;
- SIGTERM during ``rpa run``: the document in progress finishes and is written out, the
  files not started go back to the inbox, the next run takes them; nothing twice.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import install_fake_engine, uninstall_fake_engine
from service_kit import (
    Pool,
    check_invariants,
    make_pool,
    rpa_command,
    service_config,
    subprocess_env,
    tag_png,
)

from robots.config import load_config
from robots.run.runner import run_scenario

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    folder = tmp_path_factory.getbasetemp() / "service-pool"
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, folder / "entry-point-inproc", folder / "tape.json")
        yield make_pool(folder)
    uninstall_fake_engine()


def _wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _done(root: Path) -> list[str]:
    base = root / "done" / "intake"
    return sorted(p.name for p in base.rglob("*") if p.is_file()) if base.is_dir() else []


def _runs(root: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    db.row_factory = sqlite3.Row
    try:
        return list(db.execute("SELECT * FROM runs ORDER BY started_at"))
    finally:
        db.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_watch_takes_each_file_once_and_stops_cleanly(pool: Pool, tmp_path: Path,
                                                      sig: signal.Signals) -> None:
    cfg = service_config(tmp_path, settle_seconds=0.6)
    inbox = tmp_path / "inbox" / "intake"
    inbox.mkdir(parents=True)
    scans = [p.read_bytes() for p in pool.scans]
    proc = subprocess.Popen(
        [*rpa_command(), "-v", "--log-file", str(tmp_path / "watch.log"), "--config", str(cfg),
         "watch", "intake", "--jobs", "1"], env=subprocess_env(pool), cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        assert "watching" in proc.stdout.readline()
        dropped: dict[str, bytes] = {}
        for i in range(4):  # a first batch, dropped at once
            dropped[f"a{i} 申請.png"] = tag_png(scans[i % len(scans)], f"watch-{sig}-{i}")
            (inbox / f"a{i} 申請.png").write_bytes(dropped[f"a{i} 申請.png"])
        if sig == signal.SIGTERM:  # a slow copy, in four pieces over ~1.5 s: not taken half-way
            slow = tag_png(scans[0], f"watch-slow-{sig}")
            with (inbox / "slow scan.png").open("wb") as fh:
                for k in range(4):
                    fh.write(slow[k * len(slow) // 4:(k + 1) * len(slow) // 4])
                    fh.flush()
                    time.sleep(0.4)
            dropped["slow scan.png"] = slow
        time.sleep(0.3)
        for i in range(2):  # a second batch, later
            dropped[f"b{i}.png"] = tag_png(scans[(i + 3) % len(scans)], f"watch-b-{sig}-{i}")
            (inbox / f"b{i}.png").write_bytes(dropped[f"b{i}.png"])
        _wait_for(lambda: len(_done(tmp_path)) == len(dropped), 60, "all files done")
        runs_then = len(_runs(tmp_path))
        time.sleep(1.5)  # its own moves must not wake it into more runs (OCRmyPDF #484)
        assert len(_runs(tmp_path)) == runs_then
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "watch ended (signal" in out
    assert _done(tmp_path) == sorted(dropped)
    inv = check_invariants(tmp_path, dropped, set(dropped))
    assert not inv.problems, inv.problems
    assert inv.rows == len(dropped)
    runs = _runs(tmp_path)
    assert {r["trigger"] for r in runs} == {"watch"}
    assert {r["status"] for r in runs} == {"completed"}
    assert 1 <= len(runs) <= len(dropped)
    assert not list((tmp_path / "failed").rglob("*.png"))


def test_watch_polling_mode_with_max_runs(pool: Pool, tmp_path: Path) -> None:
    cfg = service_config(tmp_path, settle_seconds=0.2)
    inbox = tmp_path / "inbox" / "intake"
    inbox.mkdir(parents=True)
    dropped = {f"p{i}.png": tag_png(pool.scans[i].read_bytes(), f"poll-{i}") for i in range(2)}
    for name, data in dropped.items():
        (inbox / name).write_bytes(data)
    proc = subprocess.run(
        [*rpa_command(), "--config", str(cfg), "watch", "intake", "--poll", "--poll-interval",
         "0.2", "--max-runs", "1", "--jobs", "1"], env=subprocess_env(pool), cwd=tmp_path,
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "watch ended (max-runs, polling events): 1 run(s), 2 file(s)" in proc.stdout
    assert _done(tmp_path) == sorted(dropped)


def test_sigterm_during_a_run_finishes_the_document_in_progress(pool: Pool,
                                                                 tmp_path: Path) -> None:
    cfg_path = service_config(tmp_path)
    inbox = tmp_path / "inbox" / "intake"
    inbox.mkdir(parents=True)
    dropped = {f"s{i}.png": tag_png(pool.scans[i % len(pool.scans)].read_bytes(), f"term-{i}")
               for i in range(5)}
    for name, data in dropped.items():
        (inbox / name).write_bytes(data)
    log_file = tmp_path / "run.log"
    proc = subprocess.Popen(
        [*rpa_command(), "-vv", "--log-file", str(log_file), "--config", str(cfg_path), "run",
         "intake", "--jobs", "1"], env=subprocess_env(pool, MISATO_RPA_STEP_DELAY="0.15"),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    _wait_for(lambda: log_file.exists() and "step processed" in log_file.read_text("utf-8"),
              60, "the first document read")
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode in (0, 2), out  # a normal end, not a crash
    first = _done(tmp_path)
    waiting = sorted(p.name for p in inbox.iterdir())
    assert 1 <= len(first) < 5 and sorted(first + waiting) == sorted(dropped)
    (run,) = _runs(tmp_path)
    assert run["status"] == "completed"
    # the next run takes the rest; each document exactly once
    s = run_scenario("intake", load_config(cfg_path), jobs=1)
    assert sum(s.counts.values()) == len(waiting)
    inv = check_invariants(tmp_path, dropped, set(dropped))
    assert not inv.problems, inv.problems
    assert inv.rows == 5


def test_second_signal_aborts_and_the_next_run_recovers(pool: Pool, tmp_path: Path) -> None:
    cfg_path = service_config(tmp_path)
    inbox = tmp_path / "inbox" / "intake"
    inbox.mkdir(parents=True)
    dropped = {f"t{i}.png": tag_png(pool.scans[i].read_bytes(), f"abort-{i}") for i in range(3)}
    for name, data in dropped.items():
        (inbox / name).write_bytes(data)
    log_file = tmp_path / "run.log"
    proc = subprocess.Popen(
        [*rpa_command(), "-vv", "--log-file", str(log_file), "--config", str(cfg_path), "run",
         "intake", "--jobs", "1"], env=subprocess_env(pool, MISATO_RPA_STEP_DELAY="0.5"),
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(lambda: log_file.exists() and "step claimed" in log_file.read_text("utf-8"),
              60, "the first file claimed")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    s = run_scenario("intake", load_config(cfg_path), jobs=1)
    assert len(s.recovered) == 1
    inv = check_invariants(tmp_path, dropped, set(dropped))
    assert not inv.problems, inv.problems
    assert inv.rows == 3 and inv.aborted_runs == 1
