"""Spreadsheets and CSV: the run's review workbook for staff, written and read back.

The room also holds ``rpa corrections import`` (:mod:`.corrections`), the staff's data CSVs
(:mod:`.csvout`, :mod:`.outputs`), the hand-off of confirmed data to the core systems in
their export layouts (:mod:`.handoff`), personal numbers masked and sealed
(:mod:`.personal`) and the plain result tables of the reconciling scenarios
(:mod:`.results`). It may import configuration, the run log, the export layouts and the
records;
this module is the public face of the review workbook (:mod:`.write`, :mod:`.read`,
:mod:`.review`, :mod:`.answers`, :mod:`.common`); :mod:`.confirmed` writes what an import
confirms.

One ``.xlsx`` per run (Japanese for people, English identifiers for tools):

- ``確認シート`` (first, active): one row per flagged field with the scanned crop, what OCR
  read, its confidence and the reasons; the reviewer types into 修正後の値 / 確認済 / 備考
  and the review-time cells, everything else is locked (protection without password: it
  prevents accidents, it is not security — the reader re-checks locked cells itself).
- one data sheet per form present: 文書ID, 元ファイル, ページ, 状態 and one column per field
  in template order, headed by its Japanese label (a repeated label gets the label of the
  field before it). Dates are real dates (yyyy/mm/dd), amounts integers (#,##0), digit-like
  values text (leading zeros kept). Flagged cells are light yellow. A reviewer may also
  correct a value here directly.
- ``_meta`` (very hidden, protected): what was written, signed with HMAC-SHA256 by the run's
  secret, so a workbook of another run is refused and every change is found.

Cell conventions a clerk sees and the reader maps back:

=============  ==========================  ============================================
type           data sheet                  修正後の値 on 確認シート
=============  ==========================  ============================================
checkbox       ``✓`` marked, empty = not   list ``✓`` / ``なし``
choice         the option label            list of option labels + ``空欄``
text+allowed   the value                   list of allowed values + ``空欄``
date           date cell yyyy/mm/dd        date (warning only: 和暦 text still accepted)
=============  ==========================  ============================================

``空欄`` typed anywhere means "this field is empty"; an empty 修正後の値 means "keep the OCR
value". The reader also accepts ✔ レ ○ あり 1 (marked) and なし 0 × (not marked).
"""

from __future__ import annotations

from robots.sheets.common import (
    CHECK_MARK,
    CHECK_NONE,
    CLEAR_TOKEN,
    DONE_MARK,
    META_SHEET,
    REVIEW_SHEET,
    Correction,
    ForeignWorkbookError,
    ReviewedWorkbook,
    WorkbookEditedError,
    WorkbookSummary,
)
from robots.sheets.read import read_workbook
from robots.sheets.write import write_workbook

__all__ = [
    "CHECK_MARK",
    "CHECK_NONE",
    "CLEAR_TOKEN",
    "DONE_MARK",
    "META_SHEET",
    "REVIEW_SHEET",
    "Correction",
    "ForeignWorkbookError",
    "ReviewedWorkbook",
    "WorkbookEditedError",
    "WorkbookSummary",
    "read_workbook",
    "write_workbook",
]
