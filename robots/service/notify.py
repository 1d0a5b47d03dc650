"""After each run: a short Japanese summary for staff, to a file and optionally by e-mail.

The summary says what a clerk needs in the morning — how many documents were read, how many
wait on the correction sheet, how many files were quarantined, where the outputs and the
quarantined files are — and nothing more: no file names (a clerk may have named a scan after
the applicant), no field values, no error text from a library (it may quote a value). It is
written atomically, readable by its owner only, and e-mailed over SMTP when ``[notify.smtp]``
is configured; the password comes from an environment variable, never from the file. A mail
that cannot be sent is logged and recorded in the run log; it never changes a run's outcome.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from robots.config import Config
from robots.config.service import SmtpConfig
from robots.db.runlog import RunLog
from robots.run.runner import RunSummary

__all__ = ["Notice", "failure_notice", "notify", "run_notice", "send_mail", "write_summary"]

log = logging.getLogger(__name__)

_TRIGGER_JA = {"manual": "手動実行", "schedule": "定時実行", "watch": "到着監視",
               "demo": "デモ"}
_FAILURE_JA = {
    3: "設定エラーのため実行しませんでした",
    5: "同じ業務が実行中だったため実行しませんでした",
    6: "出力を書き込めませんでした（ディスクの空き・書き込み権限を確認してください）。"
       "受付フォルダのファイルはそのまま残っています",
}


@dataclass(frozen=True)
class Notice:
    """One summary: a subject line and a body, both free of personal data."""

    scenario: str
    run_id: str | None
    subject: str
    body: str
    ok: bool


def run_notice(s: RunSummary, cfg: Config, *, trigger: str) -> Notice:
    """The summary of a completed run."""
    failed = sum(s.counts.get(k, 0) for k in ("rejected", "error"))
    duplicates = s.counts.get("duplicate", 0)
    processed = s.counts.get("ok", 0) + s.counts.get("needs_review", 0)
    failed_dir = cfg.resolve(cfg.paths.failed) / s.scenario
    state = "要確認あり" if (failed or duplicates or s.documents_needing_review) else "正常終了"
    lines = [
        f"業務: {s.scenario}（{_TRIGGER_JA.get(trigger, trigger)}）",
        f"実行ID: {s.run_id}",
        f"結果: {state}（終了コード {s.exit_code}）",
        "",
        f"読み取ったファイル: {processed} 件（書類 {s.documents} 件）",
        f"確認シートで確認が必要な書類: {s.documents_needing_review} 件",
        f"読み取りできず隔離したファイル: {failed} 件",
        f"重複のため処理しなかったファイル: {duplicates} 件",
        f"次回に回したファイル（書き込み中など）: {s.left_for_later + s.put_back} 件",
        "",
        f"出力フォルダ: {s.out_dir}" if s.out_dir else "出力フォルダ: なし",
    ]
    if failed or duplicates:
        lines.append(f"隔離フォルダ: {failed_dir}（各ファイルの理由は .reason.txt）")
    if s.recovered:
        lines.append(f"前回止まった実行を {len(s.recovered)} 件、復旧しました。")
    lines += ["", f"処理時間: {s.seconds:.0f} 秒",
              "詳しくは `rpa runs show " + s.run_id + "` で確認できます。"]
    subject = f"{s.scenario} {state}: 書類 {s.documents} 件, 要確認 " \
              f"{s.documents_needing_review} 件, 隔離 {failed + duplicates} 件"
    return Notice(s.scenario, s.run_id, subject, "\n".join(lines) + "\n",
                  ok=s.exit_code == 0)


def failure_notice(scenario: str, exc: BaseException, *, trigger: str) -> Notice:
    """The summary of a run that did not complete (locked, disk full, bad configuration).

    Only the kind of error and its exit code are given: the message may quote a path or, from
    a library, a value; the log holds the details.
    """
    code = int(getattr(exc, "exit_code", 1))
    what = _FAILURE_JA.get(code, "システムエラーで止まりました")
    body = (f"業務: {scenario}（{_TRIGGER_JA.get(trigger, trigger)}）\n"
            f"結果: {what}（終了コード {code}、{type(exc).__name__}）\n"
            "詳しくはシステム担当者がログと `rpa runs` で確認してください。\n")
    return Notice(scenario, None, f"{scenario} 実行失敗: {what[:20]}", body, ok=False)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="\r\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def write_summary(notice: Notice, cfg: Config, *, now: datetime | None = None) -> Path:
    """``<summary_dir>/<scenario>/<run-id>.txt`` (UTF-8 with BOM for Notepad), and latest.txt."""
    folder = cfg.resolve(cfg.notify.summary_dir) / notice.scenario
    stamp = notice.run_id or f"{now or datetime.now():%Y%m%d-%H%M%S}-failed"
    text = f"件名: {notice.subject}\n\n{notice.body}"
    path = folder / f"{stamp}.txt"
    _write_private(path, text)
    _write_private(folder / "latest.txt", text)
    return path


def send_mail(notice: Notice, smtp: SmtpConfig) -> None:
    """Send ``notice`` by e-mail; raises ``OSError``/``smtplib.SMTPException`` on failure."""
    msg = EmailMessage()
    msg["Subject"] = f"{smtp.subject_prefix} {notice.subject}".strip()
    msg["From"] = smtp.sender
    msg["To"] = ", ".join(smtp.to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=smtp.sender.rsplit("@", 1)[-1])
    msg.set_content(notice.body, charset="utf-8")
    password = os.environ.get(smtp.password_env) if smtp.password_env else None
    if smtp.password_env and password is None:
        raise smtplib.SMTPException(
            f"environment variable {smtp.password_env} (notify.smtp.password_env) is not set")
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.ssl:
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds,
                                  context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    with client:
        if smtp.starttls and not smtp.ssl:
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, password or "")
        client.send_message(msg)


def notify(notice: Notice, cfg: Config) -> Path | None:
    """Write the summary file and, when configured, e-mail it. Never raises.

    Returns the summary file (None when even that could not be written: the log says why).
    """
    path: Path | None = None
    try:
        path = write_summary(notice, cfg)
    except OSError as exc:
        log.error("run summary not written to %s: %s", cfg.notify.summary_dir, exc.strerror)
    smtp = cfg.notify.smtp
    if smtp is None:
        return path
    try:
        send_mail(notice, smtp)
        log.info("run summary e-mailed to %d recipient(s)", len(smtp.to))
    except (OSError, smtplib.SMTPException) as exc:
        log.error("run summary not e-mailed via %s:%d: %s", smtp.host, smtp.port,
                  type(exc).__name__)
        _record(cfg, notice, "notify_failed",
                f"summary not e-mailed via {smtp.host}:{smtp.port}: {type(exc).__name__}")
    return path


def _record(cfg: Config, notice: Notice, code: str, message: str) -> None:
    try:
        runlog = RunLog(cfg.resolve(cfg.paths.runlog))
    except Exception:  # the run log is what failed; the log line above must do
        log.exception("run log not available to record %s", code)
        return
    try:
        runlog.event(notice.run_id, code, message, level="warning")
    finally:
        runlog.close()
