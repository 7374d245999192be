"""The lane's chores, each under one guard.

Between batches the lane's worker thread runs its chores in order: drain the spool, write
last-seen data, save the engine snapshot, carry operators' clears to the engine, refresh
the gas-on watch, check connection time limits, dispatch commands. A chore that fails for
any reason (a registry error, or a bug) is logged with its traceback, counted in
``gasguard_ingest_chore_failures_total{chore=...}`` and skipped until the next round: one
failing chore never stops the lane, and so never stops detection. ``Stopping`` (the lane
is asked to stop while a chore retries) is the one exception that passes through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prometheus_client import Counter

from ingest.errors import Stopping

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Chore:
    name: str
    run: Callable[[], object]


class Chores:
    def __init__(self, chores: Sequence[Chore], failures: Counter) -> None:
        self.chores = list(chores)
        self._failures = failures

    def run(self) -> None:
        """Every chore once, in order; raises only ``Stopping``."""
        for chore in self.chores:
            try:
                chore.run()
            except Stopping:
                raise
            except Exception:
                self._failures.labels(chore=chore.name).inc()
                log.exception("chore %r failed; the lane goes on", chore.name)
