"""The RPA runtime: CLI, configuration, inbox, runner, executors, writers, run log.

Reusable by any scenario; it knows scenarios only through their interface and the
``misato_rpa.scenarios`` entry-point group.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("misato-rpa")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
