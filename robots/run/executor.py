"""Which executor runs a scenario's items: in this process, a pool of workers, or Dask.

Workers receive pickle-able contexts and return results; only the parent writes the run log
and the outputs, so results are identical whichever executor ran them. By default the items
run in worker processes (:class:`robots.run.pool.WorkerPool`), also with ``--jobs 1``: a
file that crashes, exhausts the memory of or hangs its worker costs only itself, never the
run. ``[run] isolate = false`` runs them in this process instead (:class:`SerialExecutor`),
for debugging and fast tests. With ``[run] dask_scheduler`` set,
:mod:`robots.run.dask_executor` keeps the same contract on the machines of a Dask cluster.

After a stop request (:mod:`robots.run.shutdown`) no new item is started; the items in flight
finish and the caller gets results for those only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from robots.run.pool import DEFAULT_ITEM_TIMEOUT, WorkerPool
from robots.run.shutdown import stop_requested
from robots.run.work import Executor, process_with
from robots.scenario import ItemResult, RunContext, WorkItem, get_scenario

__all__ = ["SerialExecutor", "make_executor"]

log = logging.getLogger(__name__)


class SerialExecutor(Executor):
    """In this process, one item after another: for debugging and fast tests."""

    def run(self, scenario_name: str, ctx: RunContext,
            items: Sequence[WorkItem]) -> Iterator[ItemResult]:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        scenario = get_scenario(scenario_name)
        scenario.worker_init(ctx)
        for item in items:
            if stop_requested():
                return
            yield process_with(scenario, ctx, item)


def make_executor(jobs: int, dask_scheduler: str | None = None, *, isolate: bool = True,
                  folder: Path | None = None, pid_dir: Path | None = None,
                  item_timeout: float = DEFAULT_ITEM_TIMEOUT) -> Executor:
    """A Dask cluster when ``[run] dask_scheduler`` is set; else a worker pool, or in-process.

    :mod:`distributed` is imported only then: a town without a cluster never loads it.
    ``folder`` is the run's private folder for results and temporary files, ``pid_dir``
    where workers leave their pid files (see :func:`robots.run.pool.stale_workers`).
    """
    if dask_scheduler:
        from robots.run.dask_executor import DaskExecutor

        return DaskExecutor(dask_scheduler)
    if not isolate or folder is None or pid_dir is None:
        return SerialExecutor()
    return WorkerPool(jobs, folder=folder, pid_dir=pid_dir, item_timeout=item_timeout)
