"""Handlers of ``rpa report`` and ``rpa baseline``: the evaluation side of the command line.

Kept apart from :mod:`robots.cli.commands` (the running side) so that the two can change
independently; the parser in :mod:`robots.cli` wires both.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from robots.config import Config, forms_dirs
from robots.db.runlog import RunLog
from robots.errors import ExitCode, RobotError

if TYPE_CHECKING:
    from robots.report.figures import Report
    from robots.run.runner import RunSummary

__all__ = [
    "cmd_baseline_list", "cmd_baseline_record", "cmd_report", "demo_report", "iso_date",
    "known_tasks", "print_report_summary",
]


class _UsageError(RobotError):
    exit_code = ExitCode.USAGE


def iso_date(text: str) -> date:
    """``argparse`` type for ``--since``/``--until``: YYYY-MM-DD (or YYYY/MM/DD)."""
    try:
        return date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_report(args: argparse.Namespace) -> int:
    """Write the evaluation report (HTML + Excel) and print where it went and the verdicts."""
    from robots.report import write_report

    if args.since and args.until and args.since > args.until:
        print(f"--since {args.since} is after --until {args.until}", file=sys.stderr)
        return int(ExitCode.USAGE)
    files = write_report(args.cfg, since=args.since, until=args.until, scenario=args.scenario,
                         out_dir=args.out)
    print_report_summary(files.report, files.html, files.xlsx)
    return 0


def print_report_summary(report: Report, html: Path, xlsx: Path) -> None:
    """Where the report went and each scenario's verdict, one line each."""
    from robots.report.labels import DECISION_JA

    if report.empty:
        print("no runs in this period: the report says so")
    for s in report.scenarios:
        failing = [f"{c.key}[{c.subject}]" if c.subject else c.key
                   for c in s.verdict.criteria if c.status != "pass"]
        print(f"{s.scenario}: {s.verdict.decision} ({DECISION_JA[s.verdict.decision]}); "
              f"{len(s.run_ids)} run(s), {s.volume.total.documents} document(s)"
              + (f"; not passed: {', '.join(failing)}" if failing else ""))
    print(f"report: {html}")
    print(f"        {xlsx}")


def _who(name: str | None) -> str:
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def known_tasks() -> dict[str, str]:
    """Task names of every installed scenario's own work (and of its decisions) → Japanese."""
    from robots.scenario import all_scenarios

    out: dict[str, str] = {}
    for s in all_scenarios().values():
        for t in (s.work.tasks if s.work else ()):
            out[t.id] = t.title_ja
            if t.decision_id:
                out[t.decision_id] = t.decision_ja or t.title_ja
    return out


def cmd_baseline_record(args: argparse.Namespace) -> int:
    """Store one timed sample of manual work (a form keyed, or a task done) in the run log."""
    from ocr.templates import TemplateLibrary

    cfg: Config = args.cfg
    if args.task:
        tasks = known_tasks()
        if args.task not in tasks:
            raise _UsageError(f"unknown task {args.task!r}; known tasks: "
                              f"{', '.join(sorted(tasks)) or 'none'}")
        subject, kind, unit = args.task, "task", "unit"
    else:
        library = TemplateLibrary.from_dirs(forms_dirs(cfg))
        if args.form not in library:
            raise _UsageError(f"unknown form {args.form!r}; known forms: "
                              f"{', '.join(library.ids)}")
        subject, kind, unit = args.form, "form", "document"
    if args.documents < 1 or not args.minutes > 0:
        raise _UsageError("--documents must be at least 1 and --minutes more than 0")
    runlog = RunLog(cfg.resolve(cfg.paths.runlog))
    try:
        runlog.record_baseline(subject, documents=args.documents, minutes=args.minutes,
                               who=_who(args.who), note=args.note or "", kind=kind)
        samples = [r for r in runlog.baselines(subject) if r["kind"] == kind]
    finally:
        runlog.close()
    docs = sum(r["documents"] for r in samples)
    total = sum(r["minutes"] for r in samples)
    done = "keyed by hand" if kind == "form" else "done by hand"
    print(f"recorded: {args.documents} {unit}(s) of {subject} {done} in {args.minutes:g} min "
          f"({args.minutes / args.documents:.2f} min per {unit})")
    print(f"{subject}: {len(samples)} sample(s), {docs} {unit}(s), {total / docs:.2f} min per "
          f"{unit} — the report uses this measured baseline")
    return 0


def cmd_baseline_list(args: argparse.Namespace) -> int:
    """The manual baseline per form and task: measured samples, else the configured assumption."""
    cfg: Config = args.cfg
    db = cfg.resolve(cfg.paths.runlog)
    rows = []
    if db.exists():
        runlog = RunLog(db)
        try:
            rows = runlog.baselines()
        finally:
            runlog.close()
    tasks = known_tasks()
    subjects = sorted({(r["kind"], r["form_id"]) for r in rows}
                      | {("task" if k in tasks else "form", k)
                         for k in cfg.evaluation.baseline_minutes})
    if not subjects:
        print("no baseline: set [evaluation] baseline_minutes in config.toml or run "
              "`rpa baseline record`")
    for kind, subject in subjects:
        mine = [r for r in rows if r["form_id"] == subject and r["kind"] == kind]
        unit = "document" if kind == "form" else "unit"
        if mine:
            docs = sum(r["documents"] for r in mine)
            per = sum(r["minutes"] for r in mine) / docs
            who = ", ".join(dict.fromkeys(r["who"] for r in mine))
            print(f"{kind:<4} {subject:<26} {per:6.2f} min/{unit}  measured ({len(mine)} "
                  f"sample(s), {docs} {unit}(s), by {who}, {mine[0]['at'][:10]} to "
                  f"{mine[-1]['at'][:10]})")
        else:
            print(f"{kind:<4} {subject:<26} {cfg.evaluation.baseline_minutes[subject]:6.2f} "
                  f"min/{unit}  assumed (evaluation.baseline_minutes, not measured)")
    unmeasured = sorted(set(tasks) - {s for k, s in subjects if k == "task"})
    if unmeasured:
        print("tasks without a baseline yet: " + ", ".join(
            f"{t} ({tasks[t]})" for t in unmeasured))
    return 0


def demo_report(cfg: Config, summaries: Sequence[RunSummary], truth_root: Path,
                out_dir: Path) -> Path:
    """End of ``rpa demo``: play the reviewer from the samples' truth, then write the report.

    The review is a simulation (no clerk in a demo) and is recorded and labelled as such, so
    the report shows the whole loop without passing it off as evidence; see
    :mod:`robots.samples.review`.
    """
    from robots.report import write_report
    from robots.samples.review import simulate_review

    for s in summaries:
        workbook = next((p for p in s.outputs if p.suffix == ".xlsx"), None)
        if workbook is None or not (truth_root / s.scenario).is_dir():
            continue
        sim = simulate_review(workbook, cfg, truth_root / s.scenario)
        r = sim.result
        print(f"simulated review of run {s.run_id} (demo only, labelled in the report): "
              f"{sim.corrected_flagged} flagged and {sim.corrected_silent} unflagged value(s) "
              f"corrected from the samples' truth; import {r.status.value if r else '-'}")
        if r is not None and r.status.value == "rejected":
            print(r.describe())
        if r is not None and r.handoff is not None:
            for f in r.handoff.files:
                print(f"  handed off to {f.parent.name}: {f.name}")
            for a in r.handoff.attention:
                print(f"  not all handed off (要対応): {a.name}")
    files = write_report(cfg, out_dir=out_dir)
    print()
    print_report_summary(files.report, files.html, files.xlsx)
    return files.html
