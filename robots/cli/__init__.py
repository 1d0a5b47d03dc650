"""``rpa``: the single command-line entry point (the top room of robots/).

The parser lives here, one handler per sub-command in :mod:`.commands`, :mod:`.report`
(report and baseline) and :mod:`.service` (schedule, jobs, watch); it may import every other
room. Only this module configures logging handlers and turns errors into exit codes; everything
it calls raises domain errors that carry their code (see :class:`robots.errors.ExitCode`).
While a command runs the process umask is 077: every file and folder it creates (outputs,
reason notes, the run log, summaries, log files) is readable by its owner only.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from ocr.engines import EngineUnavailableError
from ocr.errors import OcrError
from robots import __version__
from robots.config import load_config
from robots.errors import ExitCode, RobotError

__all__ = ["build_parser", "main"]

log = logging.getLogger("robots.cli")

Handler = Callable[[argparse.Namespace], int]


def _configure_logging(verbosity: int, log_file: Path | None) -> None:
    level = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity == 1 else logging.WARNING
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    root = logging.getLogger()
    root.handlers.clear()
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(fmt)
    err.setLevel(level)
    root.addHandler(err)
    root.setLevel(logging.DEBUG if log_file else level)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file, encoding="utf-8")
        log_file.chmod(0o600)  # also when it existed before, created by something else
        fh.setFormatter(logging.Formatter(
            "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
        fh.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
        root.addHandler(fh)
    for noisy in ("PIL", "pypdf", "RapidOCR", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree (also used by the README's CLI section)."""
    p = argparse.ArgumentParser(
        prog="rpa", description="misato-rpa: OCR scanned forms into checked data, in batches.")
    p.add_argument("--version", action="version", version=f"misato-rpa {__version__}")
    p.add_argument("--config", type=Path, help="configuration file (default ./config.toml "
                   "or $MISATO_RPA_CONFIG)")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more log output (-vv for debug)")
    p.add_argument("--log-file", type=Path, help="also write the log to this file")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from robots.cli import commands as c
    from robots.cli import service as svc

    run = sub.add_parser("run", help="process a scenario's inbox once")
    run.add_argument("scenario", help="scenario name, e.g. intake")
    run.add_argument("--inbox", type=Path, help="take scans from this folder instead")
    run.add_argument("--out", type=Path, help="write outputs under this folder instead")
    run.add_argument("--jobs", type=int, help="worker processes (default: one per core)")
    run.add_argument("--trigger", default="manual", choices=["manual", "schedule", "watch"],
                     help=argparse.SUPPRESS)
    run.set_defaults(handler=c.cmd_run)

    ocr = sub.add_parser("ocr", help="read one file and print every field")
    ocr.add_argument("file", type=Path)
    ocr.add_argument("--form", help="read every page as this form id (skip identification)")
    ocr.add_argument("--json", action="store_true", help="machine-readable output")
    ocr.add_argument("--engines", help="comma-separated engines (default from config)")
    ocr.set_defaults(handler=c.cmd_ocr)

    forms = sub.add_parser("forms", help="form templates").add_subparsers(
        dest="forms_command", required=True, metavar="ACTION")
    fl = forms.add_parser("list", help="list the known forms")
    fl.set_defaults(handler=c.cmd_forms_list)
    fr = forms.add_parser("render", help="render a blank form as PNG or PDF")
    fr.add_argument("form_id")
    fr.add_argument("--out", type=Path, help="file to write (.png or .pdf)")
    fr.add_argument("--dpi", type=int, default=300)
    fr.set_defaults(handler=c.cmd_forms_render)
    fc = forms.add_parser("check", help="validate a template file and name every problem")
    fc.add_argument("template", type=Path)
    fc.add_argument("--overlay", type=Path, metavar="OUT.png",
                    help="draw boxes, comb cells, options, label cells and registration "
                         "anchors over the blank form")
    fc.add_argument("--dpi", type=int, default=150, help="resolution of the overlay")
    fc.set_defaults(handler=c.cmd_forms_check)

    exports = sub.add_parser("exports", help="export layouts for the core systems"
                             ).add_subparsers(dest="exports_command", required=True,
                                              metavar="ACTION")
    exports.add_parser("list", help="the layouts in use and the hand-off folder"
                       ).set_defaults(handler=c.cmd_exports_list)
    ec = exports.add_parser("check", help="validate a layout file and name every problem")
    ec.add_argument("layout", type=Path)
    ec.set_defaults(handler=c.cmd_exports_check)

    samples = sub.add_parser("samples", help="generated scans with ground truth").add_subparsers(
        dest="samples_command", required=True, metavar="ACTION")
    sg = samples.add_parser("generate", help="fill forms with plausible values and scan them")
    sg.add_argument("--form", required=True)
    sg.add_argument("--count", type=int, default=10)
    sg.add_argument("--seed", type=int, default=1)
    sg.add_argument("--out", type=Path, required=True)
    sg.add_argument("--degrade", type=int, default=0, choices=[0, 1, 2, 3])
    sg.add_argument("--format", default="png", choices=["png", "jpeg", "pdf", "tiff", "pdf-text"])
    sg.add_argument("--pages-per-file", type=int, default=1)
    sg.add_argument("--register", type=Path,
                    help="also write the sample town's resident register extract here (forms "
                         "that propose from the register, e.g. koza_furikae)")
    sg.set_defaults(handler=c.cmd_samples_generate)
    ss = samples.add_parser("scenario", help="a scenario's own sample inputs with their truth")
    ss.add_argument("scenario", help="scenario name, e.g. deposit_inquiry")
    ss.add_argument("--count", type=int, default=20)
    ss.add_argument("--seed", type=int, default=1)
    ss.add_argument("--out", type=Path, required=True, help="workspace-like folder to fill")
    ss.add_argument("--today", type=date.fromisoformat, help="the samples' today (YYYY-MM-DD)")
    ss.set_defaults(handler=c.cmd_samples_scenario)

    corr = sub.add_parser("corrections", help="reviewed correction sheets").add_subparsers(
        dest="corrections_command", required=True, metavar="ACTION")
    ci = corr.add_parser("import", help="take a reviewed workbook back in")
    ci.add_argument("workbook", type=Path)
    ci.add_argument("--who", help="reviewer name (default: the OS user)")
    ci.set_defaults(handler=c.cmd_corrections_import)

    runs = sub.add_parser("runs", help="recent runs from the run log")
    runs.add_argument("action", nargs="?", choices=["show"], help="show one run")
    runs.add_argument("run_id", nargs="?")
    runs.add_argument("--limit", type=int, default=20)
    runs.set_defaults(handler=c.cmd_runs)

    from robots.cli import report as cr

    rep = sub.add_parser("report", help="the proof-of-concept evaluation report (HTML + Excel)")
    rep.add_argument("--since", type=cr.iso_date, help="first day (YYYY-MM-DD, local)")
    rep.add_argument("--until", type=cr.iso_date, help="last day, inclusive")
    rep.add_argument("--scenario", help="only this scenario")
    rep.add_argument("--out", type=Path, help="folder for the report (default <out>/report)")
    rep.set_defaults(handler=cr.cmd_report)

    base = sub.add_parser("baseline", help="manual keying time (the PoC's baseline)"
                          ).add_subparsers(dest="baseline_command", required=True,
                                           metavar="ACTION")
    br = base.add_parser("record", help="record a timed sample of work done by hand: "
                         "documents of a form keyed, or units of a scenario's task")
    what = br.add_mutually_exclusive_group(required=True)
    what.add_argument("--form", help="form id, e.g. juminhyo_request")
    what.add_argument("--task", help="task name, e.g. deposit_reply_check (`rpa baseline "
                      "list` shows them)")
    br.add_argument("--documents", "--count", dest="documents", type=int, required=True,
                    help="documents keyed, or units of the task done")
    br.add_argument("--minutes", type=float, required=True, help="minutes it took in total")
    br.add_argument("--who", help="who keyed them (default: the OS user)")
    br.add_argument("--note", help="free text, e.g. where the sample came from")
    br.set_defaults(handler=cr.cmd_baseline_record)
    base.add_parser("list", help="the baseline per form and task, and where it comes from"
                    ).set_defaults(handler=cr.cmd_baseline_list)

    sub.add_parser("schedule", help="run the [[schedule]] jobs in the foreground (a service)"
                   ).set_defaults(handler=svc.cmd_schedule)
    sub.add_parser("jobs", help="list the scheduled jobs with their next run times"
                   ).set_defaults(handler=svc.cmd_jobs)
    watch = sub.add_parser("watch", help="process a scenario's scans as they arrive")
    watch.add_argument("scenario", help="scenario name, e.g. intake")
    watch.add_argument("--inbox", type=Path, help="watch this folder instead")
    watch.add_argument("--out", type=Path, help="write outputs under this folder instead")
    watch.add_argument("--jobs", type=int, help="worker processes per run")
    watch.add_argument("--poll", action="store_true",
                       help="poll the folder instead of file-system events (network shares)")
    watch.add_argument("--poll-interval", type=float, default=2.0, metavar="S",
                       help="seconds between looks when polling (default 2)")
    watch.add_argument("--max-runs", type=int, metavar="N", help="stop after N runs")
    watch.add_argument("--idle-exit", type=float, metavar="S",
                       help="stop after S seconds with nothing arriving and nothing waiting")
    watch.set_defaults(handler=svc.cmd_watch)

    demo = sub.add_parser("demo", help="run the main job on the bundled samples")
    demo.add_argument("--workdir", type=Path, default=Path("demo"))
    demo.set_defaults(handler=c.cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rpa`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage; keep 2 for "needs attention"
        return int(ExitCode.USAGE) if exc.code not in (0, None) else 0
    umask = os.umask(0o077)
    try:
        _configure_logging(args.verbose, args.log_file)
        args.cfg = load_config(args.config)
        code = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        # `rpa runs show ID | head -5`: the reader had enough. A normal end for a command
        # line tool; what is still buffered goes nowhere instead of raising again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (RobotError, OcrError, EngineUnavailableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", ExitCode.ERROR))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        log.exception("unexpected error (please report it with this log)")
        return int(ExitCode.ERROR)
    finally:
        os.umask(umask)


if __name__ == "__main__":
    sys.exit(main())
