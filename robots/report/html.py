"""The evaluation report as one self-contained HTML page, in Japanese, for managers.

One file that can be mailed or put on a shared drive and opened anywhere: no scripts, no
external links; charts are embedded PNGs and the Japanese font is embedded too — only the
glyphs the page uses, subset from IPAex Gothic (the IPA Font License allows embedding in
documents) — so that the page looks the same on every PC, with or without Japanese fonts.
"""

from __future__ import annotations

import base64
import html
import logging
from collections.abc import Iterable, Sequence

from robots import __version__
from robots.config.evaluation import EvaluationConfig, EvaluationThresholds
from robots.report import charts
from robots.report.figures import Criterion, QualityGroup, Ratio, Report, ScenarioFigures
from robots.report.labels import (
    DECISION_JA,
    DEFINITIONS,
    KIND_JA,
    REVIEW_SOURCE_JA,
    RUN_STATUS_JA,
    STATUS_JA,
    TRIGGER_JA,
    TYPE_JA,
    VERDICT_RULE,
    baseline_source,
    minutes,
    pct,
    period_text,
    quarantine_reason,
    schedule_event,
    seconds,
)
from robots.report.review_time import rates_text
from robots.report.style import font_face, stylesheet

__all__ = ["render_html"]

log = logging.getLogger(__name__)

_EVIDENCE_SHOWN = 6



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


_MATRIX = (("field_accuracy", "項目正読率"), ("silent_error_rate", "見逃し率"),
           ("time_saved", "作業時間の削減率"))


def _status_cell(c: Criterion | None) -> str:
    if c is None:
        return '<td class="na"></td>'
    return f'<td class="n {c.status}">{_e(c.shown)}（{STATUS_JA[c.status]}）</td>'


def _matrix(s: ScenarioFigures, th: EvaluationThresholds) -> str:
    """One row per form and task, one column per criterion: a failing form stands out."""
    by: dict[str, dict[str, Criterion]] = {}
    names: dict[str, str] = {}
    for c in s.verdict.criteria:
        if c.subject:
            by.setdefault(c.subject, {})[c.key] = c
            names[c.subject] = c.subject_title
    if not by:
        return ""
    first = {k: next((c for x in by.values() for c in x.values() if c.key == k), None)
             for k, _ in _MATRIX}
    head = "".join(f"<th>{_e(label)}<br>（{_e(first[k].threshold) if first[k] else ''}）</th>"
                   for k, label in _MATRIX)
    rows = []
    minor = False
    for subject, crit in by.items():
        share = s.volume.share(subject)
        if subject in s.volume.by_form:
            major = next(iter(crit.values())).major
            minor = minor or not major
            kind = f"{pct(share)}{'' if major else ' ※'}"
        else:
            kind = "業務の作業"
        rows.append(f"<tr><td>{_e(names[subject])}</td><td class=\"n\">{_e(kind)}</td>"
                    + "".join(_status_cell(crit.get(k)) for k, _ in _MATRIX) + "</tr>")
    note = (f'<p class="meta">※ スキャンした文書の {pct(th.min_form_share)} 以下の様式：'
            "基準に届かなくても見送りにはせず、導入の条件とします。</p>" if minor else "")
    return ("<table><thead><tr><th>様式・作業</th><th>文書の割合</th>" + head
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>" + note)


def _verdict(s: ScenarioFigures, th: EvaluationThresholds) -> str:
    v = s.verdict
    out = [f'<div class="verdict {v.decision}">判定：{_e(DECISION_JA[v.decision])}</div>',
           _matrix(s, th)]
    whole = [(c.label, c.threshold, c.shown, STATUS_JA[c.status], c.note)
             for c in v.criteria if not c.subject]
    if whole:
        out.append(_colour(_table(("業務全体の基準", "目標", "測定値", "結果", "補足"), whole,
                                  (2,))))
    if v.conditions:
        out.append("<p>「導入」としない理由・導入の条件：</p><ul>"
                   + "".join(f"<li>{_e(c)}</li>" for c in v.conditions) + "</ul>")
    rows = [(c.subject_title or "業務全体", c.label, c.threshold, c.shown, STATUS_JA[c.status],
             _ids(list(c.evidence)), c.note) for c in v.criteria]
    out.append("<p>判定の根拠（基準ごとの測定値と、もとになった実行）：</p>" + _colour(_table(
        ("対象", "基準", "目標", "測定値", "結果", "根拠（実行ID）", "補足"), rows, (3,))))
    return "".join(out)


def _colour(table: str) -> str:
    """Colour the result column of a criteria table."""
    for key in ("pass", "fail", "pending"):
        table = table.replace(f"<td>{STATUS_JA[key]}</td>",
                              f'<td class="{key}">{STATUS_JA[key]}</td>')
    return table


def _summary(report: Report) -> str:
    """The verdict of every scenario on one table, for the reader who reads only the top."""
    if len(report.scenarios) < 2:
        return ""
    rows = []
    for s in report.scenarios:
        v = s.verdict
        by_subject: dict[str, list[str]] = {}
        for c in v.criteria:
            if c.status == "fail":
                by_subject.setdefault(c.subject_title or "業務全体", []).append(
                    c.label.split("（")[0])
        failed = [f"{k}（{'・'.join(x)}）" for k, x in by_subject.items()]
        pending = sum(c.status == "pending" for c in v.criteria)
        rows.append(f'<tr><td>{_e(s.title)}</td><td class="v-{v.decision}">'
                    f"{_e(DECISION_JA[v.decision])}</td><td>{_e('、'.join(failed) or 'なし')}"
                    f'</td><td class="n">{pending}</td><td class="n">{len(v.conditions)}</td></tr>')
    return ("<h2>概要</h2><table><thead><tr><th>業務</th><th>判定</th><th>基準に届かなかったもの"
            "</th><th>未確定の基準</th><th>導入の条件</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>")


def _count(value: int | None) -> str:
    return "未計測" if value is None else f"{value:,} 件"


def _work(s: ScenarioFigures) -> str:
    w = s.work
    if w is None:
        return ""
    unmeasured = all(m.value is None for m in w.measures)
    out = ["<h3>業務の成果</h3>",
           "<p>照合・点検など、この業務そのものの結果です（OCRの数値は紙の様式の分だけで、"
           "下の「品質」にあります）。記録されていない件数は「未計測」で、0件とは数えません。</p>",
           '<div class="note">この期間の実行は、業務そのものの件数をまだ記録していません。'
           "業務の成果と作業時間は判定できず、導入の条件になります。</div>" if unmeasured else "",
           _table(("項目", "件数", "根拠（実行ID）"),
                  [(m.label, _count(m.value), _ids(list(m.runs))) for m in w.measures], (1,))]
    if w.shares:
        out.append(_table(("割合", "値", "求め方"), [
            (sh.label, "未計測" if sh.ratio is None else _ratio(sh.ratio), sh.definition)
            for sh in w.shares], (1,)))
    if w.tasks:
        rows = [(t.title, _count(t.done), _count(t.left),
                 "—" if t.automated is None else _ratio(t.automated),
                 f"{minutes(t.manual.minutes)}：{baseline_source(t.manual)}",
                 f"{minutes(t.decision.minutes)}：{baseline_source(t.decision)}"
                 + (f"（{t.decision_title}）" if t.decision_title else ""),
                 minutes(t.staff_per_unit), _ratio(t.saved_share),
                 "—" if t.annual_hours_saved is None else f"{t.annual_hours_saved:,.1f} 時間")
                for t in w.tasks]
        out.append("<p>作業時間（1件あたり）：すべてを手作業で行う時間と、ロボットが残した"
                   "件を職員が判断する時間（判断した件数 × 判断1件の時間 ÷ 処理件数）の比較"
                   "です。</p>" + _table(
                       ("作業", "処理件数", "人が判断した件数", "人手を介さなかった割合",
                        "手作業（1件）と出所", "判断（1件）と出所", "ロボット導入後（1件）",
                        "削減率", "年間削減見込み"), rows, (1, 2, 3, 6, 7, 8)))
    return "".join(out)


def _volume(s: ScenarioFigures, titles: dict[str, str]) -> str:
    v = s.volume
    out = ["<h3>件数</h3>"]
    if v.by_form:
        rows = [(titles.get(f, f), r.documents, pct(v.share(f)), r.pages, r.fields, r.read,
                 r.proposed, r.keyed) for f, r in sorted(v.by_form.items())]
        p = v.paper
        rows.append(("合計", p.documents, "100.0 %", p.pages, p.fields, p.read, p.proposed,
                     p.keyed))
        share = Ratio(v.documents_flagged, p.documents)
        out += ["<p>スキャンした様式：</p>",
                _table(("様式", "文書数", "文書の割合", "ページ数", "項目数", "うち機械が読んだ",
                        "うち提案を確認", "うち手入力"), rows, range(1, 8)),
                f"<p>要確認の項目がある文書：{v.documents_flagged} 件（{_ratio(share)}）</p>"]
    if v.by_data:
        out += ["<p>他のシステムから受け取ったデータ（OCRなし）：</p>",
                _table(("データ", "件数", "行数"),
                       [(titles.get(f, f), r.documents, r.pages)
                        for f, r in sorted(v.by_data.items())], (1, 2))]
    weeks = [(f"{w:%Y-%m-%d}〜", titles.get(f, f), r.documents,
              f"{r.pages} 行" if f in v.by_data else f"{r.pages} ページ")
             for w, forms in v.by_week.items() for f, r in sorted(forms.items())]
    return ("".join(out) + _img(charts.volume_chart(s, titles), "週ごとの処理件数")
            + _table(("週（月曜から）", "様式・データ", "文書・件数", "ページ・行"), weeks,
                     (2, 3)))


def _kinds(s: ScenarioFigures) -> str:
    q = s.quality
    total = sum(k.fields for k in q.kinds.values())
    if not total:
        return ""
    rows = []
    for name, k in q.kinds.items():
        rows.append((KIND_JA[name], k.fields, _ratio(k.share(total)), k.reviewed, k.flagged,
                     k.changed if name != "keyed" else "—",
                     k.chars_final if name != "read" else "—", minutes(k.minutes),
                     minutes(k.minutes / k.fields if k.fields else None, 2)))
    return ("<h3>項目の区分：機械が読んだ項目・提案を確認した項目・手入力の項目</h3>"
            "<p>機械が行ったことと、職員がまだ入力していることを分けて示します。"
            "確認時間は下の「時間」と同じ方法で区分に配分しています。</p>"
            + _table(("区分", "項目数", "割合", "確認済み", "確認シートに載った",
                      "職員が修正・変更した", "職員が入力・確定した文字数", "確認時間",
                      "1項目あたり"), rows, range(1, 9)))


def _quality_row(name: str, g: QualityGroup) -> tuple[object, ...]:
    return (name, g.fields, _ratio(g.accuracy), _ratio(g.char_accuracy),
            _ratio(g.flag_precision), _ratio(g.flag_recall), _ratio(g.silent_error_rate, 2))


def _quality(s: ScenarioFigures, titles: dict[str, str], threshold: float) -> str:
    q = s.quality
    if not s.volume.by_form:
        return ""
    head = ("", "確認済み項目", "項目正読率", "文字正読率", "要確認の的中率", "誤りの検出率",
            "見逃し率")
    rows = [_quality_row("全体（参考）", q.overall),
            *(_quality_row(titles.get(f, f), g) for f, g in sorted(q.by_form.items()))]
    types = [_quality_row(TYPE_JA.get(t, t), g) for t, g in sorted(q.by_type.items())]
    notes = []
    if q.fields_unreviewed:
        notes.append(f"機械が読んだ項目のうち未確認の項目が {q.fields_unreviewed} 件あります"
                     f"（未確認の文書 {q.documents_unreviewed} 件）。修正の取り込みが済むまで"
                     "精度には含めていません（正しいとは数えていません）。")
    if not q.overall.fields:
        notes.append("確認済みの項目がまだないため、精度は確認待ちです。")
    return ("<h3>品質（機械が読んだ項目）</h3>"
            + "".join(f'<div class="note">{_e(n)}</div>' for n in notes)
            + "<p>判定は様式ごとです。全体の値は参考で、様式の不合格を隠しません。</p>"
            + f"<p>修正なし率（ストレート処理率）：{_ratio(q.straight_through)}"
              f"（確認済み {q.documents_reviewed} 文書中 {q.documents_straight_through} 文書）</p>"
            + _table(head, rows, range(1, 7))
            + ("<p>項目の種類別：</p>" + _table(head, types, range(1, 7)) if types else "")
            + _img(charts.accuracy_chart(s, titles, threshold), "様式別の項目正読率"))


def _time(s: ScenarioFigures, titles: dict[str, str]) -> str:
    t = s.time
    if not t.by_form:
        return ""
    rows = [(titles.get(f, f), ft.documents, minutes(ft.baseline.minutes),
             baseline_source(ft.baseline), minutes(ft.review_per_doc),
             REVIEW_SOURCE_JA[ft.review_source] if ft.documents else "—",
             minutes(ft.saved_per_doc), _ratio(ft.saved_share),
             "—" if ft.annual_volume is None else f"{ft.annual_volume:,} 件",
             "—" if ft.annual_hours_saved is None else f"{ft.annual_hours_saved:,.1f} 時間")
            for f, ft in sorted(t.by_form.items())]
    summary = [
        ("ロボットの処理時間（スキャン1文書あたり）", seconds(t.robot_seconds.value)),
        ("実行時間（開始〜終了、文書・データ1件あたり）", seconds(t.elapsed_seconds.value)),
        ("確認時間（1文書あたり）", minutes(t.review_per_doc.value)),
        ("手入力の基準時間（1文書あたり）", minutes(t.baseline_per_doc.value)),
        ("削減時間（1文書あたり）", minutes(t.saved_per_doc.value)),
        ("削減時間（期間の合計）", minutes(t.saved_minutes if t.counted else None)),
        ("削減率（スキャンした様式の合計）", _ratio(t.saved_share)),
        ("年間削減見込み（スキャンした様式）", "—" if t.annual_hours_saved is None
         else f"{t.annual_hours_saved:,.1f} 時間"),
        ("確認時間の内訳", f"実測 {t.measured_minutes:.1f} 分（{len(t.measured_runs)}回の実行）・"
                          f"推定 {t.estimated_minutes:.1f} 分（{len(t.estimated_runs)}回の実行）"),
    ]
    notes = [t.estimate_method] if t.estimate_method else []
    if t.rates is not None and any("attributed" in ft.sources for ft in t.by_form.values()):
        notes.append("様式への配分：1つの様式だけの実行は、記入された確認時間がそのままその様式の"
                     "実測です。複数の様式がある実行は、確認シートでの作業量（要確認の項目・提案の"
                     "確認・手入力の項目の数 × 1項目あたりの時間）の割合で配分します（「実測を様式"
                     f"に配分」）。1項目あたりの時間：{rates_text(t.rates, t.kinds_used)}。")
    if t.unattributed_minutes:
        notes.append(f"要確認の項目がない実行の確認時間 {t.unattributed_minutes:.1f} 分は、"
                     "その実行の文書に均等に割り振りました。")
    if t.unreviewed_runs:
        notes.append(f"修正の取り込みがまだの {len(t.unreviewed_runs)} 回の実行は、時間の比較に"
                     f"含めていません（{_ids(t.unreviewed_runs)}）。")
    missing = [titles.get(f, f) for f, ft in t.by_form.items() if ft.baseline.minutes is None]
    if missing:
        notes.append("手入力の基準時間がない様式は削減時間を計算していません："
                     + "、".join(missing) + "（手入力の時間を計測して記録してください）。")
    return ("<h3>時間（スキャンした様式）</h3>"
            + "".join(f'<div class="note">{_e(n)}</div>' for n in notes)
            + _table(("項目", "値"), summary, (1,))
            + _table(("様式", "確認済み文書", "手入力（基準）", "基準の出所", "確認（1文書）",
                      "確認時間の出所", "削減（1文書）", "削減率", "年間件数", "年間削減見込み"),
                     rows, (1, 2, 4, 6, 7, 8, 9))
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
            ("理由", "ファイル数", "実行ID"),
            [(quarantine_reason(k), len(v), _ids(sorted(set(v))))
             for k, v in sorted(r.quarantined.items())], (1,)))
    for title, events, failed in (("予定どおりに実行されなかった回", r.missed_schedules, False),
                                  ("定時実行の開始に失敗した回", r.failed_starts, True)):
        if events:
            out.append(f"<p>{title}：</p>" + _table(
                ("記録日時", "内容"), [(f"{at.astimezone():%Y-%m-%d %H:%M}",
                                      schedule_event(m, failed=failed)) for at, m in events]))
    if r.lost:
        out.append("<p>紛失した文書：</p>" + _table(("実行ID", "ファイル", "理由"), r.lost))
    return "".join(out)


def _scenario(s: ScenarioFigures, titles: dict[str, str], cfg: EvaluationConfig) -> str:
    return (f"<section><h2>{_e(s.title)}</h2>"
            f'<p class="meta">対象の実行：{len(s.run_ids)} 回</p>'
            + _verdict(s, cfg.thresholds) + _work(s) + _volume(s, titles) + _kinds(s)
            + _quality(s, titles, cfg.thresholds.min_field_accuracy)
            + _time(s, titles) + _reliability(s) + "</section>")


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
    scope = (f"業務：{next((s.title for s in report.scenarios), report.scenario_filter)}"
             if report.scenario_filter else "すべての業務")
    body = "".join(_scenario(s, titles, cfg) for s in report.scenarios)
    if report.empty:
        body += "<section><h2>結果</h2><p>この期間に記録された実行はありません。</p></section>"
    defs = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in DEFINITIONS)
    main = (f"<h1>RPA・AI-OCR 実証実験 評価報告</h1>"
            f'<p class="meta">対象期間：{_e(period_text(report))}　{_e(scope)}　'
            f"作成：{report.generated_at:%Y年%m月%d日 %H:%M}　misato-rpa {_e(__version__)}</p>"
            + "".join(banner) + _summary(report) + body
            + f"<h2>判定のしかたと用語</h2><p>{_e(VERDICT_RULE)}</p><dl>{defs}</dl>"
            + "<p class=\"meta\">個人番号・口座番号などの値は実行ログに保存していません（照合用の"
              "ハッシュ値と文字数のみ）。この報告に個人情報は含まれません。</p>")
    font = font_face(html.unescape(main) + "0123456789.,%—〜：（）")
    return ('<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>RPA・AI-OCR 実証実験 評価報告</title>"
            f"<style>{font}{stylesheet()}</style></head>"
            f"<body><main>{main}</main></body></html>\n")
