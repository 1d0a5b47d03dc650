"""Seeded bad inputs for the inbox fuzz test and bench/fuzz_inbox.py.

Every mutation here is one the runtime must quarantine with a reason — never crash on, never
hang on, never decode into gigabytes: truncated PDFs, PNGs, JPEGs and TIFFs, random bytes
under image extensions, empty files, headers declaring giant dimensions (decompression
bombs: a few hundred bytes that would decode to tens of gigabytes), text and archives under
image extensions. Names mix Japanese, spaces, ``..`` and backslashes (a path separator on
Windows, a plain character here). Good scans with a *wrong* extension are made too: the
content decides, so they must be read like any other.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["bad_files", "fuzz_name"]

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
                           "text", "archive", "header-only"])
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


def write_all(folder: Path, files: Sequence[tuple[str, bytes, str]]) -> None:
    """Drop ``files`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data, _ in files:
        (folder / name).write_bytes(data)
