"""A pool of worker processes that cannot hang the run: the ``--jobs N`` executor.

``concurrent.futures.ProcessPoolExecutor`` sends results back through one shared pipe and
takes its log records through one shared queue. When a worker died (the OOM killer, a native
crash in an OCR library, ``kill -9``) while another was writing a 100 kB result, the writer
blocked for ever on a pipe nobody read, the pool could not terminate workers that ignore
SIGTERM, and the run — and under ``rpa schedule`` every later night — hung. Here:

- each worker has a pipe of its own and sends only small messages on it: its log records,
  and "the result of item N is in file F" — the result itself is pickled into the run's
  private folder first, so no worker ever blocks on a large write, and a dead worker blocks
  nobody (its pipe simply ends);
- the parent waits on every pipe and every worker's death at once, with a timeout, so it
  always sees a death, a result or a clock;
- an item that runs longer than ``item_timeout`` has its worker killed (SIGKILL: always
  obeyed) and is tried again alone on a fresh worker; an item that times out alone is
  quarantined as too slow, one that kills its worker alone as a crash (``max_retries``);
- workers die with their parent: ``PR_SET_PDEATHSIG`` on Linux, a watch on the parent's
  sentinel elsewhere; each writes a pid file, so the next run can report (and stop) any that
  survived (:func:`stale_workers`);
- a worker's temporary files go to the run's private folder (:mod:`robots.tempdirs`).

After a stop request (:mod:`robots.run.shutdown`) no new item is started; the items in flight
finish and are yielded; the caller puts the others back in the inbox.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing as mp
import os
import pickle
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import psutil

from robots.run.shutdown import stop_requested
from robots.run.work import Executor, ForwardHandler, crash_result, process_with, where
from robots.scenario import ItemResult, Outcome, RunContext, Scenario, WorkItem, get_scenario
from robots.tempdirs import private_tempdir

__all__ = ["DEFAULT_ITEM_TIMEOUT", "WorkerPool", "stale_workers"]

log = logging.getLogger(__name__)

#: Seconds one file may take before its worker is killed (``[run] item_timeout_seconds``).
DEFAULT_ITEM_TIMEOUT = 900.0
_PR_SET_PDEATHSIG = 1
_TICK = 1.0  # the longest the parent sleeps without looking at the clock
_STOP_GRACE = 5.0  # seconds a worker gets to leave by itself at the end
_START_GRACE = 300.0  # seconds a new worker may take to start (imports, OCR models) on a busy host


# -- in the worker process --------------------------------------------------------------------

class _PipeHandler(logging.Handler):
    """A worker's log records, as plain dicts, down its own pipe (no lock shared with others)."""

    def __init__(self, conn: Connection, lock: threading.Lock) -> None:
        super().__init__()
        self.conn, self.send_lock = conn, lock  # not self.lock: logging.Handler's own

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:  # where, not the message
                text += "\n" + where(record.exc_info[1])
            data = {"name": record.name, "levelno": record.levelno,
                    "levelname": record.levelname, "msg": text, "created": record.created,
                    "msecs": record.msecs, "process": record.process,
                    "processName": record.processName, "pathname": record.pathname,
                    "filename": record.filename, "module": record.module,
                    "lineno": record.lineno, "funcName": record.funcName}
            with self.send_lock:
                self.conn.send(("log", data))
        except Exception:  # the parent is gone or the record cannot be sent: drop it
            self.handleError(record)


def _die_with_parent() -> None:
    """Exit as soon as the parent is gone, even when it was killed with SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):  # Linux: the kernel does it
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = mp.parent_process()
    if parent is None:
        return
    if wait([parent.sentinel], timeout=0):  # it died before the kernel could be asked
        os._exit(0)

    def watch() -> None:  # everywhere else (and if the parent died before prctl took)
        wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_main(conn: Connection, scenario_name: str, ctx: RunContext, level: int,
                 folder: Path, pid_dir: Path) -> None:
    """Take items from ``conn`` until told to stop; each result goes into ``folder``."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    for name in ("SIGINT", "SIGBREAK"):  # Ctrl-C reaches the whole group: the parent decides
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a worker can always be stopped
    _die_with_parent()
    pid_file = pid_dir / str(os.getpid())
    pid_file.write_text(f"{ctx.run_id} {ctx.scenario}\n", encoding="ascii")
    lock = threading.Lock()
    root = logging.getLogger()
    root.handlers[:] = [_PipeHandler(conn, lock)]
    root.setLevel(level)
    with private_tempdir(folder / "tmp"):
        scenario: Scenario | None = None
        broken: BaseException | None = None
        try:
            scenario = get_scenario(scenario_name)
            scenario.worker_init(ctx)
        except Exception as exc:  # every item will say so (an ERROR result each)
            broken = exc
            log.error("worker could not start: %s\n%s", where(exc),
                      "".join(traceback.format_tb(exc.__traceback__)))
        try:
            while True:
                msg = conn.recv()
                if msg[0] != "item":
                    break
                item: WorkItem = msg[1]
                with lock:  # the clock of the item's time limit starts now, not at spawn
                    conn.send(("started", item.seq))
                if scenario is None:
                    result = crash_result(item, broken or RuntimeError("no scenario"))
                else:
                    result = process_with(scenario, ctx, item)
                out = folder / f"item-{item.seq:06d}-{os.getpid()}.pickle"
                tmp = out.with_suffix(".tmp")
                with tmp.open("wb") as fh:
                    pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
                tmp.replace(out)
                del result
                with lock:
                    conn.send(("result", item.seq, str(out)))
        except (EOFError, OSError):  # the parent is gone: nothing left to do
            pass
        finally:
            pid_file.unlink(missing_ok=True)


# -- in the parent ------------------------------------------------------------------------------

@dataclass(eq=False)
class _Worker:
    proc: Any  # multiprocessing.process.BaseProcess
    conn: Connection
    item: WorkItem | None = None
    since: float = 0.0
    started: bool = False  # the worker has begun the item (start-up and model load are over)
    alone: bool = False
    dead: bool = False

    def overdue(self, now: float, limit: float) -> bool:
        """Busy for longer than ``limit`` (plus a grace for starting, before it has begun)."""
        return self.item is not None and now - self.since > limit + (
            0.0 if self.started else _START_GRACE)


@dataclass
class _State:
    pending: deque[WorkItem]
    suspects: deque[WorkItem] = field(default_factory=deque)
    crashes: dict[int, int] = field(default_factory=dict)  # seq → times it killed a worker


def too_slow_result(item: WorkItem, seconds: float) -> ItemResult:
    """The REJECTED result of a file that took longer than the limit, also alone."""
    return ItemResult(
        item, Outcome.REJECTED, reason_code="too_slow",
        reason_ja=(f"処理に時間がかかりすぎたため中止しました（{seconds:.0f}秒を超えました）。"
                   "ページ数の多いファイルは分けてスキャンし、受付フォルダに入れ直してください。"),
        detail=f"stopped after {seconds:.0f} s (also when run alone)")


def _died_result(item: WorkItem, exitcode: int | None) -> ItemResult:
    """The ERROR result of a file whose worker died under it, also when it ran alone.

    A negative exit code is the signal that killed it: -9 is SIGKILL, which is what the
    kernel's out-of-memory killer sends.
    """
    how = (f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0
           else f"exit code {exitcode}")
    return ItemResult(
        item, Outcome.ERROR, reason_code="internal_error",
        reason_ja=("このファイルの読み取り中に処理が異常終了しました（メモリ不足など）。"
                   "システム担当者に連絡してください。"),
        detail=f"the worker process died ({how}), also when the file was read alone")


class WorkerPool(Executor):
    """``jobs`` worker processes (spawned, as on Windows); see the module docstring."""

    def __init__(self, jobs: int, *, folder: Path, pid_dir: Path,
                 item_timeout: float = DEFAULT_ITEM_TIMEOUT, max_retries: int = 1) -> None:
        self.jobs = max(1, jobs)
        self.folder = folder
        self.pid_dir = pid_dir
        self.item_timeout = item_timeout
        self.max_retries = max_retries

    def run(self, scenario_name: str, ctx: RunContext,
            items: Sequence[WorkItem]) -> Iterator[ItemResult]:
        if not items:
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        pid_dir = self.pid_dir
        pid_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        mpctx = mp.get_context("spawn")
        level = logging.getLogger().getEffectiveLevel()
        state = _State(deque(items))
        workers: list[_Worker] = []
        forward = ForwardHandler()

        def start() -> _Worker:
            parent_end, child_end = mpctx.Pipe(duplex=True)
            proc = mpctx.Process(target=_worker_main, name=f"rpa-worker-{len(workers) + 1}",
                                 args=(child_end, scenario_name, ctx, level, self.folder,
                                       pid_dir), daemon=True)
            proc.start()
            child_end.close()
            w = _Worker(proc, parent_end)
            workers.append(w)
            return w

        try:
            while True:
                if not stop_requested():
                    self._assign(state, workers, start)
                live = [w for w in workers if not w.dead]
                if not any(w.item is not None for w in live):
                    if stop_requested() or not (state.pending or state.suspects):
                        return
                    continue  # a worker died idle, or a suspect waits for a fresh worker
                yield from self._watch(state, live, forward)
        finally:
            self._stop(workers)

    def _assign(self, state: _State, workers: list[_Worker], start: Any) -> None:
        """Give idle workers items; a suspect runs alone, on an otherwise idle pool."""
        live = [w for w in workers if not w.dead]
        idle = [w for w in live if w.item is None]
        if any(w.item is not None and w.alone for w in live):
            return  # a suspect is running: nothing beside it
        if state.suspects:
            if len(idle) < len(live):
                return  # wait for the others to finish first
            self._send(idle[0] if idle else start(), state.suspects.popleft(), alone=True)
            return
        while state.pending and (idle or len(live) < self.jobs):
            w = idle.pop() if idle else start()
            if w not in live:
                live.append(w)
            self._send(w, state.pending.popleft(), alone=False)

    @staticmethod
    def _send(w: _Worker, item: WorkItem, *, alone: bool) -> None:
        w.item, w.since, w.alone, w.started = item, time.monotonic(), alone, False
        try:
            w.conn.send(("item", item))
        except OSError:  # died between two looks: its sentinel says so next
            log.debug("worker %s could not be given item %s", w.proc.pid, item.seq)

    def _watch(self, state: _State, live: list[_Worker],
               forward: ForwardHandler) -> Iterator[ItemResult]:
        """One wait on every worker's pipe and death: results, log records, deaths, timeouts."""
        busy = [w for w in live if w.item is not None]
        now = time.monotonic()
        next_deadline = min(w.since + self.item_timeout + (0 if w.started else _START_GRACE)
                            for w in busy)
        timeout = max(0.0, min(_TICK, next_deadline - now))
        by_conn = {w.conn: w for w in live}
        by_sentinel = {w.proc.sentinel: w for w in live}
        ready = wait([*by_conn, *by_sentinel], timeout=timeout)
        for obj in ready:
            w = by_conn.get(obj)  # type: ignore[call-overload]
            if w is not None and not w.dead:
                result = self._drain(w, forward)
                if result is not None:
                    yield result
        for obj in ready:
            w = by_sentinel.get(obj)  # type: ignore[call-overload]
            if w is not None and not w.dead:
                result = self._drain(w, forward)  # what it said before it died
                if result is not None:
                    yield result
                yield from self._died(state, w)
        now = time.monotonic()
        for w in busy:
            if not w.dead and w.overdue(now, self.item_timeout):
                yield from self._timed_out(state, w)

    def _drain(self, w: _Worker, forward: ForwardHandler) -> ItemResult | None:
        """Every message waiting on ``w``'s pipe; the item's result once it is announced."""
        result = None
        try:
            while w.conn.poll():
                kind, *rest = w.conn.recv()
                if kind == "log":
                    forward.handle(logging.makeLogRecord(rest[0]))
                elif kind == "started" and w.item is not None and rest[0] == w.item.seq:
                    w.since, w.started = time.monotonic(), True
                elif kind == "result" and w.item is not None and rest[0] == w.item.seq:
                    result = self._load(Path(rest[1]), w.item)
                    w.item = None
        except (EOFError, OSError, pickle.UnpicklingError):
            pass  # it died mid-message: the sentinel tells the rest
        return result

    @staticmethod
    def _load(path: Path, item: WorkItem) -> ItemResult:
        try:
            with path.open("rb") as fh:
                result: ItemResult = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError) as exc:
            log.error("the result of item %s could not be read back (%s)", item.seq, where(exc))
            return crash_result(item, exc)
        finally:
            path.unlink(missing_ok=True)
        return result

    def _died(self, state: _State, w: _Worker) -> Iterator[ItemResult]:
        w.dead = True
        w.proc.join(timeout=1)
        item, w.item = w.item, None
        if item is None:
            return
        n = state.crashes[item.seq] = state.crashes.get(item.seq, 0) + 1
        if w.alone and n > self.max_retries:
            log.error("item %s killed its worker %d times, also alone; giving up", item.seq, n)
            yield _died_result(item, w.proc.exitcode)
        else:
            log.warning("a worker process died (exit %s) on item %s; it runs again alone",
                        w.proc.exitcode, item.seq)
            state.suspects.append(item)

    def _timed_out(self, state: _State, w: _Worker) -> Iterator[ItemResult]:
        item = w.item
        assert item is not None
        log.warning("item %s took more than %.0f s: its worker is stopped", item.seq,
                    self.item_timeout)
        _kill(w)
        w.dead, w.item = True, None
        if w.alone:
            yield too_slow_result(item, self.item_timeout)
        else:
            state.suspects.append(item)

    @staticmethod
    def _stop(workers: list[_Worker]) -> None:
        """Ask every worker to leave, then make sure: a run never ends with a worker behind."""
        for w in workers:
            if not w.dead:
                with contextlib.suppress(OSError):
                    w.conn.send(("stop",))
        deadline = time.monotonic() + _STOP_GRACE
        for w in workers:
            w.proc.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                _kill(w)
            w.conn.close()


def _kill(w: _Worker) -> None:
    with contextlib.suppress(OSError):
        w.proc.kill()
    w.proc.join(timeout=10)


def stale_workers(pid_dirs: Sequence[Path], *, stop: bool = True) -> list[str]:
    """Workers of earlier runs still alive (a pid file whose process lives); stopped if asked.

    Workers die with their parent; one that did not (another operating system, a kernel
    without parent-death signals) would go on reading a file that recovery is putting back.
    Returns ``"<pid> (run <id>)"`` for each one found alive; pid files of dead ones go.
    """
    found = []
    for d in pid_dirs:
        for f in sorted(d.glob("[0-9]*")) if d.is_dir() else []:
            pid = int(f.name)
            run = f.read_text(encoding="ascii", errors="replace").split(" ")[0]
            try:
                proc = psutil.Process(pid)
                alive = proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
            except psutil.Error:
                alive = False
            if alive:
                found.append(f"{pid} (run {run})")
                if stop:
                    proc.kill()
            f.unlink(missing_ok=True)
    return found
