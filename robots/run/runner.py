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
from robots.errors import ExitCode, OutputError, ScenarioLockedError
from robots.run.executor import make_executor
from robots.run.inbox import (
    InboxPaths,
    claim,
    list_inbox,
    move_file,
    recover_processing,
    write_reason,
)
from robots.run.shutdown import step, stop_requested
from robots.run.spool import CropSpool
from robots.run.steps import check_writable, duplicate_result, final_paths, roll_back, twin_result
from robots.scenario import ItemResult, Outcome, RunContext, WorkItem, get_scenario

__all__ = ["RunSummary", "new_run_id", "run_scenario"]

log = logging.getLogger(__name__)

_OUTCOME_JA = {
    Outcome.OK: "処理済み",
    Outcome.NEEDS_REVIEW: "処理済み（確認シートに要確認項目あり）",
    Outcome.REJECTED: "読み取りできませんでした（隔離）",
    Outcome.ERROR: "システムエラーのため処理できませんでした（隔離）",
    Outcome.DUPLICATE: "重複のため処理しませんでした（隔離）",
}


# Notes for files a crashed run had quarantined: its Japanese reason was never stored.
_RECOVERED_JA = {"failed": "読み取りできませんでした（隔離）",
                 "duplicate": _OUTCOME_JA[Outcome.DUPLICATE]}
_RECOVERED_REASON_JA = ("前回の実行が途中で止まったため、詳しい理由は記録されていません。"
                        "システム担当者が実行ログ（rpa runs show {run_id}）で確認できます。")


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


def _recover(runlog: RunLog, scenario: str, paths: InboxPaths, out_root: Path) -> list[str]:
    """Finish or roll back runs of ``scenario`` that died (we hold its lock, so none is live)."""
    recovered = []
    for run in runlog.unfinished_runs(scenario):
        run_id = run["run_id"]
        # where that run wrote (it may have had another --out than this one)
        out_dir = Path(run["out_dir"]) if run["out_dir"] else out_root / run_id
        partial = out_dir.with_name(f"{run_id}.partial")
        if partial.exists():
            shutil.rmtree(partial)
        back = recover_processing([paths.processing / run_id], paths.inbox)
        runlog.finish_run(run_id, status="aborted", exit_code=int(ExitCode.ERROR),
                          summary={"recovered_files": len(back)})
        runlog.event(run_id, "run_aborted",
                     f"run did not finish; {len(back)} file(s) put back in the inbox",
                     level="warning")
        log.warning("run %s had not finished: marked aborted, %d file(s) back in the inbox",
                    run_id, len(back))
        recovered.append(run_id)
        step("recovered")
    # Whatever is still in processing/ or half-written in out/ belongs to a run that is over
    # (recent runs are looked up too: one with another --out left its partial folder there).
    partials = set(out_root.glob("*.partial")) | {
        Path(r["out_dir"]).with_name(f"{r['run_id']}.partial")
        for r in runlog.runs(scenario=scenario, limit=50) if r["out_dir"]}
    for partial in sorted(p for p in partials if p.is_dir()):
        run_id = partial.name.removesuffix(".partial")
        run = runlog.run(run_id)
        final = partial.with_name(run_id)
        if run is not None and run["status"] == "completed" and not final.exists():
            partial.rename(final)
        else:
            shutil.rmtree(partial)
    for folder in sorted(p for p in paths.processing.iterdir() if p.is_dir()):
        run_id = folder.name
        run = runlog.run(run_id)
        if run is None or run["status"] != "completed":
            back = recover_processing([folder], paths.inbox)
            if back:
                log.warning("%d file(s) of run %s put back in the inbox", len(back), run_id)
                recovered.append(run_id)
            continue
        finished = False
        for f in runlog.files(run_id):
            src = folder / f["source_name"]
            if f["final_path"] and src.exists():
                dest = move_file(src, Path(f["final_path"]))
                if str(dest) != f["final_path"]:
                    runlog.set_file_path(f["file_id"], str(dest))
                finished = True
            else:
                dest = Path(f["final_path"] or "")
            note = dest.with_name(dest.name + ".reason.txt")
            # a quarantined file always has its note; the run's own (written before the move)
            # is kept, a general one is written only where the run died before writing it
            if f["outcome"] != "processed" and dest.is_file() and not note.exists():
                write_reason(dest, name=f["source_name"], run_id=run_id,
                             outcome_ja=_RECOVERED_JA.get(f["outcome"], f["outcome"]),
                             reason_ja=_RECOVERED_REASON_JA.format(run_id=run_id),
                             detail=f["reason_code"] or "")
                finished = True
        # anything else there was never recorded by the run: it goes back to the inbox
        if folder.is_dir() and any(folder.iterdir()):
            back = recover_processing([folder], paths.inbox)
            finished = finished or bool(back)
        if finished:
            recovered.append(run_id)
            step("rolled forward")
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return recovered


def run_scenario(name: str, cfg: Config, *, trigger: str = "manual", inbox: Path | None = None,
                 out: Path | None = None, jobs: int | None = None, today: date | None = None,
                 progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """Run scenario ``name`` once over its inbox. Raises ScenarioLockedError if one runs."""
    t0 = time.perf_counter()
    scenario = get_scenario(name)
    settings = scenario.settings(cfg)
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
    try:
        recovered = _recover(runlog, name, paths, out_root)
        summary = _run_locked(scenario.name, cfg, settings, paths, out_root, runlog,
                              trigger=trigger, jobs=jobs or cfg.jobs, today=today or date.today(),
                              progress=progress)
        summary.recovered = recovered
        summary.seconds = time.perf_counter() - t0
        return summary
    finally:
        runlog.close()
        lock.release()


def _run_locked(name: str, cfg: Config, settings: object, paths: InboxPaths, out_root: Path,
                runlog: RunLog, *, trigger: str, jobs: int, today: date,
                progress: Callable[[int, int], None] | None) -> RunSummary:
    scenario = get_scenario(name)
    run_id = new_run_id()
    ready, later = list_inbox(paths.inbox, settle_seconds=cfg.inbox.settle_seconds)
    jobs = max(1, min(jobs, len(ready) or 1))
    executor = make_executor(jobs, cfg.run.dask_scheduler)
    if ready:  # an unreachable Dask cluster stops the run here, before any file is claimed
        executor.connect()
    secret = runlog.start_run(run_id, name, trigger=trigger, jobs=jobs, version=__version__,
                              out_dir=out_root / run_id)
    log.info("run %s of %s: %d file(s) ready, %d left for later", run_id, name, len(ready),
             len(later))
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
            log.info("%s disappeared from the inbox before it was claimed", p.name)
            continue
        except PermissionError:  # Windows: still open in the scanner or a copy program
            log.info("%s is still in use by another program; left for the next run", p.name)
            later.append(p)
            continue
        step("claimed")
        item = WorkItem(seq, c.path, c.name, c.sha256, c.size)
        earlier = runlog.processed_file(c.sha256)
        if earlier is not None:
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
    partial = out_root / f"{run_id}.partial"
    spool = CropSpool(partial / ".crops")  # keeps the main process's memory flat
    for n, result in enumerate(executor.run(name, ctx, items), start=1):
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
    put_back = [move_file(it.path, paths.inbox / it.name) for it in (*items, *(t for t, _ in twins))
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
        step("outputs written")
        now = datetime.now()
        finals = final_paths(results, paths, now)
        exit_code = _commit(runlog, run_id, results, finals, len(later), len(put_back),
                            ctx.events, ctx.counts)
    except (OSError, sqlite3.OperationalError) as exc:
        back = roll_back(runlog, run_id, paths, partial, exc)
        why = getattr(exc, "strerror", None) or str(exc)
        raise OutputError(
            f"run {run_id} of {name}: the outputs could not be written to {out_root} ({why}). "
            f"Nothing was recorded; the {back} file(s) it had taken are back in {paths.inbox}. "
            "Free some space or fix the folder's permissions, then run again") from None
    step("committed")
    out_dir = out_root / run_id
    partial.rename(out_dir)
    step("renamed")
    outputs = [out_dir / p.relative_to(partial) for p in outputs]
    try:
        _put_away(results, finals, paths.processing / run_id, run_id, now, runlog)
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


def _commit(runlog: RunLog, run_id: str, results: Sequence[ItemResult],
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
                run_id, source_name=r.item.name, sha256=r.item.sha256, size=r.item.size,
                pages=r.pages or None, outcome="processed" if ok else (
                    "duplicate" if r.outcome is Outcome.DUPLICATE else "failed"),
                reason_code=r.reason_code or None, final_path=str(final))
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


def _put_away(results: Sequence[ItemResult], finals: dict[int, Path], folder: Path,
              run_id: str, now: datetime, runlog: RunLog) -> None:
    """Step 5: each input to the place recorded in step 4 (a quarantine note goes first)."""
    for r in results:
        ok = r.outcome in (Outcome.OK, Outcome.NEEDS_REVIEW)
        final = finals[r.item.seq]
        if not ok:
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_reason(final, name=r.item.name, run_id=run_id,
                         outcome_ja=_OUTCOME_JA[r.outcome], reason_ja=r.reason_ja,
                         detail=r.detail, when=now)
        dest = move_file(r.item.path, final)
        if dest != final:  # somebody put a file there meanwhile: keep both, record the truth
            runlog.db.execute("UPDATE files SET final_path = ? WHERE run_id = ? AND "
                              "source_name = ?", (str(dest), run_id, r.item.name))
            if not ok:
                write_reason(dest, name=r.item.name, run_id=run_id,
                             outcome_ja=_OUTCOME_JA[r.outcome], reason_ja=r.reason_ja,
                             detail=r.detail, when=now)
        step("put away")
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
