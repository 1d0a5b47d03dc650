"""Nothing lost, nothing twice: real ``rpa run`` processes killed with SIGKILL at random.

The fast variant (here, in ``make test``) kills a few runs with a fixed seed; the long one is
``bench/crash_kills.py`` (hundreds of kills, worker pools included) and prints the figures.
See tests/crash_kit.py for what a round does and tests/service_kit.py for the invariants.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from crash_kit import crash_rounds
from fakes import install_fake_engine, uninstall_fake_engine
from service_kit import Pool, make_pool

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    folder = tmp_path_factory.getbasetemp() / "service-pool"
    with pytest.MonkeyPatch.context() as mp:
        install_fake_engine(mp, folder / "entry-point-inproc", folder / "tape.json")
        yield make_pool(folder)
    uninstall_fake_engine()


def test_random_sigkills_lose_nothing_and_duplicate_nothing(pool: Pool, tmp_path: Path) -> None:
    figures = crash_rounds(tmp_path, pool, rounds=8, seed=20261126, jobs_choices=(1, 2),
                           worker_kills=0.5, import_kills=0.5)
    assert not figures.problems, "\n".join(figures.problems[:30])
    assert figures.documents_lost == 0
    assert figures.duplicates == 0
    assert figures.hung == 0  # a killed worker never holds its run
    assert figures.orphans == 0  # workers die with their main process
    assert figures.temp_left == 0  # nothing of a run is left in the system's TMPDIR
    # the campaign meant something: enough kills hit live processes (how many hit, rather
    # than landed after the end, hangs on the machine's speed: the margins are wide)
    assert figures.worker_kills >= 1 and figures.import_kills >= 1, figures
    assert figures.kills >= 4, figures
    # kills landed in several different steps of a run, not all in one place
    assert len([s for s in figures.steps if s != "finished"]) >= 3, figures.steps
    assert figures.aborted_runs >= 1
