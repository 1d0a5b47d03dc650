"""Scenario package (its forms are found through the misato_rpa.forms entry point)."""

from __future__ import annotations

__all__: list[str] = []
