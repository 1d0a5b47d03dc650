"""ocr.sources: every input is generated here in tmp_path (no committed binaries)."""

from __future__ import annotations

import re
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pypdf
import pytest
from PIL import Image

from ocr.errors import (
    EmptyInputError,
    EncryptedInputError,
    InputError,
    TooLargeInputError,
    UnreadableInputError,
    UnsupportedInputError,
)
from ocr.sources import PageImage, count_pages, iter_pages, load_pages, sniff_kind

try:  # reportlab makes the born-digital PDFs; the tests that need it skip without it
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas
except ImportError:  # pragma: no cover
    canvas = None

FONT = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")
MM = 72 / 25.4  # points per millimetre
A4 = (210 * MM, 297 * MM)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def marked(mode: str, size: tuple[int, int], ink: object = 0, paper: object = 255) -> Image.Image:
    """A blank page with a 30 px ink square at its top-left corner (to check orientation)."""
    if mode == "1":
        ink, paper = 0, 1
    img = Image.new(mode, size, paper)
    img.paste(ink, (0, 0, 30, 30))
    return img


def dark_bbox(page: PageImage) -> tuple[float, float, float, float]:
    """Bounding box (mm, from the top-left) of the dark pixels of a page image."""
    img = page.image
    assert img is not None
    gray = img if img.ndim == 2 else img.min(axis=2)
    ys, xs = np.nonzero(gray < 128)
    k = 25.4 / page.dpi
    return xs.min() * k, ys.min() * k, (xs.max() + 1) * k, (ys.max() + 1) * k


def scanned_pdf(path: Path, *pages: Image.Image, resolution: int = 300) -> Path:
    pages[0].save(path, "PDF", resolution=resolution, save_all=True, append_images=pages[1:])
    return path


# --------------------------------------------------------------------------------------------
# raster files


def test_sniff_kind_uses_content_not_extension(tmp_path: Path) -> None:
    png_named_pdf = tmp_path / "scan.pdf"
    marked("L", (50, 50)).save(png_named_pdf, "PNG")
    assert sniff_kind(png_named_pdf) == "png"
    jpg = tmp_path / "a.png"
    marked("L", (50, 50)).save(jpg, "JPEG")
    assert sniff_kind(jpg) == "jpeg"
    assert load_pages(png_named_pdf)[0].kind == "png"


def test_png_with_dpi(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    marked("L", (600, 800)).save(path, dpi=(200, 200))
    (page,) = load_pages(path)
    assert (page.index, page.kind, page.dpi_estimated) == (1, "png", False)
    assert page.dpi == pytest.approx(200, abs=0.5)
    assert page.image is not None
    assert page.image.shape == (800, 600)
    assert page.image.dtype == np.uint8
    assert page.page_size_mm == pytest.approx((76.2, 101.6), abs=0.2)
    assert page.words == ()


def test_png_without_dpi_is_estimated_as_a4_width(tmp_path: Path) -> None:
    path = tmp_path / "nodpi.png"
    marked("L", (420, 594)).save(path)
    (page,) = load_pages(path)
    assert page.dpi_estimated
    assert page.dpi == pytest.approx(420 / (210 / 25.4))
    assert page.page_size_mm == pytest.approx((210, 297), abs=0.5)


def test_implausible_stated_dpi_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "default72.jpg"
    marked("L", (2480, 3508)).save(path, dpi=(72, 72))  # a 300 dpi scan saved with 72 dpi
    (page,) = load_pages(path)
    assert page.dpi_estimated
    assert page.dpi == pytest.approx(300, abs=1)


def test_jpeg_exif_orientation_6_is_read_upright(tmp_path: Path) -> None:
    # stored landscape 300x200 with the mark at stored top-left; orientation 6 = turn 90° CW
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    marked("RGB", (300, 200), ink=(0, 0, 0), paper=(255, 255, 255)).save(
        path, "JPEG", exif=exif.tobytes(), dpi=(100, 150), quality=95
    )
    (page,) = load_pages(path)
    assert page.image is not None
    # portrait as displayed; stored 100 dpi across / 150 down become 150 across / 100 down,
    # and the 100 dpi axis is resampled to square pixels at 150 dpi
    assert page.image.shape[:2] == (450, 200)
    _, y0, x1, _ = dark_bbox(page)
    assert y0 < 1 and x1 > page.page_size_mm[0] - 1  # mark now at the top-right
    assert page.dpi == pytest.approx(150)


def test_multipage_g4_tiff(tmp_path: Path) -> None:
    path = tmp_path / "fax.tif"
    frames = [marked("1", (400 + 10 * i, 500)) for i in range(3)]
    frames[0].save(
        path, compression="group4", save_all=True, append_images=frames[1:], dpi=(300, 300)
    )
    assert count_pages(path) == 3
    pages = list(iter_pages(path))
    assert [p.index for p in pages] == [1, 2, 3]
    for i, page in enumerate(pages):
        assert page.kind == "tiff"
        assert page.dpi == pytest.approx(300) and not page.dpi_estimated
        assert page.image is not None
        assert page.image.dtype == np.uint8
        assert page.image.shape == (500, 400 + 10 * i)
        assert set(np.unique(page.image)) == {0, 255}
        assert page.image[5, 5] == 0 and page.image[100, 100] == 255


def test_fax_tiff_with_non_square_pixels_is_resampled(tmp_path: Path) -> None:
    path = tmp_path / "standard_fax.tif"
    marked("1", (408, 196)).save(path, compression="group4", dpi=(204, 98))
    (page,) = load_pages(path)
    assert page.dpi == pytest.approx(204)
    assert page.image is not None
    assert page.image.shape == (round(196 * 204 / 98), 408)


def _cmyk_jpeg(path: Path) -> None:
    Image.new("CMYK", (60, 40), (0, 255, 255, 0)).save(path, "JPEG", quality=95)  # red


def _rgba_png(path: Path) -> None:
    img = Image.new("RGBA", (60, 40), (0, 0, 0, 0))  # fully transparent black
    img.paste((255, 0, 0, 255), (0, 0, 10, 10))
    img.save(path, "PNG")


@pytest.mark.parametrize(
    ("make", "ndim", "check"),
    [
        (
            lambda p: Image.new("I;16", (60, 40), 65535).save(p, "PNG"),
            2,
            lambda a: a[20, 30] == 255,
        ),
        (lambda p: Image.new("LA", (60, 40), (0, 0)).save(p, "PNG"), 2, lambda a: a[20, 30] == 255),
        (_rgba_png, 3, lambda a: list(a[20, 30]) == [255] * 3 and list(a[5, 5]) == [0, 0, 255]),
        (
            lambda p: Image.new("L", (60, 40), 77).convert("P").save(p, "PNG"),
            2,
            lambda a: a[20, 30] == 77,
        ),
        (
            lambda p: Image.new("RGB", (60, 40), (0, 0, 255)).convert("P").save(p, "PNG"),
            3,
            lambda a: list(a[20, 30]) == [255, 0, 0],  # blue, as BGR
        ),
        (_cmyk_jpeg, 3, lambda a: a[20, 30, 2] > 200 and a[20, 30, 0] < 60),  # red, as BGR
    ],
    ids=["16bit", "LA", "RGBA", "palette-gray", "palette-colour", "CMYK-jpeg"],
)
def test_pixel_modes_become_uint8_gray_or_bgr(
    tmp_path: Path, make: Callable[[Path], None], ndim: int, check: Callable[[np.ndarray], bool]
) -> None:
    path = tmp_path / "img.bin"
    make(path)
    (page,) = load_pages(path)
    assert page.image is not None
    assert page.image.dtype == np.uint8
    assert page.image.ndim == ndim
    assert check(page.image)


# --------------------------------------------------------------------------------------------
# PDF


def test_scanned_pdf_pages_dpi_and_colour(tmp_path: Path) -> None:
    # G4 (CCITTFax), JPEG gray and JPEG colour pages, as Pillow writes them
    path = scanned_pdf(
        tmp_path / "scan.pdf",
        marked("1", (600, 800)),
        marked("L", (600, 800)),
        marked("RGB", (600, 800), ink=(255, 0, 0), paper=(255, 255, 255)),
    )
    assert count_pages(path) == 3
    pages = load_pages(path)
    assert [p.index for p in pages] == [1, 2, 3]
    for page in pages:
        assert page.kind == "pdf-image"
        assert page.dpi == pytest.approx(300, abs=0.5) and not page.dpi_estimated
        assert page.page_size_mm == pytest.approx((50.8, 67.73), abs=0.05)
        assert page.image is not None
        assert page.image.shape[:2] == (800, 600)
        assert page.words == ()
    assert pages[0].image is not None and pages[0].image.ndim == 2
    assert pages[2].image is not None and pages[2].image.ndim == 3
    assert list(pages[2].image[10, 10]) == pytest.approx([0, 0, 255], abs=8)  # red seal: BGR


def test_rotated_pdf_page_comes_out_upright(tmp_path: Path) -> None:
    src = scanned_pdf(tmp_path / "src.pdf", marked("L", (600, 800)))
    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(src).pages[0])
    writer.pages[0].rotate(90)  # displayed turned 90° clockwise
    path = tmp_path / "rotated.pdf"
    writer.write(path)
    (page,) = load_pages(path)
    assert page.image is not None
    assert page.image.shape == (600, 800)
    assert page.page_size_mm == pytest.approx((67.73, 50.8), abs=0.05)
    _, y0, x1, _ = dark_bbox(page)
    assert y0 < 0.5 and x1 > page.page_size_mm[0] - 0.5  # top-left mark went top-right


@pytest.fixture(scope="module")
def reportlab_font() -> str:
    if canvas is None:
        pytest.skip("reportlab is not installed")
    if not FONT.exists():
        pytest.skip("IPAex Gothic (fonts-ipaexfont) is not installed")
    pdfmetrics.registerFont(TTFont("IPAexGothic", str(FONT)))
    return "IPAexGothic"


def test_image_placement_on_the_page_is_honoured(tmp_path: Path, reportlab_font: str) -> None:
    path = tmp_path / "placed.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    # page 1: image with margins (Flate), 180x240 mm at x=10 mm, 47 mm from the top
    c.drawImage(ImageReader(marked("L", (600, 800))), 10 * MM, 10 * MM, 180 * MM, 240 * MM)
    c.showPage()
    # page 2: image drawn turned 90° counter-clockwise by the content stream
    c.translate(150 * MM, 50 * MM)
    c.rotate(90)
    c.drawImage(ImageReader(marked("L", (400, 300))), 0, 0, 160 * MM, 120 * MM)
    c.showPage()
    c.save()
    first, second = load_pages(path)
    assert first.kind == second.kind == "pdf-image"
    assert first.page_size_mm == pytest.approx((210, 297), abs=0.1)
    assert first.dpi == pytest.approx(600 / (180 / 25.4), abs=0.1)
    assert first.image is not None
    assert first.image.shape[:2] == (round(297 / 25.4 * first.dpi), round(210 / 25.4 * first.dpi))
    assert dark_bbox(first)[:2] == pytest.approx((10, 47), abs=1)
    # the image's top-left corner is drawn at (30 mm, 247 mm from the top), its top edge
    # running upwards: the 30 px mark (12 mm) sits at the bottom-left of the drawn image
    assert dark_bbox(second) == pytest.approx((30, 235, 42, 247), abs=1)


def test_text_layer_pdf_gives_positioned_words(tmp_path: Path, reportlab_font: str) -> None:
    path = tmp_path / "born_digital.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(reportlab_font, 12)
    c.drawString(30 * MM, A4[1] - 40 * MM, "美里町 転入届")  # baseline 40 mm from the top
    c.drawString(100 * MM, A4[1] - 100 * MM, "山田 太郎")
    c.beginForm("stamp")  # text inside a form XObject, drawn moved
    c.setFont(reportlab_font, 10)
    c.drawString(0, 0, "受付済")
    c.endForm()
    c.translate(50 * MM, 20 * MM)  # baseline 277 mm from the top
    c.doForm("stamp")
    c.showPage()
    c.save()
    (page,) = load_pages(path)
    assert (page.kind, page.image, page.dpi_estimated) == ("pdf-text", None, False)
    assert page.page_size_mm == pytest.approx((210, 297), abs=0.1)
    found = {w.text: w for w in page.words}
    assert set(found) == {"美里町 転入届", "山田 太郎", "受付済"}
    for text, x, baseline, size_pt in [
        ("美里町 転入届", 30, 40, 12),
        ("山田 太郎", 100, 100, 12),
        ("受付済", 50, 277, 10),
    ]:
        w = found[text]
        assert w.x_mm == pytest.approx(x, abs=2)
        assert w.h_mm == pytest.approx(size_pt / MM, abs=1)
        assert w.y_mm < baseline < w.y_mm + w.h_mm
        assert w.y_mm + w.h_mm == pytest.approx(baseline, abs=2)
        assert w.w_mm == pytest.approx(len(text.replace(" ", "")) * size_pt / MM, abs=4)


def test_scan_with_invisible_text_layer_is_an_image_with_words(
    tmp_path: Path, reportlab_font: str
) -> None:
    path = tmp_path / "ocrmypdf_like.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    scan = marked("RGB", (420, 594), ink=(0, 0, 0), paper=(255, 255, 255))
    c.drawInlineImage(scan, 0, 0, A4[0], A4[1])  # an inline (BI/ID/EI) full-page image
    text = c.beginText()
    text.setTextRenderMode(3)  # invisible, as OCR layers are
    text.setFont(reportlab_font, 12)
    text.setTextOrigin(30 * MM, A4[1] - 40 * MM)
    text.textOut("見えない文字")
    c.drawText(text)
    c.showPage()
    c.save()
    (page,) = load_pages(path)
    assert page.kind == "pdf-image"
    assert page.dpi == pytest.approx(420 / (210 / 25.4), abs=0.1)
    assert page.image is not None and page.image.shape == (594, 420, 3)
    assert [w.text for w in page.words] == ["見えない文字"]
    assert page.words[0].x_mm == pytest.approx(30, abs=2)


def test_rotated_text_page_gives_positions_as_displayed(
    tmp_path: Path, reportlab_font: str
) -> None:
    src = tmp_path / "portrait.pdf"
    c = canvas.Canvas(str(src), pagesize=A4)
    c.setFont(reportlab_font, 12)
    c.drawString(30 * MM, A4[1] - 40 * MM, "氏名")  # baseline 40 mm from the top
    c.showPage()
    c.save()
    writer = pypdf.PdfWriter(clone_from=src)
    writer.pages[0].rotate(90)
    path = tmp_path / "landscape.pdf"
    writer.write(path)
    (page,) = load_pages(path)
    assert page.page_size_mm == pytest.approx((297, 210), abs=0.1)
    (word,) = page.words
    # turned clockwise: the baseline is now a vertical line 40 mm left of the right edge,
    # the text running down from 30 mm below the top
    assert word.y_mm == pytest.approx(30, abs=2)
    assert word.x_mm < 297 - 40 < word.x_mm + word.w_mm
    assert word.h_mm > word.w_mm


def test_pdf_encrypted_with_empty_user_password_opens(tmp_path: Path) -> None:
    src = scanned_pdf(tmp_path / "src.pdf", marked("L", (300, 400)))
    writer = pypdf.PdfWriter(clone_from=src)
    writer.encrypt(user_password="", owner_password="owner-only")
    path = tmp_path / "permissions_only.pdf"
    writer.write(path)
    assert pypdf.PdfReader(path).is_encrypted
    (page,) = load_pages(path)
    assert page.kind == "pdf-image" and page.image is not None


def test_pdf_encryption_needing_a_missing_package_is_an_encryption_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AES-encrypted PDFs need the `cryptography` package even with an empty password
    def reader(*_args: object, **_kwargs: object) -> None:
        raise pypdf.errors.DependencyError("cryptography>=3.1 is required for AES algorithm")

    path = scanned_pdf(tmp_path / "aes.pdf", marked("L", (100, 100)))
    monkeypatch.setattr(pypdf, "PdfReader", reader)
    with pytest.raises(EncryptedInputError) as info:
        load_pages(path)
    assert JAPANESE.search(info.value.reason_ja)
    assert "aes.pdf" in str(info.value)


def test_iter_pages_is_lazy_but_checks_the_file_eagerly(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_text("これはPDFではありません\n", encoding="utf-8")
    with pytest.raises(UnsupportedInputError):
        iter_pages(path)  # raised by the call, before any page is asked for
    tif = tmp_path / "many.tif"
    frames = [marked("1", (100, 100)) for _ in range(5)]
    frames[0].save(tif, compression="group4", save_all=True, append_images=frames[1:])
    pages = iter_pages(tif)
    assert next(pages).index == 1
    assert sum(1 for _ in pages) == 4


# --------------------------------------------------------------------------------------------
# bad input: each raises a domain error with a Japanese reason and no traceback text


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims huge dimensions (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _cut(make: Callable[[Path], object], keep: float) -> Callable[[Path], object]:
    def build(path: Path) -> None:
        make(path)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    return build


def _noise(mode: str, size: tuple[int, int]) -> Image.Image:
    """Incompressible content, so that cutting the file cuts pixel data."""
    rng = np.random.default_rng(7)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def _encrypted(path: Path) -> None:
    src = scanned_pdf(path.with_suffix(".src.pdf"), marked("L", (300, 400)))
    writer = pypdf.PdfWriter(clone_from=src)
    writer.encrypt("secret")
    writer.write(path)


def _content_lost(path: Path) -> None:
    """A scanned page whose content stream came back empty, as pypdf repairs damage."""
    src = scanned_pdf(path.with_suffix(".src.pdf"), marked("L", (300, 400)))
    writer = pypdf.PdfWriter(clone_from=src)
    writer.pages[0].replace_contents(pypdf.generic.ContentStream(None, writer))
    writer.write(path)


def _zero_page_pdf(path: Path) -> None:
    pypdf.PdfWriter().write(path)


def _tiff_3(path: Path) -> None:
    frames = [_noise("L", (300, 300)) for _ in range(3)]
    frames[0].save(path, "TIFF", save_all=True, append_images=frames[1:], dpi=(300, 300))


BAD_INPUTS: dict[str, tuple[Callable[[Path], object], type[InputError], dict[str, int]]] = {
    "empty-file": (lambda p: p.write_bytes(b""), EmptyInputError, {}),
    "zero-page-pdf": (_zero_page_pdf, EmptyInputError, {}),
    "encrypted-pdf": (_encrypted, EncryptedInputError, {}),
    "text-renamed-pdf": (
        lambda p: p.write_text("請求書\n金額 1,000円\n", encoding="utf-8"),
        UnsupportedInputError,
        {},
    ),
    "random-bytes-png": (
        lambda p: p.write_bytes(b"\x00" + np.random.default_rng(1).bytes(4095)),
        UnsupportedInputError,
        {},
    ),
    "png-magic-then-garbage": (
        lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + np.random.default_rng(2).bytes(512)),
        UnreadableInputError,
        {},
    ),
    "truncated-pdf": (
        _cut(lambda p: scanned_pdf(p, _noise("L", (300, 400)), _noise("L", (300, 400))), 0.5),
        UnreadableInputError,
        {},
    ),
    "pdf-page-content-lost": (_content_lost, UnreadableInputError, {}),
    "truncated-png": (
        _cut(lambda p: _noise("L", (200, 200)).save(p, "PNG"), 0.6),
        UnreadableInputError,
        {},
    ),
    "truncated-jpeg": (
        _cut(lambda p: _noise("RGB", (200, 200)).save(p, "JPEG", quality=90), 0.6),
        UnreadableInputError,
        {},
    ),
    "truncated-tiff": (_cut(_tiff_3, 0.5), UnreadableInputError, {}),
    "huge-png-header": (
        lambda p: p.write_bytes(_png_header_only(100_000, 100_000)),
        TooLargeInputError,
        {},
    ),
    "png-over-max-pixels": (
        lambda p: p.write_bytes(_png_header_only(12_000, 12_000)),  # 144 MP > 120 MP default
        TooLargeInputError,
        {},
    ),
    "tiff-over-small-limit": (_tiff_3, TooLargeInputError, {"max_pixels": 50_000}),
    "pdf-over-small-limit": (
        lambda p: scanned_pdf(p, marked("L", (300, 400))),
        TooLargeInputError,
        {"max_pixels": 50_000},
    ),
}


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")  # Pillow, on the cut TIFF
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_a_domain_error(tmp_path: Path, case: str) -> None:
    make, error, kwargs = BAD_INPUTS[case]
    path = tmp_path / ("input.png" if "png" in case else "input.pdf")
    make(path)
    started = time.perf_counter()
    with pytest.raises(error) as info:
        load_pages(path, **kwargs)
    assert time.perf_counter() - started < 2  # e.g. no gigabytes allocated for a bomb
    exc = info.value
    assert JAPANESE.search(exc.reason_ja), exc.reason_ja
    message = str(exc)
    assert path.name in message
    assert "Traceback" not in message and 'File "' not in message and "\n" not in message
    assert exc.exit_code == 4


def test_count_pages(tmp_path: Path) -> None:
    pdf = scanned_pdf(tmp_path / "two.pdf", marked("L", (100, 100)), marked("L", (100, 100)))
    png = tmp_path / "one.png"
    marked("L", (100, 100)).save(png)
    assert count_pages(pdf) == 2
    assert count_pages(png) == 1
    zero = tmp_path / "zero.pdf"
    _zero_page_pdf(zero)
    with pytest.raises(EmptyInputError):
        count_pages(zero)


def test_missing_file_is_a_domain_error(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError) as info:
        load_pages(tmp_path / "gone.pdf")
    assert JAPANESE.search(info.value.reason_ja)
