"""Scheduling: configuration checked up front, jobs, holidays, misses, summaries and e-mail.

Jobs run in-process with the replay engine; e-mail goes to a real SMTP server (aiosmtpd) on
127.0.0.1. ``rpa schedule`` itself is started as a subprocess and stopped with SIGTERM.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakes import count_files, install_fake_engine, run_cli, uninstall_fake_engine
from filelock import FileLock
from service_kit import Pool, make_pool, rpa_command, service_config, subprocess_env, tag_png
from smtp_kit import smtp_server

from robots.config import load_config
from robots.config.service import cron_trigger
from robots.errors import ConfigError, ExitCode
from robots.run.shutdown import clear_stop, request_stop
from robots.service.days_off import day_off
from robots.service.scheduler import build_scheduler, describe_jobs, run_job, serve, sync_jobs

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    folder = tmp_path_factory.getbasetemp() / "service-pool"
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, folder / "entry-point-inproc", folder / "tape.json")
        yield make_pool(folder)
    uninstall_fake_engine()


def _events(root: Path, code: str) -> list[str]:
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    try:
        return [r[0] for r in db.execute("SELECT message FROM events WHERE code = ?", (code,))]
    finally:
        db.close()


def _drop(root: Path, pool: Pool, n: int, tag: str) -> list[str]:
    inbox = root / "inbox" / "intake"
    inbox.mkdir(parents=True, exist_ok=True)
    names = [f"{tag}-{i} 山田太郎 申請.png" for i in range(n)]
    for i, name in enumerate(names):
        (inbox / name).write_bytes(tag_png(pool.scans[i].read_bytes(), f"{tag}-{i}"))
    return names


# -- configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize(("toml", "expected"), [
    ('[[schedule]]\nscenario = "intake"\ncron = "0 25 * * *"\n', "schedule.0.cron"),
    ('[[schedule]]\nscenario = "intake"\ncron = "0 2 * *"\n', "has 5 fields"),
    ('[[schedule]]\nscenario = "intkae"\ncron = "0 2 * * *"\n', "unknown scenario 'intkae'"),
    ('[[schedule]]\nscenario = "intake"\ncron = "0 2 * * *"\nwhen = 1\n',
     "schedule.0.when: unknown key"),
    ('[[schedule]]\nscenario = "intake"\ncron = "0 2 * * 9"\n', "day of week"),
    ('[scheduler]\ntimezone = "Asia/Tokio"\n', "scheduler.timezone"),
    ('[scheduler]\nclosed = ["12-32"]\n', "scheduler.closed"),
    ('[notify.smtp]\nhost = "m"\nfrom = "rpa@town.example"\nto = ["a@b.example"]\n'
     'password = "secret"\n', "notify.smtp.password: unknown key"),
    ('forms_dirs = ["no-such-folder"]\n', "forms_dirs: folder no-such-folder does not exist"),
])
def test_configuration_errors_name_the_key_and_the_file(tmp_path: Path, toml: str,
                                                        expected: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert expected in str(err.value) and str(cfg) in str(err.value)


def test_bad_cron_stops_rpa_schedule_before_anything_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = service_config(tmp_path, extra='[[schedule]]\nscenario = "intake"\ncron = "61 * * * *"\n')
    assert run_cli(["--config", str(cfg), "schedule"]) == ExitCode.CONFIG
    assert "schedule.0.cron" in capsys.readouterr().err
    assert not (tmp_path / "var").exists()


def test_crontab_weekdays_mean_what_cron_means() -> None:
    """APScheduler 3 counts Monday as 0; a crontab's 1-5 must still be Monday to Friday."""
    t = cron_trigger("0 2 * * 1-5", "Asia/Tokyo")
    fire = t.get_next_fire_time(None, datetime(2026, 11, 27, 12, 0, tzinfo=TOKYO))  # a Friday
    days = []
    for _ in range(5):
        days.append(fire.strftime("%a"))
        fire = t.get_next_fire_time(fire, fire + timedelta(minutes=1))
    assert days == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert "sun" in str(cron_trigger("0 3 * * 0")) and "sun" in str(cron_trigger("0 3 * * 7"))
    assert "day_of_week='sun,tue,thu,sat'" in str(cron_trigger("0 3 * * */2"))


def test_days_off_come_from_jpholiday_and_the_closing_days() -> None:
    closed = ["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"]
    assert day_off(date(2026, 11, 23), closed) == "祝日（勤労感謝の日）"
    assert day_off(date(2027, 1, 11), closed).startswith("祝日")  # 成人の日, 2nd Monday
    assert day_off(date(2026, 12, 29), closed) == "閉庁日"
    assert day_off(date(2026, 11, 24), closed) is None


def test_jobs_list_skips_the_new_year_holidays(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    cfg_path = service_config(tmp_path, extra=(
        '[[schedule]]\nscenario = "intake"\ncron = "0 2 * * *"\nskip_holidays = true\n'
        '[[schedule]]\nid = "noon"\nscenario = "intake"\ncron = "0 12 * * 1-5"\n'
        'enabled = false\n'))
    jobs = describe_jobs(load_config(cfg_path), now=datetime(2026, 12, 28, 3, 0, tzinfo=TOKYO))
    nightly, noon = jobs
    assert nightly.id == "intake-1" and noon.id == "noon"
    assert nightly.next_run == datetime(2027, 1, 4, 2, 0, tzinfo=TOKYO)
    assert [d.day for d, _ in nightly.skipped] == [29, 30, 31, 1, 2, 3]
    assert noon.next_run is None
    assert run_cli(["--config", str(cfg_path), "jobs"]) == 0
    out = capsys.readouterr().out
    assert "intake-1" in out and "next run" in out and "noon" in out and "disabled" in out


# -- what a job does ---------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback
def test_scheduled_run_writes_a_summary_and_mails_it(pool: Pool, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RPA_TEST_SMTP_PASSWORD", "s3cret")
    with smtp_server(password="s3cret") as box:
        cfg_path = service_config(tmp_path, extra=(
            '[[schedule]]\nscenario = "intake"\ncron = "0 2 * * *"\n'
            f'[notify.smtp]\nhost = "127.0.0.1"\nport = {box.port}\nfrom = "rpa@town.example"\n'
            'to = ["soumu@town.example"]\nstarttls = false\nusername = "rpa"\n'
            'password_env = "RPA_TEST_SMTP_PASSWORD"\n'))
        names = _drop(tmp_path, pool, 3, "sched")
        assert run_job(str(cfg_path), "intake", "intake-1") in (0, 2)
    assert count_files(tmp_path)["done"] == sorted(names)
    (summary,) = [p for p in (tmp_path / "var" / "summaries" / "intake").iterdir()
                  if p.name != "latest.txt"]
    text = summary.read_text(encoding="utf-8-sig")
    assert "定時実行" in text and "書類 3 件" in text and "出力フォルダ:" in text
    assert oct(summary.stat().st_mode & 0o777) == "0o600"
    assert box.logins == [("rpa", "s3cret")]
    (mail,) = box.texts()
    assert "書類 3 件" in mail and "確認シート" in mail
    for t in (text, mail):
        assert "山田太郎" not in t and "sched-0" not in t  # no file names: they may name people
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    assert [r[0] for r in db.execute("SELECT trigger FROM runs")] == ["schedule"]
    db.close()


def test_mail_failure_is_recorded_and_changes_nothing(pool: Pool, tmp_path: Path) -> None:
    cfg_path = service_config(tmp_path, extra=(
        '[[schedule]]\nscenario = "intake"\ncron = "0 2 * * *"\n'
        '[notify.smtp]\nhost = "127.0.0.1"\nport = 9\nfrom = "rpa@town.example"\n'
        'to = ["soumu@town.example"]\nstarttls = false\npassword_env = "RPA_TEST_UNSET_PW"\n'
        'username = "rpa"\ntimeout_seconds = 2\n'))
    _drop(tmp_path, pool, 1, "nomail")
    assert run_job(str(cfg_path), "intake", "intake-1") in (0, 2)
    assert len(count_files(tmp_path)["done"]) == 1
    assert _events(tmp_path, "notify_failed")
    assert (tmp_path / "var" / "summaries" / "intake" / "latest.txt").exists()


def test_a_run_held_by_another_process_is_a_recorded_miss(pool: Pool, tmp_path: Path) -> None:
    cfg_path = service_config(tmp_path, extra='[[schedule]]\nscenario = "intake"\n'
                                              'cron = "0 2 * * *"\n')
    names = _drop(tmp_path, pool, 1, "locked")
    (tmp_path / "processing").mkdir()
    with FileLock(str(tmp_path / "processing" / ".intake.lock")):  # a manual run, say
        assert run_job(str(cfg_path), "intake", "intake-1") is None
    assert count_files(tmp_path)["inbox"] == names
    (msg,) = _events(tmp_path, "schedule_missed")
    assert msg.startswith("intake missed its ") and "held its lock" in msg


def test_holiday_skip_is_recorded_as_a_skip_not_a_miss(pool: Pool, tmp_path: Path) -> None:
    today = datetime.now(TOKYO)
    cfg_path = service_config(tmp_path, extra=(
        '[[schedule]]\nscenario = "intake"\ncron = "0 2 * * *"\nskip_holidays = true\n'
        f'[scheduler]\nclosed = ["{today:%m-%d}"]\n'))
    names = _drop(tmp_path, pool, 1, "holiday")
    assert run_job(str(cfg_path), "intake", "intake-1") is None
    assert count_files(tmp_path)["inbox"] == names
    (msg,) = _events(tmp_path, "schedule_skipped_holiday")
    assert "閉庁日" in msg or "祝日" in msg
    assert _events(tmp_path, "schedule_missed") == []


# -- the scheduler itself ------------------------------------------------------------------------

def test_restart_catches_up_once_within_grace_and_reports_older_misses(
        pool: Pool, tmp_path: Path) -> None:
    """The store keeps next run times across a restart: catch up (coalesced) or miss."""
    now = datetime.now(TOKYO).replace(second=0, microsecond=0)
    recent, old = now - timedelta(hours=2), now - timedelta(hours=5)
    cfg_path = service_config(tmp_path, extra=(
        f'[[schedule]]\nid = "every-minute"\nscenario = "intake"\ncron = "* {recent.hour} * * *"\n'
        f'[[schedule]]\nid = "old"\nscenario = "intake"\ncron = "{old.minute} {old.hour} * * *"\n'
        '[scheduler]\nmisfire_grace_seconds = 10800\n'))
    cfg = load_config(cfg_path)
    first = build_scheduler(cfg)  # the service as it was before going down
    first.start(paused=True)
    sync_jobs(first, cfg)
    first.modify_job("every-minute", next_run_time=recent)  # ~60 runs due, coalesced to one
    first.modify_job("old", next_run_time=old)  # beyond the 3 h grace: missed
    first.shutdown(wait=False)
    names = _drop(tmp_path, pool, 2, "catchup")

    clear_stop()
    thread = threading.Thread(target=serve, args=(cfg,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
                len(count_files(tmp_path)["done"]) < 2 or not _events(tmp_path, "schedule_missed")):
            time.sleep(0.2)
        time.sleep(1.5)  # a second (wrong) catch-up run would start now
    finally:
        request_stop()
        thread.join(timeout=60)
        clear_stop()
    assert not thread.is_alive()
    assert count_files(tmp_path)["done"] == sorted(names)
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    runs = list(db.execute("SELECT trigger, status FROM runs"))
    db.close()
    assert runs == [("schedule", "completed")]  # once, not once per missed minute
    (missed,) = _events(tmp_path, "schedule_missed")
    assert f"{old:%Y-%m-%d %H:%M}" in missed and "misfire" in missed


def test_rpa_schedule_runs_in_the_foreground_and_stops_on_sigterm(pool: Pool,
                                                                  tmp_path: Path) -> None:
    if not hasattr(signal, "SIGTERM"):
        pytest.skip("no SIGTERM")
    cfg = service_config(tmp_path, extra='[[schedule]]\nscenario = "intake"\ncron = "0 2 * * *"\n')
    proc = subprocess.Popen([*rpa_command(), "--config", str(cfg), "schedule"], cwd=tmp_path,
                            env=subprocess_env(pool), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("intake-1") and "next run" in first
        assert "scheduler running" in proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    store = tmp_path / "var" / "jobs.sqlite"
    assert store.exists() and oct(store.stat().st_mode & 0o777) == "0o600"


def test_a_job_stored_by_another_version_is_replaced(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored job whose function moved (an upgrade) must not stop the service starting."""
    import sys

    mod = tmp_path / "old_rpa_jobs.py"
    mod.write_text("def run_job(*args):\n    return None\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = load_config(service_config(tmp_path, extra=(
        '[[schedule]]\nid = "nightly"\nscenario = "intake"\ncron = "0 2 * * *"\n')))
    first = build_scheduler(cfg)
    first.start(paused=True)
    first.add_job("old_rpa_jobs:run_job", "cron", hour=2, id="nightly", args=("x",))
    first.shutdown(wait=False)
    mod.unlink()
    sys.modules.pop("old_rpa_jobs", None)

    second = build_scheduler(cfg)
    second.start(paused=True)
    try:
        assert sync_jobs(second, cfg) == {"nightly": "intake"}
        job = second.get_job("nightly")
        assert job is not None and job.func_ref == "robots.service.scheduler:run_job"
    finally:
        second.shutdown(wait=False)
