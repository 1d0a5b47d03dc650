"""The inbox folder an operator drops scans into, and where each file goes afterwards.

    inbox/<scenario>/        operators drop files here
    processing/<scenario>/<run-id>/   claimed by a run (moved, never copied)
    done/<scenario>/<date>/  processed
    failed/<scenario>/<date>/  quarantined, with <name>.reason.txt in Japanese

Nothing is ever deleted. A file still being written (by a slow scanner or a copy over the
network) is left for the next run. Moves are atomic renames on one volume; across volumes
the file is copied under a temporary name, renamed, and only then removed at the source.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = [
    "Claimed",
    "InboxPaths",
    "claim",
    "file_sha256",
    "finalize",
    "free_path",
    "list_inbox",
    "move_file",
    "recover_processing",
    "write_reason",
]

log = logging.getLogger(__name__)

# Names that belong to a copy still in progress or to another program's bookkeeping.
_IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart")
_IGNORED_PREFIXES = (".", "~$")


@dataclass(frozen=True, slots=True)
class InboxPaths:
    """The four folders of one scenario."""

    inbox: Path
    processing: Path
    done: Path
    failed: Path

    @classmethod
    def for_scenario(cls, scenario: str, *, inbox_root: Path, processing: Path, done: Path,
                     failed: Path, inbox_override: Path | None = None) -> InboxPaths:
        """Folders for ``scenario``; with ``inbox_override`` the others sit beside it."""
        if inbox_override is not None:
            base = inbox_override.resolve().parent
            return cls(inbox_override, base / "processing" / scenario, base / "done" / scenario,
                       base / "failed" / scenario)
        return cls(inbox_root / scenario, processing / scenario, done / scenario,
                   failed / scenario)

    def create(self) -> None:
        for p in (self.inbox, self.processing, self.done, self.failed):
            p.mkdir(parents=True, exist_ok=True, mode=0o700)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A file moved into processing/ by a run."""

    path: Path  # where it is now
    name: str  # its name as dropped
    sha256: str
    size: int


def file_sha256(path: Path) -> str:
    """Content fingerprint: the same scan dropped twice is recognised by it."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _signature(path: Path) -> tuple[int, int, float] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_mtime


def list_inbox(inbox: Path, *, settle_seconds: float,
               now: float | None = None) -> tuple[list[Path], list[Path]]:
    """(ready files, files left for later). Folders and hidden files are not touched.

    A file is ready when it has not changed for ``settle_seconds`` and is not growing (two
    looks, 50 ms apart, taken once for the whole folder). Every other file is returned as
    ready whatever its extension: an unexpected file is quarantined with a reason by the
    runner, never skipped silently.
    """
    ready: list[Path] = []
    later: list[Path] = []
    if not inbox.is_dir():
        return ready, later
    now = time.time() if now is None else now
    first: dict[Path, tuple[int, int, float]] = {}
    for p in sorted(inbox.iterdir(), key=lambda q: q.name):
        if not p.is_file() or p.name.startswith(_IGNORED_PREFIXES):
            continue
        sig = _signature(p)
        if sig is None:
            continue
        if p.name.lower().endswith(_IN_PROGRESS_SUFFIXES) or now - sig[2] < settle_seconds:
            later.append(p)
        else:
            first[p] = sig
    if first and settle_seconds > 0:
        time.sleep(0.05)
    for p, sig in first.items():
        again = _signature(p)
        if again is None:
            continue
        (ready if again[:2] == sig[:2] else later).append(p)
    for p in later:
        log.info("left for the next run (still being written): %s", p.name)
    return ready, sorted(later)


def _unique(dest: Path) -> Path:
    if not dest.exists():
        return dest
    stem, suffix = dest.stem, dest.suffix
    for i in range(1, 10_000):
        cand = dest.with_name(f"{stem}_{i}{suffix}")
        if not cand.exists():
            return cand
    raise FileExistsError(f"too many files named like {dest}")


def free_path(dest: Path) -> Path:
    """``dest``, or the first free ``<stem>_<n><suffix>`` beside it (nothing is overwritten)."""
    return _unique(dest)


def move_file(src: Path, dest: Path) -> Path:
    """Move ``src`` to ``dest`` (or a free name next to it) without ever losing it."""
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    dest = _unique(dest)
    try:
        src.rename(dest)
    except OSError as exc:
        if exc.errno != 18:  # EXDEV: another volume
            raise
        tmp = dest.with_name(f".{dest.name}.copying")
        shutil.copy2(src, tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(dest)
        src.unlink()
    return dest


def claim(path: Path, processing: Path, run_id: str) -> Claimed:
    """Move a settled inbox file into this run's processing folder and fingerprint it."""
    moved = move_file(path, processing / run_id / path.name)
    return Claimed(moved, path.name, file_sha256(moved), moved.stat().st_size)


def write_reason(dest: Path, *, name: str, run_id: str, outcome_ja: str, reason_ja: str,
                 detail: str = "", when: datetime | None = None) -> Path:
    """The quarantine note a clerk reads next to the file (UTF-8 with BOM for Notepad)."""
    when = when or datetime.now()
    lines = [
        f"ファイル名: {name}",
        f"処理日時: {when:%Y-%m-%d %H:%M}",
        f"実行ID: {run_id}",
        f"結果: {outcome_ja}",
        f"理由: {reason_ja}",
    ]
    if detail:
        lines.append(f"詳細（システム担当者向け）: {detail}")
    lines.append("このファイルは削除されていません。内容を確認し、必要なら修正して受付フォルダに入れ直してください。")
    note = dest.with_name(dest.name + ".reason.txt")
    tmp = note.with_name("." + note.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    tmp.chmod(0o600)
    tmp.replace(note)
    return note


def finalize(path: Path, root: Path, *, day: datetime | None = None) -> Path:
    """Move a processed file to ``root/<YYYY-MM-DD>/``; returns where it went."""
    day = day or datetime.now()
    return move_file(path, root / f"{day:%Y-%m-%d}" / path.name)


def recover_processing(folders: Iterable[Path], inbox: Path) -> list[Path]:
    """Put the files of interrupted runs back in the inbox, so the next run takes them.

    Called for processing folders whose run is known not to be alive any more.
    """
    back: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir()):
            if p.is_file() and not p.name.endswith(".copying"):
                back.append(move_file(p, inbox / p.name))
            elif p.name.endswith(".copying"):
                log.warning("incomplete copy %s left in place for inspection", p)
        try:
            folder.rmdir()
        except OSError:
            log.warning("processing folder %s not empty after recovery", folder)
    return back
