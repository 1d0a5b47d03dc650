"""``[[schedule]]``, ``[scheduler]`` and ``[notify]``: running unattended, validated up front.

A nightly job that fails at 2 a.m. on a typo is found by a clerk at 9, so the cron
expressions, time zones, closing days and mail settings are checked when the configuration
is loaded, like every other key, and reported with the file and the key.

Cron expressions are the standard five crontab fields. APScheduler 3.x numbers the days of
the week from Monday = 0 (its issue 286), unlike cron (Sunday = 0 or 7), so
:func:`cron_trigger` rewrites numeric days of the week as names before handing the
expression to ``CronTrigger.from_crontab``: ``0 2 * * 1-5`` runs Monday to Friday, as in
crontab.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DEFAULT_TIMEZONE",
    "NotifyConfig",
    "ScheduleEntry",
    "SchedulerConfig",
    "SmtpConfig",
    "cron_trigger",
]

DEFAULT_TIMEZONE = "Asia/Tokyo"
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_TOKEN = re.compile(r"^(\*|\d+)(?:-(\d+))?(?:/(\d+))?$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _crontab_days(field: str) -> str:
    """A crontab day-of-week field with numbers (0/7 = Sunday) rewritten as day names."""
    if not any(ch.isdigit() for ch in field):
        return field  # "*", "mon-fri", "sat,sun": same meaning in both
    days: set[int] = set()
    for token in field.split(","):
        m = _DOW_TOKEN.match(token.strip())
        if m is None:
            raise ValueError(f"day of week {token!r}: use 0-7 (0 and 7 are Sunday) or mon-sun")
        first, last, stride = m.groups()
        lo, hi = (0, 6) if first == "*" else (int(first), int(last) if last else int(first))
        if stride and not last and first != "*":
            hi = 7
        if not (0 <= lo <= 7 and 0 <= hi <= 7) or lo > hi:
            raise ValueError(f"day of week {token!r}: use 0-7 (0 and 7 are Sunday) or mon-sun")
        days.update(d % 7 for d in range(lo, hi + 1, int(stride or 1)))
    return ",".join(_DOW_NAMES[d] for d in sorted(days))


def cron_trigger(expr: str, timezone: str = DEFAULT_TIMEZONE) -> CronTrigger:
    """A trigger for a standard crontab expression (cron's day-of-week numbering)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{expr!r}: a cron expression has 5 fields (minute hour day month "
                         f"day-of-week), this one has {len(fields)}")
    fields[4] = _crontab_days(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=ZoneInfo(timezone))


def _check_zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r} (e.g. Asia/Tokyo)") from None
    return v


class ScheduleEntry(_Model):
    """One ``[[schedule]]`` table: a scenario run by the scheduler at cron times."""

    scenario: str
    cron: str = Field(description="crontab expression, e.g. '0 2 * * 1-5' (02:00 Mon-Fri)")
    timezone: str | None = None  # default: [scheduler] timezone
    enabled: bool = True
    # skip Japanese public holidays (jpholiday) and the town's closing days ([scheduler] closed)
    skip_holidays: bool = False
    jobs: int | None = Field(default=None, ge=1)  # worker processes; default [run] jobs
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")  # default <scenario>-<n>

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return None if v is None else _check_zone(v)

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        cron_trigger(v)  # the time zone does not change what parses
        return v


class SchedulerConfig(_Model):
    """``[scheduler]``: the job store and what happens to runs the scheduler could not start."""

    # persistent job store (SQLite): next run times survive a restart, so a run missed while
    # the service was down is either caught up (within the grace time) or reported as missed
    jobstore: Path = Path("var/jobs.sqlite")
    timezone: str = DEFAULT_TIMEZONE
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    # the town's closing days as MM-DD, skipped by jobs with skip_holidays (年末年始)
    closed: tuple[str, ...] = ("12-29", "12-30", "12-31", "01-01", "01-02", "01-03")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return _check_zone(v)

    @field_validator("closed")
    @classmethod
    def _days(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for day in v:
            try:
                date.fromisoformat(f"2024-{day}")  # a leap year, so 02-29 is allowed
            except ValueError:
                raise ValueError(f"{day!r} is not a day as MM-DD (e.g. 12-29)") from None
        return v


class SmtpConfig(_Model):
    """``[notify.smtp]``: where run summaries are e-mailed. No password in the file."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    to: tuple[str, ...] = Field(min_length=1)
    starttls: bool = True
    ssl: bool = False  # implicit TLS (port 465) instead of STARTTLS
    username: str | None = None
    # name of the environment variable holding the password (never the password itself)
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout_seconds: float = Field(default=30.0, gt=0)
    subject_prefix: str = "[misato-rpa]"

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in v if not re.fullmatch(r"[^@\s]+@[^@\s]+", a)]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
        return v


class NotifyConfig(_Model):
    """``[notify]``: a short summary after each run, to a file and optionally by e-mail."""

    summary_dir: Path = Path("var/summaries")
    smtp: SmtpConfig | None = None
