"""Character sets of the core systems, strictly: a character that cannot be written is refused.

Two Shift_JIS flavours matter in a town hall:

- ``cp932`` (Windows-31J): JIS X 0208 plus the NEC special characters (row 13: ①, Ⅲ, ㎝), the
  NEC-selected IBM extensions (rows 89–92: 髙 0xEEE0, 﨑 0xED95) and the IBM extensions
  (0xFA40–0xFC4B). What Windows programs write.
- ``jis0208``: the same byte encoding restricted to JIS X 0201 and JIS X 0208, as older core
  systems and mainframe bridges know it. A character is allowed when its cp932 bytes are a
  JIS X 0208 code: CPython's ``shift_jis`` codec (JIS X 0208 tables) decodes them. So ～ and
  − (Windows' spellings of JIS X 0208 characters) are written as 0x8160 / 0x817C, while 髙,
  﨑 and ① are refused.

``utf-8`` and ``utf-8-sig`` hold every character (a fixed-length UTF-8 record counts bytes
too: a 3-byte character is never split).

A character outside the set is never replaced silently (no 〓, no ``?``): it is reported with
its row and field and the row is held back, unless the town's **substitution table** says
what to write — another character (髙 → 高) or a code of the target's own 外字 area (𠮷 →
0xF040) — and who decided it. Every substitution used is logged with the hand-off.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "CHARSETS",
    "Charset",
    "Encoded",
    "Substitution",
    "SubstitutionError",
    "Substitutions",
    "can_write",
    "encode",
    "load_substitutions",
]

Charset = Literal["cp932", "jis0208", "utf-8", "utf-8-sig"]
CHARSETS: tuple[str, ...] = ("cp932", "jis0208", "utf-8", "utf-8-sig")


@functools.lru_cache(maxsize=65536)
def _bytes_of(ch: str, charset: str) -> bytes | None:
    """The bytes of one character in ``charset``, or None when the set does not hold it."""
    if charset.startswith("utf-8"):
        return ch.encode("utf-8")
    try:
        b = ch.encode("cp932")
    except UnicodeEncodeError:
        return None
    if charset == "jis0208":
        try:
            b.decode("shift_jis")  # JIS X 0201 + JIS X 0208 only: extensions do not decode
        except UnicodeDecodeError:
            return None
    return b


def can_write(ch: str, charset: str) -> bool:
    """Whether ``charset`` holds the character ``ch`` (without substitution)."""
    return _bytes_of(ch, charset) is not None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Substitution(_Model):
    """One decision of the town: write ``char`` as ``text`` or as the raw ``code`` (hex bytes)."""

    char: str = Field(min_length=1, max_length=1)
    text: str | None = None  # e.g. 高 for 髙
    code: str | None = Field(default=None, pattern=r"^(?:[0-9A-Fa-f]{2})+$")  # e.g. F040
    targets: tuple[str, ...] = ()  # only for these target systems; empty = every target
    decided_by: str = Field(min_length=1)  # who decided (a person or a section)
    decided_on: date
    note: str = ""

    @model_validator(mode="after")
    def _one_way(self) -> Substitution:
        if (self.text is None) == (self.code is None):
            raise ValueError("give either text (a character to write instead) or code (hex "
                             "bytes of the target's 外字 area), not both")
        return self

    def applies_to(self, target: str) -> bool:
        return not self.targets or target in self.targets


class _SubstitutionFile(_Model):
    substitute: tuple[Substitution, ...] = ()


class SubstitutionError(Exception):
    """A substitution table is malformed; names the file and every problem."""

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"invalid substitution table {self.path}: " + "; ".join(problems))


@dataclass(frozen=True)
class Substitutions:
    """The town's substitution tables, merged (a character decided twice is an error)."""

    entries: tuple[tuple[Substitution, str], ...] = ()  # (entry, file it came from)

    def find(self, ch: str, target: str) -> Substitution | None:
        return next((s for s, _ in self.entries if s.char == ch and s.applies_to(target)), None)


def load_substitutions(paths: tuple[Path, ...]) -> Substitutions:
    """Read the substitution tables; a malformed one raises :class:`SubstitutionError`."""
    entries: list[tuple[Substitution, str]] = []
    for path in paths:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            table = _SubstitutionFile.model_validate(data)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SubstitutionError(path, [f"cannot read: {exc}"]) from None
        except ValidationError as exc:
            raise SubstitutionError(path, [
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()]) from None
        problems = []
        for i, s in enumerate(table.substitute):
            twin = next((f for t, f in entries if t.char == s.char
                         and set(t.targets or {"*"}) & set(s.targets or {"*"})), None)
            if twin is not None:
                problems.append(f"substitute.{i}: {s.char} is decided in {twin} already")
            entries.append((s, str(path)))
        if problems:
            raise SubstitutionError(path, problems)
    return Substitutions(tuple(entries))


@dataclass(frozen=True, slots=True)
class Encoded:
    """A value in the target's bytes, one piece per character (so a record never splits one)."""

    pieces: tuple[bytes, ...]
    refused: str  # the characters the set does not hold and no substitution covers
    substituted: tuple[Substitution, ...]  # the substitutions used

    @property
    def data(self) -> bytes:
        return b"".join(self.pieces)


def encode(text: str, charset: str, *, target: str = "",
           substitutions: Substitutions | None = None) -> Encoded:
    """``text`` in ``charset``; refused characters are left out of ``pieces`` and named."""
    pieces: list[bytes] = []
    refused: list[str] = []
    used: list[Substitution] = []
    for ch in text:
        sub = substitutions.find(ch, target) if substitutions else None
        if sub is not None:
            if sub.code is not None:
                pieces.append(bytes.fromhex(sub.code))
                used.append(sub)
                continue
            inner = encode(sub.text or "", charset)  # a substitute must be writable itself
            if not inner.refused:
                pieces.extend(inner.pieces)
                used.append(sub)
                continue
        b = _bytes_of(ch, charset)
        if b is None:
            if ch not in refused:
                refused.append(ch)
            continue
        pieces.append(b)
    return Encoded(tuple(pieces), "".join(refused), tuple(used))
