"""The tables this scenario reads, and the fields each layout may map.

Three kinds of table, each described by mapping files in ``mappings/`` (format:
:mod:`robots.kit.tables`):

- ``ledger``: the town's inquiry ledger export (照会台帳), named in the configuration.
  ``send`` marks the rows to send (when a layout maps it, only marked rows go out);
  ``deadline`` may be left to the robot, which sets it from the day it sends;
- ``reply``: replies of the online inquiry service and of banks, dropped in the inbox.
  ``yucho_symbol``/``yucho_number`` are ゆうちょ銀行's 記号/番号, converted to a Zengin branch
  code and account number. ``registered_address`` (届出住所) and the ``tx_*`` fields (one
  transaction per row; the rows of one account are one reply) are optional;
- ``upload``: what the robot writes for the online inquiry service, one file per bank
  (written, never read: the layout says the service's columns and codes).
"""

from __future__ import annotations

from pathlib import Path

from robots.kit.tables import TableSchema

__all__ = ["LEDGER", "PACKAGED_MAPPINGS", "REPLY", "SCHEMAS", "TX_FIELDS", "UPLOAD"]

PACKAGED_MAPPINGS = Path(__file__).parent / "mappings"

LEDGER = TableSchema(
    "ledger",
    ("inquiry_number", "purpose", "name", "kana", "birth_date", "address", "bank_code",
     "branch_code", "sent_date", "deadline", "send", "document_number"),
    ("inquiry_number", "kana", "birth_date", "bank_code"), "照会台帳")
#: Transaction fields of a reply row (取引明細): optional, one transaction per row.
TX_FIELDS = ("tx_date", "tx_description", "tx_withdrawal", "tx_deposit", "tx_balance")
REPLY = TableSchema(
    "reply",
    ("inquiry_number", "bank_code", "branch_code", "kana", "name", "birth_date",
     "account_type", "account_number", "balance", "balance_date", "no_account", "reply_date",
     "yucho_symbol", "yucho_number", "registered_address", *TX_FIELDS),
    ("bank_code", "kana"), "回答データ")
UPLOAD = TableSchema(
    "upload",
    ("request_kind", "inquiry_number", "document_number", "sent_date", "deadline", "purpose",
     "legal_basis", "bank_code", "bank_name", "branch_code", "branch_name", "name", "kana",
     "birth_date", "address", "requester", "contact"),
    ("inquiry_number", "bank_code", "kana", "birth_date"), "照会データ（オンライン照会用）")
SCHEMAS = (LEDGER, REPLY, UPLOAD)
