"""Hand-off to the core systems: confirmed data only, once per document, atomically, logged.

A core system imports whatever it finds in its folder, so what lands there must be final:

- Files are written only from **confirmed** values: by ``rpa corrections import`` (the
  reviewed values), or at the end of a run in which no document needed review.
- They go to ``[exports] handoff_dir``/<target system>/, named ``<layout file
  name>_確定_<run id>.<ext>`` (``_2``, ``_3`` when rows of the same run leave later).
- **Atomically, and recorded before they appear**: the file is written to a hidden
  ``.<name>.part`` beside its place, recorded as *staged* in the transaction that confirms
  the data (the run's commit, or the import's), renamed into place after that commit and
  marked *delivered*. A process that dies in between leaves a staged row and its part file;
  the next hand-off (or run) finishes the rename. A part file with no row (the transaction
  never committed) is removed. Nothing half-written is ever visible under a final name.
- **Never twice**: ``handoff_docs`` holds one row per (document, layout); a document that
  left is skipped by every later import, and a correction made after it left is reported
  (it must be made in the core system by hand).
- Rows that cannot be written whole (a character outside the target's set, a value missing
  from a value table, too long for its width) are **held back** and listed, with document
  and column, in ``要対応_<file name>_<run id>.csv`` in the run's folder; they leave with a
  later import once the value is corrected (or the town's substitution table covers it).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ocr.templates import FormTemplate, TemplateLibrary
from robots.config import Config, forms_dirs
from robots.db.runlog import RunLog
from robots.errors import ConfigError
from robots.exports import (
    ExportLayout,
    ExportLayoutError,
    Problem,
    Row,
    SubstitutionError,
    Substitutions,
    layout_problems,
    load_layouts,
    load_substitutions,
    render,
)
from robots.registry import packaged_exports_dirs
from robots.sheets.common import looks_like_formula
from robots.sheets.csvout import write_csv

__all__ = ["ATTENTION_PREFIX", "HandoffResult", "Staged", "check_exports", "export_layouts",
           "handoff_name", "publish", "recover_handoffs", "run_out_dir", "stage_handoff"]

log = logging.getLogger(__name__)

ATTENTION_PREFIX = "要対応_"
CONFIRMED_MARK = "確定"
_PART = ".part"
_TODO_BLOCKING = ("確認用ブックで値を直して保存し、rpa corrections import で取り込み直すと"
                  "引き渡されます（データシートで直接直せます）")
_TODO_NOTE = "引き渡し済みです。基幹系の値を確認してください"


def export_layouts(cfg: Config) -> tuple[ExportLayout, ...]:
    """The layouts in use: the scenarios' ``exports/``, then the town's, minus ``disabled``."""
    dirs = (*packaged_exports_dirs(), *(cfg.resolve(d) for d in cfg.exports.dirs))
    return tuple(lay for lay in load_layouts(tuple(dirs)) if lay.id not in cfg.exports.disabled)


def _substitutions(cfg: Config) -> Substitutions:
    return load_substitutions(tuple(cfg.resolve(p) for p in cfg.exports.substitutions))


def check_exports(cfg: Config) -> list[str]:
    """Every problem of the layouts and substitution tables in use, checked before any work."""
    try:
        layouts = export_layouts(cfg)
        _substitutions(cfg)
    except (ExportLayoutError, SubstitutionError) as exc:
        return [f"exports: {exc}"]
    library = TemplateLibrary.from_dirs(forms_dirs(cfg))
    out = []
    for lay in layouts:
        t = library.get(lay.form) if lay.form in library else None
        out += [f"exports: {lay.source}: {p}"
                for p in layout_problems(lay, t, cfg.exports.mynumber_targets)]
    return out


def _require_valid(cfg: Config) -> tuple[tuple[ExportLayout, ...], Substitutions]:
    if problems := check_exports(cfg):
        raise ConfigError(cfg.source or "config.toml", problems)
    return export_layouts(cfg), _substitutions(cfg)


def handoff_name(layout: ExportLayout, run_id: str, n: int = 1) -> str:
    """``<file name>_確定_<run id>[_n].<ext>``: says it is final and which run it came from."""
    again = f"_{n}" if n > 1 else ""
    return f"{layout.layout.file_name}_{CONFIRMED_MARK}_{run_id}{again}.{layout.layout.extension}"


def _target_dir(cfg: Config, layout: ExportLayout) -> Path:
    safe = "".join("＿" if ch in '\\/:*?"<>|' else ch for ch in layout.target).strip(". ")
    return cfg.resolve(cfg.exports.handoff_dir) / (safe or "target")


@dataclass
class Staged:
    """A file written beside its place and recorded as staged; :func:`publish` puts it there."""

    handoff_id: int
    part: Path
    final: Path


@dataclass
class HandoffResult:
    """What a hand-off did (no values): files staged, rows held back, corrections too late."""

    staged: list[Staged] = field(default_factory=list)
    held: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    attention: list[Path] = field(default_factory=list)  # 要対応 lists in the run's folder
    already_left: dict[str, str] = field(default_factory=dict)  # doc id → file it left in
    rows: int = 0

    @property
    def files(self) -> list[Path]:
        return [s.final for s in self.staged]

    def describe_lines(self) -> list[str]:
        """For ``rpa corrections import``: what left, what did not and why (Japanese lines)."""
        h = self
        lines = []
        if h.staged:
            lines.append(f"handed off to the core systems ({h.rows} row(s)):")
            lines += [f"  {s.final.parent.name}/{s.final.name}" for s in h.staged]
        if h.held:
            docs = len({p.doc_id for p in h.held})
            lines.append(f"{docs} document(s) NOT handed off (要対応): see "
                         + ", ".join(p.name for p in h.attention))
            lines += [f"  文書ID {p.doc_id}「{p.column}」: {p.message_ja}" for p in h.held]
        for doc_id, where in sorted(h.already_left.items()):
            lines.append(f"  文書ID {doc_id}: 基幹系へ引き渡し済み（{Path(where).name}）のため、"
                         "この訂正は基幹系で直接修正してください")
        return lines


def _write_part(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _attention_list(out_dir: Path, layout: ExportLayout, run_id: str,
                    problems: Sequence[Problem]) -> Path | None:
    """The 要対応 list of one layout in the run's folder (replaced; removed when empty)."""
    path = out_dir / f"{ATTENTION_PREFIX}{layout.layout.file_name}_{run_id}.csv"
    if not problems:
        path.unlink(missing_ok=True)
        return None
    fresh = path.with_name(f".{path.name}.new")
    write_csv(fresh, ["文書ID", "元ファイル", "ページ", "項目", "内容", "区分", "引渡し先", "対処"],
              [[p.doc_id, p.source_file, p.page, p.column, p.message_ja,
                "要対応（引き渡していません）" if p.blocking else "確認（引き渡し済み）",
                layout.target, _TODO_BLOCKING if p.blocking else _TODO_NOTE]
               for p in problems])
    if path.is_file() and path.read_bytes() == fresh.read_bytes():
        fresh.unlink()  # the same list again (an import with nothing new): left as it was
    else:
        fresh.replace(path)
    return path


def stage_handoff(cfg: Config, runlog: RunLog, *, run_id: str, rows: Sequence[Row],
                  forms: Mapping[str, str], out_dir: Path, today: date,
                  import_id: int | None = None,
                  changed: frozenset[str] = frozenset()) -> HandoffResult:
    """Write and record (as staged) the files of ``rows`` not handed off yet, per layout.

    ``forms`` maps doc id → form id; ``changed`` names documents whose values this import
    corrected (reported when they had left already). Call inside the transaction that
    confirms the data; :func:`publish` the result after it commits. Raises ConfigError for
    invalid layouts, OSError when the hand-off folder cannot be written.
    """
    layouts, subs = _require_valid(cfg)
    library = TemplateLibrary.from_dirs(forms_dirs(cfg))
    result = HandoffResult()
    for lay in layouts:
        mine = [r for r in rows if forms.get(r.doc_id) == lay.form]
        if not mine:
            continue
        left = runlog.handed_off(lay.id, [r.doc_id for r in mine])
        if changed & set(left):
            paths = {h["handoff_id"]: h["path"] for h in runlog.handoffs()}
            for doc_id in sorted(changed & set(left)):
                result.already_left[doc_id] = paths.get(left[doc_id], "")
        pending = [r for r in mine if r.doc_id not in left]
        template: FormTemplate = library.get(lay.form)
        out = render(lay, template, pending, run_id=run_id, today=today, substitutions=subs,
                     formula_guard=looks_like_formula)
        result.held += [p for p in out.problems if p.blocking]
        result.notes += [p for p in out.problems if not p.blocking]
        if (attention := _attention_list(out_dir, lay, run_id, out.problems)) is not None:
            result.attention.append(attention)
        if not out.written:
            continue
        n = 1 + sum(1 for h in runlog.handoffs(run_id) if h["layout_id"] == lay.id)
        final = _target_dir(cfg, lay) / handoff_name(lay, run_id, n)
        part = final.with_name(f".{final.name}{_PART}")
        _write_part(part, out.data)
        handoff_id = runlog.add_handoff(
            run_id, layout_id=lay.id, target=lay.target, path=cfg.relative(final),
            rows=len(out.written), held=len(out.held), size=len(out.data),
            sha256=hashlib.sha256(out.data).hexdigest(), import_id=import_id,
            doc_ids=out.written)
        result.staged.append(Staged(handoff_id, part, final))
        result.rows += len(out.written)
        runlog.event(run_id, "handoff_staged",
                     f"layout {lay.id} → {lay.target}: {final.name}, {len(out.written)} row(s), "
                     f"{len(out.held)} held back (要対応)")
        for (ch, text, code, who), count in sorted(Counter(
                (s.char, s.text or "", s.code or "", s.decided_by)
                for _, _, s in out.substituted).items()):
            runlog.event(run_id, "handoff_substitution",
                         f"layout {lay.id}: U+{ord(ch):04X} {ch} written as "
                         f"{text or '0x' + code.upper()} in {count} value(s) (decided by {who})")
    return result


def publish(runlog: RunLog, staged: Sequence[Staged]) -> None:
    """After the commit: rename each staged file into place and record it delivered."""
    for s in staged:
        s.part.replace(s.final)
        runlog.delivered(s.handoff_id)
        log.info("handed off %s (hand-off %d)", s.final.name, s.handoff_id)


def recover_handoffs(cfg: Config, runlog: RunLog) -> int:
    """Finish hand-offs a dead process left staged; remove part files nobody recorded.

    Returns how many were finished. A staged file whose part is gone but whose final file
    is there with the recorded digest was renamed already: it is only marked delivered.
    """
    finished = 0
    known: set[Path] = set()
    for h in runlog.handoffs(status="staged"):
        final = cfg.resolve(Path(h["path"]))
        part = final.with_name(f".{final.name}{_PART}")
        known.add(part)
        if part.is_file() and hashlib.sha256(part.read_bytes()).hexdigest() == h["sha256"]:
            part.replace(final)
        elif not (final.is_file()
                  and hashlib.sha256(final.read_bytes()).hexdigest() == h["sha256"]):
            log.warning("hand-off %d (%s) is recorded but its file is missing", h["handoff_id"],
                        final.name)
            runlog.event(h["run_id"], "handoff_missing",
                         f"hand-off {h['handoff_id']} ({final.name}): staged file is gone",
                         level="warning")
            continue
        runlog.delivered(h["handoff_id"])
        finished += 1
    root = cfg.resolve(cfg.exports.handoff_dir)
    if root.is_dir():
        for part in root.glob(f"*/.*{_PART}"):
            if part not in known:
                part.unlink(missing_ok=True)  # its transaction never committed: never left
    return finished


def run_out_dir(cfg: Config, run: sqlite3.Row, workbook: Path) -> Path:
    """The run's output folder in *this* workspace (the run log stores it relative to it).

    A run log written before paths were relative holds absolute ones: when such a path is
    outside this workspace but the same run's folder is here, the copy is meant.
    """
    recorded = cfg.resolve(Path(run["out_dir"])) if run["out_dir"] else None
    here = cfg.resolve(cfg.paths.out) / run["scenario"] / run["run_id"]
    if recorded is not None and Path(run["out_dir"]).is_absolute() and here.is_dir() and \
            cfg.relative(recorded) != cfg.relative(here):
        log.warning("run %s: the run log names %s, outside this workspace; writing into %s",
                    run["run_id"], recorded, here)
        return here
    if recorded is not None and recorded.is_dir():
        return recorded
    log.warning("output folder of run %s is gone; confirmed outputs go beside the workbook",
                run["run_id"])
    return workbook.resolve().parent
