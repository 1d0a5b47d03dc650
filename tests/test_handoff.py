"""Hand-off to the core systems: only confirmed data, once per document, from the right folder.

Runs are built as the runner builds them (``test_corrections.build_run``: real run log, real
signed workbook, real CSV); the reviewer is openpyxl; the shipped export layouts write real
files into a real hand-off folder, which is then read back byte for byte.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from test_corrections import (
    D1,
    D2,
    D3,
    JUMIN,
    NOW,
    RUN_ID,
    Run,
    build_run,
    first_review,
    reviewed,
)

import robots.sheets.corrections
from ocr.reasons import reason
from ocr.results import FieldResult
from ocr.templates import FormTemplate, TemplateLibrary
from robots.config import Config, forms_dirs, load_config
from robots.db.runlog import RunLog
from robots.exports import Row, render
from robots.records import DocumentRecord
from robots.sheets import REVIEW_SHEET, write_workbook
from robots.sheets.corrections import ImportStatus, import_corrections
from robots.sheets.handoff import check_exports, export_layouts, recover_handoffs
from robots.sheets.outputs import data_csv_name, write_form_csvs
from robots.sheets.read import read_workbook_records

MADOGUCHI = f"証明書交付システム/交付請求取込_確定_{RUN_ID}.csv"
JUKI = f"住民記録システム/証明書交付記録_確定_{RUN_ID}.dat"
GYOSHA = f"契約管理システム/業者登録取込_確定_{RUN_ID}.csv"


def handed(root: Path) -> dict[str, bytes]:
    folder = root / "handoff"
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")} if folder.is_dir() else {}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def db_rows(root: Path, sql: str) -> list[sqlite3.Row]:
    con = sqlite3.connect(root / "var" / "runlog.sqlite")
    con.row_factory = sqlite3.Row
    try:
        return list(con.execute(sql))
    finally:
        con.close()


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return build_run(tmp_path)


def test_nothing_leaves_before_confirmation_and_nothing_twice(run: Run, tmp_path: Path) -> None:
    assert handed(tmp_path) == {}  # the run's documents need review: they wait for it
    wb = first_review(run)

    result = import_corrections(wb, run.cfg, now=NOW)

    files = handed(tmp_path)
    assert sorted(files) == sorted([MADOGUCHI, JUKI, GYOSHA])
    madoguchi = files[MADOGUCHI].decode("shift_jis").splitlines()  # JIS X 0208 only
    assert madoguchi[0].startswith("受付番号,請求日,請求者氏名")
    assert [line.split(",")[-1] for line in madoguchi[1:]] == [D2]  # 髙橋 is held back
    assert madoguchi[1].split(",")[:3] == ["00012399", "5081120", "山田花子"]
    assert len(files[JUKI]) == 202 and files[JUKI].decode("shift_jis").startswith("D00012399")
    # what was corrected is what left: the reviewer's phone number, hyphenated by area code
    assert "0964-47-2222" in madoguchi[1]
    h = result.handoff
    assert h is not None and {p.doc_id for p in h.held} == {D1}
    assert {p.column for p in h.held} == {"請求者氏名", "氏名"}
    attention = run.out_dir / f"要対応_交付請求取込_{RUN_ID}.csv"
    assert attention in h.attention and "髙" in attention.read_text(encoding="utf-8-sig")
    text = result.describe()
    assert "handed off to the core systems (3 row(s))" in text and "NOT handed off" in text

    logged = db_rows(tmp_path, "SELECT * FROM handoffs ORDER BY handoff_id")
    assert {r["path"]: r["status"] for r in logged} == {
        f"handoff/{p}": "delivered" for p in (MADOGUCHI, JUKI, GYOSHA)}
    for r in logged:
        assert r["sha256"] == hashlib.sha256(files[r["path"].removeprefix("handoff/")]
                                             ).hexdigest()
        assert r["import_id"] == result.import_id and r["rows"] == 1
    docs = db_rows(tmp_path, "SELECT doc_id, layout_id FROM handoff_docs ORDER BY 1, 2")
    assert [(r["doc_id"], r["layout_id"]) for r in docs] == [
        (D2, "juminhyo_request_juki"), (D2, "juminhyo_request_madoguchi"),
        (D3, "bid_qualification_gyosha")]

    # the same workbook again: nothing new leaves
    again = import_corrections(wb, run.cfg, now=NOW)
    assert again.status is ImportStatus.ALREADY_IMPORTED and handed(tmp_path) == files

    # a later version: 髙 corrected to 高 lets D1 leave; D2's new correction is too late
    v2 = reviewed(run, "v2.xlsx", base=wb, answers={(D1, "氏名"): "高橋一郎"},
                  data={(JUMIN, D2, "電話番号"): "0964-47-3333"})
    later = import_corrections(v2, run.cfg, now=NOW)
    assert later.status is ImportStatus.IMPORTED
    now = handed(tmp_path)
    new = sorted(set(now) - set(files))
    assert new == [f"住民記録システム/証明書交付記録_確定_{RUN_ID}_2.dat",
                   f"証明書交付システム/交付請求取込_確定_{RUN_ID}_2.csv"]
    assert {k: now[k] for k in files} == files  # files that left are never rewritten
    second = now[new[1]].decode("shift_jis").splitlines()
    assert len(second) == 2 and second[1].endswith(D1) and "高橋一郎" in second[1]
    assert later.handoff is not None and set(later.handoff.already_left) == {D2}
    assert "基幹系で直接修正してください" in later.describe()
    assert not attention.exists()  # nothing is held back any more


def test_substitution_table_applied_and_logged(tmp_path: Path) -> None:
    (tmp_path / "subs.toml").write_text(
        '[[substitute]]\nchar = "髙"\ntext = "高"\ndecided_by = "住民課 山田"\n'
        'decided_on = 2026-11-01\nnote = "証明書交付システムは JIS X 0208 のみ"\n',
        encoding="utf-8")
    (tmp_path / "config.toml").write_text(
        '[csv]\nencoding = "cp932"\n[exports]\nsubstitutions = ["subs.toml"]\n',
        encoding="utf-8")
    run = build_run(tmp_path)
    import_corrections(first_review(run), run.cfg, now=NOW)
    madoguchi = handed(tmp_path)[MADOGUCHI].decode("shift_jis").splitlines()
    assert [line.split(",")[-1] for line in madoguchi[1:]] == [D1, D2]
    assert madoguchi[1].split(",")[2] == "高橋一郎"
    events = [r["message"] for r in db_rows(
        tmp_path, "SELECT message FROM events WHERE code = 'handoff_substitution'")]
    assert events == [
        "layout juminhyo_request_juki: U+9AD9 髙 written as 高 in 1 value(s) "
        "(decided by 住民課 山田)",
        "layout juminhyo_request_madoguchi: U+9AD9 髙 written as 高 in 1 value(s) "
        "(decided by 住民課 山田)"]
    # the review data keep the name as written
    confirmed = (run.out_dir / data_csv_name(run.templates["juminhyo_request"], confirmed=True))
    assert "髙橋一郎" in confirmed.read_text(encoding="cp932")


def test_a_hand_off_cut_short_after_its_commit_is_finished_next_time(
        run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def power_cut(runlog: RunLog, staged: object) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as m:
        m.setattr(robots.sheets.corrections, "publish", power_cut)
        import_corrections(first_review(run), run.cfg, now=NOW)
    assert handed(tmp_path) == {}  # nothing under a final name
    parts = sorted(p.name for p in (tmp_path / "handoff").rglob(".*.part"))
    assert len(parts) == 3
    assert {r["status"] for r in db_rows(tmp_path, "SELECT status FROM handoffs")} == {"staged"}
    orphan = tmp_path / "handoff" / "契約管理システム" / ".業者登録取込_確定_x.csv.part"
    orphan.write_bytes(b"never committed")

    runlog = RunLog(run.db, key=run.cfg.resolve(run.cfg.paths.digest_key))
    try:
        assert recover_handoffs(run.cfg, runlog) == 3
    finally:
        runlog.close()
    assert sorted(handed(tmp_path)) == sorted([MADOGUCHI, JUKI, GYOSHA])
    assert {r["status"] for r in db_rows(tmp_path, "SELECT status FROM handoffs")} == {
        "delivered"}


def test_a_copied_workspace_imports_into_itself_only(tmp_path: Path) -> None:
    original = tmp_path / "a"
    build_run(original)
    copy = tmp_path / "b"
    shutil.copytree(original, copy)
    before = snapshot(original)
    cfg = load_config(copy / "config.toml")
    run_b = Run(copy / "config.toml", cfg, copy / "out" / "intake" / RUN_ID,
                copy / "out" / "intake" / RUN_ID / f"申請データ_{RUN_ID}.xlsx",
                copy / "var" / "runlog.sqlite", {}, [])
    out = db_rows(copy, "SELECT out_dir FROM runs")[0]["out_dir"]
    assert not Path(out).is_absolute()  # stored relative to the workspace

    result = import_corrections(first_review(run_b), cfg, now=NOW)

    assert result.status is ImportStatus.IMPORTED
    assert result.out_dir == run_b.out_dir
    assert (run_b.out_dir / data_csv_name(load_template_of(cfg), confirmed=True)).is_file()
    assert handed(copy) and not (original / "handoff").exists()
    assert snapshot(original) == before  # not one byte of the original changed


def test_a_run_log_from_before_relative_paths_still_finds_the_copy(tmp_path: Path) -> None:
    original = tmp_path / "a"
    build_run(original)
    copy = tmp_path / "b"
    shutil.copytree(original, copy)
    con = sqlite3.connect(copy / "var" / "runlog.sqlite")
    con.execute("UPDATE runs SET out_dir = ?", (str(original / "out" / "intake" / RUN_ID),))
    con.commit()
    con.close()
    before = snapshot(original)
    cfg = load_config(copy / "config.toml")
    run_b = Run(copy / "config.toml", cfg, copy / "out" / "intake" / RUN_ID,
                copy / "out" / "intake" / RUN_ID / f"申請データ_{RUN_ID}.xlsx",
                copy / "var" / "runlog.sqlite", {}, [])
    result = import_corrections(first_review(run_b), cfg, now=NOW)
    assert result.out_dir == run_b.out_dir and snapshot(original) == before


def load_template_of(cfg: Config) -> FormTemplate:
    return TemplateLibrary.from_dirs(forms_dirs(cfg)).get("juminhyo_request")


# -- personal numbers ------------------------------------------------------------------------


MY = "123456789018"


def _town_form(root: Path) -> None:
    """A town's own form that lawfully collects a 個人番号 (as a 児童手当 claim does)."""
    forms = root / "forms"
    forms.mkdir(parents=True)
    base = TemplateLibrary.from_dirs(forms_dirs(Config()))
    text = (base.get("juminhyo_request").source.read_text(encoding="utf-8")
            .replace('id = "juminhyo_request"', 'id = "kojin_test"')
            .replace('title = "住民票の写し等交付請求書"', 'title = "個人番号試験"')
            .replace('blank = "juminhyo_request.png"', "")
            + '\n[[fields]]\nname = "mynumber"\nlabel = "個人番号"\ntype = "mynumber"\n'
            'box = [44.0, 131.0, 120.0, 12.0]\n')
    (forms / "kojin_test.toml").write_text(text, encoding="utf-8")
    exports = root / "exports"
    exports.mkdir()
    (exports / "kojin.toml").write_text(
        '[layout]\nid = "kojin"\nform = "kojin_test"\ntarget = "児童手当システム"\n'
        'title = "試験"\nfile_name = "個人番号試験"\n'
        '[[columns]]\nname = "個人番号"\nfield = "mynumber"\n'
        '[[columns]]\nname = "氏名"\nfield = "name"\n', encoding="utf-8")


def test_a_personal_number_is_masked_sealed_and_leaves_only_where_allowed(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        'forms_dirs = ["forms"]\n[exports]\ndirs = ["exports"]\n', encoding="utf-8")
    _town_form(tmp_path)
    cfg = load_config(tmp_path / "config.toml")
    # named by a layout whose target is not allowed: the run would stop before any work
    assert any("mynumber_targets" in p for p in check_exports(cfg))

    (tmp_path / "config.toml").write_text(
        'forms_dirs = ["forms"]\n[exports]\ndirs = ["exports"]\n'
        'mynumber_targets = ["児童手当システム"]\n', encoding="utf-8")
    cfg = load_config(tmp_path / "config.toml")
    assert check_exports(cfg) == []
    t = TemplateLibrary.from_dirs(forms_dirs(cfg)).get("kojin_test")
    values = {"name": "山田太郎", "mynumber": MY, "request_date": "2026-11-20"}
    fields = [FieldResult(name=s.name, label=s.label, type=s.type.value,
                          raw=values.get(s.name, ""), value=values.get(s.name, ""),
                          confidence=0.4 if s.name == "mynumber" else 0.97,
                          reasons=[reason("low_confidence")] if s.name == "mynumber" else [])
              for s in t.fields]  # the 個人番号 is flagged: it has a row on 確認シート
    rec = DocumentRecord(f"{RUN_ID}-001-01", t.id, "scan.pdf", "1", fields)
    out = tmp_path / "out"
    out.mkdir()
    secret = b"s" * 32
    book = out / "review.xlsx"
    write_workbook(book, run_id=RUN_ID, scenario="intake", templates={t.id: t}, records=[rec],
                   secret=secret, created=datetime(2026, 11, 26, 9, 30))
    (csv_path,) = write_form_csvs(out, {t.id: t}, [rec], cfg.csv)

    assert MY not in csv_path.read_text(encoding="utf-8-sig")
    assert "*" * 12 in csv_path.read_text(encoding="utf-8-sig")
    with zipfile.ZipFile(book) as z:  # data sheet, 確認シート, signed meta: nowhere in clear
        assert not [n for n in z.namelist() if MY.encode() in z.read(n)]
    wb = openpyxl.load_workbook(book)
    assert "*" * 12 in [c.value for row in wb[REVIEW_SHEET].iter_rows() for c in row]
    _, written = read_workbook_records(book, secret_for=lambda _: secret)
    assert written[rec.doc_id].values["mynumber"] == MY  # sealed, not lost

    lay = next(lay for lay in export_layouts(cfg) if lay.id == "kojin")
    data = render(lay, t, [Row(rec.doc_id, "scan.pdf", "1", values)], run_id=RUN_ID,
                  today=NOW.date()).data
    assert data.decode("cp932").splitlines()[1] == f"{MY},山田太郎"


def test_bid_and_deposit_rows_use_their_own_layouts(run: Run, tmp_path: Path) -> None:
    import_corrections(first_review(run), run.cfg, now=NOW)
    gyosha = handed(tmp_path)[GYOSHA].decode("cp932").splitlines()
    head, line = gyosha[0].split(","), gyosha[1].split(",")
    got = dict(zip(head, line, strict=True))
    assert got["申請日"] == "20261101" and got["法人番号"] == "7123456789012"
    assert got["商号カナ"] == "ﾐｻﾄｹﾝｾﾂ" and got["郵便番号"] == "861-4401"
    assert got["電話番号"] == "0964-47-1111" and got["土木一式"] == "1" and got["土木等級"] == "A"
    assert gyosha[1] != "" and len(gyosha) == 2  # D3, the run's one bid application
