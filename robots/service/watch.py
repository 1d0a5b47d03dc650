"""``rpa watch SCENARIO``: process scans as they arrive instead of waiting for the night.

File-system events (watchdog: inotify, ReadDirectoryChangesW, FSEvents) wake the loop; a
share mounted over the network often delivers no events for files written by other machines,
so there the loop polls (``--poll``, or automatically when the inbox is on a network file
system or the native observer cannot start). Events only *wake* the loop; what is taken is
decided by the inbox itself: after the last event the loop waits the inbox's settle time
(debounce), then :func:`robots.run.inbox.list_inbox` takes only files unchanged for that long,
and a run starts only when some file is ready.

This is what keeps the loop of OCRmyPDF's issue #484 away: the runner's own moves out of the
inbox (claims) and into done/, failed/ and out/ are either not watched or ignored as events,
and even a spurious wake-up finds nothing ready and starts no run. Every batch is an ordinary
run (``trigger="watch"``) under the scenario's lock, so a scheduled run and a watch never
take the same file; while the other holds the lock the watcher simply tries again later.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from robots.config import Config
from robots.errors import OutputError, ScenarioLockedError
from robots.run.inbox import InboxPaths, list_inbox
from robots.run.runner import RunSummary, run_scenario
from robots.run.shutdown import handle_signals, stop_requested, wait_for_stop
from robots.scenario import get_scenario
from robots.service.notify import failure_notice, notify, run_notice

__all__ = ["WatchResult", "is_network_path", "start_observer", "watch"]

log = logging.getLogger(__name__)

_NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "fuse.sshfs", "afs", "ncpfs",
               "fuse.rclone", "davfs"}
_WAKING_EVENTS = {"created", "modified", "moved", "closed"}
_IGNORED_PREFIXES = (".", "~$")
_RETRY_LOCKED = 5.0  # seconds before trying again while another run holds the lock
_RETRY_FAILED = 60.0  # ... after a run that could not write its outputs (disk full)


@dataclass
class WatchResult:
    """What a watch session did, for the CLI and tests."""

    runs: int = 0
    files: int = 0
    documents: int = 0
    mode: str = ""  # "native" or "polling"
    ended_by: str = ""  # "signal", "max-runs", "idle"
    summaries: list[RunSummary] = field(default_factory=list)


def is_network_path(path: Path) -> bool:
    """True when ``path`` is on a network share (events from other machines are unreliable)."""
    p = str(path.resolve())
    if sys.platform == "win32":
        if p.startswith("\\\\"):  # UNC: \\server\share
            return True
        import ctypes

        drive = os.path.splitdrive(p)[0] + "\\"
        return bool(ctypes.windll.kernel32.GetDriveTypeW(drive) == 4)  # type: ignore[attr-defined]
    try:
        mounts = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    best, fstype = "", ""
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            mount = parts[1].replace("\\040", " ")
            if (p == mount or p.startswith(mount.rstrip("/") + "/")) and len(mount) > len(best):
                best, fstype = mount, parts[2]
    return fstype in _NETWORK_FS


class _InboxEvents(FileSystemEventHandler):
    """Remembers when something arrived directly in the inbox; ignores everything else."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = Path(inbox).resolve()
        self._lock = threading.Lock()
        self._last: float | None = None

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in _WAKING_EVENTS:
            return  # deletions and moves out are our own claims: nothing to do
        target = Path(os.fsdecode(event.dest_path if event.event_type == "moved"
                                  else event.src_path))
        if target.parent != self.inbox or target.name.startswith(_IGNORED_PREFIXES):
            return
        with self._lock:
            self._last = time.monotonic()

    def take(self) -> float | None:
        """The time of the latest event since the last call (None: nothing arrived)."""
        with self._lock:
            last, self._last = self._last, None
        return last


def start_observer(folder: Path, handler: FileSystemEventHandler, *, poll: bool,
                   interval: float) -> tuple[BaseObserver, str]:
    """A started observer of ``folder``: native events, else polling every ``interval`` s."""
    folder = folder.resolve()  # event paths then compare equal to the handler's inbox
    if not poll and is_network_path(folder):
        log.info("%s is on a network share: polling every %.1f s", folder, interval)
        poll = True
    if not poll:
        observer = Observer()
        try:
            observer.schedule(handler, str(folder), recursive=False)
            observer.start()
            return observer, "native"
        except OSError as exc:  # inotify watch limit, unsupported file system, ...
            log.warning("native file events unavailable for %s (%s); polling every %.1f s",
                        folder, exc.strerror or exc, interval)
    observer = PollingObserver(timeout=interval)
    observer.schedule(handler, str(folder), recursive=False)
    observer.start()
    return observer, "polling"


def watch(name: str, cfg: Config, *, inbox: Path | None = None, out: Path | None = None,
          jobs: int | None = None, poll: bool = False, poll_interval: float = 2.0,
          rescan_seconds: float = 60.0, max_runs: int | None = None,
          idle_exit: float | None = None,
          on_run: Callable[[RunSummary], None] | None = None) -> WatchResult:
    """Watch the scenario's inbox and run a batch whenever settled files are there.

    Ends on SIGTERM/SIGINT (the run in progress finishes its documents), after ``max_runs``
    runs, or after ``idle_exit`` seconds with nothing arriving and nothing waiting.
    """
    get_scenario(name).settings(cfg)  # a bad section stops us before anything is watched
    p = cfg.paths
    paths = InboxPaths.for_scenario(
        name, inbox_root=cfg.resolve(p.inbox), processing=cfg.resolve(p.processing),
        done=cfg.resolve(p.done), failed=cfg.resolve(p.failed), inbox_override=inbox)
    paths.create()
    settle = cfg.inbox.settle_seconds
    handler = _InboxEvents(paths.inbox)
    observer, mode = start_observer(paths.inbox, handler, poll=poll, interval=poll_interval)
    result = WatchResult(mode=mode)
    log.info("watching %s (%s); settle time %.1f s", paths.inbox, mode, settle)
    due: float | None = time.monotonic()  # files already waiting are taken at once
    last_check = last_activity = time.monotonic()
    try:
        with handle_signals():
            while not stop_requested():
                now = time.monotonic()
                arrived = handler.take()
                if arrived is not None:  # debounce: settle time after the latest event
                    due = max(due or now, arrived + settle)
                    last_activity = now
                if due is None and now - last_check >= rescan_seconds:
                    due = now  # events can be lost (overflow, a share): look anyway
                if due is not None and now >= due:
                    due, last_check = None, now
                    due = _check_and_run(name, cfg, paths, inbox, out, jobs, settle, result,
                                         on_run)
                    last_activity = time.monotonic()
                    if max_runs is not None and result.runs >= max_runs:
                        result.ended_by = "max-runs"
                        break
                if (idle_exit is not None and due is None
                        and time.monotonic() - last_activity >= idle_exit):
                    result.ended_by = "idle"
                    break
                wait = 0.5 if due is None else min(0.5, max(0.02, due - time.monotonic()))
                wait_for_stop(wait)
            else:
                result.ended_by = "signal"
    finally:
        observer.stop()
        observer.join(timeout=10)
    log.info("watch of %s ended (%s) after %d run(s), %d file(s)", name, result.ended_by,
             result.runs, result.files)
    return result


def _check_and_run(name: str, cfg: Config, paths: InboxPaths, inbox: Path | None,
                   out: Path | None, jobs: int | None, settle: float, result: WatchResult,
                   on_run: Callable[[RunSummary], None] | None) -> float | None:
    """Run a batch if some file is ready; returns when to look again (None: on events)."""
    ready, later = list_inbox(paths.inbox, settle_seconds=settle,
                              incomplete_max_age=cfg.inbox.incomplete_max_age_seconds)
    again = time.monotonic() + max(settle, 0.2) if later else None
    if not ready:
        return again
    try:
        summary = run_scenario(name, cfg, trigger="watch", inbox=inbox, out=out, jobs=jobs)
    except ScenarioLockedError:
        log.info("%s is being run by another process; trying again in %.0f s", name,
                 _RETRY_LOCKED)
        return time.monotonic() + _RETRY_LOCKED
    except OutputError as exc:
        log.error("%s", exc)
        notify(failure_notice(name, exc, trigger="watch"), cfg)
        return time.monotonic() + _RETRY_FAILED
    result.runs += 1
    result.files += sum(summary.counts.values())
    result.documents += summary.documents
    result.summaries.append(summary)
    notify(run_notice(summary, cfg, trigger="watch"), cfg)
    if on_run is not None:
        on_run(summary)
    if summary.left_for_later or summary.put_back:
        return time.monotonic() + max(settle, 0.2)
    return again
