"""Trained models the reader loads at run time (``digits.onnx``), and how they were made.

``train_digits`` is the training script; it needs the ``train`` extra and is never imported
by the reader.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DIGITS_CARD", "DIGITS_MODEL"]

DIGITS_MODEL = Path(__file__).resolve().parent / "digits.onnx"
DIGITS_CARD = Path(__file__).resolve().parent / "digits_card.json"
