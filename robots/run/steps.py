"""Steps of a run that keep its promises under faults (split from :mod:`robots.run.runner`).

- :func:`check_writable`: an output folder that cannot be written stops the run before any
  file is taken from the inbox;
- :func:`roll_back`: outputs that fail half-way (disk full) put every claimed file back in
  the inbox and mark the run failed;
- :func:`final_paths`: where each input goes, free names included, is decided before the
  run-log commit, so that recovery moves a file exactly where the run would have;
- :func:`duplicate_result` / :func:`twin_result`: the same content twice is entered once;
  a second copy of a file that could not be read is quarantined with the same reason (not
  called a duplicate of something that was never entered).
"""

from __future__ import annotations

import logging
import secrets
import shutil
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from robots.db.runlog import RunLog
from robots.errors import ExitCode, OutputError
from robots.run.inbox import InboxPaths, fit_name, free_path, recover_processing
from robots.scenario import ItemResult, Outcome, WorkItem

__all__ = ["OUTCOME_JA", "check_writable", "duplicate_result", "final_paths", "link_result",
           "roll_back", "twin_result"]

log = logging.getLogger(__name__)


def check_writable(out_root: Path) -> None:
    """Fail before any file moves when the output folder cannot be written at all."""
    probe = out_root / f".write-test-{secrets.token_hex(4)}"
    try:
        out_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(
            f"cannot write to the output folder {out_root} ({exc.strerror or exc}); nothing was "
            "taken from the inbox. Free some space or fix the folder's permissions, then run "
            "again") from None


#: How each outcome reads in a reason note.
OUTCOME_JA = {
    Outcome.OK: "処理済み",
    Outcome.NEEDS_REVIEW: "処理済み（確認シートに要確認項目あり）",
    Outcome.REJECTED: "読み取りできませんでした（隔離）",
    Outcome.ERROR: "システムエラーのため処理できませんでした（隔離）",
    Outcome.DUPLICATE: "重複のため処理しませんでした（隔離）",
}


def roll_back(runlog: RunLog, run_id: str, paths: InboxPaths, partial: Path,
               exc: BaseException) -> int:
    """Undo a run whose outputs could not be written: inputs back to the inbox, run failed."""
    shutil.rmtree(partial, ignore_errors=True)
    back = recover_processing([paths.processing / run_id], paths.inbox)
    try:
        if runlog.db.in_transaction:
            runlog.db.execute("ROLLBACK")
        runlog.finish_run(run_id, status="failed", exit_code=int(ExitCode.OUTPUT),
                          summary={"returned_to_inbox": len(back)})
        runlog.event(run_id, "output_failed", f"outputs not written: {type(exc).__name__} "
                     f"{getattr(exc, 'strerror', None) or exc}", level="error")
    except sqlite3.Error:  # the run log's disk is the full one: the next run marks it aborted
        log.exception("run %s: could not record the failure in the run log", run_id)
    return len(back)


def final_paths(results: Sequence[ItemResult], paths: InboxPaths, now: datetime
                 ) -> dict[int, Path]:
    """Where each input goes, free names included, decided before the log commit."""
    taken: set[Path] = set()
    finals: dict[int, Path] = {}
    for r in results:
        ok = r.outcome in (Outcome.OK, Outcome.NEEDS_REVIEW)
        folder = (paths.done if ok else paths.failed) / f"{now:%Y-%m-%d}"
        name = fit_name(folder, r.item.name)  # readable, and short enough for its note
        dest = free_path(folder / name)
        n = 0
        while dest in taken:  # two inputs of this run with the same name
            n += 1
            dest = free_path(dest.with_name(f"{Path(name).stem}_{n}{Path(name).suffix}"))
        taken.add(dest)
        finals[r.item.seq] = dest
    return finals


def link_result(item: WorkItem) -> ItemResult | None:
    """A link in the inbox, refused unread: it could point at another resident's file.

    A symbolic link is moved as a link (its target untouched); a file with a second name
    elsewhere (a hard link) cannot be told from an honest copy's origin, so it is refused too.
    """
    try:
        st = item.path.lstat()
    except OSError:
        return None  # the reader says what is wrong with it
    if item.path.is_symlink():
        why, code = ("ショートカット（シンボリックリンク）は受け付けません。リンク先のファイルは"
                     "読み取っていません。スキャンしたファイルそのものを受付フォルダに入れて"
                     "ください。", "symlink")
    elif st.st_nlink > 1:
        why, code = ("別の場所にも同じファイルの名前がある（ハードリンク）ため読み取っていません。"
                     "スキャンしたファイルをコピーして受付フォルダに入れてください。", "hard_link")
    else:
        return None
    return ItemResult(item, Outcome.REJECTED, reason_code=code, reason_ja=why,
                      detail=f"{code} in the inbox: not followed")


def duplicate_result(item: WorkItem, where_ja: str, where: str) -> ItemResult:
    """The same content was entered before (``where``): quarantined, never entered twice."""
    return ItemResult(
        item, Outcome.DUPLICATE, reason_code="duplicate",
        reason_ja=(f"同じ内容のスキャンが既に処理されています（{where_ja}）。"
                   "二重登録を防ぐため処理しませんでした。"),
        detail=f"same content as an earlier file of {where}")


def twin_result(item: WorkItem, first: ItemResult) -> ItemResult:
    """A second copy within one run: a duplicate of a read file, else quarantined alike."""
    if first.outcome in (Outcome.OK, Outcome.NEEDS_REVIEW):
        return duplicate_result(item, f"この実行の「{first.item.name}」", "this run")
    return ItemResult(item, first.outcome, reason_code=first.reason_code,
                      reason_ja=first.reason_ja,
                      detail=(first.detail or first.outcome.value).replace(first.item.name,
                                                                           item.name))
