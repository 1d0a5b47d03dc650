"""What every executor shares: the contract, and the worker side of one item.

:class:`Executor` is the contract the runner talks to (serial, process pool, Dask);
:func:`process_with` runs ``scenario.process`` with a bug turned into an ERROR result, so a
worker never dies of a Python exception; :func:`where` says where an exception happened
without its message (which may quote a value being parsed: a My Number); the
:class:`ForwardHandler` hands worker log records to the parent's loggers.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from robots.scenario import ItemResult, Outcome, RunContext, Scenario, WorkItem

__all__ = ["Executor", "ForwardHandler", "crash_result", "give_back_memory", "process_with",
           "where"]

log = logging.getLogger(__name__)


class Executor:
    """Runs ``scenario.process`` over items; yields results as they complete."""

    def connect(self) -> None:
        """Reach the machines that will do the work; the runner calls it before claiming files.

        Local executors have nothing to reach. A remote one (:mod:`robots.run.dask_executor`)
        raises here, so that an unreachable cluster leaves every file in the inbox.
        """

    def run(self, scenario_name: str, ctx: RunContext,
            items: Sequence[WorkItem]) -> Iterator[ItemResult]:
        raise NotImplementedError


def where(exc: BaseException) -> str:
    """The exception's type and innermost frame, without its message.

    An exception's text may quote the value being parsed (``invalid literal for int():
    '1234567'``) — a My Number, an account number — and the detail goes to reason notes,
    the run log and log files, so only where it happened is kept.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} in {last.name} ({Path(last.filename).name}:{last.lineno})"


def crash_result(item: WorkItem, exc: BaseException) -> ItemResult:
    """The ERROR result of an item whose processing failed: quarantined, the log says where."""
    return ItemResult(
        item, Outcome.ERROR, reason_code="internal_error",
        reason_ja="処理中にシステムエラーが発生しました。システム担当者に連絡してください。",
        detail=where(exc))


def process_with(scenario: Scenario, ctx: RunContext, item: WorkItem) -> ItemResult:
    """``scenario.process`` with a bug turned into an ERROR result (shared by every executor)."""
    try:
        return scenario.process(item, ctx)
    except Exception as exc:  # one item's bug must not stop the run
        # the traceback without the exception's message, which may quote a value
        log.error("item %s failed: %s\n%s", item.seq, where(exc),
                  "".join(traceback.format_tb(exc.__traceback__)))
        return crash_result(item, exc)
    finally:
        give_back_memory()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc (Windows, macOS, musl)
        return None


def give_back_memory() -> None:
    """Return the pages a document freed to the system (glibc keeps them otherwise).

    Page images of 9 MB come and go with every document; glibc's arenas keep the freed
    memory and a worker's resident size drifted from 290 to 390 MB over 400 pages. Trimmed
    after each document it stays within 250-300 MB (measured, bench/throughput.py).
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class ForwardHandler(logging.Handler):
    """Hands worker records to the parent's loggers (and so to its configured handlers)."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)
