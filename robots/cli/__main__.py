"""``python -m robots.cli``: the same as the ``rpa`` console script."""

from __future__ import annotations

import sys

from robots.cli import main

__all__: list[str] = []

sys.exit(main())
