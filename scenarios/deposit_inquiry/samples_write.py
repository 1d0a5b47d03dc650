"""Write a drawn sample world as the files the town receives, and its truth.

Layout of ``out`` (the same as a workspace, so ``--out samples`` refreshes the demo):

    data/deposit_inquiry/ledger.csv          the ledger, UTF-8, 和暦 birth dates
    data/deposit_inquiry/ledger_cp932.csv    the same, CP932, half-width kana, codes, S55.04.12
    data/deposit_inquiry/ledger.xlsx         the same, Excel, real dates
    data/deposit_inquiry/truth.json          expected status of every inquiry and reply
    inbox/deposit_inquiry/*.csv              replies: online service, banks' CSV, ゆうちょ
    inbox/deposit_inquiry/*.tif              paper reply forms, scanned (bilevel TIFF), each
                                             with its ``<stem>.json`` truth as robots.samples
                                             writes it (move it out before running the inbox)

Each reply file holds at most :data:`ROWS_PER_FILE` rows; replies sent again go to a later
``*_resent.csv``. Formats vary as they do in life (era or western dates, hyphens and
full-width digits in numbers, leading zeros an export lost).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import jaconv
import numpy as np
from openpyxl import Workbook

from ocr.japanese import format_era, normalize_kana, normalize_text
from ocr.templates import load_template
from robots.samples import SampleDocument, make_values, render_sample, write_pages, write_truth
from robots.samples.context import DocumentContext
from robots.samples.sources import BankBranch
from robots.sheets.csvout import write_csv
from scenarios.deposit_inquiry.samples import SInquiry, SReply, World, build_world

__all__ = ["ROWS_PER_FILE", "write_sample_set", "write_world"]

ROWS_PER_FILE = 400
_FORM = Path(__file__).parent / "forms" / "deposit_reply.toml"
_SERVICE_TYPES = {"普通": "01", "当座": "02", "貯蓄": "03", "定期": "04", "通知": "05",
                  "納税準備": "06"}
_FULL = str.maketrans("0123456789-", "０１２３４５６７８９－")
_ERA_HEAD = {"明治": "M", "大正": "T", "昭和": "S", "平成": "H", "令和": "R"}
LEDGER_HEADER = ["照会番号", "照会区分", "氏名", "氏名カナ", "生年月日", "住所", "金融機関コード",
                 "店舗コード", "照会日", "回答期限"]
_FILES = {
    "reply_service": ("service_reply", "utf-8-sig",
                      ["照会番号", "金融機関コード", "店舗コード", "名義人カナ", "生年月日",
                       "回答区分", "預金種目コード", "口座番号", "残高", "残高基準日", "回答日"]),
    "reply_service_detail": ("service_detail_reply", "utf-8-sig",
                             ["照会番号", "金融機関コード", "店舗コード", "名義人カナ", "生年月日",
                              "届出住所", "回答区分", "預金種目コード", "口座番号", "残高",
                              "残高基準日", "回答日", "取引日", "摘要", "出金額", "入金額",
                              "取引後残高"]),
    "reply_bank_legacy": ("bank_reply", "cp932",
                          ["照会番号", "銀行コード", "支店コード", "口座名義（カナ）",
                           "口座名義（漢字）", "生年月日", "科目", "口座番号", "残高", "基準日",
                           "備考"]),
    "reply_yucho": ("yucho_reply", "cp932",
                    ["照会番号", "名義人カナ", "生年月日", "該当有無", "貯金種類", "記号", "番号",
                     "現在高", "基準日"]),
}


def _era_short(d: dt.date) -> str:
    """S55.04.12: the compact era form old systems print."""
    long = format_era(d)
    head = next(k for k in _ERA_HEAD if long.startswith(k))
    year = long[len(head):].split("年", 1)[0]
    return f"{_ERA_HEAD[head]}{1 if year == '元' else int(year)}.{d.month:02d}.{d.day:02d}"


def _number(r: SReply, rng: np.random.Generator) -> str:
    x = rng.random()
    if not r.number or x > 0.15:
        return r.number
    return f"{r.number[:2]}-{r.number[2:]}" if x < 0.08 else r.number.translate(_FULL)


def _service_row(r: SReply, rng: np.random.Generator) -> list[str]:
    birth = r.birth.isoformat() if rng.random() < 0.6 else f"{r.birth:%Y%m%d}"
    acct = not r.no_account
    return [_number(r, rng), r.bank_code, r.branch_code if acct else "", r.kana, birth,
            "該当なし" if r.no_account else "該当あり",
            _SERVICE_TYPES[r.account_type] if acct else "", r.account_number,
            str(r.balance) if acct else "",
            r.balance_date.isoformat() if acct and r.balance_date else "", ""]


def _detail_rows(r: SReply, rng: np.random.Generator) -> list[list[str]]:
    """One row per transaction (or one row when none): the account repeated on each."""
    head = _service_row(r, rng)
    head[5:5] = [r.registered_address]
    if not r.transactions:
        return [[*head, "", "", "", "", ""]]
    return [[*head, f"{t[0]:%Y/%m/%d}", t[1], str(t[2]) if t[2] else "",
             str(t[3]) if t[3] else "", str(t[4])] for t in r.transactions]


def _legacy_row(r: SReply, rng: np.random.Generator) -> list[str]:
    kana = jaconv.z2h(r.kana, kana=True, ascii=False, digit=False) if rng.random() < 0.7 \
        else r.kana
    birth = _era_short(r.birth) if rng.random() < 0.6 else format_era(r.birth)
    acct = not r.no_account
    number = r.account_number.lstrip("0") if acct and rng.random() < 0.5 else r.account_number
    return [_number(r, rng), r.bank_code, r.branch_code, kana, r.name, birth,
            f"{r.account_type}預金" if acct else "該当口座なし", number,
            f"{r.balance:,}" if acct else "",
            _era_short(r.balance_date) if acct and r.balance_date else "", ""]


def _yucho_row(r: SReply, rng: np.random.Generator) -> list[str]:
    acct = not r.no_account
    symbol = f"1{r.branch_code[:2]}{r.account_number[-1]}0" if acct else ""  # fixed per account
    return [_number(r, rng), r.kana, f"{r.birth:%Y/%m/%d}", "無" if r.no_account else "有",
            "通常貯金" if acct else "", symbol, f"{r.account_number}1" if acct else "",
            str(r.balance) if acct else "",
            f"{r.balance_date:%Y/%m/%d}" if acct and r.balance_date else ""]


_ROWS: dict[str, Callable[[SReply, np.random.Generator], list[str]]] = {
    "reply_service": _service_row, "reply_bank_legacy": _legacy_row, "reply_yucho": _yucho_row}


def _write_ledger(folder: Path, inquiries: list[SInquiry]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    utf8, cp, xl = [], [], []
    for q in inquiries:
        name = f"{q.person.last}\u3000{q.person.first}"
        kana = q.kana
        sent, deadline = (None, None) if q.unsent else (q.sent, q.deadline)
        utf8.append([q.number, q.purpose, name, kana, format_era(q.birth), q.address,
                     q.bank.bank_code, q.ledger_branch, f"{sent:%Y/%m/%d}" if sent else "",
                     f"{deadline:%Y/%m/%d}" if deadline else ""])
        cp.append([q.number, "1" if q.purpose == "税務" else "2", name,
                   jaconv.z2h(kana, kana=True, ascii=False, digit=False), _era_short(q.birth),
                   q.address, q.bank.bank_code, q.ledger_branch,
                   _era_short(sent) if sent else "", _era_short(deadline) if deadline else ""])
        xl.append([q.number, q.purpose, name, kana, q.birth, q.address, q.bank.bank_code,
                   q.ledger_branch, sent, deadline])
    paths = [folder / "ledger.csv", folder / "ledger_cp932.csv", folder / "ledger.xlsx"]
    write_csv(paths[0], LEDGER_HEADER, utf8, encoding="utf-8-sig", formula_escape=False)
    write_csv(paths[1], LEDGER_HEADER, cp, encoding="cp932", formula_escape=False)
    wb = Workbook()
    ws = wb.active
    ws.title = "照会台帳"
    ws.append(LEDGER_HEADER)
    for row in xl:
        ws.append(row)
    for r in ws.iter_rows(min_row=2):
        for c in (r[4], r[8], r[9]):
            c.number_format = "yyyy/mm/dd"
        for c in (r[0], r[6], r[7]):
            c.number_format = "@"
    wb.save(paths[2])
    return paths


def _paper(path: Path, q: SInquiry, replies: list[SReply], rng: np.random.Generator,
           today: dt.date, degrade: int) -> dict[str, str]:
    """One reply form for ``q`` with its accounts, scanned; returns its truth."""
    t = load_template(_FORM)
    doc = make_values(t, rng, today=today)
    ctx = DocumentContext(rng, today, corporate=False)
    first = replies[0]
    ctx.__dict__["bank"] = BankBranch(q.bank.bank_code, q.bank.bank_name,
                                      first.branch_code or q.bank.branch_code,
                                      _branch_name(q.bank.bank_code,
                                                   first.branch_code or q.bank.branch_code))
    printed, truth = dict(doc.printed), dict(doc.truth)
    for r in replies:  # one form names one answering branch
        r.branch_code = ctx.bank.branch_code

    def put(name: str, shown: str, value: str) -> None:
        printed[name], truth[name] = shown, value

    put("inquiry_number", q.number, q.number)
    put("bank_code", q.bank.bank_code, q.bank.bank_code)
    put("bank_name", b := ctx.bank_name(), normalize_text(b))
    put("branch_code", ctx.bank.branch_code, ctx.bank.branch_code)
    put("branch_name", b := ctx.branch_name(), normalize_text(b))
    put("subject_name", first.name, normalize_text(first.name))
    put("subject_name_kana", first.kana, normalize_kana(first.kana))
    put("birth_date", ctx.format_date(q.birth), q.birth.isoformat())
    none = first.no_account
    put("no_account", "1" if none else "0", "1" if none else "0")
    for n in range(1, 4):
        r = replies[n - 1] if not none and n <= len(replies) else None
        put(f"account_type_{n}", r.account_type if r else "", r.account_type if r else "")
        put(f"account_number_{n}", r.account_number if r else "",
            r.account_number if r else "")
        put(f"balance_{n}", ctx.format_amount(r.balance) if r else "", str(r.balance) if r else "")
    d = None if none else first.balance_date
    put("balance_date", ctx.format_date(d) if d else "", d.isoformat() if d else "")
    image = render_sample(t, SampleDocument(t.id, truth, printed), rng, degrade=degrade)
    write_pages(path, [image], "tiff")
    write_truth(path.with_suffix(".json"), {"form": t.id, "fields": truth, "printed": printed,
                                            "degrade": degrade, "dpi": image[1]})
    return truth


def _branch_name(bank: str, branch: str) -> str:
    from zengin_code import Bank

    return Bank.all[bank].branches[branch].name


def write_world(world: World, out: Path, *, degrade: int = 1) -> list[Path]:
    """Write ``world`` under ``out`` (see the module docstring); returns the files."""
    rng = np.random.default_rng([world.seed, 602])
    data, inbox = out / "data" / "deposit_inquiry", out / "inbox" / "deposit_inquiry"
    inbox.mkdir(parents=True, exist_ok=True)
    files = _write_ledger(data, world.inquiries)
    paper_truth: dict[str, dict[str, str]] = {}
    for n, q in enumerate(q for q in world.inquiries if q.paper):
        mine = [r for r in world.replies if r.inquiry is q and r.channel == "paper"][:3]
        path = inbox / f"deposit_reply-s{world.seed}-{n:04d}.tif"
        paper_truth[path.name] = _paper(path, q, mine, rng, world.today, degrade)
        for k, r in enumerate(mine, start=1):
            r.file, r.locator = path.name, "1ページ" + ("" if r.no_account else f" {k}口座目")
        files.append(path)
    for channel, (stem, encoding, header) in _FILES.items():
        for resent in (False, True):
            rows = [r for r in world.replies if r.channel == channel
                    and ("duplicate" in r.noise) == resent]
            for b in range(0, len(rows), ROWS_PER_FILE):
                batch = rows[b:b + ROWS_PER_FILE]
                part = b // ROWS_PER_FILE
                name = (f"{stem}_{part + 1:02d}.csv" if not resent else f"{stem}_resent.csv"
                        if part == 0 else f"{stem}_resent_{part:02d}.csv")
                lines: list[list[str]] = []
                for r in batch:
                    r.file, r.locator = name, f"{len(lines) + 2}行目"
                    lines += (_detail_rows(r, rng) if channel == "reply_service_detail"
                              else [_ROWS[channel](r, rng)])
                write_csv(inbox / name, header, lines, encoding=encoding,
                          formula_escape=False)  # as the bank writes it
                files.append(inbox / name)
    truth = {
        "seed": world.seed, "today": world.today.isoformat(),
        "inquiries": {q.number: {"status": q.expected, "fate": q.fate, "kind": q.kind,
                                 "paper": q.paper, "bank": q.bank.bank_code}
                      for q in world.inquiries},
        "replies": [{"file": r.file, "locator": r.locator, "status": r.expected,
                     "inquiry": r.inquiry.number if r.inquiry else None, "noise": r.noise,
                     "paper": r.channel == "paper"} for r in world.replies],
        "paper_fields": paper_truth,
    }
    (data / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n",
                                     encoding="utf-8")
    return [*files, data / "truth.json"]


def write_sample_set(out: Path, *, count: int, seed: int, today: dt.date, paper: int = 2,
                     strict: bool = True, degrade: int = 1) -> list[Path]:
    """Draw and write a sample set (``rpa samples scenario deposit_inquiry``)."""
    return write_world(build_world(count, seed, today=today, paper=paper, strict=strict),
                       Path(out), degrade=degrade)
