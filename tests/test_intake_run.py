"""The intake scenario end to end: generated scans, real Tesseract + RapidOCR, the real runner.

Every workspace (config.toml, inbox, processing, done, failed, out, run log) lives in
``tmp_path``. Real OCR costs about a second per page, so the scans are generated once per
module and the main run (six pages in four files, three forms) is shared by the tests that
only look at its outputs. Runs that need no OCR use inputs that never reach a recogniser.

The central assertion is the silent-error property: a field that is *not* flagged for review
holds exactly the generator's truth. A flagged field may be wrong — a human looks at it.
"""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pytest
from fakes import backdate, count_files, forms_library, page_truths, run_cli, write_config

from ocr.results import FieldResult
from robots.config import forms_dirs, load_config
from robots.errors import ExitCode
from robots.records import DocumentRecord
from robots.run.runner import RunSummary, run_scenario
from robots.samples import generate
from robots.scenario import ItemResult, Outcome, RunContext, WorkItem
from robots.sheets import META_SHEET, REVIEW_SHEET
from robots.sheets.csvout import GETA
from robots.sheets.handoff import ATTENTION_PREFIX
from robots.sheets.outputs import ENCODING_REPORT, csv_header, data_csv_name
from robots.sheets.review import REVIEW_FIRST_ROW
from robots.sheets.write import sheet_title
from scenarios.intake import Intake

JUMIN_UNCONFIRMED = "住民票の写し等交付請求書_未確定.csv"
FORMS = ("juminhyo_request", "bid_qualification", "deposit_reply")


@dataclass(frozen=True)
class Scans:
    """Generated inputs, with their truth JSON beside them."""

    singles: dict[str, Path]  # form id → one single-page scan (PNG, JPEG, PDF)
    multipage: Path  # a PDF of three juminhyo_request pages


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Scans:
    out = tmp_path_factory.mktemp("scans")
    lib = forms_library()
    fmts = {"juminhyo_request": "png", "bid_qualification": "jpeg", "deposit_reply": "pdf"}
    singles = {fid: generate(lib.get(fid), count=1, seed=11, out_dir=out, degrade=1,
                             fmt=fmts[fid])[0] for fid in FORMS}
    (multi,) = generate(lib.get("juminhyo_request"), count=3, seed=12, out_dir=out, degrade=0,
                        fmt="pdf", pages_per_file=3)
    return Scans(singles, multi)


def _fill(root: Path, files: Mapping[str, Path | bytes]) -> Path:
    inbox = root / "inbox" / "intake"
    inbox.mkdir(parents=True, exist_ok=True)
    for name, src in files.items():
        (inbox / name).write_bytes(src if isinstance(src, bytes) else src.read_bytes())
    return inbox


def _csv(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.reader(fh))


@dataclass
class Doc:
    """One document of a run as the outputs and the run log show it."""

    doc_id: str
    form: str
    source: str
    page: str
    values: dict[str, str]  # from the CSV
    flagged: dict[str, bool]  # from the run log


def _documents(root: Path, summary: RunSummary) -> list[Doc]:
    lib = forms_library()
    db = sqlite3.connect(root / "var" / "runlog.sqlite")
    db.row_factory = sqlite3.Row
    flagged: dict[str, dict[str, bool]] = {}
    for r in db.execute("SELECT f.doc_id, f.name, f.flagged FROM fields f JOIN documents d "
                        "USING (doc_id) WHERE d.run_id = ?", (summary.run_id,)):
        flagged.setdefault(r["doc_id"], {})[r["name"]] = bool(r["flagged"])
    db.close()
    docs = []
    assert summary.out_dir is not None
    by_name = {data_csv_name(t, confirmed=False): t for t in lib}
    for path in sorted(summary.out_dir.glob("*.csv")):
        if path.name not in by_name:  # the encoding report, lists of rows held back
            continue
        t = by_name[path.name]
        rows = _csv(path)
        assert rows[0] == csv_header(t)
        names = [f.name for f in t.fields]
        for row in rows[1:]:
            docs.append(Doc(row[0], t.id, row[1], row[2],
                            dict(zip(names, row[4:], strict=True)), flagged[row[0]]))
    return sorted(docs, key=lambda d: (d.source, d.page))


def _assert_no_silent_errors(docs: list[Doc], sources: Mapping[str, Path]) -> int:
    """Every unflagged value equals the truth; returns how many fields were flagged."""
    silent = []
    n_flagged = 0
    for d in docs:
        truth = page_truths(sources[d.source])[int(d.page) - 1]
        assert truth["form"] == d.form
        for name, value in d.values.items():
            if d.flagged[name]:
                n_flagged += 1
            elif value != truth["fields"][name]:
                silent.append(f"{d.source} p{d.page} {name}: read {value!r}, "
                              f"truth {truth['fields'][name]!r}")
    assert not silent, "unflagged values that differ from the truth:\n" + "\n".join(silent)
    return n_flagged


# -- the main run: mixed forms and a multi-page PDF --------------------------------------------

@dataclass
class MainRun:
    root: Path
    summary: RunSummary
    docs: list[Doc]
    sources: dict[str, Path]
    before: dict[str, list[str]]


@pytest.fixture(scope="module")
def main_run(scans: Scans, tmp_path_factory: pytest.TempPathFactory) -> MainRun:
    root = tmp_path_factory.mktemp("main")
    cfg = load_config(write_config(root))
    sources = {p.name: p for p in [*scans.singles.values(), scans.multipage]}
    _fill(root, sources)
    before = count_files(root)
    summary = run_scenario("intake", cfg, jobs=1)
    return MainRun(root, summary, _documents(root, summary), sources, before)


def test_mixed_forms_one_sheet_and_one_csv_per_form(main_run: MainRun) -> None:
    s = main_run.summary
    assert s.documents == 6
    assert sum(s.counts.values()) == 4
    assert set(s.counts) <= {"ok", "needs_review"}, s.counts
    assert s.exit_code == (ExitCode.NEEDS_ATTENTION if s.documents_needing_review
                           else ExitCode.OK)
    assert s.out_dir is not None
    lib = forms_library()
    csvs = sorted(p.name for p in s.out_dir.glob("*.csv"))
    names = {f: data_csv_name(lib.get(f), confirmed=False) for f in FORMS}
    assert [c for c in csvs if not c.startswith(ATTENTION_PREFIX)] == sorted(names.values())
    (workbook,) = s.out_dir.glob("*.xlsx")
    wb = openpyxl.load_workbook(workbook)
    data_sheets = set(wb.sheetnames) - {REVIEW_SHEET, META_SHEET}
    assert data_sheets == {sheet_title(lib.get(f).title, set()) for f in FORMS}
    per_form = {f: sum(1 for d in main_run.docs if d.form == f) for f in FORMS}
    assert per_form == {"juminhyo_request": 4, "bid_qualification": 1, "deposit_reply": 1}
    for f in FORMS:
        ws = wb[sheet_title(lib.get(f).title, set())]
        rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
        assert len(rows) == per_form[f]  # rows = documents
        assert len(_csv(s.out_dir / names[f])) - 1 == per_form[f]
    # every flagged field's crop reached the sheet through the spool, which is gone now
    flagged = sum(1 for r in wb[REVIEW_SHEET].iter_rows(min_row=REVIEW_FIRST_ROW, values_only=True)
                  if r[0])
    assert flagged == len(wb[REVIEW_SHEET]._images) > 0
    assert not (s.out_dir / ".crops").exists()
    assert sorted(p.name for p in s.out_dir.iterdir()) == sorted([workbook.name, *csvs])


def test_no_unflagged_field_differs_from_truth(main_run: MainRun) -> None:
    flagged = _assert_no_silent_errors(main_run.docs, main_run.sources)
    total = sum(len(d.values) for d in main_run.docs)
    assert flagged < total / 2, f"{flagged} of {total} fields flagged: the reader saves nothing"


def test_multipage_pdf_gives_one_record_per_page(main_run: MainRun, scans: Scans) -> None:
    docs = [d for d in main_run.docs if d.source == scans.multipage.name]
    assert [d.page for d in docs] == ["1", "2", "3"]
    assert {d.form for d in docs} == {"juminhyo_request"}
    assert len({d.doc_id for d in docs}) == 3
    truths = page_truths(scans.multipage)
    # three different applicants, in page order
    assert [d.values["name"] if not d.flagged["name"] else t["fields"]["name"]
            for d, t in zip(docs, truths, strict=True)] == [t["fields"]["name"] for t in truths]
    db = sqlite3.connect(main_run.root / "var" / "runlog.sqlite")
    (pages,) = db.execute("SELECT pages FROM files WHERE source_name = ?",
                          (scans.multipage.name,)).fetchone()
    db.close()
    assert pages == 3


def test_inputs_put_away_and_none_lost(main_run: MainRun) -> None:
    after = count_files(main_run.root)
    assert after["done"] == main_run.before["inbox"]
    assert after["inbox"] == after["processing"] == after["failed"] == []
    day_folders = list((main_run.root / "done" / "intake").iterdir())
    assert [p.name for p in day_folders] == [date.today().isoformat()]


# -- jobs=2 gives the same records as jobs=1 ----------------------------------------------------

def test_process_pool_gives_the_same_records(main_run: MainRun, scans: Scans,
                                             tmp_path: Path) -> None:
    """Four pages (the 3-page PDF and one PNG) read by two spawned workers."""
    chosen = {p.name: p for p in (scans.multipage, scans.singles["juminhyo_request"])}
    cfg = load_config(write_config(tmp_path))
    _fill(tmp_path, chosen)
    s = run_scenario("intake", cfg, jobs=2)
    assert s.documents == 4
    pooled = {(d.source, d.page): (d.form, d.values, d.flagged) for d in _documents(tmp_path, s)}
    serial = {(d.source, d.page): (d.form, d.values, d.flagged) for d in main_run.docs
              if d.source in chosen}
    assert pooled == serial


# -- duplicates ---------------------------------------------------------------------------------

def test_duplicate_scan_is_quarantined_not_entered_twice(scans: Scans, tmp_path: Path) -> None:
    scan = scans.singles["juminhyo_request"]
    cfg = load_config(write_config(tmp_path))
    _fill(tmp_path, {"a_original.png": scan, "b_copy.png": scan})  # same bytes, two names
    s1 = run_scenario("intake", cfg, jobs=1)
    assert s1.counts.get("duplicate") == 1
    assert sum(v for k, v in s1.counts.items() if k != "duplicate") == 1
    files = count_files(tmp_path)
    assert files["done"] == ["a_original.png"]
    assert files["failed"] == ["b_copy.png"]
    note = next((tmp_path / "failed" / "intake").rglob("b_copy.png.reason.txt"))
    text = note.read_text(encoding="utf-8-sig")
    assert "重複" in text and "a_original.png" in text

    # the same content again, in a later run and under yet another name
    _fill(tmp_path, {"c_rescan.png": scan})
    s2 = run_scenario("intake", cfg, jobs=1)
    assert s2.counts == {"duplicate": 1}
    assert s2.documents == 0
    note = next((tmp_path / "failed" / "intake").rglob("c_rescan.png.reason.txt"))
    assert s1.run_id in note.read_text(encoding="utf-8-sig")
    rows = [row for p in (tmp_path / "out" / "intake").rglob("*.csv") for row in _csv(p)[1:]]
    assert len(rows) == 1  # entered once
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    outcomes = sorted(r[0] for r in db.execute("SELECT outcome FROM files"))
    db.close()
    assert outcomes == ["duplicate", "duplicate", "processed"]
    assert len(count_files(tmp_path)["failed"]) == 2


# -- a file still being written -----------------------------------------------------------------

def test_half_written_file_is_left_and_taken_later(scans: Scans, tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path, settle_seconds=30))
    inbox = _fill(tmp_path, {"settled.png": scans.singles["juminhyo_request"],
                             "arriving.pdf": scans.singles["deposit_reply"]})
    old = time.time() - 3600
    os.utime(inbox / "settled.png", (old, old))
    fresh = (inbox / "arriving.pdf").stat()  # mtime: now, as a scanner still writing it
    s1 = run_scenario("intake", cfg, jobs=1)
    assert s1.left_for_later == 1
    assert s1.documents == 1
    assert count_files(tmp_path)["inbox"] == ["arriving.pdf"]
    st = (inbox / "arriving.pdf").stat()
    assert (st.st_size, st.st_mtime_ns, st.st_ino) == (fresh.st_size, fresh.st_mtime_ns,
                                                       fresh.st_ino)
    assert (inbox / "arriving.pdf").read_bytes() == scans.singles["deposit_reply"].read_bytes()

    os.utime(inbox / "arriving.pdf", (old, old))  # the scanner finished long ago
    s2 = run_scenario("intake", cfg, jobs=1)
    assert s2.left_for_later == 0
    assert s2.documents == 1
    files = count_files(tmp_path)
    assert files["inbox"] == []
    assert files["done"] == ["arriving.pdf", "settled.png"]


# -- bad files among good ones ------------------------------------------------------------------

def _not_a_form_photo() -> bytes:
    """A 'photo of a cat': colour gradients and noise, no form, no QR code."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:1200, 0:900]
    img = np.dstack([x / 900 * 255, y / 1200 * 255, rng.integers(0, 255, (1200, 900))])
    ok, buf = cv2.imencode(".jpg", img.astype(np.uint8))
    assert ok
    return buf.tobytes()


def test_bad_files_are_quarantined_and_the_run_goes_on(
        scans: Scans, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pdf = scans.multipage.read_bytes()
    bad = {
        "truncated.pdf": pdf[: len(pdf) // 2],
        "empty.png": b"",
        "letter.pdf": "美里町役場 御中\nこれはPDFではありません。\n".encode(),
        "cat.jpg": _not_a_form_photo(),
        "notes.docx": b"PK\x03\x04" + bytes(200),
    }
    cfg = write_config(tmp_path)
    good = {"good.png": scans.singles["juminhyo_request"],
            "good2.jpg": scans.singles["bid_qualification"]}
    inbox = _fill(tmp_path, {**good, **bad})
    backdate(*(inbox / n for n in bad))  # dropped an hour ago: a file cut short is taken now
    before = count_files(tmp_path)
    code = run_cli(["--config", str(cfg), "run", "intake", "--jobs", "1"])
    assert code == ExitCode.NEEDS_ATTENTION
    assert "rejected 5" in capsys.readouterr().out
    after = count_files(tmp_path)
    assert sorted(after["done"] + after["failed"]) == before["inbox"]  # nothing lost
    assert after["done"] == sorted(good)
    assert after["failed"] == sorted(bad)
    assert after["inbox"] == after["processing"] == []
    failed_day = tmp_path / "failed" / "intake" / date.today().isoformat()
    expected = {
        "truncated.pdf": "壊れている",
        "empty.png": "空です",
        "letter.pdf": "対応していない",
        "notes.docx": "対応していない",
        "cat.jpg": "様式",
    }
    for name, words in expected.items():
        assert (failed_day / name).read_bytes() == bad[name]  # never altered
        note = (failed_day / f"{name}.reason.txt").read_bytes()
        assert note.startswith(b"\xef\xbb\xbf")
        text = note.decode("utf-8-sig")
        assert "読み取りできませんでした" in text
        assert words in text, (name, text)
    (workbook,) = (tmp_path / "out" / "intake").rglob("*.xlsx")
    assert workbook.exists()


# -- CP932 for the core systems -----------------------------------------------------------------

def test_cp932_csv_marks_and_reports_unencodable_characters(tmp_path: Path) -> None:
    """𠮷 is not in CP932: 〓 in the cell, and the report names the document and column.

    髙 and 﨑 are CP932-only characters (not in plain Shift_JIS) and must survive.
    """
    cfg = load_config(write_config(tmp_path, extra='[csv]\nencoding = "cp932"\n'))
    lib = forms_library()
    t = lib.get("juminhyo_request")
    values = {"name": "𠮷田髙﨑", "name_kana": "ヨシダタカサキ", "address": "熊本県下益城郡美里町"}
    fields = [FieldResult(f.name, f.label, f.type.value, values.get(f.name, ""),
                          values.get(f.name, ""), 1.0) for f in t.fields]
    rec = DocumentRecord("RUN-001-01", t.id, "申請書.pdf", "1", fields)
    item = WorkItem(1, tmp_path / "申請書.pdf", "申請書.pdf", "0" * 64, 1)
    intake = Intake()
    ctx = RunContext(run_id="RUN", scenario="intake", config=cfg,
                     settings=intake.settings(cfg), out_dir=tmp_path / "out",
                     today=date(2026, 11, 26), forms_dirs=tuple(forms_dirs(cfg)))
    out = tmp_path / "out"
    out.mkdir()
    written = intake.finish([ItemResult(item, Outcome.OK, [rec])], ctx, out)
    names = sorted(p.name for p in written)
    assert names == sorted(["申請データ_RUN.xlsx", JUMIN_UNCONFIRMED, ENCODING_REPORT])
    raw = (out / JUMIN_UNCONFIRMED).read_bytes()
    text = raw.decode("cp932")  # strict: the whole file is CP932
    assert b"\r\n" in raw
    rows = list(csv.reader(text.splitlines()))
    col = rows[0].index(t.by_name["name"].column)
    assert rows[1][col] == f"{GETA}田髙﨑"
    assert rows[1][rows[0].index(t.by_name["address"].column)] == "熊本県下益城郡美里町"
    report = _csv(out / ENCODING_REPORT)
    assert report == [["文書ID", "項目", "変換できない文字"],
                      ["RUN-001-01", t.by_name["name"].column, "𠮷"]]


# -- exit codes of `rpa run` ----------------------------------------------------------------------

def test_empty_inbox_is_a_clean_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    assert run_cli(["--config", str(cfg), "run", "intake"]) == ExitCode.OK
    assert "no files" in capsys.readouterr().out


def test_unknown_config_key_exits_3_and_names_it(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, extra="[inbox_typo]\nsettle = 1\n")
    text = cfg.read_text(encoding="utf-8").replace("settle_seconds", "settle_secs")
    cfg.write_text(text, encoding="utf-8")
    _fill(tmp_path, {"x.pdf": b"%PDF-1.4"})
    assert run_cli(["--config", str(cfg), "run", "intake"]) == ExitCode.CONFIG
    err = capsys.readouterr().err
    assert "inbox.settle_secs" in err and "inbox_typo" in err
    assert "unknown key" in err
    assert count_files(tmp_path)["inbox"] == ["x.pdf"]  # nothing was touched


@pytest.mark.parametrize(("extra", "key"), [
    ("[scenarios.intake]\nwrkbook_name = 'x'\n", "scenarios.intake.wrkbook_name"),
    ("[scenarios.intake]\nforms = ['no_such_form']\n", "no_such_form"),
    ("[csv]\nencoding = 'shift_jis'\n", "csv.encoding"),
])
def test_bad_config_values_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  extra: str, key: str) -> None:
    cfg = write_config(tmp_path, extra=extra)
    _fill(tmp_path, {"x.pdf": b"%PDF-1.4"})
    assert run_cli(["--config", str(cfg), "run", "intake"]) == ExitCode.CONFIG
    assert key in capsys.readouterr().err
    assert count_files(tmp_path)["inbox"] == ["x.pdf"]


def test_missing_config_file_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--config", str(tmp_path / "nope.toml"), "run", "intake"]) == ExitCode.CONFIG
    assert "file not found" in capsys.readouterr().err


def test_unknown_scenario_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    assert run_cli(["--config", str(cfg), "run", "payroll"]) == ExitCode.CONFIG
    err = capsys.readouterr().err
    assert "payroll" in err and "intake" in err


@pytest.mark.parametrize("argv", [["run"], ["frobnicate"], ["run", "intake", "--jobs", "x"],
                                  []])
def test_usage_errors_exit_64(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(argv) == ExitCode.USAGE
    assert "usage:" in capsys.readouterr().err


def test_unknown_engine_for_rpa_ocr_exits_3(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    (tmp_path / "scan.png").write_bytes(b"")  # never opened: the engines fail first
    argv = ["--config", str(cfg), "ocr", str(tmp_path / "scan.png"),
            "--engines", "tesseract,nonesuch"]
    assert run_cli(argv) == ExitCode.CONFIG
    assert "nonesuch" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["run", "--help"]) == 0
    assert "scenario" in capsys.readouterr().out


def test_config_error_stops_before_any_folder_is_made(tmp_path: Path) -> None:
    """A config error stops before the folders are even created."""
    cfg = write_config(tmp_path, extra="workers = 2\n")  # lands in [run]: run.workers
    shutil.rmtree(tmp_path / "inbox", ignore_errors=True)
    assert run_cli(["--config", str(cfg), "run", "intake"]) == ExitCode.CONFIG
    assert not (tmp_path / "processing").exists()


def test_a_closed_pipe_is_a_normal_end(tmp_path: Path) -> None:
    """`rpa forms list | head -1`: the reader closing early is not an error (exit 0, quiet)."""
    import subprocess

    from service_kit import rpa_command

    proc = subprocess.Popen([*rpa_command(), "forms", "list"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command has printed anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "unexpected error" not in err, err
