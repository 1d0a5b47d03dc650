"""Japanese words and number formats shared by the HTML and the Excel report.

Managers read the report, so every figure carries a Japanese name and, once, a sentence
saying how it is computed (``DEFINITIONS``); both outputs take them from here so that the
page and the workbook can never explain the same figure differently. The page names no
configuration key, class or code: those are in ``DETAILS``, for the workbook's 詳細 sheet.
"""

from __future__ import annotations

import re
from datetime import date

import ocr.errors
from robots.report.base import BaselineFigure
from robots.report.figures import Report
from robots.report.verdict import DECISION_JA, REVIEW_SOURCE_JA, pct, source_ja

__all__ = [
    "DECISION_JA",
    "DEFINITIONS",
    "DETAILS",
    "KIND_JA",
    "REVIEW_SOURCE_JA",
    "RUN_STATUS_JA",
    "STATUS_JA",
    "TRIGGER_JA",
    "TYPE_JA",
    "VERDICT_RULE",
    "baseline_source",
    "minutes",
    "pct",
    "period_text",
    "quarantine_reason",
    "schedule_event",
    "seconds",
    "source_ja",
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

#: The three kinds of field, as the report names them.
KIND_JA = {"read": "機械が読んだ項目", "proposed": "参照データから提案し職員が確認した項目",
           "keyed": "職員が手入力する項目（手書きの文字。機械は読みません）"}

#: Why a file was quarantined, by the code the run log keeps (ocr.errors classes: their text).
_QUARANTINE_JA = {
    "duplicate": "同じ内容のファイルを処理済み（重複）",
    "page_not_recognised": "様式を判別できないページがある",
    "empty": "読み取る様式のページがない",
    "unknown_layout": "データの列の構成が登録された形式のどれとも合わない",
    "unreadable": "ファイルを読み込めない（壊れているか、CSV・Excelではない）",
    "unsupported_file": "この業務で扱う種類のファイルではない",
    "internal_error": "処理中にエラーが発生した（ログを確認）",
    "failed": "処理できなかった",
}


def quarantine_reason(code: str) -> str:
    """A quarantine reason code in Japanese; an OCR error by its own first sentence."""
    if code in _QUARANTINE_JA:
        return _QUARANTINE_JA[code]
    cls = getattr(ocr.errors, code, None)
    if isinstance(cls, type) and issubclass(cls, ocr.errors.OcrError):
        return cls.reason_ja.split("。")[0]
    return "その他の理由（詳細シート参照）"


_WHEN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def schedule_event(message: str, *, failed: bool) -> str:
    """A scheduler's event in Japanese: the scheduled time it names, and what happened.

    The scheduler writes its messages in English for the log (names, exception classes); the
    report says what happened and keeps the message for the 詳細 sheet.
    """
    when = _WHEN.search(message)
    at = f"予定 {when.group(0)} の" if when else ""
    return f"{at}定時実行の開始に失敗しました" if failed else (
        f"{at}定時実行が行われませんでした（その時刻にサービスが動いていなかった等）")


#: (figure, how it is computed) — printed at the end of the page and on the 判定 sheet.
DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("項目の3つの区分", "機械が読んだ項目（OCRの精度はこの項目だけで測ります）、参照データ"
     "（郵便番号・住民記録・全銀データなど）から提案し職員が確認した項目、設計上職員が"
     "手入力する項目（手書きの氏名・住所など、機械が読まない文字）を分けて数えます。"),
    ("確認済みの項目", "修正の取り込みで確定値が記録された項目。取り込み前の項目は「未確認」"
     "として数え、精度には含めません。"),
    ("項目正読率", "機械が読んだ確認済みの項目のうち、読取値と確定値が一致した項目の割合。"
     "様式ごとに判定します。"),
    ("文字正読率", "（読取文字数 − 修正された文字数）÷ 読取文字数。読取文字数は読取値と確定値の"
     "長い方、修正された文字数は両者の編集距離（レーベンシュタイン距離）。"),
    ("修正なし率（ストレート処理率）", "すべての項目が確認済みの文書のうち、手入力の項目がなく、"
     "1項目も修正されなかった文書の割合。"),
    ("要確認の的中率", "機械が読み要確認（確認シートに載った）になった項目のうち、実際に修正"
     "された項目の割合。"),
    ("誤りの検出率", "機械が読み修正された項目のうち、要確認になっていた項目の割合。"),
    ("見逃し率", "機械が読んだ確認済みの項目のうち、要確認にならなかったのに修正された項目の"
     "割合。データシートで直された分だけが数えられ、誰も気づかなかった誤りは数えられません。"),
    ("様式ごとの判定", "文書の多い様式（スキャンした文書の一定割合を超える様式）の見逃し率が"
     "基準を超えると見送り、それ以外の様式でも基準に届かなければ導入にはしません（条件に"
     "様式名を挙げます）。"),
    ("ロボットの処理時間", "スキャンした文書ごとの読込・位置合わせ・読取の時間の平均（無人の"
     "時間のため、職員の作業時間には含めません）。実行時間は実行の開始から終了まで ÷ "
     "文書とデータの件数。"),
    ("確認時間", "確認シートに記入された確認時間（分）。1つの実行に複数の様式があるときは、"
     "確認シートでの作業量（要確認の項目・提案の確認・手入力の項目の数 × 1項目あたりの時間）"
     "の割合で様式に配分します。1項目あたりの時間は、記録のある実行から最小二乗法（負に"
     "ならない解）で求め、足りないときは設定の仮定の比率を使い、その旨を表示します。記入の"
     "ない実行は同じ時間から推定し、推定と表示します。"),
    ("手作業の基準時間", "職員が手作業で行う時間を計測した値（合計分 ÷ 合計件数、誰がいつ"
     "何件で計測したかを表示）。計測がないときは設定ファイルの仮定値で、導入の判断には"
     "使えません（条件として表示します）。"),
    ("削減時間", "（基準時間 × 確認済み文書数）−（確認時間の合計）。削減率はこれを手作業の"
     "合計時間で割ったもの。"),
    ("業務の成果", "照合・点検など業務そのものの件数（人手を介さずに済んだ件数、職員の判断、"
     "後で誤りと分かった件数）。記録されていない件数は「未計測」とし、0件とは数えません。"
     "作業時間は、人が判断した件数 × 判断1件の時間を、すべてを手作業で行う時間と比べます。"),
    ("年間削減見込み", "様式・作業ごとに 1件あたりの削減時間 × 設定された年間件数。"),
    ("紛失した文書", "処理済みなのに文書の記録がないファイル、ページが欠けたファイル、"
     "原本が記録された場所（処理済み・隔離のフォルダ）にないファイル。"),
    ("予定どおりに実行されなかった回", "スケジューラーが記録した、定時実行が行われなかった回"
     "（定時実行の開始に失敗した回は別に数えます）。"),
)

#: (what, where it comes from) — configuration keys, commands and codes, for the 詳細 sheet.
DETAILS: tuple[tuple[str, str], ...] = (
    ("判定の基準値", "config.toml の [evaluation.thresholds]（min_field_accuracy, "
     "max_silent_error_rate, min_time_saved, max_lost_documents, min_reviewed_documents, "
     "min_form_share, max_work_errors）"),
    ("手作業の基準時間（仮定値）", "[evaluation.baseline_minutes]：様式ID または作業名 = 分"),
    ("手作業の基準時間（実測）", "rpa baseline record --form 様式ID --documents 件数 --minutes 分"
     " / rpa baseline record --task 作業名 --count 件数 --minutes 分（rpa baseline list で一覧）"),
    ("年間件数", "[evaluation.annual_volume]：様式ID または作業名 = 件数"),
    ("確認時間の仮定値", "[evaluation] review_seconds_per_flagged_field, "
     "review_seconds_per_proposed_field, review_seconds_per_keyed_field（秒/項目）"),
    ("確認時間の記録", "確認シートの「確認時間（分）」または開始・終了時刻 → "
     "rpa corrections import"),
    ("業務の件数", "実行ログの work_counts（業務ごとの件数名は下の表）"),
    ("項目の区分", "理由コード proposed → 提案、manual_keying → 手入力、それ以外 → 機械読取"),
    ("予定漏れ", "イベント schedule_missed（開始の失敗は schedule_failed）"),
)

VERDICT_RULE = (
    "見送り：紛失した文書がある、文書の多い様式の見逃し率が基準を超える、業務の結果に後で誤りが"
    "見つかった、または実測の作業時間が手作業より長い場合。導入：すべての様式・作業の基準を"
    "実測で満たし（手作業の基準時間も実測）、確認済みの文書が十分にあり、確認時間がすべて記入"
    "され、異常終了・予定漏れ・模擬レビューがない場合。条件付き導入：それ以外（条件を列挙）。"
)


def minutes(value: float | None, digits: int = 1) -> str:
    """Minutes as shown, or "—"."""
    return "—" if value is None else f"{value:.{digits}f} 分"


def seconds(value: float | None) -> str:
    """Seconds as shown, or "—"."""
    return "—" if value is None else f"{value:.1f} 秒"


def baseline_source(b: BaselineFigure) -> str:
    """Where a manual time comes from, in Japanese: who timed it, when, on how many."""
    if b.source == "measured":
        when = ""
        if b.first is not None and b.last is not None:
            first, last = b.first.astimezone(), b.last.astimezone()
            when = (f"{first:%Y-%m-%d}" if first.date() == last.date()
                    else f"{first:%Y-%m-%d}〜{last:%Y-%m-%d}") + "、"
        who = "・".join(b.who) + "、" if b.who else ""
        return f"実測（{when}{who}{b.samples}回・計{b.sample_documents}件）"
    return source_ja(b)


def _day(d: date | None) -> str:
    return f"{d:%Y年%m月%d日}" if d else ""


def period_text(report: Report) -> str:
    """The period a report covers, in Japanese."""
    if report.since is None and report.until is None:
        return "全期間"
    return f"{_day(report.since) or '最初の記録'} 〜 {_day(report.until) or '最新の記録'}"
