"""The two value types every figure is made of: a ratio that keeps its counts, and a baseline.

Kept apart from :mod:`robots.report.figures` so that the figures of a scenario's own work
(:mod:`robots.report.work`) can use them without importing the whole report's figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from robots.report.data import BaselineSample

__all__ = ["BaselineFigure", "Ratio", "baseline"]


@dataclass(frozen=True, slots=True)
class Ratio:
    """``num / den``; ``value`` is None when there is nothing to divide by."""

    num: float
    den: float

    @property
    def value(self) -> float | None:
        return self.num / self.den if self.den else None


@dataclass(frozen=True, slots=True)
class BaselineFigure:
    """Manual minutes per document of a form (or per unit of a task), and where they come from.

    ``source``: "measured" (timed samples from ``rpa baseline record``: who, when, how many),
    "configured" (an assumption written in the configuration), "assumed_manual" (a decision
    not timed yet, taken as long as doing the unit by hand), or "missing".
    """

    minutes: float | None
    source: str
    samples: int = 0
    sample_documents: int = 0
    who: tuple[str, ...] = ()
    first: datetime | None = None
    last: datetime | None = None

    @property
    def measured(self) -> bool:
        return self.source == "measured"


def baseline(subject: str, kind: str, samples: Iterable[BaselineSample],
             configured: float | None) -> BaselineFigure:
    """The manual minutes per unit of a form or task, and where they come from.

    Timed samples are pooled (Σ minutes ÷ Σ units); without any, the configured assumption.
    """
    mine = [b for b in samples if b.form_id == subject and b.kind == kind]
    if mine:
        units = sum(b.documents for b in mine)
        times = [b.at for b in mine if b.at is not None]
        return BaselineFigure(sum(b.minutes for b in mine) / units, "measured", len(mine), units,
                              tuple(dict.fromkeys(b.who for b in mine if b.who)),
                              min(times, default=None), max(times, default=None))
    if configured is not None:
        return BaselineFigure(configured, "configured")
    return BaselineFigure(None, "missing")
