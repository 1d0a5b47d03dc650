"""Finishing or rolling back the runs of a scenario that died: the first thing a run does.

It holds the scenario's lock, so no run of the scenario is alive. A run that died before its
run-log commit left nothing recorded: its inputs go back to the inbox and its partial
outputs are deleted. A run that died after the commit is finished as it would have finished
itself: its output folder renamed, each input moved where the commit recorded (a quarantined
file with its reason note, a general one where the run died before writing its own), and
anything else found in its processing folder put back in the inbox.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from robots.config import Config
from robots.db.runlog import RunLog
from robots.errors import ExitCode
from robots.run.inbox import InboxPaths, move_file, recover_processing, write_reason
from robots.run.shutdown import step
from robots.run.steps import OUTCOME_JA
from robots.scenario import Outcome
from robots.sheets.handoff import recover_handoffs

__all__ = ["recover"]

log = logging.getLogger(__name__)

# Notes for files a crashed run had quarantined: its Japanese reason was never stored.
_RECOVERED_JA = {"failed": "読み取りできませんでした（隔離）",
                 "duplicate": OUTCOME_JA[Outcome.DUPLICATE]}
_RECOVERED_REASON_JA = ("前回の実行が途中で止まったため、詳しい理由は記録されていません。"
                        "システム担当者が実行ログ（rpa runs show {run_id}）で確認できます。")


def recover(cfg: Config, runlog: RunLog, scenario: str, paths: InboxPaths,
            out_root: Path) -> list[str]:
    """Finish or roll back runs of ``scenario`` that died (we hold its lock, so none is live)."""
    recover_handoffs(cfg, runlog)
    recovered = []
    for run in runlog.unfinished_runs(scenario):
        run_id = run["run_id"]
        # where that run wrote (it may have had another --out than this one)
        out_dir = cfg.resolve(Path(run["out_dir"])) if run["out_dir"] else out_root / run_id
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
        cfg.resolve(Path(r["out_dir"])).with_name(f"{r['run_id']}.partial")
        for r in runlog.runs(scenario=scenario, limit=50) if r["out_dir"]}
    for partial in sorted(p for p in partials if p.is_dir()):
        run_id = partial.name.removesuffix(".partial")
        run = runlog.run(run_id)
        final = partial.with_name(run_id)
        if (run is not None and run["status"] == "completed" and not final.exists()
                and any(partial.iterdir())):
            partial.rename(final)
        else:  # an unfinished run's, or a finished run's with nothing in it
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
            src = folder / (os.fsdecode(f["source_raw"]) if f["source_raw"] else f["source_name"])
            recorded = cfg.resolve(Path(f["final_path"])) if f["final_path"] else None
            if recorded is not None and src.exists():
                dest = move_file(src, recorded)
                if dest != recorded:
                    runlog.set_file_path(f["file_id"], cfg.relative(dest))
                finished = True
            else:
                dest = recorded or Path()
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
