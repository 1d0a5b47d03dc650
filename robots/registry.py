"""What is installed: the entry-point groups, scenario names and packaged form folders.

Read from the packaging metadata without importing any scenario, so that the configuration
can check scenario names (``[[schedule]]``, ``[scenarios.NAME]``) on the floor below the
scenario contract: loading the scenarios themselves is :func:`robots.scenario.all_scenarios`.
"""

from __future__ import annotations

import functools
import importlib.util
from importlib.metadata import entry_points
from pathlib import Path

from robots.errors import ScenarioError

__all__ = ["ENTRY_POINT_GROUP", "FORMS_ENTRY_POINT_GROUP", "packaged_exports_dirs",
           "packaged_forms_dirs", "scenario_names"]

ENTRY_POINT_GROUP = "misato_rpa.scenarios"
FORMS_ENTRY_POINT_GROUP = "misato_rpa.forms"


@functools.cache
def scenario_names() -> tuple[str, ...]:
    """Names of the installed scenarios (their entry-point names), sorted."""
    return tuple(sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}))


@functools.cache
def packaged_forms_dirs() -> tuple[Path, ...]:
    """``forms/`` folders of the packages named in the ``misato_rpa.forms`` group."""
    return _package_dirs("forms")


@functools.cache
def packaged_exports_dirs() -> tuple[Path, ...]:
    """``exports/`` folders (export layouts) of the same packages, beside their forms."""
    return _package_dirs("exports")


def _package_dirs(name: str) -> tuple[Path, ...]:
    dirs: list[Path] = []
    for ep in sorted(entry_points(group=FORMS_ENTRY_POINT_GROUP), key=lambda e: e.name):
        spec = importlib.util.find_spec(ep.value)
        if spec is None or not spec.submodule_search_locations:
            raise ScenarioError(f"forms entry point {ep.name}: package {ep.value} not found")
        folder = Path(next(iter(spec.submodule_search_locations))) / name
        if folder.is_dir():
            dirs.append(folder)
    return tuple(dirs)
