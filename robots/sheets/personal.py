"""Personal numbers (個人番号) in the workbook: masked where people look, sealed in the meta.

番号法 第20条 allows keeping a My Number only where the law provides for it; a review workbook
or a CSV on a shared drive is not such a place. Sheets and data CSVs show it masked; the
signed meta, which must hold what was written (to find a reviewer's changes and to write the
confirmed outputs), holds it encrypted with a key derived from the run's secret, which stays
in the run log. An export layout may name it only for a target the configuration allows.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from base64 import b64decode, b64encode
from collections.abc import Iterator
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ocr.templates import FieldType

__all__ = ["mask_mynumber", "seal_personal_numbers", "unseal_personal_numbers"]


def mask_mynumber(value: str) -> str:
    """A 個人番号 as sheets and data CSV show it: one ``*`` per character, nothing readable.

    The scan beside the value on 確認シート shows it to the reviewer who has to see it.
    """
    return "*" * len(value)


_SEALED = "sealed:"


def _seal_key(secret: bytes) -> bytes:
    return hmac.new(secret, b"misato-rpa personal-number seal", hashlib.sha256).digest()


def _seal(key: bytes, value: str) -> str:
    if not value:
        return ""
    nonce = os.urandom(12)
    return _SEALED + b64encode(nonce + AESGCM(key).encrypt(nonce, value.encode(), None)).decode()


def _unseal(key: bytes, value: str) -> str:
    if not value.startswith(_SEALED):
        return value
    raw = b64decode(value.removeprefix(_SEALED))
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], None).decode()
    except InvalidTag:
        raise ValueError("a sealed value does not open with this run's secret") from None


def _personal_number_cells(payload: dict[str, Any]) -> Iterator[tuple[list[Any] | dict[str, Any],
                                                                  int | str]]:
    """Where the meta payload holds a 個人番号: (container, index or key)."""
    for form in payload["forms"]:
        idx = [i for i, f in enumerate(form["fields"]) if f["type"] == FieldType.MYNUMBER]
        for row in form["rows"]:
            for i in idx:
                yield row["values"], i
    for row in payload["review"]["rows"]:
        if row["type"] == FieldType.MYNUMBER:
            yield row, "value"


def seal_personal_numbers(payload: dict[str, Any], secret: bytes) -> None:
    """Encrypt every 個人番号 of the meta payload (AES-GCM, key derived from the run's secret).

    The signed meta must hold what was written, to find the cells a reviewer changed and to
    write the confirmed outputs; sealed, the workbook itself carries no My Number in clear
    (the secret stays in the run log).
    """
    key = _seal_key(secret)
    for container, k in _personal_number_cells(payload):
        container[k] = _seal(key, container[k])  # type: ignore[index]


def unseal_personal_numbers(payload: dict[str, Any], secret: bytes) -> None:
    """Undo :func:`seal_personal_numbers` on a verified payload."""
    key = _seal_key(secret)
    for container, k in _personal_number_cells(payload):
        container[k] = _unseal(key, container[k])  # type: ignore[index]
