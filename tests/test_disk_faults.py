"""A full disk and a read-only output folder: a clear message, exit 6, inputs left in place.

These tests run as root here, where ``chmod 0500`` does not stop root from writing, so the
faults are made by the kernel instead: the output folder is a tiny ``tmpfs`` mounted on it
(filled up: ENOSPC), or a ``tmpfs`` remounted read-only (EROFS). Where mounting is not
permitted (not root, a container without CAP_SYS_ADMIN, Windows) the tests fall back to
``chmod 0500`` when that is effective for the current user, and skip otherwise.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import count_files, install_fake_engine, run_cli, uninstall_fake_engine
from service_kit import Pool, make_pool, service_config, tag_png

from robots.errors import ExitCode


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    folder = tmp_path_factory.getbasetemp() / "service-pool"
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, folder / "entry-point-inproc", folder / "tape.json")
        yield make_pool(folder)
    uninstall_fake_engine()


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(where)], capture_output=True, check=False)
    return done.returncode == 0


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[list[Path]]:
    mounts: list[Path] = []
    yield mounts
    for m in reversed(mounts):
        subprocess.run(["umount", "-l", str(m)], capture_output=True, check=False)


def _workspace(root: Path, pool: Pool, n: int) -> tuple[Path, list[str]]:
    cfg = service_config(root)
    inbox = root / "inbox" / "intake"
    inbox.mkdir(parents=True)
    names = [f"scan {i} 申請.png" for i in range(n)]
    for i, name in enumerate(names):
        (inbox / name).write_bytes(tag_png(pool.scans[i].read_bytes(), f"disk-{i}"))
    return cfg, names


# openpyxl's zip file, abandoned by the failed save, complains again when collected
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_disk_full_during_outputs_rolls_back(pool: Pool, tmp_path: Path, mounted: list[Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    if not _mount_tmpfs(out, "64k"):
        pytest.skip("cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)")
    mounted.append(out)
    st = os.statvfs(out)  # fill it up, leaving two blocks: an empty probe file still fits
    (out / ".filler").write_bytes(bytes(st.f_bavail * st.f_frsize - 2 * st.f_frsize))
    cfg, names = _workspace(tmp_path, pool, 3)
    code = run_cli(["--config", str(cfg), "run", "intake", "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == ExitCode.OUTPUT, err
    assert "could not be written" in err and "No space left on device" in err
    assert "back in" in err
    files = count_files(tmp_path)
    assert files["inbox"] == sorted(names)  # where they were, same names
    assert files["processing"] == files["done"] == files["failed"] == []
    assert list((out / "intake").iterdir()) == []  # no partial, no half-written workbook
    assert not list(tmp_path.rglob("*.tmp"))
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    (status,) = db.execute("SELECT status FROM runs").fetchone()
    events = [r[0] for r in db.execute("SELECT code FROM events")]
    db.close()
    assert status == "failed" and "output_failed" in events
    assert "出力を書き込めませんでした" in (tmp_path / "var" / "summaries" / "intake"
                                       / "latest.txt").read_text(encoding="utf-8-sig")


def test_read_only_output_folder_stops_before_taking_anything(
        pool: Pool, tmp_path: Path, mounted: list[Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    if _mount_tmpfs(out, "1m"):
        mounted.append(out)
        (out / "intake").mkdir()
        remount = subprocess.run(["mount", "-o", "remount,ro", str(out)], capture_output=True,
                                 check=False)
        assert remount.returncode == 0, remount.stderr
        expected = "Read-only file system"
    else:
        (out / "intake").mkdir(parents=True)
        (out / "intake").chmod(0o500)
        probe = out / "intake" / "probe"
        try:
            probe.write_bytes(b"")
        except PermissionError:
            expected = "Permission denied"
        else:
            probe.unlink()
            pytest.skip("chmod 0500 does not stop this user and mounting is not permitted")
    cfg, names = _workspace(tmp_path, pool, 2)
    code = run_cli(["--config", str(cfg), "run", "intake", "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == ExitCode.OUTPUT, err
    assert expected in err and "nothing was taken from the inbox" in err
    assert str(out / "intake") in err
    files = count_files(tmp_path)
    assert files["inbox"] == sorted(names)
    assert files["processing"] == files["done"] == files["failed"] == []
