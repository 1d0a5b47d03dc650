"""Domain errors of the OCR library.

Each error carries an ``exit_code`` so that a command-line front end can map it without
string matching, and a ``reason_ja`` that an operator can read in a quarantine reason file.
The library itself never exits.
"""

from __future__ import annotations

__all__ = [
    "EmptyInputError",
    "EncryptedInputError",
    "InputError",
    "OcrError",
    "RegistrationError",
    "TemplateError",
    "TooLargeInputError",
    "UnknownFormError",
    "UnreadableInputError",
    "UnsupportedInputError",
]


class OcrError(Exception):
    """Base of every error raised on purpose by :mod:`ocr`."""

    exit_code: int = 1
    reason_ja: str = "読み取り処理でエラーが発生しました。"

    def __init__(self, message: str, *, reason_ja: str | None = None) -> None:
        super().__init__(message)
        if reason_ja is not None:
            self.reason_ja = reason_ja


class InputError(OcrError):
    """The input file cannot be turned into page images; retrying will not help."""

    exit_code = 4
    reason_ja = "ファイルを読み込めませんでした。"


class EmptyInputError(InputError):
    """A 0-byte file or a document without pages."""

    reason_ja = (
        "ファイルが空です（0バイト、またはページがありません）。"
        "スキャンをやり直してください。"
    )


class EncryptedInputError(InputError):
    """A PDF that needs a password to open."""

    reason_ja = (
        "PDFにパスワード（暗号化）が掛かっているため開けません。"
        "パスワードなしで保存し直してください。"
    )


class UnsupportedInputError(InputError):
    """Not a PDF, TIFF, PNG or JPEG, whatever its name says."""

    reason_ja = (
        "対応していない種類のファイルです（対応: PDF・TIFF・PNG・JPEG）。"
        "スキャナーの保存形式を確認してください。"
    )


class UnreadableInputError(InputError):
    """The right kind of file, but corrupt or cut short."""

    reason_ja = (
        "ファイルが壊れているか途中で切れているため読み込めません。"
        "スキャンをやり直してください。"
    )


class TooLargeInputError(InputError):
    """A page has more pixels than allowed: refused before decoding (decompression-bomb guard)."""

    reason_ja = (
        "画像が大きすぎるため読み込めません（画素数が上限を超えています）。"
        "解像度を下げて（300dpi程度で）スキャンし直してください。"
    )


class TooManyPagesError(InputError):
    """A file holds more pages than allowed (``[inbox] max_pages_per_file``): refused unread."""

    reason_ja = "ページ数が上限を超えています。ファイルを分けてスキャンし直してください。"


class RegistrationError(OcrError):
    """A page could not be matched to any form template with enough confidence."""

    exit_code = 4
    reason_ja = "どの様式か判別できない、または用紙の位置合わせができませんでした。"


class UnknownFormError(OcrError, KeyError):
    """A form id that no template in the library has (a typo on the command line or config)."""

    exit_code = 3
    reason_ja = "指定された様式IDの様式定義がありません。"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TemplateError(OcrError):
    """A form template is malformed. Raised with the file and key so it can be fixed."""

    exit_code = 3
    reason_ja = "様式定義ファイルに誤りがあります。"

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid form template {self.path}:\n{lines}")
