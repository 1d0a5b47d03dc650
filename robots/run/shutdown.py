"""A cooperative stop: SIGTERM/SIGINT stop *taking* work, the work in progress finishes.

A scheduler or service manager stops a robot with SIGTERM (systemd, ``docker stop``) or, on
Windows, CTRL_C / CTRL_BREAK (delivered as SIGINT / SIGBREAK). Killing a run half-way is
safe (the runner recovers it) but wasteful: the documents being read would be read again.
So the first signal only sets a flag that the runner and the executors look at between
items — no new file is taken, the items in flight finish, outputs are written, the files not
started go back to the inbox — and a second signal raises :class:`KeyboardInterrupt` for
an operator who really wants out now (the next run rolls back what was left).

Only :mod:`signal` names that exist on the platform are used, so the same code runs on
Windows Server, where SIGTERM can be set but is never sent by the system. The flag is a plain
attribute, not a ``threading.Event``: a handler that sets an Event can deadlock on the
Event's own lock when the signal lands while the main thread holds it, so waits poll.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = [
    "STEP_DELAY_ENV",
    "clear_stop",
    "handle_signals",
    "request_stop",
    "step",
    "stop_requested",
    "wait_for_stop",
]

log = logging.getLogger(__name__)

_STOP: dict[str, bool] = {"stop": False}
_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGBREAK")
                 if hasattr(signal, n))

# Test hook: seconds to sleep at every step boundary of a run, so that a crash test's random
# SIGKILL lands inside each step often enough. Unset (the default), a step costs nothing.
STEP_DELAY_ENV = "MISATO_RPA_STEP_DELAY"


def request_stop(reason: str = "requested") -> None:
    """Ask every run in this process to stop taking new items."""
    if not _STOP["stop"]:
        log.warning("stop requested (%s): finishing the items in progress", reason)
    _STOP["stop"] = True


def stop_requested() -> bool:
    """True once a stop was requested; checked between items."""
    return _STOP["stop"]


def clear_stop() -> None:
    """Forget an earlier stop (tests, and a service that starts over)."""
    _STOP["stop"] = False


def wait_for_stop(timeout: float) -> bool:
    """Sleep up to ``timeout`` seconds, waking within 0.1 s of a stop; returns whether stopped."""
    end = time.monotonic() + timeout
    while not _STOP["stop"] and (left := end - time.monotonic()) > 0:
        time.sleep(min(0.1, left))
    return _STOP["stop"]


def step(name: str) -> None:
    """A step boundary of a run (see :data:`STEP_DELAY_ENV`)."""
    delay = os.environ.get(STEP_DELAY_ENV)
    if delay:
        log.debug("step %s", name)
        time.sleep(float(delay))


@contextmanager
def handle_signals(on_stop: Callable[[], None] | None = None) -> Iterator[None]:
    """Within the block, the first SIGTERM/SIGINT requests a stop, the second aborts.

    Must be entered from the main thread (Python delivers signals there only); elsewhere it
    does nothing, so library code may use it unconditionally.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in _SIGNALS}

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if _STOP["stop"]:
            raise KeyboardInterrupt(f"second {name}")
        request_stop(name)
        if on_stop is not None:
            on_stop()

    for s in _SIGNALS:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
