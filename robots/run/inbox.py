"""The inbox folder an operator drops scans into, and where each file goes afterwards.

    inbox/<scenario>/        operators drop files here
    processing/<scenario>/<run-id>/   claimed by a run (moved, never copied)
    done/<scenario>/<date>/  processed
    failed/<scenario>/<date>/  quarantined, with <name>.reason.txt in Japanese

Nothing is ever deleted. A file still being written (by a slow scanner or a copy over the
network) is left for the next run. Moves are atomic renames on one volume; across volumes
the file is copied under a temporary name, renamed, and only then removed at the source.

File names are whatever the file system accepted. A name in Shift_JIS bytes (a zip made on
Windows, an old share) is no UTF-8: Python hands it over with surrogates that SQLite, CSV and
XML refuse. Such a file keeps its name on disk while it is processed; what people and the
run log see is :func:`display_name` (the Shift_JIS reading when there is one, else the name
with � for what cannot be read), and done/ and failed/ receive it under that readable name,
shortened with a digest when it would not fit beside its reason note (:func:`fit_name`).
The raw bytes are kept in the run log and, when the name changed, in the reason note.
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
    "NAME_RESERVE",
    "Claimed",
    "InboxPaths",
    "claim",
    "display_name",
    "file_sha256",
    "finalize",
    "fit_name",
    "free_path",
    "list_folders",
    "list_inbox",
    "looks_complete",
    "move_file",
    "raw_name",
    "recover_processing",
    "write_reason",
]

log = logging.getLogger(__name__)

#: Bytes a name must leave free in its folder: ``.reason.txt`` beside it, ``_9999`` to make it
#: unique, and the ``.``…``.tmp`` of the note's atomic write.
NAME_RESERVE = 32
_CONTROL = dict.fromkeys([*range(0x20), 0x7F], "\ufffd")

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

    path: Path  # where it is now, under its name as dropped (raw)
    name: str  # its name as people see it (:func:`display_name`)
    sha256: str
    size: int


def raw_name(name: str) -> bytes:
    """The bytes of a file name as the file system holds them."""
    return os.fsencode(name)


def display_name(name: str) -> str:
    """A file name that every output can hold: valid Unicode, no control characters.

    A name that is not UTF-8 is read as CP932 (Windows-31J) when it is valid CP932 — what a
    Japanese Windows machine wrote — else its unreadable bytes become U+FFFD.
    """
    if any("\udc80" <= c <= "\udcff" for c in name):
        raw = raw_name(name)
        try:
            name = raw.decode("cp932")
        except UnicodeDecodeError:
            name = raw.decode("utf-8", errors="replace")
    return name.translate(_CONTROL)


def fit_name(folder: Path, name: str, reserve: int = NAME_RESERVE) -> str:
    """``name``, or a shorter one with a digest of it, that fits ``folder`` with ``reserve``.

    The suffix is kept (the file type shows), the stem cut on a character boundary and
    ``~<8 hex>`` added, so two long names that start alike stay apart.
    """
    try:
        limit = os.pathconf(folder if folder.exists() else folder.parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    if len(os.fsencode(name)) + reserve <= limit:
        return name
    p = Path(name)
    suffix = p.suffix if len(os.fsencode(p.suffix)) <= 16 else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    room = limit - reserve - len(os.fsencode(suffix + tag))
    while stem and len(os.fsencode(stem)) > room:
        stem = stem[:-1]
    return f"{stem}{tag}{suffix}"


def file_sha256(path: Path) -> str:
    """Content fingerprint: the same scan dropped twice is recognised by it."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _signature(path: Path) -> tuple[int, int, float] | None:
    try:
        st = path.lstat()  # a link is judged as a link, never by what it points at
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_mtime


def _tail(path: Path, n: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - n))
        return fh.read()


def _tiff_complete(path: Path, size: int) -> bool:
    """The first image directory and the data it points to lie inside the file."""
    with path.open("rb") as fh:
        head = fh.read(8)
        order = "<" if head[:2] == b"II" else ">"
        first = int.from_bytes(head[4:8], "little" if order == "<" else "big")
        if not 8 <= first < size:
            return False
        fh.seek(first)
        raw = fh.read(2)
        if len(raw) < 2:
            return False
        count = int.from_bytes(raw, "little" if order == "<" else "big")
        return first + 2 + 12 * count + 4 <= size


def looks_complete(path: Path) -> bool:
    """Whether a scan's own structure says it was written to the end.

    A copy that pauses longer than the settle time looks settled; its content does not:
    a PDF ends with ``%%EOF``, a PNG with its IEND chunk, a JPEG with the EOI marker, a TIFF's
    first directory lies inside the file, an xlsx (zip) ends with its central directory.
    Other files (CSV) have no such mark and count as complete.
    """
    try:
        size = path.lstat().st_size
        if size == 0 or path.is_symlink():
            return True  # empty or a link: quarantined at once, with its own reason
        with path.open("rb") as fh:
            head = fh.read(8)
        if head.startswith(b"%PDF"):
            return b"%%EOF" in _tail(path, 2048)
        if head.startswith(b"\x89PNG"):
            return _tail(path, 12)[4:8] == b"IEND"
        if head.startswith(b"\xff\xd8"):
            return b"\xff\xd9" in _tail(path, 64)
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff_complete(path, size)
        if head.startswith(b"PK\x03\x04"):
            return b"PK\x05\x06" in _tail(path, 65_557)
    except OSError:
        return True  # unreadable: the reader quarantines it with the reason
    return True


def list_inbox(inbox: Path, *, settle_seconds: float, incomplete_max_age: float = 3600.0,
               now: float | None = None) -> tuple[list[Path], list[Path]]:
    """(ready files, files left for later). Folders and hidden files are not touched.

    A file is ready when it has not changed for ``settle_seconds``, is not growing (two
    looks, 50 ms apart, taken once for the whole folder) and its structure says it is
    complete (:func:`looks_complete`) — or it has looked incomplete for longer than
    ``incomplete_max_age`` (a scan truly cut short: the reader quarantines it with the
    reason). Every other file is returned as ready whatever its extension: an unexpected
    file is quarantined with a reason by the runner, never skipped silently. A symbolic link
    is ready at once (it is quarantined, never followed).
    """
    ready: list[Path] = []
    later: list[Path] = []
    if not inbox.is_dir():
        return ready, later
    now = time.time() if now is None else now
    first: dict[Path, tuple[int, int, float]] = {}
    for p in sorted(inbox.iterdir(), key=lambda q: q.name):
        if p.name.startswith(_IGNORED_PREFIXES) or not (p.is_symlink() or p.is_file()):
            continue
        sig = _signature(p)
        if sig is None:
            continue
        if p.is_symlink():
            ready.append(p)
        elif p.name.lower().endswith(_IN_PROGRESS_SUFFIXES) or now - sig[2] < settle_seconds:
            later.append(p)
        else:
            first[p] = sig
    if first and settle_seconds > 0:
        time.sleep(0.05)
    for p, sig in first.items():
        again = _signature(p)
        if again is None:
            continue
        if again[:2] != sig[:2]:
            later.append(p)
        elif not looks_complete(p) and now - sig[2] < incomplete_max_age:
            log.info("left for the next run (looks cut short, %.0f s old): %s", now - sig[2],
                     display_name(p.name))
            later.append(p)
        else:
            ready.append(p)
    for p in later:
        log.info("left for the next run (still being written): %s", display_name(p.name))
    return sorted(ready, key=lambda q: q.name), sorted(later)


def list_folders(inbox: Path) -> list[Path]:
    """Folders dropped in the inbox: never entered (a scan is a file), reported to the operator."""
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.iterdir()
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith(_IGNORED_PREFIXES))


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
        tmp = dest.with_name(f".copying-{hashlib.sha256(os.fsencode(dest.name)).hexdigest()[:12]}")
        shutil.copy2(src, tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(dest)
        src.unlink()
    return dest


def claim(path: Path, processing: Path, run_id: str) -> Claimed:
    """Move a settled inbox file into this run's processing folder and fingerprint it.

    A symbolic link is moved as a link and never followed: its "content" is where it points.
    """
    moved = move_file(path, processing / run_id / path.name)
    if moved.is_symlink():
        target = os.fsencode(moved.readlink())
        return Claimed(moved, display_name(path.name),
                       hashlib.sha256(b"symlink:" + target).hexdigest(), len(target))
    return Claimed(moved, display_name(path.name), file_sha256(moved), moved.stat().st_size)


def write_reason(dest: Path, *, name: str, run_id: str, outcome_ja: str, reason_ja: str,
                 detail: str = "", when: datetime | None = None, raw: str | None = None) -> Path:
    """The quarantine note a clerk reads next to the file (UTF-8 with BOM for Notepad).

    ``raw`` is the name the file had in the inbox; when it is not what the file is called
    now (not UTF-8, or shortened), the note keeps its exact bytes.
    """
    when = when or datetime.now()
    lines = [
        f"ファイル名: {name}",
        f"処理日時: {when:%Y-%m-%d %H:%M}",
        f"実行ID: {run_id}",
        f"結果: {outcome_ja}",
        f"理由: {reason_ja}",
    ]
    if raw is not None and raw not in (name, dest.name):
        lines.append(f"受付時のファイル名（バイト列）: {raw_name(raw)!r}")
    if dest.name != name:
        lines.append(f"保存したファイル名: {dest.name}")
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
            copying = p.name.startswith(".copying-") or p.name.endswith(".copying")
            if (p.is_file() or p.is_symlink()) and not copying:
                back.append(move_file(p, inbox / p.name))
            elif copying:
                log.warning("incomplete copy %s left in place for inspection",
                            display_name(p.name))
        try:
            folder.rmdir()
        except OSError:
            log.warning("processing folder %s not empty after recovery", folder)
    return back
