"""Deterministic versions of the kill points the crash test hits at random, and the stop flag.

A run is made to die (KeyboardInterrupt, as a power cut would stop it) at a named step
boundary through the runner's step hook, then the next run is checked: it must finish the
dead run exactly as that run would have finished itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import count_files, install_fake_engine, uninstall_fake_engine
from service_kit import Pool, check_invariants, make_pool, service_config, tag_png

import robots.run.runner
from robots.config import load_config
from robots.run.runner import run_scenario
from robots.run.shutdown import clear_stop, request_stop


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    folder = tmp_path_factory.getbasetemp() / "service-pool"
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, folder / "entry-point-inproc", folder / "tape.json")
        yield make_pool(folder)
    uninstall_fake_engine()


def _drop(root: Path, files: dict[str, bytes]) -> None:
    inbox = root / "inbox" / "intake"
    inbox.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (inbox / name).write_bytes(data)


def _die_at(monkeypatch: pytest.MonkeyPatch, where: str, nth: int = 1) -> None:
    seen = {"n": 0}

    def step(name: str) -> None:
        if name == where:
            seen["n"] += 1
            if seen["n"] == nth:
                raise KeyboardInterrupt(f"power cut after {where}")

    monkeypatch.setattr(robots.run.runner, "step", step)


def test_death_between_commit_and_rename_with_another_out_folder(
        pool: Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(service_config(tmp_path))
    files = {f"c{i}.png": tag_png(pool.scans[i].read_bytes(), f"c{i}") for i in range(2)}
    _drop(tmp_path, files)
    elsewhere = tmp_path / "usb-out"
    with monkeypatch.context() as m:
        _die_at(m, "committed")
        with pytest.raises(KeyboardInterrupt):
            run_scenario("intake", cfg, jobs=1, out=elsewhere)
    (partial,) = (elsewhere / "intake").iterdir()
    assert partial.name.endswith(".partial")
    s = run_scenario("intake", cfg, jobs=1)  # the default out folder this time
    assert s.recovered == [partial.name.removesuffix(".partial")]
    assert s.counts == {}  # nothing read twice
    assert not partial.exists() and (elsewhere / "intake" / s.recovered[0]).is_dir()
    assert count_files(tmp_path)["done"] == sorted(files)


def test_death_after_the_note_keeps_the_runs_own_reason(pool: Pool, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(service_config(tmp_path))
    _drop(tmp_path, {"a.png": tag_png(pool.scans[0].read_bytes(), "note"),
                     "zero.pdf": b""})
    real_move = robots.run.runner.move_file

    def move(src: Path, dest: Path) -> Path:
        if "failed" in dest.parts:
            raise KeyboardInterrupt("power cut before the quarantined file moved")
        return real_move(src, dest)

    with monkeypatch.context() as m:
        m.setattr(robots.run.runner, "move_file", move)
        with pytest.raises(KeyboardInterrupt):
            run_scenario("intake", cfg, jobs=1)
    run_scenario("intake", cfg, jobs=1)
    note = next((tmp_path / "failed").rglob("zero.pdf.reason.txt"))
    assert "空です" in note.read_text(encoding="utf-8-sig")  # the specific reason, not "unknown"
    assert count_files(tmp_path)["failed"] == ["zero.pdf"]


def test_stop_before_processing_puts_every_claimed_file_back(pool: Pool, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    cfg = load_config(service_config(tmp_path))
    files = {f"s{i}.png": tag_png(pool.scans[i].read_bytes(), f"s{i}") for i in range(3)}
    _drop(tmp_path, files)
    claimed = {"n": 0}

    def step(name: str) -> None:  # a SIGTERM arrives while the second file is claimed
        if name == "claimed":
            claimed["n"] += 1
            if claimed["n"] == 2:
                request_stop("test")

    monkeypatch.setattr(robots.run.runner, "step", step)
    try:
        s = run_scenario("intake", cfg, jobs=1)
    finally:
        clear_stop()
    assert s.status == "completed" and s.counts == {} and s.put_back == 2
    assert count_files(tmp_path)["inbox"] == ["s0.png", "s1.png", "s2.png"]
    monkeypatch.setattr(robots.run.runner, "step", lambda _name: None)
    s2 = run_scenario("intake", cfg, jobs=1)
    assert sum(s2.counts.values()) == 3
    assert not check_invariants(tmp_path, files, set(files)).problems


def test_copy_of_an_unreadable_file_is_quarantined_for_the_same_reason(
        pool: Pool, tmp_path: Path) -> None:
    cfg = load_config(service_config(tmp_path))
    _drop(tmp_path, {"a-empty.pdf": b"", "b-empty.png": b"",
                     "c.png": tag_png(pool.scans[0].read_bytes(), "twin"),
                     "d-copy.png": tag_png(pool.scans[0].read_bytes(), "twin")})
    s = run_scenario("intake", cfg, jobs=1)
    assert s.counts == {"rejected": 2, "ok": 1, "duplicate": 1} or \
        s.counts == {"rejected": 2, "needs_review": 1, "duplicate": 1}
    note = next((tmp_path / "failed").rglob("b-empty.png.reason.txt")).read_text("utf-8-sig")
    assert "空です" in note and "重複" not in note
    dup = next((tmp_path / "failed").rglob("d-copy.png.reason.txt")).read_text("utf-8-sig")
    assert "重複" in dup and "c.png" in dup


def test_file_locked_by_another_program_is_left_for_later(pool: Pool, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows refuses to move a file a scanner still has open: leave it, take it next time."""
    cfg = load_config(service_config(tmp_path))
    _drop(tmp_path, {"busy.png": tag_png(pool.scans[0].read_bytes(), "busy"),
                     "free.png": tag_png(pool.scans[1].read_bytes(), "free")})

    def claim(path: Path, processing: Path, run_id: str) -> object:
        if path.name == "busy.png":
            raise PermissionError(13, "The process cannot access the file")
        return real_claim(path, processing, run_id)

    real_claim = robots.run.runner.claim
    with monkeypatch.context() as m:
        m.setattr(robots.run.runner, "claim", claim)
        s = run_scenario("intake", cfg, jobs=1)
    assert s.left_for_later == 1 and sum(s.counts.values()) == 1
    assert count_files(tmp_path)["inbox"] == ["busy.png"]
    assert sum(run_scenario("intake", cfg, jobs=1).counts.values()) == 1
