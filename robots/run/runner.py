"""One run of one scenario: claim the inbox, process, write outputs, log, put files away.

The order of steps is what makes a crash lose nothing and count nothing twice:

1. inbox files are *moved* into ``processing/<scenario>/<run-id>/`` (never copied);
2. items are processed (in workers); nothing is written yet;
3. the scenario writes its outputs into ``<out>/<run-id>.partial/``;
4. one run-log transaction records every file, document and field, the run as completed
   and where each input file is going;
5. the output folder is renamed to ``<out>/<run-id>/`` and the inputs are moved to
   ``done/`` or ``failed/``.

A run that dies before step 4 left nothing in the log: the next run moves its inputs back
to the inbox and deletes its partial outputs. A run that dies after step 4 is finished by
the next one (folder renamed, inputs moved as recorded). The whole run holds a per-scenario
lock so that a manual run cannot overlap the scheduled one.

Where each input goes is decided (free name included) inside the step-4 transaction, and a
quarantined file's reason note is written *before* the file is moved beside it, so that a
run killed at any instant of step 5 is finished by the next one exactly as it would have
finished itself. Outputs that cannot be written (disk full, read-only folder) roll the run
back at once — claimed files return to the inbox — and raise :class:`OutputError`. A stop
request (SIGTERM, :mod:`robots.run.shutdown`) ends claiming and starting items; the items in
flight finish and are written out, the files not started go back to the inbox.

When no document of the run needs review, its data are confirmed as read and handed off to
the core systems (:mod:`robots.sheets.handoff`): staged and recorded in the step-4
transaction, put in place after it. Paths in the run log (output folder, where each input
went, hand-off files) are relative to the workspace, so a workspace copied or moved to
another folder or machine keeps working on its own files.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from robots import __version__
from robots.config import Config, forms_dirs
from robots.db.runlog import RunLog
from robots.errors import ConfigError, ExitCode, OutputError, ScenarioLockedError
from robots.exports import Row
from robots.records import DocumentRecord
from robots.run.executor import make_executor
from robots.run.inbox import (
    InboxPaths,
    claim,
    display_name,
    list_folders,
    list_inbox,
    move_file,
    raw_name,
    write_reason,
)
from robots.run.pool import stale_workers
from robots.run.recovery import recover
from robots.run.shutdown import step, stop_requested
from robots.run.spool import CropSpool
from robots.run.steps import (
    OUTCOME_JA,
    check_writable,
    duplicate_result,
    final_paths,
    link_result,
    roll_back,
    twin_result,
)
from robots.scenario import ItemResult, Outcome, RunContext, WorkItem, get_scenario
from robots.sheets.handoff import (
    HandoffResult,
    check_exports,
    export_layouts,
    publish,
    stage_handoff,
)
from robots.tempdirs import private_tempdir

__all__ = ["RunSummary", "new_run_id", "run_scenario"]

log = logging.getLogger(__name__)



@dataclass
class RunSummary:
    """What a run did, for the CLI, the scheduler's e-mail and tests. No personal data."""

    run_id: str
    scenario: str
    status: str
    exit_code: int
    out_dir: Path | None
    outputs: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    documents: int = 0
    documents_needing_review: int = 0
    left_for_later: int = 0
    seconds: float = 0.0
    recovered: list[str] = field(default_factory=list)
    put_back: int = 0  # claimed but not started when a stop was requested: back in the inbox

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id, "scenario": self.scenario, "status": self.status,
            "exit_code": self.exit_code, "out_dir": str(self.out_dir) if self.out_dir else None,
            "outputs": [str(p) for p in self.outputs], "files": self.counts,
            "documents": self.documents, "documents_needing_review": self.documents_needing_review,
            "left_for_later": self.left_for_later, "seconds": round(self.seconds, 2),
            "put_back": self.put_back,
        }


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique, and safe in file names: 20261126-093000-a1b2."""
    now = now or datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def _paths(cfg: Config, scenario: str, inbox: Path | None) -> InboxPaths:
    p = cfg.paths
    return InboxPaths.for_scenario(
        scenario, inbox_root=cfg.resolve(p.inbox), processing=cfg.resolve(p.processing),
        done=cfg.resolve(p.done), failed=cfg.resolve(p.failed), inbox_override=inbox)


def run_scenario(name: str, cfg: Config, *, trigger: str = "manual", inbox: Path | None = None,
                 out: Path | None = None, jobs: int | None = None, today: date | None = None,
                 progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """Run scenario ``name`` once over its inbox. Raises ScenarioLockedError if one runs."""
    t0 = time.perf_counter()
    scenario = get_scenario(name)
    settings = scenario.settings(cfg)
    if problems := check_exports(cfg):  # a malformed export layout stops the run up front
        raise ConfigError(cfg.source or "config.toml", problems)
    paths = _paths(cfg, name, inbox)
    paths.create()
    out_root = (out if out is not None else cfg.resolve(cfg.paths.out)) / name
    check_writable(out_root)
    # one lock per scenario and configuration, whatever --inbox/--out say: runs share the
    # run log, and recovery must never take a live run for a dead one
    lock_dir = cfg.resolve(cfg.paths.processing)
    lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = FileLock(str(lock_dir / f".{name}.lock"), mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ScenarioLockedError(
            f"scenario {name} is already running (lock {lock.lock_file}); try again later"
        ) from None
    runlog = RunLog(cfg.resolve(cfg.paths.runlog), key=cfg.resolve(cfg.paths.digest_key))
    pid_dir = lock_dir / f".{name}.workers"
    try:
        stale = stale_workers([pid_dir])
        if stale:  # workers die with their run; one that did not is stopped and reported
            log.warning("workers of an earlier run were still alive and were stopped: %s",
                        ", ".join(stale))
            runlog.event(None, "stale_workers", f"scenario={name}: stopped {', '.join(stale)}",
                         level="warning")
        try:
            recovered = recover(cfg, runlog, name, paths, out_root)
        except (OSError, sqlite3.OperationalError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise OutputError(
                f"an interrupted earlier run of {name} could not be finished or rolled back "
                f"({why}); nothing new was taken from {paths.inbox} and no file was lost (they "
                f"are in {paths.processing} or already in done/failed). Free some space or fix "
                "the folders' permissions (processing, done, failed, out, var), then run again"
            ) from None
        summary = _run_locked(scenario.name, cfg, settings, paths, out_root, runlog,
                              trigger=trigger, jobs=jobs or cfg.jobs, today=today or date.today(),
                              progress=progress, pid_dir=pid_dir)
        summary.recovered = recovered
        summary.seconds = time.perf_counter() - t0
        return summary
    finally:
        runlog.close()
        lock.release()


def _run_locked(name: str, cfg: Config, settings: object, paths: InboxPaths, out_root: Path,
                runlog: RunLog, *, trigger: str, jobs: int, today: date,
                progress: Callable[[int, int], None] | None, pid_dir: Path) -> RunSummary:
    run_id = new_run_id()
    partial = out_root / f"{run_id}.partial"
    # everything temporary of this run (openpyxl's sheets, workers' results) stays in the
    # run's partial folder: owner-only, and deleted with it if the run is killed
    with private_tempdir(partial / ".tmp"):
        return _run_steps(name, cfg, settings, paths, out_root, runlog, run_id, partial,
                          trigger=trigger, jobs=jobs, today=today, progress=progress,
                          pid_dir=pid_dir)


def _run_steps(name: str, cfg: Config, settings: object, paths: InboxPaths, out_root: Path,
               runlog: RunLog, run_id: str, partial: Path, *, trigger: str, jobs: int,
               today: date, progress: Callable[[int, int], None] | None,
               pid_dir: Path) -> RunSummary:
    scenario = get_scenario(name)
    ready, later = list_inbox(paths.inbox, settle_seconds=cfg.inbox.settle_seconds,
                              incomplete_max_age=cfg.inbox.incomplete_max_age_seconds)
    jobs = max(1, min(jobs, len(ready) or 1))
    executor = make_executor(jobs, cfg.run.dask_scheduler, isolate=cfg.run.isolate,
                             folder=partial / ".work", pid_dir=pid_dir,
                             item_timeout=cfg.run.item_timeout_seconds)
    if ready:  # an unreachable Dask cluster stops the run here, before any file is claimed
        executor.connect()
    secret = runlog.start_run(run_id, name, trigger=trigger, jobs=jobs, version=__version__,
                              out_dir=cfg.relative(out_root / run_id))
    log.info("run %s of %s: %d file(s) ready, %d left for later", run_id, name, len(ready),
             len(later))
    folders = list_folders(paths.inbox)
    if folders:  # a scan is a file: a folder is never entered, the operator is told
        names = ", ".join(display_name(f.name) for f in folders[:10])
        log.warning("%d folder(s) in the inbox are not read (put the scans in the inbox "
                    "itself): %s", len(folders), names)
        runlog.event(run_id, "folder_in_inbox", f"{len(folders)} folder(s) not read: {names}",
                     level="warning")
    items: list[WorkItem] = []
    results: list[ItemResult] = []
    seen: dict[str, WorkItem] = {}
    twins: list[tuple[WorkItem, WorkItem]] = []  # (copy, first file of that content here)
    for seq, p in enumerate(ready, start=1):
        if stop_requested():
            break
        try:
            c = claim(p, paths.processing, run_id)
        except FileNotFoundError:  # taken away by someone else since it was listed
            log.info("%s disappeared from the inbox before it was claimed", display_name(p.name))
            continue
        except PermissionError:  # Windows: still open in the scanner or a copy program
            log.info("%s is still in use by another program; left for the next run",
                     display_name(p.name))
            later.append(p)
            continue
        step("claimed")
        item = WorkItem(seq, c.path, c.name, c.sha256, c.size)
        earlier = runlog.processed_file(c.sha256)
        if (refused := link_result(item)) is not None:  # never read through a link
            results.append(refused)
        elif earlier is not None:
            where_ja = f"実行 {earlier.run_id} の「{earlier.source_name}」"
            results.append(duplicate_result(item, where_ja, f"run {earlier.run_id}"))
        elif c.sha256 in seen:  # decided once the first copy's outcome is known
            twins.append((item, seen[c.sha256]))
        else:
            seen[c.sha256] = item
            items.append(item)

    ctx = RunContext(run_id=run_id, scenario=name, config=cfg, settings=settings,
                     out_dir=out_root / run_id, today=today,
                     forms_dirs=tuple(forms_dirs(cfg)), secret=secret)
    total = len(items)
    spool = CropSpool(partial / ".crops")  # keeps the main process's memory flat
    for n, result in enumerate(executor.run(name, ctx, items), start=1):
        result.detail = _printable(result.detail)  # may quote a name that is not UTF-8
        result.reason_ja = _printable(result.reason_ja)
        results.append(spool.take(result))
        step("processed")
        if progress is not None:
            progress(n, total)
    by_seq = {r.item.seq: r for r in results}
    for item, first in twins:
        if first.seq in by_seq:
            results.append(twin_result(item, by_seq[first.seq]))
    results.sort(key=lambda r: r.item.seq)
    started = {r.item.seq for r in results}
    put_back = [move_file(it.path, paths.inbox / it.path.name)  # under its own (raw) name
                for it in (*items, *(t for t, _ in twins))
                if it.seq not in started]  # a stop came: the files not started wait outside
    if put_back:
        log.warning("run %s stopped early: %d file(s) not started are back in the inbox",
                    run_id, len(put_back))

    good = [r for r in results if r.outcome in (Outcome.OK, Outcome.NEEDS_REVIEW)]
    try:
        partial.mkdir(parents=True, exist_ok=True, mode=0o700)
        outputs = (scenario.finish(good, ctx, partial)
                   if good or scenario.finish_without_items else [])
        spool.remove()
        for private in (".work", ".tmp"):  # results and temporary files: in the outputs now
            shutil.rmtree(partial / private, ignore_errors=True)
        step("outputs written")
        now = datetime.now()
        finals = final_paths(results, paths, now)
        with runlog.atomic():  # the run and its hand-off are recorded together, or neither
            exit_code = _commit(cfg, runlog, run_id, results, finals, len(later),
                                len(put_back), ctx.events, ctx.counts)
            handoff = _stage_handoff(cfg, runlog, run_id, good, partial, today=ctx.today)
    except (OSError, sqlite3.OperationalError) as exc:
        back = roll_back(runlog, run_id, paths, partial, exc)
        why = getattr(exc, "strerror", None) or str(exc)
        raise OutputError(
            f"run {run_id} of {name}: the outputs could not be written to {out_root} ({why}). "
            f"Nothing was recorded; the {back} file(s) it had taken are back in {paths.inbox}. "
            "Free some space or fix the folder's permissions, then run again") from None
    step("committed")
    out_dir: Path | None = out_root / run_id
    if outputs or (partial.is_dir() and any(partial.iterdir())):
        partial.rename(out_dir)
        outputs = [out_dir / p.relative_to(partial) for p in outputs]
    else:  # nothing came out of this run: no empty folder for staff to open
        shutil.rmtree(partial, ignore_errors=True)
        out_dir = None
    step("renamed")
    if handoff is not None:
        if out_dir is not None:
            outputs += [out_dir / p.name for p in handoff.attention]
        try:
            publish(runlog, handoff.staged)
        except OSError as exc:  # recorded as staged: the next run puts them in place
            log.warning("run %s: hand-off files not yet in place (%s); the next run finishes "
                        "it", run_id, exc.strerror or exc)
        outputs += handoff.files
    try:
        _put_away(cfg, results, finals, paths.processing / run_id, run_id, now, runlog)
    except OSError as exc:
        raise OutputError(
            f"run {run_id} of {name} is recorded and its outputs are in {out_dir}, but its input "
            f"files could not all be put away ({exc.strerror or exc}); the next run finishes "
            "that once the disk has room again") from None
    counts = Counter(r.outcome.value for r in results)
    docs = sum(len(r.documents) for r in good)
    review = sum(1 for r in good for d in r.documents if d.needs_review)
    log.info("run %s finished: %s; outputs in %s", run_id, dict(counts), out_dir)
    return RunSummary(run_id, name, "completed", int(exit_code), out_dir, outputs,
                      dict(counts), docs, review, len(later), put_back=len(put_back))


def _printable(text: str) -> str:
    """``text`` with U+FFFD for bytes of a file name that no encoding of the outputs can hold."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _stage_handoff(cfg: Config, runlog: RunLog, run_id: str, good: Sequence[ItemResult],
                   partial: Path, *, today: date) -> HandoffResult | None:
    """Hand off a run's documents when none of those with an export layout needs review.

    Otherwise they wait for ``rpa corrections import``: nothing unconfirmed leaves.
    """
    forms = {lay.form for lay in export_layouts(cfg)}
    docs: list[DocumentRecord] = [d for r in good for d in r.documents if d.form_id in forms]
    if not docs or any(d.needs_review for d in docs):
        return None
    return stage_handoff(cfg, runlog, run_id=run_id, out_dir=partial, today=today,
                         rows=[Row(d.doc_id, d.source_file, d.page,
                                   {f.name: f.value for f in d.fields}) for d in docs],
                         forms={d.doc_id: d.form_id for d in docs})


def _commit(cfg: Config, runlog: RunLog, run_id: str, results: Sequence[ItemResult],
            finals: dict[int, Path], later: int, put_back: int,
            events: Sequence[tuple[str, str]] = (), counts: Mapping[str, int] | None = None
            ) -> ExitCode:
    """Step 4: one transaction records every file, document and field, and the run's end."""
    outcomes = Counter(r.outcome.value for r in results)
    good = [r for r in results if r.outcome in (Outcome.OK, Outcome.NEEDS_REVIEW)]
    docs = sum(len(r.documents) for r in good)
    review = sum(1 for r in good for d in r.documents if d.needs_review)
    bad = outcomes[Outcome.REJECTED] + outcomes[Outcome.ERROR] + outcomes[Outcome.DUPLICATE]
    exit_code = ExitCode.NEEDS_ATTENTION if (bad or review) else ExitCode.OK
    with runlog.atomic():
        for r in results:
            ok = r.outcome in (Outcome.OK, Outcome.NEEDS_REVIEW)
            final = finals[r.item.seq]
            file_id = runlog.add_file(
                run_id, source_name=r.item.name, source_raw=raw_name(r.item.path.name),
                sha256=r.item.sha256, size=r.item.size,
                pages=r.pages or None, outcome="processed" if ok else (
                    "duplicate" if r.outcome is Outcome.DUPLICATE else "failed"),
                reason_code=r.reason_code or None, final_path=cfg.relative(final))
            for d in r.documents:
                runlog.add_document(run_id, file_id, doc_id=d.doc_id, page=d.page,
                                    form_id=d.form_id, status=d.status,
                                    registration_score=d.registration_score,
                                    reason_code=None, timings=d.timings_ms, fields=d.fields)
            if not ok:
                runlog.event(run_id, r.reason_code or r.outcome.value,
                             f"{r.item.name}: {r.detail or r.outcome.value}", level="warning")
        for code, message in events:  # what the scenario's finish asked to record
            runlog.event(run_id, code, message)
        if counts:  # the scenario's own work (RunContext.counts), not the file outcomes
            runlog.add_counts(run_id, counts)
        summary = {"files": dict(outcomes), "documents": docs, "documents_needing_review": review,
                   "left_for_later": later}
        if put_back:
            summary["put_back"] = put_back
        runlog.finish_run(run_id, status="completed", exit_code=int(exit_code), summary=summary)
    return exit_code


def _put_away(cfg: Config, results: Sequence[ItemResult], finals: dict[int, Path],
              folder: Path, run_id: str, now: datetime, runlog: RunLog) -> None:
    """Step 5: each input to the place recorded in step 4 (a quarantine note goes first)."""
    for r in results:
        ok = r.outcome in (Outcome.OK, Outcome.NEEDS_REVIEW)
        final = finals[r.item.seq]
        if not ok:
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_reason(final, name=r.item.name, run_id=run_id,
                         outcome_ja=OUTCOME_JA[r.outcome], reason_ja=r.reason_ja,
                         detail=r.detail, when=now, raw=r.item.path.name)
        dest = move_file(r.item.path, final)
        if dest != final:  # somebody put a file there meanwhile: keep both, record the truth
            runlog.db.execute("UPDATE files SET final_path = ? WHERE run_id = ? AND "
                              "final_path = ?", (cfg.relative(dest), run_id, cfg.relative(final)))
            if not ok:
                write_reason(dest, name=r.item.name, run_id=run_id,
                             outcome_ja=OUTCOME_JA[r.outcome], reason_ja=r.reason_ja,
                             detail=r.detail, when=now, raw=r.item.path.name)
        step("put away")
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
