"""Shared kit of the unattended-runtime tests (kills, fuzz, watch, scheduler) and bench/.

A *pool* of generated one-page scans is recorded once on a replay tape (tests/fakes.py), so a
run costs tens of milliseconds per file in-process or in a subprocess of ``rpa``. Each drop
is made unique without changing a pixel — a PNG text chunk carries a tag — so the tape still
replays it and the content hash differs: hundreds of distinct documents from six scans.

:func:`check_invariants` is the definition of "nothing lost, nothing twice" used by the
crash and fuzz tests: every dropped file is in exactly one of done/, failed/ or the inbox,
every processed document is in the outputs exactly once, the run log agrees, no run is left
"running", no half-written or partial output is left, every quarantined file has its note.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import sqlite3
import struct
import sys
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from fakes import TAPE_ENV, forms_library, record_tape, write_config

from robots.run.inbox import display_name, fit_name
from robots.samples import generate
from robots.sheets.common import looks_like_formula

__all__ = [
    "FORMS",
    "Invariants",
    "Pool",
    "check_invariants",
    "final_name",
    "make_pool",
    "service_config",
    "subprocess_env",
    "tag_png",
]

FORMS = ("juminhyo_request", "deposit_reply", "bid_qualification")
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@dataclass(frozen=True)
class Pool:
    """Generated scans on a recorded tape, plus the entry-point folder of the fake engine."""

    folder: Path
    tape: Path
    entry_point: Path
    scans: tuple[Path, ...]


def _write_entry_point(folder: Path) -> None:
    dist = folder / "misato_rpa_test_fakes-0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: misato-rpa-test-fakes\nVersion: 0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[misato_rpa.engines]\nreplay = fakes:ReplayEngine\n", encoding="utf-8")


def make_pool(folder: Path, *, count: int = 2, seed: int = 31, forms: tuple[str, ...] = FORMS,
              faults: dict[str, str] | None = None) -> Pool:
    """Generate and record the pool in ``folder`` (reused when it is already there).

    The fake engine must be installed in this process (``install_fake_engine``) for the
    recording; subprocesses get it through :func:`subprocess_env`.
    """
    tape = folder / "tape.json"
    entry = folder / "entry-point"
    done = folder / ".complete"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        lib = forms_library()
        scans = [p for fid in forms
                 for p in generate(lib.get(fid), count=count, seed=seed, out_dir=folder,
                                   degrade=0, fmt="png")]
        record_tape(scans, tape, faults=faults)
        _write_entry_point(entry)
        done.write_text("\n".join(p.name for p in scans), encoding="utf-8")
    names = done.read_text(encoding="utf-8").split()
    return Pool(folder, tape, entry, tuple(folder / n for n in names))


def subprocess_env(pool: Pool, **extra: str) -> dict[str, str]:
    """Environment for a subprocess of ``rpa`` that finds the replay engine and its tape."""
    env = dict(os.environ)
    paths = [str(pool.entry_point), str(TESTS), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env[TAPE_ENV] = str(pool.tape)
    env["OMP_THREAD_LIMIT"] = "1"
    env.update(extra)
    return env


def rpa_command() -> list[str]:
    """``rpa`` of this interpreter's environment."""
    exe = Path(sys.executable).with_name("rpa")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "robots.cli"]


def service_config(root: Path, *, settle_seconds: float = 0.0, extra: str = "",
                   inbox: str = "") -> Path:
    """A workspace config that reads with the replay engine only."""
    return write_config(root, settle_seconds=settle_seconds, engines=("replay",), extra=extra,
                        inbox=inbox)


def tag_png(data: bytes, tag: str) -> bytes:
    """The same PNG (same pixels) with a ``tEXt`` chunk: new content hash, same crops."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    ihdr_end = 8 + 8 + struct.unpack(">I", data[8:12])[0] + 4
    body = b"Comment\x00" + tag.encode("ascii")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
    return data[:ihdr_end] + chunk + data[ihdr_end:]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Invariants:
    """What :func:`check_invariants` found; ``problems`` must be empty."""

    problems: list[str] = field(default_factory=list)
    lost: int = 0  # good contents in neither done/ nor the inbox, or with no output row
    duplicates: int = 0  # output rows beyond one per good content
    rows: int = 0
    aborted_runs: int = 0
    completed_runs: int = 0


def _csv_sources(out_root: Path) -> tuple[Counter[str], list[str]]:
    rows: Counter[str] = Counter()
    problems = []
    for path in sorted(out_root.rglob("*.csv")):
        if any(part.endswith(".partial") for part in path.parts):
            problems.append(f"output inside a partial folder: {path}")
            continue
        if path.name.startswith(("文字コード", "要対応")) or path.stem.endswith("_確定"):
            continue  # reports, and the confirmed copy an import writes of the same rows
        with path.open(encoding="utf-8-sig", newline="") as fh:
            table = list(csv.reader(fh))
        if not table or table[0][:2] != ["文書ID", "元ファイル"]:
            problems.append(f"half-written or foreign CSV: {path}")
            continue
        # a file name that looks like a formula is written with the OWASP quote: undo it
        rows.update(r[1][1:] if r[1].startswith("'") and looks_like_formula(r[1][1:]) else r[1]
                    for r in table[1:])
    return rows, problems


def final_name(root: Path, name: str) -> str:
    """The name a dropped file has in done/ or failed/: readable, short enough for its note."""
    return fit_name(root, display_name(name))


def check_invariants(root: Path, dropped: dict[str, bytes], good: set[str], *,
                     scenario: str = "intake", open_workbooks: bool = True) -> Invariants:
    """Check "nothing lost, nothing twice" for the files ``dropped`` (name → bytes).

    ``good`` names the dropped files whose content should be read into the outputs; of
    several files with one content, exactly one is processed and the others are duplicates.
    """
    inv = Invariants()
    where: dict[str, list[Path]] = {}
    for stage in ("inbox", "processing", "done", "failed"):
        base = root / stage / scenario
        for p in (base.rglob("*") if base.is_dir() else []):
            if p.is_file() and not p.name.endswith(".reason.txt"):
                where.setdefault(p.name, []).append(p)
    for name, data in dropped.items():
        shown = final_name(root, name)
        places = where.get(name, []) + (where.get(shown, []) if shown != name else [])
        if len(places) != 1:
            inv.problems.append(f"{name}: found {len(places)} times: {places}")
            continue
        p = places[0]
        stage = p.relative_to(root).parts[0]
        if stage == "processing":
            inv.problems.append(f"{name}: still in processing/")
        if p.read_bytes() != data:
            inv.problems.append(f"{name}: content changed")
        if stage == "failed" and not p.with_name(p.name + ".reason.txt").is_file():
            inv.problems.append(f"{name}: quarantined without a reason note")
    out_root = root / "out" / scenario
    rows, problems = _csv_sources(out_root) if out_root.is_dir() else (Counter(), [])
    inv.problems += problems
    inv.rows = sum(rows.values())
    by_content: dict[str, list[str]] = {}
    for name in good:
        by_content.setdefault(sha(dropped[name]), []).append(name)
    for names in by_content.values():
        at = {n: where.get(n) or where.get(final_name(root, n)) for n in names}
        in_done = [n for n in names if at[n] and at[n][0].parts[len(root.parts)] == "done"]
        waiting = [n for n in names if at[n] and at[n][0].parts[len(root.parts)] == "inbox"]
        n_rows = sum(rows[display_name(n)] for n in names)
        if len(in_done) > 1:
            inv.problems.append(f"one content processed {len(in_done)} times: {in_done}")
        if n_rows > 1:
            inv.duplicates += n_rows - 1
            inv.problems.append(f"{names}: {n_rows} output rows")
        if not in_done and not waiting:
            inv.lost += 1
            inv.problems.append(f"{names}: good content neither processed nor waiting")
        if in_done and n_rows == 0:
            inv.lost += 1
            inv.problems.append(f"{in_done}: processed but no output row")
    shown_names = {display_name(n) for n in dropped}
    stray = [n for n in rows if n not in shown_names]
    if stray:
        inv.problems.append(f"output rows for files never dropped: {stray}")
    if out_root.is_dir():
        for p in out_root.rglob("*"):
            if p.name.endswith((".partial", ".tmp")) or ".partial" in p.parent.name:
                inv.problems.append(f"left-over {p}")
        if open_workbooks:
            for wb in out_root.rglob("*.xlsx"):
                openpyxl.load_workbook(wb, read_only=True).close()  # raises if half-written
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    try:
        status = Counter(r[0] for r in db.execute("SELECT status FROM runs"))
        if status.get("running"):
            inv.problems.append(f"{status['running']} run(s) still marked running")
        inv.aborted_runs, inv.completed_runs = status.get("aborted", 0), status.get("completed", 0)
        processed = Counter(r[0] for r in db.execute(
            "SELECT f.sha256 FROM files f JOIN runs r USING (run_id) "
            "WHERE f.outcome = 'processed' AND r.status = 'completed'"))
        twice = [s for s, n in processed.items() if n > 1]
        if twice:
            inv.problems.append(f"{len(twice)} content(s) recorded as processed twice")
        for (final,) in db.execute("SELECT f.final_path FROM files f JOIN runs r "
                                   "USING (run_id) WHERE r.status = 'completed'"):
            if final and not (root / final).is_file():  # relative to the workspace
                inv.problems.append(f"run log points at a missing file: {final}")
    finally:
        db.close()
    return inv


def fresh_workspace(root: Path) -> None:
    """Empty ``root`` (a workspace reused between iterations of a bench)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
