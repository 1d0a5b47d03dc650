"""Run a scenario's per-item work serially or in a pool of worker processes.

Workers receive pickle-able contexts and return results; only the parent writes the run log
and the outputs, so results are identical whichever executor ran them. A worker that dies
(a native crash inside an OCR library) costs only the item it was on: the pool is rebuilt
and the other items go on.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing as mp
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from robots.scenario import ItemResult, Outcome, RunContext, WorkItem, get_scenario

__all__ = ["Executor", "ProcessExecutor", "SerialExecutor", "make_executor"]

log = logging.getLogger(__name__)

# Per-process state of a worker: the scenario object and its context.
_WORKER: dict[str, Any] = {}


def _init_worker(scenario_name: str, ctx: RunContext, log_queue: Any, level: int) -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    if log_queue is not None:
        root = logging.getLogger()
        root.handlers[:] = [logging.handlers.QueueHandler(log_queue)]
        root.setLevel(level)
    scenario = get_scenario(scenario_name)
    scenario.worker_init(ctx)
    _WORKER["scenario"] = scenario
    _WORKER["ctx"] = ctx


def _crash_result(item: WorkItem, exc: BaseException) -> ItemResult:
    return ItemResult(
        item, Outcome.ERROR, reason_code="internal_error",
        reason_ja="処理中にシステムエラーが発生しました。システム担当者に連絡してください。",
        detail=f"{type(exc).__name__}: {exc}")


def _process(item: WorkItem) -> ItemResult:
    scenario, ctx = _WORKER["scenario"], _WORKER["ctx"]
    try:
        return scenario.process(item, ctx)
    except Exception as exc:  # one item's bug must not stop the run
        log.error("item %s failed: %s\n%s", item.seq, exc, traceback.format_exc())
        return _crash_result(item, exc)


class Executor:
    """Runs ``scenario.process`` over items; yields results as they complete."""

    def run(self, scenario_name: str, ctx: RunContext,
            items: Sequence[WorkItem]) -> Iterator[ItemResult]:
        raise NotImplementedError


class SerialExecutor(Executor):
    """In this process, one item after another: for tests, debugging and ``--jobs 1``."""

    def run(self, scenario_name: str, ctx: RunContext,
            items: Sequence[WorkItem]) -> Iterator[ItemResult]:
        _init_worker(scenario_name, ctx, None, logging.getLogger().level)
        try:
            for item in items:
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
        listener = logging.handlers.QueueListener(queue, _ForwardHandler(),
                                                  respect_handler_level=False)
        listener.start()
        pending = list(items)
        attempts: dict[int, int] = {}
        try:
            while pending:
                pending = yield from self._pool_round(mpctx, queue, scenario_name, ctx, pending,
                                                      attempts)
        finally:
            listener.stop()

    def _pool_round(self, mpctx: Any, queue: Any, scenario_name: str, ctx: RunContext,
                    items: list[WorkItem], attempts: dict[int, int]
                    ) -> Iterator[ItemResult]:
        """One pool's life; returns the items to retry after a worker crash."""
        retry: list[WorkItem] = []
        init: Callable[..., None] = _init_worker
        with ProcessPoolExecutor(self.jobs, mp_context=mpctx, initializer=init,
                                 initargs=(scenario_name, ctx, queue,
                                           logging.getLogger().getEffectiveLevel())) as pool:
            futures: dict[Future[ItemResult], WorkItem] = {pool.submit(_process, it): it
                                                            for it in items}
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in done:
                    item = futures.pop(fut)
                    try:
                        yield fut.result()
                    except BrokenProcessPool as exc:
                        attempts[item.seq] = attempts.get(item.seq, 0) + 1
                        if attempts[item.seq] > self.max_retries:
                            log.error("item %s crashed its worker %d times; giving up",
                                      item.seq, attempts[item.seq])
                            yield _crash_result(item, exc)
                        else:
                            retry.append(item)
        if retry:
            log.warning("a worker process died; retrying %d item(s) in a new pool", len(retry))
        return sorted(retry, key=lambda it: it.seq)


class _ForwardHandler(logging.Handler):
    """Hands worker records to the parent's loggers (and so to its configured handlers)."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


def make_executor(jobs: int) -> Executor:
    """Serial for one job, a process pool otherwise."""
    return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)
