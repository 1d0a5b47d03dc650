"""Field crops on paper that is not flat and evenly lit: folds, tilted rules, a dim lamp.

The scans here are drawn by this file (IPAex fonts, a crease model of its own), not by
either sample world: a crease that is tilted, broken into dashes or runs along the feet
of the characters, a box rule as black as the print, and a lamp that lights one end of a
long box less than the other. Each once kept the crop as wide as the box (RapidOCR then
read the name at a third of its size and dropped characters) or cut the characters in two.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.arbitrate import ALLOWED
from ocr.crops import crossing_lines, cut_field
from ocr.engines import ReadHints, get_engine
from ocr.fields import FieldReader, ReadOptions
from ocr.pipeline import make_engines
from ocr.preprocess import even_light
from ocr.render import find_font
from ocr.results import FieldResult
from ocr.templates import FieldSpec, FieldType

KANA = ReadHints(field_type=FieldType.KANA, allowed=ALLOWED[FieldType.KANA])
PX = 50  # 12 pt at 300 dpi


def _box(text: str, kind: str = "gothic", width: int = 1700, baseline: int = 80) -> np.ndarray:
    """A long field box (no printed rules) with ``text`` from the left; baseline in px."""
    img = Image.new("L", (width, 130), 255)
    font = ImageFont.truetype(str(find_font(kind)), PX)
    ImageDraw.Draw(img).text((20, baseline), text, font=font, fill=0, anchor="ls")
    return np.asarray(img).copy()


def _crease(img: np.ndarray, y_left: float, y_right: float, depth: float, *,
            dashes: bool = False, seed: int = 0) -> np.ndarray:
    """A fold from (0, y_left) to (width, y_right): a grey line with a shadow below it."""
    h, w = img.shape
    centre = np.linspace(y_left, y_right, w)[None, :]
    d = np.arange(h, dtype=np.float32)[:, None] - centre
    line = (0.8 * depth + 30) * np.exp(-(d / 2.5) ** 2)
    if dashes:  # the fold's shadow faint in places: the line breaks into dashes
        rng = np.random.default_rng(seed)
        on = np.repeat(rng.random(w // 40 + 1) > 0.35, 40)[:w]
        line = line * on[None, :]
    shadow = 0.5 * depth * np.exp(-np.clip(d, 0, None) / 14.0) * (d >= 0)
    return np.clip(img.astype(np.float32) - line - shadow, 0, 255).astype(np.uint8)


def _noisy(img: np.ndarray, sigma: float = 6.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def _cut(img: np.ndarray) -> np.ndarray:
    crop = cut_field(img.copy(), np.zeros(img.shape, bool), denoise="never")
    assert crop.has_ink
    return crop.image


def _read(img: np.ndarray) -> str:
    """RapidOCR's letters; the word space it reads as ー is the arbitration's business."""
    text = get_engine("rapidocr").recognize(img, KANA).text
    return text.replace(" ", "").replace("\u3000", "").replace("ー", "")


@pytest.mark.parametrize(("text", "y_left", "y_right", "dashes"), [
    ("カトウ\u3000タマキ", 95, 110, False),  # under the writing, tilted by half a degree
    ("カトウ\u3000タマキ", 100, 88, True),  # broken into dashes, tilted the other way
    ("ヒノ\u3000ケイカ", 60, 75, False),  # through the middle of the characters
])
def test_a_tilted_or_broken_fold_is_cut_away_and_the_crop_stays_tight(
        text: str, y_left: float, y_right: float, dashes: bool) -> None:
    clean = _cut(_noisy(_box(text)))
    folded = _cut(_noisy(_crease(_box(text), y_left, y_right, 70, dashes=dashes)))
    assert abs(folded.shape[1] - clean.shape[1]) < 25  # the writing, not the whole box
    assert _read(folded) == text.replace("\u3000", "")


@pytest.mark.parametrize(("text", "kind", "y", "depth"), [
    ("アダチ\u3000ユメ", "gothic", 78.5, 70),  # ユ's foot on a grey fold (read コ if cut)
    ("ヨシノ\u3000トモノリ", "mincho", 44.0, 70),  # シ's dots and ノ's top on it (ン, フ)
    ("ヨシノ\u3000トモノリ", "mincho", 44.0, 200),  # a fold as dark as the print
    ("シラカワ", "mincho", 47.0, 120),  # ラ's top stroke on it (フ if cut)
    ("ノノミヤ\u3000ノゾミ", "gothic", 36.0, 160),  # a line on the top of ノ (フ if kept)
    # both engines read フワミ and シフ, agreeing: only the other view shows the doubt
    ("ノゾミ", "gothic", 40.0, 160),
    ("シノ", "gothic", 48.0, 70),
])
def test_a_fold_along_the_characters_is_read_right_or_flagged(text: str, kind: str, y: float,
                                                               depth: float) -> None:
    page = _noisy(_crease(_box(text, kind), y - 1, y + 1, depth))
    assert crossing_lines((page < 200).astype(np.uint8), page) is not None  # the fold is seen
    clean = _cut(_noisy(_box(text, kind)))
    assert abs(_cut(page).shape[1] - clean.shape[1]) < 25  # and the crop no wider for it
    result = _field(page)
    assert result.value == text.replace("\u3000", "") or result.flagged, result.value


@pytest.mark.parametrize(("text", "kind", "y", "sigma"), [
    # a fold as dark as the print along the feet of the characters: kept, it turns ノ into
    # ム and ヤ into セ; taken out, it cuts them; painted over from above and below, the
    # strokes that cross it go on (both engines misread the crop itself)
    ("コイデ\u3000ヨシノ", "gothic", 78, 14.0),
    ("コイデ\u3000ヨシノ", "mincho", 80, 6.0),
    ("ミヤシタ\u3000サトミ", "gothic", 80, 14.0),
    ("ホシノ\u3000エイスケ", "mincho", 78, 14.0),
])
def test_a_fold_along_the_feet_proposes_the_writing_with_the_fold_painted_over(
        text: str, kind: str, y: float, sigma: float) -> None:
    page = _noisy(_crease(_box(text, kind), y - 1, y + 1, 200), sigma=sigma)
    crop = cut_field(page.copy(), np.zeros(page.shape, bool), denoise="never")
    assert crop.mended is not None and crop.other is not None
    result = _field(page)
    assert result.value == text.replace("\u3000", "")  # what the reviewer is proposed
    assert "line_across_writing" in [r.code for r in result.reasons]  # and still looked at


def test_a_fold_every_view_reads_alike_is_no_reason_to_look() -> None:
    # シ's dots and ノ's top on a grey fold: the view without it reads ヨシジシフ, but both
    # engines read the crop and the fold painted over alike, and right
    page = _noisy(_crease(_box("ヨシノ\u3000トモノリ", "mincho"), 43.0, 45.0, 70))
    result = _field(page)
    assert (result.value, result.reasons) == ("ヨシノトモノリ", [])
    # ラ's top stroke on it: the painted view reads ンフカリ, so the field is looked at
    page = _noisy(_crease(_box("シラカワ", "mincho"), 46.0, 48.0, 120))
    assert "line_across_writing" in [r.code for r in _field(page).reasons]


def _field(box: np.ndarray) -> FieldResult:
    """``box`` read as a kana field by the reader itself (both engines, its arbitration)."""
    margin = 60
    page = cv2.copyMakeBorder(box, margin, margin, margin, margin, cv2.BORDER_CONSTANT,
                              value=255)
    mm = 25.4 / 300
    spec = FieldSpec(name="kana", label="フリガナ", type=FieldType.KANA,
                     box=(margin * mm, margin * mm, box.shape[1] * mm, box.shape[0] * mm))
    reader = FieldReader(make_engines(["tesseract", "rapidocr"]), ReadOptions(), 300.0)
    return reader._read_text(spec, page, np.full(page.shape, 255, np.uint8))


def test_a_black_rule_left_by_registration_goes_whole_even_tilted() -> None:
    page = _box("ヤマダ\u3000ハナコ")
    clean = _cut(_noisy(page))
    ruled = page.copy()
    xs = np.arange(ruled.shape[1])
    ys = np.round(118 - xs * 0.006).astype(int)  # 10 px rise over the box
    for dy in range(3):
        ruled[ys + dy, xs] = 0
    crop = _cut(_noisy(ruled))
    assert abs(crop.shape[1] - clean.shape[1]) < 25
    assert crop.shape[0] <= clean.shape[0] + 4  # no rule kept under the writing


def test_a_dim_end_of_a_long_box_is_paper_not_writing() -> None:
    page = _box("サイトウ\u3000ジュンコ").astype(np.float32)
    lamp = np.linspace(1.0, 0.72, page.shape[1])[None, :]  # 70 grey levels darker at the end
    dim = _noisy(np.clip(page * lamp, 0, 255).astype(np.uint8))
    clean = _cut(_noisy(_box("サイトウ\u3000ジュンコ")))
    crop = _cut(dim)
    assert abs(crop.shape[1] - clean.shape[1]) < 25
    assert _read(crop) == "サイトウジュンコ"
    flat = even_light(dim)
    paper = flat[:, 600:][flat[:, 600:] > 128]
    assert abs(float(np.median(paper)) - float(np.median(flat[:, :20]))) < 12


def test_evenly_lit_paper_is_left_as_it_is_even_when_noisy() -> None:
    # dividing by a local maximum of noise made the calibration world's heaviest level read
    # worse: paper lit evenly is not touched, however noisy the scan
    page = _noisy(_box("サイトウ\u3000ジュンコ"), sigma=20.0)
    assert np.array_equal(even_light(page), page)
