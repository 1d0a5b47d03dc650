"""The review workbook: layout a clerk sees, protection, signed meta and the round trip."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.reasons import reason
from ocr.results import FieldResult
from ocr.templates import FormTemplate, load_template
from robots.records import DocumentRecord
from robots.sheets import (
    CHECK_MARK,
    META_SHEET,
    REVIEW_SHEET,
    Correction,
    ForeignWorkbookError,
    WorkbookEditedError,
    read_workbook,
    write_workbook,
)
from robots.sheets.review import (
    IMAGE_MAX_H,
    IMAGE_MAX_W,
    REVIEW_FIRST_ROW,
    REVIEW_HEADER_ROW,
    TIME_CELLS,
)

ROOT = Path(__file__).resolve().parents[1]
SECRET = b"secret-of-run-1"
RUN_ID = "20261126-0930-ab12"
CREATED = dt.datetime(2026, 11, 26, 9, 30)
JUMIN = "住民票の写し等交付請求書"


def crop_png(text: str, size: tuple[int, int] = (1134, 154)) -> bytes:
    """A field as scanned: grey paper, noise, a ruled box and text in a Japanese font."""
    rng = np.random.default_rng(len(text))
    paper = rng.normal(235, 8, (size[1], size[0])).clip(0, 255).astype(np.uint8)
    im = Image.fromarray(paper, "L")
    draw = ImageDraw.Draw(im)
    draw.rectangle((2, 2, size[0] - 3, size[1] - 3), outline=60, width=3)
    try:
        from ocr.render import find_font

        font = ImageFont.truetype(str(find_font("mincho")), int(size[1] * 0.55))
        draw.text((30, size[1] // 2), text, fill=20, font=font, anchor="lm")
    except Exception:  # no Japanese font: strokes are enough for the tests
        for i in range(len(text)):
            draw.line((30 + 60 * i, 30, 70 + 60 * i, size[1] - 30), fill=20, width=6)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def templates() -> dict[str, FormTemplate]:
    t1 = load_template(ROOT / "scenarios/intake/forms/juminhyo_request.toml")
    t2 = load_template(ROOT / "scenarios/contracts/forms/bid_qualification.toml")
    return {t1.id: t1, t2.id: t2}


def fr(name: str, label: str, ftype: str, value: str, conf: float = 0.97,
       reasons: tuple[str, ...] = (), crop: bool = False) -> FieldResult:
    return FieldResult(
        name=name, label=label, type=ftype, raw=value, value=value, confidence=conf,
        reasons=[reason(c) for c in reasons],
        crop_png=crop_png(value or "　") if crop else None,
    )


def jumin_fields(templates: dict[str, FormTemplate], values: dict[str, str],
                 flags: dict[str, tuple[float, tuple[str, ...]]]) -> list[FieldResult]:
    out = []
    for spec in templates["juminhyo_request"].fields:
        conf, why = flags.get(spec.name, (0.97, ()))
        out.append(fr(spec.name, spec.label, spec.type.value, values.get(spec.name, ""),
                      conf, why, crop=bool(why)))
    return out


@pytest.fixture(scope="module")
def records(templates: dict[str, FormTemplate]) -> list[DocumentRecord]:
    base = {
        "request_date": "2026-11-20", "name": "髙橋一郎", "name_kana": "タカハシイチロウ",
        "birth_date": "1985-04-12", "postal_code": "861-4401",
        "address": "熊本県下益城郡美里町馬場888番地", "phone": "0964-47-1111",
        "relation": "本人", "cert_juminhyo": "1",
        "copies_juminhyo": "2", "cert_kisai": "0", "cert_inkan": "0", "cert_koseki": "0",
        "cert_fuhyo": "0", "include_honseki": "1", "include_mynumber": "0",
        "purpose": "年金手続きのため", "fee": "600", "receipt_number": "00012345",
    }
    flags = {
        "name": (0.62, ("variant_kanji",)),
        "birth_date": (0.41, ("low_confidence", "engines_disagree")),
        "relation": (0.55, ("multiple_choices",)),
        "cert_juminhyo": (0.7, ("ambiguous_mark",)),
    }
    doc1 = DocumentRecord(f"{RUN_ID}-0001", "juminhyo_request", "scan_0001.pdf", "1",
                          jumin_fields(templates, base, flags))
    clean = {**base, "name": "山田花子", "fee": "1234567", "receipt_number": "00000001"}
    doc2 = DocumentRecord(f"{RUN_ID}-0002", "juminhyo_request", "scan_0002.pdf", "2-3",
                          jumin_fields(templates, clean, {}))
    bid = templates["bid_qualification"]
    bid_fields = []
    for spec in bid.fields:
        value = {"corporate_number": "7123456789012", "representative_title": "代表取締役",
                 "capital": "10000000", "cat_doboku": "1", "grade_doboku": "A",
                 "application_date": "2026-11-01", "company_name": "株式会社美里建設"}.get(
                     spec.name, "")
        why: tuple[str, ...] = ()
        if spec.name == "representative_title":
            why = ("not_allowed_value",)
        bid_fields.append(fr(spec.name, spec.label, spec.type.value, value, 0.8, why,
                             crop=bool(why)))
    doc3 = DocumentRecord(f"{RUN_ID}-0003", "bid_qualification", "入札_0003.pdf", "1",
                          bid_fields)
    return [doc1, doc2, doc3]


@pytest.fixture
def workbook(tmp_path: Path, templates, records) -> Path:
    path = tmp_path / "review.xlsx"
    summary = write_workbook(path, run_id=RUN_ID, scenario="intake", templates=templates,
                             records=records, secret=SECRET, created=CREATED)
    assert summary.path == path
    assert summary.correction_rows == 5
    assert summary.rows_per_form == {"juminhyo_request": 2, "bid_qualification": 1}
    return path


def secret_for(run_id: str) -> bytes | None:
    return SECRET if run_id == RUN_ID else None


def review_row(ws, doc_id: str, label: str) -> int:
    for r in range(REVIEW_FIRST_ROW, ws.max_row + 1):
        if ws.cell(r, 1).value == doc_id and ws.cell(r, 4).value == label:
            return r
    raise AssertionError(f"no review row for {doc_id} {label}")


def header_col(ws, header: str, row: int = 1) -> int:
    for c in range(1, ws.max_column + 1):
        if ws.cell(row, c).value == header:
            return c
    raise AssertionError(f"no column {header}")


# --- layout -----------------------------------------------------------------------------


def test_file_is_private_and_no_temp_left(workbook: Path) -> None:
    assert stat.S_IMODE(workbook.stat().st_mode) == 0o600
    assert [p.name for p in workbook.parent.iterdir()] == ["review.xlsx"]


def test_sheets_and_japanese_headers(workbook: Path) -> None:
    wb = openpyxl.load_workbook(workbook)
    assert wb.sheetnames == [REVIEW_SHEET, JUMIN, "入札参加資格審査申請書", META_SHEET]
    assert wb.active.title == REVIEW_SHEET
    assert wb[META_SHEET].sheet_state == "veryHidden"
    assert wb[META_SHEET].protection.sheet
    ws = wb[JUMIN]
    headers = [c.value for c in ws[1]]
    assert headers[:6] == ["文書ID", "元ファイル", "ページ", "状態", "請求日", "氏名"]
    assert "住民票の写し 通数" in headers and "印鑑登録証明書 通数" in headers
    assert len(set(headers)) == len(headers)
    assert ws.freeze_panes == "B2"
    assert ws.page_setup.orientation == "landscape"
    table = next(iter(ws.tables.values()))
    assert table.tableStyleInfo.name == "TableStyleMedium2"
    assert table.ref == f"A1:{openpyxl.utils.get_column_letter(len(headers))}3"
    assert [ws.cell(r, 4).value for r in (2, 3)] == ["要確認", "確認不要"]
    assert ws.column_dimensions["H"].width > ws.column_dimensions["C"].width  # 住所 vs ページ


def test_data_cells_typed_for_staff(workbook: Path) -> None:
    ws = openpyxl.load_workbook(workbook)[JUMIN]
    col = {c.value: c.column for c in ws[1]}
    date = ws.cell(2, col["生年月日"])
    assert date.value == dt.datetime(1985, 4, 12)
    assert date.number_format == "yyyy/mm/dd"
    receipt = ws.cell(2, col["受付番号"])
    assert receipt.value == "00012345" and receipt.number_format == "@"
    assert ws.cell(3, col["受付番号"]).value == "00000001"
    fee = ws.cell(3, col["手数料"])
    assert fee.value == 1234567 and fee.number_format == "#,##0"
    assert ws.cell(2, col["住民票の写し"]).value == CHECK_MARK
    assert ws.cell(2, col["印鑑登録証明書"]).value is None
    assert ws.cell(2, col["本人との関係"]).value == "本人"
    assert ws.cell(3, col["ページ"]).value == "2-3"
    assert ws.cell(2, col["氏名"]).fill.fgColor.rgb.endswith("FFF2CC")  # flagged
    assert ws.cell(2, col["住所"]).fill.fill_type is None


def test_review_sheet_protection_and_editable_columns(workbook: Path) -> None:
    ws = openpyxl.load_workbook(workbook)[REVIEW_SHEET]
    assert ws.protection.sheet
    headers = [c.value for c in ws[REVIEW_HEADER_ROW]]
    assert headers == ["文書ID", "元ファイル", "ページ", "項目", "読取画像", "読取結果", "信頼度",
                       "確認理由", "修正後の値", "確認済", "備考", "入力（ベリファイ）"]
    assert "修正後の値" in ws["A3"].value
    unlocked = {h for r in range(REVIEW_FIRST_ROW, REVIEW_FIRST_ROW + 5)
                for h, c in zip(headers, ws[r], strict=True) if not c.protection.locked}
    assert unlocked == {"修正後の値", "確認済", "備考"}
    assert all(not ws[ref].protection.locked for ref in TIME_CELLS.values())
    assert ws["A2"].protection.locked
    r = review_row(ws, f"{RUN_ID}-0001", "生年月日")
    assert ws.cell(r, 6).value == dt.datetime(1985, 4, 12)
    assert ws.cell(r, 7).value == 0.41 and ws.cell(r, 7).number_format == "0%"
    assert ws.cell(r, 8).value == "読取信頼度が低い／2つのOCRエンジンの読取結果が一致しない"
    assert ws.cell(r, 1).fill.fgColor.rgb.endswith("F8CBAD")  # < 50 %: stronger colour
    r_name = review_row(ws, f"{RUN_ID}-0001", "氏名")
    assert ws.cell(r_name, 1).fill.fgColor.rgb.endswith("FFF2CC")
    r_box = review_row(ws, f"{RUN_ID}-0001", "住民票の写し")
    assert ws.cell(r_box, 6).value == CHECK_MARK


def test_review_sheet_validations(workbook: Path) -> None:
    ws = openpyxl.load_workbook(workbook)[REVIEW_SHEET]
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in ws[rng.coord] if ":" in rng.coord else [[ws[rng.coord]]]:
                for cell in row:
                    rules[cell.coordinate] = dv
    jid = f"{RUN_ID}-0001"
    date_dv = rules[f"I{review_row(ws, jid, '生年月日')}"]
    assert date_dv.type == "date"
    choice = rules[f"I{review_row(ws, jid, '本人との関係')}"]
    assert choice.type == "list" and choice.formula1 == '"本人,同一世帯員,代理人,空欄"'
    box = rules[f"I{review_row(ws, jid, '住民票の写し')}"]
    assert box.type == "list" and box.formula1 == '"✓,なし"'
    allowed = rules[f"I{review_row(ws, f'{RUN_ID}-0003', '代表者役職')}"]
    assert allowed.type == "list" and "代表取締役" in allowed.formula1
    assert f"I{review_row(ws, jid, '氏名')}" not in rules  # free text
    for r in range(REVIEW_FIRST_ROW, REVIEW_FIRST_ROW + 5):
        assert rules[f"J{r}"].formula1 == '"済"'
    assert rules[TIME_CELLS["start"]].type == "time"
    assert rules[TIME_CELLS["minutes"]].type == "decimal"


def test_crop_images_anchored_in_their_rows(workbook: Path) -> None:
    ws = openpyxl.load_workbook(workbook)[REVIEW_SHEET]
    assert len(ws._images) == 5
    rows = sorted(img.anchor._from.row + 1 for img in ws._images)
    assert rows == list(range(REVIEW_FIRST_ROW, REVIEW_FIRST_ROW + 5))
    for img in ws._images:
        a = img.anchor
        assert a._from.col == 4 and a.to.col == 4 and a._from.row == a.to.row
        w = (a.to.colOff - a._from.colOff) / 9525
        h = (a.to.rowOff - a._from.rowOff) / 9525
        assert w <= IMAGE_MAX_W and h <= IMAGE_MAX_H
        height_px = ws.row_dimensions[a._from.row + 1].height / 0.75
        assert height_px >= h + 4


# --- round trip ---------------------------------------------------------------------------


def test_untouched_workbook_has_no_corrections(workbook: Path) -> None:
    reviewed = read_workbook(workbook, secret_for=secret_for)
    assert reviewed.run_id == RUN_ID and reviewed.scenario == "intake"
    assert reviewed.corrections == [] and reviewed.confirmed == set()
    assert reviewed.review_minutes is None and reviewed.notes == {}


def test_round_trip_corrections(workbook: Path) -> None:
    wb = openpyxl.load_workbook(workbook)
    ws = wb[REVIEW_SHEET]
    d1, d3 = f"{RUN_ID}-0001", f"{RUN_ID}-0003"
    r_date = review_row(ws, d1, "生年月日")
    ws.cell(r_date, 9).value = dt.datetime(1985, 4, 13)  # Excel gives a datetime
    ws.cell(r_date, 10).value = "済"
    r_name = review_row(ws, d1, "氏名")
    ws.cell(r_name, 10).value = "済"  # confirmed as read: no correction
    ws.cell(r_name, 11).value = "原本は髙（はしごだか）"
    r_box = review_row(ws, d1, "住民票の写し")
    ws.cell(r_box, 9).value = "なし"
    r_rel = review_row(ws, d1, "本人との関係")
    ws.cell(r_rel, 9).value = "本人"  # same as read: not a correction
    r_title = review_row(ws, d3, "代表者役職")
    ws.cell(r_title, 9).value = "代表理事"
    ws[TIME_CELLS["start"]] = dt.time(9, 30)
    ws[TIME_CELLS["end"]] = dt.time(10, 15)
    data = wb[JUMIN]
    data.cell(3, header_col(data, "受付番号")).value = 1234  # typed as a number
    data.cell(3, header_col(data, "住所")).value = "空欄"
    data.cell(2, header_col(data, "手数料")).value = 600.0  # same value, float: unchanged
    wb.save(workbook)

    reviewed = read_workbook(workbook, secret_for=secret_for)
    assert reviewed.corrections == [
        Correction(d1, "birth_date", "1985-04-12", "1985-04-13", "correction_sheet", r_date,
                   REVIEW_SHEET, "juminhyo_request"),
        Correction(d1, "cert_juminhyo", "1", "0", "correction_sheet", r_box, REVIEW_SHEET,
                   "juminhyo_request"),
        Correction(d3, "representative_title", "代表取締役", "代表理事", "correction_sheet",
                   r_title, REVIEW_SHEET, "bid_qualification"),
        Correction(f"{RUN_ID}-0002", "address", "熊本県下益城郡美里町馬場888番地", "",
                   "data_sheet", 3, JUMIN, "juminhyo_request"),
        Correction(f"{RUN_ID}-0002", "receipt_number", "00000001", "1234", "data_sheet", 3,
                   JUMIN, "juminhyo_request"),
    ]
    assert reviewed.confirmed == {(d1, "birth_date"), (d1, "name")}
    assert reviewed.notes == {(d1, "name"): "原本は髙（はしごだか）"}
    assert reviewed.review_minutes == 45


def test_sorted_data_sheet_and_minutes(workbook: Path) -> None:
    wb = openpyxl.load_workbook(workbook)
    data = wb[JUMIN]
    rows = [[c.value for c in row] for row in data.iter_rows(min_row=2, max_row=3)]
    for r, values in zip((2, 3), reversed(rows), strict=True):  # a clerk sorted the table
        for c, v in enumerate(values, start=1):
            data.cell(r, c).value = v
    data.cell(2, header_col(data, "電話番号")).value = "0964-47-2222"
    wb[REVIEW_SHEET][TIME_CELLS["minutes"]] = 12.5
    wb.save(workbook)
    reviewed = read_workbook(workbook, secret_for=secret_for)
    assert [(c.doc_id, c.field, c.after, c.row) for c in reviewed.corrections] == [
        (f"{RUN_ID}-0002", "phone", "0964-47-2222", 2)
    ]
    assert reviewed.review_minutes == 12.5


def test_conflicting_corrections_refused(workbook: Path) -> None:
    wb = openpyxl.load_workbook(workbook)
    ws = wb[REVIEW_SHEET]
    ws.cell(review_row(ws, f"{RUN_ID}-0001", "氏名"), 9).value = "髙橋一朗"
    data = wb[JUMIN]
    data.cell(2, header_col(data, "氏名")).value = "高橋一郎"
    wb.save(workbook)
    with pytest.raises(WorkbookEditedError) as exc:
        read_workbook(workbook, secret_for=secret_for)
    assert exc.value.row == 2 and exc.value.sheet == JUMIN


# --- refusals -----------------------------------------------------------------------------


def test_foreign_workbook(workbook: Path) -> None:
    with pytest.raises(ForeignWorkbookError) as exc:
        read_workbook(workbook, secret_for=lambda run_id: b"another run's secret")
    assert exc.value.exit_code == 2 and exc.value.reason_ja
    assert "signature" in str(exc.value)
    with pytest.raises(ForeignWorkbookError, match="unknown"):
        read_workbook(workbook, secret_for=lambda run_id: None)


def test_workbook_without_meta_is_foreign(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(ForeignWorkbookError) as exc:
        read_workbook(path, secret_for=secret_for)
    assert exc.value.reason_ja
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    with pytest.raises(ForeignWorkbookError):
        read_workbook(tmp_path / "junk.xlsx", secret_for=secret_for)


def test_tampered_meta_is_foreign(workbook: Path) -> None:
    wb = openpyxl.load_workbook(workbook)
    meta = wb[META_SHEET]
    meta["A10"] = meta["A10"].value.replace("1985-04-12", "1985-04-13")
    wb.save(workbook)
    with pytest.raises(ForeignWorkbookError, match="signature"):
        read_workbook(workbook, secret_for=secret_for)


def test_locked_column_edit_names_the_row(workbook: Path) -> None:
    wb = openpyxl.load_workbook(workbook)
    ws = wb[REVIEW_SHEET]
    r = review_row(ws, f"{RUN_ID}-0001", "氏名")
    ws.protection.sheet = False  # anyone can do this in Excel or LibreOffice
    ws.cell(r, 6).value = "高橋一郎"  # 読取結果
    wb.save(workbook)
    with pytest.raises(WorkbookEditedError) as exc:
        read_workbook(workbook, secret_for=secret_for)
    err = exc.value
    assert (err.sheet, err.row, err.column) == (REVIEW_SHEET, r, "読取結果")
    assert f"{r}行目" in err.reason_ja and err.exit_code == 2
    assert f"row {r}" in str(err)


def test_deleted_data_row_is_refused(workbook: Path) -> None:
    wb = openpyxl.load_workbook(workbook)
    wb[JUMIN].delete_rows(3)
    wb.save(workbook)
    with pytest.raises(WorkbookEditedError, match="deleted"):
        read_workbook(workbook, secret_for=secret_for)


def test_empty_run_and_bad_input(tmp_path: Path, templates, records) -> None:
    path = tmp_path / "empty.xlsx"
    summary = write_workbook(path, run_id=RUN_ID, scenario="intake", templates=templates,
                             records=[], secret=SECRET, created=CREATED)
    assert summary.sheets == [REVIEW_SHEET, META_SHEET] and summary.correction_rows == 0
    assert read_workbook(path, secret_for=secret_for).corrections == []
    with pytest.raises(ValueError, match="duplicate doc_id"):
        write_workbook(path, run_id=RUN_ID, scenario="intake", templates=templates,
                       records=[records[0], records[0]], secret=SECRET, created=CREATED)
    with pytest.raises(ValueError, match="no template"):
        write_workbook(path, run_id=RUN_ID, scenario="intake", templates={},
                       records=records, secret=SECRET, created=CREATED)


def test_bad_crop_does_not_cost_the_workbook(tmp_path: Path, templates, records) -> None:
    rec = records[0]
    broken = DocumentRecord(rec.doc_id, rec.form_id, rec.source_file, rec.page,
                            [FieldResult(**{**{s: getattr(f, s) for s in f.__slots__},
                                            "crop_png": b"\x89PNG broken"})
                             if f.flagged else f for f in rec.fields])
    path = tmp_path / "bad.xlsx"
    write_workbook(path, run_id=RUN_ID, scenario="intake", templates=templates,
                   records=[broken], secret=SECRET, created=CREATED)
    ws = openpyxl.load_workbook(path)[REVIEW_SHEET]
    assert ws.cell(REVIEW_FIRST_ROW, 5).value == "（画像なし）"
    assert not ws._images


def test_records_pickle(records) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(records[0]))
    assert copy == records[0] and copy.needs_review and not records[1].needs_review


# --- LibreOffice ----------------------------------------------------------------------------


def _soffice(tmp_path: Path, src: Path, fmt: str) -> Path:
    profile = tmp_path / f"lo-{uuid.uuid4().hex}"
    out = tmp_path / "out"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
         "--convert-to", fmt, "--outdir", str(out), str(src)],
        check=True, capture_output=True, timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    ext = fmt.partition(":")[0]
    result = out / f"{src.stem}.{ext}"
    assert result.is_file(), f"LibreOffice produced no {ext}"
    return result


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_and_prints(workbook: Path, tmp_path: Path) -> None:
    pdf = _soffice(tmp_path, workbook, "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                              capture_output=True, text=True).stdout
        for expected in ("確認シート", "修正後の値", "異体字の可能性", "住民票の写し等交付請求書"):
            assert expected in text
    # the workbook LibreOffice saves back must still be readable and unchanged
    resaved = _soffice(tmp_path, workbook, "xlsx:Calc MS Excel 2007 XML")
    assert read_workbook(resaved, secret_for=secret_for).corrections == []


def test_large_run_meta_spans_cells(tmp_path: Path, templates, records) -> None:
    import dataclasses

    many = [dataclasses.replace(records[1], doc_id=f"{RUN_ID}-{i:04d}") for i in range(120)]
    path = tmp_path / "big.xlsx"
    write_workbook(path, run_id=RUN_ID, scenario="intake", templates=templates, records=many,
                   secret=SECRET, created=CREATED)
    wb = openpyxl.load_workbook(path)
    assert wb[META_SHEET]["B6"].value > 1  # chunks
    data = wb[JUMIN]
    data.cell(100, header_col(data, "氏名")).value = "山田花江"
    wb.save(path)
    (c,) = read_workbook(path, secret_for=secret_for).corrections
    assert (c.doc_id, c.field, c.after, c.row) == (f"{RUN_ID}-0098", "name", "山田花江", 100)


def test_sheet_titles_are_valid_and_unique() -> None:
    from robots.sheets.write import sheet_title

    taken = {"確認シート"}
    assert sheet_title("申請書[1]/2024: 写し?", taken) == "申請書（1）／2024： 写し？"
    long = "あ" * 40
    assert sheet_title(long, taken) == "あ" * 31
    assert sheet_title(long, taken) == "あ" * 28 + "(2)"
    assert sheet_title("確認シート", taken) == "確認シート(2)"
