"""A paper reply through real OCR (Tesseract + RapidOCR), reviewed, and reconciled again.

The scan is a generated reply form whose values agree with the generated ledger. After the
first run a field OCR is unsure of keeps the reply 要確認 (never 照合済 on a doubtful value);
a reviewer then types the printed values into the correction sheet, ``rpa corrections
import`` writes the confirmed CSV, and the next run — with nothing new in the inbox — takes
the confirmed values and reconciles the reply like a clean data reply.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from fakes import run_cli, write_config

from ocr.templates import load_template
from robots.config import load_config
from robots.run.runner import run_scenario
from robots.sheets import REVIEW_SHEET
from robots.sheets.review import REVIEW_FIRST_ROW
from scenarios.deposit_inquiry.samples import SAMPLE_TODAY
from scenarios.deposit_inquiry.samples_write import write_sample_set

SCENARIO = "deposit_inquiry"
FORM = Path(__file__).resolve().parents[1] / "scenarios" / SCENARIO / "forms" / "deposit_reply.toml"
_RELEVANT = ("inquiry_number", "bank_code", "branch_code", "subject_name_kana", "birth_date",
             "no_account", "account_type_1", "account_number_1", "balance_1")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gen = tmp_path_factory.mktemp("di-paper-gen")
    write_sample_set(gen, count=12, seed=31, today=SAMPLE_TODAY, paper=1, degrade=0)
    root = tmp_path_factory.mktemp("di-paper")
    shutil.copytree(gen / "data", root / "data")
    inbox = root / "inbox" / SCENARIO
    inbox.mkdir(parents=True)
    for f in (gen / "inbox" / SCENARIO).iterdir():
        if f.suffix == ".tif" or f.name == "service_reply_01.csv":
            shutil.copy2(f, inbox / f.name)
    write_config(root, extra=f'[scenarios.{SCENARIO}]\nledger = "data/{SCENARIO}/ledger.csv"\n')
    return root


def _replies(root: Path) -> dict[str, tuple[str, str, str]]:
    """Paper replies in the latest workbook: place → (status, linked inquiry, reasons)."""
    path = sorted((root / "out" / SCENARIO).glob("*/照合結果_*.xlsx"))[-1]
    rows = list(openpyxl.load_workbook(path, read_only=True)["回答一覧"].iter_rows(
        values_only=True))
    out = {}
    for r in rows[1:]:
        d = dict(zip(rows[0], r, strict=True))
        if d["回答元"] == "紙の回答書（OCR）":
            out[d["位置"]] = (d["状態"], d["照合先の照会番号"], d["理由"] or "")
    return out


def test_paper_reply_is_read_reviewed_and_reconciled(workspace: Path) -> None:
    truth = json.loads((workspace / "data" / SCENARIO / "truth.json").read_text("utf-8"))
    (scan, fields), = truth["paper_fields"].items()
    paper = [t for t in truth["replies"] if t["paper"]]
    cfg = load_config(workspace / "config.toml")
    s = run_scenario(SCENARIO, cfg, jobs=1, today=SAMPLE_TODAY)
    assert s.counts.get("rejected", 0) == 0 and s.out_dir is not None
    first = _replies(workspace)
    assert len(first) == len(paper)

    store = sqlite3.connect(workspace / "var" / "deposit_inquiry.sqlite")
    values, problems = next((json.loads(v), json.loads(p)) for v, p in store.execute(
        "SELECT fields, problems FROM reply_docs WHERE kind = 'paper'"))
    flagged = {name for name, _ in problems}
    silent = [n for n in _RELEVANT if n not in flagged and values.get(n, "") != fields[n]]
    assert not silent, f"unflagged OCR values differ from the form: {silent}"
    for status, linked, why in first.values():
        assert status in ("照合済", "要確認")
        if status == "照合済":
            assert not flagged & set(_RELEVANT) and linked == paper[0]["inquiry"]
        elif flagged & set(_RELEVANT):
            assert why  # the reason names what OCR was unsure of

    # the reviewer types what the paper says into every row of the correction sheet
    (book,) = s.out_dir.glob("回答書読取_*.xlsx")
    t = load_template(FORM)
    by_column = {f.column: f.name for f in t.fields}
    wb = openpyxl.load_workbook(book)
    ws = wb[REVIEW_SHEET]
    head = {ws.cell(REVIEW_FIRST_ROW - 1, c).value: c for c in range(1, ws.max_column + 1)}
    for r in range(REVIEW_FIRST_ROW, ws.max_row + 1):
        name = by_column.get(ws.cell(r, head["項目"]).value)
        if name:
            ws.cell(r, head["修正後の値"]).value = fields[name] or "空欄"
            ws.cell(r, head["確認済"]).value = "済"
    wb.save(book)
    assert run_cli(["--config", str(workspace / "config.toml"), "corrections", "import",
                    str(book)]) == 0
    assert list(s.out_dir.glob("預貯金等照会回答書_確定.csv"))

    again = run_scenario(SCENARIO, cfg, jobs=1, today=SAMPLE_TODAY)  # nothing new came in
    assert again.counts == {}
    after = _replies(workspace)
    expected = {t["locator"]: (t["status"], t["inquiry"]) for t in paper}
    assert {k: v[:2] for k, v in after.items()} == expected
    assert scan.endswith(".tif")
