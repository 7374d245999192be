"""The lane's chores, on one clock and under one guard.

Between batches the lane's worker thread runs its chores in order: drain the spool, write
last-seen data, save the engine snapshot, carry operators' clears to the engine, refresh
the gas-on watch, check connection time limits, measure completeness, expire old dead
letters, dispatch commands. The worker's supervisor runs its own on the same runner:
renew the partition leases, record the broker's drops, write the health report. Each
chore has its cadence (``every_s``; 0: every round; ``wait_first``: not at the first
round) kept here, on one monotonic clock passed in, so the components themselves keep no
timers. A chore that fails is skipped until its next
turn: a registry or store outage (``MetersError``, ``TelemetryError``) is a warning,
anything else (a bug) is logged with its traceback and counted in
``gasguard_ingest_chore_failures_total{chore}``. One failing chore never stops the lane,
and so never stops detection. ``Stopping`` (the lane is asked to stop while a chore
retries) is the one exception that passes through.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prometheus_client import Counter

from ingest.errors import Stopping
from meters.errors import MetersError
from telemetry.errors import TelemetryError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Chore:
    name: str
    run: Callable[[], object]
    every_s: float = 0.0  # 0: every round
    wait_first: bool = False  # the first turn only once every_s has passed


class Chores:
    def __init__(
        self,
        chores: Sequence[Chore],
        failures: Counter | None = None,  # gasguard_ingest_chore_failures_total; None: not counted
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chores = list(chores)
        self._failures = failures
        self._clock = clock
        start = clock()
        self._next = [start + c.every_s if c.wait_first else start for c in self.chores]

    def run(self) -> None:
        """Every chore that is due, once, in order; raises only ``Stopping``."""
        now = self._clock()
        for index, chore in enumerate(self.chores):
            if now < self._next[index]:
                continue
            self._next[index] = now + chore.every_s
            try:
                chore.run()
            except Stopping:
                raise
            except (MetersError, TelemetryError) as exc:  # an outage: next turn tries again
                log.warning("chore %r: %s; trying again at its next turn", chore.name, exc)
            except Exception:
                if self._failures is not None:
                    self._failures.labels(chore=chore.name).inc()
                log.exception("chore %r failed; the lane goes on", chore.name)
