"""The runner under faults, fast: the replay engine (tests/fakes.py) instead of real OCR.

Each scan here is a generated form whose crops were recorded on a tape with the text that was
printed in them, so the runtime sees a perfect recogniser and any wrong value or exit code is
the runtime's own doing. Faults are tape entries: an engine that raises (a bug inside
``Scenario.process``) and an engine that kills its worker process (a native crash).
"""

from __future__ import annotations

import contextlib
import csv
import logging
import sqlite3
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fakes import (
    CRASH,
    HANG,
    RAISE,
    FrozenClock,
    ReplayEngine,
    count_files,
    forms_library,
    install_fake_engine,
    page_truths,
    record_tape,
    run_cli,
    uninstall_fake_engine,
    write_config,
)
from filelock import FileLock

import robots.run.runner
from ocr.engines import ReadHints, available_engines, engine_classes, get_engine
from robots.config import load_config
from robots.errors import ExitCode
from robots.run.runner import run_scenario
from robots.samples import generate
from robots.sheets.outputs import csv_header, data_csv_name
from scenarios.intake import Intake

FORMS = ("juminhyo_request", "bid_qualification", "deposit_reply")
FROZEN = datetime(2026, 11, 26, 9, 30, 0)
DAY = "2026-11-26"


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Nine scans (three per form) on a tape; one replays a raise, one a crash, one a hang."""
    gen = tmp_path_factory.mktemp("scans")
    lib = forms_library()
    paths = [p for fid in FORMS
             for p in generate(lib.get(fid), count=3, seed=7, out_dir=gen, degrade=0)]
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, tmp_path_factory.mktemp("entry-point"), gen / "tape.json")
        record_tape(paths, gen / "tape.json", faults={
            "bid_qualification-s7-0001.png": RAISE,
            "deposit_reply-s7-0001.png": CRASH,
            "juminhyo_request-s7-0002.png": HANG,
        })
        yield {p.name: p for p in paths}
    uninstall_fake_engine()


GOOD = ("juminhyo_request-s7-0000.png", "bid_qualification-s7-0000.png",
        "deposit_reply-s7-0000.png", "juminhyo_request-s7-0001.png")
RAISES = "bid_qualification-s7-0001.png"
CRASHES = "deposit_reply-s7-0001.png"
HANGS = "juminhyo_request-s7-0002.png"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    c = FrozenClock(FROZEN)
    monkeypatch.setattr(robots.run.runner, "datetime", c.datetime)
    return c


def _workspace(root: Path, scans: dict[str, Path], names: tuple[str, ...],
               run: str = "") -> Path:
    cfg = write_config(root, engines=("replay",), run=run)
    inbox = root / "inbox" / "intake"
    inbox.mkdir(parents=True)
    for n in names:
        (inbox / n).write_bytes(scans[n].read_bytes())
    return cfg


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _runlog(root: Path) -> sqlite3.Connection:
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    db.row_factory = sqlite3.Row
    return db


# -- the fake itself --------------------------------------------------------------------------

def test_replay_engine_comes_from_the_entry_point_group(scans: dict[str, Path]) -> None:
    assert engine_classes()["replay"] is ReplayEngine
    assert "replay" in available_engines()
    # a built-in cannot be shadowed, and the built-ins are all still there
    assert {"tesseract", "pytesseract", "rapidocr"} <= set(engine_classes())


def test_replay_engine_never_invents(scans: dict[str, Path]) -> None:
    import numpy as np

    engine = get_engine("replay")
    unknown = np.full((40, 200), 255, np.uint8)
    reading = engine.recognize(unknown, ReadHints())
    assert (reading.text, reading.confidence) == ("", 0.0)


def test_crash_fault_refuses_to_kill_the_test_process(scans: dict[str, Path]) -> None:
    from ocr.pipeline import PipelineOptions, Reader

    reader = Reader(forms_library(), PipelineOptions(engines=("replay",)))
    with pytest.raises(RuntimeError, match="refusing"):
        reader.read_file(scans[CRASHES])


# -- clean run --------------------------------------------------------------------------------

def test_clean_run_exits_0_with_exact_values(scans: dict[str, Path], tmp_path: Path,
                                             clock: FrozenClock,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _workspace(tmp_path, scans, GOOD[:3])
    before = count_files(tmp_path)
    code = run_cli(["--config", str(cfg), "run", "intake", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    assert "ok 3" in out and "0 need review" in out
    after = count_files(tmp_path)
    assert after["done"] == before["inbox"] and after["failed"] == after["processing"] == []
    assert sorted(p.name for p in (tmp_path / "done" / "intake" / DAY).iterdir()) == \
        sorted(GOOD[:3])
    runs = list((tmp_path / "out" / "intake").iterdir())
    assert [r.name[:13] for r in runs] == ["20261126-0930"]  # frozen clock in the run id
    lib = forms_library()
    for name in GOOD[:3]:
        truth = page_truths(scans[name])[0]
        t = lib.get(truth["form"])
        rows = _csv_rows(runs[0] / data_csv_name(t, confirmed=False))
        assert rows[0] == csv_header(t)
        (row,) = rows[1:]
        assert row[1:4] == [name, "1", ""]
        assert dict(zip([f.name for f in t.fields], row[4:], strict=True)) == truth["fields"]
    db = _runlog(tmp_path)
    (run,) = db.execute("SELECT * FROM runs").fetchall()
    assert (run["status"], run["exit_code"]) == ("completed", 0)
    assert {r["outcome"] for r in db.execute("SELECT outcome FROM files")} == {"processed"}
    assert db.execute("SELECT count(*) FROM fields WHERE flagged = 1").fetchone()[0] == 0
    # nothing needed review: confirmed as read and handed off at once, each form its layouts
    handoffs = db.execute("SELECT * FROM handoffs ORDER BY layout_id").fetchall()
    assert [h["layout_id"] for h in handoffs] == [
        "bid_qualification_gyosha", "deposit_reply_taino", "juminhyo_request_juki",
        "juminhyo_request_madoguchi"]
    for h in handoffs:
        assert (h["status"], h["rows"], h["import_id"]) == ("delivered", 1, None)
        assert (tmp_path / h["path"]).is_file() and h["path"].startswith("handoff/")
    assert f"_確定_{run['run_id']}" in handoffs[0]["path"]


def test_documents_to_review_wait_for_the_import(scans: dict[str, Path], tmp_path: Path,
                                                 clock: FrozenClock) -> None:
    # a scan that is not on the tape reads empty: every field is flagged
    unknown = generate(forms_library().get("juminhyo_request"), count=1, seed=99,
                       out_dir=tmp_path / "gen", degrade=0)[0]
    cfg = load_config(_workspace(tmp_path, {**scans, unknown.name: unknown},
                                 (GOOD[1], unknown.name)))
    s = run_scenario("intake", cfg, jobs=1, today=date(2026, 11, 26))
    assert s.documents_needing_review >= 1
    assert not (tmp_path / "handoff").exists()  # the clean bid application waits too
    assert _runlog(tmp_path).execute("SELECT count(*) FROM handoffs").fetchone()[0] == 0


# -- an item raises inside process ------------------------------------------------------------

def test_item_that_raises_is_quarantined_and_run_continues(
        scans: dict[str, Path], tmp_path: Path, clock: FrozenClock) -> None:
    names = (GOOD[0], RAISES, GOOD[2])
    cfg = load_config(_workspace(tmp_path, scans, names))
    s = run_scenario("intake", cfg, jobs=1, today=date(2026, 11, 26))
    assert s.exit_code == ExitCode.NEEDS_ATTENTION
    assert s.counts == {"ok": 2, "error": 1}
    files = count_files(tmp_path)
    assert files["failed"] == [RAISES]
    assert files["done"] == sorted([GOOD[0], GOOD[2]])
    assert files["inbox"] == files["processing"] == []
    note = tmp_path / "failed" / "intake" / DAY / f"{RAISES}.reason.txt"
    text = note.read_text(encoding="utf-8-sig")
    assert "システムエラー" in text
    assert "処理日時: 2026-11-26 09:30" in text
    assert "RuntimeError in recognize" in text  # where, not the message (may hold a value)
    # the good ones made it into the outputs, the failed one did not
    assert not (s.out_dir / "入札参加資格審査申請書_未確定.csv").exists()
    assert len(_csv_rows(s.out_dir / "住民票の写し等交付請求書_未確定.csv")) == 2
    db = _runlog(tmp_path)
    f = db.execute("SELECT outcome, reason_code, final_path FROM files WHERE source_name = ?",
                   (RAISES,)).fetchone()
    assert (f["outcome"], f["reason_code"]) == ("failed", "internal_error")
    assert f["final_path"] == f"failed/intake/{DAY}/{RAISES}"  # relative to the workspace
    events = [e["code"] for e in db.execute("SELECT code FROM events")]
    assert "internal_error" in events


def test_item_that_raises_in_a_worker_process(scans: dict[str, Path], tmp_path: Path) -> None:
    cfg = load_config(_workspace(tmp_path, scans, (GOOD[0], RAISES)))
    s = run_scenario("intake", cfg, jobs=2)
    assert s.counts == {"ok": 1, "error": 1}
    assert count_files(tmp_path)["failed"] == [RAISES]


# -- a worker that hangs, a worker killed from outside ------------------------------------------

def test_a_file_that_hangs_its_worker_is_stopped_and_quarantined(
        scans: dict[str, Path], tmp_path: Path) -> None:
    """An endless loop in an OCR library must not hold the run (nor every later night)."""
    names = (GOOD[0], HANGS, GOOD[1])
    cfg = load_config(_workspace(tmp_path, scans, names, run="item_timeout_seconds = 10"))
    s = run_scenario("intake", cfg, jobs=2)
    assert s.counts == {"ok": 2, "rejected": 1}, s.counts
    assert count_files(tmp_path)["failed"] == [HANGS]
    note = next((tmp_path / "failed" / "intake").rglob(f"{HANGS}.reason.txt"))
    assert "時間がかかりすぎた" in note.read_text(encoding="utf-8-sig")
    assert _workers_left() == []


def _workers_left() -> list[int]:
    """Worker processes of this test process still alive (there must be none after a run)."""
    import psutil

    return [p.pid for p in psutil.Process().children(recursive=True)
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
            and any("spawn_main" in part for part in p.cmdline())]


@pytest.mark.parametrize("delay", [0.3, 1.5, 3.0])
def test_a_worker_killed_from_outside_never_hangs_the_run(
        scans: dict[str, Path], tmp_path: Path, delay: float) -> None:
    """``kill -9`` of a worker (the OOM killer does that) at some moment of the run."""
    import threading

    import psutil

    names = tuple(n for n in scans if n not in (RAISES, CRASHES, HANGS))
    cfg = load_config(_workspace(tmp_path, scans, names))
    done: list[object] = []
    t = threading.Thread(target=lambda: done.append(run_scenario("intake", cfg, jobs=2)),
                         daemon=True)
    t.start()
    deadline = time.monotonic() + 60
    killed = None
    while killed is None and time.monotonic() < deadline and t.is_alive():
        workers = _workers_left()
        if workers:
            time.sleep(delay)
            for pid in workers[:1]:
                with contextlib.suppress(psutil.Error):
                    psutil.Process(pid).kill()
                    killed = pid
        time.sleep(0.05)
    t.join(timeout=120)
    assert not t.is_alive(), "the run did not end after a worker was killed"
    (s,) = done
    files = count_files(tmp_path)
    assert killed is not None
    # the item of the killed worker ran again alone: innocent, it was read like the others
    assert s.counts == {"ok": len(names)}, s.counts  # type: ignore[attr-defined]
    assert files["done"] == sorted(names) and files["processing"] == []
    assert _workers_left() == []


# -- a worker process dies --------------------------------------------------------------------

def test_worker_that_dies_costs_only_its_item(scans: dict[str, Path], tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    names = (CRASHES, *GOOD)
    cfg = load_config(_workspace(tmp_path, scans, names))
    before = count_files(tmp_path)["inbox"]
    with caplog.at_level(logging.WARNING, logger="robots.run.executor"):
        s = run_scenario("intake", cfg, jobs=2)
    assert s.counts == {"ok": 4, "error": 1}, s.counts
    assert s.exit_code == ExitCode.NEEDS_ATTENTION
    files = count_files(tmp_path)
    assert files["failed"] == [CRASHES]
    assert files["done"] == sorted(GOOD)
    assert sorted(files["done"] + files["failed"]) == before
    note = (tmp_path / "failed" / "intake").rglob(f"{CRASHES}.reason.txt")
    assert "worker process died" in next(note).read_text(encoding="utf-8-sig")
    assert any("worker process died" in r.getMessage() for r in caplog.records)
    assert s.documents == 4


# -- interrupted runs -------------------------------------------------------------------------

def test_run_dying_before_the_log_commit_is_rolled_back(
        scans: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(_workspace(tmp_path, scans, GOOD[:2]))

    def power_cut(*_a: object, **_k: object) -> list[Path]:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(Intake, "finish", power_cut)
        with pytest.raises(KeyboardInterrupt):
            run_scenario("intake", cfg, jobs=1)
    files = count_files(tmp_path)
    assert sorted(files["processing"]) == sorted(GOOD[:2])  # claimed, nothing lost
    (partial,) = (tmp_path / "out" / "intake").iterdir()
    assert partial.name.endswith(".partial")

    s = run_scenario("intake", cfg, jobs=1)
    assert s.recovered == [partial.name.removesuffix(".partial")]
    assert s.counts == {"ok": 2}
    files = count_files(tmp_path)
    assert files["done"] == sorted(GOOD[:2])
    assert files["processing"] == files["inbox"] == []
    assert not partial.exists()
    db = _runlog(tmp_path)
    statuses = sorted(r["status"] for r in db.execute("SELECT status FROM runs"))
    assert statuses == ["aborted", "completed"]


def test_run_dying_after_the_log_commit_is_finished_by_the_next(
        scans: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(_workspace(tmp_path, scans, (GOOD[0], RAISES)))

    def power_cut(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(robots.run.runner, "_put_away", power_cut)
        with pytest.raises(KeyboardInterrupt):
            run_scenario("intake", cfg, jobs=1)
    assert sorted(count_files(tmp_path)["processing"]) == sorted([GOOD[0], RAISES])
    (run1,) = [p.name for p in (tmp_path / "out" / "intake").iterdir()]

    s = run_scenario("intake", cfg, jobs=1)
    assert s.recovered == [run1]
    assert s.counts == {}  # nothing new; the first run's files were put where it recorded
    note = next((tmp_path / "failed" / "intake").rglob(f"{RAISES}.reason.txt"))
    text = note.read_text(encoding="utf-8-sig")
    assert run1 in text and "internal_error" in text and "理由:" in text
    files = count_files(tmp_path)
    assert files["done"] == [GOOD[0]]
    assert files["failed"] == [RAISES]
    assert files["processing"] == files["inbox"] == []
    db = _runlog(tmp_path)
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 1  # not entered twice


# -- exit codes through the CLI ----------------------------------------------------------------

def test_locked_scenario_exits_5_and_touches_nothing(
        scans: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _workspace(tmp_path, scans, GOOD[:1])
    (tmp_path / "processing").mkdir()
    lock = FileLock(str(tmp_path / "processing" / ".intake.lock"))
    with lock:
        code = run_cli(["--config", str(cfg), "run", "intake"])
    assert code == ExitCode.LOCKED
    assert "already running" in capsys.readouterr().err
    assert count_files(tmp_path)["inbox"] == [GOOD[0]]


def test_unknown_engine_is_a_config_error_before_any_file_moves(
        scans: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, engines=("replay", "nonesuch"))
    inbox = tmp_path / "inbox" / "intake"
    inbox.mkdir(parents=True)
    (inbox / GOOD[0]).write_bytes(scans[GOOD[0]].read_bytes())
    code = run_cli(["--config", str(cfg), "run", "intake", "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == ExitCode.CONFIG, err
    assert "ocr.engines" in err and "nonesuch" in err
    assert count_files(tmp_path)["inbox"] == [GOOD[0]]
    assert count_files(tmp_path)["processing"] == []
