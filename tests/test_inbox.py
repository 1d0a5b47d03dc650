"""The inbox: what is taken, what is left for later, and that nothing is ever lost."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from robots.run import inbox as inbox_mod
from robots.run.inbox import (
    InboxPaths,
    claim,
    file_sha256,
    finalize,
    list_inbox,
    move_file,
    recover_processing,
    write_reason,
)

NOW = 1_800_000_000.0  # a frozen clock for list_inbox (2027-01-15)


def _drop(folder: Path, name: str, data: bytes = b"%PDF-1.4 scan\n%%EOF\n", *, age: float = 60.0,
          now: float = NOW) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(data)
    os.utime(p, (now - age, now - age))
    return p


def test_settled_files_are_ready_in_name_order(tmp_path: Path) -> None:
    for name in ("b.pdf", "a.png", "c.TIF"):
        _drop(tmp_path, name)
    ready, later = list_inbox(tmp_path, settle_seconds=5, now=NOW)
    assert [p.name for p in ready] == ["a.png", "b.pdf", "c.TIF"]
    assert later == []


def test_fresh_file_is_left_for_later(tmp_path: Path) -> None:
    _drop(tmp_path, "old.pdf", age=60)
    _drop(tmp_path, "new.pdf", age=1)  # the scanner wrote it a second ago
    ready, later = list_inbox(tmp_path, settle_seconds=5, now=NOW)
    assert [p.name for p in ready] == ["old.pdf"]
    assert [p.name for p in later] == ["new.pdf"]
    # untouched: still there with its bytes
    assert (tmp_path / "new.pdf").read_bytes() == b"%PDF-1.4 scan\n%%EOF\n"


def test_file_from_the_future_is_left_for_later(tmp_path: Path) -> None:
    """A copy whose mtime is ahead of the clock (clock skew) is not taken half-written."""
    _drop(tmp_path, "skewed.pdf", age=-30)
    ready, later = list_inbox(tmp_path, settle_seconds=5, now=NOW)
    assert ready == []
    assert [p.name for p in later] == ["skewed.pdf"]


def test_growing_file_is_left_for_later(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Old mtime but the size changes while we look (a copy that preserves mtimes)."""
    p = _drop(tmp_path, "growing.pdf", age=60)
    real_sleep = time.sleep

    def sleep_while_writing(seconds: float) -> None:
        with p.open("ab") as fh:
            fh.write(b"more bytes")
        os.utime(p, (NOW - 60, NOW - 60))  # same mtime: only the size tells
        real_sleep(0)

    monkeypatch.setattr(inbox_mod.time, "sleep", sleep_while_writing)
    ready, later = list_inbox(tmp_path, settle_seconds=5, now=NOW)
    assert ready == []
    assert [q.name for q in later] == ["growing.pdf"]


def test_growing_file_real_writer(tmp_path: Path) -> None:
    """A real writer appending in another thread: the file is never taken while it grows."""
    p = tmp_path / "scan.pdf"
    p.write_bytes(b"%PDF")
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with p.open("ab") as fh:
                fh.write(b"x" * 100)
            time.sleep(0.005)

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(3):
            ready, later = list_inbox(tmp_path, settle_seconds=0.5)
            assert ready == []
            assert [q.name for q in later] == ["scan.pdf"]
    finally:
        stop.set()
        t.join()


@pytest.mark.parametrize("name", ["scan.pdf.part", "scan.PART", "a.tmp", "b.crdownload",
                                  "c.partial", "d.filepart", "e.download"])
def test_in_progress_names_are_left_for_later(tmp_path: Path, name: str) -> None:
    _drop(tmp_path, name, age=3600)
    ready, later = list_inbox(tmp_path, settle_seconds=0, now=NOW)
    assert ready == []
    assert [p.name for p in later] == [name]


def test_hidden_files_and_folders_are_ignored(tmp_path: Path) -> None:
    _drop(tmp_path, ".DS_Store")
    _drop(tmp_path, ".scan.pdf.swp")
    _drop(tmp_path, "~$申請データ.xlsx")  # Office lock file
    (tmp_path / "sub").mkdir()
    _drop(tmp_path / "sub", "inside.pdf")
    _drop(tmp_path, "real.pdf")
    ready, later = list_inbox(tmp_path, settle_seconds=0, now=NOW)
    assert [p.name for p in ready] == ["real.pdf"]
    assert later == []


def test_a_file_cut_short_waits_until_it_is_old(tmp_path: Path) -> None:
    """A paused copy looks settled; its missing end says it is not. Only age lets it through."""
    _drop(tmp_path, "paused.pdf", b"%PDF-1.4 first half", age=60)
    _drop(tmp_path, "forgotten.pdf", b"%PDF-1.4 first half", age=7200)
    ready, later = list_inbox(tmp_path, settle_seconds=5, now=NOW)
    assert [p.name for p in ready] == ["forgotten.pdf"]  # quarantined by the reader
    assert [p.name for p in later] == ["paused.pdf"]


def test_unexpected_extension_is_returned_ready(tmp_path: Path) -> None:
    """Quarantined by the runner with a reason, never skipped silently."""
    _drop(tmp_path, "notes.docx", b"PK\x03\x04 a word file, then its directory PK\x05\x06")
    _drop(tmp_path, "README")
    ready, later = list_inbox(tmp_path, settle_seconds=0, now=NOW)
    assert sorted(p.name for p in ready) == ["README", "notes.docx"]
    assert later == []


def test_missing_inbox_is_empty(tmp_path: Path) -> None:
    assert list_inbox(tmp_path / "nope", settle_seconds=0) == ([], [])


def test_claim_moves_and_fingerprints(tmp_path: Path) -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 50
    src = _drop(tmp_path / "inbox", "申請書 1.pdf", data)
    inode = src.stat().st_ino
    c = claim(src, tmp_path / "processing", "run-1")
    assert not src.exists()
    assert c.path == tmp_path / "processing" / "run-1" / "申請書 1.pdf"
    assert c.path.read_bytes() == data
    assert c.path.stat().st_ino == inode  # a rename, not a copy
    assert c.name == "申請書 1.pdf"
    assert c.size == len(data)
    assert c.sha256 == file_sha256(c.path)
    assert c.sha256 == hashlib.sha256(data).hexdigest()


def test_sha256_of_large_file_is_streamed(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # more than one read chunk
    p = tmp_path / "big.bin"
    p.write_bytes(data)
    assert file_sha256(p) == hashlib.sha256(data).hexdigest()


def test_move_file_never_overwrites(tmp_path: Path) -> None:
    dest_dir = tmp_path / "done" / "2026-11-26"
    dest_dir.mkdir(parents=True)
    (dest_dir / "name.pdf").write_bytes(b"first")
    (dest_dir / "name_1.pdf").write_bytes(b"second")
    src = _drop(tmp_path / "in", "name.pdf", b"third")
    got = move_file(src, dest_dir / "name.pdf")
    assert got == dest_dir / "name_2.pdf"
    assert (dest_dir / "name.pdf").read_bytes() == b"first"
    assert (dest_dir / "name_1.pdf").read_bytes() == b"second"
    assert got.read_bytes() == b"third"
    assert not src.exists()


def test_move_file_first_collision_gets_suffix_1(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "name.pdf").write_bytes(b"old")
    src = _drop(tmp_path / "in", "name.pdf", b"new")
    assert move_file(src, tmp_path / "d" / "name.pdf") == tmp_path / "d" / "name_1.pdf"


def test_move_across_volumes_copies_then_removes(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    src = _drop(tmp_path / "in", "scan.pdf", b"bytes of a scan")
    real_rename = Path.rename

    def exdev(self: Path, target: Path) -> Path:
        if self == src:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", exdev)
    got = move_file(src, tmp_path / "other" / "scan.pdf")
    assert got.read_bytes() == b"bytes of a scan"
    assert not src.exists()
    assert not list((tmp_path / "other").glob(".*copying"))


def test_move_failure_keeps_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _drop(tmp_path / "in", "scan.pdf", b"keep me")

    def denied(self: Path, target: Path) -> Path:
        raise PermissionError(errno.EACCES, "locked by another program")

    monkeypatch.setattr(Path, "rename", denied)
    with pytest.raises(PermissionError):
        move_file(src, tmp_path / "done" / "scan.pdf")
    assert src.read_bytes() == b"keep me"


def test_finalize_sorts_by_day(tmp_path: Path) -> None:
    src = _drop(tmp_path / "processing", "a.pdf")
    got = finalize(src, tmp_path / "done", day=datetime(2026, 11, 26, 23, 59))
    assert got == tmp_path / "done" / "2026-11-26" / "a.pdf"


def test_recover_processing_puts_files_back(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    run = tmp_path / "processing" / "run-1"
    _drop(run, "a.pdf", b"a")
    _drop(run, "b.png", b"b")
    (run / ".c.pdf.copying").write_bytes(b"half")  # an interrupted cross-volume copy
    _drop(inbox, "a.pdf", b"dropped again meanwhile")
    back = recover_processing([run, tmp_path / "processing" / "gone"], inbox)
    assert sorted(p.name for p in back) == ["a_1.pdf", "b.png"]
    assert (inbox / "a.pdf").read_bytes() == b"dropped again meanwhile"
    assert (inbox / "a_1.pdf").read_bytes() == b"a"
    assert (inbox / "b.png").read_bytes() == b"b"
    # the half copy is kept for inspection, so the folder stays
    assert (run / ".c.pdf.copying").exists()


def test_recover_processing_removes_empty_folder(tmp_path: Path) -> None:
    run = tmp_path / "processing" / "run-1"
    _drop(run, "a.pdf")
    recover_processing([run], tmp_path / "inbox")
    assert not run.exists()
    assert (tmp_path / "inbox" / "a.pdf").exists()


def test_write_reason_is_japanese_utf8_with_bom(tmp_path: Path) -> None:
    dest = tmp_path / "failed" / "2026-11-26" / "申請書.pdf"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"%PDF")
    note = write_reason(dest, name="申請書.pdf", run_id="20261126-093000-ab12",
                        outcome_ja="読み取りできませんでした（隔離）",
                        reason_ja="ファイルが空です。スキャンをやり直してください。",
                        detail="EmptyInputError: 0 bytes", when=datetime(2026, 11, 26, 9, 30))
    assert note == dest.with_name("申請書.pdf.reason.txt")
    raw = note.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "ファイル名: 申請書.pdf" in text
    assert "処理日時: 2026-11-26 09:30" in text
    assert "実行ID: 20261126-093000-ab12" in text
    assert "理由: ファイルが空です。スキャンをやり直してください。" in text
    assert "EmptyInputError: 0 bytes" in text
    assert "削除されていません" in text
    assert oct(note.stat().st_mode & 0o777) == oct(0o600)
    assert not list(dest.parent.glob(".*.tmp"))


def test_write_reason_without_detail(tmp_path: Path) -> None:
    dest = tmp_path / "x.pdf"
    note = write_reason(dest, name="x.pdf", run_id="r", outcome_ja="重複", reason_ja="同じ内容")
    text = note.read_text(encoding="utf-8-sig")
    assert "詳細" not in text
    assert "理由: 同じ内容" in text


def test_inbox_paths_for_scenario(tmp_path: Path) -> None:
    p = InboxPaths.for_scenario("intake", inbox_root=tmp_path / "inbox",
                                processing=tmp_path / "processing", done=tmp_path / "done",
                                failed=tmp_path / "failed")
    assert p.inbox == tmp_path / "inbox" / "intake"
    assert p.failed == tmp_path / "failed" / "intake"
    p.create()
    assert all(d.is_dir() for d in (p.inbox, p.processing, p.done, p.failed))
    o = InboxPaths.for_scenario("intake", inbox_root=tmp_path / "inbox",
                                processing=tmp_path / "processing", done=tmp_path / "done",
                                failed=tmp_path / "failed", inbox_override=tmp_path / "usb" / "in")
    assert o.inbox == tmp_path / "usb" / "in"
    assert o.done == (tmp_path / "usb").resolve() / "done" / "intake"
