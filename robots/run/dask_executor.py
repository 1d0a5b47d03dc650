"""Scale-out: a scenario's per-file work on a Dask cluster (``[run] dask_scheduler``).

The contract is :class:`robots.run.executor.ProcessExecutor`'s: workers return
:class:`ItemResult` objects and only this (the town's) process writes outputs and the run
log, so the results are the same whichever executor ran them. What changes is that a
worker may sit on another machine and see none of this one's files:

- each task carries its file's bytes, read right before it is submitted; the worker writes
  them under the same name into a private temporary folder (0700), processes that path,
  deletes the folder and hands back the *original* :class:`WorkItem`;
- the run's context travels once per run together with the form templates and the
  calibration file it names, as the result of a task of its own that every item depends
  on: a worker fetches it once, and unlike scattered data the scheduler can make it again
  when every worker holding it has died. The worker unpacks it once per run
  into its own temporary folder: a worker reads with exactly the templates of the town;
- a worker process keeps the scenario and its loaded OCR engines per (scenario, run id)
  and processes one item at a time (a process-wide lock: the OCR engines are not
  thread-safe, and a Dask worker may run several threads);
- at most a few items are in flight (twice the cluster's threads, and a byte budget), so a
  stop request (:mod:`robots.run.shutdown`) starts nothing new: the items in flight finish and
  are yielded, the runner puts the others back in the inbox;
- an item whose task fails — a bug outside the scenario, or :class:`KilledWorker` because
  every worker that ran it died (``distributed.scheduler.allowed-failures`` + 1 of them) —
  becomes an ERROR result and the run goes on. A worker's death fails every item it held,
  the innocent ones with the one that crashed it, so an item killed that way is first run
  again alone at the end of the run (as the process pool retries its suspects one by one);
- losing the scheduler, or a worker set up differently from this machine (another
  misato-rpa, Tesseract or OCR library version would read differently), fails no item: the
  items not done are not yielded, so they go back to the inbox for the next run.

The worker's log records of each item come back with its result and go through this
process's loggers, as the process pool's do.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil
from distributed import Client, Future, as_completed
from distributed.scheduler import KilledWorker

from robots import __version__
from robots.errors import ExitCode, RobotError
from robots.run.shutdown import stop_requested
from robots.run.work import Executor, ForwardHandler, crash_result, process_with, where
from robots.scenario import ItemResult, RunContext, Scenario, WorkItem, get_scenario

__all__ = ["CONNECT_TIMEOUT", "ClusterError", "DaskExecutor"]

log = logging.getLogger(__name__)

#: Seconds to reach the scheduler and to see at least one worker before giving up.
CONNECT_TIMEOUT = 20.0
#: File bytes in flight at most (at least one item always is): the scheduler holds them.
MAX_BYTES_IN_FLIGHT = 256 * 2**20
#: Runs a worker process keeps loaded (a cluster may serve several towns or scenarios).
_KEPT_RUNS = 3
#: Worker temporary folders: <prefix>run-<pid>-... (templates), <prefix>item-<pid>-... (a scan).
_TEMP_PREFIX = "misato-rpa-"
#: Distributions whose versions change what is read: every worker must match this machine.
_READING_DISTS = ("rapidocr", "onnxruntime", "opencv-python-headless", "numpy", "pillow",
                  "pypdf", "pytesseract", "tesserocr")


class ClusterError(RobotError):
    """The Dask cluster of ``[run] dask_scheduler`` cannot be used; nothing was claimed."""

    exit_code = ExitCode.CONFIG


class WorkerMismatchError(RuntimeError):
    """A worker is set up differently from the town's machine and would read differently."""


@dataclasses.dataclass(frozen=True)
class _RunPackage:
    """What every task of a run shares; sent to the scheduler once, fetched once per worker."""

    scenario: str
    ctx: RunContext
    forms: tuple[tuple[tuple[str, bytes], ...], ...]  # per forms dir: (relative path, bytes)
    calibration: bytes | None
    log_level: int
    fingerprint: tuple[tuple[str, str], ...]


@dataclasses.dataclass
class _RunState:
    """A worker process's copy of a run: its scenario object, its context, its templates."""

    scenario: Scenario
    ctx: RunContext
    folder: tempfile.TemporaryDirectory[str]


# -- in the worker process -----------------------------------------------------------------

_LOCK = threading.Lock()  # one item at a time per process: OCR engines are not thread-safe
_RUNS: OrderedDict[tuple[str, str], _RunState] = OrderedDict()


def _usable_tempdir() -> None:
    """Forget a temporary folder that is gone (a finished run's private one).

    A worker restarted by its nanny inherits ``TMPDIR`` of the nanny's process.
    """
    if Path(tempfile.gettempdir()).is_dir():
        return
    if not Path(os.environ.get("TMPDIR", "/")).is_dir():
        os.environ.pop("TMPDIR", None)
    tempfile.tempdir = None


def _sweep_stale() -> None:
    """Delete the temporary folders of worker processes that died (a native crash).

    A worker killed while it read a scan could not delete that scan's private copy; the
    folders carry their process id, so the next task on the machine removes those whose
    process is gone. (Both kinds are created by :mod:`tempfile`, mode 0700.)
    """
    for kind in ("run", "item"):
        for folder in Path(tempfile.gettempdir()).glob(f"{_TEMP_PREFIX}{kind}-*-*"):
            pid = folder.name.split("-")[3]  # misato-rpa-<kind>-<pid>-<random>
            if pid.isdigit() and int(pid) != os.getpid() and not psutil.pid_exists(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)


@functools.cache
def _fingerprint() -> tuple[tuple[str, str], ...]:
    """Versions, on this machine, of everything that decides how a scan is read."""
    found = {"misato-rpa": __version__}
    for dist in _READING_DISTS:
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            found[dist] = "-"
    found["tesseract"] = "-"
    exe = shutil.which("tesseract")
    if exe:
        try:
            out = subprocess.run([exe, "--version"], capture_output=True, text=True,
                                 timeout=30, check=False)
            lines = (out.stdout or out.stderr).splitlines()
            found["tesseract"] = lines[0].strip() if lines else "?"
        except (OSError, subprocess.SubprocessError):
            found["tesseract"] = "?"
    return tuple(sorted(found.items()))


def _differences(ours: tuple[tuple[str, str], ...], theirs: tuple[tuple[str, str], ...]
                 ) -> list[str]:
    a, b = dict(ours), dict(theirs)
    return [f"{k} {a.get(k, '-')} here, {b.get(k, '-')} there"
            for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]


def _unpack(pkg: _RunPackage, folder: Path) -> RunContext:
    """The run's context with its templates and calibration in ``folder`` on this machine."""
    dirs = []
    for i, files in enumerate(pkg.forms):
        d = folder / f"forms{i}"
        d.mkdir(mode=0o700)
        for rel, data in files:
            dest = d / rel
            dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            dest.write_bytes(data)
        dirs.append(d)
    ctx = dataclasses.replace(pkg.ctx, forms_dirs=tuple(dirs))
    if pkg.calibration is not None:
        cal = folder / "calibration.toml"
        cal.write_bytes(pkg.calibration)
        ocr = ctx.config.ocr.model_copy(update={"calibration": cal})
        ctx = dataclasses.replace(ctx, config=ctx.config.model_copy(update={"ocr": ocr}))
    return ctx


def _run_state(pkg: _RunPackage) -> _RunState:
    """The run's scenario and context in this process, set up on its first item.

    The scenario object is a copy of the registry's: ``worker_init`` keeps per-run state on
    it (the reader, built from this run's templates and options), and two runs sharing this
    worker must not see each other's.
    """
    key = (pkg.scenario, pkg.ctx.run_id)
    state = _RUNS.get(key)
    if state is None:
        mismatch = _differences(_fingerprint(), pkg.fingerprint)
        if mismatch:
            raise WorkerMismatchError("worker set up differently: " + "; ".join(mismatch))
        while len(_RUNS) >= _KEPT_RUNS:
            _RUNS.popitem(last=False)[1].folder.cleanup()
        folder = tempfile.TemporaryDirectory(prefix=f"{_TEMP_PREFIX}run-{os.getpid()}-")
        try:
            ctx = _unpack(pkg, Path(folder.name))
            scenario = copy.copy(get_scenario(pkg.scenario))
            scenario.worker_init(ctx)
        except BaseException:
            folder.cleanup()
            raise
        state = _RUNS[key] = _RunState(scenario, ctx, folder)
    _RUNS.move_to_end(key)
    return state


class _Capture(logging.Handler):
    """Keeps this thread's log records of one item, to be sent back with its result."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.thread = threading.get_ident()
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:  # where, not the message:
            text += "\n" + where(record.exc_info[1]) + "\n" + "".join(  # it may quote a value
                traceback.format_tb(record.exc_info[2]))
        self.records.append({
            "name": record.name, "levelno": record.levelno, "levelname": record.levelname,
            "msg": text, "created": record.created, "msecs": record.msecs,
            "process": record.process, "processName": f"dask-worker:{record.processName}",
            "pathname": record.pathname, "filename": record.filename,
            "module": record.module, "lineno": record.lineno, "funcName": record.funcName})


def _package(pkg: _RunPackage) -> _RunPackage:
    """The task whose result is the run's package (see the module docstring)."""
    return pkg


def _run_item(pkg: _RunPackage, item: WorkItem, data: bytes
              ) -> tuple[ItemResult, list[dict[str, Any]]]:
    """The task: one file, written privately, processed, deleted; results and log records."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before any OCR library is loaded
    with _LOCK:
        root = logging.getLogger()
        capture = _Capture(pkg.log_level)
        saved = root.level
        root.addHandler(capture)
        root.setLevel(min(saved, pkg.log_level))  # NOTSET (0) stays: it lets all through
        try:
            _usable_tempdir()
            state = _run_state(pkg)
            _sweep_stale()
            folder = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}item-{os.getpid()}-"))
            try:
                local = folder / Path(item.name).name  # the same name: reasons quote it
                fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                result = process_with(state.scenario, state.ctx,
                                       dataclasses.replace(item, path=local))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        finally:
            root.removeHandler(capture)
            root.setLevel(saved)
    return dataclasses.replace(result, item=item), capture.records


# -- in the town's process -----------------------------------------------------------------

def _forms_bundle(dirs: Sequence[Path]) -> tuple[tuple[tuple[str, bytes], ...], ...]:
    """Every file under each forms folder (templates and the blank images they name)."""
    return tuple(
        tuple((p.relative_to(d).as_posix(), p.read_bytes())
              for p in sorted(Path(d).rglob("*"))
              if p.is_file() and not any(part.startswith((".", "__pycache__"))
                                         for part in p.relative_to(d).parts))
        for d in map(Path, dirs))


class DaskExecutor(Executor):
    """Items processed by the workers of a Dask cluster; see the module docstring."""

    def __init__(self, address: str | None = None, *, client: Client | None = None,
                 timeout: float | None = None) -> None:
        if address is None and client is None:
            raise ValueError("a scheduler address or a Client")
        self.address = address or str(getattr(getattr(client, "scheduler", None), "address",
                                              "the given client"))
        self.timeout = CONNECT_TIMEOUT if timeout is None else timeout
        self._client = client
        self._owned = False  # a Client made here is closed here

    def _fail(self, why: str) -> ClusterError:
        return ClusterError(
            f"cannot use the Dask cluster at {self.address} ([run] dask_scheduler): {why}. "
            "Nothing was taken from the inbox. Check that the scheduler and its workers are "
            "running and reachable from this machine, or remove dask_scheduler to read here")

    def connect(self) -> None:
        """Reach the scheduler, see a worker and check the workers read like this machine."""
        if self._client is None:
            client = None
            try:
                client = Client(self.address, timeout=self.timeout, set_as_default=False)
                client.wait_for_workers(1, timeout=self.timeout)
            except Exception as exc:
                if client is not None:
                    client.close()
                if isinstance(exc, TimeoutError) and client is not None:
                    raise self._fail(f"no worker joined within {self.timeout:g} s") from None
                raise self._fail(str(exc) or type(exc).__name__) from None
            self._client, self._owned = client, True
        try:
            theirs = self._client.run(_fingerprint)
        except Exception as exc:  # e.g. misato-rpa not installed on a worker
            self.close()
            raise self._fail(f"the workers cannot run misato-rpa ({where(exc)})") from None
        bad = [f"{addr}: {'; '.join(d)}" for addr, fp in sorted(theirs.items())
               if (d := _differences(_fingerprint(), fp))]
        if bad:
            self.close()
            raise self._fail("workers set up differently from this machine (install the same "
                             "release with `make setup` everywhere): " + " | ".join(bad))

    def close(self) -> None:
        """Let go of the scheduler (only a Client this executor made is closed)."""
        if self._client is not None and self._owned:
            self._client.close()
            self._client = None
            self._owned = False

    def run(self, scenario_name: str, ctx: RunContext,
            items: Sequence[WorkItem]) -> Iterator[ItemResult]:
        if not items:
            self.close()
            return
        if self._client is None:
            self.connect()
        client = self._client
        assert client is not None
        pkg = _RunPackage(
            scenario_name, ctx, _forms_bundle(ctx.forms_dirs),
            (ctx.config.resolve(ctx.config.ocr.calibration).read_bytes()
             if ctx.config.ocr.calibration is not None else None),
            logging.getLogger().getEffectiveLevel(), _fingerprint())
        shared = client.submit(_package, pkg, key=f"misato-rpa-{ctx.run_id}-package",
                               pure=False)
        try:
            yield from self._loop(client, shared, ctx.run_id, list(items))
        finally:
            shared.release()
            self.close()

    def _loop(self, client: Client, shared: Future[_RunPackage], run_id: str,
              todo: list[WorkItem]) -> Iterator[ItemResult]:
        todo.reverse()  # popped from the end: first in, first submitted
        done = as_completed(loop=client.loop)
        running: dict[str, tuple[WorkItem, int]] = {}  # key → (item, its bytes)
        suspects: list[WorkItem] = []  # were on a worker that died: run again, each alone
        alone: set[int] = set()
        forward = ForwardHandler()
        limit, checked, held, lost = 2, 0.0, 0, False
        while True:
            if time.monotonic() - checked > 5:  # workers may join or leave during a run
                try:
                    limit = max(2, 2 * sum(client.nthreads().values()))
                except Exception:  # the scheduler is gone: the futures will say so
                    log.debug("could not ask the scheduler for its threads", exc_info=True)
                checked = time.monotonic()
            while (todo and not lost and not stop_requested() and len(running) < limit
                   and (not running or held + todo[-1].size <= MAX_BYTES_IN_FLIGHT)):
                started = self._start(client, shared, run_id, todo.pop(), done, running)
                if isinstance(started, ItemResult):
                    yield started
                else:
                    held += started
            if not todo and not running and suspects and not lost and not stop_requested():
                item = suspects.pop(0)  # alone on the cluster: a death now is its own doing
                alone.add(item.seq)
                started = self._start(client, shared, run_id, item, done, running, "-alone")
                if isinstance(started, ItemResult):
                    yield started
                else:
                    held += started
            if not running:  # suspects left over (a stop, a lost cluster) go back to the inbox
                return
            fut = next(done)
            item, size = running.pop(fut.key)
            held -= size
            try:
                result, records = fut.result()
            except (CancelledError, WorkerMismatchError) as exc:
                lost = True  # not the item's fault: it goes back to the inbox
                log.error("item %s not processed on the cluster (%s); it goes back to the "
                          "inbox and no new item is started", item.seq, exc)
                continue
            except KilledWorker as exc:
                # the scheduler ran it on allowed-failures + 1 workers, all of which died; an
                # innocent item that shared them with a crashing one dies alike, so it is
                # given up only when it kills workers while nothing else runs
                if item.seq in alone:
                    log.error("item %s: every Dask worker that ran it died, also alone; "
                              "giving up (%s)", item.seq, exc)
                    yield crash_result(item, exc)
                else:
                    log.warning("item %s was on Dask workers that died; it runs again alone "
                                "at the end", item.seq)
                    suspects.append(item)
                continue
            except Exception as exc:  # the task failed outside the scenario: a bug
                log.error("item %s failed on the cluster: %s\n%s", item.seq, where(exc),
                          "".join(traceback.format_tb(exc.__traceback__)))
                yield crash_result(item, exc)
                continue
            finally:
                fut.release()  # done with: the scheduler must not recompute it if a worker dies
            for r in records:
                forward.handle(logging.makeLogRecord(r))
            yield result

    @staticmethod
    def _start(client: Client, shared: Future[_RunPackage], run_id: str, item: WorkItem,
               done: as_completed, running: dict[str, tuple[WorkItem, int]], suffix: str = ""
               ) -> ItemResult | int:
        """Submit ``item`` with its bytes; the bytes now in flight, or its ERROR result."""
        try:
            data = item.path.read_bytes()  # now, not earlier: only a few files are in memory
        except OSError as exc:
            log.error("item %s could not be read for the cluster: %s", item.seq, where(exc))
            return crash_result(item, exc)
        key = f"misato-rpa-{run_id}-{item.seq:05d}{suffix}"  # one per item and try, never reused
        with warnings.catch_warnings():  # the file's bytes are the point, not an accident
            warnings.filterwarnings("ignore", message="Sending large graph")
            done.add(client.submit(_run_item, shared, item, data, pure=False, key=key))
        running[key] = (item, len(data))
        return len(data)
