"""The town's business: one package per scenario, found through entry points."""

from __future__ import annotations

__all__: list[str] = []
