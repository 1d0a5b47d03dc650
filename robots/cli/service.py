"""Handlers of the unattended sub-commands: ``rpa schedule``, ``rpa jobs``, ``rpa watch``.

Kept apart from :mod:`robots.cli.commands` (the interactive ones) because they are what a
service manager starts: they print little, log much, and end cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from robots.config import Config
from robots.run.runner import RunSummary
from robots.run.shutdown import handle_signals
from robots.service.notify import failure_notice, notify, run_notice
from robots.service.scheduler import JobInfo, describe_jobs, serve
from robots.service.watch import watch

__all__ = ["cmd_jobs", "cmd_schedule", "cmd_watch", "notify_run", "print_jobs"]

log = logging.getLogger(__name__)


def notify_run(cfg: Config, summary: RunSummary | None, *, trigger: str,
               scenario: str = "", error: BaseException | None = None) -> None:
    """The summary file (and e-mail) after a run started by hand."""
    if summary is not None:
        notify(run_notice(summary, cfg, trigger=trigger), cfg)
    elif error is not None:
        notify(failure_notice(scenario, error, trigger=trigger), cfg)


def print_jobs(jobs: Sequence[JobInfo]) -> None:
    """One line per job: id, scenario, cron, time zone, next run (and days it skips)."""
    if not jobs:
        print("no [[schedule]] entries in the configuration")
        return
    for j in jobs:
        state = "enabled" if j.entry.enabled else "disabled"
        nxt = f"{j.next_run:%Y-%m-%d %H:%M %Z}" if j.next_run else "-"
        print(f"{j.id:<20} {j.entry.scenario:<16} '{j.entry.cron}' {j.timezone} {state}"
              f"{' skip-holidays' if j.entry.skip_holidays else ''}  next run {nxt}")
        for when, why in j.skipped[:3]:
            print(f"{'':<20}   skips {when:%Y-%m-%d %H:%M}: {why}")
        if j.stored_next is not None and j.next_run is not None \
                and j.stored_next.astimezone(j.next_run.tzinfo) < j.next_run \
                and not j.skipped:
            print(f"{'':<20}   job store: due {j.stored_next:%Y-%m-%d %H:%M %Z} "
                  "(missed or catching up when the scheduler starts)")


def cmd_schedule(args: argparse.Namespace) -> int:
    """``rpa schedule``: the scheduler in the foreground until SIGTERM/SIGINT."""
    cfg: Config = args.cfg

    def announce(jobs: Sequence[JobInfo]) -> None:
        print_jobs(jobs)
        print("scheduler running (stop with Ctrl-C or SIGTERM)", flush=True)

    with handle_signals():  # from the start: a stop during start-up is a clean stop too
        return serve(cfg, announce=announce)


def cmd_jobs(args: argparse.Namespace) -> int:
    """``rpa jobs``: the configured jobs with their next run times."""
    print_jobs(describe_jobs(args.cfg))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """``rpa watch SCENARIO``: runs as scans arrive; ends on a signal or --max-runs/--idle-exit."""
    cfg: Config = args.cfg

    def report(s: RunSummary) -> None:
        files = ", ".join(f"{k} {v}" for k, v in sorted(s.counts.items())) or "no files"
        print(f"run {s.run_id}: {files}; {s.documents} document(s), "
              f"{s.documents_needing_review} need review; outputs {s.out_dir}", flush=True)

    with handle_signals():  # from the start: a stop during start-up is a clean stop too
        print(f"watching {args.scenario} (stop with Ctrl-C or SIGTERM)", flush=True)
        result = watch(args.scenario, cfg, inbox=args.inbox, out=args.out, jobs=args.jobs,
                       poll=args.poll, poll_interval=args.poll_interval,
                       max_runs=args.max_runs, idle_exit=args.idle_exit, on_run=report)
    print(f"watch ended ({result.ended_by}, {result.mode} events): {result.runs} run(s), "
          f"{result.files} file(s), {result.documents} document(s)")
    return 0
