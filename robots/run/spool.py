"""Field crops of a run kept on disk between the workers and the workbook.

A run's results stay in the main process until its outputs are written, and the crops of
flagged fields are nine tenths of their size (measured: 35 of 40 KB per page): held in
memory, a 10,000-page batch would need a gigabyte more than a 200-page one. Each crop is
written to the run's ``.partial`` output folder as its result arrives and read back when the
correction sheet embeds it. The folder goes with the partial outputs (a crashed run's is
deleted by recovery) and is removed once the outputs are written.

Spooling is an optimisation, never a reason to fail: if the disk refuses a crop, that crop
and the later ones stay in memory, and the outputs step reports a full disk as it always has.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path

from robots.scenario import ItemResult

__all__ = ["CropSpool"]

log = logging.getLogger(__name__)


class CropSpool:
    """Moves ``crop_png`` of each field of each result into ``folder``, one file per crop."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self._disabled = False

    def take(self, result: ItemResult) -> ItemResult:
        """``result`` with its crops on disk (``FieldResult.crop_file``) instead of in memory."""
        for doc in result.documents:
            for f in doc.fields:
                if f.crop_png is None or self._disabled:
                    continue
                path = self.folder / f"{self.count:07d}.png"
                try:
                    self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as out:
                        out.write(f.crop_png)
                except OSError as exc:
                    log.warning("field crops cannot be spooled to %s (%s); kept in memory",
                                self.folder, exc.strerror or type(exc).__name__)
                    with contextlib.suppress(OSError):  # a half-written crop, if any
                        path.unlink(missing_ok=True)
                    self._disabled = True
                    continue
                f.crop_file, f.crop_png = str(path), None
                self.count += 1
        return result

    def remove(self) -> None:
        """Delete the spooled crops (they are in the workbook now)."""
        shutil.rmtree(self.folder, ignore_errors=True)
