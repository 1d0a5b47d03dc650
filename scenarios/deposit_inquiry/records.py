"""Inquiries (the ledger) and replies, normalised and checked, with what is wrong in Japanese.

Values are normalised the way the rest of the project does (``docs/architecture.md``): ISO
dates from 和暦 or western dates, 4/3/7-digit bank, branch and account codes (leading zeros
an export lost are put back), integer yen, katakana names. Bank and branch codes are checked
against zengin-code. A value that cannot be trusted does not stop anything: it is kept as
read, with a problem that sends the inquiry or reply to review.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date

from ocr.japanese import digits_only, normalize_kana, normalize_text, parse_amount, parse_date
from ocr.refdata import bank_name, branch_name
from robots.kit.reconcile import normalize_ref
from robots.kit.tables import Layout
from scenarios.deposit_inquiry.schemas import TX_FIELDS

__all__ = [
    "ACCOUNT_TYPES",
    "FIELD_LABELS",
    "YUCHO_BANK",
    "Inquiry",
    "Reply",
    "account_type",
    "check_reply",
    "holder_kana",
    "is_marked",
    "parse_inquiry",
    "yucho_to_zengin",
]

log = logging.getLogger(__name__)

YUCHO_BANK = "9900"
#: The account types of the paper form, in its order; other values are kept and reviewed.
ACCOUNT_TYPES = ("普通", "当座", "貯蓄", "定期", "通知", "納税準備")
_TYPE_SYNONYMS = {"総合": "普通", "通常": "普通", "振替": "当座", "定額": "定期"}
_TRUE = frozenset({"1", "true", "yes", "y", "該当なし", "○", "〇", "✓", "有", "あり"})
_FALSE = frozenset({"0", "false", "no", "n", "", "該当あり"})
NO_ACCOUNT_MARK = "該当なし"
_KANA = re.compile(r"[ァ-ヺー・]+")

FIELD_LABELS = {
    "inquiry_number": "照会番号", "purpose": "照会目的", "name": "氏名", "kana": "氏名カナ",
    "birth_date": "生年月日", "address": "住所", "bank_code": "金融機関コード",
    "branch_code": "店舗コード", "sent_date": "照会日", "deadline": "回答期限",
    "account_type": "預貯金の種類", "account_number": "口座番号", "balance": "残高",
    "balance_date": "残高基準日", "no_account": "該当なし", "reply_date": "回答日",
    "yucho_symbol": "記号", "yucho_number": "番号", "send": "送付",
    "registered_address": "届出住所", "tx_date": "取引日", "tx_description": "摘要",
    "tx_withdrawal": "出金額", "tx_deposit": "入金額", "tx_balance": "取引後残高",
    "transactions": "取引明細",
}  # fmt: skip
_LATIN = re.compile(r"[A-Za-z]")
_LATIN_NAME = re.compile(r"[A-Z][A-Z .,'\-]*")


@dataclass(frozen=True, slots=True)
class Inquiry:
    """One row of the inquiry ledger, normalised. ``problems`` are Japanese, for the sheet."""

    number: str
    purpose: str
    name: str
    kana: str
    birth_date: str
    address: str
    bank_code: str
    branch_code: str
    sent_date: str
    deadline: str
    row: int
    problems: tuple[str, ...] = ()
    #: the ledger's 送付 mark: None when its layout has no such column (every unsent row goes)
    marked: bool | None = None
    document_number: str = ""  # of the latest send by the robot, or the ledger's 文書番号
    resent: int = 0  # how many 再照会 the robot sent

    @property
    def bank_name(self) -> str:
        return bank_name(self.bank_code) or ""


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer about one account (or 該当なし) of one person, from a file row or a form.

    ``reply_id`` is stable across runs (file content hash + place in the file), so the same
    reply read again after a crash is the same reply, never a second one.
    """

    reply_id: str
    doc_key: str
    doc_id: str
    source: str  # layout id, or "paper"
    file_name: str
    locator: str  # where in the file, for people: 12行目 / 1ページ ①
    arrival: int  # order of arrival (first reception)
    received: str  # ISO date of first reception
    inquiry_number: str
    bank_code: str
    branch_code: str
    kana: str
    name: str
    birth_date: str
    account_type: str
    account_number: str
    balance: str
    balance_date: str
    no_account: bool
    reply_date: str = ""
    problems: tuple[str, ...] = ()
    decided: str = field(default="", compare=False)  # a clerk's earlier decision, if any
    decided_note: str = field(default="", compare=False)  # the clerk's 備考 with it
    #: one reply (a bank's answer about one person) may report several accounts; a clerk's
    #: decision is about the reply: every account of the group follows it
    group: str = field(default="", compare=False)
    registered_address: str = ""
    #: (date, description, withdrawal, deposit, balance after) per transaction, in order
    transactions: tuple[tuple[str, ...], ...] = ()

    @property
    def bank_name(self) -> str:
        return bank_name(self.bank_code) or ""

    @property
    def account_key(self) -> tuple[str, str, str, str]:
        return (self.bank_code, self.branch_code, self.account_type, self.account_number)

    def content_key(self) -> tuple[str, ...]:
        """What makes two replies the same reply received twice (重複)."""
        from robots.kit.reconcile import name_key

        return (self.inquiry_number, self.bank_code, self.branch_code, name_key(self.kana),
                self.birth_date, "1" if self.no_account else "0", self.account_type,
                self.account_number, self.balance, self.balance_date)


def holder_kana(raw: str) -> str:
    """The account holder's kana as compared: katakana, or Latin letters with their spaces.

    A name in Latin letters (an account opened with a residence card) keeps its word breaks,
    which :func:`robots.kit.reconcile.latin_readings` needs to read it word by word.
    """
    text = normalize_text(raw)
    if _LATIN.search(text):
        return " ".join(text.upper().split())
    return normalize_kana(text)


def is_marked(raw: str) -> bool:
    """A 送付 mark as staff type it: ○, 1, 送付, yes …; empty or 0 is not marked."""
    return normalize_text(raw).lower() in _TRUE | {"送付", "送る", "する", "済"}


def _code(raw: str, width: int) -> str:
    """A bank/branch/account code: ASCII digits, leading zeros an export dropped put back."""
    d = digits_only(normalize_text(raw)).replace("-", "")
    return d.zfill(width) if d.isascii() and d.isdigit() and len(d) < width else d


def _date(raw: str, label: str, problems: list[str], *, required: bool = False) -> str:
    text = normalize_text(raw)
    if not text:
        if required:
            problems.append(f"{label}: 空欄")
        return ""
    d = parse_date(text)
    if d is None:
        problems.append(f"{label}: 日付として読めない（{text}）")
        return text
    return d.isoformat()


def _bank(bank: str, branch: str, problems: list[str], *, branch_required: bool) -> None:
    if not (len(bank) == 4 and bank.isdigit()):
        problems.append("金融機関コード: 4桁の数字ではない")
    elif bank_name(bank) is None:
        problems.append(f"金融機関コード: 全銀データにない（{bank}）")
    elif branch and branch_name(bank, branch) is None:
        problems.append(f"店舗コード: この金融機関の店舗にない（{branch}）")
    if branch_required and not branch:
        problems.append("店舗コード: 空欄")


def parse_inquiry(layout: Layout, row: int, raw: dict[str, str]) -> Inquiry:
    """A ledger row as an :class:`Inquiry` (never raises; problems listed in Japanese)."""
    problems: list[str] = []
    v = {k: layout.value(k, raw.get(k, "")) for k in raw}
    number = normalize_ref(v.get("inquiry_number", ""))
    if not number:
        problems.append("照会番号: 空欄")
    kana = normalize_kana(v.get("kana", ""))
    if not kana:
        problems.append("氏名カナ: 空欄")
    bank, branch = _code(v.get("bank_code", ""), 4), _code(v.get("branch_code", ""), 3)
    _bank(bank, branch, problems, branch_required=False)
    sent = _date(v.get("sent_date", ""), "照会日", problems)
    return Inquiry(
        number=number, purpose=v.get("purpose", ""), name=normalize_text(v.get("name", "")),
        kana=kana, birth_date=_date(v.get("birth_date", ""), "生年月日", problems, required=True),
        address=normalize_text(v.get("address", "")), bank_code=bank, branch_code=branch,
        sent_date=sent,
        # empty: the robot sets it from the day sent (by it, or by hand: 照会日)
        deadline=_date(v.get("deadline", ""), "回答期限", problems),
        row=row, problems=tuple(problems),
        document_number=normalize_text(v.get("document_number", "")),
        marked=is_marked(v.get("send", "")) if "send" in layout.columns else None)


def account_type(raw: str) -> str:
    """普通預金 → 普通, 通常貯金 → 普通 (ゆうちょ), 定額貯金 → 定期; anything else as written."""
    t = normalize_text(raw).replace(" ", "")
    for suffix in ("預金", "貯金", "口座"):
        t = t.removesuffix(suffix)
    return _TYPE_SYNONYMS.get(t, t)


def yucho_to_zengin(symbol: str, number: str) -> tuple[str, str, str] | None:
    """ゆうちょ銀行の記号・番号 → (店番, 預金種目, 口座番号), or None when malformed.

    通常貯金 (記号 1xxx0, 番号 up to 8 digits ending in 1): 店番 = 記号の2・3桁目 + 8, 普通,
    口座番号 = 番号 without its last digit, 7 digits. 振替口座 (記号 0xxx0, 番号 up to 6
    digits): 店番 = 記号の2・3桁目 + 9, 当座, 口座番号 = 番号 in 7 digits.
    """
    s, n = _code(symbol, 5), digits_only(normalize_text(number)).replace("-", "")
    if not (len(s) == 5 and s.isdigit() and n.isdigit()):
        return None
    if s[0] == "1" and 2 <= len(n) <= 8 and n.endswith("1"):
        return s[1:3] + "8", "普通", n[:-1].zfill(7)
    if s[0] == "0" and 1 <= len(n) <= 6:
        return s[1:3] + "9", "当座", n.zfill(7)
    return None


def check_reply(layout: Layout, raw: dict[str, str], today: date
                ) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A reply row's normalised values and its problems as (field, Japanese reason).

    Used for data files; paper replies were checked by the OCR pipeline already.
    """
    v = {k: layout.value(k, raw.get(k, "")) for k in raw}
    out: dict[str, str] = {"inquiry_number": normalize_ref(v.get("inquiry_number", ""))}
    problems: list[tuple[str, str]] = []

    def problem(f: str, why: str) -> None:
        problems.append((f, f"{FIELD_LABELS[f]}: {why}"))

    out["bank_code"], out["branch_code"] = (_code(v.get("bank_code", ""), 4),
                                            _code(v.get("branch_code", ""), 3))
    out["account_type"] = account_type(v.get("account_type", ""))
    out["account_number"] = _code(v.get("account_number", ""), 7)
    if v.get("yucho_symbol") or v.get("yucho_number"):
        converted = yucho_to_zengin(v.get("yucho_symbol", ""), v.get("yucho_number", ""))
        if converted is None:
            problem("yucho_number", "記号・番号の形式が正しくない（ゆうちょ銀行）")
        else:
            out["branch_code"], kind, out["account_number"] = converted
            out["account_type"] = out["account_type"] or kind
    flag = normalize_text(v.get("no_account", "")).lower()
    no_account = flag in _TRUE or out["account_type"] == NO_ACCOUNT_MARK
    if flag not in _TRUE and flag not in _FALSE:
        problem("no_account", f"読めない値（{flag}）")
    if out["account_type"] == NO_ACCOUNT_MARK:
        out["account_type"] = ""
    out["no_account"] = "1" if no_account else "0"
    out["kana"] = holder_kana(v.get("kana", ""))
    if not (_KANA.fullmatch(out["kana"]) or _LATIN_NAME.fullmatch(out["kana"])):
        problem("kana", "空欄かカタカナ・英字以外を含む")
    out["name"] = normalize_text(v.get("name", ""))
    out["registered_address"] = normalize_text(v.get("registered_address", ""))
    out["balance"] = ""
    if (b := normalize_text(v.get("balance", ""))):
        amount = parse_amount(b)
        out["balance"] = str(amount) if amount is not None else b
        if amount is None:
            problem("balance", "金額として読めない")
    for f in ("birth_date", "balance_date", "reply_date"):
        issues: list[str] = []
        out[f] = _date(v.get(f, ""), FIELD_LABELS[f], issues)
        problems += [(f, p) for p in issues]
    bank_issues: list[str] = []
    _bank(out["bank_code"], out["branch_code"], bank_issues, branch_required=not no_account)
    problems += [("branch_code" if p.startswith("店舗") else "bank_code", p) for p in bank_issues]
    has_account = bool(out["account_number"] or out["balance"])
    if no_account and has_account:
        problem("no_account", "「該当なし」と口座の記載の両方がある")
    if not no_account:
        if not out["account_number"].isdigit() or len(out["account_number"]) != 7:
            problem("account_number", "7桁の数字ではない")
        if out["account_type"] not in ACCOUNT_TYPES:
            problem("account_type", f"不明（{out['account_type'] or '空欄'}）")
        if not out["balance"]:
            problem("balance", "空欄")
    if out["birth_date"] and out["birth_date"] > today.isoformat():
        problem("birth_date", "未来の日付")
    if any(v.get(f) for f in TX_FIELDS):  # one transaction of the account (取引明細)
        issues = []
        out["tx_date"] = _date(v.get("tx_date", ""), FIELD_LABELS["tx_date"], issues)
        problems += [("tx_date", p) for p in issues]
        out["tx_description"] = normalize_text(v.get("tx_description", ""))
        for f in ("tx_withdrawal", "tx_deposit", "tx_balance"):
            text = normalize_text(v.get(f, ""))
            amount = parse_amount(text) if text else None
            out[f] = str(amount) if amount is not None else text
            if text and amount is None:
                problem(f, "金額として読めない")
    return out, problems
