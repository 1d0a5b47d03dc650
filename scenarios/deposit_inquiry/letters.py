"""照会書: the printable inquiry letters for banks not on the online service (PDF, one per bank).

One A4 page per person asked about, as the paper inquiry is written: document number and
date, the bank and branch addressed in full (zengin's short names written out), who asks
(with a box for the official seal), the title — 預貯金等の照会について, or （再照会） — and the
request with its legal basis for the inquiry's purpose, then 記: the inquiry number, the
person as sent (name, kana, birth date in 和暦 and western, address), what is asked, the
reply deadline and how to reply. Set in IPAex Mincho (embedded, IPA Font License), so that
the letter prints the same on any PC.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ocr.japanese import format_era
from ocr.render import find_font

__all__ = ["Letter", "write_letters"]

log = logging.getLogger(__name__)

_FONT = "IPAexMincho"


@dataclass(frozen=True)
class Letter:
    """One page: one inquiry (or its 再照会) to one bank."""

    document_number: str
    sent_on: date
    bank: str  # full name
    branch: str  # full name, "" for every branch (全店照会)
    requester: str
    department: str
    contact: str
    legal_basis: str
    inquiry_number: str
    name: str
    kana: str
    birth_date: str  # ISO
    address: str
    deadline: date
    round: int = 1
    previous: str = ""  # document number and date of the first send, for a 再照会


@functools.cache
def _font() -> str:
    pdfmetrics.registerFont(TTFont(_FONT, str(find_font("mincho"))))
    return _FONT


def _era(d: date) -> str:
    return format_era(d)


def _birth(iso: str) -> str:
    try:
        d = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{_era(d)}（{d:%Y年%m月%d日}）"


def _styles() -> dict[str, ParagraphStyle]:
    f = _font()
    base = ParagraphStyle("base", fontName=f, fontSize=10.5, leading=17, wordWrap="CJK")
    return {
        "base": base,
        "right": ParagraphStyle("right", parent=base, alignment=2),
        "title": ParagraphStyle("title", parent=base, fontSize=14, leading=22, alignment=1,
                                spaceBefore=8 * mm, spaceAfter=6 * mm),
        "center": ParagraphStyle("center", parent=base, alignment=1, spaceBefore=4 * mm,
                                 spaceAfter=3 * mm),
        "to": ParagraphStyle("to", parent=base, fontSize=12, leading=20),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10, leading=14),
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=13),
    }


def _page(x: Letter, st: dict[str, ParagraphStyle]) -> list[object]:
    resend = x.round > 1
    title = "預貯金等の照会について" + ("（再照会）" if resend else "")
    if resend:
        body = (f"{x.previous}で照会しました下記の者の預貯金等について、現在まで回答をいただいて"
                f"おりません。ご多忙のところ恐縮ですが、{x.legal_basis}の規定に基づき改めて照会"
                f"しますので、{_era(x.deadline)}までに回答くださいますようお願いします。")
    else:
        body = (f"下記の者の預貯金等について、{x.legal_basis}の規定に基づき照会しますので、"
                f"{_era(x.deadline)}までに回答くださいますようお願いします。")
    to = f"{x.bank}　{x.branch or '（全店）'}　御中"
    seal = Table([["印"]], colWidths=[14 * mm], rowHeights=[14 * mm])
    seal.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), _font(), 9),
                              ("BOX", (0, 0), (-1, -1), 0.5, colors.grey),
                              ("TEXTCOLOR", (0, 0), (-1, -1), colors.grey),
                              ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                              ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    sender = Table([[Paragraph(x.requester, st["right"]), seal]],
                   colWidths=[150 * mm, 16 * mm], hAlign="RIGHT")
    sender.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    c = st["cell"]
    rows = [
        ["照会番号", x.inquiry_number],
        ["氏名", x.name],
        ["フリガナ", x.kana],
        ["生年月日", _birth(x.birth_date)],
        ["住所", x.address or "（台帳に記載なし）"],
        ["照会先", f"{x.bank}　{x.branch or '全店'}"],
        ["照会事項", "1　上記の者名義の預貯金等の有無\n"
                     "2　ある場合は、店舗・預貯金の種類・口座番号・照会日現在の残高"
                     "（届出住所、取引明細があれば併せて）\n3　ない場合は「該当なし」の旨"],
        ["回答期限", _era(x.deadline)],
        ["回答方法", "同封の回答書に照会番号を記入のうえ返送してください。預貯金等照会オンライン"
                     "サービスをご利用の場合は、同サービスにより回答してください。"],
    ]
    table = Table([[Paragraph(k, c), Paragraph(v.replace("\n", "<br/>"), c)] for k, v in rows],
                  colWidths=[28 * mm, 138 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                               ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#EEEEEE")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("TOPPADDING", (0, 0), (-1, -1), 4),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    return [
        Paragraph(x.document_number, st["right"]),
        Paragraph(_era(x.sent_on), st["right"]),
        Spacer(1, 6 * mm),
        Paragraph(to, st["to"]),
        Spacer(1, 4 * mm),
        sender,
        Paragraph(title, st["title"]),
        Paragraph("　" + body, st["base"]),
        Paragraph("記", st["center"]),
        table,
        Spacer(1, 8 * mm),
        Paragraph(f"（担当）{x.department}　{x.contact}", st["small"]),
    ]


def write_letters(path: Path, letters: Sequence[Letter], *, title: str) -> int:
    """All ``letters`` (one bank's) as one PDF, a page each, owner-only; returns the pages."""
    st = _styles()
    story: list[object] = []
    for n, x in enumerate(letters):
        if n:
            story.append(PageBreak())
        story += _page(x, st)
    tmp = path.with_name(f".{path.name}.tmp")
    doc = SimpleDocTemplate(str(tmp), pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm,
                            topMargin=20 * mm, bottomMargin=18 * mm, title=title,
                            author="misato-rpa", creator="misato-rpa")
    doc.build(story)
    tmp.chmod(0o600)
    tmp.replace(path)
    return len(letters)
