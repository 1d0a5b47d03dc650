"""Handlers of the ``rpa`` sub-commands: parse nothing, print results, return exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

import cv2

from ocr.errors import TemplateError
from ocr.pipeline import PipelineOptions, Reader
from ocr.render import render_blank
from ocr.templates import TemplateLibrary, load_template
from robots.config import Config, forms_dirs, load_config
from robots.db.runlog import RunLog
from robots.errors import ExitCode, OutputError
from robots.run.runner import RunSummary, run_scenario
from robots.run.shutdown import handle_signals
from robots.scenario import all_scenarios, get_scenario

__all__ = [
    "BUNDLED_SAMPLES",
    "cmd_corrections_import",
    "cmd_demo",
    "cmd_exports_check",
    "cmd_exports_list",
    "cmd_forms_check",
    "cmd_forms_list",
    "cmd_forms_render",
    "cmd_ocr",
    "cmd_run",
    "cmd_runs",
    "cmd_samples_generate",
    "cmd_samples_scenario",
    "library",
]

log = logging.getLogger(__name__)

#: The demo's scans, data and configuration, at the top of the source tree.
BUNDLED_SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def library(cfg: Config) -> TemplateLibrary:
    """Every form template: the scenarios' own and the town's ``forms_dirs``."""
    return TemplateLibrary.from_dirs(forms_dirs(cfg))


def _progress_bar() -> tuple[object, object] | tuple[None, None]:
    """A rich progress bar when attached to a terminal; nothing otherwise (cron, tests)."""
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress("[progress.description]{task.description}", BarColumn(),
                   MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
    task = bar.add_task("reading", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


def _print_summary(s: RunSummary) -> None:
    files = ", ".join(f"{k} {v}" for k, v in sorted(s.counts.items())) or "no files"
    print(f"run {s.run_id} ({s.scenario}): {files}; {s.documents} document(s), "
          f"{s.documents_needing_review} need review; {s.left_for_later} left for later; "
          f"{s.seconds:.1f} s")
    if s.out_dir:
        print(f"outputs: {s.out_dir}")
        for p in s.outputs:  # a hand-off file is in the core system's folder, not here
            print(f"  {p.name}" if p.parent == s.out_dir else f"  handed off: {p}")


def cmd_run(args: argparse.Namespace) -> int:
    bar, update = _progress_bar()
    if bar is not None:
        bar.start()  # type: ignore[attr-defined]
    from robots.cli.service import notify_run

    try:  # SIGTERM/Ctrl-C: finish the documents in progress, write them out, stop
        with handle_signals():
            summary = run_scenario(args.scenario, args.cfg, trigger=args.trigger,
                                   inbox=args.inbox, out=args.out, jobs=args.jobs,
                                   progress=update)  # type: ignore[arg-type]
    except OutputError as exc:
        notify_run(args.cfg, None, trigger=args.trigger, scenario=args.scenario, error=exc)
        raise
    finally:
        if bar is not None:
            bar.stop()  # type: ignore[attr-defined]
    _print_summary(summary)
    notify_run(args.cfg, summary, trigger=args.trigger)
    return summary.exit_code


def cmd_ocr(args: argparse.Namespace) -> int:
    cfg: Config = args.cfg
    engines = tuple(args.engines.split(",")) if args.engines else cfg.ocr.engines
    reader = Reader(library(cfg), PipelineOptions(engines=engines,
                                                  tesseract_model=cfg.ocr.tesseract_model,
                                                  form=args.form))
    doc = reader.read_file(args.file)
    if args.json:
        print(json.dumps(doc.to_dict(), ensure_ascii=False, indent=1))
    else:
        for p in doc.pages:
            if p.error:
                print(f"page {p.page}: NOT READ — {p.error}")
                continue
            print(f"page {p.page}: form {p.form} (by {p.identified_by}, registration "
                  f"{p.registration_score:.2f}, rotated {p.rotation}°)")
            for f in p.fields:
                flag = "REVIEW " + "／".join(r.message for r in f.reasons) if f.flagged else "ok"
                print(f"  {f.name:<20} {f.value!r:<32} conf {f.confidence:.2f}  {flag}")
    flagged = any(f.flagged for p in doc.pages for f in p.fields)
    failed = any(p.error for p in doc.pages)
    return int(ExitCode.NEEDS_ATTENTION if (flagged or failed) else ExitCode.OK)


def cmd_forms_list(args: argparse.Namespace) -> int:
    for t in library(args.cfg):
        print(f"{t.id:<22} {t.title}  ({len(t.fields)} fields)  {t.source}")
    return 0


def cmd_forms_render(args: argparse.Namespace) -> int:
    t = library(args.cfg).get(args.form_id)
    out: Path = args.out or Path(f"{t.id}.png")
    img = render_blank(t, args.dpi)
    if out.suffix.lower() == ".pdf":
        from PIL import Image

        Image.fromarray(img).convert("L").save(out, "PDF", resolution=args.dpi)
    elif not cv2.imwrite(str(out), img):
        raise OSError(f"cannot write {out}")
    print(f"wrote {out} ({img.shape[1]}x{img.shape[0]} px at {args.dpi} dpi)")
    return 0


def cmd_forms_check(args: argparse.Namespace) -> int:
    try:
        t = load_template(args.template)
    except TemplateError as exc:
        print(str(exc), file=sys.stderr)
        return int(ExitCode.CONFIG)
    from ocr.authoring import draw_overlay, library_warnings, template_warnings

    others = []  # every other template the configuration reaches, to compare ids and titles
    for d in forms_dirs(args.cfg):
        for p in sorted(Path(d).glob("*.toml")) if Path(d).is_dir() else ():
            if p.resolve() == Path(args.template).resolve():
                continue
            try:
                others.append(load_template(p))
            except TemplateError:
                continue  # that file's own check names its problems
    warnings = template_warnings(t)
    warnings += [w for w in library_warnings([*others, t]) if str(t.source) in w]
    for w in warnings:
        print(f"warning: {w}")
    if args.overlay is not None:
        if not cv2.imwrite(str(args.overlay), draw_overlay(t, args.dpi)):
            raise OSError(f"cannot write {args.overlay}")
        print(f"wrote {args.overlay}: value boxes blue, comb cells light blue, options green, "
              "label cells orange, checkbox groups purple, registration anchors red")
    groups = f", {len(t.groups)} checkbox group(s)" if t.groups else ""
    print(f"{args.template}: {'ok' if not warnings else f'{len(warnings)} warning(s)'} — form "
          f"{t.id} ({t.title}), {len(t.fields)} fields{groups}")
    return int(ExitCode.NEEDS_ATTENTION) if warnings else 0


def cmd_exports_check(args: argparse.Namespace) -> int:
    """Validate one export layout file against its form and the configuration."""
    from robots.exports import ExportLayoutError, layout_problems, load_layout

    cfg: Config = args.cfg
    try:
        lay = load_layout(args.layout)
    except ExportLayoutError as exc:
        print(str(exc), file=sys.stderr)
        return int(ExitCode.CONFIG)
    lib = library(cfg)
    problems = layout_problems(lay, lib.get(lay.form) if lay.form in lib else None,
                               cfg.exports.mynumber_targets)
    if problems:
        print(f"invalid export layout {args.layout}:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return int(ExitCode.CONFIG)
    head = lay.layout
    shape = (f"fixed-length records of {sum(c.width or 0 for c in lay.columns)} bytes"
             if head.record == "fixed" else
             f"delimited by {head.delimiter!r}, {'with' if head.header else 'no'} header")
    print(f"{args.layout}: ok — layout {lay.id}: form {lay.form} → {lay.target} "
          f"({head.title}), {len(lay.columns)} columns, {head.encoding}, {shape}")
    return 0


def cmd_exports_list(args: argparse.Namespace) -> int:
    """The export layouts in use and where confirmed files go."""
    from robots.sheets.handoff import export_layouts

    cfg: Config = args.cfg
    for lay in export_layouts(cfg):
        print(f"{lay.id:<28} {lay.form:<20} → {lay.target}: {lay.layout.title} "
              f"({lay.layout.encoding}, {lay.layout.record})  {lay.source}")
    print(f"hand-off folder: {cfg.resolve(cfg.exports.handoff_dir)}")
    return 0


def cmd_samples_generate(args: argparse.Namespace) -> int:
    from robots.samples import generate

    t = library(args.cfg).get(args.form)
    args.out.mkdir(parents=True, exist_ok=True)
    paths = generate(t, count=args.count, seed=args.seed, out_dir=args.out,
                     degrade=args.degrade, fmt=args.format, pages_per_file=args.pages_per_file,
                     register=args.register)
    print(f"wrote {len(paths)} scan(s) with ground truth to {args.out}")
    if args.register is not None:
        print(f"wrote the resident register extract to {args.register}"
              if args.register.exists() else
              f"form {t.id} proposes nothing from residents: no register written")
    return 0


def cmd_samples_scenario(args: argparse.Namespace) -> int:
    paths = get_scenario(args.scenario).generate_samples(
        args.out, count=args.count, seed=args.seed, today=args.today)
    print(f"wrote {len(paths)} sample file(s) for {args.scenario} under {args.out}")
    return 0


def cmd_corrections_import(args: argparse.Namespace) -> int:
    from robots.sheets.corrections import import_corrections

    result = import_corrections(args.workbook, args.cfg, who=args.who)
    print(result.describe())
    return int(result.exit_code)


def cmd_runs(args: argparse.Namespace) -> int:
    cfg: Config = args.cfg
    db = cfg.resolve(cfg.paths.runlog)
    if not db.exists():
        print("no runs yet")
        return 0
    runlog = RunLog(db)
    try:
        if args.action == "show":
            return _show_run(runlog, args.run_id)
        for r in runlog.runs(limit=args.limit):
            s = json.loads(r["summary"] or "{}")
            print(f"{r['run_id']}  {r['scenario']:<16} {r['trigger']:<8} {r['status']:<10} "
                  f"exit {r['exit_code'] if r['exit_code'] is not None else '-'}  "
                  f"files {s.get('files', {})}  review {s.get('documents_needing_review', 0)}")
    finally:
        runlog.close()
    return 0


def _show_run(runlog: RunLog, run_id: str | None) -> int:
    if not run_id or (run := runlog.run(run_id)) is None:
        print(f"no such run: {run_id}", file=sys.stderr)
        return int(ExitCode.USAGE)
    print(f"run {run_id}: {run['scenario']} ({run['trigger']}), {run['status']}, "
          f"exit {run['exit_code']}, {run['started_at']} → {run['finished_at'] or '…'}")
    print(f"host {run['host']}, version {run['version']}, {run['jobs']} worker(s); "
          f"outputs {run['out_dir']}")
    for f in runlog.files(run_id):
        print(f"  file {f['source_name']}: {f['outcome']}"
              + (f" ({f['reason_code']})" if f["reason_code"] else ""))
    fields: dict[str, list] = {}
    for f in runlog.fields(run_id):
        fields.setdefault(f["doc_id"], []).append(f)
    for d in runlog.documents(run_id):
        mine = fields.get(d["doc_id"], [])
        timings = {k: v for k, v in json.loads(d["timings"] or "{}").items() if k != "pages"}
        spent = (f", {sum(timings.values()):.0f} ms ("
                 + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()) + ")") if timings else ""
        print(f"    {d['doc_id']} p{d['page']} {d['form_id'] or '-'}: {d['status']} — "
              f"{len(mine)} field(s), {sum(f['flagged'] for f in mine)} flagged, "
              f"{sum(f['corrected'] for f in mine)} corrected{spent}")
    for i in runlog.imports(run_id):
        minutes = "not recorded" if i["review_minutes"] is None else f"{i['review_minutes']:g} min"
        print(f"  import {i['import_id']} by {i['who']} at {i['at']}: {i['corrections']} "
              f"correction(s), review {minutes}" + (" [simulated]" if i["simulated"] else ""))
    for h in runlog.handoffs(run_id):
        print(f"  hand-off {h['handoff_id']} → {h['target']}: {h['path']} ({h['rows']} row(s), "
              f"{h['held']} held back, {h['status']}, sha256 {h['sha256'][:12]}…)")
    for e in runlog.events(run_id):
        print(f"  [{e['level']}] {e['code']}: {e['message']}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Copy the bundled samples into a fresh work folder and run each scenario on them."""
    root = BUNDLED_SAMPLES
    inbox = root / "inbox"
    if not inbox.is_dir():
        print(f"bundled samples not found at {inbox}", file=sys.stderr)
        return int(ExitCode.CONFIG)
    work: Path = args.workdir.resolve()
    if work.exists():
        shutil.rmtree(work)  # the demo folder holds copies only, made by this command
    work.mkdir(parents=True, mode=0o700)
    shutil.copy2(root / "demo.toml", work / "config.toml")
    if (root / "data").is_dir():
        shutil.copytree(root / "data", work / "data")
    scenarios = all_scenarios()
    names = sorted(p.name for p in inbox.iterdir() if p.is_dir() and p.name in scenarios)
    for name in names:
        dest = work / "inbox" / name
        dest.mkdir(parents=True)
        for f in sorted((inbox / name).iterdir()):
            if f.is_file() and f.suffix.lower() != ".json":  # the truth stays behind
                shutil.copy2(f, dest / f.name)
    cfg = load_config(work / "config.toml")
    summaries = []
    for name in names:
        summary = run_scenario(name, cfg, trigger="demo")
        _print_summary(summary)
        print()
        summaries.append(summary)
    print(f"demo workspace: {work}")
    print(f"  outputs (workbooks with the correction sheet 確認シート, CSV): {work / 'out'}")
    print(f"  originals moved to: {work / 'done'} and {work / 'failed'} (with .reason.txt)")
    print("  confirmed files for the core systems (基幹系): "
          f"{cfg.resolve(cfg.exports.handoff_dir)}")
    print(f"  run log: {work / 'var' / 'runlog.sqlite'}  "
          f"(rpa --config {work / 'config.toml'} runs)")
    from robots.cli.report import demo_report

    demo_report(cfg, summaries, inbox, work / "report")
    return 0
