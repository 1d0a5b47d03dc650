"""Temporary files of a run or an import: in a private folder of the workspace, never in /tmp.

openpyxl's streaming writer keeps each sheet of the review workbook in a temporary file until
the workbook is saved — names, birth dates and My Numbers. In the system's temporary folder
a killed run left them behind for anyone to read. While :func:`private_tempdir` is active,
Python's :mod:`tempfile` (and so openpyxl) writes into a folder of the workspace, owner-only;
the folder goes with the run's partial outputs (recovery deletes those of a killed run) or is
removed by :func:`sweep_stale` once the process that made it is gone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil

__all__ = ["pid_folder", "private_tempdir", "sweep_stale"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def private_tempdir(folder: Path) -> Iterator[Path]:
    """Within the block, ``tempfile`` (and libraries using it) write into ``folder`` (0700)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    saved, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)  # child processes (tesseract's CLI) too
    try:
        yield folder
    finally:
        tempfile.tempdir = saved
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env


def pid_folder(parent: Path, prefix: str) -> Path:
    """A new private folder ``<prefix><pid>-<random>`` in ``parent``, for :func:`sweep_stale`."""
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Path(tempfile.mkdtemp(dir=parent, prefix=f"{prefix}{os.getpid()}-"))


def sweep_stale(parent: Path, prefix: str) -> int:
    """Delete ``<prefix><pid>-*`` folders in ``parent`` whose process is gone; returns how many."""
    n = 0
    if not parent.is_dir():
        return n
    for folder in parent.glob(f"{prefix}*"):
        pid = folder.name.removeprefix(prefix).split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            log.info("removed %s left by a process that is gone", folder.name)
            n += 1
    return n
