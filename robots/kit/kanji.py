"""Old kanji forms folded to their new forms by a vetted table, never by a general variant list.

A name written 髙橋 or 渡邊 by one system and 高橋 or 渡辺 by another is the same name; 田中 and
佃中, 大阪 and 大坂, 川崎 and 川埼 are not. A general variant table (ja-itaiji lists 254 pairs of
everyday JIS level-1 kanji as variants of each other) merges the second kind too, so the fold
here is the table of the 常用漢字表 (内閣告示第2号, 2010-11-30): each 通用字体 with the 康熙字典体
printed beside it in brackets (會 → 会, 國 → 国, 邊 → 辺, 齋 → 斎, 澤 → 沢, 濱 → 浜 … 359
pairs), plus the few glyph variants of names no OCR engine or CP932 keyboard tells apart
(髙 → 高, 﨑 → 崎, 𠮷 → 吉) — the data of the ``joyokanji`` package (Apache-2.0, pinned), whose
``config/kanji.json`` is that table. Forms the 常用漢字表 does not bracket stay distinct: 嶋 and
島, 邉 and 辺 are separate JIS characters and may be separate names; a pair like that goes to a
person, never through silently.
"""

from __future__ import annotations

import functools

from joyokanji import convert

from ocr.japanese import normalize_text

__all__ = ["kanji_equivalent", "new_form"]


@functools.lru_cache(maxsize=65536)
def new_form(text: str) -> str:
    """``text`` with each old (旧字体) or name-variant kanji of the vetted table made new."""
    return convert(text, variants=True)


def kanji_equivalent(a: str, b: str) -> bool | None:
    """Whether two names in kanji are the same up to old/new forms; None if one is empty.

    Spaces and widths are ignored (``normalize_text``); 髙橋/高橋, 渡邊/渡辺 and 齋藤/斎藤 are
    equivalent, 田中/佃中 and 島田/嶋田 are not (see the module docstring).
    """
    a, b = normalize_text(a).replace(" ", ""), normalize_text(b).replace(" ", "")
    if not a or not b:
        return None
    return a == b or new_form(a) == new_form(b)
