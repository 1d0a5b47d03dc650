"""Clerks judge findings (妥当 / 誤検知) on the workbook; the next run reads, keeps and counts them.

Also what a printed findings workbook must be (one page wide, 根拠 wrapped), and that the
bundled samples name no real corporation as a wrongdoer.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from fakes import write_config

from robots.config import load_config
from robots.kit.companies import company_key
from robots.run.runner import RunSummary, run_scenario
from scenarios.contracts.rules import RULES
from scenarios.contracts.samples import SAMPLE_TODAY
from scenarios.contracts.samples_names import real_keys, real_numbers
from scenarios.contracts.samples_write import write_sample_set
from scenarios.contracts.verdicts import FALSE, ID_HEADER, VALID, VERDICT_HEADER

BUNDLED = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ct-verdicts")
    write_sample_set(root, count=120, seed=5, today=SAMPLE_TODAY, paper=0)
    return root


def _run(root: Path, sample: Path) -> RunSummary:
    shutil.copytree(sample / "data", root / "data", dirs_exist_ok=True)
    cfg = write_config(root, extra='[scenarios.contracts]\ncontract_register = '
                                   '"data/contracts/register"\nas_of = 2026-10-01\n')
    return run_scenario("contracts", load_config(cfg), jobs=1, today=SAMPLE_TODAY)


def _book(s: RunSummary) -> Path:
    assert s.out_dir is not None
    (book,) = s.out_dir.glob("契約チェック結果_*.xlsx")
    return book


def test_verdicts_are_read_back_kept_and_counted(sample: Path, tmp_path: Path) -> None:
    first = _run(tmp_path, sample)
    book = _book(first)
    wb = openpyxl.load_workbook(book)
    judged: dict[str, str] = {}
    for ws in wb.worksheets[2:]:  # 集計, 担当課別, then one sheet per rule
        header = [c.value for c in ws[2]]
        c_id, c_v = header.index(ID_HEADER) + 1, header.index(VERDICT_HEADER) + 1
        for r in range(3, ws.max_row + 1):
            if ws.cell(r, c_id).value and len(judged) < 5:
                verdict = VALID if len(judged) % 2 == 0 else FALSE
                ws.cell(r, c_v, verdict)
                judged[ws.cell(r, c_id).value] = verdict
    wb.save(book)
    assert len(judged) == 5
    second = _run(tmp_path, sample)
    db = sqlite3.connect(tmp_path / "var" / "runlog.sqlite")
    msg = db.execute("SELECT message FROM events WHERE run_id = ? AND code = "
                     "'contracts_verdicts'", (second.run_id,)).fetchone()[0]
    assert "valid 3, false positive 2" in msg and "verdicts read this run 5" in msg
    shown = {}
    for ws in openpyxl.load_workbook(_book(second), read_only=True).worksheets[2:]:
        rows = list(ws.iter_rows(values_only=True))
        header = list(rows[1])
        for row in rows[2:]:
            if row[header.index(ID_HEADER)] in judged:
                shown[row[header.index(ID_HEADER)]] = row[header.index(VERDICT_HEADER)]
    assert shown == judged  # the new workbook shows what was decided
    third = _run(tmp_path, sample)  # the same verdicts again (the second workbook): no change
    msg = db.execute("SELECT message FROM events WHERE run_id = ? AND code = "
                     "'contracts_verdicts'", (third.run_id,)).fetchone()[0]
    assert "valid 3, false positive 2" in msg and "verdicts read this run 0" in msg


def test_findings_workbook_prints_one_page_wide_with_the_evidence_wrapped(sample: Path,
                                                                          tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(_book(_run(tmp_path, sample)))
    for ws in wb.worksheets:
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.orientation == "landscape"
    ws = next(wb[r.title] for r in RULES.values() if wb[r.title].max_row >= 3)
    header = [c.value for c in ws[2]]
    col = header.index("根拠（確認した内容）") + 1
    assert "_wrap_" in ws.cell(3, col).style  # the wrapping style of robots.sheets.results
    assert ws.row_dimensions[3].height > 20  # as high as its evidence, not one line
    last_printed = ws.print_area.split(":")[-1].lstrip("$").rstrip("0123456789$")
    printed = [c.value for c in ws[2][:openpyxl.utils.column_index_from_string(last_printed)]]
    assert "根拠（確認した内容）" in printed and ID_HEADER not in printed


def _no_real(names: list[str], numbers: list[str]) -> None:
    assert not {company_key(n) for n in names if n} & real_keys()
    assert not {n.replace("-", "") for n in numbers if n} & real_numbers()


@pytest.mark.parametrize("root", [BUNDLED, None])
def test_no_real_corporation_is_named_as_a_wrongdoer(root: Path | None, tmp_path: Path) -> None:
    if root is None:
        root = tmp_path
        write_sample_set(root, count=400, seed=99, today=SAMPLE_TODAY, paper=0)
    with (root / "inbox" / "contracts" / "suspensions.csv").open(encoding="utf-8-sig") as fh:
        sus = list(csv.DictReader(fh))
    assert sus
    _no_real([r["業者名"] for r in sus], [r["法人番号"] for r in sus])
    truth = json.loads((root / "data" / "contracts" / "truth.json").read_text("utf-8"))
    seeded = {f["contract"] for f in truth["findings"]}
    (reg,) = (root / "data" / "contracts" / "register").glob("*.csv")
    with reg.open(encoding="cp932") as fh:
        rows = [r for r in csv.DictReader(fh) if r["契約番号"] in seeded]
    assert rows
    _no_real([r["契約の相手方"] for r in rows], [r["法人番号"] for r in rows])
