"""A clerk's verdict on each finding (妥当 / 誤検知), read back from the findings workbook.

Every rule sheet of 契約チェック結果 has a 判定 column (a list: 妥当 or 誤検知) and a column
for the reason; the clerk writes there and saves the workbook where it is. The next run reads
the verdicts of every saved findings workbook (once per version of the file, like the
deposit-inquiry decisions), keeps them in the scenario's state by finding id — the rule and
the contract number (and, for a duplicated number, the row) — and writes them back into the
new workbook, so a judged finding stays judged. The counts (judged valid, false, open; per
rule) go to the run log as the event ``contracts_verdicts``: numbers only. They are what an
evaluation of this scenario counts as its precision as the clerks see it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ocr.japanese import normalize_text
from robots.kit.state import read_new_outputs
from scenarios.contracts.checks import Finding
from scenarios.contracts.rules import RULES
from scenarios.contracts.store import ContractStore

__all__ = ["FALSE", "ID_HEADER", "NOTE_HEADER", "VALID", "VERDICT_HEADER", "finding_id",
           "read_verdicts", "take_verdicts", "verdict_counts"]

log = logging.getLogger(__name__)

VALID, FALSE = "妥当", "誤検知"
VERDICT_HEADER = "判定（妥当／誤検知）"
NOTE_HEADER = "判定の理由・備考"
ID_HEADER = "指摘ID"


def finding_id(f: Finding) -> str:
    """Stable across runs while the register says the same (see the module docstring)."""
    c = f.contract
    tail = f":{c.line}" if f.rule == "duplicate_number" else ""
    return f"{f.rule}:{c.key or c.number}{tail}"


def read_verdicts(path: Path) -> dict[str, tuple[str, str]]:
    """指摘ID → (verdict, note) from one saved findings workbook (rule sheets only)."""
    from openpyxl import load_workbook

    titles = {r.title for r in RULES.values()}
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        out: dict[str, tuple[str, str]] = {}
        for name in wb.sheetnames:
            if name not in titles:
                continue
            rows: Iterable[tuple[Any, ...]] = wb[name].iter_rows(values_only=True)
            it = iter(rows)
            next(it, None)  # the sheet's title line
            header = [normalize_text(str(h or "")) for h in next(it, ())]
            try:
                c_id, c_v, c_n = (header.index(normalize_text(h))
                                  for h in (ID_HEADER, VERDICT_HEADER, NOTE_HEADER))
            except ValueError:
                continue
            for row in it:
                cells = [normalize_text(str(v)) if v is not None else "" for v in row]
                if len(cells) > max(c_id, c_v, c_n) and cells[c_id] and cells[c_v] in (VALID,
                                                                                       FALSE):
                    out[cells[c_id]] = (cells[c_v], cells[c_n])
        return out
    finally:
        wb.close()


def take_verdicts(store: ContractStore, out_root: Path, workbook_name: str) -> Counter[str]:
    """Store the verdicts of saved findings workbooks not read in this version.

    Returns the verdicts new or changed in this run, by kind (``valid`` / ``false``; a
    workbook shows the verdicts known when it was written: reading them again changes nothing).
    """
    n: Counter[str] = Counter()
    known = store.verdicts()
    for path, verdicts in read_new_outputs(store, out_root, f"{workbook_name}_*.xlsx",
                                           read_verdicts):
        for fid, (verdict, note) in verdicts.items():
            if known.get(fid) != (verdict, note):
                store.upsert_verdict(fid, verdict, note, f"{path.parent.name}/{path.name}")
                known[fid] = (verdict, note)
                n[{VALID: "valid", FALSE: "false"}.get(verdict, "open")] += 1
    return n


def verdict_counts(findings: Sequence[Finding], verdicts: Mapping[str, tuple[str, str]]
                   ) -> str:
    """The run-log message: this run's findings judged valid / false / open, per rule."""
    per: dict[str, Counter[str]] = {r: Counter() for r in RULES}
    for f in findings:
        v = verdicts.get(finding_id(f), ("", ""))[0]
        per[f.rule][{VALID: "valid", FALSE: "false"}.get(v, "open")] += 1
    total = sum(per.values(), Counter())
    detail = ", ".join(f"{r}={c['valid']}/{c['false']}/{c['open']}" for r, c in per.items()
                       if sum(c.values()))
    return (f"findings judged by clerks: valid {total['valid']}, false positive "
            f"{total['false']}, open {total['open']} (per rule valid/false/open: "
            f"{detail or 'none'})")
