"""No personal data in clear outside the outputs, and outputs readable by their owner only.

Generated applications and deposit replies hold account numbers and birth dates
(their truth JSON says which). ``rpa -vv --log-file`` runs the intake on them — with a
broken file, a duplicate, and a scan whose reading raises an exception that quotes the value
being read — and e-mails its summary to a real SMTP server on 127.0.0.1. Then every log, every
column of every run-log table, the raw SQLite files (WAL included), the reason notes, the
summary files and the e-mails are searched for those values, normalised and as printed.
"""

from __future__ import annotations

import re
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import RAISE_VALUE, backdate, install_fake_engine, page_truths, uninstall_fake_engine
from service_kit import Pool, make_pool, rpa_command, service_config, subprocess_env
from smtp_kit import smtp_server

from robots.errors import ExitCode

FAULTY = "juminhyo_request-s41-0001.png"
SECRET_FIELDS = ("mynumber", "birth_date", "account_number_1", "account_number_2")


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    folder = tmp_path_factory.mktemp("pd-pool")
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, folder / "entry-point-inproc", folder / "tape.json")
        yield make_pool(folder, seed=41, forms=("juminhyo_request", "deposit_reply"),
                        faults={FAULTY: RAISE_VALUE})
    uninstall_fake_engine()


def _secrets(pool: Pool) -> set[str]:
    """Personal values of every scan, normalised and as printed; every text of the faulty one."""
    found: set[str] = set()
    for scan in pool.scans:
        for page in page_truths(scan):
            names = page["printed"] if scan.name == FAULTY else SECRET_FIELDS
            for name in names:
                for v in (page["fields"].get(name, ""), page["printed"].get(name, "")):
                    if (len(v.strip()) >= 4 and not v.isascii()) or len(v) >= 6:
                        found.add(v.strip())
    return found


def _hits(blob: str | bytes, values: set[str], where: str) -> list[str]:
    out = []
    for v in values:
        needle = re.escape(v) if isinstance(blob, str) else re.escape(v.encode("utf-8"))
        pattern = (f"(?<!\\d){needle}(?!\\d)" if isinstance(blob, str)
                   else b"(?<![0-9])" + needle + b"(?![0-9])")
        if re.search(pattern, blob):
            out.append(f"{v!r} in {where}")
    return out


def test_no_personal_data_in_logs_run_log_notes_summaries_or_mail(pool: Pool,
                                                                  tmp_path: Path) -> None:
    values = _secrets(pool)
    assert any(re.fullmatch(r"\d{7}", v) for v in values)  # account numbers
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in values)  # birth dates
    with smtp_server() as box:
        cfg = service_config(tmp_path, extra=(
            f'[notify.smtp]\nhost = "127.0.0.1"\nport = {box.port}\nfrom = "rpa@town.example"\n'
            'to = ["soumu@town.example"]\nstarttls = false\n'))
        inbox = tmp_path / "inbox" / "intake"
        inbox.mkdir(parents=True)
        for scan in pool.scans:
            (inbox / scan.name).write_bytes(scan.read_bytes())
        (inbox / "copy.png").write_bytes(pool.scans[0].read_bytes())
        (inbox / "broken.pdf").write_bytes(b"%PDF-1.4\n" + bytes(100))
        backdate(inbox / "broken.pdf")  # cut short: taken once it has waited long enough
        log_file = tmp_path / "logs" / "rpa.log"
        proc = subprocess.run(
            [*rpa_command(), "-vv", "--log-file", str(log_file), "--config", str(cfg), "run",
             "intake", "--jobs", "2"], env=subprocess_env(pool), capture_output=True,
            text=True, timeout=300, check=False, cwd=tmp_path)
    assert proc.returncode == ExitCode.NEEDS_ATTENTION, proc.stderr[-2000:]
    notes = list((tmp_path / "failed").rglob("*.reason.txt"))
    assert len(notes) == 3  # the faulty scan, the duplicate, the broken file
    assert any("ValueError in recognize" in n.read_text(encoding="utf-8-sig") for n in notes)
    assert box.raw, "no summary e-mail"

    hits: list[str] = []
    hits += _hits(log_file.read_text(encoding="utf-8"), values, "log file")
    hits += _hits(proc.stderr + proc.stdout, values, "console")
    for note in notes:
        hits += _hits(note.read_text(encoding="utf-8-sig"), values, note.name)
    for summary in (tmp_path / "var" / "summaries").rglob("*.txt"):
        hits += _hits(summary.read_text(encoding="utf-8-sig"), values, summary.name)
    for i, (raw, text) in enumerate(zip(box.raw, box.texts(), strict=True)):
        hits += _hits(raw, values, f"e-mail {i} (raw)") + _hits(text, values, f"e-mail {i}")
    db_path = tmp_path / "var" / "runlog.sqlite"
    db = sqlite3.connect(db_path)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert {"runs", "files", "documents", "fields", "events"} <= set(tables)
    for table in tables:
        for row in db.execute(f'SELECT * FROM "{table}"'):  # table names from the schema
            for cell in row:
                if isinstance(cell, str):
                    hits += _hits(cell, values, f"run log table {table}")
                elif isinstance(cell, bytes):
                    hits += _hits(cell, values, f"run log table {table} (blob)")
    db.close()
    for f in db_path.parent.glob("runlog.sqlite*"):  # the database, its -wal and -shm
        hits += _hits(f.read_bytes(), values, f.name)
    assert not hits, "personal data in clear:\n" + "\n".join(sorted(hits))

    # the outputs do hold the values (that is their job): the search above is not blind
    out_text = "".join(p.read_text(encoding="utf-8-sig") for p in
                       (tmp_path / "out").rglob("*.csv"))
    assert _hits(out_text, values, "outputs")

    # everything the run created is readable by its owner only
    loose = []
    dropped = {p.name for p in pool.scans} | {"copy.png", "broken.pdf"}
    for p in [tmp_path / d for d in ("processing", "done", "failed", "out", "var", "logs")]:
        for q in [p, *p.rglob("*")]:
            if q.is_file() and q.name in dropped and q.parent.parent.parent.name in (
                    "done", "failed"):
                continue  # an original scan keeps the mode it was dropped with
            mode = stat.S_IMODE(q.stat().st_mode)
            if mode & 0o077:
                loose.append(f"{q.relative_to(tmp_path)} {oct(mode)}")
    assert not loose, "readable by others:\n" + "\n".join(loose)
