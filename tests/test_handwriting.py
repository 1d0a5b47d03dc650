"""Handwritten digits, marks and the handwritten-form reading path (issue 8).

Real engines and real held-out handwriting (the MNIST test split committed for the sample
generator, never trained on); nothing here needs mlxtend or PyTorch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fakes import template_error

from ocr.calibration import (
    DEFAULT_CALIBRATION,
    CalibrationError,
    DigitRule,
    load_calibration,
    parse_calibration,
)
from ocr.decide import decide_digits, digit_signals
from ocr.digits import CellReading, DigitReading, find_cells, normalise_digit
from ocr.engines import get_engine
from ocr.fields import ReadOptions
from ocr.models import DIGITS_CARD, DIGITS_MODEL
from ocr.models.train_digits import prepare
from ocr.pipeline import PipelineOptions, Reader
from ocr.render import Canvas
from ocr.results import EngineReading
from ocr.templates import FieldSpec, TemplateLibrary, load_template
from ocr.validators import RECENT_YEARS, validate_value
from robots.samples import SAMPLE_TODAY, generate
from robots.samples.handwriting import _digit_ink, _press, _strike
from robots.samples.handwriting import test_digits as held_out_digits

FORMS = sorted(Path("scenarios").glob("*/forms"))
CELL_MM, HEIGHT_MM = 8.0, 11.0


@pytest.fixture(scope="module")
def engine():
    return get_engine("digits")


def test_model_is_small_and_its_card_states_the_figures() -> None:
    assert DIGITS_MODEL.stat().st_size < 500_000
    card = json.loads(DIGITS_CARD.read_text(encoding="utf-8"))
    assert card["test_mnist"]["n"] == 1000 and card["test_mnist"]["accuracy"] >= 0.98
    assert set(card["test_mnist"]["per_digit"]) == {str(d) for d in range(10)}
    assert card["test_sklearn_digits"]["n"] == 1797


def test_held_out_digits_read_at_98_percent_through_onnxruntime(engine) -> None:
    """The committed runtime model on the held-out split, normalised as at run time."""
    images, by_label = held_out_digits()
    labels = np.zeros(len(images), int)
    for d, idx in by_label.items():
        labels[idx] = d
    x, _ = prepare(images, None)
    probs = engine.classify(x[:, 0])
    assert (probs[:, :10].argmax(1) == labels).mean() >= 0.98


def _comb(value: str, *, spoil: int | None = None, double: int | None = None,
          seed: int = 0) -> tuple[np.ndarray, FieldSpec]:
    """A boxed field drawn at 300 dpi with held-out digits; ' ' leaves a box empty."""
    n = len(value)
    f = FieldSpec(name="account_number", label="口座番号", type="account_number",
                  box=(2.0, 2.0, CELL_MM * n, HEIGHT_MM), comb=n, handwritten=True)
    rng = np.random.default_rng(seed)
    c = Canvas((CELL_MM * n + 4, HEIGHT_MM + 4), 300)
    c.rect(f.box)
    for i in range(1, n):
        c.line((2.0 + i * CELL_MM, 2.0), (2.0 + i * CELL_MM, 2.0 + HEIGHT_MM))
    for i, ch in enumerate(value):
        if ch == " ":
            continue
        if i == double:  # two digits squeezed into one box
            for dx, d in ((-0.22, 7), (0.22, 4)):
                ink = _digit_ink(d, rng, c.px(6.0), 0, c.px(3.2))
                _press(c, ink, (c.px(2.0 + (i + 0.5 + dx) * CELL_MM), c.px(2.0 + HEIGHT_MM / 2)),
                       20)
            continue
        ink = _digit_ink(int(ch), rng, c.px(7.0), 0, c.px(6.0))
        if i == spoil:
            _strike(ink, rng)
        _press(c, ink, (c.px(2.0 + (i + 0.5) * CELL_MM), c.px(2.0 + HEIGHT_MM / 2)), 20)
    return c.to_array(), f


def _read(engine, img: np.ndarray, f: FieldSpec):
    px = round(2.0 / 25.4 * 300)
    w, h = round(f.box[2] / 25.4 * 300), round(f.box[3] / 25.4 * 300)
    return engine.read_field(img, (px, px, w, h), f.comb, 300)


def test_digits_in_boxes_are_read_box_by_box(engine) -> None:
    img, f = _comb("3051427")
    reading = _read(engine, img, f)
    assert reading.text == "3051427"
    d = decide_digits(digit_signals(f, reading, None, SAMPLE_TODAY),
                      DigitRule(cell_min=0.5, agree_cell_min=0.5))
    assert d.value == "3051427" and not d.reasons


def test_an_empty_box_is_no_digit_not_a_zero(engine) -> None:
    img, f = _comb("       ")
    reading = _read(engine, img, f)
    assert reading.text == "" and all(c.empty for c in reading.cells)
    img, f = _comb("12 4567")
    d = decide_digits(digit_signals(f, _read(engine, img, f), None, SAMPLE_TODAY), DigitRule())
    assert d.value == "124567"
    assert {"digit_gap", "invalid_format"} <= {r.code for r in d.reasons}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_struck_through_digit_is_flagged(engine, seed: int) -> None:
    img, f = _comb("2468135", spoil=3, seed=seed)
    d = decide_digits(digit_signals(f, _read(engine, img, f), None, SAMPLE_TODAY),
                      load_calibration().digit_rule("account_number"))
    assert d.reasons, "a corrected box must go to a human"


def test_two_digits_in_one_box_are_flagged(engine) -> None:
    img, f = _comb("1111111", double=2)
    d = decide_digits(digit_signals(f, _read(engine, img, f), None, SAMPLE_TODAY),
                      load_calibration().digit_rule("account_number"))
    assert d.reasons


def test_normalised_digit_is_centred_like_mnist() -> None:
    gray = np.full((90, 70), 255, np.uint8)
    gray[10:80, 30:40] = 0  # a "1" off to one side
    x = normalise_digit(gray)
    ys, xs = np.nonzero(x > 0.5)
    assert x.shape == (28, 28) and ys.max() - ys.min() + 1 == 20
    assert abs(xs.mean() - 13.5) <= 1 and abs(ys.mean() - 13.5) <= 1


def test_box_lines_are_found_where_the_scan_put_them() -> None:
    img, f = _comb("1234567")
    shifted = np.full_like(img, 255)
    shifted[:, 6:] = img[:, :-6]  # registration off by 6 px
    px = round(2.0 / 25.4 * 300)
    cells = find_cells(shifted, (px, px, round(f.box[2] / 25.4 * 300),
                                 round(f.box[3] / 25.4 * 300)), 7)
    assert [c.empty for c in cells] == [False] * 7
    assert all(not c.mask[:, :2].any() and not c.mask[:, -2:].any() for c in cells)


def test_handwritten_form_end_to_end_no_unflagged_wrong_field(tmp_path: Path) -> None:
    library = TemplateLibrary.from_dirs(FORMS)
    reader = Reader(library, PipelineOptions(read=ReadOptions(today=SAMPLE_TODAY)))
    t = library.get("koza_furikae")
    silent, read = [], 0
    for level in (0, 2):
        for scan in generate(t, count=2, seed=4100 + level, out_dir=tmp_path, degrade=level,
                             fmt="pdf"):
            truth = json.loads(scan.with_suffix(".json").read_text(encoding="utf-8"))["fields"]
            page = reader.read_file(scan).pages[0]
            assert page.form == "koza_furikae"
            for fr in page.fields:
                spec = t.by_name[fr.name]
                if spec.manual:  # handwritten words: never OCR'd; keyed or proposed, flagged
                    assert fr.readings == [] and fr.raw == ""
                    codes = [r.code for r in fr.reasons]
                    assert codes in (["manual_keying"], ["proposed"])
                    assert (fr.value == "") == (codes == ["manual_keying"]) or fr.candidates
                    assert fr.crop_png, "the reviewer needs the image to key from"
                    continue
                read += 1
                if fr.value != truth[fr.name] and not fr.flagged:
                    silent.append((scan.name, fr.name, truth[fr.name], fr.value))
    assert read >= 4 * 15 and silent == []


def test_handwritten_option_is_validated_with_the_key_named(tmp_path: Path) -> None:
    text = template_error(tmp_path, """
[[fields]]
name = "acct"
label = "口座番号"
type = "account_number"
box = [40.0, 40.0, 56.0, 11.0]
handwritten = true

[[fields]]
name = "when"
label = "日"
type = "date"
box = [40.0, 60.0, 56.0, 11.0]
comb = 7
era = "令和"

[[fields]]
name = "ok"
label = "可"
type = "checkbox"
box = [40.0, 80.0, 5.0, 5.0]
options_style = "circle"
""")
    assert "fields[0]: handwritten: digits written by hand need boxes" in text
    assert "fields[1]: comb: a boxed date has 8 boxes" in text
    assert "fields[2]: options_style is only for type 'choice'" in text


def test_shipped_calibration_loads_and_a_bad_one_fails_fast(tmp_path: Path) -> None:
    cal = load_calibration()
    assert cal.source == str(DEFAULT_CALIBRATION)
    assert cal.box_marks.off < cal.box_marks.on and cal.text_rule("text") is not None
    with pytest.raises(CalibrationError) as err:
        parse_calibration({"printed": {"text": {"agree_min": 2, "typo": 1}},
                           "marks": {"box": {"on": 0.01, "off": 0.02}}, "extra": {}}, "x.toml")
    text = str(err.value)
    for key in ("printed.text.agree_min", "printed.text.typo: unknown key",
                "marks.box: off must be below on", "extra: unknown section"):
        assert key in text
    missing = tmp_path / "none.toml"
    with pytest.raises(CalibrationError, match="not found"):
        load_calibration(missing)


def test_more_digits_in_the_second_opinion_flag_a_box_taken_for_empty() -> None:
    spec = next(f for f in load_template(
        "scenarios/intake/forms/koza_furikae.toml").fields if f.name == "limit_amount")
    sure = CellReading("1", 0.999, 0.001, 0.0, False, False)
    zero = CellReading("0", 0.999, 0.001, 0.0, False, False)
    empty = CellReading("", 1.0, 0.0, 0.0, True, False)
    reading = DigitReading((empty, sure, sure, CellReading("7", 0.999, 0.0, 0.0, False, False),
                            zero, zero, empty))  # 117000 written, the last 0 too faint
    rule = DigitRule(cell_min=0.5, agree_cell_min=0.5)
    for second, flagged in (("117000", True), ("11700", False), ("1170", False)):
        sig = digit_signals(spec, reading, EngineReading("rapidocr", second, 0.9), SAMPLE_TODAY)
        codes = [r.code for r in decide_digits(sig, rule).reasons]
        assert ("length_mismatch" in codes) is flagged, second


def test_an_application_dated_years_back_is_a_misread_year() -> None:
    spec = next(f for f in load_template(
        "scenarios/intake/forms/koza_furikae.toml").fields if f.name == "request_date")
    assert spec.date_range == "recent" and RECENT_YEARS == 2
    assert validate_value(spec, "080319", today=SAMPLE_TODAY).reasons == ()  # 令和8年
    assert validate_value(spec, "070105", today=SAMPLE_TODAY).reasons == ()
    old = validate_value(spec, "050319", today=SAMPLE_TODAY)  # 令和5年: 8 read as 5
    assert [r.code for r in old.reasons] == ["implausible_date"]
    assert [r.code for r in validate_value(spec, "090319", today=SAMPLE_TODAY).reasons] == [
        "future_date"]
