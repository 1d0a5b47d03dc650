"""Seeded bad inputs for the inbox fuzz test and bench/fuzz_inbox.py.

Every mutation here is one the runtime must quarantine with a reason — never crash on, never
hang on, never decode into gigabytes: truncated PDFs, PNGs, JPEGs and TIFFs, random bytes
under image extensions, empty files, headers declaring giant dimensions (decompression
bombs: a few hundred bytes that would decode to tens of gigabytes), text and archives under
image extensions. Names mix Japanese, spaces, ``..`` and backslashes (a path separator on
Windows, a plain character here). Good scans with a *wrong* extension are made too: the
content decides, so they must be read like any other.

Hostile entries besides (:data:`EXPECTED` says where each must end): names in Shift_JIS
bytes or too long to sit beside a reason note, a page declared five metres wide, more pages
than ``max_pages_per_file``, symbolic and hard links to a scan outside the inbox, a form
whose text layer holds spreadsheet formulas under a formula-like file name (read, flagged,
kept as text), and a copy cut short a moment ago (left in the inbox for the next run).
"""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["EXPECTED", "MAX_PAGES", "bad_files", "fuzz_name", "write_all"]

#: Where each kind of entry must end: quarantined with a reason, read, or left for later.
EXPECTED = {
    "truncated": "failed", "random": "failed", "zero": "failed", "giant": "failed",
    "text": "failed", "archive": "failed", "header-only": "failed", "sjis_name": "failed",
    "long_name": "failed", "huge_page": "failed", "many_pages": "failed",
    "symlink": "failed", "hard_link": "failed", "formula": "done", "cut_recent": "inbox",
}
#: ``[inbox] max_pages_per_file`` of the fuzz workspace (a many_pages file has one more).
MAX_PAGES = 5
_FORMULA_VALUES = {"name": "=1+2", "address": "=cmd|' /C calc'!A0",
                   "purpose": "@SUM(1+1)*cmd|' /C calc'!A0", "request_date": "2026-11-20",
                   "name_kana": "ヤマダタロウ", "birth_date": "1985-04-12",
                   "postal_code": "861-4401", "phone": "0964-47-1111"}

_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".PNG", ".JPG", ".PDF")
_NAME_PARTS = ("申請書", "住民票 請求", "ｽｷｬﾝ", "口座 照会", "scan", "a..b", "x..\\..\\y",
               "２０２６年", "髙橋 様", "file name")


def fuzz_name(rng: random.Random, i: int, ext: str) -> str:
    """A file name with Japanese, spaces, ``..`` and backslashes; never hidden, unique by i."""
    part = rng.choice(_NAME_PARTS)
    return f"{i:04d} {part}{rng.choice(['', ' ', '..', ' .. '])}{ext}"


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def _giant_png(rng: random.Random) -> bytes:
    """A PNG header declaring up to 2**31 pixels a side, with a tiny zlib bomb as data."""
    w, h = rng.choice([(100_000, 100_000), (60_000, 3_000), (2**31 - 1, 1), (20_000, 20_000)])
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    bomb = zlib.compress(bytes(1 << 20), 9)  # 1 MiB of zero rows in ~1 KiB
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", bomb) \
        + _png_chunk(b"IEND", b"")


def _giant_tiff(rng: random.Random) -> bytes:
    """A little-endian TIFF whose IFD declares a huge strip image."""
    w, h = rng.choice([(80_000, 80_000), (1_000_000, 500)])
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 8 + 2 + 12 * 9 + 4), (277, 3, 1, 1),
               (278, 4, 1, h), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHII", tag, typ, count, value)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + bytes(16)


def _giant_jpeg(rng: random.Random) -> bytes:
    """A JPEG start-of-frame declaring 65,500 × 65,500 pixels, then nothing useful."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 65_500, 65_500, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + rng.randbytes(64) + b"\xff\xd9"


def bad_files(rng: random.Random, count: int, bases: Sequence[bytes]
              ) -> list[tuple[str, bytes, str]]:
    """``count`` bad files as (name, bytes, kind); ``bases`` are real scans to mutilate."""
    out: list[tuple[str, bytes, str]] = []
    for i in range(count):
        kind = rng.choice(["truncated", "truncated", "random", "zero", "giant", "giant",
                           "text", "archive", "header-only", "sjis_name", "long_name",
                           "huge_page", "many_pages", "symlink", "hard_link", "formula",
                           "cut_recent"])
        if kind in _HOSTILE:
            name, data = _HOSTILE[kind](rng, i, bases)
            out.append((name, data, kind))
            continue
        if kind == "truncated":
            base = rng.choice(bases)
            data = base[: rng.randint(1, max(2, len(base) // 2))]
            ext = {b"%PDF": ".pdf", b"\x89PN": ".png", b"\xff\xd8": ".jpg", b"II*": ".tif",
                   b"MM\x00": ".tif"}.get(next((k for k in (b"%PDF", b"\x89PN", b"\xff\xd8",
                                                            b"II*", b"MM\x00")
                                                 if base.startswith(k)), b""), ".bin")
        elif kind == "random":
            data, ext = rng.randbytes(rng.randint(1, 20_000)), rng.choice(_IMAGE_EXT)
        elif kind == "zero":
            data, ext = b"", rng.choice(_IMAGE_EXT)
        elif kind == "giant":
            maker = rng.choice([_giant_png, _giant_tiff, _giant_jpeg])
            data = maker(rng)
            ext = rng.choice(_IMAGE_EXT)  # the extension may lie too
        elif kind == "text":
            data = ("美里町役場 御中\r\nこれはスキャンではありません。\r\n" * rng.randint(1, 50)
                    ).encode(rng.choice(["utf-8", "cp932"]))
            ext = rng.choice(_IMAGE_EXT)
        elif kind == "archive":
            data = b"PK\x03\x04" + rng.randbytes(rng.randint(10, 2000))
            ext = rng.choice([".tif", ".pdf", ".docx", ".zip"])
        else:  # a real magic number and nothing after it
            data = rng.choice([b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0",
                               b"II*\x00", b"MM\x00*"])
            ext = rng.choice(_IMAGE_EXT)
        out.append((fuzz_name(rng, i, ext), data, kind))
    return out


def _sjis_name(rng: random.Random, i: int, bases: Sequence[bytes]) -> tuple[str, bytes]:
    raw = f"{i:04d} ".encode() + rng.choice(["申請書".encode("cp932"), b"\xe9t\xe9",
                                               "口座".encode("cp932") + b"\xff"]) + b".pdf"
    return os.fsdecode(raw), rng.choice([b"", rng.randbytes(50)])


def _long_name(rng: random.Random, i: int, bases: Sequence[bytes]) -> tuple[str, bytes]:
    return f"{i:04d}" + "申" * rng.randint(78, 82) + ".pdf", b""


def _pdf(width_pt: float, height_pt: float, pages: int = 1) -> bytes:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width_pt, height_pt))
    img = ImageReader(Image.new("L", (30, 40), 255))
    for _ in range(pages):
        c.drawImage(img, 0, 0, width_pt, height_pt)
        c.showPage()
    c.save()
    return buf.getvalue()


def _huge_page(rng: random.Random, i: int, bases: Sequence[bytes]) -> tuple[str, bytes]:
    side = rng.choice([14_400.0, 50_000.0])
    return f"{i:04d} huge page.pdf", _pdf(side, side)


def _many_pages(rng: random.Random, i: int, bases: Sequence[bytes]) -> tuple[str, bytes]:
    from PIL import Image

    buf = io.BytesIO()
    pages = [Image.new("L", (70, 100), 255) for _ in range(MAX_PAGES + 1)]
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:])
    return f"{i:04d} many pages.tif", buf.getvalue()


def _link(rng: random.Random, i: int, bases: Sequence[bytes]) -> tuple[str, bytes]:
    return f"{i:04d} link to another resident.png", rng.choice(bases)


def _formula(rng: random.Random, i: int, bases: Sequence[bytes]) -> tuple[str, bytes]:
    from fakes import forms_library, text_layer_form

    path = Path(tempfile.mkdtemp()) / "f.pdf"
    try:
        values = {**_FORMULA_VALUES, "purpose": f"@SUM({i}+1)*cmd|' /C calc'!A0"}  # unique
        text_layer_form(path, forms_library().get("juminhyo_request"), values)
        return f"={i:04d}+cmd|' C calc'!A0.pdf", path.read_bytes()
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def _cut_recent(rng: random.Random, i: int, bases: Sequence[bytes]) -> tuple[str, bytes]:
    pdf = _pdf(595.0, 842.0)
    return f"{i:04d} still copying.pdf", pdf[: len(pdf) - rng.randint(8, 200)]


_HOSTILE = {"sjis_name": _sjis_name, "long_name": _long_name, "huge_page": _huge_page,
            "many_pages": _many_pages, "symlink": _link, "hard_link": _link,
            "formula": _formula, "cut_recent": _cut_recent}


def write_all(folder: Path, files: Sequence[tuple[str, bytes, str]]) -> None:
    """Drop ``files`` into ``folder``; links point at copies in a folder beside it.

    A folder with a scan inside is dropped too: it must be reported, never entered.
    """
    folder.mkdir(parents=True, exist_ok=True)
    elsewhere = folder.parent.parent / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    for name, data, kind in files:
        if kind in ("symlink", "hard_link"):
            target = elsewhere / f"{len(list(elsewhere.iterdir())):05d}.png"
            target.write_bytes(data)
            if kind == "symlink":
                (folder / name).symlink_to(target)
            else:
                os.link(target, folder / name)
        else:
            (folder / name).write_bytes(data)
    (folder / "a folder dropped by mistake").mkdir(exist_ok=True)
    (folder / "a folder dropped by mistake" / "inside.png").write_bytes(b"not read")
