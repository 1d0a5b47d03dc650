"""``rpa schedule``: run scenarios at cron times, unattended, on APScheduler 3.11.

One job per ``[[schedule]]`` entry, kept in a persistent SQLite job store so that next run
times survive a restart: a run that fell while the service was down is run once when it comes
back (coalesced) if it is still within ``misfire_grace_seconds``, and otherwise recorded as
missed. Jobs are never run twice at once (``max_instances=1``), and the runner's per-scenario
file lock keeps a scheduled run from overlapping a manual or watch run in another process.

Everything that keeps a run from happening is written to the run log as an event another
tool can count: ``schedule_missed`` (misfire beyond the grace time, previous run still
running, or another process holding the scenario's lock) and ``schedule_skipped_holiday``
(a public holiday or closing day, for jobs with ``skip_holidays``) — the latter is a
decision, not a miss.

Jobs are stored by reference (``robots.service.scheduler:run_job`` with the configuration file, the
scenario and the job id as arguments), never as pickled objects, so a code upgrade does not
strand the store. The scheduler runs jobs in threads of this process; SIGTERM/SIGINT stop it
cleanly: no new job starts, the run in progress stops taking files, finishes its documents,
writes its outputs and the process exits (see :mod:`robots.run.shutdown`).
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING

from robots.config import Config, load_config
from robots.config.service import ScheduleEntry, cron_trigger
from robots.db.runlog import RunLog
from robots.errors import ScenarioLockedError
from robots.run.runner import run_scenario
from robots.run.shutdown import handle_signals, stop_requested, wait_for_stop
from robots.scenario import get_scenario
from robots.service.days_off import day_off
from robots.service.notify import failure_notice, notify, run_notice

__all__ = [
    "JOB_FUNC",
    "JobInfo",
    "build_scheduler",
    "describe_jobs",
    "job_id",
    "record_event",
    "run_job",
    "serve",
    "sync_jobs",
]

log = logging.getLogger(__name__)

JOB_FUNC = "robots.service.scheduler:run_job"
# configurations loaded by `rpa schedule` in this process, by file: jobs use the validated one
_CONFIGS: dict[str, Config] = {}


def job_id(entry: ScheduleEntry, index: int) -> str:
    """The job's id in the store: the entry's ``id`` or ``<scenario>-<n>`` (n from 1)."""
    return entry.id or f"{entry.scenario}-{index + 1}"


def _entries(cfg: Config) -> Iterator[tuple[str, ScheduleEntry]]:
    for i, entry in enumerate(cfg.schedule):
        yield job_id(entry, i), entry


def _zone(cfg: Config, entry: ScheduleEntry) -> ZoneInfo:
    return ZoneInfo(entry.timezone or cfg.scheduler.timezone)


def record_event(cfg: Config, code: str, message: str, *, level: str = "warning") -> None:
    """An event of the scheduler (no run id) in the run log; never raises."""
    log.log(logging.WARNING if level == "warning" else logging.INFO, "%s: %s", code, message)
    try:
        runlog = RunLog(cfg.resolve(cfg.paths.runlog))
        try:
            runlog.event(None, code, message, level=level)
        finally:
            runlog.close()
    except Exception:  # a full disk must not kill the scheduler thread
        log.exception("could not record %s in the run log", code)


def _config(config_path: str) -> Config:
    if config_path not in _CONFIGS:
        _CONFIGS[config_path] = load_config(config_path)
    return _CONFIGS[config_path]


def run_job(config_path: str, scenario: str, jid: str) -> int | None:
    """What a scheduled job does: skip a day off, else run the scenario and send the summary.

    Returns the run's exit code (None when nothing ran). Never raises for a run that could
    not happen: that is recorded instead, so the scheduler goes on with the next job.
    """
    cfg = _config(config_path)
    entry = dict(_entries(cfg)).get(jid)
    if entry is None or stop_requested():
        return None
    now = datetime.now(_zone(cfg, entry))
    if entry.skip_holidays and (why := day_off(now.date(), cfg.scheduler.closed)):
        record_event(cfg, "schedule_skipped_holiday",
                     f"{scenario} skipped its {now:%Y-%m-%d %H:%M} run: {why}", level="info")
        return None
    try:
        summary = run_scenario(scenario, cfg, trigger="schedule", jobs=entry.jobs)
    except ScenarioLockedError:
        record_event(cfg, "schedule_missed",
                     f"{scenario} missed its {now:%Y-%m-%d %H:%M} run: another run of the "
                     "scenario (manual or watch) held its lock")
        return None
    except Exception as exc:  # every failure is reported, and the scheduler goes on
        log.exception("scheduled run of %s failed", scenario)
        record_event(cfg, "schedule_failed",
                     f"{scenario} run at {now:%Y-%m-%d %H:%M} failed: {type(exc).__name__}",
                     level="error")
        notify(failure_notice(scenario, exc, trigger="schedule"), cfg)
        return int(getattr(exc, "exit_code", 1))
    notify(run_notice(summary, cfg, trigger="schedule"), cfg)
    return summary.exit_code


class _Scheduler(BackgroundScheduler):
    """APScheduler 3.11's background scheduler, minus one race at shutdown.

    Its main loop processes due jobs once more after ``shutdown()`` has stopped the
    executors: the submission fails and the job's next run time moves on in the store, so a
    run due at that moment is silently lost — neither run after the restart nor reported as
    missed. Jobs are processed here only while the scheduler is running.
    """

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


def build_scheduler(cfg: Config) -> BackgroundScheduler:
    """A scheduler on the persistent SQLite job store, with this project's job defaults."""
    store = cfg.resolve(cfg.scheduler.jobstore)
    store.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not store.exists():  # owner-only from the start (SQLite keeps the mode for its WAL)
        os.close(os.open(store, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    workers = max(1, len({e.scenario for e in cfg.schedule}))
    return _Scheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{store.resolve().as_posix()}")},
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": cfg.scheduler.misfire_grace_seconds},
        timezone=ZoneInfo(cfg.scheduler.timezone))


def sync_jobs(scheduler: BackgroundScheduler, cfg: Config) -> dict[str, str]:
    """Make the store hold exactly the enabled entries; returns job id → scenario.

    An unchanged job keeps its stored next run time, so that a run missed while the service
    was down is still seen as due (caught up within the grace time, else reported missed).
    """
    config_path = str(cfg.source) if cfg.source else ""
    wanted: dict[str, str] = {}
    for jid, entry in _entries(cfg):
        if not entry.enabled:
            continue
        wanted[jid] = entry.scenario
        trigger = cron_trigger(entry.cron, entry.timezone or cfg.scheduler.timezone)
        args = (config_path, entry.scenario, jid)
        try:
            old = scheduler.get_job(jid)
        except (LookupError, ImportError, ValueError, pickle.UnpicklingError) as exc:
            # stored by another version (its function moved): replaced below, so the job
            # keeps running; a run missed while the service was down is not reported
            log.warning("job %s in the job store cannot be restored (%s); it is replaced",
                        jid, type(exc).__name__)
            scheduler.remove_job(jid)
            old = None
        if (old is not None and old.func_ref == JOB_FUNC and tuple(old.args) == args
                and str(old.trigger) == str(trigger)
                and str(getattr(old.trigger, "timezone", "")) == str(trigger.timezone)):
            scheduler.modify_job(jid, misfire_grace_time=cfg.scheduler.misfire_grace_seconds,
                                 coalesce=True, max_instances=1)
            continue
        scheduler.add_job(JOB_FUNC, trigger, args=args, id=jid, replace_existing=True,
                          name=f"{entry.scenario} ({entry.cron})")
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            log.info("job %s is no longer configured (or disabled): removed", job.id)
            scheduler.remove_job(job.id)
    return wanted


@dataclass(frozen=True)
class JobInfo:
    """One configured job as ``rpa jobs`` shows it."""

    id: str
    entry: ScheduleEntry
    timezone: str
    next_run: datetime | None  # the next time it will really run (days off skipped)
    skipped: list[tuple[datetime, str]]  # fire times before that which it will skip
    stored_next: datetime | None  # what the job store says (None: not stored yet)


def describe_jobs(cfg: Config, *, now: datetime | None = None) -> list[JobInfo]:
    """Every configured job with its next run time, from the configuration and the store."""
    stored = _stored_next_runs(cfg)
    out = []
    for jid, entry in _entries(cfg):
        zone = _zone(cfg, entry)
        trigger = cron_trigger(entry.cron, str(zone))
        at = (now or datetime.now(zone)).astimezone(zone)
        skipped: list[tuple[datetime, str]] = []
        nxt = trigger.get_next_fire_time(None, at) if entry.enabled else None
        while nxt is not None and entry.skip_holidays and len(skipped) < 400:
            why = day_off(nxt.date(), cfg.scheduler.closed)
            if why is None:
                break
            skipped.append((nxt, why))
            nxt = trigger.get_next_fire_time(nxt, nxt + timedelta(seconds=1))
        out.append(JobInfo(jid, entry, str(zone), nxt, skipped, stored.get(jid)))
    return out


def _stored_next_runs(cfg: Config) -> dict[str, datetime | None]:
    store = cfg.resolve(cfg.scheduler.jobstore)
    if not store.exists() or store.stat().st_size == 0:
        return {}
    jobstore = SQLAlchemyJobStore(url=f"sqlite:///{store.resolve().as_posix()}")
    jobstore.start(BackgroundScheduler(), "default")
    try:
        return {j.id: j.next_run_time for j in jobstore.get_all_jobs()}
    finally:
        jobstore.shutdown()


def _listener(cfg: Config, scenarios: dict[str, str]) -> Any:
    grace = cfg.scheduler.misfire_grace_seconds

    def on_event(event: JobEvent) -> None:
        scenario = scenarios.get(event.job_id, event.job_id)
        if event.code == EVENT_JOB_ERROR:
            log.error("job %s raised: %s", event.job_id, type(event.exception).__name__)
            return
        runs = (event.scheduled_run_times if isinstance(event, JobSubmissionEvent)
                else [event.scheduled_run_time])
        when = ", ".join(f"{t:%Y-%m-%d %H:%M}" for t in runs)
        why = (f"the scheduler was not running within {grace} s of that time (misfire)"
               if event.code == EVENT_JOB_MISSED else "its previous run was still running")
        record_event(cfg, "schedule_missed", f"{scenario} missed its {when} run: {why}")

    return on_event


def serve(cfg: Config, *, announce: Any = None) -> int:
    """Run the scheduler in the foreground until SIGTERM/SIGINT (or a stop request).

    Each scheduled scenario's settings are validated first, so a bad section stops the
    service at start, not at 2 a.m. ``announce`` is called with the jobs once they are set.
    """
    for entry in cfg.schedule:
        get_scenario(entry.scenario).settings(cfg)
    if cfg.source is not None:
        _CONFIGS[str(cfg.source)] = cfg
    scheduler = build_scheduler(cfg)
    scheduler.start(paused=True)
    try:
        scenarios = sync_jobs(scheduler, cfg)
        scheduler.add_listener(_listener(cfg, scenarios),
                               EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
        if announce is not None:
            announce(describe_jobs(cfg))
        with handle_signals():
            scheduler.resume()
            log.info("scheduler running with %d job(s); stop with SIGTERM or Ctrl-C",
                     len(scenarios))
            while not wait_for_stop(1.0):
                pass
            log.info("stopping: waiting for the run in progress to finish its documents")
            scheduler.shutdown(wait=True)
    except KeyboardInterrupt:  # a second signal: the operator wants out now
        log.warning("second stop signal: leaving now; the next run recovers the one in progress")
        logging.shutdown()
        os._exit(130)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
    return 0
