"""Run a scenario's per-item work serially or in a pool of worker processes.

Workers receive pickle-able contexts and return results; only the parent writes the run log
and the outputs, so results are identical whichever executor ran them. A worker that dies
(a native crash inside an OCR library) costs only the item it was on: the pool is rebuilt
and the other items go on. A dead worker breaks the whole pool, so the items that were in
flight are retried one at a time first; only an item that kills a worker on its own is given up.
With ``[run] dask_scheduler`` set, :mod:`robots.run.dask_executor` keeps the same contract on the
machines of a Dask cluster.

After a stop request (:mod:`robots.run.shutdown`) no new item is started; the items in flight
finish and the caller gets results for those only. Workers ignore SIGINT/SIGTERM (the parent
decides when to stop) and exit by themselves when the parent dies, even by SIGKILL, so a
killed run leaves no orphan process reading files that recovery is putting back.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing as mp
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from robots.run.shutdown import stop_requested
from robots.run.work import Executor, ForwardHandler, crash_result, process_with
from robots.scenario import ItemResult, RunContext, WorkItem, get_scenario

__all__ = ["ProcessExecutor", "SerialExecutor", "make_executor"]

log = logging.getLogger(__name__)

# Per-process state of a worker: the scenario object and its context.
_WORKER: dict[str, Any] = {}


def _exit_with_parent() -> None:
    """In a worker process: exit as soon as the parent is gone (killed, crashed)."""
    from multiprocessing.connection import wait as wait_for

    parent = mp.parent_process()
    if parent is None:
        return
    for name in ("SIGINT", "SIGTERM"):  # the parent decides; Ctrl-C reaches the whole group
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)

    def watch() -> None:
        wait_for([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _init_worker(scenario_name: str, ctx: RunContext, log_queue: Any, level: int) -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    if log_queue is not None:
        _exit_with_parent()
        root = logging.getLogger()
        root.handlers[:] = [logging.handlers.QueueHandler(log_queue)]
        root.setLevel(level)
    scenario = get_scenario(scenario_name)
    scenario.worker_init(ctx)
    _WORKER["scenario"] = scenario
    _WORKER["ctx"] = ctx


def _process(item: WorkItem) -> ItemResult:
    return process_with(_WORKER["scenario"], _WORKER["ctx"], item)


class SerialExecutor(Executor):
    """In this process, one item after another: for tests, debugging and ``--jobs 1``."""

    def run(self, scenario_name: str, ctx: RunContext,
            items: Sequence[WorkItem]) -> Iterator[ItemResult]:
        _init_worker(scenario_name, ctx, None, logging.getLogger().level)
        try:
            for item in items:
                if stop_requested():
                    return
                yield _process(item)
        finally:
            _WORKER.clear()


class ProcessExecutor(Executor):
    """A pool of ``jobs`` processes (spawned, so it behaves the same on Windows)."""

    def __init__(self, jobs: int, *, max_retries: int = 1) -> None:
        self.jobs = max(1, jobs)
        self.max_retries = max_retries

    def run(self, scenario_name: str, ctx: RunContext,
            items: Sequence[WorkItem]) -> Iterator[ItemResult]:
        mpctx = mp.get_context("spawn")
        queue = mpctx.Queue()
        listener = logging.handlers.QueueListener(queue, ForwardHandler(),
                                                  respect_handler_level=False)
        listener.start()
        pending = list(items)
        suspects: list[WorkItem] = []
        attempts: dict[int, int] = {}
        try:
            while (pending or suspects) and not stop_requested():
                if suspects:
                    suspects = yield from self._isolated_round(
                        mpctx, queue, scenario_name, ctx, suspects, attempts)
                else:
                    pending, suspects = yield from self._pool_round(
                        mpctx, queue, scenario_name, ctx, pending)
        finally:
            listener.stop()

    def _pool(self, mpctx: Any, queue: Any, scenario_name: str, ctx: RunContext,
              workers: int) -> ProcessPoolExecutor:
        init: Callable[..., None] = _init_worker
        return ProcessPoolExecutor(workers, mp_context=mpctx, initializer=init,
                                   initargs=(scenario_name, ctx, queue,
                                             logging.getLogger().getEffectiveLevel()))

    def _pool_round(self, mpctx: Any, queue: Any, scenario_name: str, ctx: RunContext,
                    items: list[WorkItem]
                    ) -> Generator[ItemResult, None, tuple[list[WorkItem], list[WorkItem]]]:
        """One pool's life; returns (items not started, suspects) after a worker crash.

        At most ``jobs`` items are in flight, so that when a worker dies only those few are
        suspects (a dead worker breaks the whole pool: every unfinished future fails alike).
        """
        todo = deque(items)
        with self._pool(mpctx, queue, scenario_name, ctx, self.jobs) as pool:
            running: dict[Future[ItemResult], WorkItem] = {}
            while todo or running:
                while todo and len(running) < self.jobs and not stop_requested():
                    item = todo.popleft()
                    running[pool.submit(_process, item)] = item
                if not running:  # stopped before anything else was started
                    return list(todo), []
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    done, _ = wait(running)  # the pool is broken: everything ends now
                suspects: list[WorkItem] = []
                for fut in done:
                    item = running.pop(fut)
                    if isinstance(fut.exception(), BrokenProcessPool):
                        suspects.append(item)
                    else:
                        yield fut.result()
                if suspects:
                    log.warning("a worker process died; retrying %d item(s) one at a time",
                                len(suspects))
                    return list(todo), sorted(suspects, key=lambda it: it.seq)
        return [], []

    def _isolated_round(self, mpctx: Any, queue: Any, scenario_name: str, ctx: RunContext,
                        items: list[WorkItem], attempts: dict[int, int]
                        ) -> Generator[ItemResult, None, list[WorkItem]]:
        """Suspects of a crash, alone in a one-worker pool: a crash now is the item's own."""
        with self._pool(mpctx, queue, scenario_name, ctx, 1) as pool:
            for i, item in enumerate(items):
                if stop_requested():
                    return []
                try:
                    yield pool.submit(_process, item).result()
                except BrokenProcessPool as exc:
                    attempts[item.seq] = attempts.get(item.seq, 0) + 1
                    if attempts[item.seq] <= self.max_retries:
                        return items[i:]
                    log.error("item %s crashed its worker %d times; giving up",
                              item.seq, attempts[item.seq])
                    yield crash_result(item, exc)
                    return items[i + 1:]
        return []


def make_executor(jobs: int, dask_scheduler: str | None = None) -> Executor:
    """A Dask cluster when ``[run] dask_scheduler`` is set; else serial for one job, a pool.

    :mod:`distributed` is imported only then: a town without a cluster never loads it.
    """
    if dask_scheduler:
        from robots.run.dask_executor import DaskExecutor

        return DaskExecutor(dask_scheduler)
    return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)
