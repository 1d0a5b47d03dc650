"""The report's charts as PNG bytes, drawn with matplotlib in the IPAex Gothic font.

PNG rather than SVG: the HTML page must be one self-contained file that shows Japanese the
same on every town PC, and a PNG carries its glyphs with it. The font is the one the forms
are rendered with (``ocr.render.find_font``), registered with matplotlib once per process.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from ocr.render import find_font
from robots.report.figures import ScenarioFigures

__all__ = ["DPI", "accuracy_chart", "time_chart", "volume_chart"]

log = logging.getLogger(__name__)

#: Charts are drawn at this resolution and shown at 100 dpi: sharp on screens and in print.
DPI = 150
_COLOURS = ("#2f5597", "#c55a11", "#548235", "#7f6000", "#7030a0", "#1f7a7a")


@functools.cache
def _font_family() -> str:
    """Register the Japanese font with matplotlib and return its family name."""
    from matplotlib import font_manager  # Figure objects only: no pyplot, no backend switch

    path = find_font("gothic")
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    log.debug("charts use font %s (%s)", name, path)
    return name


def _with_font(draw: Callable[..., bytes | None]) -> Callable[..., bytes | None]:
    """Run ``draw`` (figure and savefig) with the Japanese font as matplotlib's default."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> bytes | None:
        family = _font_family()
        import matplotlib

        with matplotlib.rc_context({"font.family": family, "font.size": 9,
                                    "axes.unicode_minus": False}):
            return draw(*args, **kwargs)

    return wrapper


def _figure(width: float = 7.0, height: float = 3.2) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_axisbelow(True)
    return fig, ax


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


@_with_font
def volume_chart(s: ScenarioFigures, titles: dict[str, str]) -> bytes | None:
    """Documents (and data records) per week, stacked by form and data input."""
    weeks: list[date] = list(s.volume.by_week)
    if not weeks:
        return None
    fig, ax = _figure()
    forms = [*sorted(s.volume.by_form), *sorted(s.volume.by_data)]
    bottom = [0] * len(weeks)
    labels = [f"{w:%m/%d}週" for w in weeks]
    for i, form in enumerate(forms):
        counts = [s.volume.by_week[w].get(form).documents if form in s.volume.by_week[w]
                  else 0 for w in weeks]
        ax.bar(labels, counts, bottom=bottom, color=_COLOURS[i % len(_COLOURS)],
               label=titles.get(form, form), width=0.6 if len(weeks) > 2 else 0.35)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_ylabel("文書・件数")
    ax.set_title("週ごとの処理件数（様式・データ別）")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    return _png(fig)


@_with_font
def accuracy_chart(s: ScenarioFigures, titles: dict[str, str], threshold: float
                   ) -> bytes | None:
    """Field accuracy per form against the threshold; nothing while nothing is reviewed."""
    rows = [(titles.get(f, f), g.accuracy.value) for f, g in sorted(s.quality.by_form.items())
            if g.accuracy.value is not None]
    if not rows:
        return None
    fig, ax = _figure(height=0.6 * len(rows) + 1.4)
    names = [r[0] for r in rows]
    values = [r[1] * 100 for r in rows]  # type: ignore[operator]
    bars = ax.barh(names, values, color=[_COLOURS[0] if v >= threshold * 100 else _COLOURS[1]
                                         for v in values])
    ax.bar_label(bars, labels=[f"{v:.1f} %" for v in values], padding=3, fontsize=8)
    ax.axvline(threshold * 100, color="#c00000", linestyle="--", linewidth=1)
    ax.text(threshold * 100, len(rows) - 0.4, f" 基準 {threshold * 100:.0f} %", color="#c00000",
            fontsize=8, va="bottom")
    ax.set_xlim(min(50.0, min(values) - 5), 105)
    ax.set_xlabel("項目正読率（%）")
    ax.set_title("様式別の項目正読率（確認済みの項目）")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    return _png(fig)


@_with_font
def time_chart(s: ScenarioFigures, titles: dict[str, str]) -> bytes | None:
    """Minutes per document (or task unit): by hand against with the robot."""
    rows = [(titles.get(f, f), t.baseline.minutes, t.review_per_doc)
            for f, t in sorted(s.time.counted.items())]
    rows += [(t.title, t.manual.minutes, t.staff_per_unit) for t in (s.work.tasks if s.work
                                                                     else [])
             if t.manual.minutes is not None and t.staff_per_unit is not None]
    if not rows:
        return None
    fig, ax = _figure(height=0.7 * len(rows) + 1.5)
    ys = list(range(len(rows)))
    manual = [r[1] or 0.0 for r in rows]
    review = [r[2] or 0.0 for r in rows]
    b1 = ax.barh([y + 0.2 for y in ys], manual, height=0.38, color=_COLOURS[1],
                 label="手作業（基準）")
    b2 = ax.barh([y - 0.2 for y in ys], review, height=0.38, color=_COLOURS[0],
                 label="ロボット導入後（確認・判断）")
    for bars in (b1, b2):
        ax.bar_label(bars, labels=[f"{b.get_width():.1f} 分" for b in bars], padding=3,
                     fontsize=8)
    ax.set_yticks(ys, [r[0] for r in rows])
    ax.set_xlabel("1文書・1件あたりの職員の作業時間（分）")
    ax.set_title("1件あたりの作業時間：手作業とロボット導入後")
    ax.set_xlim(0, max([*manual, *review, 0.1]) * 1.25)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    return _png(fig)
