"""Exit codes and the runtime's domain errors.

Errors carry their exit code; only the CLI turns them into a process exit, so the runtime
stays usable from tests and from the scheduler without ``sys.exit`` surprises.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "ConfigError",
    "ExitCode",
    "OutputError",
    "RobotError",
    "ScenarioError",
    "ScenarioLockedError",
]


class ExitCode(IntEnum):
    """Process exit codes of ``rpa`` (documented in the README)."""

    OK = 0  # everything processed, nothing needs a human
    ERROR = 1  # unexpected internal error (a bug): see the log
    NEEDS_ATTENTION = 2  # run completed, but some documents failed or need review
    CONFIG = 3  # configuration or form template invalid; nothing was run
    INPUT = 4  # the file given on the command line cannot be read
    LOCKED = 5  # another run of the same scenario is in progress
    OUTPUT = 6  # outputs not writable (disk full, read-only): inputs left where they were
    USAGE = 64  # wrong command-line usage


class RobotError(Exception):
    """Base of deliberate runtime errors."""

    exit_code: int = ExitCode.ERROR


class ConfigError(RobotError):
    """The configuration is invalid; names the file and every bad key."""

    exit_code = ExitCode.CONFIG

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid configuration {self.path}:\n{lines}")


class ScenarioError(RobotError):
    """A scenario is unknown or cannot run with this configuration."""

    exit_code = ExitCode.CONFIG


class ScenarioLockedError(RobotError):
    """Another process is running this scenario now."""

    exit_code = ExitCode.LOCKED


class OutputError(RobotError):
    """The run's outputs or run-log entries could not be written (disk full, read-only).

    Raised after the run was rolled back: every claimed file is back in the inbox.
    """

    exit_code = ExitCode.OUTPUT
