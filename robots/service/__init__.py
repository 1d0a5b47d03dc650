"""The unattended service: runs at cron times, runs as scans arrive, and telling staff.

:mod:`.scheduler` (``rpa schedule``, APScheduler 3 on a persistent SQLite job store),
:mod:`.watch` (``rpa watch``, file-system events with a polling fallback), :mod:`.notify`
(a Japanese summary per run, to a file and by e-mail) and :mod:`.days_off` (public holidays
and the town's closing days). Each calls :mod:`robots.run` to do the work; may import the
configuration, the run log and the scenario registry, never the command line.
"""

from __future__ import annotations

__all__: list[str] = []
