"""The OCR core end to end on generated scans with known truth (real Tesseract and RapidOCR)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pypdf import PdfWriter

from ocr.errors import RegistrationError, TemplateError
from ocr.fields import ReadOptions
from ocr.pipeline import PipelineOptions, Reader
from ocr.render import render_blank, render_filled
from ocr.templates import TemplateLibrary, load_template
from robots.cli import main
from robots.samples import SAMPLE_TODAY, generate

FORMS = sorted(Path("scenarios").glob("*/forms"))


@pytest.fixture(scope="module")
def library() -> TemplateLibrary:
    return TemplateLibrary.from_dirs(FORMS)


@pytest.fixture(scope="module")
def reader(library: TemplateLibrary) -> Reader:
    return Reader(library, PipelineOptions(read=ReadOptions(today=SAMPLE_TODAY)))


@pytest.mark.parametrize("form", ["juminhyo_request", "bid_qualification", "deposit_reply"])
def test_clean_scan_reads_every_field_right(form: str, library: TemplateLibrary, reader: Reader,
                                            tmp_path: Path) -> None:
    scan = generate(library.get(form), count=1, seed=3, out_dir=tmp_path, degrade=0,
                    fmt="png")[0]
    truth = json.loads(scan.with_suffix(".json").read_text(encoding="utf-8"))["fields"]
    doc = reader.read_file(scan)
    assert [p.form for p in doc.pages] == [form]
    got = {f.name: f.value for f in doc.pages[0].fields}
    assert got == truth


@pytest.mark.parametrize("fmt", ["pdf", "jpeg"])
def test_degraded_scans_flag_every_wrong_field(fmt: str, library: TemplateLibrary,
                                               reader: Reader, tmp_path: Path) -> None:
    silent = []
    for form in library.ids:
        for scan in generate(library.get(form), count=1, seed=21, out_dir=tmp_path, degrade=2,
                             fmt=fmt):
            truth = json.loads(scan.with_suffix(".json").read_text(encoding="utf-8"))["fields"]
            for f in reader.read_file(scan).pages[0].fields:
                if f.value != truth[f.name] and not f.flagged:
                    silent.append((scan.name, f.name))
    assert silent == []


def test_upside_down_page_without_qr_is_registered(library: TemplateLibrary, reader: Reader,
                                                   tmp_path: Path) -> None:
    t = library.get("juminhyo_request")
    page = render_filled(t, {"name": "山田 太郎", "name_kana": "ヤマダ タロウ",
                             "relation": "本人", "cert_inkan": "1", "copies_inkan": "2"})
    page[: 330, 1900:] = 255  # no QR code: identification falls back to registration
    h, w = page.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 183.0, 1.0)
    turned = cv2.warpAffine(page, m, (w, h), borderValue=255)
    path = tmp_path / "turned.png"
    Image.fromarray(turned).save(path, dpi=(300, 300))
    p = reader.read_file(path).pages[0]
    assert (p.form, p.identified_by) == ("juminhyo_request", "registration")
    got = {f.name: f.value for f in p.fields}
    assert got["name"] == "山田太郎" and got["copies_inkan"] == "2" and got["cert_inkan"] == "1"


def test_a_photo_that_is_no_form_is_reported_not_guessed(reader: Reader, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:1800, 0:1400]
    photo = np.stack([(xx * 0.15 + rng.normal(0, 30, xx.shape)) % 255,
                      (yy * 0.1 + 80) % 255, (xx + yy) * 0.05 % 255], axis=2).astype(np.uint8)
    cv2.circle(photo, (700, 900), 400, (40, 90, 160), -1)
    path = tmp_path / "cat.jpg"
    cv2.imwrite(str(path), photo)
    p = reader.read_file(path).pages[0]
    assert p.form is None and p.fields == []
    assert p.error and "様式" in p.error_ja


def test_registration_error_is_a_domain_error(library: TemplateLibrary) -> None:
    from ocr.align import Aligner

    with pytest.raises(RegistrationError):
        Aligner(library).align(np.full((3508, 2480), 255, np.uint8), 300)


def test_town_adds_its_own_form_from_a_folder(tmp_path: Path) -> None:
    forms = tmp_path / "town_forms"
    forms.mkdir()
    (forms / "dog_registration.toml").write_text("""
[form]
id = "dog_registration"
title = "犬の登録申請書"
qr = false

[[fields]]
name = "owner_name"
label = "所有者氏名"
type = "text"
box = [50.0, 40.0, 100.0, 13.0]
required = true

[[fields]]
name = "dog_name"
label = "犬の名前"
type = "kana"
box = [50.0, 60.0, 100.0, 12.0]

[[fields]]
name = "birth_date"
label = "生年月日"
type = "date"
box = [50.0, 80.0, 70.0, 12.0]

[[fields]]
name = "vaccinated"
label = "狂犬病予防注射済"
type = "checkbox"
box = [30.0, 100.0, 5.0, 5.0]
""", encoding="utf-8")
    # The blank form as a town would have it: scanned at 150 dpi, beside the template.
    t0 = load_template(forms / "dog_registration.toml")
    cv2.imwrite(str(forms / "dog_blank.png"), render_blank(t0, 150))
    text = (forms / "dog_registration.toml").read_text(encoding="utf-8")
    (forms / "dog_registration.toml").write_text(
        text.replace('qr = false', 'qr = false\nblank = "dog_blank.png"'), encoding="utf-8")
    cfg = tmp_path / "config.toml"
    cfg.write_text('forms_dirs = ["town_forms"]\n', encoding="utf-8")
    t = load_template(forms / "dog_registration.toml")
    scan = render_filled(t, {"owner_name": "美里 花子", "dog_name": "ポチ",
                             "birth_date": "令和3年5月1日", "vaccinated": "1"})
    m = cv2.getRotationMatrix2D((1240, 1754), 1.5, 1.0)
    path = tmp_path / "dog.png"
    Image.fromarray(cv2.warpAffine(scan, m, (2480, 3508), borderValue=255)).save(
        path, dpi=(300, 300))
    assert main(["--config", str(cfg), "forms", "check",
                 str(forms / "dog_registration.toml")]) == 0
    out = tmp_path / "out.json"
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["--config", str(cfg), "ocr", str(path), "--json"])
    out.write_text(buf.getvalue(), encoding="utf-8")
    doc = json.loads(buf.getvalue())
    page = doc["pages"][0]
    assert page["form"] == "dog_registration"
    values = {f["name"]: f["value"] for f in page["fields"]}
    assert values == {"owner_name": "美里花子", "dog_name": "ポチ",
                      "birth_date": "2021-05-01", "vaccinated": "1"}
    assert code in (0, 2)
    for f in page["fields"]:
        assert {"name", "label", "type", "raw", "value", "confidence", "flagged",
                "reasons"} <= set(f)


def test_malformed_template_names_file_and_keys(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("""
[form]
id = "Bad-Id"
title = "x"

[[fields]]
name = "a"
label = "A"
type = "text"
box = [200.0, 10.0, 30.0, 10.0]

[[fields]]
name = "a"
label = "B"
type = "sometype"
box = [10.0, 10.0, 30.0, 10.0]
""", encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        load_template(bad)
    text = str(err.value)
    assert str(bad) in text
    assert "fields[1].type" in text
    assert main(["forms", "check", str(bad)]) == 3


def test_rapidocr_never_touches_the_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.chdir(tmp_path)
    from ocr.engines import ReadHints
    from ocr.engines._rapidocr import RapidOcrEngine
    from ocr.render import Canvas, find_font

    c = Canvas((80.0, 12.0), 300)
    c.text((2.0, 6.0), "熊本県下益城郡美里町", 5.0, find_font("mincho"), anchor="lm")
    reading = RapidOcrEngine().recognize(c.to_array(), ReadHints())
    assert reading.text == "熊本県下益城郡美里町"
    assert list(tmp_path.iterdir()) == []  # no model cache written into the working folder


def _encrypted_pdf(path: Path) -> None:
    w = PdfWriter()
    w.add_blank_page(595, 842)
    w.encrypt("secret")
    with path.open("wb") as fh:
        w.write(fh)


@pytest.mark.parametrize("name,make", [
    ("empty.pdf", lambda p: p.write_bytes(b"")),
    ("truncated.pdf", lambda p: p.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")),
    ("encrypted.pdf", _encrypted_pdf),
    ("notes.pdf", lambda p: p.write_text("これはテキストです", encoding="utf-8")),
    ("huge.png", lambda p: Image.new("1", (12000, 12000)).save(p)),
])
def test_bad_input_gives_a_clear_error(name: str, make: object, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    make(path)  # type: ignore[operator]
    assert main(["ocr", str(path)]) == 4
    err = capsys.readouterr().err
    assert err.startswith("error: ") and name in err and "Traceback" not in err


@pytest.mark.parametrize("toml", sorted(Path("scenarios").glob("*/forms/*.toml")),
                         ids=lambda p: p.stem)
def test_committed_blank_forms_match_their_templates(toml: Path) -> None:
    t = load_template(toml)
    assert t.blank_path is not None, "ship the rendered blank beside the template (make forms)"
    committed = cv2.imread(str(t.blank_path), cv2.IMREAD_GRAYSCALE)
    rendered = render_blank(t, 300)
    assert committed.shape == rendered.shape
    differ = np.mean(np.abs(committed.astype(int) - rendered.astype(int)) > 64)
    assert differ < 0.002, "blank image is stale: run `make forms`"
