"""Japanese words and number formats shared by the HTML and the Excel report.

Managers read the report, so every figure carries a Japanese name and, once, a sentence
saying how it is computed (``DEFINITIONS``); both outputs take them from here so that the
page and the workbook can never explain the same figure differently.
"""

from __future__ import annotations

from datetime import date

from robots.report.figures import BaselineFigure, Report
from robots.report.verdict import DECISION_JA, pct

__all__ = [
    "DECISION_JA",
    "DEFINITIONS",
    "RUN_STATUS_JA",
    "STATUS_JA",
    "TRIGGER_JA",
    "TYPE_JA",
    "VERDICT_RULE",
    "baseline_source",
    "minutes",
    "pct",
    "period_text",
    "seconds",
]

STATUS_JA = {"pass": "達成", "fail": "未達", "pending": "未確定"}
RUN_STATUS_JA = {"completed": "完了", "failed": "失敗", "aborted": "中断", "running": "実行中"}
TRIGGER_JA = {"schedule": "定時", "manual": "手動", "watch": "フォルダ監視", "demo": "デモ"}
TYPE_JA = {
    "text": "文字", "kana": "カナ", "digits": "数字", "date": "日付", "postal_code": "郵便番号",
    "phone": "電話番号", "amount": "金額", "mynumber": "個人番号", "corporate_number": "法人番号",
    "bank_code": "金融機関コード", "branch_code": "支店コード", "account_number": "口座番号",
    "checkbox": "チェック欄", "choice": "選択", "name": "氏名・名称", "address": "住所",
}

#: (figure, how it is computed) — printed at the end of the page and on the 判定 sheet.
DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("確認済みの項目", "修正の取り込み（rpa corrections import）で確定値が記録された項目。"
     "取り込み前の項目は「未確認」として数え、精度には含めません。"),
    ("項目正読率", "確認済みの項目のうち、読取値と確定値が一致した項目の割合。"),
    ("文字正読率", "（読取文字数 − 修正された文字数）÷ 読取文字数。読取文字数は読取値と確定値の"
     "長い方、修正された文字数は両者の編集距離（レーベンシュタイン距離）。"),
    ("修正なし率（ストレート処理率）", "すべての項目が確認済みの文書のうち、1項目も修正されなかった"
     "文書の割合。"),
    ("要確認の的中率", "要確認（確認シートに載った）項目のうち、実際に修正された項目の割合。"),
    ("誤りの検出率", "修正された項目のうち、要確認になっていた項目の割合。"),
    ("見逃し率", "確認済みの項目のうち、要確認にならなかったのに修正された項目の割合。"
     "データシートで直された分だけが数えられ、誰も気づかなかった誤りは数えられません。"),
    ("ロボットの処理時間", "文書ごとの読込・位置合わせ・読取の時間の平均（無人の時間のため、"
     "職員の作業時間には含めません）。実行時間は実行の開始から終了まで ÷ 文書数。"),
    ("確認時間", "確認シートに記入された確認時間（分）。記入のない実行は推定し、推定方法を"
     "表示します。実行ごとの確認時間は、その実行の文書数で均等に割り振ります。"),
    ("手入力の基準時間", "rpa baseline record で計測した手入力の時間（合計分 ÷ 合計文書数）。"
     "計測がない様式は config.toml の evaluation.baseline_minutes（町の業務量調査）。"),
    ("削減時間", "（基準時間 × 確認済み文書数）−（確認時間の合計）。削減率はこれを手入力の"
     "合計時間で割ったもの。"),
    ("年間削減見込み", "様式ごとに 1文書あたりの削減時間 × evaluation.annual_volume の年間件数。"),
    ("紛失した文書", "処理済みなのに文書の記録がないファイル、ページが欠けたファイル、"
     "原本が記録された場所（done/ または failed/）にないファイル。"),
    ("予定どおりに実行されなかった回", "スケジューラーが記録した schedule_missed の件数"
     "（定時実行の開始に失敗した回は schedule_failed の件数）。"),
)

VERDICT_RULE = (
    "見送り：紛失した文書がある、見逃し率が基準を超える、または実測の作業時間が手入力より"
    "長い場合。導入：すべての基準を実測で満たし、確認済みの文書が十分にあり、確認時間がすべて"
    "記入され、異常終了・予定漏れ・模擬レビューがない場合。条件付き導入：それ以外（条件を列挙）。"
)


def minutes(value: float | None, digits: int = 1) -> str:
    """Minutes as shown, or "—"."""
    return "—" if value is None else f"{value:.{digits}f} 分"


def seconds(value: float | None) -> str:
    """Seconds as shown, or "—"."""
    return "—" if value is None else f"{value:.1f} 秒"


def baseline_source(b: BaselineFigure) -> str:
    """Where a form's manual baseline comes from, in Japanese."""
    if b.source == "measured":
        return f"実測（{b.samples}回の計測・計{b.sample_documents}文書）"
    if b.source == "configured":
        return "設定値（config.toml の evaluation.baseline_minutes）"
    return "未設定"


def _day(d: date | None) -> str:
    return f"{d:%Y年%m月%d日}" if d else ""


def period_text(report: Report) -> str:
    """The period a report covers, in Japanese."""
    if report.since is None and report.until is None:
        return "全期間"
    return f"{_day(report.since) or '最初の記録'} 〜 {_day(report.until) or '最新の記録'}"
