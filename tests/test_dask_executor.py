"""The Dask executor (``[run] dask_scheduler``) against a real local cluster.

A :class:`distributed.LocalCluster` of two worker processes (one thread each, as the
operations guide tells operators to start them) stands in for the prefecture's machines. The
same generated scans — a PNG, a JPEG, a three-page PDF and a truncated PDF — are run through
the intake scenario once here and once on the cluster, in two workspaces, and every output
is compared after the run id is normalised: file outcomes, quarantine notes, CSVs, workbook
sheets and the run log's documents and flags. Real Tesseract and RapidOCR read the scans,
so this is the check that a worker that sees none of the town's files reads the same.

The fault test uses the replay engine of ``fakes.py`` (installed before its own cluster
starts, so the spawned workers find it): an engine that raises and one that kills the
worker process, as in ``test_runner_faults.py``.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dask
import openpyxl
import psutil
import pytest
from distributed import Client, LocalCluster
from fakes import (
    CRASH,
    RAISE,
    backdate,
    count_files,
    forms_library,
    install_fake_engine,
    record_tape,
    run_cli,
    uninstall_fake_engine,
    write_config,
)

import robots.run.dask_executor
from robots.config import load_config
from robots.errors import ConfigError, ExitCode
from robots.run.dask_executor import ClusterError, DaskExecutor, _sweep_stale
from robots.run.executor import SerialExecutor, make_executor
from robots.run.runner import RunSummary, run_scenario
from robots.run.shutdown import clear_stop, request_stop
from robots.samples import generate
from robots.sheets import META_SHEET


def _cluster() -> LocalCluster:
    # no dashboard; the scheduler's small HTTP server on a free port, never on 8787
    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                        dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"})


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with _cluster() as c:
        yield c


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Four inputs: two single pages, a three-page PDF and a PDF cut in half."""
    out = tmp_path_factory.mktemp("scans")
    lib = forms_library()
    (png,) = generate(lib.get("juminhyo_request"), count=1, seed=21, out_dir=out, degrade=1,
                      fmt="png")
    (jpg,) = generate(lib.get("bid_qualification"), count=1, seed=22, out_dir=out, degrade=1,
                      fmt="jpeg")
    (pdf,) = generate(lib.get("juminhyo_request"), count=3, seed=23, out_dir=out, degrade=0,
                      fmt="pdf", pages_per_file=3)
    raw = pdf.read_bytes()
    return {png.name: png.read_bytes(), jpg.name: jpg.read_bytes(), pdf.name: raw,
            "broken_scan.pdf": raw[: len(raw) // 2]}


def _workspace(root: Path, files: dict[str, bytes], scheduler: str | None,
               engines: tuple[str, ...] | None = None) -> Path:
    cfg = write_config(root, engines=engines)
    if scheduler is not None:
        text = cfg.read_text(encoding="utf-8").replace(
            "jobs = 1\n", f'jobs = 1\ndask_scheduler = "{scheduler}"\n')
        cfg.write_text(text, encoding="utf-8")
    inbox = root / "inbox" / "intake"
    inbox.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (inbox / name).write_bytes(data)
    backdate(*inbox.iterdir())  # dropped a while ago: the PDF cut in half is taken now
    return cfg


def _outputs(root: Path, s: RunSummary) -> dict[str, object]:
    """Everything a run produced that must not depend on the executor, run id normalised."""
    def norm(v: object) -> object:  # the run id, and the minute a sheet was made
        return (re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "<TIME>", v.replace(s.run_id, "<RUN>"))
                if isinstance(v, str) else v)

    assert s.out_dir is not None
    found: dict[str, object] = {"counts": s.counts, "documents": s.documents,
                                "review": s.documents_needing_review, "files": count_files(root)}
    for p in sorted(s.out_dir.glob("*.csv")):
        with p.open(encoding="utf-8-sig", newline="") as fh:
            found[p.name] = [[norm(c) for c in row] for row in csv.reader(fh)]
    (book,) = s.out_dir.glob("*.xlsx")
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:
        if ws.title != META_SHEET:  # run id, creation time and signature
            found[f"sheet {ws.title}"] = [[norm(c) for c in row]
                                          for row in ws.iter_rows(values_only=True)]
    for note in sorted((root / "failed").rglob("*.reason.txt")):
        found[note.name] = [norm(line) for line in note.read_text(encoding="utf-8-sig")
                            .splitlines() if not line.startswith("処理日時")]
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    found["log files"] = sorted(db.execute(
        "SELECT source_name, outcome, reason_code, pages FROM files WHERE run_id = ?",
        (s.run_id,)))
    found["log fields"] = sorted(
        (norm(r[0]), r[1], r[2], r[3], r[4]) for r in db.execute(
            "SELECT d.doc_id, d.form_id, d.status, f.name, f.flagged FROM fields f "
            "JOIN documents d USING (doc_id) WHERE d.run_id = ?", (s.run_id,)))
    db.close()
    return found


def test_cluster_reads_exactly_what_the_local_executor_reads(
        cluster: LocalCluster, scans: dict[str, bytes], tmp_path: Path) -> None:
    local = load_config(_workspace(tmp_path / "local", scans, None))
    s_local = run_scenario("intake", local, jobs=1)
    remote = load_config(_workspace(tmp_path / "dask", scans, cluster.scheduler_address))
    assert remote.run.dask_scheduler == cluster.scheduler_address
    s_dask = run_scenario("intake", remote, jobs=1)

    assert s_dask.counts.get("rejected") == 1, s_dask.counts  # the broken PDF
    assert s_dask.documents == 5
    a, b = _outputs(tmp_path / "local", s_local), _outputs(tmp_path / "dask", s_dask)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], key
    files = count_files(tmp_path / "dask")
    assert files["inbox"] == files["processing"] == []
    assert files["failed"] == ["broken_scan.pdf"]

    # the cluster's workers did the reading (each keeps the run it set up) ...
    def kept_runs() -> list[str]:  # nested: sent to the workers by value
        from robots.run.dask_executor import _RUNS

        return [run for _, run in _RUNS]

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        kept = client.run(kept_runs)
        pids = client.run(os.getpid).values()
    assert any(s_dask.run_id in runs for runs in kept.values()), kept
    # ... in private folders they removed again, without leaving a copy of any scan
    assert not [p for pid in pids
                for p in Path(tempfile.gettempdir()).glob(f"misato-rpa-item-{pid}-*")]


def test_unreachable_scheduler_is_a_config_error_and_takes_nothing(
        tmp_path: Path, scans: dict[str, bytes], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(robots.run.dask_executor, "CONNECT_TIMEOUT", 1.0)
    cfg = _workspace(tmp_path, scans, f"tcp://127.0.0.1:{port}")
    before = count_files(tmp_path)
    assert run_cli(["--config", str(cfg), "run", "intake"]) == ExitCode.CONFIG
    err = capsys.readouterr().err
    assert f"tcp://127.0.0.1:{port}" in err and "Nothing was taken from the inbox" in err
    assert count_files(tmp_path) == before  # every file still in the inbox
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)  # no run was started
    db.close()


def test_a_scheduler_without_workers_is_refused_too() -> None:
    with LocalCluster(n_workers=0, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": ":0"}) as empty:
        executor = DaskExecutor(empty.scheduler_address, timeout=1.0)
        with pytest.raises(ClusterError, match="no worker joined within 1 s") as err:
            executor.connect()
    assert err.value.exit_code == ExitCode.CONFIG


@pytest.mark.parametrize("address", ["10.0.0.5:8786", "", "tcp://", "tcp://host :8786"])
def test_scheduler_address_is_checked_with_the_configuration(tmp_path: Path,
                                                             address: str) -> None:
    cfg = _workspace(tmp_path, {}, address)
    with pytest.raises(ConfigError, match=r"run\.dask_scheduler"):
        load_config(cfg)


def test_make_executor_picks_dask_only_when_an_address_is_set() -> None:
    assert isinstance(make_executor(1), SerialExecutor)
    assert isinstance(make_executor(4, "tcp://10.0.0.5:8786"), DaskExecutor)


@dataclass
class Replay:
    """Scans on a replay tape and a cluster whose workers find the replay engine."""

    cluster: LocalCluster
    files: dict[str, bytes]


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    """Eight clean scans, one whose engine raises and one whose engine kills its worker.

    ``allowed-failures = 0`` makes the scheduler give up on the first worker death (the
    default, 3, would have four workers restarted first).
    """
    gen = tmp_path_factory.mktemp("replay-scans")
    # seed 10: since the 住民票 request lost its 個人番号 box, seed 9 draws a receipt number
    # whose printed width trips the length check (a flag, not a clean scan)
    lib = forms_library()
    paths = [p for fid in ("juminhyo_request", "deposit_reply")
             for p in generate(lib.get(fid), count=4, seed=10, out_dir=gen, degrade=0)]
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, tmp_path_factory.mktemp("entry-point"), gen / "tape.json")
        record_tape(paths, gen / "tape.json", faults={RAISES: RAISE, CRASHES: CRASH})
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}), _cluster() as c:
            yield Replay(c, {p.name: p.read_bytes() for p in paths})
    uninstall_fake_engine()


RAISES = "juminhyo_request-s10-0001.png"
CRASHES = "deposit_reply-s10-0001.png"


def test_a_crash_or_a_bug_on_a_worker_costs_only_its_item(
        replay: Replay, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """ERROR for the file whose engine raises and the one that kills its worker, OK for the rest.

    The serial executor gives the same outcomes (there the replay engine refuses to kill the
    test process and raises instead).
    """
    files = {n: b for n, b in replay.files.items() if n.split("-s10-")[1] < "0002"}
    outcomes = {}
    for name, scheduler in (("serial", None), ("dask", replay.cluster.scheduler_address)):
        root = tmp_path / name
        s = run_scenario("intake", load_config(_workspace(root, files, scheduler, ("replay",))),
                         jobs=1)
        assert s.counts == {"ok": 2, "error": 2}, (name, s.counts)
        db = sqlite3.connect(root / "var" / "runlog.sqlite")
        outcomes[name] = sorted(db.execute("SELECT source_name, outcome, reason_code "
                                           "FROM files"))
        db.close()
        assert count_files(root)["failed"] == sorted([CRASHES, RAISES])
    assert outcomes["serial"] == outcomes["dask"]
    # the worker's own log of the bug came back through this process's loggers
    assert any(r.processName.startswith("dask-worker") and "injected" in r.getMessage()
               for r in caplog.records if r.name == "robots.run.work")
    assert any("died" in r.getMessage() for r in caplog.records
               if r.name == "robots.run.dask_executor")
    # the killed worker could not delete its copy of the scan; the next task on the
    # machine does (here asked for directly)
    with Client(replay.cluster.scheduler_address, set_as_default=False) as client:
        client.run(_sweep_stale)
    assert not [p for p in Path(tempfile.gettempdir()).glob("misato-rpa-item-*-*")
                if (pid := p.name.split("-")[3]).isdigit() and not psutil.pid_exists(int(pid))]


def test_stop_request_finishes_the_items_in_flight_and_puts_the_rest_back(
        replay: Replay, tmp_path: Path) -> None:
    """A stop after the first result: what was in flight is written, the rest waits."""
    files = {n: b for n, b in replay.files.items() if n not in (RAISES, CRASHES)}
    cfg = load_config(_workspace(tmp_path, files, replay.cluster.scheduler_address,
                                 ("replay",)))
    try:
        s = run_scenario("intake", cfg, jobs=1, progress=lambda n, total: request_stop("test"))
    finally:
        clear_stop()
    after = count_files(tmp_path)
    done = sum(s.counts.values())
    assert 1 <= done < len(files) and s.put_back == len(files) - done, s
    assert s.counts == {"ok": done}
    assert len(after["done"]) == done and len(after["inbox"]) == s.put_back
    assert sorted(after["done"] + after["inbox"]) == sorted(files)
    assert after["processing"] == after["failed"] == []
