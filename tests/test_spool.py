"""Crops leave the main process's memory for the run's spool folder, and come back intact."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ocr.results import FieldResult
from robots.records import DocumentRecord
from robots.run.spool import CropSpool
from robots.scenario import ItemResult, Outcome, WorkItem


def _result(crops: list[bytes | None]) -> ItemResult:
    fields = [FieldResult(f"f{i}", "項目", "text", "x", "x", 0.5, crop_png=c)
              for i, c in enumerate(crops)]
    doc = DocumentRecord("run-001-01", "form", "scan.pdf", "1", fields)
    return ItemResult(WorkItem(1, Path("scan.pdf"), "scan.pdf", "0" * 64, 1), Outcome.OK, [doc])


def test_crops_go_to_disk_and_read_back(tmp_path: Path) -> None:
    spool = CropSpool(tmp_path / "run.partial" / ".crops")
    pngs = [b"\x89PNG first", None, b"\x89PNG second"]
    fields = spool.take(_result(pngs)).documents[0].fields
    assert [f.crop_png for f in fields] == [None, None, None]
    assert [f.crop() for f in fields] == pngs
    files = sorted((tmp_path / "run.partial" / ".crops").iterdir())
    assert len(files) == 2 and all(p.stat().st_mode & 0o777 == 0o600 for p in files)
    spool.remove()
    assert not (tmp_path / "run.partial" / ".crops").exists()


def test_a_refusing_disk_keeps_crops_in_memory(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "run.partial"
    blocker.write_text("a file where the folder should be")
    spool = CropSpool(blocker / ".crops")
    with caplog.at_level(logging.WARNING):
        fields = spool.take(_result([b"one", b"two"])).documents[0].fields
    assert [f.crop_png for f in fields] == [b"one", b"two"]
    assert [f.crop() for f in fields] == [b"one", b"two"]
    assert "kept in memory" in caplog.text
