"""The tables this scenario reads and writes, and the fields each layout may map.

Four kinds of table, each described by mapping files in ``mappings/`` (format:
:mod:`robots.kit.tables`):

- ``application``: bid-qualification applications exported by the online application
  service, one row per (application, business category); rows of one application share its
  receipt number (or, without one, its corporate number and date);
- ``register``: the contract register exported by the contract management system;
- ``suspensions``: the list of designation suspensions (指名停止);
- ``vendor_list``: the qualified-vendor list as the contract management system imports and
  exports it — written by every run (``資格者名簿_取込用_<run>.csv``) and read once as the
  *previous list* the town had before this robot.
"""

from __future__ import annotations

from pathlib import Path

from robots.kit.tables import TableSchema

__all__ = [
    "APPLICATION",
    "DATA_KINDS",
    "PACKAGED_MAPPINGS",
    "REGISTER",
    "SCHEMAS",
    "SUSPENSIONS",
    "VENDOR_LIST",
]

PACKAGED_MAPPINGS = Path(__file__).parent / "mappings"

APPLICATION = TableSchema(
    "application",
    ("application_number", "application_date", "corporate_number", "name", "kana",
     "representative_title", "representative_name", "postal_code", "address", "phone", "fax",
     "email", "category", "grade", "valid_from", "valid_to", "fiscal_years", "applicant_type",
     "trade_name", "permit_number", "permit_expiry", "permit_trades", "keishin_date",
     "keishin_points", "tax_certificate_date", "attachments"),
    ("name", "category"), "入札参加資格申請データ")
REGISTER = TableSchema(
    "register",
    ("contract_number", "contract_date", "subject", "method", "category", "vendor_name",
     "corporate_number", "amount", "estimated_price", "period_from", "period_to", "department",
     "invitation_date", "bid_date", "minimum_price", "survey_price", "survey_date", "quotes",
     "guarantee", "guarantee_exemption", "advance_payment", "council_date", "location"),
    ("contract_number", "contract_date", "method", "category", "vendor_name", "amount"),
    "契約台帳")
SUSPENSIONS = TableSchema(
    "suspensions", ("corporate_number", "vendor_name", "suspended_from", "suspended_to",
                    "reason"),
    ("vendor_name", "suspended_from", "suspended_to"), "指名停止一覧")
VENDOR_LIST = TableSchema(
    "vendor_list",
    ("corporate_number", "name", "kana", "representative_title", "representative_name",
     "postal_code", "address", "phone", "fax", "email", "category", "grade", "valid_from",
     "valid_to", "status", "source", "keishin_date"),
    ("corporate_number", "name", "category", "valid_from", "valid_to"), "資格者名簿")
SCHEMAS = (APPLICATION, REGISTER, SUSPENSIONS, VENDOR_LIST)
#: The kinds a file dropped in the inbox may be (a vendor list is named in the configuration).
DATA_KINDS = ("application", "register", "suspensions")
