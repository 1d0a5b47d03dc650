"""The report page's look: its stylesheet and the Japanese font embedded in it.

The page must look the same on every town PC, with or without Japanese fonts: the glyphs it
uses are subset from IPAex Gothic (the IPA Font License allows embedding in documents) and
carried inside the page as a WOFF font.
"""

from __future__ import annotations

import base64
import io
import logging

from ocr.render import find_font

__all__ = ["FONT_FAMILY", "font_face", "stylesheet"]

log = logging.getLogger(__name__)

FONT_FAMILY = "ReportGothic"

_CSS = """
body{font-family:"%(font)s","IPAexGothic","Yu Gothic","Meiryo",sans-serif;margin:0;
 color:#1f1f1f;background:#f4f5f7;line-height:1.6}
main{max-width:1040px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;border-bottom:3px solid #2f5597;
 padding-bottom:4px;margin-top:40px}h3{font-size:16px;margin:24px 0 8px;color:#2f5597}
.meta{color:#555;font-size:13px}.note{background:#fff8e1;border-left:4px solid #f0b400;
 padding:8px 12px;margin:12px 0;font-size:14px}.sim{background:#fde8e8;border-left-color:#c00000}
table{border-collapse:collapse;width:100%%;margin:8px 0 16px;font-size:14px}
th,td{border:1px solid #c9ced6;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#e9eef7;font-weight:bold}td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;font-size:26px;font-weight:bold;padding:6px 22px;border-radius:6px;
 color:#fff;margin:6px 0 10px}.go{background:#2e7d32}.conditional{background:#c77700}
.no_go{background:#b71c1c}.no_data{background:#757575}
.pass{color:#2e7d32;font-weight:bold}.fail{color:#b71c1c;font-weight:bold}
.pending{color:#757575;font-weight:bold}td.n,td.pass,td.fail,td.pending{white-space:nowrap}
td.n.pass{background:#eef7ee}td.n.fail{background:#fdecea}td.n.pending{background:#f3f3f3}
td.na{background:#fafafa}td[class^="v-"]{white-space:nowrap}
.v-go{color:#2e7d32;font-weight:bold}.v-conditional{color:#c77700;font-weight:bold}
.v-no_go{color:#b71c1c;font-weight:bold}.v-no_data{color:#757575}
.ids{font-family:monospace;font-size:12px;color:#444}
img{max-width:100%%;height:auto;margin:6px 0}dl{font-size:13px}dt{font-weight:bold}
dd{margin:0 0 6px 1.5em}ul{margin:4px 0 12px}
"""


def stylesheet() -> str:
    """The page's CSS, with the embedded font first in line."""
    return _CSS % {"font": FONT_FAMILY}


def font_face(text: str) -> str:
    """An @font-face with the glyphs of ``text`` subset from IPAex Gothic, or nothing."""
    try:
        from fontTools import subset

        opts = subset.Options()
        opts.flavor = "woff"
        font = subset.load_font(str(find_font("gothic")), opts)
        sub = subset.Subsetter(opts)
        sub.populate(text=text)
        sub.subset(font)
        buf = io.BytesIO()
        subset.save_font(font, buf, opts)
    except Exception as exc:  # the page still renders with the PC's own Japanese font
        log.warning("Japanese font not embedded in the report (%s); the reader's fonts are used",
                    exc)
        return ""
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'@font-face{{font-family:"{FONT_FAMILY}";'
            f'src:url(data:font/woff;base64,{data}) format("woff");}}')
