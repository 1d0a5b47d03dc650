"""Values from outside never run as formulas: OCR and text-layer values, file names, reviewers.

A name ``=1+2`` or ``=HYPERLINK(...)`` read from a form, a file dropped as ``=cmd|...pdf``, a
reviewer typing ``=1+2`` into 修正後の値: in every workbook the product writes they are text
cells (no ``<f>`` element in the sheet XML), in every CSV they carry the leading ``'`` of the
OWASP convention, and the field that looks like a formula is flagged for review.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from fakes import text_layer_form, write_config
from test_corrections import D1, build_run, reviewed

from ocr.templates import TemplateLibrary
from robots.config import forms_dirs, load_config
from robots.run.runner import run_scenario
from robots.sheets.common import REVIEW_SHEET, looks_like_formula
from robots.sheets.corrections import import_corrections
from robots.sheets.csvout import write_csv

JUMIN_CONFIRMED = "住民票の写し等交付請求書_確定.csv"
JUMIN_UNCONFIRMED = "住民票の写し等交付請求書_未確定.csv"
NAME = "=1+2"
ADDRESS = "=cmd|' /C calc'!A0"
PURPOSE = "@SUM(1+1)*cmd|' /C calc'!A0"
FILE_NAME = "=cmd|' C calc'!A0.pdf"


def _formulas(xlsx: Path) -> list[str]:
    """Every formula element in every sheet of a workbook (there must be none)."""
    with zipfile.ZipFile(xlsx) as z:
        return [f"{n}: {z.read(n)[:200]!r}" for n in z.namelist()
                if n.startswith("xl/worksheets/") and b"<f>" in z.read(n)]


@pytest.mark.parametrize(("value", "formula"), [
    ("=1+2", True), ("+A1*2", True), ("-2+3", True), ("@SUM(A1)", True), ("\tx", True),
    ("\r=1", True), ("-5", False), ("+81", False), ("12.5", False), ("山田=太郎", False),
    ("", False),
])
def test_what_looks_like_a_formula(value: str, formula: bool) -> None:
    assert looks_like_formula(value) is formula


def test_csv_quotes_formulas_unless_told_not_to(tmp_path: Path) -> None:
    rows = [["d1", "=HYPERLINK(\"http://x\")", "-5"], ["d2", "@SUM(A1)", "+A1*2"]]
    write_csv(tmp_path / "a.csv", ["id", "a", "b"], rows)
    got = list(csv.reader(io.StringIO((tmp_path / "a.csv").read_text("utf-8-sig"))))
    assert got[1:] == [["d1", "'=HYPERLINK(\"http://x\")", "-5"], ["d2", "'@SUM(A1)", "'+A1*2"]]
    write_csv(tmp_path / "b.csv", ["id", "a", "b"], rows, formula_escape=False)
    raw = list(csv.reader(io.StringIO((tmp_path / "b.csv").read_text("utf-8-sig"))))
    assert raw[1:] == rows


def test_intake_keeps_formulas_as_text_and_flags_them(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path))
    template = TemplateLibrary.from_dirs(forms_dirs(cfg)).get("juminhyo_request")
    inbox = tmp_path / "inbox" / "intake"
    inbox.mkdir(parents=True)
    text_layer_form(inbox / FILE_NAME, template, {
        "request_date": "2026-11-20", "name": NAME, "name_kana": "ヤマダタロウ",
        "birth_date": "1985-04-12", "postal_code": "861-4401", "address": ADDRESS,
        "phone": "0964-47-1111", "purpose": PURPOSE})
    summary = run_scenario("intake", cfg)
    assert summary.counts == {"needs_review": 1}, summary.counts
    out = summary.out_dir
    assert out is not None
    with (out / JUMIN_UNCONFIRMED).open(encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["氏名"] == "'" + NAME and row["住所"] == "'" + ADDRESS
    assert row["元ファイル"] == "'" + FILE_NAME
    workbook = next(out.glob("申請データ_*.xlsx"))
    assert _formulas(workbook) == []
    wb = openpyxl.load_workbook(workbook)
    review = wb[REVIEW_SHEET]
    cells = {c.value: c for r in review.iter_rows() for c in r if isinstance(c.value, str)}
    assert cells[NAME].data_type == "s" and cells[FILE_NAME].data_type == "s"
    reasons = " ".join(str(c.value) for r in review.iter_rows() for c in r)
    assert "数式のような値" in reasons  # the name, the address and the purpose are flagged


def test_reviewer_formula_stays_text_in_confirmed_outputs(tmp_path: Path) -> None:
    run = build_run(tmp_path)
    path = reviewed(run, "review.xlsx", answers={(D1, "氏名"): "=1+2"})
    wb = openpyxl.load_workbook(path)  # typed as '=1+2 (Excel keeps it as text)
    for row in wb[REVIEW_SHEET].iter_rows():
        for c in row:
            if c.value == "=1+2":
                c.data_type = "s"
    wb.save(path)
    result = import_corrections(path, run.cfg, who="tester")
    assert result.exit_code == 0, result
    with (run.out_dir / JUMIN_CONFIRMED).open(encoding="cp932", newline="") as fh:
        rows = {r["文書ID"]: r for r in csv.DictReader(fh)}
    assert rows[D1]["氏名"] == "'=1+2"
    confirmed = next(run.out_dir.glob("確定データ_*.xlsx"))
    assert _formulas(confirmed) == []
