"""Proposals from the town's resident register: the resident a form is about, found by keys.

Most handwritten forms come from residents the town already knows. The register extract
(住民基本台帳の抽出: 宛名番号, 世帯番号, 氏名, 氏名カナ, 生年月日, 性別, 郵便番号, 住所, 方書)
is read through a mapping file (:mod:`robots.kit.tables`, kind ``residents``); a form's
``match`` fields find the resident, its ``propose = "resident.*"`` fields are filled from
them and marked ``proposed`` (source 住民記録), so a reviewer confirms instead of keying:

- a number (宛名番号 / 納付者番号) finds the resident by itself; otherwise every attribute
  key the form declares (birth date, postal code) must have been read, and all must agree.
  A key read but flagged is still used, and the proposal says so (照合に使った…が要確認):
  the reviewer confirms every proposal anyway, and the crop of a name shows a wrong person
  at a glance;
- one resident: each field gets its value. Several (twins, a household, two people born the
  same day in one postal area): every one is listed to pick from, nothing is chosen — a
  value they all share (the household's address) is still proposed. None: not an error,
  the words are keyed (and the reviewer is told the register had no one);
- the address comes from the register only when the resident's postal code is the one
  written on the form (a resident who moved wrote the old one): otherwise the area of the
  form's own postal code (:mod:`ocr.propose`) stays;
- the holder kana of an account is the resident's kana in Zengin style (small kana large).

The register is personal data: it is read in the parent process only, never logged, never
copied anywhere but into the proposed values of the documents it matches. A register that
is missing, unreadable or older than ``[reference] max_age_days`` is a warning (log and run
log event), and the run goes on without resident proposals.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ocr.japanese import normalize_kana, normalize_postal, normalize_text, parse_date, zengin_kana
from ocr.propose import apply_proposal, may_propose
from ocr.reasons import reason
from ocr.results import FieldResult
from ocr.templates import FormTemplate
from robots.config import Config
from robots.kit.tables import (
    Layout,
    LayoutNotRecognised,
    MappingError,
    SourceError,
    TableSchema,
    load_layouts,
    newest_export,
    read_table,
)
from robots.records import DocumentRecord

__all__ = [
    "PACKAGED_MAPPINGS",
    "RESIDENTS",
    "SOURCE_RESIDENTS",
    "Match",
    "RegisterLoad",
    "Resident",
    "ResidentRegister",
    "any_resident_proposals",
    "check_reference",
    "load_register",
    "propose_residents",
    "register_layouts",
]

log = logging.getLogger(__name__)

PACKAGED_MAPPINGS = Path(__file__).parent / "mappings"
RESIDENTS = TableSchema(
    "residents",
    ("resident_number", "household_number", "name", "kana", "birth_date", "sex",
     "postal_code", "address", "address_extra", "payer_number"),
    ("resident_number", "name", "kana", "birth_date", "postal_code", "address"),
    "住民記録の抽出データ")
SOURCE_RESIDENTS = "住民記録"
_IDS = {"resident_number": "宛名番号", "payer_number": "納付者番号"}
_ATTRIBUTES = {"birth_date": "生年月日", "postal_code": "郵便番号"}
_KEY = "reference.resident_register"


@dataclass(frozen=True, slots=True)
class Resident:
    """One row of the register, normalised as the form's values are (ISO dates, NNN-NNNN)."""

    resident_number: str
    household_number: str
    name: str
    kana: str
    birth_date: str
    sex: str
    postal_code: str
    address: str
    address_extra: str
    payer_number: str

    def key(self, name: str) -> str:
        return str(getattr(self, name))

    @property
    def full_address(self) -> str:
        """住所 and 方書 as one value (how the form's single address field holds them)."""
        return normalize_text(f"{self.address} {self.address_extra}".strip())


def _digits(raw: str) -> str:
    return "".join(ch for ch in normalize_text(raw) if ch.isdigit())


def _resident(values: Mapping[str, str]) -> Resident | None:
    """A row as a :class:`Resident`, or None when its birth date or postal code is unreadable."""
    born = parse_date(values.get("birth_date", ""))
    postal = normalize_postal(values.get("postal_code", ""))
    if born is None or postal is None:
        return None
    return Resident(
        _digits(values.get("resident_number", "")), _digits(values.get("household_number", "")),
        normalize_text(values.get("name", "")).replace(" ", ""),
        normalize_kana(values.get("kana", "")), born.isoformat(),
        normalize_text(values.get("sex", "")), postal, normalize_text(values.get("address", "")),
        normalize_text(values.get("address_extra", "")), _digits(values.get("payer_number", "")))


@dataclass(frozen=True)
class Match:
    """The residents a form's keys found, how (for the reviewer), and what disagreed.

    ``searched`` is False when the form's keys were not read well enough to search at all.
    """

    residents: tuple[Resident, ...]
    how_ja: str = ""
    searched: bool = True


class ResidentRegister:
    """The register extract in memory, indexed by every key a form may match on."""

    def __init__(self, residents: Sequence[Resident], *, source: str = "",
                 exported: datetime | None = None, unreadable_rows: int = 0) -> None:
        self.residents = tuple(residents)
        self.source = source
        self.exported = exported
        self.unreadable_rows = unreadable_rows
        self._index: dict[str, dict[str, list[Resident]]] = {}
        for r in self.residents:
            for k in (*_IDS, *_ATTRIBUTES):
                v = r.key(k)
                if v:
                    self._index.setdefault(k, {}).setdefault(v, []).append(r)

    def __len__(self) -> int:
        return len(self.residents)

    def _by_attributes(self, keys: Mapping[str, str], attrs: Sequence[str]
                       ) -> tuple[Resident, ...]:
        hits: dict[int, Resident] | None = None
        for a in attrs:
            found = {id(r): r for r in self._index.get(a, {}).get(keys[a], [])}
            hits = found if hits is None else {i: r for i, r in hits.items() if i in found}
        return tuple((hits or {}).values())

    def find(self, keys: Mapping[str, str], declared: Sequence[str]) -> Match:
        """The residents ``keys`` (register field → the form's value) find.

        ``declared`` are the keys the form has (read or not). A number is tried first; the
        attributes (every declared one must have been read) otherwise, or when they
        contradict the number's resident: then whoever they find is listed beside them.
        """
        attrs = [a for a in _ATTRIBUTES if a in declared]
        readable = bool(attrs) and all(keys.get(a) for a in attrs)
        named = "と".join(_ATTRIBUTES[a] for a in attrs)
        for k, label in _IDS.items():
            hits = tuple(self._index.get(k, {}).get(keys[k], [])) if keys.get(k) else ()
            if not hits:
                continue
            differ = [_ATTRIBUTES[a] for a in _ATTRIBUTES
                      if keys.get(a) and any(h.key(a) != keys[a] for h in hits)]
            others = [r for r in self._by_attributes(keys, attrs) if r not in hits] \
                if differ and readable else []
            if others:  # the number says one person, birth date and postal code another
                return Match((*hits, *others), f"{label}と{named}で別の人")
            note = f"{label}で一致" + (f"（{'・'.join(differ)}が異なる）" if differ else "")
            return Match(hits, note)
        if not readable:
            return Match((), searched=any(keys.get(k) for k in _IDS))
        return Match(self._by_attributes(keys, attrs), f"{named}で一致")


@dataclass
class RegisterLoad:
    """A register, or why there is none; ``warnings`` are (event code, English, Japanese)."""

    register: ResidentRegister | None
    warnings: list[tuple[str, str, str]] = field(default_factory=list)


def register_layouts(config: Config) -> tuple[Layout, ...]:
    """The packaged layouts of the extract, then the town's own (raises ``MappingError``)."""
    dirs = (PACKAGED_MAPPINGS, *(config.resolve(d) for d in config.reference.mappings_dirs))
    return load_layouts(dirs, (RESIDENTS,))


def check_reference(config: Config) -> list[str]:
    """``[reference]`` problems that stop a run before any file moves: its mapping files.

    A missing or stale extract is not one of them (see :func:`load_register`).
    """
    try:
        register_layouts(config)
    except MappingError as exc:
        return [f"reference.mappings_dirs: {exc.path}: {p}" for p in exc.problems]
    return []


def load_register(config: Config, *, today: date | None = None) -> RegisterLoad:
    """Read the configured extract; a missing, unreadable or stale one gives a warning."""
    ref = config.reference
    if ref.resident_register is None:  # the town chose not to: nothing to warn about
        log.info("no resident register configured ([reference]): no resident proposals")
        return RegisterLoad(None)
    t0 = time.perf_counter()
    try:
        path = newest_export(config, _KEY, ref.resident_register, what="resident register")
        table = read_table(path, register_layouts(config), ("residents",),
                           what_ja=RESIDENTS.title_ja)
    except SourceError as exc:
        return RegisterLoad(None, [("reference_register_missing", exc.problem,
                                    "住民記録の抽出データが見つからないため、住民記録からの提案は"
                                    "ありません（設定 reference.resident_register を確認）")])
    except (LayoutNotRecognised, OSError, ValueError, KeyError) as exc:
        why = getattr(exc, "reason_ja", "ファイルを読み込めません")
        return RegisterLoad(None, [("reference_register_unreadable",
                                    f"{_KEY}: cannot read the extract ({type(exc).__name__})",
                                    f"住民記録の抽出データを読めないため、住民記録からの提案は"
                                    f"ありません。{why}")])
    residents = [r for _, values in table.rows if (r := _resident(values)) is not None]
    exported = datetime.fromtimestamp(path.stat().st_mtime)
    register = ResidentRegister(residents, source=table.layout.id, exported=exported,
                                unreadable_rows=len(table.rows) - len(residents))
    warnings = []
    if register.unreadable_rows:
        warnings.append(("reference_register_rows", f"{register.unreadable_rows} row(s) of the "
                         "extract have no readable birth date or postal code and are not used",
                         f"住民記録の抽出データの {register.unreadable_rows} 行は生年月日か郵便番号"
                         "が読めないため照合に使いません"))
    age = ((today or date.today()) - exported.date()).days
    if age > ref.max_age_days:
        warnings.append(("reference_register_stale",
                         f"resident register extract is {age} days old (max_age_days "
                         f"{ref.max_age_days})",
                         f"住民記録の抽出データが古くなっています（{age}日前。"
                         f"{ref.max_age_days}日以内のものに更新してください）"))
    log.info("resident register: %d residents (layout %s) read in %.2f s", len(register),
             table.layout.id, time.perf_counter() - t0)
    return RegisterLoad(register, warnings)


def _proposes_residents(template: FormTemplate) -> bool:
    return any(p.startswith("resident.") for f in template.fields for p in f.propose)


def _value(resident: Resident, item: str) -> str:
    if item == "resident.name":
        return resident.name
    if item == "resident.kana":
        return resident.kana
    if item == "resident.holder_kana":
        return zengin_kana(resident.kana)
    return resident.full_address


def _propose_one(template: FormTemplate, fields: dict[str, FieldResult],
                 register: ResidentRegister) -> str:
    """Resident proposals on one document; returns how many residents were found (0/1/n)."""
    keys, declared, doubtful = {}, [], []
    for f in template.fields:
        if f.match:
            k = f.match.removeprefix("resident.")
            declared.append(k)
            r = fields.get(f.name)
            if r is not None and r.value:
                keys[k] = _digits(r.value) if k in _IDS else r.value
                if r.flagged:
                    doubtful.append(f.column)
    match = register.find(keys, declared)
    found = match.residents
    doubt = f"・照合に使った{'・'.join(doubtful)}が要確認" if doubtful else ""
    form_postal = keys.get("postal_code", "")
    for f in template.fields:
        r = fields.get(f.name)
        item = next((p for p in f.propose if p.startswith("resident.")), None)
        if r is None or item is None or not may_propose(f, r, item):
            continue
        if not found:
            if not r.value and [x.code for x in r.reasons] == ["manual_keying"]:
                r.reasons = [reason("manual_keying", "住民記録に該当なし" if match.searched
                                    else "照合する項目が読めず住民記録は未照合")]
            continue
        if item == "resident.address" and form_postal and any(p.postal_code != form_postal
                                                                for p in found):
            continue  # moved, or another postal area: the form's own postal area stays
        values = list(dict.fromkeys(_value(p, item) for p in found))
        if len(values) == 1:
            apply_proposal(r, values[0], item, SOURCE_RESIDENTS, note_ja=match.how_ja + doubt)
        else:
            apply_proposal(r, "", item, SOURCE_RESIDENTS, candidates=values,
                           note_ja=f"{match.how_ja}・候補{len(found)}人から選択{doubt}")
    return "none" if not found else ("one" if len(found) == 1 else "several")


def propose_residents(records: Sequence[DocumentRecord], templates: Mapping[str, FormTemplate],
                      register: ResidentRegister) -> Counter[str]:
    """Apply the register to every document whose form proposes from residents (in place).

    Returns the counts of documents by what the register gave: ``one`` resident,
    ``several``, ``none``.
    """
    counts: Counter[str] = Counter()
    for rec in records:
        t = templates.get(rec.form_id)
        if t is None or not _proposes_residents(t):
            continue
        counts[_propose_one(t, {f.name: f for f in rec.fields}, register)] += 1
    return counts


def any_resident_proposals(templates: Mapping[str, FormTemplate]) -> bool:
    """True when a form of the run proposes from the register (only then is it read)."""
    return any(_proposes_residents(t) for t in templates.values())
