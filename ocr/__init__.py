"""OCR core: images and form templates in, validated field values out.

Knows nothing of inboxes, runs or spreadsheets, so it can be used on its own.
"""

from __future__ import annotations

from ocr.errors import (
    EmptyInputError,
    EncryptedInputError,
    InputError,
    OcrError,
    RegistrationError,
    TemplateError,
    TooLargeInputError,
    UnreadableInputError,
    UnsupportedInputError,
)
from ocr.reasons import Reason
from ocr.results import DocumentResult, EngineReading, FieldResult, PageResult
from ocr.templates import FieldSpec, FieldType, FormTemplate, TemplateLibrary, load_template

__all__ = [
    "DocumentResult",
    "EmptyInputError",
    "EncryptedInputError",
    "EngineReading",
    "FieldResult",
    "FieldSpec",
    "FieldType",
    "FormTemplate",
    "InputError",
    "OcrError",
    "PageResult",
    "Reason",
    "RegistrationError",
    "TemplateError",
    "TemplateLibrary",
    "TooLargeInputError",
    "UnreadableInputError",
    "UnsupportedInputError",
    "load_template",
]
