"""Take a reviewed workbook back: validate what staff typed, record it, write confirmed data.

Here a reviewer's values become what the core systems receive, so the import is strict where
a mistake would travel on and forgiving where that costs nothing:

- Only the signed review workbook of a *completed* run of this run log, locked cells intact,
  is taken; anything else raises an error with exit code 4 (INPUT): wrong file, nothing done.
- Corrected values go through the OCR validators; one blocking reason rejects the import,
  naming sheet and row (exit code 2, nothing written): fix the sheet, import again.
- The same file (SHA-256) again changes nothing. A later version applies what differs from
  each field's confirmed value; one *lacking* a correction imported earlier is rejected: the
  run log keeps digests only, so that value could not be written out, and reverting it to
  the OCR value would silently lose a reviewer's work. The run log gets no value in clear.
- Outputs, in the run's output folder: ``<form title>_確定.csv`` and ``確定データ_<run_id>.xlsx``,
  the data sheets of :func:`write_workbook` with the final values but without 確認シート and
  signed meta: data, not a second review workbook (only the review workbook holds the OCR
  values that corrections are measured against, so importing the confirmed one is refused).
- The hand-off to the core systems (:mod:`robots.sheets.handoff`): confirmed documents that
  have not left yet, staged in the import's transaction, put in place after it commits.
- The run's folder is found through the run log, relative to the workspace: in a copied or
  moved workspace the import writes into that copy.
- The confirmed files themselves are written by :mod:`robots.sheets.confirmed`.
- A proposal from reference data (reason ``proposed``) that was neither marked 済 nor typed
  over is refused with its row: unlike a flagged reading, nothing was read there.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from ocr.crosscheck import cross_check
from ocr.templates import FormTemplate, TemplateLibrary
from ocr.validators import validate_value
from robots.config import Config, forms_dirs
from robots.db.runlog import RunLog
from robots.errors import ExitCode, RobotError
from robots.exports import Row
from robots.sheets import (
    Correction,
    ForeignWorkbookError,
    ReviewedWorkbook,
    WorkbookEditedError,
)
from robots.sheets.confirmed import (
    CONFIRMED_SUFFIX,
    confirmed_workbook_name,
    write_confirmed_outputs,
)
from robots.sheets.handoff import (
    HandoffResult,
    publish,
    recover_handoffs,
    run_out_dir,
    stage_handoff,
)
from robots.sheets.outputs import data_csv_name
from robots.sheets.read import (
    WrittenRecord,
    read_workbook_records,
    unconfirmed_proposals,
    verify_keyed,
)

__all__ = [
    "ADVISORY_REASONS", "CONFIRMED_SUFFIX", "EditedImportError", "ForeignImportError",
    "ImportResult", "ImportStatus", "Rejection", "TemplateChangedError",
    "UnreadableWorkbookError", "confirmed_workbook_name", "import_corrections",
]  # fmt: skip

log = logging.getLogger(__name__)

#: Reasons that do not stop a corrected value: the reviewer has seen the original (all that
#: ``variant_kanji`` asks), or the value is odd but may be what the paper says (reported back
#: as notes). Any other reason, including codes added later, blocks.
ADVISORY_REASONS = frozenset({"variant_kanji", "not_encodable", "future_date", "implausible_date",
                              "formula_like"})  # outputs keep it as text: the reviewer decides
_SILENT = frozenset({"variant_kanji"})

Key = tuple[str, str]  # (doc_id, field name)


class ForeignImportError(ForeignWorkbookError):
    """Not the review workbook of a completed run of this run log; nothing was imported."""

    exit_code = ExitCode.INPUT


class EditedImportError(WorkbookEditedError):
    """A locked cell was changed (sheet, row and column named); nothing was imported."""

    exit_code = ExitCode.INPUT


class UnreadableWorkbookError(RobotError):
    """The workbook file cannot be read (missing, no permission, changing while read)."""

    exit_code = ExitCode.INPUT


class TemplateChangedError(RobotError):
    """A form template no longer has the fields the run's workbook was written with."""

    exit_code = ExitCode.CONFIG


def _foreign(path: Path, english: str, reason_ja: str) -> ForeignImportError:
    # the CLI prints str(exc): the Japanese line is what tells a clerk what to do
    return ForeignImportError(f"{path.name}: {english}; nothing was imported\n{reason_ja}",
                              reason_ja=reason_ja)


def _refused(exc: ForeignWorkbookError | WorkbookEditedError, path: Path) -> RobotError:
    if isinstance(exc, WorkbookEditedError):
        return EditedImportError(f"{path.name}: {exc}; nothing was imported\n{exc.reason_ja}",
                                 sheet=exc.sheet, row=exc.row, column=exc.column,
                                 reason_ja=exc.reason_ja)
    return _foreign(path, str(exc), exc.reason_ja)


class Rejection(NamedTuple):
    """A value a clerk must look at: where it is and, in Japanese, what is wrong."""

    sheet: str
    row: int
    label: str
    message: str

    def line(self) -> str:
        return f"「{self.sheet}」{self.row}行目「{self.label}」: {self.message}"


class ImportStatus(StrEnum):
    """How an import ended."""

    IMPORTED = "imported"  # corrections applied and/or fields confirmed; outputs written
    NO_CHANGES = "no_changes"  # a new version of the file with nothing new for the data
    ALREADY_IMPORTED = "already_imported"  # this very file was imported before
    REJECTED = "rejected"  # values to fix on the sheet; nothing written


@dataclass
class ImportResult:
    """What an import did, for the CLI and tests. Holds no field values."""

    run_id: str
    workbook: Path
    status: ImportStatus = ImportStatus.IMPORTED
    corrections: int = 0  # applied by this import
    replaced: int = 0  # of which replace a value an earlier import had set
    confirmed: int = 0  # fields confirmed as read (OCR value kept) by this import
    unreviewed: int = 0  # flagged fields neither corrected nor marked 済 (kept as read)
    rejected: list[Rejection] = field(default_factory=list)
    notes: list[Rejection] = field(default_factory=list)  # accepted, worth a second look
    review_minutes: float | None = None
    files: list[Path] = field(default_factory=list)
    out_dir: Path | None = None
    import_id: int | None = None
    earlier: str = ""  # ALREADY_IMPORTED: which import, when, by whom
    handoff: HandoffResult | None = None  # files handed off to the core systems

    @property
    def exit_code(self) -> int:
        """0 when the workbook is in (or already was); 2 when values must be fixed first."""
        return int(ExitCode.NEEDS_ATTENTION if self.status is ImportStatus.REJECTED
                   else ExitCode.OK)

    def describe(self) -> str:
        """A short English summary, plus the Japanese lines a clerk acts on (sheet and row)."""
        head = f"run {self.run_id}: {self.workbook.name}"
        if self.status is ImportStatus.REJECTED:
            return "\n".join([f"{head} NOT imported, nothing was changed: {len(self.rejected)} "
                              "value(s) must be fixed on the sheet first",
                              *(f"  {r.line()}" for r in self.rejected),
                              "  シートを直して保存し、もう一度取り込んでください。"])
        if self.status is ImportStatus.ALREADY_IMPORTED:
            return f"{head} was already imported ({self.earlier}); no changes"
        if self.status is ImportStatus.NO_CHANGES:
            lines = [f"{head} holds nothing new; no changes to the data"]
        else:
            again = f" ({self.replaced} replacing earlier ones)" if self.replaced else ""
            lines = [f"{head} imported: {self.corrections} correction(s) applied{again}, "
                     f"{self.confirmed} field(s) confirmed as read"]
        minutes = "not recorded" if self.review_minutes is None else f"{self.review_minutes:g} min"
        lines.append(f"review time: {minutes}")
        if self.unreviewed:
            lines.append(f"{self.unreviewed} flagged field(s) were neither corrected nor marked "
                         "済: kept as read")
        if self.notes:
            lines.append("accepted, but please check (確認してください):")
            lines += [f"  {n.line()}" for n in self.notes]
        if self.files:
            lines.append(f"confirmed outputs in {self.out_dir}:")
            lines += [f"  {p.name}" for p in self.files]
        if self.handoff is not None:
            lines += self.handoff.describe_lines()
        return "\n".join(lines)


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise UnreadableWorkbookError(
            f"cannot read workbook {path}: {exc.strerror or type(exc).__name__}\n"
            "ブックを読み込めません。ファイル名と場所、Excelで開いたままでないかを確認してください。"
        ) from exc


def _templates(cfg: Config, written: dict[str, WrittenRecord], run_id: str
               ) -> dict[str, FormTemplate]:
    """The templates of the workbook's forms, which must still have the run's fields."""
    library = TemplateLibrary.from_dirs(forms_dirs(cfg))
    out: dict[str, FormTemplate] = {}
    for rec in written.values():
        t = out.get(rec.form_id) or (library.get(rec.form_id) if rec.form_id in library else None)
        if t is None or [f.name for f in t.fields] != list(rec.values):
            raise TemplateChangedError(
                f"the template of form {rec.form_id!r} is missing or its fields changed since "
                f"run {run_id}; restore the version the run used to import this workbook")
        out[rec.form_id] = t
    return out


def _validate(reviewed: ReviewedWorkbook, written: dict[str, WrittenRecord],
              templates: dict[str, FormTemplate], today: date
              ) -> tuple[dict[Key, Correction], dict[str, dict[str, str]], list[Rejection],
                         list[Rejection]]:
    """Normalised corrections (before = OCR value), final values, rejections, notes."""
    changes: dict[Key, Correction] = {}
    rejected: list[Rejection] = []
    notes: list[Rejection] = []
    for c in reviewed.corrections:
        spec = templates[written[c.doc_id].form_id].by_name[c.field]
        v = validate_value(spec, c.after, today=today)
        blocking = [r.message for r in v.reasons if r.code not in ADVISORY_REASONS]
        advice = [r.message for r in v.reasons if r.code not in _SILENT]
        if blocking or advice:
            (rejected if blocking else notes).append(
                Rejection(c.sheet, c.row, spec.column, "／".join(blocking or advice)))
        if not blocking:  # kept even when equal to what was read: that restores the OCR value
            changes[(c.doc_id, c.field)] = replace(c, after=v.value)
    final = {doc_id: dict(rec.values) for doc_id, rec in written.items()}
    for (doc_id, name), ch in changes.items():
        final[doc_id][name] = ch.after
    for doc_id in sorted({d for d, _ in changes}):  # postal ⇄ address, bank ⇄ branch
        t = templates[written[doc_id].form_id]
        for name, reasons in cross_check(t, final[doc_id]).items():
            if (ch := changes.get((doc_id, name))) is not None:
                notes.append(Rejection(ch.sheet, ch.row, t.by_name[name].column,
                                       "／".join(r.message for r in reasons)))
    return changes, final, rejected, notes


def _plan(runlog: RunLog, run_id: str, written: dict[str, WrittenRecord],
          changes: dict[Key, Correction], typed: set[Key], templates: dict[str, FormTemplate],
          path: Path, forms: frozenset[str]) -> tuple[list[Correction], int, list[Rejection]]:
    """Which corrections are new, and which earlier ones this version of the workbook lacks.

    First checks that the workbook holds exactly the run's documents with the OCR values
    the run logged: the signature proves who wrote it, this proves it fits this run log.
    Documents of no form template (rows a scenario read from data files) are not scans and
    never in the workbook.
    """
    docs = {r["doc_id"] for r in runlog.documents(run_id) if r["form_id"] in forms}
    state = {(r["doc_id"], r["name"]): r for r in runlog.fields(run_id) if r["doc_id"] in docs}
    if docs != set(written) or any(runlog.digest(written[d].values.get(n, "")) != r["ocr_digest"]
                                   for (d, n), r in state.items()):
        raise _foreign(path, f"the workbook's documents do not match what run {run_id} recorded",
                       f"このブックの内容が処理（実行ID {run_id}）の記録と一致しません。"
                       "処理が作成した確認用ブックを指定してください。")
    apply: list[Correction] = []
    replaced = 0
    stale: list[Rejection] = []
    for doc_id, rec in written.items():
        for name in rec.values:
            row = state.get((doc_id, name))
            final = row["final_digest"] if row is not None else None
            if (ch := changes.get((doc_id, name))) is not None:
                current = final or (row["ocr_digest"] if row is not None else None)
                if runlog.digest(ch.after) == current or (row is None and ch.after == ch.before):
                    continue  # the field has this value already (read so, or imported before)
                apply.append(ch)
                replaced += int(bool(row is not None and row["corrected"]))
            elif ((doc_id, name) not in typed  # a rejected value is reported as such
                  and row is not None and final not in (None, row["ocr_digest"])):
                stale.append(Rejection(
                    rec.sheet, rec.row, templates[rec.form_id].by_name[name].column,
                    f"文書ID {doc_id}: 以前の取り込みで修正した値がこのブックにありません"
                    "（古い版のブックです）。前回取り込んだブックに追記して取り込んでください。"))
    return apply, replaced, stale


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers and services)
        return "unknown"


def _earlier(runlog: RunLog, result: ImportResult, sha: str) -> ImportResult | None:
    """The result for a file imported before (same bytes), or None."""
    row = next((r for r in runlog.imports(result.run_id) if r["workbook_sha256"] == sha), None)
    if row is None:
        return None
    result.status, result.import_id = ImportStatus.ALREADY_IMPORTED, row["import_id"]
    result.earlier = f"import {row['import_id']} at {row['at']} by {row['who']}"
    log.info("run %s: %s was already imported (import %s); nothing to do", result.run_id,
             result.workbook.name, row["import_id"])
    return result


def _open(path: Path, runlog: RunLog
          ) -> tuple[str, ReviewedWorkbook, dict[str, WrittenRecord], Any]:
    """Hash, read and verify the workbook; the run it belongs to must have completed."""
    sha = _sha256(path)
    try:
        reviewed, written = read_workbook_records(path, secret_for=runlog.secret)
    except (ForeignWorkbookError, WorkbookEditedError) as exc:
        raise _refused(exc, path) from exc
    if _sha256(path) != sha:
        raise UnreadableWorkbookError(
            f"{path.name} changed while it was read (still being saved?); try again\n"
            "読み込み中にブックが変更されました。保存が終わってから取り込み直してください。")
    run = runlog.run(reviewed.run_id)
    if run is None or run["status"] != "completed":
        raise _foreign(path, f"run {reviewed.run_id} did not complete; its files were "
                       "processed again by a later run",
                       f"この処理（実行ID {reviewed.run_id}）は正常に終了していないため"
                       "取り込めません。後の実行で作成された確認用ブックを使ってください。")
    return sha, reviewed, written, run


def import_corrections(workbook: Path, cfg: Config, *, who: str | None = None,
                       now: datetime | None = None) -> ImportResult:
    """Import a reviewed workbook into the run log and write the run's confirmed outputs.

    ``who`` defaults to the OS user, ``now`` to the clock. Returns an :class:`ImportResult`
    (exit code 0; 2 when values must be fixed, then nothing is written). Raises
    :class:`ForeignImportError`, :class:`EditedImportError`, :class:`UnreadableWorkbookError`
    (exit code 4) for a file that cannot be taken at all, :class:`TemplateChangedError` (3).
    """
    path = Path(workbook)
    now = now or datetime.now(UTC)
    db_path = cfg.resolve(cfg.paths.runlog)
    if not db_path.exists():  # RunLog() would create an empty one
        raise _foreign(path, f"there is no run log at {db_path} (wrong --config?)",
                       "処理の記録（実行ログ）が見つかりません。設定ファイルを確認してください。")
    runlog = RunLog(db_path, key=cfg.resolve(cfg.paths.digest_key))
    try:
        recover_handoffs(cfg, runlog)
        sha, reviewed, written, run = _open(path, runlog)
        result = ImportResult(reviewed.run_id, path, review_minutes=reviewed.review_minutes)
        if _earlier(runlog, result, sha):
            return result
        templates = _templates(cfg, written, result.run_id)
        changes, final, rejected, notes = _validate(reviewed, written, templates,
                                                    now.astimezone().date())
        rejected += [Rejection(*m) for m in verify_keyed(reviewed, written, templates, now.date())]
        typed = {(c.doc_id, c.field) for c in reviewed.corrections}
        looked_at = reviewed.confirmed | typed
        rejected += [Rejection(*m) for m in unconfirmed_proposals(reviewed, looked_at)]
        result.unreviewed = sum((r.doc_id, n) not in looked_at
                                for r in written.values() for n in r.flagged)
        with runlog.atomic():
            if _earlier(runlog, result, sha):  # another import of it may just have finished
                return result
            forms = frozenset(TemplateLibrary.from_dirs(forms_dirs(cfg)).ids)
            apply, replaced, stale = _plan(runlog, result.run_id, written, changes, typed,
                                           templates, path, forms)
            if rejected or stale:
                result.status = ImportStatus.REJECTED
                result.rejected = sorted([*rejected, *stale], key=lambda r: (r.sheet, r.row))
                log.warning("run %s: %s not imported, %d value(s) to fix", result.run_id,
                            path.name, len(result.rejected))
                return result
            result.import_id, result.confirmed = runlog.record_import(
                result.run_id, workbook_sha256=sha, who=who or _os_user(),
                at=now.astimezone(UTC).isoformat(timespec="seconds"),
                review_minutes=reviewed.review_minutes,
                corrections=[(c.doc_id, c.field, c.source, c.before, c.after) for c in apply],
                doc_ids=sorted(written))
            result.corrections, result.replaced, result.notes = len(apply), replaced, notes
            result.out_dir = out_dir = run_out_dir(cfg, run, path)
            expected = [confirmed_workbook_name(result.run_id),
                        *(data_csv_name(templates[r.form_id], confirmed=True)
                          for r in written.values())]
            if not (apply or result.confirmed):
                result.status = ImportStatus.NO_CHANGES
            if result.status is ImportStatus.IMPORTED or not all(
                    (out_dir / name).exists() for name in expected):
                result.files = write_confirmed_outputs(
                    out_dir, run_id=result.run_id, scenario=reviewed.scenario,
                    templates=templates, written=written, final=final, csv_cfg=cfg.csv)
            result.handoff = stage_handoff(
                cfg, runlog, run_id=result.run_id, out_dir=out_dir,
                rows=[Row(r.doc_id, r.source_file, r.page, final[r.doc_id])
                      for r in written.values()],
                forms={r.doc_id: r.form_id for r in written.values()},
                today=now.astimezone().date(), import_id=result.import_id,
                changed=frozenset(c.doc_id for c in apply))
        try:
            publish(runlog, result.handoff.staged)
        except OSError as exc:  # recorded as staged: the next import or run puts them in place
            log.warning("run %s: hand-off files not yet in place (%s); the next run finishes it",
                        result.run_id, exc.strerror or exc)
        log.info("run %s: %s imported (import %s): %d correction(s), %d field(s) confirmed as "
                 "read, %d file(s) written", result.run_id, path.name, result.import_id,
                 result.corrections, result.confirmed, len(result.files))
        return result
    finally:
        runlog.close()
