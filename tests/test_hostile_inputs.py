"""What an attacker or a clumsy operator drops into the inbox, each with the right outcome.

A Shift_JIS file name from a Windows zip, a name as long as the file system allows, a link to
another resident's scan elsewhere on the disk, a hard link, a folder, a PDF cut short by a
paused copy, a page that declares itself five metres wide, a file with too many pages, a
misspelt scenario section: every case ends with the right outcome, nothing lost, the run
going on, and no later run halted by it.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fakes import count_files, install_fake_engine, uninstall_fake_engine, write_config
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from service_kit import Pool, make_pool

from robots.config import load_config
from robots.errors import ConfigError
from robots.run.inbox import display_name, fit_name, looks_complete
from robots.run.runner import run_scenario

SJIS = os.fsdecode(b"scan_\x82\xa0\x82\xa2_sjis.png")  # "scan_あい_sjis.png" in Shift_JIS
LATIN1 = os.fsdecode(b"scan_\xe9t\xe9.png")  # not CP932 either: shown with U+FFFD
LONG = "申" * 81 + ".pdf"  # 247 bytes: fits the inbox, not beside its reason note


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    folder = tmp_path_factory.getbasetemp() / "hostile-pool"
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, folder / "entry-point-inproc", folder / "tape.json")
        yield make_pool(folder)
    uninstall_fake_engine()


def _workspace(root: Path, run: str = "", extra: str = "") -> tuple[Path, Path]:
    cfg = write_config(root, engines=("replay",), run=run, extra=extra)
    inbox = root / "inbox" / "intake"
    inbox.mkdir(parents=True)
    return cfg, inbox


def _png(pool: Pool, n: int = 0) -> bytes:
    """The ``n``-th PNG scan of the pool (on the tape: read perfectly by the replay engine)."""
    return [p for p in pool.scans if p.suffix == ".png"][n].read_bytes()


def _notes(root: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8-sig")
            for p in (root / "failed").rglob("*.reason.txt")}


# -- names -------------------------------------------------------------------------------------

def test_display_names_and_fitted_names() -> None:
    assert display_name(SJIS) == "scan_あい_sjis.png"
    assert display_name(LATIN1) == "scan_\ufffdt\ufffd.png"
    assert display_name("a\nb\tc.pdf") == "a\ufffdb\ufffdc.pdf"
    short = fit_name(Path("/tmp"), LONG)
    assert short.endswith(".pdf") and "~" in short
    assert len(os.fsencode(short)) + 32 <= 255
    assert fit_name(Path("/tmp"), "普通の名前.pdf") == "普通の名前.pdf"
    assert fit_name(Path("/tmp"), "申" * 80 + "x.pdf") != short  # a digest keeps them apart


def test_shift_jis_named_scan_is_read_put_away_and_shown(pool: Pool, tmp_path: Path) -> None:
    """One such name used to stop every run for good (UnicodeEncodeError, files stuck)."""
    cfg, inbox = _workspace(tmp_path)
    (inbox / SJIS).write_bytes(_png(pool))
    (inbox / LATIN1).write_bytes(b"")  # empty: quarantined, under a readable name
    (inbox / "ordinary.png").write_bytes(_png(pool, 1))
    s = run_scenario("intake", load_config(cfg))
    read = s.counts.get("ok", 0) + s.counts.get("needs_review", 0)
    assert (read, s.counts["rejected"]) == (2, 1), s.counts
    files = count_files(tmp_path)
    assert files["done"] == sorted(["scan_あい_sjis.png", "ordinary.png"])
    assert files["failed"] == ["scan_\ufffdt\ufffd.png"]
    assert files["inbox"] == files["processing"] == []
    note = _notes(tmp_path)["scan_\ufffdt\ufffd.png.reason.txt"]
    assert repr(b"scan_\xe9t\xe9.png") in note  # the exact bytes, kept
    # the run's own data CSVs (UTF-8); the core systems' hand-off files have their layouts
    rows = [r for p in s.outputs if p.suffix == ".csv" and p.parent == s.out_dir
            for r in csv.DictReader(io.StringIO(p.read_text(encoding="utf-8-sig")))]
    assert "scan_あい_sjis.png" in {r["元ファイル"] for r in rows}
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    raws = dict(db.execute("SELECT source_name, source_raw FROM files"))
    assert raws["scan_あい_sjis.png"] == b"scan_\x82\xa0\x82\xa2_sjis.png"
    assert raws["ordinary.png"] is None
    # and the next run is a normal run
    assert run_scenario("intake", load_config(cfg)).exit_code == 0


def test_a_name_too_long_for_its_note_is_shortened_not_fatal(tmp_path: Path) -> None:
    cfg, inbox = _workspace(tmp_path)
    (inbox / LONG).write_bytes(b"")
    s = run_scenario("intake", load_config(cfg))
    assert s.counts == {"rejected": 1}
    (failed,) = count_files(tmp_path)["failed"]
    assert failed != LONG and failed.endswith(".pdf") and "~" in failed
    note = next(iter(_notes(tmp_path).values()))
    assert LONG in note and "空" in note  # the whole original name, and why
    assert run_scenario("intake", load_config(cfg)).exit_code == 0  # no later run halted


# -- links and folders ----------------------------------------------------------------------------

def test_a_link_to_another_residents_scan_is_not_followed(pool: Pool, tmp_path: Path) -> None:
    cfg, inbox = _workspace(tmp_path)
    secret = tmp_path / "elsewhere" / "other_resident.png"
    secret.parent.mkdir()
    secret.write_bytes(_png(pool))
    (inbox / "link.png").symlink_to(secret)
    (inbox / "dangling.pdf").symlink_to(tmp_path / "nowhere.pdf")
    os.link(secret, inbox / "hard.png")
    (inbox / "a folder").mkdir()
    (inbox / "a folder" / "inside.png").write_bytes(_png(pool))
    s = run_scenario("intake", load_config(cfg))
    assert s.counts == {"rejected": 3}, s.counts
    assert s.documents == 0 and not s.outputs  # nothing of the other resident was read
    assert secret.read_bytes() == _png(pool)  # the target stays where it was, untouched
    failed = tmp_path / "failed" / "intake"
    assert sorted(p.name for p in failed.rglob("*") if p.is_symlink()) == ["dangling.pdf",
                                                                         "link.png"]
    notes = _notes(tmp_path)
    assert "シンボリックリンク" in notes["link.png.reason.txt"]
    assert "ハードリンク" in notes["hard.png.reason.txt"]
    assert (inbox / "a folder" / "inside.png").exists()  # a folder is reported, not entered
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    assert [m for (m,) in db.execute("SELECT message FROM events WHERE code = "
                                     "'folder_in_inbox'")] == ["1 folder(s) not read: a folder"]


# -- a copy cut short, a page too large, too many pages ----------------------------------------

def _pdf_with_page(path: Path, width_pt: float, height_pt: float) -> None:
    """A small PDF: one tiny image drawn over a page of the given size."""
    img = path.with_suffix(".png")
    Image.fromarray(np.full((40, 30), 255, np.uint8)).save(img)
    c = canvas.Canvas(str(path), pagesize=(width_pt, height_pt))
    c.drawImage(str(img), 0, 0, width_pt, height_pt)
    c.showPage()
    c.save()
    img.unlink()


def test_a_copy_cut_short_waits_then_is_quarantined(pool: Pool, tmp_path: Path) -> None:
    whole = tmp_path / "whole.pdf"
    _pdf_with_page(whole, *A4)
    cut = whole.read_bytes()[:-40]  # the copy paused before the end: no %%EOF yet
    assert looks_complete(whole) and not looks_complete(_write(tmp_path / "cut.pdf", cut))
    for name, data in (("png.png", _png(pool)[:-20]), ("tif.tif", b"II*\x00" + b"\xff" * 4)):
        assert not looks_complete(_write(tmp_path / name, data)), name
    cfg, inbox = _workspace(tmp_path / "ws")
    _write(inbox / "scan.pdf", cut)
    s = run_scenario("intake", load_config(cfg))
    assert s.counts == {} and s.left_for_later == 1  # still in the inbox, for the next run
    assert count_files(tmp_path / "ws")["inbox"] == ["scan.pdf"]
    _set_inbox(cfg, "incomplete_max_age_seconds = 0")
    s = run_scenario("intake", load_config(cfg))
    assert s.counts == {"rejected": 1}  # old enough: a scan truly cut short, with its reason
    assert "途中で切れて" in next(iter(_notes(tmp_path / "ws").values()))


def _set_inbox(cfg: Path, line: str) -> None:
    """Add ``line`` to the ``[inbox]`` table of a workspace's config."""
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("settle_seconds = 0.0", f"settle_seconds = 0.0\n{line}"),
                   encoding="utf-8")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_page_declared_five_metres_wide_is_refused_unread(tmp_path: Path) -> None:
    cfg, inbox = _workspace(tmp_path)
    _pdf_with_page(inbox / "huge.pdf", 14_400, 14_400)  # 5 m square, 1.3 kB
    s = run_scenario("intake", load_config(cfg))
    assert s.counts == {"rejected": 1}
    note = next(iter(_notes(tmp_path).values()))
    assert "用紙サイズが大きすぎます" in note and "上限は120メガピクセル" in note


def test_a_file_with_too_many_pages_is_refused_naming_the_limit(tmp_path: Path) -> None:
    cfg, inbox = _workspace(tmp_path)
    _set_inbox(cfg, "max_pages_per_file = 2")
    pages = [Image.fromarray(np.full((100, 70), 255, np.uint8)) for _ in range(3)]
    pages[0].save(inbox / "many.tif", save_all=True, append_images=pages[1:])
    s = run_scenario("intake", load_config(cfg))
    assert s.counts == {"rejected": 1}
    note = next(iter(_notes(tmp_path).values()))
    assert "3ページ、上限は2ページ" in note


# -- configuration and empty runs ---------------------------------------------------------------

def test_a_misspelt_scenario_section_is_a_configuration_error(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, extra='[scenarios.intak]\nforms = ["juminhyo_request"]\n')
    with pytest.raises(ConfigError, match=r"scenarios\.intak: unknown scenario"):
        load_config(cfg)


def test_an_empty_run_leaves_no_empty_output_folder(tmp_path: Path) -> None:
    cfg, _inbox = _workspace(tmp_path)
    s = run_scenario("intake", load_config(cfg))
    assert s.out_dir is None and s.outputs == []
    out = tmp_path / "out" / "intake"
    assert not out.exists() or not any(out.iterdir())
