"""The written report: a self-contained page a real browser renders, a workbook LibreOffice opens.

The page is opened in headless Chromium (Debian's package; ``make test`` installs it), which
must render it without a console error; the workbook is converted by LibreOffice headless.
Both are written once per module from the run log of known truth in ``report_fixtures``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import openpyxl
import pytest
from report_fixtures import F1, F2, RUNS, build_known_log
from test_corrections import JUMIN_VALUES, RUN_ID, build_run

from robots.db.runlog import RunLog
from robots.report import ReportFiles, build_report, write_report

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
SHEETS = ["判定", "業務の成果", "品質", "時間", "件数", "信頼性", "詳細"]
INTAKE = "申請書の受付（AI-OCR読取）"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    root = tmp_path_factory.mktemp("render")
    cfg = build_known_log(root)
    return write_report(cfg, out_dir=root / "report", now=NOW, tz=dt.UTC)


def _rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[list[object]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _cell(ws: openpyxl.worksheet.worksheet.Worksheet, first: tuple[object, ...], header: str
          ) -> openpyxl.cell.cell.Cell:
    """The cell under ``header`` (the nearest header row above) in the row starting ``first``."""
    rows = list(ws.iter_rows())
    for i, row in enumerate(rows):
        if tuple(c.value for c in row[:len(first)]) == first:
            head = next(r for r in reversed(rows[:i]) if header in [c.value for c in r])
            return row[[c.value for c in head].index(header)]
    raise AssertionError(f"no row {first} under {header}")


# -- HTML -------------------------------------------------------------------------------------


def test_html_is_self_contained_and_shows_the_figures(files: ReportFiles) -> None:
    page = files.html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ja">' in page
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", page)  # nothing outside
    assert "<script" not in page
    assert page.count('src="data:image/png;base64,') == 3  # volume, accuracy, time charts
    assert "@font-face" in page and "data:font/woff;base64," in page  # embedded Japanese font
    # the hand-computed figures of test_report, as the page shows them
    for shown in ("判定：見送り", "78.6 %", "7.14 %", "21.7 %", "97.1 %", "50.0 %",
                  "4.5 分", "5.8 分", "1.2 分", "2.0 秒", "42.0 秒", "4.2 時間",
                  "83.3 %（未達）", "8.33 %（未達）", "62.5 %（達成）",
                  "確認時間の記録がある1回の実行から求めた1項目あたりの時間（要確認の項目 180秒）",
                  "実測を様式に配分", "仮定値（実測ではありません）",
                  "未確認の項目が 4 件あります", "機械が読んだ項目",
                  RUNS["A"], "予定どおりに実行されなかった回"):
        assert shown in page, shown
    for internal in ("intake", "juminhyo_request", "bid_qualification", "baseline_minutes",
                     "page_not_recognised", "review_seconds"):
        assert internal not in page[page.index("<body>"):], internal
    text = re.sub(r"data:[^\"')]+", "", page)  # base64 may hold any letters
    assert "NaN" not in text and "None" not in text


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed "
                    "(make test installs Debian's chromium package)")
def test_chromium_renders_the_page_without_errors(files: ReportFiles, tmp_path: Path) -> None:
    def chromium(*args: str) -> subprocess.CompletedProcess[str]:
        profile = tmp_path / f"chromium-{uuid.uuid4().hex}"
        return subprocess.run(
            [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args,
             files.html.as_uri()],
            capture_output=True, text=True, timeout=180, check=False,
            env={**os.environ, "HOME": str(tmp_path)})

    dom = chromium("--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "判定：見送り" in dom.stdout and "信頼性" in dom.stdout
    console = [line for line in dom.stderr.splitlines()
               if "CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line]
    assert not console, console
    shot = tmp_path / "report.png"
    result = chromium("--window-size=1100,1600", f"--screenshot={shot}")
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as img:
        assert img.size == (1100, 1600)
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50  # text, tables, the verdict box: not a blank page


# -- Excel ------------------------------------------------------------------------------------


def test_workbook_holds_real_numbers(files: ReportFiles) -> None:
    wb = openpyxl.load_workbook(files.xlsx)
    assert wb.sheetnames == SHEETS
    acc = _cell(wb["品質"], (INTAKE, "全体（参考）"), "項目正読率")
    assert acc.value == pytest.approx(11 / 14) and acc.number_format == "0.0%"
    silent = _cell(wb["品質"], (INTAKE, "全体（参考）"), "見逃し率")
    assert silent.value == pytest.approx(1 / 14) and silent.number_format == "0.00%"
    chars = _cell(wb["品質"], (INTAKE, "全体（参考）"), "読取文字数")
    assert chars.value == 103 and chars.number_format == "#,##0"
    read = _cell(wb["品質"], (INTAKE, "機械が読んだ項目"), "項目数")
    assert read.value == 18
    review = _cell(wb["時間"], (INTAKE, "住民票の写し等交付請求書"), "確認（分/文書）")
    assert review.value == pytest.approx(15 / 3) and review.number_format == "0.0"
    shared = _cell(wb["時間"], (INTAKE, "住民票の写し等交付請求書"), "うち配分")
    assert shared.value == pytest.approx(9.0)
    base = _cell(wb["時間"], (INTAKE, "入札参加資格審査申請書"), "手入力の基準（分/文書）")
    assert base.value == 8.0
    hours = _cell(wb["時間"], (INTAKE, "年間削減見込み（時間）"), "値")
    assert hours.value == pytest.approx(250 / 60)
    docs = _cell(wb["件数"], (INTAKE, "合計"), "文書数")
    assert docs.value == 5
    week = _cell(wb["件数"], (INTAKE, dt.datetime(2026, 11, 9), "住民票の写し等交付請求書"),
                 "文書・件数")
    assert week.value == 2
    verdict = _rows(wb["判定"])
    assert [INTAKE, "業務全体", "紛失した文書（出力にも隔離にも届かなかったもの）", "0 件以下", 0,
            "達成"] in [r[:6] for r in verdict]
    evidence = next(r for r in verdict if r[1] == "住民票の写し等交付請求書"
                    and r[2] == "項目正読率（読取値＝確定値）")
    assert evidence[4] == pytest.approx(10 / 12) and evidence[6] == f"{RUNS['A']}, {RUNS['C']}"
    assert _cell(wb["信頼性"], (INTAKE,), "予定漏れ").value == 1
    details = _rows(wb["詳細"])  # the internal names live here, and only here
    assert [INTAKE, "intake", INTAKE, "業務"] in [r[:4] for r in details]
    assert [INTAKE, F1, "住民票の写し等交付請求書", "スキャンした様式"] in [r[:4] for r in details]
    assert any("baseline_minutes" in str(r[1]) for r in details)
    for sheet in SHEETS[:-1]:
        cells = [str(c) for r in _rows(wb[sheet]) for c in r]
        assert not any(c in ("intake", F1, F2) for c in cells), sheet
    for ws in wb.worksheets:  # printed one page wide, in landscape
        assert (ws.page_setup.orientation, ws.page_setup.fitToWidth) == ("landscape", 1)


def test_empty_report_writes_both_files(tmp_path: Path) -> None:
    cfg = build_known_log(tmp_path)
    files = write_report(cfg, since=dt.date(2030, 1, 1), out_dir=tmp_path / "r", now=NOW)
    assert "この期間に記録された実行はありません" in files.html.read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(files.xlsx)
    assert wb.sheetnames == SHEETS
    assert any("ありません" in str(r[1]) for r in _rows(wb["判定"]) if r and r[0] == "注記")


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_workbook(files: ReportFiles, tmp_path: Path) -> None:
    profile = tmp_path / f"lo-{uuid.uuid4().hex}"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "pdf", "--outdir", str(tmp_path), str(files.xlsx)],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "HOME": str(tmp_path)})
    pdf = tmp_path / f"{files.xlsx.stem}.pdf"
    assert result.returncode == 0 and pdf.is_file(), result.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                              text=True).stdout
        for expected in ("実証実験", "項目正読率", "見送り"):
            assert expected in text


# -- the demo's simulated reviewer ------------------------------------------------------------


def test_simulated_review_is_imported_and_labelled(tmp_path: Path) -> None:
    from robots.samples.review import SIMULATED_REVIEWER, simulate_review

    run = build_run(tmp_path / "ws")
    truth_dir = tmp_path / "truth"
    truth_dir.mkdir()
    truth = {**JUMIN_VALUES, "birth_date": "1985-04-13",  # flagged: on 確認シート
             "purpose": "年金手続のため"}  # not flagged: corrected on the data sheet
    second = {**JUMIN_VALUES, "name": "山田花子", "receipt_number": "00012399"}
    for name, fields in (("scan_0001", truth), ("scan_0002", second)):
        (truth_dir / f"{name}.json").write_text(json.dumps(
            {"pages": [{"form": F1, "fields": fields}]}, ensure_ascii=False), encoding="utf-8")
    sim = simulate_review(run.workbook, run.cfg, truth_dir)  # no truth for the F2 document
    assert (sim.corrected_flagged, sim.corrected_silent, sim.documents_without_truth) == (1, 1, 1)
    assert sim.result is not None and sim.result.status.value == "imported"
    assert sim.result.corrections == 2
    runlog = RunLog(run.db)
    try:
        (imp,) = runlog.imports(RUN_ID)
        assert (imp["simulated"], imp["who"], imp["review_minutes"]) == (
            1, SIMULATED_REVIEWER, None)
    finally:
        runlog.close()
    report = build_report(run.cfg, now=NOW)
    (s,) = report.scenarios
    assert s.quality.simulated_runs == [RUN_ID]
    assert (s.quality.overall.flagged_wrong, s.quality.overall.silent) == (1, 1)
    assert s.verdict.decision != "go"
    assert any("模擬レビュー" in c for c in s.verdict.conditions)
    files = write_report(run.cfg, out_dir=tmp_path / "r", now=NOW)
    assert "模擬レビュー" in files.html.read_text(encoding="utf-8")
    assert F2 in {d for d in s.volume.by_form}
