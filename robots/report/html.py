"""The evaluation report as one self-contained HTML page, in Japanese, for managers.

One file that can be mailed or put on a shared drive and opened anywhere: no scripts, no
external links; charts are embedded PNGs and the Japanese font is embedded too — only the
glyphs the page uses, subset from IPAex Gothic (the IPA Font License allows embedding in
documents) — so that the page looks the same on every PC, with or without Japanese fonts.
"""

from __future__ import annotations

import base64
import html
import io
import logging
from collections.abc import Iterable, Sequence

from ocr.render import find_font
from robots import __version__
from robots.config.evaluation import EvaluationConfig
from robots.report import charts
from robots.report.figures import QualityGroup, Ratio, Report, ScenarioFigures
from robots.report.labels import (
    DECISION_JA,
    DEFINITIONS,
    RUN_STATUS_JA,
    STATUS_JA,
    TRIGGER_JA,
    TYPE_JA,
    VERDICT_RULE,
    baseline_source,
    minutes,
    pct,
    period_text,
    seconds,
)

__all__ = ["render_html"]

log = logging.getLogger(__name__)

_FONT_FAMILY = "ReportGothic"
_EVIDENCE_SHOWN = 6

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
.pending{color:#757575;font-weight:bold}td.n,td.pass,td.fail,td.pending{white-space:nowrap}.ids{font-family:monospace;font-size:12px;color:#444}
img{max-width:100%%;height:auto;margin:6px 0}dl{font-size:13px}dt{font-weight:bold}
dd{margin:0 0 6px 1.5em}ul{margin:4px 0 12px}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]],
           numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
                         for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _ids(ids: Sequence[str]) -> str:
    if not ids:
        return "—"
    shown = ", ".join(ids[:_EVIDENCE_SHOWN])
    if len(ids) > _EVIDENCE_SHOWN:
        shown += f" ほか{len(ids) - _EVIDENCE_SHOWN}件（Excel に全件）"
    return shown


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    width = int.from_bytes(png[16:20], "big") * 100 // charts.DPI  # PNG IHDR width
    return (f'<img alt="{_e(alt)}" width="{width}" src="data:image/png;base64,'
            f'{base64.b64encode(png).decode("ascii")}">')


def _ratio(r: Ratio, digits: int = 1) -> str:
    return pct(r.value, digits)


def _verdict(s: ScenarioFigures) -> str:
    v = s.verdict
    rows = [(c.label, c.threshold, c.shown, STATUS_JA[c.status], _ids(list(c.evidence)),
             c.note) for c in v.criteria]
    out = [f'<div class="verdict {v.decision}">判定：{_e(DECISION_JA[v.decision])}</div>']
    table = _table(("基準", "目標", "測定値", "結果", "根拠（実行ID）", "補足"), rows, (2,))
    for key in ("pass", "fail", "pending"):  # colour the result column
        table = table.replace(f"<td>{STATUS_JA[key]}</td>",
                              f'<td class="{key}">{STATUS_JA[key]}</td>')
    out.append(table)
    if v.conditions:
        out.append("<p>「導入」としない理由・導入の条件：</p><ul>"
                   + "".join(f"<li>{_e(c)}</li>" for c in v.conditions) + "</ul>")
    return "".join(out)


def _volume(s: ScenarioFigures, titles: dict[str, str]) -> str:
    v = s.volume
    rows = [(titles.get(f, f), r.documents, r.pages, r.fields) for f, r in v.by_form.items()]
    rows.append(("合計", v.total.documents, v.total.pages, v.total.fields))
    weeks = [(f"{w:%Y-%m-%d}〜", titles.get(f, f), r.documents, r.pages, r.fields)
             for w, forms in v.by_week.items() for f, r in sorted(forms.items())]
    share = Ratio(v.documents_flagged, v.total.documents)
    return ("<h3>件数</h3>" + _table(("様式", "文書数", "ページ数", "項目数"), rows, (1, 2, 3))
            + f"<p>要確認の項目がある文書：{v.documents_flagged} 件（{_ratio(share)}）</p>"
            + _img(charts.volume_chart(s, titles), "週ごとの処理文書数")
            + _table(("週（月曜から）", "様式", "文書数", "ページ数", "項目数"), weeks, (2, 3, 4)))


def _quality_row(name: str, g: QualityGroup) -> tuple[object, ...]:
    return (name, g.fields, _ratio(g.accuracy), _ratio(g.char_accuracy),
            _ratio(g.flag_precision), _ratio(g.flag_recall), _ratio(g.silent_error_rate, 2))


def _quality(s: ScenarioFigures, titles: dict[str, str], threshold: float) -> str:
    q = s.quality
    head = ("", "確認済み項目", "項目正読率", "文字正読率", "要確認の的中率", "誤りの検出率",
            "見逃し率")
    rows = [_quality_row("全体", q.overall),
            *(_quality_row(titles.get(f, f), g) for f, g in sorted(q.by_form.items()))]
    types = [_quality_row(TYPE_JA.get(t, t), g) for t, g in sorted(q.by_type.items())]
    notes = []
    if q.fields_unreviewed:
        notes.append(f"未確認の項目が {q.fields_unreviewed} 件（{q.documents_unreviewed} 文書）"
                     "あります。修正の取り込みが済むまで精度には含めていません"
                     "（正しいとは数えていません）。")
    if not q.overall.fields:
        notes.append("確認済みの項目がまだないため、精度は確認待ちです。")
    return ("<h3>品質</h3>"
            + "".join(f'<div class="note">{_e(n)}</div>' for n in notes)
            + f"<p>修正なし率（ストレート処理率）：{_ratio(q.straight_through)}"
              f"（確認済み {q.documents_reviewed} 文書中 {q.documents_straight_through} 文書）</p>"
            + _table(head, rows, range(1, 7))
            + ("<p>項目の種類別：</p>" + _table(head, types, range(1, 7)) if types else "")
            + _img(charts.accuracy_chart(s, titles, threshold), "様式別の項目正読率"))


def _time(s: ScenarioFigures, titles: dict[str, str]) -> str:
    t = s.time
    rows = [(titles.get(f, f), ft.documents, minutes(ft.baseline.minutes),
             baseline_source(ft.baseline), minutes(ft.review_per_doc),
             minutes(ft.saved_per_doc), _ratio(ft.saved_share),
             "—" if ft.annual_volume is None else f"{ft.annual_volume:,} 件",
             "—" if ft.annual_hours_saved is None else f"{ft.annual_hours_saved:,.1f} 時間")
            for f, ft in sorted(t.by_form.items())]
    summary = [
        ("ロボットの処理時間（1文書あたり）", seconds(t.robot_seconds.value)),
        ("実行時間（開始〜終了、1文書あたり）", seconds(t.elapsed_seconds.value)),
        ("確認時間（1文書あたり）", minutes(t.review_per_doc.value)),
        ("手入力の基準時間（1文書あたり）", minutes(t.baseline_per_doc.value)),
        ("削減時間（1文書あたり）", minutes(t.saved_per_doc.value)),
        ("削減時間（期間の合計）", minutes(t.saved_minutes if t.counted else None)),
        ("削減率", _ratio(t.saved_share)),
        ("年間削減見込み", "—" if t.annual_hours_saved is None
         else f"{t.annual_hours_saved:,.1f} 時間"),
        ("確認時間の内訳", f"実測 {t.measured_minutes:.1f} 分（{len(t.measured_runs)}回の実行）・"
                          f"推定 {t.estimated_minutes:.1f} 分（{len(t.estimated_runs)}回の実行）"),
    ]
    notes = [t.estimate_method] if t.estimate_method else []
    if t.unreviewed_runs:
        notes.append(f"修正の取り込みがまだの {len(t.unreviewed_runs)} 回の実行は、時間の比較に"
                     f"含めていません（{_ids(t.unreviewed_runs)}）。")
    missing = [titles.get(f, f) for f, ft in t.by_form.items() if ft.baseline.minutes is None]
    if missing:
        notes.append("手入力の基準時間がない様式は削減時間を計算していません："
                     + "、".join(missing) + "（evaluation.baseline_minutes か "
                     "rpa baseline record で設定してください）。")
    return ("<h3>時間</h3>" + "".join(f'<div class="note">{_e(n)}</div>' for n in notes)
            + _table(("項目", "値"), summary, (1,))
            + _table(("様式", "確認済み文書", "手入力（基準）", "基準の出所", "確認（1文書）",
                      "削減（1文書）", "削減率", "年間件数", "年間削減見込み"), rows,
                     (1, 2, 4, 5, 6, 7, 8))
            + _img(charts.time_chart(s, titles), "1文書あたりの作業時間"))


def _reliability(s: ScenarioFigures) -> str:
    r = s.reliability
    status = "、".join(f"{RUN_STATUS_JA.get(k, k)} {v}" for k, v in sorted(r.by_status.items()))
    trig = "、".join(f"{TRIGGER_JA.get(k, k)} {v}" for k, v in sorted(r.by_trigger.items()))
    rows = [("実行回数", f"{r.runs} 回（{status or '—'}）"),
            ("起動のしかた", trig or "—"),
            ("異常終了した実行", f"{len(r.failed_runs)} 回 {_ids(r.failed_runs)}"),
            ("定時実行の開始に失敗", f"{len(r.failed_starts)} 回"),
            ("予定どおりに実行されなかった回", f"{len(r.missed_schedules)} 回"),
            ("受け付けたファイル", f"{r.files} 件"),
            ("隔離したファイル", f"{r.quarantined_files} 件"),
            ("紛失した文書", f"{len(r.lost)} 件"),
            ("警告・エラーの記録", f"{r.warnings} 件")]
    out = ["<h3>信頼性</h3>", _table(("項目", "値"), rows)]
    if r.quarantined:
        out.append("<p>隔離の理由：</p>" + _table(
            ("理由コード", "ファイル数", "実行ID"),
            [(k, len(v), _ids(sorted(set(v)))) for k, v in sorted(r.quarantined.items())], (1,)))
    for title, events in (("予定どおりに実行されなかった回", r.missed_schedules),
                          ("定時実行の開始に失敗した回", r.failed_starts)):
        if events:
            out.append(f"<p>{title}：</p>" + _table(
                ("記録日時", "内容"), [(f"{at.astimezone():%Y-%m-%d %H:%M}", m)
                                     for at, m in events]))
    if r.lost:
        out.append("<p>紛失した文書：</p>" + _table(("実行ID", "ファイル", "理由"), r.lost))
    return "".join(out)


def _scenario(s: ScenarioFigures, titles: dict[str, str], cfg: EvaluationConfig) -> str:
    return (f"<section><h2>{_e(s.title)}（{_e(s.scenario)}）</h2>"
            f'<p class="meta">対象の実行：{len(s.run_ids)} 回</p>'
            + _verdict(s) + _volume(s, titles)
            + _quality(s, titles, cfg.thresholds.min_field_accuracy)
            + _time(s, titles) + _reliability(s) + "</section>")


def _font_face(text: str) -> str:
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
    return (f'@font-face{{font-family:"{_FONT_FAMILY}";'
            f'src:url(data:font/woff;base64,{data}) format("woff");}}')


def render_html(report: Report, cfg: EvaluationConfig) -> str:
    """The whole page as text (UTF-8 when written)."""
    titles = report.form_titles
    banner = []
    for n in report.notes:
        banner.append(f'<div class="note">{_e(n)}</div>')
    if any(s.quality.simulated_runs for s in report.scenarios):
        banner.append('<div class="note sim">この報告には<b>模擬レビュー</b>（デモ用に、サンプルの'
                      "正解データで確認シートを自動で埋めたもの）の結果が含まれます。職員による実際の"
                      "確認ではないため、品質と判定は参考値です。</div>")
    scope = f"業務：{report.scenario_filter}" if report.scenario_filter else "すべての業務"
    body = "".join(_scenario(s, titles, cfg) for s in report.scenarios)
    if report.empty:
        body += "<section><h2>結果</h2><p>この期間に記録された実行はありません。</p></section>"
    defs = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in DEFINITIONS)
    main = (f"<h1>RPA・AI-OCR 実証実験 評価報告</h1>"
            f'<p class="meta">対象期間：{_e(period_text(report))}　{_e(scope)}　'
            f"作成：{report.generated_at:%Y年%m月%d日 %H:%M}　misato-rpa {_e(__version__)}</p>"
            + "".join(banner) + body
            + f"<h2>判定のしかたと用語</h2><p>{_e(VERDICT_RULE)}</p><dl>{defs}</dl>"
            + "<p class=\"meta\">個人番号・口座番号などの値は実行ログに保存していません（照合用の"
              "ハッシュ値と文字数のみ）。この報告に個人情報は含まれません。</p>")
    font = _font_face(html.unescape(main) + "0123456789.,%—〜：（）")
    return ('<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>RPA・AI-OCR 実証実験 評価報告</title>"
            f"<style>{font}{_CSS % {'font': _FONT_FAMILY}}</style></head>"
            f"<body><main>{main}</main></body></html>\n")
