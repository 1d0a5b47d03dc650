"""Paper bid-qualification applications: OCR, review, correction, then the list.

Fast path: the replay engine (``tests/fakes.py``) reads the generated scan perfectly except
one field left off the tape, so the application must wait in 要確認 — never enter the list
on a doubtful value — until a reviewer fills the correction sheet, ``rpa corrections
import`` writes the confirmed CSV, and the next run (with nothing new in the inbox) takes
the confirmed values and lists the vendor as 新規. Slow path: the same scan through real
Tesseract + RapidOCR, where no unflagged value may differ from the paper.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fakes import install_fake_engine, record_tape, run_cli, uninstall_fake_engine, write_config

from ocr.templates import load_template
from robots.config import load_config
from robots.run.runner import RunSummary, run_scenario
from robots.sheets import REVIEW_SHEET
from robots.sheets.review import REVIEW_FIRST_ROW
from scenarios.contracts.applications import PAPER_CATEGORIES
from scenarios.contracts.samples import SAMPLE_TODAY
from scenarios.contracts.samples_write import write_sample_set

SCENARIO = "contracts"
FORM = Path(__file__).resolve().parents[1] / "scenarios" / SCENARIO / "forms" / \
    "bid_qualification.toml"
SECTION = f'[scenarios.{SCENARIO}]\nprevious_list = "data/{SCENARIO}/previous_list.csv"\n'
_LISTED = ("corporate_number", "company_name", "representative_name", "address", "valid_from",
           "valid_to", *(b for b, _g, _c in PAPER_CATEGORIES), *(g for _b, g, _c in
                                                                 PAPER_CATEGORIES if g))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gen = tmp_path_factory.mktemp("ct-paper-gen")
    write_sample_set(gen, count=40, seed=33, today=SAMPLE_TODAY, paper=1, degrade=0)
    return gen


def _scan(sample: Path) -> Path:
    (scan,) = (sample / "inbox" / SCENARIO).glob("*.tif")
    return scan


def _workspace(root: Path, sample: Path, engines: tuple[str, ...] | None = None) -> Path:
    shutil.copytree(sample / "data", root / "data")
    inbox = root / "inbox" / SCENARIO
    inbox.mkdir(parents=True)
    shutil.copy2(_scan(sample), inbox / _scan(sample).name)
    return write_config(root, engines=engines, extra=SECTION)


def _paper_truth(sample: Path) -> tuple[dict, dict[str, str]]:
    truth = json.loads((sample / "data" / SCENARIO / "truth.json").read_text("utf-8"))
    assert [a for a in truth["applications"] if a["paper"]]
    return truth, truth["paper_fields"][_scan(sample).name]


def _list(s: RunSummary) -> tuple[dict[str, str], set[str]]:
    assert s.out_dir is not None
    (book,) = s.out_dir.glob("資格者名簿_2*.xlsx")
    wb = openpyxl.load_workbook(book, read_only=True)

    def rows(name: str) -> list[dict]:
        raw = list(wb[name].iter_rows(values_only=True))
        return [dict(zip(raw[1], r, strict=True)) for r in raw[2:] if any(r)]

    return ({f"{r['法人番号']}|{r['業種']}": r["区分"] for r in rows("変更点")},
            {r["ファイル"] for r in rows("要確認")})


@pytest.fixture
def replay(sample: Path, tmp_path: Path) -> Iterator[Path]:
    """A tape reading the scan perfectly, except its representative's name."""
    _truth, fields = _paper_truth(sample)
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, tmp_path / "ep", tmp_path / "tape.json")
        printed = json.loads(_scan(sample).with_suffix(".json").read_text("utf-8"))["printed"]
        tape = record_tape([_scan(sample)], tmp_path / "tape.json")
        tape = {k: v for k, v in tape.items() if v != printed["representative_name"]}
        (tmp_path / "tape.json").write_text(json.dumps(tape, ensure_ascii=False), "utf-8")
        assert fields["representative_name"]
        yield tmp_path / "tape.json"
    uninstall_fake_engine()


def test_a_doubtful_paper_application_waits_for_review(sample: Path, tmp_path: Path,
                                                       replay: Path) -> None:
    truth, fields = _paper_truth(sample)
    number = fields["corporate_number"]
    root = tmp_path / "ws"
    cfg = load_config(_workspace(root, sample, engines=("replay",)))
    s = run_scenario(SCENARIO, cfg, jobs=1, today=SAMPLE_TODAY)
    assert s.counts == {"needs_review": 1}
    changes, reviews = _list(s)
    assert not any(k.startswith(number) for k in changes)  # not in the list
    assert reviews == {_scan(sample).name}

    # the reviewer keys what the paper says into the correction sheet and imports it
    assert s.out_dir is not None
    (book,) = s.out_dir.glob("申請書読取_*.xlsx")
    by_column = {f.column: f.name for f in load_template(FORM).fields}
    wb = openpyxl.load_workbook(book)
    ws = wb[REVIEW_SHEET]
    head = {ws.cell(REVIEW_FIRST_ROW - 1, c).value: c for c in range(1, ws.max_column + 1)}
    keyed = 0
    for r in range(REVIEW_FIRST_ROW, ws.max_row + 1):
        name = by_column.get(ws.cell(r, head["項目"]).value)
        if name:
            ws.cell(r, head["修正後の値"]).value = fields[name] or "空欄"
            ws.cell(r, head["確認済"]).value = "済"
            keyed += 1
    assert keyed >= 1
    wb.save(book)
    assert run_cli(["--config", str(root / "config.toml"), "corrections", "import",
                    str(book)]) == 0

    again = run_scenario(SCENARIO, cfg, jobs=1, today=SAMPLE_TODAY)  # nothing new came in
    assert again.counts == {}
    changes, reviews = _list(again)
    expected = {k: v for k, v in truth["changes"].items() if k.startswith(number)}
    assert expected and {k: v for k, v in changes.items() if k.startswith(number)} == expected
    assert reviews == set()
    db = sqlite3.connect(root / "var" / "contracts.sqlite")
    (confirmed,) = db.execute("SELECT confirmed FROM applications WHERE kind = 'paper'").fetchone()
    assert confirmed.endswith("入札参加資格審査申請書_確定.csv")


def test_a_paper_application_through_real_ocr(sample: Path, tmp_path: Path) -> None:
    _truth, fields = _paper_truth(sample)
    cfg = load_config(_workspace(tmp_path, sample))
    s = run_scenario(SCENARIO, cfg, jobs=1, today=SAMPLE_TODAY)
    assert s.counts.get("rejected", 0) == 0
    db = sqlite3.connect(tmp_path / "var" / "contracts.sqlite")
    values, problems = next((json.loads(v), json.loads(p)) for v, p in db.execute(
        "SELECT fields, problems FROM applications WHERE kind = 'paper'"))
    flagged = {name for name, _ in problems}
    silent = [n for n in _LISTED if n not in flagged and values.get(n, "") != fields[n]]
    assert not silent, f"unflagged OCR values differ from the form: {silent}"
    changes, reviews = _list(s)
    listed = any(k.startswith(fields["corporate_number"]) for k in changes)
    assert listed is (not flagged)  # listed only when nothing was doubtful
    assert (reviews == {_scan(sample).name}) is bool(flagged)
