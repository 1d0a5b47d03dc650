"""Running one scenario once: claim the inbox, execute the items, put everything away.

Owns the run's promises under faults: files claimed atomically from ``inbox/`` into
``processing/`` (:mod:`.inbox`), the per-item work on a serial, process-pool or Dask
executor (:mod:`.executor`, :mod:`.dask_executor`, what they share in :mod:`.work`), crops
spooled to disk as results arrive (:mod:`.spool`), outputs written into a partial folder and
committed with the run log (:mod:`.runner`, :mod:`.steps`), and the cooperative stop on
SIGTERM/SIGINT (:mod:`.shutdown`). May import the scenario contract, configuration, the
run log and the records; never the command line, the service or the report.
"""

from __future__ import annotations

__all__: list[str] = []
