"""Days a scheduled job may skip: Japanese public holidays and the town's closing days.

Public holidays come from ``jpholiday`` (maintained; substitute holidays and the ones moved
by law included), never from a hand-typed list. Closing days (年末年始 and whatever else the
town closes) are configuration: ``[scheduler] closed = ["12-29", …]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import jpholiday

__all__ = ["day_off"]


def day_off(day: date, closed: Iterable[str] = ()) -> str | None:
    """Why ``day`` is a day off, in Japanese (for the run log and the jobs list), or None."""
    name = jpholiday.is_holiday_name(day)
    if name:
        return f"祝日（{name}）"
    if f"{day:%m-%d}" in set(closed):
        return "閉庁日"
    return None
