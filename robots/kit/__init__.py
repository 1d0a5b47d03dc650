"""What scenarios are built from: reading scans, other systems' tables, linking, state.

- :mod:`.scans` — the OCR step every scan-based scenario shares (files → document records,
  then the review workbook and CSVs);
- :mod:`.tables` — tables from other systems read (and written) through mapping files;
- :mod:`.tabular` — the base of scenarios that take data files *and* paper scans of the same
  information (deposit inquiries, contracts): process, source checks, confirmed values;
- :mod:`.state` — the scenario's own SQLite state of stored documents, read once per version;
- :mod:`.reconcile` — linking records of one side to the other (replies to inquiries).

Scenarios import from here; the runtime below (:mod:`robots.run`) never does. May import the
scenario contract, configuration, sheets and the SQLite base.
"""

from __future__ import annotations

__all__: list[str] = []
