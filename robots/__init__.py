"""The RPA runtime, reusable by any scenario, in rooms by responsibility.

``cli`` (the command line) · ``service`` (scheduler, watch, notify) · ``report`` (the PoC
evaluation) · ``samples`` (the sample generator) · ``run`` (one run: claim, execute, put
away) · ``kit`` (what scenarios are built from) · ``scenario`` (the contract and registry) ·
``sheets`` (workbooks and CSV) · ``config`` · ``db`` (SQLite and the run log) · ``records``,
``registry``, ``errors``. Each room imports only the rooms below it (docs/architecture.md);
scenarios are known only through their interface and the ``misato_rpa.scenarios`` entry
points.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("misato-rpa")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
