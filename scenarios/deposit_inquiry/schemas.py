"""The tables this scenario reads, and the fields each layout may map.

Two kinds of table, each described by mapping files in ``mappings/`` (format:
:mod:`robots.kit.tables`):

- ``ledger``: the town's inquiry ledger export (照会台帳), named in the configuration;
- ``reply``: replies of the online inquiry service and of banks, dropped in the inbox.
  ``yucho_symbol``/``yucho_number`` are ゆうちょ銀行's 記号/番号, converted to a Zengin branch
  code and account number.
"""

from __future__ import annotations

from pathlib import Path

from robots.kit.tables import TableSchema

__all__ = ["LEDGER", "PACKAGED_MAPPINGS", "REPLY", "SCHEMAS"]

PACKAGED_MAPPINGS = Path(__file__).parent / "mappings"

LEDGER = TableSchema(
    "ledger",
    ("inquiry_number", "purpose", "name", "kana", "birth_date", "address", "bank_code",
     "branch_code", "sent_date", "deadline"),
    ("inquiry_number", "kana", "birth_date", "bank_code", "deadline"), "照会台帳")
REPLY = TableSchema(
    "reply",
    ("inquiry_number", "bank_code", "branch_code", "kana", "name", "birth_date",
     "account_type", "account_number", "balance", "balance_date", "no_account", "reply_date",
     "yucho_symbol", "yucho_number"),
    ("bank_code", "kana"), "回答データ")
SCHEMAS = (LEDGER, REPLY)
