"""CSV for the town's core systems, in the encoding they require.

Many Japanese core systems still import only CP932 (Windows-31J, not plain Shift_JIS: 髙, Ⅲ
and ㎝ exist only in CP932). A character that cannot be encoded is written as 〓 (geta, the
customary mark for a missing glyph) *and* reported with its document and field, so that
nobody imports a damaged name without knowing.

A value that a spreadsheet would take for a formula (``=HYPERLINK(...)``, ``+A1*2``, ``@SUM``,
see :func:`robots.sheets.common.looks_like_formula`) is written with a leading ``'`` (the
OWASP convention), so opening the CSV in Excel shows the text instead of running it. A core
system that must receive the raw value sets ``[csv] formula_escape = "none"``.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from robots.sheets.common import looks_like_formula

__all__ = ["GETA", "EncodingProblem", "write_csv"]

log = logging.getLogger(__name__)

GETA = "〓"


@dataclass(frozen=True, slots=True)
class EncodingProblem:
    """A value that lost characters in the CSV; names the place, never the value."""

    row_key: str  # e.g. the document id
    column: str
    characters: str  # the characters that could not be encoded (e.g. "𠮷")


def _encodable(value: str, encoding: str) -> tuple[str, str]:
    """(value as it can be written, the characters that could not be)."""
    if encoding.startswith("utf"):
        return value, ""
    bad = "".join(ch for ch in value if not _can_encode(ch, encoding))
    if not bad:
        return value, ""
    return "".join(GETA if ch in bad else ch for ch in value), bad


def _can_encode(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], *,
              encoding: str = "utf-8-sig", newline: str = "crlf", key_column: int = 0,
              formula_escape: bool = True) -> list[EncodingProblem]:
    """Write a CSV atomically (temp file, then rename; owner-only) and report lost characters.

    ``formula_escape`` prefixes a value that looks like a formula with ``'``; off only for a
    target that must receive raw values (and for samples of other systems' exports).
    """
    problems: list[EncodingProblem] = []
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if newline == "crlf" else "\n")
    writer.writerow(header)
    for row in rows:
        out = []
        for i, value in enumerate(row):
            text, bad = _encodable("" if value is None else str(value), encoding)
            if bad:
                problems.append(EncodingProblem(str(row[key_column]), header[i], bad))
            if formula_escape and looks_like_formula(text):
                text = "'" + text
            out.append(text)
        writer.writerow(out)
    data = buf.getvalue().encode(encoding)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    if problems:
        log.warning("%s: %d value(s) with characters %s cannot hold", path.name, len(problems),
                    encoding)
    return problems
