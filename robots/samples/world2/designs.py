"""Three printed municipal forms of *another* town's design, drawn by their own code.

Nothing here comes from a form template: each design is a list of rows (a label cell and a
value area, cells for digits, rows of checkboxes) laid out the way a print shop would, in
Noto Sans/Serif CJK JP, with a double outer frame, grey label cells and no QR code. The
templates that read them (``forms/*.toml`` beside this module) were written afterwards from
the rendered blank alone, as a clerk would from a scan; so where this code says a box is
and where the template says it is may differ by what a person measures.

A design names each value it holds (``name``) so that the truth of a filled form can be
compared with what the reader returns for the template field of that name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = ["DESIGNS", "FONTS", "Cell", "Design", "font", "render_design"]

FONTS = {
    "sans": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
    "serif": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 0),
}


def font(kind: str, px: int) -> ImageFont.FreeTypeFont:
    """Noto CJK JP (Debian ``fonts-noto-cjk``) at ``px`` pixels."""
    path, index = FONTS[kind]
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} missing: apt-get install -y fonts-noto-cjk")
    return ImageFont.truetype(path, max(4, px), index=index)


@dataclass(frozen=True)
class Cell:
    """A value the filler writes: where (mm), how (text, digit cells, a box to tick)."""

    name: str
    kind: str  # "text" | "cells" | "tick"
    box: tuple[float, float, float, float]
    cells: int = 0
    caption: str = ""  # printed after a tick box
    hint: str = ""  # what the filler writes (see robots.samples.world2.fill)


@dataclass(frozen=True)
class Design:
    """One form: title, printed texts, label cells, value cells."""

    form: str
    title: str
    texts: tuple[tuple[float, float, str, float], ...] = ()  # x, y, text, size mm
    labels: tuple[tuple[float, float, float, float, str], ...] = ()  # grey label cells
    cells: tuple[Cell, ...] = field(default_factory=tuple)
    frames: tuple[tuple[float, float, float, float], ...] = ()  # plain rectangles


def _row(y: float, label: str, h: float = 10.0, x: float = 15.0, lw: float = 32.0
         ) -> tuple[float, float, float, float, str]:
    return (x, y, lw, h, label)


def _koza() -> Design:
    """口座振替依頼書 of another town: account first, then the payer, taxes at the bottom."""
    y0 = 40.0
    return Design(
        "w2_koza_furikae", "町税・料金 口座振替依頼書",
        texts=((15, 30, "（あて先）○○町長", 3.4),
               (15, 187.5, "振替を希望する税目・料金（該当するものすべてに✓）", 3.2),
               (15, 270, "※口座名義はカタカナで、姓と名の間を1字あけてご記入ください。", 2.8)),
        labels=(_row(y0, "申込日"), _row(y0 + 14, "金融機関コード"),
                (105, y0 + 14, 25, 10, "店番"), _row(y0 + 26, "金融機関名"),
                (105, y0 + 26, 25, 10, "支店名"), _row(y0 + 38, "預金種目"),
                (105, y0 + 38, 25, 10, "口座番号"), _row(y0 + 50, "口座名義（カナ）"),
                _row(y0 + 62, "口座名義", 12), _row(y0 + 80, "納付者 氏名", 12),
                _row(y0 + 94, "フリガナ"), _row(y0 + 106, "郵便番号"),
                _row(y0 + 118, "住所", 12), _row(y0 + 132, "電話番号")),
        cells=(
            Cell("request_date", "text", (47, y0, 60, 10), hint="date.request"),
            Cell("bank_code", "cells", (47, y0 + 14, 36, 10), 4, hint="bank.code"),
            Cell("branch_code", "cells", (130, y0 + 14, 27, 10), 3, hint="branch.code"),
            Cell("bank_name", "text", (47, y0 + 26, 58, 10), hint="bank.name"),
            Cell("branch_name", "text", (130, y0 + 26, 60, 10), hint="branch.name"),
            Cell("acct_futsu", "tick", (50, y0 + 40.5, 5, 5), caption="普通", hint="pick:acct"),
            Cell("acct_toza", "tick", (76, y0 + 40.5, 5, 5), caption="当座", hint="pick:acct"),
            Cell("account_number", "cells", (130, y0 + 38, 63, 10), 7,
                 hint="account.number"),
            Cell("holder_kana", "text", (47, y0 + 50, 146, 10), hint="person.kana"),
            Cell("holder_name", "text", (47, y0 + 62, 146, 12), hint="person.name"),
            Cell("payer_name", "text", (47, y0 + 80, 146, 12), hint="person.name"),
            Cell("payer_kana", "text", (47, y0 + 94, 146, 10), hint="person.kana"),
            Cell("postal_code", "text", (47, y0 + 106, 50, 10), hint="address.postal_code"),
            Cell("address", "text", (47, y0 + 118, 146, 12), hint="address.full"),
            Cell("phone", "text", (47, y0 + 132, 70, 10), hint="person.phone"),
            Cell("tax_resident", "tick", (18, 195, 5, 5), caption="町県民税", hint="any:tax"),
            Cell("tax_property", "tick", (62, 195, 5, 5), caption="固定資産税", hint="any:tax"),
            Cell("tax_car", "tick", (110, 195, 5, 5), caption="軽自動車税", hint="any:tax"),
            Cell("tax_health", "tick", (18, 206, 5, 5), caption="国民健康保険税",
                 hint="any:tax"),
            Cell("tax_water", "tick", (82, 206, 5, 5), caption="上下水道料金", hint="any:tax"),
        ),
        frames=((14, 184, 182, 30),))


def _ido() -> Design:
    """住民異動届: kind of move as a row of boxes, the person, new and old address."""
    return Design(
        "w2_jumin_ido", "住民異動届",
        texts=((15, 30, "○○町長　殿", 3.4), (15, 57, "異動の種別（1つに✓）", 3.0),
               (15, 275, "※届出人の本人確認書類を窓口でご提示ください。", 2.8)),
        labels=(_row(40, "届出日"), _row(78, "氏名", 12), _row(92, "フリガナ"),
                _row(104, "生年月日"), (110, 104, 22, 10, "性別"),
                _row(120, "新住所 〒"), _row(132, "新住所", 12), _row(148, "旧住所 〒"),
                _row(160, "旧住所", 12), _row(176, "電話番号")),
        cells=(
            Cell("notify_date", "text", (47, 40, 60, 10), hint="date.request"),
            Cell("move_in", "tick", (18, 63, 5, 5), caption="転入", hint="pick:move"),
            Cell("move_within", "tick", (48, 63, 5, 5), caption="転居", hint="pick:move"),
            Cell("move_out", "tick", (78, 63, 5, 5), caption="転出", hint="pick:move"),
            Cell("name", "text", (47, 78, 146, 12), hint="person.name"),
            Cell("kana", "text", (47, 92, 146, 10), hint="person.kana"),
            Cell("birth_date", "text", (47, 104, 63, 10), hint="person.birth_date"),
            Cell("sex_m", "tick", (136, 106.5, 5, 5), caption="男", hint="pick:sex"),
            Cell("sex_f", "tick", (156, 106.5, 5, 5), caption="女", hint="pick:sex"),
            Cell("new_postal", "text", (47, 120, 50, 10), hint="address.postal_code"),
            Cell("new_address", "text", (47, 132, 146, 12), hint="address.full"),
            Cell("old_postal", "text", (47, 148, 50, 10), hint="old.postal_code"),
            Cell("old_address", "text", (47, 160, 146, 12), hint="old.full"),
            Cell("phone", "text", (47, 176, 70, 10), hint="person.phone"),
            Cell("with_family", "tick", (18, 196, 5, 5), caption="世帯全員が異動",
                 hint="flip"),
            Cell("has_card", "tick", (90, 196, 5, 5), caption="マイナンバーカードあり",
                 hint="flip"),
        ),
        frames=((14, 56, 100, 15), (14, 192, 182, 12)))


def _inkan() -> Design:
    """印鑑登録申請書: who applies (row of boxes near the first crease), the registrant."""
    return Design(
        "w2_inkan_toroku", "印鑑登録申請書",
        texts=((15, 30, "○○町長　様", 3.4), (15, 86, "申請者（1つに✓）", 3.0),
               (15, 272, "※登録する印鑑を必ずお持ちください。", 2.8)),
        labels=(_row(40, "申請日"), _row(54, "登録者 氏名", 12), _row(68, "フリガナ"),
                _row(104, "生年月日"), _row(118, "郵便番号"), _row(130, "住所", 12),
                _row(146, "電話番号"), _row(160, "代理人 氏名", 12)),
        cells=(
            Cell("apply_date", "text", (47, 40, 60, 10), hint="date.request"),
            Cell("name", "text", (47, 54, 146, 12), hint="person.name"),
            Cell("kana", "text", (47, 68, 146, 10), hint="person.kana"),
            Cell("by_self", "tick", (18, 93, 5, 5), caption="本人", hint="pick:who"),
            Cell("by_agent", "tick", (48, 93, 5, 5), caption="代理人（委任状添付）",
                 hint="pick:who"),
            Cell("birth_date", "text", (47, 104, 63, 10), hint="person.birth_date"),
            Cell("postal_code", "text", (47, 118, 50, 10), hint="address.postal_code"),
            Cell("address", "text", (47, 130, 146, 12), hint="address.full"),
            Cell("phone", "text", (47, 146, 70, 10), hint="person.phone"),
            Cell("agent_name", "text", (47, 160, 146, 12), hint="when:by_agent:staff.name"),
        ),
        frames=((14, 85, 130, 15),))


DESIGNS: dict[str, Design] = {d.form: d for d in (_koza(), _ido(), _inkan())}


def render_design(d: Design, dpi: float, style: str = "sans") -> Image.Image:
    """The blank form at ``dpi`` (grayscale): double frame, grey label cells, thin cells."""
    k = dpi / 25.4
    w, h = round(210 * k), round(297 * k)
    img = Image.new("L", (w, h), 255)
    dr = ImageDraw.Draw(img)

    def px(v: float) -> int:
        return round(v * k)

    def rect(x: float, y: float, bw: float, bh: float, width_mm: float = 0.25,
             fill: int | None = None) -> None:
        dr.rectangle([px(x), px(y), px(x + bw), px(y + bh)], outline=0,
                     width=max(1, px(width_mm)), fill=fill)

    rect(10, 10, 190, 277, 0.5)
    rect(11.2, 11.2, 187.6, 274.6, 0.2)
    dr.text((w // 2, px(20)), d.title, font=font(style, px(6.0)), fill=0, anchor="mm")
    for x, y, text, size in d.texts:
        dr.text((px(x), px(y)), text, font=font(style, px(size)), fill=0)
    for x, y, bw, bh, text in d.labels:
        rect(x, y, bw, bh, 0.25, fill=225)
        dr.text((px(x + 1.5), px(y + bh / 2)), text, font=font(style, px(min(3.2, bh * 0.4))),
                fill=0, anchor="lm")
    for fx, fy, fw, fh in d.frames:
        rect(fx, fy, fw, fh, 0.2)
    for c in d.cells:
        x, y, bw, bh = c.box
        rect(x, y, bw, bh, 0.25 if c.kind != "tick" else 0.3)
        if c.kind == "cells":
            for i in range(1, c.cells):
                cx = x + i * bw / c.cells
                dr.line([px(cx), px(y + bh * 0.35), px(cx), px(y + bh)], fill=0,
                        width=max(1, px(0.15)))
        if c.caption:
            dr.text((px(x + bw + 1.2), px(y + bh / 2)), c.caption,
                    font=font(style, px(3.2)), fill=0, anchor="lm")
    return img
