"""Importing a reviewed workbook: real run log, real workbook, real CSV; nothing mocked.

A run is built by hand the way the runner and the intake scenario build one (run log rows in
one transaction, review workbook signed with the run's secret, OCR CSVs), without OCR cost;
the reviewer is simulated with openpyxl.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import logging
import shutil
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from fakes import write_config

from ocr.reasons import reason
from ocr.results import FieldResult
from ocr.templates import FormTemplate, TemplateLibrary
from robots.cli import main
from robots.config import Config, forms_dirs, load_config
from robots.db.runlog import RunLog, edit_distance
from robots.errors import ExitCode
from robots.records import DocumentRecord
from robots.sheets import (
    REVIEW_SHEET,
    ForeignWorkbookError,
    WorkbookEditedError,
    write_workbook,
)
from robots.sheets.corrections import (
    EditedImportError,
    ForeignImportError,
    ImportStatus,
    confirmed_workbook_name,
    import_corrections,
)
from robots.sheets.outputs import write_form_csvs
from robots.sheets.read import read_workbook_records
from robots.sheets.review import REVIEW_FIRST_ROW, TIME_CELLS

JUMIN_CONFIRMED = "住民票の写し等交付請求書_確定.csv"
BID_CONFIRMED = "入札参加資格審査申請書_確定.csv"
JUMIN_UNCONFIRMED = "住民票の写し等交付請求書_未確定.csv"
RUN_ID = "20261126-093000-ab12"
NOW = dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC)
JUMIN = "住民票の写し等交付請求書"
BID = "入札参加資格審査申請書"
D1, D2, D3 = f"{RUN_ID}-001-01", f"{RUN_ID}-002-01", f"{RUN_ID}-003-01"
WORKBOOK = f"申請データ_{RUN_ID}.xlsx"

JUMIN_VALUES = {
    "request_date": "2026-11-20", "name": "髙橋一郎", "name_kana": "タカハシイチロウ",
    "birth_date": "1985-04-12", "postal_code": "861-4401",
    "address": "熊本県下益城郡美里町馬場888番地", "phone": "0964-47-1111",
    "relation": "本人", "cert_juminhyo": "1",
    "copies_juminhyo": "2", "cert_kisai": "0", "cert_inkan": "0", "cert_koseki": "0",
    "cert_fuhyo": "0", "include_honseki": "1", "include_mynumber": "0",
    "purpose": "年金手続きのため", "fee": "600", "receipt_number": "00012345",
}
FLAGS = {
    "name": (0.62, ("variant_kanji",)),
    "birth_date": (0.41, ("low_confidence", "engines_disagree")),
    "receipt_number": (0.9, ("low_confidence",)),
    "relation": (0.55, ("multiple_choices",)),
}
BID_VALUES = {
    "application_date": "2026-11-01", "corporate_number": "7123456789012",
    "company_kana": "ミサトケンセツ", "company_name": "株式会社美里建設",
    "representative_title": "代表取締", "representative_name": "美里太郎",
    "postal_code": "861-4401", "address": "熊本県下益城郡美里町馬場1番地",
    "phone": "0964-47-1111", "capital": "10000000", "cat_doboku": "1", "grade_doboku": "A",
    "cat_kenchiku": "0", "cat_hoso": "0", "cat_consultant": "0", "cat_goods": "0",
    "cat_services": "0",
    "valid_from": "2026-04-01", "valid_to": "2028-03-31",
}


@dataclass
class Run:
    """A completed intake run as the runner leaves it."""

    cfg_path: Path
    cfg: Config
    out_dir: Path
    workbook: Path
    db: Path
    templates: dict[str, FormTemplate]
    records: list[DocumentRecord]


def _fields(template: FormTemplate, values: dict[str, str],
            flags: dict[str, tuple[float, tuple[str, ...]]]) -> list[FieldResult]:
    out = []
    for spec in template.fields:
        conf, why = flags.get(spec.name, (0.97, ()))
        v = values.get(spec.name, "")
        out.append(FieldResult(name=spec.name, label=spec.label, type=spec.type.value, raw=v,
                               value=v, confidence=conf, reasons=[reason(c) for c in why]))
    return out


def build_run(root: Path, *, run_id: str = RUN_ID) -> Run:
    """Record a run in the run log and write its outputs, like runner + intake ``finish``.

    Each ``root`` is an installation of its own: its own config, run log and secrets.
    """
    root.mkdir(parents=True, exist_ok=True)
    cfg_path = root / "config.toml"
    if not cfg_path.exists():
        cfg_path.write_text('[csv]\nencoding = "cp932"\n', encoding="utf-8")
    cfg = load_config(cfg_path)
    library = TemplateLibrary.from_dirs(forms_dirs(cfg))
    templates = {t: library.get(t) for t in ("juminhyo_request", "bid_qualification")}
    jumin, bid = templates["juminhyo_request"], templates["bid_qualification"]
    d = [f"{run_id}-{i:03d}-01" for i in (1, 2, 3)]
    records = [
        DocumentRecord(d[0], jumin.id, "scan_0001.pdf", "1", _fields(jumin, JUMIN_VALUES, FLAGS)),
        DocumentRecord(d[1], jumin.id, "scan_0002.pdf", "1",
                       _fields(jumin, {**JUMIN_VALUES, "name": "山田花子",
                                       "receipt_number": "00012399"}, {})),
        DocumentRecord(d[2], bid.id, "入札_0003.tif", "1", _fields(
            bid, BID_VALUES, {"representative_title": (0.8, ("not_allowed_value",))})),
    ]
    out_dir = cfg.resolve(cfg.paths.out) / "intake" / run_id
    db = cfg.resolve(cfg.paths.runlog)
    runlog = RunLog(db, key=cfg.resolve(cfg.paths.digest_key))
    try:
        run_secret = runlog.start_run(run_id, "intake", trigger="manual", jobs=1,
                                      version="test", out_dir=cfg.relative(out_dir))
        out_dir.mkdir(parents=True)
        workbook = out_dir / f"申請データ_{run_id}.xlsx"
        write_workbook(workbook, run_id=run_id, scenario="intake", templates=templates,
                       records=records, secret=run_secret,
                       created=dt.datetime(2026, 11, 26, 9, 30))
        write_form_csvs(out_dir, templates, records, cfg.csv)
        with runlog.atomic():
            for i, rec in enumerate(records, start=1):
                file_id = runlog.add_file(run_id, source_name=rec.source_file,
                                          sha256=f"{run_id}{i:060d}", size=1000, pages=1,
                                          outcome="processed")
                runlog.add_document(run_id, file_id, doc_id=rec.doc_id, page=rec.page,
                                    form_id=rec.form_id, status=rec.status,
                                    registration_score=0.9, reason_code=None, timings={},
                                    fields=rec.fields)
            runlog.finish_run(run_id, status="completed", exit_code=2, summary={})
    finally:
        runlog.close()
    return Run(cfg_path, cfg, out_dir, workbook, db, templates, records)


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return build_run(tmp_path)


# -- the reviewer ----------------------------------------------------------------------------


def review_row(ws, doc_id: str, label: str) -> int:
    for r in range(REVIEW_FIRST_ROW, ws.max_row + 1):
        if ws.cell(r, 1).value == doc_id and ws.cell(r, 4).value == label:
            return r
    raise AssertionError(f"no review row for {doc_id} {label}")


def col(ws, header: str) -> int:
    for c in range(1, ws.max_column + 1):
        if ws.cell(1, c).value == header:
            return c
    raise AssertionError(f"no column {header}")


def reviewed(run: Run, name: str, *, answers: dict[tuple[str, str], object] | None = None,
             done: tuple[tuple[str, str], ...] = (),
             data: dict[tuple[str, str, str], object] | None = None,
             minutes: float | None = None, base: Path | None = None) -> Path:
    """Save a copy of the workbook as a reviewer would leave it; returns its path.

    ``answers`` go into 修正後の値 by (doc id, 項目), ``done`` gets 済, ``data`` changes data
    sheet cells by (sheet, doc id, header).
    """
    wb = openpyxl.load_workbook(base or run.workbook)
    ws = wb[REVIEW_SHEET]
    for (doc_id, label), value in (answers or {}).items():
        ws.cell(review_row(ws, doc_id, label), 9).value = value
    for doc_id, label in done:
        ws.cell(review_row(ws, doc_id, label), 10).value = "済"
    if minutes is not None:
        ws[TIME_CELLS["minutes"]] = minutes
    for (sheet, doc_id, header), value in (data or {}).items():
        ds = wb[sheet]
        row = next(r for r in range(2, ds.max_row + 1) if ds.cell(r, 1).value == doc_id)
        ds.cell(row, col(ds, header)).value = value
    path = run.out_dir.parent / name  # outside the output folder: like a shared-drive copy
    wb.save(path)
    return path


def first_review(run: Run) -> Path:
    return reviewed(
        run, "review_v1.xlsx",
        answers={(D1, "生年月日"): dt.datetime(1985, 4, 13),  # Excel gives a datetime
                 (D1, "受付番号"): "0001 2346"},  # typed in groups
        done=((D1, "氏名"), (D1, "生年月日")),
        data={(JUMIN, D2, "電話番号"): "0964-47-2222"},
        minutes=25)


# -- helpers ---------------------------------------------------------------------------------


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="cp932", newline="") as fh:
        return {row["文書ID"]: row for row in csv.DictReader(fh)}


def db_dump(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def rows(db: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return list(con.execute(sql, args))
    finally:
        con.close()


def outputs(run: Run) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.out_dir.iterdir()}


def digest(run: Run, value: str) -> str:
    runlog = RunLog(run.db, key=run.cfg.resolve(run.cfg.paths.digest_key))
    try:
        return runlog.digest(value)
    finally:
        runlog.close()


# -- the round trip ----------------------------------------------------------------------------


def test_round_trip_writes_confirmed_csv_and_workbook(run: Run) -> None:
    ocr_csv = (run.out_dir / JUMIN_UNCONFIRMED).read_bytes()
    wb = first_review(run)

    result = import_corrections(wb, run.cfg, who="確認者A", now=NOW)

    assert result.status is ImportStatus.IMPORTED and result.exit_code == 0
    assert (result.corrections, result.replaced) == (3, 0)
    assert result.review_minutes == 25 and result.rejected == [] and result.notes == []
    assert result.unreviewed == 2  # 本人との関係 and 代表者役職: neither corrected nor 済
    assert result.out_dir == run.out_dir
    assert sorted(p.name for p in result.files) == sorted([
        JUMIN_CONFIRMED, BID_CONFIRMED,
        confirmed_workbook_name(RUN_ID)])
    text = result.describe()
    assert "3 correction(s) applied" in text and "25 min" in text and "2 flagged" in text

    jumin = read_csv(run.out_dir / JUMIN_CONFIRMED)
    assert jumin[D1]["生年月日"] == "1985-04-13"
    assert jumin[D1]["受付番号"] == "00012346"  # the normalised value, not what was typed
    assert jumin[D1]["氏名"] == "髙橋一郎"  # marked 済: kept as read
    assert jumin[D1]["本人との関係"] == "本人"  # flagged, untouched: kept as read
    assert jumin[D1]["住所"] == JUMIN_VALUES["address"]
    assert jumin[D2]["電話番号"] == "0964-47-2222"  # corrected on the data sheet
    assert jumin[D2]["生年月日"] == "1985-04-12"
    assert {r["要確認"] for r in jumin.values()} == {""}
    bid = read_csv(run.out_dir / BID_CONFIRMED)
    assert bid[D3]["代表者役職"] == "代表取締"
    assert (run.out_dir / JUMIN_UNCONFIRMED).read_bytes() == ocr_csv  # kept

    book = openpyxl.load_workbook(run.out_dir / confirmed_workbook_name(RUN_ID))
    assert book.sheetnames == [JUMIN, BID]  # no 確認シート, no signed meta
    ws = book[JUMIN]
    assert ws.cell(2, col(ws, "生年月日")).value == dt.datetime(1985, 4, 13)
    assert ws.cell(2, col(ws, "受付番号")).value == "00012346"
    assert ws.cell(3, col(ws, "電話番号")).value == "0964-47-2222"
    assert [ws.cell(r, 4).value for r in (2, 3)] == ["確定", "確定"]
    for p in result.files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert not [p for p in run.out_dir.iterdir() if p.name.startswith(".")]  # no staging left

    # the confirmed workbook is data, not something to import
    with pytest.raises(ForeignImportError) as exc:
        import_corrections(run.out_dir / confirmed_workbook_name(RUN_ID), run.cfg, now=NOW)
    assert exc.value.exit_code == ExitCode.INPUT


def test_run_log_holds_digests_only(run: Run) -> None:
    wb = first_review(run)
    import_corrections(wb, run.cfg, who="確認者A", now=NOW)

    (imp,) = rows(run.db, "SELECT * FROM imports")
    assert imp["run_id"] == RUN_ID and imp["who"] == "確認者A"
    assert imp["at"] == "2026-11-27T01:00:00+00:00"
    assert imp["review_minutes"] == 25 and imp["corrections"] == 3
    assert imp["workbook_sha256"] == hashlib.sha256(wb.read_bytes()).hexdigest()

    got = {(r["doc_id"], r["field"]): r for r in rows(run.db, "SELECT * FROM corrections")}
    assert set(got) == {(D1, "birth_date"), (D1, "receipt_number"), (D2, "phone")}
    birth = got[(D1, "birth_date")]
    assert birth["before_digest"] == digest(run, "1985-04-12")
    assert birth["after_digest"] == digest(run, "1985-04-13")
    assert birth["char_errors"] == 1 and birth["source"] == "correction_sheet"
    assert birth["import_id"] == imp["import_id"] and birth["who"] == "確認者A"
    assert got[(D2, "phone")]["source"] == "data_sheet"
    assert got[(D2, "phone")]["char_errors"] == edit_distance("0964-47-1111", "0964-47-2222")

    fields = {(r["doc_id"], r["name"]): r for r in rows(run.db, "SELECT * FROM fields")}
    my = fields[(D1, "receipt_number")]
    assert (my["corrected"], my["char_errors"], my["final_len"]) == (1, 1, 8)
    assert my["final_digest"] == digest(run, "00012346") and my["confirmed_at"]
    name = fields[(D1, "name")]  # flagged, confirmed as read
    assert (name["corrected"], name["char_errors"]) == (0, 0)
    assert name["final_digest"] == name["ocr_digest"] and name["confirmed_at"]
    assert all(r["final_digest"] is not None and r["confirmed_at"] for r in fields.values())
    assert sum(r["corrected"] for r in fields.values()) == 3

    # no value in clear, anywhere in the database files (WAL included) or its tables
    blobs = b"".join(p.read_bytes() for p in run.db.parent.iterdir() if p.is_file())
    dump = "\n".join(db_dump(run.db))
    for value in ("1985-04-13", "00012346", "0964-47-2222", "1985-04-12", "髙橋一郎"):
        assert value.encode() not in blobs and value not in dump


def test_a_copy_of_var_cannot_be_tried_against_every_birth_date(run: Run, tmp_path: Path) -> None:
    """The digest key is kept out of var/: var/ alone gives no way to test a guessed value."""
    import_corrections(first_review(run), run.cfg, who="確認者A", now=NOW)
    key = run.cfg.resolve(run.cfg.paths.digest_key)
    assert key.is_file() and key.stat().st_mode & 0o077 == 0
    assert key.parent.stat().st_mode & 0o077 == 0
    var = run.db.parent
    assert not [p.name for p in var.iterdir() if p.suffix == ".key"]
    assert key.read_bytes() not in b"".join(p.read_bytes() for p in var.iterdir() if p.is_file())


def test_a_key_beside_the_database_is_moved_out_of_var(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path))
    db = cfg.resolve(cfg.paths.runlog)
    db.parent.mkdir(parents=True)
    old = db.with_suffix(".key")
    old.write_bytes(b"k" * 32)
    old.chmod(0o600)
    runlog = RunLog(db, key=cfg.resolve(cfg.paths.digest_key))
    try:
        before = runlog.digest("1985-04-12")  # the old key: digests stay comparable
    finally:
        runlog.close()
    assert not old.exists() and cfg.resolve(cfg.paths.digest_key).read_bytes() == b"k" * 32
    assert before == hmac.new(b"k" * 32, b"1985-04-12", hashlib.sha256).hexdigest()[:32]


def test_readers_open_the_run_log_without_the_key(run: Run) -> None:
    runlog = RunLog(run.db)
    try:
        assert runlog.run(RUN_ID) is not None
        with pytest.raises(RuntimeError, match="without its digest key"):
            runlog.digest("x")
    finally:
        runlog.close()


def test_second_import_of_the_same_file_changes_nothing(run: Run) -> None:
    wb = first_review(run)
    assert import_corrections(wb, run.cfg, now=NOW).status is ImportStatus.IMPORTED
    before_db, before_files = db_dump(run.db), outputs(run)

    again = import_corrections(wb, run.cfg, now=NOW + dt.timedelta(hours=1))

    assert again.status is ImportStatus.ALREADY_IMPORTED and again.exit_code == 0
    assert "already imported" in again.describe() and "no changes" in again.describe()
    assert again.files == []
    assert db_dump(run.db) == before_db
    assert outputs(run) == before_files


def test_later_version_applies_only_new_and_changed_corrections(run: Run) -> None:
    v1 = first_review(run)
    import_corrections(v1, run.cfg, now=NOW)
    v2 = reviewed(run, "review_v2.xlsx", base=v1,
                  answers={(D1, "生年月日"): dt.datetime(1985, 4, 14),  # changed its mind
                           (D3, "代表者役職"): "代表取締役"},  # new
                  minutes=40)

    result = import_corrections(v2, run.cfg, now=NOW + dt.timedelta(days=1))

    assert result.status is ImportStatus.IMPORTED
    assert (result.corrections, result.replaced, result.confirmed) == (2, 1, 0)
    assert "replacing earlier" in result.describe()
    births = rows(run.db, "SELECT * FROM corrections WHERE field = 'birth_date' "
                          "ORDER BY correction_id")
    assert [r["after_digest"] for r in births] == [digest(run, "1985-04-13"),
                                                  digest(run, "1985-04-14")]
    (field,) = rows(run.db, "SELECT * FROM fields WHERE doc_id = ? AND name = 'birth_date'", D1)
    assert field["final_digest"] == digest(run, "1985-04-14") and field["char_errors"] == 1
    assert [r["corrections"] for r in rows(run.db, "SELECT * FROM imports")] == [3, 2]
    assert len(rows(run.db, "SELECT * FROM corrections")) == 5
    assert read_csv(run.out_dir / JUMIN_CONFIRMED)[D1]["生年月日"] == "1985-04-14"
    assert read_csv(run.out_dir / BID_CONFIRMED)[D3]["代表者役職"] == "代表取締役"

    # a version with nothing new for the data (one more 済): recorded, outputs untouched
    before = outputs(run)
    v3 = reviewed(run, "review_v3.xlsx", base=v2, done=((D1, "本人との関係"),))
    same = import_corrections(v3, run.cfg, now=NOW + dt.timedelta(days=2))
    assert same.status is ImportStatus.NO_CHANGES and same.exit_code == 0
    assert "nothing new" in same.describe() and outputs(run) == before
    assert same.unreviewed == 0 and len(rows(run.db, "SELECT * FROM imports")) == 3


def test_version_lacking_an_earlier_correction_is_rejected(run: Run) -> None:
    import_corrections(first_review(run), run.cfg, now=NOW)
    before_db, before_files = db_dump(run.db), outputs(run)
    fresh = reviewed(run, "fresh_copy.xlsx", answers={(D3, "代表者役職"): "代表取締役"})

    result = import_corrections(fresh, run.cfg, now=NOW)

    assert result.status is ImportStatus.REJECTED and result.exit_code == ExitCode.NEEDS_ATTENTION
    where = {(r.sheet, r.row, r.label) for r in result.rejected}
    assert where == {(JUMIN, 2, "生年月日"), (JUMIN, 2, "受付番号"), (JUMIN, 3, "電話番号")}
    assert "古い版のブック" in result.describe()
    assert db_dump(run.db) == before_db and outputs(run) == before_files


def test_failed_output_write_records_nothing(run: Run) -> None:
    # something in the way of the first confirmed file: the import must leave no trace
    obstacle = run.out_dir / BID_CONFIRMED
    obstacle.mkdir()
    wb = first_review(run)
    before_db = db_dump(run.db)
    with pytest.raises(OSError):
        import_corrections(wb, run.cfg, now=NOW)
    assert db_dump(run.db) == before_db
    assert not (run.out_dir / JUMIN_CONFIRMED).exists()
    assert not [p for p in run.out_dir.iterdir() if p.name.startswith(".")]
    obstacle.rmdir()
    assert import_corrections(wb, run.cfg, now=NOW).status is ImportStatus.IMPORTED


def test_written_records_come_from_the_signed_meta(run: Run) -> None:
    runlog = RunLog(run.db)
    try:
        reviewed_wb, written = read_workbook_records(run.workbook, secret_for=runlog.secret)
    finally:
        runlog.close()
    assert reviewed_wb.corrections == [] and list(written) == [D1, D2, D3]
    rec = written[D1]
    assert (rec.form_id, rec.source_file, rec.page, rec.sheet, rec.row) == (
        "juminhyo_request", "scan_0001.pdf", "1", JUMIN, 2)
    assert rec.values == {f.name: f.value for f in run.records[0].fields}
    assert rec.flagged == frozenset(FLAGS) and written[D2].flagged == frozenset()


# -- refusals ----------------------------------------------------------------------------------


def test_foreign_workbook_is_refused_and_nothing_written(run: Run, tmp_path: Path) -> None:
    # the same run id in another installation: signed with another run's secret
    other = build_run(tmp_path / "elsewhere")
    before_db, before_files = db_dump(run.db), outputs(run)
    with pytest.raises(ForeignImportError) as exc:
        import_corrections(other.workbook, run.cfg, now=NOW)
    err = exc.value
    assert isinstance(err, ForeignWorkbookError) and err.exit_code == ExitCode.INPUT == 4
    assert "signature" in str(err) and "nothing was imported" in str(err)
    assert err.reason_ja in str(err)  # the clerk sees the Japanese reason

    # a run this run log never heard of
    unknown = build_run(tmp_path / "other_town", run_id="20990101-000000-ffff")
    with pytest.raises(ForeignImportError, match="unknown here"):
        import_corrections(unknown.workbook, run.cfg, now=NOW)
    assert db_dump(run.db) == before_db and outputs(run) == before_files

    # no run log at all: refused without creating one
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.toml").write_text("", encoding="utf-8")
    with pytest.raises(ForeignImportError, match="no run log"):
        import_corrections(run.workbook, load_config(empty / "config.toml"), now=NOW)
    assert not (empty / "var").exists()


def test_edited_locked_cell_is_refused_naming_the_row(run: Run) -> None:
    wb = openpyxl.load_workbook(run.workbook)
    ws = wb[REVIEW_SHEET]
    r = review_row(ws, D1, "氏名")
    ws.protection.sheet = False  # anyone can do this
    ws.cell(r, 6).value = "高橋一郎"  # 読取結果
    path = run.out_dir.parent / "edited.xlsx"
    wb.save(path)
    before_db, before_files = db_dump(run.db), outputs(run)

    with pytest.raises(EditedImportError) as exc:
        import_corrections(path, run.cfg, now=NOW)

    err = exc.value
    assert isinstance(err, WorkbookEditedError) and err.exit_code == ExitCode.INPUT
    assert (err.sheet, err.row, err.column) == (REVIEW_SHEET, r, "読取結果")
    assert f"row {r}" in str(err) and f"{r}行目" in str(err)
    assert db_dump(run.db) == before_db and outputs(run) == before_files


def test_run_that_did_not_complete_is_refused(run: Run) -> None:
    con = sqlite3.connect(run.db)
    con.execute("UPDATE runs SET status = 'aborted'")
    con.commit()
    con.close()
    with pytest.raises(ForeignImportError, match="did not complete"):
        import_corrections(first_review(run), run.cfg, now=NOW)


def test_invalid_corrected_values_are_rejected_with_rows(run: Run) -> None:
    wb = reviewed(run, "typos.xlsx",
                  answers={(D1, "生年月日"): "令和7年2月30日",  # no such day
                           (D3, "代表者役職"): "代表取締役"},  # fine, but not written either
                  data={(JUMIN, D2, "電話番号"): "0964-47-2222",
                        (JUMIN, D2, "住所"): "空欄",  # required field emptied
                        (BID, D3, "法人番号"): "7123456789013"},  # wrong check digit
                  minutes=10)
    before_db, before_files = db_dump(run.db), outputs(run)
    ws = openpyxl.load_workbook(wb)[REVIEW_SHEET]
    r_birth = review_row(ws, D1, "生年月日")

    result = import_corrections(wb, run.cfg, now=NOW)

    assert result.status is ImportStatus.REJECTED and result.exit_code == 2
    got = {(r.sheet, r.row, r.label): r.message for r in result.rejected}
    assert set(got) == {(BID, 2, "法人番号"), (REVIEW_SHEET, r_birth, "生年月日"),
                        (JUMIN, 3, "住所")}
    assert got[(BID, 2, "法人番号")] == "チェックディジット不一致"
    assert got[(REVIEW_SHEET, r_birth, "生年月日")] == "日付として正しくない"
    assert got[(JUMIN, 3, "住所")] == "必須項目が空欄です"
    text = result.describe()
    assert "NOT imported" in text and f"「{BID}」2行目「法人番号」" in text
    assert "7123456789013" not in text  # the message names the place, never the value
    assert db_dump(run.db) == before_db and outputs(run) == before_files


def test_advisory_reasons_pass_with_a_note(run: Run) -> None:
    wb = reviewed(run, "variant.xlsx", answers={(D1, "氏名"): "𠮷田一郎"})

    result = import_corrections(wb, run.cfg, now=NOW)

    assert result.status is ImportStatus.IMPORTED and result.corrections == 1
    (note,) = result.notes
    assert note.label == "氏名" and "CP932" in note.message and "異体字" not in note.message
    assert "please check" in result.describe() and "review time: not recorded" in result.describe()
    assert rows(run.db, "SELECT review_minutes FROM imports")[0]["review_minutes"] is None
    report = run.out_dir / "文字コード変換できない文字_確定.csv"
    assert report in result.files and report.is_file()
    assert read_csv(run.out_dir / JUMIN_CONFIRMED)[D1]["氏名"] == "〓田一郎"
    book = openpyxl.load_workbook(run.out_dir / confirmed_workbook_name(RUN_ID))[JUMIN]
    assert book.cell(2, col(book, "氏名")).value == "𠮷田一郎"  # exact in the workbook

    # corrected again to an encodable name: the old report would mislead, so it goes
    v2 = reviewed(run, "variant2.xlsx", base=wb, answers={(D1, "氏名"): "吉田一郎"})
    assert import_corrections(v2, run.cfg, now=NOW).replaced == 1
    assert not report.exists()


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def cli():
    """Run ``rpa`` in-process; restore the logging handlers the CLI replaces."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def call(*argv: str) -> int:
        return main([str(a) for a in argv])

    yield call
    root.handlers[:] = handlers
    root.setLevel(level)


def test_cli_exit_codes(run: Run, tmp_path: Path, cli, capsys) -> None:
    wb = first_review(run)
    cmd = ("--config", run.cfg_path, "corrections", "import")

    assert cli(*cmd, wb, "--who", "確認者A") == 0
    out = capsys.readouterr().out
    assert f"run {RUN_ID}: review_v1.xlsx imported" in out and "_確定.csv" in out
    assert rows(run.db, "SELECT who FROM imports")[0]["who"] == "確認者A"

    assert cli(*cmd, wb) == 0
    assert "already imported" in capsys.readouterr().out

    typo = reviewed(run, "typo.xlsx", base=wb, data={(BID, D3, "法人番号"): "7123456789013"})
    assert cli(*cmd, typo) == ExitCode.NEEDS_ATTENTION == 2
    out = capsys.readouterr().out
    assert "チェックディジット不一致" in out
    assert "古い版" not in out  # the rejected value is not also reported as missing

    other = build_run(tmp_path / "elsewhere")
    assert cli(*cmd, other.workbook) == ExitCode.INPUT == 4
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "指定した処理のものではない" in err

    assert cli(*cmd, tmp_path / "missing.xlsx") == ExitCode.INPUT
    assert "cannot read workbook" in capsys.readouterr().err

    junk = tmp_path / "junk.xlsx"
    shutil.copy(run.cfg_path, junk)  # not a workbook at all
    assert cli(*cmd, junk) == ExitCode.INPUT
    assert ".xlsx" in capsys.readouterr().err
