"""Outgoing inquiries through the real runner: upload files, letters, never twice, 再照会.

The generated ledger has rows not sent yet (no 照会日, no 回答期限). With ``[send]`` on, a
run writes the upload file of each online bank (read back here with the packaged layout)
and a PDF of letters for each other bank (rendered to PNG with poppler's pdftoppm, and its
text read back with pdftotext); the inquiries are then 未回答（期限内） with the deadline
counted from the day sent. The next run sends nothing again; a 再照会 asked for on the
再照会 sheet goes out once; a run that dies after writing its files sends them again.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from PIL import Image
from test_deposit_inquiry_run import SCENARIO, _read, _run, _truth, _workspace

import robots.run.runner
from robots.kit.tables import load_layouts, read_table
from scenarios.deposit_inquiry.samples import SAMPLE_TODAY
from scenarios.deposit_inquiry.samples_write import write_sample_set
from scenarios.deposit_inquiry.schemas import PACKAGED_MAPPINGS, SCHEMAS
from scenarios.deposit_inquiry.send import deadline_after

SENT_ON = date(2026, 10, 1)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same generated set as test_deposit_inquiry_run's (count 90, seed 21)."""
    root = tmp_path_factory.mktemp("di-samples")
    write_sample_set(root, count=90, seed=21, today=SAMPLE_TODAY, paper=0)
    return root


def _unsent(truth: dict) -> dict[str, str]:
    """Inquiry number → bank code of the rows not sent yet."""
    return {n: t["bank"] for n, t in truth["inquiries"].items() if t["fate"] == "unsent"}


def _config(tmp_path: Path, sample: Path, online: list[str]) -> Path:
    banks = ", ".join(f'"{b}"' for b in online)
    return _workspace(tmp_path, sample, extra=f"[scenarios.{SCENARIO}.send]\nenabled = true\n"
                                              f"online_banks = [{banks}]\n")


def _sent_files(out_dir: Path) -> list[Path]:
    folder = out_dir / "照会送付"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _sends(root: Path) -> list[tuple[str, int, str]]:
    db = sqlite3.connect(root / "var" / "deposit_inquiry.sqlite")
    return db.execute("SELECT inquiry, round, state FROM sends ORDER BY inquiry, round").fetchall()


def _pdf_text(path: Path) -> str:
    """The PDF's text without line breaks and spaces (a legal basis may wrap)."""
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return "".join(text.split())


@pytest.fixture(scope="module")
def poppler() -> None:
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.skip("poppler-utils (pdftoppm, pdftotext) is not installed")


def test_inquiries_go_out_once_online_or_by_letter(sample: Path, tmp_path: Path,
                                                   poppler: None) -> None:
    truth = _truth(sample)
    unsent = _unsent(truth)
    banks = sorted(set(unsent.values()))
    assert len(banks) >= 2 and len(unsent) >= 3
    online = banks[: len(banks) // 2]
    cfg = _config(tmp_path, sample, online)
    s = _run(cfg, SENT_ON)
    assert s.out_dir is not None
    files = _sent_files(s.out_dir)
    assert sorted(f.name.split("_")[1] for f in files) == banks  # one file per bank
    deadline = deadline_after(SENT_ON, 30)
    assert deadline.weekday() < 5
    layouts = load_layouts((PACKAGED_MAPPINGS,), SCHEMAS)
    for f in files:
        bank = f.name.split("_")[1]
        mine = sorted(n for n, b in unsent.items() if b == bank)
        assert (f.stat().st_mode & 0o777) == 0o600
        if bank in online:
            assert f.name.startswith("照会データ_") and f.suffix == ".csv"
            table = read_table(f, layouts, ("upload",))
            assert (table.layout.id, table.encoding) == ("upload_service", "cp932")
            rows = [raw for _, raw in table.rows]
            assert sorted(r["inquiry_number"] for r in rows) == mine
            assert {r["request_kind"] for r in rows} == {"1"}  # 新規
            assert {r["sent_date"] for r in rows} == {f"{SENT_ON:%Y%m%d}"}
            assert {r["deadline"] for r in rows} == {f"{deadline:%Y%m%d}"}
            assert all(r["legal_basis"] and r["kana"] and r["address"] for r in rows)
        else:
            assert f.name.startswith("照会書_") and f.suffix == ".pdf"
            text = _pdf_text(f)
            assert text.count("預貯金等の照会について") == len(mine)  # a page per inquiry
            assert all(n in text for n in mine) and "御中" in text and "再照会" not in text
            assert "国税徴収法第141条" in text or "生活保護法第29条" in text
            png = tmp_path / f"{bank}"
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(f),
                            str(png)], check=True)
            (page,) = tmp_path.glob(f"{bank}*.png")
            ink = np.asarray(Image.open(page).convert("L")) < 128
            assert page.stat().st_size > 5000 and 0.002 < ink.mean() < 0.3  # text, not blank
    out = _read(s)
    assert {out.inquiries[n] for n in unsent} == {"未回答（期限内）"}
    sent_sheet = list(openpyxl.load_workbook(out.workbook)["送付"].iter_rows(values_only=True))
    assert sorted(r[0] for r in sent_sheet[1:]) == sorted(unsent)
    assert len(_sends(tmp_path)) == len(unsent)

    again = _run(cfg, SENT_ON + timedelta(days=1))  # the same ledger the next day
    assert again.out_dir is not None and _sent_files(again.out_dir) == []
    assert _sends(tmp_path) == [(n, 1, "sent") for n in sorted(unsent)]
    assert {_read(again).inquiries[n] for n in unsent} == {"未回答（期限内）"}


def test_resend_is_sent_once_when_asked_for(sample: Path, tmp_path: Path,
                                            poppler: None) -> None:
    truth = _truth(sample)
    unsent = _unsent(truth)
    online = sorted(set(unsent.values()))[:1]
    cfg = _config(tmp_path, sample, online)
    _run(cfg, SENT_ON)
    late = SENT_ON + timedelta(days=60)
    out = _read(_run(cfg, late))
    assert {out.inquiries[n] for n in unsent} == {"未回答（期限超過）"}
    wb = openpyxl.load_workbook(out.workbook)
    ws = wb["再照会"]
    head = [c.value for c in ws[2]]
    rows = {ws.cell(r, head.index("照会番号") + 1).value: r for r in range(3, ws.max_row + 1)}
    letter = next(n for n, b in unsent.items() if b not in online)
    for n in (letter, next(n for n, b in unsent.items() if b in online)):
        r = rows[n]
        assert ws.cell(r, head.index("文書番号") + 1).value == f"美里町照第{n}号"
        ws.cell(r, head.index("再照会を依頼") + 1).value = "依頼する"
    wb.save(out.workbook)
    s = _run(cfg, late + timedelta(days=1))
    assert s.out_dir is not None
    files = _sent_files(s.out_dir)
    assert len(files) == 2
    pdf = next(f for f in files if f.suffix == ".pdf")
    text = _pdf_text(pdf)
    assert "（再照会）" in text and f"美里町照第{letter}号の2" in text
    csv_file = next(f for f in files if f.suffix == ".csv")
    layouts = load_layouts((PACKAGED_MAPPINGS,), SCHEMAS)
    (row,) = [raw for _, raw in read_table(csv_file, layouts, ("upload",)).rows]
    assert row["request_kind"] == "2" and row["document_number"].endswith("号の2")
    after = _read(s)
    assert after.inquiries[letter] == "未回答（期限内）"  # a new deadline from the 再照会
    assert _sent_files(_run(cfg, late + timedelta(days=2)).out_dir) == []  # once per request


def test_sends_of_a_run_that_died_go_out_again(sample: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    unsent = _unsent(_truth(sample))
    cfg = _config(tmp_path, sample, [])

    def power_cut(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt  # the files were written, the run never committed

    with monkeypatch.context() as m:
        m.setattr(robots.run.runner, "_commit", power_cut)
        with pytest.raises(KeyboardInterrupt):
            _run(cfg, SENT_ON)
    assert {state for *_, state in _sends(tmp_path)} == {"pending"}
    s = _run(cfg, SENT_ON)  # the dead run's folder is gone: its letters were never sent
    assert s.out_dir is not None and len(_sent_files(s.out_dir)) == len(set(unsent.values()))
    assert len(_sends(tmp_path)) == len(unsent)


def test_due_sends_only_what_was_never_sent_and_holds_what_cannot_go() -> None:
    from scenarios.deposit_inquiry.records import Inquiry
    from scenarios.deposit_inquiry.send import due
    from scenarios.deposit_inquiry.settings import SendSettings
    from scenarios.deposit_inquiry.store import Send

    def inquiry(number: str, **kw: object) -> Inquiry:
        base = dict(number=number, purpose="税務", name="山田太郎", kana="ヤマダタロウ",
                    birth_date="1980-01-02", address="熊本県", bank_code="0182",
                    branch_code="", sent_date="", deadline="", row=2)
        return Inquiry(**{**base, **kw})  # type: ignore[arg-type]

    sent = Send("2", 1, "letter", "0182", "", "美里町照第2号", "2026-09-01", "2026-10-01",
                "f.pdf", "r1", "sent", {})
    ledger = [inquiry("1"), inquiry("2"), inquiry("3", sent_date="2026-08-01"),
              inquiry("4", marked=False), inquiry("5", marked=True), inquiry("6", purpose="年金"),
              inquiry("7", problems=("金融機関コード: 全銀データにない（9999）",))]
    out, held = due(ledger, {"2": [sent]}, set(), SendSettings())
    assert [(o.inquiry.number, o.round) for o in out] == [("1", 1), ("5", 1)]
    assert [i.number for i, _ in held] == ["6", "7"]
    assert "根拠法令" in held[0][1] and "全銀データ" in held[1][1]
    out, _ = due(ledger, {"2": [sent]}, {"2", "3"}, SendSettings())  # 再照会 asked for
    assert [(o.inquiry.number, o.round) for o in out] == [("1", 1), ("2", 2), ("3", 2), ("5", 1)]
    assert out[1].previous == sent
