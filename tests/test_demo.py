"""``rpa demo`` end to end, in-process: the README's first command must keep working.

The demo runs every scenario on the bundled samples with real OCR, then the simulated review
and the evaluation report; this checks that it finds its samples, exits 0, and leaves every
input in done/ or failed/ (the deliberately broken scan with its Japanese reason).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from ocr.checkdigits import is_valid_mynumber
from robots.cli import main
from robots.cli.commands import BUNDLED_SAMPLES


def test_bundled_samples_are_where_the_demo_looks() -> None:
    assert (BUNDLED_SAMPLES / "inbox").is_dir()
    assert (BUNDLED_SAMPLES / "demo.toml").is_file()


def test_demo_runs_every_scenario_and_reports(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "demo"
    assert main(["demo", "--workdir", str(work)]) == 0
    out = capsys.readouterr().out
    for scenario in ("intake", "deposit_inquiry", "contracts"):
        assert f"({scenario})" in out
        assert any((work / "out" / scenario).iterdir())
    dropped = {p.name for s in (BUNDLED_SAMPLES / "inbox").iterdir() if s.is_dir()
               for p in s.iterdir() if p.suffix != ".json"}
    put_away = {p.name for p in (work / "done").rglob("*") if p.is_file()}
    put_away |= {p.name for p in (work / "failed").rglob("*")
                 if p.is_file() and not p.name.endswith(".reason.txt")}
    assert put_away == dropped
    reason = next((work / "failed").rglob("broken_scan.pdf.reason.txt"))
    assert "ファイル" in reason.read_text(encoding="utf-8")
    assert list((work / "report").glob("評価報告_*.html"))
    # confirmed files reached the core systems' folders, at least one per shipped layout
    handed = {p.parent.name for p in (work / "handoff").rglob("*_確定_*") if p.is_file()}
    assert handed == {"証明書交付システム", "住民記録システム", "税務システム",
                      "滞納管理システム", "契約管理システム"}
    # no 個人番号 in any CSV, sheet or hand-off file: no 12 digits with a valid check digit
    for f in [*(work / "out").rglob("*"), *(work / "handoff").rglob("*")]:
        if f.is_file() and f.suffix in (".csv", ".txt", ".dat", ".xlsx"):
            blobs = ([zipfile.ZipFile(f).read(n) for n in zipfile.ZipFile(f).namelist()]
                     if f.suffix == ".xlsx" else [f.read_bytes()])
            for blob in blobs:
                found = [m.decode() for m in re.findall(rb"(?<![0-9])[0-9]{12}(?![0-9])", blob)
                         if is_valid_mynumber(m.decode())]
                assert not found, f"a personal number in {f.name}"
    for book in work.rglob("*.xlsx"):  # values from outside never run as formulas
        with zipfile.ZipFile(book) as z:
            assert not [n for n in z.namelist() if n.startswith("xl/worksheets/")
                        and b"<f>" in z.read(n)], book.name
