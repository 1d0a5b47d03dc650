"""Export layouts for the core systems (基幹系): formats and strict character sets, as data.

What a tax, resident or welfare system imports is described by a layout file
(:mod:`.layout`): encoding, delimited or fixed-length records, and per column its source
and format (:mod:`.formats`: 和暦, Zengin kana, phone numbers, codes). :mod:`.charsets`
writes only what the target's character set holds (``jis0208`` refuses 髙 and ①, which
``cp932`` writes) unless the town's substitution table decides otherwise, and
:mod:`.render` turns confirmed records into the file's bytes, holding back (要対応) every row
that cannot be written whole.

A room on floor 2: it imports only :mod:`ocr` (field types, era dates) — values in, bytes and
problems out. When and where files are handed off (confirmed data only, once per document,
logged) is :mod:`robots.sheets.handoff`.
"""

from __future__ import annotations

from robots.exports.charsets import (
    CHARSETS,
    Substitution,
    SubstitutionError,
    Substitutions,
    can_write,
    encode,
    load_substitutions,
)
from robots.exports.formats import FormatProblem, format_date, format_kana, zengin_kana
from robots.exports.layout import (
    Column,
    ExportLayout,
    ExportLayoutError,
    layout_problems,
    load_layout,
    load_layouts,
)
from robots.exports.render import Problem, Rendered, Row, render

__all__ = [
    "CHARSETS",
    "Column",
    "ExportLayout",
    "ExportLayoutError",
    "FormatProblem",
    "Problem",
    "Rendered",
    "Row",
    "Substitution",
    "SubstitutionError",
    "Substitutions",
    "can_write",
    "encode",
    "format_date",
    "format_kana",
    "layout_problems",
    "load_layout",
    "load_layouts",
    "load_substitutions",
    "render",
    "zengin_kana",
]
