"""Company names as the law reads them: the legal form *and its place* are part of the name.

A company's name (商号) includes the words of its legal form (会社法第6条第2項), and where they
stand is part of it: 株式会社山田建設 (前株) and 山田建設株式会社 (後株) are two different names,
often two different companies (the national corporate-number data has such pairs). So a name
is compared as (legal form, its place — before or after —, the rest):

- the legal form however it is written: in full, bracketed (株) ㈱ （株）, in katakana
  (カブシキガイシャ), or as the Zengin abbreviation at the start (カ)…) or the end (…(カ));
- 事業協同組合, 協同組合, 医療法人社団, 医療法人財団 and 医療法人 are different forms (the
  abbreviation (医) is 医療法人 only): a different form is a different name;
- widths, spaces and case are ignored, and old kanji forms are folded by the vetted table of
  :mod:`robots.kit.kanji` (株式會社 = 株式会社, 髙 = 高), never by a general variant list.

A name never *identifies* a vendor by similarity: :func:`reading_variant` only says that two
names of the same form and place are close enough to be one name misread (an OCR'd 山田建設
read 山田建没), for a person to confirm when a corporate number already says who it is.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from rapidfuzz import fuzz

from ocr.japanese import nfkc
from robots.kit.kanji import new_form

__all__ = ["LEGAL_FORMS", "CompanyName", "company_key", "company_name", "reading_variant",
           "same_company"]

_SPACE = re.compile(r"\s+")
#: Legal-form words as written in names (after NFKC: ㈱ and （株） become (株)) → the form.
LEGAL_FORMS: dict[str, str] = {
    **dict.fromkeys(("株式会社", "(株)", "カブシキガイシャ", "カブシキカイシャ"), "株式会社"),
    **dict.fromkeys(("有限会社", "(有)", "ユウゲンガイシャ", "ユウゲンカイシャ"), "有限会社"),
    **dict.fromkeys(("合同会社", "(同)", "ゴウドウガイシャ", "ゴウドウカイシャ"), "合同会社"),
    **dict.fromkeys(("合資会社", "(資)", "ゴウシガイシャ", "ゴウシカイシャ"), "合資会社"),
    **dict.fromkeys(("合名会社", "(名)", "ゴウメイガイシャ", "ゴウメイカイシャ"), "合名会社"),
    **dict.fromkeys(("一般社団法人", "(一社)"), "一般社団法人"),
    **dict.fromkeys(("一般財団法人", "(一財)"), "一般財団法人"),
    **dict.fromkeys(("公益社団法人", "(公社)"), "公益社団法人"),
    **dict.fromkeys(("公益財団法人", "(公財)"), "公益財団法人"),
    **dict.fromkeys(("特定非営利活動法人", "NPO法人", "(特非)"), "特定非営利活動法人"),
    **dict.fromkeys(("社会福祉法人", "(福)"), "社会福祉法人"),
    "社会医療法人": "社会医療法人",
    "医療法人社団": "医療法人社団",
    "医療法人財団": "医療法人財団",
    **dict.fromkeys(("医療法人", "(医)"), "医療法人"),
    **dict.fromkeys(("学校法人", "(学)"), "学校法人"),
    "事業協同組合": "事業協同組合",
    "協同組合": "協同組合",
    "企業組合": "企業組合",
    "有限責任事業組合": "有限責任事業組合",
}  # fmt: skip
#: Zengin's abbreviations of the forms (カ) at the start = 前, (カ at the end = 後).
_ZENGIN = {"カ": "株式会社", "ユ": "有限会社", "ド": "合同会社", "シ": "合資会社",
           "メ": "合名会社", "イ": "医療法人", "フク": "社会福祉法人", "ガク": "学校法人",
           "トクヒ": "特定非営利活動法人"}
_ALT = "|".join(_ZENGIN)
_FORM_WORDS = re.compile(
    "|".join(re.escape(w) for w in sorted(LEGAL_FORMS, key=len, reverse=True))
    + rf"|^(?:{_ALT})\)|\((?:{_ALT})\)?$")


class CompanyName(NamedTuple):
    """A name as compared: the rest of the name, and each legal form with its place."""

    core: str
    forms: tuple[tuple[str, str], ...]  # (legal form, "前" | "後")

    def form_ja(self) -> str:
        """``株式会社（前）`` — the forms as people read them (``法人格なし`` when none)."""
        return "・".join(f"{f}（{p}）" for f, p in self.forms) or "法人格なし"


@functools.lru_cache(maxsize=65536)
def company_name(name: str) -> CompanyName:
    """The :class:`CompanyName` of ``name`` (see the module docstring).

    ``株式会社 山田建設``, ``(株)山田建設`` and ``㈱山田建設`` give ``("山田建設", (("株式会社",
    "前"),))``; ``山田建設㈱`` gives the same core with ``"後"``.
    """
    s = new_form(_SPACE.sub("", nfkc(name or "")).upper())
    forms: list[tuple[str, str]] = []

    def fold(m: re.Match[str]) -> str:
        word = m.group(0)
        form = LEGAL_FORMS.get(word) or _ZENGIN[word.strip("()")]
        forms.append((form, "前" if m.start() == 0 else "後"))
        return ""

    core = _FORM_WORDS.sub(fold, s)
    return CompanyName(core, tuple(sorted(set(forms))))


def company_key(name: str) -> str:
    """A hashable key: equal exactly when :func:`same_company` says the names are one name."""
    core, forms = company_name(name)
    return f"{core}|{'+'.join(f'{f}@{p}' for f, p in forms)}"


def same_company(a: str, b: str) -> bool:
    """Whether two company names are the same name (form and place, widths, old kanji forms)."""
    ca, cb = company_name(a), company_name(b)
    return bool(ca.core) and ca == cb


def reading_variant(a: str, b: str, min_similarity: float) -> float | None:
    """The similarity (0–100) of two *different* names that may be one name misread, else None.

    Only names of the same legal forms in the same places qualify, whose cores (two
    characters or more) score at least ``min_similarity`` (rapidfuzz ratio). Never use this
    to decide who a vendor is: 山田建設 and 山本建設 score as high as a misreading does.
    """
    ca, cb = company_name(a), company_name(b)
    if ca == cb or ca.forms != cb.forms or min(len(ca.core), len(cb.core)) < 2:
        return None
    score = float(fuzz.ratio(ca.core, cb.core))
    return score if score >= min_similarity else None
